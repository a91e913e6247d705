// SPDX-License-Identifier: Apache-2.0
/*
 * sink: a queued sink's thread, its queue and its spool, generic over a backend (sink.h).
 *
 * The event loop only ever copies a record into the queue (vigil_sink_push); everything that
 * can block — connecting, writing, waiting for replies, the spool's fdatasync — happens on the
 * sink's own thread. The thread, in a loop:
 *
 *   down:  move what is queued to the spool; reconnect when the backoff says (100 ms doubling
 *          to 5 s);
 *   up:    replay the spool first, one frame at a time (a frame is consumed only once every
 *          record in it is done); then write the queue, up to VIGIL_SINK_BATCH records per
 *          write. If a write does not finish, what was not done goes to the spool, in order,
 *          and the sink is down again.
 *
 * Order: every record leaves in the order the loop pushed it, because the spool always holds
 * records older than anything still queued.
 *
 * Exactly once is the backend's half: a frame that breaks off midway is replayed from its
 * start, so the backend is given again records it may hold already, and must say so
 * (VIGIL_SINK_DUPLICATE) rather than write them twice. Redis does it by stream id (redis.c).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/privileges.h"
#include "core/json.h"
#include "output/sink.h"
#include "output/spool.h"

#define FRAME_RECS 256	/* records per spool frame */
#define QUEUE_FIRST 256 /* the queue's first capacity: it doubles up to queue_max, on demand */
#define BACKOFF_FIRST_MS 100u
#define BACKOFF_MAX_MS 5000u
#define WHY_LEN 160

/* A record in the queue: a copy of its bytes. */
struct queued {
	char *buf;
	size_t len;
};

struct vigil_sink {
	/* set at open, read-only after */
	const struct vigil_sink_backend_ops *ops;
	void *be;
	char *spool_path;
	unsigned int backoff_first_ms, backoff_max_ms;

	/* shared with the loop, under mu */
	pthread_mutex_t mu;
	pthread_cond_t work; /* the thread waits for records or stop */
	pthread_cond_t idle; /* flush waits for the thread */
	struct queued *q;    /* a ring of qcap, grown on demand up to qmax, shrunk when empty */
	unsigned int qmax, qcap, qhead, qn;
	unsigned int in_flight; /* taken by the thread, not yet written or spooled */
	bool stop, busy;
	uint64_t next_try_ns;
	uint64_t spool_io_drops; /* records a failed spool write lost */
	struct vigil_sink_stats st;

	/* the thread's own */
	pthread_t thread;
	bool started;
	bool up; /* the backend is connected */
	bool ever_up;
	unsigned int backoff_ms;
	struct vigil_spool *spool;
	char *bufs[VIGIL_SINK_BATCH];
	size_t lens[VIGIL_SINK_BATCH];
	enum vigil_sink_result res[VIGIL_SINK_BATCH];
};

const char *vigil_sink_state_name(enum vigil_sink_state st)
{
	switch (st) {
	case VIGIL_SINK_CONNECTING:
		return "connecting";
	case VIGIL_SINK_UP:
		return "up";
	case VIGIL_SINK_DOWN:
		return "down";
	}
	return "?";
}

const char *vigil_sink_name(const struct vigil_sink *s)
{
	return s->ops->name;
}

const char *vigil_sink_title(const struct vigil_sink *s)
{
	return s->ops->title;
}

