// SPDX-License-Identifier: Apache-2.0
/*
 * healer: the policy — which rule, whether and when (autonomy levels, level-2 delays, level-3
 * approvals, backoff, the breaker, the lossy rule, one heal per workload, the quiet window) —
 * and what an outcome teaches. The action itself runs behind the action interface (action.h),
 * whatever its kind.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heal/action.h"
#include "heal/fleet.h"
#include "heal/healer.h"
#include "heal/work.h"
#include "heal/knowledge.h"
#include "heal/state.h"

#define BACKOFF_FIRST_MS 10000ull
#define BACKOFF_MAX_MS 300000ull
#define BACKOFF_RESET_MS 600000ull /* ten quiet minutes forget the restarts */
#define MAX_FAILS 64
#define QUIET_POLL_MS 100 /* how often the quiet window looks at the connections again */

enum breaker { BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN };

/* A level-3 incident waiting for a person (until approval_timeout), or approved and waiting
 * for the heal of its workload that is already running. */
struct approval {
	struct vigil_healer *h;
	struct vigil_incident *inc;
	const struct vigil_heal_rule *rule;
	struct vigil_timer expiry; /* armed while it waits for a person */
	bool approved;		   /* a person said yes: it waits its turn */
	struct approval *next;
};

struct wl_heal {
	unsigned int restarts;	   /* runs that changed the workload (vigil_action_attempt) */
	uint64_t last_restart_ns;  /* ... the last one: the backoff counts from it */
	uint64_t fails[MAX_FAILS]; /* mono ns of failed heals, newest last */
	unsigned int n_fails;
	enum breaker breaker;
	uint64_t opened_ns;
	uint64_t opened_wall_ns; /* for the breaker records */
	bool pending;		 /* a heal is scheduled or running: never stack two */
};

/* Where a heal is: waiting for its delay or backoff, for quiet, or in the action's hands. */
enum phase { JOB_SCHEDULED, JOB_QUIET, JOB_RUNNING };

/* The healer's side of one run of an action (the action's side is run). */
struct vigil_heal_job {
	struct vigil_healer *h;
	struct wl_heal *wh;
	const struct vigil_action_ops *ops;
	struct vigil_action_run *run;
	struct vigil_timer timer; /* the heal's one timer: its delay, the quiet window, the run's */
	enum phase phase;
	pid_t victim;		 /* interrupts(): the live process the action would stop */
	uint64_t quiet_until_ns; /* give up waiting for quiet then */
	bool deferred;		 /* said so */
	bool verifying;		 /* vigil_action_verifying() was called */
	pid_t child;		 /* vigil_action_own_child(): its reap goes to the run */
	bool reaped;
	struct vigil_work *work; /* vigil_action_work(): running off the loop */
	unsigned int attempt;	 /* 1.., up to the rule's retry_attempts */
	struct vigil_heal_job *next;
};

struct vigil_healer {
	const struct vigil_config *cfg;
	struct vigil_loop *loop;
	struct vigil_output *out;
	struct vigil_incidents *incs;
	vigil_watch_fn watch;
	void *watch_arg;
	struct vigil_healer_probe probe;
	struct vigil_knowledge *know; /* NULL: the first rule that applies, always */
	struct vigil_fleet *fleet;    /* NULL, or not usable: the choice goes by know */
	struct wl_heal *w;
	struct vigil_heal_job *jobs;
	struct approval *approvals; /* oldest first */
	/* Durable state (vigil_healer_set_state): NULL, nothing outlives this run. */
	struct vigil_state_file *state;
	struct vigil_timer save; /* writes it once the change at hand is complete */
	bool stopping;		 /* vigil stops: what is saved now is what the next run resumes */
	uint64_t jitter;	 /* xorshift64 state for the retries' jitter, never 0 */
};

static void mark(struct vigil_healer *h);
static void save_due(struct vigil_loop *loop, void *arg);

uint64_t vigil_backoff_ms(unsigned int restarts, uint64_t since_ms)
{
	uint64_t wait;

	if (!restarts || since_ms >= BACKOFF_RESET_MS)
		return 0;
	wait = restarts > 6 ? BACKOFF_MAX_MS : BACKOFF_FIRST_MS << (restarts - 1);
	if (wait > BACKOFF_MAX_MS)
		wait = BACKOFF_MAX_MS;
	return wait > since_ms ? wait - since_ms : 0;
}

int vigil_healer_new(const struct vigil_config *cfg, struct vigil_loop *loop,
		     struct vigil_output *o, struct vigil_incidents *incs, vigil_watch_fn watch,
		     void *watch_arg, struct vigil_healer **out)
{
	struct vigil_healer *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->w = calloc(cfg->n_workloads ? cfg->n_workloads : 1, sizeof(*h->w));
	if (!h->w) {
		free(h);
		return -ENOMEM;
	}
	h->cfg = cfg;
	h->loop = loop;
	h->out = o;
	h->incs = incs;
	h->watch = watch;
	h->watch_arg = watch_arg;
	/* Jitter only spreads retries out: any seed serves; the clock's keeps tests repeatable. */
	h->jitter = (vigil_loop_now(loop) ^ 0x9e3779b97f4a7c15ull) | 1;
	vigil_timer_init(&h->save, save_due, h);
	*out = h;
	return 0;
}

static void set_state(struct vigil_healer *h, struct vigil_incident *inc,
		      enum vigil_incident_state s)
{
	vigil_incident_set_state(h->incs, inc, s);
}

void vigil_healer_set_probe(struct vigil_healer *h, const struct vigil_healer_probe *p)
{
	h->probe = *p;
}

void vigil_healer_set_knowledge(struct vigil_healer *h, struct vigil_knowledge *k)
{
	h->know = k;
}

void vigil_healer_set_fleet(struct vigil_healer *h, struct vigil_fleet *f)
{
	h->fleet = f;
}

static void unlink_job(struct vigil_healer *h, struct vigil_heal_job *j)
{
	struct vigil_heal_job **pp;

	for (pp = &h->jobs; *pp; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			return;
		}
	}
}

/* A run in its quiet window holds what interrupts() took: the kind releases it first. */
static void free_run(struct vigil_heal_job *j)
{
	/* Work still running uses the run's memory: it ends first (bounded by its timeouts). */
	vigil_work_wait(j->work);
	j->work = NULL;
	if (j->phase == JOB_QUIET && j->ops->abandon)
		j->ops->abandon(j->run);
	free(j->run);
}

static void next_approved(struct vigil_healer *h, struct wl_heal *wh);

/* The heal's timer fires job_due() in ms (re-arming replaces: never two at once). */
static void job_after(struct vigil_heal_job *j, uint64_t ms)
{
	vigil_timer_arm(j->h->loop, &j->timer, ms);
}

