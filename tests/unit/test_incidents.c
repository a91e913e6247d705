// SPDX-License-Identifier: Apache-2.0
/*
 * Unit: aggregation by signature inside the window, the lifecycle (every transition DESIGN.md
 * has, and every other refused and counted), what is recorded (opened, counts 2, 4, 8…,
 * transitions, finals), lossy incidents, expiry on a manual clock, and the final records of
 * vigil's stop with their true counts; the cap on live incidents (the least recently seen
 * evicted, never a held one or one a heal is about; dropped when all are held) and the index
 * by signature.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <stdio.h>

#include "detect/incidents.h"
#include "core/clock.h"
#include "records.h"

static struct vigil_exit ev(uint32_t tgid, uint64_t ts, uint32_t code)
{
	return tr_exit(tgid, ts, 1, code);
}

/* What the notify callback saw: each record's state and count, in order. */
struct seen {
	unsigned int n;
	enum vigil_incident_state state[64];
	uint64_t count[64];
	bool final[64];
};

static void saw(const struct vigil_incident *i, void *arg)
{
	struct seen *s = arg;

	if (s->n < 64) {
		s->state[s->n] = i->state;
		s->count[s->n] = i->count;
		s->final[s->n] = i->final;
	}
	s->n++;
}

static struct vigil_incidents *table(uint64_t window_ms, const struct vigil_clock *clock,
				     struct seen *s)
{
	const struct vigil_incidents_opts o = {
	    .window_ms = window_ms,
	    .clock = clock,
	    .notify = s ? saw : NULL,
	    .notify_arg = s,
	};
	struct vigil_incidents *t;

	assert_int_equal(vigil_incidents_new(&o, &t), 0);
	return t;
}

static struct vigil_incident *rec(struct vigil_incidents *t, struct vigil_exit *e, bool *opened)
{
	struct vigil_detection d;

	vigil_detect(&e->hdr, "svc", &d);
	return vigil_incidents_record(t, &e->hdr, &d, "svc", opened);
}

/* A table with a cap. */
static struct vigil_incidents *capped(unsigned int max, struct seen *s)
{
	const struct vigil_incidents_opts o = {
	    .window_ms = 60000,
	    .notify = s ? saw : NULL,
	    .notify_arg = s,
	    .max = max,
	};
	struct vigil_incidents *t;

	assert_int_equal(vigil_incidents_new(&o, &t), 0);
	return t;
}

/* A failing exit of the process named name: one signature per name. */
static struct vigil_incident *rec_name(struct vigil_incidents *t, const char *name, uint64_t ts,
				       bool *opened)
{
	struct vigil_exit e = ev(1, ts, 1 << 8);
	struct vigil_detection d;

	vigil_detect(&e.hdr, name, &d);
	return vigil_incidents_record(t, &e.hdr, &d, name, opened);
}

static void test_window_aggregates(void **state)
{
	struct vigil_incidents *t;
	struct vigil_incident *a, *b, *c, *x;
	uint64_t now = vigil_mono_ns();
	struct vigil_exit e1 = ev(1, now, 11), e2 = ev(2, now + 500000000ull, 11),
			  e3 = ev(3, now + 2600000000ull, 11), e4 = ev(4, now, 3 << 8);
	bool opened;

	(void)state;
	t = table(2000, NULL, NULL);
	a = rec(t, &e1, &opened);
	assert_true(opened);
	assert_int_equal(a->count, 1);
	assert_int_equal(a->state, VIGIL_INC_OPEN);
	assert_int_equal(strlen(a->id), 16);
	b = rec(t, &e2, &opened);
	assert_false(opened);
	assert_ptr_equal(a, b);
	assert_int_equal(a->count, 2);
	assert_int_equal(a->tgid, 2);
	assert_int_equal(a->first_kernel_ns, now);
	/* 2.1 s after the last event: outside the 2 s window, a new incident. */
	c = rec(t, &e3, &opened);
	assert_true(opened);
	assert_ptr_not_equal(c, a);
	assert_string_equal(c->signature, a->signature);
	assert_string_not_equal(c->id, a->id);
	/* Another signature is another incident. */
	x = rec(t, &e4, &opened);
	assert_true(opened);
	assert_string_not_equal(x->signature, a->signature);
	assert_int_equal(vigil_incidents_count(t), 3);
	vigil_incidents_free(t);
}

