/* SPDX-License-Identifier: Apache-2.0 */
/*
 * healer: decides whether and when to act on an incident, runs the chosen action through the
 * action interface (action.h), and learns from its outcome. Policy only: no action kind's
 * steps live here.
 *
 * Graduated autonomy (level 1 at once, level 2 after its delay, level 3 waits for approval),
 * a circuit breaker per workload, and a restart backoff that doubles from 10 s to 5 min as
 * Kubernetes' CrashLoopBackOff does, so a broken service is never restarted in a tight loop.
 * An action that would stop a live process waits first for the workload's conversations to
 * end (the quiet window). Among the rules that apply to an incident, the action that has
 * worked best on its signature runs (the knowledge store), and every known outcome is learned.
 * Every step is written to the audit trail (action records) before and after it happens.
 */
#ifndef VIGIL_HEALER_H
#define VIGIL_HEALER_H

#include <sys/types.h>

#include "config/config.h"
#include "detect/incidents.h"
#include "core/loop.h"
#include "heal/action.h"
#include "output/output.h"

struct vigil_healer;

/* Put a process the healer just forked into a workload's watched set, before it may run.
 * Returns 0 or -errno (the spawn is then abandoned). */
typedef int (*vigil_watch_fn)(unsigned int workload, pid_t pid, void *arg);

/* What the healer asks the rest of the daemon before restarting a process that still runs. */
struct vigil_healer_probe {
	/* The workload's live conversations: inbound connections open now on its listening
	 * ports (n of them; 0: all its ports). Outbound ones (a database pool) are not. */
	uint64_t (*conversations)(unsigned int workload, const uint16_t *ports, unsigned int n,
				  void *arg);
	/* The application's busy key (quiet.busy_key): 1 set, 0 absent, -1 unknown (Redis does
	 * not answer). NULL: treated as unknown for a workload that has one. */
	int (*busy)(unsigned int workload, void *arg);
	/* Is pid a live process of the workload (in the kernel's watched set for it)? */
	bool (*owns)(unsigned int workload, pid_t pid, void *arg);
	void *arg;
	/* The workload's live processes (its watched set), at most max into out; returns how
	 * many it has. May be NULL (none known). */
	size_t (*pids)(unsigned int workload, pid_t *out, size_t max, void *arg);
};

/*
 * Let the healer's actions stop live processes: before an action stops a process that still
 * runs (restart, for an incident that is not an exit), wait until the workload holds no
 * inbound conversation (at most quiet.max_defer); if one is still open then, escalate to a
 * person (quiet.on_timeout: escalate, the default) or stop it anyway (restart). Without a
 * probe, a live process is never stopped.
 */
void vigil_healer_set_probe(struct vigil_healer *h, const struct vigil_healer_probe *p);

struct vigil_knowledge;

/*
 * Let the healer learn and choose: each known outcome of an action (verified, died within the
 * verify window, exec failed) is recorded in k for (incident signature, rule name) and written
 * as a knowledge record; among the rules of a workload that apply to an incident, the one
 * whose action scores best for its signature runs (knowledge.h), config order breaking ties,
 * and the choice is in the audit trail (outcome "chosen"). NULL: no store, the first rule that
 * applies, always. The healer does not own k.
 */
void vigil_healer_set_knowledge(struct vigil_healer *h, struct vigil_knowledge *k);

struct vigil_fleet;

/*
 * Let the healer choose by the whole fleet's numbers (heal/fleet.h: every node's outcomes, as
 * Redis holds them) while that cache is usable, by the local store's otherwise; the "chosen"
 * record says which ("; numbers: fleet" or "; numbers: local"). Each outcome learned is also
 * counted in the cache until the fleet's own numbers are read again. NULL: local only. The
 * healer does not own f.
 */
void vigil_healer_set_fleet(struct vigil_healer *h, struct vigil_fleet *f);

struct vigil_state_file;
struct vigil_heal_state;

/*
 * Keep the healer's durable state (heal/state.h: breakers, backoff, heals waiting for a
 * level-2 delay or the backoff, incidents awaiting approval) in f, rewritten after every
 * change, and mirrored to the queued sinks as a "state" record (Redis: P:N:state). Without
 * it, nothing outlives this run. The healer does not own f. Before vigil_healer_restore().
 */
void vigil_healer_set_state(struct vigil_healer *h, struct vigil_state_file *f);

/* What a restore resumed, and what it could not, for the daemon to say. */
struct vigil_healer_restored {
	unsigned int breakers_open; /* open or half-open: still so */
	unsigned int backoffs;	    /* workloads whose backoff goes on */
	unsigned int pending;	    /* heals scheduled again for what was left of their delay */
	unsigned int awaiting;	    /* incidents awaiting approval again */
	unsigned int dropped;	    /* entries whose workload or rule the config lost */
	char dropped_why[160];	    /* the first of them */
};

