// SPDX-License-Identifier: Apache-2.0
/*
 * Unit: the healer's durable state (heal/state.h) — its JSON round trip, the file written
 * atomically and read back, a missing file, a malformed or torn one set aside (PATH.bad, then
 * PATH.bad.1) and never fatal, and every member checked when read.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/json.h"
#include "heal/state.h"

#define T0 1764420000000000000ull /* a wall clock, ns */
#define SIG_A "01a22736f8b60001"
#define ID_A "019abc0000000001"
#define ID_B "019abc0000000002"

struct scratch {
	char dir[64];
	char path[128];
};

static void scratch_init(struct scratch *s)
{
	snprintf(s->dir, sizeof(s->dir), "/tmp/vigil-state-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/sub/state.json", s->dir);
}

static void scratch_fini(struct scratch *s)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
	assert_int_equal(system(cmd), 0);
}

static void incident(struct vigil_incident_saved *i, const char *id, uint64_t opened)
{
	memset(i, 0, sizeof(*i));
	snprintf(i->id, sizeof(i->id), "%s", id);
	snprintf(i->signature, sizeof(i->signature), "%s", SIG_A);
	i->cls = VIGIL_CLASS_CRASH;
	snprintf(i->workload_name, sizeof(i->workload_name), "svc");
	snprintf(i->title, sizeof(i->title), "svc crash SIGSEGV \"quoted\" \xc3\xa9");
	snprintf(i->detail, sizeof(i->detail), "SIGSEGV");
	i->count = 3;
	i->opened_wall_ns = opened;
	i->detect_ns = 123456;
	i->tgid = 4242;
	i->signal = 11;
	i->core_dumped = true;
	i->lossy = true;
	i->lost = 7;
}

/* A state with each kind of member: an open breaker, a backoff, a pending heal, an approval. */
static void sample(struct vigil_heal_state *s)
{
	struct vigil_state_workload *w;
	struct vigil_state_item *it;

	memset(s, 0, sizeof(*s));
	s->saved_wall_ns = T0;
	w = vigil_state_add_workload(s);
	assert_non_null(w);
	snprintf(w->name, sizeof(w->name), "svc");
	w->breaker = VIGIL_BREAKER_OPEN;
	w->opened_wall_ns = T0 - 5000000000ull;
	w->fails_wall_ns[0] = T0 - 9000000000ull;
	w->fails_wall_ns[1] = T0 - 5000000000ull;
	w->n_fails = 2;
	w->restarts = 2;
	w->last_restart_wall_ns = T0 - 6000000000ull;
	w = vigil_state_add_workload(s);
	assert_non_null(w);
	snprintf(w->name, sizeof(w->name), "db.v2_x-1");
	w->restarts = 1;
	w->last_restart_wall_ns = T0 - 1000000000ull;
	it = vigil_state_add_item(s);
	assert_non_null(it);
	it->kind = VIGIL_STATE_PENDING;
	snprintf(it->rule, sizeof(it->rule), "restart");
	it->at_wall_ns = T0 + 30000000000ull;
	it->approved = true;
	incident(&it->inc, ID_A, T0 - 10000000000ull);
	it = vigil_state_add_item(s);
	assert_non_null(it);
	it->kind = VIGIL_STATE_AWAITING;
	snprintf(it->rule, sizeof(it->rule), "rollback");
	it->at_wall_ns = T0 - 2000000000ull;
	incident(&it->inc, ID_B, T0 - 2000000000ull);
}

static void assert_same_incident(const struct vigil_incident_saved *a,
				 const struct vigil_incident_saved *b)
{
	assert_string_equal(a->id, b->id);
	assert_string_equal(a->signature, b->signature);
	assert_int_equal(a->cls, b->cls);
	assert_string_equal(a->workload_name, b->workload_name);
	assert_string_equal(a->title, b->title);
	assert_string_equal(a->detail, b->detail);
	assert_int_equal(a->count, b->count);
	assert_int_equal(a->opened_wall_ns, b->opened_wall_ns);
	assert_int_equal(a->detect_ns, b->detect_ns);
	assert_int_equal(a->tgid, b->tgid);
	assert_int_equal(a->signal, b->signal);
	assert_int_equal(a->status, b->status);
	assert_int_equal(a->core_dumped, b->core_dumped);
	assert_int_equal(a->lossy, b->lossy);
	assert_int_equal(a->lost, b->lost);
}

