// SPDX-License-Identifier: Apache-2.0
/* otlp_logs: vigil records as OTLP/HTTP JSON log records, and the receiver's reply (see
 * otlp_logs.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output/otlp_logs.h"

#define MAX_TRACE_IDS 8 /* the contract's limit on trace_ids */

/* --- attributes (KeyValue with an AnyValue) ------------------------------------------------ */

/* Append {key, value: {kind: v}} to attrs (v is stolen). Returns 0 or -ENOMEM. */
static int attr(json_t *attrs, const char *key, const char *kind, json_t *v)
{
	json_t *kv = v ? json_pack("{s:s, s:{s:o}}", "key", key, "value", kind, v) : NULL;

	if (!kv || json_array_append_new(attrs, kv))
		return -ENOMEM;
	return 0;
}

static int attr_str(json_t *attrs, const char *key, const char *s)
{
	return s ? attr(attrs, key, "stringValue", json_string(s)) : 0;
}

/* An integer: OTLP JSON writes int64 as a decimal string. */
static int attr_int(json_t *attrs, const char *key, long long v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", v);
	return attr(attrs, key, "intValue", json_string(buf));
}

/* The record's member key, if it is a string, as attribute name; absent: nothing. */
static int copy_str(json_t *attrs, const char *name, const json_t *rec, const char *key)
{
	return attr_str(attrs, name, json_string_value(json_object_get(rec, key)));
}

static int copy_int(json_t *attrs, const char *name, const json_t *rec, const char *key)
{
	const json_t *v = json_object_get(rec, key);

	return json_is_integer(v) ? attr_int(attrs, name, json_integer_value(v)) : 0;
}

/* --- fields ---------------------------------------------------------------------------------- */

/* "2026-12-01T11:18:36.123Z" (UTC, as records.c writes it) as nanoseconds since the epoch, in buf.
 * Returns 0 or -EINVAL. */
static int ts_nanos(const char *ts, char *buf, size_t len)
{
	char frac[10] = "000000000";
	struct tm tm = {0};
	const char *end;
	time_t sec;

	if (!ts)
		return -EINVAL;
	end = strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return -EINVAL;
	/* A fraction of 1 to 9 digits (records.c writes 3). */
	if (*end == '.') {
		int n = 0;

		while (end[n + 1] >= '0' && end[n + 1] <= '9' && n < 9) {
			frac[n] = end[n + 1];
			n++;
		}
		if (!n)
			return -EINVAL;
		end += n + 1;
	}
	if (strcmp(end, "Z"))
		return -EINVAL;
	sec = timegm(&tm);
	if (sec < 0)
		return -EINVAL;
	snprintf(buf, len, "%lld%s", (long long)sec, frac);
	return 0;
}

/* n lowercase hex digits, not all zero (W3C trace context's rule for ids). */
static bool hex_id(const char *s, size_t n)
{
	bool nonzero = false;

	if (!s || strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
		nonzero |= s[i] != '0';
	}
	return nonzero;
}

/*
 * The trace context of the record (the trace engineer's contract: "trace_ids", first the
 * faulting thread's; "span_id"; "trace_source"): traceId and spanId of the log record, the
 * other ids in vigil.trace_ids. Ids that are not valid are left out. Returns 0 or -ENOMEM.
 */
static int trace_context(json_t *log, json_t *attrs, const json_t *rec)
{
	const json_t *ids = json_object_get(rec, "trace_ids");
	const char *span = json_string_value(json_object_get(rec, "span_id"));
	const char *first = json_string_value(json_array_get(ids, 0));
	json_t *rest, *vals;
	size_t i;
	int err = 0;

	if (!hex_id(first, 32))
		return 0;
	if (json_object_set_new(log, "traceId", json_string(first)))
		return -ENOMEM;
	if (hex_id(span, 16) && json_object_set_new(log, "spanId", json_string(span)))
		return -ENOMEM;
	err = copy_str(attrs, "vigil.trace_source", rec, "trace_source");
	if (err || json_array_size(ids) < 2)
		return err;
	vals = json_array();
	for (i = 1; vals && i < json_array_size(ids) && i < MAX_TRACE_IDS; i++) {
		const char *id = json_string_value(json_array_get(ids, i));

		if (hex_id(id, 32) &&
		    json_array_append_new(vals, json_pack("{s:s}", "stringValue", id)))
			err = -ENOMEM;
	}
	rest = vals ? json_pack("{s:o}", "values", vals) : NULL;
	return err ?: attr(attrs, "vigil.trace_ids", "arrayValue", rest);
}

