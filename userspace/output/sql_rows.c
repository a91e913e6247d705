// SPDX-License-Identifier: Apache-2.0
/*
 * sql_rows: the statements that put vigil's records into sql/'s tables, and each one's
 * parameters from a record (see sql_rows.h). Every parameter has a cast in the statement, so
 * that the same text works with PQexecParams and with the parameters rendered as literals.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "output/sql_rows.h"

/* The columns an upsert compares: a record that would set them to what they hold already
 * changes nothing (and is reported as 0 rows). */
#define INCIDENT_COLS                                                                              \
	"node, workload, signature, class, state, count, title, detail, detect_us, recovery_ms, "  \
	"lossy, chain, updated_at"

static const char incident_stmt[] =
    "insert into public.incidents (id, node, workload, signature, class, state, count, title, "
    "detail, opened_at, detect_us, recovery_ms, lossy, chain, updated_at, trace_ids, span_id, "
    "trace_source)\n"
    "values ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::bigint, $8::text, "
    "$9::text, $10::timestamptz, $11::bigint, $12::bigint, $13::boolean, $14::jsonb, "
    "$15::timestamptz, $16::jsonb, $17::text, $18::text)\n"
    "on conflict (id) do update set node = excluded.node, workload = excluded.workload, "
    "signature = excluded.signature, class = excluded.class, state = excluded.state, "
    "count = excluded.count, title = excluded.title, detail = excluded.detail, "
    "opened_at = coalesce(incidents.opened_at, excluded.opened_at), "
    "detect_us = excluded.detect_us, recovery_ms = excluded.recovery_ms, "
    "lossy = excluded.lossy, chain = excluded.chain, updated_at = excluded.updated_at, "
    "trace_ids = excluded.trace_ids, span_id = excluded.span_id, "
    "trace_source = excluded.trace_source\n"
    /* Never move a row back (an older journal loaded after a newer one, a replay), and
     * leave alone a row that already says this. */
    "where (incidents.updated_at is null or excluded.updated_at is null or "
    "excluded.updated_at >= incidents.updated_at)\n"
    "and (incidents.node, incidents.workload, incidents.signature, incidents.class, "
    "incidents.state, incidents.count, incidents.title, incidents.detail, "
    "incidents.detect_us, incidents.recovery_ms, incidents.lossy, incidents.chain, "
    "incidents.updated_at, incidents.trace_ids, incidents.span_id, incidents.trace_source) "
    "is distinct from (excluded.node, excluded.workload, "
    "excluded.signature, excluded.class, excluded.state, excluded.count, excluded.title, "
    "excluded.detail, excluded.detect_us, excluded.recovery_ms, excluded.lossy, "
    "excluded.chain, excluded.updated_at, excluded.trace_ids, excluded.span_id, "
    "excluded.trace_source)";

static const char stub_stmt[] = "insert into public.incidents (id, node, workload, signature)\n"
				"values ($1::text, $2::text, $3::text, $4::text)\n"
				"on conflict (id) do nothing";

/* The trail is unique on (incident, action, outcome, at): healing_actions_once. */
static const char action_stmt[] =
    "insert into public.healing_actions (incident, node, workload, signature, action, outcome, "
    "detail, pid, at)\n"
    "values ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, "
    "$8::integer, $9::timestamptz)\n"
    "on conflict do nothing";

