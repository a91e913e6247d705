// SPDX-License-Identifier: Apache-2.0
/*
 * report: the success metrics of a journal (see report.h). One pass over the journal keeps,
 * per incident id, its last incident record and what its action records said; then the
 * incidents are counted once each.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <jansson.h>

#include "core/text.h"
#include "control/ctl.h"
#include "control/report.h"
#include "control/table.h"

/* What the journal says of one incident. */
struct inc {
	json_t *last; /* its last incident record; NULL: only its action records were read */
	uint64_t intents, successes, failures;
	bool approved;
};

/* The incidents of a journal, in the order first named, found by id. */
struct incs {
	json_t *index; /* id -> index into e */
	struct inc *e;
	size_t n, cap;
};

static const char *const state_names[VIGIL_RS_N] = {
    [VIGIL_RS_OPEN] = "open",
    [VIGIL_RS_HEALING] = "healing",
    [VIGIL_RS_VERIFYING] = "verifying",
    [VIGIL_RS_RESOLVED] = "resolved",
    [VIGIL_RS_AWAITING] = "awaiting_approval",
    [VIGIL_RS_ESCALATED] = "escalated",
    [VIGIL_RS_FAILED] = "failed",
    [VIGIL_RS_EXPIRED] = "expired",
    [VIGIL_RS_OTHER] = "other",
};

static const char *str_at(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* The entry of id, made if new. Returns it, or NULL when out of memory. */
static struct inc *inc_of(struct incs *t, const char *id)
{
	json_t *k = json_object_get(t->index, id);
	struct inc *e;

	if (k)
		return &t->e[json_integer_value(k)];
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;

		e = realloc(t->e, cap * sizeof(*e));
		if (!e)
			return NULL;
		t->e = e;
		t->cap = cap;
	}
	if (json_object_set_new(t->index, id, json_integer((json_int_t)t->n)))
		return NULL;
	e = &t->e[t->n++];
	memset(e, 0, sizeof(*e));
	return e;
}

/* An id an incident can have (as history.c takes them), or NULL. */
static const char *id_at(const json_t *rec, const char *key)
{
	const char *id = str_at(rec, key);

	return id && id[0] && strlen(id) < 17 ? id : NULL;
}

/* Fold one record in. Returns 0 or -ENOMEM. */
static int take(struct incs *t, json_t *rec, struct vigil_journal_stats *st)
{
	const char *type = str_at(rec, "type"), *id, *outcome;
	struct inc *e;

	if (!type)
		return 0;
	if (!strcmp(type, "incident")) {
		id = id_at(rec, "id");
		if (!id) {
			st->malformed++;
			return 0;
		}
		e = inc_of(t, id);
		if (!e)
			return -ENOMEM;
		json_decref(e->last);
		e->last = json_incref(rec);
		return 0;
	}
	if (strcmp(type, "action"))
		return 0;
	id = id_at(rec, "incident");
	outcome = str_at(rec, "outcome");
	if (!id || !outcome)
		return 0;
	e = inc_of(t, id);
	if (!e)
		return -ENOMEM;
	if (!strcmp(outcome, "intent"))
		e->intents++;
	else if (!strcmp(outcome, "success"))
		e->successes++;
	else if (!strcmp(outcome, "failed"))
		e->failures++;
	else if (!strcmp(outcome, "approved"))
		e->approved = true;
	return 0;
}

/* Every line of f into t, as history.c reads a journal. Returns 0, -EIO or -ENOMEM. */
static int read_journal(FILE *f, struct incs *t, struct vigil_journal_stats *st)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int err = 0;

	while (!err && (len = getline(&line, &cap, f)) >= 0) {
		size_t n = (size_t)len, at;
		json_t *rec;

		st->lines++;
		if (n && line[n - 1] == '\n')
			n--;
		if (n > VIGIL_JOURNAL_LINE_MAX) {
			st->skipped++;
			free(line);
			line = NULL;
			cap = 0;
			continue;
		}
		rec = vigil_history_parse_line(line, n, &at, st);
		if (rec)
			err = take(t, rec, st);
		json_decref(rec);
	}
	free(line);
	if (err)
		return err;
	/* getline() returns -1 at the end, on a read error and when out of memory. */
	if (ferror(f))
		return -EIO;
	return feof(f) ? 0 : -ENOMEM;
}