/* "10.0.0.5:5432" or "[2001:db8::1]:443" (detector.h's vigil_endpoint) into address and
 * port. Returns 0, or -EINVAL for anything else. */
static int split_endpoint(const char *ep, char *addr, size_t len, long *port)
{
	const char *colon = ep ? strrchr(ep, ':') : NULL;
	const char *a = ep;
	size_t n;
	char *end;

	if (!colon || colon == ep)
		return -EINVAL;
	n = colon - ep;
	if (*ep == '[') {
		if (n < 3 || ep[n - 1] != ']')
			return -EINVAL;
		a = ep + 1;
		n -= 2;
	}
	if (n >= len || !colon[1])
		return -EINVAL;
	*port = strtol(colon + 1, &end, 10);
	if (*end || *port <= 0 || *port > 65535)
		return -EINVAL;
	memcpy(addr, a, n);
	addr[n] = '\0';
	return 0;
}

static bool is(const char *a, const char *b)
{
	return a && !strcmp(a, b);
}

/* An incident's semantic-convention and vigil.* attributes. Returns 0 or -ENOMEM. */
static int incident_attrs(json_t *attrs, const json_t *rec, const char *cls)
{
	const char *detail = json_string_value(json_object_get(rec, "detail"));
	char addr[64];
	long port;
	int err;

	err = copy_int(attrs, "process.pid", rec, "pid");
	err = err ?: copy_str(attrs, "process.executable.name", rec, "comm");
	if (!err && is(cls, "exit_nonzero"))
		err = copy_int(attrs, "process.exit.code", rec, "exit_code");
	/* The fatal signal's name, as detector.c wrote it in the detail. */
	if (!err && is(cls, "crash") && detail && !strncmp(detail, "SIG", 3))
		err = attr_str(attrs, "exception.type", detail);
	if (!err && cls && !strncmp(cls, "conn_", 5) &&
	    !split_endpoint(detail, addr, sizeof(addr), &port)) {
		err = attr_str(attrs, "network.peer.address", addr);
		err = err ?: attr_int(attrs, "network.peer.port", port);
	}
	err = err ?: attr_str(attrs, "error.type", cls);
	err = err ?: copy_str(attrs, "vigil.incident.id", rec, "id");
	err = err ?: copy_str(attrs, "vigil.signature", rec, "signature");
	err = err ?: copy_str(attrs, "vigil.class", rec, "class");
	err = err ?: copy_str(attrs, "vigil.state", rec, "state");
	err = err ?: copy_int(attrs, "vigil.count", rec, "count");
	err = err ?: copy_str(attrs, "vigil.detail", rec, "detail");
	err = err ?: copy_int(attrs, "vigil.level", rec, "level");
	err = err ?: copy_int(attrs, "vigil.detect_us", rec, "detect_us");
	return err ?: copy_int(attrs, "vigil.recovery_ms", rec, "recovery_ms");
}

/* An action's attributes. Returns 0 or -ENOMEM. */
static int action_attrs(json_t *attrs, const json_t *rec)
{
	int err;

	err = copy_str(attrs, "vigil.incident.id", rec, "incident");
	err = err ?: copy_str(attrs, "vigil.signature", rec, "signature");
	err = err ?: copy_str(attrs, "vigil.action", rec, "action");
	err = err ?: copy_str(attrs, "vigil.action.outcome", rec, "outcome");
	err = err ?: copy_str(attrs, "vigil.detail", rec, "detail");
	/* The pid the action concerns (a restart's new process). */
	return err ?: copy_int(attrs, "process.pid", rec, "pid");
}

/* The severity of an action's outcome (otlp_logs.h). */
static int action_severity(const char *outcome)
{
	static const char *const errors[] = {"failed", "denied", "escalated", "expired", "open"};
	static const char *const warns[] = {"skipped", "deferred", "waiting"};

	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (is(outcome, errors[i]))
			return VIGIL_OTLP_SEV_ERROR;
	for (size_t i = 0; i < sizeof(warns) / sizeof(warns[0]); i++)
		if (is(outcome, warns[i]))
			return VIGIL_OTLP_SEV_WARN;
	return VIGIL_OTLP_SEV_INFO;
}

