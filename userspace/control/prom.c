// SPDX-License-Identifier: Apache-2.0
/* prom: the Prometheus text format (see prom.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "control/prom.h"

void vigil_prom_family(struct vigil_http_resp *r, const char *name, const char *type,
		       const char *help)
{
	vigil_http_printf(r, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void label_value(struct vigil_http_resp *r, const char *v)
{
	const char *p = v;

	vigil_http_write(r, "\"", 1);
	while (*p) {
		size_t n = strcspn(p, "\\\"\n");

		vigil_http_write(r, p, n);
		p += n;
		if (!*p)
			break;
		vigil_http_write(r, *p == '\n' ? "\\n" : *p == '"' ? "\\\"" : "\\\\", 2);
		p++;
	}
	vigil_http_write(r, "\"", 1);
}

/* name{k="v",...,extra_k="extra_v"} (the extra label may be NULL) */
static void series(struct vigil_http_resp *r, const char *name, const char *const *labels,
		   const char *extra_k, const char *extra_v)
{
	bool any = false;

	vigil_http_printf(r, "%s", name);
	for (const char *const *l = labels; l && l[0]; l += 2) {
		vigil_http_printf(r, "%s%s=", any ? "," : "{", l[0]);
		label_value(r, l[1] ? l[1] : "");
		any = true;
	}
	if (extra_k) {
		vigil_http_printf(r, "%s%s=", any ? "," : "{", extra_k);
		label_value(r, extra_v);
		any = true;
	}
	if (any)
		vigil_http_write(r, "}", 1);
}

void vigil_prom_u64(struct vigil_http_resp *r, const char *name, const char *const *labels,
		    uint64_t v)
{
	series(r, name, labels, NULL, NULL);
	vigil_http_printf(r, " %llu\n", (unsigned long long)v);
}

void vigil_prom_f64(struct vigil_http_resp *r, const char *name, const char *const *labels,
		    double v)
{
	series(r, name, labels, NULL, NULL);
	if (isnan(v))
		vigil_http_printf(r, " NaN\n");
	else if (isinf(v))
		vigil_http_printf(r, " %sInf\n", v < 0 ? "-" : "+");
	else
		vigil_http_printf(r, " %.9g\n", v);
}

void vigil_prom_hist(struct vigil_http_resp *r, const char *name, const char *const *labels,
		     const double *le, const uint64_t *buckets, unsigned int n, uint64_t count,
		     double sum)
{
	char metric[128], bound[32];
	uint64_t cum = 0;

	snprintf(metric, sizeof(metric), "%s_bucket", name);
	for (unsigned int i = 0; i < n; i++) {
		cum += buckets[i];
		snprintf(bound, sizeof(bound), "%.12g", le[i]);
		series(r, metric, labels, "le", bound);
		vigil_http_printf(r, " %llu\n", (unsigned long long)cum);
	}
	series(r, metric, labels, "le", "+Inf");
	vigil_http_printf(r, " %llu\n", (unsigned long long)(count > cum ? count : cum));
	snprintf(metric, sizeof(metric), "%s_sum", name);
	vigil_prom_f64(r, metric, labels, sum);
	snprintf(metric, sizeof(metric), "%s_count", name);
	vigil_prom_u64(r, metric, labels, count > cum ? count : cum);
}
