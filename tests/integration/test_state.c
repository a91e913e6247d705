// SPDX-License-Identifier: Apache-2.0
/*
 * Integration: the healer's durable state and the fleet's knowledge, with the real build/vigil,
 * real faults and a real redis-server (vigil's user allowed only the README's commands).
 *
 *   - a workload whose heals fail opens its breaker; vigil is killed with SIGKILL; a fresh
 *     vigil keeps the breaker open: the next fault is escalated, not healed;
 *   - a level-3 incident awaiting approval survives SIGKILL and a fresh start, and
 *     `vigil approve ID` then runs its action;
 *   - the same with the state file removed: the fresh vigil reads the state from Redis;
 *   - Redis down and no state file at start: said, and vigil starts;
 *   - a second node (another vigil, another node name, the same Redis, an empty knowledge store
 *     of its own), with two rules for a fault, chooses by what the first node learned: its
 *     "chosen" record shows the fleet's numbers.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "harness.h"
#include "output/redis.h"
#include "redis_server.h"

#define WAIT_MS 5000

static struct vt_redis srv; /* the one redis-server of this file */

static int group_setup(void **state)
{
	(void)state;
	return vt_redis_start(&srv, "vigil", VIGIL_REDIS_ACL);
}

static int group_teardown(void **state)
{
	(void)state;
	vt_redis_stop(&srv);
	return 0;
}

/* A config of node with Redis at port and one workload, svc (comm vt-svc), with heal rules. */
static void config(char *buf, size_t len, const char *node, int port, const char *heal)
{
	snprintf(buf, len,
		 VT_REDIS_YAML
		 "workloads:\n"
		 "  - name: svc\n"
		 "    match: { comm: vt-svc }\n"
		 "    verify: 300ms\n"
		 "    breaker: { failures: 1, window: 10m, cooldown: 10m }\n"
		 "    policy: { allow_comm_only: true, allowed_exec: [/bin/true, /bin/false] }\n"
		 "    heal:\n"
		 "%s",
		 node, port, heal);
}

/* Start vt-svc (a process that stays up), wait until vigil saw its exec, crash it. Returns the
 * incident vigil opened for it. */
static json_t *crash_svc(struct vt *v)
{
	static const char *const serve[] = {"serve", NULL};
	char pid[16];
	pid_t p = vt_run(v, "vt-svc", serve);
	json_t *inc;

	snprintf(pid, sizeof(pid), "%d", p);
	assert_non_null(vt_wait(v, WAIT_MS, "event", "class", "exec", "pid", pid, NULL));
	kill(p, SIGSEGV);
	vt_reap(p);
	inc =
	    vt_wait(v, WAIT_MS, "incident", "class", "crash", "workload", "svc", "pid", pid, NULL);
	assert_non_null(inc);
	return inc;
}

/* Wait until Redis key holds text (the sink writes on its own thread). */
static void wait_redis_has(const char *key, const char *text)
{
	redisContext *c = vt_redis_admin(&srv);

	assert_non_null(c);
	for (int waited = 0; waited < WAIT_MS; waited += 20) {
		redisReply *r = redisCommand(c, "GET %s", key);
		bool has = r && r->type == REDIS_REPLY_STRING && strstr(r->str, text);

		if (r)
			freeReplyObject(r);
		if (has) {
			redisFree(c);
			return;
		}
		usleep(20000);
	}
	redisFree(c);
	fail_msg("Redis key %s never held %s", key, text);
}

