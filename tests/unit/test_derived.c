// SPDX-License-Identifier: Apache-2.0
/*
 * Unit: the derived stage on fake counters and a clock the test moves — crash loops, connection
 * error rates against the floor and the moving baseline, retransmits sampled and judged, the
 * per-second retransmit events, latency_slo streaks, and drop accounting (health findings, and
 * whether an incident's window lost events). Nothing here sleeps.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "detect/derived.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define T0 (1000 * SEC) /* the test's "now" at start: any monotonic time */

/* The kernel, as the test plays it. */
struct fake {
	uint64_t retrans[3];	    /* per workload */
	uint64_t wl_drops[3];	    /* per workload */
	uint64_t fam_drops[2];	    /* per family */
	uint64_t full[2];	    /* refusals of the maps "watched" and "incidents" */
	struct vigil_lat_hist h[3]; /* workload 1's three timed syscalls */
	bool no_sockets;
	uint64_t at[3];	      /* the retransmit alarms as armed */
	uint64_t first[3];    /* the kernel time of the first retransmit since the last take */
	uint64_t arm_bump[3]; /* retransmits that arrive while an alarm is being armed */
	unsigned int arms;
};

static int f_retrans(void *arg, unsigned int w, uint64_t *total)
{
	struct fake *f = arg;

	if (f->no_sockets)
		return -ENOENT;
	*total = f->retrans[w];
	return 0;
}

static int f_retrans_arm(void *arg, unsigned int w, uint64_t at, uint64_t *now)
{
	struct fake *f = arg;

	f->at[w] = at;
	f->retrans[w] += f->arm_bump[w];
	f->arm_bump[w] = 0;
	f->arms++;
	*now = f->retrans[w];
	return 0;
}

static int f_retrans_first(void *arg, unsigned int w, bool take, uint64_t *first_ns)
{
	struct fake *f = arg;

	*first_ns = f->first[w];
	if (take)
		f->first[w] = 0;
	return 0;
}

static int f_wl_drops(void *arg, unsigned int w, uint64_t *total)
{
	*total = ((struct fake *)arg)->wl_drops[w];
	return 0;
}

static int f_fam_drops(void *arg, unsigned int f, uint64_t *total, const char **name)
{
	static const char *const names[] = {"exits", "sockets"};

	*total = ((struct fake *)arg)->fam_drops[f];
	*name = names[f];
	return 0;
}

static int f_map_full(void *arg, unsigned int m, uint64_t *total, const char **family,
		      const char **map)
{
	*total = ((struct fake *)arg)->full[m];
	*family = m ? "daemon" : "exits";
	*map = m ? "incidents" : "watched";
	return 0;
}

static int f_latency(void *arg, unsigned int w, unsigned int k, struct vigil_lat_hist *h)
{
	if (w != 1)
		return -ENOENT;
	if (k == 2)
		return -EEXIST; /* "read" named twice */
	*h = ((struct fake *)arg)->h[k];
	return 0;
}

/* What the stage found, in order. */
struct found {
	unsigned int n;
	struct vigil_derived_out o[64];
	char names[64][64];
};

static void on_found(const struct vigil_derived_out *o, void *arg)
{
	struct found *f = arg;

	assert_true(f->n < 64);
	f->o[f->n] = *o;
	snprintf(f->names[f->n], sizeof(f->names[0]), "%s", o->workload);
	f->o[f->n].workload = f->names[f->n];
	f->n++;
}

struct env {
	struct vigil_config *cfg;
	struct fake k;
	struct vigil_derived_source src;
	struct vigil_derived *d;
	struct found got;
};

static const char yaml[] = "workloads:\n"
			   "  - name: api\n"
			   "    match: { comm: api }\n"
			   "    latency: { syscalls: [read, write, read], budget_ms: 100 }\n"
			   "    detect: { crash_loop_exits: 3, crash_loop_window: 60s,\n"
			   "              retransmits_per_s: 10, conn_errors_per_s: 5,\n"
			   "              slo_intervals: 3 }\n"
			   "  - name: db\n"
			   "    match: { comm: db }\n";

