// SPDX-License-Identifier: Apache-2.0
/* Unit: the Redis sink's text — its URL, and a JSON record made field/value pairs as written
 * to Redis — whatever a record or a URL holds. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "output/redis.h"
#include "output/redis_cmd.h"

#define MAXF 16

struct flat {
	int n;
	char buf[1024];
	const char *k[MAXF], *v[MAXF];
	size_t kl[MAXF], vl[MAXF];
};

static int flatten(const char *json, struct flat *f)
{
	f->n = vigil_redis_fields(json, strlen(json), f->buf, f->k, f->kl, f->v, f->vl, MAXF);
	return f->n;
}

static void assert_pair(const struct flat *f, int i, const char *k, const char *v, size_t vl)
{
	assert_int_equal(f->kl[i], strlen(k));
	assert_memory_equal(f->k[i], k, strlen(k));
	assert_int_equal(f->vl[i], vl);
	assert_memory_equal(f->v[i], v, vl);
}

static void test_fields_values(void **state)
{
	struct flat f;

	(void)state;
	assert_int_equal(flatten("{\"type\":\"event\",\"rid\":\"17-3\",\"pid\":42,\"neg\":-7,"
				 "\"rate\":0.50,\"ok\":true,\"no\":false,\"gone\":null,"
				 "\"chain\":[{\"a\":\"x]}\"},{\"b\":[1,2]}],\"o\":{\"k\":1}}",
				 &f),
			 10);
	assert_pair(&f, 0, "type", "event", 5);
	assert_pair(&f, 1, "rid", "17-3", 4);
	assert_pair(&f, 2, "pid", "42", 2);
	assert_pair(&f, 3, "neg", "-7", 2);
	assert_pair(&f, 4, "rate", "0.50", 4);
	assert_pair(&f, 5, "ok", "true", 4);
	assert_pair(&f, 6, "no", "false", 5);
	assert_pair(&f, 7, "gone", "", 0); /* null: an empty value */
	/* A list or object stays JSON, brackets inside strings not counted. */
	assert_pair(&f, 8, "chain", "[{\"a\":\"x]}\"},{\"b\":[1,2]}]", 25);
	assert_pair(&f, 9, "o", "{\"k\":1}", 7);
	assert_int_equal(flatten("{}", &f), 0);
	assert_int_equal(flatten(" { \"a\" : 1 } ", &f), 1);
	assert_pair(&f, 0, "a", "1", 1);
}

/* What the journal writer escapes comes back as the bytes it stands for. */
static void test_fields_unescape(void **state)
{
	struct flat f;

	(void)state;
	assert_int_equal(flatten("{\"comm\":\"a\\\"b\\\\c\\n\\t\\u0001\\u00e9\\u20ac"
				 "\\ud83d\\ude00\\/\"}",
				 &f),
			 1);
	assert_pair(&f, 0, "comm", "a\"b\\c\n\t\x01\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80/", 18);
	/* A NUL is a byte like any other in a Redis value. */
	assert_int_equal(flatten("{\"k\\u0000\":\"x\\u0000y\"}", &f), 1);
	assert_int_equal(f.kl[0], 2);
	assert_memory_equal(f.k[0], "k\0", 2);
	assert_int_equal(f.vl[0], 3);
	assert_memory_equal(f.v[0], "x\0y", 3);
}

