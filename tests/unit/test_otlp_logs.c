// SPDX-License-Identifier: Apache-2.0
/*
 * Unit: vigil's records as OTLP/HTTP JSON log records (otlp_logs.c), built from records made by
 * hand — with and without the trace context of the trace contract (trace_ids, span_id,
 * trace_source) — and the reading of a receiver's reply (partialSuccess). The integration
 * test (test_otlp) checks the same requests against the official OTLP protobuf definitions.
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

#include "output/otlp_logs.h"

#define T1 "0af7651916cd43dd8448eb211c80319c"
#define T2 "4bf92f3577b34da6a3ce929d0e0e4736"
#define T3 "00000000000000000000000000000abc"
#define SPAN "b7ad6b7169203331"

static const char crash[] =
    "{\"type\":\"incident\",\"rid\":\"1796124000123-0\",\"ts\":\"2026-12-01T11:20:00.123Z\","
    "\"node\":\"n1\",\"workload\":\"storyteller\",\"id\":\"019adb0a3c7b0001\","
    "\"signature\":\"sig1\",\"class\":\"crash\",\"state\":\"open\",\"count\":1,"
    "\"title\":\"storyteller crash SIGSEGV\",\"detail\":\"SIGSEGV\",\"pid\":1234,"
    "\"comm\":\"storyteller\",\"signal\":11,\"exit_code\":0,\"first_kernel_ts_ns\":5,"
    "\"detect_us\":812,\"lossy\":false,\"chain\":[],"
    "\"trace_ids\":[\"" T1 "\",\"" T2 "\",\"" T3 "\"],\"span_id\":\"" SPAN "\","
    "\"trace_source\":\"http\"}";

/* One record added to a new request; the request (caller frees). */
static json_t *request(const char *rec)
{
	json_t *req = json_object();
	char why[128] = "";

	assert_non_null(req);
	if (vigil_otlp_add(req, rec, strlen(rec), why, sizeof(why)))
		fail_msg("refused: %s: %s", why, rec);
	return req;
}

/* resourceLogs[r].scopeLogs[0].logRecords[k] */
static json_t *log_at(json_t *req, size_t r, size_t k)
{
	json_t *rl = json_array_get(json_object_get(req, "resourceLogs"), r);
	json_t *l = json_array_get(
	    json_object_get(json_array_get(json_object_get(rl, "scopeLogs"), 0), "logRecords"), k);

	assert_non_null(l);
	return l;
}

/* The AnyValue of attribute key in attrs (an array of KeyValue), or NULL. */
static json_t *attr(json_t *attrs, const char *key)
{
	size_t i;
	json_t *kv;

	json_array_foreach(attrs, i, kv) if (!strcmp(json_string_value(json_object_get(kv, "key")),
						     key)) return json_object_get(kv, "value");
	return NULL;
}

static const char *sval(json_t *log, const char *key)
{
	return json_string_value(
	    json_object_get(attr(json_object_get(log, "attributes"), key), "stringValue"));
}

/* An intValue: OTLP JSON writes int64 as a string. */
static const char *ival(json_t *log, const char *key)
{
	return json_string_value(
	    json_object_get(attr(json_object_get(log, "attributes"), key), "intValue"));
}

static const char *resource_attr(json_t *req, size_t r, const char *key)
{
	json_t *rl = json_array_get(json_object_get(req, "resourceLogs"), r);

	return json_string_value(json_object_get(
	    attr(json_object_get(json_object_get(rl, "resource"), "attributes"), key),
	    "stringValue"));
}