static enum vigil_report_state state_of(const char *s)
{
	for (unsigned int i = 0; s && i < VIGIL_RS_OTHER; i++)
		if (!strcmp(s, state_names[i]))
			return i;
	return VIGIL_RS_OTHER;
}

/* The group named name (a missing name is "-"), made if new. Returns it or NULL. */
static struct vigil_report_group *group_of(struct vigil_report_group **g, size_t *n,
					   const char *name)
{
	struct vigil_report_group *p;

	name = name ? name : "-";
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*g)[i].name, name))
			return &(*g)[i];
	p = realloc(*g, (*n + 1) * sizeof(*p));
	if (!p)
		return NULL;
	*g = p;
	p = &p[(*n)++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	return p;
}

/* qsort, which must not be handed a NULL array even to sort nothing. */
static void sort(void *v, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n)
		qsort(v, n, size, cmp);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Most incidents first, then by name. */
static int cmp_group(const void *a, const void *b)
{
	const struct vigil_report_group *x = a, *y = b;

	if (x->incidents != y->incidents)
		return x->incidents > y->incidents ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* A non-negative integer at key into *v. Returns whether there is one. */
static bool u64_at(const json_t *o, const char *key, uint64_t *v)
{
	const json_t *j = json_object_get(o, key);

	if (!json_is_integer(j) || json_integer_value(j) < 0)
		return false;
	*v = (uint64_t)json_integer_value(j);
	return true;
}

/* Add v (in units of unit_ns nanoseconds) to d. d->v holds room for every incident. */
static void dist_add(struct vigil_report_dist *d, uint64_t v, uint64_t unit_ns)
{
	d->v[d->n++] = v;
	d->slot[v > UINT64_MAX / unit_ns ? VIGIL_HIST_SLOTS - 1 : vigil_hist_slot(v * unit_ns)]++;
}

/* Whether an incident is over: nothing more will happen to it without a person. */
static bool is_over(enum vigil_report_state s)
{
	return s == VIGIL_RS_RESOLVED || s == VIGIL_RS_FAILED || s == VIGIL_RS_ESCALATED ||
	       s == VIGIL_RS_EXPIRED;
}

/* Count one incident (its final record e->last). Returns 0 or -ENOMEM. */
static int count(struct vigil_report *r, const struct inc *e)
{
	enum vigil_report_state s = state_of(str_at(e->last, "state"));
	struct vigil_report_group *g[2];
	uint64_t v, level = 0;

	g[0] = group_of(&r->workloads, &r->n_workloads, str_at(e->last, "workload"));
	g[1] = g[0] ? group_of(&r->classes, &r->n_classes, str_at(e->last, "class")) : NULL;
	if (!g[1])
		return -ENOMEM;
	r->incidents++;
	r->state[s]++;
	for (int k = 0; k < 2; k++) {
		g[k]->incidents++;
		g[k]->resolved += s == VIGIL_RS_RESOLVED;
		g[k]->escalated += s == VIGIL_RS_ESCALATED;
		g[k]->failed += s == VIGIL_RS_FAILED;
	}
	if (u64_at(e->last, "detect_us", &v))
		dist_add(&r->detect_us, v, 1000);
	if (s == VIGIL_RS_RESOLVED && u64_at(e->last, "recovery_ms", &v))
		dist_add(&r->recovery_ms, v, 1000000);
	u64_at(e->last, "level", &level);
	if (level == 1 && !is_over(s)) {
		r->level1_active++;
	} else if (level == 1) {
		r->level1++;
		r->level1_unattended += s == VIGIL_RS_RESOLVED && !e->approved;
	}
	r->heals += e->intents;
	r->heals_ok += e->successes;
	r->heals_failed += e->failures;
	r->approvals += e->approved;
	return 0;
}

/* Whether vigil wrote ts ("2026-11-29T12:34:56.789Z"): such strings sort as their times. */
static bool ts_ok(const char *ts)
{
	return ts && strlen(ts) == 24 && ts[4] == '-' && ts[10] == 'T' && ts[19] == '.' &&
	       ts[23] == 'Z';
}

int vigil_report_read(FILE *f, const char *since, struct vigil_report *r)
{
	struct incs t = {.index = json_object()};
	int err;

	memset(r, 0, sizeof(*r));
	snprintf(r->since, sizeof(r->since), "%s", since ? since : "");
	if (!t.index)
		return -ENOMEM;
	err = read_journal(f, &t, &r->st);
	if (err)
		goto cleanup;
	r->detect_us.v = malloc((t.n ? t.n : 1) * sizeof(uint64_t));
	r->recovery_ms.v = malloc((t.n ? t.n : 1) * sizeof(uint64_t));
	if (!r->detect_us.v || !r->recovery_ms.v) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < t.n && !err; i++) {
		const char *ts = str_at(t.e[i].last, "ts");

		/* An action whose incident record is not in the journal (rotated out) tells
		 * nothing to count. */
		if (!t.e[i].last)
			continue;
		if (since && !ts_ok(ts)) {
			r->no_time++;
			continue;
		}
		if (since && strcmp(ts, since) < 0)
			continue;
		err = count(r, &t.e[i]);
	}
	sort(r->detect_us.v, r->detect_us.n, sizeof(uint64_t), cmp_u64);
	sort(r->recovery_ms.v, r->recovery_ms.n, sizeof(uint64_t), cmp_u64);
	sort(r->workloads, r->n_workloads, sizeof(*r->workloads), cmp_group);
	sort(r->classes, r->n_classes, sizeof(*r->classes), cmp_group);
cleanup:
	for (size_t i = 0; i < t.n; i++)
		json_decref(t.e[i].last);
	free(t.e);
	json_decref(t.index);
	return err;
}

