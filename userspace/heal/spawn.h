/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spawn: start a command for an action (restart's exec) with fork + setsid + execve — never
 * through a shell — watched before it may run.
 */
#ifndef VIGIL_HEAL_SPAWN_H
#define VIGIL_HEAL_SPAWN_H

#include <sys/types.h>

/* Called in the parent after fork and before the child may exec, so that the new process is
 * watched from its first instruction. A non-zero return aborts the spawn. */
typedef int (*vigil_prespawn_fn)(pid_t pid, void *arg);

/*
 * Start argv (argv[0] an absolute path) in a new session, stdin from /dev/null, signals
 * unblocked, no fd of ours inherited. Returns 0 with *pid and *status_fd: a close-on-exec
 * pipe that reads EOF once the exec succeeded, or an int errno if it failed (the child then
 * exits 127). The caller closes *status_fd. Returns -errno if fork/pipe failed.
 */
int vigil_spawn(char *const argv[], vigil_prespawn_fn pre, void *arg, pid_t *pid, int *status_fd);

/* Join argv into buf for a record ("/usr/bin/svc --port 8080"), truncating. */
void vigil_argv_join(char *const argv[], char *buf, size_t len);

#endif /* VIGIL_HEAL_SPAWN_H */
