// SPDX-License-Identifier: Apache-2.0
/*
 * json_scan: the validating member scanner (see json_scan.h).
 *
 * One pass, no allocation: plain ASCII runs of a string are found by a tight loop and copied
 * whole; only escapes and non-ASCII bytes are looked at one by one. Nested values are checked
 * by recursion, bounded by VIGIL_JSON_SCAN_DEPTH.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/json_scan.h"

/* A number longer than this is refused rather than measured (no record holds one). */
#define NUMBER_MAX 512

/* The bytes a string cannot hold as they are: controls, the quote, the backslash, and every
 * byte of a non-ASCII character (checked as UTF-8). A table, because the loop over the plain
 * runs of strings is the scanner's hot path. */
static const unsigned char special[256] = {
    [0x00 ... 0x1f] = 1,
    ['"'] = 1,
    ['\\'] = 1,
    [0x80 ... 0xff] = 1,
};

static inline const char *ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* The four hex digits at p into *v. Returns 0, or -EINVAL. */
static int hex4(const char *p, const char *end, unsigned int *v)
{
	*v = 0;
	if (end - p < 4)
		return -EINVAL;
	for (int i = 0; i < 4; i++) {
		unsigned int c = (unsigned char)p[i];

		if (c >= '0' && c <= '9')
			c -= '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			c = (c | 0x20) - 'a' + 10;
		else
			return -EINVAL;
		*v = *v << 4 | c;
	}
	return 0;
}

/* Code point cp (at most U+10FFFF) as UTF-8 at o. Returns its length. */
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

/* The character a two-character escape stands for, or 0 for none. */
static char short_escape(char c)
{
	switch (c) {
	case '"':
	case '\\':
	case '/':
		return c;
	case 'b':
		return '\b';
	case 'f':
		return '\f';
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case 't':
		return '\t';
	default:
		return 0;
	}
}

/*
 * The string at *pp (on its opening quote), checked; unescaped at *out when out is not NULL,
 * *out then moved past it. Returns 0 with *pp past the closing quote and *v, *n the unescaped
 * bytes (without out: the escaped text between the quotes), or -EINVAL.
 */
static int scan_string(const char **pp, const char *end, char **out, const char **v, size_t *n)
{
	const unsigned char *p = (const unsigned char *)*pp + 1, *e = (const unsigned char *)end;
	const char *body = (const char *)p;
	char *o = out ? *out : NULL;

	for (;;) {
		unsigned int cp, lo;
		size_t len;

		/* Byte by byte: most runs are a few bytes, shorter than a memcpy() call costs. */
		if (o) {
			while (p < e && !special[*p])
				*o++ = (char)*p++;
		} else {
			while (p < e && !special[*p])
				p++;
		}
		if (p >= e || *p < 0x20)
			return -EINVAL;
		if (*p == '"')
			break;
		if (*p >= 0x80) {
			len = vigil_utf8_len(p, (size_t)(e - p));
			if (!len)
				return -EINVAL;
			if (o) {
				memcpy(o, p, len);
				o += len;
			}
			p += len;
			continue;
		}
		/* A backslash. */
		if (e - p < 2)
			return -EINVAL;
		if (p[1] != 'u') {
			char c = short_escape((char)p[1]);

			if (!c)
				return -EINVAL;
			if (o)
				*o++ = c;
			p += 2;
			continue;
		}
		if (hex4((const char *)p + 2, end, &cp))
			return -EINVAL;
		p += 6;
		/* A surrogate escape is only the high half of a pair followed by its low half. */
		if (cp >= 0xdc00 && cp < 0xe000)
			return -EINVAL;
		if (cp >= 0xd800 && cp < 0xdc00) {
			if (e - p < 6 || p[0] != '\\' || p[1] != 'u' ||
			    hex4((const char *)p + 2, end, &lo) || lo < 0xdc00 || lo >= 0xe000)
				return -EINVAL;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			p += 6;
		}
		if (o)
			o += put_utf8(o, cp);
	}
	if (o) {
		*v = *out;
		*n = (size_t)(o - *out);
		*out = o;
	} else {
		*v = body;
		*n = (size_t)((const char *)p - body);
	}
	*pp = (const char *)p + 1;
	return 0;
}

/* The end of one or more digits at p, or NULL. */
static const char *digits_end(const char *p, const char *end)
{
	const char *start = p;

	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p > start ? p : NULL;
}

/*
 * The end of the number at p, or NULL when it is not one or its value overflows a double.
 * Only an exponent or more than 300 integer digits can reach that far: then the number is
 * measured with strtod (the C locale's: vigil never calls setlocale()).
 */