static const char knowledge_stmt[] =
    "insert into public.incident_knowledge (incident_type, error_pattern, fix_action, "
    "success_rate, last_applied, attempts, successes, created_by_agent)\n"
    "select coalesce($1::text, 'unknown'), jsonb_build_object('signature', $2::text, "
    "'workload', $3::text, 'class', $1::text, 'detail', (select i.detail from "
    "public.healing_actions a join public.incidents i on i.id = a.incident where "
    "a.signature = $2::text and a.action = $4::text and a.outcome = 'intent' order by a.at "
    "desc limit 1)), jsonb_build_object('action', $4::text), $5::numeric, $6::timestamptz, "
    "$7::integer, $8::integer, $9::text\n"
    "on conflict ((error_pattern ->> 'signature'), (fix_action ->> 'action')) do update set "
    "incident_type = excluded.incident_type, error_pattern = excluded.error_pattern, "
    "success_rate = excluded.success_rate, last_applied = excluded.last_applied, "
    "attempts = excluded.attempts, successes = excluded.successes\n"
    /* The numbers replace the row's unless the row is newer, and only if they differ. */
    "where (incident_knowledge.last_applied is null or excluded.last_applied is null or "
    "excluded.last_applied >= incident_knowledge.last_applied)\n"
    "and (incident_knowledge.incident_type, incident_knowledge.error_pattern, "
    "incident_knowledge.success_rate, incident_knowledge.last_applied, "
    "incident_knowledge.attempts, incident_knowledge.successes) is distinct from "
    "(excluded.incident_type, excluded.error_pattern, excluded.success_rate, "
    "excluded.last_applied, excluded.attempts, excluded.successes)";

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 if it is not one. Overlong
 * forms and surrogates are refused as PostgreSQL refuses them. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* s[0..n) as text PostgreSQL takes: NUL and invalid bytes as U+FFFD (3 bytes for 1). Returns
 * 0 and *out (allocated), or -ENOMEM. */
static int put_text(struct vigil_sql_row *r, char **out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	char *t = malloc(3 * n + 1), *o = t;
	size_t i = 0, len;

	if (!t)
		return -ENOMEM;
	while (i < n) {
		len = p[i] ? utf8_len(p + i, n - i) : 0;
		if (!len) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			if (p[i])
				r->bad_utf8++;
			else
				r->nul_replaced++;
			i++;
			continue;
		}
		memcpy(o, p + i, len);
		o += len;
		i += len;
	}
	*o = '\0';
	*out = t;
	return 0;
}

/* Parameter k (1-based) of the row: a C string, or null when s is NULL. */
static int set_cstr(struct vigil_sql_row *r, int k, const char *s)
{
	return s ? put_text(r, &r->v[k - 1], s, strlen(s)) : 0;
}

/* A string field, or null when absent or not a string. */
static int set_str(struct vigil_sql_row *r, int k, const json_t *v)
{
	if (!json_is_string(v))
		return 0;
	return put_text(r, &r->v[k - 1], json_string_value(v), json_string_length(v));
}

static int set_fmt_ll(struct vigil_sql_row *r, int k, long long x)
{
	return asprintf(&r->v[k - 1], "%lld", x) < 0 ? -ENOMEM : 0;
}

/* An integer field, or null (also when beyond max: an integer column refuses it). */
static int set_int(struct vigil_sql_row *r, int k, const json_t *v, long long max)
{
	if (!json_is_integer(v) || json_integer_value(v) > max || json_integer_value(v) < -max)
		return 0;
	return set_fmt_ll(r, k, json_integer_value(v));
}

static bool digits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

bool vigil_sql_ts_ok(const char *ts)
{
	int mon, day, hh, mm, ss;
	const char *p;

	if (!ts || strlen(ts) < 19 || !digits(ts, 4) || ts[4] != '-' || !digits(ts + 5, 2) ||
	    ts[7] != '-' || !digits(ts + 8, 2) || ts[10] != 'T' || !digits(ts + 11, 2) ||
	    ts[13] != ':' || !digits(ts + 14, 2) || ts[16] != ':' || !digits(ts + 17, 2))
		return false;
	if (sscanf(ts + 5, "%2d-%2dT%2d:%2d:%2d", &mon, &day, &hh, &mm, &ss) != 5 || mon < 1 ||
	    mon > 12 || day < 1 || day > 28 + (mon != 2) * 3 || hh > 23 || mm > 59 || ss > 60)
		return false;
	p = ts + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return !strcmp(p, "Z");
}

static int set_ts(struct vigil_sql_row *r, int k, const char *ts)
{
	return vigil_sql_ts_ok(ts) ? set_cstr(r, k, ts) : 0;
}

