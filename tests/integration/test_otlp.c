// SPDX-License-Identifier: Apache-2.0
/*
 * Integration: the OTLP sink against a real OTLP/HTTP receiver (tests/lib/otlp_receiver.js)
 * that decodes every request with the official OpenTelemetry protobuf definitions (the
 * opentelemetry-proto files compiled by @opentelemetry/otlp-transformer, from npm) and refuses
 * any request the official ExportLogsServiceRequest does not take whole.
 *
 *   - a watched service crashes (the faulty helper, on the real BPF programs): one log record
 *     per incident record, with the right resource, severity, event name and semantic
 *     attributes; vigil doctor and status show the sink; vigil maps libcurl, not libpq or
 *     libmicrohttpd (not configured);
 *   - the receiver is down through a burst of faults, then back on the same port: the records
 *     were spooled, and each one reaches it exactly once;
 *   - records with the trace contract's fields (trace_ids, span_id, trace_source), built by
 *     hand — this branch's kernel side captures no trace context yet — sent through the real
 *     sink: traceId, spanId and vigil.trace_ids decoded as such by the official definitions;
 *   - hostile and failing receivers, through the real sink: 500 and 429 (retried, then
 *     delivered once), 400 (rejected for good, counted), a reply that is not JSON, a 4 MiB
 *     reply, a receiver slower than the timeout (retried), a partial success (counted).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "harness.h"
#include "otlp_server.h"
#include "output/otlp.h"
#include "output/sink.h"

#define WAIT_MS 8000

static struct {
	struct vt_otlp rx;
	char why[256];
	bool up;
} g;

static int group_setup(void **state)
{
	int rc;

	(void)state;
	rc = vt_otlp_init(&g.rx, g.why, sizeof(g.why));
	if (rc < 0)
		return -1;
	g.up = rc == 0;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	vt_otlp_fini(&g.rx);
	return 0;
}

/* Each test: a receiver that answers ok, with nothing kept from the test before. */
static int setup(void **state)
{
	(void)state;
	if (!g.up)
		return 0;
	if (g.rx.pid < 0 && vt_otlp_start(&g.rx))
		return -1;
	vt_otlp_clear(&g.rx);
	return vt_otlp_mode(&g.rx, "ok");
}

static void need_receiver(void)
{
	if (!g.up) {
		printf("test_otlp: skipped: %s\n", g.why);
		skip();
	}
}

/* The receiver decoded every request: its errors file is empty. */
static void no_decode_errors(void)
{
	json_t *e = vt_otlp_lines(&g.rx, "errors.jsonl");

	if (json_array_size(e)) {
		char *s = json_dumps(e, JSON_COMPACT);

		fail_msg("the receiver refused requests: %s", s);
	}
	json_decref(e);
}

/* The decoded log records whose attribute key is value. */
static json_t *logs_with(json_t *logs, const char *key, const char *value)
{
	json_t *out = json_array(), *l;
	size_t i;

	json_array_foreach(logs, i, l)
	{
		const char *v = json_string_value(json_object_get(
		    json_object_get(json_object_get(l, "record"), "attributes"), key));

		if (v && !strcmp(v, value))
			json_array_append(out, l);
	}
	return out;
}

/* Wait until the receiver holds at least n log records whose key is value; returns them. */
static json_t *wait_logs(const char *key, const char *value, size_t n, int timeout_ms)
{
	for (int waited = 0;; waited += 100) {
		json_t *all = vt_otlp_lines(&g.rx, "logs.jsonl");
		json_t *got = logs_with(all, key, value);

		json_decref(all);
		if (json_array_size(got) >= n || waited >= timeout_ms)
			return got;
		json_decref(got);
		usleep(100000);
	}
}

static const char *rec_str(json_t *l, const char *key)
{
	return json_string_value(json_object_get(json_object_get(l, "record"), key));
}

static const char *attr_str(json_t *l, const char *key)
{
	return json_string_value(
	    json_object_get(json_object_get(json_object_get(l, "record"), "attributes"), key));
}

