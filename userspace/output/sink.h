/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sink: a queued sink — what every sink that writes records to another system (Redis today;
 * PostgreSQL, OTLP next) needs, generic over a small backend that only connects and writes.
 *
 *   - A thread of its own (it takes no signal), behind a bounded queue of copies of the
 *     records (JSON, stamped with their "rid"). The event loop only copies a record into the
 *     queue; one that finds it full is counted (queue_drops), never waited for.
 *   - While the backend cannot be reached or refuses writes, records go to the spool
 *     (spool.h); reconnects back off from 100 ms, doubling to 5 s, and only a write that works
 *     resets the backoff (a backend that accepts connections and refuses writes is not
 *     hammered).
 *   - Once the backend is back, the spool is replayed first, a frame at a time (a frame is
 *     consumed only when every record in it is done), then the queue: records reach the
 *     backend in the order they were pushed.
 *   - Each record done is counted from what the backend says of it: written, a duplicate (it
 *     held the record already: a replay after a partial write), reordered (written, though not
 *     where the record's rid says), or rejected for good. The backend decides what a
 *     duplicate is; the sink never writes a record twice on its own account, it only replays
 *     what the backend did not acknowledge.
 *
 * A backend is one file: a struct of its own (the "be" below) and the ops table. Its
 * functions run on the sink's thread only, one at a time, so they need no locking.
 */
#ifndef VIGIL_SINK_H
#define VIGIL_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vigil_json;
struct vigil_sink;

/* The most records one write is given. */
#define VIGIL_SINK_BATCH 2048

/* What became of one record the backend was given. */
enum vigil_sink_result {
	VIGIL_SINK_WRITTEN,   /* the backend holds it now */
	VIGIL_SINK_DUPLICATE, /* it held it already (written before, reply lost): skipped */
	VIGIL_SINK_REORDERED, /* written, but not where its rid says (counted as written too) */
	VIGIL_SINK_REJECTED,  /* refused for good (the record itself is wrong): never retried */
};

struct vigil_sink_backend_ops {
	const char *name;  /* "redis": in status, health records ("family") and messages */
	const char *title; /* "Redis": in sentences */
	/* Connect. Returns 0 (up) or -errno (down: nothing left open) with why written. */
	int (*connect)(void *be, char *why, size_t len);
	/* Close the connection: after a write that did not finish, and at close. */
	void (*disconnect)(void *be);
	/*
	 * Write n records (n <= VIGIL_SINK_BATCH), in order. Returns how many from the start are
	 * done, with res[i] set for each of them; fewer than n means the rest could not be
	 * written now (connection lost, or the backend refuses writes for now) and why says why:
	 * the sink disconnects, and writes them again later, after those done. why may also be
	 * written when all n are done (a record rejected): it becomes last_error.
	 */
	unsigned int (*write)(void *be, const char *const *recs, const size_t *lens, unsigned int n,
			      enum vigil_sink_result *res, char *why, size_t len);
	/* Free the backend (disconnected first). Accepts NULL. */
	void (*free)(void *be);
};

struct vigil_sink_opts {
	const char *spool; /* the spool file */
	uint64_t spool_max_bytes;
	bool spool_sync;	       /* fdatasync each spool write (the daemon: true) */
	unsigned int queue_max;	       /* records; 0: 65536 (the queue grows to it) */
	unsigned int backoff_first_ms; /* 0: 100 (tests make it shorter) */
	unsigned int backoff_max_ms;   /* 0: 5000 */
};

enum vigil_sink_state {
	VIGIL_SINK_CONNECTING, /* never connected yet */
	VIGIL_SINK_UP,	       /* connected, writing */
	VIGIL_SINK_DOWN,       /* unreachable or refusing writes: spooling, retrying */
};

struct vigil_sink_stats {
	enum vigil_sink_state state;
	uint64_t queued; /* records in the queue now, or being written from it */
	uint64_t queue_max;
	uint64_t written;	    /* records the backend acknowledged (reordered ones included) */
	uint64_t duplicates;	    /* replayed records the backend already held */
	uint64_t rejected;	    /* records refused for good (the error is in last_error) */
	uint64_t reordered;	    /* replayed records that were missing behind newer ones, written
				     * where the backend chose (their rid field still says theirs) */
	uint64_t queue_drops;	    /* records that found the queue full */
	uint64_t spool_drops;	    /* records the spool refused (its cap, or a failed write) */
	uint64_t spooled;	    /* records written to the spool since start */
	uint64_t spool_pending;	    /* records in the spool now */
	uint64_t spool_bytes;	    /* its size */
	uint64_t spool_torn_bytes;  /* cut off a torn spool at start */
	uint64_t spool_torn_frames; /* frames cut off or found unreadable: their records are lost */
	uint64_t reconnects;	    /* connections made after the first */
	uint64_t retry_in_ms;	    /* DOWN: the next connection attempt, from now */
	uint64_t backoff_ms;	    /* the delay after the next failure is twice this (0: first) */
	char last_error[160];	    /* "" if none */
};

/*
 * Open (and recover) the spool and start the thread, which connects through ops; the backend
 * need not be up. be is the sink's from this call on, even when it fails (ops->free).
 * Returns 0 and *out, or -errno with err saying what was wrong (the spool, the thread).
 */
int vigil_sink_open(const struct vigil_sink_opts *o, const struct vigil_sink_backend_ops *ops,
		    void *be, struct vigil_sink **out, char *err, size_t errlen);
/* Stop the thread: what is queued is written if the backend is up and answers, else spooled.
 * Then free the backend. Accepts NULL. */
void vigil_sink_close(struct vigil_sink *s);
/* Queue a copy of one record. Never waits for the backend. Returns 0, or -ENOBUFS when the
 * queue is full (or the copy cannot be made): counted in queue_drops. */
int vigil_sink_push(struct vigil_sink *s, const char *rec, size_t len);
/* Wait until the queue is empty, nothing is in flight, and (when up) the spool is replayed,
 * at most timeout_ms. Returns 0 or -ETIMEDOUT. For tests and benchmarks. */
int vigil_sink_flush(struct vigil_sink *s, unsigned int timeout_ms);
void vigil_sink_stats(struct vigil_sink *s, struct vigil_sink_stats *st);
const char *vigil_sink_state_name(enum vigil_sink_state st);
/* The backend's name ("redis") and title ("Redis"), and the spool's path. */
const char *vigil_sink_name(const struct vigil_sink *s);
const char *vigil_sink_title(const struct vigil_sink *s);
const char *vigil_sink_spool_path(const struct vigil_sink *s);

/*
 * For a backend's write: one request (a transaction, a POST) of records [from, to). Returns
 * whether they are done, res[from..to) set and why written if a record was rejected; false:
 * none of them is done, why says why.
 */
typedef bool (*vigil_sink_chunk_fn)(void *be, const char *const *recs, const size_t *lens,
				    unsigned int from, unsigned int to, enum vigil_sink_result *res,
				    char *why, size_t len);
/* A backend's write (ops->write's contract) as requests of chunk records at most, in order,
 * until one is not done. Returns the number done; why keeps the last thing said. */
unsigned int vigil_sink_write_chunked(void *be, unsigned int chunk, vigil_sink_chunk_fn fn,
				      const char *const *recs, const size_t *lens, unsigned int n,
				      enum vigil_sink_result *res, char *why, size_t len);

/* The sink's fields, for `vigil status`, into the object j (begun, not ended): url (as given,
 * a password already masked), state, queued, queue_max, written, duplicates, reordered,
 * rejected, queue_drops, spool, spool_pending, spool_bytes, spooled, spool_drops,
 * spool_torn_bytes, spool_torn_frames, reconnects, retry_in_ms, last_error. */
void vigil_sink_status_json(struct vigil_sink *s, const char *url, struct vigil_json *j);

#endif /* VIGIL_SINK_H */
