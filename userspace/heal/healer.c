// SPDX-License-Identifier: Apache-2.0
/* healer: policy, autonomy levels, breaker, backoff, and the restart action's lifecycle. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "heal/spawn.h"
#include "heal/healer.h"
#include "heal/knowledge.h"

#define BACKOFF_FIRST_MS 10000ull
#define BACKOFF_MAX_MS 300000ull
#define BACKOFF_RESET_MS 600000ull /* ten quiet minutes forget the restarts */
#define MAX_FAILS 64

enum breaker { BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN };

struct wl_heal {
	unsigned int restarts;
	uint64_t last_restart_ns;
	uint64_t fails[MAX_FAILS]; /* mono ns of failed heals, newest last */
	unsigned int n_fails;
	enum breaker breaker;
	uint64_t opened_ns;
	uint64_t opened_wall_ns; /* for the breaker records */
	bool pending; /* a heal is scheduled or running: never stack two */
};

struct job {
	struct vigil_healer *h;
	struct vigil_incident *inc;
	const struct vigil_heal_rule *rule;
	struct wl_heal *wh;
	pid_t pid;
	int status_fd;
	struct vigil_timer timer;
	uint64_t started_ns;
	/* A restart of a process that still runs: wait for quiet, then stop it, then start. */
	pid_t old;		  /* 0: not looked at yet; -1: nothing to stop */
	uint64_t quiet_until_ns;  /* give up waiting for quiet then */
	uint64_t kill_at_ns;	  /* SIGKILL if still alive then (0: SIGTERM not sent yet) */
	bool deferred, killed;
	struct job *next;
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
	struct job *jobs;
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
		     struct vigil_output *o, struct vigil_incidents *incs, vigil_watch_fn watch, void *watch_arg,
		     struct vigil_healer **out)
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

/* Is pid running (not gone, not a zombie waiting for its parent)? */
static bool running(pid_t pid)
{
	char path[48], buf[256], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* "pid (comm) S ...": the state follows the last ')' (a comm may hold one). */
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static void unlink_job(struct vigil_healer *h, struct job *j)
{
	struct job **pp;

	for (pp = &h->jobs; *pp; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			return;
		}
	}
}

/* Call fn(j) in ms milliseconds (the job's one timer: never two at once). */
static void job_after(struct job *j, uint64_t ms, vigil_timer_fn fn)
{
	vigil_timer_cancel(j->h->loop, &j->timer);
	vigil_timer_init(&j->timer, fn, j);
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
static void breaker_fail(struct vigil_healer *h, struct job *j)
{
	const struct vigil_workload *w = &h->cfg->workloads[j->inc->workload - 1];
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
		snprintf(detail, sizeof(detail), "%llu failed heals in %llu s: no action for %llu s",
			 (unsigned long long)n, (unsigned long long)w->breaker_window_ms / 1000,
			 (unsigned long long)w->breaker_cooldown_ms / 1000);
		vigil_out_action(h->out, j->inc, "breaker", "open", detail, 0);
		vigil_out_breaker(h->out, w->name, "open", n, wh->opened_wall_ns);
	}
}

/* What the action's outcome teaches the knowledge store, and the record of what it now holds.
 * Nothing when there is no store. */
static void learn(struct vigil_healer *h, struct job *j, bool ok)
{
	struct vigil_know_rec rec = {};

	if (!h->know)
		return;
	/* The table is updated even when the file could not be written (the store counts it
	 * for status); rec is filled whenever the table was. */
	vigil_knowledge_record(h->know, j->inc->workload_name, j->inc->signature,
			       vigil_class_name(j->inc->cls) ?: "unknown", j->rule->name, ok,
			       vigil_loop_wall(h->loop), &rec);
	if (rec.signature)
		vigil_out_knowledge(h->out, &rec);
}

/*
 * The end of one heal: record the outcome, free the job. known: the outcome says something
 * about the action (it was verified, its process died, its exec failed), so the knowledge
 * store learns from it; not when vigil itself failed to spawn it or stopped before knowing.
 */
static void finish(struct job *j, bool ok, bool known, const char *detail)
{
	struct vigil_healer *h = j->h;

	vigil_timer_cancel(h->loop, &j->timer);
	if (j->status_fd >= 0) {
		vigil_loop_del_fd(h->loop, j->status_fd);
		close(j->status_fd);
	}
	vigil_out_action(h->out, j->inc, j->rule->name, ok ? "success" : "failed", detail,
			  j->pid);
	if (known)
		learn(h, j, ok);
	if (ok) {
		if (j->wh->breaker == BREAKER_HALF_OPEN) {
			j->wh->breaker = BREAKER_CLOSED;
			j->wh->n_fails = 0;
			vigil_out_breaker(h->out, j->inc->workload_name, "closed", 0,
					   j->wh->opened_wall_ns);
		}
	} else {
		breaker_fail(h, j);
	}
	set_state(h, j->inc, ok ? VIGIL_INC_RESOLVED : VIGIL_INC_FAILED);
	vigil_incident_hold(j->inc, false);
	j->wh->pending = false;
	unlink_job(h, j);
	free(j);
}

