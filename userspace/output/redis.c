// SPDX-License-Identifier: Apache-2.0
/*
 * redis: the Redis sink's thread, its queue, and its spool.
 *
 * The event loop only ever copies a record into the queue (vigil_redis_push); everything that
 * can block — connecting, writing, waiting for replies, the spool's fdatasync — happens on
 * this module's own thread. The thread, in a loop:
 *
 *   down:  move what is queued to the spool; reconnect when the backoff says (100 ms doubling
 *          to 5 s);
 *   up:    replay the spool first, one frame at a time (a frame is consumed only once every
 *          record in it is acknowledged); then write the queue, up to BATCH records per round
 *          trip, pipelined. If a write fails, what was not acknowledged goes to the spool, in
 *          order, and the sink is down again.
 *
 * Order: every record leaves in the order the loop pushed it, because the spool always holds
 * records older than anything still queued.
 *
 * Exactly once: stream entries are written with an explicit id, the record's rid, which only
 * grows. A record replayed after a partial write meets "ID ... equal or smaller than the
 * target stream top item"; it is then looked up (XRANGE rid rid): found with the same fields,
 * or older than the first entry of a stream at its cap (trimmed by MAXLEN), it is a duplicate
 * and skipped; otherwise it was never written and is added with an id Redis picks, counted in
 * "reordered". Hashes are set with HSET of absolute values, so writing one again changes
 * nothing. The connection and the writing are in redis_send.c.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "output/redis_int.h"

const char *vigil_redis_state_name(enum vigil_redis_state s)
{
	switch (s) {
	case VIGIL_REDIS_CONNECTING:
		return "connecting";
	case VIGIL_REDIS_UP:
		return "up";
	case VIGIL_REDIS_DOWN:
		return "down";
	}
	return "?";
}

uint64_t vigil_redis_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Callers hold mu. */
void vigil_redis_set_error(struct vigil_redis *r, const char *fmt, const char *what)
{
	snprintf(r->st.last_error, sizeof(r->st.last_error), fmt, what);
}

static void sync_spool_stats(struct vigil_redis *r)
{
	struct vigil_spool_stats ss;

	vigil_spool_stats(r->spool, &ss);
	pthread_mutex_lock(&r->mu);
	r->st.spool_pending = ss.pending;
	r->st.spool_bytes = ss.bytes;
	r->st.spool_drops = ss.full_drops;
	r->st.spooled = ss.appended;
	r->st.spool_torn_bytes = ss.torn_bytes;
	r->st.spool_torn_frames = ss.torn_frames;
	pthread_mutex_unlock(&r->mu);
}

/* Append n records to the spool, FRAME_RECS to a frame. Failures are counted by the spool
 * (its cap) or here (an I/O error: the records are lost, and said so). */
static void spool_put(struct vigil_redis *r, char *const *bufs, const size_t *lens, unsigned int n)
{
	for (unsigned int i = 0; i < n; i += FRAME_RECS) {
		unsigned int k = n - i < FRAME_RECS ? n - i : FRAME_RECS;
		int err =
		    vigil_spool_append(r->spool, (const void *const *)(bufs + i), lens + i, k);

		if (err && err != -ENOSPC) {
			pthread_mutex_lock(&r->mu);
			r->st.spool_drops += k;
			vigil_redis_set_error(r, "spool write: %s", strerror(-err));
			pthread_mutex_unlock(&r->mu);
		}
	}
	sync_spool_stats(r);
}

/* --- the thread ---------------------------------------------------------------------------- */

/* Take up to max queued records into r->bufs. Caller holds mu. */
static unsigned int take(struct vigil_redis *r, unsigned int max)
{
	unsigned int n = 0;

	while (r->qn && n < max) {
		r->bufs[n] = r->q[r->qhead];
		r->lens[n++] = r->qlen[r->qhead];
		r->qhead = (r->qhead + 1) % r->qmax;
		r->qn--;
	}
	r->in_flight = n;
	r->st.queued = r->qn + n;
	return n;
}

/* The batch taken is written or spooled. Caller holds mu. */
static void settled(struct vigil_redis *r)
{
	r->in_flight = 0;
	r->st.queued = r->qn;
}

static void release(struct vigil_redis *r, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		free(r->bufs[i]);
}

