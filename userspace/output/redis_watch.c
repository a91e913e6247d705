// SPDX-License-Identifier: Apache-2.0
/*
 * redis_watch: approvals from the stream P:N:approvals and the applications' busy keys, read
 * by a thread of its own (see redis_watch.h).
 *
 * The thread, in a loop: connect if need be (1 s between tries while Redis does not answer);
 * every VIGIL_BUSY_POLL_MS, one pipelined EXISTS per busy key; in between, XREAD BLOCK on the
 * approvals stream for what is left of the period, so a decision reaches the healer within a
 * round trip of being written. Decisions go to the loop through a bounded queue and an
 * eventfd; the loop's callback drains the queue and hands each to fn.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "core/privileges.h"
#include "core/clock.h"
#include "output/redis_watch.h"

#define RETRY_MS 1000
#define XREAD_COUNT "64"

struct busy {
	char *key;
	int value;	/* 1 set, 0 absent */
	uint64_t at_ns; /* when answered (monotonic); 0: never */
};

struct vigil_redis_watch {
	struct vigil_redis_opts o;
	char *strs[5]; /* o's strings, owned */
	char stream[640];
	char last_id[48]; /* the approvals stream, read after this id */
	struct vigil_loop *loop;
	vigil_approval_fn fn;
	void *arg;
	int efd;
	bool watched;

	pthread_t thread;
	bool started;
	redisContext *c; /* the thread's */

	pthread_mutex_t mu; /* everything below */
	bool stop;
	struct busy *busy;
	unsigned int n_busy;
	struct vigil_approval_msg q[VIGIL_WATCH_QUEUE];
	unsigned int qhead, qn;
	bool up;
	uint64_t read, malformed, dropped;
	char last_error[256];
};

int vigil_approval_parse(const char *const *keys, const char *const *vals, unsigned int n,
			 struct vigil_approval_msg *m, char *why, size_t len)
{
	const char *incident = NULL, *by = NULL, *decision = NULL, *reason = NULL;

	for (unsigned int i = 0; i < n; i++) {
		if (!strcmp(keys[i], "incident"))
			incident = vals[i];
		else if (!strcmp(keys[i], "by"))
			by = vals[i];
		else if (!strcmp(keys[i], "decision"))
			decision = vals[i];
		else if (!strcmp(keys[i], "reason"))
			reason = vals[i];
	}
	if (!incident || !incident[0] || strlen(incident) >= sizeof(m->incident)) {
		snprintf(why, len, "no incident id");
		return -EINVAL;
	}
	/* Who decided is the point of an approval: an anonymous one is not taken. */
	if (!by || !by[0]) {
		snprintf(why, len, "no 'by': who decided");
		return -EINVAL;
	}
	if (decision && strcmp(decision, "approve") && strcmp(decision, "deny")) {
		snprintf(why, len, "decision '%.32s' is neither approve nor deny", decision);
		return -EINVAL;
	}
	snprintf(m->incident, sizeof(m->incident), "%s", incident);
	snprintf(m->by, sizeof(m->by), "%s", by);
	snprintf(m->reason, sizeof(m->reason), "%s", reason ? reason : "");
	m->deny = decision && !strcmp(decision, "deny");
	return 0;
}

/* Under mu. */
static void set_error(struct vigil_redis_watch *w, const char *why)
{
	snprintf(w->last_error, sizeof(w->last_error), "%.255s", why);
}

/* The connection failed or went out of step: drop it, say why. */
static void lost(struct vigil_redis_watch *w, const char *why)
{
	if (w->c)
		redisFree(w->c);
	w->c = NULL;
	pthread_mutex_lock(&w->mu);
	w->up = false;
	set_error(w, why);
	pthread_mutex_unlock(&w->mu);
}

