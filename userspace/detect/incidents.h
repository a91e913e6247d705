/* SPDX-License-Identifier: Apache-2.0 */
/*
 * incidents: faults with one signature inside the aggregation window are one incident with a
 * count, and the incident's lifecycle.
 *
 * This module is the only writer of an incident: the healer asks for a transition with
 * vigil_incident_set_state(), which enforces DESIGN.md's lifecycle
 *
 *   open -> healing -> verifying -> resolved | failed
 *   open -> resolved (the fault went away before any heal began: an alert's resolution)
 *   open -> awaiting_approval -> open (approved)       open -> escalated (breaker, lossy)
 *   open | healing -> failed                            healing -> resolved
 *   healing -> escalated (a heal that must not go on: the quiet window ended, say)
 *   verifying -> healing (a rule's retry: its attempt failed, the next one waits its turn)
 *   awaiting_approval -> expired (approval_timeout passed; it leaves the live table)
 *
 * and refuses anything else as a bug (counted, and said on stderr). Every change worth a record
 * — an incident opened, its count reaching 2, 4, 8…, a transition, its final record when it
 * leaves the table — is handed to the notify callback, which the daemon wires to the output.
 *
 * The live table is bounded (opts.max): any process can pick its own name, and in observe-all
 * mode every name is a signature. At the cap, a new incident takes the place of the least
 * recently seen one that nothing holds and no heal is about (healing, verifying, awaiting
 * approval): that one's final record says "evicted". When every live incident is held, the
 * new fault is counted as dropped. Incidents are found by signature through a hash index,
 * so a record costs the same with 10 or 10,000 live incidents.
 */
#ifndef VIGIL_INCIDENTS_H
#define VIGIL_INCIDENTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/clock.h"
#include "core/json.h"
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
	VIGIL_INC_EXPIRED, /* no one approved it in time: over, leaves the live table */
};

#define VIGIL_CHAIN_MAX 16		 /* events listed before an incident */
#define VIGIL_INCIDENTS_MAX_DEFAULT 4096 /* live incidents: ~2.5 KiB each, ~10 MiB in all */
#define VIGIL_INCIDENTS_MAX_LIMIT 16384	 /* the largest max_incidents: ~40 MiB */
#define VIGIL_CHAIN_NS 10000000000ull	 /* ... from the 10 s before its first event */

/* One earlier event of the same workload: the causal chain of an incident. */
struct vigil_chain_entry {
	uint64_t kernel_ns;
	uint32_t pid;
	char label[20]; /* class or event label: "conn_reset", "syscall_slow", "killed" */
	char detail[64];
};

/* Read-only outside incidents.c, but for heal_rule, which is the healer's. */
struct vigil_incident {
	char id[17]; /* 16 hex digits: wall-clock ms and a sequence number */
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
	uint64_t opened_mono_ns; /* when userspace opened it: detection = opened - first_kernel */
	uint64_t opened_wall_ns;
	uint64_t resolved_mono_ns;   /* 0 until resolved */
	uint64_t replaced_kernel_ns; /* a heal's new process exec'd then (CLOCK_MONOTONIC); 0 */
	uint32_t tgid;		     /* of the last event */
	char comm[16];		     /* the first event's process name ("" when restored) */
	int signal, status;
	bool core_dumped;
	bool busy;  /* the healer holds it (vigil_incident_hold): not to be expired */
	bool lossy; /* kernel events of this workload were dropped around it */
	bool final; /* its last record: vigil stops tracking it (window passed, nothing holds it) */
	bool restored; /* put back from the healer's state by a later run (vigil_incidents_restore)
			*/
	bool evicted;  /* with final: it left a full table for a newer incident */
	uint64_t lost; /* ... how many */
	struct vigil_trace trace; /* of its first event that had one; n 0: none */
	struct vigil_pod pod;	  /* of its first event whose process was in one; uid "": none */
	unsigned int level; /* the heal rule's autonomy level (1..3) once the healer chose one; 0 */
	struct vigil_chain_entry chain[VIGIL_CHAIN_MAX]; /* oldest first */
	unsigned int n_chain;
	/* The heal rule the healer chose when it went awaiting approval: an approval runs it. */
	const struct vigil_heal_rule *heal_rule;
	struct vigil_incident *next;
};

struct vigil_incidents;

/* Called with an incident whose state is worth a record (see above). */
typedef void (*vigil_incident_fn)(const struct vigil_incident *i, void *arg);

struct vigil_incidents_opts {
	uint64_t window_ms;
	const struct vigil_clock *clock; /* NULL: the host's */
	vigil_incident_fn notify;	 /* may be NULL */
	void *notify_arg;
	/* Kernel events of the workload lost since since_ns (monotonic): a new incident with any
	 * in its chain's window is lossy. May be NULL (never lossy). */
	uint64_t (*lost)(void *arg, unsigned int workload, uint64_t since_ns);
	void *lost_arg;
	unsigned int max; /* live incidents at most; 0: VIGIL_INCIDENTS_MAX_DEFAULT */
};

