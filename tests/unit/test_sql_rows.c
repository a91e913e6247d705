// SPDX-License-Identifier: Apache-2.0
/*
 * Unit: the rows records become (sql_rows.c) and what the PostgreSQL sink shows of itself
 * (postgres.c) without a server: parameters from records, with NUL and bad UTF-8 replaced;
 * records refused for lack of a field; the rendering of a row as literals; the URL with its
 * password masked; the record types the sink takes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "output/postgres.h"
#include "output/sql_rows.h"

static json_t *parse(const char *s)
{
	json_t *j = json_loads(s, JSON_ALLOW_NUL, NULL);

	assert_non_null(j);
	return j;
}

/* The row rendered as SQL, into buf. */
static void render(const struct vigil_sql_row *r, char *buf, size_t len)
{
	FILE *f = fmemopen(buf, len, "w");

	assert_non_null(f);
	assert_int_equal(vigil_sql_render(f, r), 0);
	fclose(f);
}

static void test_incident_params(void **state)
{
	json_t *rec = parse("{\"type\":\"incident\",\"ts\":\"2026-11-29T10:00:00.000Z\","
			    "\"node\":\"n1\",\"workload\":\"w\",\"id\":\"019ac0000000a001\","
			    "\"signature\":\"s\",\"class\":\"crash\",\"state\":\"open\","
			    "\"count\":2,\"title\":\"a\\u0000b \\\\ 'q'\",\"lossy\":true,"
			    "\"chain\":[{\"detail\":\"x\\u0000\"}]}");
	struct vigil_sql_row r;

	(void)state;
	assert_int_equal(vigil_sql_incident(&r, rec, NULL, NULL), 0);
	assert_int_equal(r.n, 18);
	assert_string_equal(r.v[0], "019ac0000000a001");
	assert_string_equal(r.v[6], "2");
	assert_string_equal(r.v[7], "a\xef\xbf\xbd"
				    "b \\ 'q'");
	assert_string_equal(r.v[9], "2026-11-29T10:00:00.000Z"); /* opened_at: the record's ts */
	assert_null(r.v[10]);					 /* detect_us absent: null */
	assert_string_equal(r.v[12], "true");
	assert_string_equal(r.v[13], "[{\"detail\":\"x\\ufffd\"}]");
	assert_int_equal(r.nul_replaced, 2);
	vigil_sql_row_free(&r);
	json_decref(rec);
}

/* The trace context's columns (sql/005_trace.sql): null without one. */
static void test_incident_trace(void **state)
{
	json_t *rec = parse("{\"type\":\"incident\",\"ts\":\"2026-11-29T10:00:00.000Z\","
			    "\"node\":\"n1\",\"id\":\"019ac0000000a002\","
			    "\"trace_ids\":[\"0af7651916cd43dd8448eb211c80319c\"],"
			    "\"span_id\":\"b7ad6b7169203331\",\"trace_source\":\"http\"}");
	json_t *none = parse("{\"type\":\"incident\",\"node\":\"n1\",\"id\":\"x\"}");
	struct vigil_sql_row r;

	(void)state;
	assert_int_equal(vigil_sql_incident(&r, rec, NULL, NULL), 0);
	assert_string_equal(r.v[15], "[\"0af7651916cd43dd8448eb211c80319c\"]");
	assert_string_equal(r.v[16], "b7ad6b7169203331");
	assert_string_equal(r.v[17], "http");
	vigil_sql_row_free(&r);
	assert_int_equal(vigil_sql_incident(&r, none, NULL, NULL), 0);
	assert_null(r.v[15]);
	assert_null(r.v[16]);
	assert_null(r.v[17]);
	vigil_sql_row_free(&r);
	json_decref(rec);
	json_decref(none);
}