static int approve(struct vt *v, const char *id)
{
	const char *args[] = {"approve", id, "--ctl", v->ctl, NULL};
	int status = vt_reap(vt_exec_in(NULL, v->vigil_bin, args));

	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The line of vigil's stderr that starts with prefix ("" if none), into buf. */
static const char *stderr_line(struct vt *v, const char *prefix, char *buf, size_t len)
{
	const char *p = strstr(v->errbuf, prefix), *nl;

	buf[0] = '\0';
	if (p) {
		nl = strchr(p, '\n');
		snprintf(buf, len, "%.*s", nl ? (int)(nl - p) : (int)strlen(p), p);
	}
	return buf;
}

/*
 * (a) The breaker: the heal of svc fails (its exec exits at once), one failure opens the
 * breaker; vigil is SIGKILLed; a fresh vigil on the same state file resumes it open, and a new
 * crash of svc is escalated, not healed.
 */
static void test_breaker_survives_kill(void **state)
{
	struct vt v;
	char yaml[2048], path[160], line[512], opened_at[32];
	json_t *inc, *skipped, *brk;

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	config(yaml, sizeof(yaml), "t-breaker", srv.port,
	       "      - on: [crash]\n"
	       "        level: 1\n"
	       "        action: { restart: { exec: [/bin/false] } }\n");
	snprintf(path, sizeof(path), "%s/state.json", v.dir);
	assert_int_equal(vt_start(&v, yaml, NULL), 0);
	inc = crash_svc(&v);
	assert_non_null(vt_wait(&v, WAIT_MS, "action", "incident", vt_str(inc, "id"), "outcome",
				"failed", NULL));
	brk = vt_wait(&v, WAIT_MS, "breaker", "workload", "svc", "state", "open", NULL);
	assert_non_null(brk);
	snprintf(opened_at, sizeof(opened_at), "%s", vt_str(brk, "opened_at"));
	printf("breaker: run 1: heal of %s failed, breaker open at %s\n", vt_str(inc, "id"),
	       opened_at);
	vt_wait_file_has(path, WAIT_MS, "\"breaker\":\"open\"");
	vt_kill9(&v);

	assert_int_equal(vt_start(&v, yaml, NULL), 0);
	printf("breaker: run 2 (after kill -9): %s\n",
	       stderr_line(&v, "vigil: state:", line, sizeof(line)));
	assert_non_null(strstr(line, "resumed from"));
	assert_non_null(strstr(line, "1 breakers open"));
	assert_non_null(vt_wait(&v, WAIT_MS, "breaker", "workload", "svc", "state", "open",
				"opened_at", opened_at, NULL));
	inc = crash_svc(&v);
	assert_non_null(
	    vt_wait(&v, WAIT_MS, "incident", "id", vt_str(inc, "id"), "state", "escalated", NULL));
	skipped = vt_wait(&v, WAIT_MS, "action", "incident", vt_str(inc, "id"), "outcome",
			  "skipped", NULL);
	assert_non_null(skipped);
	printf("breaker: run 2: new crash %s escalated, action skipped: %s\n", vt_str(inc, "id"),
	       vt_str(skipped, "detail"));
	assert_non_null(strstr(vt_str(skipped, "detail"), "circuit breaker open"));
	assert_int_equal(vt_count(&v, "action", "outcome", "intent", NULL), 0);
	assert_int_equal(vt_stop(&v), 0);
	vt_fini(&v);
}

#define LEVEL3                                                                                     \
	"      - on: [crash]\n"                                                                    \
	"        level: 3\n"                                                                       \
	"        action: { restart: { exec: [/bin/true] } }\n"

/*
 * (b, c) A level-3 incident awaiting approval; vigil SIGKILLed; a fresh vigil has it back,
 * awaiting approval and marked restored; `vigil approve ID` runs its action. With from_redis,
 * the state file is removed first: the fresh vigil reads the state Redis holds.
 */
static void approval_survives_kill(const char *node, bool from_redis)
{
	struct vt v;
	char yaml[2048], path[160], key[128], id[32], line[512];
	json_t *inc, *back;
	struct stat st;

	assert_int_equal(vt_init(&v), 0);
	config(yaml, sizeof(yaml), node, srv.port, LEVEL3);
	snprintf(path, sizeof(path), "%s/state.json", v.dir);
	snprintf(key, sizeof(key), "vigil:%s:state", node);
	assert_int_equal(vt_start(&v, yaml, NULL), 0);
	inc = crash_svc(&v);
	snprintf(id, sizeof(id), "%s", vt_str(inc, "id"));
	assert_non_null(
	    vt_wait(&v, WAIT_MS, "incident", "id", id, "state", "awaiting_approval", NULL));
	vt_wait_file_has(path, WAIT_MS, id);
	wait_redis_has(key, id);
	/* The state goes to Redis and its file, never to the journal. */
	assert_int_equal(vt_count(&v, "state", NULL), 0);
	vt_kill9(&v);
	if (from_redis)
		assert_int_equal(unlink(path), 0);

	assert_int_equal(vt_start(&v, yaml, NULL), 0);
	printf("approval (%s): after kill -9%s: %s\n", node,
	       from_redis ? " and the state file removed" : "",
	       stderr_line(&v, "vigil: state:", line, sizeof(line)));
	assert_non_null(strstr(line, from_redis ? "resumed from Redis" : "resumed from /"));
	assert_non_null(strstr(line, "1 awaiting approval"));
	back = vt_wait(&v, WAIT_MS, "incident", "id", id, "state", "awaiting_approval", "restored",
		       "true", NULL);
	assert_non_null(back);
	printf("approval (%s): incident %s back: state %s, restored, count %lld\n", node, id,
	       vt_str(back, "state"), vt_int(back, "count"));
	if (from_redis)
		vt_wait_file_has(path, WAIT_MS, id); /* the file is written again at once */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(vt_count(&v, "action", "incident", id, "outcome", "intent", NULL), 0);
	assert_int_equal(approve(&v, id), 0);
	assert_non_null(
	    vt_wait(&v, WAIT_MS, "action", "incident", id, "outcome", "approved", NULL));
	assert_non_null(vt_wait(&v, WAIT_MS, "action", "incident", id, "outcome", "intent", NULL));
	printf("approval (%s): vigil approve %s -> approved, intent (the restart ran)\n", node, id);
	assert_int_equal(vt_stop(&v), 0);
	vt_fini(&v);
}

static void test_approval_survives_kill(void **state)
{
	(void)state;
	approval_survives_kill("t-approve", false);
}

static void test_approval_from_redis(void **state)
{
	(void)state;
	approval_survives_kill("t-approve-redis", true);
}

/* (e) No state file, and Redis down: said on stderr, and vigil starts. */
static void test_redis_down_at_start(void **state)
{
	struct vt v;
	char yaml[2048], line[512];

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	config(yaml, sizeof(yaml), "t-down", vt_tcp_closed_port(), LEVEL3);
	assert_int_equal(vt_start(&v, yaml, NULL), 0);
	printf("redis down: %s\n", stderr_line(&v, "vigil: warning: state:", line, sizeof(line)));
	assert_non_null(strstr(line, "Redis did not answer"));
	assert_int_equal(vt_stop(&v), 0);
	vt_fini(&v);
}

/* vigil's "fleet" status object (caller json_decref), or fails. */
static json_t *fleet_status(struct vt *v)
{
	json_t *st = vt_ctl(v, "status", NULL), *f;

	assert_non_null(st);
	f = json_object_get(st, "fleet");
	assert_true(json_is_object(f));
	json_incref(f);
	json_decref(st);
	return f;
}

#define TWO_RULES                                                                                  \
	"      - { name: restart-a, on: [crash], level: 1,\n"                                      \
	"          action: { restart: { exec: [/bin/false] } } }\n"                                \
	"      - { name: restart-b, on: [crash], level: 1,\n"                                      \
	"          action: { restart: { exec: [/bin/true] } } }\n"

/*
 * (d) Node A tries restart-a on a crash of svc (first in config order, both untried): it fails,
 * and the fleet's count in Redis says so. Node B — another vigil, another node name, the same
 * Redis, an empty knowledge store of its own (by its own numbers it would try restart-a too) —
 * chooses restart-b for the same fault, by A's numbers.
 */
static void test_second_node_chooses_by_fleet(void **state)
{
	struct vt a, b;
	char yaml[2048], key[128];
	json_t *inc, *chosen, *know, *fl;
	redisContext *c;
	redisReply *r;
	const char *detail;

	(void)state;
	assert_int_equal(vt_init(&a), 0);
	config(yaml, sizeof(yaml), "t-node-a", srv.port, TWO_RULES);
	assert_int_equal(vt_start(&a, yaml, NULL), 0);
	inc = crash_svc(&a);
	chosen = vt_wait(&a, WAIT_MS, "action", "incident", vt_str(inc, "id"), "outcome", "chosen",
			 NULL);
	assert_non_null(chosen);
	printf("fleet: node A chose: %s\n", vt_str(chosen, "detail"));
	assert_string_equal(vt_str(chosen, "action"), "restart-a");
	know = vt_wait(&a, WAIT_MS, "knowledge", "signature", vt_str(inc, "signature"), "action",
		       "restart-a", NULL);
	assert_non_null(know);
	assert_int_equal(vt_int(know, "successes"), 0);
	/* The fleet's count, written by A's sink. */
	snprintf(key, sizeof(key), "vigil:knowledge:%s", vt_str(inc, "signature"));
	c = vt_redis_admin(&srv);
	assert_non_null(c);
	for (int waited = 0;; waited += 20) {
		r = redisCommand(c, "HGET %s restart-a.attempts", key);
		if (r && r->type == REDIS_REPLY_STRING && !strcmp(r->str, "1"))
			break;
		if (r)
			freeReplyObject(r);
		assert_true(waited < WAIT_MS);
		usleep(20000);
	}
	freeReplyObject(r);
	redisFree(c);
	printf("fleet: Redis %s: restart-a.attempts 1, restart-a.successes 0\n", key);
	assert_int_equal(vt_stop(&a), 0);

	assert_int_equal(vt_init(&b), 0);
	config(yaml, sizeof(yaml), "t-node-b", srv.port, TWO_RULES);
	assert_int_equal(vt_start(&b, yaml, NULL), 0);
	/* Its fleet cache is loaded at start, on its own thread. */
	for (int waited = 0;; waited += 20) {
		fl = fleet_status(&b);
		if (json_is_true(json_object_get(fl, "usable")) && vt_int(fl, "entries") >= 1)
			break;
		json_decref(fl);
		assert_true(waited < WAIT_MS);
		usleep(20000);
	}
	printf("fleet: node B's cache: %lld entries, last load %s\n", vt_int(fl, "entries"),
	       vt_str(fl, "last_load"));
	json_decref(fl);
	inc = crash_svc(&b);
	chosen = vt_wait(&b, WAIT_MS, "action", "incident", vt_str(inc, "id"), "outcome", "chosen",
			 NULL);
	assert_non_null(chosen);
	detail = vt_str(chosen, "detail");
	printf("fleet: node B chose: %s\n", detail);
	assert_string_equal(vt_str(chosen, "action"), "restart-b");
	assert_string_equal(detail, "chosen: restart-b, never tried (0.50); other: restart-a 0/1 "
				    "worked before (0.33); numbers: fleet");
	assert_non_null(vt_wait(&b, WAIT_MS, "action", "incident", vt_str(inc, "id"), "outcome",
				"intent", "action", "restart-b", NULL));
	assert_int_equal(vt_stop(&b), 0);
	vt_fini(&a);
	vt_fini(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_breaker_survives_kill),
	    cmocka_unit_test(test_approval_survives_kill),
	    cmocka_unit_test(test_approval_from_redis),
	    cmocka_unit_test(test_redis_down_at_start),
	    cmocka_unit_test(test_second_node_chooses_by_fleet),
	};

	if (geteuid() != 0) {
		fprintf(stderr,
			"test_state: must run as root (loads BPF programs): sudo make test\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
