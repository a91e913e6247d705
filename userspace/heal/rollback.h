/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rollback: the action kind `rollback` — a deploy tool's command that puts the workload's
 * previous version back, run only with a person's approval.
 *
 *   rollback: { command: [argv...], env: [NAME=value...], timeout: 5m }
 *
 * The rule must be `level: 3` (refused at load otherwise): it runs once someone approved the
 * incident (`vigil approve ID`). argv[0] is absolute, listed in the workload's
 * policy.allowed_exec and trusted; it runs without a shell, with exactly `env` as its
 * environment (heal/spawn.h, as restart's command mode). Success is the command exiting 0
 * within `timeout` (default 5m): the rollback itself — replacing the processes, waiting for
 * them to be ready — is the deploy tool's job, and vigil does not await a replacement after it
 * (a tool that should wait says so itself: `kubectl rollout undo ... && kubectl rollout status`
 * is a script's work, run as the command). The audit has the command line, its pid, and on a
 * failure how it ended and the end of its output.
 */
#ifndef VIGIL_HEAL_ROLLBACK_H
#define VIGIL_HEAL_ROLLBACK_H

#include "heal/action.h"

#define VIGIL_ROLLBACK_TIMEOUT_MS 300000 /* default: a deploy tool may take minutes */

/* Its params (struct vigil_action.params). */
struct vigil_rollback_params {
	char **argv; /* NULL-terminated, argv[0] an absolute path */
	unsigned int argc;
	char **envp; /* NULL-terminated "NAME=value" (${VAR} expanded) */
	unsigned int envc;
	uint64_t timeout_ms; /* how long it may run */
};

extern const struct vigil_action_ops vigil_rollback_ops;

#endif /* VIGIL_HEAL_ROLLBACK_H */
