// SPDX-License-Identifier: Apache-2.0
/*
 * Unit: the traceparent parser the kernel runs (include/vigil/traceparent.h) on reads and
 * environments, and what userspace makes of the kernel's maps: the trace ids of a fault
 * (vigil_trace_assemble: the faulting thread's in-flight requests first, then the process's,
 * newest first, none answered before the fault, none read after it, none stale, at most 8),
 * their merge into an incident, the config's trace block, and the record's fields.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "detect/incidents.h"
#include "detect/trace.h"
#include "output/records.h"
#include "output/redis_cmd.h"
#include "vigil/traceparent.h"

#define TID "0af7651916cd43dd8448eb211c80319c"
#define SID "b7ad6b7169203331"
#define TP "00-" TID "-" SID "-01"

static uint8_t buf[VIGIL_TRACE_SCRATCH];

/* Scan s as the kernel scans one read; returns how many contexts, found[] filled. */
static unsigned int scan(const char *s, size_t len, struct vigil_trace_ctx *found)
{
	memset(buf, 0, sizeof(buf));
	memcpy(buf, s, len);
	memset(found, 0, sizeof(*found) * VIGIL_TRACE_QUEUE);
	return vigil_tp_scan(buf, (__u32)len, found);
}

#define SCAN(lit, found) scan(lit, sizeof(lit) - 1, found)

static void assert_ids(const struct vigil_trace_ctx *c, const char *trace, const char *span)
{
	char hex[33];

	vigil_trace_hex(c->trace_id, 16, hex);
	assert_string_equal(hex, trace);
	vigil_trace_hex(c->span_id, 8, hex);
	assert_string_equal(hex, span);
}

static void test_parse_valid(void **state)
{
	struct vigil_trace_ctx f[VIGIL_TRACE_QUEUE];

	(void)state;
	/* At the start of a read (the second half of a split header block). */
	assert_int_equal(SCAN("traceparent: " TP "\r\n\r\n", f), 1);
	assert_ids(&f[0], TID, SID);
	assert_int_equal(f[0].flags, 1);
	/* Name in any case, OWS of tabs, the value at the very end of the read. */
	assert_int_equal(SCAN("GET / HTTP/1.1\r\nTRACEPARENT:\t\t" TP, f), 1);
	assert_int_equal(SCAN("GET / HTTP/1.1\r\nTraceParent:" TP "\r\n", f), 1);
	/* Pipelined: each request's, in order. */
	assert_int_equal(
	    SCAN("GET /a HTTP/1.1\r\ntraceparent: 00-" TID "-1111111111111111-00\r\n\r\n"
		 "GET /b HTTP/1.1\r\ntraceparent: 00-" TID "-2222222222222222-01\r\n\r\n",
		 f),
	    2);
	assert_ids(&f[0], TID, "1111111111111111");
	assert_ids(&f[1], TID, "2222222222222222");
	assert_int_equal(f[0].flags, 0);
}

static void test_parse_invalid(void **state)
{
	static const char *const bad[] = {
	    /* all-zero ids */
	    "traceparent: 00-00000000000000000000000000000000-" SID "-01\r\n",
	    "traceparent: 00-" TID "-0000000000000000-01\r\n",
	    /* another version, uppercase hex, a longer value, bad separators */
	    "traceparent: 01-" TID "-" SID "-01\r\n",
	    "traceparent: ff-" TID "-" SID "-01\r\n",
	    "traceparent: 00-0AF7651916CD43DD8448EB211C80319C-" SID "-01\r\n",
	    "traceparent: " TP "-extra\r\n",
	    "traceparent: 00_" TID "-" SID "-01\r\n",
	    "traceparent: 00-" TID "-" SID "-0g\r\n",
	    /* truncated, not at a line start, a space before the colon, too much OWS */
	    "traceparent: 00-" TID "-" SID "-0",
	    "x-traceparent: " TP "\r\n",
	    "traceparent : " TP "\r\n",
	    "traceparent:      " TP "\r\n",
	    "tracestate: " TP "\r\n",
	};
	struct vigil_trace_ctx f[VIGIL_TRACE_QUEUE];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char in[256];

		snprintf(in, sizeof(in), "GET / HTTP/1.1\r\n%s", bad[i]);
		if (scan(in, strlen(in), f))
			fail_msg("accepted: %s", bad[i]);
	}
}

/* At most VIGIL_TRACE_QUEUE per read; a read shorter than one header finds nothing. */
static void test_parse_limits(void **state)
{
	struct vigil_trace_ctx f[VIGIL_TRACE_QUEUE];
	char in[2048] = "";

	(void)state;
	for (int i = 0; i < 6; i++)
		strcat(in, "GET / HTTP/1.1\r\ntraceparent: " TP "\r\n\r\n");
	assert_int_equal(scan(in, strlen(in), f), VIGIL_TRACE_QUEUE);
	assert_int_equal(scan(in, 40, f), 0);
}

