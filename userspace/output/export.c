// SPDX-License-Identifier: Apache-2.0
/*
 * export: the journal as SQL for the tables in sql/. One pass over the journal collects, in
 * journal order, the last record of each incident, every action record and the (signature,
 * action) counts, which the knowledge records of the journal and then the knowledge store
 * override; then one transaction of SQL is written. Every string goes out as a standard
 * '...' literal (the script sets standard_conforming_strings, so a backslash is just a
 * backslash and only the quote needs doubling), which a process name cannot break out of.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/json.h"
#include "output/export.h"
#include "output/journal.h"
#include "heal/knowledge.h"
#include "output/records.h"

/* What one pass over the journal keeps. jansson objects iterate in insertion order, so rows
 * come out in the order the journal first named them. */
struct collect {
	json_t *last;	 /* incident id -> its last incident record */
	json_t *opened;	 /* incident id -> ts of its first record */
	json_t *actions; /* every action record, in order */
	json_t *know;	 /* "[signature, action]" -> {signature, action, attempts, ...} */
};

/*
 * Where the numbers of a (signature, action) row come from, the best last: counted from the
 * action records (intents, successes); the last knowledge record of the journal (the store's
 * numbers when it was written: they survive a journal's rotation); the knowledge store
 * itself. Each source's numbers sit under its own keys of the pair's object.
 */
static const char *const src_keys[] = {"", "rec_", "store_"};

static const char *str_at(const json_t *rec, const char *key)
{
	return json_string_value(json_object_get(rec, key));
}

/* U+FFFD, in place of what PostgreSQL text cannot hold (NUL) or what is not UTF-8. */
static void put_replacement(FILE *out)
{
	fputs("\xef\xbf\xbd", out);
}

/* s[0..n) as a SQL string literal: quotes doubled, NUL and invalid bytes as U+FFFD. */
static void put_lit(FILE *out, const char *s, size_t n, struct vigil_export_stats *st)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, len;

	fputc('\'', out);
	while (i < n) {
		if (p[i] == '\0') {
			put_replacement(out);
			st->nul_replaced++;
			i++;
			continue;
		}
		len = p[i] < 0x80 ? 1 : vigil_utf8_len(p + i, n - i);
		if (!len) {
			put_replacement(out);
			st->bad_utf8++;
			i++;
			continue;
		}
		if (p[i] == '\'')
			fputc('\'', out);
		fwrite(p + i, 1, len, out);
		i += len;
	}
	fputc('\'', out);
}

/* A string field as a literal, or null when absent or not a string. */
static void put_str(FILE *out, const json_t *v, struct vigil_export_stats *st)
{
	if (!json_is_string(v)) {
		fputs("null", out);
		return;
	}
	put_lit(out, json_string_value(v), json_string_length(v), st);
}

static void put_int(FILE *out, const json_t *v)
{
	if (json_is_integer(v))
		fprintf(out, "%lld", (long long)json_integer_value(v));
	else
		fputs("null", out);
}

static bool digits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* vigil writes "2026-11-29T13:42:45.123Z". Anything else becomes null instead of making
 * PostgreSQL refuse the whole transaction. */
static bool ts_ok(const char *ts)
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

static void put_ts(FILE *out, const char *ts)
{
	if (ts_ok(ts))
		fprintf(out, "'%s'::timestamptz", ts);
	else
		fputs("null", out);
}

/*
 * A JSON value as a jsonb literal. jsonb refuses \u0000 as text refuses NUL: rewrite it as
 * \ufffd. In jansson's compact output a backslash always begins an escape, so walking escape
 * by escape cannot mistake an escaped backslash followed by "u0000" for a NUL.
 */
static int put_jsonb(FILE *out, const json_t *v, struct vigil_export_stats *st)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	if (!s)
		return -ENOMEM;
	for (char *p = s; *p; p++) {
		if (*p != '\\')
			continue;
		if (!strncmp(p + 1, "u0000", 5)) {
			memcpy(p + 1, "ufffd", 5);
			st->nul_replaced++;
		}
		p++; /* the escaped character: never the start of another escape */
	}
	put_lit(out, s, strlen(s), st);
	fputs("::jsonb", out);
	free(s);
	return 0;
}