/* Move everything queued to the spool. Called with mu held; returns with it held. */
static void queue_to_spool(struct vigil_redis *r)
{
	unsigned int n;

	while ((n = take(r, BATCH))) {
		pthread_mutex_unlock(&r->mu);
		spool_put(r, r->bufs, r->lens, n);
		release(r, n);
		pthread_mutex_lock(&r->mu);
		settled(r);
	}
}

/* Replay the spool's next frame. Returns 0 (consumed), -EIO (connection lost: kept). */
static int replay_frame(struct vigil_redis *r)
{
	const void *const *recs;
	const size_t *lens;
	unsigned int n, done;
	int err;

	err = vigil_spool_peek(r->spool, &recs, &lens, &n);
	if (err == -EBADMSG || err == -ENOENT) {
		sync_spool_stats(r);
		return 0;
	}
	if (err)
		return -EIO;
	done = 0;
	while (done < n) {
		unsigned int k = n - done < BATCH ? n - done : BATCH;
		unsigned int ok = vigil_redis_send(r, (char *const *)(recs + done), lens + done, k);

		done += ok;
		if (ok < k)
			return -EIO;
	}
	vigil_spool_consume(r->spool);
	sync_spool_stats(r);
	return 0;
}

static void wait_until(struct vigil_redis *r, uint64_t deadline_ns)
{
	struct timespec ts;
	uint64_t wall;

	/* mu is held; the conds use CLOCK_MONOTONIC */
	wall = deadline_ns;
	ts.tv_sec = (time_t)(wall / 1000000000ull);
	ts.tv_nsec = (long)(wall % 1000000000ull);
	pthread_cond_timedwait(&r->work, &r->mu, &ts);
}