static void config(char *buf, size_t len, const char *node, const char *workloads)
{
	snprintf(buf, len,
		 "node: %s\n"
		 "window: 2s\n"
		 "otlp:\n"
		 "  endpoint: http://127.0.0.1:%d/\n"
		 "  timeout: 2s\n"
		 "  spool: \"@DIR@/otlp.spool\"\n"
		 "  headers: { X-Scope-OrgID: vigil-test, Authorization: \"Bearer t0k3n\" }\n"
		 "workloads:\n"
		 "%s",
		 node, g.rx.port, workloads);
}

static const char crash_workload[] = "  - name: otsvc\n"
				     "    match: { comm: vt-otsvc }\n";

/* A real crash: its incident records as log records, decoded by the official definitions. */
static void test_crash_log_record(void **state)
{
	static const char *const segv[] = {"segv", NULL};
	char yaml[1024], ts[64], want[64];
	json_t *inc, *logs, *l, *st, *reqs, *hdrs;
	struct vt v;
	pid_t pid;

	(void)state;
	need_receiver();
	assert_int_equal(vt_init(&v), 0);
	config(yaml, sizeof(yaml), "t-otlp-crash", crash_workload);
	assert_int_equal(vt_start(&v, yaml, NULL), 0);
	/* libcurl opened for the sink; the other optional client libraries never mapped. */
	assert_int_equal(vt_maps_lib(&v, "libcurl.so"), 1);
	assert_int_equal(vt_maps_lib(&v, "libpq.so"), 0);
	assert_int_equal(vt_maps_lib(&v, "libmicrohttpd.so"), 0);
	pid = vt_run(&v, "vt-otsvc", segv);
	vt_reap(pid);
	inc = vt_wait(&v, WAIT_MS, "incident", "class", "crash", "workload", "otsvc", NULL);
	assert_non_null(inc);
	logs = wait_logs("vigil.incident.id", vt_str(inc, "id"), 1, WAIT_MS);
	assert_true(json_array_size(logs) >= 1);
	no_decode_errors();
	/* The first log record is the incident's first record. */
	l = json_array_get(logs, 0);
	{
		char *r = json_dumps(inc, JSON_COMPACT), *o = json_dumps(l, JSON_COMPACT);

		printf("incident record: %s\nOTLP log record as decoded: %s\n", r, o);
		free(r);
		free(o);
	}
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(l, "resource"), "service.name")),
	    "otsvc");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(l, "resource"), "host.name")),
	    "t-otlp-crash");
	assert_string_equal(rec_str(l, "eventName"), "vigil.incident");
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(l, "record"), "severityNumber")),
	    21);
	assert_string_equal(rec_str(l, "severityText"), "FATAL");
	snprintf(want, sizeof(want), "%d", pid);
	assert_string_equal(attr_str(l, "process.pid"), want);
	assert_string_equal(attr_str(l, "process.executable.name"), "vt-otsvc");
	assert_string_equal(attr_str(l, "exception.type"), "SIGSEGV");
	assert_string_equal(attr_str(l, "error.type"), "crash");
	assert_string_equal(attr_str(l, "vigil.signature"), vt_str(inc, "signature"));
	assert_string_equal(attr_str(l, "vigil.class"), "crash");
	assert_string_equal(attr_str(l, "vigil.rid"), vt_str(inc, "rid"));
	/* timeUnixNano is the record's ts, to the millisecond. */
	snprintf(ts, sizeof(ts), "%llu000000", (unsigned long long)vt_ts_ms(vt_str(inc, "ts")));
	assert_string_equal(rec_str(l, "timeUnixNano"), ts);
	/* No trace context on this record: no traceId. */
	assert_null(json_object_get(json_object_get(l, "record"), "traceId"));
	json_decref(logs);
	/* The configured headers went with each request. */
	reqs = vt_otlp_lines(&g.rx, "requests.jsonl");
	assert_true(json_array_size(reqs) >= 1);
	hdrs = json_object_get(json_array_get(reqs, 0), "headers");
	assert_string_equal(json_string_value(json_object_get(hdrs, "x-scope-orgid")),
			    "vigil-test");
	assert_string_equal(json_string_value(json_object_get(hdrs, "authorization")),
			    "Bearer t0k3n");
	json_decref(reqs);
	st = vt_sink_settled(&v, "otlp", WAIT_MS);
	assert_int_equal(vt_int(st, "rejected"), 0);
	assert_true(vt_int(st, "written") >= 1);
	snprintf(want, sizeof(want), "http://127.0.0.1:%d/v1/logs", g.rx.port);
	assert_string_equal(vt_str(st, "url"), want);
	json_decref(st);
	/* vigil doctor reaches the receiver as the sink does; vigil status shows the sink. */
	{
		char cmd[2048];

		snprintf(cmd, sizeof(cmd),
			 "%s doctor -c %s | grep -q 'otlp .*v1/logs answers' && %s status --ctl %s "
			 "| grep -q '^otlp  *up http://127.0.0.1'",
			 v.vigil_bin, v.config, v.vigil_bin, v.ctl);
		assert_int_equal(system(cmd), 0);
	}
	assert_int_equal(vt_stop(&v), 0);
	vt_fini(&v);
}