static void test_crash_with_trace(void **state)
{
	json_t *req, *l, *ids;

	(void)state;
	req = request(crash);
	assert_string_equal(resource_attr(req, 0, "service.name"), "storyteller");
	assert_string_equal(resource_attr(req, 0, "host.name"), "n1");
	l = log_at(req, 0, 0);
	assert_string_equal(json_string_value(json_object_get(l, "timeUnixNano")),
			    "1796124000123000000");
	assert_true(json_is_integer(json_object_get(l, "severityNumber")));
	assert_int_equal(json_integer_value(json_object_get(l, "severityNumber")), 21);
	assert_string_equal(json_string_value(json_object_get(l, "severityText")), "FATAL");
	assert_string_equal(json_string_value(json_object_get(l, "eventName")), "vigil.incident");
	assert_string_equal(json_string_value(json_object_get(l, "traceId")), T1);
	assert_string_equal(json_string_value(json_object_get(l, "spanId")), SPAN);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(l, "body"), "stringValue")),
	    "storyteller crash SIGSEGV");
	assert_string_equal(ival(l, "process.pid"), "1234");
	assert_string_equal(sval(l, "process.executable.name"), "storyteller");
	assert_string_equal(sval(l, "exception.type"), "SIGSEGV");
	assert_string_equal(sval(l, "error.type"), "crash");
	assert_null(attr(json_object_get(l, "attributes"), "process.exit.code"));
	assert_string_equal(sval(l, "vigil.incident.id"), "019adb0a3c7b0001");
	assert_string_equal(sval(l, "vigil.signature"), "sig1");
	assert_string_equal(sval(l, "vigil.state"), "open");
	assert_string_equal(ival(l, "vigil.count"), "1");
	assert_string_equal(sval(l, "vigil.rid"), "1796124000123-0");
	assert_string_equal(sval(l, "vigil.trace_source"), "http");
	/* The other trace ids, in their order. */
	ids = json_object_get(
	    json_object_get(attr(json_object_get(l, "attributes"), "vigil.trace_ids"),
			    "arrayValue"),
	    "values");
	assert_int_equal(json_array_size(ids), 2);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(ids, 0), "stringValue")), T2);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(ids, 1), "stringValue")), T3);
	json_decref(req);
}

/* No trace context, or one that is not valid: no traceId, spanId or vigil.trace_*. */
static void test_trace_absent_or_invalid(void **state)
{
	static const char *const recs[] = {
	    "{\"type\":\"incident\",\"ts\":\"2026-12-01T11:20:00Z\",\"node\":\"n\","
	    "\"workload\":\"w\",\"class\":\"oom_kill\",\"pid\":7}",
	    /* upper case */
	    "{\"type\":\"incident\",\"ts\":\"2026-12-01T11:20:00Z\",\"node\":\"n\","
	    "\"workload\":\"w\",\"class\":\"oom_kill\",\"trace_ids\":["
	    "\"0AF7651916CD43DD8448EB211C80319C\"],"
	    "\"span_id\":\"" SPAN "\"}",
	    /* all zero */
	    "{\"type\":\"incident\",\"ts\":\"2026-12-01T11:20:00Z\",\"node\":\"n\","
	    "\"workload\":\"w\",\"class\":\"oom_kill\",\"trace_ids\":["
	    "\"00000000000000000000000000000000\"]}",
	    /* short, and not an array */
	    "{\"type\":\"incident\",\"ts\":\"2026-12-01T11:20:00Z\",\"node\":\"n\","
	    "\"workload\":\"w\",\"class\":\"oom_kill\",\"trace_ids\":[\"0af765\"]}",
	    "{\"type\":\"incident\",\"ts\":\"2026-12-01T11:20:00Z\",\"node\":\"n\","
	    "\"workload\":\"w\",\"class\":\"oom_kill\",\"trace_ids\":\"" T1 "\"}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
		json_t *req = request(recs[i]), *l = log_at(req, 0, 0);

		assert_null(json_object_get(l, "traceId"));
		assert_null(json_object_get(l, "spanId"));
		assert_null(attr(json_object_get(l, "attributes"), "vigil.trace_ids"));
		assert_null(attr(json_object_get(l, "attributes"), "vigil.trace_source"));
		assert_int_equal(json_integer_value(json_object_get(l, "severityNumber")), 21);
		assert_string_equal(json_string_value(json_object_get(l, "timeUnixNano")),
				    "1796124000000000000");
		json_decref(req);
	}
	/* A valid trace id with a bad span id: the trace id alone. */
	{
		json_t *req =
		    request("{\"type\":\"incident\",\"ts\":\"2026-12-01T11:20:00Z\",\"node\":\"n\","
			    "\"workload\":\"w\",\"class\":\"crash\",\"trace_ids\":[\"" T1 "\"],"
			    "\"span_id\":\"0000000000000000\",\"trace_source\":\"env\"}");
		json_t *l = log_at(req, 0, 0);

		assert_string_equal(json_string_value(json_object_get(l, "traceId")), T1);
		assert_null(json_object_get(l, "spanId"));
		assert_string_equal(sval(l, "vigil.trace_source"), "env");
		assert_null(attr(json_object_get(l, "attributes"), "vigil.trace_ids"));
		json_decref(req);
	}
}