/* One EXISTS per busy key, pipelined; their answers into the cache. Returns 0 or -EIO. */
static int poll_busy(struct vigil_redis_watch *w)
{
	char why[200];
	int ret = 0;

	for (unsigned int i = 0; i < w->n_busy; i++)
		redisAppendCommand(w->c, "EXISTS %s", w->busy[i].key);
	for (unsigned int i = 0; i < w->n_busy; i++) {
		redisReply *rep = NULL;

		if (vigil_redis_get_reply(w->c, &rep) != REDIS_OK) {
			snprintf(why, sizeof(why), "EXISTS: %s", w->c->errstr);
			lost(w, why);
			return -EIO;
		}
		pthread_mutex_lock(&w->mu);
		if (rep->type == REDIS_REPLY_INTEGER) {
			w->busy[i].value = rep->integer > 0;
			w->busy[i].at_ns = vigil_mono_ns();
		} else {
			set_error(w, rep->type == REDIS_REPLY_ERROR ? rep->str
								    : "EXISTS: not a number");
			ret = -EIO;
		}
		pthread_mutex_unlock(&w->mu);
		freeReplyObject(rep);
	}
	return ret;
}

/* Queue one decision for the loop and wake it. Under mu. */
static void enqueue(struct vigil_redis_watch *w, const struct vigil_approval_msg *m)
{
	uint64_t one = 1;

	if (w->qn == VIGIL_WATCH_QUEUE) {
		w->dropped++;
		return;
	}
	w->q[(w->qhead + w->qn) % VIGIL_WATCH_QUEUE] = *m;
	w->qn++;
	/* EAGAIN only when the counter is at its maximum: the loop drains it anyway. */
	(void)!write(w->efd, &one, sizeof(one));
}

/* One stream entry: [id, [k, v, ...]] as a decision, or why not (m->entry set when it has an
 * id). */
static int entry(const redisReply *e, struct vigil_approval_msg *m, char *why, size_t len)
{
	const char *keys[32], *vals[32];
	const redisReply *kv;
	unsigned int n = 0;

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING || !e->element[0]->str[0] ||
	    e->element[0]->len >= sizeof(m->entry)) {
		snprintf(why, len, "an entry without an id");
		return -EPROTO;
	}
	snprintf(m->entry, sizeof(m->entry), "%s", e->element[0]->str);
	kv = e->element[1];
	if (kv->type != REDIS_REPLY_ARRAY || kv->elements % 2) {
		snprintf(why, len, "fields are not pairs");
		return -EINVAL;
	}
	for (size_t i = 0; i < kv->elements; i += 2) {
		if (kv->element[i]->type != REDIS_REPLY_STRING ||
		    kv->element[i + 1]->type != REDIS_REPLY_STRING) {
			snprintf(why, len, "a field that is not a string");
			return -EINVAL;
		}
		if (n == 32) {
			snprintf(why, len, "more than 32 fields");
			return -EINVAL;
		}
		keys[n] = kv->element[i]->str;
		vals[n++] = kv->element[i + 1]->str;
	}
	return vigil_approval_parse(keys, vals, n, m, why, len);
}

int vigil_approvals_walk(const struct redisReply *rep, vigil_approval_each_fn fn, void *arg)
{
	const redisReply *es;
	int n = 0;

	if (rep->type == REDIS_REPLY_NIL)
		return 0;
	/* [[stream, [entry, ...]]] */
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 1 ||
	    rep->element[0]->type != REDIS_REPLY_ARRAY || rep->element[0]->elements != 2 ||
	    rep->element[0]->element[1]->type != REDIS_REPLY_ARRAY)
		return -EPROTO;
	es = rep->element[0]->element[1];
	for (size_t i = 0; i < es->elements; i++, n++) {
		struct vigil_approval_msg m = {};
		char why[128];
		int err = entry(es->element[i], &m, why, sizeof(why));

		fn(&m, err ? why : NULL, arg);
	}
	return n;
}

/* An entry read: queued for the loop, or counted as malformed; the stream is read after it. */
static void take_entry(const struct vigil_approval_msg *m, const char *why, void *arg)
{
	struct vigil_redis_watch *w = arg;

	if (m->entry[0])
		snprintf(w->last_id, sizeof(w->last_id), "%s", m->entry);
	pthread_mutex_lock(&w->mu);
	w->read++;
	if (why) {
		w->malformed++;
		snprintf(w->last_error, sizeof(w->last_error), "approvals entry %s: %s",
			 m->entry[0] ? m->entry : "?", why);
	} else {
		enqueue(w, m);
	}
	pthread_mutex_unlock(&w->mu);
}

