// SPDX-License-Identifier: Apache-2.0
/*
 * Integration: the http and rollback heal actions, run by the real build/vigil on incidents of
 * real faults (a watched faulty process killed with SIGSEGV: a crash).
 *
 *   http      against a real HTTP server of the test's own (a thread on a loopback socket) that
 *             records each request — method, path, headers, body — and answers by path: 200,
 *             503, or too late for the rule's timeout; and against a port nothing listens on.
 *             Checked: what the server received (the bearer token, the incident's id and
 *             signature, the body and its type) and the audit records (intent, success or
 *             failed, and what the detail says)
 *   rollback  a level-3 rule: nothing runs before `approve`; then the command (a #!/bin/sh
 *             script in the test's root-owned scratch dir, listed in allowed_exec) runs: its
 *             marker file, and the audit's success; a failing one: its exit status and the
 *             end of its output in the audit
 *
 * Each prints the action's time, intent -> its end as the records stamp them.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define WAIT_MS 8000
#define TOKEN "vt-token-4f1e9c"
#define BODY "{\"drain\": true, \"why\": \"crash\"}"
#define SLOW_MS 1500 /* /slow answers this late; its rule's timeout is 400ms */
#define MAX_REQS 16

/* --- the HTTP server ------------------------------------------------------------------------ */

struct request {
	char method[16], path[64];
	char head[2048]; /* the header lines, as received */
	char body[512];
};

struct server {
	int fd, port;
	pthread_t thread;
	volatile int stop;
	pthread_mutex_t lock;
	struct request reqs[MAX_REQS];
	int n;
};

static struct server srv;

/* The value of header name in r (case-insensitive name), into buf; "" when absent. */
static const char *header(const struct request *r, const char *name, char *buf, size_t len)
{
	size_t n = strlen(name);
	const char *p = r->head;

	buf[0] = '\0';
	while ((p = strstr(p, "\r\n"))) {
		p += 2;
		if (!strncasecmp(p, name, n) && p[n] == ':') {
			p += n + 1;
			p += strspn(p, " ");
			snprintf(buf, len, "%.*s", (int)strcspn(p, "\r\n"), p);
			break;
		}
	}
	return buf;
}

/* One connection: read the request whole, record it, answer by its path. */
static void serve_one(int c)
{
	char buf[4096], *end = NULL, answer[256];
	const char *status = "200 OK", *text = "ok: draining\n";
	struct request r = {0};
	size_t len = 0, want = 0;
	ssize_t n;
	char cl[32];

	while (len < sizeof(buf) - 1 && (n = read(c, buf + len, sizeof(buf) - 1 - len)) > 0) {
		len += (size_t)n;
		buf[len] = '\0';
		if (!end && (end = strstr(buf, "\r\n\r\n"))) {
			snprintf(r.head, sizeof(r.head), "%.*s", (int)(end - buf + 2), buf);
			want = (size_t)(end - buf) + 4 +
			       strtoul(header(&r, "Content-Length", cl, sizeof(cl)), NULL, 10);
		}
		if (end && len >= want)
			break;
	}
	if (!end)
		return;
	sscanf(buf, "%15s %63s", r.method, r.path);
	snprintf(r.body, sizeof(r.body), "%s", end + 4);
	pthread_mutex_lock(&srv.lock);
	if (srv.n < MAX_REQS)
		srv.reqs[srv.n++] = r;
	pthread_mutex_unlock(&srv.lock);
	if (!strcmp(r.path, "/busy")) {
		status = "503 Service Unavailable";
		text = "busy: try again later\n";
	} else if (!strcmp(r.path, "/slow")) {
		usleep(SLOW_MS * 1000);
	}
	snprintf(answer, sizeof(answer),
		 "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
		 "Connection: close\r\n\r\n%s",
		 status, strlen(text), text);
	(void)!send(c, answer, strlen(answer), MSG_NOSIGNAL);
}

