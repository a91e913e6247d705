// SPDX-License-Identifier: Apache-2.0
/*
 * Integration: sql/ and `vigil export --sql` against a real PostgreSQL server (tests/lib's
 * pg_server, as the PostgreSQL sink's test uses): the migrations apply twice, an export loads
 * twice without duplicating the audit trail, a hostile title round-trips byte for byte, the
 * knowledge rate is right, the knowledge store's numbers beat the journal's, the
 * success_rate check refuses 1.5, the seed's NOT NULLs hold, and row-level security lets an
 * authenticated user read but not write. The tests run in order on one server.
 */
#include <glob.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "pg_server.h"

#define ID_A "019ac0000000a001"
#define ID_B "019ac0000000b002"
#define ID_GONE "019abfffffff0003" /* an incident rotated out of the journal */

/* A process name can hold anything; the journal decodes to valid UTF-8, NUL included. */
static const char hostile[] = "svc 'crash' \\ \" $$ $x$ E'\\n' \n\t; drop table incidents; -- "
			      "\x01 \xc3\xa9 \xc3\xbf \xe2\x82\xac end";
#define HOSTILE_NUL_AT 16 /* a NUL is put here, after "svc 'crash' \\ \" " */

static struct pg {
	struct vt v;
	struct vt_pg srv;
	char psql[1024];  /* psql command line up to the options of one call */
	char sqldir[512]; /* the repository's sql/ */
	char why[256];	  /* why the tests skip */
	bool up;
} pg;

static int psql(const char *sql, char *out, size_t len)
{
	return vt_pg_psql(&pg.srv, sql, out, len);
}

static int group_setup(void **state)
{
	char *slash;
	int rc;

	(void)state;
	if (vt_init(&pg.v))
		return -1;
	/* build/vigil -> the repository, whose sql/ holds the migrations. */
	snprintf(pg.sqldir, sizeof(pg.sqldir), "%s", pg.v.vigil_bin);
	for (int i = 0; i < 2 && (slash = strrchr(pg.sqldir, '/')); i++)
		*slash = '\0';
	strncat(pg.sqldir, "/sql", sizeof(pg.sqldir) - strlen(pg.sqldir) - 1);
	rc = vt_pg_init(&pg.srv, pg.why, sizeof(pg.why));
	if (rc)
		return rc < 0 ? -1 : 0;
	pg.up = true;
	vt_pg_psql_cmd(&pg.srv, pg.psql, sizeof(pg.psql));
	return vt_pg_supabase(&pg.srv) ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	vt_pg_fini(&pg.srv);
	pg.up = false;
	vt_fini(&pg.v);
	return 0;
}

static void need_server(void)
{
	if (!pg.up) {
		printf("test_sql: skipped: %s\n", pg.why[0] ? pg.why : "no server");
		skip();
	}
}

static void test_migrations_apply_twice(void **state)
{
	char out[4096];
	glob_t g = {};
	char pat[600];

	(void)state;
	need_server();
	snprintf(pat, sizeof(pat), "%s/[0-9][0-9][0-9]_*.sql", pg.sqldir);
	assert_int_equal(glob(pat, 0, NULL, &g), 0);
	assert_true(g.gl_pathc >= 4);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			int rc = vt_pg_sh("%s -f %s >%s/migrate.log 2>&1", pg.psql, g.gl_pathv[i],
					  pg.v.dir);

			if (rc)
				vt_pg_sh("cat %s/migrate.log >&2", pg.v.dir);
			assert_int_equal(rc, 0);
		}
	}
	globfree(&g);
	assert_int_equal(psql("select count(*) from pg_class where relrowsecurity and relname in "
			      "('incident_knowledge', 'incidents', 'healing_actions');",
			      out, sizeof(out)),
			 0);
	assert_string_equal(out, "3");
	assert_int_equal(
	    psql("select count(*) from pg_policies where schemaname = 'public';", out, sizeof(out)),
	    0);
	assert_string_equal(out, "6");
}

