// SPDX-License-Identifier: Apache-2.0
/* Unit: vigil report's numbers from a synthetic journal whose answers are known: nearest-rank
 * percentiles, the level-1 share, counts that add up with each incident counted once, the
 * --since cutoff, the JSON object, names shown terminal-safe, and an empty journal. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "control/hist.h"
#include "control/report.h"

/* One incident record of id at ts (hh:mm:ss of 2026-01-01). level 0: none written. */
static void inc(FILE *f, const char *id, const char *ts, const char *wl, const char *cls,
		const char *state, unsigned int detect_us, long recovery_ms, unsigned int level)
{
	fprintf(f,
		"{\"type\":\"incident\",\"rid\":\"1-0\",\"ts\":\"2026-01-01T%s.000Z\","
		"\"node\":\"n\",\"workload\":\"%s\",\"id\":\"%s\",\"signature\":\"s\","
		"\"class\":\"%s\",\"state\":\"%s\",\"count\":1,\"detect_us\":%u",
		ts, wl, id, cls, state, detect_us);
	if (recovery_ms >= 0)
		fprintf(f, ",\"recovery_ms\":%ld", recovery_ms);
	if (level)
		fprintf(f, ",\"level\":%u", level);
	fprintf(f, ",\"lossy\":false,\"chain\":[]}\n");
}

static void act(FILE *f, const char *id, const char *ts, const char *outcome)
{
	fprintf(f,
		"{\"type\":\"action\",\"rid\":\"1-0\",\"ts\":\"2026-01-01T%s.000Z\","
		"\"node\":\"n\",\"workload\":\"api\",\"incident\":\"%s\",\"signature\":\"s\","
		"\"action\":\"restart\",\"outcome\":\"%s\",\"detail\":\"\"}\n",
		ts, id, outcome);
}

/*
 * The journal: ten level-1 crashes of api (a0..a9, detected in 10..100 us; a0..a7 resolved in
 * 100..800 ms, a8 failed, a9 escalated); one level-3 conn_refused of a workload whose name
 * holds an ESC (b0: detected in 1000 us, approved, resolved in 5000 ms, opened before 11:00
 * and resolved after); one level-1 crash still healing (c0, 500 us). A torn line, garbage and
 * an action of an incident rotated out are in it too.
 */
static FILE *journal(void)
{
	FILE *f = tmpfile();
	char id[8], ts[16];

	assert_non_null(f);
	for (int k = 0; k < 10; k++) {
		snprintf(id, sizeof(id), "a%d", k);
		snprintf(ts, sizeof(ts), "10:%02d:00", k);
		inc(f, id, ts, "api", "crash", "open", 10 * (k + 1), -1, 0);
		inc(f, id, ts, "api", "crash", "healing", 10 * (k + 1), -1, 1);
		if (k < 9)
			act(f, id, ts, "intent");
		snprintf(ts, sizeof(ts), "10:%02d:30", k);
		if (k < 8) {
			act(f, id, ts, "success");
			inc(f, id, ts, "api", "crash", "resolved", 10 * (k + 1), 100 * (k + 1), 1);
		} else if (k == 8) {
			act(f, id, ts, "failed");
			inc(f, id, ts, "api", "crash", "failed", 10 * (k + 1), -1, 1);
		} else {
			inc(f, id, ts, "api", "crash", "escalated", 10 * (k + 1), -1, 1);
		}
	}
	fputs("{\"type\":\"incident\",\"rid\":\"1-0\",\"ts\":\"2026-01-01T10:5", f); /* torn */
	inc(f, "b0", "10:59:00", "db\\u001b[31m", "conn_refused", "awaiting_approval", 1000, -1, 3);
	fputs("not json at all\n", f);
	act(f, "zz", "11:00:00", "success"); /* its incident was rotated out */
	act(f, "b0", "12:00:00", "approved");
	act(f, "b0", "12:00:00", "intent");
	act(f, "b0", "12:00:05", "success");
	inc(f, "b0", "12:00:05", "db\\u001b[31m", "conn_refused", "resolved", 1000, 5000, 3);
	inc(f, "c0", "12:30:00", "api", "crash", "healing", 500, -1, 1);
	rewind(f);
	return f;
}

