// SPDX-License-Identifier: Apache-2.0
/*
 * restart: the action kind `restart: { exec: [argv...] }` (restart.h), behind the action
 * interface (action.h). Its steps, each an action record under the rule's name:
 *
 *   stop     SIGTERM to the incident's process, when it still runs (once the healer's quiet
 *            window is over), then SIGKILL VIGIL_STOP_GRACE_MS later if it is still there
 *   started  argv, watched before it may run; the incident goes verifying
 *   success  the new process is alive after the workload's `verify`;
 *   failed   it died within it, or its exec failed (both learnt), or it could not be spawned
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/config.h"
#include "core/loop.h"
#include "detect/incidents.h"
#include "heal/restart.h"
#include "heal/spawn.h"

#define STOP_POLL_MS 20 /* how often a stopped process is looked at until it is gone */

struct restart_run {
	struct vigil_action_run run; /* first: what the healer allocates and fills */
	pid_t old;		     /* the process to stop first; 0: none */
	uint64_t kill_at_ns;	     /* SIGKILL it if still alive then */
	bool killed;
	pid_t pid;     /* the new process; 0 until it is spawned */
	int status_fd; /* its exec status pipe; -1 once read or closed */
	uint64_t started_ns;
};

static const struct vigil_restart_params *params(const struct vigil_action_run *run)
{
	return run->action->params;
}

/* Returns 0, or -EINVAL with the key and the reason (see action.h). */
static int restart_validate(const struct vigil_action *a, const struct vigil_heal_rule *r,
			    const char **key, char *why, size_t len)
{
	const struct vigil_restart_params *p = a->params;

	(void)r;
	*key = "exec";
	if (!p || !p->argc || !p->argv) {
		snprintf(why, len, "must not be empty");
		return -EINVAL;
	}
	if (p->argc > VIGIL_RESTART_MAX_ARGV) {
		snprintf(why, len, "has %u entries, at most %d are allowed", p->argc,
			 VIGIL_RESTART_MAX_ARGV);
		return -EINVAL;
	}
	if (p->argv[0][0] != '/') {
		*key = "exec[0]";
		snprintf(why, len, "'%s' must be an absolute path (start with /)", p->argv[0]);
		return -EINVAL;
	}
	return 0;
}

/* The intent: the command line. */
static void restart_describe(const struct vigil_action *a, char *buf, size_t len)
{
	const struct vigil_restart_params *p = a->params;

	vigil_argv_join(p->argv, buf, len);
}