static void put_cstr(FILE *out, const char *s, struct vigil_export_stats *st)
{
	if (s)
		put_lit(out, s, strlen(s), st);
	else
		fputs("null", out);
}

/* The (signature, action) object of the pair (both JSON strings), made if new. Returns it
 * (borrowed) or NULL when out of memory. */
static json_t *know_pair(struct collect *c, json_t *sig, json_t *action)
{
	json_t *k = NULL, *key;
	char *name;

	/* The key is the pair as JSON: NUL-free and unambiguous whatever the strings hold. */
	key = json_pack("[OO]", sig, action);
	name = key ? json_dumps(key, JSON_COMPACT) : NULL;
	if (!name)
		goto cleanup;
	k = json_object_get(c->know, name);
	if (!k) {
		k = json_pack("{sOsOsisi}", "signature", sig, "action", action, "attempts", 0,
			      "successes", 0);
		if (k && json_object_set_new(c->know, name, k))
			k = NULL;
	}
cleanup:
	free(name);
	json_decref(key);
	return k;
}

/* Put one source's numbers of a pair under its prefix. Returns 0 or -ENOMEM. */
static int know_set(json_t *k, const char *prefix, json_int_t attempts, json_int_t successes,
		    json_t *last, json_t *cls, json_t *workload)
{
	char key[32];
	int err = 0;

	snprintf(key, sizeof(key), "%sattempts", prefix);
	err |= json_object_set_new(k, key, json_integer(attempts));
	snprintf(key, sizeof(key), "%ssuccesses", prefix);
	err |= json_object_set_new(k, key, json_integer(successes));
	snprintf(key, sizeof(key), "%slast", prefix);
	err |= json_object_set_new(k, key, last ? last : json_null());
	snprintf(key, sizeof(key), "%sclass", prefix);
	err |= json_object_set_new(k, key, cls ? cls : json_null());
	if (workload)
		err |= json_object_set_new(k, "workload", workload);
	return err ? -ENOMEM : 0;
}

/* A knowledge record: the store's numbers for a pair when it was written; the last one wins.
 * One without the fields a row needs, or with numbers no store holds (more successes than
 * attempts, beyond a SQL integer), is skipped and counted. Returns 0 or -ENOMEM. */
static int know_record(struct collect *c, json_t *rec, struct vigil_export_stats *st)
{
	json_t *sig = json_object_get(rec, "signature"), *action = json_object_get(rec, "action");
	json_t *a = json_object_get(rec, "attempts"), *s = json_object_get(rec, "successes");
	json_t *last = json_object_get(rec, "last_applied"), *k;

	if (!json_is_string(sig) || !json_is_string(action) || !json_is_integer(a) ||
	    !json_is_integer(s) || json_integer_value(s) < 0 ||
	    json_integer_value(s) > json_integer_value(a) || json_integer_value(a) > INT32_MAX) {
		st->skipped++;
		return 0;
	}
	k = know_pair(c, sig, action);
	if (!k)
		return -ENOMEM;
	st->knowledge_records++;
	return know_set(k, "rec_", json_integer_value(a), json_integer_value(s),
			json_is_string(last) ? json_incref(last) : NULL,
			json_is_string(json_object_get(rec, "class"))
			    ? json_incref(json_object_get(rec, "class"))
			    : NULL,
			json_is_string(json_object_get(rec, "workload"))
			    ? json_incref(json_object_get(rec, "workload"))
			    : NULL);
}

/* The store's entries: what it holds now beats whatever the journal says. */
static int know_store(struct collect *c, const struct vigil_knowledge *store,
		      struct vigil_export_stats *st)
{
	for (size_t i = 0; i < vigil_knowledge_count(store); i++) {
		const struct vigil_know_entry *e = vigil_knowledge_at(store, i);
		json_t *sig = json_string(e->signature), *action = json_string(e->action);
		json_t *k = sig && action ? know_pair(c, sig, action) : NULL;
		char ts[32];
		int err;

		json_decref(sig);
		json_decref(action);
		if (!k)
			return -ENOMEM;
		vigil_rfc3339(e->last_applied_ns, ts, sizeof(ts));
		/* The SQL columns are integers: clamp rather than wrap (never reached in
		 * practice, one attempt per heal). */
		err = know_set(k, "store_",
			       (json_int_t)(e->attempts < INT32_MAX ? e->attempts : INT32_MAX),
			       (json_int_t)(e->successes < INT32_MAX ? e->successes : INT32_MAX),
			       e->last_applied_ns ? json_string(ts) : NULL, json_string(e->cls),
			       json_string(e->workload));
		if (err)
			return err;
		st->store_entries++;
	}
	return 0;
}