static void *server_main(void *arg)
{
	struct pollfd p = {.fd = srv.fd, .events = POLLIN};
	int c;

	(void)arg;
	while (!srv.stop) {
		if (poll(&p, 1, 100) <= 0)
			continue;
		c = accept4(srv.fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		serve_one(c);
		close(c);
	}
	return NULL;
}

/* The request the server received for path, copied into *out. Waits up to 2 s. */
static bool received(const char *path, struct request *out)
{
	for (int i = 0; i < 200; i++) {
		bool found = false;

		pthread_mutex_lock(&srv.lock);
		for (int j = 0; j < srv.n && !found; j++)
			if (!strcmp(srv.reqs[j].path, path)) {
				*out = srv.reqs[j];
				found = true;
			}
		pthread_mutex_unlock(&srv.lock);
		if (found)
			return true;
		usleep(10000);
	}
	return false;
}

/* --- vigil ------------------------------------------------------------------------------------ */

/* One workload a case: each crash is healed by its own rule. */
static const char config_fmt[] =
    "window: 10s\n"
    "workloads:\n"
    "  - name: h-ok\n"
    "    match: { comm: vt-hok }\n"
    "    heal:\n"
    "      - name: drain\n"
    "        on: [crash]\n"
    "        level: 1\n"
    "        action: { http: { url: \"http://127.0.0.1:%d/ok\", body: '" BODY "',\n"
    "                          bearer_token_file: \"@DIR@/token\" } }\n"
    "    policy: { allow_comm_only: true }\n"
    "  - name: h-busy\n"
    "    match: { comm: vt-hbusy }\n"
    "    heal:\n"
    "      - { on: [crash], level: 1, action: { http: { url: \"http://127.0.0.1:%d/busy\",\n"
    "          body: please, bearer_token_file: \"@DIR@/token\", method: PUT } } }\n"
    "    policy: { allow_comm_only: true }\n"
    "  - name: h-slow\n"
    "    match: { comm: vt-hslow }\n"
    "    heal:\n"
    "      - { on: [crash], level: 1, action: { http: { url: \"http://127.0.0.1:%d/slow\",\n"
    "          timeout: 400ms } } }\n"
    "    policy: { allow_comm_only: true }\n"
    "  - name: h-down\n"
    "    match: { comm: vt-hdown }\n"
    "    heal:\n"
    "      - { on: [crash], level: 1, action: { http: { url: \"http://127.0.0.1:%d/\" } } }\n"
    "    policy: { allow_comm_only: true }\n"
    "  - name: rb\n"
    "    match: { comm: vt-rb }\n"
    "    heal:\n"
    "      - { on: [crash], level: 3, action: { rollback: { command: [\"@DIR@/undo.sh\", v41],\n"
    "          env: [REVISION=41], timeout: 10s } } }\n"
    "    policy: { allow_comm_only: true, allowed_exec: [\"@DIR@/undo.sh\"] }\n"
    "  - name: rb-fail\n"
    "    match: { comm: vt-rbfail }\n"
    "    heal:\n"
    "      - { on: [crash], level: 3, action: { rollback: { command: [\"@DIR@/nope.sh\"] } } }\n"
    "    policy: { allow_comm_only: true, allowed_exec: [\"@DIR@/nope.sh\"] }\n";

static int write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
	char path[256];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	if (fchmod(fd, mode) || close(fd) || n != (ssize_t)strlen(text))
		return -1;
	return 0;
}

static int setup(void **state)
{
	struct vt *v = calloc(1, sizeof(*v));
	char yaml[4096], script[512];
	int closed = vt_tcp_closed_port();

	if (!v || vt_init(v))
		return -1;
	pthread_mutex_init(&srv.lock, NULL);
	srv.fd = vt_tcp_listener(&srv.port);
	if (srv.fd < 0 || pthread_create(&srv.thread, NULL, server_main, NULL))
		return -1;
	snprintf(script, sizeof(script),
		 "#!/bin/sh\necho \"$REVISION $1\" > %s/marker\necho rolled back to $1\n", v->dir);
	if (write_file(v->dir, "token", TOKEN "\n", 0600) ||
	    write_file(v->dir, "undo.sh", script, 0755) ||
	    write_file(v->dir, "nope.sh",
		       "#!/bin/sh\necho 'deploy/api: no previous revision' >&2\nexit 3\n", 0755))
		return -1;
	snprintf(yaml, sizeof(yaml), config_fmt, srv.port, srv.port, srv.port, closed);
	if (vt_start(v, yaml, NULL))
		return -1;
	*state = v;
	return 0;
}

static int teardown(void **state)
{
	int rc = vt_group_teardown(state);

	srv.stop = 1;
	pthread_join(srv.thread, NULL);
	close(srv.fd);
	return rc;
}

