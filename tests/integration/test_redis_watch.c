// SPDX-License-Identifier: Apache-2.0
/*
 * Integration: what people and applications tell vigil through Redis, with the real
 * build/vigil, real faults and a real redis-server (vigil's user allowed only the README's
 * commands):
 *
 *   - an approver tool adds {incident, by, reason} to the stream vigil:NODE:approvals: the
 *     level-3 heal runs, its `approved` record says who, through which entry, and why; an
 *     entry without `by` is counted as malformed and approves nothing;
 *   - a `decision: deny` entry: `denied`, with who and why; the action never runs;
 *   - an approval written while vigil is down (killed with SIGKILL) is read when it starts
 *     again: the restored incident's heal runs;
 *   - quiet.busy_key: while the application's key is set, a restart that would stop the
 *     process waits (deferred, naming the key), though it holds no inbound connection; when
 *     the key goes, the process is stopped and replaced;
 *   - the same with Redis down: whether the application is busy is unknown, which counts as
 *     busy: at the end of max_defer the heal is escalated and the process keeps running.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "harness.h"
#include "output/redis.h"
#include "redis_server.h"

#define WAIT_MS 5000
#define BUSY_KEY "vigil:busy:bsy"

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

/* Each test has its own vigil, stopped here even when the test failed (a vigil left running
 * would go on healing the next test's processes). */
static int setup(void **state)
{
	struct vt *v = calloc(1, sizeof(*v));

	if (!v || vt_init(v))
		return -1;
	*state = v;
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

/* A config of node with Redis at port: svc (comm vt-svc) heals a crash at level 3; bsy (comm
 * vt-bsy) restarts a slow read at level 1, its quiet window asking BUSY_KEY for max_defer. */
static void config(char *buf, size_t len, const char *node, int port, const char *max_defer)
{
	snprintf(buf, len,
		 VT_REDIS_YAML
		 "workloads:\n"
		 "  - name: svc\n"
		 "    match: { comm: vt-svc }\n"
		 "    verify: 300ms\n"
		 "    heal:\n"
		 "      - on: [crash]\n"
		 "        level: 3\n"
		 "        action: { restart: { exec: [\"@LINK:vt-svc@\", serve] } }\n"
		 "    policy: { allow_comm_only: true, allowed_exec: [\"@LINK:vt-svc@\"] }\n"
		 "  - name: bsy\n"
		 "    match: { comm: vt-bsy }\n"
		 "    latency: { syscalls: [read], budget_ms: 100 }\n"
		 "    quiet: { max_defer: %s, busy_key: \"" BUSY_KEY "\" }\n"
		 "    verify: 300ms\n"
		 "    heal:\n"
		 "      - on: [syscall_slow]\n"
		 "        level: 1\n"
		 "        action: { restart: { exec: [\"@LINK:vt-bsy@\", serve] } }\n"
		 "    policy: { allow_comm_only: true, allowed_exec: [\"@LINK:vt-bsy@\"] }\n",
		 node, port, max_defer);
}

/* One command as Redis's default user; its reply's string (an XADD's entry id) into out. */
static void admin(char *out, size_t len, const char *fmt, ...)
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
	if (out)
		snprintf(out, len, "%s", r->type == REDIS_REPLY_STRING ? r->str : "");
	freeReplyObject(r);
	redisFree(c);
}

/* Start vt-svc (a process that stays up), wait until vigil saw its exec, crash it. Returns the
 * incident's id, awaiting approval, in id. */
static void crash_svc(struct vt *v, char *id, size_t len)
{
	static const char *const serve[] = {"serve", NULL};
	char pid[16];
	pid_t p = vt_run(v, "vt-svc", serve);
	json_t *inc;

	snprintf(pid, sizeof(pid), "%d", p);
	assert_non_null(vt_wait(v, WAIT_MS, "event", "class", "exec", "pid", pid, NULL));
	kill(p, SIGSEGV);
	vt_reap(p);
	inc = vt_wait(v, WAIT_MS, "incident", "class", "crash", "workload", "svc", "pid", pid,
		      "state", "awaiting_approval", NULL);
	assert_non_null(inc);
	snprintf(id, len, "%s", vt_str(inc, "id"));
}

/* vigil's "redis_watch" status object (caller json_decref). */
static json_t *watch_status(struct vt *v)
{
	json_t *st = vt_ctl(v, "status", NULL), *w;

	assert_non_null(st);
	w = json_object_get(st, "redis_watch");
	assert_true(json_is_object(w));
	json_incref(w);
	json_decref(st);
	return w;
}

/* Is vigil's last answer for the busy key (its status) answer? */
static bool busy_answer_is(struct vt *v, const char *answer)
{
	json_t *w = watch_status(v);
	const char *a = vt_str(json_array_get(json_object_get(w, "busy_keys"), 0), "answer");
	bool is = a && !strcmp(a, answer);

	json_decref(w);
	return is;
}

