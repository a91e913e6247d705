// SPDX-License-Identifier: Apache-2.0
/* Unit: "incidents" and "incident ID" from a live table and from a journal (torn, mixed, over
 * its cap), and their rendering for a person. */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "control/ctl.h"
#include "control/history.h"
#include "core/loop.h"
#include "output/output.h"
#include "records.h"

/* 2026-11-29T12:34:56.789Z */
#define WALL 1795955696789000000ull
#define SEC 1000000000ull

static struct vigil_exit ev(uint32_t tgid, uint64_t ts, uint32_t code)
{
	return tr_exit(tgid, ts, 1, code);
}

static struct vigil_incident *rec(struct vigil_incidents *t, struct vigil_exit *e)
{
	struct vigil_detection d;
	struct vigil_incident *i;
	bool opened;

	assert_int_equal(vigil_detect(&e->hdr, "svc", &d), 0);
	i = vigil_incidents_record(t, &e->hdr, &d, "svc", &opened);
	assert_non_null(i);
	return i;
}

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *o = json_loads(text, 0, &e);

	if (!o)
		fail_msg("not JSON (%s): %s", e.text, text);
	return o;
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	assert_non_null(s);
	return s;
}

static long long num(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	assert_true(json_is_integer(v));
	return (long long)json_integer_value(v);
}

/* A table with two incidents, the first with a causal chain of one event. */
static struct vigil_incidents *live_table(struct vigil_incident **a, struct vigil_incident **b)
{
	uint64_t now = vigil_mono_ns();
	struct vigil_exit e1 = ev(7, now, 11), e2 = ev(8, now + 1000, 11), e3 = ev(9, now, 3 << 8);
	struct vigil_incidents *t;

	assert_int_equal(
	    vigil_incidents_new(&(struct vigil_incidents_opts){.window_ms = 60000}, &t), 0);
	vigil_incidents_note(t, 1, now - 2 * SEC, 42, "conn_refused", "10.0.0.5:5432");
	*a = rec(t, &e1);
	assert_ptr_equal(rec(t, &e2), *a); /* same signature: count 2 */
	(*a)->lossy = true;
	(*a)->lost = 5;
	*b = rec(t, &e3);
	return t;
}

static void test_live_list(void **state)
{
	struct vigil_incident *a, *b;
	struct vigil_incidents *t = live_table(&a, &b);
	struct vigil_json out = {};
	const json_t *list, *x;
	json_t *o;

	(void)state;
	assert_int_equal(vigil_history_answer(t, "node-1", "incidents", NULL, &out), 0);
	o = parse(out.buf);
	list = json_object_get(o, "incidents");
	assert_int_equal(json_array_size(list), 2);
	/* Newest first. */
	x = json_array_get(list, 0);
	assert_string_equal(str(x, "id"), b->id);
	assert_string_equal(str(x, "state"), "open");
	assert_string_equal(str(x, "class"), "exit_nonzero");
	assert_string_equal(str(x, "workload"), "svc");
	assert_int_equal(num(x, "count"), 1);
	assert_string_equal(str(x, "title"), b->title);
	assert_true(json_is_false(json_object_get(x, "lossy")));
	assert_true(num(x, "age_s") <= 1);
	x = json_array_get(list, 1);
	assert_string_equal(str(x, "id"), a->id);
	assert_string_equal(str(x, "class"), "crash");
	assert_int_equal(num(x, "count"), 2);
	assert_true(json_is_true(json_object_get(x, "lossy")));
	json_decref(o);

	/* An empty table is an empty list, not an error. */
	vigil_incidents_free(t);
	assert_int_equal(
	    vigil_incidents_new(&(struct vigil_incidents_opts){.window_ms = 60000}, &t), 0);
	assert_int_equal(vigil_history_answer(t, "node-1", "incidents", NULL, &out), 0);
	assert_string_equal(out.buf, "{\"incidents\":[]}");
	vigil_json_free(&out);
	vigil_incidents_free(t);
}

