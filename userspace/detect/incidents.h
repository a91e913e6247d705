/* SPDX-License-Identifier: Apache-2.0 */
/*
 * incidents: faults with one signature inside the aggregation window are one incident with a
 * count. Holds the lifecycle state; the healer moves it, the sinks record every move.
 */
#ifndef VIGIL_INCIDENTS_H
#define VIGIL_INCIDENTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "detect/detector.h"

struct vigil_heal_rule; /* config.h */

enum vigil_incident_state {
	VIGIL_INC_OPEN = 0,
	VIGIL_INC_HEALING,
	VIGIL_INC_VERIFYING,
	VIGIL_INC_RESOLVED,
	VIGIL_INC_AWAITING_APPROVAL,
	VIGIL_INC_ESCALATED,
	VIGIL_INC_FAILED,
};

#define VIGIL_CHAIN_MAX 16     /* events listed before an incident */
#define VIGIL_CHAIN_NS 10000000000ull /* ... from the 10 s before its first event */

/* One earlier event of the same workload: the causal chain of an incident. */
struct vigil_chain_entry {
	uint64_t kernel_ns;
	uint32_t pid;
	char label[20];	 /* class or event label: "conn_reset", "syscall_slow", "killed" */
	char detail[64];
};

struct vigil_incident {
	char id[17];	/* 16 hex digits: wall-clock ms and a sequence number */
	char signature[VIGIL_SIG_LEN];
	enum vigil_class cls;
	enum vigil_incident_state state;
	unsigned int workload; /* index + 1; 0 in observe-all mode */
	char workload_name[64];
	char title[128];
	char detail[64];
	uint64_t count;
	uint64_t first_kernel_ns; /* bpf_ktime_get_ns() of the first event (CLOCK_MONOTONIC) */
	uint64_t last_kernel_ns;
	uint64_t opened_mono_ns;  /* when userspace opened it: detection = opened - first_kernel */
	uint64_t opened_wall_ns;
	uint64_t resolved_mono_ns; /* 0 until resolved */
	uint32_t tgid;		   /* of the last event */
	int signal, status;
	bool core_dumped;
	bool busy; /* the healer holds a timer or a child for it: not to be expired */
	bool lossy;	/* kernel events of this workload were dropped around it */
	bool final;	/* its last record: vigil stops tracking it (window passed, nothing holds it) */
	uint64_t lost;	/* ... how many */
	struct vigil_chain_entry chain[VIGIL_CHAIN_MAX]; /* oldest first */
	unsigned int n_chain;
	/* The heal rule the healer chose when it went awaiting approval: an approval runs it. */
	const struct vigil_heal_rule *heal_rule;
	struct vigil_incident *next;
};

struct vigil_incidents;

/* Returns 0 and *out, or -ENOMEM. */
int vigil_incidents_new(uint64_t window_ms, struct vigil_incidents **out);
/* Frees every incident; accepts NULL. */
void vigil_incidents_free(struct vigil_incidents *t);

/*
 * Count one fault. Joins the live incident with the same signature whose last event is inside
 * the window (resolved and failed ones are over: a new one opens), or opens one.
 * *opened says which. Returns the incident, or NULL on -ENOMEM.
 */
struct vigil_incident *vigil_incidents_record(struct vigil_incidents *t,
					      const struct vigil_event_hdr *hdr,
					      const struct vigil_detection *d, const char *workload,
					      bool *opened);

/* Remember an event of a configured workload (any event, fault or not) for the causal
 * chains of incidents that open after it. */
void vigil_incidents_note(struct vigil_incidents *t, unsigned int workload, uint64_t kernel_ns,
			  uint32_t pid, const char *label, const char *detail);

/* The live incidents, newest first (follow ->next). */
const struct vigil_incident *vigil_incidents_first(const struct vigil_incidents *t);
/* The live incident with this id, or NULL; the first form for those who change it. */
struct vigil_incident *vigil_incidents_lookup(struct vigil_incidents *t, const char *id);
const struct vigil_incident *vigil_incidents_find(const struct vigil_incidents *t,
						  const char *id);

/* Called with each incident about to be forgotten (its `final` set), so that its last state
 * can be recorded. */
typedef void (*vigil_incident_fn)(const struct vigil_incident *i, void *arg);

/* Forget incidents idle for longer than the window that nothing holds, calling fn (may be
 * NULL) for each first. Returns how many. */
unsigned int vigil_incidents_expire(struct vigil_incidents *t, uint64_t now_mono_ns,
				    vigil_incident_fn fn, void *arg);

unsigned int vigil_incidents_count(const struct vigil_incidents *t);
const char *vigil_incident_state_name(enum vigil_incident_state s);

#endif /* VIGIL_INCIDENTS_H */
