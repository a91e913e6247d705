/* SPDX-License-Identifier: Apache-2.0 */
/*
 * redis_watch: what people and applications tell vigil through Redis, read by a thread of its
 * own on a connection of its own (never the sink's, never on the event loop):
 *
 *   approvals  entries of the stream P:N:approvals, written by an approver tool with its own
 *              ACL user: fields `incident` (an id), `by` (who decided: required), `decision`
 *              (`approve`, the default, or `deny`) and `reason` (optional). At start the stream
 *              is read from `since` on (the daemon passes now less the longest
 *              approval_timeout: an older entry cannot be about an incident still waiting),
 *              then as entries come (XREAD BLOCK). Each is handed to the event loop, in order,
 *              through an eventfd; one malformed (no incident or no by, unknown decision) is
 *              counted and skipped.
 *   busy keys  the workloads' quiet.busy_key: each is looked at (EXISTS) every
 *              VIGIL_BUSY_POLL_MS; the healer's quiet window reads the latest answer without
 *              waiting. An answer older than VIGIL_BUSY_STALE_MS (Redis down or slow) is
 *              "unknown", which the healer treats as busy: a conversation is never cut on a
 *              guess.
 */
#ifndef VIGIL_REDIS_WATCH_H
#define VIGIL_REDIS_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/json.h"
#include "core/loop.h"
#include "output/redis.h"

#define VIGIL_BUSY_POLL_MS 250
#define VIGIL_BUSY_STALE_MS 2000
#define VIGIL_WATCH_QUEUE 256 /* approvals waiting for the loop; more are counted, dropped */

/* One decision read from the approvals stream. */
struct vigil_approval_msg {
	char entry[48]; /* the stream entry's id */
	char incident[32];
	char by[96];
	char reason[256];
	bool deny;
};

/* Called on the event loop's thread for each decision, in the stream's order. */
typedef void (*vigil_approval_fn)(const struct vigil_approval_msg *m, void *arg);

struct vigil_redis_watch;

/*
 * Start the thread. busy_keys: n keys to look at (may be 0). since_wall_ms: where the
 * approvals stream is read from at start. fn gets the decisions on loop. Returns 0 and *out,
 * or -errno with err saying why (a bad URL, no eventfd, no thread). Redis need not be up.
 */
int vigil_redis_watch_open(const struct vigil_redis_opts *o, const char *const *busy_keys,
			   unsigned int n, uint64_t since_wall_ms, struct vigil_loop *loop,
			   vigil_approval_fn fn, void *arg, struct vigil_redis_watch **out,
			   char *err, size_t errlen);
/* Stop the thread (within one XREAD block or reply timeout) and free; accepts NULL. */
void vigil_redis_watch_close(struct vigil_redis_watch *w);

/* The latest answer about busy key i: 1 set, 0 absent, -1 unknown (stale or never read). */
int vigil_redis_watch_busy(struct vigil_redis_watch *w, unsigned int i);

/* "redis_watch": approvals read, malformed, dropped, busy keys and their answers, the last
 * error, into j (inside an object). */
void vigil_redis_watch_status_json(struct vigil_redis_watch *w, struct vigil_json *j);

/*
 * Each entry of an XREAD reply ([[stream, [[id, [field, value, ...]], ...]]], or nil), in order:
 * fn gets the decision with why NULL, or a malformed entry's id (m->entry, "" when it has none)
 * and why. Returns the number of entries, or -EPROTO when rep is not such a reply (nothing
 * handed). Exposed for tests and the fuzzer.
 */
struct redisReply;
typedef void (*vigil_approval_each_fn)(const struct vigil_approval_msg *m, const char *why,
				       void *arg);
int vigil_approvals_walk(const struct redisReply *rep, vigil_approval_each_fn fn, void *arg);

/*
 * One stream entry's fields (n pairs of key, value) as a decision. Returns 0, or -EINVAL with
 * why. Exposed for tests.
 */
int vigil_approval_parse(const char *const *keys, const char *const *vals, unsigned int n,
			 struct vigil_approval_msg *m, char *why, size_t len);

#endif /* VIGIL_REDIS_WATCH_H */