static void test_fields_refused(void **state)
{
	static const char *const bad[] = {
	    "",
	    "[]",
	    "{",
	    "{\"a\"}",
	    "{\"a\":}",
	    "{\"a\":1,}",
	    "{\"a\":1",
	    "{a:1}",
	    "{\"a\":\"x}",
	    "{\"a\":[1,2}",
	    "{\"a\":1} x",
	    "{\"a\":\"\\q\"}",
	    "{\"a\":\"\\u12\"}",
	    "{\"a\":1 \"b\":2}",
	};
	char many[512];
	struct flat f;
	size_t off = 1;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (flatten(bad[i], &f) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
	/* More keys than room: refused, never written past the arrays. */
	many[0] = '{';
	for (int i = 0; i <= MAXF; i++)
		off += (size_t)snprintf(many + off, sizeof(many) - off, "%s\"k%d\":%d",
					i ? "," : "", i, i);
	snprintf(many + off, sizeof(many) - off, "}");
	assert_int_equal(flatten(many, &f), -E2BIG);
}

static void test_url(void **state)
{
	struct vigil_redis_url u;
	char err[256];

	(void)state;
	assert_int_equal(vigil_redis_parse_url("redis://127.0.0.1:6380/2", &u, err, sizeof(err)),
			 0);
	assert_false(u.is_unix);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 6380);
	assert_int_equal(u.db, 2);
	assert_string_equal(u.user, "");
	assert_int_equal(vigil_redis_parse_url("redis://redis.cache.svc", &u, err, sizeof(err)), 0);
	assert_string_equal(u.host, "redis.cache.svc");
	assert_int_equal(u.port, 6379);
	assert_int_equal(u.db, 0);
	assert_int_equal(
	    vigil_redis_parse_url("redis://vigil:p%40ss%3Aw@[::1]:7000/0", &u, err, sizeof(err)),
	    0);
	assert_string_equal(u.user, "vigil");
	assert_string_equal(u.pass, "p@ss:w");
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 7000);
	assert_int_equal(vigil_redis_parse_url("redis://:only@h", &u, err, sizeof(err)), 0);
	assert_string_equal(u.user, "");
	assert_string_equal(u.pass, "only");
	assert_int_equal(vigil_redis_parse_url("unix:///run/redis.sock", &u, err, sizeof(err)), 0);
	assert_true(u.is_unix);
	assert_string_equal(u.host, "/run/redis.sock");
}

/* A password never reaches a log or status. */
static void test_url_safe(void **state)
{
	char buf[128];

	(void)state;
	assert_string_equal(vigil_redis_url_safe("redis://u:s3cret@h:1/0", buf, sizeof(buf)),
			    "redis://u:***@h:1/0");
	assert_string_equal(vigil_redis_url_safe("redis://:s3cret@h", buf, sizeof(buf)),
			    "redis://:***@h");
	assert_string_equal(vigil_redis_url_safe("redis://u@h/2", buf, sizeof(buf)),
			    "redis://u@h/2");
	assert_string_equal(vigil_redis_url_safe("redis://h:6379/0", buf, sizeof(buf)),
			    "redis://h:6379/0");
	assert_string_equal(vigil_redis_url_safe("unix:///run/r.sock", buf, sizeof(buf)),
			    "unix:///run/r.sock");
	/* Whatever its characters: a raw '@' or '/' in the password shows nothing of it. */
	assert_string_equal(vigil_redis_url_safe("redis://u:p@ss@h:1/0", buf, sizeof(buf)),
			    "redis://u:***@h:1/0");
	assert_string_equal(vigil_redis_url_safe("redis://u:pa/ss@h/3", buf, sizeof(buf)),
			    "redis://u:***@h/3");
	assert_string_equal(vigil_redis_url_safe("redis://:a/b@c/d@h", buf, sizeof(buf)),
			    "redis://:***@h");
}

/* ... and such a URL is read as its author meant: the user info ends at the last '@'. */
static void test_url_raw_password(void **state)
{
	struct vigil_redis_url u;
	char err[256];

	(void)state;
	assert_int_equal(vigil_redis_parse_url("redis://u:pa/s@s@h:7/2", &u, err, sizeof(err)), 0);
	assert_string_equal(u.user, "u");
	assert_string_equal(u.pass, "pa/s@s");
	assert_string_equal(u.host, "h");
	assert_int_equal(u.port, 7);
	assert_int_equal(u.db, 2);
	/* An error about such a URL names it without the password. */
	assert_int_equal(vigil_redis_parse_url("redis://u:p/w@h:99999", &u, err, sizeof(err)),
			 -EINVAL);
	assert_null(strstr(err, "p/w"));
	assert_non_null(strstr(err, "redis://u:***@h:99999"));
}

static void test_url_refused(void **state)
{
	static const char *const bad[] = {
	    "http://h",	       "redis://",	  "redis://h:0",     "redis://h:65536",
	    "redis://h:x",     "redis://h:/0",	  "redis://h/db",    "redis://[::1",
	    "redis://u:%zz@h", "redis://u:%00@h", "unix://rel.sock", "redis://:@",
	};
	struct vigil_redis_url u;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (vigil_redis_parse_url(bad[i], &u, err, sizeof(err)) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
		assert_true(err[0] != '\0');
	}
}