/* Count an action record into the (signature, action) knowledge. */
static int know_add(struct collect *c, json_t *rec)
{
	const char *outcome = str_at(rec, "outcome");
	json_t *k;

	if (!str_at(rec, "signature") || !str_at(rec, "action") || !outcome)
		return 0;
	k = know_pair(c, json_object_get(rec, "signature"), json_object_get(rec, "action"));
	if (!k)
		return -ENOMEM;
	if (!strcmp(outcome, "intent")) {
		json_object_set_new(
		    k, "attempts",
		    json_integer(json_integer_value(json_object_get(k, "attempts")) + 1));
		json_object_set(k, "last", json_object_get(rec, "ts"));
		json_object_set(k, "incident", json_object_get(rec, "incident"));
		json_object_set(k, "workload", json_object_get(rec, "workload"));
	} else if (!strcmp(outcome, "success")) {
		json_object_set_new(
		    k, "successes",
		    json_integer(json_integer_value(json_object_get(k, "successes")) + 1));
	}
	return 0;
}

/* One parsed line. Returns 0 or -ENOMEM. */
static int collect_record(struct collect *c, json_t *rec, struct vigil_export_stats *st)
{
	const char *type = str_at(rec, "type"), *id;

	if (!type)
		return 0;
	if (!strcmp(type, "incident")) {
		id = str_at(rec, "id");
		/* An id is a key: one with a NUL would alias another once replaced. */
		if (!id || !*id || strlen(id) != json_string_length(json_object_get(rec, "id")) ||
		    !str_at(rec, "node")) {
			st->skipped++;
			return 0;
		}
		if (!json_object_get(c->opened, id) &&
		    json_object_set(c->opened, id, json_object_get(rec, "ts")))
			return -ENOMEM;
		return json_object_set(c->last, id, rec) ? -ENOMEM : 0;
	}
	if (!strcmp(type, "action")) {
		id = str_at(rec, "incident");
		if (!id || !*id || !str_at(rec, "node") || !str_at(rec, "action") ||
		    !str_at(rec, "outcome") || !ts_ok(str_at(rec, "ts"))) {
			st->skipped++;
			return 0;
		}
		if (json_array_append(c->actions, rec))
			return -ENOMEM;
		return know_add(c, rec);
	}
	if (!strcmp(type, "knowledge"))
		return know_record(c, rec, st);
	/* event, health, breaker (the breaker's state is in Redis and the audit trail's
	 * "breaker" actions), and types of newer versions: nothing to load. */
	return 0;
}

/* The lines of one journal file into c. Returns 0, -EIO or -ENOMEM. */
static int collect_journal(struct collect *c, FILE *journal, struct vigil_export_stats *st)
{
	char *line = NULL;
	size_t cap = 0, at;
	ssize_t n;
	int err = 0;

	while ((n = getline(&line, &cap, journal)) >= 0) {
		json_t *rec;
		bool torn;

		if (strspn(line, " \t\r\n") == (size_t)n)
			continue;
		st->lines++;
		/* JSON_ALLOW_NUL: a \u0000 in a name is data to carry (as U+FFFD), not garbage.
		 * A torn line (output/journal.h): the whole record after the tear is read. */
		rec = vigil_journal_parse_line(line, (size_t)n, JSON_ALLOW_NUL, &at, &torn);
		if (!rec) {
			st->bad_lines++;
			continue;
		}
		if (torn)
			st->torn++;
		err = collect_record(c, rec, st);
		json_decref(rec);
		if (err)
			goto cleanup;
	}
	if (ferror(journal))
		err = -EIO;
cleanup:
	free(line);
	return err;
}

