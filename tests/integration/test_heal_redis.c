// SPDX-License-Identifier: Apache-2.0
/*
 * Integration: the Redis heal actions with the real build/vigil, real faults (a watched
 * process killed with SIGSEGV: a crash incident, healed at level 1) and a real redis-server,
 * the actions connecting as an ACL user allowed only what they need (HEAL_ACL) on app:*:
 *
 *   - cache_clear: 1200 keys unlinked, none left, the other keys kept; more keys than
 *     max_keys: max_keys unlinked, the heal failed saying how many remain;
 *   - set_flag: the old value and the new in the record, the key set with its ttl; with
 *     revert_after, the run stays open and the key is deleted again (there was none before);
 *     Redis down: failed, connection refused;
 *   - publish: the entry carries the incident's id; with ack_timeout, nobody reading: failed
 *     after the timeout; a consumer (a thread of the test) reading with XREADGROUP and XACKing:
 *     success; a group that does not exist: failed before anything is published.
 *
 * Each action's time (from its intent record to its end, and the step's own as its detail
 * says) is printed for the closing note's table.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "harness.h"
#include "redis_server.h"

#define WAIT_MS 8000
#define HEAL_USER "vt-heal"
#define HEAL_PW "vt-heal-pw"
/* What the three kinds need, on the application's keys only. */
#define HEAL_ACL "~app:* +scan +unlink +get +set +del +pttl +xadd +xinfo|groups +xpending"

static struct vt_redis srv; /* the one redis-server of this file */

/* One command as Redis's default user; its reply (freeReplyObject it). */
static redisReply *admin(const char *fmt, ...)
{
	redisContext *c = vt_redis_admin(&srv);
	redisReply *r;
	va_list ap;

	assert_non_null(c);
	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	assert_non_null(r);
	if (r->type == REDIS_REPLY_ERROR)
		fail_msg("redis: %s", r->str);
	redisFree(c);
	return r;
}

static void admin_do(const char *fmt, ...)
{
	redisContext *c = vt_redis_admin(&srv);
	redisReply *r;
	va_list ap;

	assert_non_null(c);
	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	assert_non_null(r);
	if (r->type == REDIS_REPLY_ERROR)
		fail_msg("redis: %s", r->str);
	freeReplyObject(r);
	redisFree(c);
}

/* n keys prefix0..prefix(n-1), pipelined. */
static void fill(const char *prefix, int n)
{
	redisContext *c = vt_redis_admin(&srv);
	redisReply *r;

	assert_non_null(c);
	for (int i = 0; i < n; i++)
		redisAppendCommand(c, "SET %s%d v%d", prefix, i, i);
	for (int i = 0; i < n; i++) {
		assert_int_equal(redisGetReply(c, (void **)&r), REDIS_OK);
		freeReplyObject(r);
	}
	redisFree(c);
}

/* How many keys match pattern (SCAN, as the admin). */
static long long count_keys(const char *pattern)
{
	redisContext *c = vt_redis_admin(&srv);
	char cursor[32] = "0";
	long long n = 0;
	redisReply *r;

	assert_non_null(c);
	do {
		r = redisCommand(c, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);
		assert_non_null(r);
		assert_int_equal(r->type, REDIS_REPLY_ARRAY);
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		n += (long long)r->element[1]->elements;
		freeReplyObject(r);
	} while (strcmp(cursor, "0"));
	redisFree(c);
	return n;
}

static int group_setup(void **state)
{
	char rule[256];
	redisContext *c;
	redisReply *r;

	(void)state;
	if (vt_redis_start(&srv, "vigil", "+ping"))
		return -1;
	c = vt_redis_admin(&srv);
	if (!c)
		return -1;
	snprintf(rule, sizeof(rule), "ACL SETUSER %s on >%s %s", HEAL_USER, HEAL_PW, HEAL_ACL);
	r = redisCommand(c, rule);
	if (!r || r->type == REDIS_REPLY_ERROR) {
		fprintf(stderr, "%s: %s\n", rule, r ? r->str : c->errstr);
		if (r)
			freeReplyObject(r);
		redisFree(c);
		return -1;
	}
	freeReplyObject(r);
	redisFree(c);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	vt_redis_stop(&srv);
	return 0;
}

