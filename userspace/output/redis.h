/* SPDX-License-Identifier: Apache-2.0 */
/*
 * redis: the Redis backend of the queued sink (sink.h). Every record the journal takes (JSON,
 * stamped with its record id) is also handed to the sink; its thread writes it to Redis,
 * pipelined, so a slow or dead Redis never delays the event loop. The queue, the spool, replay
 * and the counts are the sink's (sink.c); this backend connects, writes, and says of each
 * record whether Redis held it already.
 *
 * Keys, node-scoped ({p} is redis.prefix, {n} the node):
 *   {p}:{n}:events          stream: event and health records (MAXLEN ~ redis.maxlen)
 *   {p}:{n}:incidents       stream: every incident record (each lifecycle change)
 *   {p}:{n}:audit           stream: every action record (intent, outcome, ...)
 *   {p}:{n}:incident:{id}   hash: the incident's latest record
 *   {p}:{n}:breaker:{wl}    hash: state, failures, opened_at
 *   {p}:{n}:knowledge:{sig} hash: {action}.attempts, .successes, .success_rate, .last_applied
 *   {p}:{n}:state           string: the healer's durable state (heal/state.h), as JSON
 * Stream entries are written under the record's id ("rid"), and fields are the journal's: a
 * string is written as its text, a number or boolean as its JSON text, a list or object as JSON.
 *
 * Nothing is lost to an outage: while Redis cannot be reached or refuses writes, the sink
 * spools records and replays them in order when it is back; an entry that is already there
 * (Redis answers that its id is not above the stream's last, and XRANGE finds it) is a
 * duplicate and not written again.
 */
#ifndef VIGIL_REDIS_H
#define VIGIL_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/redis_conn.h"
#include "output/sink.h"

/*
 * Every command vigil sends, as an ACL rule for its user (with ~PREFIX:* for its keys): the
 * sink's (streams, hashes, the state, the fleet's increment script and the commands the script
 * runs), the reader's (the state at start, the fleet's knowledge) and the watch's (the approvals
 * stream, the busy keys: see redis_watch.h). AUTH needs no grant.
 */
#define VIGIL_REDIS_ACL                                                                            \
	"+xadd +xrange +xlen +hset +expire +select +set +eval +get +hincrby +sadd +smembers "      \
	"+hgetall +xread +exists"

struct vigil_redis_opts {
	const char *url;      /* redis://[user[:password]@]host[:port][/db] or unix:///path */
	const char *username; /* NULL: from the URL */
	const char *password; /* NULL: from the URL */
	const char *prefix;   /* "vigil" */
	const char *node;
	const char *spool; /* spool file */
	uint64_t spool_max_bytes;
	bool spool_sync;	 /* fdatasync each spool write (the daemon: true) */
	uint64_t maxlen;	 /* MAXLEN ~ of each stream */
	unsigned int queue_max;	 /* records; 0: 65536 */
	unsigned int timeout_ms; /* connect and reply timeout; 0: 2000 */
};

/* Parse opts and open a sink (sink.h) writing to Redis: its spool opened (and recovered), its
 * thread started. Redis need not be up. Returns 0 and *out (vigil_sink_close it), or -errno
 * with err saying what was wrong (bad URL, spool). */
int vigil_redis_sink_open(const struct vigil_redis_opts *o, struct vigil_sink **out, char *err,
			  size_t errlen);
/* A connection of its own, authenticated and on its database (timeout_ms for the connect and
 * each reply), for a reader that is not the sink (redis_reader.h). Returns it (redisFree it),
 * or NULL with why saying what failed. */
struct redisContext *vigil_redis_connect(const struct vigil_redis_opts *o, char *why, size_t len);

/* Connect, authenticate and PING once, synchronously (for `vigil doctor`). Returns 0 with msg
 * "URL answers", or -errno with msg saying what failed. */
int vigil_redis_ping(const struct vigil_redis_opts *o, char *msg, size_t len);

/*
 * Split a JSON record into field/value pairs as written to Redis (top-level keys, strings
 * unescaped, other values as JSON text). Pointers go into buf, which must hold len + 1 bytes;
 * at most max pairs. Returns the number of pairs, or -EINVAL if json is not a flat object of
 * that shape, -E2BIG if it has more than max keys. Exposed for tests.
 */
int vigil_redis_fields(const char *json, size_t len, char *buf, const char **keys, size_t *klens,
		       const char **vals, size_t *vlens, unsigned int max);

#endif /* VIGIL_REDIS_H */
