/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json: the append-only JSON writer (see json.h).
 *
 * The hot path writes one object per event into a buffer reused from record to record, so
 * after the first few records nothing is allocated. Strings are escaped straight into the
 * free space of that buffer; only when they do not fit is the buffer grown to the exact size
 * and the string escaped again, which geometric growth makes rare.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

#define JSON_MIN_CAP 256

static const char hex_digits[] = "0123456789abcdef";

/* The two-character escapes JSON has; every other control character becomes \u00XX. */
static const char short_escape[128] = {
    ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n',  ['\f'] = 'f',
    ['\r'] = 'r', ['"'] = '"',	['\\'] = '\\',
};

/*
 * The second-byte ranges are those of Unicode table 3-7: they are what exclude overlong forms
 * (C0, C1, E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and code points above U+10FFFF
 * (F4 90..BF, F5..FF).
 */
size_t vigil_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	}
	return len;
}

/*
 * Where escaped text goes. Only whole units (a character or a whole escape) are written, so
 * a truncated result is still a valid JSON string body; need keeps counting past the end.
 */
struct esc_out {
	char *out;
	size_t room;  /* bytes that may be written, terminating NUL excluded */
	size_t need;  /* bytes the whole escaped text takes */
	size_t wrote; /* bytes written: need until the first unit that did not fit */
	bool full;
};

static inline void emit(struct esc_out *e, const void *p, size_t len)
{
	if (!e->full && len <= e->room - e->need) {
		memcpy(e->out + e->need, p, len);
		e->wrote = e->need + len;
	} else {
		e->full = true;
	}
	e->need += len;
}

/* A run of bytes that are each a unit of their own (plain ASCII): as much as fits. */
static inline void emit_run(struct esc_out *e, const unsigned char *p, size_t len)
{
	if (!e->full) {
		size_t fit = e->room - e->need;

		if (len > fit)
			e->full = true;
		else
			fit = len;
		memcpy(e->out + e->need, p, fit);
		e->wrote = e->need + fit;
	}
	e->need += len;
}

/* Escape n bytes of s into out (room bytes, NUL excluded). Returns what was written and needed. */
static struct esc_out escape(char *out, size_t room, const unsigned char *s, size_t n)
{
	struct esc_out e = {.out = out, .room = room, .full = !out || !room};
	size_t i = 0;

