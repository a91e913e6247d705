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
 * "reordered". Hashes are set
 * with HSET of absolute values, so writing one again changes nothing.
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

#include "redis.h"
#include "redis_cmd.h"
#include "spool.h"

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

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Callers hold mu. */
static void set_error(struct vigil_redis *r, const char *fmt, const char *what)
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
			set_error(r, "spool write: %s", strerror(-err));
			pthread_mutex_unlock(&r->mu);
		}
	}
	sync_spool_stats(r);
}

/* --- connection ---------------------------------------------------------------------------- */

static void disconnect(struct vigil_redis *r, const char *why)
{
	if (r->c)
		redisFree(r->c);
	r->c = NULL;
	r->backoff_ms = r->backoff_ms ? r->backoff_ms * 2 : BACKOFF_FIRST_MS;
	if (r->backoff_ms > BACKOFF_MAX_MS)
		r->backoff_ms = BACKOFF_MAX_MS;
	pthread_mutex_lock(&r->mu);
	r->st.state = VIGIL_REDIS_DOWN;
	r->next_try_ns = now_ns() + r->backoff_ms * 1000000ull;
	if (why)
		set_error(r, "%s", why);
	pthread_mutex_unlock(&r->mu);
}

/* A command on a fresh connection, at setup. Returns 0, or -EIO with why written. */
static int setup_cmd(redisContext *c, int argc, const char **argv, char *why, size_t len)
{
	redisReply *rep = redisCommandArgv(c, argc, argv, NULL);
	int ret = 0;

	if (!rep) {
		snprintf(why, len, "%s: %s", argv[0], c->errstr);
		return -EIO;
	}
	if (rep->type == REDIS_REPLY_ERROR) {
		snprintf(why, len, "%s: %s", argv[0], rep->str);
		ret = -EIO;
	}
	freeReplyObject(rep);
	return ret;
}

/* Connect, authenticate, select the database. Returns the connection, or NULL with why. */
static redisContext *open_conn(const struct vigil_redis_url *u, const char *user, const char *pass,
			       unsigned int timeout_ms, char *why, size_t len)
{
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	const char *argv[3];
	redisContext *c;
	char db[16];

	if (u->is_unix)
		c = redisConnectUnixWithTimeout(u->host, tv);
	else
		c = redisConnectWithTimeout(u->host, u->port, tv);
	if (!c || c->err) {
		snprintf(why, len, "connect %.64s: %.80s", u->host,
			 c ? c->errstr : "out of memory");
		goto fail;
	}
	redisSetTimeout(c, tv);
	if (!u->is_unix)
		redisEnableKeepAlive(c);
	if (pass[0]) {
		argv[0] = "AUTH";
		argv[1] = user[0] ? user : pass;
		argv[2] = pass;
		if (setup_cmd(c, user[0] ? 3 : 2, argv, why, len))
			goto fail;
	}
	if (u->db) {
		snprintf(db, sizeof(db), "%d", u->db);
		argv[0] = "SELECT";
		argv[1] = db;
		if (setup_cmd(c, 2, argv, why, len))
			goto fail;
	}
	return c;
fail:
	if (c)
		redisFree(c);
	return NULL;
}

/* Connect. Returns 0 (up) or -EIO (down, retry later). */
static int connect_redis(struct vigil_redis *r)
{
	char why[160];

	r->c = open_conn(&r->url, r->user, r->pass, r->timeout_ms, why, sizeof(why));
	if (!r->c) {
		disconnect(r, why);
		return -EIO;
	}
	r->backoff_ms = 0;
	pthread_mutex_lock(&r->mu);
	r->st.state = VIGIL_REDIS_UP;
	r->st.reconnects += r->ever_up;
	r->st.last_error[0] = '\0';
	pthread_mutex_unlock(&r->mu);
	r->ever_up = true;
	return 0;
}

int vigil_redis_ping(const struct vigil_redis_opts *o, char *msg, size_t len)
{
	struct vigil_redis_url u;
	const char *argv[] = {"PING"};
	redisContext *c;
	int ret;

	ret = vigil_redis_parse_url(o->url, &u, msg, len);
	if (ret)
		return ret;
	c = open_conn(&u, o->username ? o->username : u.user, o->password ? o->password : u.pass,
		      o->timeout_ms ? o->timeout_ms : 2000, msg, len);
	if (!c)
		return -EIO;
	ret = setup_cmd(c, 1, argv, msg, len);
	if (!ret) {
		char safe[256];

		snprintf(msg, len, "%s answers", vigil_redis_url_safe(o->url, safe, sizeof(safe)));
	}
	redisFree(c);
	return ret;
}

/* --- one record's commands ----------------------------------------------------------------- */

/* Plan one record into r->plan (auto_id: for a stream entry Redis numbers). Returns 0 or
 * -errno (-EINVAL: not a record). */
