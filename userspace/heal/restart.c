// SPDX-License-Identifier: Apache-2.0
/*
 * restart: the action kind `restart` (restart.h), behind the action interface (action.h).
 * Its steps, each an action record under the rule's name:
 *
 *   stop      the stop signal to the incident's process, when it still runs and is still the
 *             workload's (once the healer's quiet window is over), through the pidfd taken
 *             when it was chosen; SIGKILL kill_after later if it is still there and still the
 *             workload's — ownership is looked at again before each signal
 *   started   exec: argv, watched before it may run; the incident goes verifying
 *   command   command: argv started; then how it exited
 *   await     signal, command, or a crash of a workload whose supervisor is external: the
 *             wait for a new process of the workload begins
 *   replaced  "pid N replaced pid M after X ms (started by vigil | the supervisor)": a new
 *             process of the workload exec'd (vigil's child, once its exec succeeded; or one
 *             the kernel matched at exec; or one found in the watched set that started after
 *             the fault); the incident records when, and goes verifying
 *   followed  it exited 0 leaving a process of the workload it started (a service that forks
 *             into the background): that one is verified instead
 *   success   the new process still runs, through its pidfd (a zombie does not), and is still
 *             the workload's after `verify`
 *   failed    it died within the verify window; an exec that failed; a command that failed or
 *             outlived its timeout; no replacement within `await` (all learnt); or vigil could
 *             not spawn (not learnt)
 *
 * The run's one timer serves every deadline it has at once (SIGKILL, the command's timeout,
 * await, its polls of the watched set, the verify window): it is armed for the nearest. Each
 * entry point (start, progress, an fd of the run) ends with settle(), which either ends the
 * run — once, after everything it did — or arms that timer.
 */
#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/config.h"
#include "core/loop.h"
#include "detect/detector.h"
#include "detect/incidents.h"
#include "heal/command.h"
#include "heal/proc.h"
#include "heal/restart.h"
#include "heal/spawn.h"

#define AWAIT_POLL_MS 250 /* how often the watched set is looked at while awaiting */
#define MAX_PIDS 256	  /* of the workload's processes looked at, at most */
#define MAX_GONE 16	  /* processes that ended during the run: never a replacement */

enum phase {
	P_STOP,	   /* exec: the old process is to end before the new one starts */
	P_EXEC,	   /* exec: the child is spawned, its exec not yet confirmed */
	P_COMMAND, /* command: running */
	P_AWAIT,   /* a new process of the workload is awaited */
	P_VERIFY,  /* the replacement is to stay up for `verify` */
};

struct restart_run {
	struct vigil_action_run run; /* first: what the healer allocates and fills */
	enum phase phase;
	/* the old process: the incident's */
	pid_t old;
	int old_fd;	     /* its pidfd while it is to be stopped and still runs, else -1 */
	uint64_t kill_at_ns; /* SIGKILL it then, if it is still there; 0: not (any more) */
	/* vigil's child: exec's new process, or the command */
	pid_t child;
	bool child_done;		 /* its end was handled */
	int child_fd, status_fd, out_fd; /* its pidfd, exec status pipe, output (command) */
	uint64_t child_ns;		 /* when it was started */
	uint64_t cmd_until_ns;		 /* command: killed then */
	struct vigil_out_tail out;	 /* command: the end of its output */
	/* awaiting */
	uint64_t await_until_ns, poll_at_ns;
	pid_t seen; /* command: a new process that exec'd while it still ran */
	uint64_t seen_ns;
	pid_t gone[MAX_GONE]; /* the run's processes that ended */
	unsigned int n_gone;
	/* the replacement */
	pid_t cand;
	int cand_fd;
	uint64_t verify_at_ns, verify_from_ns;
	bool verify_over; /* the window is over; waiting for the old process to be gone */
	/* the end, once decided: settle() ends the run with it */
	bool over, ok, known;
	pid_t end_pid;
	char detail[512];
};

static const struct vigil_restart_params *params(const struct vigil_action_run *run)
{
	return run->action->params;
}

static uint64_t now_ns(const struct restart_run *r)
{
	return vigil_loop_now(r->run.loop);
}

static uint64_t ms_since(const struct restart_run *r, uint64_t t)
{
	uint64_t now = now_ns(r);

	return now > t ? (now - t) / 1000000 : 0;
}

