// SPDX-License-Identifier: Apache-2.0
/* Unit: every record is one valid JSON object with the contracted fields, whatever a process
 * put in its name. */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "output/output.h"
#include "records.h"

/* 2026-11-29T12:34:56.789Z */
#define WALL 1795955696789000000ull

static json_t *parse(const struct vigil_json *j)
{
	json_error_t e;
	json_t *o = json_loads(j->buf, 0, &e);

	if (!o)
		fail_msg("not JSON (%s): %s", e.text, j->buf);
	return o;
}

static void test_rfc3339(void **state)
{
	char buf[32];

	(void)state;
	vigil_rfc3339(WALL, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-29T12:34:56.789Z");
	vigil_rfc3339(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
}

static void test_event_record_hostile_comm(void **state)
{
	/* 16 bytes, no NUL: a quote, a newline, an escape sequence, invalid UTF-8. */
	static const char hostile[16] = "\"},{\n\x1b[2J\xff\xc0x\\y";
	struct vigil_json j = {};
	struct vigil_exit e;
	struct vigil_detection d;
	json_t *o;

	(void)state;
	e = tr_exit(4242, 0, 0, 11);
	e.hdr.pid = 4243;
	memcpy(e.hdr.comm, hostile, sizeof(hostile));
	vigil_detect(&e.hdr, "svc", &d);
	assert_int_equal(vigil_record_event(&j, "node-1", WALL, NULL, &e.hdr, "svc", &d), 0);
	assert_null(memchr(j.buf, '\n', j.len)); /* one line, always */
	o = parse(&j);
	assert_string_equal(json_string_value(json_object_get(o, "type")), "event");
	assert_string_equal(json_string_value(json_object_get(o, "ts")),
			    "2026-11-29T12:34:56.789Z");
	assert_string_equal(json_string_value(json_object_get(o, "node")), "node-1");
	assert_string_equal(json_string_value(json_object_get(o, "workload")), "svc");
	assert_string_equal(json_string_value(json_object_get(o, "class")), "crash");
	assert_int_equal(json_integer_value(json_object_get(o, "pid")), 4242);
	assert_int_equal(json_integer_value(json_object_get(o, "signal")), 11);
	assert_int_equal(json_integer_value(json_object_get(o, "exit_code")), 0);
	assert_true(json_is_false(json_object_get(o, "core_dumped")));
	/* The valid bytes survive as they were; invalid ones as their Latin-1 reading. */
	assert_memory_equal(json_string_value(json_object_get(o, "comm")), "\"},{\n\x1b[2J", 9);
	json_decref(o);
	vigil_json_free(&j);
}

static void test_incident_and_action_records(void **state)
{
	struct vigil_incident i;
	struct vigil_json j = {};
	json_t *o;

	(void)state;
	tr_incident(&i, "0123456789abcdef");
	i.opened_mono_ns = i.first_kernel_ns + 250000;
	i.resolved_mono_ns = i.opened_mono_ns + 2000000000ull;
	i.n_chain = 2;
	i.chain[0] = (struct vigil_chain_entry){.kernel_ns = 2000000000ull,
						.pid = 9,
						.label = "conn_refused",
						.detail = "10.0.0.5:5432"};
	i.chain[1] = (struct vigil_chain_entry){
	    .kernel_ns = 4900000000ull, .pid = 9, .label = "syscall_slow", .detail = "read"};
	assert_int_equal(vigil_record_incident(&j, "n", WALL, NULL, &i), 0);
	o = parse(&j);
	{
		json_t *c = json_object_get(o, "chain");

		assert_int_equal(json_array_size(c), 2);
		assert_string_equal(
		    json_string_value(json_object_get(json_array_get(c, 0), "class")),
		    "conn_refused");
		assert_int_equal(
		    json_integer_value(json_object_get(json_array_get(c, 0), "before_ms")), 3000);
		assert_int_equal(
		    json_integer_value(json_object_get(json_array_get(c, 1), "before_ms")), 100);
		assert_true(json_is_false(json_object_get(o, "lossy")));
	}
	assert_string_equal(json_string_value(json_object_get(o, "type")), "incident");
	assert_string_equal(json_string_value(json_object_get(o, "id")), "0123456789abcdef");
	assert_string_equal(json_string_value(json_object_get(o, "state")), "resolved");
	assert_string_equal(json_string_value(json_object_get(o, "class")), "crash");
	assert_int_equal(json_integer_value(json_object_get(o, "count")), 3);
	assert_int_equal(json_integer_value(json_object_get(o, "detect_us")), 250);
	assert_int_equal(json_integer_value(json_object_get(o, "recovery_ms")), 2000);
	json_decref(o);

	assert_int_equal(vigil_record_action(&j, "n", WALL, NULL, &i, "restart", "success",
					     "running again as pid 7", 7),
			 0);
	o = parse(&j);
	assert_string_equal(json_string_value(json_object_get(o, "type")), "action");
	assert_string_equal(json_string_value(json_object_get(o, "incident")), "0123456789abcdef");
	assert_string_equal(json_string_value(json_object_get(o, "action")), "restart");
	assert_string_equal(json_string_value(json_object_get(o, "outcome")), "success");
	assert_int_equal(json_integer_value(json_object_get(o, "pid")), 7);
	json_decref(o);
	vigil_json_free(&j);
}

/* Record ids only grow: within a millisecond, and when the clock steps back. */
static void test_rid_next(void **state)
{
	struct vigil_rid r = {0};

	(void)state;
	vigil_rid_next(&r, WALL);
	assert_int_equal(r.ms, WALL / 1000000);
	assert_int_equal(r.n, 0);
	vigil_rid_next(&r, WALL + 999);
	assert_int_equal(r.ms, WALL / 1000000);
	assert_int_equal(r.n, 1);
	vigil_rid_next(&r, WALL - 5000000000ull); /* 5 s back */
	assert_int_equal(r.ms, WALL / 1000000);
	assert_int_equal(r.n, 2);
	vigil_rid_next(&r, WALL + 1000000);
	assert_int_equal(r.ms, WALL / 1000000 + 1);
	assert_int_equal(r.n, 0);
}

/* The rid goes right after "type" (readers find the type first), the members every record
 * starts with in their order; a record built without one (an answer) has none. */
static void test_rid_in_record(void **state)
{
	struct vigil_rid r = {WALL / 1000000, 7};
	struct vigil_json j = {};
	char want[256];
	json_t *o;

	(void)state;
	assert_int_equal(vigil_record_health(&j, "n1", WALL, &r, "sockets", 3, 9), 0);
	snprintf(want, sizeof(want),
		 "{\"type\":\"health\",\"rid\":\"%llu-7\",\"ts\":\"2026-11-29T12:34:56.789Z\","
		 "\"node\":\"n1\",\"workload\":\"-\",\"family\":\"sockets\",\"drops\":3,"
		 "\"drops_total\":9}",
		 (unsigned long long)(WALL / 1000000));
	assert_string_equal(j.buf, want);
	assert_int_equal(strlen(j.buf), j.len);
	o = parse(&j);
	assert_int_equal(json_object_size(o), 8);
	json_decref(o);

	assert_int_equal(vigil_record_health(&j, "n1", WALL, NULL, "sockets", 3, 9), 0);
	assert_string_equal(j.buf, "{\"type\":\"health\",\"ts\":\"2026-11-29T12:34:56.789Z\","
				   "\"node\":\"n1\",\"workload\":\"-\",\"family\":\"sockets\","
				   "\"drops\":3,\"drops_total\":9}");
	vigil_json_free(&j);
}

/* The knowledge and breaker records carry what the Redis hashes and the SQL export need. */
static void test_knowledge_and_breaker_records(void **state)
{
	const struct vigil_know_rec k = {"svc", "851ca451ff50881d", "crash", "restart", 3, 2, WALL};
	struct vigil_json j = {};
	json_t *o;

	(void)state;
	assert_int_equal(vigil_record_knowledge(&j, "n1", WALL, NULL, &k), 0);
	o = parse(&j);
	assert_string_equal(json_string_value(json_object_get(o, "type")), "knowledge");
	assert_string_equal(json_string_value(json_object_get(o, "action")), "restart");
	assert_int_equal(json_integer_value(json_object_get(o, "attempts")), 3);
	assert_int_equal(json_integer_value(json_object_get(o, "successes")), 2);
	assert_true(json_is_real(json_object_get(o, "success_rate")));
	assert_true(json_real_value(json_object_get(o, "success_rate")) > 0.665 &&
		    json_real_value(json_object_get(o, "success_rate")) < 0.675);
	assert_string_equal(json_string_value(json_object_get(o, "last_applied")),
			    "2026-11-29T12:34:56.789Z");
	json_decref(o);
	assert_int_equal(vigil_record_breaker(&j, "n1", WALL, NULL, "svc", "open", 3, WALL), 0);
	o = parse(&j);
	assert_string_equal(json_string_value(json_object_get(o, "state")), "open");
	assert_int_equal(json_integer_value(json_object_get(o, "failures")), 3);
	assert_string_equal(json_string_value(json_object_get(o, "opened_at")),
			    "2026-11-29T12:34:56.789Z");
	json_decref(o);
	assert_int_equal(vigil_record_breaker(&j, "n1", WALL, NULL, "svc", "closed", 0, 0), 0);
	o = parse(&j);
	assert_true(json_is_null(json_object_get(o, "opened_at")));
	json_decref(o);
	vigil_json_free(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc3339),
	    cmocka_unit_test(test_rid_next),
	    cmocka_unit_test(test_rid_in_record),
	    cmocka_unit_test(test_knowledge_and_breaker_records),
	    cmocka_unit_test(test_event_record_hostile_comm),
	    cmocka_unit_test(test_incident_and_action_records),
	};

	return cmocka_run_group_tests_name("sinks", tests, NULL, NULL);
}
