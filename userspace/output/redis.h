/* SPDX-License-Identifier: Apache-2.0 */
/*
 * redis: the Redis sink. Every record the sinks write (JSON, stamped with its record id) is
 * also handed here; a thread of its own writes it to Redis, pipelined, so a slow or dead Redis
 * never delays the event loop.
 *
 * Keys, node-scoped ({p} is redis.prefix, {n} the node):
 *   {p}:{n}:events          stream: event and health records (MAXLEN ~ redis.maxlen)
 *   {p}:{n}:incidents       stream: every incident record (each lifecycle change)
 *   {p}:{n}:audit           stream: every action record (intent, outcome, ...)
 *   {p}:{n}:incident:{id}   hash: the incident's latest record
 *   {p}:{n}:breaker:{wl}    hash: state, failures, opened_at
 *   {p}:{n}:knowledge:{sig} hash: {action}.attempts, .successes, .success_rate, .last_applied
 * Stream entries are written under the record's id ("rid"), and fields are the journal's: a
 * string is written as its text, a number or boolean as its JSON text, a list or object as JSON.
 *
 * Nothing is lost to an outage: while Redis cannot be reached or refuses writes, records go
 * to the spool (spool.h) and are replayed in order when it is back; an entry that is already
 * there (Redis answers that its id is not above the stream's last) is counted as a duplicate
 * and not written again. The queue between the loop and the thread is bounded: a record that
 * finds it full is counted (queue_drops), never waited for.
 */
#ifndef VIGIL_REDIS_H
#define VIGIL_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vigil_redis;

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

enum vigil_redis_state {
	VIGIL_REDIS_CONNECTING, /* never connected yet */
	VIGIL_REDIS_UP,		/* connected, writing */
	VIGIL_REDIS_DOWN,	/* unreachable or refusing writes: spooling, retrying */
};

struct vigil_redis_stats {
	enum vigil_redis_state state;
	uint64_t queued; /* records in the queue now, or being written from it */
	uint64_t queue_max;
	uint64_t written;	   /* records Redis acknowledged */
	uint64_t duplicates;	   /* replayed records Redis already held */
	uint64_t rejected;	   /* records Redis refused for good (the error is in last_error) */
	uint64_t reordered;	   /* replayed records that were missing behind newer ones: added
				    * under an id Redis chose (their rid field still says theirs) */
	uint64_t queue_drops;	   /* records that found the queue full */
	uint64_t spool_drops;	   /* records the spool refused (its cap) */
	uint64_t spooled;	   /* records written to the spool since start */
	uint64_t spool_pending;	   /* records in the spool now */
	uint64_t spool_bytes;	   /* its size */
	uint64_t spool_torn_bytes; /* cut off a torn spool at start */
	uint64_t spool_torn_frames; /* frames cut off or found unreadable: their records are lost */
	uint64_t reconnects;	   /* connections made after the first */
	uint64_t retry_in_ms;	   /* DOWN: the next connection attempt, from now */
	char last_error[160];	   /* "" if none */
};

/* Parse opts, open (and recover) the spool, start the thread. Redis need not be up.
 * Returns 0 and *out, or -errno with err saying what was wrong (bad URL, spool). */
int vigil_redis_open(const struct vigil_redis_opts *o, struct vigil_redis **out, char *err,
		     size_t errlen);
/* Stop the thread: what is queued is written to Redis if it answers within the timeout, else
 * to the spool. Accepts NULL. */
void vigil_redis_close(struct vigil_redis *r);
/* Queue a copy of one JSON record (as the sinks wrote it, with "type" and "rid"). Never
 * blocks on Redis. Returns 0, or -ENOBUFS when the queue is full (counted in queue_drops). */
int vigil_redis_push(struct vigil_redis *r, const char *json, size_t len);
/* Wait until the queue is empty and nothing is in flight, at most timeout_ms. Returns 0 or
 * -ETIMEDOUT. For tests and benchmarks. */
int vigil_redis_flush(struct vigil_redis *r, unsigned int timeout_ms);
void vigil_redis_stats(struct vigil_redis *r, struct vigil_redis_stats *st);
const char *vigil_redis_state_name(enum vigil_redis_state s);
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

struct vigil_redis_url {
	bool is_unix;
	char host[256];		   /* host name or address, or the socket path */
	int port;		   /* 6379 */
	int db;			   /* 0 */
	char user[128], pass[256]; /* "" if not in the URL; %XX decoded */
};

/* url with the password in it, if any, replaced by "***", for logs and status. Returns buf. */
const char *vigil_redis_url_safe(const char *url, char *buf, size_t len);

/* Parse a redis:// or unix:// URL. Returns 0, or -EINVAL with err naming what was wrong. */
int vigil_redis_parse_url(const char *url, struct vigil_redis_url *u, char *err, size_t errlen);

#endif /* VIGIL_REDIS_H */
