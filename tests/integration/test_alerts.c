/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /v1/alerts with real parts: the real build/vigil (its kernel probes loaded), a real
 * redis-server for set_flag, and for the chain a real Prometheus 2.42 and a real Alertmanager
 * (Debian prometheus, prometheus-alertmanager), all on free loopback ports, started here.
 *
 *   - direct posts (libcurl): malformed JSON and a payload of the wrong shape -> 400 naming
 *     what is wrong, counted; no token and a wrong one -> 401; a body past 1 MiB -> 413; a
 *     peer beyond loopback -> 403 (skipped, saying why, on a host with no such address);
 *   - a firing alert naming a workload (label workload) -> one incident of class alert, its
 *     set_flag heal run (the flag in Redis); the same alert repeated -> still one incident;
 *     its resolution reaches vigil and is counted;
 *   - an alert matched by alerts.match_labels with a level-2 rule: scheduled; its resolution
 *     cancels the heal and resolves the incident; an alert naming no workload: ignored;
 *   - the chain: a test application (a thread here) exposes app_model_api_error_ratio;
 *     Prometheus scrapes it each second and evaluates ModelApiErrors (> 0.5); Alertmanager
 *     posts the webhook with the bearer token from a file; vigil sets the flag. The time from
 *     the metric crossing the threshold to the flag being set is printed; the metric going
 *     back resolves the alert, and vigil hears the resolution.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "harness.h"
#include "http_client.h"
#include "redis_server.h"

#define WAIT_MS 8000
#define TOKEN "vt-alerts-token-0123456789"
#define HEAL_USER "vt-heal"
#define HEAL_PW "vt-heal-pw"
#define HEAL_ACL "~app:* +get +set +del +pttl"
#define PROMETHEUS "/usr/bin/prometheus"
#define ALERTMANAGER "/usr/bin/prometheus-alertmanager"

static struct vt_redis srv;
static struct vt vt;
static int http_port;
static pid_t prom = -1, am = -1; /* the chain's servers, while they run */

/* --- the test application: one metric, its value flipped by the test --------------------- */

static volatile double error_ratio;
static int app_fd = -1, app_port;
static pthread_t app_thread;

static void *app_serve(void *arg)
{
	char req[2048], body[128], resp[512];
	int c, n;

	(void)arg;
	while ((c = accept(app_fd, NULL, NULL)) >= 0) {
		/* One request per connection: read its head, answer, close. */
		n = (int)read(c, req, sizeof(req));
		(void)n;
		n = snprintf(body, sizeof(body),
			     "# TYPE app_model_api_error_ratio gauge\n"
			     "app_model_api_error_ratio %.2f\n",
			     error_ratio);
		n = snprintf(resp, sizeof(resp),
			     "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
			     "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
			     n, body);
		if (write(c, resp, (size_t)n) < 0)
			perror("app: write");
		close(c);
	}
	return NULL;
}

/* --- HTTP posts ---------------------------------------------------------------------------- */

struct answer {
	long status;
	char body[1024]; /* the answer's first 1023 bytes */
};

/* POST body to http://host:port/v1/alerts, with "Authorization: Bearer token" when token. */
static void post_to(const char *host, const char *body, const char *token, struct answer *a)
{
	const char *hdrs[2] = {NULL, NULL};
	struct vt_http_answer ans;
	char url[128], auth[256];

	snprintf(url, sizeof(url), "http://%s:%d/v1/alerts", host, http_port);
	if (token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		hdrs[0] = auth;
	}
	assert_int_equal(vt_http("POST", url, body, hdrs, 10000, &ans), 0);
	if (!ans.status)
		fail_msg("POST %s: %s", url, ans.error);
	a->status = ans.status;
	snprintf(a->body, sizeof(a->body), "%s", ans.body);
	vt_http_free(&ans);
}

static void post(const char *body, const char *token, struct answer *a)
{
	post_to("127.0.0.1", body, token, a);
}