static int plan_record(struct vigil_redis *r, const char *json, size_t len, bool auto_id)
{
	if (len + 1 > r->scratch_cap) {
		char *b = realloc(r->scratch, len + 1);

		if (!b)
			return -ENOMEM;
		r->scratch = b;
		r->scratch_cap = len + 1;
	}
	return vigil_redis_plan(r->plan, r->base, r->maxlen, json, len, r->scratch, auto_id);
}

/* Append one record's commands to the connection's output. */
static void append_record(struct vigil_redis *r, const char *json, size_t len, struct sent *s)
{
	*s = (struct sent){0};
	if (plan_record(r, json, len, false))
		return;
	for (unsigned int k = 0; k < r->plan->ncmd; k++)
		redisAppendCommandArgv(r->c, r->plan->cmd[k].argc, r->plan->cmd[k].argv,
				       r->plan->cmd[k].argl);
	s->ncmd = r->plan->ncmd;
	s->xadd = r->plan->xadd;
}

/* An error that says Redis cannot take writes now (retry later), not that the record is bad. */
static bool transient(const char *msg)
{
	static const char *const codes[] = {"OOM",	"READONLY",    "NOAUTH",     "WRONGPASS",
					    "NOPERM",	"LOADING",     "MASTERDOWN", "BUSY",
					    "TRYAGAIN", "CLUSTERDOWN", "MISCONF",    "NOREPLICAS"};

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (!strncmp(msg, codes[i], strlen(codes[i])))
			return true;
	return false;
}

/* A synchronous command; NULL when the connection failed. */
static redisReply *command(struct vigil_redis *r, int argc, const char **argv)
{
	return redisCommandArgv(r->c, argc, argv, NULL);
}

/* Whether stream id a ("MS-N") is below b. */
static bool id_before(const char *a, const char *b)
{
	unsigned long long am = 0, an = 0, bm = 0, bn = 0;

	sscanf(a, "%llu-%llu", &am, &an);
	sscanf(b, "%llu-%llu", &bm, &bn);
	return am < bm || (am == bm && an < bn);
}

/* Whether a stream entry ([id, [k, v, ...]]) holds exactly the planned record's fields. */
static bool same_entry(const struct vigil_redis_plan *p, const redisReply *e)
{
	const redisReply *kv;

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
		return false;
	kv = e->element[1];
	if (kv->type != REDIS_REPLY_ARRAY || kv->elements != 2 * (size_t)p->nf)
		return false;
	for (int i = 0; i < p->nf; i++) {
		const redisReply *k = kv->element[2 * i], *v = kv->element[2 * i + 1];

		if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
		    (size_t)k->len != p->kl[i] || (size_t)v->len != p->vl[i] ||
		    memcmp(k->str, p->k[i], p->kl[i]) || memcmp(v->str, p->v[i], p->vl[i]))
			return false;
	}
	return true;
}

/*
 * The stream refused the record's id as not above its last: was the record written before?
 * Returns 1 (yes: a duplicate), 0 (no: added now under a new id), -EIO (connection lost).
 */
static int settle_duplicate(struct vigil_redis *r, const char *json, size_t len)
{
	struct vigil_redis_plan *p = r->plan;
	const char *argv[6];
	redisReply *rep;
	int found;

	if (plan_record(r, json, len, true))
		return 1; /* cannot happen: it was planned before */
	argv[0] = "XRANGE";
	argv[1] = p->stream;
	argv[2] = p->rid;
	argv[3] = p->rid;
	rep = command(r, 4, argv);
	if (!rep)
		return -EIO;
	/* There under its id, and the same record (a clock stepped back across a restart of
	 * vigil could give another record the same id). */
	found =
	    rep->type == REDIS_REPLY_ARRAY && rep->elements > 0 && same_entry(p, rep->element[0]);
	freeReplyObject(rep);
	if (found)
		return 1;
	/* Not there. Trimmed away by MAXLEN — then the stream is at its cap and its first entry is
	 * newer — or never written (its id is below the stream's last, as after a clock stepped
	 * back across a restart of vigil). */
	argv[0] = "XLEN";
	rep = command(r, 2, argv);
	if (!rep)
		return -EIO;
	found = rep->type == REDIS_REPLY_INTEGER && (uint64_t)rep->integer >= r->maxlen_n;
	freeReplyObject(rep);
	if (found) {
		argv[0] = "XRANGE";
		argv[2] = "-";
		argv[3] = "+";
		argv[4] = "COUNT";
		argv[5] = "1";
		rep = command(r, 6, argv);
		if (!rep)
			return -EIO;
		found = rep->type == REDIS_REPLY_ARRAY && rep->elements &&
			rep->element[0]->type == REDIS_REPLY_ARRAY && rep->element[0]->elements &&
			rep->element[0]->element[0]->type == REDIS_REPLY_STRING &&
			id_before(p->rid, rep->element[0]->element[0]->str);
		freeReplyObject(rep);
		if (found)
			return 1;
	}
	rep = redisCommandArgv(r->c, p->cmd[0].argc, p->cmd[0].argv, p->cmd[0].argl);
	if (!rep)
		return -EIO;
	freeReplyObject(rep);
	pthread_mutex_lock(&r->mu);
	r->st.reordered++;
	pthread_mutex_unlock(&r->mu);
	return 0;
}