static const char burst_workload[] = "  - name: otburst\n"
				     "    match: { comm: vt-otburst }\n";

static void burst(struct vt *v, int from, int to)
{
	vt_run_exits(v, "vt-otburst", from, to);
}

/*
 * The receiver is down through a burst of faults: records spool; it comes back on the same
 * port: every incident record of the journal reaches it, each exactly once.
 */
static void test_outage_delivered_once(void **state)
{
	const int n = 12;
	unsigned int records = 0, missing = 0, twice = 0;
	json_t *st, *all, *r;
	long long spooled;
	char yaml[1024];
	struct vt v;
	size_t i;

	(void)state;
	need_receiver();
	assert_int_equal(vt_init(&v), 0);
	config(yaml, sizeof(yaml), "t-otlp-outage", burst_workload);
	assert_int_equal(vt_start(&v, yaml, NULL), 0);
	burst(&v, 1, n / 3);
	vt_otlp_stop(&g.rx);
	burst(&v, n / 3 + 1, n);
	for (int i = 1; i <= n; i++) {
		char code[16];

		snprintf(code, sizeof(code), "%d", i);
		assert_non_null(vt_wait(&v, WAIT_MS, "incident", "exit_code", code, NULL));
	}
	/* Down, and records waiting in the spool. */
	for (int waited = 0;; waited += 100) {
		st = vt_sink_status(&v, "otlp");
		if (!strcmp(vt_str(st, "state"), "down") && vt_int(st, "spool_pending") > 0)
			break;
		if (waited > WAIT_MS) {
			char *s = json_dumps(st, JSON_COMPACT);

			fail_msg("the sink did not spool: %s", s);
		}
		json_decref(st);
		usleep(100000);
	}
	printf("outage: %s, %lld records spooled (%s)\n", vt_str(st, "state"),
	       vt_int(st, "spool_pending"), vt_str(st, "last_error"));
	json_decref(st);
	assert_int_equal(vt_otlp_start(&g.rx), 0);
	st = vt_sink_settled(&v, "otlp", 15000);
	spooled = vt_int(st, "spooled");
	assert_int_equal(vt_int(st, "rejected"), 0);
	assert_int_equal(vt_int(st, "queue_drops"), 0);
	assert_int_equal(vt_int(st, "spool_drops"), 0);
	json_decref(st);
	assert_int_equal(vt_stop(&v), 0);
	/* The journal's last records (written at the stop, and sent then) read too. */
	assert_null(vt_wait(&v, 200, "no-such-type", NULL));
	/* Every incident and action record of the journal, by its rid: once at the receiver. */
	all = vt_otlp_lines(&g.rx, "logs.jsonl");
	json_array_foreach(v.records, i, r)
	{
		const char *type = vt_str(r, "type");
		json_t *got;

		if (!type || (strcmp(type, "incident") && strcmp(type, "action")))
			continue;
		records++;
		got = logs_with(all, "vigil.rid", vt_str(r, "rid"));
		missing += json_array_size(got) == 0;
		twice += json_array_size(got) > 1;
		json_decref(got);
	}
	no_decode_errors();
	printf("outage: %u incident/action records in the journal, %zu log records at the "
	       "receiver; %lld spooled and replayed; %u missing, %u delivered twice\n",
	       records, json_array_size(all), spooled, missing, twice);
	assert_true(spooled > 0);
	assert_true(records >= (unsigned int)n);
	assert_int_equal(missing, 0);
	assert_int_equal(twice, 0);
	assert_int_equal(json_array_size(all), records);
	json_decref(all);
	vt_fini(&v);
}