/* A webhook payload of one alert, as Alertmanager 0.25 sends it. labels: ',"k":"v"...' */
static void payload(char *buf, size_t len, const char *status, const char *name, const char *labels)
{
	snprintf(
	    buf, len,
	    "{\"receiver\":\"vigil\",\"status\":\"%s\",\"alerts\":[{\"status\":\"%s\","
	    "\"labels\":{\"alertname\":\"%s\"%s},\"annotations\":{\"summary\":\"test\"},"
	    "\"startsAt\":\"2026-12-01T11:00:00.000Z\",\"endsAt\":\"0001-01-01T00:00:00Z\","
	    "\"generatorURL\":\"http://prometheus/graph\",\"fingerprint\":\"0123456789abcdef\"}],"
	    "\"groupLabels\":{\"alertname\":\"%s\"},\"commonLabels\":{},"
	    "\"commonAnnotations\":{},\"externalURL\":\"http://am:9093\",\"version\":\"4\","
	    "\"groupKey\":\"{}:{alertname=\\\"%s\\\"}\",\"truncatedAlerts\":0}",
	    status, status, name, labels, name, name);
}

/* A payload of TtsLatency from two pods, matched by the tts workload's match_labels, each
 * alert with its own status; the resolved one first, as Alertmanager may order them. */
static void two_replicas(char *buf, size_t len, const char *s1, const char *s2)
{
	static const char alert[] =
	    "{\"status\":\"%s\",\"labels\":{\"alertname\":\"TtsLatency\",\"namespace\":"
	    "\"story\",\"pod\":\"%s\",\"service\":\"tts\",\"team\":\"voice\"},"
	    "\"annotations\":{},\"startsAt\":\"2026-12-01T11:28:14Z\",\"endsAt\":"
	    "\"0001-01-01T00:00:00Z\",\"generatorURL\":\"\",\"fingerprint\":\"6619dfc61a4bfcf%c\"}";
	char a1[512], a2[512];

	snprintf(a1, sizeof(a1), alert, s1, "tts-7d9f-x1", 'e');
	snprintf(a2, sizeof(a2), alert, s2, "tts-7d9f-x2", 'f');
	snprintf(buf, len,
		 "{\"receiver\":\"vigil\",\"status\":\"firing\",\"alerts\":[%s,%s],"
		 "\"groupLabels\":{\"alertname\":\"TtsLatency\"},\"commonLabels\":{},"
		 "\"commonAnnotations\":{},\"externalURL\":\"http://am:9093\",\"version\":\"4\","
		 "\"groupKey\":\"{}:{alertname=\\\"TtsLatency\\\"}\",\"truncatedAlerts\":0}",
		 a1, a2);
}

/* vigil's "alerts" status counter key. */
static long long alerts_stat(const char *key)
{
	json_t *st = vt_ctl(&vt, "status", NULL), *a;
	long long n;

	assert_non_null(st);
	a = json_object_get(st, "alerts");
	assert_non_null(a);
	n = json_integer_value(json_object_get(a, key));
	json_decref(st);
	return n;
}

/* Wait up to ms for the counter key to reach want. */
static void wait_stat(const char *key, long long want, int ms)
{
	for (int i = 0; i < ms / 50; i++) {
		if (alerts_stat(key) >= want)
			return;
		usleep(50000);
	}
	fail_msg("alerts.%s stayed at %lld, not %lld", key, alerts_stat(key), want);
}

/* The flag's value now, into buf ("" when there is none). */
static void flag(const char *key, char *buf, size_t len)
{
	redisReply *r = vt_redis_cmd(&srv, "GET %s", key);

	assert_non_null(r);
	snprintf(buf, len, "%s", r->type == REDIS_REPLY_STRING ? r->str : "");
	freeReplyObject(r);
}

/* --- setup ---------------------------------------------------------------------------------- */