/* b holds what a holds (items: approvals are written first, so compare by id). */
static void assert_same(const struct vigil_heal_state *a, const struct vigil_heal_state *b)
{
	assert_int_equal(a->saved_wall_ns, b->saved_wall_ns);
	assert_int_equal(a->n_wl, b->n_wl);
	for (size_t i = 0; i < a->n_wl; i++) {
		const struct vigil_state_workload *x = &a->wl[i], *y = &b->wl[i];

		assert_string_equal(x->name, y->name);
		assert_int_equal(x->breaker, y->breaker);
		assert_int_equal(x->opened_wall_ns, y->opened_wall_ns);
		assert_int_equal(x->n_fails, y->n_fails);
		assert_memory_equal(x->fails_wall_ns, y->fails_wall_ns,
				    x->n_fails * sizeof(x->fails_wall_ns[0]));
		assert_int_equal(x->restarts, y->restarts);
		assert_int_equal(x->last_restart_wall_ns, y->last_restart_wall_ns);
	}
	assert_int_equal(a->n_items, b->n_items);
	for (size_t i = 0; i < a->n_items; i++) {
		const struct vigil_state_item *x = &a->items[i], *y = NULL;

		for (size_t k = 0; k < b->n_items; k++)
			if (!strcmp(b->items[k].inc.id, x->inc.id))
				y = &b->items[k];
		assert_non_null(y);
		assert_int_equal(x->kind, y->kind);
		assert_string_equal(x->rule, y->rule);
		assert_int_equal(x->at_wall_ns, y->at_wall_ns);
		assert_int_equal(x->approved, y->approved);
		assert_same_incident(&x->inc, &y->inc);
	}
}