static const char *severity_text(int sev)
{
	return sev == VIGIL_OTLP_SEV_FATAL   ? "FATAL"
	       : sev == VIGIL_OTLP_SEV_ERROR ? "ERROR"
	       : sev == VIGIL_OTLP_SEV_WARN  ? "WARN"
					     : "INFO";
}

/* --- the request ----------------------------------------------------------------------------- */

/*
 * The attributes of the resource a record's log record is grouped under: service.name (the
 * workload), host.name (the node), and — OpenTelemetry's k8s.* resource attributes — the pod
 * its process ran in, from the record's "k8s" (records.c): k8s.namespace.name, k8s.pod.name,
 * k8s.pod.uid, k8s.container.name, each only when the record has it. NULL: no memory.
 */
static json_t *resource_of(const json_t *rec, const char *service, const char *host)
{
	const json_t *k8s = json_object_get(rec, "k8s");
	json_t *attrs = json_array();
	int err = attrs ? 0 : -ENOMEM;

	err = err ?: attr_str(attrs, "service.name", service);
	err = err ?: attr_str(attrs, "host.name", host);
	if (json_is_object(k8s)) {
		err = err ?: copy_str(attrs, "k8s.namespace.name", k8s, "namespace");
		err = err ?: copy_str(attrs, "k8s.pod.name", k8s, "pod");
		err = err ?: copy_str(attrs, "k8s.pod.uid", k8s, "pod_uid");
		err = err ?: copy_str(attrs, "k8s.container.name", k8s, "container");
	}
	if (err) {
		json_decref(attrs);
		return NULL;
	}
	return attrs;
}

/* The logRecords array of req's resourceLogs for the resource of attributes attrs, made if
 * missing. NULL: no memory. */
static json_t *records_of(json_t *req, json_t *attrs)
{
	json_t *rls = json_object_get(req, "resourceLogs"), *rl, *scope;
	size_t i;

	if (!rls) {
		rls = json_array();
		if (!rls || json_object_set_new(req, "resourceLogs", rls))
			return NULL;
	}
	json_array_foreach(rls, i, rl)
	{
		if (json_equal(json_object_get(json_object_get(rl, "resource"), "attributes"),
			       attrs))
			return json_object_get(json_array_get(json_object_get(rl, "scopeLogs"), 0),
					       "logRecords");
	}
	scope = json_pack("{s:s, s:s}", "name", "vigil", "version", VIGIL_VERSION);
	rl = scope ? json_pack("{s:{s:O}, s:[{s:o, s:[]}]}", "resource", "attributes", attrs,
			       "scopeLogs", "scope", scope, "logRecords")
		   : NULL;
	if (!rl || json_array_append_new(rls, rl))
		return NULL;
	return json_object_get(json_array_get(json_object_get(rl, "scopeLogs"), 0), "logRecords");
}