static const char yaml_fmt[] =
    "node: vt-alerts\n"
    "window: 2s\n"
    "metrics: { listen: '0.0.0.0:%d' }\n"
    "alerts: { token_file: '@DIR@/alerts.token' }\n"
    "workloads:\n"
    "  - name: model-api\n"
    "    match: { comm: vt-model }\n"
    "    policy: { allow_comm_only: true, redis_keys: ['app:*'] }\n"
    "    heal:\n"
    "      - on: [alert]\n"
    "        alert: ModelApiErrors\n"
    "        name: switch_to_backup_model\n"
    "        level: 1\n"
    "        action: { set_flag: { redis: 'redis://" HEAL_USER ":" HEAL_PW "@127.0.0.1:%d/0',"
    " key: 'app:flag:model', value: backup, ttl: 30m } }\n"
    "  - name: tts\n"
    "    match: { comm: vt-tts }\n"
    "    alerts: { match_labels: ['team=voice', 'service=tts'] }\n"
    "    policy: { allow_comm_only: true, redis_keys: ['app:*'] }\n"
    "    heal:\n"
    "      - on: [alert]\n"
    "        name: tts_fallback\n"
    "        level: 2\n"
    "        delay: 10m\n"
    "        action: { set_flag: { redis: 'redis://" HEAL_USER ":" HEAL_PW "@127.0.0.1:%d/0',"
    " key: 'app:flag:tts', value: fallback } }\n";

static int group_setup(void **state)
{
	char yaml[4096], path[192];
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	redisReply *r;
	int fd;

	(void)state;
	if (vt_redis_start(&srv, "vigil", "+ping"))
		return -1;
	/* hiredis splits the format's literal words: each rule of HEAL_ACL is an argument. */
	r = vt_redis_cmd(&srv, "ACL SETUSER %s on >%s " HEAL_ACL, HEAL_USER, HEAL_PW);
	if (!r || r->type == REDIS_REPLY_ERROR) {
		fprintf(stderr, "ACL SETUSER %s: %s\n", HEAL_USER, r ? r->str : "no answer");
		freeReplyObject(r);
		return -1;
	}
	freeReplyObject(r);
	/* The application, on a port of its own. */
	app_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (app_fd < 0 || bind(app_fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(app_fd, 16) ||
	    getsockname(app_fd, (struct sockaddr *)&sa, &sl))
		return -1;
	app_port = ntohs(sa.sin_port);
	if (pthread_create(&app_thread, NULL, app_serve, NULL))
		return -1;
	/* vigil, with its token file (root's, 0600) written first. */
	if (vt_init(&vt))
		return -1;
	snprintf(path, sizeof(path), "%s/alerts.token", vt.dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, TOKEN "\n", strlen(TOKEN) + 1) < 0 || close(fd))
		return -1;
	http_port = vt_free_port();
	snprintf(yaml, sizeof(yaml), yaml_fmt, http_port, srv.port, srv.port);
	return vt_start(&vt, yaml, NULL) ? -1 : 0;
}

static void stop_chain(void);

static int group_teardown(void **state)
{
	int rc;

	(void)state;
	stop_chain();
	rc = vt_stop(&vt);
	if (rc)
		fprintf(stderr, "vigil exited with %d:\n%s\n", rc, vt.errbuf);
	vt_fini(&vt);
	shutdown(app_fd, SHUT_RDWR);
	close(app_fd);
	pthread_join(app_thread, NULL);
	vt_redis_stop(&srv);
	return rc ? -1 : 0;
}

/* --- direct posts --------------------------------------------------------------------------- */

static void test_malformed(void **state)
{
	long long before = alerts_stat("rejected");
	struct answer a;

	(void)state;
	post("{\"alerts\": [", TOKEN, &a);
	assert_int_equal(a.status, 400);
	assert_non_null(strstr(a.body, "bad payload: not JSON"));
	post("{\"alerts\": 5}", TOKEN, &a);
	assert_int_equal(a.status, 400);
	assert_string_equal(a.body, "bad payload: alerts: not an array\n");
	post("{\"alerts\": [{\"status\": \"firing\", \"labels\": {\"workload\": \"model-api\"}}]}",
	     TOKEN, &a);
	assert_int_equal(a.status, 400);
	assert_string_equal(a.body, "bad payload: alerts[0].labels.alertname: missing\n");
	post("{\"alerts\": [{\"status\": \"burning\", \"labels\": {}}]}", TOKEN, &a);
	assert_int_equal(a.status, 400);
	assert_non_null(strstr(a.body, "alerts[0].status"));
	assert_int_equal(alerts_stat("rejected"), before + 4);
	/* None of them opened anything. */
	assert_int_equal(vt_count(&vt, "incident", "class", "alert", NULL), 0);
}