static void test_environ(void **state)
{
	static const char env[] = "PATH=/bin\0TRACEPARENT=" TP "\0HOME=/";
	static const char lower[] = "traceparent=" TP "\0";
	struct vigil_trace_ctx c;
	char *big;

	(void)state;
	assert_int_equal(vigil_trace_from_environ(env, sizeof(env), &c), 0);
	assert_ids(&c, TID, SID);
	assert_int_equal(vigil_trace_from_environ(lower, sizeof(lower), &c), -ENOENT);
	assert_int_equal(
	    vigil_trace_from_environ("A=1\0XTRACEPARENT=" TP, sizeof("A=1\0XTRACEPARENT=" TP), &c),
	    -ENOENT);
	/* Deep in a large environment, across a chunk's end: found, as the kernel finds it. */
	for (size_t at = VIGIL_TRACE_ENV_STEP - 40; at < VIGIL_TRACE_ENV_STEP + 90; at += 13) {
		size_t len = at + 200;

		big = calloc(1, len);
		assert_non_null(big);
		memset(big, 'x', at);
		big[at - 1] = '\0';
		memcpy(big + at, "TRACEPARENT=" TP, sizeof("TRACEPARENT=" TP) - 1);
		assert_int_equal(vigil_trace_from_environ(big, len, &c), 0);
		assert_ids(&c, TID, SID);
		free(big);
	}
}

/* A context read at ts, answered at done (0: not), with trace id byte id. */
static struct vigil_trace_ctx ctx(uint8_t id, uint64_t ts, uint64_t done)
{
	struct vigil_trace_ctx c = {.ts_ns = ts, .done_ns = done};

	memset(c.trace_id, id, 16);
	memset(c.span_id, id, 8);
	return c;
}

static void test_assemble(void **state)
{
	struct vigil_trace_thread th = {.tgid = 10, .head = 6, .served = 5};
	struct vigil_trace_ring r = {.head = 4};
	const uint64_t t = 1000000000000ull;
	struct vigil_trace out;

	(void)state;
	/* q holds indexes 2..5: 2, 3, 4 answered before the fault, 5 in flight */
	th.q[2] = ctx(2, t - 50, t - 40);
	th.q[3] = ctx(3, t - 30, t - 20);
	th.q[0] = ctx(4, t - 20, t - 10);
	th.q[1] = ctx(5, t - 5, 0);
	/* the process: another thread's in-flight (older and newer), one answered after the
	 * fault (in flight then), one read after the fault, one stale */
	r.slots[0] = (struct vigil_trace_slot){.tid = 11, .ctx = ctx(6, t - 100, 0)};
	r.slots[1] = (struct vigil_trace_slot){.tid = 12, .ctx = ctx(7, t - 8, t + 50)};
	r.slots[2] = (struct vigil_trace_slot){.tid = 12, .ctx = ctx(8, t + 1, 0)};
	r.slots[3] =
	    (struct vigil_trace_slot){.tid = 13, .ctx = ctx(9, t - VIGIL_TRACE_MAX_AGE_NS - 1, 0)};
	r.slots[4] = (struct vigil_trace_slot){.tid = 10, .ctx = th.q[1]}; /* listed once */
	vigil_trace_assemble(&th, &r, 10, 10, t, &out);
	assert_int_equal(out.n, 3);
	assert_int_equal(out.ids[0][0], 5);
	assert_int_equal(out.ids[1][0], 7);
	assert_int_equal(out.ids[2][0], 6);
	assert_int_equal(out.span_id[0], 5);
	assert_int_equal(out.source, VIGIL_TRACE_HTTP);
	/* The thread's entry is another process's (a reused thread id): the ring alone. */
	th.tgid = 99;
	vigil_trace_assemble(&th, &r, 10, 10, t, &out);
	assert_int_equal(out.n, 3);
	assert_int_equal(out.ids[0][0], 5); /* from the ring: newest first */
	assert_int_equal(out.ids[1][0], 7);
	/* Nothing in flight: none. */
	vigil_trace_assemble(NULL, NULL, 10, 10, t, &out);
	assert_int_equal(out.n, 0);
	assert_int_equal(out.source, VIGIL_TRACE_NONE);
}

static void test_merge_cap(void **state)
{
	struct vigil_trace a = {0}, b = {0};

	(void)state;
	a.n = 6;
	for (unsigned int i = 0; i < 6; i++)
		a.ids[i][0] = (uint8_t)(i + 1);
	a.span_id[0] = 1;
	a.source = VIGIL_TRACE_HTTP;
	b.n = 4;
	for (unsigned int i = 0; i < 4; i++)
		b.ids[i][0] = (uint8_t)(i + 5); /* 5, 6 known; 7, 8 new */
	b.span_id[0] = 9;
	vigil_trace_merge(&a, &b);
	assert_int_equal(a.n, 8);
	assert_int_equal(a.ids[6][0], 7);
	assert_int_equal(a.ids[7][0], 8);
	assert_int_equal(a.span_id[0], 1); /* the first fault's */
	b.ids[0][0] = 42;
	vigil_trace_merge(&a, &b);
	assert_int_equal(a.n, VIGIL_TRACE_IDS_MAX);
}