static void test_refused(void **state)
{
	json_t *noid = parse("{\"type\":\"incident\",\"node\":\"n\",\"id\":\"\"}");
	json_t *nuls = parse("{\"type\":\"incident\",\"node\":\"n\",\"id\":\"a\\u0000b\"}");
	json_t *act = parse("{\"type\":\"action\",\"node\":\"n\",\"incident\":\"i\","
			    "\"action\":\"restart\",\"outcome\":\"intent\",\"ts\":\"yesterday\"}");
	struct vigil_sql_know k = {
	    .signature = "s", .action = "restart", .attempts = 1, .successes = 2};
	struct vigil_sql_row r;
	const char *why = NULL;

	(void)state;
	assert_int_equal(vigil_sql_incident(&r, noid, NULL, &why), -EINVAL);
	assert_non_null(why);
	vigil_sql_row_free(&r);
	assert_int_equal(vigil_sql_incident(&r, nuls, NULL, NULL), -EINVAL);
	vigil_sql_row_free(&r);
	assert_int_equal(vigil_sql_action(&r, act, NULL), -EINVAL); /* at is NOT NULL */
	vigil_sql_row_free(&r);
	assert_int_equal(vigil_sql_knowledge(&r, &k, NULL), -EINVAL);
	vigil_sql_row_free(&r);
	k.successes = 1;
	k.attempts = 0;
	assert_int_equal(vigil_sql_knowledge(&r, &k, NULL), -EINVAL);
	vigil_sql_row_free(&r);
	json_decref(noid);
	json_decref(nuls);
	json_decref(act);
}

static void test_knowledge_render(void **state)
{
	struct vigil_sql_know k = {.signature = "sig'; drop table x; --",
				   .action = "restart",
				   .cls = "crash",
				   .attempts = 3,
				   .successes = 2,
				   .last_applied = "2026-11-29T10:00:00.000Z",
				   .node = "n1"};
	struct vigil_sql_row r;
	char buf[8192];

	(void)state;
	assert_int_equal(vigil_sql_knowledge(&r, &k, NULL), 0);
	assert_string_equal(r.v[4], "0.67"); /* 2/3 rounded half up */
	assert_string_equal(r.v[8], "vigil@n1");
	assert_null(r.v[2]); /* no workload */
	render(&r, buf, sizeof(buf));
	assert_non_null(strstr(buf, "'sig''; drop table x; --'::text"));
	assert_non_null(strstr(buf, "'0.67'::numeric"));
	assert_non_null(strstr(buf, "jsonb_build_object('signature', 'sig''"));
	assert_non_null(strstr(buf, "'workload', null::text"));
	assert_null(strstr(buf, "$"));
	assert_string_equal(buf + strlen(buf) - 2, ";\n");
	vigil_sql_row_free(&r);
}

static void test_url_safe(void **state)
{
	char buf[256];

	(void)state;
	assert_string_equal(vigil_pg_url_safe("postgresql://u:secret@h:5432/db", buf, sizeof(buf)),
			    "postgresql://u:***@h:5432/db");
	assert_string_equal(vigil_pg_url_safe("postgresql://u@h/db?sslmode=require&password=s&x=1",
					      buf, sizeof(buf)),
			    "postgresql://u@h/db?sslmode=require&password=***&x=1");
	assert_string_equal(vigil_pg_url_safe("postgres://h?password=s", buf, sizeof(buf)),
			    "postgres://h?password=***");
	assert_string_equal(vigil_pg_url_safe("postgresql://a:b:c@h", buf, sizeof(buf)),
			    "postgresql://a:***@h");
	assert_null(strstr(vigil_pg_url_safe("host=h password=s", buf, sizeof(buf)), "s "));
}

static void test_wants(void **state)
{
	(void)state;
	assert_true(vigil_pg_wants("{\"type\":\"incident\",\"rid\":\"1-0\"}", 31));
	assert_true(vigil_pg_wants("{\"type\":\"action\"}", 17));
	assert_true(vigil_pg_wants("{\"type\":\"knowledge\"}", 20));
	assert_false(vigil_pg_wants("{\"type\":\"event\"}", 16));
	assert_false(vigil_pg_wants("{\"type\":\"incidentx\"", 10)); /* cut short */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_incident_params), cmocka_unit_test(test_incident_trace),
	    cmocka_unit_test(test_refused),	    cmocka_unit_test(test_knowledge_render),
	    cmocka_unit_test(test_url_safe),	    cmocka_unit_test(test_wants),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