static void test_auth(void **state)
{
	long long before = alerts_stat("unauthorized");
	char body[2048];
	struct answer a;

	(void)state;
	payload(body, sizeof(body), "firing", "ModelApiErrors", ",\"workload\":\"model-api\"");
	post(body, NULL, &a);
	assert_int_equal(a.status, 401);
	assert_non_null(strstr(a.body, "no Authorization: Bearer header"));
	post(body, "vt-alerts-token-0123456788", &a);
	assert_int_equal(a.status, 401);
	assert_non_null(strstr(a.body, "wrong bearer token"));
	post(body, TOKEN "x", &a);
	assert_int_equal(a.status, 401);
	assert_int_equal(alerts_stat("unauthorized"), before + 3);
	assert_int_equal(vt_count(&vt, "incident", "class", "alert", NULL), 0);
}

static void test_too_large(void **state)
{
	size_t len = (1u << 20) + 1;
	char *big = malloc(len + 1);
	struct answer a;

	(void)state;
	assert_non_null(big);
	memset(big, ' ', len);
	big[0] = '{';
	big[len - 1] = '}';
	big[len] = '\0';
	post_to("127.0.0.1", big, TOKEN, &a);
	free(big);
	assert_int_equal(a.status, 413);
}

/* A local IPv4 address that is not loopback, into buf; false when the host has none. */
static bool outside_address(char *buf, size_t len)
{
	struct ifaddrs *ifs, *i;
	bool found = false;

	if (getifaddrs(&ifs))
		return false;
	for (i = ifs; i && !found; i = i->ifa_next) {
		struct sockaddr_in *s = (struct sockaddr_in *)i->ifa_addr;

		if (!s || s->sin_family != AF_INET || (ntohl(s->sin_addr.s_addr) >> 24) == 127)
			continue;
		found = inet_ntop(AF_INET, &s->sin_addr, buf, (socklen_t)len) != NULL;
	}
	freeifaddrs(ifs);
	return found;
}

static void test_remote_forbidden(void **state)
{
	char addr[64], body[2048];
	struct answer a;

	(void)state;
	if (!outside_address(addr, sizeof(addr))) {
		fprintf(stderr,
			"SKIP: this host has no IPv4 address beyond loopback to post from\n");
		skip();
	}
	payload(body, sizeof(body), "firing", "ModelApiErrors", ",\"workload\":\"model-api\"");
	/* vigil listens on 0.0.0.0: this connection arrives from addr, not from loopback. */
	post_to(addr, body, TOKEN, &a);
	assert_int_equal(a.status, 403);
	assert_non_null(strstr(a.body, "is not a loopback peer"));
	assert_int_equal(alerts_stat("forbidden"), 1);
	assert_int_equal(vt_count(&vt, "incident", "class", "alert", NULL), 0);
}

