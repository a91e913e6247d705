/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl: the control socket, through which `vigil status` and `vigil latency` read a running
 * daemon. One request per connection: the client sends one line "COMMAND [ARG]\n"; the daemon
 * answers with one JSON object and closes. The server side never blocks the event loop.
 */
#ifndef VIGIL_CTL_H
#define VIGIL_CTL_H

#include <stdio.h>
#include <sys/types.h>

#include "core/json.h"
#include "core/loop.h"

#define VIGIL_CTL_PATH "/run/vigil/vigil.sock"

/* Who sent a request: SO_PEERCRED of its connection (-1s when the kernel does not say). */
struct vigil_ctl_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
};

/*
 * Answer one request: fill out with one JSON object (vigil_json_begin ... vigil_json_end).
 * arg is NULL when the request has none. Returns 0, -ENOENT for an unknown argument (the
 * server then answers {"error": "..."}), or another -errno.
 *
 * A query only reads what it answers from (its context is const); a command may change the
 * daemon's state, and is told who asked.
 */
typedef int (*vigil_ctl_query_fn)(const char *arg, struct vigil_json *out, const void *ctx);
typedef int (*vigil_ctl_command_fn)(const char *arg, const struct vigil_ctl_peer *peer,
				    struct vigil_json *out, void *ctx);

struct vigil_ctl;

/* Listen on path (its directory is created, a stale socket replaced, mode 0660).
 * Returns 0 and *out, or -errno. */
int vigil_ctl_listen(struct vigil_loop *loop, const char *path, struct vigil_ctl **out);
/* Answer requests named cmd with fn, each by the module that owns what it answers from.
 * Returns 0, -EEXIST when cmd already has a handler, -E2BIG past VIGIL_CTL_MAX_HANDLERS. */
#define VIGIL_CTL_MAX_HANDLERS 16
int vigil_ctl_query(struct vigil_ctl *c, const char *cmd, vigil_ctl_query_fn fn, const void *ctx);
int vigil_ctl_command(struct vigil_ctl *c, const char *cmd, vigil_ctl_command_fn fn, void *ctx);
/* Stop listening, drop open connections, unlink the socket; accepts NULL. */
void vigil_ctl_close(struct vigil_ctl *c);

/*
 * The server's reading of one request line: the len bytes before its "\n" at line (which holds
 * len + 1; line[len] is made '\0'), split in place into "COMMAND [ARG]" — a "\r" before the
 * "\n" dropped, the spaces between the two skipped, an ARG of spaces alone none. Returns 0
 * with *cmd (not empty, without a space) and *arg (NULL when there is none), both pointing into
 * line; or -EBADMSG with *why saying what is wrong (a NUL byte, nothing before the first
 * space). Exposed for the fuzzer.
 */
int vigil_ctl_parse_request(char *line, size_t len, char **cmd, char **arg, const char **why);

/* Client: send "cmd arg\n" to the daemon at path and read its whole answer into *answer
 * (malloc'd, NUL-terminated). Returns 0, -ENOENT or -ECONNREFUSED when no daemon listens
 * there, -ETIMEDOUT, or another -errno. */
int vigil_ctl_request(const char *path, const char *cmd, const char *arg, char **answer,
		      int timeout_ms);

/* Render a "status" / "latency" answer for a person. Returns 0, or -EINVAL for JSON that
 * is not such an answer (an {"error": ...} answer prints the error and returns -ENOENT). */
int vigil_ctl_print_status(const char *json, FILE *out);
int vigil_ctl_print_latency(const char *json, FILE *out);
/* Render an "incidents" answer as a table (ID, STATE, COUNT, AGE, TITLE), and an "incident ID"
 * answer (an incident record, from the daemon or a journal) as a block with its causal chain.
 * Returns 0, -EINVAL for JSON that is not such an answer, -ENOENT for an error answer (after
 * printing it), or -ENOMEM. */
int vigil_ctl_print_incidents(const char *json, FILE *out);
int vigil_ctl_print_incident(const char *json, FILE *out);

#endif /* VIGIL_CTL_H */
