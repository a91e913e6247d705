/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scenarios: the fault scenario suite. One real build/vigil watches one workload per scenario
 * (matched by comm, sc-*); each scenario is a real fault program (tests/helpers/faulty under
 * that name) and what vigil must report for it. scenarios.c holds the runner, the
 * expectations and the report; faults.c causes the faults.
 */
#ifndef VIGIL_SCENARIOS_H
#define VIGIL_SCENARIOS_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "harness.h"

#define SC_WAIT_MS 5000
#define SC_MAX_EXPECT 2

enum sc_id {
	SC_SEGV,
	SC_ABORT,
	SC_EXIT,
	SC_OOM,
	SC_LOOP,
	SC_REFUSED,
	SC_RESET,
	SC_TIMEOUT,
	SC_SLOW,
	SC_RETX,
	SC_NOISE,
	SC_N,
};

/* An incident vigil must open for the scenario, and the bounds of its final count. With a
 * detail, only the incident of that detail matches; without, the first of its class does (the
 * endpoint incident opens at the first event, before a rate anomaly's tick). */
struct sc_expect {
	const char *cls;
	long min, max;
	const char *detail;
};

struct sc_scenario {
	const char *name;			/* its row in the table */
	const char *workload;			/* the config's workload, and the comm it matches */
	struct sc_expect expect[SC_MAX_EXPECT]; /* none: the scenario must cause no incident */
	bool skipped;				/* could not run on this host (the test said why) */
};

extern struct sc_scenario sc_scenarios[SC_N];

/* The one vigil of the run, shared by every scenario test (cmocka's group state). */
struct sc_fixture {
	struct vt v;
	pid_t noise;	     /* the unwatched background load, until the last test */
	char noise_out[160]; /* where it writes what it did */
};

/* Wait for a child of the runner; returns its wait status. */
int sc_reap(pid_t pid);

/*
 * Wait for every incident the scenario expects and for each count to reach its minimum, and
 * check it stays within the maximum. Fails the running cmocka test if not. Returns the first
 * expected incident's opening record (owned by v).
 */
json_t *sc_expect(struct vt *v, enum sc_id id);

/* The count of the incident whose opening record is inc, as far as the journal tells now. */
long sc_count(struct vt *v, json_t *inc);

/* The kernel's retransmit count of a workload, from `vigil status`; -1 if unknown. */
long long sc_retransmits(struct vt *v, const char *workload);

/* The scenarios (faults.c), in table order. */
void sc_test_segfault(void **state);
void sc_test_abort_core(void **state);
void sc_test_exit_code(void **state);
void sc_test_oom_kill(void **state);
void sc_test_crash_loop(void **state);
void sc_test_refused(void **state);
void sc_test_reset_storm(void **state);
void sc_test_connect_timeout(void **state);
void sc_test_slow_read(void **state);
void sc_test_retransmits(void **state);

#endif /* VIGIL_SCENARIOS_H */
