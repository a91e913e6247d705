/* SPDX-License-Identifier: Apache-2.0 */
/*
 * redis_int: the Redis sink's insides, shared by its two halves: redis.c (the queue, the
 * spool and the thread's loop) and redis_send.c (the connection, and writing records on it).
 * Nothing outside them includes this.
 */
#ifndef VIGIL_REDIS_INT_H
#define VIGIL_REDIS_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "output/redis.h"
#include "output/redis_cmd.h"
#include "output/spool.h"

#define BATCH 2048     /* records per round trip */
#define SEND_EVERY 16  /* records formatted between two writes */
#define FRAME_RECS 256 /* records per spool frame */
#define BACKOFF_FIRST_MS 100u
#define BACKOFF_MAX_MS 5000u

/* What was sent for one record of a batch. */
struct sent {
	unsigned int ncmd; /* commands (0: not a record; skipped) */
	bool xadd;	   /* the first is its stream entry */
	bool dup;	   /* its id was not above the stream's last: written before? */
	bool bad;	   /* Redis refused one of its commands for good */
};

struct vigil_redis {
	/* set at open, read-only after */
	struct vigil_redis_url url;
	char user[128], pass[256];
	char *base; /* "{prefix}:{node}:" */
	char maxlen[24];
	uint64_t maxlen_n;
	unsigned int timeout_ms;

	/* shared with the loop, under mu */
	pthread_mutex_t mu;
	pthread_cond_t work; /* the thread waits for records or stop */
	pthread_cond_t idle; /* flush waits for the thread */
	char **q;
	size_t *qlen;
	unsigned int qmax, qhead, qn;
	unsigned int in_flight; /* taken by the thread, not yet written or spooled */
	bool stop, busy;
	uint64_t next_try_ns;
	struct vigil_redis_stats st;

	/* the thread's own */
	pthread_t thread;
	bool started;
	redisContext *c;
	struct vigil_spool *spool;
	unsigned int backoff_ms;
	bool ever_up;
	char *bufs[BATCH];
	size_t lens[BATCH];
	char *scratch; /* unescaped fields of one record */
	size_t scratch_cap;
	struct sent *sent;	       /* BATCH */
	struct vigil_redis_plan *plan; /* the commands of the record at hand */
};

/* Under r->mu: last_error = fmt with what. */
void vigil_redis_set_error(struct vigil_redis *r, const char *fmt, const char *what);
uint64_t vigil_redis_now_ns(void);

/* redis_send.c, on the sink's thread only. Connect, authenticate, select: 0 (up) or -EIO
 * (down: retry after the backoff). */
int vigil_redis_connect(struct vigil_redis *r);
/* Write n records, pipelined. Returns how many, from the start, are done (all n on success);
 * fewer means the rest must be written again later, and the connection is closed. */
unsigned int vigil_redis_send(struct vigil_redis *r, char *const *bufs, const size_t *lens,
			      unsigned int n);

#endif /* VIGIL_REDIS_INT_H */
