// SPDX-License-Identifier: Apache-2.0
/*
 * Integration: the HTTP endpoint (metrics.listen) of the real build/vigil, with real faults.
 *
 *   probes     /healthz and /readyz answer 200 on a healthy vigil; an unknown path is a 404,
 *              a wrong method a 405; /readyz is a 503 naming the sink while Redis is down;
 *              libmicrohttpd is mapped, libcurl and libpq (not configured) are not
 *   metrics    after a real crash (SIGSEGV) and a real heal (a restarted service), /metrics
 *              counts them (incidents, resolved, heal steps, detection and recovery
 *              histograms, kernel events) and Debian's `promtool check metrics` passes on it
 *              (its output printed)
 *   scrape     a real Prometheus 2.42 scrapes vigil every second: up == 1, and after one more
 *              crash its query API returns the new count of vigil_incidents_total
 *   hostile    slow clients holding half-sent requests do not stop the loop: /healthz answers
 *              and a crash is still detected; the listen address taken or malformed: vigil
 *              does not start, and says why
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
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

#include "harness.h"
#include "http_client.h"
#include "prom_server.h"

#define WAIT_MS 8000

static const char config_fmt[] =
    "observe_all: false\n"
    "window: 2s\n"
    "metrics: { listen: \"127.0.0.1:%d\" }\n"
    "workloads:\n"
    "  - name: crasher\n"
    "    match: { comm: vt-crasher }\n"
    "  - name: svc\n"
    "    match: { comm: vt-msvc }\n"
    "    verify: 500ms\n"
    "    latency: { syscalls: [nanosleep, clock_nanosleep], budget_ms: 1000 }\n"
    "    heal:\n"
    "      - on: [crash]\n"
    "        level: 1\n"
    "        action: { restart: { exec: [\"@LINK:vt-msvc@\", serve] } }\n"
    "    policy: { allow_comm_only: true, allowed_exec: [\"@LINK:vt-msvc@\"] }\n";

struct fixture {
	struct vt v;
	int port;
	char base[64]; /* http://127.0.0.1:PORT */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char yaml[2048];

	if (!f || vt_init(&f->v))
		return -1;
	f->port = vt_free_port();
	snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%d", f->port);
	snprintf(yaml, sizeof(yaml), config_fmt, f->port);
	if (vt_start(&f->v, yaml, NULL)) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	if (!f)
		return -1;
	rc = vt_stop(&f->v);
	if (rc)
		fprintf(stderr, "vigil exited with %d:\n%s\n", rc, f->v.errbuf);
	vt_fini(&f->v);
	free(f);
	return rc ? -1 : 0;
}

/* GET base+path: the answer (vt_http_free it). */
static struct vt_http_answer get(const struct fixture *f, const char *method, const char *path)
{
	struct vt_http_answer a;
	char url[128];

	snprintf(url, sizeof(url), "%s%s", f->base, path);
	assert_int_equal(vt_http(method, url, NULL, NULL, 5000, &a), 0);
	if (!a.status)
		fprintf(stderr, "%s %s: no answer: %s\n", method, url, a.error);
	return a;
}

/* The value of the series (its whole name with labels, as /metrics writes it), or -1. */
static double series(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, name, n) && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

/* Fetch /metrics until the series reaches want (the counters move with the records). */
static double wait_series(const struct fixture *f, const char *name, double want)
{
	double v = -1;

	for (int i = 0; i < WAIT_MS / 100; i++) {
		struct vt_http_answer a = get(f, "GET", "/metrics");

		v = series(a.body, name);
		vt_http_free(&a);
		if (v >= want)
			break;
		usleep(100000);
	}
	return v;
}

static void crash(struct fixture *f)
{
	static const char *const segv[] = {"segv", NULL};
	pid_t p = vt_run(&f->v, "vt-crasher", segv);
	char pid[16];

	vt_reap(p);
	snprintf(pid, sizeof(pid), "%d", (int)p);
	assert_non_null(vt_wait(&f->v, WAIT_MS, "incident", "class", "crash", "pid", pid, NULL));
}

