// SPDX-License-Identifier: Apache-2.0
/*
 * redis: the Redis backend of the queued sink (sink.h): the connection — connect,
 * authenticate, select — and the writing of records on it: pipelined, each record's commands
 * from redis_cmd.c, every reply read, and a record whose stream id Redis refuses as not new
 * settled as a duplicate or written anew. The queue, the spool and replay are sink.c's.
 *
 * Exactly once: stream entries are written with an explicit id, the record's rid, which only
 * grows. A record replayed after a partial write meets "ID ... equal or smaller than the
 * target stream top item"; it is then looked up (XRANGE rid rid): found with the same fields,
 * or older than the first entry of a stream at its cap (trimmed by MAXLEN), it is a duplicate
 * and skipped; otherwise it was never written and is added with an id Redis picks, counted in
 * "reordered". Hashes are set with HSET of absolute values, so writing one again changes
 * nothing.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "output/redis.h"
#include "output/redis_cmd.h"
#include "output/sink.h"

#define SEND_EVERY 16 /* records formatted between two writes */

/* What was sent for one record of a batch. */
struct sent {
	unsigned int ncmd; /* commands (0: not a record; skipped) */
	bool xadd;	   /* the first is its stream entry */
	bool dup;	   /* its id was not above the stream's last: written before? */
	bool bad;	   /* Redis refused one of its commands for good */
};

/* The backend: set at open, then the sink thread's alone. */
struct redis_be {
	struct vigil_redis_url url;
	char user[128], pass[256];
	char *base;  /* "{prefix}:{node}:" */
	char *fleet; /* "{prefix}:": what every node shares */
	char maxlen[24];
	uint64_t maxlen_n;
	unsigned int timeout_ms;
	redisContext *c;
	char *scratch; /* unescaped fields of one record */
	size_t scratch_cap;
	struct sent *sent;	       /* VIGIL_SINK_BATCH */
	struct vigil_redis_plan *plan; /* the commands of the record at hand */
};

/* --- connection ---------------------------------------------------------------------------- */

/* ops->connect: connect, authenticate, select. Returns 0 (up) or -EIO with why (down). */
static int redis_connect(void *be, char *why, size_t len)
{
	struct redis_be *r = be;

	r->c = vigil_redis_open(&r->url, r->user, r->pass, r->timeout_ms, why, len);
	return r->c ? 0 : -EIO;
}

/* ops->disconnect */
static void redis_disconnect(void *be)
{
	struct redis_be *r = be;

	if (r->c)
		redisFree(r->c);
	r->c = NULL;
}

struct redisContext *vigil_redis_connect(const struct vigil_redis_opts *o, char *why, size_t len)
{
	struct vigil_redis_url u;

	if (vigil_redis_parse_url(o->url, &u, why, len))
		return NULL;
	return vigil_redis_open(&u, o->username ? o->username : u.user,
				o->password ? o->password : u.pass,
				o->timeout_ms ? o->timeout_ms : 2000, why, len);
}

