/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for userspace/core/json.c: exact output for every value type, nested containers
 * and their misuse, the escaping rules, hostile and unterminated input, growth, truncation and
 * allocation failure. Every object
 * written is parsed back with jansson, an independent strict parser that rejects invalid
 * UTF-8, to check it is valid JSON and that its strings decode to what was meant.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/json.h"
#include "failalloc.h"

/* Allocation failure: tests/lib/failalloc.c takes the place of libc's allocator for this
 * binary; failalloc_works() says whether it is in effect (not under valgrind). */

/* The writer's invariant after every call: buf is NUL-terminated exactly at len. */
static void assert_terminated(const struct vigil_json *j)
{
	assert_non_null(j->buf);
	assert_true(j->len < j->cap);
	assert_int_equal(strlen(j->buf), j->len);
}

/* Parse the object in j with jansson; fails the test with jansson's message if it is invalid. */
static json_t *parse(const struct vigil_json *j)
{
	json_error_t jerr;
	json_t *root;

	assert_terminated(j);
	root = json_loadb(j->buf, j->len,
			  JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &jerr);
	if (!root)
		fail_msg("jansson: %s at %d in: %s", jerr.text, jerr.position, j->buf);
	assert_true(json_is_object(root));
	return root;
}

/* Assert that string member key of root holds exactly the n bytes of want. */
static void assert_member(json_t *root, const char *key, const char *want, size_t n)
{
	json_t *v = json_object_get(root, key);

	assert_non_null(v);
	assert_true(json_is_string(v));
	assert_int_equal(json_string_length(v), n);
	assert_memory_equal(json_string_value(v), want, n);
}

static void test_full_object(void **state)
{
	/* A kernel comm: 16 bytes, no NUL, followed by bytes that must not be read. */
	struct {
		char comm[16];
		char after[8];
	} ev = {.comm = "kworker/u16:3abc", .after = "NOTREAD"};
	char *argv[] = {"/bin/sh", NULL, "-c"};
	struct vigil_json j = {0};
	json_t *root;
	const char *want = "{\"type\":\"exec\",\"comm\":\"kworker/u16:3abc\",\"pid\":4242,"
			   "\"max\":18446744073709551615,\"delta\":-17,"
			   "\"min\":-9223372036854775808,\"zero\":0,\"ok\":true,\"bad\":false,"
			   "\"parent\":null,\"argv\":[\"/bin/sh\",null,\"-c\"],\"none\":[],"
			   "\"extra\":{\"a\":[1,2]},\"msg\":\"caf\xc3\xa9 \\\"q\\\"\\n\"}";

	(void)state;
	vigil_json_begin(&j);
	vigil_json_str(&j, "type", "exec");
	vigil_json_strn(&j, "comm", ev.comm, sizeof(ev.comm));
	vigil_json_u64(&j, "pid", 4242);
	vigil_json_u64(&j, "max", UINT64_MAX);
	vigil_json_i64(&j, "delta", -17);
	vigil_json_i64(&j, "min", INT64_MIN);
	vigil_json_i64(&j, "zero", 0);
	vigil_json_bool(&j, "ok", true);
	vigil_json_bool(&j, "bad", false);
	vigil_json_null(&j, "parent");
	vigil_json_strv(&j, "argv", argv, 3);
	vigil_json_strv(&j, "none", NULL, 0);
	vigil_json_object_begin(&j, "extra");
	vigil_json_array_begin(&j, "a");
	vigil_json_u64(&j, NULL, 1);
	vigil_json_u64(&j, NULL, 2);
	vigil_json_array_end(&j);
	vigil_json_object_end(&j);
	vigil_json_str(&j, "msg", "caf\xc3\xa9 \"q\"\n");
	assert_int_equal(vigil_json_end(&j), 0);
	assert_string_equal(j.buf, want);
	assert_int_equal(j.len, strlen(want));

	root = parse(&j);
	assert_int_equal(json_object_size(root), 14);
	assert_member(root, "comm", "kworker/u16:3abc", 16);
	assert_member(root, "msg", "caf\xc3\xa9 \"q\"\n", 10);
	assert_true(json_is_null(json_object_get(root, "parent")));
	assert_true(json_is_null(json_array_get(json_object_get(root, "argv"), 1)));
	assert_true(json_real_value(json_object_get(root, "pid")) == 4242.0);
	json_decref(root);
	vigil_json_free(&j);
}