static void test_resolved_is_over(void **state)
{
	struct vigil_incidents *t;
	struct vigil_incident *a, *b;
	uint64_t now = vigil_mono_ns();
	struct vigil_exit e1 = ev(1, now, 11), e2 = ev(2, now + 1000, 11);
	bool opened;

	(void)state;
	t = table(60000, NULL, NULL);
	a = rec(t, &e1, &opened);
	assert_int_equal(vigil_incident_set_state(t, a, VIGIL_INC_HEALING), 0);
	assert_int_equal(vigil_incident_set_state(t, a, VIGIL_INC_RESOLVED), 0);
	b = rec(t, &e2, &opened);
	assert_true(opened);
	assert_ptr_not_equal(a, b);
	vigil_incidents_free(t);
}

static void test_expire_keeps_held(void **state)
{
	struct vigil_manual_clock mc;
	struct vigil_incidents *t;
	struct vigil_incident *a;
	struct vigil_exit e1, e2;
	struct seen s = {};
	bool opened;

	(void)state;
	vigil_manual_clock_init(&mc);
	e1 = ev(1, mc.mono, 11);
	e2 = ev(2, mc.mono, 3 << 8);
	t = table(1000, &mc.clock, &s);
	a = rec(t, &e1, &opened);
	vigil_incident_hold(a, true);
	rec(t, &e2, &opened);
	assert_int_equal(s.n, 2); /* two opened */
	vigil_manual_clock_advance(&mc, 500);
	assert_int_equal(vigil_incidents_expire(t), 0);
	vigil_manual_clock_advance(&mc, 1000);
	assert_int_equal(vigil_incidents_expire(t), 1);
	assert_int_equal(s.n, 3); /* its last record is written before it is forgotten */
	assert_true(s.final[2]);
	assert_int_equal(vigil_incidents_count(t), 1);
	vigil_incident_hold(a, false);
	assert_int_equal(vigil_incidents_expire(t), 1);
	assert_int_equal(vigil_incidents_count(t), 0);
	vigil_incidents_free(t);
}

/* Every edge of the lifecycle is taken, every other refused: state kept, bug counted. */
static void test_lifecycle(void **state)
{
	static const enum vigil_incident_state all[] = {
	    VIGIL_INC_OPEN,	VIGIL_INC_HEALING,	     VIGIL_INC_VERIFYING,
	    VIGIL_INC_RESOLVED, VIGIL_INC_AWAITING_APPROVAL, VIGIL_INC_ESCALATED,
	    VIGIL_INC_FAILED,	VIGIL_INC_EXPIRED,
	};
	/* allowed[from][to], in the order of all[] */
	static const bool allowed[8][8] = {
	    /* open -> resolved: the fault went away before a heal began (an alert resolved) */
	    [0] = {[1] = true, [3] = true, [4] = true, [5] = true, [6] = true},
	    [1] = {[2] = true, [3] = true, [5] = true, [6] = true},
	    [2] = {[1] = true, [3] = true, [6] = true}, /* verifying -> healing: a retry */
	    [4] = {[0] = true, [7] = true},
	};
	struct vigil_incidents_stats st;
	struct vigil_incidents *t;
	struct vigil_incident *a;
	uint64_t now = vigil_mono_ns(), bad = 0;
	struct vigil_exit e = ev(1, now, 11);
	struct seen s = {};
	bool opened;

	(void)state;
	t = table(60000, NULL, &s);
	a = rec(t, &e, &opened);
	for (unsigned int f = 0; f < 8; f++) {
		for (unsigned int to = 0; to < 8; to++) {
			unsigned int before = s.n;
			int ret;

			a->state = all[f]; /* the test puts it there; only set_state moves it */
			ret = vigil_incident_set_state(t, a, all[to]);
			if (allowed[f][to]) {
				assert_int_equal(ret, 0);
				assert_int_equal(a->state, all[to]);
				assert_int_equal(s.n, before + 1); /* recorded */
			} else {
				assert_int_equal(ret, -EINVAL);
				assert_int_equal(a->state, all[f]);
				assert_int_equal(s.n, before); /* nothing recorded */
				bad++;
			}
		}
	}
	vigil_incidents_stats(t, &st);
	assert_int_equal(st.bad_transitions, bad);
	assert_int_equal(bad, 64 - 14);
	vigil_incidents_free(t);
}

/* Counts are recorded at 1, 2, 4, 8; vigil's stop records every live incident with its true
 * count (6 crashes are "count 6", not the 4 recorded last), marked final. */