static void restart_free_params(void *params)
{
	struct vigil_restart_params *p = params;

	if (!p)
		return;
	for (char **s = p->argv; s && *s; s++)
		free(*s);
	free(p->argv);
	free(p);
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

/* Exit incidents have nothing left to stop; any other may be about a process that runs. */
static bool exit_class(enum vigil_class c)
{
	return c == VIGIL_CLASS_CRASH || c == VIGIL_CLASS_OOM_KILL ||
	       c == VIGIL_CLASS_EXIT_NONZERO || c == VIGIL_CLASS_CRASH_LOOP;
}

/* The incident's process, if it still runs and is still the workload's (a reused pid is
 * never touched). Returns it, or 0. */
static pid_t restart_interrupts(struct vigil_action_run *run)
{
	struct restart_run *r = (struct restart_run *)run;
	pid_t tgid = (pid_t)run->inc->tgid;

	if (!exit_class(run->inc->cls) && tgid && vigil_action_owns(run, tgid) && running(tgid))
		r->old = tgid;
	return r->old;
}

static void close_status(struct restart_run *r)
{
	if (r->status_fd < 0)
		return;
	vigil_loop_del_fd(r->run.loop, r->status_fd);
	close(r->status_fd);
	r->status_fd = -1;
}

/* The end of the run (frees it). known: as vigil_action_done(). */
static void end(struct restart_run *r, bool ok, bool known, const char *detail)
{
	close_status(r);
	vigil_action_done(&r->run, ok, known, detail, r->pid);
}

/* The spawn status pipe: EOF means the exec succeeded; an int is the exec's errno. */
static void status_readable(struct vigil_loop *loop, int fd, uint32_t events, void *arg)
{
	struct restart_run *r = arg;
	char detail[160];
	int err = 0;
	ssize_t n;

	(void)loop;
	(void)events;
	n = read(fd, &err, sizeof(err));
	if (n < 0 && errno == EAGAIN)
		return;
	close_status(r);
	if (n == sizeof(err)) {
		snprintf(detail, sizeof(detail), "exec %s: %s", params(&r->run)->argv[0],
			 strerror(err));
		end(r, false, true, detail);
	}
}

static int prespawn(pid_t pid, void *arg)
{
	struct restart_run *r = arg;

	return vigil_action_watch(&r->run, pid);
}

/* Start the new process and verify it. */
static void spawn_new(struct restart_run *r)
{
	struct vigil_action_run *run = &r->run;
	char detail[512];
	int err;

	vigil_action_attempt(run);
	err = vigil_spawn(params(run)->argv, prespawn, r, &r->pid, &r->status_fd);
	if (err) {
		snprintf(detail, sizeof(detail), "spawn: %s", strerror(-err));
		end(r, false, false, detail); /* vigil's failure, not the action's */
		return;
	}
	r->started_ns = vigil_loop_now(run->loop);
	vigil_action_own_child(run, r->pid);
	if (vigil_loop_add_fd(run->loop, r->status_fd, EPOLLIN, status_readable, r)) {
		close(r->status_fd);
		r->status_fd = -1;
	}
	vigil_action_verifying(run);
	snprintf(detail, sizeof(detail), "started pid %d; verifying for %llu ms", r->pid,
		 (unsigned long long)run->workload->verify_ms);
	vigil_action_note(run, "started", detail, r->pid);
	vigil_action_after(run, run->workload->verify_ms);
}

/* Until the old process is gone (SIGKILL once the grace is over), look again; then start. */
static void stop_wait(struct restart_run *r)
{
	struct vigil_action_run *run = &r->run;
	char detail[64];

	if (r->old > 0 && running(r->old)) {
		if (vigil_loop_now(run->loop) >= r->kill_at_ns && !r->killed) {
			kill(r->old, SIGKILL);
			snprintf(detail, sizeof(detail), "SIGKILL to pid %d after %d ms", r->old,
				 VIGIL_STOP_GRACE_MS);
			vigil_action_note(run, "stop", detail, r->old);
			r->killed = true;
		}
		vigil_action_after(run, STOP_POLL_MS);
		return;
	}
	spawn_new(r);
}

/* The quiet window is over (or there was none): stop the old process, if any, then start. */
static void restart_start(struct vigil_action_run *run)
{
	struct restart_run *r = (struct restart_run *)run;
	char detail[128];

	r->status_fd = -1;
	if (r->old > 0) {
		snprintf(detail, sizeof(detail), "SIGTERM to pid %d%s", r->old,
			 run->open_conns ? " (the quiet window expired with connections open)"
					 : "");
		kill(r->old, SIGTERM);
		vigil_action_note(run, "stop", detail, r->old);
		r->kill_at_ns = vigil_loop_now(run->loop) + VIGIL_STOP_GRACE_MS * 1000000ull;
	}
	stop_wait(r);
}

/* The verify window is over: is the new process still alive? */
static void verify_due(struct restart_run *r)
{
	char detail[128];

	if (kill(r->pid, 0) == 0) {
		snprintf(detail, sizeof(detail), "running again as pid %d, up for %llu ms", r->pid,
			 (unsigned long long)(vigil_loop_now(r->run.loop) - r->started_ns) /
			     1000000);
		end(r, true, true, detail);
	} else {
		snprintf(detail, sizeof(detail), "pid %d is gone before the verify window ended",
			 r->pid);
		end(r, false, true, detail);
	}
}

static void restart_progress(struct vigil_action_run *run, const struct vigil_action_event *ev)
{
	struct restart_run *r = (struct restart_run *)run;
	char detail[128];

	if (ev->type == VIGIL_ACTION_CHILD_EXIT) {
		if (WIFSIGNALED(ev->wstatus))
			snprintf(detail, sizeof(detail),
				 "pid %d killed by signal %d within the verify window", ev->pid,
				 WTERMSIG(ev->wstatus));
		else
			snprintf(detail, sizeof(detail),
				 "pid %d exited with status %d within the verify window", ev->pid,
				 WEXITSTATUS(ev->wstatus));
		end(r, false, true, detail);
		return;
	}
	if (r->pid)
		verify_due(r);
	else
		stop_wait(r);
}

/* Returns whether the new process is alive. */
static bool restart_cancel(struct vigil_action_run *run)
{
	struct restart_run *r = (struct restart_run *)run;

	close_status(r);
	return r->pid && kill(r->pid, 0) == 0;
}

const struct vigil_action_ops vigil_restart_ops = {
    .kind = "restart",
    .validate = restart_validate,
    .describe = restart_describe,
    .free_params = restart_free_params,
    .run_size = sizeof(struct restart_run),
    .interrupts = restart_interrupts,
    .start = restart_start,
    .progress = restart_progress,
    .cancel = restart_cancel,
};
