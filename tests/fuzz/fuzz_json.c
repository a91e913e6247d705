/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the JSON writer (userspace/core/json.c). The input is read as a list of
 * operations, each taking its bytes from the input: vigil_json_str/strn/strv/u64/i64/bool/null
 * with fuzzed keys and strings, an array of objects nested in the same writer
 * (vigil_json_array_begin/object_begin), a new object in the same buffer, and
 * vigil_json_escape() into a fuzzed buffer size. Built and run by
 * tests/fuzz/run.sh with ASan, UBSan and LeakSanitizer.
 *
 * Each finished object must be NUL-terminated at its length, valid UTF-8 and free of raw
 * control bytes (C0 and DEL), and must decode to what was written: the harness keeps a model
 * of the expected object, in which each string is its input with the bytes that are not
 * well-formed UTF-8 read as Latin-1, and compares it with the decoded output. The UTF-8 rules
 * here are written from their definition (shortest form, no surrogates, at most U+10FFFF),
 * not from json.c's tables, so that one can check the other.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

/* Aborts with @what when @cond is false: libFuzzer reports it as a crash and saves the input. */
#define CHECK(cond, what)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_json: %s (%s:%d)\n", what, __FILE__, __LINE__);      \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* --- a growable byte buffer ----------------------------------------------------------------- */

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (!n)
		return;
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		CHECK(b->p, "out of memory");
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void put_byte(struct buf *b, uint8_t c)
{
	put(b, &c, 1);
}