	while (i < n) {
		size_t start = i, len;
		unsigned char c;
		char u[6];

		while (i < n && s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\')
			i++;
		if (i > start)
			emit_run(&e, s + start, i - start);
		if (i == n)
			break;

		c = s[i];
		if (c < 0x80 && short_escape[c]) {
			u[0] = '\\';
			u[1] = short_escape[c];
			emit(&e, u, 2);
			i++;
			continue;
		}
		if (c >= 0x80) {
			len = vigil_utf8_len(s + i, n - i);
			/* U+0080..U+009F are controls too (C1: some terminals take 0x9b for
			 * CSI): escaped as their code point, so they decode to themselves. */
			if (len == 2 && c == 0xc2 && s[i + 1] < 0xa0) {
				c = s[++i];
			} else if (len) {
				emit(&e, s + i, len);
				i += len;
				continue;
			}
		}
		/* Other controls (C0, DEL, C1), any byte outside well-formed UTF-8: its Latin-1
		 * reading. */
		memcpy(u, "\\u00", 4);
		u[4] = hex_digits[c >> 4];
		u[5] = hex_digits[c & 0xf];
		emit(&e, u, 6);
		i++;
	}
	return e;
}

/*
 * Returns the length needed to escape all n bytes (NUL bytes included, as \u0000), excluding
 * the terminating NUL. When outlen > 0, out holds the longest prefix of whole characters and
 * escapes that fits in outlen - 1 bytes, NUL-terminated, so even a cut result is valid JSON.
 */
size_t vigil_json_escape(char *out, size_t outlen, const char *s, size_t n)
{
	struct esc_out e =
	    escape(out, outlen ? outlen - 1 : 0, (const unsigned char *)s, s ? n : 0);

	if (out && outlen)
		out[e.wrote] = '\0';
	return e.need;
}

/* Record the first error; the buffer stays NUL-terminated at len for whoever looks at it. */
static void json_fail(struct vigil_json *j, int err)
{
	if (!j->err)
		j->err = err;
	if (j->buf)
		j->buf[j->len] = '\0';
}

/*
 * Make room for extra more bytes plus the terminating NUL, growing by doubling. Returns 0, or
 * the writer's error (-ENOMEM) when it already had one or the allocation failed.
 */
static int json_reserve(struct vigil_json *j, size_t extra)
{
	size_t want, cap;
	char *buf;

	if (j->err)
		return j->err;
	if (extra > SIZE_MAX - 1 - j->len) {
		json_fail(j, -ENOMEM);
		return j->err;
	}
	want = j->len + extra + 1;
	if (want <= j->cap)
		return 0;
	cap = j->cap ? j->cap : JSON_MIN_CAP;
	while (cap < want)
		cap = cap > SIZE_MAX / 2 ? want : cap * 2;
	buf = realloc(j->buf, cap);
	if (!buf) {
		json_fail(j, -ENOMEM);
		return j->err;
	}
	j->buf = buf;
	j->cap = cap;
	return 0;
}

static void json_put(struct vigil_json *j, const char *p, size_t n)
{
	if (json_reserve(j, n))
		return;
	memcpy(j->buf + j->len, p, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

/* Append s as a quoted, escaped JSON string. */
static void json_put_string(struct vigil_json *j, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	struct esc_out e;

	/* The two quotes first, so the room left below is what the body may use. */
	if (json_reserve(j, 2))
		return;
	e = escape(j->buf + j->len + 1, j->cap - j->len - 3, u, n);
	if (e.full) {
		if (json_reserve(j, e.need + 2))
			return;
		e = escape(j->buf + j->len + 1, j->cap - j->len - 3, u, n);
	}
	j->buf[j->len] = '"';
	j->len += 1 + e.need;
	j->buf[j->len++] = '"';
	j->buf[j->len] = '\0';
}

/* The bit of the innermost open container in has_item and is_array. */
static inline uint32_t level_bit(const struct vigil_json *j)
{
	return 1u << (j->depth - 1);
}

/*
 * Start a value: the separator, then "key": in an object, nothing more in an array. A key
 * where none belongs, none where one must be, or no open container is a misuse (-EINVAL).
 * Returns false when the writer is in error, and the value must not be written.
 */
static bool json_key(struct vigil_json *j, const char *key)
{
	uint32_t bit;

	if (j->err)
		return false;
	if (!j->depth) {
		json_fail(j, -EINVAL);
		return false;
	}
	bit = level_bit(j);
	if (!key != !!(j->is_array & bit)) {
		json_fail(j, -EINVAL);
		return false;
	}
	if (j->has_item & bit)
		json_put(j, ",", 1);
	j->has_item |= bit;
	if (key) {
		json_put_string(j, key, strlen(key));
		json_put(j, ":", 1);
	}
	return !j->err;
}

/* Open a container ('{' or '[') as the value of key. */
static void json_open(struct vigil_json *j, const char *key, char open)
{
	uint32_t bit;

	if (!json_key(j, key))
		return;
	if (j->depth == VIGIL_JSON_DEPTH) {
		json_fail(j, -EINVAL);
		return;
	}
	json_put(j, &open, 1);
	if (j->err)
		return;
	j->depth++;
	bit = level_bit(j);
	j->has_item &= ~bit;
	if (open == '[')
		j->is_array |= bit;
	else
		j->is_array &= ~bit;
}

/* Close the innermost container, which must be a nested one of the kind close ends. */
static void json_close(struct vigil_json *j, char close)
{
	if (j->err)
		return;
	if (j->depth < 2 || !(j->is_array & level_bit(j)) != (close == '}')) {
		json_fail(j, -EINVAL);
		return;
	}
	json_put(j, &close, 1);
	if (!j->err)
		j->depth--;
}

/* Reset the writer (its error too, not its buffer) and open the top-level container. */
static void json_start(struct vigil_json *j, char open)
{
	j->len = 0;
	j->depth = 0;
	j->has_item = 0;
	j->is_array = open == '[';
	j->err = 0;
	json_put(j, &open, 1);
	if (!j->err)
		j->depth = 1;
}

void vigil_json_begin(struct vigil_json *j)
{
	json_start(j, '{');
}

void vigil_json_begin_array(struct vigil_json *j)
{
	json_start(j, '[');
}

/* Returns 0, or the first error met since the begin (the text is then incomplete). */
int vigil_json_end(struct vigil_json *j)
{
	if (j->err)
		return j->err;
	if (j->depth != 1) {
		json_fail(j, -EINVAL);
		return j->err;
	}
	json_put(j, j->is_array & 1 ? "]" : "}", 1);
	if (!j->err)
		j->depth = 0;
	return j->err;
}

void vigil_json_object_begin(struct vigil_json *j, const char *key)
{
	json_open(j, key, '{');
}

void vigil_json_object_end(struct vigil_json *j)
{
	json_close(j, '}');
}

void vigil_json_array_begin(struct vigil_json *j, const char *key)
{
	json_open(j, key, '[');
}

void vigil_json_array_end(struct vigil_json *j)
{
	json_close(j, ']');
}

/* A NULL s is written as null rather than crashing the sink on a missing field. */
void vigil_json_str(struct vigil_json *j, const char *key, const char *s)
{
	if (!json_key(j, key))
		return;
	if (s)
		json_put_string(j, s, strlen(s));
	else
		json_put(j, "null", 4);
}

void vigil_json_strn(struct vigil_json *j, const char *key, const char *s, size_t n)
{
	if (!json_key(j, key))
		return;
	if (s)
		json_put_string(j, s, strnlen(s, n));
	else
		json_put(j, "null", 4);
}

/* Writes the decimal digits of v backwards from end; returns where they start. */
static char *u64_digits(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

void vigil_json_u64(struct vigil_json *j, const char *key, uint64_t v)
{
	char tmp[20];
	char *p;

	if (!json_key(j, key))
		return;
	p = u64_digits(tmp + sizeof(tmp), v);
	json_put(j, p, (size_t)(tmp + sizeof(tmp) - p));
}

void vigil_json_i64(struct vigil_json *j, const char *key, int64_t v)
{
	char tmp[21];
	char *p;

	if (!json_key(j, key))
		return;
	/* Negate in unsigned arithmetic: -INT64_MIN does not fit an int64_t. */
	p = u64_digits(tmp + sizeof(tmp), v < 0 ? -(uint64_t)v : (uint64_t)v);
	if (v < 0)
		*--p = '-';
	json_put(j, p, (size_t)(tmp + sizeof(tmp) - p));
}

void vigil_json_bool(struct vigil_json *j, const char *key, bool v)
{
	if (!json_key(j, key))
		return;
	if (v)
		json_put(j, "true", 4);
	else
		json_put(j, "false", 5);
}

void vigil_json_null(struct vigil_json *j, const char *key)
{
	if (json_key(j, key))
		json_put(j, "null", 4);
}

/* Written through json_put_string directly: one array of n strings, NULL ones as null. */
void vigil_json_strv(struct vigil_json *j, const char *key, char *const *v, size_t n)
{
	size_t i;

	if (!json_key(j, key))
		return;
	json_put(j, "[", 1);
	for (i = 0; i < n; i++) {
		if (i)
			json_put(j, ",", 1);
		if (v[i])
			json_put_string(j, v[i], strlen(v[i]));
		else
			json_put(j, "null", 4);
	}
	json_put(j, "]", 1);
}

void vigil_json_fixed(struct vigil_json *j, const char *key, double v, unsigned int decimals)
{
	int n;

	if (!json_key(j, key))
		return;
	if (!isfinite(v)) {
		json_put(j, "null", 4);
		return;
	}
	if (decimals > 9)
		decimals = 9;
	/* vigil never calls setlocale(): printf's decimal point is the C locale's '.'. */
	n = snprintf(NULL, 0, "%.*f", (int)decimals, v);
	if (n < 0 || json_reserve(j, (size_t)n)) {
		json_fail(j, n < 0 ? -EINVAL : j->err);
		return;
	}
	snprintf(j->buf + j->len, (size_t)n + 1, "%.*f", (int)decimals, v);
	j->len += (size_t)n;
}

void vigil_json_free(struct vigil_json *j)
{
	if (!j)
		return;
	free(j->buf);
	j->buf = NULL;
	j->len = 0;
	j->cap = 0;
	j->depth = 0;
	j->has_item = 0;
	j->is_array = 0;
	j->err = 0;
}