/* One journal record, the fields README lists, as a line. */
static void put(FILE *f, json_t *rec)
{
	char *s = json_dumps(rec, JSON_COMPACT);

	assert_non_null(s);
	fprintf(f, "%s\n", s);
	free(s);
	json_decref(rec);
}

static json_t *incident(const char *ts, const char *id, const char *sig, const char *state,
			int count, json_t *title)
{
	return json_pack("{sssssssssssssssssisosssisisisIsisbs[{sssssisi}]}", "type", "incident",
			 "ts", ts, "node", "node-1", "workload", "storyteller", "id", id,
			 "signature", sig, "class", "crash", "state", state, "count", count,
			 "title", title, "detail", "SIGSEGV in render", "pid", 4242, "signal", 11,
			 "exit_code", -1, "first_kernel_ts_ns", (json_int_t)123456789, "detect_us",
			 180, "lossy", 0, "chain", "class", "connect_error", "detail",
			 "10.0.0.5:5432", "pid", 4242, "before_ms", 12);
}

static json_t *action(const char *ts, const char *id, const char *sig, const char *act,
		      const char *outcome)
{
	return json_pack("{sssssssssssssssssssi}", "type", "action", "ts", ts, "node", "node-1",
			 "workload", "storyteller", "incident", id, "signature", sig, "action", act,
			 "outcome", outcome, "detail", "kill + exec", "pid", 4242);
}

static void write_journal(const char *path)
{
	char title[sizeof(hostile) + 1];
	FILE *f = fopen(path, "w");
	json_t *rec;

	assert_non_null(f);
	memcpy(title, hostile, HOSTILE_NUL_AT);
	title[HOSTILE_NUL_AT] = '\0';
	memcpy(title + HOSTILE_NUL_AT + 1, hostile + HOSTILE_NUL_AT,
	       sizeof(hostile) - HOSTILE_NUL_AT);
	put(f, incident("2026-11-29T10:00:00.000Z", ID_A, "sigA", "open", 1,
			json_string("storyteller crash SIGSEGV")));
	put(f, action("2026-11-29T10:00:00.100Z", ID_A, "sigA", "restart", "intent"));
	put(f, action("2026-11-29T10:00:00.150Z", ID_A, "sigA", "restart", "started"));
	fputs("{\"type\":\"action\", torn\n\n", f); /* not JSON: counted and skipped */
	put(f, action("2026-11-29T10:00:01.000Z", ID_A, "sigA", "restart", "failed"));
	put(f, incident("2026-11-29T10:00:02.000Z", ID_A, "sigA", "healing", 2,
			json_string("storyteller crash SIGSEGV")));
	put(f, action("2026-11-29T10:00:12.000Z", ID_A, "sigA", "restart", "intent"));
	put(f, action("2026-11-29T10:00:12.050Z", ID_A, "sigA", "restart", "started"));
	put(f, action("2026-11-29T10:00:13.000Z", ID_A, "sigA", "restart", "success"));
	rec = incident("2026-11-29T10:00:14.000Z", ID_A, "sigA", "resolved", 3,
		       json_stringn(title, sizeof(hostile)));
	json_object_set_new(rec, "recovery_ms", json_integer(14000));
	put(f, rec);
	put(f, incident("2026-11-29T10:01:00.000Z", ID_B, "sigB", "open", 1,
			json_string("storyteller exit 1")));
	put(f, action("2026-11-29T10:01:00.500Z", ID_B, "sigB", "breaker", "open"));
	put(f, action("2026-11-29T10:02:00.000Z", ID_GONE, "sigC", "restart", "intent"));
	fclose(f);
}

