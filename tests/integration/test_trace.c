// SPDX-License-Identifier: Apache-2.0
/*
 * Integration: the trace programs against a real HTTP/1.1 server (faulty httpd) in a watched
 * workload with trace.http, driven by curl (keep-alive, header names in any case) and by raw
 * sockets (pipelined requests, a header block split across two writes). A request crashes
 * the server (SIGSEGV in its serving thread), runs it out of memory in a memory cgroup, or
 * makes it connect to a closed port: the incident's first trace id is that request's, a
 * request already answered is not listed, another connection's request in flight is, and
 * invalid or all-zero ids are ignored. TRACEPARENT in the environment is the fallback; a
 * workload without a trace block gets no trace fields. Each test has its own workload: one
 * incident (signature) each. Last, the whole way out: a pipelined crash's incident, exported
 * by the OTLP sink to a real receiver that decodes it with the official OpenTelemetry
 * definitions (tests/lib/otlp_receiver.js), whose log record carries the incident's first trace
 * id as its traceId, its span_id as spanId, and the other ids as vigil.trace_ids.
 */
#include <errno.h>
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

#include "harness.h"
#include "otlp_server.h"

#define WAIT_MS 5000

static const char config[] = "observe_all: false\n"
			     "window: 2s\n"
			     "workloads:\n"
			     "  - name: web\n"
			     "    match: { comm: vt-web }\n"
			     "    trace: { http: true }\n"
			     "  - name: pipe\n"
			     "    match: { comm: vt-pipe }\n"
			     "    trace: { http: true }\n"
			     "  - name: split\n"
			     "    match: { comm: vt-split }\n"
			     "    trace: { http: true }\n"
			     "  - name: bad\n"
			     "    match: { comm: vt-bad }\n"
			     "    trace: { http: true }\n"
			     "  - name: hogweb\n"
			     "    match: { comm: vt-hogweb }\n"
			     "    trace: { http: true, bytes: 512 }\n"
			     "  - name: plain\n"
			     "    match: { comm: vt-plain }\n"
			     "  - name: job\n"
			     "    match: { comm: vt-job }\n"
			     "    trace: { env: true }\n";

/* Trace ids (32 hex) and parent ids (16 hex) of the requests the tests send. */
#define ID(c) c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c
#define SPAN(c) c c c c c c c c c c c c c c c c
#define TP(t, s) "00-" t "-" s "-01"

static const char *const curl_paths[] = {"/usr/bin/curl", "/bin/curl", NULL};

static const char *curl_bin(void)
{
	for (int i = 0; curl_paths[i]; i++)
		if (!access(curl_paths[i], X_OK))
			return curl_paths[i];
	return NULL;
}

/* A free loopback port (bound, then closed). */
static int free_port(void)
{
	int port = vt_tcp_closed_port();

	assert_true(port > 0);
	return port;
}

/* faulty httpd on a fresh port under comm name (in the cgroup of procs, or none); waits until
 * it accepts. Returns its pid, *port set. */
static pid_t start_httpd(struct vt *v, const char *name, const char *procs, int *port)
{
	char p[16];
	const char *args[] = {"httpd", p, NULL};
	pid_t pid;
	int fd;

	*port = free_port();
	snprintf(p, sizeof(p), "%d", *port);
	pid = vt_exec_in(procs, vt_link(v, name), args);
	assert_true(pid > 0);
	fd = vt_tcp_connect_retry(*port);
	assert_true(fd >= 0);
	close(fd);
	return pid;
}