struct vigil_incidents_stats {
	uint64_t opened;
	uint64_t bad_transitions; /* refused set_state calls: each one is a bug */
	uint64_t evicted;	  /* left the full table for a newer incident */
	uint64_t dropped;	  /* faults not counted: the table was full of held incidents */
	unsigned int max;	  /* the cap */
	unsigned int peak;	  /* the most live at once */
};

/* Returns 0 and *out, or -ENOMEM. */
int vigil_incidents_new(const struct vigil_incidents_opts *o, struct vigil_incidents **out);
/* Frees every incident, recording nothing; accepts NULL. */
void vigil_incidents_free(struct vigil_incidents *t);

/*
 * Count one fault. Joins the live incident with the same signature whose last event is inside
 * the window (resolved and failed ones are over: a new one opens), or opens one (lossy when
 * the lost hook says so), evicting the least recently seen evictable one at the cap. *opened
 * says which. Notifies when it opened or its count reached a power of two. Returns the
 * incident, or NULL with errno ENOMEM, or ENOSPC (at the cap, everything held: counted as
 * dropped).
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
const struct vigil_incident *vigil_incidents_find(const struct vigil_incidents *t, const char *id);

/*
 * Move an incident to state s (and record it). Returns 0, or -EINVAL for a transition the
 * lifecycle does not have: nothing changes, the bug is counted and said on stderr.
 */
int vigil_incident_set_state(struct vigil_incidents *t, struct vigil_incident *i,
			     enum vigil_incident_state s);
/* A heal's replacement for the incident's process exec'd at exec_ns (CLOCK_MONOTONIC, the
 * kernel's clock): recorded as replaced_after_ms, from its first event. */
void vigil_incident_set_replaced(struct vigil_incidents *t, struct vigil_incident *i,
				 uint64_t exec_ns);
/* The healer holds an incident (a timer, a child, an approval it waits for) or lets it go:
 * a held incident is never expired nor evicted. */
void vigil_incident_hold(struct vigil_incident *i, bool held);

/*
 * What the healer's durable state keeps of an incident, to put it back in the live table when
 * vigil starts again. Times are wall-clock: a monotonic time of an earlier run may be of
 * another boot, or of another machine when the state came from Redis.
 */
struct vigil_incident_saved {
	char id[17];
	char signature[VIGIL_SIG_LEN];
	enum vigil_class cls;
	char workload_name[64];
	char title[128];
	char detail[64];
	uint64_t count;
	uint64_t opened_wall_ns;
	uint64_t detect_ns; /* its first kernel event -> opened */
	uint32_t tgid;
	int signal, status;
	bool core_dumped;
	bool lossy;
	uint64_t lost;
};

/* What of i the healer's state keeps, into *s. */
void vigil_incident_save(const struct vigil_incident *i, struct vigil_incident_saved *s);

/*
 * Put back an incident an earlier run of vigil left open: in the live table again with its id,
 * in state st (open: a heal is scheduled for it; or awaiting_approval), for configured workload
 * (index + 1), held (vigil_incident_hold) and marked restored, which its records say. Its times
 * are moved onto this run's monotonic clock (an opening before this boot counts from the
 * boot); its window starts now; its chain is not kept. Notifies. Returns it, or NULL with *err
 * -EEXIST (an incident with that id is live), -EINVAL (st is neither), -ENOSPC (the table is
 * full of held incidents) or -ENOMEM.
 */
struct vigil_incident *vigil_incidents_restore(struct vigil_incidents *t,
					       const struct vigil_incident_saved *s,
					       unsigned int workload, enum vigil_incident_state st,
					       int *err);

/* Forget incidents idle for longer than the window that nothing holds, each after its final
 * record. Returns how many. */
unsigned int vigil_incidents_expire(struct vigil_incidents *t);
/* An incident whose life is over before its window (an approval that expired): its final
 * record, and it leaves the live table now. i is freed: not to be touched after. Refused (a
 * bug, -EBUSY) while it is held. */
int vigil_incidents_retire(struct vigil_incidents *t, struct vigil_incident *i);
/* vigil stops: every live incident's final record, with its true count. The table is empty
 * after. */
void vigil_incidents_finish(struct vigil_incidents *t);

unsigned int vigil_incidents_count(const struct vigil_incidents *t);
void vigil_incidents_stats(const struct vigil_incidents *t, struct vigil_incidents_stats *st);
/* "incidents": live now, its cap and peak, opened since start, evicted, dropped, refused
 * transitions, into j. */
void vigil_incidents_status_json(const struct vigil_incidents *t, struct vigil_json *j);
const char *vigil_incident_state_name(enum vigil_incident_state s);

#endif /* VIGIL_INCIDENTS_H */