static void verify_due(struct vigil_loop *loop, void *arg)
{
	struct job *j = arg;
	char detail[128];

	(void)loop;
	if (kill(j->pid, 0) == 0) {
		snprintf(detail, sizeof(detail), "running again as pid %d, up for %llu ms", j->pid,
			 (unsigned long long)(vigil_loop_now(j->h->loop) - j->started_ns) / 1000000);
		finish(j, true, true, detail);
	} else {
		snprintf(detail, sizeof(detail), "pid %d is gone before the verify window ended",
			 j->pid);
		finish(j, false, true, detail);
	}
}

/* The spawn status pipe: EOF means the exec succeeded; an int is the exec's errno. */
static void status_readable(struct vigil_loop *loop, int fd, uint32_t events, void *arg)
{
	struct job *j = arg;
	char detail[160];
	int err = 0;
	ssize_t n;

	(void)events;
	n = read(fd, &err, sizeof(err));
	if (n < 0 && errno == EAGAIN)
		return;
	vigil_loop_del_fd(loop, fd);
	close(fd);
	j->status_fd = -1;
	if (n == sizeof(err)) {
		snprintf(detail, sizeof(detail), "exec %s: %s", j->rule->action.argv[0],
			 strerror(err));
		finish(j, false, true, detail);
	}
}

static int prespawn(pid_t pid, void *arg)
{
	struct job *j = arg;

	return j->h->watch ? j->h->watch(j->inc->workload, pid, j->h->watch_arg) : 0;
}

/* Start the new process and verify it. */
static void spawn_new(struct job *j)
{
	struct vigil_healer *h = j->h;
	const struct vigil_workload *w = &h->cfg->workloads[j->inc->workload - 1];
	char detail[512];
	int err;

	j->wh->restarts++;
	j->wh->last_restart_ns = vigil_loop_now(h->loop);
	err = vigil_spawn(j->rule->action.argv, prespawn, j, &j->pid, &j->status_fd);
	if (err) {
		snprintf(detail, sizeof(detail), "spawn: %s", strerror(-err));
		finish(j, false, false, detail); /* vigil's failure, not the action's */
		return;
	}
	j->started_ns = vigil_loop_now(h->loop);
	if (vigil_loop_add_fd(h->loop, j->status_fd, EPOLLIN, status_readable, j)) {
		close(j->status_fd);
		j->status_fd = -1;
	}
	set_state(h, j->inc, VIGIL_INC_VERIFYING);
	snprintf(detail, sizeof(detail), "started pid %d; verifying for %llu ms", j->pid,
		 (unsigned long long)w->verify_ms);
	vigil_out_action(h->out, j->inc, j->rule->name, "started", detail, j->pid);
	job_after(j, w->verify_ms, verify_due);
}

static void run_due(struct vigil_loop *loop, void *arg);

/* Exit incidents have nothing left to stop; any other may be about a process that runs. */
static bool exit_class(enum vigil_class c)
{
	return c == VIGIL_CLASS_CRASH || c == VIGIL_CLASS_OOM_KILL ||
	       c == VIGIL_CLASS_EXIT_NONZERO || c == VIGIL_CLASS_CRASH_LOOP;
}

/*
 * Run the restart, in steps driven by short timers: record the intent; if the incident's
 * process still runs (and is still the workload's), wait until the workload holds no
 * established connection (a live conversation is never cut) for at most quiet.max_defer,
 * then SIGTERM it, SIGKILL after VIGIL_STOP_GRACE_MS; then start the new process.
 */
