/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tally: running counts of what vigil recorded — incidents opened by workload and class,
 * incidents resolved, how long detection and recovery took (Prometheus-style histograms), and
 * every audited heal step by workload, action and outcome — for the HTTP endpoint's /metrics.
 * Fed on the loop's thread (the daemon as incidents open and resolve, the output as each action
 * record is written) and read there: no locking. Fixed size but for the action keys, which the
 * config bounds (its workloads and rule names, and the outcomes the healer writes).
 */
#ifndef VIGIL_TALLY_H
#define VIGIL_TALLY_H

#include <stdint.h>

#include "detect/incidents.h"
#include "vigil/classes.h"
#include "vigil/limits.h"

/* Upper bounds (seconds) of the detection and recovery histograms' buckets; +Inf implied. */
#define VIGIL_TALLY_DETECT_BUCKETS 14
#define VIGIL_TALLY_RECOVER_BUCKETS 14
extern const double vigil_tally_detect_le[VIGIL_TALLY_DETECT_BUCKETS];
extern const double vigil_tally_recover_le[VIGIL_TALLY_RECOVER_BUCKETS];
/* Distinct (workload, action, outcome) keys kept; beyond, counted in actions_unkept. */
#define VIGIL_TALLY_ACTIONS_MAX 512

struct vigil_tally_hist {
	uint64_t buckets[VIGIL_TALLY_DETECT_BUCKETS > VIGIL_TALLY_RECOVER_BUCKETS
			     ? VIGIL_TALLY_DETECT_BUCKETS
			     : VIGIL_TALLY_RECOVER_BUCKETS]; /* not cumulative */
	uint64_t count;
	uint64_t sum_ns;
};

struct vigil_tally_action {
	unsigned int workload; /* index + 1; 0: none */
	char action[64];
	char outcome[24];
	uint64_t n;
};

/* Zero-initialise (it is embedded in the daemon); vigil_tally_free() at the end. */
struct vigil_tally {
	/* [workload index + 1, 0: a process no workload matches][class] */
	uint64_t opened[VIGIL_MAX_WORKLOADS + 1][VIGIL_CLASS_MAX];
	uint64_t resolved[VIGIL_MAX_WORKLOADS + 1][VIGIL_CLASS_MAX];
	struct vigil_tally_hist detect[VIGIL_CLASS_MAX];  /* first kernel event -> opened */
	struct vigil_tally_hist recover[VIGIL_CLASS_MAX]; /* opened -> resolved */
	struct vigil_tally_action *actions;
	unsigned int n_actions, cap_actions;
	uint64_t actions_unkept;
};

/* An incident opened (its detection time observed), or one resolved (its recovery time). */
void vigil_tally_opened(struct vigil_tally *t, const struct vigil_incident *i);
void vigil_tally_resolved(struct vigil_tally *t, const struct vigil_incident *i);
/* An action record: a heal step of i's workload. */
void vigil_tally_action(struct vigil_tally *t, const struct vigil_incident *i, const char *action,
			const char *outcome);
void vigil_tally_free(struct vigil_tally *t);

#endif /* VIGIL_TALLY_H */