static void test_export_loads_twice(void **state)
{
	char out[8192], journal[256], script[256], hex[1024] = "";
	char title[sizeof(hostile) + 3];
	size_t n = 0;

	(void)state;
	need_server();
	snprintf(journal, sizeof(journal), "%s/journal.jsonl", pg.v.dir);
	snprintf(script, sizeof(script), "%s/export.sql", pg.v.dir);
	write_journal(journal);
	/* --knowledge '': the journal alone, whatever store this host has. */
	assert_int_equal(vt_pg_sh("%s export --sql --journal %s --knowledge '' >%s 2>%s/export.err",
				  pg.v.vigil_bin, journal, script, pg.v.dir),
			 0);
	vt_pg_sh("cat %s/export.err", pg.v.dir);
	assert_int_equal(vt_pg_sh("grep -q '1 lines not JSON' %s/export.err", pg.v.dir), 0);
	assert_int_equal(vt_pg_sh("%s -f - <%s", pg.psql, script), 0);
	/* The second load as the README tells it, through a pipe: nothing may double. */
	assert_int_equal(
	    vt_pg_sh("%s export --sql --journal %s --knowledge '' 2>/dev/null | %s -f -",
		     pg.v.vigil_bin, journal, pg.psql),
	    0);

	assert_int_equal(psql("select state || '|' || count || '|' || recovery_ms || '|' || "
			      "to_char(opened_at at time zone 'UTC', 'HH24:MI:SS') || '|' || "
			      "jsonb_array_length(chain) from incidents where id = '" ID_A "';",
			      out, sizeof(out)),
			 0);
	assert_string_equal(out, "resolved|3|14000|10:00:00|1");
	assert_int_equal(psql("select count(*) from incidents;", out, sizeof(out)), 0);
	assert_string_equal(out, "3"); /* A, B and the stub of the rotated-out one */
	assert_int_equal(psql("select count(*) || '|' || count(distinct (incident, action, "
			      "outcome, at)) from healing_actions;",
			      out, sizeof(out)),
			 0);
	assert_string_equal(out, "8|8"); /* 6 for A, 1 for B, 1 for the rotated-out one */
	assert_int_equal(psql("select success_rate || '|' || attempts || '|' || successes || '|' "
			      "|| incident_type || '|' || (error_pattern ->> 'workload') from "
			      "incident_knowledge where error_pattern ->> 'signature' = 'sigA' and "
			      "fix_action ->> 'action' = 'restart';",
			      out, sizeof(out)),
			 0);
	assert_string_equal(out, "0.50|2|1|crash|storyteller");
	assert_int_equal(psql("select count(*) from incident_knowledge;", out, sizeof(out)), 0);
	assert_string_equal(out, "2"); /* sigA/restart, sigC/restart; breaker had no intent */

	/* The hostile title, byte for byte, the NUL as U+FFFD (PostgreSQL text has no NUL). */
	memcpy(title, hostile, HOSTILE_NUL_AT);
	memcpy(title + HOSTILE_NUL_AT, "\xef\xbf\xbd", 3);
	memcpy(title + HOSTILE_NUL_AT + 3, hostile + HOSTILE_NUL_AT,
	       sizeof(hostile) - HOSTILE_NUL_AT);
	for (const unsigned char *p = (const unsigned char *)title; *p; p++)
		n += snprintf(hex + n, sizeof(hex) - n, "%02x", *p);
	assert_int_equal(psql("select encode(convert_to(title, 'UTF8'), 'hex') from incidents "
			      "where id = '" ID_A "';",
			      out, sizeof(out)),
			 0);
	assert_string_equal(out, hex);
	assert_int_equal(
	    psql("select count(*) from pg_tables where tablename = 'incidents';", out, sizeof(out)),
	    0);
	assert_string_equal(out, "1");
}

/* The knowledge store (the file vigil keeps, written here as it writes it) holds more than the
 * journal: its numbers replace the row's. */