/* --- the sink itself, against the receiver's failure modes ------------------------------- */

struct direct {
	char dir[64];
	struct vigil_sink *s;
};

/* A sink of the library (as the daemon opens it) to the receiver, timeout_ms per request. */
static void direct_open(struct direct *d, unsigned int timeout_ms)
{
	char spool[128], url[64], err[256];
	struct vigil_otlp_opts o = {
	    .endpoint = url,
	    .timeout_ms = timeout_ms,
	    .spool = spool,
	    .spool_max_bytes = 1 << 20,
	    .backoff_first_ms = 20,
	    .backoff_max_ms = 200,
	};

	snprintf(d->dir, sizeof(d->dir), "/tmp/vt-otlp-sink-XXXXXX");
	assert_non_null(mkdtemp(d->dir));
	snprintf(spool, sizeof(spool), "%s/otlp.spool", d->dir);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", g.rx.port);
	if (vigil_otlp_sink_open(&o, &d->s, err, sizeof(err)))
		fail_msg("open: %s", err);
}

static void direct_close(struct direct *d)
{
	char path[128];

	vigil_sink_close(d->s);
	snprintf(path, sizeof(path), "%s/otlp.spool", d->dir);
	unlink(path);
	rmdir(d->dir);
}

/* n incident records (rid "TAG-i"), pushed. */
static void push_incidents(struct direct *d, const char *tag, int n)
{
	for (int i = 0; i < n; i++) {
		char rec[512];

		snprintf(
		    rec, sizeof(rec),
		    "{\"type\":\"incident\",\"rid\":\"%s-%d\",\"ts\":\"2026-12-01T11:20:00.%03dZ\","
		    "\"node\":\"n\",\"workload\":\"w\",\"id\":\"%s%d\",\"signature\":\"s\","
		    "\"class\":\"conn_refused\",\"state\":\"open\",\"count\":1,\"title\":\"t\","
		    "\"detail\":\"127.0.0.1:%d\",\"pid\":%d}",
		    tag, i, i, tag, i, 5000 + i, 100 + i);
		assert_int_equal(vigil_sink_push(d->s, rec, strlen(rec)), 0);
	}
}

static void stats(struct direct *d, struct vigil_sink_stats *st)
{
	vigil_sink_stats(d->s, st);
}

/* Wait until the sink is down with last_error holding text. */
static void wait_down(struct direct *d, const char *text)
{
	struct vigil_sink_stats st;

	for (int waited = 0;; waited += 20) {
		stats(d, &st);
		if (st.state == VIGIL_SINK_DOWN && strstr(st.last_error, text))
			return;
		if (waited > WAIT_MS)
			fail_msg("not down with \"%s\": %s, %s", text,
				 vigil_sink_state_name(st.state), st.last_error);
		usleep(20000);
	}
}

/* Wait until the sink has written n records, with nothing left queued or spooled (flush
 * alone does not wait for a sink that is down). */