static void env_init(struct env *e)
{
	char err[256];

	memset(e, 0, sizeof(*e));
	if (vigil_config_parse(yaml, strlen(yaml), "t.yaml", &e->cfg, err, sizeof(err)))
		fail_msg("config: %s", err);
	e->src = (struct vigil_derived_source){
	    .retransmits = f_retrans,
	    .workload_drops = f_wl_drops,
	    .family_drops = f_fam_drops,
	    .n_families = 2,
	    .latency = f_latency,
	    .map_full = f_map_full,
	    .n_maps = 2,
	    .arg = &e->k,
	};
	assert_int_equal(vigil_derived_new(e->cfg, &e->src, on_found, &e->got, T0, &e->d), 0);
}

static void env_fini(struct env *e)
{
	vigil_derived_free(e->d);
	vigil_config_free(e->cfg);
}

/* A classified event of workload w at kernel time ts. */
static unsigned int event(struct env *e, unsigned int w, enum vigil_class cls, uint64_t ts)
{
	struct vigil_event_hdr h = {.workload = w, .ts_ns = ts, .tgid = 4242};
	struct vigil_detection det = {.cls = cls};

	return vigil_derived_event(e->d, &h, &det, w == 1 ? "api" : "db");
}

static void test_crash_loop(void **state)
{
	struct env e;

	(void)state;
	env_init(&e);
	/* Two failed exits, then one 61 s after the first: never 3 within 60 s. */
	assert_int_equal(event(&e, 1, VIGIL_CLASS_CRASH, T0), 0);
	assert_int_equal(event(&e, 1, VIGIL_CLASS_EXIT_NONZERO, T0 + 30 * SEC), 0);
	assert_int_equal(event(&e, 1, VIGIL_CLASS_OOM_KILL, T0 + 61 * SEC), 0);
	/* Not failures, and another workload's: not counted. */
	assert_int_equal(event(&e, 1, VIGIL_CLASS_CONN_RESET, T0 + 62 * SEC), 0);
	assert_int_equal(event(&e, 2, VIGIL_CLASS_CRASH, T0 + 62 * SEC), 0);
	assert_int_equal(event(&e, 0, VIGIL_CLASS_CRASH, T0 + 62 * SEC), 0);
	/* The third within 60 s of the second. */
	assert_int_equal(event(&e, 1, VIGIL_CLASS_CRASH, T0 + 80 * SEC), 1);
	assert_int_equal(e.got.o[0].kind, VIGIL_DERIVED_FAULT);
	assert_int_equal(e.got.o[0].det.cls, VIGIL_CLASS_CRASH_LOOP);
	assert_int_equal(e.got.o[0].hdr.workload, 1);
	assert_int_equal(e.got.o[0].hdr.ts_ns, T0 + 80 * SEC);
	assert_string_equal(e.got.o[0].det.title, "api crash_loop (3 failed exits in 60 s)");
	/* Each further one inside the window counts it again. */
	assert_int_equal(event(&e, 1, VIGIL_CLASS_CRASH, T0 + 81 * SEC), 1);
	assert_int_equal(e.got.n, 2);
	env_fini(&e);
}