/* Crash a watched process named comm; returns the incident's record in state, its id in id. */
static json_t *crash(struct vt *v, const char *comm, const char *workload, const char *state,
		     char id[32])
{
	static const char *const serve[] = {"serve", NULL};
	char pid[16];
	pid_t p = vt_run(v, comm, serve);
	json_t *inc;

	snprintf(pid, sizeof(pid), "%d", p);
	assert_non_null(vt_wait(v, WAIT_MS, "event", "class", "exec", "pid", pid, NULL));
	kill(p, SIGSEGV);
	vt_reap(p);
	inc = vt_wait(v, WAIT_MS, "incident", "workload", workload, "state", state, NULL);
	assert_non_null(inc);
	snprintf(id, 32, "%s", vt_str(inc, "id"));
	return inc;
}

/* The action's end (outcome) for incident id, and its time from the intent, in ms. */
static json_t *ended(struct vt *v, const char *id, const char *outcome, uint64_t *ms)
{
	json_t *intent = vt_wait(v, WAIT_MS, "action", "incident", id, "outcome", "intent", NULL);
	json_t *end = vt_wait(v, WAIT_MS, "action", "incident", id, "outcome", outcome, NULL);

	assert_non_null(intent);
	if (!end) {
		fprintf(stderr, "no '%s' record for %s; vigil said:\n%s\n", outcome, id, v->errbuf);
		fail();
	}
	*ms = vt_ts_ms(vt_str(end, "ts")) - vt_ts_ms(vt_str(intent, "ts"));
	return end;
}

/* A 2xx: success, and the server saw the token, the incident, its signature, the body. */
static void test_http_ok(void **state)
{
	struct vt *v = *state;
	json_t *inc, *intent, *ok, *rec;
	struct request r;
	char id[32], sig[32], buf[128];
	uint64_t ms;
	size_t i;

	inc = crash(v, "vt-hok", "h-ok", "open", id);
	snprintf(sig, sizeof(sig), "%s", vt_str(inc, "signature"));
	ok = ended(v, id, "success", &ms);
	intent = vt_wait(v, 0, "action", "incident", id, "outcome", "intent", NULL);
	assert_string_equal(vt_str(intent, "action"), "drain");
	assert_non_null(strstr(vt_str(intent, "detail"), "/ok with a 31-byte body"));
	assert_null(strstr(vt_str(intent, "detail"), TOKEN));
	assert_non_null(strstr(vt_str(ok, "detail"), "HTTP 200 after "));
	assert_non_null(strstr(vt_str(ok, "detail"), ", 13 bytes: ok: draining"));
	assert_true(received("/ok", &r));
	assert_string_equal(r.method, "POST");
	assert_string_equal(r.body, BODY);
	assert_string_equal(header(&r, "Authorization", buf, sizeof(buf)), "Bearer " TOKEN);
	assert_string_equal(header(&r, "X-Vigil-Incident", buf, sizeof(buf)), id);
	assert_string_equal(header(&r, "X-Vigil-Signature", buf, sizeof(buf)), sig);
	assert_string_equal(header(&r, "Content-Type", buf, sizeof(buf)), "application/json");
	/* The token is in no record, and nowhere in what vigil said. */
	assert_null(strstr(v->errbuf, TOKEN));
	json_array_foreach(v->records, i, rec)
	{
		char *text = json_dumps(rec, 0);

		assert_null(strstr(text, TOKEN));
		free(text);
	}
	assert_non_null(vt_wait(v, WAIT_MS, "incident", "id", id, "state", "resolved", NULL));
	print_message("http: POST answered 200 in %llu ms, intent -> success (%s)\n",
		      (unsigned long long)ms, vt_str(ok, "detail"));
}

/* A 503: failed, the status and the answer's first bytes in the detail. */
static void test_http_503(void **state)
{
	struct vt *v = *state;
	json_t *bad;
	struct request r;
	char id[32], buf[64];
	uint64_t ms;

	crash(v, "vt-hbusy", "h-busy", "open", id);
	bad = ended(v, id, "failed", &ms);
	assert_non_null(strstr(vt_str(bad, "detail"), "HTTP 503 after "));
	assert_non_null(strstr(vt_str(bad, "detail"), "busy: try again later"));
	assert_true(received("/busy", &r));
	assert_string_equal(r.method, "PUT");
	assert_string_equal(r.body, "please");
	assert_string_equal(header(&r, "Content-Type", buf, sizeof(buf)),
			    "text/plain; charset=utf-8");
	assert_non_null(vt_wait(v, WAIT_MS, "incident", "id", id, "state", "failed", NULL));
	print_message("http: PUT answered 503 in %llu ms, intent -> failed (%s)\n",
		      (unsigned long long)ms, vt_str(bad, "detail"));
}

