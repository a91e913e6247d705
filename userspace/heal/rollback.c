// SPDX-License-Identifier: Apache-2.0
/*
 * rollback: the action kind `rollback` (rollback.h), behind the action interface (action.h).
 * Its steps, each an action record under the rule's name:
 *
 *   command   argv started: "pid N: ARGV (may take T ms)"
 *   success   it exited 0 within its timeout
 *   failed    it exited non-zero or was killed, or outlived its timeout (then SIGKILL), or its
 *             exec failed: how, and the end of its output (all learnt); or vigil could not
 *             spawn it (not learnt)
 *
 * Its end is read from whichever comes first: its pidfd, the daemon's reap (CHILD_EXIT), or
 * the run's timer at the timeout.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/config.h"
#include "core/loop.h"
#include "detect/incidents.h"
#include "heal/command.h"
#include "heal/proc.h"
#include "heal/rollback.h"

struct rollback_run {
	struct vigil_action_run run; /* first: what the healer allocates and fills */
	pid_t child;
	int child_fd, status_fd, out_fd; /* its pidfd, exec status pipe, output; -1: none */
	uint64_t started_ns;
	struct vigil_out_tail out;
};

static const struct vigil_rollback_params *params(const struct vigil_action_run *run)
{
	return run->action->params;
}

/* --- at load ------------------------------------------------------------------------------ */

/* Level 3 only, and an argv it may run. Returns 0, or -EINVAL with the key and the reason. */
static int rollback_validate(const struct vigil_action *a, const struct vigil_heal_rule *r,
			     const char **key, char *why, size_t len)
{
	const struct vigil_rollback_params *p = a->params;

	if (r && r->level != 3) {
		*key = NULL;
		snprintf(why, len,
			 "rollback runs only with a person's approval: level must be 3, not %u",
			 r->level);
		return -EINVAL;
	}
	return vigil_argv_check(p ? p->argv : NULL, p ? p->argc : 0, "command", "command[0]", key,
				why, len);
}

static void rollback_describe(const struct vigil_action *a, char *buf, size_t len)
{
	const struct vigil_rollback_params *p = a->params;
	char argv[384];

	vigil_argv_join(p->argv, argv, sizeof(argv));
	snprintf(buf, len, "%s (must exit 0 within %llu ms)", argv,
		 (unsigned long long)p->timeout_ms);
}

static int rollback_touches(const struct vigil_action *a, vigil_touch_fn fn, void *arg)
{
	const struct vigil_rollback_params *p = a->params;

	return fn(VIGIL_TOUCH_EXEC, "command[0]", p->argv[0], arg);
}

static void rollback_free_params(void *params)
{
	struct vigil_rollback_params *p = params;

	if (!p)
		return;
	vigil_strv_free(p->argv);
	vigil_strv_free(p->envp);
	free(p);
}

/* --- the run ------------------------------------------------------------------------------ */

static void drop_fd(struct rollback_run *r, int *fd)
{
	vigil_drop_fd(r->run.loop, fd);
}

static void release(struct rollback_run *r)
{
	drop_fd(r, &r->child_fd);
	drop_fd(r, &r->status_fd);
	drop_fd(r, &r->out_fd);
}

static uint64_t ms_since(const struct rollback_run *r, uint64_t t)
{
	uint64_t now = vigil_loop_now(r->run.loop);

	return now > t ? (now - t) / 1000000 : 0;
}

/* ": what it said last", or "". */
static const char *said(struct rollback_run *r, char *buf, size_t len)
{
	if (r->out_fd >= 0 && vigil_out_tail_read(&r->out, r->out_fd))
		drop_fd(r, &r->out_fd);
	return vigil_out_tail_said(&r->out, buf, len);
}

/* The end: its fds released, then vigil_action_done (which frees the run). */
__attribute__((format(printf, 4, 5))) static void end(struct rollback_run *r, bool ok, bool known,
						      const char *f, ...)
{
	char detail[512];
	pid_t pid = r->child;
	va_list ap;

	va_start(ap, f);
	vsnprintf(detail, sizeof(detail), f, ap);
	va_end(ap);
	release(r);
	vigil_action_done(&r->run, ok, known, detail, pid);
}

/* The command ended with wstatus. */
static void child_exit(struct rollback_run *r, int wstatus)
{
	char out[VIGIL_OUT_TAIL + 3], how[40];
	uint64_t took = ms_since(r, r->started_ns);
	int st = r->status_fd >= 0 ? vigil_exec_status(r->status_fd) : 1;

	/* The exec's outcome first: its exit may be read before the pipe's EOF. */
	if (st < 0) {
		end(r, false, true, "exec %s: %s", params(&r->run)->argv[0], strerror(-st));
		return;
	}
	if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus)) {
		end(r, false, true, "command pid %d %s after %llu ms%s", r->child,
		    vigil_wstatus_str(wstatus, how, sizeof(how)), (unsigned long long)took,
		    said(r, out, sizeof(out)));
		return;
	}
	end(r, true, true, "command pid %d exited 0 after %llu ms", r->child,
	    (unsigned long long)took);
}

/* Its pidfd is readable: it has ended (reaped here, or by the daemon first, whose CHILD_EXIT
 * then says how). */