/* Failed heals of the workload within its breaker window, as of now. */
static uint64_t fails_in_window(const struct wl_heal *wh, const struct vigil_workload *w,
				uint64_t now)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < wh->n_fails; i++)
		n += now - wh->fails[i] <= w->breaker_window_ms * 1000000ull;
	return n;
}

/* Count a failed heal against the workload's breaker; open it at the threshold. */
static void breaker_fail(struct vigil_healer *h, struct vigil_heal_job *j)
{
	const struct vigil_workload *w = j->run->workload;
	struct wl_heal *wh = j->wh;
	uint64_t now = vigil_loop_now(h->loop), n;

	if (wh->n_fails == MAX_FAILS) {
		memmove(wh->fails, wh->fails + 1, (MAX_FAILS - 1) * sizeof(wh->fails[0]));
		wh->n_fails--;
	}
	wh->fails[wh->n_fails++] = now;
	mark(h);
	n = fails_in_window(wh, w, now);
	if (wh->breaker == BREAKER_HALF_OPEN || n >= w->breaker_failures) {
		char detail[128];

		wh->breaker = BREAKER_OPEN;
		wh->opened_ns = now;
		wh->opened_wall_ns = vigil_loop_wall(h->loop);
		snprintf(detail, sizeof(detail),
			 "%llu failed heals in %llu s: no action for %llu s", (unsigned long long)n,
			 (unsigned long long)w->breaker_window_ms / 1000,
			 (unsigned long long)w->breaker_cooldown_ms / 1000);
		vigil_out_action(h->out, j->run->inc, "breaker", "open", detail, 0);
		vigil_out_breaker(h->out, w->name, "open", n, wh->opened_wall_ns);
	}
}

/* What the action's outcome teaches the knowledge store, and the record of what it now holds.
 * Nothing when there is no store. */
static void learn(struct vigil_healer *h, struct vigil_heal_job *j, bool ok)
{
	const struct vigil_incident *inc = j->run->inc;
	struct vigil_know_rec rec = {};

	if (!h->know)
		return;
	/* The table is updated even when the file could not be written (the store counts it
	 * for status); rec is filled whenever the table was. */
	vigil_knowledge_record(h->know, inc->workload_name, inc->signature,
			       vigil_class_name(inc->cls) ?: "unknown", j->run->rule->name, ok,
			       vigil_loop_wall(h->loop), &rec);
	if (!rec.signature)
		return;
	/* The record is also the fleet's increment (Redis); the cache counts it meanwhile. */
	vigil_out_knowledge(h->out, &rec);
	if (h->fleet)
		vigil_fleet_learned(h->fleet, inc->signature, j->run->rule->name, ok);
}

/* The heal is over, whatever its outcome: the incident let go, the workload free for the next
 * (an approved heal waiting its turn starts), the job freed, the state written. */
static void job_over(struct vigil_healer *h, struct vigil_heal_job *j)
{
	vigil_incident_hold(j->run->inc, false);
	j->wh->pending = false;
	unlink_job(h, j);
	free_run(j);
	next_approved(h, j->wh);
	free(j);
	mark(h);
}

/*
 * The wait before attempt n + 1 of a rule with retry (after attempt n failed): its backoff
 * doubled n - 1 times, at most its max, then jittered to 80..120 % of that (never above the
 * max), so that the nodes of a fleet that failed together do not retry together.
 */
uint64_t vigil_retry_wait_ms(uint64_t backoff_ms, uint64_t max_ms, unsigned int n, uint64_t *rng)
{
	uint64_t base = backoff_ms, x = *rng, span, wait;

	for (unsigned int i = 1; i < n && base < max_ms; i++)
		base *= 2;
	if (base > max_ms)
		base = max_ms;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*rng = x;
	span = base * 2 / 5; /* 40 %: from 80 % to 120 % */
	wait = base - base / 5 + (span ? x % (span + 1) : 0);
	return wait > max_ms ? max_ms : wait;
}

/*
 * A failed attempt of a rule with retry attempts left: recorded ("retry", with the wait), and
 * the same heal begins again after the wait — its intent, its quiet window, a fresh run of the
 * kind. Nothing is counted yet: the attempts together are one heal, for the breaker and the
 * knowledge store, counted at the end. Returns false when there is no attempt left (or vigil
 * stops): the heal ends.
 */
static bool retry(struct vigil_heal_job *j, const char *detail, pid_t pid)
{
	struct vigil_healer *h = j->h;
	struct vigil_action_run *run = j->run, base = *run;
	const struct vigil_heal_rule *r = run->rule;
	char buf[768];
	uint64_t ms;

	if (h->stopping || j->attempt >= r->retry_attempts)
		return false;
	ms = vigil_retry_wait_ms(r->retry_backoff_ms, r->retry_max_ms, j->attempt, &h->jitter);
	snprintf(buf, sizeof(buf), "attempt %u of %u failed: %s; attempt %u in %llu ms", j->attempt,
		 r->retry_attempts, detail ? detail : "", j->attempt + 1, (unsigned long long)ms);
	vigil_out_action(h->out, run->inc, r->name, "retry", buf, pid);
	/* The kind released what it held before it ended the run; its blocking work is over. */
	vigil_work_wait(j->work);
	j->work = NULL;
	memset(run, 0, j->ops->run_size > sizeof(*run) ? j->ops->run_size : sizeof(*run));
	*run = base;
	run->open_conns = 0;
	j->attempt++;
	j->phase = JOB_SCHEDULED;
	j->victim = 0;
	j->deferred = false;
	j->verifying = false;
	j->child = 0;
	j->reaped = false;
	if (run->inc->state == VIGIL_INC_VERIFYING)
		set_state(h, run->inc, VIGIL_INC_HEALING);
	job_after(j, ms);
	return true;
}

/*
 * The end of one heal: record the outcome, free the job and its run. known: the outcome says
 * something about the action (it was verified, its process died, its exec failed), so the
 * knowledge store learns from it; not when vigil itself failed to run it or stopped before
 * knowing.
 */
static void end(struct vigil_heal_job *j, bool ok, bool known, const char *detail, pid_t pid)
{
	struct vigil_healer *h = j->h;
	struct vigil_incident *inc = j->run->inc;

	vigil_timer_cancel(h->loop, &j->timer);
	if (!ok && retry(j, detail, pid))
		return;
	vigil_out_action(h->out, inc, j->run->rule->name, ok ? "success" : "failed", detail, pid);
	if (known)
		learn(h, j, ok);
	if (ok) {
		if (j->wh->breaker == BREAKER_HALF_OPEN) {
			j->wh->breaker = BREAKER_CLOSED;
			j->wh->n_fails = 0;
			vigil_out_breaker(h->out, inc->workload_name, "closed", 0,
					  j->wh->opened_wall_ns);
		}
	} else {
		breaker_fail(h, j);
	}
	set_state(h, inc, ok ? VIGIL_INC_RESOLVED : VIGIL_INC_FAILED);
	job_over(h, j);
}