const char *vigil_sink_spool_path(const struct vigil_sink *s)
{
	return s->spool_path;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Callers hold mu. */
static void set_error(struct vigil_sink *s, const char *why)
{
	snprintf(s->st.last_error, sizeof(s->st.last_error), "%s", why);
}

static void sync_spool_stats(struct vigil_sink *s)
{
	struct vigil_spool_stats ss;

	vigil_spool_stats(s->spool, &ss);
	pthread_mutex_lock(&s->mu);
	s->st.spool_pending = ss.pending;
	s->st.spool_bytes = ss.bytes;
	s->st.spool_drops = ss.full_drops + s->spool_io_drops;
	s->st.spooled = ss.appended;
	s->st.spool_torn_bytes = ss.torn_bytes;
	s->st.spool_torn_frames = ss.torn_frames;
	pthread_mutex_unlock(&s->mu);
}

/* Append n records to the spool, FRAME_RECS to a frame. What does not fit is counted by the
 * spool (its cap) or here (an I/O error: the records are lost, and said so). */
static void spool_put(struct vigil_sink *s, char *const *bufs, const size_t *lens, unsigned int n)
{
	for (unsigned int i = 0; i < n; i += FRAME_RECS) {
		unsigned int k = n - i < FRAME_RECS ? n - i : FRAME_RECS;
		int err =
		    vigil_spool_append(s->spool, (const void *const *)(bufs + i), lens + i, k);

		if (err && err != -ENOSPC) {
			char why[WHY_LEN];

			snprintf(why, sizeof(why), "spool write: %s", strerror(-err));
			pthread_mutex_lock(&s->mu);
			s->spool_io_drops += k;
			set_error(s, why);
			pthread_mutex_unlock(&s->mu);
		}
	}
	sync_spool_stats(s);
}

/* --- the backend --------------------------------------------------------------------------- */

/* The backend is down, or must be treated so: disconnect it, and retry after the backoff,
 * which doubles with each failure in a row. */
static void down(struct vigil_sink *s, const char *why)
{
	if (s->up)
		s->ops->disconnect(s->be);
	s->up = false;
	s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : s->backoff_first_ms;
	if (s->backoff_ms > s->backoff_max_ms)
		s->backoff_ms = s->backoff_max_ms;
	pthread_mutex_lock(&s->mu);
	s->st.state = VIGIL_SINK_DOWN;
	s->st.backoff_ms = s->backoff_ms;
	s->next_try_ns = now_ns() + s->backoff_ms * 1000000ull;
	set_error(s, why);
	pthread_mutex_unlock(&s->mu);
}

/* Connect. Returns 0 (up) or -errno (down, retry after the backoff). */
static int sink_connect(struct vigil_sink *s)
{
	char why[WHY_LEN] = "";
	int err = s->ops->connect(s->be, why, sizeof(why));

	if (err) {
		down(s, why);
		return err;
	}
	/* The backoff is reset by a write that works, not by a connection: a backend that
	 * accepts and then refuses every write is retried ever more slowly too. */
	s->up = true;
	pthread_mutex_lock(&s->mu);
	s->st.state = VIGIL_SINK_UP;
	s->st.reconnects += s->ever_up;
	s->st.last_error[0] = '\0';
	pthread_mutex_unlock(&s->mu);
	s->ever_up = true;
	return 0;
}

/* Write n records through the backend and count what it did with them. Returns how many from
 * the start are done (all n on success); fewer means the rest must be written again later, and
 * the sink is down. */
static unsigned int sink_write(struct vigil_sink *s, const char *const *recs, const size_t *lens,
			       unsigned int n)
{
	uint64_t written = 0, dups = 0, reordered = 0, rejected = 0;
	char why[WHY_LEN] = "";
	unsigned int done;

	done = s->ops->write(s->be, recs, lens, n, s->res, why, sizeof(why));
	if (done > n)
		done = n;
	for (unsigned int i = 0; i < done; i++) {
		switch (s->res[i]) {
		case VIGIL_SINK_WRITTEN:
			written++;
			break;
		case VIGIL_SINK_DUPLICATE:
			dups++;
			break;
		case VIGIL_SINK_REORDERED:
			written++;
			reordered++;
			break;
		case VIGIL_SINK_REJECTED:
			rejected++;
			break;
		}
	}
	pthread_mutex_lock(&s->mu);
	s->st.written += written;
	s->st.duplicates += dups;
	s->st.reordered += reordered;
	s->st.rejected += rejected;
	if (done == n) {
		if (why[0])
			set_error(s, why);
		s->backoff_ms = 0;
		s->st.backoff_ms = 0;
	}
	pthread_mutex_unlock(&s->mu);
	if (done < n)
		down(s, why);
	return done;
}

/* --- the thread ---------------------------------------------------------------------------- */

/*
 * The queue at cap entries, its records in order from 0 (cap >= qn). Returns 0, or -ENOMEM
 * with the queue as it was. Caller holds mu.
 */
static int queue_resize(struct vigil_sink *s, unsigned int cap)
{
	struct queued *q = malloc(cap * sizeof(*q));

	if (!q)
		return -ENOMEM;
	for (unsigned int i = 0; i < s->qn; i++)
		q[i] = s->q[(s->qhead + i) % s->qcap];
	free(s->q);
	s->q = q;
	s->qcap = cap;
	s->qhead = 0;
	return 0;
}

/* Take up to max queued records into s->bufs. Caller holds mu. */
static unsigned int take(struct vigil_sink *s, unsigned int max)
{
	unsigned int n = 0;

	while (s->qn && n < max) {
		s->bufs[n] = s->q[s->qhead].buf;
		s->lens[n++] = s->q[s->qhead].len;
		s->qhead = (s->qhead + 1) % s->qcap;
		s->qn--;
	}
	/* Emptied after a burst: the queue back to its first size (a failure keeps it). */
	if (!s->qn && s->qcap > QUEUE_FIRST)
		queue_resize(s, QUEUE_FIRST);
	s->in_flight = n;
	s->st.queued = s->qn + n;
	return n;
}

/* The batch taken is written or spooled. Caller holds mu. */
static void settled(struct vigil_sink *s)
{
	s->in_flight = 0;
	s->st.queued = s->qn;
}

static void release(struct vigil_sink *s, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		free(s->bufs[i]);
}

/* Move everything queued to the spool. Called with mu held; returns with it held. */
static void queue_to_spool(struct vigil_sink *s)
{
	unsigned int n;

	while ((n = take(s, VIGIL_SINK_BATCH))) {
		pthread_mutex_unlock(&s->mu);
		spool_put(s, s->bufs, s->lens, n);
		release(s, n);
		pthread_mutex_lock(&s->mu);
		settled(s);
	}
}

/* Write the batch of n taken (mu not held), if attempt; what is not done goes to the spool. */
static void write_taken(struct vigil_sink *s, unsigned int n, bool attempt)
{
	unsigned int ok = attempt ? sink_write(s, (const char *const *)s->bufs, s->lens, n) : 0;

	if (ok < n)
		spool_put(s, s->bufs + ok, s->lens + ok, n - ok);
	release(s, n);
}

/* Replay the spool's next frame. Returns 0 (consumed, or unreadable and skipped), -EIO (the
 * backend did not take all of it: kept, for the next time up), or -errno of reading the spool
 * (kept; the sink is down for a backoff, so a failing disk is not read in a tight loop). */
static int replay_frame(struct vigil_sink *s)
{
	const void *const *recs;
	const size_t *lens;
	unsigned int n, done;
	int err;

	err = vigil_spool_peek(s->spool, &recs, &lens, &n);
	if (err == -EBADMSG || err == -ENOENT) {
		sync_spool_stats(s);
		return 0;
	}
	if (err) {
		char why[WHY_LEN];

		snprintf(why, sizeof(why), "spool read: %s", strerror(-err));
		down(s, why);
		return err;
	}
	done = 0;
	while (done < n) {
		unsigned int k = n - done < VIGIL_SINK_BATCH ? n - done : VIGIL_SINK_BATCH;
		unsigned int ok = sink_write(s, (const char *const *)(recs + done), lens + done, k);

		done += ok;
		if (ok < k)
			return -EIO;
	}
	vigil_spool_consume(s->spool);
	sync_spool_stats(s);
	return 0;
}

/* Wait on work until deadline_ns (CLOCK_MONOTONIC, as the conds use), a push or stop. Caller
 * holds mu. */
static void wait_until(struct vigil_sink *s, uint64_t deadline_ns)
{
	struct timespec ts = {
	    .tv_sec = (time_t)(deadline_ns / 1000000000ull),
	    .tv_nsec = (long)(deadline_ns % 1000000000ull),
	};

	pthread_cond_timedwait(&s->work, &s->mu, &ts);
}

static void *sink_thread(void *arg)
{
	struct vigil_sink *s = arg;
	unsigned int n;

	vigil_privileges_drop_thread(); /* network and root's files: nothing more */
	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		if (!s->up) {
			s->busy = false;
			if (now_ns() >= s->next_try_ns) {
				pthread_mutex_unlock(&s->mu);
				sink_connect(s);
				pthread_mutex_lock(&s->mu);
			}
			if (!s->up) {
				queue_to_spool(s);
				pthread_cond_broadcast(&s->idle);
				if (!s->stop && !s->qn)
					wait_until(s, s->next_try_ns);
				continue;
			}
		}
		if (s->st.spool_pending) {
			/* Records arriving during a long replay wait behind it, in the spool. */
			if (s->qn > s->qmax / 2)
				queue_to_spool(s);
			s->busy = true;
			pthread_mutex_unlock(&s->mu);
			replay_frame(s);
			pthread_mutex_lock(&s->mu);
			continue;
		}
		if (!s->qn) {
			s->busy = false;
			pthread_cond_broadcast(&s->idle);
			wait_until(s, now_ns() + 1000000000ull);
			continue;
		}
		s->busy = true;
		n = take(s, VIGIL_SINK_BATCH);
		pthread_mutex_unlock(&s->mu);
		write_taken(s, n, true);
		pthread_mutex_lock(&s->mu);
		settled(s);
	}
	/* Stopping: one try to write what is left (behind nothing spooled), the rest to the
	 * spool. */
	while ((n = take(s, VIGIL_SINK_BATCH))) {
		bool attempt = s->up && !s->st.spool_pending;

		pthread_mutex_unlock(&s->mu);
		write_taken(s, n, attempt);
		pthread_mutex_lock(&s->mu);
		settled(s);
	}
	s->busy = false;
	pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* --- the loop's side ----------------------------------------------------------------------- */

int vigil_sink_push(struct vigil_sink *s, const char *rec, size_t len)
{
	char *copy;
	int ret = 0;

	copy = malloc(len ? len : 1);
	pthread_mutex_lock(&s->mu);
	/* Full at its capacity: twice that, up to queue_max. */
	if (copy && s->qn == s->qcap && s->qcap < s->qmax &&
	    queue_resize(s, s->qcap < s->qmax / 2 ? s->qcap * 2 : s->qmax)) {
		free(copy);
		copy = NULL;
	}
	if (!copy || s->qn == s->qcap) {
		s->st.queue_drops++;
		ret = -ENOBUFS;
	} else {
		unsigned int tail = (s->qhead + s->qn) % s->qcap;

		memcpy(copy, rec, len);
		s->q[tail].buf = copy;
		s->q[tail].len = len;
		s->qn++;
		s->st.queued = s->qn + s->in_flight;
		copy = NULL;
		pthread_cond_signal(&s->work);
	}
	pthread_mutex_unlock(&s->mu);
	free(copy);
	return ret;
}

int vigil_sink_flush(struct vigil_sink *s, unsigned int timeout_ms)
{
	uint64_t deadline = now_ns() + timeout_ms * 1000000ull;
	struct timespec ts = {
	    .tv_sec = (time_t)(deadline / 1000000000ull),
	    .tv_nsec = (long)(deadline % 1000000000ull),
	};
	int ret = 0;

	pthread_mutex_lock(&s->mu);
	while (s->qn || s->in_flight || s->busy ||
	       (s->st.state == VIGIL_SINK_UP && s->st.spool_pending)) {
		if (now_ns() >= deadline) {
			ret = -ETIMEDOUT;
			break;
		}
		pthread_cond_signal(&s->work);
		pthread_cond_timedwait(&s->idle, &s->mu, &ts);
	}
	pthread_mutex_unlock(&s->mu);
	return ret;
}

void vigil_sink_stats(struct vigil_sink *s, struct vigil_sink_stats *st)
{
	uint64_t now = now_ns();

	pthread_mutex_lock(&s->mu);
	*st = s->st;
	st->retry_in_ms = st->state == VIGIL_SINK_DOWN && s->next_try_ns > now
			      ? (s->next_try_ns - now) / 1000000
			      : 0;
	pthread_mutex_unlock(&s->mu);
}

unsigned int vigil_sink_write_chunked(void *be, unsigned int chunk, vigil_sink_chunk_fn fn,
				      const char *const *recs, const size_t *lens, unsigned int n,
				      enum vigil_sink_result *res, char *why, size_t len)
{
	unsigned int done = 0;

	while (done < n) {
		unsigned int to = n - done > chunk ? done + chunk : n;
		/* why may say a record was rejected: keep it unless the chunk fails. */
		char cwhy[WHY_LEN] = "";

		if (!fn(be, recs, lens, done, to, res, cwhy, sizeof(cwhy))) {
			snprintf(why, len, "%s", cwhy);
			return done;
		}
		if (cwhy[0])
			snprintf(why, len, "%s", cwhy);
		done = to;
	}
	return done;
}

void vigil_sink_status_json(struct vigil_sink *s, const char *url, struct vigil_json *j)
{
	struct vigil_sink_stats st;

	vigil_sink_stats(s, &st);
	vigil_json_str(j, "url", url);
	vigil_json_str(j, "state", vigil_sink_state_name(st.state));
	vigil_json_u64(j, "queued", st.queued);
	vigil_json_u64(j, "queue_max", st.queue_max);
	vigil_json_u64(j, "written", st.written);
	vigil_json_u64(j, "duplicates", st.duplicates);
	vigil_json_u64(j, "reordered", st.reordered);
	vigil_json_u64(j, "rejected", st.rejected);
	vigil_json_u64(j, "queue_drops", st.queue_drops);
	vigil_json_str(j, "spool", s->spool_path);
	vigil_json_u64(j, "spool_pending", st.spool_pending);
	vigil_json_u64(j, "spool_bytes", st.spool_bytes);
	vigil_json_u64(j, "spooled", st.spooled);
	vigil_json_u64(j, "spool_drops", st.spool_drops);
	vigil_json_u64(j, "spool_torn_bytes", st.spool_torn_bytes);
	vigil_json_u64(j, "spool_torn_frames", st.spool_torn_frames);
	vigil_json_u64(j, "reconnects", st.reconnects);
	vigil_json_u64(j, "retry_in_ms", st.retry_in_ms);
	vigil_json_str(j, "last_error", st.last_error);
}

int vigil_sink_open(const struct vigil_sink_opts *o, const struct vigil_sink_backend_ops *ops,
		    void *be, struct vigil_sink **out, char *err, size_t errlen)
{
	pthread_condattr_t ca;
	sigset_t all, old;
	struct vigil_sink *s;
	int ret;

	s = calloc(1, sizeof(*s));
	if (!s) {
		ops->free(be);
		snprintf(err, errlen, "%s sink: %s", ops->name, strerror(ENOMEM));
		return -ENOMEM;
	}
	s->ops = ops;
	s->be = be;
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->work, &ca);
	pthread_cond_init(&s->idle, &ca);
	pthread_condattr_destroy(&ca);
	if (!o->spool || !o->spool[0]) {
		snprintf(err, errlen, "%s sink: no spool file", ops->name);
		ret = -EINVAL;
		goto fail;
	}
	s->backoff_first_ms = o->backoff_first_ms ? o->backoff_first_ms : BACKOFF_FIRST_MS;
	s->backoff_max_ms = o->backoff_max_ms ? o->backoff_max_ms : BACKOFF_MAX_MS;
	s->qmax = o->queue_max ? o->queue_max : 65536;
	s->qcap = s->qmax < QUEUE_FIRST ? s->qmax : QUEUE_FIRST;
	s->q = calloc(s->qcap, sizeof(*s->q));
	s->spool_path = strdup(o->spool);
	if (!s->q || !s->spool_path) {
		snprintf(err, errlen, "%s sink: %s", ops->name, strerror(ENOMEM));
		ret = -ENOMEM;
		goto fail;
	}
	s->st.queue_max = s->qmax;
	ret = vigil_spool_open(o->spool, o->spool_max_bytes, o->spool_sync, &s->spool, err, errlen);
	if (ret)
		goto fail;
	if (vigil_spool_aside(s->spool))
		fprintf(
		    stderr,
		    "vigil: %s sink: %s was not a vigil spool: kept aside as %s, starting a new "
		    "spool\n",
		    ops->name, o->spool, vigil_spool_aside(s->spool));
	sync_spool_stats(s);
	/* The thread takes no signal: the loop's signalfd must see SIGTERM and SIGCHLD. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = -pthread_create(&s->thread, NULL, sink_thread, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		snprintf(err, errlen, "%s sink thread: %s", ops->name, strerror(-ret));
		goto fail;
	}
	s->started = true;
	*out = s;
	return 0;
fail:
	vigil_sink_close(s);
	return ret;
}

void vigil_sink_close(struct vigil_sink *s)
{
	if (!s)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->mu);
		s->stop = true;
		pthread_cond_signal(&s->work);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->thread, NULL);
	}
	for (unsigned int i = 0; i < s->qn; i++)
		free(s->q[(s->qhead + i) % s->qcap].buf);
	if (s->up)
		s->ops->disconnect(s->be);
	s->ops->free(s->be);
	vigil_spool_close(s->spool);
	free(s->q);
	free(s->spool_path);
	pthread_cond_destroy(&s->work);
	pthread_cond_destroy(&s->idle);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