static void test_finish_records_true_counts(void **state)
{
	struct vigil_incidents *t;
	uint64_t now = vigil_mono_ns();
	struct seen s = {};
	bool opened;

	(void)state;
	t = table(60000, NULL, &s);
	for (unsigned int k = 0; k < 6; k++) {
		struct vigil_exit e = ev(100 + k, now + k, 11);

		rec(t, &e, &opened);
	}
	assert_int_equal(s.n, 3);
	assert_int_equal(s.count[0], 1);
	assert_int_equal(s.count[1], 2);
	assert_int_equal(s.count[2], 4);
	vigil_incidents_finish(t);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.count[3], 6);
	assert_true(s.final[3]);
	assert_int_equal(vigil_incidents_count(t), 0);
	vigil_incidents_free(t);
}

static uint64_t lost5(void *arg, unsigned int workload, uint64_t since_ns)
{
	uint64_t *asked = arg;

	assert_int_equal(workload, 1);
	*asked = since_ns;
	return 5;
}

/* A new incident of a workload that lost kernel events in its chain's window is lossy. */
static void test_lossy_at_open(void **state)
{
	uint64_t now = vigil_mono_ns(), asked = 0;
	const struct vigil_incidents_opts o = {
	    .window_ms = 60000, .lost = lost5, .lost_arg = &asked};
	struct vigil_exit e = ev(1, now, 11);
	struct vigil_incidents *t;
	struct vigil_incident *a;
	bool opened;

	(void)state;
	assert_int_equal(vigil_incidents_new(&o, &t), 0);
	a = rec(t, &e, &opened);
	assert_true(a->lossy);
	assert_int_equal(a->lost, 5);
	assert_int_equal(asked, now - VIGIL_CHAIN_NS);
	vigil_incidents_free(t);
}

/* An expired approval leaves the table at once, with its final record; a held one cannot. */
static void test_retire(void **state)
{
	struct vigil_incidents *t;
	struct vigil_incident *a;
	struct vigil_exit e = ev(1, vigil_mono_ns(), 11);
	struct seen s = {};
	bool opened;

	(void)state;
	t = table(3600000, NULL, &s);
	a = rec(t, &e, &opened);
	vigil_incident_hold(a, true);
	assert_int_equal(vigil_incident_set_state(t, a, VIGIL_INC_AWAITING_APPROVAL), 0);
	assert_int_equal(vigil_incidents_retire(t, a), -EBUSY);
	vigil_incident_hold(a, false);
	assert_int_equal(vigil_incident_set_state(t, a, VIGIL_INC_EXPIRED), 0);
	assert_int_equal(vigil_incidents_retire(t, a), 0);
	assert_int_equal(vigil_incidents_count(t), 0);
	assert_int_equal(s.n, 4); /* opened, awaiting, expired, final */
	assert_int_equal(s.state[3], VIGIL_INC_EXPIRED);
	assert_true(s.final[3]);
	vigil_incidents_free(t);
}

/* An incident saved by one run and put back by the next: the same id, fields and times on the
 * wall clock, its opening moved onto this run's monotonic clock, held, marked restored,
 * recorded; a second restore of the same id and a state the lifecycle cannot resume refused. */
static void test_save_and_restore(void **state)
{
	struct vigil_manual_clock mc;
	struct vigil_incidents *t, *t2;
	struct vigil_incident *a, *r;
	struct vigil_incident_saved s;
	struct seen seen = {};
	struct vigil_exit e1;
	bool opened;
	int err = 0;

	(void)state;
	vigil_manual_clock_init(&mc);
	t = table(2000, &mc.clock, NULL);
	e1 = ev(7, vigil_clock_mono(&mc.clock) - 3000000ull, 11); /* 3 ms before it opens */
	a = rec(t, &e1, &opened);
	assert_non_null(a);
	vigil_incident_save(a, &s);
	assert_string_equal(s.id, a->id);
	assert_int_equal(s.detect_ns, 3000000ull);
	assert_int_equal(s.opened_wall_ns, a->opened_wall_ns);

	/* The next run, 90 s later. */
	vigil_manual_clock_advance(&mc, 90000);
	t2 = table(2000, &mc.clock, &seen);
	r = vigil_incidents_restore(t2, &s, 1, VIGIL_INC_AWAITING_APPROVAL, &err);
	assert_non_null(r);
	assert_string_equal(r->id, a->id);
	assert_string_equal(r->signature, a->signature);
	assert_string_equal(r->title, a->title);
	assert_int_equal(r->cls, a->cls);
	assert_int_equal(r->state, VIGIL_INC_AWAITING_APPROVAL);
	assert_int_equal(r->workload, 1);
	assert_true(r->busy && r->restored);
	assert_int_equal(r->opened_wall_ns, a->opened_wall_ns);
	assert_int_equal(r->opened_mono_ns, a->opened_mono_ns); /* same boot: the same instant */
	assert_int_equal(r->opened_mono_ns - r->first_kernel_ns, 3000000ull);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.state[0], VIGIL_INC_AWAITING_APPROVAL);
	/* Held: it outlives its window. */
	vigil_manual_clock_advance(&mc, 10000);
	assert_int_equal(vigil_incidents_expire(t2), 0);
	/* Approved: the lifecycle goes on from where it was. */
	assert_int_equal(vigil_incident_set_state(t2, r, VIGIL_INC_OPEN), 0);
	assert_null(vigil_incidents_restore(t2, &s, 1, VIGIL_INC_OPEN, &err));
	assert_int_equal(err, -EEXIST);
	s.id[0] = s.id[0] == 'f' ? 'e' : 'f';
	assert_null(vigil_incidents_restore(t2, &s, 1, VIGIL_INC_HEALING, &err));
	assert_int_equal(err, -EINVAL);
	/* Opened before this boot (an older wall time than the monotonic clock reaches): it
	 * counts from the boot. */
	s.opened_wall_ns =
	    vigil_clock_wall(&mc.clock) - vigil_clock_mono(&mc.clock) - 1000000000ull;
	r = vigil_incidents_restore(t2, &s, 1, VIGIL_INC_OPEN, &err);
	assert_non_null(r);
	assert_int_equal(r->opened_mono_ns, 0);
	vigil_incidents_free(t);
	vigil_incidents_free(t2);
}