/* A key or string is escaped the same way; check both and one empty object. */
static void test_keys_and_empty(void **state)
{
	struct vigil_json j = {0};

	(void)state;
	vigil_json_begin(&j);
	assert_string_equal(j.buf, "{");
	assert_int_equal(vigil_json_end(&j), 0);
	assert_string_equal(j.buf, "{}");
	json_decref(parse(&j));

	vigil_json_begin(&j);
	vigil_json_u64(&j, "k\"e\\y\n", 1);
	vigil_json_str(&j, "s", NULL);
	vigil_json_strn(&j, "n", NULL, 4);
	vigil_json_null(&j, "r");
	vigil_json_str(&j, "e", "");
	assert_int_equal(vigil_json_end(&j), 0);
	assert_string_equal(j.buf,
			    "{\"k\\\"e\\\\y\\n\":1,\"s\":null,\"n\":null,\"r\":null,\"e\":\"\"}");
	json_decref(parse(&j));
	vigil_json_free(&j);
}

struct esc_case {
	const char *in;
	size_t n;
	const char *escaped; /* what vigil_json_escape() writes */
	const char *decoded; /* what a JSON parser reads back; NULL: the input bytes */
};

#define ESC(in, esc, dec)                                                                          \
	{                                                                                          \
		in, sizeof(in) - 1, esc, dec                                                       \
	}

static const struct esc_case esc_cases[] = {
    ESC("plain / text", "plain / text", NULL),
    ESC("a\"b", "a\\\"b", NULL),
    ESC("a\\b", "a\\\\b", NULL),
    ESC("\n", "\\n", NULL),
    ESC("\r", "\\r", NULL),
    ESC("\t", "\\t", NULL),
    ESC("\b", "\\b", NULL),
    ESC("\f", "\\f", NULL),
    ESC("\x01", "\\u0001", NULL),
    ESC("\x1b[0m", "\\u001b[0m", NULL),
    ESC("\x1f", "\\u001f", NULL),
    ESC("\x7f", "\\u007f", NULL),
    /* Well-formed UTF-8 passes through, at each boundary of each length. */
    ESC("caf\xc3\xa9", "caf\xc3\xa9", NULL),
    /* C1 controls are escaped (a terminal may take U+009B for CSI); U+00A0 on passes. */
    ESC("\xc2\x80", "\\u0080", NULL),
    ESC("a\xc2\x9b"
	"b",
	"a\\u009bb", NULL),
    ESC("\xc2\x9f", "\\u009f", NULL),
    ESC("\xc2\xa0", "\xc2\xa0", NULL),
    ESC("\xdf\xbf", "\xdf\xbf", NULL),
    ESC("\xe2\x82\xac", "\xe2\x82\xac", NULL),
    ESC("\xe0\xa0\x80", "\xe0\xa0\x80", NULL),
    ESC("\xed\x9f\xbf", "\xed\x9f\xbf", NULL),
    ESC("\xee\x80\x80", "\xee\x80\x80", NULL),
    ESC("\xef\xbf\xbf", "\xef\xbf\xbf", NULL),
    ESC("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80", NULL),
    ESC("\xf0\x90\x80\x80", "\xf0\x90\x80\x80", NULL),
    ESC("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf", NULL),
    /* Anything else: each byte as its Latin-1 reading. */
    ESC("\xff", "\\u00ff", "\xc3\xbf"),
    ESC("\xfe", "\\u00fe", "\xc3\xbe"),
    ESC("\x80", "\\u0080", "\xc2\x80"),
    ESC("a\xbf"
	"b",
	"a\\u00bfb",
	"a\xc2\xbf"
	"b"),
    ESC("\xc0\x80", "\\u00c0\\u0080", "\xc3\x80\xc2\x80"),
    ESC("\xc1\xbf", "\\u00c1\\u00bf", "\xc3\x81\xc2\xbf"),
    ESC("\xe0\x80\x80", "\\u00e0\\u0080\\u0080", "\xc3\xa0\xc2\x80\xc2\x80"),
    ESC("\xf0\x80\x80\x80", "\\u00f0\\u0080\\u0080\\u0080", "\xc3\xb0\xc2\x80\xc2\x80\xc2\x80"),
    ESC("\xed\xa0\x80", "\\u00ed\\u00a0\\u0080", "\xc3\xad\xc2\xa0\xc2\x80"),
    ESC("\xed\xbf\xbf", "\\u00ed\\u00bf\\u00bf", "\xc3\xad\xc2\xbf\xc2\xbf"),
    ESC("\xf4\x90\x80\x80", "\\u00f4\\u0090\\u0080\\u0080", "\xc3\xb4\xc2\x90\xc2\x80\xc2\x80"),
    ESC("\xf5\x80\x80\x80", "\\u00f5\\u0080\\u0080\\u0080", "\xc3\xb5\xc2\x80\xc2\x80\xc2\x80"),
    ESC("\xe2\x82", "\\u00e2\\u0082", "\xc3\xa2\xc2\x82"),
    ESC("\xe2\x82"
	"A",
	"\\u00e2\\u0082A",
	"\xc3\xa2\xc2\x82"
	"A"),
    ESC("\xf0\x9f\x98", "\\u00f0\\u009f\\u0098", "\xc3\xb0\xc2\x9f\xc2\x98"),
    ESC("\xc3", "\\u00c3", "\xc3\x83"),
    ESC("\xc3(", "\\u00c3(", "\xc3\x83("),
};

