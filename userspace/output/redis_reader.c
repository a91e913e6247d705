// SPDX-License-Identifier: Apache-2.0
/* redis_reader: reading back from Redis, on connections of its own (see redis_reader.h). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "core/privileges.h"
#include "core/clock.h"
#include "heal/fleet.h"
#include "output/redis_cmd.h"
#include "output/redis_reader.h"

int vigil_redis_get_state(const struct vigil_redis_opts *o, char **text, size_t *len, char *msg,
			  size_t msglen)
{
	char key[VIGIL_REDIS_KEY_MAX];
	const char *argv[2] = {"GET", key};
	redisContext *c;
	redisReply *rep;
	int ret = 0;

	*text = NULL;
	*len = 0;
	if (snprintf(key, sizeof(key), "%s:%s:state", o->prefix, o->node) >= (int)sizeof(key)) {
		snprintf(msg, msglen, "GET: the key does not fit");
		return -EIO;
	}
	c = vigil_redis_connect(o, msg, msglen);
	if (!c)
		return -EIO;
	rep = vigil_redis_command(c, 2, argv, NULL);
	if (!rep) {
		snprintf(msg, msglen, "GET %.200s: %s", key, c->errstr);
		ret = -EIO;
	} else if (rep->type == REDIS_REPLY_ERROR) {
		snprintf(msg, msglen, "GET %.200s: %s", key, rep->str);
		ret = -EIO;
	} else if (rep->type == REDIS_REPLY_STRING) {
		*text = malloc(rep->len + 1);
		if (*text) {
			memcpy(*text, rep->str, rep->len);
			(*text)[rep->len] = '\0';
			*len = rep->len;
		} else {
			ret = -ENOMEM;
			snprintf(msg, msglen, "GET %.200s: %s", key, strerror(ENOMEM));
		}
	}
	if (rep)
		freeReplyObject(rep);
	redisFree(c);
	return ret;
}

/* --- the fleet's knowledge ---------------------------------------------------------------- */

#define LOAD_BATCH 256 /* hashes asked for in one round trip */

/* 16 lowercase hex digits: a signature vigil writes. */
static bool is_signature(const char *s, size_t len)
{
	if (len != 16)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* A rule name vigil's config allows: [A-Za-z0-9_.-]{1,63}. */
static bool is_action(const char *s, size_t len)
{
	if (!len || len >= VIGIL_KNOW_STR)
		return false;
	/* A NUL byte first: strchr() finds it in any string (its terminator). */
	for (size_t i = 0; i < len; i++)
		if (!s[i] ||
		    !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-",
			    s[i]))
			return false;
	return true;
}

/* The entries being loaded. */
struct load {
	struct vigil_fleet_entry *e;
	size_t n, cap;
};

/* The entry of (sig, action) among those from index first on, made if missing. NULL when the
 * cache is full or out of memory. */
static struct vigil_fleet_entry *entry(struct load *l, size_t first, const char *sig,
				       const char *action, size_t alen)
{
	struct vigil_fleet_entry *e;

	for (size_t i = first; i < l->n; i++)
		if (strlen(l->e[i].action) == alen && !memcmp(l->e[i].action, action, alen))
			return &l->e[i];
	if (l->n == VIGIL_FLEET_MAX)
		return NULL;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;

		e = realloc(l->e, cap * sizeof(*e));
		if (!e)
			return NULL;
		l->e = e;
		l->cap = cap;
	}
	e = &l->e[l->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->signature, sizeof(e->signature), "%s", sig);
	memcpy(e->action, action, alen);
	return e;
}