static void wait_written(struct direct *d, uint64_t n)
{
	struct vigil_sink_stats st;

	for (int waited = 0;; waited += 20) {
		stats(d, &st);
		if (st.written >= n && !st.spool_pending && !st.queued)
			return;
		if (waited > WAIT_MS)
			fail_msg("%llu written of %llu: %s, %s", (unsigned long long)st.written,
				 (unsigned long long)n, vigil_sink_state_name(st.state),
				 st.last_error);
		usleep(20000);
	}
}

/* Each of tag's n records at the receiver exactly once. */
static void delivered_once(const char *tag, int n)
{
	json_t *all = vt_otlp_lines(&g.rx, "logs.jsonl");

	for (int i = 0; i < n; i++) {
		char rid[64];
		json_t *got;

		snprintf(rid, sizeof(rid), "%s-%d", tag, i);
		got = logs_with(all, "vigil.rid", rid);
		if (json_array_size(got) != 1)
			fail_msg("%s: %zu times at the receiver", rid, json_array_size(got));
		json_decref(got);
	}
	json_decref(all);
}

/* 500, then 429: retried (spooled meanwhile), then delivered once each when it answers. */
static void test_retry_statuses(void **state)
{
	static const char *const modes[] = {"status 500", "status 503", "status 429"};
	struct vigil_sink_stats st;
	struct direct d;
	char tag[16];

	(void)state;
	need_receiver();
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		vt_otlp_clear(&g.rx);
		assert_int_equal(vt_otlp_mode(&g.rx, modes[m]), 0);
		direct_open(&d, 2000);
		snprintf(tag, sizeof(tag), "r%zu", m);
		push_incidents(&d, tag, 5);
		wait_down(&d, modes[m] + 7);
		stats(&d, &st);
		printf("%s: %s (%s), %llu written, %llu spooled\n", modes[m],
		       vigil_sink_state_name(st.state), st.last_error,
		       (unsigned long long)st.written, (unsigned long long)st.spooled);
		assert_int_equal(st.written, 0);
		assert_int_equal(st.rejected, 0);
		assert_int_equal(vt_otlp_mode(&g.rx, "ok"), 0);
		wait_written(&d, 5);
		stats(&d, &st);
		assert_int_equal(st.written, 5);
		assert_int_equal(st.rejected, 0);
		direct_close(&d);
		delivered_once(tag, 5);
	}
	no_decode_errors();
}

/* 400: the records are refused for good, counted; nothing retried. */
static void test_refused_for_good(void **state)
{
	struct vigil_sink_stats st;
	struct direct d;
	json_t *reqs;

	(void)state;
	need_receiver();
	assert_int_equal(vt_otlp_mode(&g.rx, "status 400"), 0);
	direct_open(&d, 2000);
	push_incidents(&d, "bad", 4);
	assert_int_equal(vigil_sink_flush(d.s, WAIT_MS), 0);
	stats(&d, &st);
	printf("400: %s, %llu rejected, %llu written: %s\n", vigil_sink_state_name(st.state),
	       (unsigned long long)st.rejected, (unsigned long long)st.written, st.last_error);
	assert_int_equal(st.rejected, 4);
	assert_int_equal(st.written, 0);
	assert_int_equal(st.spool_pending, 0);
	assert_non_null(strstr(st.last_error, "HTTP 400"));
	/* And not sent again: the receiver, answering now, gets nothing more. */
	assert_int_equal(vt_otlp_mode(&g.rx, "ok"), 0);
	usleep(300000);
	reqs = vt_otlp_lines(&g.rx, "requests.jsonl");
	assert_int_equal(json_array_size(reqs), 0);
	json_decref(reqs);
	direct_close(&d);
}

/* A 2xx whose body is not JSON, or is 4 MiB: acknowledged (the status says so), the body not
 * trusted, nothing sent twice. */