static void test_firing_repeat_resolved(void **state)
{
	char body[2048], val[64];
	json_t *inc, *rec;
	struct answer a;
	const char *id;

	(void)state;
	freeReplyObject(vt_redis_cmd(&srv, "DEL app:flag:model"));
	payload(body, sizeof(body), "firing", "ModelApiErrors",
		",\"workload\":\"model-api\",\"severity\":\"page\",\"instance\":\"10.0.0.1:80\"");
	post(body, TOKEN, &a);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.body,
			    "accepted 1 alerts: 1 firing, 0 resolved, 0 naming no workload\n");
	inc = vt_wait(&vt, WAIT_MS, "incident", "class", "alert", "workload", "model-api", "state",
		      "open", NULL);
	assert_non_null(inc);
	id = vt_str(inc, "id");
	assert_string_equal(vt_str(inc, "title"), "alert ModelApiErrors firing");
	rec = vt_wait(&vt, WAIT_MS, "action", "incident", id, "outcome", "success", NULL);
	if (!rec)
		vt_dump(&vt, "incident", id);
	assert_non_null(rec);
	assert_string_equal(vt_str(rec, "action"), "switch_to_backup_model");
	flag("app:flag:model", val, sizeof(val));
	assert_string_equal(val, "backup");
	assert_non_null(vt_wait(&vt, WAIT_MS, "incident", "id", id, "state", "resolved", NULL));
	/* Alertmanager repeats the firing alert; another replica (instance) fires it too: the
	 * same signature, no new incident, no second heal. */
	freeReplyObject(vt_redis_cmd(&srv, "DEL app:flag:model"));
	post(body, TOKEN, &a);
	assert_int_equal(a.status, 200);
	payload(body, sizeof(body), "firing", "ModelApiErrors",
		",\"workload\":\"model-api\",\"severity\":\"page\",\"instance\":\"10.0.0.2:80\"");
	post(body, TOKEN, &a);
	assert_int_equal(a.status, 200);
	wait_stat("repeats", 2, WAIT_MS);
	usleep(300000);
	assert_int_equal(vt_count(&vt, "incident", "class", "alert", "workload", "model-api",
				  "state", "open", NULL),
			 1);
	assert_int_equal(
	    vt_count(&vt, "action", "outcome", "intent", "action", "switch_to_backup_model", NULL),
	    1);
	flag("app:flag:model", val, sizeof(val));
	assert_string_equal(val, "");
	/* One replica resolved, the other still firing: nothing changes. Both resolved: heard;
	 * the incident was healed already; the next firing is a new one. */
	payload(body, sizeof(body), "resolved", "ModelApiErrors",
		",\"workload\":\"model-api\",\"severity\":\"page\",\"instance\":\"10.0.0.1:80\"");
	post(body, TOKEN, &a);
	assert_int_equal(a.status, 200);
	assert_int_equal(alerts_stat("resolved_partial"), 1);
	assert_int_equal(alerts_stat("resolved_after"), 0);
	assert_int_equal(alerts_stat("firing_now"), 1);
	payload(body, sizeof(body), "resolved", "ModelApiErrors",
		",\"workload\":\"model-api\",\"severity\":\"page\",\"instance\":\"10.0.0.2:80\"");
	post(body, TOKEN, &a);
	assert_int_equal(a.status, 200);
	assert_int_equal(alerts_stat("resolved_after"), 1);
	assert_int_equal(alerts_stat("firing_now"), 0);
	/* Another alertname for the workload: its rule (alert: ModelApiErrors) does not apply;
	 * the incident stays open with no heal, and the resolution resolves it. */
	payload(body, sizeof(body), "firing", "ModelLatency", ",\"workload\":\"model-api\"");
	post(body, TOKEN, &a);
	assert_int_equal(a.status, 200);
	inc = vt_wait(&vt, WAIT_MS, "incident", "class", "alert", "title",
		      "alert ModelLatency firing", NULL);
	assert_non_null(inc);
	id = vt_str(inc, "id");
	payload(body, sizeof(body), "resolved", "ModelLatency", ",\"workload\":\"model-api\"");
	post(body, TOKEN, &a);
	assert_int_equal(a.status, 200);
	assert_non_null(vt_wait(&vt, WAIT_MS, "incident", "id", id, "state", "resolved", NULL));
	assert_int_equal(vt_count(&vt, "action", "incident", id, NULL), 0);
}

/* Two replicas of one alert (pod differs): one incident; one resolved while the other fires
 * (as Alertmanager sends it: one payload, both alerts) changes nothing; the last resolution
 * cancels the scheduled level-2 heal and resolves the incident. */
static void test_resolved_cancels(void **state)
{
	long long before = alerts_stat("resolved"), partial = alerts_stat("resolved_partial");
	char body[4096], val[64];
	json_t *inc;
	struct answer a;
	const char *id;

	(void)state;
	two_replicas(body, sizeof(body), "firing", "firing");
	post(body, TOKEN, &a);
	assert_int_equal(a.status, 200);
	inc = vt_wait(&vt, WAIT_MS, "incident", "class", "alert", "workload", "tts", "state",
		      "open", NULL);
	assert_non_null(inc);
	id = vt_str(inc, "id");
	/* Level 2: scheduled for 10 minutes from now. */
	assert_non_null(
	    vt_wait(&vt, WAIT_MS, "action", "incident", id, "outcome", "scheduled", NULL));
	two_replicas(body, sizeof(body), "resolved", "firing");
	post(body, TOKEN, &a);
	assert_int_equal(a.status, 200);
	assert_int_equal(alerts_stat("resolved_partial"), partial + 1);
	usleep(300000);
	assert_int_equal(vt_count(&vt, "action", "incident", id, "outcome", "cancelled", NULL), 0);
	assert_int_equal(vt_count(&vt, "incident", "class", "alert", "workload", "tts", NULL), 1);
	two_replicas(body, sizeof(body), "resolved", "resolved");
	post(body, TOKEN, &a);
	assert_int_equal(a.status, 200);
	assert_non_null(
	    vt_wait(&vt, WAIT_MS, "action", "incident", id, "outcome", "cancelled", NULL));
	assert_non_null(vt_wait(&vt, WAIT_MS, "incident", "id", id, "state", "resolved", NULL));
	flag("app:flag:tts", val, sizeof(val));
	assert_string_equal(val, ""); /* the heal never ran */
	assert_int_equal(alerts_stat("resolved"), before + 1);
	assert_int_equal(
	    vt_count(&vt, "incident", "class", "alert", "workload", "tts", "state", "open", NULL),
	    1);
}