/* --- at load ------------------------------------------------------------------------------ */

/* Returns 0, or -EINVAL with the key and the reason (see action.h). */
static int restart_validate(const struct vigil_action *a, const struct vigil_heal_rule *r,
			    const char **key, char *why, size_t len)
{
	const struct vigil_restart_params *p = a->params;

	(void)r;
	if (p && p->mode == VIGIL_RESTART_SIGNAL)
		return 0;
	if (p && p->mode == VIGIL_RESTART_EXEC)
		return vigil_argv_check(p->argv, p->argc, "exec", "exec[0]", key, why, len);
	return vigil_argv_check(p ? p->argv : NULL, p ? p->argc : 0, "command", "command[0]", key,
				why, len);
}

/* The intent: the command line (exec); what will be done (signal, command). */
static void restart_describe(const struct vigil_action *a, char *buf, size_t len)
{
	const struct vigil_restart_params *p = a->params;
	char sig[8], argv[384];

	switch (p->mode) {
	case VIGIL_RESTART_EXEC:
		vigil_argv_join(p->argv, buf, len);
		break;
	case VIGIL_RESTART_SIGNAL:
		if (p->signo == SIGKILL)
			snprintf(buf, len,
				 "SIGKILL to the workload's process; await its replacement by the "
				 "supervisor for up to %llu ms",
				 (unsigned long long)p->await_ms);
		else
			snprintf(buf, len,
				 "%s to the workload's process (SIGKILL after %llu ms); await its "
				 "replacement by the supervisor for up to %llu ms",
				 vigil_signal_name(p->signo, sig),
				 (unsigned long long)p->kill_after_ms,
				 (unsigned long long)p->await_ms);
		break;
	case VIGIL_RESTART_COMMAND:
		vigil_argv_join(p->argv, argv, sizeof(argv));
		snprintf(buf, len, "%s; await the replacement for up to %llu ms", argv,
			 (unsigned long long)p->await_ms);
		break;
	}
}

static void restart_free_params(void *params)
{
	struct vigil_restart_params *p = params;

	if (!p)
		return;
	vigil_strv_free(p->argv);
	vigil_strv_free(p->envp);
	free(p);
}

/* --- the end, and the timer ----------------------------------------------------------------- */

/* Exit incidents have nothing left to stop; any other may be about a process that runs. */
static bool exit_class(enum vigil_class c)
{
	return c == VIGIL_CLASS_CRASH || c == VIGIL_CLASS_OOM_KILL ||
	       c == VIGIL_CLASS_EXIT_NONZERO || c == VIGIL_CLASS_CRASH_LOOP;
}

/* Decide the end (the first decision stands); settle() carries it out. */
__attribute__((format(printf, 5, 6))) static void finish(struct restart_run *r, bool ok, bool known,
							 pid_t pid, const char *f, ...)
{
	va_list ap;

	if (r->over)
		return;
	r->over = true;
	r->ok = ok;
	r->known = known;
	r->end_pid = pid;
	va_start(ap, f);
	vsnprintf(r->detail, sizeof(r->detail), f, ap);
	va_end(ap);
}

static void drop_fd(struct restart_run *r, int *fd)
{
	vigil_drop_fd(r->run.loop, fd);
}

/* Let go of every fd the run holds (the processes themselves are left as they are). */
static void release(struct restart_run *r)
{
	drop_fd(r, &r->old_fd);
	drop_fd(r, &r->child_fd);
	drop_fd(r, &r->status_fd);
	drop_fd(r, &r->out_fd);
	drop_fd(r, &r->cand_fd);
}

static void earliest(uint64_t *next, uint64_t t)
{
	if (t && t < *next)
		*next = t;
}

/* End the run if its end is decided; otherwise arm its timer for the nearest deadline. */
static void settle(struct restart_run *r)
{
	uint64_t next = UINT64_MAX, now = now_ns(r);

	if (r->over) {
		release(r);
		vigil_action_done(&r->run, r->ok, r->known, r->detail, r->end_pid);
		return;
	}
	if (r->old_fd >= 0)
		earliest(&next, r->kill_at_ns);
	if (r->phase == P_COMMAND)
		earliest(&next, r->cmd_until_ns);
	if (r->phase == P_EXEC || r->phase == P_AWAIT)
		earliest(&next, r->await_until_ns);
	if (r->phase == P_AWAIT)
		earliest(&next, r->poll_at_ns);
	if (r->phase == P_VERIFY && !r->verify_over)
		earliest(&next, r->verify_at_ns);
	if (next != UINT64_MAX)
		vigil_action_after(&r->run, next > now ? (next - now + 999999) / 1000000 : 0);
}