static void test_odd_replies(void **state)
{
	static const char *const modes[] = {"garbage", "huge"};
	static const char *const says[] = {"not a JSON object", "over 64 KiB"};
	struct vigil_sink_stats st;
	struct direct d;
	char tag[16];

	(void)state;
	need_receiver();
	for (size_t m = 0; m < 2; m++) {
		vt_otlp_clear(&g.rx);
		assert_int_equal(vt_otlp_mode(&g.rx, modes[m]), 0);
		direct_open(&d, 2000);
		snprintf(tag, sizeof(tag), "o%zu", m);
		push_incidents(&d, tag, 3);
		assert_int_equal(vigil_sink_flush(d.s, WAIT_MS), 0);
		stats(&d, &st);
		printf("%s: %s, %llu written: %s\n", modes[m], vigil_sink_state_name(st.state),
		       (unsigned long long)st.written, st.last_error);
		assert_int_equal(st.written, 3);
		assert_int_equal(st.rejected, 0);
		assert_non_null(strstr(st.last_error, says[m]));
		direct_close(&d);
		delivered_once(tag, 3);
	}
	no_decode_errors();
}

/* A receiver slower than the timeout: retried, spooled meanwhile; delivered once it answers in
 * time (the slow one kept nothing, as a receiver that failed mid-request). */
static void test_slow_receiver(void **state)
{
	struct vigil_sink_stats st;
	struct direct d;

	(void)state;
	need_receiver();
	assert_int_equal(vt_otlp_mode(&g.rx, "slow 3000"), 0);
	direct_open(&d, 500);
	push_incidents(&d, "slow", 3);
	wait_down(&d, "timed out");
	stats(&d, &st);
	printf("slow: %s (%s)\n", vigil_sink_state_name(st.state), st.last_error);
	assert_int_equal(st.written, 0);
	assert_int_equal(vt_otlp_mode(&g.rx, "ok"), 0);
	wait_written(&d, 3);
	stats(&d, &st);
	assert_int_equal(st.written, 3);
	direct_close(&d);
	delivered_once("slow", 3);
	no_decode_errors();
}

/* A partial success: its rejected log records are counted, its message kept. */
static void test_partial_success(void **state)
{
	struct vigil_sink_stats st;
	struct direct d;

	(void)state;
	need_receiver();
	assert_int_equal(vt_otlp_mode(&g.rx, "partial 2"), 0);
	direct_open(&d, 2000);
	push_incidents(&d, "part", 5);
	assert_int_equal(vigil_sink_flush(d.s, WAIT_MS), 0);
	stats(&d, &st);
	printf("partial: %llu written, %llu rejected: %s\n", (unsigned long long)st.written,
	       (unsigned long long)st.rejected, st.last_error);
	assert_int_equal(st.written + st.rejected, 5);
	assert_int_equal(st.rejected, 2);
	assert_non_null(strstr(st.last_error, "partial success: 2 log records rejected: too old"));
	direct_close(&d);
	no_decode_errors();
}

#define TR1 "0af7651916cd43dd8448eb211c80319c"
#define TR2 "4bf92f3577b34da6a3ce929d0e0e4736"
#define SPAN "b7ad6b7169203331"

/* The trace contract's fields, on records built by hand, through the real sink: the official
 * definitions decode traceId and spanId (16 and 8 bytes) and the other ids. */
