// SPDX-License-Identifier: Apache-2.0
/*
 * export: the journal as SQL for the tables in sql/. One pass over the journal collects, in
 * journal order, the last record of each incident, every action record and the (signature,
 * action) counts, which the knowledge records of the journal and then the knowledge store
 * override; then one transaction of SQL is written: sql_rows.h's statements, the ones the
 * PostgreSQL sink sends, their parameters rendered as literals. Every string goes out as a standard
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
#include "output/sql_rows.h"

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
		    !str_at(rec, "outcome") || !vigil_sql_ts_ok(str_at(rec, "ts"))) {
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

/* Write one row and add its replacements to the summary. Returns 0 or -EIO. */
static int put_row(FILE *out, struct vigil_sql_row *r, struct vigil_export_stats *st)
{
	int err = vigil_sql_render(out, r);

	st->nul_replaced += r->nul_replaced;
	st->bad_utf8 += r->bad_utf8;
	vigil_sql_row_free(r);
	return err;
}

static int write_incidents(struct collect *c, FILE *out, struct vigil_export_stats *st)
{
	struct vigil_sql_row r;
	const char *id;
	json_t *rec;
	int err;

	json_object_foreach(c->last, id, rec)
	{
		err = vigil_sql_incident(&r, rec, json_string_value(json_object_get(c->opened, id)),
					 NULL);
		err = err ?: put_row(out, &r, st);
		if (err) {
			vigil_sql_row_free(&r);
			return err;
		}
		st->incidents++;
	}
	return 0;
}

static int write_actions(struct collect *c, FILE *out, struct vigil_export_stats *st)
{
	struct vigil_sql_row r;
	size_t i;
	json_t *rec;
	int err = 0;

	json_array_foreach(c->actions, i, rec)
	{
		/* An action whose incident record was rotated out of the journal still needs a
		 * row to reference; a real row, loaded now or before, wins. */
		if (!json_object_get(c->last, str_at(rec, "incident"))) {
			err = vigil_sql_stub(&r, rec, NULL);
			err = err ?: put_row(out, &r, st);
		}
		if (!err) {
			err = vigil_sql_action(&r, rec, NULL);
			err = err ?: put_row(out, &r, st);
		}
		if (err) {
			vigil_sql_row_free(&r);
			return err;
		}
		st->actions++;
	}
	return 0;
}

static int write_knowledge(struct collect *c, FILE *out, const char *node,
			   struct vigil_export_stats *st)
{
	struct vigil_sql_row r;
	const char *name;
	json_t *k;
	int err;

	json_object_foreach(c->know, name, k)
	{
		json_t *inc = json_object_get(c->last, str_at(k, "incident") ?: "");
		struct vigil_sql_know kn = {
		    .signature = str_at(k, "signature"),
		    .action = str_at(k, "action"),
		    .workload = str_at(k, "workload"),
		    .cls = str_at(inc, "class"),
		    .node = node,
		};

		/* The best source that has the pair wins (src_keys). */
		for (size_t i = 0; i < sizeof(src_keys) / sizeof(src_keys[0]); i++) {
			char key[32];

			snprintf(key, sizeof(key), "%sattempts", src_keys[i]);
			if (!json_object_get(k, key))
				continue;
			kn.attempts = json_integer_value(json_object_get(k, key));
			snprintf(key, sizeof(key), "%ssuccesses", src_keys[i]);
			kn.successes = json_integer_value(json_object_get(k, key));
			snprintf(key, sizeof(key), "%slast", src_keys[i]);
			kn.last_applied = str_at(k, key);
			snprintf(key, sizeof(key), "%sclass", src_keys[i]);
			if (str_at(k, key))
				kn.cls = str_at(k, key);
		}
		/* A success whose intent was rotated out rates nothing. */
		if (kn.attempts <= 0)
			continue;
		if (kn.successes > kn.attempts)
			kn.successes = kn.attempts;
		err = vigil_sql_knowledge(&r, &kn, NULL);
		err = err ?: put_row(out, &r, st);
		if (err == -EINVAL) {
			st->skipped++;
			continue;
		}
		if (err) {
			vigil_sql_row_free(&r);
			return err;
		}
		st->knowledge++;
	}
	return 0;
}

int vigil_export_sql(FILE *const *journals, unsigned int n, const struct vigil_knowledge *store,
		     const char *node, FILE *out, struct vigil_export_stats *st)
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
	err = write_actions(&c, out, st);
	if (err)
		goto cleanup;
	err = write_knowledge(&c, out, node, st);
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