/* --- what the healer gives a run (action.h) ------------------------------------------------ */

void vigil_action_after(struct vigil_action_run *run, uint64_t ms)
{
	job_after(run->job, ms);
}

/* The run's blocking work is over: the thread is joined, the run told. */
static void work_done(void *arg)
{
	struct vigil_heal_job *j = arg;
	const struct vigil_action_event ev = {.type = VIGIL_ACTION_WORK_DONE};

	j->work = NULL;
	j->ops->progress(j->run, &ev);
}

int vigil_action_work(struct vigil_action_run *run, void (*fn)(void *arg), void *arg)
{
	struct vigil_heal_job *j = run->job;

	if (j->work)
		return -EBUSY;
	return vigil_work_start(j->h->loop, fn, arg, work_done, j, &j->work);
}

void vigil_action_own_child(struct vigil_action_run *run, pid_t pid)
{
	run->job->child = pid;
	run->job->reaped = false;
}

bool vigil_action_owns(struct vigil_action_run *run, pid_t pid)
{
	const struct vigil_healer_probe *p = &run->job->h->probe;

	return p->owns && p->owns(run->inc->workload, pid, p->arg);
}

size_t vigil_action_pids(struct vigil_action_run *run, pid_t *out, size_t max)
{
	const struct vigil_healer_probe *p = &run->job->h->probe;

	return p->pids ? p->pids(run->inc->workload, out, max, p->arg) : 0;
}

void vigil_action_replaced(struct vigil_action_run *run, uint64_t exec_ns)
{
	vigil_incident_set_replaced(run->job->h->incs, run->inc, exec_ns);
}

int vigil_action_watch(struct vigil_action_run *run, pid_t pid)
{
	struct vigil_healer *h = run->job->h;

	return h->watch ? h->watch(run->inc->workload, pid, h->watch_arg) : 0;
}

void vigil_action_attempt(struct vigil_action_run *run)
{
	struct vigil_heal_job *j = run->job;

	j->wh->restarts++;
	j->wh->last_restart_ns = vigil_loop_now(j->h->loop);
	mark(j->h);
}

void vigil_action_note(struct vigil_action_run *run, const char *outcome, const char *detail,
		       pid_t pid)
{
	vigil_out_action(run->job->h->out, run->inc, run->rule->name, outcome, detail, pid);
}

void vigil_action_verifying(struct vigil_action_run *run)
{
	run->job->verifying = true;
	set_state(run->job->h, run->inc, VIGIL_INC_VERIFYING);
}

void vigil_action_done(struct vigil_action_run *run, bool ok, bool known, const char *detail,
		       pid_t pid)
{
	end(run->job, ok, known, detail, pid);
}

/* --- running a heal ------------------------------------------------------------------------ */

/*
 * The heal stops before its action ran (it never started): recorded with outcome and detail,
 * the incident escalated to a person. Not a failure of the action: neither the breaker nor
 * the knowledge store counts it. Frees the job.
 */
static void escalate(struct vigil_heal_job *j, const char *detail, pid_t pid)
{
	struct vigil_healer *h = j->h;
	struct vigil_incident *inc = j->run->inc;

	vigil_timer_cancel(h->loop, &j->timer);
	vigil_out_action(h->out, inc, j->run->rule->name, "escalated", detail, pid);
	set_state(h, inc, VIGIL_INC_ESCALATED);
	job_over(h, j);
}

/*
 * The quiet window: a live conversation is never cut. While the action would stop a process
 * that still runs and the workload holds an inbound conversation (on quiet.ports, or any of
 * its listening ports), wait (recorded once as "deferred"), at most quiet.max_defer. Quiet:
 * hand the run to the action. Still talking when the window ends: escalate to a person
 * (quiet.on_timeout: escalate, the default), or run the action anyway (restart).
 */
/* What is still open, for the records: "2 inbound connections open", ", and the application
 * says it is busy (KEY)", or that whether it is busy is unknown. */
static void talking(char *buf, size_t len, uint64_t conns, int busy, const char *key)
{
	int n = snprintf(buf, len, "%llu inbound connections open", (unsigned long long)conns);

	if (busy > 0 && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, ", and the application says it is busy (%s)",
			 key);
	else if (busy < 0 && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n,
			 ", and whether the application is busy is unknown (%s: Redis does not "
			 "answer)",
			 key);
}

static void quiet(struct vigil_heal_job *j)
{
	struct vigil_healer *h = j->h;
	struct vigil_action_run *run = j->run;
	const struct vigil_workload *w = run->workload;
	uint64_t now = vigil_loop_now(h->loop), conns = 0;
	char detail[512], what[256];
	int busy = 0;

	if (j->victim > 0) {
		conns = h->probe.conversations
			    ? h->probe.conversations(run->inc->workload, w->quiet_ports,
						     w->n_quiet_ports, h->probe.arg)
			    : 0;
		/* The application's own word, when it has a busy key; unknown counts as busy:
		 * a conversation is never cut on a guess. */
		if (w->quiet_busy_key)
			busy = h->probe.busy ? h->probe.busy(run->inc->workload, h->probe.arg) : -1;
		talking(what, sizeof(what), conns, busy, w->quiet_busy_key);
		if ((conns || busy) && now < j->quiet_until_ns) {
			if (!j->deferred) {
				snprintf(detail, sizeof(detail),
					 "%s: waiting up to %llu ms for them to close before "
					 "stopping pid %d",
					 what, (unsigned long long)w->quiet_max_defer_ms,
					 j->victim);
				vigil_out_action(h->out, run->inc, run->rule->name, "deferred",
						 detail, j->victim);
				j->deferred = true;
			}
			job_after(j, QUIET_POLL_MS);
			return;
		}
		if ((conns || busy) && w->quiet_on_timeout == VIGIL_QUIET_ESCALATE) {
			snprintf(detail, sizeof(detail),
				 "after %llu ms, %s: pid %d is not stopped; a person decides "
				 "(quiet.on_timeout: restart stops it anyway)",
				 (unsigned long long)w->quiet_max_defer_ms, what, j->victim);
			escalate(j, detail, j->victim);
			return;
		}
	}
	run->open_conns = conns;
	j->phase = JOB_RUNNING;
	mark(h); /* a running heal is not resumed by a later run: see the state's comment */
	j->ops->start(run);
}

/* Policy lets the heal run now: the intent, then the quiet window, then the action. */
static void begin(struct vigil_heal_job *j)
{
	struct vigil_healer *h = j->h;
	struct vigil_action_run *run = j->run;
	char detail[512];

	if (run->inc->state != VIGIL_INC_HEALING) /* healing already: a retry */
		set_state(h, run->inc, VIGIL_INC_HEALING);
	j->ops->describe(run->action, detail, sizeof(detail));
	if (run->rule->retry_attempts > 1) {
		size_t n = strlen(detail);

		snprintf(detail + n, sizeof(detail) - n, " (attempt %u of %u)", j->attempt,
			 run->rule->retry_attempts);
	}
	vigil_out_action(h->out, run->inc, run->rule->name, "intent", detail, 0);
	j->victim = j->ops->interrupts ? j->ops->interrupts(run) : 0;
	j->quiet_until_ns =
	    vigil_loop_now(h->loop) + run->workload->quiet_max_defer_ms * 1000000ull;
	j->phase = JOB_QUIET;
	quiet(j);
}

