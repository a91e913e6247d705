/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report: the service's success metrics, from a journal (`vigil report`). The journal has one
 * incident record per lifecycle change; an incident is counted once, at its last record,
 * which holds its final state and all its times:
 *
 *   detection  detect_us of the record: the kernel timestamp of its first event to the
 *              moment userspace opened it (records.c), for every incident;
 *   recovery   recovery_ms of the record: opened to resolved, for resolved incidents;
 *   level 1    the incidents whose chosen heal rule was level 1 (the record's level) and that
 *              are over: the share of them resolved without a person (no "approved" action
 *              record; target 80 %). Ones still being healed are counted apart.
 *
 * Heals are counted from the action records of the incidents counted: intent (a heal ran),
 * success, failed. Percentiles are nearest-rank over the sorted recorded values (the value
 * at rank ceil(p/100 * n)), so each is a value some incident really had.
 */
#ifndef VIGIL_REPORT_H
#define VIGIL_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "control/hist.h"
#include "control/history.h"
#include "core/json.h"

/* The final states an incident can be in (incidents.c's names), and one for any other. */
enum vigil_report_state {
	VIGIL_RS_OPEN,
	VIGIL_RS_HEALING,
	VIGIL_RS_VERIFYING,
	VIGIL_RS_RESOLVED,
	VIGIL_RS_AWAITING,
	VIGIL_RS_ESCALATED,
	VIGIL_RS_FAILED,
	VIGIL_RS_EXPIRED,
	VIGIL_RS_OTHER,
	VIGIL_RS_N,
};

/* Incidents of one workload or of one class. */
struct vigil_report_group {
	char name[64];
	uint64_t incidents, resolved, escalated, failed;
};

/* The recorded values of one duration, sorted, and their log2 slots (in ns, hist.h). */
struct vigil_report_dist {
	uint64_t *v;
	size_t n;
	unsigned long long slot[VIGIL_HIST_SLOTS];
};

struct vigil_report {
	char since[32]; /* the cutoff (RFC 3339) given to vigil_report_read(); "": none */
	uint64_t incidents;
	uint64_t state[VIGIL_RS_N];
	uint64_t no_time;	    /* with a cutoff: incidents whose last ts is not vigil's */
	uint64_t level1;	    /* level-1 incidents that are over */
	uint64_t level1_unattended; /* ... of them resolved without a person */
	uint64_t level1_active;	    /* level-1 incidents not over yet: not in the share */
	uint64_t heals, heals_ok, heals_failed; /* intent, success, failed action records */
	uint64_t approvals;			/* incidents a person approved */
	struct vigil_report_dist detect_us, recovery_ms;
	struct vigil_report_group *workloads, *classes; /* most incidents first */
	size_t n_workloads, n_classes;
	struct vigil_journal_stats st; /* lines read, skipped, malformed incident records */
};

/*
 * Read the journal f (its lines as vigil incidents reads them) into r. since: an RFC 3339
 * time as vigil writes them ("2026-11-29T12:34:56.789Z"); only the incidents whose last record
 * is at or after it are counted (an incident opened before it and resolved after is counted,
 * whole); NULL: every incident. Returns 0, -EIO when reading f failed, or -ENOMEM; r is to be
 * freed with vigil_report_free() in every case.
 */
int vigil_report_read(FILE *f, const char *since, struct vigil_report *r);
void vigil_report_free(struct vigil_report *r);

/* Nearest-rank percentile p (1..100) of d; 0 when d is empty. */
uint64_t vigil_report_pct(const struct vigil_report_dist *d, unsigned int p);

/* The report for a person: the numbers, a table per workload and per class, the detection and
 * recovery distributions as bars. Names are shown terminal-safe. Returns 0 or -ENOMEM. */
int vigil_report_print(const struct vigil_report *r, const char *journal, FILE *out);
/* The numbers as one JSON object into out. Returns 0 or -ENOMEM. */
int vigil_report_json(const struct vigil_report *r, const char *journal, struct vigil_json *out);

#endif /* VIGIL_REPORT_H */
