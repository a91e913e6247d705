// SPDX-License-Identifier: Apache-2.0
/*
 * redis_wire: what the Redis sink needs to know about text — the URL it connects to, and how a
 * JSON record becomes field/value pairs. No I/O here, so both are unit-tested alone.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static const char *ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static int hexval(const char *p, const char *end, unsigned int *v)
{
	*v = 0;
	if (end - p < 4)
		return -EINVAL;
	for (int i = 0; i < 4; i++) {
		int c = (unsigned char)p[i];

		if (!isxdigit(c))
			return -EINVAL;
		*v = *v * 16 + (unsigned int)(isdigit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return 0;
}

static size_t put_utf8(char *o, unsigned int cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * The JSON string at *pp (on its opening quote), unescaped into *op. The output is never
 * longer than the input. Returns 0 with *pp past the closing quote, or -EINVAL.
 */
static int unescape(const char **pp, const char *end, char **op)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *p = *pp + 1, *esc;
	char *o = *op;
	unsigned int cp, lo;

	while (p < end && *p != '"') {
		if (*p != '\\') {
			*o++ = *p++;
			continue;
		}
		if (++p >= end)
			return -EINVAL;
		if (*p == 'u') {
			if (hexval(++p, end, &cp))
				return -EINVAL;
			p += 4;
			/* A surrogate pair is 12 input bytes for 4 output bytes. */
			if (cp >= 0xd800 && cp < 0xdc00 && end - p >= 6 && p[0] == '\\' &&
			    p[1] == 'u' && !hexval(p + 2, end, &lo) && lo >= 0xdc00 &&
			    lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			}
			o += put_utf8(o, cp);
			continue;
		}
		esc = *p ? strchr(from, *p) : NULL;
		if (!esc)
			return -EINVAL;
		*o++ = to[esc - from];
		p++;
	}
	if (p >= end)
		return -EINVAL;
	*pp = p + 1;
	*op = o;
	return 0;
}

/* The end of the list or object at p (on its bracket), strings skipped. NULL if unbalanced. */
static const char *nested_end(const char *p, const char *end)
{
	unsigned int depth = 0;

	for (; p < end; p++) {
		if (*p == '"') {
			for (p++; p < end && *p != '"'; p++)
				if (*p == '\\')
					p++;
			if (p >= end)
				return NULL;
		} else if (*p == '[' || *p == '{') {
			if (++depth > 64)
				return NULL;
		} else if (*p == ']' || *p == '}') {
			if (!--depth)
				return p + 1;
		}
	}
	return NULL;
}

int vigil_redis_fields(const char *json, size_t len, char *buf, const char **keys, size_t *klens,
		       const char **vals, size_t *vlens, unsigned int max)
{
	const char *p = json, *end = json + len, *v;
	char *o = buf;
	unsigned int n = 0;

	p = ws(p, end);
	if (p >= end || *p++ != '{')
		return -EINVAL;
	p = ws(p, end);
	if (p < end && *p == '}')
		return ws(p + 1, end) == end ? 0 : -EINVAL;
	for (;;) {
		if (n == max)
			return -E2BIG;
		if (p >= end || *p != '"')
			return -EINVAL;
		keys[n] = o;
		if (unescape(&p, end, &o))
			return -EINVAL;
		klens[n] = (size_t)(o - keys[n]);
		p = ws(p, end);
		if (p >= end || *p++ != ':')
			return -EINVAL;
		p = ws(p, end);
		if (p >= end)
			return -EINVAL;
		if (*p == '"') {
			vals[n] = o;
			if (unescape(&p, end, &o))
				return -EINVAL;
			vlens[n] = (size_t)(o - vals[n]);
		} else if (*p == '[' || *p == '{') {
			v = nested_end(p, end);
			if (!v)
				return -EINVAL;
			vals[n] = p;
			vlens[n] = (size_t)(v - p);
			p = v;
		} else {
			v = p;
			while (p < end && *p != ',' && *p != '}' && *p != ' ' && *p != '\n')
				p++;
			if (p == v)
				return -EINVAL;
			vals[n] = v;
			vlens[n] = (size_t)(p - v);
			if (vlens[n] == 4 && !memcmp(v, "null", 4))
				vlens[n] = 0; /* null: an empty value */
		}
		n++;
		p = ws(p, end);
		if (p >= end)
			return -EINVAL;
		if (*p == '}')
			return ws(p + 1, end) == end ? (int)n : -EINVAL;
		if (*p++ != ',')
			return -EINVAL;
		p = ws(p, end);
	}
}