static void test_conn_rate(void **state)
{
	struct env e;
	unsigned int n = 0;

	(void)state;
	env_init(&e);
	/* 4 refused in a second: under the floor of 5/s. */
	for (int i = 0; i < 4; i++)
		n += event(&e, 1, VIGIL_CLASS_CONN_REFUSED, T0 + 100 * MS * i);
	assert_int_equal(n, 0);
	/* The 5th: a rate fault, timed from the first error of the window. */
	assert_int_equal(event(&e, 1, VIGIL_CLASS_CONN_REFUSED, T0 + 450 * MS), 1);
	assert_int_equal(e.got.o[0].det.cls, VIGIL_CLASS_CONN_REFUSED);
	assert_string_equal(e.got.o[0].det.detail, "rate");
	assert_int_equal(e.got.o[0].hdr.ts_ns, T0);
	/* At most one a tick; another class is judged apart. */
	assert_int_equal(event(&e, 1, VIGIL_CLASS_CONN_REFUSED, T0 + 460 * MS), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(event(&e, 1, VIGIL_CLASS_CONN_RESET, T0 + 500 * MS + i), 0);
	/* A steady 8/s for a minute becomes the baseline: 8/s is then no anomaly. */
	for (int s = 1; s <= 60; s++) {
		vigil_derived_tick(e.d, T0 + (uint64_t)s * SEC);
		for (int i = 0; i < 8; i++)
			event(&e, 1, VIGIL_CLASS_CONN_TIMEOUT, T0 + s * SEC + i * 120 * MS);
	}
	n = e.got.n;
	vigil_derived_tick(e.d, T0 + 61 * SEC);
	for (int i = 0; i < 8; i++)
		event(&e, 1, VIGIL_CLASS_CONN_TIMEOUT, T0 + 61 * SEC + i * 120 * MS);
	assert_int_equal(e.got.n, n);
	/* ... but 40 in the next second is. */
	vigil_derived_tick(e.d, T0 + 62 * SEC);
	for (int i = 0; i < 40; i++)
		event(&e, 1, VIGIL_CLASS_CONN_TIMEOUT, T0 + 62 * SEC + i * 20 * MS);
	assert_int_equal(e.got.n, n + 1);
	assert_int_equal(e.got.o[n].det.cls, VIGIL_CLASS_CONN_TIMEOUT);
	env_fini(&e);
}

static void test_retransmits(void **state)
{
	uint64_t t = T0;
	struct env e;

	(void)state;
	env_init(&e);
	/* 5 in a sample: under the 10/s floor. */
	e.k.retrans[1] = 5;
	assert_int_equal(vigil_derived_sample(e.d, t += 25 * MS), 0);
	/* 6 more in a later sample: 11 over the last second, a fault timed from the start of
	 * the first sample that had any. */
	assert_int_equal(vigil_derived_sample(e.d, t += 25 * MS), 0);
	e.k.retrans[1] = 11;
	assert_int_equal(vigil_derived_sample(e.d, t += 25 * MS), 1);
	assert_int_equal(e.got.o[0].det.cls, VIGIL_CLASS_RETRANSMITS);
	assert_int_equal(e.got.o[0].hdr.ts_ns, T0);
	assert_int_equal(e.got.o[0].hdr.workload, 1);
	/* Once a tick. */
	e.k.retrans[1] = 30;
	assert_int_equal(vigil_derived_sample(e.d, t += 25 * MS), 0);
	/* The tick: the second's 30 retransmits as a rate event of workload 1 (db had none). */
	assert_int_equal(vigil_derived_tick(e.d, T0 + SEC), 1);
	assert_int_equal(e.got.o[1].kind, VIGIL_DERIVED_RATE);
	assert_string_equal(e.got.o[1].workload, "api");
	assert_int_equal(e.got.o[1].count, 30);
	assert_int_equal(e.got.o[1].interval_ms, 1000);
	assert_int_equal(e.got.o[1].det.cls, VIGIL_CLASS_NONE);
	assert_string_equal(e.got.o[1].det.label, "retransmits");
	/* No sockets family: nothing sampled, nothing found. */
	e.k.no_sockets = true;
	assert_int_equal(vigil_derived_sample(e.d, T0 + 2 * SEC), 0);
	env_fini(&e);
}

/*
 * The kernel's retransmit alarm: armed after each sample where the window would reach the
 * floor; going off at the crossing finds the fault then, timed at the crossing; an alarm that
 * finds less (the window moved on) is armed again past the count; a count found past the alarm
 * as it is armed is the alarm going off; disarmed once the class fired, until the tick.
 */
static void test_retransmit_alarm(void **state)
{
	uint64_t t = T0, alarms, early;
	struct env e;

	(void)state;
	env_init(&e);
	e.src.retrans_arm = f_retrans_arm;
	e.src.retrans_first = f_retrans_first;
	/* 4 in the first sample, the first of them 3 ms in: the alarm at 10, the floor. */
	e.k.retrans[1] = 4;
	e.k.first[1] = T0 + 3 * MS;
	assert_int_equal(vigil_derived_sample(e.d, t += 25 * MS), 0);
	assert_int_equal(e.k.first[1], 0); /* taken */
	assert_int_equal(e.k.at[1], 10);
	assert_int_equal(e.k.at[2], 10);
	/* It goes off early (say the count was 8 then): nothing yet, armed past it. */
	e.k.retrans[1] = 8;
	assert_int_equal(vigil_derived_retrans(e.d, 1, t + 5 * MS), 0);
	assert_int_equal(e.k.at[1], 9);
	/* At 10, 12 ms after the last sample: the fault, found at the crossing, timed from the
	 * first retransmit of its window (the first sample's, 3 ms in), not from a sample. */
	e.k.retrans[1] = 10;
	e.k.first[1] = t + 2 * MS;
	assert_int_equal(vigil_derived_retrans(e.d, 1, t + 12 * MS), 1);
	assert_int_equal(e.got.o[0].det.cls, VIGIL_CLASS_RETRANSMITS);
	assert_int_equal(e.got.o[0].hdr.ts_ns, T0 + 3 * MS);
	assert_int_equal(e.got.o[0].hdr.workload, 1);
	assert_int_equal(e.k.at[1], 0);
	/* Fired this second: disarmed at every sample; a stray alarm finds nothing. */
	e.k.retrans[1] = 40;
	assert_int_equal(vigil_derived_sample(e.d, t += 25 * MS), 0);
	assert_int_equal(e.k.at[1], 0);
	assert_int_equal(vigil_derived_retrans(e.d, 1, t), 0);
	/* The tick: armed again, at the count where a second like this one would be found. */
	assert_int_equal(vigil_derived_tick(e.d, T0 + SEC), 1);
	assert_true(e.k.at[1] > 40);
	/* db: 3 retransmits while its alarm is armed (the kernel races the arming): the count is
	 * past an alarm at 10 after its sample with 8: the fault at once. (api, still 40 over
	 * the last second and its class free again since the tick, is found by the sample.) */
	e.k.retrans[2] = 8;
	e.k.arm_bump[2] = 3;
	assert_int_equal(vigil_derived_sample(e.d, t += 25 * MS), 2);
	assert_string_equal(e.got.o[e.got.n - 2].workload, "api");
	assert_string_equal(e.got.o[e.got.n - 1].workload, "db");
	assert_int_equal(e.got.o[e.got.n - 1].det.cls, VIGIL_CLASS_RETRANSMITS);
	/* An alarm for no workload, or one out of range: ignored. */
	assert_int_equal(vigil_derived_retrans(e.d, 0, t), 0);
	assert_int_equal(vigil_derived_retrans(e.d, 99, t), 0);
	vigil_derived_retrans_stats(e.d, &alarms, &early);
	assert_int_equal(alarms, 4);
	assert_int_equal(early, 1);
	env_fini(&e);
}

/* n calls of workload 1's k-th syscall in log2 bucket slot (2^slot ns). */
static void calls(struct env *e, unsigned int k, unsigned int slot, uint64_t n)
{
	e->k.h[k].slots[slot] += n;
	e->k.h[k].count += n;
}

static void test_latency_slo(void **state)
{
	struct env e;

	(void)state;
	env_init(&e);
	/* 2^27 ns = 134 ms: over the 100 ms budget. Second 1 and 2 over, then too few calls
	 * (the streak neither grows nor ends), then over: the third interval over budget. */
	calls(&e, 0, 27, 100);
	assert_int_equal(vigil_derived_tick(e.d, T0 + SEC), 0);
	calls(&e, 0, 27, 100);
	assert_int_equal(vigil_derived_tick(e.d, T0 + 2 * SEC), 0);
	calls(&e, 0, 27, 5);
	assert_int_equal(vigil_derived_tick(e.d, T0 + 3 * SEC), 0);
	calls(&e, 0, 27, 100);
	calls(&e, 1, 10, 100); /* write: fast, never a fault */
	assert_int_equal(vigil_derived_tick(e.d, T0 + 4 * SEC), 1);
	assert_int_equal(e.got.o[0].det.cls, VIGIL_CLASS_LATENCY_SLO);
	assert_string_equal(e.got.o[0].det.detail, "read");
	/* Timed from the start of the first over-budget interval: the first check's time. */
	assert_int_equal(e.got.o[0].hdr.ts_ns, T0 + SEC);
	assert_string_equal(e.got.o[0].det.title,
			    "api latency_slo read p99 >= 134 ms (budget 100 ms)");
	/* A fast interval ends the streak. */
	calls(&e, 0, 10, 100);
	assert_int_equal(vigil_derived_tick(e.d, T0 + 5 * SEC), 0);
	calls(&e, 0, 27, 100);
	assert_int_equal(vigil_derived_tick(e.d, T0 + 6 * SEC), 0);
	env_fini(&e);
}

/* A map that fills: one health finding when the episode starts, none while it goes on, one
 * again after a tick without refusals. */
static void test_map_full_once_per_episode(void **state)
{
	struct env e;

	(void)state;
	env_init(&e);
	assert_int_equal(vigil_derived_tick(e.d, T0 + SEC), 0);
	e.k.full[1] = 5;
	assert_int_equal(vigil_derived_tick(e.d, T0 + 2 * SEC), 1);
	assert_int_equal(e.got.o[0].kind, VIGIL_DERIVED_FULL);
	assert_string_equal(e.got.o[0].workload, "daemon");
	assert_string_equal(e.got.o[0].map, "incidents");
	assert_int_equal(e.got.o[0].count, 5);
	assert_int_equal(e.got.o[0].total, 5);
	/* Still refusing, a tick after tick: the same episode. */
	for (unsigned int k = 3; k < 10; k++) {
		e.k.full[1] += 100;
		assert_int_equal(vigil_derived_tick(e.d, T0 + k * SEC), 0);
	}
	/* Another map is its own episode. */
	e.k.full[0] = 1;
	assert_int_equal(vigil_derived_tick(e.d, T0 + 10 * SEC), 1);
	assert_string_equal(e.got.o[1].map, "watched");
	/* A quiet tick ends the episode; the next refusal starts one. */
	assert_int_equal(vigil_derived_tick(e.d, T0 + 11 * SEC), 0);
	e.k.full[1] += 2;
	assert_int_equal(vigil_derived_tick(e.d, T0 + 12 * SEC), 1);
	assert_int_equal(e.got.o[2].count, 2);
	assert_int_equal(e.got.o[2].total, 707);
	env_fini(&e);
}

static void test_drops(void **state)
{
	struct env e;

	(void)state;
	env_init(&e);
	/* A family's losses since the last tick: a health finding with the total. */
	e.k.fam_drops[1] = 7;
	assert_int_equal(vigil_derived_tick(e.d, T0 + SEC), 1);
	assert_int_equal(e.got.o[0].kind, VIGIL_DERIVED_HEALTH);
	assert_string_equal(e.got.o[0].workload, "sockets");
	assert_int_equal(e.got.o[0].count, 7);
	assert_int_equal(e.got.o[0].total, 7);
	e.k.fam_drops[1] = 9;
	assert_int_equal(vigil_derived_tick(e.d, T0 + 2 * SEC), 1);
	assert_int_equal(e.got.o[1].count, 2);
	assert_int_equal(e.got.o[1].total, 9);
	assert_int_equal(vigil_derived_tick(e.d, T0 + 3 * SEC), 0);
	/* Workload 1 loses 4 records before the tick at 4 s and 2 after it: an incident whose
	 * window starts at 3 s counts all 6, one whose window starts after 4 s only the 2. */
	e.k.wl_drops[1] = 4;
	vigil_derived_tick(e.d, T0 + 4 * SEC);
	e.k.wl_drops[1] = 6;
	assert_int_equal(vigil_derived_lost_since(e.d, 1, T0 + 3 * SEC), 6);
	assert_int_equal(vigil_derived_lost_since(e.d, 1, T0 + 4 * SEC + MS), 2);
	assert_int_equal(vigil_derived_lost_since(e.d, 2, T0), 0);
	env_fini(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crash_loop),
	    cmocka_unit_test(test_conn_rate),
	    cmocka_unit_test(test_retransmits),
	    cmocka_unit_test(test_retransmit_alarm),
	    cmocka_unit_test(test_latency_slo),
	    cmocka_unit_test(test_drops),
	    cmocka_unit_test(test_map_full_once_per_episode),
	};

	return cmocka_run_group_tests_name("derived", tests, NULL, NULL);
}