/* Appends code point @cp as UTF-8. */
static void put_cp(struct buf *b, uint32_t cp)
{
	uint8_t u[4];

	if (cp < 0x80) {
		put_byte(b, (uint8_t)cp);
	} else if (cp < 0x800) {
		u[0] = 0xc0 | cp >> 6;
		u[1] = 0x80 | (cp & 0x3f);
		put(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = 0xe0 | cp >> 12;
		u[1] = 0x80 | (cp >> 6 & 0x3f);
		u[2] = 0x80 | (cp & 0x3f);
		put(b, u, 3);
	} else {
		u[0] = 0xf0 | cp >> 18;
		u[1] = 0x80 | (cp >> 12 & 0x3f);
		u[2] = 0x80 | (cp >> 6 & 0x3f);
		u[3] = 0x80 | (cp & 0x3f);
		put(b, u, 4);
	}
}

/* A decoded string in the canonical form both sides are compared in: '"', length, bytes. */
static void put_canon_string(struct buf *b, const struct buf *s)
{
	uint32_t n = (uint32_t)s->len;

	put_byte(b, '"');
	put(b, &n, sizeof(n));
	put(b, s->p, s->len);
}

/* --- the reference --------------------------------------------------------------------------- */

/* Returns the length of the well-formed UTF-8 sequence at @s (@n bytes there), its code point
 * in *@cp; or 0 if @s does not start one. */
static size_t ref_utf8(const uint8_t *s, size_t n, uint32_t *cp)
{
	uint32_t c, min;
	size_t len;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2, c = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, c = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4, c = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* What @n bytes of @s must decode to: well-formed UTF-8 as it is, any other byte as Latin-1. */
static void expect_string(struct buf *model, const uint8_t *s, size_t n)
{
	struct buf t = {0};
	uint32_t cp;
	size_t len;

	for (size_t i = 0; i < n; i += len) {
		len = ref_utf8(s + i, n - i, &cp);
		if (!len) {
			cp = s[i];
			len = 1;
		}
		put_cp(&t, cp);
	}
	put_canon_string(model, &t);
	free(t.p);
}

/* Returns the value of hex digit @c, or -1. */
static int hex(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decodes the JSON string that starts at @s[*@i] (its opening quote) into @canon and moves *@i
 * past its closing quote. Returns false if it is not a valid JSON string of valid UTF-8 with no
 * raw control byte, or a lone surrogate escape (json.c never writes one).
 */
static bool decode_string(const uint8_t *s, size_t n, size_t *i, struct buf *canon)
{
	static const char short_esc[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
	struct buf t = {0};
	const char *e;
	uint32_t cp;
	size_t k = *i + 1, len;
	bool ok = false;

	while (k < n && s[k] != '"') {
		if (s[k] == '\\') {
			if (k + 1 >= n)
				goto out;
			if (s[k + 1] == 'u') {
				if (k + 6 > n)
					goto out;
				cp = 0;
				for (int d = 2; d < 6; d++) {
					if (hex(s[k + d]) < 0)
						goto out;
					cp = cp << 4 | (uint32_t)hex(s[k + d]);
				}
				if (cp >= 0xd800 && cp <= 0xdfff)
					goto out;
				k += 6;
			} else {
				for (e = short_esc; *e && *e != s[k + 1]; e += 2)
					;
				if (!*e)
					goto out;
				cp = (uint8_t)e[1];
				k += 2;
			}
		} else {
			if (s[k] < 0x20 || s[k] == 0x7f)
				goto out;
			len = ref_utf8(s + k, n - k, &cp);
			if (!len)
				goto out;
			k += len;
		}
		put_cp(&t, cp);
	}
	if (k < n) {
		put_canon_string(canon, &t);
		*i = k + 1;
		ok = true;
	}
out:
	free(t.p);
	return ok;
}

/* Decodes the JSON text @s: strings into their canonical form, the rest (structure, numbers,
 * literals) as it is, which must be printable ASCII. Returns false if it is not valid. */
static bool decode(const uint8_t *s, size_t n, struct buf *canon)
{
	for (size_t i = 0; i < n;) {
		if (s[i] == '"') {
			if (!decode_string(s, n, &i, canon))
				return false;
			continue;
		}
		if (s[i] < 0x20 || s[i] >= 0x7f)
			return false;
		put_byte(canon, s[i++]);
	}
	return true;
}

/* Aborts unless the @n bytes at @s are valid UTF-8 with no C0 control byte and no DEL. */
static void check_utf8_no_controls(const uint8_t *s, size_t n)
{
	uint32_t cp;
	size_t len;

	for (size_t i = 0; i < n; i += len) {
		len = ref_utf8(s + i, n - i, &cp);
		CHECK(len, "output is not valid UTF-8");
		CHECK(cp >= 0x20 && cp != 0x7f, "raw control byte in output");
	}
}

/* --- the writer under test ------------------------------------------------------------------ */

struct input {
	const uint8_t *p;
	size_t n;
};

/* Returns the next input byte, 0 once the input is used up. */
static uint8_t take_byte(struct input *in)
{
	uint8_t c = 0;

	if (in->n) {
		c = in->p[0];
		in->p++;
		in->n--;
	}
	return c;
}

/* Returns the next piece of input, its length (at most 255) taken from the input first, copied
 * into a new block of exactly that length with no NUL after it. */
static uint8_t *take_piece(struct input *in, size_t *len)
{
	uint8_t *p;

	*len = take_byte(in);
	if (*len > in->n)
		*len = in->n;
	p = malloc(*len ? *len : 1);
	CHECK(p, "out of memory");
	memcpy(p, in->p, *len);
	in->p += *len;
	in->n -= *len;
	return p;
}

/* Returns the next piece of input as a C string, which ends at its first NUL if it has one. */
static char *take_cstr(struct input *in)
{
	size_t len;
	uint8_t *p = take_piece(in, &len);
	char *s = malloc(len + 1);

	CHECK(s, "out of memory");
	memcpy(s, p, len);
	s[len] = '\0';
	free(p);
	return s;
}

static uint64_t take_u64(struct input *in)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | take_byte(in);
	return v;
}

/* Writes "key": into the model: the separator first unless the object is new. */
static void expect_key(struct buf *model, bool *first, const char *key)
{
	if (!*first)
		put_byte(model, ',');
	*first = false;
	expect_string(model, (const uint8_t *)key, strlen(key));
	put_byte(model, ':');
}

/* Aborts unless the object @j ended matches @model. */
static void check_object(const struct vigil_json *j, const struct buf *model)
{
	struct buf canon = {0};

	CHECK(j->buf && j->len < j->cap, "no buffer, or no room for its NUL");
	CHECK(strlen(j->buf) == j->len, "output not NUL-terminated at its length");
	check_utf8_no_controls((const uint8_t *)j->buf, j->len);
	CHECK(decode((const uint8_t *)j->buf, j->len, &canon), "output is not valid JSON");
	CHECK(canon.len == model->len && !memcmp(canon.p, model->p, canon.len),
	      "output does not decode to what was written");
	free(canon.p);
}

/* Escapes a piece of input into a buffer of a fuzzed size and checks the result: the length
 * needed is returned whatever the size, and the cut text is the longest prefix of whole
 * characters and escapes that fits, which still decodes as a JSON string body. */
static void check_escape(struct input *in)
{
	size_t outlen = take_byte(in), n, need, k, unit;
	uint8_t *s = take_piece(in, &n);
	struct buf model = {0}, canon = {0}, quoted = {0};
	char *full, *out;

	need = vigil_json_escape(NULL, 0, (const char *)s, n);
	full = malloc(need + 1);
	CHECK(full, "out of memory");
	CHECK(vigil_json_escape(full, need + 1, (const char *)s, n) == need, "need differs");
	CHECK(strlen(full) == need, "escaped text has a NUL, or the wrong length");
	put_byte(&quoted, '"');
	put(&quoted, full, need);
	put_byte(&quoted, '"');
	expect_string(&model, s, n);
	CHECK(decode(quoted.p, quoted.len, &canon), "escaped text is not a JSON string body");
	CHECK(canon.len == model.len && !memcmp(canon.p, model.p, canon.len),
	      "escaped text does not decode to its input");

	out = outlen ? malloc(outlen) : NULL;
	CHECK(!outlen || out, "out of memory");
	CHECK(vigil_json_escape(out, outlen, (const char *)s, n) == need, "need depends on outlen");
	if (outlen) {
		k = strnlen(out, outlen);
		CHECK(k < outlen, "cut text not NUL-terminated");
		CHECK(!memcmp(out, full, k), "cut text is not a prefix");
		if (k < need) {
			unit = full[k] != '\\' ? 1 : full[k + 1] == 'u' ? 6 : 2;
			if ((uint8_t)full[k] >= 0x80)
				unit =
				    ref_utf8((const uint8_t *)full + k, need - k, &(uint32_t){0});
			CHECK(k + unit > outlen - 1, "cut shorter than it had to be");
		}
		quoted.len = 0;
		canon.len = 0;
		put_byte(&quoted, '"');
		put(&quoted, out, k);
		put_byte(&quoted, '"');
		CHECK(decode(quoted.p, quoted.len, &canon), "cut text is cut inside a character");
	}
	free(out);
	free(full);
	free(s);
	free(model.p);
	free(canon.p);
	free(quoted.p);
}

/* Writes "key":[...] into @j: an array of up to 3 objects, each of one or two string fields
 * taken from @in, nested in @j itself. What the array must decode to goes into @lm. */
static void write_list(struct input *in, uint8_t op, struct vigil_json *j, const char *key,
		       struct buf *lm)
{
	size_t cnt = (op >> 4) % 4, fields = 1 + (op >> 6 & 1);
	bool first;

	vigil_json_array_begin(j, key);
	put_byte(lm, '[');
	for (size_t i = 0; i < cnt; i++) {
		vigil_json_object_begin(j, NULL);
		if (i)
			put_byte(lm, ',');
		put_byte(lm, '{');
		first = true;
		for (size_t k = 0; k < fields; k++) {
			char *name = take_cstr(in), *s = take_cstr(in);

			vigil_json_str(j, name, s);
			expect_key(lm, &first, name);
			expect_string(lm, (const uint8_t *)s, strlen(s));
			free(name);
			free(s);
		}
		vigil_json_object_end(j);
		put_byte(lm, '}');
	}
	vigil_json_array_end(j);
	put_byte(lm, ']');
	CHECK(j->err == 0, "writer failed");
}

/* Returns 0 (libFuzzer's convention); aborts on a broken contract. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {.p = data, .n = size};
	struct vigil_json j = {0};
	struct buf model = {0};
	bool first = true;
	char num[24];

	vigil_json_begin(&j);
	put_byte(&model, '{');
	while (in.n) {
		uint8_t op = take_byte(&in);
		char *key = op % 9 < 6 || op % 9 == 8 ? take_cstr(&in) : NULL;
		size_t len, m;
		uint8_t *p;
		char *s;

		switch (op % 9) {
		case 0: /* a string, up to its first NUL */
			s = take_cstr(&in);
			vigil_json_str(&j, key, s);
			expect_key(&model, &first, key);
			expect_string(&model, (const uint8_t *)s, strlen(s));
			free(s);
			break;
		case 1: /* a buffer that need not be NUL-terminated, n at most its size */
			p = take_piece(&in, &len);
			m = op & 0x80 ? len : len / 2;
			vigil_json_strn(&j, key, (const char *)p, m);
			expect_key(&model, &first, key);
			expect_string(&model, p, strnlen((const char *)p, m));
			free(p);
			break;
		case 2: { /* a list of up to 7 strings, some of them NULL */
			char *v[7];
			size_t cnt = (op >> 3) % 8;

			expect_key(&model, &first, key);
			put_byte(&model, '[');
			for (size_t i = 0; i < cnt; i++) {
				v[i] = take_byte(&in) & 1 ? NULL : take_cstr(&in);
				if (i)
					put_byte(&model, ',');
				if (v[i])
					expect_string(&model, (const uint8_t *)v[i], strlen(v[i]));
				else
					put(&model, "null", 4);
			}
			put_byte(&model, ']');
			vigil_json_strv(&j, key, v, cnt);
			for (size_t i = 0; i < cnt; i++)
				free(v[i]);
			break;
		}
		case 3: { /* integers, both kinds */
			uint64_t v = take_u64(&in);

			if (op & 0x80) {
				vigil_json_i64(&j, key, (int64_t)v);
				snprintf(num, sizeof(num), "%" PRId64, (int64_t)v);
			} else {
				vigil_json_u64(&j, key, v);
				snprintf(num, sizeof(num), "%" PRIu64, v);
			}
			expect_key(&model, &first, key);
			put(&model, num, strlen(num));
			break;
		}
		case 4: /* true, false, null */
			expect_key(&model, &first, key);
			if (op & 0x80) {
				vigil_json_null(&j, key);
				put(&model, "null", 4);
			} else {
				vigil_json_bool(&j, key, op & 0x40);
				put(&model, op & 0x40 ? "true" : "false", op & 0x40 ? 4 : 5);
			}
			break;
		case 5: /* a NULL string, either way */
			if (op & 0x80)
				vigil_json_str(&j, key, NULL);
			else
				vigil_json_strn(&j, key, NULL, op);
			expect_key(&model, &first, key);
			put(&model, "null", 4);
			break;
		case 6:
			check_escape(&in);
			break;
		case 7: /* end the object, check it, start another in the same buffer */
			CHECK(vigil_json_end(&j) == 0, "writer failed");
			put_byte(&model, '}');
			check_object(&j, &model);
			vigil_json_begin(&j);
			model.len = 0;
			put_byte(&model, '{');
			first = true;
			break;
		case 8: { /* a list of up to 3 objects of a string or two, under a key */
			struct buf lm = {0};

			write_list(&in, op, &j, key, &lm);
			expect_key(&model, &first, key);
			put(&model, lm.p, lm.len);
			free(lm.p);
			break;
		}
		}
		free(key);
	}
	CHECK(vigil_json_end(&j) == 0, "writer failed");
	put_byte(&model, '}');
	check_object(&j, &model);
	vigil_json_free(&j);
	free(model.p);
	return 0;
}