static void test_escape_table(void **state)
{
	struct vigil_json j = {0};
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(esc_cases) / sizeof(esc_cases[0]); i++) {
		const struct esc_case *c = &esc_cases[i];
		const char *dec = c->decoded ? c->decoded : c->in;
		json_t *root;
		size_t need;

		need = vigil_json_escape(out, sizeof(out), c->in, c->n);
		if (strcmp(out, c->escaped))
			fail_msg("case %zu: escaped to \"%s\", want \"%s\"", i, out, c->escaped);
		assert_int_equal(need, strlen(c->escaped));

		vigil_json_begin(&j);
		vigil_json_strn(&j, "s", c->in, c->n);
		assert_int_equal(vigil_json_end(&j), 0);
		root = parse(&j);
		assert_member(root, "s", dec, strlen(dec));
		json_decref(root);
	}
	vigil_json_free(&j);
}

/* A NUL is part of an explicit-length escape, but ends the string for vigil_json_strn(). */
static void test_nul(void **state)
{
	struct vigil_json j = {0};
	char out[32];
	json_t *root;

	(void)state;
	assert_int_equal(vigil_json_escape(out, sizeof(out), "a\0b", 3), 8);
	assert_string_equal(out, "a\\u0000b");

	vigil_json_begin(&j);
	vigil_json_strn(&j, "comm", "bash\0garbage\xff\"..", 16);
	vigil_json_strn(&j, "cut", "abcdef", 3);
	vigil_json_strn(&j, "zero", "abc", 0);
	assert_int_equal(vigil_json_end(&j), 0);
	assert_string_equal(j.buf, "{\"comm\":\"bash\",\"cut\":\"abc\",\"zero\":\"\"}");
	root = parse(&j);
	json_decref(root);
	vigil_json_free(&j);
}

/* A name crafted to close the string and open a new object stays one string value. */
static void test_hostile_name(void **state)
{
	static const char hostile[] = "\"},{\"type\":\"x";
	struct vigil_json j = {0};
	json_t *root;

	(void)state;
	vigil_json_begin(&j);
	vigil_json_str(&j, "type", "exec");
	vigil_json_strn(&j, "comm", hostile, sizeof(hostile) - 1);
	vigil_json_u64(&j, "pid", 1);
	assert_int_equal(vigil_json_end(&j), 0);
	assert_string_equal(j.buf,
			    "{\"type\":\"exec\",\"comm\":\"\\\"},{\\\"type\\\":\\\"x\",\"pid\":1}");

	root = parse(&j);
	assert_int_equal(json_object_size(root), 3);
	assert_member(root, "type", "exec", 4);
	assert_member(root, "comm", hostile, sizeof(hostile) - 1);
	json_decref(root);
	vigil_json_free(&j);
}

/* Deterministic across libcs, unlike rand(). */
static uint64_t xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * Reference for what a parser must read back: a well-formed UTF-8 sequence as is, any other
 * byte as U+00XX. Decodes by arithmetic, unlike json.c's range table, so the two check each
 * other. Returns the length of the sequence at s, 0 if it is not well-formed.
 */
