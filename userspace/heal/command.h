/* SPDX-License-Identifier: Apache-2.0 */
/*
 * command: what the kinds that run a command to its end share (restart's command mode,
 * rollback): the command started (spawn.h) with its stdout and stderr on a pipe of ours, the
 * exec status pipe read, the end of its output kept as one line of text for the record, and how
 * it ended said in words. The run itself (its fds on the loop, its timeout) stays the kind's.
 */
#ifndef VIGIL_HEAL_COMMAND_H
#define VIGIL_HEAL_COMMAND_H

#include <stddef.h>

#include "heal/spawn.h"

#define VIGIL_OUT_TAIL 200 /* bytes of a command's output kept for the record */
#define VIGIL_MAX_ARGV 32  /* entries of an argv, at most */
#define VIGIL_MAX_ENV 64   /* entries of a child's environment, at most */

/* The end of a command's output. Zeroed: empty. */
struct vigil_out_tail {
	char buf[VIGIL_OUT_TAIL + 1];
	size_t len;
};

/*
 * vigil_spawn(o) with the command's output on a new pipe (o->out_fd is set): its read end,
 * non-blocking and close-on-exec, into *out_fd, or -1 when no pipe could be made (the command
 * then runs without its output kept). Returns what vigil_spawn returns; on an error *out_fd is
 * -1 and nothing is left open.
 */
int vigil_spawn_piped(struct vigil_spawn_opts *o, struct vigil_spawned *sp, int *out_fd);

/*
 * Read what fd holds now into t: newlines and tabs as spaces, other control bytes dropped, a
 * run of spaces as one, the last VIGIL_OUT_TAIL bytes kept. Returns 0 while the command may say
 * more, 1 at EOF or on an error (the caller then closes fd).
 */
int vigil_out_tail_read(struct vigil_out_tail *t, int fd);

/* ": what it said last", or "" when it said nothing, into buf. Returns buf. */
const char *vigil_out_tail_said(struct vigil_out_tail *t, char *buf, size_t len);

/*
 * The exec status pipe of a spawn (spawn.h): 1 once the exec succeeded (EOF), 0 while it is not
 * known yet, the -errno of a failed exec. Any return but 0 is final: the caller closes fd.
 */
int vigil_exec_status(int fd);

/*
 * At load: an argv an action may run — 1..VIGIL_MAX_ARGV entries, argv[0] an absolute path.
 * Returns 0, or -EINVAL with *bad the key to name (key, or key0 for argv[0]) and why (see
 * action.h's validate).
 */
int vigil_argv_check(char *const *argv, unsigned int argc, const char *key, const char *key0,
		     const char **bad, char *why, size_t len);

struct vigil_loop;

/* Take *fd off the loop and close it; *fd becomes -1. Nothing when it is -1 already. */
void vigil_drop_fd(struct vigil_loop *loop, int *fd);

/* Free a NULL-terminated vector of strings and the strings (NULL accepted). */
void vigil_strv_free(char **v);

/* "exited with status N" or "killed by signal N", of a wait status, into buf. Returns buf. */
const char *vigil_wstatus_str(int wstatus, char *buf, size_t len);

#endif /* VIGIL_HEAL_COMMAND_H */