void vigil_report_free(struct vigil_report *r)
{
	free(r->detect_us.v);
	free(r->recovery_ms.v);
	free(r->workloads);
	free(r->classes);
	r->detect_us.v = r->recovery_ms.v = NULL;
	r->workloads = r->classes = NULL;
}

uint64_t vigil_report_pct(const struct vigil_report_dist *d, unsigned int p)
{
	size_t rank;

	if (!d->n)
		return 0;
	rank = (p * d->n + 99) / 100; /* ceil(p/100 * n), at least 1 for p >= 1 */
	return d->v[rank ? rank - 1 : 0];
}

/* "88.9 %" of part over whole, rounded half up in integers (exact); "-" when whole is 0. */
static void fmt_share(char *buf, size_t len, uint64_t part, uint64_t whole)
{
	uint64_t permille;

	if (!whole) {
		snprintf(buf, len, "-");
		return;
	}
	permille = (2000 * part + whole) / (2 * whole);
	snprintf(buf, len, "%llu.%llu %%", (unsigned long long)(permille / 10),
		 (unsigned long long)(permille % 10));
}

/* One distribution's line: "p50 31 us, p99 85 us (...)", or that there is none. */
static void print_pcts(FILE *out, const char *what, const struct vigil_report_dist *d,
		       const char *unit, const char *how)
{
	if (!d->n) {
		fprintf(out, "%-12s none (%s)\n", what, how);
		return;
	}
	fprintf(out, "%-12s p50 %llu %s, p99 %llu %s, max %llu %s (%s; %zu incidents)\n", what,
		(unsigned long long)vigil_report_pct(d, 50), unit,
		(unsigned long long)vigil_report_pct(d, 99), unit,
		(unsigned long long)d->v[d->n - 1], unit, how, d->n);
}