/* --- processes ---------------------------------------------------------------------------- */

static void remember_gone(struct restart_run *r, pid_t pid)
{
	if (r->n_gone == MAX_GONE)
		memmove(r->gone, r->gone + 1, (MAX_GONE - 1) * sizeof(r->gone[0]));
	else
		r->n_gone++;
	r->gone[r->n_gone - 1] = pid;
}

/* Can pid be the replacement: not the old process, nor one that ended during the run? */
static bool may_replace(const struct restart_run *r, pid_t pid)
{
	if (pid <= 0 || pid == r->old || pid == r->child)
		return false;
	for (unsigned int i = 0; i < r->n_gone; i++)
		if (r->gone[i] == pid)
			return false;
	return true;
}

/* A pidfd for pid if it runs and is the workload's (looked at after the pidfd is held, so that
 * a pid reused in between is not taken). Returns it, or -1. */
static int hold(struct restart_run *r, pid_t pid)
{
	int fd = vigil_pidfd_open(pid);

	if (fd < 0)
		return -1;
	if (vigil_pidfd_running(fd) != 1 || !vigil_action_owns(&r->run, pid)) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * A process of the workload found in its watched set that started after the fault (to the
 * clock tick /proc gives) and may replace the old one — not a child the old one forked, which
 * goes with it: held, *fd, *start_ns. Returns its pid, or 0. Finds what no exec record
 * announced: the children a service forked into the background, a pidfile's new pid, a
 * replacement started before the run began.
 */
static pid_t find_new(struct restart_run *r, int *fd, uint64_t *start_ns)
{
	pid_t pids[MAX_PIDS], ppid;
	size_t n = vigil_action_pids(&r->run, pids, MAX_PIDS);

	if (n > MAX_PIDS)
		n = MAX_PIDS;
	for (size_t i = 0; i < n; i++) {
		if (!may_replace(r, pids[i]) || pids[i] == r->cand ||
		    vigil_proc_start_ns(pids[i], start_ns, &ppid) ||
		    (r->old > 0 && ppid == r->old) ||
		    *start_ns + VIGIL_PROC_START_RES_NS < r->run.inc->first_kernel_ns)
			continue;
		*fd = hold(r, pids[i]);
		if (*fd >= 0)
			return pids[i];
	}
	return 0;
}

static void verify_due(struct restart_run *r);

/* pid (held by fd) exec'd at exec_ns and replaces the old process: verify it. */
static void replaced(struct restart_run *r, pid_t pid, int fd, uint64_t exec_ns, bool by_vigil)
{
	struct vigil_action_run *run = &r->run;
	const uint64_t first = run->inc->first_kernel_ns;
	char detail[160];

	r->cand = pid;
	r->cand_fd = fd;
	vigil_action_replaced(run, exec_ns);
	snprintf(detail, sizeof(detail), "pid %d replaced pid %d after %llu ms (started by %s)",
		 pid, r->old,
		 (unsigned long long)(exec_ns > first ? (exec_ns - first) / 1000000 : 0),
		 by_vigil ? "vigil" : "the supervisor");
	vigil_action_note(run, "replaced", detail, pid);
	if (params(run)->mode != VIGIL_RESTART_EXEC)
		vigil_action_verifying(run);
	r->phase = P_VERIFY;
	r->verify_from_ns = now_ns(r);
	r->verify_at_ns = r->verify_from_ns + run->workload->verify_ms * 1000000ull;
}

/* The replacement exited within the verify window with wstatus. A clean exit that left a new
 * process of the workload running (it forked into the background) hands over to that one. */
static void cand_exit(struct restart_run *r, int wstatus)
{
	pid_t pid = r->cand, next;
	uint64_t start;
	char detail[160];
	int fd;

	drop_fd(r, &r->cand_fd);
	remember_gone(r, pid);
	r->cand = 0;
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
		next = find_new(r, &fd, &start);
		if (next) {
			r->cand = next;
			r->cand_fd = fd;
			snprintf(detail, sizeof(detail),
				 "pid %d exited 0 and left pid %d of the workload running: "
				 "verifying that one",
				 pid, next);
			vigil_action_note(&r->run, "followed", detail, next);
			if (r->verify_over)
				verify_due(r);
			return;
		}
		finish(r, false, true, pid,
		       "pid %d exited with status 0 within the verify window, leaving no process "
		       "of the workload running",
		       pid);
	} else if (WIFSIGNALED(wstatus)) {
		finish(r, false, true, pid, "pid %d killed by signal %d within the verify window",
		       pid, WTERMSIG(wstatus));
	} else {
		finish(r, false, true, pid, "pid %d exited with status %d within the verify window",
		       pid, WEXITSTATUS(wstatus));
	}
}