static const char *scan_number(const char *p, const char *end)
{
	const char *start = p, *q;
	bool measure = false;
	char num[NUMBER_MAX + 1];

	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0') {
		p++;
	} else {
		q = digits_end(p, end);
		if (!q)
			return NULL;
		measure = q - p > 300;
		p = q;
	}
	if (p < end && *p == '.' && !(p = digits_end(p + 1, end)))
		return NULL;
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (!(p = digits_end(p, end)))
			return NULL;
		measure = true;
	}
	if (measure) {
		if (p - start > NUMBER_MAX)
			return NULL;
		memcpy(num, start, (size_t)(p - start));
		num[p - start] = '\0';
		if (isinf(strtod(num, NULL)))
			return NULL;
	}
	return p;
}

static const char *scan_value(const char *p, const char *end, int depth);

/* The end of the object or array at p (on its bracket), checked, or NULL. */
static const char *scan_container(const char *p, const char *end, int depth)
{
	char close = *p == '{' ? '}' : ']';
	const char *v;
	size_t n;

	if (depth > VIGIL_JSON_SCAN_DEPTH)
		return NULL;
	p = ws(p + 1, end);
	if (p < end && *p == close)
		return p + 1;
	for (;;) {
		if (close == '}') {
			if (p >= end || *p != '"' || scan_string(&p, end, NULL, &v, &n))
				return NULL;
			p = ws(p, end);
			if (p >= end || *p++ != ':')
				return NULL;
		}
		p = scan_value(p, end, depth);
		if (!p)
			return NULL;
		p = ws(p, end);
		if (p >= end)
			return NULL;
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
		p = ws(p, end);
	}
}

/* The end of the value at p (blanks before it skipped), checked, or NULL. depth: that of the
 * container it is in. */
static const char *scan_value(const char *p, const char *end, int depth)
{
	const char *v;
	size_t n;

	p = ws(p, end);
	if (p >= end)
		return NULL;
	switch (*p) {
	case '"':
		return scan_string(&p, end, NULL, &v, &n) ? NULL : p;
	case '{':
	case '[':
		return scan_container(p, end, depth + 1);
	case 't':
		return end - p >= 4 && !memcmp(p, "true", 4) ? p + 4 : NULL;
	case 'f':
		return end - p >= 5 && !memcmp(p, "false", 5) ? p + 5 : NULL;
	case 'n':
		return end - p >= 4 && !memcmp(p, "null", 4) ? p + 4 : NULL;
	default:
		return scan_number(p, end);
	}
}

int vigil_json_scan_begin(struct vigil_json_scan *s, const char *json, size_t len, char *buf)
{
	s->end = json + len;
	s->p = ws(json, s->end);
	s->out = buf;
	s->first = true;
	s->done = 0;
	if (s->p >= s->end || *s->p != '{') {
		s->done = -EINVAL;
		return -EINVAL;
	}
	s->p++;
	return 0;
}

/* Returns 1 with *m, 0 at the well-formed end, or -EINVAL (which then sticks). */
int vigil_json_scan_next(struct vigil_json_scan *s, struct vigil_json_member *m)
{
	const char *p = ws(s->p, s->end), *end = s->end, *v;

	if (s->done)
		return s->done > 0 ? 0 : s->done;
	if (p < end && *p == '}') {
		s->done = ws(p + 1, end) == end ? 1 : -EINVAL;
		return s->done > 0 ? 0 : s->done;
	}
	if (!s->first) {
		if (p >= end || *p++ != ',')
			goto bad;
		p = ws(p, end);
	}
	s->first = false;
	if (p >= end || *p != '"' ||
	    scan_string(&p, end, s->out ? &s->out : NULL, &m->key, &m->klen))
		goto bad;
	p = ws(p, end);
	if (p >= end || *p++ != ':')
		goto bad;
	p = ws(p, end);
	if (p >= end)
		goto bad;
	switch (*p) {
	case '"':
		m->type = VIGIL_JSON_STRING;
		if (scan_string(&p, end, s->out ? &s->out : NULL, &m->val, &m->vlen))
			goto bad;
		s->p = p;
		return 1;
	case '{':
		m->type = VIGIL_JSON_OBJECT;
		break;
	case '[':
		m->type = VIGIL_JSON_ARRAY;
		break;
	case 't':
		m->type = VIGIL_JSON_TRUE;
		break;
	case 'f':
		m->type = VIGIL_JSON_FALSE;
		break;
	case 'n':
		m->type = VIGIL_JSON_NULL;
		break;
	default:
		m->type = VIGIL_JSON_NUMBER;
		break;
	}
	/* The top-level object is depth 1: a nested value's container is depth 2. */
	v = scan_value(p, end, 1);
	if (!v)
		goto bad;
	m->val = p;
	m->vlen = (size_t)(v - p);
	s->p = v;
	return 1;
bad:
	s->done = -EINVAL;
	return s->done;
}

int vigil_json_scan_object(const char *json, size_t len)
{
	struct vigil_json_scan s;
	struct vigil_json_member m;
	int ret;

	if (vigil_json_scan_begin(&s, json, len, NULL))
		return -EINVAL;
	while ((ret = vigil_json_scan_next(&s, &m)) > 0)
		;
	return ret;
}