static void test_export_store_wins(void **state)
{
	char out[4096], journal[256], store[256];
	FILE *f;

	(void)state;
	need_server();
	snprintf(journal, sizeof(journal), "%s/journal.jsonl", pg.v.dir);
	snprintf(store, sizeof(store), "%s/knowledge.json", pg.v.dir);
	f = fopen(store, "w");
	assert_non_null(f);
	/* 2026-11-30T11:00:00Z: later than the journal's last intent, as a store is. */
	fputs("{\"version\": 1, \"entries\": [{\"signature\": \"sigA\", \"action\": \"restart\", "
	      "\"workload\": \"storyteller\", \"class\": \"crash\", \"attempts\": 7, "
	      "\"successes\": 5, \"last_applied_ns\": 1796036400000000000}]}\n",
	      f);
	fclose(f);
	assert_int_equal(
	    vt_pg_sh("%s export --sql --journal %s --knowledge %s 2>/dev/null | %s -f -",
		     pg.v.vigil_bin, journal, store, pg.psql),
	    0);
	assert_int_equal(psql("select success_rate || '|' || attempts || '|' || successes || '|' "
			      "|| to_char(last_applied at time zone 'UTC', 'HH24:MI') from "
			      "incident_knowledge where error_pattern ->> 'signature' = 'sigA' and "
			      "fix_action ->> 'action' = 'restart';",
			      out, sizeof(out)),
			 0);
	assert_string_equal(out, "0.71|7|5|11:00");
	assert_int_equal(psql("select count(*) from incident_knowledge;", out, sizeof(out)), 0);
	assert_string_equal(out, "2");
}

static void test_success_rate_checked(void **state)
{
	char out[4096];

	(void)state;
	need_server();
	/* The seed's constraints (004): the columns required, the rate's default and its named
	 * check. */
	assert_int_not_equal(psql("insert into incident_knowledge (error_pattern, fix_action) "
				  "values ('{\"signature\":\"n\"}', '{\"action\":\"restart\"}');",
				  out, sizeof(out)),
			     0);
	assert_non_null(strstr(out, "incident_type"));
	assert_int_equal(psql("select count(*) from pg_constraint where conname = "
			      "'incident_knowledge_success_rate_check';",
			      out, sizeof(out)),
			 0);
	assert_string_equal(out, "1");
	assert_int_equal(psql("insert into incident_knowledge (incident_type, error_pattern, "
			      "fix_action) values ('crash', '{\"signature\":\"d\"}', "
			      "'{\"action\":\"restart\"}') returning success_rate;",
			      out, sizeof(out)),
			 0);
	assert_string_equal(out, "0.00");
	assert_int_not_equal(psql("insert into incident_knowledge (incident_type, error_pattern, "
				  "fix_action, success_rate) values ('crash', "
				  "'{\"signature\":\"x\"}', '{\"action\":\"restart\"}', 1.5);",
				  out, sizeof(out)),
			     0);
	printf("refused as it should be: %s\n", out);
	assert_non_null(strstr(out, "success_rate"));
	assert_int_equal(psql("insert into incident_knowledge (incident_type, error_pattern, "
			      "fix_action, success_rate) values ('crash', '{\"signature\":\"x\"}', "
			      "'{\"action\":\"restart\"}', 1.0);",
			      out, sizeof(out)),
			 0);
}

/* As a role RLS applies to (not the superuser the loads ran as). */
#define AS_ROLE(claim) "set role vigil_test_user;\nset request.jwt.claim.role = '" claim "';\n"

static void test_rls_service_role_writes(void **state)
{
	char out[4096];

	(void)state;
	need_server();
	assert_int_equal(psql("create role vigil_test_user;\n"
			      "grant usage on schema auth to vigil_test_user;\n"
			      "grant select, insert on all tables in schema public to "
			      "vigil_test_user;\n",
			      out, sizeof(out)),
			 0);
	assert_int_equal(
	    psql(AS_ROLE("authenticated") "select count(*) from incidents;", out, sizeof(out)), 0);
	assert_string_equal(out, "3");
	assert_int_equal(psql(AS_ROLE("anon") "select count(*) from incidents;", out, sizeof(out)),
			 0);
	assert_string_equal(out, "0");
	assert_int_not_equal(psql(AS_ROLE("authenticated") "insert into incidents (id, node) "
							   "values ('x', 'n');",
				  out, sizeof(out)),
			     0);
	assert_non_null(strstr(out, "row-level security"));
	assert_int_equal(psql(AS_ROLE("service_role") "insert into incidents (id, node) values "
						      "('y', 'n');",
			      out, sizeof(out)),
			 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_migrations_apply_twice),
	    cmocka_unit_test(test_export_loads_twice),
	    cmocka_unit_test(test_export_store_wins),
	    cmocka_unit_test(test_success_rate_checked),
	    cmocka_unit_test(test_rls_service_role_writes),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
