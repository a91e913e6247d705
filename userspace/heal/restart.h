/* SPDX-License-Identifier: Apache-2.0 */
/*
 * restart: the action kind `restart`, in one of three modes, each verified the same way — the
 * workload runs again: a process of it (in the kernel's watched set, whoever started it) that
 * is not the old one, up for the workload's `verify`.
 *
 *   exec: [argv...]              vigil stops the incident's process if it still runs, and
 *                                starts argv itself (fork + setsid + execve, watched before it
 *                                may run): the replacement is that child, once it exec'd
 *   signal: TERM, kill_after: T  vigil stops the incident's process (SIGKILL after T if it is
 *                                still there) and an external supervisor starts the
 *                                replacement, which vigil awaits
 *   command: [argv...]           vigil runs argv (`systemctl restart X`, `sv restart DIR`,
 *                                `kubectl delete pod ...`), which must exit 0 within
 *                                `timeout`; then the replacement is awaited
 *
 * `await` (every mode) bounds the wait for the replacement. For a workload with
 * `supervisor: external`, the replacement of a process that ended (an exit-class incident) is
 * only awaited and timed: its supervisor starts it, vigil never starts it a second time.
 * Children (exec, command) get exactly the `env` list as their environment.
 */
#ifndef VIGIL_HEAL_RESTART_H
#define VIGIL_HEAL_RESTART_H

#include "heal/action.h"
#include "heal/command.h"

/* Defaults: kill_after (SIGTERM, then SIGKILL this long after), await, a command's timeout. */
#define VIGIL_STOP_GRACE_MS 10000
#define VIGIL_AWAIT_MS 60000
#define VIGIL_COMMAND_TIMEOUT_MS 60000
#define VIGIL_RESTART_MAX_ARGV VIGIL_MAX_ARGV
#define VIGIL_RESTART_MAX_ENV VIGIL_MAX_ENV

enum vigil_restart_mode {
	VIGIL_RESTART_EXEC = 0,
	VIGIL_RESTART_SIGNAL,
	VIGIL_RESTART_COMMAND,
};

/* Its params (struct vigil_action.params). */
struct vigil_restart_params {
	enum vigil_restart_mode mode;
	char **argv; /* exec, command: NULL-terminated, argv[0] an absolute path */
	unsigned int argc;
	char **envp; /* exec, command: NULL-terminated "NAME=value" (${VAR} expanded) */
	unsigned int envc;
	int signo;		/* the stop signal: signal mode's, SIGTERM for exec */
	uint64_t kill_after_ms; /* SIGKILL this long after it; 0: never (signo is SIGKILL) */
	uint64_t timeout_ms;	/* command: how long it may run */
	uint64_t await_ms;	/* how long the replacement may take */
};

extern const struct vigil_action_ops vigil_restart_ops;

#endif /* VIGIL_HEAL_RESTART_H */
