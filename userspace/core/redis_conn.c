// SPDX-License-Identifier: Apache-2.0
/*
 * redis_conn: a connection to a Redis server as every part of vigil opens one — the sink, its
 * readers and the watch (output/), and the actions that touch an application's Redis (heal/):
 * the URL parsed, connect, authenticate, select, with one timeout for the connect and each
 * reply, and replies read into bounded objects.
 */
#include <ctype.h>
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "core/redis_conn.h"

/* The reader failed on the bounds (VIGIL_REDIS_MAX_*), not for want of memory: per thread, as
 * a connection is read by one thread at a time. */
static __thread bool reply_over;

/* --- the URL -------------------------------------------------------------------------------- */

/* Copies n bytes of s into out (outlen bytes), decoding %XX. Returns 0 or -EINVAL. */
static int pct_copy(char *out, size_t outlen, const char *s, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '%') {
			char hex[3] = {0};

			if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) ||
			    !isxdigit((unsigned char)s[i + 2]))
				return -EINVAL;
			hex[0] = s[i + 1];
			hex[1] = s[i + 2];
			c = (char)strtoul(hex, NULL, 16);
			i += 2;
		}
		if (o + 1 >= outlen || !c)
			return -EINVAL;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

/* Where the user info of a redis:// URL ends: its last '@' (a host, port or database never
 * holds one, a password may hold '@' and '/'), or NULL. */
static const char *userinfo_end(const char *p)
{
	return strrchr(p, '@');
}

const char *vigil_redis_url_safe(const char *url, char *buf, size_t len)
{
	const char *host = strncmp(url, "redis://", 8) ? NULL : url + 8;
	const char *at = host ? userinfo_end(host) : NULL;
	const char *colon = at ? memchr(host, ':', (size_t)(at - host)) : NULL;

	if (!colon)
		snprintf(buf, len, "%s", url);
	else
		snprintf(buf, len, "%.*s***%s", (int)(colon + 1 - url), url, at);
	return buf;
}

int vigil_redis_parse_url(const char *url, struct vigil_redis_url *u, char *err, size_t errlen)
{
	const char *p, *at, *end, *colon, *slash;
	char *e, safe[256];

	vigil_redis_url_safe(url, safe, sizeof(safe));
	memset(u, 0, sizeof(*u));
	u->port = 6379;
	if (!strncmp(url, "unix://", 7)) {
		u->is_unix = true;
		if (url[7] != '/' || strlen(url + 7) >= sizeof(u->host)) {
			snprintf(err, errlen,
				 "redis url '%s': unix:// needs an absolute socket path", safe);
			return -EINVAL;
		}
		strcpy(u->host, url + 7);
		return 0;
	}
	if (strncmp(url, "redis://", 8)) {
		snprintf(err, errlen, "redis url '%s': must start with redis:// or unix://", safe);
		return -EINVAL;
	}
	p = url + 8;
	at = userinfo_end(p);
	if (at) {
		colon = memchr(p, ':', (size_t)(at - p));
		if (pct_copy(u->user, sizeof(u->user), p, (size_t)((colon ? colon : at) - p)) ||
		    (colon &&
		     pct_copy(u->pass, sizeof(u->pass), colon + 1, (size_t)(at - colon - 1)))) {
			snprintf(err, errlen, "redis url: bad or overlong user or password");
			return -EINVAL;
		}
		p = at + 1;
	}
	end = p + strcspn(p, "/");
	colon = memchr(p, ':', (size_t)(end - p));
	if (p[0] == '[') { /* [v6 address] */
		const char *rb = memchr(p, ']', (size_t)(end - p));

		if (!rb) {
			snprintf(err, errlen, "redis url '%s': unterminated [address]", safe);
			return -EINVAL;
		}
		colon = rb[1] == ':' ? rb + 1 : NULL;
		if (!colon && rb + 1 != end)
			goto bad_host;
		if ((size_t)(rb - p - 1) >= sizeof(u->host))
			goto bad_host;
		memcpy(u->host, p + 1, (size_t)(rb - p - 1));
	} else {
		size_t n = (size_t)((colon ? colon : end) - p);

		if (!n || n >= sizeof(u->host))
			goto bad_host;
		memcpy(u->host, p, n);
	}
	if (colon) {
		unsigned long port;

		errno = 0;
		port = strtoul(colon + 1, &e, 10);
		if (errno || e != end || e == colon + 1 || !port || port > 65535) {
			snprintf(err, errlen, "redis url '%s': bad port", safe);
			return -EINVAL;
		}
		u->port = (int)port;
	}
	slash = *end == '/' ? end : NULL;
	if (slash && slash[1]) {
		unsigned long db;

		errno = 0;
		db = strtoul(slash + 1, &e, 10);
		if (errno || *e || db > 1000000) {
			snprintf(err, errlen, "redis url '%s': bad database number", safe);
			return -EINVAL;
		}
		u->db = (int)db;
	}
	return 0;
bad_host:
	snprintf(err, errlen, "redis url '%s': bad host", safe);
	return -EINVAL;
}

