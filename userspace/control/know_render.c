// SPDX-License-Identifier: Apache-2.0
/* know_render: the knowledge store as `vigil knowledge` prints it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "heal/knowledge.h"
#include "control/know_render.h"
#include "output/records.h"

/* Order of the knowledge table: by workload, signature, action. */
static int know_cmp(const void *a, const void *b)
{
	const struct vigil_know_entry *x = *(const struct vigil_know_entry *const *)a;
	const struct vigil_know_entry *y = *(const struct vigil_know_entry *const *)b;

	return strcmp(x->workload, y->workload) ?: strcmp(x->signature, y->signature)
						 ?: strcmp(x->action, y->action);
}

/* successes / attempts rounded half up to 2 places, in hundredths (as export and the SQL
 * column numeric(3,2) have it). */
static unsigned long long rate_pct(const struct vigil_know_entry *e)
{
	return e->attempts ? (200 * e->successes + e->attempts) / (2 * e->attempts) : 0;
}

/* The store's entries as a JSON array on out, one line. Returns 0 or -ENOMEM. */
static int print_knowledge_json(const struct vigil_know_entry *const *v, size_t n, FILE *out)
{
	struct vigil_json j = {};
	char ts[32];
	int err;

	vigil_json_begin_array(&j);
	for (size_t i = 0; i < n; i++) {
		const struct vigil_know_entry *e = v[i];

		vigil_json_object_begin(&j, NULL);
		vigil_json_str(&j, "signature", e->signature);
		vigil_json_str(&j, "workload", e->workload);
		vigil_json_str(&j, "class", e->cls);
		vigil_json_str(&j, "action", e->action);
		vigil_json_u64(&j, "attempts", e->attempts);
		vigil_json_u64(&j, "successes", e->successes);
		/* As the table and the knowledge records have them: 0.67, 1.00. */
		vigil_json_fixed(&j, "success_rate", (double)rate_pct(e) / 100.0, 2);
		vigil_json_fixed(&j, "score", vigil_knowledge_score(e), 3);
		if (e->last_applied_ns) {
			vigil_rfc3339(e->last_applied_ns, ts, sizeof(ts));
			vigil_json_str(&j, "last_applied", ts);
		} else {
			vigil_json_null(&j, "last_applied");
		}
		vigil_json_object_end(&j);
	}
	err = vigil_json_end(&j);
	if (!err)
		fprintf(out, "%s\n", j.buf);
	vigil_json_free(&j);
	return err;
}

/* The store's entries as a table on out. Every string of the store is printable ASCII
 * (knowledge.h), so nothing here can drive a terminal. */
static void print_knowledge_table(const struct vigil_know_entry *const *v, size_t n, FILE *out)
{
	static const char *const head[] = {"SIGNATURE",	   "WORKLOAD",	  "CLASS",
					   "ACTION",	   "ATTEMPTS",	  "SUCCESSES",
					   "SUCCESS_RATE", "LAST_APPLIED"};
	int w[4];

	for (int c = 0; c < 4; c++)
		w[c] = (int)strlen(head[c]);
	for (size_t i = 0; i < n; i++) {
		const char *s[4] = {v[i]->signature, v[i]->workload, v[i]->cls, v[i]->action};

		for (int c = 0; c < 4; c++)
			if ((int)strlen(s[c]) > w[c])
				w[c] = (int)strlen(s[c]);
	}
	fprintf(out, "%-*s  %-*s  %-*s  %-*s  %8s  %9s  %12s  %s\n", w[0], head[0], w[1], head[1],
		w[2], head[2], w[3], head[3], head[4], head[5], head[6], head[7]);
	for (size_t i = 0; i < n; i++) {
		const struct vigil_know_entry *e = v[i];
		unsigned long long pct = rate_pct(e);
		char ts[32] = "-";

		if (e->last_applied_ns)
			vigil_rfc3339(e->last_applied_ns, ts, sizeof(ts));
		fprintf(out, "%-*s  %-*s  %-*s  %-*s  %8llu  %9llu  %9llu.%02llu  %s\n", w[0],
			e->signature, w[1], e->workload, w[2], e->cls, w[3], e->action,
			(unsigned long long)e->attempts, (unsigned long long)e->successes,
			pct / 100, pct % 100, ts);
	}
}

int vigil_knowledge_print(struct vigil_knowledge *k, bool json, FILE *out)
{
	size_t n = vigil_knowledge_count(k);
	const struct vigil_know_entry **v = calloc(n ? n : 1, sizeof(*v));
	int ret = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		v[i] = vigil_knowledge_at(k, i);
	qsort(v, n, sizeof(*v), know_cmp);
	if (json)
		ret = print_knowledge_json(v, n, out);
	else
		print_knowledge_table(v, n, out);
	free(v);
	return ret;
}