/* Write what hiredis holds of the commands appended so far. A failure shows again, and is
 * handled, when the replies are read. */
static void send_pending(struct vigil_redis *r)
{
	int done = 0;

	while (!done && redisBufferWrite(r->c, &done) == REDIS_OK)
		;
}

/*
 * Write n records, pipelined. Returns the number acknowledged from the start (all n on
 * success); fewer means the rest must be written again later (connection lost, or Redis
 * refusing writes), and the connection has been closed.
 */
static unsigned int send_records(struct vigil_redis *r, char *const *bufs, const size_t *lens,
				 unsigned int n)
{
	struct sent *sent = r->sent;
	unsigned int first_fail = n, written = 0, dups = 0, rejected = 0;
	bool lost = false;
	char why[160] = "";

	for (unsigned int i = 0; i < n; i++) {
		append_record(r, bufs[i], lens[i], &sent[i]);
		/* Send as we go: Redis works on the first commands while the rest are formatted. */
		if (i % SEND_EVERY == SEND_EVERY - 1)
			send_pending(r);
	}
	/* Every reply is read, to keep the connection in step; a record is done only if it is
	 * before the first one Redis could not take now. */
	for (unsigned int i = 0; i < n && !lost; i++) {
		for (unsigned int k = 0; k < sent[i].ncmd; k++) {
			redisReply *rep;

			if (redisGetReply(r->c, (void **)&rep) != REDIS_OK) {
				snprintf(why, sizeof(why), "write: %s", r->c->errstr);
				lost = true;
				if (i < first_fail)
					first_fail = i;
				break;
			}
			if (rep->type == REDIS_REPLY_ERROR) {
				if (k == 0 && sent[i].xadd &&
				    strstr(rep->str, "equal or smaller")) {
					sent[i].dup = true;
				} else if (transient(rep->str)) {
					snprintf(why, sizeof(why), "refused: %s", rep->str);
					if (i < first_fail)
						first_fail = i;
				} else {
					snprintf(why, sizeof(why), "rejected: %s", rep->str);
					sent[i].bad = true;
				}
			}
			freeReplyObject(rep);
		}
	}
	for (unsigned int i = 0; i < first_fail; i++) {
		int d;

		if (!sent[i].ncmd || sent[i].bad) {
			if (!sent[i].ncmd)
				snprintf(why, sizeof(why),
					 "rejected: a record that is not a vigil "
					 "record was skipped");
			rejected++;
			continue;
		}
		if (!sent[i].dup) {
			written++;
			continue;
		}
		d = settle_duplicate(r, bufs[i], lens[i]);
		if (d < 0) {
			snprintf(why, sizeof(why), "write: %s", r->c->errstr);
			first_fail = i;
			break;
		}
		dups += d;
		written += !d;
	}
	pthread_mutex_lock(&r->mu);
	r->st.written += written;
	r->st.duplicates += dups;
	r->st.rejected += rejected;
	if (why[0] && first_fail == n)
		set_error(r, "%s", why);
	pthread_mutex_unlock(&r->mu);
	if (first_fail < n)
		disconnect(r, why);
	return first_fail;
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
	r->st.queued = r->qn;
	return n;
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
		unsigned int ok = send_records(r, (char *const *)(recs + done), lens + done, k);

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
			if (now_ns() >= r->next_try_ns) {
				pthread_mutex_unlock(&r->mu);
				connect_redis(r);
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
			wait_until(r, now_ns() + 1000000000ull);
			continue;
		}
		r->busy = true;
		n = take(r, BATCH);
		pthread_mutex_unlock(&r->mu);
		ok = send_records(r, r->bufs, r->lens, n);
		if (ok < n)
			spool_put(r, r->bufs + ok, r->lens + ok, n - ok);
		release(r, n);
		pthread_mutex_lock(&r->mu);
	}
	/* Stopping: one try to write what is left, the rest to the spool. */
	while ((n = take(r, BATCH))) {
		pthread_mutex_unlock(&r->mu);
		ok = r->c && !r->st.spool_pending ? send_records(r, r->bufs, r->lens, n) : 0;
		if (ok < n)
			spool_put(r, r->bufs + ok, r->lens + ok, n - ok);
		release(r, n);
		pthread_mutex_lock(&r->mu);
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
		r->st.queued = r->qn;
		copy = NULL;
		pthread_cond_signal(&r->work);
	}
	pthread_mutex_unlock(&r->mu);
	free(copy);
	return ret;
}

int vigil_redis_flush(struct vigil_redis *r, unsigned int timeout_ms)
{
	uint64_t deadline = now_ns() + timeout_ms * 1000000ull;
	struct timespec ts;
	int ret = 0;

	pthread_mutex_lock(&r->mu);
	while (r->qn || r->busy || (r->st.state == VIGIL_REDIS_UP && r->st.spool_pending)) {
		if (now_ns() >= deadline) {
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
	uint64_t now = now_ns();

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