static void test_live_one(void **state)
{
	struct vigil_incident *a, *b;
	struct vigil_incidents *t = live_table(&a, &b);
	struct vigil_json out = {};
	const json_t *chain, *c;
	json_t *o;

	(void)state;
	assert_int_equal(vigil_history_answer(t, "node-1", "incident", a->id, &out), 0);
	o = parse(out.buf);
	assert_string_equal(str(o, "type"), "incident");
	assert_string_equal(str(o, "node"), "node-1");
	assert_string_equal(str(o, "id"), a->id);
	assert_string_equal(str(o, "signature"), a->signature);
	assert_string_equal(str(o, "state"), "open");
	assert_int_equal(num(o, "count"), 2);
	assert_int_equal(num(o, "pid"), 8);
	assert_int_equal(num(o, "signal"), 11);
	assert_int_equal(num(o, "lost"), 5);
	chain = json_object_get(o, "chain");
	assert_int_equal(json_array_size(chain), 1);
	c = json_array_get(chain, 0);
	assert_string_equal(str(c, "class"), "conn_refused");
	assert_string_equal(str(c, "detail"), "10.0.0.5:5432");
	assert_int_equal(num(c, "pid"), 42);
	assert_int_equal(num(c, "before_ms"), 2000);
	json_decref(o);

	/* Not this module's, or not known: -ENOENT, which ctl turns into an error answer. */
	assert_int_equal(vigil_history_answer(t, "n", "incident", "0000000000000000", &out),
			 -ENOENT);
	assert_int_equal(vigil_history_answer(t, "n", "incident", NULL, &out), -ENOENT);
	assert_int_equal(vigil_history_answer(t, "n", "incidents", "x", &out), -ENOENT);
	assert_int_equal(vigil_history_answer(t, "n", "status", NULL, &out), -ENOENT);
	vigil_json_free(&out);
	vigil_incidents_free(t);
}

/* Append the record in j, and a newline, to f. */
static void put(FILE *f, const struct vigil_json *j)
{
	assert_int_equal(fprintf(f, "%s\n", j->buf), (int)j->len + 1);
}

/* A journal as the daemon writes it: A opens, an event, B opens, garbage, A counts 2, A heals
 * and is resolved, then a torn record (B resolved, cut mid-write) as the last line. */
static FILE *journal(struct vigil_incident *a, struct vigil_incident *b)
{
	struct vigil_exit e = ev(7, 1000, 11);
	struct vigil_detection d;
	struct vigil_json j = {};
	FILE *f = tmpfile();

	assert_non_null(f);
	assert_int_equal(vigil_record_incident(&j, "n", WALL, NULL, a), 0);
	put(f, &j);
	vigil_detect(&e.hdr, "svc", &d);
	assert_int_equal(vigil_record_event(&j, "n", WALL, NULL, &e.hdr, "svc", &d), 0);
	put(f, &j);
	assert_int_equal(vigil_record_incident(&j, "n", WALL + SEC, NULL, b), 0);
	put(f, &j);
	fputs("vigil: this is not JSON\n", f);
	a->count = 2;
	assert_int_equal(vigil_record_incident(&j, "n", WALL + 2 * SEC, NULL, a), 0);
	put(f, &j);
	a->state = VIGIL_INC_HEALING;
	assert_int_equal(vigil_record_incident(&j, "n", WALL + 3 * SEC, NULL, a), 0);
	put(f, &j);
	a->state = VIGIL_INC_RESOLVED;
	a->resolved_mono_ns = a->opened_mono_ns + 1500000000ull;
	assert_int_equal(vigil_record_incident(&j, "n", WALL + 4 * SEC, NULL, a), 0);
	put(f, &j);
	b->state = VIGIL_INC_RESOLVED;
	assert_int_equal(vigil_record_incident(&j, "n", WALL + 5 * SEC, NULL, b), 0);
	assert_int_equal(fwrite(j.buf, 1, j.len / 2, f), j.len / 2);
	vigil_json_free(&j);
	rewind(f);
	return f;
}