static void job_due(struct vigil_loop *loop, void *arg)
{
	struct vigil_heal_job *j = arg;
	const struct vigil_action_event ev = {.type = VIGIL_ACTION_TIMER};

	(void)loop;
	switch (j->phase) {
	case JOB_SCHEDULED:
		begin(j);
		break;
	case JOB_QUIET:
		quiet(j);
		break;
	case JOB_RUNNING:
		j->ops->progress(j->run, &ev);
		break;
	}
}

/* Does rule apply to an incident of class cls and detail (an alert's: its alertname), with an
 * action this vigil can run? A rule with alert: NAME takes only the alerts of that name. */
static bool applies(const struct vigil_heal_rule *r, enum vigil_class cls, const char *detail)
{
	if (r->alert && cls == VIGIL_CLASS_ALERT && strcmp(r->alert, detail))
		return false;
	return (r->on_mask & (1u << cls)) && r->action.ops;
}

/* "4/5 worked before (0.71)", or "never tried (0.50)", for the audit trail. */
static int score_text(char *buf, size_t len, const struct vigil_know_entry *e)
{
	if (!e)
		return snprintf(buf, len, "never tried (0.50)");
	return snprintf(buf, len, "%llu/%llu worked before (%.2f)",
			(unsigned long long)e->successes, (unsigned long long)e->attempts,
			vigil_knowledge_score(e));
}

/* The numbers the choice goes by for (signature, action): the fleet's (copied into *buf) when
 * fleet, else the local store's. Returns them, or NULL: never tried. */
static const struct vigil_know_entry *numbers(const struct vigil_healer *h, bool fleet,
					      const char *signature, const char *action,
					      struct vigil_know_entry *buf)
{
	if (!fleet)
		return vigil_knowledge_get(h->know, signature, action);
	return vigil_fleet_get(h->fleet, signature, action, buf) > 0 ? buf : NULL;
}

/*
 * The rule for an incident: among the workload's rules that apply to its class, the one whose
 * action scores best for the incident's signature (knowledge.h: an untried action scores
 * 0.5) — by the fleet's numbers when its cache is usable (every node's outcomes, from Redis),
 * else by the local knowledge store's; config order breaks ties, and with neither the first
 * rule wins. When there was a choice, why (len > 0) says what was chosen over what and by
 * whose numbers, for the audit trail: "chosen: restart-clean, 4/5 worked before (0.71);
 * other: restart 0/2 worked before (0.25); numbers: fleet"; otherwise why is "". Returns NULL
 * when no rule applies.
 */
static const struct vigil_heal_rule *choose_rule(const struct vigil_healer *h,
						 const struct vigil_workload *w,
						 const struct vigil_incident *inc, char *why,
						 size_t len)
{
	const struct vigil_heal_rule *best = NULL;
	bool fleet = h->fleet && vigil_fleet_usable(h->fleet);
	double score, best_score = -1.0;
	struct vigil_know_entry buf;
	unsigned int n = 0;
	size_t off;

	why[0] = '\0';
	for (unsigned int i = 0; i < w->n_heal; i++) {
		const struct vigil_heal_rule *r = &w->heal[i];

		if (!applies(r, inc->cls, inc->detail))
			continue;
		n++;
		score = vigil_knowledge_score(numbers(h, fleet, inc->signature, r->name, &buf));
		if (score > best_score) {
			best = r;
			best_score = score;
		}
	}
	if (n < 2 || (!h->know && !fleet))
		return best;
	off = (size_t)snprintf(why, len, "chosen: %s, ", best->name);
	if (off < len)
		off += (size_t)score_text(why + off, len - off,
					  numbers(h, fleet, inc->signature, best->name, &buf));
	for (unsigned int i = 0, others = 0; i < w->n_heal && off < len; i++) {
		const struct vigil_heal_rule *r = &w->heal[i];

		if (r == best || !applies(r, inc->cls, inc->detail))
			continue;
		off += (size_t)snprintf(why + off, len - off, "%s%s ",
					others++ ? ", " : "; other: ", r->name);
		if (off < len)
			off += (size_t)score_text(why + off, len - off,
						  numbers(h, fleet, inc->signature, r->name, &buf));
	}
	if (off < len)
		snprintf(why + off, len - off, "; numbers: %s", fleet ? "fleet" : "local");
	return best;
}

static void start_job(struct vigil_healer *h, struct vigil_incident *inc,
		      const struct vigil_heal_rule *rule, struct wl_heal *wh, bool approved);

/* --- approvals ----------------------------------------------------------------------------- */

static void unlink_approval(struct vigil_healer *h, struct approval *a)
{
	struct approval **pp;

	for (pp = &h->approvals; *pp; pp = &(*pp)->next) {
		if (*pp == a) {
			*pp = a->next;
			return;
		}
	}
}

static struct approval *find_approval(const struct vigil_healer *h,
				      const struct vigil_incident *inc)
{
	for (struct approval *a = h->approvals; a; a = a->next)
		if (a->inc == inc)
			return a;
	return NULL;
}

/* No person approved it within approval_timeout: recorded, the incident expired and gone
 * from the live table (so a thousand unanswered ones do not pile up). */
static void approval_expired(struct vigil_loop *loop, void *arg)
{
	struct approval *a = arg;
	struct vigil_healer *h = a->h;
	struct vigil_incident *inc = a->inc;
	const struct vigil_workload *w = &h->cfg->workloads[inc->workload - 1];
	char detail[128];

	(void)loop;
	snprintf(detail, sizeof(detail), "no approval within %llu s: the action is not run",
		 (unsigned long long)w->approval_timeout_ms / 1000);
	vigil_out_action(h->out, inc, a->rule->name, "expired", detail, 0);
	unlink_approval(h, a);
	free(a);
	vigil_incident_hold(inc, false);
	set_state(h, inc, VIGIL_INC_EXPIRED);
	vigil_incidents_retire(h->incs, inc);
	mark(h);
}

/*
 * Keep inc, held, on the list of approvals: waiting for a person (it expires in expire_ms), or
 * approved and waiting for its workload's heal to end. Returns 0 or -ENOMEM (recorded: the
 * incident waits all the same, it only cannot expire or queue).
 */