static size_t ref_utf8(const unsigned char *s, size_t n)
{
	uint32_t cp, min;
	size_t len, k;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, cp = s[0] & 0x1f, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f, min = 0x800;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	for (k = 1; k < len; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Writes the expected decoding of s into out (room for 2n bytes); returns its length. */
static size_t ref_decode(unsigned char *out, const unsigned char *s, size_t n)
{
	size_t i = 0, o = 0, len;

	while (i < n) {
		len = ref_utf8(s + i, n - i);
		if (len) {
			memcpy(out + o, s + i, len);
			o += len;
			i += len;
		} else {
			out[o++] = (unsigned char)(0xc0 | s[i] >> 6);
			out[o++] = (unsigned char)(0x80 | (s[i] & 0x3f));
			i++;
		}
	}
	return o;
}

/* Byte values that make fuzzing find the edges: UTF-8 leads, continuations, controls, quotes. */
static unsigned char fuzz_byte(uint64_t *rng)
{
	static const unsigned char edge[] = {0x00, 0x01, 0x1f, 0x20, '"',  '\\', 0x7f, 0x80,
					     0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2,
					     0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff};
	uint64_t r = xorshift64(rng);

	if (r & 1)
		return edge[(r >> 8) % sizeof(edge)];
	return (unsigned char)(r >> 8);
}

/*
 * 20000 random byte strings, one writer reused throughout: every object must parse, and its
 * string must decode to the reference reading of the input (up to the first NUL, as strn
 * promises). vigil_json_escape() must agree with the writer on the escaped text.
 */
static void test_fuzz(void **state)
{
	struct vigil_json j = {0};
	unsigned char in[96], want[192];
	char esc[96 * 6 + 1];
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	int iter;

	(void)state;
	for (iter = 0; iter < 20000; iter++) {
		size_t n = xorshift64(&rng) % sizeof(in), i, cut, need, wlen;
		json_t *root;

		for (i = 0; i < n; i++)
			in[i] = fuzz_byte(&rng);

		vigil_json_begin(&j);
		vigil_json_strn(&j, "s", (const char *)in, n);
		vigil_json_u64(&j, "i", (uint64_t)iter);
		assert_int_equal(vigil_json_end(&j), 0);
		root = parse(&j);
		cut = strnlen((const char *)in, n);
		wlen = ref_decode(want, in, cut);
		assert_member(root, "s", (const char *)want, wlen);
		json_decref(root);

		/* The escaper alone, NUL bytes included, into a buffer that always fits. */
		need = vigil_json_escape(esc, sizeof(esc), (const char *)in, n);
		assert_int_equal(strlen(esc), need);
		if (cut == n)
			assert_memory_equal(j.buf + strlen("{\"s\":\""), esc, need);
	}
	vigil_json_free(&j);
}

/* Random well-formed UTF-8 over the whole code point range must come back byte for byte. */
static void test_fuzz_utf8_roundtrip(void **state)
{
	struct vigil_json j = {0};
	unsigned char in[4 * 32];
	uint64_t rng = 42;
	int iter;

	(void)state;
	for (iter = 0; iter < 5000; iter++) {
		size_t n = 0, k, chars = xorshift64(&rng) % 32;
		json_t *root;

		for (k = 0; k < chars; k++) {
			uint32_t cp = (uint32_t)(xorshift64(&rng) % 0x110000);

			if (cp >= 0xd800 && cp <= 0xdfff)
				cp -= 0x800;
			if (cp == 0)
				cp = 'x';
			if (cp < 0x80) {
				in[n++] = (unsigned char)cp;
			} else if (cp < 0x800) {
				in[n++] = (unsigned char)(0xc0 | cp >> 6);
				in[n++] = (unsigned char)(0x80 | (cp & 0x3f));
			} else if (cp < 0x10000) {
				in[n++] = (unsigned char)(0xe0 | cp >> 12);
				in[n++] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
				in[n++] = (unsigned char)(0x80 | (cp & 0x3f));
			} else {
				in[n++] = (unsigned char)(0xf0 | cp >> 18);
				in[n++] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
				in[n++] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
				in[n++] = (unsigned char)(0x80 | (cp & 0x3f));
			}
		}
		vigil_json_begin(&j);
		vigil_json_strn(&j, "s", (const char *)in, n);
		assert_int_equal(vigil_json_end(&j), 0);
		root = parse(&j);
		assert_member(root, "s", (const char *)in, n);
		json_decref(root);
	}
	vigil_json_free(&j);
}

/*
 * One string of 1 MiB, half of it escaped to 6 bytes, grows the buffer from nothing; then
 * 256Ki small strings appended one by one.
 */
static void test_growth(void **state)
{
	const size_t n = 1 << 20;
	struct vigil_json j = {0};
	size_t i, want_len = 0;
	unsigned long calls;
	json_t *root, *v;
	char *big, *back, **argv;

	(void)state;
	big = malloc(n + 1);
	argv = calloc(n / 4, sizeof(*argv));
	assert_non_null(big);
	assert_non_null(argv);
	for (i = 0; i < n; i++)
		big[i] = (i % 2) ? 'a' : '\x01';
	big[n] = '\0';

	calls = failalloc_calls();
	vigil_json_begin(&j);
	vigil_json_str(&j, "big", big);
	assert_int_equal(vigil_json_end(&j), 0);
	calls = failalloc_calls() - calls;
	want_len = strlen("{\"big\":\"\"}") + n / 2 * 6 + n / 2;
	assert_int_equal(j.len, want_len);
	/* Grown to fit, but never to more than twice the need. */
	assert_true(j.cap >= j.len + 1 && j.cap <= 2 * (j.len + 1));
	if (failalloc_works())
		assert_in_range(calls, 1, 20);
	assert_memory_equal(j.buf + j.len - 9, "\\u0001a\"}", 9);

	root = parse(&j);
	v = json_object_get(root, "big");
	assert_int_equal(json_string_length(v), n);
	back = (char *)json_string_value(v);
	assert_memory_equal(back, big, n);
	json_decref(root);

	/* Many small appends: geometric growth needs a few reallocs, not one per few KiB. */
	vigil_json_free(&j);
	for (i = 0; i < n / 4; i++)
		argv[i] = "x";
	calls = failalloc_calls();
	vigil_json_begin(&j);
	vigil_json_strv(&j, "argv", argv, n / 4);
	assert_int_equal(vigil_json_end(&j), 0);
	calls = failalloc_calls() - calls;
	assert_int_equal(j.len, strlen("{\"argv\":[]}") + n / 4 * 4 - 1);
	if (failalloc_works())
		assert_in_range(calls, 1, 20);
	json_decref(parse(&j));

	free(argv);
	free(big);
	vigil_json_free(&j);
}

/* Once grown, the buffer is reused: records of the same shape allocate nothing. */
static void test_reuse(void **state)
{
	struct vigil_json j = {0};
	size_t cap;
	char *buf;
	int i;

	(void)state;
	vigil_json_begin(&j);
	vigil_json_str(&j, "comm", "sshd");
	assert_int_equal(vigil_json_end(&j), 0);
	buf = j.buf;
	cap = j.cap;

	failalloc_all(true);
	for (i = 0; i < 1000; i++) {
		vigil_json_begin(&j);
		assert_terminated(&j);
		vigil_json_str(&j, "comm", "sshd");
		assert_terminated(&j);
		vigil_json_u64(&j, "n", (uint64_t)i);
		assert_terminated(&j);
		assert_int_equal(vigil_json_end(&j), 0);
		assert_terminated(&j);
	}
	failalloc_all(false);
	assert_ptr_equal(j.buf, buf);
	assert_int_equal(j.cap, cap);
	assert_string_equal(j.buf, "{\"comm\":\"sshd\",\"n\":999}");

	/* Freed, the same struct starts over; free accepts NULL. */
	vigil_json_free(&j);
	assert_null(j.buf);
	assert_int_equal(j.cap, 0);
	vigil_json_free(&j);
	vigil_json_free(NULL);
	vigil_json_begin(&j);
	vigil_json_bool(&j, "again", true);
	assert_int_equal(vigil_json_end(&j), 0);
	assert_string_equal(j.buf, "{\"again\":true}");
	vigil_json_free(&j);
}

/* A failed allocation sticks: later calls change nothing and end() reports -ENOMEM. */
static void test_enomem(void **state)
{
	struct vigil_json j = {0};
	char big[4096];
	size_t len;

	(void)state;
	if (!failalloc_works()) {
		print_message("realloc() cannot be made to fail here (valgrind?): skipped\n");
		skip();
	}
	/* No buffer yet: even "{" cannot be written. */
	failalloc_all(true);
	vigil_json_begin(&j);
	assert_int_equal(j.err, -ENOMEM);
	vigil_json_str(&j, "a", "b");
	assert_int_equal(vigil_json_end(&j), -ENOMEM);
	assert_null(j.buf);
	failalloc_all(false);

	/* Growth fails midway: what was written stays, NUL-terminated. */
	memset(big, 'x', sizeof(big));
	vigil_json_begin(&j);
	assert_int_equal(j.err, 0);
	vigil_json_str(&j, "a", "b");
	len = j.len;
	failalloc_all(true);
	vigil_json_strn(&j, "big", big, sizeof(big));
	assert_int_equal(j.err, -ENOMEM);
	vigil_json_u64(&j, "n", 1);
	vigil_json_strv(&j, "v", NULL, 0);
	assert_int_equal(vigil_json_end(&j), -ENOMEM);
	failalloc_all(false);
	assert_true(j.len >= len);
	assert_terminated(&j);
	assert_int_equal(strncmp(j.buf, "{\"a\":\"b\"", 8), 0);

	/* begin() clears the error and the writer works again. */
	vigil_json_begin(&j);
	vigil_json_strn(&j, "big", big, sizeof(big));
	assert_int_equal(vigil_json_end(&j), 0);
	json_decref(parse(&j));
	vigil_json_free(&j);
}

/* Containers nest in one writer, under a key in an object and as bare values in an array;
 * the commas are the writer's. Once grown, building the same shape again allocates nothing. */
static void test_nested(void **state)
{
	char *argv[] = {"a", NULL};
	struct vigil_json j = {0};
	json_t *root, *list;
	const char *want =
	    "{\"type\":\"status\",\"collector\":{\"records\":1,\"short\":0},\"empty\":{},"
	    "\"none\":[],\"mixed\":[1,-2,\"x\",null,true,0.50,[\"a\",null],[],{\"k\":\"v\"}],"
	    "\"list\":[{\"i\":0},{\"i\":1},{\"i\":2}],\"deep\":[[[{\"d\":[3]}]]],\"after\":7}";

	(void)state;
	for (int round = 0; round < 2; round++) {
		vigil_json_begin(&j);
		vigil_json_str(&j, "type", "status");
		vigil_json_object_begin(&j, "collector");
		vigil_json_u64(&j, "records", 1);
		vigil_json_u64(&j, "short", 0);
		vigil_json_object_end(&j);
		vigil_json_object_begin(&j, "empty");
		vigil_json_object_end(&j);
		vigil_json_array_begin(&j, "none");
		vigil_json_array_end(&j);
		vigil_json_array_begin(&j, "mixed");
		vigil_json_u64(&j, NULL, 1);
		vigil_json_i64(&j, NULL, -2);
		vigil_json_str(&j, NULL, "x");
		vigil_json_null(&j, NULL);
		vigil_json_bool(&j, NULL, true);
		vigil_json_fixed(&j, NULL, 0.5, 2);
		vigil_json_strv(&j, NULL, argv, 2);
		vigil_json_array_begin(&j, NULL);
		vigil_json_array_end(&j);
		vigil_json_object_begin(&j, NULL);
		vigil_json_str(&j, "k", "v");
		vigil_json_object_end(&j);
		vigil_json_array_end(&j);
		vigil_json_array_begin(&j, "list");
		for (int i = 0; i < 3; i++) {
			vigil_json_object_begin(&j, NULL);
			vigil_json_u64(&j, "i", (uint64_t)i);
			vigil_json_object_end(&j);
		}
		vigil_json_array_end(&j);
		vigil_json_array_begin(&j, "deep");
		vigil_json_array_begin(&j, NULL);
		vigil_json_array_begin(&j, NULL);
		vigil_json_object_begin(&j, NULL);
		vigil_json_array_begin(&j, "d");
		vigil_json_u64(&j, NULL, 3);
		vigil_json_array_end(&j);
		vigil_json_object_end(&j);
		vigil_json_array_end(&j);
		vigil_json_array_end(&j);
		vigil_json_array_end(&j);
		vigil_json_u64(&j, "after", 7);
		assert_int_equal(vigil_json_end(&j), 0);
		assert_string_equal(j.buf, want);
		assert_int_equal(j.depth, 0);
		/* The second round must not allocate. */
		failalloc_all(failalloc_works());
	}
	failalloc_all(false);
	root = parse(&j);
	list = json_object_get(root, "list");
	assert_int_equal(json_array_size(list), 3);
	assert_true(json_real_value(json_object_get(json_array_get(list, 2), "i")) == 2.0);
	assert_true(json_real_value(json_array_get(json_object_get(root, "mixed"), 5)) == 0.5);
	json_decref(root);
	vigil_json_free(&j);
}

/* A top-level array: values without keys, closed by vigil_json_end(); the next begin() makes
 * an object again. */
static void test_top_level_array(void **state)
{
	struct vigil_json j = {0};
	json_t *root;

	(void)state;
	vigil_json_begin_array(&j);
	assert_int_equal(vigil_json_end(&j), 0);
	assert_string_equal(j.buf, "[]");

	vigil_json_begin_array(&j);
	vigil_json_object_begin(&j, NULL);
	vigil_json_str(&j, "k", "v");
	vigil_json_object_end(&j);
	vigil_json_u64(&j, NULL, 2);
	assert_int_equal(vigil_json_end(&j), 0);
	assert_string_equal(j.buf, "[{\"k\":\"v\"},2]");
	root = json_loads(j.buf, 0, NULL);
	assert_true(json_is_array(root));
	json_decref(root);

	vigil_json_begin_array(&j);
	vigil_json_u64(&j, "k", 1);
	assert_int_equal(vigil_json_end(&j), -EINVAL);
	vigil_json_begin_array(&j);
	vigil_json_array_end(&j);
	assert_int_equal(vigil_json_end(&j), -EINVAL);

	vigil_json_begin(&j);
	vigil_json_u64(&j, "k", 1);
	assert_int_equal(vigil_json_end(&j), 0);
	assert_string_equal(j.buf, "{\"k\":1}");
	vigil_json_free(&j);
}

/* Fixed decimals: as printf's %.*f, at most 9 of them; no JSON number for NaN or infinity. */
static void test_fixed(void **state)
{
	struct vigil_json j = {0};
	json_t *root;

	(void)state;
	vigil_json_begin(&j);
	vigil_json_fixed(&j, "half", 0.5, 2);
	vigil_json_fixed(&j, "third", 2.0 / 3.0, 2);
	vigil_json_fixed(&j, "one", 1.0, 2);
	vigil_json_fixed(&j, "zero", 0.0, 2);
	vigil_json_fixed(&j, "neg", -1.25, 1);
	vigil_json_fixed(&j, "int", 3.7, 0);
	vigil_json_fixed(&j, "cap", 0.1, 42);
	vigil_json_fixed(&j, "nan", NAN, 2);
	vigil_json_fixed(&j, "inf", -INFINITY, 2);
	assert_int_equal(vigil_json_end(&j), 0);
	assert_string_equal(j.buf, "{\"half\":0.50,\"third\":0.67,\"one\":1.00,\"zero\":0.00,"
				   "\"neg\":-1.2,\"int\":4,\"cap\":0.100000000,\"nan\":null,"
				   "\"inf\":null}");
	json_decref(parse(&j));

	/* A long number grows the buffer like a long string. */
	vigil_json_begin(&j);
	vigil_json_fixed(&j, "big", 1e300, 2);
	assert_int_equal(vigil_json_end(&j), 0);
	assert_int_equal(j.len, strlen("{\"big\":}") + 301 + 3);
	root = parse(&j);
	assert_true(json_real_value(json_object_get(root, "big")) == 1e300);
	json_decref(root);
	vigil_json_free(&j);
}

/* Each misuse is -EINVAL, sticks like any error, and begin() starts over. */
static void test_misuse(void **state)
{
	struct vigil_json j = {0};
	int k;

	(void)state;
	/* No key in an object. */
	vigil_json_begin(&j);
	vigil_json_u64(&j, NULL, 1);
	assert_int_equal(j.err, -EINVAL);
	vigil_json_u64(&j, "k", 1);
	assert_int_equal(vigil_json_end(&j), -EINVAL);
	assert_string_equal(j.buf, "{");

	/* A key in an array. */
	vigil_json_begin(&j);
	vigil_json_array_begin(&j, "a");
	vigil_json_str(&j, "k", "v");
	assert_int_equal(vigil_json_end(&j), -EINVAL);
	assert_string_equal(j.buf, "{\"a\":[");

	/* Closing the top-level object as a nested one, or an object as an array. */
	vigil_json_begin(&j);
	vigil_json_object_end(&j);
	assert_int_equal(vigil_json_end(&j), -EINVAL);
	vigil_json_begin(&j);
	vigil_json_object_begin(&j, "o");
	vigil_json_array_end(&j);
	assert_int_equal(vigil_json_end(&j), -EINVAL);
	vigil_json_begin(&j);
	vigil_json_array_begin(&j, "a");
	vigil_json_object_end(&j);
	assert_int_equal(vigil_json_end(&j), -EINVAL);

	/* Ending with a container still open. */
	vigil_json_begin(&j);
	vigil_json_object_begin(&j, "o");
	assert_int_equal(vigil_json_end(&j), -EINVAL);
	assert_string_equal(j.buf, "{\"o\":{");

	/* A value after the end; a second end. */
	vigil_json_begin(&j);
	assert_int_equal(vigil_json_end(&j), 0);
	vigil_json_u64(&j, "late", 1);
	assert_int_equal(j.err, -EINVAL);
	assert_string_equal(j.buf, "{}");
	vigil_json_begin(&j);
	assert_int_equal(vigil_json_end(&j), 0);
	assert_int_equal(vigil_json_end(&j), -EINVAL);

	/* VIGIL_JSON_DEPTH containers, the top-level one included, and no more. */
	vigil_json_begin(&j);
	for (k = 1; k < VIGIL_JSON_DEPTH; k++)
		vigil_json_array_begin(&j, k == 1 ? "d" : NULL);
	assert_int_equal(j.err, 0);
	vigil_json_array_begin(&j, NULL);
	assert_int_equal(j.err, -EINVAL);
	vigil_json_begin(&j);
	for (k = 1; k < VIGIL_JSON_DEPTH; k++)
		vigil_json_array_begin(&j, k == 1 ? "d" : NULL);
	for (k = 1; k < VIGIL_JSON_DEPTH; k++)
		vigil_json_array_end(&j);
	assert_int_equal(vigil_json_end(&j), 0);
	json_decref(parse(&j));

	/* The error is gone after begin(). */
	vigil_json_begin(&j);
	vigil_json_bool(&j, "ok", true);
	assert_int_equal(vigil_json_end(&j), 0);
	assert_string_equal(j.buf, "{\"ok\":true}");
	vigil_json_free(&j);
}

/* Out of memory inside a nested container: the closes that follow do nothing, end() says
 * -ENOMEM (not a misuse), and what was written stays NUL-terminated. */
static void test_enomem_nested(void **state)
{
	struct vigil_json j = {0};
	char big[4096];

	(void)state;
	if (!failalloc_works()) {
		print_message("realloc() cannot be made to fail here (valgrind?): skipped\n");
		skip();
	}
	memset(big, 'x', sizeof(big));
	vigil_json_begin(&j);
	vigil_json_array_begin(&j, "list");
	vigil_json_object_begin(&j, NULL);
	failalloc_all(true);
	vigil_json_strn(&j, "big", big, sizeof(big));
	vigil_json_object_end(&j);
	vigil_json_array_end(&j);
	vigil_json_fixed(&j, "f", 1.0, 2);
	assert_int_equal(vigil_json_end(&j), -ENOMEM);
	failalloc_all(false);
	assert_terminated(&j);
	assert_int_equal(strncmp(j.buf, "{\"list\":[{", 10), 0);

	/* A fixed number that does not fit fails the same way. */
	vigil_json_free(&j);
	vigil_json_begin(&j);
	failalloc_all(true);
	vigil_json_fixed(&j, "big", 1e300, 2);
	assert_int_equal(vigil_json_end(&j), -ENOMEM);
	failalloc_all(false);
	assert_terminated(&j);
	assert_string_equal(j.buf, "{\"big\":");
	vigil_json_free(&j);
}

/* snprintf-like: returns the full length, writes whole units only, always NUL-terminates. */
static void test_escape_truncation(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(vigil_json_escape(NULL, 0, "a\"b", 3), 4);
	assert_int_equal(vigil_json_escape(NULL, 0, "\xff", 1), 6);
	assert_int_equal(vigil_json_escape(NULL, 0, "", 0), 0);

	memset(out, '#', sizeof(out));
	assert_int_equal(vigil_json_escape(out, 1, "abc", 3), 3);
	assert_string_equal(out, "");
	assert_int_equal(vigil_json_escape(out, 5, "abcdefgh", 8), 8);
	assert_string_equal(out, "abcd");
	assert_int_equal(vigil_json_escape(out, 4, "abcd", 4), 4);
	assert_string_equal(out, "abc");
	assert_int_equal(vigil_json_escape(out, 5, "abcd", 4), 4);
	assert_string_equal(out, "abcd");

	/* An escape or a UTF-8 character that does not fit whole is left out whole. */
	assert_int_equal(vigil_json_escape(out, 4, "ab\"c", 4), 5);
	assert_string_equal(out, "ab");
	assert_int_equal(vigil_json_escape(out, 6, "a\x01", 2), 7);
	assert_string_equal(out, "a");
	assert_int_equal(vigil_json_escape(out, 4, "a\xe2\x82\xac", 4), 4);
	assert_string_equal(out, "a");
	assert_int_equal(vigil_json_escape(out, 5, "a\xe2\x82\xac", 4), 4);
	assert_string_equal(out, "a\xe2\x82\xac");
	/* Nothing is written past outlen. */
	memset(out, '#', sizeof(out));
	vigil_json_escape(out, 3, "\\\\\\\\", 4);
	assert_string_equal(out, "\\\\");
	assert_int_equal(out[3], '#');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_object),
	    cmocka_unit_test(test_keys_and_empty),
	    cmocka_unit_test(test_escape_table),
	    cmocka_unit_test(test_nul),
	    cmocka_unit_test(test_hostile_name),
	    cmocka_unit_test(test_fuzz),
	    cmocka_unit_test(test_fuzz_utf8_roundtrip),
	    cmocka_unit_test(test_growth),
	    cmocka_unit_test(test_reuse),
	    cmocka_unit_test(test_enomem),
	    cmocka_unit_test(test_escape_truncation),
	    cmocka_unit_test(test_nested),
	    cmocka_unit_test(test_top_level_array),
	    cmocka_unit_test(test_fixed),
	    cmocka_unit_test(test_misuse),
	    cmocka_unit_test(test_enomem_nested),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