/* The counts of one signature's hash (an HGETALL reply) into l. */
static void parse_hash(const redisReply *rep, const char *sig, struct load *l)
{
	size_t first = l->n;

	if (rep->type != REDIS_REPLY_ARRAY)
		return;
	for (size_t i = 0; i + 1 < rep->elements; i += 2) {
		const redisReply *k = rep->element[i], *v = rep->element[i + 1];
		struct vigil_fleet_entry *e;
		const char *dot;
		unsigned long long n;
		char *end, num[24];
		bool att;

		if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
		    !(dot = memrchr(k->str, '.', k->len)))
			continue;
		att = (size_t)(k->str + k->len - dot) == 9 && !memcmp(dot, ".attempts", 9);
		if (!att &&
		    !((size_t)(k->str + k->len - dot) == 10 && !memcmp(dot, ".successes", 10)))
			continue;
		if (!is_action(k->str, (size_t)(dot - k->str)) || !v->len ||
		    (size_t)v->len >= sizeof(num))
			continue;
		memcpy(num, v->str, v->len);
		num[v->len] = '\0';
		errno = 0;
		n = strtoull(num, &end, 10);
		if (*end || errno || num[0] == '-' || n > INT64_MAX)
			continue;
		e = entry(l, first, sig, k->str, (size_t)(dot - k->str));
		if (!e)
			return;
		if (att)
			e->attempts = n;
		else
			e->successes = n;
	}
	for (size_t i = first; i < l->n; i++)
		if (l->e[i].successes > l->e[i].attempts)
			l->e[i].successes = l->e[i].attempts;
}

static int sig_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 17);
}

/* Sort the n signatures at sigs and drop repeats: a set has none, but a server that lists one
 * signature a thousand times would have it asked for, and its entries cached, a thousand times
 * (the fleet cache full of copies). Returns how many are left. */
static size_t unique_sigs(char (*sigs)[17], size_t n)
{
	size_t k = 0;

	if (n)
		qsort(sigs, n, sizeof(*sigs), sig_cmp);
	for (size_t i = 0; i < n; i++)
		if (!k || memcmp(sigs[k - 1], sigs[i], sizeof(*sigs)))
			memmove(sigs[k++], sigs[i], sizeof(*sigs));
	return k;
}

/* HGETALL of each of the n signatures at sigs (pipelined), into l. Returns 0 or -EIO (the
 * connection lost, or a read refused by the ACL). */
static int load_hashes(redisContext *c, const char *prefix, char (*sigs)[17], size_t n,
		       struct load *l, char *why, size_t len)
{
	char key[VIGIL_REDIS_KEY_MAX];
	int ret = 0;

	for (size_t i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "%s:knowledge:%s", prefix, sigs[i]);
		redisAppendCommand(c, "HGETALL %s", key);
	}
	for (size_t i = 0; i < n; i++) {
		redisReply *rep;

		if (vigil_redis_get_reply(c, &rep) != REDIS_OK) {
			snprintf(why, len, "HGETALL: %s", c->errstr);
			return -EIO; /* the connection is gone */
		}
		if (rep->type == REDIS_REPLY_ERROR && !strncmp(rep->str, "NOPERM", 6)) {
			/* Not allowed to read it: the fleet's numbers would be wrong, not just
			 * short of one signature's. */
			snprintf(why, len, "HGETALL: %s", rep->str);
			ret = -EIO;
		} else if (rep->type != REDIS_REPLY_ERROR) { /* WRONGTYPE: not ours, skipped */
			parse_hash(rep, sigs[i], l);
		}
		freeReplyObject(rep);
	}
	return ret;
}