/* At the cap the least recently *seen* incident leaves (not the oldest opened), with a final
 * record marked evicted; the table never grows past the cap. */
static void test_cap_evicts_least_recently_seen(void **state)
{
	uint64_t now = vigil_mono_ns();
	struct vigil_incidents_stats st;
	struct vigil_incidents *t;
	struct vigil_incident *a, *d;
	struct seen s = {};
	bool opened;

	(void)state;
	t = capped(3, &s);
	a = rec_name(t, "a", now, &opened);
	rec_name(t, "b", now + 1, &opened);
	rec_name(t, "c", now + 2, &opened);
	/* a is seen again: b is now the least recently seen. */
	assert_ptr_equal(rec_name(t, "a", now + 3, &opened), a);
	assert_false(opened);
	s.n = 0;
	d = rec_name(t, "d", now + 4, &opened);
	assert_non_null(d);
	assert_true(opened);
	assert_int_equal(vigil_incidents_count(t), 3);
	/* b's final record (evicted), then d's opening. */
	assert_int_equal(s.n, 2);
	assert_true(s.final[0]);
	assert_false(s.final[1]);
	for (const struct vigil_incident *i = vigil_incidents_first(t); i; i = i->next)
		assert_string_not_equal(i->workload_name, "b");
	/* a and c are still found by their signature. */
	assert_ptr_equal(rec_name(t, "a", now + 5, &opened), a);
	assert_false(opened);
	rec_name(t, "c", now + 6, &opened);
	assert_false(opened);
	vigil_incidents_stats(t, &st);
	assert_int_equal(st.evicted, 1);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.max, 3);
	assert_int_equal(st.peak, 3);
	vigil_incidents_free(t);
}

/* Held incidents, and those a heal is about, are never evicted: when nothing else is left,
 * the new fault is dropped and counted. */
static void test_cap_never_evicts_held(void **state)
{
	uint64_t now = vigil_mono_ns();
	struct vigil_incidents_stats st;
	struct vigil_incidents *t;
	struct vigil_incident *a, *b, *c, *x;
	bool opened;

	(void)state;
	t = capped(3, NULL);
	a = rec_name(t, "a", now, &opened);
	b = rec_name(t, "b", now + 1, &opened);
	c = rec_name(t, "c", now + 2, &opened);
	vigil_incident_hold(a, true);
	assert_int_equal(vigil_incident_set_state(t, b, VIGIL_INC_HEALING), 0);
	assert_int_equal(vigil_incident_set_state(t, c, VIGIL_INC_AWAITING_APPROVAL), 0);
	errno = 0;
	x = rec_name(t, "x", now + 3, &opened);
	assert_null(x);
	assert_int_equal(errno, ENOSPC);
	assert_false(opened);
	vigil_incidents_stats(t, &st);
	assert_int_equal(st.dropped, 1);
	assert_int_equal(st.evicted, 0);
	assert_int_equal(vigil_incidents_count(t), 3);
	/* Verifying is a heal under way too. */
	assert_int_equal(vigil_incident_set_state(t, b, VIGIL_INC_VERIFYING), 0);
	assert_null(rec_name(t, "x", now + 4, &opened));
	/* Let a go: it is the one that leaves, whatever its place. */
	vigil_incident_hold(a, false);
	x = rec_name(t, "x", now + 5, &opened);
	assert_non_null(x);
	assert_true(opened);
	for (const struct vigil_incident *i = vigil_incidents_first(t); i; i = i->next)
		assert_string_not_equal(i->workload_name, "a");
	assert_int_equal(b->state, VIGIL_INC_VERIFYING);
	assert_int_equal(c->state, VIGIL_INC_AWAITING_APPROVAL);
	vigil_incidents_stats(t, &st);
	assert_int_equal(st.dropped, 2);
	assert_int_equal(st.evicted, 1);
	vigil_incidents_free(t);
}