static int track_approval(struct vigil_healer *h, struct vigil_incident *inc,
			  const struct vigil_heal_rule *rule, bool approved, uint64_t expire_ms)
{
	struct approval *a = calloc(1, sizeof(*a)), **pp;

	if (!a) {
		vigil_out_action(h->out, inc, rule->name, "failed",
				 "out of memory: this approval will not expire", 0);
		return -ENOMEM;
	}
	a->h = h;
	a->inc = inc;
	a->rule = rule;
	a->approved = approved;
	vigil_timer_init(&a->expiry, approval_expired, a);
	if (!approved)
		vigil_timer_arm(h->loop, &a->expiry, expire_ms);
	for (pp = &h->approvals; *pp; pp = &(*pp)->next)
		;
	*pp = a;
	return 0;
}

/* A level-3 incident waits for a person, at most approval_timeout. An approval runs the rule
 * chosen now, whatever the store learns meanwhile. */
static void await_approval(struct vigil_healer *h, struct vigil_incident *inc,
			   const struct vigil_heal_rule *rule, const struct vigil_workload *w)
{
	inc->heal_rule = rule;
	vigil_incident_hold(inc, true);
	set_state(h, inc, VIGIL_INC_AWAITING_APPROVAL);
	track_approval(h, inc, rule, false, w->approval_timeout_ms);
	mark(h);
}

/* The heal of wh's workload ended: the oldest approved incident waiting for it runs now. */
static void next_approved(struct vigil_healer *h, struct wl_heal *wh)
{
	for (struct approval *a = h->approvals; a; a = a->next) {
		if (!a->approved || &h->w[a->inc->workload - 1] != wh)
			continue;
		unlink_approval(h, a);
		vigil_incident_hold(a->inc, false);
		start_job(h, a->inc, a->rule, wh, true);
		free(a);
		return;
	}
}

void vigil_healer_incident(struct vigil_healer *h, struct vigil_incident *inc, bool opened)
{
	const struct vigil_heal_rule *rule;
	const struct vigil_workload *w;
	uint64_t now = vigil_loop_now(h->loop);
	struct wl_heal *wh;
	char detail[160], why[512];

	if (!opened || !inc->workload || inc->workload > h->cfg->n_workloads)
		return;
	w = &h->cfg->workloads[inc->workload - 1];
	rule = choose_rule(h, w, inc, why, sizeof(why));
	if (!rule)
		return;
	/* Recorded from now on: what `vigil report` counts as a level-1 fault. */
	inc->level = rule->level;
	wh = &h->w[inc->workload - 1];

	if (wh->breaker == BREAKER_OPEN) {
		if (now - wh->opened_ns < w->breaker_cooldown_ms * 1000000ull) {
			set_state(h, inc, VIGIL_INC_ESCALATED);
			vigil_out_action(h->out, inc, rule->name, "skipped",
					 "circuit breaker open: a human must look", 0);
			return;
		}
		wh->breaker = BREAKER_HALF_OPEN; /* one try after the cooldown */
		mark(h);
		vigil_out_breaker(h->out, w->name, "half_open", fails_in_window(wh, w, now),
				  wh->opened_wall_ns);
	}
	/* An incident built on incomplete telemetry may be wrong: only level 1 acts on it. */
	if (inc->lossy && rule->level > 1) {
		snprintf(detail, sizeof(detail),
			 "%llu kernel events of this workload were dropped around it: a level-%u "
			 "action needs complete telemetry",
			 (unsigned long long)inc->lost, rule->level);
		set_state(h, inc, VIGIL_INC_ESCALATED);
		vigil_out_action(h->out, inc, rule->name, "skipped", detail, 0);
		return;
	}
	/* The choice between actions, before anything is done about it. */
	if (why[0])
		vigil_out_action(h->out, inc, rule->name, "chosen", why, 0);
	if (rule->level >= 3) {
		await_approval(h, inc, rule, w);
		return;
	}
	start_job(h, inc, rule, wh, false);
}

/* The heal of inc on the list (scheduled, in its quiet window, running or retrying), or NULL. */
static struct vigil_heal_job *job_of(const struct vigil_healer *h, const struct vigil_incident *inc)
{
	for (struct vigil_heal_job *j = h->jobs; j; j = j->next)
		if (j->run->inc == inc)
			return j;
	return NULL;
}

int vigil_healer_fault_gone(struct vigil_healer *h, struct vigil_incident *inc, const char *why)
{
	struct vigil_heal_job *j = job_of(h, inc);

	if (j && (j->phase == JOB_RUNNING || j->attempt > 1))
		return -EBUSY;
	if (inc->state != VIGIL_INC_OPEN)
		return -EINVAL;
	if (j) {
		/* Not begun: nothing to undo, and nothing the breaker or the store learns. */
		vigil_out_action(h->out, inc, j->run->rule->name, "cancelled", why, 0);
		vigil_timer_cancel(h->loop, &j->timer);
		job_over(h, j);
	}
	set_state(h, inc, VIGIL_INC_RESOLVED);
	return 0;
}

/* A heal of rule for inc, not begun: on the list, inc held, the workload's one heal. Returns
 * it, or NULL (out of memory: recorded as a failed action). */
static struct vigil_heal_job *new_job(struct vigil_healer *h, struct vigil_incident *inc,
				      const struct vigil_heal_rule *rule, struct wl_heal *wh)
{
	const struct vigil_action_ops *ops = rule->action.ops;
	struct vigil_heal_job *j;

	j = calloc(1, sizeof(*j));
	if (j)
		j->run =
		    calloc(1, ops->run_size > sizeof(*j->run) ? ops->run_size : sizeof(*j->run));
	if (!j || !j->run) {
		free(j);
		vigil_out_action(h->out, inc, rule->name, "failed", "out of memory", 0);
		return NULL;
	}
	j->h = h;
	j->wh = wh;
	j->ops = ops;
	j->attempt = 1;
	vigil_timer_init(&j->timer, job_due, j);
	j->run->action = &rule->action;
	j->run->rule = rule;
	j->run->workload = &h->cfg->workloads[inc->workload - 1];
	j->run->inc = inc;
	j->run->loop = h->loop;
	j->run->job = j;
	j->next = h->jobs;
	h->jobs = j;
	vigil_incident_hold(inc, true);
	wh->pending = true;
	mark(h);
	return j;
}

/* Schedule or run the rule's action for inc now that policy allows it. approved: a person let
 * it run, and the backoff does not hold a person's decision back. */
