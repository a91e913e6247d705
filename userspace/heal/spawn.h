/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spawn: start a command for an action (restart's exec or command) with fork + setsid +
 * execve — never through a shell — with the environment it is given and nothing else of
 * vigil's: no variable, no descriptor, no signal disposition.
 */
#ifndef VIGIL_HEAL_SPAWN_H
#define VIGIL_HEAL_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

/* Called in the parent after fork and before the child may exec, so that the new process is
 * watched from its first instruction. A non-zero return aborts the spawn. */
typedef int (*vigil_prespawn_fn)(pid_t pid, void *arg);

struct vigil_spawn_opts {
	char *const *argv;     /* argv[0] an absolute path */
	char *const *envp;     /* its whole environment, NULL-terminated; NULL: an empty one */
	int out_fd;	       /* its stdout and stderr; -1: /dev/null */
	vigil_prespawn_fn pre; /* may be NULL */
	void *arg;
	char *why; /* may be NULL: why argv[0] was refused (-EPERM) */
	size_t whylen;
};

/* What a spawn gives the caller, who closes the fds. */
struct vigil_spawned {
	pid_t pid;
	int status_fd; /* non-blocking, close-on-exec: EOF once the exec succeeded, or an int
			* errno if it failed (the child then exits 127) */
	int pidfd;     /* the child, held from before it could exit */
};

/*
 * Start o->argv in a new session: stdin from /dev/null, stdout and stderr to o->out_fd (or
 * /dev/null), signals unblocked and at their defaults, no other fd of ours, the environment
 * o->envp. argv[0] is looked at again first (vigil_path_trusted: the config's check at load
 * may be stale): -EPERM (or its -errno) with o->why when it may no longer be run. Returns 0
 * with *out; -EPIPE if the child died before it was let go (it is reaped by whoever reaps our
 * children); -errno if fork, pipe, pidfd_open or o->pre failed (then no child is left
 * running). SIGPIPE is never raised in the caller.
 */
int vigil_spawn(const struct vigil_spawn_opts *o, struct vigil_spawned *out);

/* Join argv into buf for a record ("/usr/bin/svc --port 8080"), truncating. */
void vigil_argv_join(char *const argv[], char *buf, size_t len);

#endif /* VIGIL_HEAL_SPAWN_H */
