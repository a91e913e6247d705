/* SPDX-License-Identifier: Apache-2.0 */
/*
 * restart: the action kind `restart: { exec: [argv...] }`. Stops the incident's process if it
 * still runs (SIGTERM, SIGKILL after VIGIL_STOP_GRACE_MS), starts argv with fork + setsid +
 * execve (never through a shell), watched before it may run, and verifies that the new
 * process is still alive after the workload's `verify`.
 */
#ifndef VIGIL_HEAL_RESTART_H
#define VIGIL_HEAL_RESTART_H

#include "heal/action.h"

#define VIGIL_STOP_GRACE_MS 10000 /* SIGTERM, then SIGKILL this long after */
#define VIGIL_RESTART_MAX_ARGV 32

/* Its params (struct vigil_action.params). */
struct vigil_restart_params {
	char **argv; /* NULL-terminated, argv[0] an absolute path */
	unsigned int argc;
};

extern const struct vigil_action_ops vigil_restart_ops;

#endif /* VIGIL_HEAL_RESTART_H */