static void test_probes(void **state)
{
	struct fixture *f = *state;
	struct vt_http_answer a;
	json_t *st, *http;

	/* libmicrohttpd opened for the endpoint; the other optional libraries never mapped. */
	assert_int_equal(vt_maps_lib(&f->v, "libmicrohttpd.so"), 1);
	assert_int_equal(vt_maps_lib(&f->v, "libcurl.so"), 0);
	assert_int_equal(vt_maps_lib(&f->v, "libpq.so"), 0);
	a = get(f, "GET", "/healthz");
	assert_int_equal(a.status, 200);
	assert_non_null(strstr(a.body, "ok: the event loop ticked"));
	vt_http_free(&a);
	a = get(f, "GET", "/readyz");
	printf("/readyz: %s", a.body);
	assert_int_equal(a.status, 200);
	assert_non_null(strstr(a.body, "ready: tp_btf probes attached"));
	vt_http_free(&a);
	a = get(f, "GET", "/nothing-here");
	assert_int_equal(a.status, 404);
	vt_http_free(&a);
	a = get(f, "POST", "/metrics");
	assert_int_equal(a.status, 405);
	vt_http_free(&a);
	/* vigil status says where it listens and what it answered. */
	st = vt_ctl(&f->v, "status", NULL);
	assert_non_null(st);
	http = json_object_get(st, "http");
	assert_int_equal(json_integer_value(json_object_get(http, "port")), f->port);
	assert_true(json_integer_value(json_object_get(http, "answered")) >= 2);
	assert_int_equal(json_integer_value(json_object_get(http, "not_found")), 1);
	json_decref(st);
}

/* promtool check metrics on text: its exit status, its output printed. */
static int promtool(const char *text)
{
	char path[] = "/tmp/vigil-metrics-XXXXXX", cmd[128], line[512];
	int fd = mkstemp(path), st;
	FILE *p;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1; echo \"rc=$?\"", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	printf("promtool check metrics (%zu bytes of /metrics):\n", strlen(text));
	while (fgets(line, sizeof(line), p))
		printf("  %s", line);
	st = pclose(p);
	unlink(path);
	return st;
}

static void test_metrics_count_faults_and_heals(void **state)
{
	static const char *const serve[] = {"serve", NULL};
	struct fixture *f = *state;
	struct vt_http_answer a;
	json_t *inc;
	pid_t svc;
	char pid[16];

	crash(f);
	assert_true(
	    wait_series(f, "vigil_incidents_total{workload=\"crasher\",class=\"crash\"}", 1) >= 1);
	/* A service crashes; vigil restarts it; the heal is verified. */
	svc = vt_run(&f->v, "vt-msvc", serve);
	usleep(200000);
	kill(svc, SIGSEGV);
	vt_reap(svc);
	snprintf(pid, sizeof(pid), "%d", (int)svc);
	inc = vt_wait(&f->v, WAIT_MS, "incident", "workload", "svc", "state", "resolved", NULL);
	if (!inc)
		vt_dump(&f->v, "workload", "svc");
	assert_non_null(inc);
	assert_true(wait_series(f,
				"vigil_incidents_resolved_total{workload=\"svc\",class=\"crash\"}",
				1) == 1);

	a = get(f, "GET", "/metrics");
	assert_int_equal(a.status, 200);
	assert_int_equal(promtool(a.body), 0);
	assert_true(series(a.body, "vigil_incidents_total{workload=\"svc\",class=\"crash\"}") == 1);
	assert_true(series(a.body, "vigil_heal_actions_total{workload=\"svc\",action=\"restart\","
				   "outcome=\"success\"}") == 1);
	assert_true(series(a.body, "vigil_heal_actions_total{workload=\"svc\",action=\"restart\","
				   "outcome=\"intent\"}") == 1);
	assert_true(series(a.body, "vigil_detection_seconds_count{class=\"crash\"}") >= 2);
	assert_true(series(a.body, "vigil_detection_seconds_bucket{class=\"crash\",le=\"+Inf\"}") >=
		    2);
	assert_true(series(a.body, "vigil_recovery_seconds_count{class=\"crash\"}") == 1);
	assert_true(series(a.body, "vigil_breaker_state{workload=\"svc\",state=\"closed\"}") == 1);
	assert_true(series(a.body, "vigil_kernel_events_total{family=\"exits\"}") >= 4);
	assert_true(series(a.body, "vigil_probes_attached{family=\"sockets\"}") == 1);
	assert_true(series(a.body, "vigil_ring_buffer_size_bytes") > 0);
	assert_true(series(a.body, "vigil_records_total{result=\"valid\"}") >= 4);
	/* The restarted service sleeps in nanosleep: its histogram counts (cumulative le). */
	assert_non_null(strstr(a.body, "vigil_syscall_latency_seconds_bucket{workload=\"svc\","));
	/* No unbounded label: no pid, no incident id in any series. */
	assert_null(strstr(a.body, pid));
	assert_null(strstr(a.body, vt_str(inc, "id")));
	vt_http_free(&a);
}