static void test_conn_and_exit(void **state)
{
	json_t *req, *l;

	(void)state;
	req = request("{\"type\":\"incident\",\"ts\":\"2026-12-01T11:20:00Z\",\"node\":\"n\","
		      "\"workload\":\"w\",\"class\":\"conn_refused\",\"detail\":\"10.0.0.5:5432\","
		      "\"pid\":9}");
	l = log_at(req, 0, 0);
	assert_string_equal(sval(l, "network.peer.address"), "10.0.0.5");
	assert_string_equal(ival(l, "network.peer.port"), "5432");
	assert_string_equal(sval(l, "error.type"), "conn_refused");
	assert_int_equal(json_integer_value(json_object_get(l, "severityNumber")), 17);
	assert_string_equal(json_string_value(json_object_get(l, "severityText")), "ERROR");
	assert_null(attr(json_object_get(l, "attributes"), "exception.type"));
	json_decref(req);

	req = request(
	    "{\"type\":\"incident\",\"ts\":\"2026-12-01T11:20:00Z\",\"node\":\"n\","
	    "\"workload\":\"w\",\"class\":\"conn_timeout\",\"detail\":\"[2001:db8::1]:443\"}");
	l = log_at(req, 0, 0);
	assert_string_equal(sval(l, "network.peer.address"), "2001:db8::1");
	assert_string_equal(ival(l, "network.peer.port"), "443");
	json_decref(req);

	/* A detail that is no endpoint: no peer attributes. */
	req = request("{\"type\":\"incident\",\"ts\":\"2026-12-01T11:20:00Z\",\"node\":\"n\","
		      "\"workload\":\"w\",\"class\":\"conn_reset\",\"detail\":\"sent 10.0.0.5\"}");
	assert_null(attr(json_object_get(log_at(req, 0, 0), "attributes"), "network.peer.port"));
	json_decref(req);

	req = request("{\"type\":\"incident\",\"ts\":\"2026-12-01T11:20:00Z\",\"node\":\"n\","
		      "\"workload\":\"w\",\"class\":\"exit_nonzero\",\"detail\":\"status=3\","
		      "\"exit_code\":3,\"signal\":0}");
	l = log_at(req, 0, 0);
	assert_string_equal(ival(l, "process.exit.code"), "3");
	assert_null(attr(json_object_get(l, "attributes"), "exception.type"));
	assert_int_equal(json_integer_value(json_object_get(l, "severityNumber")), 17);
	json_decref(req);
}

static void test_action_severity(void **state)
{
	static const struct {
		const char *outcome;
		int sev;
	} cases[] = {
	    {"success", 9},    {"intent", 9},	 {"chosen", 9},	  {"failed", 17},
	    {"escalated", 17}, {"open", 17},	 {"denied", 17},  {"expired", 17},
	    {"skipped", 13},   {"deferred", 13}, {"waiting", 13},
	};
	char rec[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *req, *l;

		snprintf(
		    rec, sizeof(rec),
		    "{\"type\":\"action\",\"rid\":\"5-1\",\"ts\":\"2026-12-01T11:20:01.5Z\","
		    "\"node\":\"n\",\"workload\":\"w\",\"incident\":\"abc\",\"signature\":\"s\","
		    "\"action\":\"restart\",\"outcome\":\"%s\",\"detail\":\"pid 42\",\"pid\":42}",
		    cases[i].outcome);
		req = request(rec);
		l = log_at(req, 0, 0);
		assert_int_equal(json_integer_value(json_object_get(l, "severityNumber")),
				 cases[i].sev);
		assert_string_equal(json_string_value(json_object_get(l, "eventName")),
				    "vigil.action");
		assert_string_equal(sval(l, "vigil.action"), "restart");
		assert_string_equal(sval(l, "vigil.action.outcome"), cases[i].outcome);
		assert_string_equal(sval(l, "vigil.incident.id"), "abc");
		assert_string_equal(ival(l, "process.pid"), "42");
		assert_string_equal(json_string_value(json_object_get(l, "timeUnixNano")),
				    "1796124001500000000");
		json_decref(req);
	}
}