/* Each test has its own vigil, stopped here even when the test failed. */
static int setup(void **state)
{
	struct vt *v = calloc(1, sizeof(*v));

	if (!v || vt_init(v))
		return -1;
	*state = v;
	admin_do("FLUSHALL"); /* the test's own, as the admin: vigil never sends it */
	return 0;
}

static int teardown(void **state)
{
	struct vt *v = *state;

	if (v->vigil > 0)
		vt_stop(v);
	vt_fini(v);
	free(v);
	return 0;
}

/* A config of one workload, comm `name`, healing a crash at level 1 with `action` (a printf
 * format: %1$d is the port of the test's Redis, %2$d a port nothing listens on). */
static void start(struct vt *v, const char *name, const char *action)
{
	char yaml[4096], act[1024];
	int n;

	snprintf(act, sizeof(act), action, srv.port, vt_tcp_closed_port());
	n = snprintf(yaml, sizeof(yaml),
		     "node: t-heal-redis\n"
		     "window: 2s\n"
		     "workloads:\n"
		     "  - name: %s\n"
		     "    match: { comm: %s }\n"
		     "    heal:\n"
		     "      - on: [crash]\n"
		     "        level: 1\n"
		     "        action: %s\n"
		     "    policy: { allow_comm_only: true, redis_keys: ['app:*'] }\n",
		     name, name, act);
	assert_true(n > 0 && (size_t)n < sizeof(yaml));
	assert_int_equal(vt_start(v, yaml, NULL), 0);
}

#define URL "'redis://" HEAL_USER ":" HEAL_PW "@127.0.0.1:%1$d/0'"

/* Start a process under name, wait until vigil saw its exec, crash it. Returns the
 * incident's intent record (its id in vt_str(rec, "incident")). */
static json_t *crash(struct vt *v, const char *name)
{
	static const char *const serve[] = {"serve", NULL};
	char pid[16];
	pid_t p = vt_run(v, name, serve);
	json_t *rec;

	snprintf(pid, sizeof(pid), "%d", p);
	assert_non_null(vt_wait(v, WAIT_MS, "event", "class", "exec", "pid", pid, NULL));
	kill(p, SIGSEGV);
	vt_reap(p);
	rec = vt_wait(v, WAIT_MS, "action", "workload", name, "outcome", "intent", NULL);
	assert_non_null(rec);
	/* The password is never written. */
	assert_null(strstr(vt_str(rec, "detail"), HEAL_PW));
	return rec;
}

/* The run's end (success or failed) for the incident of intent, with the time from the intent
 * printed as "what: ... (intent -> end N ms)". */
static json_t *end(struct vt *v, json_t *intent, const char *outcome, const char *what)
{
	const char *id = vt_str(intent, "incident");
	json_t *rec = vt_wait(v, WAIT_MS, "action", "incident", id, "outcome", outcome, NULL);

	if (!rec) {
		const char *other = strcmp(outcome, "success") ? "success" : "failed";
		json_t *o = vt_wait(v, 10, "action", "incident", id, "outcome", other, NULL);

		fail_msg("%s: no %s record; %s: %s", what, outcome, other,
			 o ? vt_str(o, "detail") : "none either");
	}
	print_message(
	    "%s: %s: %s (intent -> %s: %llu ms)\n", what, outcome, vt_str(rec, "detail"), outcome,
	    (unsigned long long)(vt_ts_ms(vt_str(rec, "ts")) - vt_ts_ms(vt_str(intent, "ts"))));
	return rec;
}

/* --- cache_clear ------------------------------------------------------------------------- */