/* The command's args joined with spaces (tests use printable values). */
static const char *joined(const struct vigil_redis_cmd *c, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < c->argc && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%.*s", i ? " " : "",
					(int)c->argl[i], c->argv[i]);
	return buf;
}

/* Each record type goes to its keys, with its fields. */
static void test_plan(void **state)
{
	static struct vigil_redis_plan p;
	static const char inc[] = "{\"type\":\"incident\",\"rid\":\"5-1\",\"id\":\"ab\","
				  "\"state\":\"open\"}";
	static const char know[] = "{\"type\":\"knowledge\",\"rid\":\"5-2\",\"signature\":"
				   "\"s1\",\"action\":\"restart\",\"attempts\":3,"
				   "\"success_rate\":0.67}";
	static const char brk[] = "{\"type\":\"breaker\",\"rid\":\"5-3\",\"workload\":\"w\","
				  "\"state\":\"open\"}";
	static const char act[] = "{\"type\":\"action\",\"rid\":\"5-4\",\"outcome\":\"intent\"}";
	static const char hlt[] = "{\"type\":\"health\",\"rid\":\"5-5\",\"drops\":2}";
	char scratch[512], buf[512];

	(void)state;
	assert_int_equal(
	    vigil_redis_plan(&p, "v:n:", "v:", "100", inc, strlen(inc), scratch, false), 0);
	assert_int_equal(p.ncmd, 3);
	assert_true(p.xadd);
	assert_string_equal(joined(&p.cmd[0], buf, sizeof(buf)),
			    "XADD v:n:incidents MAXLEN ~ 100 5-1 type incident rid 5-1 id ab "
			    "state open");
	assert_string_equal(joined(&p.cmd[1], buf, sizeof(buf)),
			    "HSET v:n:incident:ab type incident rid 5-1 id ab state open");
	assert_string_equal(joined(&p.cmd[2], buf, sizeof(buf)), "EXPIRE v:n:incident:ab 604800");
	/* Replayed under an id Redis picks: the entry only, not the hash again. */
	assert_int_equal(vigil_redis_plan(&p, "v:n:", "v:", "100", inc, strlen(inc), scratch, true),
			 0);
	assert_int_equal(p.ncmd, 1);
	assert_string_equal(p.rid, "5-1");
	assert_string_equal(p.stream, "v:n:incidents");
	assert_string_equal(joined(&p.cmd[0], buf, sizeof(buf)),
			    "XADD v:n:incidents MAXLEN ~ 100 * type incident rid 5-1 id ab "
			    "state open");

	assert_int_equal(
	    vigil_redis_plan(&p, "v:n:", "v:", "100", know, strlen(know), scratch, false), 0);
	assert_int_equal(p.ncmd, 1);
	assert_false(p.xadd);
	assert_string_equal(joined(&p.cmd[0], buf, sizeof(buf)),
			    "HSET v:n:knowledge:s1 type knowledge rid 5-2 signature s1 action "
			    "restart restart.attempts 3 restart.success_rate 0.67");
	assert_int_equal(
	    vigil_redis_plan(&p, "v:n:", "v:", "100", brk, strlen(brk), scratch, false), 0);
	assert_string_equal(joined(&p.cmd[0], buf, sizeof(buf)),
			    "HSET v:n:breaker:w type breaker rid 5-3 workload w state open");
	assert_int_equal(
	    vigil_redis_plan(&p, "v:n:", "v:", "100", act, strlen(act), scratch, false), 0);
	assert_string_equal(joined(&p.cmd[0], buf, sizeof(buf)),
			    "XADD v:n:audit MAXLEN ~ 100 5-4 type action rid 5-4 outcome intent");
	assert_int_equal(
	    vigil_redis_plan(&p, "v:n:", "v:", "100", hlt, strlen(hlt), scratch, false), 0);
	assert_string_equal(p.stream, "v:n:events");
}

/* A knowledge record that says what was just learned: the node's hash, then the fleet's
 * increment (no node in its key), marked by the record's rid and what it is. */