/* --- the connection ------------------------------------------------------------------------- */

/* A reply over the bounds: the connection is unusable (its owner frees it), said so; what the
 * reader built of the reply is freed, and handed back to the system (malloc keeps freed small
 * blocks otherwise). */
static int over(redisContext *c)
{
	reply_over = false;
	c->err = REDIS_ERR_PROTOCOL;
	snprintf(c->errstr, sizeof(c->errstr),
		 "reply over %u MiB or %u elements: connection dropped",
		 VIGIL_REDIS_MAX_REPLY_BYTES >> 20, VIGIL_REDIS_MAX_ELEMENTS);
	malloc_trim(0);
	return REDIS_ERR;
}

/* The reader's next reply, if it has one: REDIS_OK (*rep may be NULL), or REDIS_ERR. */
static int from_reader(redisContext *c, void **rep)
{
	reply_over = false;
	if (redisGetReplyFromReader(c, rep) == REDIS_OK)
		return REDIS_OK;
	return reply_over ? over(c) : REDIS_ERR;
}

int vigil_redis_get_reply(redisContext *c, redisReply **out)
{
	void *rep = NULL;
	int done = 0;

	*out = NULL;
	if (from_reader(c, &rep) != REDIS_OK)
		return REDIS_ERR;
	while (!rep && !done)
		if (redisBufferWrite(c, &done) != REDIS_OK)
			return REDIS_ERR;
	while (!rep) {
		if (redisBufferRead(c) != REDIS_OK)
			return REDIS_ERR;
		/* hiredis keeps what it has not parsed yet (a bulk string still coming) whole:
		 * what a server claims is not buffered beyond the bound either. */
		if (c->reader->len - c->reader->pos > VIGIL_REDIS_MAX_REPLY_BYTES)
			return over(c);
		if (from_reader(c, &rep) != REDIS_OK)
			return REDIS_ERR;
	}
	*out = rep;
	return REDIS_OK;
}

redisReply *vigil_redis_command(redisContext *c, int argc, const char **argv, const size_t *argl)
{
	redisReply *rep;

	if (redisAppendCommandArgv(c, argc, argv, argl) != REDIS_OK)
		return NULL;
	return vigil_redis_get_reply(c, &rep) == REDIS_OK ? rep : NULL;
}