/*
 * Resume what an earlier run left (s, from the state file or Redis): each breaker as it was
 * (an open one stays open for the rest of its cooldown), the backoff, each pending heal at
 * what is left of its delay (a "scheduled" record), each incident awaiting approval back in
 * the live table (vigil_incidents_restore: its record says restored; `vigil approve` runs the
 * rule it was waiting with). Times are converted from the wall clock onto the loop's. An entry
 * whose workload or rule is no longer in the config is dropped and counted in *r. Call once,
 * before the loop runs, with no incident yet. Returns 0.
 */
int vigil_healer_restore(struct vigil_healer *h, const struct vigil_heal_state *s,
			 struct vigil_healer_restored *r);
/* The healer's durable state now, into *s (vigil_state_clear it). Returns 0 or -ENOMEM. */
int vigil_healer_snapshot(const struct vigil_healer *h, struct vigil_heal_state *s);
/* Write it now (the file and the state record), not waiting for the loop's next turn.
 * Returns 0, or the -errno of the snapshot or the file (counted by the file). */
int vigil_healer_save(struct vigil_healer *h);

/* Returns 0 and *out, or -ENOMEM. */
int vigil_healer_new(const struct vigil_config *cfg, struct vigil_loop *loop,
		     struct vigil_output *o, struct vigil_incidents *incs, vigil_watch_fn watch,
		     void *watch_arg, struct vigil_healer **out);
/* Cancels pending heals (recorded as such) and frees; accepts NULL. */
void vigil_healer_free(struct vigil_healer *h);

/* An incident opened (opened=true) or repeated. Decides, acts or schedules. */
void vigil_healer_incident(struct vigil_healer *h, struct vigil_incident *inc, bool opened);

/*
 * The fault behind an open incident went away by itself (an alert's resolution, why saying
 * so): a heal scheduled for it and not begun (its delay, the backoff, its quiet window) is
 * cancelled (an action record "cancelled", nothing learnt, the breaker untouched), and the
 * incident is resolved. Returns 0; -EBUSY when its heal has begun (running, verifying, or
 * waiting to retry: its outcome decides); -EINVAL when it is not open (healed already, failed,
 * escalated, awaiting approval).
 */
int vigil_healer_fault_gone(struct vigil_healer *h, struct vigil_incident *inc, const char *why);

/*
 * A person approved an incident awaiting approval (level 3): run the rule chosen when it went
 * awaiting approval (not one chosen again from what the store learned since) — now, or, when
 * a heal of the workload is already running, as soon as it ends (recorded "waiting"; never
 * dropped). who and reason (may be NULL) go in the audit trail. Returns 0, -EINVAL if it is
 * not awaiting approval (or already approved), -ENOENT if no rule applies any more.
 */
int vigil_healer_approve(struct vigil_healer *h, struct vigil_incident *inc, const char *who,
			 const char *reason);
/* A person said no: recorded ("denied"), the incident is left open to people. Returns 0 or
 * -EINVAL as above. An unanswered one expires after the workload's approval_timeout
 * (recorded "expired"; the incident is expired and leaves the live table). */
int vigil_healer_deny(struct vigil_healer *h, struct vigil_incident *inc, const char *who,
		      const char *reason);
/* The control socket's "approve ID" and "deny ID", answered: {"incident", "state",
 * "approved"|"denied": true} or {"incident", "state", "error"}. Returns 0, -ENOENT for an id
 * that is not a live incident, -ENOMEM. */
int vigil_healer_approve_answer(struct vigil_healer *h, const char *id, const char *who,
				const char *reason, struct vigil_json *out);
int vigil_healer_deny_answer(struct vigil_healer *h, const char *id, const char *who,
			     const char *reason, struct vigil_json *out);

/* A child of ours ended (the daemon reaps on SIGCHLD): the action that started it hears of it
 * (a restart's verify window ends early). */
void vigil_healer_reaped(struct vigil_healer *h, pid_t pid, int wstatus);

/*
 * A process of a workload exec'd or ended, as the kernel saw it (ev: VIGIL_ACTION_WORKLOAD_EXEC
 * or _EXIT): the action running for that workload hears of it (a restart awaiting or
 * verifying the replacement). Nothing when no action of the workload runs.
 */
void vigil_healer_workload_event(struct vigil_healer *h, unsigned int workload,
				 const struct vigil_action_event *ev);

/* Restart backoff before the next restart of a workload that restarted `restarts` times,
 * the last one `since_ms` ago. Exposed for tests. */
uint64_t vigil_backoff_ms(unsigned int restarts, uint64_t since_ms);
/* The wait before attempt n + 1 of a rule's retry, after attempt n failed: backoff_ms doubled
 * n - 1 times, at most max_ms, jittered to 80..120 % (never above max_ms). rng: xorshift64
 * state, not 0, advanced. */
uint64_t vigil_retry_wait_ms(uint64_t backoff_ms, uint64_t max_ms, unsigned int n, uint64_t *rng);

#endif /* VIGIL_HEALER_H */
