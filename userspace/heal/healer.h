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
	/* Established connections the workload holds now (its live conversations). */
	uint64_t (*established)(unsigned int workload, void *arg);
	/* Is pid a live process of the workload (in the kernel's watched set for it)? */
	bool (*owns)(unsigned int workload, pid_t pid, void *arg);
	void *arg;
	/* The workload's live processes (its watched set), at most max into out; returns how
	 * many it has. May be NULL (none known). */
	size_t (*pids)(unsigned int workload, pid_t *out, size_t max, void *arg);
};

/*
 * Let the healer's actions stop live processes: before an action stops a process that still
 * runs (restart, for an incident that is not an exit), wait for the workload's established
 * connections to close (at most quiet.max_defer). Without a probe, a live process is never
 * stopped.
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

/* Returns 0 and *out, or -ENOMEM. */
int vigil_healer_new(const struct vigil_config *cfg, struct vigil_loop *loop,
		     struct vigil_output *o, struct vigil_incidents *incs, vigil_watch_fn watch,
		     void *watch_arg, struct vigil_healer **out);
/* Cancels pending heals (recorded as such) and frees; accepts NULL. */
void vigil_healer_free(struct vigil_healer *h);

/* An incident opened (opened=true) or repeated. Decides, acts or schedules. */
void vigil_healer_incident(struct vigil_healer *h, struct vigil_incident *inc, bool opened);

/*
 * A person approved an incident awaiting approval (level 3): run now the rule chosen when it
 * went awaiting approval (not one chosen again from what the store learned since).
 * who names them in the audit trail. Returns 0, -EINVAL if the incident is not awaiting
 * approval, -ENOENT if no rule applies any more.
 */
int vigil_healer_approve(struct vigil_healer *h, struct vigil_incident *inc, const char *who);
/* The control socket's "approve ID", answered: {"incident", "state", "approved": true} or
 * {"incident", "state", "error"}. Returns 0, -ENOENT for an id that is not a live incident,
 * -ENOMEM. */
int vigil_healer_approve_answer(struct vigil_healer *h, const char *id, const char *who,
				struct vigil_json *out);

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

#endif /* VIGIL_HEALER_H */