/* The verify window is over (and the old process gone): does the replacement still run, and
 * is it still the workload's? Read through its pidfd: a zombie has exited. */
static void verify_due(struct restart_run *r)
{
	int running = r->cand_fd >= 0 ? vigil_pidfd_running(r->cand_fd) : 0, ws;

	r->verify_over = true;
	if (r->old_fd >= 0 && r->kill_at_ns)
		return; /* the old process is being stopped still: SIGKILL is due at kill_at */
	if (running == 1 && vigil_action_owns(&r->run, r->cand)) {
		finish(r, true, true, r->cand, "running again as pid %d, up for %llu ms", r->cand,
		       (unsigned long long)ms_since(r, r->verify_from_ns));
		return;
	}
	/* vigil's own child, exited and not reaped yet: how it ended. */
	if (r->cand == r->child && r->cand_fd >= 0 &&
	    vigil_pidfd_exit(r->cand_fd, false, &ws) == 1) {
		cand_exit(r, ws);
		return;
	}
	finish(r, false, true, r->cand,
	       running == 1 ? "pid %d is no longer the workload's at the end of the verify window"
			    : "pid %d is gone before the verify window ended",
	       r->cand);
}

/* --- awaiting a replacement ----------------------------------------------------------------- */

/* Look in the watched set for a replacement now, and again AWAIT_POLL_MS later. */
static void poll_new(struct restart_run *r)
{
	uint64_t start;
	pid_t pid;
	int fd;

	r->poll_at_ns = now_ns(r) + AWAIT_POLL_MS * 1000000ull;
	pid = find_new(r, &fd, &start);
	if (pid)
		replaced(r, pid, fd, start, false);
}

__attribute__((format(printf, 2, 3))) static void await_begin(struct restart_run *r, const char *f,
							      ...)
{
	char detail[256];
	va_list ap;

	va_start(ap, f);
	vsnprintf(detail, sizeof(detail), f, ap);
	va_end(ap);
	vigil_action_note(&r->run, "await", detail, r->old);
	r->phase = P_AWAIT;
	r->await_until_ns = now_ns(r) + params(&r->run)->await_ms * 1000000ull;
	poll_new(r);
}

/* A process of the workload exec'd (the kernel's record): the replacement, if one is
 * awaited. */
static void workload_exec(struct restart_run *r, pid_t pid, uint64_t ts_ns)
{
	int fd;

	if (!may_replace(r, pid))
		return;
	if (r->phase == P_COMMAND && !r->seen) {
		r->seen = pid; /* taken once the command has exited 0 */
		r->seen_ns = ts_ns;
	} else if (r->phase == P_AWAIT && (fd = hold(r, pid)) >= 0) {
		replaced(r, pid, fd, ts_ns, false);
	}
}

/* --- stopping the old process --------------------------------------------------------------- */

static void spawn_new(struct restart_run *r);

/* The old process has ended (its pidfd, or its exit record). */
static void old_gone(struct restart_run *r)
{
	drop_fd(r, &r->old_fd);
	r->kill_at_ns = 0;
	if (r->phase == P_STOP)
		spawn_new(r);
	else if (r->phase == P_VERIFY && r->verify_over)
		verify_due(r);
}

static void old_readable(struct vigil_loop *loop, int fd, uint32_t events, void *arg)
{
	struct restart_run *r = arg;

	(void)loop;
	(void)fd;
	(void)events;
	old_gone(r);
	settle(r);
}