static void test_journal_latest_state(void **state)
{
	struct vigil_incident *a, *b;
	struct vigil_incidents *t = live_table(&a, &b);
	struct vigil_journal_stats st;
	const json_t *list, *x;
	char *ans = NULL;
	FILE *f = journal(a, b);
	json_t *o;

	(void)state;
	assert_int_equal(vigil_history_journal(f, "incidents", NULL, 0, WALL + 90 * SEC, &ans, &st),
			 0);
	assert_int_equal(st.lines, 8);
	assert_int_equal(st.skipped, 2); /* the garbage line and the torn last one */
	assert_int_equal(st.malformed, 0);
	assert_int_equal(st.forgotten, 0);
	o = parse(ans);
	list = json_object_get(o, "incidents");
	assert_int_equal(json_array_size(list), 2);
	x = json_array_get(list, 0); /* B opened after A: newest first */
	assert_string_equal(str(x, "id"), b->id);
	assert_string_equal(str(x, "state"), "open"); /* its "resolved" record was torn */
	assert_string_equal(str(x, "class"), "exit_nonzero");
	assert_int_equal(num(x, "age_s"), 89);
	x = json_array_get(list, 1);
	assert_string_equal(str(x, "id"), a->id);
	assert_string_equal(str(x, "state"), "resolved");
	assert_string_equal(str(x, "workload"), "svc");
	assert_string_equal(str(x, "title"), a->title);
	assert_int_equal(num(x, "count"), 2);
	assert_int_equal(num(x, "age_s"), 90); /* from its first record */
	assert_true(json_is_true(json_object_get(x, "lossy")));
	json_decref(o);
	free(ans);

	/* One incident: its last whole record, as the journal holds it. */
	rewind(f);
	assert_int_equal(vigil_history_journal(f, "incident", a->id, 0, WALL, &ans, &st), 0);
	assert_int_equal(st.skipped, 2);
	o = parse(ans);
	assert_string_equal(str(o, "state"), "resolved");
	assert_string_equal(str(o, "ts"), "2026-11-29T12:35:00.789Z");
	assert_int_equal(num(o, "recovery_ms"), 1500);
	assert_int_equal(json_array_size(json_object_get(o, "chain")), 1);
	json_decref(o);
	free(ans);
	rewind(f);
	assert_int_equal(
	    vigil_history_journal(f, "incident", "0000000000000000", 0, WALL, &ans, &st), -ENOENT);
	rewind(f);
	assert_int_equal(vigil_history_journal(f, "latency", NULL, 0, WALL, &ans, &st), -ENOENT);
	fclose(f);
	vigil_incidents_free(t);
}

/* A torn record, then the daemon restarted and appended to the same line: the new record is
 * still read. An incident record without an id is counted, not fatal. */
static void test_journal_torn_then_appended(void **state)
{
	struct vigil_incident *a, *b;
	struct vigil_incidents *t = live_table(&a, &b);
	struct vigil_journal_stats st;
	struct vigil_json j = {};
	char *ans = NULL;
	FILE *f = tmpfile();
	json_t *o;

	(void)state;
	assert_non_null(f);
	assert_int_equal(vigil_record_incident(&j, "n", WALL, NULL, a), 0);
	assert_int_equal(fwrite(j.buf, 1, 40, f), 40);
	a->state = VIGIL_INC_ESCALATED;
	assert_int_equal(vigil_record_incident(&j, "n", WALL + SEC, NULL, a), 0);
	put(f, &j);
	fputs("{\"type\":\"incident\",\"state\":\"open\"}\n\n", f);
	/* Lines of no interest are checked without decoding them: good ones are not skipped... */
	fputs("{\"type\":\"event\",\"x\":[1,-2.5e3,{\"y\":null},true,false,[]],"
	      "\"z\":\"a\\\"\\u00e9\\n\"} \n",
	      f);
	/* ... bad ones are. */
	fputs("{\"type\":\"event\",\"x\":tru}\n{\"type\":\"event\"} {}\n"
	      "{\"type\":\"health\",\"n\":01}\n{\"type\":\"event\",\"s\":\"\\q\"}\n",
	      f);
	rewind(f);
	assert_int_equal(vigil_history_journal(f, "incidents", NULL, 0, WALL + SEC, &ans, &st), 0);
	assert_int_equal(st.lines, 8);
	/* The empty one and the last four; the torn one is counted as torn, the record after
	 * the tear read. */
	assert_int_equal(st.skipped, 5);
	assert_int_equal(st.torn, 1);
	assert_int_equal(st.malformed, 1);
	o = parse(ans);
	assert_int_equal(json_array_size(json_object_get(o, "incidents")), 1);
	assert_string_equal(str(json_array_get(json_object_get(o, "incidents"), 0), "state"),
			    "escalated");
	json_decref(o);
	free(ans);
	rewind(f);
	assert_int_equal(vigil_history_journal(f, "incident", a->id, 0, WALL, &ans, &st), 0);
	assert_string_equal(ans, j.buf);
	free(ans);
	vigil_json_free(&j);
	fclose(f);
	vigil_incidents_free(t);
}