static void test_numbers(void **state)
{
	struct vigil_report r;
	FILE *f = journal();

	(void)state;
	assert_int_equal(vigil_report_read(f, NULL, &r), 0);
	fclose(f);
	/* Every incident once, at its last record; the states add up to them. */
	assert_int_equal(r.incidents, 12);
	assert_int_equal(r.state[VIGIL_RS_RESOLVED], 9);
	assert_int_equal(r.state[VIGIL_RS_FAILED], 1);
	assert_int_equal(r.state[VIGIL_RS_ESCALATED], 1);
	assert_int_equal(r.state[VIGIL_RS_HEALING], 1);
	/* Detection: 10..100, 500, 1000 us. Nearest rank: p50 is the 6th of 12, p99 the 12th. */
	assert_int_equal(r.detect_us.n, 12);
	assert_int_equal(vigil_report_pct(&r.detect_us, 50), 60);
	assert_int_equal(vigil_report_pct(&r.detect_us, 99), 1000);
	/* Recovery: the resolved only, 100..800 and 5000 ms: the 5th and the 9th of 9. */
	assert_int_equal(r.recovery_ms.n, 9);
	assert_int_equal(vigil_report_pct(&r.recovery_ms, 50), 500);
	assert_int_equal(vigil_report_pct(&r.recovery_ms, 99), 5000);
	/* Level 1: 10 over, 8 resolved without a person (80 %); c0 is not over yet. b0 is
	 * level 3 and was approved. */
	assert_int_equal(r.level1, 10);
	assert_int_equal(r.level1_unattended, 8);
	assert_int_equal(r.level1_active, 1);
	assert_int_equal(r.approvals, 1);
	assert_int_equal(r.heals, 10);
	assert_int_equal(r.heals_ok, 9);
	assert_int_equal(r.heals_failed, 1);
	/* Per workload and class, most incidents first. */
	assert_int_equal(r.n_workloads, 2);
	assert_string_equal(r.workloads[0].name, "api");
	assert_int_equal(r.workloads[0].incidents, 11);
	assert_int_equal(r.workloads[0].resolved, 8);
	assert_int_equal(r.workloads[0].escalated, 1);
	assert_int_equal(r.workloads[0].failed, 1);
	assert_string_equal(r.workloads[1].name, "db\x1b[31m");
	assert_int_equal(r.workloads[1].incidents, 1);
	assert_int_equal(r.n_classes, 2);
	assert_string_equal(r.classes[0].name, "crash");
	assert_int_equal(r.classes[0].incidents, 11);
	assert_int_equal(r.classes[1].incidents, 1);
	/* The garbage is skipped; the record glued to the torn one is read (torn), and so are
	 * the records around them. */
	assert_int_equal(r.st.skipped, 1);
	assert_int_equal(r.st.torn, 1);
	/* The bars count what the percentiles count: 10 us is 10000 ns, slot 13. */
	assert_int_equal(r.detect_us.slot[vigil_hist_slot(10000)], 1);
	assert_int_equal(vigil_hist_slot(10000), 13);
	assert_int_equal(vigil_hist_slot(0), 0);
	assert_int_equal(vigil_hist_slot(1), 0);
	assert_int_equal(vigil_hist_slot(UINT64_MAX), 63);
	vigil_report_free(&r);
}

static void test_since(void **state)
{
	struct vigil_report r;
	FILE *f = journal();

	(void)state;
	/* b0 opened before the cutoff and was resolved after: counted whole, with its detection
	 * and its approval; c0 too; the a's not. */
	assert_int_equal(vigil_report_read(f, "2026-01-01T11:00:00.000Z", &r), 0);
	fclose(f);
	assert_int_equal(r.incidents, 2);
	assert_int_equal(r.detect_us.n, 2);
	assert_int_equal(vigil_report_pct(&r.detect_us, 50), 500);
	assert_int_equal(vigil_report_pct(&r.detect_us, 99), 1000);
	assert_int_equal(r.recovery_ms.n, 1);
	assert_int_equal(vigil_report_pct(&r.recovery_ms, 50), 5000);
	assert_int_equal(r.level1, 0);
	assert_int_equal(r.level1_active, 1);
	assert_int_equal(r.approvals, 1);
	assert_int_equal(r.heals, 1);
	vigil_report_free(&r);
}