/* Stop the old process: the stop signal through its pidfd, if it is still the workload's. */
static void stop_old(struct restart_run *r)
{
	const struct vigil_restart_params *p = params(&r->run);
	char detail[160], sig[8];
	int err;

	if (vigil_pidfd_running(r->old_fd) != 1) { /* it ended by itself meanwhile */
		drop_fd(r, &r->old_fd);
		return;
	}
	if (!vigil_action_owns(&r->run, r->old)) {
		snprintf(detail, sizeof(detail),
			 "pid %d is no longer the workload's: not signalled", r->old);
		vigil_action_note(&r->run, "stop", detail, r->old);
		drop_fd(r, &r->old_fd);
		return;
	}
	if (p->mode == VIGIL_RESTART_SIGNAL)
		vigil_action_attempt(&r->run); /* exec counts its start */
	err = vigil_pidfd_signal(r->old_fd, p->signo);
	if (err == -ESRCH) { /* it ended meanwhile */
		drop_fd(r, &r->old_fd);
		return;
	}
	snprintf(detail, sizeof(detail), "%s to pid %d%s%s%s", vigil_signal_name(p->signo, sig),
		 r->old,
		 r->run.open_conns ? " (the quiet window expired with connections open)" : "",
		 err ? ": " : "", err ? strerror(-err) : "");
	vigil_action_note(&r->run, "stop", detail, r->old);
	if (err) {
		drop_fd(r, &r->old_fd);
		return;
	}
	r->kill_at_ns = p->signo == SIGKILL ? 0 : now_ns(r) + p->kill_after_ms * 1000000ull;
	/* Its end is read from the pidfd; failing that, from its exit record or at kill_at. */
	(void)vigil_loop_add_fd(r->run.loop, r->old_fd, EPOLLIN, old_readable, r);
}

/* kill_after is over: SIGKILL, if the process is still there and still the workload's. */
static void kill_due(struct restart_run *r)
{
	char detail[160];
	int running = vigil_pidfd_running(r->old_fd);

	r->kill_at_ns = 0;
	if (running != 1) {
		old_gone(r);
		return;
	}
	if (!vigil_action_owns(&r->run, r->old)) {
		snprintf(detail, sizeof(detail),
			 "pid %d is no longer the workload's: SIGKILL not sent", r->old);
		vigil_action_note(&r->run, "stop", detail, r->old);
		old_gone(r); /* not ours to wait for any more */
		return;
	}
	vigil_pidfd_signal(r->old_fd, SIGKILL);
	snprintf(detail, sizeof(detail), "SIGKILL to pid %d after %llu ms", r->old,
		 (unsigned long long)params(&r->run)->kill_after_ms);
	vigil_action_note(&r->run, "stop", detail, r->old);
}

/* --- vigil's child: exec's new process, or the command -------------------------------------- */

/* The exec status pipe: 1 once the exec succeeded (EOF), 0 while unknown, -errno of a failed
 * exec. */
static int read_status(struct restart_run *r)
{
	int st;

	if (r->status_fd < 0)
		return 1;
	st = vigil_exec_status(r->status_fd);
	if (st)
		drop_fd(r, &r->status_fd);
	return st;
}

/* Keep the end of the command's output: one line of text for the record. */
static void read_output(struct restart_run *r)
{
	if (r->out_fd >= 0 && vigil_out_tail_read(&r->out, r->out_fd))
		drop_fd(r, &r->out_fd);
}

/* ": what it said last", or "" when it said nothing. */
static const char *said(struct restart_run *r, char *buf, size_t len)
{
	read_output(r);
	return vigil_out_tail_said(&r->out, buf, len);
}

/* What a failed exec says. */
static void exec_failed(struct restart_run *r, int err)
{
	finish(r, false, true, r->child, "exec %s: %s", params(&r->run)->argv[0], strerror(-err));
}

