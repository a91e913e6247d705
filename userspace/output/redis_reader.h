/* SPDX-License-Identifier: Apache-2.0 */
/*
 * redis_reader: what vigil reads back from Redis, each on a connection of its own (never the
 * sink's, never on the event loop): the healer's state at start, when the state file is
 * missing (a new pod of the DaemonSet on the same node).
 */
#ifndef VIGIL_REDIS_READER_H
#define VIGIL_REDIS_READER_H

#include <stddef.h>

#include "output/redis.h"

/*
 * GET P:N:state once, synchronously (o->timeout_ms for the connect and the reply): for the
 * daemon's start, before its loop runs. Returns 0 with *text (malloc'd, NUL-terminated; the
 * caller frees) and *len — *text NULL when Redis has no state for this node — or -EIO (Redis
 * down, or refusing: msg says what) or -ENOMEM.
 */
int vigil_redis_get_state(const struct vigil_redis_opts *o, char **text, size_t *len, char *msg,
			  size_t msglen);

#endif /* VIGIL_REDIS_READER_H */
