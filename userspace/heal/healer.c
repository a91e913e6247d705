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
#include "heal/healer.h"
#include "heal/knowledge.h"

#define BACKOFF_FIRST_MS 10000ull
#define BACKOFF_MAX_MS 300000ull
#define BACKOFF_RESET_MS 600000ull /* ten quiet minutes forget the restarts */
#define MAX_FAILS 64
#define QUIET_POLL_MS 100 /* how often the quiet window looks at the connections again */

enum breaker { BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN };

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
	struct wl_heal *w;
	struct vigil_heal_job *jobs;
};

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
	if (rec.signature)
		vigil_out_knowledge(h->out, &rec);
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
	vigil_incident_hold(inc, false);
	j->wh->pending = false;
	unlink_job(h, j);
	free(j->run);
	free(j);
}

/* --- what the healer gives a run (action.h) ------------------------------------------------ */

void vigil_action_after(struct vigil_action_run *run, uint64_t ms)
{
	job_after(run->job, ms);
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
 * The quiet window: a live conversation is never cut. While the action would stop a process
 * that still runs and the workload holds established connections, wait (recorded once as
 * "deferred"), at most quiet.max_defer; then hand the run to the action.
 */
static void quiet(struct vigil_heal_job *j)
{
	struct vigil_healer *h = j->h;
	struct vigil_action_run *run = j->run;
	uint64_t now = vigil_loop_now(h->loop), conns = 0;
	char detail[512];

	if (j->victim > 0) {
		conns = h->probe.established
			    ? h->probe.established(run->inc->workload, h->probe.arg)
			    : 0;
		if (conns && now < j->quiet_until_ns) {
			if (!j->deferred) {
				snprintf(detail, sizeof(detail),
					 "%llu established connections: waiting up to %llu ms for "
					 "them to close before stopping pid %d",
					 (unsigned long long)conns,
					 (unsigned long long)run->workload->quiet_max_defer_ms,
					 j->victim);
				vigil_out_action(h->out, run->inc, run->rule->name, "deferred",
						 detail, j->victim);
				j->deferred = true;
			}
			job_after(j, QUIET_POLL_MS);
			return;
		}
	}
	run->open_conns = conns;
	j->phase = JOB_RUNNING;
	j->ops->start(run);
}

/* Policy lets the heal run now: the intent, then the quiet window, then the action. */
static void begin(struct vigil_heal_job *j)
{
	struct vigil_healer *h = j->h;
	struct vigil_action_run *run = j->run;
	char detail[512];

	set_state(h, run->inc, VIGIL_INC_HEALING);
	j->ops->describe(run->action, detail, sizeof(detail));
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

/* Does rule apply to an incident of class cls, with an action this vigil can run? */
static bool applies(const struct vigil_heal_rule *r, enum vigil_class cls)
{
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

/*
 * The rule for an incident: among the workload's rules that apply to its class, the one whose
 * action scores best in the knowledge store for the incident's signature (knowledge.h: an
 * untried action scores 0.5); config order breaks ties, and without a store the first rule
 * wins. When there was a choice, why (len > 0) says what was chosen over what, for the audit
 * trail: "chosen: restart-clean, 4/5 worked before (0.71); other: restart 0/2 worked before
 * (0.25)"; otherwise why is "". Returns NULL when no rule applies.
 */
static const struct vigil_heal_rule *choose_rule(const struct vigil_healer *h,
						 const struct vigil_workload *w,
						 const struct vigil_incident *inc, char *why,
						 size_t len)
{
	const struct vigil_heal_rule *best = NULL;
	double score, best_score = -1.0;
	unsigned int n = 0;
	size_t off;

	why[0] = '\0';
	for (unsigned int i = 0; i < w->n_heal; i++) {
		const struct vigil_heal_rule *r = &w->heal[i];

		if (!applies(r, inc->cls))
			continue;
		n++;
		score =
		    vigil_knowledge_score(vigil_knowledge_get(h->know, inc->signature, r->name));
		if (score > best_score) {
			best = r;
			best_score = score;
		}
	}
	if (n < 2 || !h->know)
		return best;
	off = (size_t)snprintf(why, len, "chosen: %s, ", best->name);
	if (off < len)
		off += (size_t)score_text(why + off, len - off,
					  vigil_knowledge_get(h->know, inc->signature, best->name));
	for (unsigned int i = 0, others = 0; i < w->n_heal && off < len; i++) {
		const struct vigil_heal_rule *r = &w->heal[i];

		if (r == best || !applies(r, inc->cls))
			continue;
		off += (size_t)snprintf(why + off, len - off, "%s%s ",
					others++ ? ", " : "; other: ", r->name);
		if (off < len)
			off += (size_t)score_text(
			    why + off, len - off,
			    vigil_knowledge_get(h->know, inc->signature, r->name));
	}
	return best;
}

static void start_job(struct vigil_healer *h, struct vigil_incident *inc,
		      const struct vigil_heal_rule *rule, struct wl_heal *wh);

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
	wh = &h->w[inc->workload - 1];

	if (wh->breaker == BREAKER_OPEN) {
		if (now - wh->opened_ns < w->breaker_cooldown_ms * 1000000ull) {
			set_state(h, inc, VIGIL_INC_ESCALATED);
			vigil_out_action(h->out, inc, rule->name, "skipped",
					 "circuit breaker open: a human must look", 0);
			return;
		}
		wh->breaker = BREAKER_HALF_OPEN; /* one try after the cooldown */
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
		/* An approval runs the rule chosen now, whatever the store learns meanwhile. */
		inc->heal_rule = rule;
		vigil_incident_hold(inc, true);
		set_state(h, inc, VIGIL_INC_AWAITING_APPROVAL);
		return;
	}
	start_job(h, inc, rule, wh);
}

/* Schedule or run the rule's action for inc now that policy allows it. */
static void start_job(struct vigil_healer *h, struct vigil_incident *inc,
		      const struct vigil_heal_rule *rule, struct wl_heal *wh)
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
	j = calloc(1, sizeof(*j));
	if (j)
		j->run =
		    calloc(1, ops->run_size > sizeof(*j->run) ? ops->run_size : sizeof(*j->run));
	if (!j || !j->run) {
		free(j);
		vigil_out_action(h->out, inc, rule->name, "failed", "out of memory", 0);
		return;
	}
	j->h = h;
	j->wh = wh;
	j->ops = ops;
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

	since_ms = wh->restarts ? (now - wh->last_restart_ns) / 1000000 : UINT64_MAX;
	if (since_ms >= BACKOFF_RESET_MS)
		wh->restarts = 0;
	delay_ms = vigil_backoff_ms(wh->restarts, since_ms);
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

int vigil_healer_approve(struct vigil_healer *h, struct vigil_incident *inc, const char *who)
{
	const struct vigil_heal_rule *rule;
	char detail[160], why[512];

	if (inc->state != VIGIL_INC_AWAITING_APPROVAL)
		return -EINVAL;
	/* The rule chosen when it went awaiting approval: what the person was shown. */
	rule = inc->heal_rule;
	if (!rule && inc->workload && inc->workload <= h->cfg->n_workloads)
		rule = choose_rule(h, &h->cfg->workloads[inc->workload - 1], inc, why, sizeof(why));
	if (!rule)
		return -ENOENT;
	/* A person decided: that is the point of level 3, so neither the breaker nor the
	 * backoff's first wait holds it back — only a heal already running does. */
	snprintf(detail, sizeof(detail), "approved by %s", who && who[0] ? who : "an operator");
	vigil_out_action(h->out, inc, rule->name, "approved", detail, 0);
	vigil_incident_hold(inc, false);
	set_state(h, inc, VIGIL_INC_OPEN);
	start_job(h, inc, rule, &h->w[inc->workload - 1]);
	return 0;
}

int vigil_healer_approve_answer(struct vigil_healer *h, const char *id, const char *who,
				struct vigil_json *out)
{
	struct vigil_incident *inc = id ? vigil_incidents_lookup(h->incs, id) : NULL;
	int ret;

	if (!inc)
		return -ENOENT;
	ret = vigil_healer_approve(h, inc, who);
	vigil_json_begin(out);
	vigil_json_str(out, "incident", inc->id);
	vigil_json_str(out, "state", vigil_incident_state_name(inc->state));
	if (ret)
		vigil_json_str(out, "error",
			       ret == -EINVAL ? "not awaiting approval"
					      : "no heal rule applies to it");
	else
		vigil_json_bool(out, "approved", true);
	return vigil_json_end(out);
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
	while (h->jobs) {
		j = h->jobs;
		if (j->phase != JOB_RUNNING) {
			end(j, false, false, "vigil stopped before the scheduled heal", 0);
			continue;
		}
		ok = j->ops->cancel(j->run);
		end(j, ok, false,
		    j->verifying ? "vigil stopped during the verify window"
				 : "vigil stopped before the scheduled heal",
		    j->child);
	}
	free(h->w);
	free(h);
}
