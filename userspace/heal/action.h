/* SPDX-License-Identifier: Apache-2.0 */
/*
 * action: the one interface of every heal action kind, and what the healer gives a run of one.
 *
 * A kind is one file (heal/restart.c, ...) defining a struct vigil_action_ops, listed in the
 * table of heal/actions.c. The config resolves each rule's kind through that table and has the
 * kind validate its params at load. The healer keeps the policy — which rule, whether and when
 * (levels, delays, approvals, backoff, breaker, the quiet window) — and runs the chosen action
 * through the ops, the same for every kind:
 *
 *   healer   describe() for the "intent" record; incident -> healing
 *            interrupts(): a live process to stop? then the quiet window ("deferred")
 *   kind     start(run); then progress(run, ev) on the run's timer, its child's exit, and
 *            the workload's processes starting (exec) and ending (exit) as the kernel saw
 *            them; steps recorded with vigil_action_note(); vigil_action_verifying() when
 *            what it did is to be verified; the end with vigil_action_done()
 *   healer   "success" / "failed", the knowledge store, the breaker, resolved / failed
 *
 * or cancel(run), when vigil stops first. Adding a kind touches its own file, one line of the
 * table, and the config's YAML shape (config/schema.c, and the raw -> params step in
 * config/build.c) — never the healer.
 */
#ifndef VIGIL_HEAL_ACTION_H
#define VIGIL_HEAL_ACTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct vigil_heal_rule; /* config/config.h */
struct vigil_workload;	/* config/config.h */
struct vigil_incident;	/* detect/incidents.h */
struct vigil_loop;	/* core/loop.h */
struct vigil_heal_job;	/* the healer's side of a run: opaque */
struct vigil_action_ops;

/* A rule's action as the config holds it: its kind, and the kind's own parsed params. */
struct vigil_action {
	const struct vigil_action_ops *ops; /* resolved at load, through vigil_action_find() */
	void *params; /* as the kind's header defines them; freed with ops->free_params */
};

enum vigil_action_event_type {
	VIGIL_ACTION_TIMER,	    /* the run's timer (vigil_action_after) is due */
	VIGIL_ACTION_CHILD_EXIT,    /* its child (vigil_action_own_child) was reaped */
	VIGIL_ACTION_WORKLOAD_EXEC, /* a new process of the run's workload exec'd (kernel) */
	VIGIL_ACTION_WORKLOAD_EXIT, /* a process of the run's workload ended (kernel) */
	VIGIL_ACTION_WORK_DONE,	    /* its blocking work (vigil_action_work) returned */
};

/*
 * WORKLOAD_EXEC is a process that matched the workload at exec (comm, exe, cgroup), whoever
 * started it; a process already watched that execs (a child vigil spawned) is not one.
 * WORKLOAD_EXIT is a watched main process ending, clean exits included, or a watched child
 * ending in failure (the clean exits of children are only counted in the kernel).
 */
struct vigil_action_event {
	enum vigil_action_event_type type;
	pid_t pid;	/* CHILD_EXIT: the child; WORKLOAD_*: the process (tgid) */
	int wstatus;	/* CHILD_EXIT: as waitpid() gave it; WORKLOAD_EXIT: the kernel's
			 * exit_code, in the same form */
	uint64_t ts_ns; /* WORKLOAD_*: the kernel's time of it (CLOCK_MONOTONIC) */
};

/*
 * What an action may touch, as its kind declares it (ops->touches): the config checks each
 * against the workload's policy at load (an executable must be listed in
 * policy.allowed_exec and trusted; a key or a pattern must lie inside policy.redis_keys), and
 * `vigil check` prints them.
 */
enum vigil_touch_type {
	VIGIL_TOUCH_EXEC,	 /* an executable it runs: its absolute path as written */
	VIGIL_TOUCH_SIGNAL,	 /* a signal it sends the workload's process: "TERM" */
	VIGIL_TOUCH_REDIS,	 /* a Redis server it connects to: its URL */
	VIGIL_TOUCH_REDIS_KEY,	 /* a key it reads or writes (a flag, a stream) */
	VIGIL_TOUCH_REDIS_MATCH, /* a pattern of keys it may delete */
	VIGIL_TOUCH_URL,	 /* an HTTP endpoint it calls */
};

/* key: the param's key in the action's YAML ("exec", "match"...), for messages. A non-zero
 * return stops the walk and is its result. */
typedef int (*vigil_touch_fn)(enum vigil_touch_type type, const char *key, const char *value,
			      void *arg);

/*
 * One run of an action for one incident. The healer allocates ops->run_size bytes, zeroed,
 * with this struct first (a kind's run struct embeds it as its first member), and fills it;
 * the kind reads it and never writes it.
 */
struct vigil_action_run {
	const struct vigil_action *action;
	const struct vigil_heal_rule *rule;
	const struct vigil_workload *workload;
	struct vigil_incident *inc; /* written only through the services below */
	struct vigil_loop *loop;    /* the clock is vigil_loop_now(loop); fds may be added */
	/* At start(): the workload's inbound connections when the quiet window ended with
	 * them still open (it expired); 0 when it ended quiet, or there was nothing to wait for. */
	uint64_t open_conns;
	struct vigil_heal_job *job;
};