static void start_job(struct vigil_healer *h, struct vigil_incident *inc,
		      const struct vigil_heal_rule *rule, struct wl_heal *wh, bool approved)
{
	const struct vigil_action_ops *ops = rule->action.ops;
	uint64_t now = vigil_loop_now(h->loop), delay_ms, since_ms;
	struct vigil_heal_job *j;
	char detail[160];

	if (wh->pending) {
		vigil_out_action(h->out, inc, rule->name, "skipped",
				 "a heal of this workload is already scheduled or running", 0);
		return;
	}
	j = new_job(h, inc, rule, wh);
	if (!j)
		return;
	since_ms = wh->restarts ? (now - wh->last_restart_ns) / 1000000 : UINT64_MAX;
	if (since_ms >= BACKOFF_RESET_MS)
		wh->restarts = 0;
	delay_ms = approved ? 0 : vigil_backoff_ms(wh->restarts, since_ms);
	if (rule->level == 2 && rule->delay_ms > delay_ms)
		delay_ms = rule->delay_ms;
	if (!delay_ms) {
		begin(j);
		return;
	}
	snprintf(detail, sizeof(detail), "%s in %llu ms (%s)", ops->kind,
		 (unsigned long long)delay_ms,
		 rule->level == 2 && rule->delay_ms >= delay_ms ? "level 2 delay" : "backoff");
	vigil_out_action(h->out, inc, rule->name, "scheduled", detail, 0);
	job_after(j, delay_ms);
}

/* "by WHO" and ": REASON" when there is one, into buf. */
static void attribution(char *buf, size_t len, const char *verb, const char *who,
			const char *reason)
{
	snprintf(buf, len, "%s by %s%s%s", verb, who && who[0] ? who : "an operator",
		 reason && reason[0] ? ": " : "", reason && reason[0] ? reason : "");
}

int vigil_healer_approve(struct vigil_healer *h, struct vigil_incident *inc, const char *who,
			 const char *reason)
{
	struct approval *a = find_approval(h, inc);
	const struct vigil_heal_rule *rule;
	struct wl_heal *wh;
	char detail[512], why[512];

	if (inc->state != VIGIL_INC_AWAITING_APPROVAL || (a && a->approved))
		return -EINVAL;
	/* The rule chosen when it went awaiting approval: what the person was shown. */
	rule = inc->heal_rule;
	if (!rule && inc->workload && inc->workload <= h->cfg->n_workloads)
		rule = choose_rule(h, &h->cfg->workloads[inc->workload - 1], inc, why, sizeof(why));
	if (!rule)
		return -ENOENT;
	wh = &h->w[inc->workload - 1];
	/* A person decided: that is the point of level 3, so neither the breaker nor the
	 * backoff's first wait holds it back — only a heal already running does, and then the
	 * approval waits its turn rather than being dropped. */
	attribution(detail, sizeof(detail), "approved", who, reason);
	vigil_out_action(h->out, inc, rule->name, "approved", detail, 0);
	set_state(h, inc, VIGIL_INC_OPEN);
	if (wh->pending) {
		if (!a) { /* it could not be queued when it arrived: run it as today */
			vigil_out_action(h->out, inc, rule->name, "skipped",
					 "a heal of this workload is already scheduled or running",
					 0);
			vigil_incident_hold(inc, false);
			return 0;
		}
		vigil_timer_cancel(h->loop, &a->expiry);
		a->approved = true;
		a->rule = rule;
		vigil_out_action(h->out, inc, rule->name, "waiting",
				 "a heal of this workload is running: this one runs when it ends",
				 0);
		mark(h);
		return 0;
	}
	if (a) {
		vigil_timer_cancel(h->loop, &a->expiry);
		unlink_approval(h, a);
		free(a);
	}
	vigil_incident_hold(inc, false);
	start_job(h, inc, rule, wh, true);
	return 0;
}

int vigil_healer_deny(struct vigil_healer *h, struct vigil_incident *inc, const char *who,
		      const char *reason)
{
	struct approval *a = find_approval(h, inc);
	const struct vigil_heal_rule *rule = inc->heal_rule;
	char detail[512];

	if (inc->state != VIGIL_INC_AWAITING_APPROVAL || (a && a->approved))
		return -EINVAL;
	attribution(detail, sizeof(detail), "denied", who, reason);
	vigil_out_action(h->out, inc, rule ? rule->name : "-", "denied", detail, 0);
	if (a) {
		vigil_timer_cancel(h->loop, &a->expiry);
		unlink_approval(h, a);
		free(a);
	}
	/* Left to people: open, no longer held, it ends with its window like any other. */
	vigil_incident_hold(inc, false);
	set_state(h, inc, VIGIL_INC_OPEN);
	mark(h);
	return 0;
}

/* The answer to "approve ID" or "deny ID": {"incident", "state", VERB: true} or an "error". */
static int decide_answer(struct vigil_healer *h, bool approve, const char *id, const char *who,
			 const char *reason, struct vigil_json *out)
{
	struct vigil_incident *inc = id ? vigil_incidents_lookup(h->incs, id) : NULL;
	int ret;

	if (!inc)
		return -ENOENT;
	ret = approve ? vigil_healer_approve(h, inc, who, reason)
		      : vigil_healer_deny(h, inc, who, reason);
	vigil_json_begin(out);
	vigil_json_str(out, "incident", inc->id);
	vigil_json_str(out, "state", vigil_incident_state_name(inc->state));
	if (ret)
		vigil_json_str(out, "error",
			       ret == -EINVAL ? "not awaiting approval"
					      : "no heal rule applies to it");
	else
		vigil_json_bool(out, approve ? "approved" : "denied", true);
	return vigil_json_end(out);
}

int vigil_healer_approve_answer(struct vigil_healer *h, const char *id, const char *who,
				const char *reason, struct vigil_json *out)
{
	return decide_answer(h, true, id, who, reason, out);
}

int vigil_healer_deny_answer(struct vigil_healer *h, const char *id, const char *who,
			     const char *reason, struct vigil_json *out)
{
	return decide_answer(h, false, id, who, reason, out);
}

void vigil_healer_reaped(struct vigil_healer *h, pid_t pid, int wstatus)
{
	struct vigil_action_event ev = {
	    .type = VIGIL_ACTION_CHILD_EXIT,
	    .pid = pid,
	    .wstatus = wstatus,
	};
	struct vigil_heal_job *j;

	for (j = h->jobs; j; j = j->next) {
		if (j->phase != JOB_RUNNING || !j->child || j->child != pid || j->reaped)
			continue;
		j->reaped = true; /* a pid is reaped once; a reused one is not the run's */
		j->ops->progress(j->run, &ev);
		return;
	}
}

void vigil_healer_workload_event(struct vigil_healer *h, unsigned int workload,
				 const struct vigil_action_event *ev)
{
	struct vigil_heal_job *j;

	for (j = h->jobs; j; j = j->next) {
		if (j->phase != JOB_RUNNING || j->run->inc->workload != workload)
			continue;
		j->ops->progress(j->run, ev); /* one heal per workload: this one */
		return;
	}
}