static void child_readable(struct vigil_loop *loop, int fd, uint32_t events, void *arg)
{
	struct rollback_run *r = arg;
	int ws;

	(void)events;
	if (vigil_pidfd_exit(fd, false, &ws) == 1)
		child_exit(r, ws);
	else
		vigil_loop_del_fd(loop, fd);
}

static void status_readable(struct vigil_loop *loop, int fd, uint32_t events, void *arg)
{
	struct rollback_run *r = arg;
	int st = vigil_exec_status(fd);

	(void)loop;
	(void)events;
	if (!st)
		return;
	drop_fd(r, &r->status_fd);
	if (st < 0) {
		if (r->child_fd >= 0)
			vigil_pidfd_signal(r->child_fd, SIGKILL); /* exits 127 by itself; sure */
		end(r, false, true, "exec %s: %s", params(&r->run)->argv[0], strerror(-st));
	}
}

static void output_readable(struct vigil_loop *loop, int fd, uint32_t events, void *arg)
{
	struct rollback_run *r = arg;

	(void)loop;
	(void)events;
	if (vigil_out_tail_read(&r->out, fd))
		drop_fd(r, &r->out_fd);
}

/* A rollback replaces the workload's processes: the incident's, if it still runs and is still
 * the workload's, is one to wait for a quiet moment for (nothing is held: it is not signalled).
 */
static pid_t rollback_interrupts(struct vigil_action_run *run)
{
	struct rollback_run *r = (struct rollback_run *)run;
	pid_t tgid = (pid_t)run->inc->tgid;

	r->child_fd = r->status_fd = r->out_fd = -1;
	return tgid > 0 && vigil_action_owns(run, tgid) ? tgid : 0;
}

static void rollback_start(struct vigil_action_run *run)
{
	struct rollback_run *r = (struct rollback_run *)run;
	const struct vigil_rollback_params *p = params(run);
	char detail[512], argv[384], why[256] = "";
	struct vigil_spawn_opts o = {
	    .argv = p->argv, .envp = p->envp, .why = why, .whylen = sizeof(why)};
	struct vigil_spawned sp;
	int err;

	r->child_fd = r->status_fd = r->out_fd = -1;
	vigil_action_attempt(run);
	err = vigil_spawn_piped(&o, &sp, &r->out_fd);
	if (err) {
		/* vigil's failure, or its refusal of an executable no longer safe to run. */
		end(r, false, false, "spawn: %s", why[0] ? why : strerror(-err));
		return;
	}
	r->child = sp.pid;
	r->child_fd = sp.pidfd;
	r->status_fd = sp.status_fd;
	r->started_ns = vigil_loop_now(run->loop);
	vigil_action_own_child(run, sp.pid);
	/* Should the loop refuse them, the timer and the daemon's reap still end the run. */
	(void)vigil_loop_add_fd(run->loop, r->status_fd, EPOLLIN, status_readable, r);
	(void)vigil_loop_add_fd(run->loop, r->child_fd, EPOLLIN, child_readable, r);
	if (r->out_fd >= 0 && vigil_loop_add_fd(run->loop, r->out_fd, EPOLLIN, output_readable, r))
		drop_fd(r, &r->out_fd);
	vigil_argv_join(p->argv, argv, sizeof(argv));
	snprintf(detail, sizeof(detail), "pid %d: %s (may take %llu ms)", r->child, argv,
		 (unsigned long long)p->timeout_ms);
	vigil_action_note(run, "command", detail, r->child);
	vigil_action_after(run, p->timeout_ms);
}

static void rollback_progress(struct vigil_action_run *run, const struct vigil_action_event *ev)
{
	struct rollback_run *r = (struct rollback_run *)run;
	char out[VIGIL_OUT_TAIL + 3];

	switch (ev->type) {
	case VIGIL_ACTION_CHILD_EXIT:
		if (ev->pid == r->child)
			child_exit(r, ev->wstatus);
		break;
	case VIGIL_ACTION_TIMER:
		if (r->child_fd >= 0)
			vigil_pidfd_signal(r->child_fd, SIGKILL);
		end(r, false, true, "command pid %d still running after %llu ms: killed%s",
		    r->child, (unsigned long long)params(run)->timeout_ms,
		    said(r, out, sizeof(out)));
		break;
	case VIGIL_ACTION_WORKLOAD_EXEC:
	case VIGIL_ACTION_WORKLOAD_EXIT:
	case VIGIL_ACTION_WORK_DONE:
		break; /* the deploy tool's business: success is its exit 0 */
	}
}

/* vigil stops while the command runs: it is left to finish; whether it will is not known. */
static bool rollback_cancel(struct vigil_action_run *run)
{
	release((struct rollback_run *)run);
	return false;
}

const struct vigil_action_ops vigil_rollback_ops = {
    .kind = "rollback",
    .validate = rollback_validate,
    .describe = rollback_describe,
    .touches = rollback_touches,
    .free_params = rollback_free_params,
    .run_size = sizeof(struct rollback_run),
    .interrupts = rollback_interrupts,
    .start = rollback_start,
    .progress = rollback_progress,
    .cancel = rollback_cancel,
};