static void test_cache_clear(void **state)
{
	struct vt *v = *state;
	json_t *intent, *rec;

	fill("app:cache:", 1200);
	fill("app:keep:", 5);
	start(v, "vt-cc", "{ cache_clear: { redis: " URL ", match: 'app:cache:*' } }");
	intent = crash(v, "vt-cc");
	assert_non_null(strstr(vt_str(intent, "detail"),
			       "SCAN MATCH 'app:cache:*' + UNLINK, at most 10000 keys, on "
			       "redis://" HEAL_USER ":***@127.0.0.1:"));
	rec = end(v, intent, "success", "cache_clear");
	assert_non_null(
	    strstr(vt_str(rec, "detail"), "1200 keys matching 'app:cache:*' unlinked in "));
	assert_non_null(strstr(vt_str(rec, "detail"), "; none remain"));
	rec = vt_wait(v, 10, "action", "incident", vt_str(intent, "incident"), "outcome", "cleared",
		      NULL);
	assert_non_null(rec);
	assert_non_null(strstr(vt_str(rec, "detail"), "1200 keys"));
	assert_int_equal(count_keys("app:cache:*"), 0);
	assert_int_equal(count_keys("app:keep:*"), 5);
	assert_non_null(vt_wait(v, WAIT_MS, "incident", "id", vt_str(intent, "incident"), "state",
				"resolved", NULL));
	assert_int_equal(vt_stop(v), 0);
}

static void test_cache_clear_over_max_keys(void **state)
{
	struct vt *v = *state;
	json_t *intent, *rec;

	fill("app:big:", 300);
	start(v, "vt-ccbig",
	      "{ cache_clear: { redis: " URL ", match: 'app:big:*', max_keys: 100 } }");
	intent = crash(v, "vt-ccbig");
	rec = end(v, intent, "failed", "cache_clear over max_keys");
	assert_non_null(strstr(vt_str(rec, "detail"),
			       "more keys matched 'app:big:*' than max_keys: 100 unlinked in "));
	assert_non_null(strstr(vt_str(rec, "detail"), ", 200 remain"));
	assert_int_equal(count_keys("app:big:*"), 200);
	assert_non_null(vt_wait(v, WAIT_MS, "incident", "id", vt_str(intent, "incident"), "state",
				"failed", NULL));
	assert_int_equal(vt_stop(v), 0);
}

/* --- set_flag ---------------------------------------------------------------------------- */

static void test_set_flag(void **state)
{
	struct vt *v = *state;
	json_t *intent, *rec;
	redisReply *r;

	admin_do("SET app:flag:model primary");
	start(v, "vt-flag",
	      "{ set_flag: { redis: " URL ", key: 'app:flag:model', value: backup, ttl: 1m } }");
	intent = crash(v, "vt-flag");
	assert_non_null(
	    strstr(vt_str(intent, "detail"), "SET app:flag:model 'backup' PX 60000 on "));
	rec = end(v, intent, "success", "set_flag");
	assert_non_null(strstr(vt_str(rec, "detail"),
			       "app:flag:model set to 'backup' (was 'primary'), expiring in 60000 "
			       "ms in "));
	assert_non_null(strstr(vt_str(rec, "detail"), "; read back"));
	r = admin("GET app:flag:model");
	assert_string_equal(r->str, "backup");
	freeReplyObject(r);
	r = admin("PTTL app:flag:model");
	assert_true(r->integer > 50000 && r->integer <= 60000);
	freeReplyObject(r);
	assert_int_equal(vt_stop(v), 0);
}