void vigil_healer_free(struct vigil_healer *h)
{
	struct vigil_heal_job *j;
	bool ok;

	if (!h)
		return;
	/* What the next run resumes is what holds now: a change not yet written is, and the
	 * cancellations below are not (a scheduled heal and an approval outlive this stop). */
	if (vigil_timer_pending(&h->save))
		vigil_healer_save(h);
	h->stopping = true;
	while (h->jobs) {
		j = h->jobs;
		if (j->phase != JOB_RUNNING) {
			end(j, false, false, "vigil stopped before the scheduled heal", 0);
			continue;
		}
		/* Its blocking work ends first: cancel() may then release what it used. */
		vigil_work_wait(j->work);
		j->work = NULL;
		ok = j->ops->cancel(j->run);
		end(j, ok, false,
		    j->verifying ? "vigil stopped during the verify window"
				 : "vigil stopped before the scheduled heal",
		    j->child);
	}
	while (h->approvals) {
		struct approval *a = h->approvals;

		vigil_timer_cancel(h->loop, &a->expiry);
		h->approvals = a->next;
		free(a);
	}
	vigil_timer_cancel(h->loop, &h->save);
	free(h->w);
	free(h);
}

/* --- durable state ------------------------------------------------------------------------ */

/*
 * What outlives a restart of vigil (heal/state.h): per workload its breaker and backoff; the
 * heals waiting for a level-2 delay or the backoff, and the incidents awaiting approval. A heal
 * already running (its action started) is not kept: what it did cannot be known after a
 * crash, so a later run neither repeats it nor counts it — its restart still counts for the
 * backoff, which is kept.
 *
 * Every change marks the state; it is written once the change at hand is complete (a timer of
 * 0 ms: the next turn of the loop, with everything one callback changed), to the file and, as
 * a state record, to the queued sinks (Redis: P:N:state).
 */

/* The state changed: write it on the loop's next turn. */
static void mark(struct vigil_healer *h)
{
	if (h->state && !h->stopping)
		vigil_timer_arm(h->loop, &h->save, 0);
}

/* A monotonic time of this run as wall-clock ns, and back (before this boot: the boot). */
static uint64_t wall_of(const struct vigil_healer *h, uint64_t mono)
{
	uint64_t now = vigil_loop_now(h->loop), wall = vigil_loop_wall(h->loop);

	return mono <= now ? wall - (now - mono) : wall + (mono - now);
}

static uint64_t mono_of(const struct vigil_healer *h, uint64_t wall_ns)
{
	uint64_t now = vigil_loop_now(h->loop), wall = vigil_loop_wall(h->loop), age;

	age = wall > wall_ns ? wall - wall_ns : 0;
	return age < now ? now - age : 0;
}

static enum vigil_breaker_state breaker_saved(enum breaker b)
{
	return b == BREAKER_OPEN	? VIGIL_BREAKER_OPEN
	       : b == BREAKER_HALF_OPEN ? VIGIL_BREAKER_HALF_OPEN
					: VIGIL_BREAKER_CLOSED;
}

static enum breaker breaker_of(enum vigil_breaker_state b)
{
	return b == VIGIL_BREAKER_OPEN	      ? BREAKER_OPEN
	       : b == VIGIL_BREAKER_HALF_OPEN ? BREAKER_HALF_OPEN
					      : BREAKER_CLOSED;
}

int vigil_healer_snapshot(const struct vigil_healer *h, struct vigil_heal_state *s)
{
	const struct vigil_incident *inc;

	memset(s, 0, sizeof(*s));
	s->saved_wall_ns = vigil_loop_wall(h->loop);
	for (unsigned int i = 0; i < h->cfg->n_workloads; i++) {
		const struct wl_heal *wh = &h->w[i];
		struct vigil_state_workload *w;

		if (wh->breaker == BREAKER_CLOSED && !wh->n_fails && !wh->restarts)
			continue; /* nothing to remember */
		w = vigil_state_add_workload(s);
		if (!w)
			goto nomem;
		snprintf(w->name, sizeof(w->name), "%s", h->cfg->workloads[i].name);
		w->breaker = breaker_saved(wh->breaker);
		w->opened_wall_ns = wh->breaker != BREAKER_CLOSED ? wh->opened_wall_ns : 0;
		for (unsigned int f = 0; f < wh->n_fails && f < VIGIL_STATE_FAILS; f++)
			w->fails_wall_ns[w->n_fails++] = wall_of(h, wh->fails[f]);
		w->restarts = wh->restarts;
		w->last_restart_wall_ns = wh->restarts ? wall_of(h, wh->last_restart_ns) : 0;
	}
	for (const struct vigil_heal_job *j = h->jobs; j; j = j->next) {
		struct vigil_state_item *it;

		/* Begun (its action ran at least once, retries waiting included): not resumed. */
		if (j->phase == JOB_RUNNING || j->attempt > 1)
			continue;
		it = vigil_state_add_item(s);
		if (!it)
			goto nomem;
		it->kind = VIGIL_STATE_PENDING;
		snprintf(it->rule, sizeof(it->rule), "%s", j->run->rule->name);
		/* Only a level-3 incident has the rule it waited with: it was approved. */
		it->approved = j->run->inc->heal_rule != NULL;
		it->at_wall_ns = wall_of(
		    h, vigil_timer_pending(&j->timer) ? j->timer.due_ns : vigil_loop_now(h->loop));
		vigil_incident_save(j->run->inc, &it->inc);
	}
	/* Approved, waiting for the heal of their workload to end: pending, and approved. */
	for (const struct approval *a = h->approvals; a; a = a->next) {
		struct vigil_state_item *it;

		if (!a->approved)
			continue;
		it = vigil_state_add_item(s);
		if (!it)
			goto nomem;
		it->kind = VIGIL_STATE_PENDING;
		snprintf(it->rule, sizeof(it->rule), "%s", a->rule->name);
		it->approved = true;
		it->at_wall_ns = vigil_loop_wall(h->loop);
		vigil_incident_save(a->inc, &it->inc);
	}
	for (inc = vigil_incidents_first(h->incs); inc; inc = inc->next) {
		struct vigil_state_item *it;

		if (inc->state != VIGIL_INC_AWAITING_APPROVAL || !inc->heal_rule)
			continue;
		it = vigil_state_add_item(s);
		if (!it)
			goto nomem;
		it->kind = VIGIL_STATE_AWAITING;
		snprintf(it->rule, sizeof(it->rule), "%s", inc->heal_rule->name);
		it->at_wall_ns = inc->opened_wall_ns; /* level 3 waits from its opening */
		vigil_incident_save(inc, &it->inc);
	}
	return 0;
nomem:
	vigil_state_clear(s);
	return -ENOMEM;
}

static void state_members(struct vigil_json *j, const void *arg)
{
	const struct vigil_healer *h = ((const void *const *)arg)[0];

	vigil_state_members(j, ((const void *const *)arg)[1], h->cfg->node);
}

int vigil_healer_save(struct vigil_healer *h)
{
	struct vigil_heal_state s;
	const void *args[2] = {h, &s};
	int err;

	vigil_timer_cancel(h->loop, &h->save);
	if (!h->state)
		return 0;
	err = vigil_healer_snapshot(h, &s);
	if (err)
		return err; /* the next change tries again */
	err = vigil_state_file_write(h->state, &s, h->cfg->node);
	vigil_out_state(h->out, state_members, args);
	vigil_state_clear(&s);
	return err;
}