/* The command ended with wstatus. */
static void command_exit(struct restart_run *r, int wstatus)
{
	char detail[256], out[VIGIL_OUT_TAIL + 3], how[40];
	uint64_t took = ms_since(r, r->child_ns);
	int fd;

	if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus)) {
		finish(r, false, true, r->child, "command pid %d %s after %llu ms%s", r->child,
		       vigil_wstatus_str(wstatus, how, sizeof(how)), (unsigned long long)took,
		       said(r, out, sizeof(out)));
		return;
	}
	snprintf(detail, sizeof(detail), "command pid %d exited 0 after %llu ms", r->child,
		 (unsigned long long)took);
	vigil_action_note(&r->run, "command", detail, r->child);
	drop_fd(r, &r->out_fd);
	/* A replacement that exec'd while the command ran (systemctl restart waits for it). */
	if (r->seen && (fd = hold(r, r->seen)) >= 0) {
		r->phase = P_AWAIT;
		r->await_until_ns = now_ns(r) + params(&r->run)->await_ms * 1000000ull;
		replaced(r, r->seen, fd, r->seen_ns, false);
		return;
	}
	await_begin(r, "awaiting the replacement of pid %d for up to %llu ms", r->old,
		    (unsigned long long)params(&r->run)->await_ms);
}

/* exec: vigil's child exec'd: it is the replacement (its pidfd goes with it). */
static void child_replaces(struct restart_run *r)
{
	int fd = r->child_fd;

	r->child_fd = -1;
	replaced(r, r->child, fd, now_ns(r), true);
}

/* vigil's child ended with wstatus (its pidfd, its reap, or its exit record: the first). */
static void child_exit(struct restart_run *r, int wstatus)
{
	int st;

	if (r->child_done)
		return;
	r->child_done = true;
	drop_fd(r, &r->child_fd);
	/* The exec's outcome first: an exit may be read before the pipe's EOF. */
	st = read_status(r);
	if (st < 0) {
		exec_failed(r, st);
		return;
	}
	if (r->phase == P_COMMAND) {
		command_exit(r, wstatus);
		return;
	}
	if (r->phase == P_EXEC)
		child_replaces(r);
	if (r->cand == r->child)
		cand_exit(r, wstatus);
}

/* The pidfd of vigil's child (or of the replacement it became) is readable: it has ended. */
static void child_readable(struct vigil_loop *loop, int fd, uint32_t events, void *arg)
{
	struct restart_run *r = arg;
	int ws;

	(void)events;
	/* Reaped here; or by the daemon first, whose CHILD_EXIT then says how it ended. */
	if (vigil_pidfd_exit(fd, false, &ws) == 1)
		child_exit(r, ws);
	else
		vigil_loop_del_fd(loop, fd);
	settle(r);
}

static void status_readable(struct vigil_loop *loop, int fd, uint32_t events, void *arg)
{
	struct restart_run *r = arg;
	int st = read_status(r);

	(void)loop;
	(void)fd;
	(void)events;
	if (st < 0)
		exec_failed(r, st);
	else if (st > 0 && r->phase == P_EXEC)
		child_replaces(r);
	settle(r);
}

static void output_readable(struct vigil_loop *loop, int fd, uint32_t events, void *arg)
{
	struct restart_run *r = arg;

	(void)loop;
	(void)fd;
	(void)events;
	read_output(r);
	settle(r);
}

static int prespawn(pid_t pid, void *arg)
{
	struct restart_run *r = arg;

	return vigil_action_watch(&r->run, pid);
}

/* Spawn argv with the rule's environment: exec's new process (watched before it may run, its
 * output to /dev/null), or the command (its output kept). Returns 0 (the child's fds watched on
 * the loop) or -errno. */
static int spawn_child(struct restart_run *r, bool command, char *why, size_t len)
{
	const struct vigil_restart_params *p = params(&r->run);
	struct vigil_spawn_opts o = {
	    .argv = p->argv,
	    .envp = p->envp,
	    .out_fd = -1,
	    .pre = command ? NULL : prespawn,
	    .arg = r,
	    .why = why,
	    .whylen = len,
	};
	struct vigil_spawned sp;
	int err = command ? vigil_spawn_piped(&o, &sp, &r->out_fd) : vigil_spawn(&o, &sp);

	if (err)
		return err;
	r->child = sp.pid;
	r->child_fd = sp.pidfd;
	r->status_fd = sp.status_fd;
	r->child_ns = now_ns(r);
	vigil_action_own_child(&r->run, sp.pid);
	/* Should the loop refuse them, the deadlines still read both. */
	(void)vigil_loop_add_fd(r->run.loop, r->status_fd, EPOLLIN, status_readable, r);
	(void)vigil_loop_add_fd(r->run.loop, r->child_fd, EPOLLIN, child_readable, r);
	return 0;
}