/* A command on a fresh connection, at setup. Returns 0, or -EIO with why written. */
int vigil_redis_setup_cmd(redisContext *c, int argc, const char **argv, char *why, size_t len)
{
	redisReply *rep = vigil_redis_command(c, argc, argv, NULL);
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
redisContext *vigil_redis_open(const struct vigil_redis_url *u, const char *user, const char *pass,
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
	/* Before the first reply: no array a server claims is allocated beyond the bound. */
	c->reader->fn = vigil_redis_reply_functions();
	if (!u->is_unix)
		redisEnableKeepAlive(c);
	if (pass[0]) {
		argv[0] = "AUTH";
		argv[1] = user[0] ? user : pass;
		argv[2] = pass;
		if (vigil_redis_setup_cmd(c, user[0] ? 3 : 2, argv, why, len))
			goto fail;
	}
	if (u->db) {
		snprintf(db, sizeof(db), "%d", u->db);
		argv[0] = "SELECT";
		argv[1] = db;
		if (vigil_redis_setup_cmd(c, 2, argv, why, len))
			goto fail;
	}
	return c;
fail:
	if (c)
		redisFree(c);
	return NULL;
}

redisContext *vigil_redis_open_url(const char *url, unsigned int timeout_ms, char *why, size_t len)
{
	struct vigil_redis_url u;

	if (vigil_redis_parse_url(url, &u, why, len))
		return NULL;
	return vigil_redis_open(&u, u.user, u.pass, timeout_ms ? timeout_ms : 2000, why, len);
}

/* --- reply objects -------------------------------------------------------------------------- */

/*
 * What the reply being read has cost so far, in bytes (its objects, strings and element
 * arrays). Per thread: a connection is read by one thread at a time, and each reply starts
 * from its top-level object (no parent).
 */
static __thread size_t reply_bytes;

/*
 * Charge the reply being read an allocation of size bytes, as malloc spends it (its header,
 * rounded to 16, at least 32): false when that takes the reply over the bound.
 */
static bool charge(const redisReadTask *t, size_t size)
{
	size_t cost = size > VIGIL_REDIS_MAX_REPLY_BYTES ? SIZE_MAX : ((size + 8 + 15) & ~15ul);

	if (!t->parent)
		reply_bytes = 0;
	if (cost < 32)
		cost = 32;
	if (cost > VIGIL_REDIS_MAX_REPLY_BYTES - reply_bytes) {
		reply_over = true;
		return false;
	}
	reply_bytes += cost;
	return true;
}

/* A new object of type, put in the task's place in its parent array. */
static redisReply *reply_new(const redisReadTask *t, int type)
{
	redisReply *r;

	if (!charge(t, sizeof(*r)))
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->type = type;
	if (t->parent) {
		redisReply *parent = t->parent->obj;

		parent->element[t->idx] = r;
	}
	return r;
}

static void *reply_string(const redisReadTask *t, char *s, size_t len)
{
	char *copy;
	redisReply *r;

	if (!charge(t, len + 1))
		return NULL;
	copy = malloc(len + 1);
	if (!copy)
		return NULL;
	/* A status, an error or a bulk string: the task says which. */
	r = reply_new(t, t->type);
	if (!r) {
		free(copy);
		return NULL;
	}
	memcpy(copy, s, len);
	copy[len] = '\0';
	r->str = copy;
	r->len = len;
	return r;
}

static void *reply_array(const redisReadTask *t, int n)
{
	redisReply **elements = NULL;
	redisReply *r;

	/* n < 0 is a nil array, which hiredis hands to reply_nil instead. */
	if (n < 0 || (unsigned int)n > VIGIL_REDIS_MAX_ELEMENTS) {
		reply_over = true;
		return NULL;
	}
	if (!charge(t, (size_t)n * sizeof(*elements)))
		return NULL;
	if (n && !(elements = calloc((size_t)n, sizeof(*elements))))
		return NULL;
	r = reply_new(t, REDIS_REPLY_ARRAY);
	if (!r) {
		free(elements);
		return NULL;
	}
	r->elements = (size_t)n;
	r->element = elements;
	return r;
}

static void *reply_integer(const redisReadTask *t, long long v)
{
	redisReply *r = reply_new(t, REDIS_REPLY_INTEGER);

	if (r)
		r->integer = v;
	return r;
}

/* A nil bulk string or a nil array: the task's type is the one it would have had. */
static void *reply_nil(const redisReadTask *t)
{
	return reply_new(t, REDIS_REPLY_NIL);
}

/* An object the reader gave up on mid-reply (the parent frees its elements). */
static void reply_free(void *r)
{
	freeReplyObject(r);
}

struct redisReplyObjectFunctions *vigil_redis_reply_functions(void)
{
	/* hiredis takes a mutable pointer and never writes through it. */
	static redisReplyObjectFunctions fns = {
	    .createString = reply_string,
	    .createArray = reply_array,
	    .createInteger = reply_integer,
	    .createNil = reply_nil,
	    .freeObject = reply_free,
	};

	return &fns;
}