static void test_set_flag_revert(void **state)
{
	struct vt *v = *state;
	json_t *intent, *rec;
	redisReply *r;

	start(v, "vt-flagrev",
	      "{ set_flag: { redis: " URL ", key: 'app:flag:backup', value: 'on',"
	      " revert_after: 700ms } }");
	intent = crash(v, "vt-flagrev");
	rec = vt_wait(v, WAIT_MS, "action", "incident", vt_str(intent, "incident"), "outcome",
		      "set", NULL);
	assert_non_null(rec);
	assert_non_null(strstr(vt_str(rec, "detail"), "(was (none))"));
	assert_non_null(strstr(vt_str(rec, "detail"), "put back in 700 ms"));
	r = admin("GET app:flag:backup");
	assert_string_equal(r->str, "on");
	freeReplyObject(r);
	assert_non_null(vt_wait(v, WAIT_MS, "incident", "id", vt_str(intent, "incident"), "state",
				"verifying", NULL));
	rec = end(v, intent, "success", "set_flag with revert_after");
	assert_non_null(
	    strstr(vt_str(rec, "detail"), "; read back; after 700 ms deleted (it had no value)"));
	assert_true(vt_ts_ms(vt_str(rec, "ts")) - vt_ts_ms(vt_str(intent, "ts")) >= 700);
	r = admin("EXISTS app:flag:backup");
	assert_int_equal(r->integer, 0);
	freeReplyObject(r);
	assert_int_equal(vt_stop(v), 0);
}

static void test_set_flag_redis_down(void **state)
{
	struct vt *v = *state;
	json_t *intent, *rec;

	start(v, "vt-flagdown",
	      "{ set_flag: { redis: 'redis://127.0.0.1:%2$d', key: 'app:flag:x', value: 'on' } }");
	intent = crash(v, "vt-flagdown");
	rec = end(v, intent, "failed", "set_flag, Redis down");
	assert_non_null(strstr(vt_str(rec, "detail"),
			       "app:flag:x not set: connect 127.0.0.1: Connection refused"));
	assert_int_equal(vt_stop(v), 0);
}

/* --- publish ----------------------------------------------------------------------------- */

static void test_publish(void **state)
{
	struct vt *v = *state;
	json_t *intent, *rec;
	redisReply *r, *f;
	const char *id;
	char want[64];

	start(v, "vt-pub",
	      "{ publish: { redis: " URL ", stream: 'app:cmd',"
	      " fields: [op=restore_conversation_state, scope=all] } }");
	intent = crash(v, "vt-pub");
	id = vt_str(intent, "incident");
	rec = end(v, intent, "success", "publish");
	r = admin("XRANGE app:cmd - +");
	assert_int_equal(r->elements, 1);
	snprintf(want, sizeof(want), "published to app:cmd as entry %s in ",
		 r->element[0]->element[0]->str);
	assert_non_null(strstr(vt_str(rec, "detail"), want));
	f = r->element[0]->element[1];
	assert_int_equal(f->elements, 12);
	assert_string_equal(f->element[0]->str, "op");
	assert_string_equal(f->element[1]->str, "restore_conversation_state");
	assert_string_equal(f->element[2]->str, "scope");
	assert_string_equal(f->element[4]->str, "incident");
	assert_string_equal(f->element[5]->str, id);
	assert_string_equal(f->element[6]->str, "signature");
	assert_string_equal(f->element[7]->str, vt_str(intent, "signature"));
	assert_string_equal(f->element[8]->str, "workload");
	assert_string_equal(f->element[9]->str, "vt-pub");
	assert_string_equal(f->element[10]->str, "action");
	assert_string_equal(f->element[11]->str, "publish");
	freeReplyObject(r);
	assert_int_equal(vt_stop(v), 0);
}

static void test_publish_not_acked(void **state)
{
	struct vt *v = *state;
	json_t *intent, *rec;

	admin_do("XGROUP CREATE app:cmd app $ MKSTREAM");
	start(v, "vt-pubto",
	      "{ publish: { redis: " URL ", stream: 'app:cmd', fields: [op=restore],"
	      " ack_timeout: 1s, group: app } }");
	intent = crash(v, "vt-pubto");
	assert_non_null(vt_wait(v, WAIT_MS, "action", "incident", vt_str(intent, "incident"),
				"outcome", "published", NULL));
	rec = end(v, intent, "failed", "publish, nobody acknowledges");
	assert_non_null(strstr(vt_str(rec, "detail"),
			       "not acknowledged within 1000 ms: never read by group app"));
	assert_true(vt_ts_ms(vt_str(rec, "ts")) - vt_ts_ms(vt_str(intent, "ts")) >= 1000);
	assert_int_equal(vt_stop(v), 0);
}