/* exec: start the new process, to be verified once its exec succeeded. */
static void spawn_new(struct restart_run *r)
{
	struct vigil_action_run *run = &r->run;
	char detail[512];
	int err;

	char why[256] = "";

	vigil_action_attempt(run);
	r->phase = P_EXEC;
	err = spawn_child(r, false, why, sizeof(why));
	if (err) {
		/* vigil's failure (fork, pidfd, watch, a child dead before it was let go), or
		 * its refusal of an executable no longer safe to run: not the action's. */
		finish(r, false, false, 0, "spawn: %s", why[0] ? why : strerror(-err));
		return;
	}
	vigil_action_verifying(run);
	snprintf(detail, sizeof(detail), "started pid %d; verifying for %llu ms", r->child,
		 (unsigned long long)run->workload->verify_ms);
	vigil_action_note(run, "started", detail, r->child);
	r->await_until_ns = now_ns(r) + params(run)->await_ms * 1000000ull;
}

/* command: run it, its output kept for the record. */
static void run_command(struct restart_run *r)
{
	const struct vigil_restart_params *p = params(&r->run);
	char detail[512], argv[384];
	char why[256] = "";
	int err;

	vigil_action_attempt(&r->run);
	r->phase = P_COMMAND;
	err = spawn_child(r, true, why, sizeof(why));
	if (err) {
		finish(r, false, false, 0, "spawn: %s", why[0] ? why : strerror(-err));
		return;
	}
	if (r->out_fd >= 0 &&
	    vigil_loop_add_fd(r->run.loop, r->out_fd, EPOLLIN, output_readable, r)) {
		close(r->out_fd);
		r->out_fd = -1;
	}
	r->cmd_until_ns = r->child_ns + p->timeout_ms * 1000000ull;
	vigil_argv_join(p->argv, argv, sizeof(argv));
	snprintf(detail, sizeof(detail), "pid %d: %s (may take %llu ms)", r->child, argv,
		 (unsigned long long)p->timeout_ms);
	vigil_action_note(&r->run, "command", detail, r->child);
}

/* --- the interface -------------------------------------------------------------------------- */

/* The incident's process, if it still runs and is still the workload's (a reused pid is never
 * touched): taken with a pidfd now, when it is chosen. Returns it, or 0. */
static pid_t restart_interrupts(struct vigil_action_run *run)
{
	struct restart_run *r = (struct restart_run *)run;
	pid_t tgid = (pid_t)run->inc->tgid;

	r->old = tgid;
	r->old_fd = r->child_fd = r->status_fd = r->out_fd = r->cand_fd = -1;
	if (exit_class(run->inc->cls) || tgid <= 0)
		return 0;
	r->old_fd = hold(r, tgid);
	return r->old_fd >= 0 ? tgid : 0;
}

/* The quiet window is over (or there was none). */
static void restart_start(struct vigil_action_run *run)
{
	struct restart_run *r = (struct restart_run *)run;
	const struct vigil_restart_params *p = params(run);

	if (run->workload->supervisor_external && exit_class(run->inc->cls)) {
		/* Its supervisor starts the replacement: vigil only awaits and times it. */
		await_begin(r,
			    "pid %d ended; its supervisor starts the replacement (supervisor: "
			    "external): awaiting it for up to %llu ms",
			    r->old, (unsigned long long)p->await_ms);
		settle(r);
		return;
	}
	switch (p->mode) {
	case VIGIL_RESTART_EXEC:
		r->phase = P_STOP;
		if (r->old_fd >= 0)
			stop_old(r);
		if (r->old_fd < 0)
			spawn_new(r);
		break;
	case VIGIL_RESTART_SIGNAL:
		if (r->old_fd >= 0)
			stop_old(r);
		await_begin(r, "awaiting the supervisor's replacement of pid %d for up to %llu ms",
			    r->old, (unsigned long long)p->await_ms);
		break;
	case VIGIL_RESTART_COMMAND:
		drop_fd(r, &r->old_fd); /* the command stops it */
		run_command(r);
		break;
	}
	settle(r);
}