/* Records of one workload and node share a resourceLogs; others get their own. */
static void test_grouping(void **state)
{
	json_t *req = json_object();
	char why[128], rec[512];
	static const char *const w[] = {"a", "b", "a", "a"};
	static const char *const n[] = {"n1", "n1", "n1", "n2"};

	(void)state;
	for (int i = 0; i < 4; i++) {
		snprintf(rec, sizeof(rec),
			 "{\"type\":\"incident\",\"ts\":\"2026-12-01T11:20:00Z\",\"node\":\"%s\","
			 "\"workload\":\"%s\",\"class\":\"crash\",\"id\":\"i%d\"}",
			 n[i], w[i], i);
		assert_int_equal(vigil_otlp_add(req, rec, strlen(rec), why, sizeof(why)), 0);
	}
	assert_int_equal(json_array_size(json_object_get(req, "resourceLogs")), 3);
	assert_string_equal(resource_attr(req, 0, "service.name"), "a");
	assert_string_equal(sval(log_at(req, 0, 1), "vigil.incident.id"), "i2");
	assert_string_equal(resource_attr(req, 1, "service.name"), "b");
	assert_string_equal(resource_attr(req, 2, "host.name"), "n2");
	json_decref(req);
}

/* The pod a record's process ran in: OpenTelemetry's k8s.* resource attributes, each one the
 * record knows; a resource (and its resourceLogs) per pod and container. A record of no pod,
 * or whose "k8s" is not an object, has none. */
static void test_k8s_resource(void **state)
{
	static const char *const k8s[] = {
	    ",\"k8s\":{\"pod\":\"web-1\",\"namespace\":\"shop\",\"container\":\"app\","
	    "\"pod_uid\":\"0c1a2b3c-1111-2222-3333-444455556666\"}",
	    ",\"k8s\":{\"pod\":\"web-1\",\"namespace\":\"shop\",\"container\":\"app\","
	    "\"pod_uid\":\"0c1a2b3c-1111-2222-3333-444455556666\"}",
	    ",\"k8s\":{\"pod\":\"web-2\",\"namespace\":\"shop\","
	    "\"pod_uid\":\"9c1a2b3c-1111-2222-3333-444455556666\"}",
	    "",
	    ",\"k8s\":\"web-1\"",
	};
	json_t *req = json_object(), *attrs;
	char why[128], rec[768];

	(void)state;
	for (int i = 0; i < 5; i++) {
		snprintf(rec, sizeof(rec),
			 "{\"type\":\"%s\",\"ts\":\"2026-12-01T11:20:00Z\",\"node\":\"n1\","
			 "\"workload\":\"web\",\"class\":\"crash\",\"id\":\"i%d\"%s}",
			 i == 1 ? "action" : "incident", i, k8s[i]);
		assert_int_equal(vigil_otlp_add(req, rec, strlen(rec), why, sizeof(why)), 0);
	}
	assert_int_equal(json_array_size(json_object_get(req, "resourceLogs")), 3);
	assert_string_equal(resource_attr(req, 0, "service.name"), "web");
	assert_string_equal(resource_attr(req, 0, "host.name"), "n1");
	assert_string_equal(resource_attr(req, 0, "k8s.pod.name"), "web-1");
	assert_string_equal(resource_attr(req, 0, "k8s.namespace.name"), "shop");
	assert_string_equal(resource_attr(req, 0, "k8s.container.name"), "app");
	assert_string_equal(resource_attr(req, 0, "k8s.pod.uid"),
			    "0c1a2b3c-1111-2222-3333-444455556666");
	/* The incident and its action: one resource. */
	assert_string_equal(json_string_value(json_object_get(log_at(req, 0, 1), "eventName")),
			    "vigil.action");
	assert_string_equal(resource_attr(req, 1, "k8s.pod.name"), "web-2");
	assert_null(resource_attr(req, 1, "k8s.container.name"));
	attrs = json_object_get(
	    json_object_get(json_array_get(json_object_get(req, "resourceLogs"), 2), "resource"),
	    "attributes");
	assert_int_equal(json_array_size(attrs), 2);
	assert_null(resource_attr(req, 2, "k8s.pod.name"));
	/* The k8s attributes are the resource's, not each log record's. */
	assert_null(sval(log_at(req, 0, 0), "k8s.pod.name"));
	json_decref(req);
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
	    "{\"type\":\"event\",\"ts\":\"2026-12-01T11:20:00Z\",\"node\":\"n\",\"workload\":"
	    "\"w\"}",
	    "{\"type\":\"incident\",\"node\":\"n\",\"workload\":\"w\"}",
	    "{\"type\":\"incident\",\"ts\":\"yesterday\",\"node\":\"n\",\"workload\":\"w\"}",
	    "{\"type\":\"incident\",\"ts\":\"2026-12-01T11:20:00+01:00\",\"node\":\"n\","
	    "\"workload\":\"w\"}",
	    "{\"type\":\"action\",\"ts\":\"2026-12-01T11:20:00Z\",\"workload\":\"w\"}",
	    "not json",
	    "",
	};
	json_t *req = json_object();
	char why[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		assert_int_equal(vigil_otlp_add(req, bad[i], strlen(bad[i]), why, sizeof(why)),
				 -EINVAL);
		assert_true(why[0]);
	}
	assert_int_equal(json_object_size(req), 0);
	json_decref(req);
}

