// SPDX-License-Identifier: Apache-2.0
/*
 * history: "incidents" and "incident ID", from the daemon's live table or from a journal
 * (see history.h). Both build the same JSON, so that one renderer serves both.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include <jansson.h>

#include "config/config.h"
#include "control/history.h"
#include "core/json_scan.h"
#include "core/loop.h"
#include "output/journal.h"
#include "output/records.h"

/* A record is a few KiB (a chain of 16 entries at most): a longer line is not one. */
#define LINE_MAX_BYTES (1u << 20)
/* Every record starts so (records.c): where the next record begins after a torn one. */
#define RECORD_MARK "{\"type\":\""

/* One line of the "incidents" answer, before its age is known. */
struct summary {
	char id[17];
	char state[24];
	char cls[24];
	char workload[64];
	char title[128];
	uint64_t count;
	bool lossy;
};

/* An incident read from a journal: its latest state, and when its first record was written. */
struct jentry {
	struct summary s;
	uint64_t opened_wall_ns; /* 0: unknown */
	unsigned int next;	 /* index + 1 of the next entry of its hash bucket; 0 ends */
};

/* The incidents of a journal: a ring of at most max in the order first seen (the oldest at
 * first, dropped to make room), found by id through a chained hash. */
struct jtable {
	struct jentry *e;
	unsigned int *bucket; /* index + 1 of each bucket's first entry; 0: empty */
	unsigned int nbuckets, max, first, n;
};

static void copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "-");
}

/* One summary, an element of the "incidents" array open in j. */
static void put_item(struct vigil_json *j, const struct summary *s, uint64_t age_s)
{
	vigil_json_object_begin(j, NULL);
	vigil_json_str(j, "id", s->id);
	vigil_json_str(j, "state", s->state);
	vigil_json_str(j, "class", s->cls);
	vigil_json_str(j, "workload", s->workload);
	vigil_json_u64(j, "count", s->count);
	vigil_json_u64(j, "age_s", age_s);
	vigil_json_str(j, "title", s->title);
	vigil_json_bool(j, "lossy", s->lossy);
	vigil_json_object_end(j);
}

/* "incidents": the live table, newest first. Returns 0 or -ENOMEM. */
static int live_list(const struct vigil_incidents *t, struct vigil_json *out)
{
	uint64_t now = vigil_mono_ns();

	vigil_json_begin(out);
	vigil_json_array_begin(out, "incidents");
	for (const struct vigil_incident *i = vigil_incidents_first(t); i; i = i->next) {
		struct summary s = {.count = i->count, .lossy = i->lossy};

		copy(s.id, sizeof(s.id), i->id);
		copy(s.state, sizeof(s.state), vigil_incident_state_name(i->state));
		copy(s.cls, sizeof(s.cls), vigil_class_name(i->cls));
		copy(s.workload, sizeof(s.workload), i->workload_name);
		copy(s.title, sizeof(s.title), i->title);
		put_item(out, &s,
			 now > i->opened_mono_ns ? (now - i->opened_mono_ns) / 1000000000ull : 0);
	}
	vigil_json_array_end(out);
	return vigil_json_end(out);
}

int vigil_history_answer(const struct vigil_incidents *t, const char *node, const char *cmd,
			 const char *arg, struct vigil_json *out)
{
	const struct vigil_incident *i;

	if (!strcmp(cmd, "incidents") && !arg)
		return live_list(t, out);
	if (strcmp(cmd, "incident") || !arg)
		return -ENOENT;
	i = vigil_incidents_find(t, arg);
	if (!i)
		return -ENOENT;
	return vigil_record_incident(out, node, vigil_wall_ns(), NULL, i);
}

int vigil_history_incidents_query(const char *arg, struct vigil_json *out, const void *ctx)
{
	const struct vigil_history_live *l = ctx;

	return vigil_history_answer(l->incidents, l->node, "incidents", arg, out);
}

int vigil_history_incident_query(const char *arg, struct vigil_json *out, const void *ctx)
{
	const struct vigil_history_live *l = ctx;

	return vigil_history_answer(l->incidents, l->node, "incident", arg, out);
}

/* "2026-11-29T12:34:56.789Z" (vigil_rfc3339) to ns since the epoch; 0 for anything else. */
static uint64_t parse_ts(const char *s)
{
	struct tm tm = {};
	unsigned int ms;
	int used = -1;
	time_t sec;

	if (!s ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3uZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms, &used) != 7 ||
	    used != (int)strlen(s) || ms > 999)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	sec = timegm(&tm);
	if (sec <= 0)
		return 0;
	return (uint64_t)sec * 1000000000ull + ms * 1000000ull;
}