static void restart_progress(struct vigil_action_run *run, const struct vigil_action_event *ev)
{
	struct restart_run *r = (struct restart_run *)run;
	uint64_t now = now_ns(r);

	switch (ev->type) {
	case VIGIL_ACTION_CHILD_EXIT:
		if (ev->pid == r->child)
			child_exit(r, ev->wstatus);
		break;
	case VIGIL_ACTION_WORKLOAD_EXEC:
		workload_exec(r, ev->pid, ev->ts_ns);
		break;
	case VIGIL_ACTION_WORKLOAD_EXIT:
		if (ev->pid == r->old && r->old_fd >= 0)
			old_gone(r);
		else if (ev->pid == r->child && r->child)
			child_exit(r, ev->wstatus);
		else if (ev->pid == r->cand && r->phase == P_VERIFY)
			cand_exit(r, ev->wstatus);
		else if (ev->pid > 0 && ev->pid != r->old)
			remember_gone(r, ev->pid);
		break;
	case VIGIL_ACTION_TIMER:
		if (r->old_fd >= 0 && r->kill_at_ns && now >= r->kill_at_ns)
			kill_due(r);
		if (r->over)
			break;
		if (r->phase == P_COMMAND && now >= r->cmd_until_ns) {
			char out[VIGIL_OUT_TAIL + 3];

			if (r->child_fd >= 0)
				vigil_pidfd_signal(r->child_fd, SIGKILL);
			finish(r, false, true, r->child,
			       "command pid %d still running after %llu ms: killed%s", r->child,
			       (unsigned long long)params(run)->timeout_ms,
			       said(r, out, sizeof(out)));
		} else if (r->phase == P_EXEC && now >= r->await_until_ns) {
			int st = read_status(r);

			if (st > 0)
				child_replaces(r);
			else if (st < 0)
				exec_failed(r, st);
			else
				finish(r, false, true, r->child,
				       "pid %d has not exec'd %s after %llu ms", r->child,
				       params(run)->argv[0],
				       (unsigned long long)params(run)->await_ms);
		} else if (r->phase == P_AWAIT && now >= r->await_until_ns) {
			poll_new(r);
			if (r->phase == P_AWAIT)
				finish(r, false, true, 0,
				       "no new process of the workload replaced pid %d within %llu "
				       "ms",
				       r->old, (unsigned long long)params(run)->await_ms);
		} else if (r->phase == P_AWAIT && now >= r->poll_at_ns) {
			poll_new(r);
		} else if (r->phase == P_VERIFY && !r->verify_over && now >= r->verify_at_ns) {
			verify_due(r);
		}
		break;
	case VIGIL_ACTION_WORK_DONE:
		break; /* restart runs no blocking work */
	}
	settle(r);
}

/* Returns whether the new process runs (vigil stops during its verify window). */
static bool restart_cancel(struct vigil_action_run *run)
{
	struct restart_run *r = (struct restart_run *)run;
	int fd = r->cand_fd >= 0 ? r->cand_fd : r->phase == P_EXEC ? r->child_fd : -1;
	bool ok = fd >= 0 && vigil_pidfd_running(fd) == 1;

	release(r);
	return ok;
}

/* Escalated or stopped in the quiet window: the victim's pidfd goes, nothing is signalled. */
static void restart_abandon(struct vigil_action_run *run)
{
	release((struct restart_run *)run);
}

/* exec and command run their argv[0]; every mode may stop the workload's process (exec: the
 * old one, if it still runs) with its stop signal. */
static int restart_touches(const struct vigil_action *a, vigil_touch_fn fn, void *arg)
{
	const struct vigil_restart_params *p = a->params;
	char sig[8];
	int ret = 0;

	if (p->mode != VIGIL_RESTART_SIGNAL)
		ret = fn(VIGIL_TOUCH_EXEC, p->mode == VIGIL_RESTART_EXEC ? "exec[0]" : "command[0]",
			 p->argv[0], arg);
	if (!ret && p->mode != VIGIL_RESTART_COMMAND)
		ret = fn(VIGIL_TOUCH_SIGNAL, "signal", vigil_signal_name(p->signo, sig), arg);
	return ret;
}

const struct vigil_action_ops vigil_restart_ops = {
    .kind = "restart",
    .validate = restart_validate,
    .describe = restart_describe,
    .touches = restart_touches,
    .free_params = restart_free_params,
    .run_size = sizeof(struct restart_run),
    .interrupts = restart_interrupts,
    .start = restart_start,
    .progress = restart_progress,
    .cancel = restart_cancel,
    .abandon = restart_abandon,
};