int vigil_otlp_add(json_t *req, const char *text, size_t len, char *why, size_t whylen)
{
	const char *type, *service, *host, *cls, *body;
	json_t *rec, *log = NULL, *attrs = NULL, *resource = NULL, *logs;
	char nanos[32], line[256];
	int err = -EINVAL, sev;

	rec = json_loadb(text, len, JSON_ALLOW_NUL, NULL);
	type = json_string_value(json_object_get(rec, "type"));
	service = json_string_value(json_object_get(rec, "workload"));
	host = json_string_value(json_object_get(rec, "node"));
	cls = json_string_value(json_object_get(rec, "class"));
	if (!is(type, "incident") && !is(type, "action")) {
		snprintf(why, whylen, "not an incident or action record");
		goto out;
	}
	if (!service || !host ||
	    ts_nanos(json_string_value(json_object_get(rec, "ts")), nanos, sizeof(nanos))) {
		snprintf(why, whylen, "a %s record without workload, node or ts", type);
		goto out;
	}
	err = -ENOMEM;
	attrs = json_array();
	if (!attrs)
		goto out;
	if (is(type, "incident")) {
		sev = is(cls, "crash") || is(cls, "oom_kill") ? VIGIL_OTLP_SEV_FATAL
							      : VIGIL_OTLP_SEV_ERROR;
		body = json_string_value(json_object_get(rec, "title"));
		err = incident_attrs(attrs, rec, cls);
	} else {
		const char *outcome = json_string_value(json_object_get(rec, "outcome"));
		const char *detail = json_string_value(json_object_get(rec, "detail"));

		sev = action_severity(outcome);
		snprintf(line, sizeof(line), "%s: %s%s%s",
			 json_string_value(json_object_get(rec, "action")) ?: "?", outcome ?: "?",
			 detail && *detail ? ": " : "", detail ?: "");
		body = line;
		err = action_attrs(attrs, rec);
	}
	err = err ?: copy_str(attrs, "vigil.node", rec, "node");
	/* The record's id: a backend can drop a log record that a replay delivered twice. */
	err = err ?: copy_str(attrs, "vigil.rid", rec, "rid");
	if (err)
		goto out;
	err = -ENOMEM;
	log = json_pack("{s:s, s:s, s:i, s:s, s:s, s:{s:s}}", "timeUnixNano", nanos,
			"observedTimeUnixNano", nanos, "severityNumber", sev, "severityText",
			severity_text(sev), "eventName",
			is(type, "incident") ? "vigil.incident" : "vigil.action", "body",
			"stringValue", body ?: "");
	if (!log)
		goto out;
	err = trace_context(log, attrs, rec);
	if (err)
		goto out;
	resource = resource_of(rec, service, host);
	logs = resource ? records_of(req, resource) : NULL;
	if (!logs || json_object_set(log, "attributes", attrs) || json_array_append(logs, log))
		goto out;
	err = 0;
out:
	if (err == -ENOMEM)
		snprintf(why, whylen, "%s", strerror(ENOMEM));
	json_decref(log);
	json_decref(attrs);
	json_decref(resource);
	json_decref(rec);
	return err;
}

bool vigil_otlp_wants(const char *json, size_t len)
{
	static const char *const types[] = {"{\"type\":\"incident\"", "{\"type\":\"action\""};

	/* Every record begins with its type (records.c). */
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (len >= strlen(types[i]) && !memcmp(json, types[i], strlen(types[i])))
			return true;
	return false;
}

/* --- the reply ---------------------------------------------------------------------------------
 */

/* The member of o named camel (proto3 JSON's name) or snake (the proto field's). */
static json_t *member(const json_t *o, const char *camel, const char *snake)
{
	json_t *v = json_object_get(o, camel);

	return v ? v : json_object_get(o, snake);
}

int vigil_otlp_parse_reply(const char *body, size_t len, uint64_t *rejected, char *msg,
			   size_t msglen)
{
	const json_t *ps, *n, *m;
	json_t *r;
	char *end;
	int err = 0;

	*rejected = 0;
	if (msglen)
		msg[0] = '\0';
	while (len && (*body == ' ' || *body == '\n' || *body == '\r' || *body == '\t'))
		body++, len--;
	if (!len)
		return 0;
	r = json_loadb(body, len, 0, NULL);
	if (!json_is_object(r)) {
		snprintf(msg, msglen, "a reply that is not a JSON object");
		json_decref(r);
		return -EINVAL;
	}
	ps = member(r, "partialSuccess", "partial_success");
	n = member(ps, "rejectedLogRecords", "rejected_log_records");
	m = member(ps, "errorMessage", "error_message");
	if (ps && !json_is_object(ps)) {
		err = -EINVAL;
	} else if (json_is_integer(n) && json_integer_value(n) >= 0) {
		*rejected = (uint64_t)json_integer_value(n);
	} else if (json_is_string(n)) {
		const char *s = json_string_value(n);

		errno = 0;
		*rejected = strtoull(s, &end, 10);
		if (errno || end == s || *end || *s == '-') {
			*rejected = 0;
			err = -EINVAL;
		}
	} else if (n) {
		err = -EINVAL;
	}
	if (err)
		snprintf(msg, msglen, "a partialSuccess that is not an OTLP one");
	else if (json_is_string(m))
		snprintf(msg, msglen, "%s", json_string_value(m));
	else if (m)
		err = -EINVAL, snprintf(msg, msglen, "an errorMessage that is not a string");
	json_decref(r);
	return err;
}