static void test_ignored(void **state)
{
	long long before = alerts_stat("ignored");
	char body[2048];
	struct answer a;

	(void)state;
	payload(body, sizeof(body), "firing", "DiskFull", ",\"workload\":\"nobody\"");
	post(body, TOKEN, &a);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.body,
			    "accepted 1 alerts: 0 firing, 0 resolved, 1 naming no workload\n");
	assert_int_equal(alerts_stat("ignored"), before + 1);
}

/* The counters are in /metrics too, by the names README gives, and promtool accepts it. */
static void test_metrics(void **state)
{
	struct vt_http_answer ans;
	char line[320], path[192];
	const char *buf;
	FILE *f;
	int rc;

	(void)state;
	snprintf(line, sizeof(line), "http://127.0.0.1:%d/metrics", http_port);
	assert_int_equal(vt_http("GET", line, NULL, NULL, 10000, &ans), 0);
	assert_int_equal(ans.status, 200);
	buf = ans.body;
	snprintf(line, sizeof(line), "vigil_alert_payloads_total{result=\"malformed\"} %lld\n",
		 alerts_stat("rejected"));
	assert_non_null(strstr(buf, line));
	snprintf(line, sizeof(line), "vigil_alert_payloads_total{result=\"unauthorized\"} %lld\n",
		 alerts_stat("unauthorized"));
	assert_non_null(strstr(buf, line));
	snprintf(line, sizeof(line), "vigil_alerts_total{effect=\"repeat\"} %lld\n",
		 alerts_stat("repeats"));
	assert_non_null(strstr(buf, line));
	assert_non_null(
	    strstr(buf, "vigil_incidents_total{workload=\"model-api\",class=\"alert\"} 2\n"));
	if (access("/usr/bin/promtool", X_OK)) {
		fprintf(stderr, "SKIP: no /usr/bin/promtool (make deps installs prometheus)\n");
		skip();
	}
	snprintf(path, sizeof(path), "%s/metrics.txt", vt.dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(buf, f);
	assert_int_equal(fclose(f), 0);
	vt_http_free(&ans);
	snprintf(line, sizeof(line), "/usr/bin/promtool check metrics < %s", path);
	rc = system(line);
	assert_int_equal(rc, 0);
}

/* --- the chain ------------------------------------------------------------------------------ */

static void write_file(const char *path, const char *fmt, ...)
{
	FILE *f = fopen(path, "w");
	va_list ap;

	assert_non_null(f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	assert_int_equal(fclose(f), 0);
}

/* Start argv with its output into log; returns the pid. */
static pid_t spawn(const char *log, const char *const *argv)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (!pid) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		vt_child_signals();
		/* Gone with the test, even killed; and never holding what the test holds (the
		 * integration lock's descriptor, which flock(1) handed down). */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		close_range(3, ~0u, 0);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* GET url answers 200 within ms. */
static bool ready(const char *url, int ms)
{
	for (int i = 0; i < ms / 100; i++) {
		struct vt_http_answer ans;
		long status = 0;

		if (!vt_http("GET", url, NULL, NULL, 2000, &ans)) {
			status = ans.status;
			vt_http_free(&ans);
		}
		if (status == 200)
			return true;
		usleep(100000);
	}
	return false;
}

static void show_log(const char *path)
{
	char line[512];
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	fprintf(stderr, "--- %s\n", path);
	while (fgets(line, sizeof(line), f))
		fputs(line, stderr);
	fclose(f);
}

/* The n-th "open" record of a ModelApiErrors incident (of model-api), once there is one. */
static json_t *last_open(int n)
{
	json_t *found = NULL, *r;
	size_t i;

	for (int k = 0; k < WAIT_MS / 50 && !found; k++) {
		int seen = 0;

		vt_count(&vt, "incident", NULL); /* reads what vigil wrote since */
		json_array_foreach(vt.records, i, r)
		{
			if (strcmp(vt_str(r, "type") ?: "", "incident") ||
			    strcmp(vt_str(r, "class") ?: "", "alert") ||
			    strcmp(vt_str(r, "workload") ?: "", "model-api") ||
			    strcmp(vt_str(r, "title") ?: "", "alert ModelApiErrors firing") ||
			    strcmp(vt_str(r, "state") ?: "", "open"))
				continue;
			if (++seen == n)
				found = r;
		}
		if (!found)
			usleep(50000);
	}
	return found;
}

static void stop_chain(void)
{
	if (prom > 0) {
		kill(prom, SIGTERM);
		vt_reap(prom);
	}
	if (am > 0) {
		kill(am, SIGTERM);
		vt_reap(am);
	}
	prom = am = -1;
}

static void test_chain(void **state)
{
	char dir[128], prom_cfg[192], rules[192], am_cfg[192], prom_log[192], am_log[192];
	char prom_data[192], am_data[192], prom_web[64], am_web[64], url[128], val[64];
	char prom_cfg_arg[256], prom_data_arg[256], am_cfg_arg[256], am_data_arg[256];
	int prom_port = vt_free_port(), am_port = vt_free_port();
	uint64_t t0, t_flag = 0, t_open, t1, t_resolved = 0;
	long long resolved_before = alerts_stat("resolved_after");
	json_t *inc;

	(void)state;
	if (access(PROMETHEUS, X_OK) || access(ALERTMANAGER, X_OK)) {
		fprintf(stderr,
			"SKIP: %s or %s missing (make deps installs prometheus and "
			"prometheus-alertmanager)\n",
			PROMETHEUS, ALERTMANAGER);
		skip();
	}
	freeReplyObject(vt_redis_cmd(&srv, "DEL app:flag:model"));
	error_ratio = 0.0;
	snprintf(dir, sizeof(dir), "%s/chain", vt.dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(prom_cfg, sizeof(prom_cfg), "%s/prometheus.yml", dir);
	snprintf(rules, sizeof(rules), "%s/rules.yml", dir);
	snprintf(am_cfg, sizeof(am_cfg), "%s/alertmanager.yml", dir);
	snprintf(prom_log, sizeof(prom_log), "%s/prometheus.log", dir);
	snprintf(am_log, sizeof(am_log), "%s/alertmanager.log", dir);
	snprintf(prom_data, sizeof(prom_data), "%s/prom-data", dir);
	snprintf(am_data, sizeof(am_data), "%s/am-data", dir);
	write_file(rules, "groups:\n"
			  "  - name: vt\n"
			  "    interval: 1s\n"
			  "    rules:\n"
			  "      - alert: ModelApiErrors\n"
			  "        expr: app_model_api_error_ratio > 0.5\n"
			  "        for: 0s\n"
			  "        labels: { workload: model-api, severity: page }\n");
	write_file(prom_cfg,
		   "global: { scrape_interval: 1s, evaluation_interval: 1s }\n"
		   "rule_files: ['%s']\n"
		   "alerting:\n"
		   "  alertmanagers:\n"
		   "    - static_configs: [{ targets: ['127.0.0.1:%d'] }]\n"
		   "scrape_configs:\n"
		   "  - job_name: app\n"
		   "    static_configs: [{ targets: ['127.0.0.1:%d'] }]\n",
		   rules, am_port, app_port);
	write_file(
	    am_cfg,
	    "route:\n"
	    "  receiver: vigil\n"
	    "  group_by: [alertname, workload]\n"
	    "  group_wait: 0s\n"
	    "  group_interval: 1s\n"
	    "  repeat_interval: 1h\n"
	    "receivers:\n"
	    "  - name: vigil\n"
	    "    webhook_configs:\n"
	    "      - url: 'http://127.0.0.1:%d/v1/alerts'\n"
	    "        send_resolved: true\n"
	    "        http_config:\n"
	    "          authorization: { type: Bearer, credentials_file: '%s/alerts.token' }\n",
	    http_port, vt.dir);
	snprintf(prom_cfg_arg, sizeof(prom_cfg_arg), "--config.file=%s", prom_cfg);
	snprintf(prom_data_arg, sizeof(prom_data_arg), "--storage.tsdb.path=%s", prom_data);
	snprintf(prom_web, sizeof(prom_web), "--web.listen-address=127.0.0.1:%d", prom_port);
	snprintf(am_cfg_arg, sizeof(am_cfg_arg), "--config.file=%s", am_cfg);
	snprintf(am_data_arg, sizeof(am_data_arg), "--storage.path=%s", am_data);
	snprintf(am_web, sizeof(am_web), "--web.listen-address=127.0.0.1:%d", am_port);
	{
		const char *am_argv[] = {
		    ALERTMANAGER, am_cfg_arg, am_data_arg, am_web, "--cluster.listen-address=",
		    NULL};
		const char *prom_argv[] = {PROMETHEUS, prom_cfg_arg, prom_data_arg, prom_web, NULL};

		am = spawn(am_log, am_argv);
		prom = spawn(prom_log, prom_argv);
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/-/ready", am_port);
	if (!ready(url, 20000))
		show_log(am_log);
	assert_true(ready(url, 100));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/-/ready", prom_port);
	if (!ready(url, 30000))
		show_log(prom_log);
	assert_true(ready(url, 100));
	/* A few scrapes of the healthy value first. */
	sleep(3);
	flag("app:flag:model", val, sizeof(val));
	assert_string_equal(val, "");

	/* T0: the error ratio crosses the threshold. */
	t0 = vt_mono_ns();
	error_ratio = 0.9;
	for (int i = 0; i < 600; i++) { /* 30 s */
		flag("app:flag:model", val, sizeof(val));
		if (!strcmp(val, "backup")) {
			t_flag = vt_mono_ns();
			break;
		}
		usleep(50000);
	}
	if (!t_flag) {
		show_log(prom_log);
		show_log(am_log);
		vt_dump(&vt, "class", "alert");
	}
	assert_true(t_flag != 0);
	inc = last_open(2);
	assert_non_null(inc);
	/* The incident's "ts" is the wall clock; T0 is mono: compare each to its own now. */
	t_open = vt_ts_ms(vt_str(inc, "ts"));
	printf("chain: metric over threshold -> flag set in Redis: %llu ms "
	       "(incident opened %lld ms after T0; scrape 1 s, evaluation 1 s, group_wait 0 s)\n",
	       (unsigned long long)((t_flag - t0) / 1000000),
	       (long long)t_open - (long long)(vt_wall_ms() - (vt_mono_ns() - t0) / 1000000));

	/* T1: the error ratio goes back: the alert resolves, Alertmanager says so. */
	t1 = vt_mono_ns();
	error_ratio = 0.0;
	for (int i = 0; i < 600; i++) {
		if (alerts_stat("resolved_after") > resolved_before) {
			t_resolved = vt_mono_ns();
			break;
		}
		usleep(50000);
	}
	if (!t_resolved) {
		show_log(am_log);
		vt_dump(&vt, "class", "alert");
	}
	assert_true(t_resolved != 0);
	assert_non_null(
	    vt_wait(&vt, 0, "incident", "id", vt_str(inc, "id"), "state", "resolved", NULL));
	assert_int_equal(alerts_stat("firing_now"), 0);
	printf("chain: metric back under threshold -> resolution received by vigil: %llu ms\n",
	       (unsigned long long)((t_resolved - t1) / 1000000));
	stop_chain();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_auth),
	    cmocka_unit_test(test_too_large),
	    cmocka_unit_test(test_remote_forbidden),
	    cmocka_unit_test(test_firing_repeat_resolved),
	    cmocka_unit_test(test_resolved_cancels),
	    cmocka_unit_test(test_ignored),
	    cmocka_unit_test(test_metrics),
	    cmocka_unit_test(test_chain),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