/* XREAD BLOCK up to block_ms for new approvals. Returns 0 or -EIO. */
static int read_approvals(struct vigil_redis_watch *w, unsigned int block_ms)
{
	char block[16], why[200];
	const char *argv[] = {"XREAD", "COUNT",	  XREAD_COUNT, "BLOCK",
			      block,   "STREAMS", w->stream,   w->last_id};
	redisReply *rep;

	snprintf(block, sizeof(block), "%u", block_ms ? block_ms : 1);
	rep = vigil_redis_command(w->c, 8, argv, NULL);
	if (!rep) {
		snprintf(why, sizeof(why), "XREAD: %s", w->c->errstr);
		lost(w, why);
		return -EIO;
	}
	if (rep->type == REDIS_REPLY_ERROR) {
		snprintf(why, sizeof(why), "XREAD: %s", rep->str);
		freeReplyObject(rep);
		lost(w, why); /* NOPERM and the like: said, retried after a pause */
		return -EIO;
	}
	/* Nil when nothing came. */
	if (vigil_approvals_walk(rep, take_entry, w) < 0) {
		freeReplyObject(rep);
		lost(w, "XREAD: a reply that is not a stream's entries");
		return -EIO;
	}
	freeReplyObject(rep);
	return 0;
}

static bool stopping(struct vigil_redis_watch *w)
{
	bool s;

	pthread_mutex_lock(&w->mu);
	s = w->stop;
	pthread_mutex_unlock(&w->mu);
	return s;
}

static void *watch_main(void *arg)
{
	struct vigil_redis_watch *w = arg;
	uint64_t next_busy = 0, now;
	char why[256];

	vigil_privileges_drop_thread(); /* network and root's files: nothing more */
	while (!stopping(w)) {
		if (!w->c) {
			w->c = vigil_redis_connect(&w->o, why, sizeof(why));
			if (!w->c) {
				pthread_mutex_lock(&w->mu);
				w->up = false;
				set_error(w, why);
				pthread_mutex_unlock(&w->mu);
				usleep(RETRY_MS * 1000);
				continue;
			}
			pthread_mutex_lock(&w->mu);
			w->up = true;
			pthread_mutex_unlock(&w->mu);
		}
		now = vigil_mono_ns();
		if (w->n_busy && now >= next_busy) {
			next_busy = now + VIGIL_BUSY_POLL_MS * 1000000ull;
			if (poll_busy(w))
				continue;
		}
		/* Until the next busy poll, at most a poll period (the stop is seen then too). */
		now = vigil_mono_ns();
		if (read_approvals(w, w->n_busy && next_busy > now
					  ? (unsigned int)((next_busy - now) / 1000000)
					  : VIGIL_BUSY_POLL_MS))
			usleep(RETRY_MS * 1000);
	}
	return NULL;
}

/* The eventfd is readable: hand every queued decision to fn, on the loop. */
static void on_event(struct vigil_loop *loop, int fd, uint32_t events, void *arg)
{
	struct vigil_redis_watch *w = arg;
	struct vigil_approval_msg m;
	uint64_t n;

	(void)loop;
	(void)events;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	for (;;) {
		pthread_mutex_lock(&w->mu);
		if (!w->qn) {
			pthread_mutex_unlock(&w->mu);
			return;
		}
		m = w->q[w->qhead];
		w->qhead = (w->qhead + 1) % VIGIL_WATCH_QUEUE;
		w->qn--;
		pthread_mutex_unlock(&w->mu);
		w->fn(&m, w->arg);
	}
}

