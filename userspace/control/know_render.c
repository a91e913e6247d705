// SPDX-License-Identifier: Apache-2.0
/* know_render: the knowledge store as `vigil knowledge` prints it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/table.h"
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
 * (knowledge.h), so nothing here can drive a terminal. Returns 0 or -ENOMEM. */
static int print_knowledge_table(const struct vigil_know_entry *const *v, size_t n, FILE *out)
{
	static const char *const head[] = {"SIGNATURE",	   "WORKLOAD",	  "CLASS",
					   "ACTION",	   "ATTEMPTS",	  "SUCCESSES",
					   "SUCCESS_RATE", "LAST_APPLIED"};
	struct vigil_table t;
	int err;

	err = vigil_table_init(&t, head, 8, 0x70, n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		const struct vigil_know_entry *e = v[i];
		unsigned long long pct = rate_pct(e);
		char *ts = vigil_table_cell(&t, i, 7);

		snprintf(vigil_table_cell(&t, i, 0), VIGIL_TABLE_CELL, "%s", e->signature);
		snprintf(vigil_table_cell(&t, i, 1), VIGIL_TABLE_CELL, "%s", e->workload);
		snprintf(vigil_table_cell(&t, i, 2), VIGIL_TABLE_CELL, "%s", e->cls);
		snprintf(vigil_table_cell(&t, i, 3), VIGIL_TABLE_CELL, "%s", e->action);
		snprintf(vigil_table_cell(&t, i, 4), VIGIL_TABLE_CELL, "%llu",
			 (unsigned long long)e->attempts);
		snprintf(vigil_table_cell(&t, i, 5), VIGIL_TABLE_CELL, "%llu",
			 (unsigned long long)e->successes);
		snprintf(vigil_table_cell(&t, i, 6), VIGIL_TABLE_CELL, "%llu.%02llu", pct / 100,
			 pct % 100);
		if (e->last_applied_ns)
			vigil_rfc3339(e->last_applied_ns, ts, VIGIL_TABLE_CELL);
		else
			snprintf(ts, VIGIL_TABLE_CELL, "-");
	}
	vigil_table_print(&t, out);
	return 0;
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
		ret = print_knowledge_table(v, n, out);
	free(v);
	return ret;
}