/*
 * A JSON value as jsonb text. jsonb refuses \u0000 as text refuses NUL: rewrite it as
 * \ufffd. In jansson's compact output a backslash always begins an escape, so walking escape
 * by escape cannot mistake an escaped backslash followed by "u0000" for a NUL.
 */
static int set_jsonb(struct vigil_sql_row *r, int k, const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	if (!s)
		return -ENOMEM;
	for (char *p = s; *p; p++) {
		if (*p != '\\')
			continue;
		if (!strncmp(p + 1, "u0000", 5)) {
			memcpy(p + 1, "ufffd", 5);
			r->nul_replaced++;
		}
		p++; /* the escaped character: never the start of another escape */
	}
	r->v[k - 1] = s;
	return 0;
}

static const char *str_at(const json_t *rec, const char *key)
{
	return json_string_value(json_object_get(rec, key));
}

static void row_init(struct vigil_sql_row *r, const char *stmt, int n)
{
	memset(r, 0, sizeof(*r));
	r->stmt = stmt;
	r->n = n;
}

/* Sets *why and returns -EINVAL. */
static int refuse(const char **why, const char *what)
{
	if (why)
		*why = what;
	return -EINVAL;
}

int vigil_sql_incident(struct vigil_sql_row *r, const json_t *rec, const char *opened_at,
		       const char **why)
{
	static const char *const strs[] = {"node", "workload", "signature", "class", "state"};
	const json_t *id = json_object_get(rec, "id");
	int err;

	row_init(r, incident_stmt, 18);
	/* An id is a key: one with a NUL would alias another once replaced. */
	if (!json_is_string(id) || !json_string_length(id) ||
	    strlen(json_string_value(id)) != json_string_length(id) || !str_at(rec, "node"))
		return refuse(why, "an incident record without an id or a node");
	err = set_str(r, 1, id);
	for (int i = 0; !err && i < 5; i++)
		err = set_str(r, 2 + i, json_object_get(rec, strs[i]));
	err = err ?: set_int(r, 7, json_object_get(rec, "count"), INT64_MAX);
	err = err ?: set_str(r, 8, json_object_get(rec, "title"));
	err = err ?: set_str(r, 9, json_object_get(rec, "detail"));
	err = err ?: set_ts(r, 10, opened_at ?: str_at(rec, "ts"));
	err = err ?: set_int(r, 11, json_object_get(rec, "detect_us"), INT64_MAX);
	err = err ?: set_int(r, 12, json_object_get(rec, "recovery_ms"), INT64_MAX);
	err =
	    err ?: set_cstr(r, 13, json_is_true(json_object_get(rec, "lossy")) ? "true" : "false");
	if (!err && json_object_get(rec, "chain"))
		err = set_jsonb(r, 14, json_object_get(rec, "chain"));
	err = err ?: set_ts(r, 15, str_at(rec, "ts"));
	/* The trace context (sql/005_trace.sql): null when the record has none. */
	if (!err && json_is_array(json_object_get(rec, "trace_ids")))
		err = set_jsonb(r, 16, json_object_get(rec, "trace_ids"));
	err = err ?: set_str(r, 17, json_object_get(rec, "span_id"));
	err = err ?: set_str(r, 18, json_object_get(rec, "trace_source"));
	return err;
}

/* The fields of an action record a row needs. */
static int action_ok(const json_t *rec, const char **why)
{
	const char *id = str_at(rec, "incident");

	if (!id || !*id || !str_at(rec, "node") || !str_at(rec, "action") ||
	    !str_at(rec, "outcome") || !vigil_sql_ts_ok(str_at(rec, "ts")))
		return refuse(why, "an action record without an incident, node, action, outcome "
				   "or ts");
	return 0;
}

int vigil_sql_stub(struct vigil_sql_row *r, const json_t *action, const char **why)
{
	static const char *const strs[] = {"incident", "node", "workload", "signature"};
	int err;

	row_init(r, stub_stmt, 4);
	err = action_ok(action, why);
	for (int i = 0; !err && i < 4; i++)
		err = set_str(r, 1 + i, json_object_get(action, strs[i]));
	return err;
}