static void test_approve_via_stream(void **state)
{
	struct vt *v = *state;
	char yaml[4096], id[32], entry[64], want[256];
	json_t *rec, *w;

	config(yaml, sizeof(yaml), "t-xapprove", srv.port, "10s");
	assert_int_equal(vt_start(v, yaml, NULL), 0);
	crash_svc(v, id, sizeof(id));
	/* Anonymous: not taken. */
	admin(NULL, 0, "XADD vigil:t-xapprove:approvals * incident %s", id);
	admin(entry, sizeof(entry), "XADD vigil:t-xapprove:approvals * incident %s by %s reason %s",
	      id, "alice (change-bot)", "CHG-42 approved in the review");
	rec = vt_wait(v, WAIT_MS, "action", "incident", id, "outcome", "approved", NULL);
	assert_non_null(rec);
	snprintf(want, sizeof(want),
		 "approved by alice (change-bot) via Redis (vigil:t-xapprove:approvals %s): CHG-42 "
		 "approved in the review",
		 entry);
	printf("stream approval: %s\n", vt_str(rec, "detail"));
	assert_string_equal(vt_str(rec, "detail"), want);
	assert_non_null(vt_wait(v, WAIT_MS, "action", "incident", id, "outcome", "intent", NULL));
	rec = vt_wait(v, WAIT_MS, "action", "incident", id, "outcome", "success", NULL);
	assert_non_null(rec);
	kill((pid_t)vt_int(rec, "pid"), SIGKILL);
	assert_int_equal(vt_count(v, "action", "incident", id, "outcome", "approved", NULL), 1);
	w = watch_status(v);
	printf("stream approval: status: read %lld, malformed %lld, last error: %s\n",
	       vt_int(w, "approvals_read"), vt_int(w, "approvals_malformed"),
	       vt_str(w, "last_error"));
	assert_string_equal(vt_str(w, "state"), "up");
	assert_int_equal(vt_int(w, "approvals_read"), 2);
	assert_int_equal(vt_int(w, "approvals_malformed"), 1);
	assert_non_null(strstr(vt_str(w, "last_error"), "no 'by': who decided"));
	json_decref(w);
	assert_int_equal(vt_stop(v), 0);
}

static void test_deny_via_stream(void **state)
{
	struct vt *v = *state;
	char yaml[4096], id[32], entry[64], want[256];
	json_t *rec;

	config(yaml, sizeof(yaml), "t-xdeny", srv.port, "10s");
	assert_int_equal(vt_start(v, yaml, NULL), 0);
	crash_svc(v, id, sizeof(id));
	admin(entry, sizeof(entry),
	      "XADD vigil:t-xdeny:approvals * incident %s by bob decision deny reason %s", id,
	      "not during the show");
	rec = vt_wait(v, WAIT_MS, "action", "incident", id, "outcome", "denied", NULL);
	assert_non_null(rec);
	snprintf(want, sizeof(want),
		 "denied by bob via Redis (vigil:t-xdeny:approvals %s): not during the show",
		 entry);
	assert_string_equal(vt_str(rec, "detail"), want);
	assert_non_null(vt_wait(v, WAIT_MS, "incident", "id", id, "state", "open", NULL));
	usleep(300000);
	assert_int_equal(vt_count(v, "action", "incident", id, "outcome", "intent", NULL), 0);
	assert_int_equal(vt_stop(v), 0);
}

/* An approval written while vigil is down is read at start: the stream is read from the
 * longest approval_timeout ago, so nothing said in between is lost. */
static void test_approval_while_down(void **state)
{
	struct vt *v = *state;
	char yaml[4096], id[32], entry[64], path[160];
	json_t *rec;

	config(yaml, sizeof(yaml), "t-xdown", srv.port, "10s");
	assert_int_equal(vt_start(v, yaml, NULL), 0);
	crash_svc(v, id, sizeof(id));
	/* Killed once the state file holds the incident (written after its record). */
	snprintf(path, sizeof(path), "%s/state.json", v->dir);
	vt_wait_file_has(path, WAIT_MS, id);
	vt_kill9(v);
	admin(entry, sizeof(entry), "XADD vigil:t-xdown:approvals * incident %s by carol", id);
	assert_int_equal(vt_start(v, yaml, NULL), 0);
	rec = vt_wait(v, WAIT_MS, "action", "incident", id, "outcome", "approved", NULL);
	assert_non_null(rec);
	printf("approval while down: %s\n", vt_str(rec, "detail"));
	assert_non_null(strstr(vt_str(rec, "detail"), entry));
	assert_non_null(vt_wait(v, WAIT_MS, "action", "incident", id, "outcome", "intent", NULL));
	assert_int_equal(vt_stop(v), 0);
}

/* vt-bsy holds a connection it opened (an outbound pool: no conversation) and makes one slow
 * read; returns its pid, the pool's accepted end in *pool. */