static int write_incidents(struct collect *c, FILE *out, struct vigil_export_stats *st)
{
	static const char *const strs[] = {"node", "workload", "signature", "class", "state", NULL};
	const char *id;
	json_t *rec;

	json_object_foreach(c->last, id, rec)
	{
		fputs("insert into public.incidents (id, node, workload, signature, class, state, "
		      "count, title, detail, opened_at, detect_us, recovery_ms, lossy, chain, "
		      "updated_at)\nvalues (",
		      out);
		put_cstr(out, id, st);
		for (int i = 0; strs[i]; i++) {
			fputs(", ", out);
			put_str(out, json_object_get(rec, strs[i]), st);
		}
		fputs(", ", out);
		put_int(out, json_object_get(rec, "count"));
		fputs(", ", out);
		put_str(out, json_object_get(rec, "title"), st);
		fputs(", ", out);
		put_str(out, json_object_get(rec, "detail"), st);
		fputs(", ", out);
		put_ts(out, json_string_value(json_object_get(c->opened, id)));
		fputs(", ", out);
		put_int(out, json_object_get(rec, "detect_us"));
		fputs(", ", out);
		put_int(out, json_object_get(rec, "recovery_ms"));
		fputs(json_is_true(json_object_get(rec, "lossy")) ? ", true, " : ", false, ", out);
		if (json_object_get(rec, "chain")) {
			if (put_jsonb(out, json_object_get(rec, "chain"), st))
				return -ENOMEM;
		} else {
			fputs("null", out);
		}
		fputs(", ", out);
		put_ts(out, str_at(rec, "ts"));
		/* Never move a row back: loading an older journal after a newer one keeps the
		 * newer state. */
		fputs(")\non conflict (id) do update set node = excluded.node, "
		      "workload = excluded.workload, signature = excluded.signature, "
		      "class = excluded.class, state = excluded.state, count = excluded.count, "
		      "title = excluded.title, detail = excluded.detail, "
		      "opened_at = coalesce(incidents.opened_at, excluded.opened_at), "
		      "detect_us = excluded.detect_us, recovery_ms = excluded.recovery_ms, "
		      "lossy = excluded.lossy, chain = excluded.chain, "
		      "updated_at = excluded.updated_at\n"
		      "where incidents.updated_at is null or excluded.updated_at is null or "
		      "excluded.updated_at >= incidents.updated_at;\n",
		      out);
		st->incidents++;
	}
	return 0;
}

static void write_actions(struct collect *c, FILE *out, struct vigil_export_stats *st)
{
	static const char *const strs[] = {"node",    "workload", "signature", "action",
					   "outcome", "detail",	  NULL};
	size_t i;
	json_t *rec;

	json_array_foreach(c->actions, i, rec)
	{
		const char *id = str_at(rec, "incident");

		/* An action whose incident record was rotated out of the journal still needs a
		 * row to reference; a real row, loaded now or before, wins. */
		if (!json_object_get(c->last, id)) {
			fputs(
			    "insert into public.incidents (id, node, workload, signature) values (",
			    out);
			put_str(out, json_object_get(rec, "incident"), st);
			for (int k = 0; k < 3; k++) {
				fputs(", ", out);
				put_str(out, json_object_get(rec, strs[k]), st);
			}
			fputs(")\non conflict (id) do nothing;\n", out);
		}
		fputs("insert into public.healing_actions (incident, node, workload, signature, "
		      "action, outcome, detail, pid, at)\nvalues (",
		      out);
		put_str(out, json_object_get(rec, "incident"), st);
		for (int k = 0; strs[k]; k++) {
			fputs(", ", out);
			put_str(out, json_object_get(rec, strs[k]), st);
		}
		fputs(", ", out);
		put_int(out, json_object_get(rec, "pid"));
		fputs(", ", out);
		put_ts(out, str_at(rec, "ts"));
		fputs(")\non conflict do nothing;\n", out);
		st->actions++;
	}
}