/* The application: reads one entry of app:cmd in group app as consumer c1, checks it is for
 * the incident it expects (arg: its id, once known), and acknowledges it. */
struct consumer {
	char incident[32];
	volatile int done; /* 1: acknowledged; -1: failed */
};

static void *consume(void *arg)
{
	struct consumer *cs = arg;
	redisContext *c = vt_redis_admin(&srv);
	redisReply *r = NULL, *e, *ack;
	struct timeval tv = {10, 0};

	cs->done = -1;
	if (!c)
		return NULL;
	redisSetTimeout(c, tv);
	r = redisCommand(c, "XREADGROUP GROUP app c1 COUNT 1 BLOCK 8000 STREAMS app:cmd >");
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 1)
		goto out;
	e = r->element[0]->element[1]->element[0]; /* [id, [fields]] */
	for (size_t i = 0; i + 1 < e->element[1]->elements; i += 2)
		if (!strcmp(e->element[1]->element[i]->str, "incident"))
			snprintf(cs->incident, sizeof(cs->incident), "%s",
				 e->element[1]->element[i + 1]->str);
	usleep(300000); /* the application's work: vigil sees it pending meanwhile */
	ack = redisCommand(c, "XACK app:cmd app %s", e->element[0]->str);
	cs->done = ack && ack->type == REDIS_REPLY_INTEGER && ack->integer == 1 ? 1 : -1;
	if (ack)
		freeReplyObject(ack);
out:
	if (r)
		freeReplyObject(r);
	redisFree(c);
	return NULL;
}

static void test_publish_acked(void **state)
{
	struct vt *v = *state;
	struct consumer cs = {0};
	json_t *intent, *rec;
	pthread_t th;

	admin_do("XGROUP CREATE app:cmd app $ MKSTREAM");
	assert_int_equal(pthread_create(&th, NULL, consume, &cs), 0);
	start(v, "vt-puback",
	      "{ publish: { redis: " URL ", stream: 'app:cmd', fields: [op=restore],"
	      " ack_timeout: 3s, group: app } }");
	intent = crash(v, "vt-puback");
	rec = end(v, intent, "success", "publish, acknowledged");
	pthread_join(th, NULL);
	assert_int_equal(cs.done, 1);
	assert_string_equal(cs.incident, vt_str(intent, "incident"));
	assert_non_null(strstr(vt_str(rec, "detail"), "acknowledged in group app "));
	assert_int_equal(vt_stop(v), 0);
}

static void test_publish_no_group(void **state)
{
	struct vt *v = *state;
	json_t *intent, *rec;
	redisReply *r;

	admin_do("XADD app:cmd * seed 1");
	start(v, "vt-pubnog",
	      "{ publish: { redis: " URL ", stream: 'app:cmd', fields: [op=restore],"
	      " ack_timeout: 1s, group: nogroup } }");
	intent = crash(v, "vt-pubnog");
	rec = end(v, intent, "failed", "publish, no such group");
	assert_non_null(strstr(vt_str(rec, "detail"),
			       "not published: stream app:cmd has no consumer group nogroup: the "
			       "application creates it (XGROUP CREATE app:cmd nogroup $)"));
	r = admin("XLEN app:cmd");
	assert_int_equal(r->integer, 1); /* nothing published */
	freeReplyObject(r);
	assert_int_equal(vt_stop(v), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_cache_clear, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cache_clear_over_max_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_flag, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_flag_revert, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_flag_redis_down, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_publish, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_publish_not_acked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_publish_acked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_publish_no_group, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