/* An answer later than the timeout: failed, "timed out", in about the timeout. */
static void test_http_timeout(void **state)
{
	struct vt *v = *state;
	json_t *bad;
	struct request r;
	char id[32], buf[64];
	uint64_t ms;

	crash(v, "vt-hslow", "h-slow", "open", id);
	bad = ended(v, id, "failed", &ms);
	assert_non_null(strstr(vt_str(bad, "detail"), "timed out after "));
	assert_non_null(strstr(vt_str(bad, "detail"), "(timeout 400 ms)"));
	assert_true(ms >= 350 && ms < SLOW_MS);
	assert_true(received("/slow", &r));
	assert_string_equal(header(&r, "Authorization", buf, sizeof(buf)), ""); /* none set */
	assert_string_equal(r.body, "");
	print_message("http: a 400 ms timeout against a %d ms answer failed in %llu ms (%s)\n",
		      SLOW_MS, (unsigned long long)ms, vt_str(bad, "detail"));
}

/* Nothing listens: failed, "connect: Connection refused". */
static void test_http_down(void **state)
{
	struct vt *v = *state;
	json_t *bad;
	char id[32];
	uint64_t ms;

	crash(v, "vt-hdown", "h-down", "open", id);
	bad = ended(v, id, "failed", &ms);
	assert_string_equal(vt_str(bad, "detail"), "connect: Connection refused");
	print_message("http: a closed port failed in %llu ms (%s)\n", (unsigned long long)ms,
		      vt_str(bad, "detail"));
}

/* Approve the incident through the control socket. */
static void approve(struct vt *v, const char *id)
{
	json_t *a = vt_ctl(v, "approve", id);

	assert_non_null(a);
	json_decref(a);
	assert_non_null(vt_wait(v, WAIT_MS, "action", "incident", id, "outcome", "approved", NULL));
}

/* Level 3: nothing runs before the approval; then the command, its marker, success. */
static void test_rollback_approved(void **state)
{
	struct vt *v = *state;
	json_t *ok, *cmd;
	char id[32], marker[256], text[64] = "";
	uint64_t ms;
	FILE *f;

	crash(v, "vt-rb", "rb", "awaiting_approval", id);
	snprintf(marker, sizeof(marker), "%s/marker", v->dir);
	usleep(300000); /* were it to run unapproved, it would have by now */
	assert_int_equal(vt_count(v, "action", "incident", id, "outcome", "intent", NULL), 0);
	assert_int_equal(access(marker, F_OK), -1);
	approve(v, id);
	ok = ended(v, id, "success", &ms);
	cmd = vt_wait(v, 0, "action", "incident", id, "outcome", "command", NULL);
	assert_non_null(cmd);
	assert_non_null(strstr(vt_str(cmd, "detail"), "/undo.sh v41 (may take 10000 ms)"));
	assert_non_null(strstr(vt_str(ok, "detail"), "exited 0 after "));
	f = fopen(marker, "r");
	assert_non_null(f);
	assert_non_null(fgets(text, sizeof(text), f));
	fclose(f);
	assert_string_equal(text, "41 v41\n"); /* its env, its argv */
	assert_non_null(vt_wait(v, WAIT_MS, "incident", "id", id, "state", "resolved", NULL));
	print_message("rollback: approved, the command exited 0 in %llu ms, intent -> success "
		      "(%s)\n",
		      (unsigned long long)ms, vt_str(ok, "detail"));
}

/* A command that fails: how it ended and the end of what it said, in the audit. */
static void test_rollback_fails(void **state)
{
	struct vt *v = *state;
	json_t *bad;
	char id[32];
	uint64_t ms;

	crash(v, "vt-rbfail", "rb-fail", "awaiting_approval", id);
	approve(v, id);
	bad = ended(v, id, "failed", &ms);
	assert_non_null(strstr(vt_str(bad, "detail"), "exited with status 3 after "));
	assert_non_null(strstr(vt_str(bad, "detail"), ": deploy/api: no previous revision"));
	print_message("rollback: the command exited 3 in %llu ms, intent -> failed (%s)\n",
		      (unsigned long long)ms, vt_str(bad, "detail"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_http_ok),	      cmocka_unit_test(test_http_503),
	    cmocka_unit_test(test_http_timeout),      cmocka_unit_test(test_http_down),
	    cmocka_unit_test(test_rollback_approved), cmocka_unit_test(test_rollback_fails),
	};

	if (geteuid() != 0) {
		printf("test_heal_http: skipped (needs root to load BPF programs)\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
