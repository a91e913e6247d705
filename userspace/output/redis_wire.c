// SPDX-License-Identifier: Apache-2.0
/*
 * redis_wire: what vigil's Redis connections need to know about text — the URL they connect
 * to, how a JSON record becomes field/value pairs, and the bounded reply objects their replies
 * are read into. No I/O here, so each is tested alone.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "core/json_scan.h"
#include "output/redis.h"

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

const char *vigil_redis_url_safe(const char *url, char *buf, size_t len)
{
	const char *host = strncmp(url, "redis://", 8) ? NULL : url + 8;
	const char *at = host ? memchr(host, '@', strcspn(host, "/")) : NULL;
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
	end = p + strcspn(p, "/");
	at = memchr(p, '@', (size_t)(end - p));
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

/* --- JSON record -> fields -------------------------------------------------------------- */

/* The shared scanner (core/json_scan.h) does the JSON; a null is an empty value here. */
int vigil_redis_fields(const char *json, size_t len, char *buf, const char **keys, size_t *klens,
		       const char **vals, size_t *vlens, unsigned int max)
{
	struct vigil_json_member m;
	struct vigil_json_scan s;
	unsigned int n = 0;
	int ret;

	if (vigil_json_scan_begin(&s, json, len, buf))
		return -EINVAL;
	while ((ret = vigil_json_scan_next(&s, &m)) > 0) {
		if (n == max)
			return -E2BIG;
		keys[n] = m.key;
		klens[n] = m.klen;
		vals[n] = m.val;
		vlens[n] = m.type == VIGIL_JSON_NULL ? 0 : m.vlen;
		n++;
	}
	return ret ? ret : (int)n;
}

/* --- reply objects -------------------------------------------------------------------------- */

/* A new object of type, put in the task's place in its parent array. */
static redisReply *reply_new(const redisReadTask *t, int type)
{
	redisReply *r = calloc(1, sizeof(*r));

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
	char *copy = malloc(len + 1);
	redisReply *r;

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
	if (n < 0 || (unsigned int)n > VIGIL_REDIS_MAX_ELEMENTS)
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