/* The record carries trace_ids, span_id, trace_source only when there is a context. */
static void test_record_fields(void **state)
{
	struct vigil_incident inc = {.id = "0123456789abcdef", .workload_name = "web"};
	struct vigil_json j = {};

	(void)state;
	assert_int_equal(vigil_record_incident(&j, "n", 0, NULL, &inc), 0);
	assert_null(strstr(j.buf, "trace"));
	assert_null(strstr(j.buf, "span_id"));
	inc.trace.n = 2;
	memset(inc.trace.ids[0], 0xab, 16);
	memset(inc.trace.ids[1], 0x01, 16);
	memset(inc.trace.span_id, 0xcd, 8);
	inc.trace.source = VIGIL_TRACE_ENV;
	assert_int_equal(vigil_record_action(&j, "n", 0, NULL, &inc, "restart", "ok", "", 0), 0);
	assert_non_null(strstr(j.buf, "\"trace_ids\":[\"abababababababababababababababab\","
				      "\"01010101010101010101010101010101\"],\"span_id\":"
				      "\"cdcdcdcdcdcdcdcd\",\"trace_source\":\"env\""));
	assert_int_equal(vigil_record_incident(&j, "n", 0, NULL, &inc), 0);
	assert_non_null(strstr(j.buf, "\"trace_source\":\"env\""));
	vigil_json_free(&j);
}

/* Redis: the incident's hash and stream entry carry the three fields (trace_ids as its JSON
 * text), as every field of the record. */
static void test_redis_fields(void **state)
{
	static struct vigil_redis_plan p;
	struct vigil_incident inc = {.id = "ab", .workload_name = "web"};
	struct vigil_json j = {};
	char scratch[4096];
	const char *hset = NULL;
	int seen = 0;

	(void)state;
	inc.trace.n = 1;
	memset(inc.trace.ids[0], 0xab, 16);
	memset(inc.trace.span_id, 0xcd, 8);
	inc.trace.source = VIGIL_TRACE_HTTP;
	assert_int_equal(vigil_record_incident(&j, "n", 0, &(struct vigil_rid){5, 1}, &inc), 0);
	assert_int_equal(vigil_redis_plan(&p, "v:n:", "v:", "100", j.buf, j.len, scratch, false),
			 0);
	assert_int_equal(p.ncmd, 3);
	hset = p.cmd[1].argv[0];
	assert_string_equal(hset, "HSET");
	for (int i = 2; i + 1 < p.cmd[1].argc; i += 2) {
		const char *k = p.cmd[1].argv[i], *v = p.cmd[1].argv[i + 1];
		size_t kl = p.cmd[1].argl[i], vl = p.cmd[1].argl[i + 1];

		if (kl == 9 && !memcmp(k, "trace_ids", 9)) {
			assert_int_equal(vl, 36);
			assert_memory_equal(v, "[\"abababababababababababababababab\"]", 36);
			seen++;
		} else if (kl == 7 && !memcmp(k, "span_id", 7)) {
			assert_memory_equal(v, "cdcdcdcdcdcdcdcd", 16);
			seen++;
		} else if (kl == 12 && !memcmp(k, "trace_source", 12)) {
			assert_memory_equal(v, "http", 4);
			seen++;
		}
	}
	assert_int_equal(seen, 3);
	vigil_json_free(&j);
}

static void test_config(void **state)
{
	static const char yaml[] = "workloads:\n"
				   "  - name: a\n"
				   "    match: { exe: /bin/true }\n"
				   "    trace: { http: true, bytes: 2048 }\n"
				   "  - name: b\n"
				   "    match: { exe: /bin/false }\n"
				   "    trace: { env: true }\n"
				   "  - name: c\n"
				   "    match: { exe: /bin/sh }\n";
	static const char big[] = "workloads:\n"
				  "  - name: a\n"
				  "    match: { exe: /bin/true }\n"
				  "    trace: { http: true, bytes: 8192 }\n";
	struct vigil_config *cfg = NULL;
	char err[512];

	(void)state;
	assert_int_equal(vigil_config_parse(yaml, strlen(yaml), "t.yaml", &cfg, err, sizeof(err)),
			 0);
	assert_true(cfg->workloads[0].trace_http);
	assert_false(cfg->workloads[0].trace_env);
	assert_int_equal(cfg->workloads[0].trace_bytes, 2048);
	assert_false(cfg->workloads[1].trace_http);
	assert_true(cfg->workloads[1].trace_env);
	assert_int_equal(cfg->workloads[1].trace_bytes, VIGIL_TRACE_BYTES_DEFAULT);
	assert_false(cfg->workloads[2].trace_http || cfg->workloads[2].trace_env);
	vigil_config_free(cfg);
	cfg = NULL;
	assert_int_not_equal(vigil_config_parse(big, strlen(big), "t.yaml", &cfg, err, sizeof(err)),
			     0);
	assert_non_null(strstr(err, "bytes"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_valid),	  cmocka_unit_test(test_parse_invalid),
	    cmocka_unit_test(test_parse_limits),  cmocka_unit_test(test_environ),
	    cmocka_unit_test(test_assemble),	  cmocka_unit_test(test_merge_cap),
	    cmocka_unit_test(test_record_fields), cmocka_unit_test(test_redis_fields),
	    cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