static void *sink_thread(void *arg)
{
	struct vigil_redis *r = arg;
	unsigned int n, ok;

	pthread_mutex_lock(&r->mu);
	while (!r->stop) {
		if (!r->c) {
			r->busy = false;
			if (vigil_redis_now_ns() >= r->next_try_ns) {
				pthread_mutex_unlock(&r->mu);
				vigil_redis_connect(r);
				pthread_mutex_lock(&r->mu);
			}
			if (!r->c) {
				queue_to_spool(r);
				pthread_cond_broadcast(&r->idle);
				if (!r->stop && !r->qn)
					wait_until(r, r->next_try_ns);
				continue;
			}
		}
		if (r->st.spool_pending) {
			/* Records arriving during a long replay wait behind it, in the spool. */
			if (r->qn > r->qmax / 2)
				queue_to_spool(r);
			r->busy = true;
			pthread_mutex_unlock(&r->mu);
			replay_frame(r);
			pthread_mutex_lock(&r->mu);
			continue;
		}
		if (!r->qn) {
			r->busy = false;
			pthread_cond_broadcast(&r->idle);
			wait_until(r, vigil_redis_now_ns() + 1000000000ull);
			continue;
		}
		r->busy = true;
		n = take(r, BATCH);
		pthread_mutex_unlock(&r->mu);
		ok = vigil_redis_send(r, r->bufs, r->lens, n);
		if (ok < n)
			spool_put(r, r->bufs + ok, r->lens + ok, n - ok);
		release(r, n);
		pthread_mutex_lock(&r->mu);
		settled(r);
	}
	/* Stopping: one try to write what is left, the rest to the spool. */
	while ((n = take(r, BATCH))) {
		pthread_mutex_unlock(&r->mu);
		ok = r->c && !r->st.spool_pending ? vigil_redis_send(r, r->bufs, r->lens, n) : 0;
		if (ok < n)
			spool_put(r, r->bufs + ok, r->lens + ok, n - ok);
		release(r, n);
		pthread_mutex_lock(&r->mu);
		settled(r);
	}
	r->busy = false;
	pthread_cond_broadcast(&r->idle);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* --- the loop's side ----------------------------------------------------------------------- */

int vigil_redis_push(struct vigil_redis *r, const char *json, size_t len)
{
	char *copy;
	int ret = 0;

	copy = malloc(len);
	pthread_mutex_lock(&r->mu);
	if (!copy || r->qn == r->qmax) {
		r->st.queue_drops++;
		ret = -ENOBUFS;
	} else {
		unsigned int tail = (r->qhead + r->qn) % r->qmax;

		memcpy(copy, json, len);
		r->q[tail] = copy;
		r->qlen[tail] = len;
		r->qn++;
		r->st.queued = r->qn + r->in_flight;
		copy = NULL;
		pthread_cond_signal(&r->work);
	}
	pthread_mutex_unlock(&r->mu);
	free(copy);
	return ret;
}

int vigil_redis_flush(struct vigil_redis *r, unsigned int timeout_ms)
{
	uint64_t deadline = vigil_redis_now_ns() + timeout_ms * 1000000ull;
	struct timespec ts;
	int ret = 0;

	pthread_mutex_lock(&r->mu);
	while (r->qn || r->busy || (r->st.state == VIGIL_REDIS_UP && r->st.spool_pending)) {
		if (vigil_redis_now_ns() >= deadline) {
			ret = -ETIMEDOUT;
			break;
		}
		ts.tv_sec = (time_t)(deadline / 1000000000ull);
		ts.tv_nsec = (long)(deadline % 1000000000ull);
		pthread_cond_signal(&r->work);
		pthread_cond_timedwait(&r->idle, &r->mu, &ts);
	}
	pthread_mutex_unlock(&r->mu);
	return ret;
}

void vigil_redis_stats(struct vigil_redis *r, struct vigil_redis_stats *st)
{
	uint64_t now = vigil_redis_now_ns();

	pthread_mutex_lock(&r->mu);
	*st = r->st;
	st->retry_in_ms = st->state == VIGIL_REDIS_DOWN && r->next_try_ns > now
			      ? (r->next_try_ns - now) / 1000000
			      : 0;
	pthread_mutex_unlock(&r->mu);
}

int vigil_redis_open(const struct vigil_redis_opts *o, struct vigil_redis **out, char *err,
		     size_t errlen)
{
	pthread_condattr_t ca;
	sigset_t all, old;
	struct vigil_redis *r;
	size_t len;
	int ret;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->work, &ca);
	pthread_cond_init(&r->idle, &ca);
	pthread_condattr_destroy(&ca);
	ret = vigil_redis_parse_url(o->url, &r->url, err, errlen);
	if (ret)
		goto fail;
	snprintf(r->user, sizeof(r->user), "%s", o->username ? o->username : r->url.user);
	snprintf(r->pass, sizeof(r->pass), "%s", o->password ? o->password : r->url.pass);
	len = strlen(o->prefix) + strlen(o->node) + 3;
	r->base = malloc(len);
	r->qmax = o->queue_max ? o->queue_max : 65536;
	r->q = calloc(r->qmax, sizeof(*r->q));
	r->qlen = calloc(r->qmax, sizeof(*r->qlen));
	r->sent = calloc(BATCH, sizeof(*r->sent));
	r->plan = malloc(sizeof(*r->plan));
	if (!r->base || !r->q || !r->qlen || !r->sent || !r->plan) {
		ret = -ENOMEM;
		goto fail;
	}
	snprintf(r->base, len, "%s:%s:", o->prefix, o->node);
	snprintf(r->maxlen, sizeof(r->maxlen), "%llu", (unsigned long long)o->maxlen);
	r->maxlen_n = o->maxlen;
	r->timeout_ms = o->timeout_ms ? o->timeout_ms : 2000;
	r->st.queue_max = r->qmax;
	ret = vigil_spool_open(o->spool, o->spool_max_bytes, o->spool_sync, &r->spool, err, errlen);
	if (ret)
		goto fail;
	sync_spool_stats(r);
	/* The thread takes no signal: the loop's signalfd must see SIGTERM and SIGCHLD. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = -pthread_create(&r->thread, NULL, sink_thread, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		snprintf(err, errlen, "redis sink thread: %s", strerror(-ret));
		goto fail;
	}
	r->started = true;
	*out = r;
	return 0;
fail:
	vigil_redis_close(r);
	return ret;
}

void vigil_redis_close(struct vigil_redis *r)
{
	if (!r)
		return;
	if (r->started) {
		pthread_mutex_lock(&r->mu);
		r->stop = true;
		pthread_cond_signal(&r->work);
		pthread_mutex_unlock(&r->mu);
		pthread_join(r->thread, NULL);
	}
	for (unsigned int i = 0; i < r->qn; i++)
		free(r->q[(r->qhead + i) % r->qmax]);
	if (r->c)
		redisFree(r->c);
	vigil_spool_close(r->spool);
	free(r->q);
	free(r->qlen);
	free(r->base);
	free(r->scratch);
	free(r->sent);
	free(r->plan);
	pthread_cond_destroy(&r->work);
	pthread_cond_destroy(&r->idle);
	pthread_mutex_destroy(&r->mu);
	free(r);
}