/* The incidents per workload or per class, as a table. Returns 0 or -ENOMEM. */
static int print_groups(FILE *out, const char *what, const struct vigil_report_group *g, size_t n)
{
	const char *head[] = {what, "incidents", "resolved", "escalated", "failed"};
	struct vigil_table t;
	int err = vigil_table_init(&t, head, 5, 0x1e, n);

	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		vigil_term_safe(g[i].name, vigil_table_cell(&t, i, 0), VIGIL_TABLE_CELL);
		snprintf(vigil_table_cell(&t, i, 1), VIGIL_TABLE_CELL, "%llu",
			 (unsigned long long)g[i].incidents);
		snprintf(vigil_table_cell(&t, i, 2), VIGIL_TABLE_CELL, "%llu",
			 (unsigned long long)g[i].resolved);
		snprintf(vigil_table_cell(&t, i, 3), VIGIL_TABLE_CELL, "%llu",
			 (unsigned long long)g[i].escalated);
		snprintf(vigil_table_cell(&t, i, 4), VIGIL_TABLE_CELL, "%llu",
			 (unsigned long long)g[i].failed);
	}
	fputc('\n', out);
	vigil_table_print(&t, out);
	return 0;
}

int vigil_report_print(const struct vigil_report *r, const char *journal, FILE *out)
{
	char share[32], name[256];
	int err, n = 0;

	fprintf(out, "vigil report: %s", vigil_term_safe(journal, name, sizeof(name)));
	if (r->since[0])
		fprintf(out, ", incidents whose last record is at or after %s", r->since);
	fprintf(out, " (%llu lines, %llu skipped)\n", (unsigned long long)r->st.lines,
		(unsigned long long)r->st.skipped);
	if (r->no_time)
		fprintf(out, "%llu incidents without a time vigil writes: not counted\n",
			(unsigned long long)r->no_time);
	if (!r->incidents) {
		fprintf(out, "no incidents%s\n", r->since[0] ? " in that time" : "");
		return 0;
	}
	fprintf(out, "%-12s %llu (each once, at its last record):", "incidents",
		(unsigned long long)r->incidents);
	for (unsigned int s = 0; s < VIGIL_RS_N; s++)
		if (r->state[s])
			fprintf(out, "%s %llu %s", n++ ? "," : "", (unsigned long long)r->state[s],
				state_names[s]);
	fputc('\n', out);
	print_pcts(out, "detection", &r->detect_us, "us", "kernel event -> incident opened");
	print_pcts(out, "recovery", &r->recovery_ms, "ms", "opened -> resolved");
	fmt_share(share, sizeof(share), r->level1_unattended, r->level1);
	fprintf(out,
		"%-12s %llu of %llu level-1 incidents resolved without a person = %s "
		"(target 80 %%)",
		"level 1", (unsigned long long)r->level1_unattended, (unsigned long long)r->level1,
		share);
	if (r->level1_active)
		fprintf(out, "; %llu still being healed, not counted",
			(unsigned long long)r->level1_active);
	fputc('\n', out);
	fprintf(out, "%-12s %llu incidents\n", "escalations",
		(unsigned long long)r->state[VIGIL_RS_ESCALATED]);
	fprintf(out,
		"%-12s %llu run, %llu succeeded, %llu failed; %llu incidents approved by a "
		"person\n",
		"heals", (unsigned long long)r->heals, (unsigned long long)r->heals_ok,
		(unsigned long long)r->heals_failed, (unsigned long long)r->approvals);
	err = print_groups(out, "workload", r->workloads, r->n_workloads);
	if (!err)
		err = print_groups(out, "class", r->classes, r->n_classes);
	if (err)
		return err;
	fprintf(out, "\ndetection (kernel event -> incident opened), %zu incidents\n",
		r->detect_us.n);
	vigil_hist_draw(out, r->detect_us.slot, VIGIL_HIST_SLOTS);
	if (r->recovery_ms.n) {
		fprintf(out, "\nrecovery (opened -> resolved), %zu incidents\n", r->recovery_ms.n);
		vigil_hist_draw(out, r->recovery_ms.slot, VIGIL_HIST_SLOTS);
	}
	return 0;
}