/* Over the cap, the incidents first seen longest ago are dropped; the others still update. */
static void test_journal_cap(void **state)
{
	struct vigil_incident i;
	struct vigil_journal_stats st;
	struct vigil_json j = {};
	const json_t *list;
	char *ans = NULL;
	FILE *f = tmpfile();
	json_t *o;

	(void)state;
	assert_non_null(f);
	memset(&i, 0, sizeof(i));
	strcpy(i.workload_name, "svc");
	for (unsigned int k = 1; k <= 5; k++) {
		snprintf(i.id, sizeof(i.id), "%016x", k);
		i.count = 1;
		assert_int_equal(vigil_record_incident(&j, "n", WALL, NULL, &i), 0);
		put(f, &j);
	}
	/* Incident 4, still held, counts again; incident 1, dropped, comes back as new. */
	strcpy(i.id, "0000000000000004");
	i.count = 9;
	assert_int_equal(vigil_record_incident(&j, "n", WALL, NULL, &i), 0);
	put(f, &j);
	strcpy(i.id, "0000000000000001");
	i.count = 7;
	assert_int_equal(vigil_record_incident(&j, "n", WALL, NULL, &i), 0);
	put(f, &j);
	rewind(f);
	assert_int_equal(vigil_history_journal(f, "incidents", NULL, 3, WALL, &ans, &st), 0);
	assert_int_equal(st.forgotten, 3);
	o = parse(ans);
	list = json_object_get(o, "incidents");
	assert_int_equal(json_array_size(list), 3);
	assert_string_equal(str(json_array_get(list, 0), "id"), "0000000000000001");
	assert_int_equal(num(json_array_get(list, 0), "count"), 7);
	assert_string_equal(str(json_array_get(list, 1), "id"), "0000000000000005");
	assert_string_equal(str(json_array_get(list, 2), "id"), "0000000000000004");
	assert_int_equal(num(json_array_get(list, 2), "count"), 9);
	json_decref(o);
	free(ans);
	vigil_json_free(&j);
	fclose(f);
}

/* Render into a string. */
static char *render(int (*fn)(const char *, FILE *), const char *json, int want)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(fn(json, f), want);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void test_render_table(void **state)
{
	static const char answer[] =
	    "{\"incidents\":["
	    "{\"id\":\"01a2274d24950003\",\"state\":\"open\",\"class\":\"exit_nonzero\","
	    "\"workload\":\"svc\",\"count\":12,\"age_s\":5,\"title\":\"svc exit_nonzero status=3\","
	    "\"lossy\":false},"
	    "{\"id\":\"01a2274d24950002\",\"state\":\"resolved\",\"class\":\"crash\","
	    "\"workload\":\"svc\",\"count\":1,\"age_s\":200,\"title\":\"svc crash SIGSEGV\","
	    "\"lossy\":true},"
	    "{\"id\":\"01a2274d24950001\",\"state\":\"failed\",\"count\":3,\"age_s\":7300,"
	    "\"title\":\"a\\u001b[2Jb\"},"
	    "{\"id\":\"01a2274d24950000\",\"state\":\"escalated\",\"count\":1,\"age_s\":90000,"
	    "\"title\":\"old\"}]}";
	char *s;

	(void)state;
	s = render(vigil_ctl_print_incidents, answer, 0);
	assert_string_equal(s,
			    "ID                STATE      COUNT  AGE  TITLE\n"
			    "01a2274d24950003  open          12   5s  svc exit_nonzero status=3\n"
			    "01a2274d24950002  resolved       1   3m  svc crash SIGSEGV [lossy]\n"
			    "01a2274d24950001  failed         3   2h  a\\x1b[2Jb\n"
			    "01a2274d24950000  escalated      1   1d  old\n");
	free(s);
	s = render(vigil_ctl_print_incidents, "{\"incidents\":[]}", 0);
	assert_string_equal(s, "no incidents\n");
	free(s);
	s = render(vigil_ctl_print_incidents, "{\"error\":\"unknown command 'incidents'\"}",
		   -ENOENT);
	assert_string_equal(s, "error: unknown command 'incidents'\n");
	free(s);
	free(render(vigil_ctl_print_incidents, "{\"workloads\":[]}", -EINVAL));
	free(render(vigil_ctl_print_incidents, "not json", -EINVAL));
}