static pid_t slow_bsy(struct vt *v, int listener, int portnr, int *pool)
{
	char port[16];
	pid_t p;

	snprintf(port, sizeof(port), "%d", portnr);
	{
		const char *args[] = {"connect-slow", port, "300", NULL};

		p = vt_run(v, "vt-bsy", args);
	}
	*pool = accept(listener, NULL, NULL);
	assert_true(*pool >= 0);
	return p;
}

static void test_busy_key_defers(void **state)
{
	struct vt *v = *state;
	char yaml[4096], id[32];
	int l, pool, portnr;
	json_t *inc, *deferred, *stop, *ok, *w;
	uint64_t del_ms;
	pid_t p;

	config(yaml, sizeof(yaml), "t-busy", srv.port, "10s");
	assert_int_equal(vt_start(v, yaml, NULL), 0);
	admin(NULL, 0, "SET %s 1", BUSY_KEY);
	/* vigil reads the key every VIGIL_BUSY_POLL_MS: the fault comes once it has seen it set
	 * (before that, its last answer — not set — is what a heal would go by). */
	for (int i = 0; i < 100 && !busy_answer_is(v, "set"); i++)
		usleep(50000);
	l = vt_tcp_listener(&portnr);
	assert_true(l >= 0);
	p = slow_bsy(v, l, portnr, &pool);
	inc = vt_wait(v, WAIT_MS, "incident", "class", "syscall_slow", "workload", "bsy", NULL);
	assert_non_null(inc);
	snprintf(id, sizeof(id), "%s", vt_str(inc, "id"));
	deferred = vt_wait(v, WAIT_MS, "action", "incident", id, "outcome", "deferred", NULL);
	if (!deferred)
		vt_dump(v, "incident", id);
	assert_non_null(deferred);
	printf("busy key: %s\n", vt_str(deferred, "detail"));
	assert_non_null(strstr(vt_str(deferred, "detail"),
			       "0 inbound connections open, and the application says it is busy "
			       "(" BUSY_KEY ")"));
	w = watch_status(v);
	assert_string_equal(vt_str(json_array_get(json_object_get(w, "busy_keys"), 0), "answer"),
			    "set");
	json_decref(w);
	/* While the key is set, nothing is stopped. */
	usleep(600000);
	assert_int_equal(kill(p, 0), 0);
	assert_int_equal(vt_count(v, "action", "incident", id, "outcome", "stop", NULL), 0);
	del_ms = vt_wall_ms();
	admin(NULL, 0, "DEL %s", BUSY_KEY);
	stop = vt_wait(v, WAIT_MS, "action", "incident", id, "outcome", "stop", NULL);
	assert_non_null(stop);
	assert_true(vt_ts_ms(vt_str(stop, "ts")) >= del_ms);
	printf("busy key: deleted; stopped %llu ms later\n",
	       (unsigned long long)(vt_ts_ms(vt_str(stop, "ts")) - del_ms));
	assert_true(WIFSIGNALED(vt_reap(p)));
	ok = vt_wait(v, WAIT_MS, "action", "incident", id, "outcome", "success", NULL);
	assert_non_null(ok);
	kill((pid_t)vt_int(ok, "pid"), SIGKILL);
	close(pool);
	close(l);
	assert_int_equal(vt_stop(v), 0);
}

static void test_busy_unknown_escalates(void **state)
{
	struct vt *v = *state;
	char yaml[4096], id[32];
	int l, pool, portnr;
	json_t *inc, *esc;
	pid_t p;

	config(yaml, sizeof(yaml), "t-busy-down", vt_tcp_closed_port(), "1s");
	assert_int_equal(vt_start(v, yaml, NULL), 0);
	l = vt_tcp_listener(&portnr);
	assert_true(l >= 0);
	p = slow_bsy(v, l, portnr, &pool);
	inc = vt_wait(v, WAIT_MS, "incident", "class", "syscall_slow", "workload", "bsy", NULL);
	assert_non_null(inc);
	snprintf(id, sizeof(id), "%s", vt_str(inc, "id"));
	esc = vt_wait(v, WAIT_MS, "action", "incident", id, "outcome", "escalated", NULL);
	assert_non_null(esc);
	printf("busy key, Redis down: %s\n", vt_str(esc, "detail"));
	assert_non_null(strstr(vt_str(esc, "detail"),
			       "whether the application is busy is unknown (" BUSY_KEY
			       ": Redis does not answer)"));
	assert_int_equal(kill(p, 0), 0); /* still serving, never signalled */
	assert_int_equal(vt_count(v, "action", "incident", id, "outcome", "stop", NULL), 0);
	kill(p, SIGKILL);
	vt_reap(p);
	close(pool);
	close(l);
	assert_int_equal(vt_stop(v), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_approve_via_stream, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deny_via_stream, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_approval_while_down, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_busy_key_defers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_busy_unknown_escalates, setup, teardown),
	};

	if (geteuid() != 0) {
		fprintf(
		    stderr,
		    "test_redis_watch: must run as root (loads BPF programs): sudo make test\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