/* FNV-1a 32 of a string: the bucket of an id. */
static unsigned int hash(const char *s)
{
	unsigned int h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Returns 0 or -ENOMEM. */
static int jt_init(struct jtable *t, unsigned int max)
{
	t->max = max;
	t->nbuckets = 16;
	while (t->nbuckets < max && t->nbuckets < (1u << 30))
		t->nbuckets <<= 1;
	t->e = calloc(max, sizeof(*t->e));
	t->bucket = calloc(t->nbuckets, sizeof(*t->bucket));
	return t->e && t->bucket ? 0 : -ENOMEM;
}

static void jt_free(struct jtable *t)
{
	free(t->e);
	free(t->bucket);
}

/* The entry of id, or NULL. */
static struct jentry *jt_find(const struct jtable *t, const char *id)
{
	for (unsigned int k = t->bucket[hash(id) & (t->nbuckets - 1)]; k; k = t->e[k - 1].next)
		if (!strcmp(t->e[k - 1].s.id, id))
			return &t->e[k - 1];
	return NULL;
}

/* A new entry for id (shorter than 17 bytes), the oldest dropped when the ring is full.
 * Never fails: the ring is allocated once. Returns the entry, zeroed but for its id. */
static struct jentry *jt_add(struct jtable *t, const char *id, struct vigil_journal_stats *st)
{
	unsigned int slot, *pp;
	struct jentry *e;

	if (t->n == t->max) {
		slot = t->first;
		pp = &t->bucket[hash(t->e[slot].s.id) & (t->nbuckets - 1)];
		while (*pp != slot + 1)
			pp = &t->e[*pp - 1].next;
		*pp = t->e[slot].next;
		t->first = (t->first + 1) % t->max;
		t->n--;
		st->forgotten++;
	}
	slot = (t->first + t->n) % t->max;
	e = &t->e[slot];
	memset(e, 0, sizeof(*e));
	copy(e->s.id, sizeof(e->s.id), id);
	pp = &t->bucket[hash(id) & (t->nbuckets - 1)];
	e->next = *pp;
	*pp = slot + 1;
	t->n++;
	return e;
}

/* The string at key, or NULL. */
static const char *str_at(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* An incident record's id, or NULL when it has none that an incident could have. */
static const char *record_id(const json_t *rec)
{
	const char *id = str_at(rec, "id");

	return id && id[0] && strlen(id) < sizeof(((struct summary *)0)->id) ? id : NULL;
}

/* Fold one incident record into the table: the last record of an id is its state. */
static void jt_record(struct jtable *t, const json_t *rec, struct vigil_journal_stats *st)
{
	const char *id = record_id(rec);
	json_int_t count = json_integer_value(json_object_get(rec, "count"));
	struct jentry *e;

	if (!id) {
		st->malformed++;
		return;
	}
	e = jt_find(t, id);
	if (!e) {
		e = jt_add(t, id, st);
		e->opened_wall_ns = parse_ts(str_at(rec, "ts"));
	}
	copy(e->s.state, sizeof(e->s.state), str_at(rec, "state"));
	copy(e->s.cls, sizeof(e->s.cls), str_at(rec, "class"));
	copy(e->s.workload, sizeof(e->s.workload), str_at(rec, "workload"));
	copy(e->s.title, sizeof(e->s.title), str_at(rec, "title"));
	e->s.count = count > 0 ? (uint64_t)count : 0;
	e->s.lossy = json_is_true(json_object_get(rec, "lossy"));
}

/* The table as an "incidents" answer, newest first, into *answer. Returns 0 or -ENOMEM. */
static int jt_answer(const struct jtable *t, uint64_t now_wall_ns, char **answer)
{
	struct vigil_json out = {};
	int err;

	vigil_json_begin(&out);
	vigil_json_array_begin(&out, "incidents");
	for (unsigned int k = t->n; k > 0; k--) {
		const struct jentry *j = &t->e[(t->first + k - 1) % t->max];
		uint64_t age = j->opened_wall_ns && now_wall_ns > j->opened_wall_ns
				   ? (now_wall_ns - j->opened_wall_ns) / 1000000000ull
				   : 0;

		put_item(&out, &j->s, age);
	}
	vigil_json_array_end(&out);
	err = vigil_json_end(&out);
	if (err) {
		vigil_json_free(&out);
		return err;
	}
	*answer = out.buf; /* NUL-terminated by the writer; ownership passes to the caller */
	return 0;
}

/* Whether a line needs decoding: the daemon writes "type" first, so only an incident record
 * (of id, when given) or a line of another shape can matter. */
static bool worth_decoding(const char *line, size_t len, const char *id)
{
	static const char inc[] = RECORD_MARK "incident\"";

	if (len < sizeof(RECORD_MARK) - 1 || memcmp(line, RECORD_MARK, sizeof(RECORD_MARK) - 1))
		return true;
	if (len < sizeof(inc) - 1 || memcmp(line, inc, sizeof(inc) - 1))
		return false;
	return !id || memmem(line, len, id, strlen(id));
}

json_t *vigil_history_parse_line(const char *line, size_t len, size_t *at,
				 struct vigil_journal_stats *st)
{
	bool torn;
	/* A torn line (output/journal.h): the record after the tear is still read. */
	json_t *rec = vigil_journal_parse_line(line, len, 0, at, &torn);

	if (torn && rec)
		st->torn++;
	else if (!rec)
		st->skipped++;
	return rec;
}

/* What reading the files of one answer keeps from file to file. */
struct hread {
	struct jtable t;
	const char *arg; /* the id of "incident", NULL for "incidents" */
	char *found;	 /* "incident": its last record so far */
	char *line;
	size_t cap;
	struct vigil_journal_stats *st;
};

/* Fold the lines of one file into h. Returns 0, -EIO or -ENOMEM. */
static int read_file(struct hread *h, FILE *f)
{
	struct vigil_journal_stats *st = h->st;
	ssize_t len;

	while ((len = getline(&h->line, &h->cap, f)) >= 0) {
		size_t n = (size_t)len, at;
		const char *type, *id;
		json_t *rec;

		st->lines++;
		if (n && h->line[n - 1] == '\n')
			n--;
		if (n > LINE_MAX_BYTES) {
			st->skipped++;
			/* Give back what the long line took: the next ones are short again. */
			free(h->line);
			h->line = NULL;
			h->cap = 0;
			continue;
		}
		/* A whole record of no interest is only counted: checked by its syntax alone
		 * (json_scan.h), which is an order of magnitude cheaper than decoding it. */
		if (!worth_decoding(h->line, n, h->arg) && !vigil_json_scan_object(h->line, n))
			continue;
		rec = vigil_history_parse_line(h->line, n, &at, st);
		type = str_at(rec, "type");
		if (!type || strcmp(type, "incident")) {
			json_decref(rec);
			continue;
		}
		id = record_id(rec);
		if (!h->arg) {
			jt_record(&h->t, rec, st);
		} else if (id && !strcmp(id, h->arg)) {
			free(h->found);
			h->found = strndup(h->line + at, n - at);
			if (!h->found) {
				json_decref(rec);
				return -ENOMEM;
			}
		}
		json_decref(rec);
	}
	/* getline() returns -1 at the end, on a read error and when out of memory. */
	if (ferror(f))
		return -EIO;
	return feof(f) ? 0 : -ENOMEM;
}

int vigil_history_journals(FILE *const *f, unsigned int nf, const char *cmd, const char *arg,
			   unsigned int max, uint64_t now_wall_ns, char **answer,
			   struct vigil_journal_stats *st)
{
	struct hread h = {.st = st};
	int err = 0;

	memset(st, 0, sizeof(*st));
	if (!strcmp(cmd, "incident") && arg)
		h.arg = arg;
	else if (strcmp(cmd, "incidents") || arg)
		return -ENOENT;
	/* One id keeps one line; the list keeps a summary per incident, at most max of them. */
	if (!h.arg) {
		err = jt_init(&h.t, max ? max : VIGIL_HISTORY_MAX);
		if (err)
			goto cleanup;
	}
	for (unsigned int i = 0; i < nf && !err; i++)
		err = read_file(&h, f[i]);
	if (err)
		goto cleanup;
	if (!h.arg) {
		err = jt_answer(&h.t, now_wall_ns, answer);
	} else if (h.found) {
		*answer = h.found;
		h.found = NULL;
	} else {
		err = -ENOENT;
	}
cleanup:
	free(h.found);
	free(h.line);
	jt_free(&h.t);
	return err;
}

int vigil_history_journal(FILE *f, const char *cmd, const char *arg, unsigned int max,
			  uint64_t now_wall_ns, char **answer, struct vigil_journal_stats *st)
{
	return vigil_history_journals(&f, 1, cmd, arg, max, now_wall_ns, answer, st);
}