static void save_due(struct vigil_loop *loop, void *arg)
{
	(void)loop;
	vigil_healer_save(arg);
}

void vigil_healer_set_state(struct vigil_healer *h, struct vigil_state_file *f)
{
	h->state = f;
}

/* The configured workload of that name (index), or -1. */
static int workload_index(const struct vigil_healer *h, const char *name)
{
	for (unsigned int i = 0; i < h->cfg->n_workloads; i++)
		if (!strcmp(h->cfg->workloads[i].name, name))
			return (int)i;
	return -1;
}

/* Its rule of that name that still applies to the class, or NULL. */
static const struct vigil_heal_rule *rule_named(const struct vigil_workload *w, const char *name,
						enum vigil_class cls, const char *detail)
{
	for (unsigned int i = 0; i < w->n_heal; i++)
		if (!strcmp(w->heal[i].name, name) && applies(&w->heal[i], cls, detail))
			return &w->heal[i];
	return NULL;
}

static void dropped(struct vigil_healer_restored *r, const char *fmt, const char *a, const char *b)
{
	if (!r->dropped++)
		snprintf(r->dropped_why, sizeof(r->dropped_why), fmt, a, b);
}

/* Breakers and backoff of the workloads the config still has. */
static void restore_workloads(struct vigil_healer *h, const struct vigil_heal_state *s,
			      struct vigil_healer_restored *r)
{
	uint64_t now = vigil_loop_now(h->loop);

	for (size_t i = 0; i < s->n_wl; i++) {
		const struct vigil_state_workload *sw = &s->wl[i];
		int k = workload_index(h, sw->name);
		const struct vigil_workload *w;
		struct wl_heal *wh;

		if (k < 0) {
			dropped(r, "workload %s%s is no longer in the config", sw->name, "");
			continue;
		}
		w = &h->cfg->workloads[k];
		wh = &h->w[k];
		wh->breaker = breaker_of(sw->breaker);
		wh->opened_wall_ns = sw->opened_wall_ns;
		wh->opened_ns = mono_of(h, sw->opened_wall_ns);
		wh->n_fails = 0;
		for (unsigned int f = 0; f < sw->n_fails && f < MAX_FAILS; f++)
			wh->fails[wh->n_fails++] = mono_of(h, sw->fails_wall_ns[f]);
		wh->restarts = sw->restarts;
		wh->last_restart_ns = sw->restarts ? mono_of(h, sw->last_restart_wall_ns) : 0;
		r->backoffs += wh->restarts > 0;
		if (wh->breaker == BREAKER_CLOSED)
			continue;
		r->breakers_open++;
		/* Said again, as it stands: the journal and the breaker's hash show it. */
		vigil_out_breaker(h->out, w->name,
				  wh->breaker == BREAKER_OPEN ? "open" : "half_open",
				  fails_in_window(wh, w, now), wh->opened_wall_ns);
	}
}

/* One pending heal or approval, back in the live table and in the healer's hands. */
static void restore_item(struct vigil_healer *h, const struct vigil_state_item *it,
			 struct vigil_healer_restored *r)
{
	int k = workload_index(h, it->inc.workload_name), err = 0;
	const struct vigil_heal_rule *rule;
	struct vigil_incident *inc;
	struct vigil_heal_job *j;
	uint64_t wall = vigil_loop_wall(h->loop), delay_ms;
	char detail[160];
	bool awaiting;

	if (k < 0) {
		dropped(r, "workload %s%s is no longer in the config", it->inc.workload_name, "");
		return;
	}
	rule = rule_named(&h->cfg->workloads[k], it->rule, it->inc.cls, it->inc.detail);
	if (!rule) {
		dropped(r, "rule %s of %s no longer applies", it->rule, it->inc.workload_name);
		return;
	}
	/* A rule made level 3 since: its heal now waits for a person, unless one approved it. */
	awaiting = it->kind == VIGIL_STATE_AWAITING || (rule->level >= 3 && !it->approved);
	if (!awaiting && h->w[k].pending && !it->approved) {
		dropped(r, "a second pending heal of %s%s", it->inc.workload_name, "");
		return;
	}
	inc =
	    vigil_incidents_restore(h->incs, &it->inc, (unsigned int)k + 1,
				    awaiting ? VIGIL_INC_AWAITING_APPROVAL : VIGIL_INC_OPEN, &err);
	if (!inc) {
		dropped(r, "incident %s: %s", it->inc.id, strerror(-err));
		return;
	}
	inc->level = rule->level;
	if (awaiting || it->approved)
		inc->heal_rule = rule; /* what the person was shown, or approved */
	if (awaiting) {
		/* Its approval_timeout counts from when it began to wait (its opening). */
		uint64_t until =
		    it->at_wall_ns + h->cfg->workloads[k].approval_timeout_ms * 1000000ull;

		track_approval(h, inc, rule, false, until > wall ? (until - wall) / 1000000 : 0);
		r->awaiting++;
		return;
	}
	if (h->w[k].pending) {
		/* Approved, and its workload's heal resumed first: it waits its turn again. */
		track_approval(h, inc, rule, true, 0);
		r->pending++;
		return;
	}
	j = new_job(h, inc, rule, &h->w[k]);
	if (!j) {
		vigil_incident_hold(inc, false);
		set_state(h, inc, VIGIL_INC_FAILED);
		return;
	}
	/* What was left of its delay or backoff when the earlier run stopped. */
	delay_ms = it->at_wall_ns > wall ? (it->at_wall_ns - wall) / 1000000 : 0;
	snprintf(detail, sizeof(detail), "%s in %llu ms (resumed: its delay goes on)",
		 rule->action.ops->kind, (unsigned long long)delay_ms);
	vigil_out_action(h->out, inc, rule->name, "scheduled", detail, 0);
	job_after(j, delay_ms);
	r->pending++;
}

int vigil_healer_restore(struct vigil_healer *h, const struct vigil_heal_state *s,
			 struct vigil_healer_restored *r)
{
	memset(r, 0, sizeof(*r));
	restore_workloads(h, s, r);
	/* Approvals first, as they were written: a person was asked about them. */
	for (size_t i = 0; i < s->n_items; i++)
		if (s->items[i].kind == VIGIL_STATE_AWAITING)
			restore_item(h, &s->items[i], r);
	for (size_t i = 0; i < s->n_items; i++)
		if (s->items[i].kind == VIGIL_STATE_PENDING)
			restore_item(h, &s->items[i], r);
	/* Written at once: the file again if it came from Redis, Redis if from the file. A
	 * first start with nothing to resume writes nothing. */
	if (s->n_wl || s->n_items)
		mark(h);
	return 0;
}
