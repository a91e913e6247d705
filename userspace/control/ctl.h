/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl: the control socket, through which `vigil status` and `vigil latency` read a running
 * daemon. One request per connection: the client sends one line "COMMAND [ARG]\n"; the daemon
 * answers with one JSON object and closes. The server side never blocks the event loop.
 */
#ifndef VIGIL_CTL_H
#define VIGIL_CTL_H

#include <stdio.h>

#include "core/json.h"
#include "core/loop.h"

#define VIGIL_CTL_PATH "/run/vigil/vigil.sock"

/*
 * Answer one request: fill out with one JSON object (vigil_json_begin ... vigil_json_end).
 * Returns 0, -ENOENT for an unknown command or argument (the server then answers
 * {"error": "..."}), or another -errno.
 */
typedef int (*vigil_ctl_fn)(const char *cmd, const char *arg, struct vigil_json *out, void *ctx);

struct vigil_ctl;

/* Listen on path (its directory is created, a stale socket replaced, mode 0660).
 * Returns 0 and *out, or -errno. */
int vigil_ctl_listen(struct vigil_loop *loop, const char *path, vigil_ctl_fn fn, void *ctx,
		     struct vigil_ctl **out);
/* Stop listening, drop open connections, unlink the socket; accepts NULL. */
void vigil_ctl_close(struct vigil_ctl *c);

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