static void run(struct job *j)
{
	struct vigil_healer *h = j->h;
	const struct vigil_workload *w = &h->cfg->workloads[j->inc->workload - 1];
	struct vigil_healer_probe *pr = &h->probe;
	uint64_t now = vigil_loop_now(h->loop), conns;
	char detail[512];

	if (!j->old) {
		set_state(h, j->inc, VIGIL_INC_HEALING);
		vigil_argv_join(j->rule->action.argv, detail, sizeof(detail));
		vigil_out_action(h->out, j->inc, j->rule->name, "intent", detail, 0);
		j->old = -1;
		if (!exit_class(j->inc->cls) && pr->owns && j->inc->tgid &&
		    pr->owns(j->inc->workload, j->inc->tgid, pr->arg) && running(j->inc->tgid))
			j->old = j->inc->tgid;
		j->quiet_until_ns = now + w->quiet_max_defer_ms * 1000000ull;
	}
	if (j->old > 0 && !j->kill_at_ns) {
		conns = pr->established ? pr->established(j->inc->workload, pr->arg) : 0;
		if (conns && now < j->quiet_until_ns) {
			if (!j->deferred) {
				snprintf(detail, sizeof(detail),
					 "%llu established connections: waiting up to %llu ms for "
					 "them to close before stopping pid %d",
					 (unsigned long long)conns,
					 (unsigned long long)w->quiet_max_defer_ms, j->old);
				vigil_out_action(h->out, j->inc, j->rule->name, "deferred",
						  detail, j->old);
				j->deferred = true;
			}
			job_after(j, 100, run_due);
			return;
		}
		snprintf(detail, sizeof(detail), "SIGTERM to pid %d%s", j->old,
			 conns ? " (the quiet window expired with connections open)" : "");
		kill(j->old, SIGTERM);
		vigil_out_action(h->out, j->inc, j->rule->name, "stop", detail, j->old);
		j->kill_at_ns = now + VIGIL_STOP_GRACE_MS * 1000000ull;
	}
	if (j->old > 0 && running(j->old)) {
		if (now >= j->kill_at_ns && !j->killed) {
			kill(j->old, SIGKILL);
			snprintf(detail, sizeof(detail), "SIGKILL to pid %d after %d ms", j->old,
				 VIGIL_STOP_GRACE_MS);
			vigil_out_action(h->out, j->inc, j->rule->name, "stop", detail, j->old);
			j->killed = true;
		}
		job_after(j, 20, run_due);
		return;
	}
	spawn_new(j);
}

static void run_due(struct vigil_loop *loop, void *arg)
{
	(void)loop;
	run(arg);
}

static void scheduled_due(struct vigil_loop *loop, void *arg)
{
	struct job *j = arg;

	(void)loop;
	run(j);
}

/* Does rule apply to an incident of class cls, with an action this vigil can run? */
static bool applies(const struct vigil_heal_rule *r, enum vigil_class cls)
{
	return (r->on_mask & (1u << cls)) && r->action.kind == VIGIL_ACTION_RESTART;
}

/* "4/5 worked before (0.71)", or "never tried (0.50)", for the audit trail. */
static int describe(char *buf, size_t len, const struct vigil_know_entry *e)
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
		off += (size_t)describe(why + off, len - off,
					vigil_knowledge_get(h->know, inc->signature, best->name));
	for (unsigned int i = 0, others = 0; i < w->n_heal && off < len; i++) {
		const struct vigil_heal_rule *r = &w->heal[i];

		if (r == best || !applies(r, inc->cls))
			continue;
		off += (size_t)snprintf(why + off, len - off, "%s%s ",
					others++ ? ", " : "; other: ", r->name);
		if (off < len)
			off +=
			    (size_t)describe(why + off, len - off,
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
			 "action needs complete telemetry", (unsigned long long)inc->lost, rule->level);
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
	uint64_t now = vigil_loop_now(h->loop), delay_ms, since_ms;
	char detail[160];
	struct job *j;

	if (wh->pending) {
		vigil_out_action(h->out, inc, rule->name, "skipped",
				  "a heal of this workload is already scheduled or running", 0);
		return;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		vigil_out_action(h->out, inc, rule->name, "failed", "out of memory", 0);
		return;
	}
	j->h = h;
	j->inc = inc;
	j->rule = rule;
	j->wh = wh;
	j->status_fd = -1;
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
		run(j);
		return;
	}
	snprintf(detail, sizeof(detail), "restart in %llu ms (%s)", (unsigned long long)delay_ms,
		 rule->level == 2 && rule->delay_ms >= delay_ms ? "level 2 delay" : "backoff");
	vigil_out_action(h->out, inc, rule->name, "scheduled", detail, 0);
	job_after(j, delay_ms, scheduled_due);
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

void vigil_healer_reaped(struct vigil_healer *h, pid_t pid, int wstatus)
{
	char detail[128];
	struct job *j;

	for (j = h->jobs; j; j = j->next) {
		if (j->pid != pid)
			continue;
		if (WIFSIGNALED(wstatus))
			snprintf(detail, sizeof(detail), "pid %d killed by signal %d within the verify window",
				 pid, WTERMSIG(wstatus));
		else
			snprintf(detail, sizeof(detail), "pid %d exited with status %d within the verify window",
				 pid, WEXITSTATUS(wstatus));
		finish(j, false, true, detail);
		return;
	}
}

void vigil_healer_free(struct vigil_healer *h)
{
	if (!h)
		return;
	while (h->jobs) {
		struct job *j = h->jobs;

		if (j->pid)
			finish(j, kill(j->pid, 0) == 0, false,
			       "vigil stopped during the verify window");
		else
			finish(j, false, false, "vigil stopped before the scheduled heal");
	}
	free(h->w);
	free(h);
}