int vigil_redis_watch_open(const struct vigil_redis_opts *o, const char *const *busy_keys,
			   unsigned int n, uint64_t since_wall_ms, struct vigil_loop *loop,
			   vigil_approval_fn fn, void *arg, struct vigil_redis_watch **out,
			   char *err, size_t errlen)
{
	const char *strs[5] = {o->url, o->username, o->password, o->prefix, o->node};
	struct vigil_redis_url u;
	struct vigil_redis_watch *w;
	sigset_t all, old;
	int ret;

	ret = vigil_redis_parse_url(o->url, &u, err, errlen);
	if (ret)
		return ret;
	w = calloc(1, sizeof(*w));
	if (!w)
		goto nomem;
	w->efd = -1;
	pthread_mutex_init(&w->mu, NULL);
	for (int i = 0; i < 5; i++)
		if (strs[i] && !(w->strs[i] = strdup(strs[i])))
			goto nomem;
	w->o = *o;
	w->o.url = w->strs[0];
	w->o.username = w->strs[1];
	w->o.password = w->strs[2];
	w->o.prefix = w->strs[3];
	w->o.node = w->strs[4];
	snprintf(w->stream, sizeof(w->stream), "%s:%s:approvals", o->prefix, o->node);
	snprintf(w->last_id, sizeof(w->last_id), "%llu-0", (unsigned long long)since_wall_ms);
	w->loop = loop;
	w->fn = fn;
	w->arg = arg;
	if (n && !(w->busy = calloc(n, sizeof(*w->busy))))
		goto nomem;
	for (unsigned int i = 0; i < n; i++)
		if (!(w->busy[i].key = strdup(busy_keys[i])))
			goto nomem;
	w->n_busy = n;
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0) {
		ret = -errno;
		snprintf(err, errlen, "redis watch: eventfd: %s", strerror(-ret));
		goto fail;
	}
	ret = vigil_loop_add_fd(loop, w->efd, EPOLLIN, on_event, w);
	if (ret) {
		snprintf(err, errlen, "redis watch: %s", strerror(-ret));
		goto fail;
	}
	w->watched = true;
	/* The thread takes no signal: they are the event loop's (its signalfd). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ret = -pthread_create(&w->thread, NULL, watch_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		snprintf(err, errlen, "redis watch thread: %s", strerror(-ret));
		goto fail;
	}
	w->started = true;
	*out = w;
	return 0;
nomem:
	ret = -ENOMEM;
	snprintf(err, errlen, "redis watch: %s", strerror(ENOMEM));
fail:
	vigil_redis_watch_close(w);
	return ret;
}

void vigil_redis_watch_close(struct vigil_redis_watch *w)
{
	if (!w)
		return;
	if (w->started) {
		pthread_mutex_lock(&w->mu);
		w->stop = true;
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->thread, NULL);
	}
	if (w->c)
		redisFree(w->c);
	if (w->watched)
		vigil_loop_del_fd(w->loop, w->efd);
	if (w->efd >= 0)
		close(w->efd);
	for (unsigned int i = 0; w->busy && i < w->n_busy; i++)
		free(w->busy[i].key);
	free(w->busy);
	for (int i = 0; i < 5; i++)
		free(w->strs[i]);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

int vigil_redis_watch_busy(struct vigil_redis_watch *w, unsigned int i)
{
	uint64_t now = vigil_mono_ns();
	int v = -1;

	if (!w || i >= w->n_busy)
		return -1;
	pthread_mutex_lock(&w->mu);
	if (w->busy[i].at_ns && now - w->busy[i].at_ns <= VIGIL_BUSY_STALE_MS * 1000000ull)
		v = w->busy[i].value;
	pthread_mutex_unlock(&w->mu);
	return v;
}

void vigil_redis_watch_status_json(struct vigil_redis_watch *w, struct vigil_json *j)
{
	uint64_t now = vigil_mono_ns();

	pthread_mutex_lock(&w->mu);
	vigil_json_str(j, "state", w->up ? "up" : "down");
	vigil_json_str(j, "approvals_stream", w->stream);
	vigil_json_u64(j, "approvals_read", w->read);
	vigil_json_u64(j, "approvals_malformed", w->malformed);
	vigil_json_u64(j, "approvals_dropped", w->dropped);
	vigil_json_array_begin(j, "busy_keys");
	for (unsigned int i = 0; i < w->n_busy; i++) {
		bool fresh =
		    w->busy[i].at_ns && now - w->busy[i].at_ns <= VIGIL_BUSY_STALE_MS * 1000000ull;

		vigil_json_object_begin(j, NULL);
		vigil_json_str(j, "key", w->busy[i].key);
		vigil_json_str(j, "answer",
			       !fresh		  ? "unknown"
			       : w->busy[i].value ? "set"
						  : "absent");
		vigil_json_object_end(j);
	}
	vigil_json_array_end(j);
	vigil_json_str(j, "last_error", w->last_error);
	pthread_mutex_unlock(&w->mu);
}