int vigil_redis_ping(const struct vigil_redis_opts *o, char *msg, size_t len)
{
	const char *argv[] = {"PING"};
	redisContext *c;
	int ret;

	c = vigil_redis_connect(o, msg, len);
	if (!c)
		return -EIO;
	ret = vigil_redis_setup_cmd(c, 1, argv, msg, len);
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
static int plan_record(struct redis_be *r, const char *json, size_t len, bool auto_id)
{
	if (len + 1 > r->scratch_cap) {
		char *b = realloc(r->scratch, len + 1);

		if (!b)
			return -ENOMEM;
		r->scratch = b;
		r->scratch_cap = len + 1;
	}
	return vigil_redis_plan(r->plan, r->base, r->fleet, r->maxlen, json, len, r->scratch,
				auto_id);
}

/* Append one record's commands to the connection's output. */
static void append_record(struct redis_be *r, const char *json, size_t len, struct sent *s)
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
static redisReply *command(struct redis_be *r, int argc, const char **argv, char *why, size_t len)
{
	redisReply *rep = vigil_redis_command(r->c, argc, argv, NULL);

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
static int settle_duplicate(struct redis_be *r, const char *json, size_t len, char *why,
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
	rep = vigil_redis_command(r->c, p->cmd[0].argc, p->cmd[0].argv, p->cmd[0].argl);
	if (!rep) {
		snprintf(why, wlen, "write: %s", r->c->errstr);
		return -EIO;
	}
	found = rep->type == REDIS_REPLY_ERROR;
	if (found)
		snprintf(why, wlen, "refused: %s", rep->str);
	freeReplyObject(rep);
	return found ? -EIO : 0;
}

/* Write what hiredis holds of the commands appended so far. A failure shows again, and is
 * handled, when the replies are read. */
static void send_pending(struct redis_be *r)
{
	int done = 0;

	while (!done && redisBufferWrite(r->c, &done) == REDIS_OK)
		;
}

/*
 * ops->write: n records, pipelined. Returns the number done from the start (all n on success),
 * res[i] saying what became of each; fewer means the rest must be written again later
 * (connection lost, or Redis refusing writes), why saying why.
 */
static unsigned int redis_write(void *be, const char *const *recs, const size_t *lens,
				unsigned int n, enum vigil_sink_result *res, char *why, size_t wlen)
{
	struct redis_be *r = be;
	struct sent *sent = r->sent;
	unsigned int first_fail = n;
	bool lost = false;

	for (unsigned int i = 0; i < n; i++) {
		append_record(r, recs[i], lens[i], &sent[i]);
		/* Send as we go: Redis works on the first commands while the rest are formatted. */
		if (i % SEND_EVERY == SEND_EVERY - 1)
			send_pending(r);
	}
	/* Every reply is read, to keep the connection in step; a record is done only if it is
	 * before the first one Redis could not take now. */
	for (unsigned int i = 0; i < n && !lost; i++) {
		for (unsigned int k = 0; k < sent[i].ncmd; k++) {
			redisReply *rep;

			if (vigil_redis_get_reply(r->c, &rep) != REDIS_OK) {
				snprintf(why, wlen, "write: %s", r->c->errstr);
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
					snprintf(why, wlen, "refused: %s", rep->str);
					if (i < first_fail)
						first_fail = i;
				} else {
					snprintf(why, wlen, "rejected: %s", rep->str);
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
				snprintf(why, wlen,
					 "rejected: a record that is not a vigil "
					 "record was skipped");
			res[i] = VIGIL_SINK_REJECTED;
			continue;
		}
		if (!sent[i].dup) {
			res[i] = VIGIL_SINK_WRITTEN;
			continue;
		}
		d = settle_duplicate(r, recs[i], lens[i], why, wlen);
		if (d < 0) {
			first_fail = i;
			break;
		}
		res[i] = d ? VIGIL_SINK_DUPLICATE : VIGIL_SINK_REORDERED;
	}
	return first_fail;
}

/* ops->free */
static void redis_free(void *be)
{
	struct redis_be *r = be;

	if (!r)
		return;
	redis_disconnect(r);
	free(r->base);
	free(r->fleet);
	free(r->scratch);
	free(r->sent);
	free(r->plan);
	free(r);
}

static const struct vigil_sink_backend_ops redis_ops = {
    .name = "redis",
    .title = "Redis",
    .connect = redis_connect,
    .disconnect = redis_disconnect,
    .write = redis_write,
    .free = redis_free,
};

int vigil_redis_sink_open(const struct vigil_redis_opts *o, struct vigil_sink **out, char *err,
			  size_t errlen)
{
	const struct vigil_sink_opts so = {
	    .spool = o->spool,
	    .spool_max_bytes = o->spool_max_bytes,
	    .spool_sync = o->spool_sync,
	    .queue_max = o->queue_max,
	};
	struct redis_be *r;
	size_t len;
	int ret;

	r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	ret = vigil_redis_parse_url(o->url, &r->url, err, errlen);
	if (ret)
		goto fail;
	snprintf(r->user, sizeof(r->user), "%s", o->username ? o->username : r->url.user);
	snprintf(r->pass, sizeof(r->pass), "%s", o->password ? o->password : r->url.pass);
	len = strlen(o->prefix) + strlen(o->node) + 3;
	r->base = malloc(len);
	r->fleet = malloc(len);
	r->sent = calloc(VIGIL_SINK_BATCH, sizeof(*r->sent));
	r->plan = malloc(sizeof(*r->plan));
	if (!r->base || !r->fleet || !r->sent || !r->plan) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		ret = -ENOMEM;
		goto fail;
	}
	snprintf(r->base, len, "%s:%s:", o->prefix, o->node);
	snprintf(r->fleet, len, "%s:", o->prefix);
	snprintf(r->maxlen, sizeof(r->maxlen), "%llu", (unsigned long long)o->maxlen);
	r->maxlen_n = o->maxlen;
	r->timeout_ms = o->timeout_ms ? o->timeout_ms : 2000;
	/* From here the backend is the sink's, whatever it returns. */
	return vigil_sink_open(&so, &redis_ops, r, out, err, errlen);
fail:
	redis_free(r);
	return ret;
}