struct vigil_action_ops {
	const char *kind; /* its key under a rule's `action:`, and the rule's default name */
	/*
	 * Optional. At config load: can the kind run these params for this rule? Returns 0, or
	 * -EINVAL with *key the key under the kind's own that is wrong ("exec[0]"; NULL for the
	 * whole action) and why the reason, which the config reports as FILE:LINE:COL: PATH: why.
	 */
	int (*validate)(const struct vigil_action *a, const struct vigil_heal_rule *r,
			const char **key, char *why, size_t len);
	/* What it will do, for the "intent" record ("/usr/bin/svc --port 8080"). */
	void (*describe)(const struct vigil_action *a, char *buf, size_t len);
	/* Optional: hand each thing the action may touch to fn (see enum vigil_touch_type), in
	 * the order of its params. Returns 0 or fn's first non-zero return. A kind that touches
	 * anything declares it here: the policy only sees what is declared. */
	int (*touches)(const struct vigil_action *a, vigil_touch_fn fn, void *arg);
	/* Frees a->params (NULL accepted). NULL: free() is enough. */
	void (*free_params)(void *params);

	size_t run_size; /* of the kind's run struct, at least sizeof(struct vigil_action_run) */
	/*
	 * Optional, called once before start(): the live process of the workload this run would
	 * stop, or 0 for none (restart: the incident's process, if it still runs and is still
	 * the workload's). For a process, the healer first waits for the workload to hold no
	 * inbound conversation (at most quiet.max_defer).
	 */
	pid_t (*interrupts)(struct vigil_action_run *run);
	/* Begin. The run goes on in progress() and ends, now or later, with vigil_action_done(). */
	void (*start)(struct vigil_action_run *run);
	/* Something the run waits for happened. */
	void (*progress)(struct vigil_action_run *run, const struct vigil_action_event *ev);
	/*
	 * vigil stops between start() and vigil_action_done(): release what the run holds but
	 * its timer (the healer's), without acting. Returns whether what it did stands (restart:
	 * its new process is alive), for the last record; the healer then ends the run, unlearnt.
	 */
	bool (*cancel)(struct vigil_action_run *run);
	/*
	 * Optional: the run ends after interrupts() and before start() (escalated at the end of
	 * the quiet window, or vigil stopped during it): release what interrupts() took (restart:
	 * the pidfd of the process it would have stopped).
	 */
	void (*abandon)(struct vigil_action_run *run);
};

/* The kind of that name this vigil can run, or NULL. */
const struct vigil_action_ops *vigil_action_find(const char *kind);
/* The i-th kind of the table (from 0), or NULL past its end. */
const struct vigil_action_ops *vigil_action_kind_at(unsigned int i);

/*
 * What the healer gives a run, between start() and vigil_action_done(). Each call of
 * vigil_action_note() and vigil_action_done() is an action record under the rule's name.
 */

/* Arm the run's one timer (re-arming replaces it): progress(TIMER) in ms. */
void vigil_action_after(struct vigil_action_run *run, uint64_t ms);
/*
 * Run fn(arg) on a thread of its own, off the event loop, for a step that blocks (a Redis or
 * HTTP round trip); progress(WORK_DONE) on the loop when it returns. fn touches only arg (never
 * the run's other fields, never vigil's state) and must bound its own time (its connections'
 * timeouts): vigil waits for it before cancel() and before the run is freed. One at a time.
 * Returns 0, -EBUSY (one is running) or -errno.
 */
int vigil_action_work(struct vigil_action_run *run, void (*fn)(void *arg), void *arg);
/* Route the reap of pid, a child the run started, to progress(CHILD_EXIT); one at a time. */
void vigil_action_own_child(struct vigil_action_run *run, pid_t pid);
/* Is pid a live process of the workload, by the daemon's probe (false without a probe)? */
bool vigil_action_owns(struct vigil_action_run *run, pid_t pid);
/* The workload's live processes (the kernel's watched set for it), at most max into out.
 * Returns how many it has (more than max: out holds max of them), 0 without a probe. */
size_t vigil_action_pids(struct vigil_action_run *run, pid_t *out, size_t max);
/* Put a process just forked into the workload's watched set before it may run. Returns 0 or
 * -errno (then abandon the process). */
int vigil_action_watch(struct vigil_action_run *run, pid_t pid);
/* The run now changes the workload (restart: starts its new process): one more for the
 * workload's backoff, as of now. A kind that never calls it is never backed off. */
void vigil_action_attempt(struct vigil_action_run *run);
/* A step, for the audit trail: outcome "stop", "started"... */
void vigil_action_note(struct vigil_action_run *run, const char *outcome, const char *detail,
		       pid_t pid);
/* The workload runs again: a new process of it exec'd at exec_ns (CLOCK_MONOTONIC), which the
 * incident records (replaced_after_ms, from its first fault). */
void vigil_action_replaced(struct vigil_action_run *run, uint64_t exec_ns);
/* What the run did is now to be verified: the incident goes verifying. */
void vigil_action_verifying(struct vigil_action_run *run);
/*
 * The end of the run: records "success" or "failed" with detail and pid; when known (the
 * outcome says something about the action, not about vigil failing to run it) the knowledge
 * store learns it; a failure counts against the breaker; the incident is resolved or failed.
 * Frees the run: the kind must have released what it holds, and not touch it after.
 */
void vigil_action_done(struct vigil_action_run *run, bool ok, bool known, const char *detail,
		       pid_t pid);

#endif /* VIGIL_HEAL_ACTION_H */