static void test_render_incident(void **state)
{
	struct vigil_incident i;
	struct vigil_json j = {};
	char *s;

	(void)state;
	tr_incident(&i, "01a2274d24950001");
	i.tgid = 4242;
	i.signal = 11;
	i.opened_mono_ns = i.first_kernel_ns + 198000;
	i.resolved_mono_ns = i.opened_mono_ns + 2300000000ull;
	i.lossy = true;
	i.lost = 12;
	i.n_chain = 2;
	i.chain[0] = (struct vigil_chain_entry){.kernel_ns = 3766000000ull,
						.pid = 42,
						.label = "conn_refused",
						.detail = "10.0.0.5:5432"};
	i.chain[1] = (struct vigil_chain_entry){
	    .kernel_ns = 4900000000ull, .pid = 0, .label = "retransmits", .detail = ""};
	assert_int_equal(vigil_record_incident(&j, "node-1", WALL + 60 * SEC, NULL, &i), 0);
	s = render(vigil_ctl_print_incident, j.buf, 0);
	assert_string_equal(s, "storyteller crash SIGSEGV\n"
			       "id         01a2274d24950001\n"
			       "signature  0c14ea5ca28149e2\n"
			       "class      crash\n"
			       "state      resolved\n"
			       "count      3\n"
			       "workload   storyteller\n"
			       "pid        4242 (the last event's)\n"
			       "signal     SIGSEGV (11)\n"
			       "detected   in 198 us\n"
			       "recovered  in 2300 ms\n"
			       "lossy      yes: 12 kernel events of the workload lost around it\n"
			       "node       node-1\n"
			       "opened     2026-11-29T12:34:56.789Z\n"
			       "as of      2026-11-29T12:35:56.789Z\n"
			       "chain      2 earlier events of the workload, oldest first\n"
			       "  -1234 ms  conn_refused 10.0.0.5:5432 (pid 42)\n"
			       "   -100 ms  retransmits\n");
	free(s);

	/* An exit status, nothing lost, no chain. */
	i.signal = 0;
	i.status = 3;
	i.cls = VIGIL_CLASS_EXIT_NONZERO;
	i.resolved_mono_ns = 0;
	i.lossy = false;
	i.n_chain = 0;
	assert_int_equal(vigil_record_incident(&j, "node-1", WALL, NULL, &i), 0);
	s = render(vigil_ctl_print_incident, j.buf, 0);
	assert_non_null(strstr(s, "\nexit code  3\ndetected   in 198 us\nlossy      no\n"));
	assert_non_null(strstr(s, "\nchain      none\n"));
	assert_null(strstr(s, "recovered"));
	free(s);
	vigil_json_free(&j);
	s = render(vigil_ctl_print_incident, "{\"error\":\"unknown command or argument\"}",
		   -ENOENT);
	free(s);
	free(render(vigil_ctl_print_incident, "{\"incidents\":[]}", -EINVAL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_live_list),
	    cmocka_unit_test(test_live_one),
	    cmocka_unit_test(test_journal_latest_state),
	    cmocka_unit_test(test_journal_torn_then_appended),
	    cmocka_unit_test(test_journal_cap),
	    cmocka_unit_test(test_render_table),
	    cmocka_unit_test(test_render_incident),
	};

	return cmocka_run_group_tests_name("history", tests, NULL, NULL);
}