static void test_json_round_trip(void **state)
{
	struct vigil_heal_state a, b;
	struct vigil_json j = {};
	char why[256];

	(void)state;
	sample(&a);
	assert_int_equal(vigil_state_to_json(&j, &a, "n1"), 0);
	assert_non_null(strstr(j.buf, "\"breaker\":\"open\""));
	assert_non_null(strstr(j.buf, "\"node\":\"n1\""));
	assert_int_equal(vigil_state_parse(j.buf, j.len, &b, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	assert_same(&a, &b);
	vigil_state_clear(&b);
	/* The empty state too. */
	vigil_state_clear(&a);
	assert_int_equal(vigil_state_to_json(&j, &a, "n1"), 0);
	assert_int_equal(vigil_state_parse(j.buf, j.len, &b, why, sizeof(why)), 0);
	assert_int_equal(b.n_wl + b.n_items, 0);
	vigil_json_free(&j);
}

/* Written atomically (no PATH.tmp left, its directory made), read back whole; missing: no
 * state, no message. */
static void test_file_round_trip(void **state)
{
	struct vigil_state_file_stats st;
	struct vigil_state_file *f;
	struct vigil_heal_state a, b;
	struct scratch s;
	char msg[512], tmp[160];
	bool found = true;

	(void)state;
	scratch_init(&s);
	sample(&a);
	assert_int_equal(vigil_state_file_open(s.path, &f, &b, &found, msg, sizeof(msg)), 0);
	assert_false(found);
	assert_string_equal(msg, "");
	assert_string_equal(vigil_state_file_path(f), s.path);
	assert_int_equal(vigil_state_file_write(f, &a, "n1"), 0);
	assert_int_equal(vigil_state_file_write(f, &a, "n1"), 0);
	vigil_state_file_stats(f, &st);
	assert_int_equal(st.writes, 2);
	assert_int_equal(st.write_errors, 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", s.path);
	assert_int_not_equal(access(tmp, F_OK), 0);
	vigil_state_file_close(f);
	vigil_state_file_close(NULL);

	assert_int_equal(vigil_state_file_open(s.path, &f, &b, &found, msg, sizeof(msg)), 0);
	assert_true(found);
	assert_string_equal(msg, "");
	assert_same(&a, &b);
	vigil_state_file_close(f);
	vigil_state_clear(&a);
	vigil_state_clear(&b);
	scratch_fini(&s);
}

static void write_text(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/*
 * A torn file (cut in the middle of a write that was not atomic: another tool, a disk fault)
 * and a garbage one: each set aside without overwriting the last, said, and the healer starts
 * with no state; never an error.
 */
static void test_malformed_file_set_aside(void **state)
{
	struct vigil_state_file *f;
	struct vigil_heal_state a, b;
	struct vigil_json j = {};
	struct scratch s;
	char msg[512], bad[160];
	bool found = true;

	(void)state;
	scratch_init(&s);
	sample(&a);
	assert_int_equal(vigil_state_to_json(&j, &a, "n1"), 0);
	snprintf(bad, sizeof(bad), "%s/sub", s.dir);
	assert_int_equal(mkdir(bad, 0755), 0);
	write_text(s.path, j.buf, j.len / 2);
	assert_int_equal(vigil_state_file_open(s.path, &f, &b, &found, msg, sizeof(msg)), 0);
	assert_false(found);
	assert_int_equal(b.n_wl + b.n_items, 0);
	assert_non_null(strstr(msg, "malformed"));
	assert_non_null(strstr(msg, "kept aside as"));
	snprintf(bad, sizeof(bad), "%s.bad", s.path);
	assert_int_equal(access(bad, F_OK), 0);
	assert_int_not_equal(access(s.path, F_OK), 0);
	/* The healer's next write makes a good file again. */
	assert_int_equal(vigil_state_file_write(f, &a, "n1"), 0);
	vigil_state_file_close(f);

	write_text(s.path, "\x01garbage", 8);
	assert_int_equal(vigil_state_file_open(s.path, &f, &b, &found, msg, sizeof(msg)), 0);
	assert_false(found);
	snprintf(bad, sizeof(bad), "%s.bad.1", s.path);
	assert_int_equal(access(bad, F_OK), 0);
	assert_null(strchr(msg, '\x01')); /* the file's bytes are never echoed raw */
	vigil_state_file_close(f);

	/* Not a file at all: an error, said, for the daemon to stop on (as the store does). */
	assert_int_equal(mkdir(s.path, 0755), 0);
	assert_int_equal(vigil_state_file_open(s.path, &f, &b, &found, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "not a regular file"));
	vigil_json_free(&j);
	vigil_state_clear(&a);
	scratch_fini(&s);
}

/* Each member is checked: a state vigil could not have written is refused, with where. */
static void test_members_checked(void **state)
{
	static const struct {
		const char *text, *why;
	} cases[] = {
	    {"[]", "not a JSON object"},
	    {"{\"version\":2,\"saved_at_ns\":1,\"workloads\":[],\"pending\":[],\"awaiting\":[]}",
	     "'version' is not 1"},
	    {"{\"version\":1,\"saved_at_ns\":1,\"workloads\":{},\"pending\":[],\"awaiting\":[]}",
	     "'workloads' is not an array"},
	    {"{\"version\":1,\"saved_at_ns\":1,\"workloads\":[{\"name\":\"a b\",\"breaker\":"
	     "\"open\",\"opened_at_ns\":1,\"failures_ns\":[],\"restarts\":0,\"last_restart_ns\":0}]"
	     ","
	     "\"pending\":[],\"awaiting\":[]}",
	     "workloads[0]: 'name' is not a name vigil writes"},
	    {"{\"version\":1,\"saved_at_ns\":1,\"workloads\":[{\"name\":\"a\",\"breaker\":"
	     "\"ajar\",\"opened_at_ns\":1,\"failures_ns\":[],\"restarts\":0,\"last_restart_ns\":0}]"
	     ","
	     "\"pending\":[],\"awaiting\":[]}",
	     "'breaker' is not closed, open or half_open"},
	    {"{\"version\":1,\"saved_at_ns\":1,\"workloads\":[{\"name\":\"a\",\"breaker\":"
	     "\"open\",\"opened_at_ns\":0,\"failures_ns\":[],\"restarts\":0,\"last_restart_ns\":0}]"
	     ","
	     "\"pending\":[],\"awaiting\":[]}",
	     "'opened_at_ns' is 0 for a breaker that opened"},
	    {"{\"version\":1,\"saved_at_ns\":1,\"workloads\":[{\"name\":\"a\",\"breaker\":"
	     "\"closed\",\"opened_at_ns\":0,\"failures_ns\":[-1],\"restarts\":0,"
	     "\"last_restart_ns\":0}],\"pending\":[],\"awaiting\":[]}",
	     "'failures_ns' holds something not a time"},
	    {"{\"version\":1,\"saved_at_ns\":1,\"workloads\":[{\"name\":\"a\",\"breaker\":"
	     "\"closed\",\"opened_at_ns\":0,\"failures_ns\":[],\"restarts\":0,\"last_restart_ns\":"
	     "0},"
	     "{\"name\":\"a\",\"breaker\":\"closed\",\"opened_at_ns\":0,\"failures_ns\":[],"
	     "\"restarts\":0,\"last_restart_ns\":0}],\"pending\":[],\"awaiting\":[]}",
	     "workloads[1]: 'a' is there twice"},
	    {"{\"version\":1,\"saved_at_ns\":1,\"workloads\":[],\"pending\":[{\"rule\":\"r\","
	     "\"due_ns\":1,\"approved\":false,\"incident\":{\"id\":\"xyz\"}}],\"awaiting\":[]}",
	     "pending[0].incident: 'id' is not a name vigil writes"},
	    {"{\"version\":1,\"saved_at_ns\":1,\"workloads\":[],\"pending\":[],\"awaiting\":[{"
	     "\"rule\":\"r\",\"since_ns\":1}]}",
	     "awaiting[0]: 'incident' is not an object"},
	};
	struct vigil_heal_state b;
	char why[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int err =
		    vigil_state_parse(cases[i].text, strlen(cases[i].text), &b, why, sizeof(why));

		if (err != -EBADMSG || !strstr(why, cases[i].why))
			fail_msg("case %zu: %d, '%s' (wanted '%s')", i, err, why, cases[i].why);
		assert_int_equal(b.n_wl + b.n_items, 0);
	}
}

/* An incident written once under two kinds is refused; an unknown class too. */
static void test_items_checked(void **state)
{
	struct vigil_heal_state a, b;
	struct vigil_json j = {};
	char why[256];

	(void)state;
	sample(&a);
	snprintf(a.items[1].inc.id, sizeof(a.items[1].inc.id), "%s", ID_A);
	assert_int_equal(vigil_state_to_json(&j, &a, "n1"), 0);
	assert_int_equal(vigil_state_parse(j.buf, j.len, &b, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "is there twice"));
	snprintf(a.items[1].inc.id, sizeof(a.items[1].inc.id), "%s", ID_B);
	a.items[1].inc.cls = VIGIL_CLASS_NONE; /* written as "none" */
	assert_int_equal(vigil_state_to_json(&j, &a, "n1"), 0);
	assert_int_equal(vigil_state_parse(j.buf, j.len, &b, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "'class' is not a fault class"));
	vigil_json_free(&j);
	vigil_state_clear(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_round_trip),
	    cmocka_unit_test(test_file_round_trip),
	    cmocka_unit_test(test_malformed_file_set_aside),
	    cmocka_unit_test(test_members_checked),
	    cmocka_unit_test(test_items_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