static int write_knowledge(struct collect *c, FILE *out, struct vigil_export_stats *st)
{
	const char *name;
	json_t *k;

	json_object_foreach(c->know, name, k)
	{
		json_int_t a = 0, s = 0, h;
		json_t *inc = json_object_get(c->last, str_at(k, "incident") ?: "");
		json_t *cls = json_object_get(inc, "class"), *last = NULL;
		json_t *pattern, *fix;
		int err;

		/* The best source that has the pair wins (src_keys). */
		for (size_t i = 0; i < sizeof(src_keys) / sizeof(src_keys[0]); i++) {
			char key[32];

			snprintf(key, sizeof(key), "%sattempts", src_keys[i]);
			if (!json_object_get(k, key))
				continue;
			a = json_integer_value(json_object_get(k, key));
			snprintf(key, sizeof(key), "%ssuccesses", src_keys[i]);
			s = json_integer_value(json_object_get(k, key));
			snprintf(key, sizeof(key), "%slast", src_keys[i]);
			last = json_object_get(k, key);
			snprintf(key, sizeof(key), "%sclass", src_keys[i]);
			if (json_is_string(json_object_get(k, key)))
				cls = json_object_get(k, key);
		}
		/* A success whose intent was rotated out rates nothing. */
		if (a <= 0)
			continue;
		if (s > a)
			s = a;
		pattern = json_pack("{sOsOsOsO}", "signature", json_object_get(k, "signature"),
				    "workload", json_object_get(k, "workload") ?: json_null(),
				    "class", cls ?: json_null(), "detail",
				    json_object_get(inc, "detail") ?: json_null());
		fix = json_pack("{sO}", "action", json_object_get(k, "action"));
		if (!pattern || !fix) {
			json_decref(pattern);
			json_decref(fix);
			return -ENOMEM;
		}
		fputs("insert into public.incident_knowledge (incident_type, error_pattern, "
		      "fix_action, success_rate, last_applied, attempts, successes)\nvalues (",
		      out);
		put_str(out, cls, st);
		fputs(", ", out);
		err = put_jsonb(out, pattern, st);
		fputs(", ", out);
		err = err ?: put_jsonb(out, fix, st);
		json_decref(pattern);
		json_decref(fix);
		if (err)
			return err;
		/* successes/attempts rounded half up to 2 places, in integers: exact. */
		h = (200 * s + a) / (2 * a);
		fprintf(out, ", %lld.%02lld, ", (long long)(h / 100), (long long)(h % 100));
		put_ts(out, json_string_value(last));
		fprintf(out, ", %lld, %lld)\n", (long long)a, (long long)s);
		/* The journal's counts replace the row's, unless the row is newer. */
		fputs("on conflict ((error_pattern ->> 'signature'), (fix_action ->> 'action')) "
		      "do update set incident_type = excluded.incident_type, "
		      "error_pattern = excluded.error_pattern, "
		      "success_rate = excluded.success_rate, "
		      "last_applied = excluded.last_applied, attempts = excluded.attempts, "
		      "successes = excluded.successes\n"
		      "where incident_knowledge.last_applied is null or excluded.last_applied is "
		      "null or excluded.last_applied >= incident_knowledge.last_applied;\n",
		      out);
		st->knowledge++;
	}
	return 0;
}

int vigil_export_sql(FILE *const *journals, unsigned int n, const struct vigil_knowledge *store,
		     FILE *out, struct vigil_export_stats *st)
{
	struct vigil_export_stats local = {};
	struct collect c = {
	    .last = json_object(),
	    .opened = json_object(),
	    .actions = json_array(),
	    .know = json_object(),
	};
	int err = 0;

	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	if (!c.last || !c.opened || !c.actions || !c.know) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (unsigned int i = 0; i < n && !err; i++)
		err = collect_journal(&c, journals[i], st);
	if (!err && store)
		err = know_store(&c, store, st);
	if (err)
		goto cleanup;
	/* set local: the settings the literals below rely on, for this transaction only, and
	 * whatever the server's or the client's defaults. */
	fputs("-- vigil export --sql: incidents, healing_actions, incident_knowledge (sql/)\n"
	      "begin;\n"
	      "set local client_encoding = 'UTF8';\n"
	      "set local standard_conforming_strings = on;\n",
	      out);
	err = write_incidents(&c, out, st);
	if (err)
		goto cleanup;
	write_actions(&c, out, st);
	err = write_knowledge(&c, out, st);
	if (err)
		goto cleanup;
	fputs("commit;\n", out);
	if (fflush(out) || ferror(out))
		err = -EIO;
cleanup:
	json_decref(c.last);
	json_decref(c.opened);
	json_decref(c.actions);
	json_decref(c.know);
	return err;
}