static void test_wants(void **state)
{
	(void)state;
	assert_true(vigil_otlp_wants(crash, strlen(crash)));
	assert_true(vigil_otlp_wants("{\"type\":\"action\",", 17));
	assert_false(vigil_otlp_wants("{\"type\":\"knowledge\"}", 20));
	assert_false(vigil_otlp_wants("{\"type\":\"event\"}", 16));
	assert_false(vigil_otlp_wants("{", 1));
}

static void test_reply(void **state)
{
	static const struct {
		const char *body;
		int ret;
		uint64_t rejected;
		const char *msg;
	} cases[] = {
	    {"", 0, 0, ""},
	    {" \n", 0, 0, ""},
	    {"{}", 0, 0, ""},
	    {"{\"partialSuccess\":{}}", 0, 0, ""},
	    {"{\"partialSuccess\":{\"rejectedLogRecords\":\"3\",\"errorMessage\":\"too old\"}}", 0,
	     3, "too old"},
	    {"{\"partialSuccess\":{\"rejectedLogRecords\":2}}", 0, 2, ""},
	    {"{\"partial_success\":{\"rejected_log_records\":\"5\",\"error_message\":\"x\"}}", 0, 5,
	     "x"},
	    {"{\"partialSuccess\":{\"errorMessage\":\"just a warning\"}}", 0, 0, "just a warning"},
	    {"{\"partialSuccess\":{\"rejectedLogRecords\":\"-1\"}}", -EINVAL, 0, NULL},
	    {"{\"partialSuccess\":{\"rejectedLogRecords\":-1}}", -EINVAL, 0, NULL},
	    {"{\"partialSuccess\":{\"rejectedLogRecords\":\"99999999999999999999999\"}}", -EINVAL,
	     0, NULL},
	    {"{\"partialSuccess\":{\"rejectedLogRecords\":\"3x\"}}", -EINVAL, 0, NULL},
	    {"{\"partialSuccess\":{\"rejectedLogRecords\":true}}", -EINVAL, 0, NULL},
	    {"{\"partialSuccess\":7}", -EINVAL, 0, NULL},
	    {"{\"partialSuccess\":{\"errorMessage\":7}}", -EINVAL, 0, NULL},
	    {"<html>busy</html>", -EINVAL, 0, NULL},
	    {"[1]", -EINVAL, 0, NULL},
	};
	char msg[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t n = 99;

		assert_int_equal(vigil_otlp_parse_reply(cases[i].body, strlen(cases[i].body), &n,
							msg, sizeof(msg)),
				 cases[i].ret);
		assert_int_equal(n, cases[i].rejected);
		if (cases[i].msg)
			assert_string_equal(msg, cases[i].msg);
		else
			assert_true(msg[0]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crash_with_trace),
	    cmocka_unit_test(test_trace_absent_or_invalid),
	    cmocka_unit_test(test_conn_and_exit),
	    cmocka_unit_test(test_action_severity),
	    cmocka_unit_test(test_grouping),
	    cmocka_unit_test(test_k8s_resource),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_wants),
	    cmocka_unit_test(test_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