static void test_prometheus_scrapes(void **state)
{
	static const char rules_none[] = "groups: []\n";
	struct fixture *f = *state;
	struct vt_prom prom;
	char conf[512], why[128] = "";
	double v = 0, before = 0;
	int rc, i;

	snprintf(conf, sizeof(conf),
		 "global: { scrape_interval: 1s, evaluation_interval: 1s }\n"
		 "rule_files: [\"@DIR@/rules.yml\"]\n"
		 "scrape_configs:\n"
		 "  - job_name: vigil\n"
		 "    static_configs: [ { targets: [\"127.0.0.1:%d\"] } ]\n",
		 f->port);
	rc = vt_prom_start(&prom, conf, rules_none, why, sizeof(why));
	if (rc == 1) {
		printf("test_prometheus_scrapes: skipped: %s\n", why);
		skip();
	}
	assert_int_equal(rc, 0);
	for (i = 0; i < 300; i++) {
		if (vt_prom_query(&prom, "up{job=\"vigil\"}", &v) == 0 && v == 1)
			break;
		usleep(100000);
	}
	printf("prometheus: up{job=\"vigil\"} = %g after %d ms\n", v, i * 100);
	if (v != 1)
		vt_prom_log(&prom);
	assert_true(v == 1);
	vt_prom_query(&prom, "vigil_incidents_total{workload=\"crasher\",class=\"crash\"}",
		      &before);
	crash(f);
	for (i = 0; i < 300; i++) {
		if (vt_prom_query(&prom,
				  "vigil_incidents_total{workload=\"crasher\",class=\"crash\"}",
				  &v) == 0 &&
		    v > before)
			break;
		usleep(100000);
	}
	printf("prometheus: vigil_incidents_total{workload=\"crasher\",class=\"crash\"} %g -> "
	       "%g, %d ms after the crash was journaled\n",
	       before, v, i * 100);
	vt_prom_stop(&prom);
	assert_true(v == before + 1);
}

/* Slow clients: half-sent requests held open. The loop goes on. */
static void test_slow_clients(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)f->port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	static const char half[] = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ";
	struct vt_http_answer a;
	uint64_t t0;
	int fds[8];

	for (int i = 0; i < 8; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		assert_int_equal(connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
		assert_int_equal(write(fds[i], half, sizeof(half) - 1), (ssize_t)sizeof(half) - 1);
	}
	t0 = vt_mono_ns();
	a = get(f, "GET", "/healthz");
	printf("/healthz with 8 half-sent requests open: %ld in %llu ms\n", a.status,
	       (unsigned long long)((vt_mono_ns() - t0) / 1000000));
	assert_int_equal(a.status, 200);
	vt_http_free(&a);
	crash(f);
	for (int i = 0; i < 8; i++)
		close(fds[i]);
}

static void test_readyz_names_a_down_sink(void **state)
{
	struct vt v;
	struct vt_http_answer a = {};
	char yaml[512], url[128];
	int port = vt_free_port();

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	snprintf(yaml, sizeof(yaml),
		 "metrics: { listen: \"127.0.0.1:%d\" }\n"
		 "redis: { url: \"redis://127.0.0.1:%d\", spool: \"@DIR@/redis.spool\" }\n",
		 port, vt_tcp_closed_port());
	assert_int_equal(vt_start(&v, yaml, NULL), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/readyz", port);
	for (int i = 0; i < 50; i++) {
		vt_http_free(&a);
		assert_int_equal(vt_http("GET", url, NULL, NULL, 5000, &a), 0);
		if (a.status == 503)
			break;
		usleep(100000);
	}
	printf("/readyz with Redis down: %ld %s", a.status, a.body);
	assert_int_equal(a.status, 503);
	assert_non_null(strstr(a.body, "not ready: the redis sink is down"));
	vt_http_free(&a);
	assert_int_equal(vt_stop(&v), 0);
	vt_fini(&v);
}

static void test_listen_refused(void **state)
{
	struct vt v;
	char yaml[256];
	int port, fd = vt_tcp_listener(&port);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(vt_init(&v), 0);
	snprintf(yaml, sizeof(yaml), "metrics: { listen: \"127.0.0.1:%d\" }\n", port);
	assert_int_equal(vt_start(&v, yaml, NULL), -1);
	assert_non_null(strstr(v.errbuf, "cannot listen there"));
	vt_fini(&v);
	close(fd);

	assert_int_equal(vt_init(&v), 0);
	assert_int_equal(vt_start(&v, "metrics: { listen: \"localhost:9464\" }\n", NULL), -1);
	assert_non_null(strstr(v.errbuf, "metrics.listen: 'localhost:9464': the host is not a "
					 "numeric IPv4 or IPv6 address"));
	vt_fini(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_probes),
	    cmocka_unit_test(test_metrics_count_faults_and_heals),
	    cmocka_unit_test(test_prometheus_scrapes),
	    cmocka_unit_test(test_slow_clients),
	};
	const struct CMUnitTest alone[] = {
	    cmocka_unit_test(test_readyz_names_a_down_sink),
	    cmocka_unit_test(test_listen_refused),
	};
	int failed;

	failed = cmocka_run_group_tests_name("metrics", tests, setup, teardown);
	return failed + cmocka_run_group_tests_name("metrics_alone", alone, NULL, NULL);
}