int vigil_fleet_load(struct redisContext *c, const char *prefix, struct vigil_fleet_entry **e,
		     size_t *n, char *why, size_t len)
{
	char key[VIGIL_REDIS_KEY_MAX], (*sigs)[17] = NULL;
	struct load l = {};
	redisReply *rep;
	size_t ns = 0;
	int ret = 0;

	*e = NULL;
	*n = 0;
	snprintf(key, sizeof(key), "%s:knowledge:index", prefix);
	{
		const char *argv[] = {"SMEMBERS", key};

		rep = vigil_redis_command(c, 2, argv, NULL);
	}
	if (!rep) {
		snprintf(why, len, "SMEMBERS: %s", c->errstr);
		return -EIO;
	}
	if (rep->type == REDIS_REPLY_ERROR) {
		snprintf(why, len, "SMEMBERS: %s", rep->str);
		freeReplyObject(rep);
		return -EIO;
	}
	if (rep->elements) {
		sigs = calloc(rep->elements, sizeof(*sigs));
		if (!sigs) {
			freeReplyObject(rep);
			snprintf(why, len, "%s", strerror(ENOMEM));
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < rep->elements; i++) {
		const redisReply *s = rep->element[i];

		if (s->type == REDIS_REPLY_STRING && is_signature(s->str, s->len))
			memcpy(sigs[ns++], s->str, 17);
	}
	freeReplyObject(rep);
	ns = unique_sigs(sigs, ns);
	for (size_t i = 0; !ret && i < ns; i += LOAD_BATCH)
		ret = load_hashes(c, prefix, sigs + i, ns - i < LOAD_BATCH ? ns - i : LOAD_BATCH,
				  &l, why, len);
	free(sigs);
	if (ret) {
		free(l.e);
		return ret;
	}
	*e = l.e;
	*n = l.n;
	return 0;
}

struct vigil_fleet_reader {
	struct vigil_redis_opts o; /* its strings are the reader's copies */
	char *strs[5];
	struct vigil_fleet *f;
	uint64_t period_ms;
	redisContext *c; /* the thread's */
	pthread_t thread;
	bool started;
	pthread_mutex_t mu; /* stop, refresh_wanted, refresh_due_ns */
	pthread_cond_t cv;
	bool stop;
	bool refresh_wanted;
	uint64_t refresh_due_ns;
};

/* The connection, made if there is none. NULL when Redis does not answer (said to f). */
static redisContext *conn(struct vigil_fleet_reader *r)
{
	char why[256];

	if (!r->c) {
		r->c = vigil_redis_connect(&r->o, why, sizeof(why));
		if (!r->c)
			vigil_fleet_failed(r->f, why);
	}
	return r->c;
}

/* A command failed: the connection may be out of step, so it goes; the cache is told. */
static void lost(struct vigil_fleet_reader *r, const char *why)
{
	if (r->c)
		redisFree(r->c);
	r->c = NULL;
	vigil_fleet_failed(r->f, why);
}

/* A full load into the cache. Returns whether it worked. */
static bool load_all(struct vigil_fleet_reader *r)
{
	struct vigil_fleet_entry *e;
	char why[256];
	size_t n;

	if (!conn(r))
		return false;
	if (vigil_fleet_load(r->c, r->o.prefix, &e, &n, why, sizeof(why))) {
		lost(r, why);
		return false;
	}
	vigil_fleet_replace(r->f, e, n, vigil_wall_ns());
	return true;
}

/* The signatures waiting for a refresh, read again (all of it, if the list overflowed). */
static void refresh(struct vigil_fleet_reader *r)
{
	char sigs[VIGIL_FLEET_REFRESH][17], why[256];
	size_t n;
	bool all;

	while ((n = vigil_fleet_take_refresh(r->f, sigs, VIGIL_FLEET_REFRESH, &all)) || all) {
		if (all) {
			load_all(r);
			return;
		}
		for (size_t i = 0; i < n; i++) {
			struct load l = {};

			if (!conn(r))
				return;
			if (load_hashes(r->c, r->o.prefix, &sigs[i], 1, &l, why, sizeof(why))) {
				free(l.e);
				lost(r, why);
				return;
			}
			vigil_fleet_replace_signature(r->f, sigs[i], l.e, l.n);
			free(l.e);
		}
	}
}

static void deadline(struct timespec *ts, uint64_t mono_ns)
{
	ts->tv_sec = (time_t)(mono_ns / 1000000000ull);
	ts->tv_nsec = (long)(mono_ns % 1000000000ull);
}

static void *reader_main(void *arg)
{
	struct vigil_fleet_reader *r = arg;
	uint64_t next_load = 0, now, until;
	struct timespec ts;
	bool ok;

	vigil_privileges_drop_thread(); /* network and root's files: nothing more */
	pthread_mutex_lock(&r->mu);
	while (!r->stop) {
		now = vigil_mono_ns();
		if (now >= next_load) {
			pthread_mutex_unlock(&r->mu);
			ok = load_all(r);
			pthread_mutex_lock(&r->mu);
			next_load = vigil_mono_ns() +
				    (ok ? r->period_ms : VIGIL_FLEET_RETRY_MS) * 1000000ull;
			continue;
		}
		if (r->refresh_wanted && now >= r->refresh_due_ns) {
			r->refresh_wanted = false;
			pthread_mutex_unlock(&r->mu);
			refresh(r);
			pthread_mutex_lock(&r->mu);
			continue;
		}
		until = next_load;
		if (r->refresh_wanted && r->refresh_due_ns < until)
			until = r->refresh_due_ns;
		deadline(&ts, until);
		pthread_cond_timedwait(&r->cv, &r->mu, &ts);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* The cache's wake: a signature waits; read it again shortly (the sink is writing it). */
static void wake(void *arg)
{
	struct vigil_fleet_reader *r = arg;

	pthread_mutex_lock(&r->mu);
	if (!r->refresh_wanted) {
		r->refresh_wanted = true;
		r->refresh_due_ns = vigil_mono_ns() + VIGIL_FLEET_REFRESH_DELAY_MS * 1000000ull;
		pthread_cond_signal(&r->cv);
	}
	pthread_mutex_unlock(&r->mu);
}

int vigil_fleet_reader_open(const struct vigil_redis_opts *o, struct vigil_fleet *f,
			    unsigned int period_ms, struct vigil_fleet_reader **out, char *err,
			    size_t errlen)
{
	const char *strs[5] = {o->url, o->username, o->password, o->prefix, o->node};
	struct vigil_redis_url u;
	struct vigil_fleet_reader *r;
	pthread_condattr_t ca;
	sigset_t all, old;
	int ret;

	ret = vigil_redis_parse_url(o->url, &u, err, errlen);
	if (ret)
		return ret;
	r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	for (int i = 0; i < 5; i++) {
		if (!strs[i])
			continue;
		r->strs[i] = strdup(strs[i]);
		if (!r->strs[i]) {
			snprintf(err, errlen, "%s", strerror(ENOMEM));
			vigil_fleet_reader_close(r);
			return -ENOMEM;
		}
	}
	r->o = *o;
	r->o.url = r->strs[0];
	r->o.username = r->strs[1];
	r->o.password = r->strs[2];
	r->o.prefix = r->strs[3];
	r->o.node = r->strs[4];
	r->f = f;
	r->period_ms = period_ms ? period_ms : VIGIL_FLEET_PERIOD_MS;
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &ca);
	pthread_condattr_destroy(&ca);
	/* The thread takes no signal: they are the event loop's (its signalfd). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ret = -pthread_create(&r->thread, NULL, reader_main, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		snprintf(err, errlen, "fleet reader thread: %s", strerror(-ret));
		vigil_fleet_reader_close(r);
		return ret;
	}
	r->started = true;
	vigil_fleet_set_wake(f, wake, r);
	*out = r;
	return 0;
}

void vigil_fleet_reader_close(struct vigil_fleet_reader *r)
{
	if (!r)
		return;
	if (r->started) {
		vigil_fleet_set_wake(r->f, NULL, NULL);
		pthread_mutex_lock(&r->mu);
		r->stop = true;
		pthread_cond_signal(&r->cv);
		pthread_mutex_unlock(&r->mu);
		pthread_join(r->thread, NULL);
		pthread_cond_destroy(&r->cv);
		pthread_mutex_destroy(&r->mu);
	}
	if (r->c)
		redisFree(r->c);
	for (int i = 0; i < 5; i++)
		free(r->strs[i]);
	free(r);
}
