// SPDX-License-Identifier: Apache-2.0
/* Unit: aggregation by signature inside the window, and expiry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "detect/incidents.h"
#include "core/loop.h"

static struct vigil_exit ev(uint32_t tgid, uint64_t ts, uint32_t code)
{
	struct vigil_exit e;

	memset(&e, 0, sizeof(e));
	e.hdr.kind = VIGIL_EV_EXIT;
	e.hdr.version = VIGIL_ABI_VERSION;
	e.hdr.size = sizeof(e);
	e.hdr.tgid = tgid;
	e.hdr.ts_ns = ts;
	e.hdr.workload = 1;
	e.exit_code = code;
	return e;
}

static struct vigil_incident *rec(struct vigil_incidents *t, struct vigil_exit *e, bool *opened)
{
	struct vigil_detection d;

	vigil_detect(&e->hdr, "svc", &d);
	return vigil_incidents_record(t, &e->hdr, &d, "svc", opened);
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
	assert_int_equal(vigil_incidents_new(2000, &t), 0);
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
	assert_int_equal(vigil_incidents_new(60000, &t), 0);
	a = rec(t, &e1, &opened);
	a->state = VIGIL_INC_RESOLVED;
	b = rec(t, &e2, &opened);
	assert_true(opened);
	assert_ptr_not_equal(a, b);
	vigil_incidents_free(t);
}

static void count_final(const struct vigil_incident *i, void *arg)
{
	assert_true(i->final);
	(*(int *)arg)++;
}

static void test_expire_keeps_busy(void **state)
{
	struct vigil_incidents *t;
	struct vigil_incident *a;
	uint64_t now = vigil_mono_ns();
	struct vigil_exit e1 = ev(1, now, 11), e2 = ev(2, now, 3 << 8);
	bool opened;
	int finals = 0;

	(void)state;
	assert_int_equal(vigil_incidents_new(1000, &t), 0);
	a = rec(t, &e1, &opened);
	a->busy = true;
	rec(t, &e2, &opened);
	assert_int_equal(vigil_incidents_expire(t, now + 500000000ull, NULL, NULL), 0);
	assert_int_equal(vigil_incidents_expire(t, now + 1500000000ull, count_final, &finals), 1);
	assert_int_equal(finals, 1); /* its last record is written before it is forgotten */
	assert_int_equal(vigil_incidents_count(t), 1);
	a->busy = false;
	assert_int_equal(vigil_incidents_expire(t, now + 1500000000ull, NULL, NULL), 1);
	assert_int_equal(vigil_incidents_count(t), 0);
	vigil_incidents_free(t);
}

static void test_state_names(void **state)
{
	(void)state;
	assert_string_equal(vigil_incident_state_name(VIGIL_INC_OPEN), "open");
	assert_string_equal(vigil_incident_state_name(VIGIL_INC_AWAITING_APPROVAL),
			    "awaiting_approval");
	assert_string_equal(vigil_incident_state_name(VIGIL_INC_FAILED), "failed");
	assert_string_equal(vigil_incident_state_name(99), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_aggregates),
		cmocka_unit_test(test_resolved_is_over),
		cmocka_unit_test(test_expire_keeps_busy),
		cmocka_unit_test(test_state_names),
	};

	return cmocka_run_group_tests_name("incidents", tests, NULL, NULL);
}
