/* SPDX-License-Identifier: Apache-2.0 */
/*
 * redis_reader: what vigil reads back from Redis, each on a connection of its own (never the
 * sink's, never on the event loop): the healer's state at start, when the state file is
 * missing (a new pod of the DaemonSet on the same node); and the fleet's knowledge, into the
 * cache the healer reads (heal/fleet.h), by a thread of its own: all of it at start and every
 * period (30 s), retried every 5 s while Redis does not answer, and one signature again
 * 2 s after this node learned something about it (its sink has written the increment by
 * then).
 *
 * The fleet's knowledge in Redis: the set P:knowledge:index names the signatures; the hash
 * P:knowledge:SIGNATURE holds signature, class, workload and per action ACTION.attempts and
 * ACTION.successes (redis_cmd.h's fleet increment writes them).
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

struct vigil_fleet;
struct vigil_fleet_reader;

#define VIGIL_FLEET_PERIOD_MS 30000
#define VIGIL_FLEET_RETRY_MS 5000
#define VIGIL_FLEET_REFRESH_DELAY_MS 2000

/*
 * Start the thread that fills f from Redis (o as for the sink; its timeout for the connect and
 * each reply), loading at once; period_ms 0: VIGIL_FLEET_PERIOD_MS. f must outlive the reader.
 * Returns 0 and *out, or -errno with err saying why (a bad URL, no thread).
 */
int vigil_fleet_reader_open(const struct vigil_redis_opts *o, struct vigil_fleet *f,
			    unsigned int period_ms, struct vigil_fleet_reader **out, char *err,
			    size_t errlen);
/* Stop the thread (at most one reply's timeout) and free; accepts NULL. */
void vigil_fleet_reader_close(struct vigil_fleet_reader *r);

/*
 * One load of the fleet's knowledge on connection c (a redisContext), synchronously: the
 * index, then every signature's hash, pipelined. Returns 0 with *e (malloc'd) and *n, or
 * -EIO with why. What is not a signature vigil writes, or not an action's count, is skipped;
 * a signature the index lists twice (a set cannot, a broken server can) is read once.
 * Exposed for tests.
 */
struct redisContext;
struct vigil_fleet_entry;
int vigil_fleet_load(struct redisContext *c, const char *prefix, struct vigil_fleet_entry **e,
		     size_t *n, char *why, size_t len);

#endif /* VIGIL_REDIS_READER_H */