static void test_json(void **state)
{
	struct vigil_json out = {};
	struct vigil_report r;
	json_error_t e;
	json_t *o, *x;
	FILE *f = journal();

	(void)state;
	assert_int_equal(vigil_report_read(f, NULL, &r), 0);
	fclose(f);
	assert_int_equal(vigil_report_json(&r, "/j", &out), 0);
	o = json_loads(out.buf, 0, &e);
	if (!o)
		fail_msg("not JSON (%s): %s", e.text, out.buf);
	assert_int_equal(json_integer_value(json_object_get(o, "incidents")), 12);
	assert_true(json_is_null(json_object_get(o, "since")));
	x = json_object_get(o, "detect_us");
	assert_int_equal(json_integer_value(json_object_get(x, "p50")), 60);
	assert_int_equal(json_integer_value(json_object_get(x, "p99")), 1000);
	x = json_object_get(o, "recovery_ms");
	assert_int_equal(json_integer_value(json_object_get(x, "count")), 9);
	assert_int_equal(json_integer_value(json_object_get(x, "p99")), 5000);
	x = json_object_get(o, "level1");
	assert_int_equal(json_integer_value(json_object_get(x, "incidents")), 10);
	assert_int_equal(json_integer_value(json_object_get(x, "unattended")), 8);
	assert_true(json_number_value(json_object_get(x, "share")) == 0.8);
	assert_int_equal(json_integer_value(json_object_get(o, "escalations")), 1);
	x = json_object_get(o, "heals");
	assert_int_equal(json_integer_value(json_object_get(x, "failed")), 1);
	x = json_array_get(json_object_get(o, "workloads"), 1);
	/* The exact name: JSON carries the bytes, escaped. */
	assert_string_equal(json_string_value(json_object_get(x, "name")), "db\x1b[31m");
	json_decref(o);
	vigil_json_free(&out);
	vigil_report_free(&r);
}

static void test_print(void **state)
{
	struct vigil_report r;
	char *text = NULL;
	size_t len = 0;
	FILE *f = journal(), *out = open_memstream(&text, &len);

	(void)state;
	assert_int_equal(vigil_report_read(f, NULL, &r), 0);
	fclose(f);
	assert_int_equal(vigil_report_print(&r, "/j", out), 0);
	fclose(out);
	assert_non_null(strstr(text, "incidents    12 (each once, at its last record): 1 healing, "
				     "9 resolved, 1 escalated, 1 failed\n"));
	assert_non_null(strstr(text, "detection    p50 60 us, p99 1000 us, max 1000 us"));
	assert_non_null(strstr(text, "recovery     p50 500 ms, p99 5000 ms, max 5000 ms"));
	assert_non_null(strstr(text, "level 1      8 of 10 level-1 incidents resolved without a "
				     "person = 80.0 % (target 80 %); 1 still being healed"));
	assert_non_null(strstr(text, "heals        10 run, 9 succeeded, 1 failed; 1 incidents "
				     "approved by a person\n"));
	/* A name's ESC never reaches the terminal. */
	assert_null(strchr(text, '\x1b'));
	assert_non_null(strstr(text, "db\\x1b[31m"));
	/* Both distributions are drawn: detection from 10 us (slot 13: usecs) ... */
	assert_non_null(strstr(text, "     usecs               : count    distribution\n"
				     "         8 -> 16         : 1        |"));
	/* ... recovery from 100 ms (slot 26: msecs). */
	assert_non_null(strstr(text, "recovery (opened -> resolved), 9 incidents\n"
				     "     msecs               : count    distribution\n"
				     "        67 -> 134        : 1        |"));
	free(text);
	vigil_report_free(&r);
}

static void test_empty(void **state)
{
	struct vigil_json out = {};
	struct vigil_report r;
	char *text = NULL;
	size_t len = 0;
	FILE *f = tmpfile(), *o = open_memstream(&text, &len);
	json_t *j;

	(void)state;
	assert_int_equal(vigil_report_read(f, NULL, &r), 0);
	fclose(f);
	assert_int_equal(r.incidents, 0);
	assert_int_equal(vigil_report_pct(&r.detect_us, 99), 0);
	assert_int_equal(vigil_report_print(&r, "/j", o), 0);
	fclose(o);
	assert_string_equal(text, "vigil report: /j (0 lines, 0 skipped)\nno incidents\n");
	assert_int_equal(vigil_report_json(&r, "/j", &out), 0);
	j = json_loads(out.buf, 0, NULL);
	assert_non_null(j);
	assert_true(json_is_null(json_object_get(json_object_get(j, "detect_us"), "p50")));
	assert_true(json_is_null(json_object_get(json_object_get(j, "level1"), "share")));
	json_decref(j);
	vigil_json_free(&out);
	free(text);
	vigil_report_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_numbers), cmocka_unit_test(test_since),
	    cmocka_unit_test(test_json),    cmocka_unit_test(test_print),
	    cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