static void test_trace_context(void **state)
{
	static const char inc[] =
	    "{\"type\":\"incident\",\"rid\":\"tr-0\",\"ts\":\"2026-12-01T11:20:00.000Z\","
	    "\"node\":\"n\",\"workload\":\"w\",\"id\":\"tr0\",\"signature\":\"s\",\"class\":"
	    "\"crash\","
	    "\"state\":\"open\",\"count\":1,\"title\":\"w crash SIGSEGV\",\"detail\":\"SIGSEGV\","
	    "\"pid\":77,\"comm\":\"w\",\"signal\":11,\"exit_code\":0,"
	    "\"trace_ids\":[\"" TR1 "\",\"" TR2 "\"],\"span_id\":\"" SPAN "\","
	    "\"trace_source\":\"http\"}";
	static const char act[] =
	    "{\"type\":\"action\",\"rid\":\"tr-1\",\"ts\":\"2026-12-01T11:20:01.000Z\","
	    "\"node\":\"n\",\"workload\":\"w\",\"incident\":\"tr0\",\"signature\":\"s\","
	    "\"action\":\"restart\",\"outcome\":\"success\",\"detail\":\"pid 78\",\"pid\":78,"
	    "\"trace_ids\":[\"" TR1 "\"],\"span_id\":\"" SPAN "\",\"trace_source\":\"env\"}";
	json_t *got, *l, *ids;
	struct direct d;

	(void)state;
	need_receiver();
	direct_open(&d, 2000);
	assert_int_equal(vigil_sink_push(d.s, inc, strlen(inc)), 0);
	assert_int_equal(vigil_sink_push(d.s, act, strlen(act)), 0);
	assert_int_equal(vigil_sink_flush(d.s, WAIT_MS), 0);
	direct_close(&d);
	no_decode_errors();
	got = wait_logs("vigil.rid", "tr-0", 1, WAIT_MS);
	assert_int_equal(json_array_size(got), 1);
	l = json_array_get(got, 0);
	{
		char *o = json_dumps(l, JSON_COMPACT);

		printf("record with trace context: %s\nOTLP log record as decoded: %s\n", inc, o);
		free(o);
	}
	assert_string_equal(rec_str(l, "traceId"), TR1);
	assert_string_equal(rec_str(l, "spanId"), SPAN);
	assert_string_equal(attr_str(l, "vigil.trace_source"), "http");
	ids = json_object_get(json_object_get(json_object_get(l, "record"), "attributes"),
			      "vigil.trace_ids");
	assert_int_equal(json_array_size(ids), 1);
	assert_string_equal(json_string_value(json_array_get(ids, 0)), TR2);
	json_decref(got);
	got = wait_logs("vigil.rid", "tr-1", 1, WAIT_MS);
	assert_int_equal(json_array_size(got), 1);
	l = json_array_get(got, 0);
	assert_string_equal(rec_str(l, "eventName"), "vigil.action");
	assert_string_equal(rec_str(l, "traceId"), TR1);
	assert_string_equal(rec_str(l, "spanId"), SPAN);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(l, "record"), "severityNumber")), 9);
	json_decref(got);
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* POST body to the receiver as JSON. Returns the HTTP status, or -1. */
static long post(const char *body)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	CURL *c = curl_easy_init();
	char url[64];
	long code = -1;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/logs", g.rx.port);
	if (c && h) {
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
		if (curl_easy_perform(c) == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	}
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	return code;
}

/* The receiver itself refuses what is not OTLP (a test that it can fail): a field the schema
 * does not have, a traceId that is not hex. */
static void test_receiver_refuses(void **state)
{
	static const char *const bodies[] = {
	    "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"bogus\":1}]}]}]}",
	    "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"traceId\":"
	    "\"CvdlGRbNQ92ESOshHIAxnA==\"}]}]}]}",
	};
	json_t *e;

	(void)state;
	need_receiver();
	for (int i = 0; i < 2; i++)
		assert_int_equal(post(bodies[i]), 400);
	e = vt_otlp_lines(&g.rx, "errors.jsonl");
	assert_int_equal(json_array_size(e), 2);
	assert_non_null(strstr(json_string_value(json_object_get(json_array_get(e, 0), "error")),
			       "not a field of the OTLP schema"));
	assert_non_null(
	    strstr(json_string_value(json_object_get(json_array_get(e, 1), "error")), "hex"));
	json_decref(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_receiver_refuses, setup),
	    cmocka_unit_test_setup(test_crash_log_record, setup),
	    cmocka_unit_test_setup(test_trace_context, setup),
	    cmocka_unit_test_setup(test_retry_statuses, setup),
	    cmocka_unit_test_setup(test_refused_for_good, setup),
	    cmocka_unit_test_setup(test_odd_replies, setup),
	    cmocka_unit_test_setup(test_slow_receiver, setup),
	    cmocka_unit_test_setup(test_partial_success, setup),
	    cmocka_unit_test_setup(test_outage_delivered_once, setup),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
