// SPDX-License-Identifier: Apache-2.0
/*
 * Unit: the event loop's timers — order, re-arming from a callback, cancelling, equal deadlines,
 * a manual clock that fires what falls due without waiting, a periodic timer that keeps going
 * for thousands of periods (arming cannot fail: the timer is embedded), and signals taken on
 * the loop.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/loop.h"

struct rec {
	char order[64];
	size_t n;
	struct vigil_timer *rearm; /* re-armed from its callback this many more times */
	unsigned int rearms;
	struct vigil_timer *cancel; /* cancelled by the callback */
};

struct tagged {
	struct vigil_timer t;
	struct rec *r;
	char tag;
};

static void fired(struct vigil_loop *loop, void *arg)
{
	struct tagged *x = arg;
	struct rec *r = x->r;

	r->order[r->n++] = x->tag;
	if (r->rearm == &x->t && r->rearms) {
		r->rearms--;
		vigil_timer_arm(loop, &x->t, 10);
	}
	if (r->cancel)
		vigil_timer_cancel(loop, r->cancel);
}

static void tag_init(struct tagged *x, struct rec *r, char tag)
{
	x->r = r;
	x->tag = tag;
	vigil_timer_init(&x->t, fired, x);
}

static void test_manual_clock_order(void **state)
{
	struct vigil_manual_clock mc;
	struct vigil_loop *loop;
	struct tagged a, b, c, d;
	struct rec r = {};

	(void)state;
	vigil_manual_clock_init(&mc);
	assert_int_equal(vigil_loop_new(&mc.clock, &loop), 0);
	tag_init(&a, &r, 'a');
	tag_init(&b, &r, 'b');
	tag_init(&c, &r, 'c');
	tag_init(&d, &r, 'd');
	vigil_timer_arm(loop, &c.t, 300);
	vigil_timer_arm(loop, &a.t, 100);
	vigil_timer_arm(loop, &b.t, 200);
	vigil_timer_arm(loop, &d.t, 200); /* same deadline as b, armed after it: fires after it */
	assert_true(vigil_timer_pending(&a.t));
	/* Nothing is due yet: a round fires nothing, and does not wait for the timers. */
	assert_int_equal(vigil_loop_run_once(loop, 0), 0);
	assert_int_equal(r.n, 0);
	vigil_manual_clock_advance(&mc, 150);
	assert_int_equal(vigil_loop_run_once(loop, 0), 0);
	assert_string_equal(r.order, "a");
	assert_false(vigil_timer_pending(&a.t));
	vigil_timer_cancel(loop, &c.t);
	vigil_timer_cancel(loop, &c.t); /* twice: a no-op */
	vigil_manual_clock_advance(&mc, 1000);
	assert_int_equal(vigil_loop_run_once(loop, 0), 0);
	assert_string_equal(r.order, "abd");
	vigil_loop_free(loop);
}

static void test_rearm_and_cancel_from_callback(void **state)
{
	struct vigil_manual_clock mc;
	struct vigil_loop_stats st;
	struct vigil_loop *loop;
	struct tagged a, b;
	struct rec r = {};

	(void)state;
	vigil_manual_clock_init(&mc);
	assert_int_equal(vigil_loop_new(&mc.clock, &loop), 0);
	tag_init(&a, &r, 'a');
	tag_init(&b, &r, 'b');
	r.rearm = &a.t;
	r.rearms = 2;
	vigil_timer_arm(loop, &a.t, 10);
	vigil_timer_arm(loop, &b.t, 15);
	/* a fires at 10 and re-arms for 20; b fires at 15; a again at 20 and 30. */
	for (int i = 0; i < 4; i++) {
		vigil_manual_clock_advance(&mc, 5);
		assert_int_equal(vigil_loop_run_once(loop, 0), 0);
	}
	assert_string_equal(r.order, "aba");
	/* The next a cancels b, armed again meanwhile, before it is due. */
	vigil_timer_arm(loop, &b.t, 50);
	r.cancel = &b.t;
	vigil_manual_clock_advance(&mc, 100);
	assert_int_equal(vigil_loop_run_once(loop, 0), 0);
	assert_string_equal(r.order, "abaa");
	assert_false(vigil_timer_pending(&b.t));
	vigil_loop_stats(loop, &st);
	assert_int_equal(st.timers_fired, 4);
	assert_int_equal(st.timerfd_errors, 0);
	vigil_loop_free(loop);
}

struct ticker {
	struct vigil_timer t;
	unsigned int n, stop_at;
};

static void tick(struct vigil_loop *loop, void *arg)
{
	struct ticker *k = arg;

	if (++k->n == k->stop_at)
		vigil_loop_stop(loop);
	else
		vigil_timer_arm(loop, &k->t, 0);
}

/* A periodic timer on the host's clock, re-armed from its callback 5000 times: nothing to
 * allocate, so nothing can end the tick. */
static void test_periodic_host_clock(void **state)
{
	struct vigil_loop *loop;
	struct ticker k = {.stop_at = 5000};

	(void)state;
	assert_int_equal(vigil_loop_new(NULL, &loop), 0);
	vigil_timer_init(&k.t, tick, &k);
	vigil_timer_arm(loop, &k.t, 0);
	assert_int_equal(vigil_loop_run(loop), 0);
	assert_int_equal(k.n, 5000);
	vigil_loop_free(loop);
}

/* A timer on the host's clock fires after its delay, not before. */
static void test_host_clock_delay(void **state)
{
	struct vigil_loop *loop;
	struct ticker k = {.stop_at = 1};
	uint64_t t0;

	(void)state;
	assert_int_equal(vigil_loop_new(NULL, &loop), 0);
	vigil_timer_init(&k.t, tick, &k);
	t0 = vigil_mono_ns();
	vigil_timer_arm(loop, &k.t, 30);
	assert_int_equal(vigil_loop_run(loop), 0);
	assert_true(vigil_mono_ns() - t0 >= 30000000ull);
	assert_int_equal(k.n, 1);
	vigil_loop_free(loop);
}

static void got_signal(struct vigil_loop *loop, int signo, void *arg)
{
	(void)loop;
	*(int *)arg = signo;
}

/* A signal taken on the loop arrives as a callback, not as a handler; a second set is
 * refused. */
static void test_signals(void **state)
{
	static const int sigs[] = {SIGUSR1};
	struct vigil_loop *loop;
	int seen = 0;

	(void)state;
	assert_int_equal(vigil_loop_new(NULL, &loop), 0);
	assert_int_equal(vigil_loop_signals(loop, sigs, 1, got_signal, &seen), 0);
	assert_int_equal(vigil_loop_signals(loop, sigs, 1, got_signal, &seen), -EBUSY);
	raise(SIGUSR1);
	assert_int_equal(vigil_loop_run_once(loop, 1000), 0);
	assert_int_equal(seen, SIGUSR1);
	vigil_loop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_manual_clock_order),
	    cmocka_unit_test(test_rearm_and_cancel_from_callback),
	    cmocka_unit_test(test_periodic_host_clock),
	    cmocka_unit_test(test_host_clock_delay),
	    cmocka_unit_test(test_signals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