/* Run curl with args (NULL-terminated, after the binary); returns its exit status. */
static int run_curl(const char *const *args)
{
	const char *argv[32];
	int n = 0, status;
	pid_t pid;

	argv[n++] = curl_bin();
	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		vt_child_signals();
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void need_curl(void)
{
	if (!curl_bin()) {
		printf("    SKIPPED: curl is not installed (make deps installs it)\n");
		skip();
	}
}

/* Write each part on a fresh connection to port, waiting gap_ms between them; returns the
 * connection (the caller closes it). */
static int send_parts(int port, const char *const *parts, int gap_ms)
{
	int fd = vt_tcp_connect_retry(port);

	assert_true(fd >= 0);
	for (int i = 0; parts[i]; i++) {
		if (i)
			usleep(gap_ms * 1000);
		assert_int_equal(write(fd, parts[i], strlen(parts[i])), (ssize_t)strlen(parts[i]));
	}
	return fd;
}

/* The incident of class cls about pid. */
static json_t *incident_of(struct vt *v, const char *cls, pid_t pid)
{
	char p[16];
	json_t *inc;

	snprintf(p, sizeof(p), "%d", pid);
	inc = vt_wait(v, WAIT_MS, "incident", "class", cls, "pid", p, NULL);
	if (!inc)
		vt_dump(v, "pid", p);
	assert_non_null(inc);
	return inc;
}

/* Send parts to a fresh faulty httpd under comm name (gap_ms between them), let it end (a
 * crash), and return the incident of class cls about it. */
static json_t *serve_and_wait(struct vt *v, const char *name, const char *const *parts, int gap_ms,
			      const char *cls)
{
	int port, fd;
	pid_t pid;

	pid = start_httpd(v, name, NULL, &port);
	fd = send_parts(port, parts, gap_ms);
	vt_reap(pid);
	close(fd);
	return incident_of(v, cls, pid);
}

/* The incident lists exactly ids (NULL-terminated), in that order, with span as span_id. */
static void assert_trace(json_t *inc, const char *span, const char *source, const char *const *ids)
{
	json_t *a = json_object_get(inc, "trace_ids");
	size_t n = 0;

	while (ids[n])
		n++;
	if (!a || json_array_size(a) != n) {
		char *s = json_dumps(inc, 0);

		fprintf(stderr, "    incident: %s\n", s);
		free(s);
	}
	assert_non_null(a);
	assert_int_equal(json_array_size(a), n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(json_string_value(json_array_get(a, i)), ids[i]);
	assert_string_equal(vt_str(inc, "span_id"), span);
	assert_string_equal(vt_str(inc, "trace_source"), source);
}

static void assert_no_trace(json_t *inc)
{
	assert_null(json_object_get(inc, "trace_ids"));
	assert_null(json_object_get(inc, "span_id"));
	assert_null(json_object_get(inc, "trace_source"));
}

/*
 * Keep-alive through curl: an answered request (lowercase name), one with an all-zero trace
 * id, one with uppercase hex, then /crash (name in capitals) on the same connection, while
 * another connection's /hold is in flight. The crash lists the crashing request's id, then
 * the held one; nothing else.
 */
static void test_crash_keepalive(void **state)
{
	struct vt *v = *state;
	char u_ok[64], u_crash[64], u_hold[64];
	int port, status;
	pid_t pid, holder;
	json_t *inc;

	need_curl();
	pid = start_httpd(v, "vt-web", NULL, &port);
	snprintf(u_ok, sizeof(u_ok), "http://127.0.0.1:%d/ok", port);
	snprintf(u_crash, sizeof(u_crash), "http://127.0.0.1:%d/crash", port);
	snprintf(u_hold, sizeof(u_hold), "http://127.0.0.1:%d/hold", port);
	{
		const char *const hold_args[] = {
		    "-s", "-m", "20", "-H", "traceparent: " TP(ID("c"), SPAN("3")), u_hold, NULL};

		holder = fork();
		assert_true(holder >= 0);
		if (!holder) {
			vt_child_signals();
			_exit(run_curl(hold_args));
		}
	}
	usleep(300000); /* the held request is read */
	{
		const char *const args[] = {
		    "-s",     "-H", "traceparent: " TP(ID("a"), SPAN("1")),  u_ok,
		    "--next", "-H", "traceparent: " TP(ID("0"), SPAN("2")),  u_ok,
		    "--next", "-H", "traceparent: " TP(ID("D"), SPAN("2")),  u_ok,
		    "--next", "-H", "TRACEPARENT:  " TP(ID("b"), SPAN("2")), u_crash,
		    NULL};

		/* 52: the server closed the connection (it crashed) before answering /crash */
		assert_int_not_equal(run_curl(args), 0);
	}
	status = vt_reap(pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
	inc = incident_of(v, "crash", pid);
	assert_trace(inc, SPAN("2"), "http", (const char *const[]){ID("b"), ID("c"), NULL});
	kill(holder, SIGTERM);
	vt_reap(holder);
}

/* Two requests in one write: the first is answered, the second crashes. */
static void test_crash_pipelined(void **state)
{
	static const char first[] = "GET /ok HTTP/1.1\r\nHost: t\r\n"
				    "traceparent: " TP(ID("d"), SPAN("4")) "\r\n\r\n";
	static const char second[] = "GET /crash HTTP/1.1\r\nHost: t\r\n"
				     "traceparent: " TP(ID("e"), SPAN("5")) "\r\n\r\n";
	char both[sizeof(first) + sizeof(second)];
	const char *const parts[] = {both, NULL};

	snprintf(both, sizeof(both), "%s%s", first, second);
	assert_trace(serve_and_wait(*state, "vt-pipe", parts, 0, "crash"), SPAN("5"), "http",
		     (const char *const[]){ID("e"), NULL});
}

/* The header block in two writes (two reads): the traceparent line starts the second. */
static void test_crash_split_header(void **state)
{
	const char *const parts[] = {"GET /crash HTTP/1.1\r\nHost: t\r\nAccept: */*\r\n",
				     "traceparent:\t" TP(ID("f"), SPAN("6")) "\r\nX-A: b\r\n\r\n",
				     NULL};

	assert_trace(serve_and_wait(*state, "vt-split", parts, 200, "crash"), SPAN("6"), "http",
		     (const char *const[]){ID("f"), NULL});
}

/* Only invalid contexts (all-zero id, another version, a longer value): no trace fields. */
static void test_invalid_ignored(void **state)
{
	static const char zero[] = "traceparent: " TP(ID("0"), SPAN("7")) "\r\n";
	static const char v01[] = "traceparent: 01-" ID("7") "-" SPAN("7") "-01\r\n";
	static const char zspan[] = "traceparent: " TP(ID("7"), SPAN("0")) "\r\n";
	static const char longer[] = "traceparent: " TP(ID("7"), SPAN("7")) "-extra\r\n";
	char req[512];
	const char *const parts[] = {req, NULL};

	snprintf(req, sizeof(req), "GET /crash HTTP/1.1\r\nHost: t\r\n%s%s%s%s\r\n", zero, v01,
		 zspan, longer);
	assert_no_trace(serve_and_wait(*state, "vt-bad", parts, 0, "crash"));
}

/* A refused upstream connect made while serving: the conn_refused incident names the request;
 * the server answers it (502) after, which does not take it off the incident. */
static void test_refused_upstream(void **state)
{
	struct vt *v = *state;
	char path[128];
	const char *const parts[] = {path, NULL};
	char buf[256];
	int port, fd;
	json_t *inc;
	ssize_t n;
	pid_t pid;

	pid = start_httpd(v, "vt-web", NULL, &port);
	snprintf(path, sizeof(path),
		 "GET /upstream?%d HTTP/1.1\r\nHost: t\r\ntraceparent: " TP(ID("9"),
									    SPAN("8")) "\r\n\r\n",
		 vt_tcp_closed_port());
	fd = send_parts(port, parts, 0);
	n = read(fd, buf, sizeof(buf)); /* answered: 502 */
	close(fd);
	inc = vt_wait(v, WAIT_MS, "incident", "class", "conn_refused", "workload", "web", NULL);
	/* Stopped before any assertion: a server left running would hold the test's files. */
	kill(pid, SIGKILL);
	vt_reap(pid);
	assert_true(n > 0);
	assert_non_null(inc);
	assert_trace(inc, SPAN("8"), "http", (const char *const[]){ID("9"), NULL});
}

/* /oom in a 64 MiB memory cgroup: the OOM kill lists the request being served. */
static void test_oom_kill(void **state)
{
	struct vt *v = *state;
	const char *const parts[] = {
	    "GET /oom HTTP/1.1\r\nHost: t\r\ntraceparent: " TP(ID("5"), SPAN("9")) "\r\n\r\n",
	    NULL};
	char cg[256], procs[300];
	int port, fd, status;
	pid_t pid;

	if (vt_memcg(cg, sizeof(cg), "vigil-trace", 64 << 20)) {
		printf("    SKIPPED: no cgroup v1 memory controller at /sys/fs/cgroup/memory "
		       "(vigil doctor: memory cgroup)\n");
		skip();
	}
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
	pid = start_httpd(v, "vt-hogweb", procs, &port);
	fd = send_parts(port, parts, 0);
	status = vt_reap(pid);
	close(fd);
	rmdir(cg);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_trace(incident_of(v, "oom_kill", pid), SPAN("9"), "http",
		     (const char *const[]){ID("5"), NULL});
}

/* A workload without a trace block: the same crash, no trace fields. */
static void test_untraced_workload(void **state)
{
	static const char req[] = "GET /crash HTTP/1.1\r\nHost: t\r\n"
				  "traceparent: " TP(ID("8"), SPAN("a")) "\r\n\r\n";
	const char *const parts[] = {req, NULL};

	assert_no_trace(serve_and_wait(*state, "vt-plain", parts, 0, "crash"));
}

/* trace.env: TRACEPARENT at exec is the crash's context when no request carries one. */
static void test_env_fallback(void **state)
{
	const char *const parts[] = {"GET /crash HTTP/1.1\r\nHost: t\r\n\r\n", NULL};
	json_t *inc;

	/* The server inherits it; the kernel reads it at the server's exec. */
	setenv("TRACEPARENT", TP(ID("6"), SPAN("b")), 1);
	inc = serve_and_wait(*state, "vt-job", parts, 0, "crash");
	unsetenv("TRACEPARENT");
	assert_trace(inc, SPAN("b"), "env", (const char *const[]){ID("6"), NULL});
}

static int setup(void **state)
{
	return vt_group_setup(state, config, NULL);
}

/* --- to OTLP ------------------------------------------------------------------------------ */

/* The W3C example's ids. */
#define OT_TRACE "4bf92f3577b34da6a3ce929d0e0e4736"
#define OT_SPAN "00f067aa0ba902b7"

static struct vt_otlp otlp_rx;
static char otlp_why[256];

static int setup_otlp(void **state)
{
	char yaml[1024];
	int rc = vt_otlp_init(&otlp_rx, otlp_why, sizeof(otlp_why));

	*state = NULL;
	if (rc) /* 1: no node or npm packages; the test says so and skips */
		return rc < 0 ? -1 : 0;
	snprintf(yaml, sizeof(yaml),
		 "window: 2s\n"
		 "otlp: { endpoint: \"http://127.0.0.1:%d/\", timeout: 2s, "
		 "spool: \"@DIR@/otlp.spool\" }\n"
		 "workloads:\n"
		 "  - name: otweb\n"
		 "    match: { comm: vt-otweb }\n"
		 "    trace: { http: true }\n",
		 otlp_rx.port);
	return vt_group_setup(state, yaml, NULL);
}

static int teardown_otlp(void **state)
{
	int rc = *state ? vt_group_teardown(state) : 0;

	vt_otlp_fini(&otlp_rx);
	return rc;
}

/* The log record of incident id at the receiver (caller json_decref), waiting for it. */
static json_t *otlp_record_of(const char *id)
{
	for (int waited = 0; waited < WAIT_MS; waited += 50) {
		json_t *all = vt_otlp_lines(&otlp_rx, "logs.jsonl"), *l;
		size_t i;

		json_array_foreach(all, i, l)
		{
			json_t *rec = json_object_get(l, "record");
			const char *v = json_string_value(json_object_get(
			    json_object_get(rec, "attributes"), "vigil.incident.id"));
			const char *ev = json_string_value(json_object_get(rec, "eventName"));

			if (v && ev && !strcmp(v, id) && !strcmp(ev, "vigil.incident")) {
				json_incref(l);
				json_decref(all);
				return l;
			}
		}
		json_decref(all);
		usleep(50000);
	}
	return NULL;
}

/* A pipelined /ok then /crash: the incident and its OTLP log record, both printed. */
static void test_crash_to_otlp(void **state)
{
	static const char first[] = "GET /ok HTTP/1.1\r\nHost: t\r\n"
				    "traceparent: " TP(ID("1"), SPAN("1")) "\r\n\r\n";
	static const char second[] = "GET /crash HTTP/1.1\r\nHost: t\r\n"
				     "traceparent: " TP(OT_TRACE, OT_SPAN) "\r\n\r\n";
	char both[sizeof(first) + sizeof(second)], *text;
	const char *const parts[] = {both, NULL};
	json_t *inc, *log, *rec, *others;

	if (!*state) {
		printf("test_crash_to_otlp: skipped: %s\n", otlp_why);
		skip();
	}
	snprintf(both, sizeof(both), "%s%s", first, second);
	inc = serve_and_wait(*state, "vt-otweb", parts, 0, "crash");
	assert_trace(inc, OT_SPAN, "http", (const char *const[]){OT_TRACE, NULL});
	text = json_dumps(inc, JSON_COMPACT);
	printf("    incident record: %s\n", text);
	free(text);
	log = otlp_record_of(vt_str(inc, "id"));
	assert_non_null(log);
	text = json_dumps(log, JSON_COMPACT);
	printf("    its OTLP log record, as the official definitions decoded it: %s\n", text);
	free(text);
	rec = json_object_get(log, "record");
	assert_string_equal(json_string_value(json_object_get(rec, "traceId")), OT_TRACE);
	assert_string_equal(json_string_value(json_object_get(rec, "spanId")), OT_SPAN);
	assert_string_equal(json_string_value(json_object_get(rec, "eventName")), "vigil.incident");
	assert_string_equal(json_string_value(json_object_get(json_object_get(rec, "attributes"),
							      "vigil.trace_source")),
			    "http");
	/* One id only: no other in flight, so no vigil.trace_ids beside traceId. */
	others = json_object_get(json_object_get(rec, "attributes"), "vigil.trace_ids");
	assert_true(!others || json_array_size(others) == 0);
	json_decref(log);
}

/* The other hook shape: the per-syscall tracepoints (--probes tracepoint). */
static int setup_classic(void **state)
{
	static const char *const extra[] = {"--probes", "tracepoint", NULL};

	return vt_group_setup(state, config, extra);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crash_keepalive),    cmocka_unit_test(test_crash_pipelined),
	    cmocka_unit_test(test_crash_split_header), cmocka_unit_test(test_invalid_ignored),
	    cmocka_unit_test(test_refused_upstream),   cmocka_unit_test(test_oom_kill),
	    cmocka_unit_test(test_untraced_workload),  cmocka_unit_test(test_env_fallback),
	};
	const struct CMUnitTest to_otlp[] = {
	    cmocka_unit_test(test_crash_to_otlp),
	};
	const struct CMUnitTest classic[] = {
	    cmocka_unit_test(test_crash_keepalive),
	    cmocka_unit_test(test_crash_pipelined),
	    cmocka_unit_test(test_refused_upstream),
	    cmocka_unit_test(test_env_fallback),
	};
	int failed;

	if (geteuid() != 0) {
		fprintf(stderr,
			"test_trace: must run as root (loads BPF programs): sudo make test\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	failed = cmocka_run_group_tests_name("trace (tp_btf sys_enter/sys_exit)", tests, setup,
					     vt_group_teardown);
	failed += cmocka_run_group_tests_name("trace (per-syscall tracepoints)", classic,
					      setup_classic, vt_group_teardown);
	failed += cmocka_run_group_tests_name("trace to OTLP", to_otlp, setup_otlp, teardown_otlp);
	return failed ? 1 : 0;
}