int vigil_sql_action(struct vigil_sql_row *r, const json_t *rec, const char **why)
{
	static const char *const strs[] = {"incident", "node",	  "workload", "signature",
					   "action",   "outcome", "detail"};
	int err;

	row_init(r, action_stmt, 9);
	err = action_ok(rec, why);
	for (int i = 0; !err && i < 7; i++)
		err = set_str(r, 1 + i, json_object_get(rec, strs[i]));
	err = err ?: set_int(r, 8, json_object_get(rec, "pid"), INT32_MAX);
	err = err ?: set_ts(r, 9, str_at(rec, "ts"));
	return err;
}

int vigil_sql_knowledge(struct vigil_sql_row *r, const struct vigil_sql_know *k, const char **why)
{
	long long a = k->attempts, s = k->successes, h;
	char *agent = NULL;
	int err;

	row_init(r, knowledge_stmt, 9);
	if (!k->signature || !k->action || a <= 0 || a > INT32_MAX || s < 0 || s > a)
		return refuse(why, "knowledge without a signature, an action, or with numbers no "
				   "store holds (no attempt, more successes than attempts)");
	if (k->node && asprintf(&agent, "vigil@%s", k->node) < 0)
		return -ENOMEM;
	err = set_cstr(r, 1, k->cls);
	err = err ?: set_cstr(r, 2, k->signature);
	err = err ?: set_cstr(r, 3, k->workload);
	err = err ?: set_cstr(r, 4, k->action);
	/* successes/attempts rounded half up to 2 places, in integers: exact. */
	h = (200 * s + a) / (2 * a);
	if (!err && asprintf(&r->v[4], "%lld.%02lld", h / 100, h % 100) < 0)
		err = -ENOMEM;
	err = err ?: set_ts(r, 6, k->last_applied);
	err = err ?: set_fmt_ll(r, 7, a);
	err = err ?: set_fmt_ll(r, 8, s);
	err = err ?: set_cstr(r, 9, agent);
	free(agent);
	return err;
}

int vigil_sql_know_from_record(struct vigil_sql_know *k, const json_t *rec, const char **why)
{
	const json_t *a = json_object_get(rec, "attempts"), *s = json_object_get(rec, "successes");

	memset(k, 0, sizeof(*k));
	if (!str_at(rec, "signature") || !str_at(rec, "action") || !json_is_integer(a) ||
	    !json_is_integer(s))
		return refuse(why, "a knowledge record without signature, action, attempts or "
				   "successes");
	k->signature = str_at(rec, "signature");
	k->action = str_at(rec, "action");
	k->workload = str_at(rec, "workload");
	k->cls = str_at(rec, "class");
	k->attempts = json_integer_value(a);
	k->successes = json_integer_value(s);
	k->last_applied = str_at(rec, "last_applied");
	k->node = str_at(rec, "node");
	return 0;
}

void vigil_sql_row_free(struct vigil_sql_row *r)
{
	for (int i = 0; i < VIGIL_SQL_MAX_PARAMS; i++) {
		free(r->v[i]);
		r->v[i] = NULL;
	}
}

int vigil_sql_render(FILE *out, const struct vigil_sql_row *r)
{
	for (const char *p = r->stmt; *p; p++) {
		char *end;
		long k;

		if (*p != '$' || p[1] < '1' || p[1] > '9') {
			fputc(*p, out);
			continue;
		}
		k = strtol(p + 1, &end, 10);
		p = end - 1;
		if (k > r->n || !r->v[k - 1]) {
			fputs("null", out);
			continue;
		}
		/* standard_conforming_strings (the script sets it): only the quote is special. */
		fputc('\'', out);
		for (const char *c = r->v[k - 1]; *c; c++) {
			if (*c == '\'')
				fputc('\'', out);
			fputc(*c, out);
		}
		fputc('\'', out);
	}
	fputs(";\n", out);
	return ferror(out) ? -EIO : 0;
}