static void test_plan_fleet(void **state)
{
	static struct vigil_redis_plan p;
	char know[] = "{\"type\":\"knowledge\",\"rid\":\"5-2\",\"workload\":"
		      "\"svc\",\"signature\":\"s1\",\"class\":\"crash\",\"action\":"
		      "\"restart\",\"attempts\":3,\"last_outcome\":\"success\"}";
	char scratch[512], buf[2048], want[2048];

	(void)state;
	assert_int_equal(
	    vigil_redis_plan(&p, "v:n:", "v:", "100", know, strlen(know), scratch, false), 0);
	assert_int_equal(p.ncmd, 2);
	assert_true(p.fleet);
	assert_string_equal(
	    joined(&p.cmd[0], buf, sizeof(buf)),
	    "HSET v:n:knowledge:s1 type knowledge rid 5-2 workload svc signature s1 "
	    "class crash action restart restart.attempts 3 restart.last_outcome "
	    "success");
	snprintf(want, sizeof(want),
		 "EVAL %s 3 v:n:applied:5-2 v:knowledge:s1 v:knowledge:index s1 restart 3 s1 crash "
		 "svc restart 1",
		 vigil_redis_fleet_script);
	assert_string_equal(joined(&p.cmd[1], buf, sizeof(buf)), want);
	/* A failure adds an attempt, no success. */
	memcpy(strstr(know, "success"), "failed\"}", 9);
	assert_int_equal(
	    vigil_redis_plan(&p, "v:n:", "v:", "100", know, strlen(know), scratch, false), 0);
	assert_int_equal(p.ncmd, 2);
	assert_string_equal(joined(&p.cmd[1], buf, sizeof(buf)) + strlen(buf) - 2, " 0");
}

/* The healer's state: its object, as JSON, is the value of one key, set whole. */
static void test_plan_state(void **state)
{
	static struct vigil_redis_plan p;
	static const char st[] = "{\"type\":\"state\",\"rid\":\"5-6\",\"workload\":\"-\","
				 "\"state\":{\"version\":1,\"pending\":[{\"rule\":\"r\"}]}}";
	static const char flat[] = "{\"type\":\"state\",\"rid\":\"5-7\",\"state\":\"x\"}";
	char scratch[512], buf[512];

	(void)state;
	assert_int_equal(vigil_redis_plan(&p, "v:n:", "v:", "100", st, strlen(st), scratch, false),
			 0);
	assert_int_equal(p.ncmd, 1);
	assert_false(p.xadd);
	assert_string_equal(joined(&p.cmd[0], buf, sizeof(buf)),
			    "SET v:n:state {\"version\":1,\"pending\":[{\"rule\":\"r\"}]}");
	/* A state that is not an object is not one vigil writes. */
	assert_int_equal(
	    vigil_redis_plan(&p, "v:n:", "v:", "100", flat, strlen(flat), scratch, false), -EINVAL);
}

/* Not a record the sink can write: nothing to send. */
static void test_plan_refused(void **state)
{
	static const char *const bad[] = {
	    "{\"rid\":\"1-0\"}",					    /* no type */
	    "{\"type\":\"event\"}",					    /* no rid */
	    "{\"type\":\"event\",\"rid\":\"\"}",			    /* empty rid */
	    "{\"type\":\"breaker\",\"rid\":\"1-0\"}",			    /* no workload */
	    "{\"type\":\"knowledge\",\"rid\":\"1-0\",\"signature\":\"s\"}", /* no action */
	    "not json",
	};
	static struct vigil_redis_plan p;
	char scratch[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (vigil_redis_plan(&p, "v:n:", "v:", "100", bad[i], strlen(bad[i]), scratch,
				     false) != -EINVAL ||
		    p.ncmd)
			fail_msg("planned: %s", bad[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fields_values),    cmocka_unit_test(test_fields_unescape),
	    cmocka_unit_test(test_fields_refused),   cmocka_unit_test(test_url),
	    cmocka_unit_test(test_url_refused),	     cmocka_unit_test(test_url_safe),
	    cmocka_unit_test(test_url_raw_password), cmocka_unit_test(test_plan),
	    cmocka_unit_test(test_plan_refused),     cmocka_unit_test(test_plan_state),
	    cmocka_unit_test(test_plan_fleet),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
