// SPDX-License-Identifier: Apache-2.0
/*
 * redis_send: the Redis sink's connection — connect, authenticate, select — and the writing of
 * records on it: pipelined, each record's commands from redis_cmd.c, every reply read, and a
 * record whose stream id Redis refuses as not new settled as a duplicate or written anew (see
 * redis.c for why that makes each record land once).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "output/redis_int.h"

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
	r->next_try_ns = vigil_redis_now_ns() + r->backoff_ms * 1000000ull;
	if (why)
		vigil_redis_set_error(r, "%s", why);
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
int vigil_redis_connect(struct vigil_redis *r)
{
	char why[160];

	r->c = open_conn(&r->url, r->user, r->pass, r->timeout_ms, why, sizeof(why));
	if (!r->c) {
		disconnect(r, why);
		return -EIO;
	}
	/* The backoff is reset by a write that works, not by a connection: a Redis that accepts
	 * and then refuses every write (OOM, READONLY) is retried ever more slowly too. */
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

/* A synchronous command of the duplicate check. NULL when the connection failed or Redis
 * answered with an error (the check cannot decide: the record is tried again later), with
 * why written. */
static redisReply *command(struct vigil_redis *r, int argc, const char **argv, char *why,
			   size_t len)
{
	redisReply *rep = redisCommandArgv(r->c, argc, argv, NULL);

	if (!rep) {
		snprintf(why, len, "write: %s", r->c->errstr);
		return NULL;
	}
	if (rep->type == REDIS_REPLY_ERROR) {
		snprintf(why, len, "refused: %s: %s", argv[0], rep->str);
		freeReplyObject(rep);
		return NULL;
	}
	return rep;
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
 * Returns 1 (yes: a duplicate), 0 (no: added now under a new id), -EIO (connection lost, or
 * Redis refused a command of the check: why says which; the record is tried again later).
 */
static int settle_duplicate(struct vigil_redis *r, const char *json, size_t len, char *why,
			    size_t wlen)
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
	rep = command(r, 4, argv, why, wlen);
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
	rep = command(r, 2, argv, why, wlen);
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
		rep = command(r, 6, argv, why, wlen);
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
	if (!rep) {
		snprintf(why, wlen, "write: %s", r->c->errstr);
		return -EIO;
	}
	found = rep->type == REDIS_REPLY_ERROR;
	if (found)
		snprintf(why, wlen, "refused: %s", rep->str);
	freeReplyObject(rep);
	if (found)
		return -EIO;
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
unsigned int vigil_redis_send(struct vigil_redis *r, char *const *bufs, const size_t *lens,
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
		d = settle_duplicate(r, bufs[i], lens[i], why, sizeof(why));
		if (d < 0) {
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
		vigil_redis_set_error(r, "%s", why);
	pthread_mutex_unlock(&r->mu);
	if (first_fail < n)
		disconnect(r, why);
	else
		r->backoff_ms = 0;
	return first_fail;
}