/* {"count", "p50", "p99", "max"} of d under key (the percentiles null when it is empty). */
static void json_dist(struct vigil_json *j, const char *key, const struct vigil_report_dist *d)
{
	vigil_json_object_begin(j, key);
	vigil_json_u64(j, "count", d->n);
	if (d->n) {
		vigil_json_u64(j, "p50", vigil_report_pct(d, 50));
		vigil_json_u64(j, "p99", vigil_report_pct(d, 99));
		vigil_json_u64(j, "max", d->v[d->n - 1]);
	} else {
		vigil_json_null(j, "p50");
		vigil_json_null(j, "p99");
		vigil_json_null(j, "max");
	}
	vigil_json_object_end(j);
}

static void json_groups(struct vigil_json *j, const char *key, const struct vigil_report_group *g,
			size_t n)
{
	vigil_json_array_begin(j, key);
	for (size_t i = 0; i < n; i++) {
		vigil_json_object_begin(j, NULL);
		vigil_json_str(j, "name", g[i].name);
		vigil_json_u64(j, "incidents", g[i].incidents);
		vigil_json_u64(j, "resolved", g[i].resolved);
		vigil_json_u64(j, "escalated", g[i].escalated);
		vigil_json_u64(j, "failed", g[i].failed);
		vigil_json_object_end(j);
	}
	vigil_json_array_end(j);
}

int vigil_report_json(const struct vigil_report *r, const char *journal, struct vigil_json *out)
{
	vigil_json_begin(out);
	vigil_json_str(out, "journal", journal);
	if (r->since[0])
		vigil_json_str(out, "since", r->since);
	else
		vigil_json_null(out, "since");
	vigil_json_u64(out, "lines", r->st.lines);
	vigil_json_u64(out, "skipped", r->st.skipped);
	vigil_json_u64(out, "no_time", r->no_time);
	vigil_json_u64(out, "incidents", r->incidents);
	vigil_json_object_begin(out, "states");
	for (unsigned int s = 0; s < VIGIL_RS_N; s++)
		vigil_json_u64(out, state_names[s], r->state[s]);
	vigil_json_object_end(out);
	json_dist(out, "detect_us", &r->detect_us);
	json_dist(out, "recovery_ms", &r->recovery_ms);
	vigil_json_object_begin(out, "level1");
	vigil_json_u64(out, "incidents", r->level1);
	vigil_json_u64(out, "unattended", r->level1_unattended);
	if (r->level1)
		vigil_json_fixed(out, "share", (double)r->level1_unattended / (double)r->level1, 3);
	else
		vigil_json_null(out, "share");
	vigil_json_fixed(out, "target", 0.8, 1);
	vigil_json_u64(out, "active", r->level1_active);
	vigil_json_object_end(out);
	vigil_json_u64(out, "escalations", r->state[VIGIL_RS_ESCALATED]);
	vigil_json_object_begin(out, "heals");
	vigil_json_u64(out, "run", r->heals);
	vigil_json_u64(out, "succeeded", r->heals_ok);
	vigil_json_u64(out, "failed", r->heals_failed);
	vigil_json_u64(out, "approved", r->approvals);
	vigil_json_object_end(out);
	json_groups(out, "workloads", r->workloads, r->n_workloads);
	json_groups(out, "classes", r->classes, r->n_classes);
	return vigil_json_end(out);
}