/* A flood of distinct signatures: the table stays at its cap, every live one is found again
 * by its signature, and a record costs the same with thousands live (today's linear scan
 * took ~0.5 s for this): the index, 16 buckets at first, grew with the table, rehashing all
 * the way. Expire, retire and finish keep the index whole. */
static void test_index_under_flood(void **state)
{
	enum { CAP = 8192, FLOOD = 40000 };
	uint64_t now = vigil_mono_ns(), t0, took;
	struct vigil_incidents_stats st;
	struct vigil_incidents *t;
	struct vigil_incident *i;
	char name[32];
	bool opened;

	(void)state;
	t = capped(CAP, NULL);
	for (unsigned int k = 0; k < FLOOD; k++) {
		snprintf(name, sizeof(name), "f%u", k);
		assert_non_null(rec_name(t, name, now + k, &opened));
		assert_true(opened);
		assert_true(vigil_incidents_count(t) <= CAP);
	}
	vigil_incidents_stats(t, &st);
	assert_int_equal(st.peak, CAP);
	assert_int_equal(st.evicted, FLOOD - CAP);
	/* The last CAP are live, each found (not opened again). */
	t0 = vigil_mono_ns();
	for (unsigned int k = FLOOD - CAP; k < FLOOD; k++) {
		snprintf(name, sizeof(name), "f%u", k);
		assert_non_null(rec_name(t, name, now + FLOOD + k, &opened));
		assert_false(opened);
	}
	took = vigil_mono_ns() - t0;
	printf("    %d records joining %d live incidents: %llu us\n", CAP, CAP,
	       (unsigned long long)(took / 1000));
	assert_true(took < 250000000ull);
	/* Retire one, then every one leaves through finish: the lists stay whole. */
	i = (struct vigil_incident *)vigil_incidents_first(t);
	assert_int_equal(vigil_incidents_retire(t, i), 0);
	assert_int_equal(vigil_incidents_count(t), CAP - 1);
	assert_non_null(rec_name(t, "new", now + 3 * FLOOD, &opened));
	assert_true(opened);
	vigil_incidents_finish(t);
	assert_int_equal(vigil_incidents_count(t), 0);
	assert_null(vigil_incidents_first(t));
	assert_non_null(rec_name(t, "again", now + 3 * FLOOD + 1, &opened));
	assert_true(opened);
	vigil_incidents_free(t);
}

static void test_state_names(void **state)
{
	(void)state;
	assert_string_equal(vigil_incident_state_name(VIGIL_INC_OPEN), "open");
	assert_string_equal(vigil_incident_state_name(VIGIL_INC_AWAITING_APPROVAL),
			    "awaiting_approval");
	assert_string_equal(vigil_incident_state_name(VIGIL_INC_FAILED), "failed");
	assert_string_equal(vigil_incident_state_name(VIGIL_INC_EXPIRED), "expired");
	assert_string_equal(vigil_incident_state_name(99), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_window_aggregates),
	    cmocka_unit_test(test_resolved_is_over),
	    cmocka_unit_test(test_expire_keeps_held),
	    cmocka_unit_test(test_lifecycle),
	    cmocka_unit_test(test_finish_records_true_counts),
	    cmocka_unit_test(test_lossy_at_open),
	    cmocka_unit_test(test_retire),
	    cmocka_unit_test(test_save_and_restore),
	    cmocka_unit_test(test_cap_evicts_least_recently_seen),
	    cmocka_unit_test(test_cap_never_evicts_held),
	    cmocka_unit_test(test_index_under_flood),
	    cmocka_unit_test(test_state_names),
	};

	return cmocka_run_group_tests_name("incidents", tests, NULL, NULL);
}
