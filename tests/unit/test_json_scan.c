// SPDX-License-Identifier: Apache-2.0
/*
 * Unit: the JSON member scanner (core/json_scan.c). Members of every type, unescaping, what it
 * refuses, and that it never accepts what jansson refuses (but for the two documented cases);
 * then objects written by json.c from random bytes, which it must read back exactly.
 */
#include <errno.h>
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
#include "core/json_scan.h"

#define MAXM 16

struct scanned {
	struct vigil_json_member m[MAXM];
	char buf[4096];
	int n;
};

/* Scan s (strlen bytes) with a buffer. Returns the number of members, or what next returned. */
static int scan(const char *s, struct scanned *out)
{
	struct vigil_json_scan sc;
	int ret = 0;

	out->n = 0;
	if (vigil_json_scan_begin(&sc, s, strlen(s), out->buf))
		return -EINVAL;
	while (out->n < MAXM && (ret = vigil_json_scan_next(&sc, &out->m[out->n])) > 0)
		out->n++;
	return ret ? ret : out->n;
}

static void assert_m(const struct vigil_json_member *m, const char *key, enum vigil_json_type t,
		     const char *val, size_t vlen)
{
	assert_int_equal(m->klen, strlen(key));
	assert_memory_equal(m->key, key, m->klen);
	assert_int_equal(m->type, t);
	assert_int_equal(m->vlen, vlen);
	assert_memory_equal(m->val, val, vlen);
}

static void test_members(void **state)
{
	static const char rec[] =
	    " {\"type\" : \"event\",\"rid\":\"17-3\",\"pid\":42,\"neg\":-7,\"rate\":0.50,"
	    "\"big\":18446744073709551615,\"e\":1E+2,\"ok\":true,\"no\":false,\"gone\":null,"
	    "\"chain\":[{\"a\":\"x]}\"},{\"b\":[1,2]}],\"o\":{\"k\":1},\"\":\"\"}\n";
	struct scanned s;

	(void)state;
	assert_int_equal(scan(rec, &s), 13);
	assert_m(&s.m[0], "type", VIGIL_JSON_STRING, "event", 5);
	assert_m(&s.m[1], "rid", VIGIL_JSON_STRING, "17-3", 4);
	assert_m(&s.m[2], "pid", VIGIL_JSON_NUMBER, "42", 2);
	assert_m(&s.m[3], "neg", VIGIL_JSON_NUMBER, "-7", 2);
	assert_m(&s.m[4], "rate", VIGIL_JSON_NUMBER, "0.50", 4);
	assert_m(&s.m[5], "big", VIGIL_JSON_NUMBER, "18446744073709551615", 20);
	assert_m(&s.m[6], "e", VIGIL_JSON_NUMBER, "1E+2", 4);
	assert_m(&s.m[7], "ok", VIGIL_JSON_TRUE, "true", 4);
	assert_m(&s.m[8], "no", VIGIL_JSON_FALSE, "false", 5);
	assert_m(&s.m[9], "gone", VIGIL_JSON_NULL, "null", 4);
	assert_m(&s.m[10], "chain", VIGIL_JSON_ARRAY, "[{\"a\":\"x]}\"},{\"b\":[1,2]}]", 25);
	assert_m(&s.m[11], "o", VIGIL_JSON_OBJECT, "{\"k\":1}", 7);
	assert_m(&s.m[12], "", VIGIL_JSON_STRING, "", 0);
	assert_int_equal(scan("{}", &s), 0);
	assert_int_equal(scan("\t{ }\r\n", &s), 0);
	assert_int_equal(vigil_json_scan_object(rec, sizeof(rec) - 1), 0);
}

/* Escapes come back as the bytes they stand for; without a buffer, as written. */
static void test_unescape(void **state)
{
	static const char in[] = "{\"k\\u0000\\n\":\"a\\\"b\\\\c\\/\\b\\f\\n\\r\\t\\u0001\\u00e9"
				 "\\u20AC\\ud83d\\ude00caf\xc3\xa9\"}";
	static const char want[] = "a\"b\\c/\b\f\n\r\t\x01\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
				   "caf\xc3\xa9";
	struct vigil_json_member m;
	struct vigil_json_scan sc;
	struct scanned s;

	(void)state;
	assert_int_equal(scan(in, &s), 1);
	assert_int_equal(s.m[0].klen, 3);
	assert_memory_equal(s.m[0].key, "k\0\n", 3);
	assert_int_equal(s.m[0].type, VIGIL_JSON_STRING);
	assert_int_equal(s.m[0].vlen, sizeof(want) - 1);
	assert_memory_equal(s.m[0].val, want, sizeof(want) - 1);

	assert_int_equal(vigil_json_scan_begin(&sc, in, sizeof(in) - 1, NULL), 0);
	assert_int_equal(vigil_json_scan_next(&sc, &m), 1);
	assert_int_equal(m.klen, strlen("k\\u0000\\n"));
	assert_memory_equal(m.key, "k\\u0000\\n", m.klen);
	assert_ptr_equal(m.val, in + strlen("{\"k\\u0000\\n\":\""));
	assert_int_equal(vigil_json_scan_next(&sc, &m), 0);
	assert_int_equal(vigil_json_scan_next(&sc, &m), 0);
}

/* {"d":[[...]]} with depth containers in all into buf. Returns its length. */
static size_t deep_object(char *buf, int depth)
{
	size_t n = (size_t)sprintf(buf, "{\"d\":");

	for (int k = 1; k < depth; k++)
		buf[n++] = '[';
	for (int k = 1; k < depth; k++)
		buf[n++] = ']';
	buf[n++] = '}';
	return n;
}

/* What is refused; an error sticks. */
static void test_refused(void **state)
{
	static const char *const bad[] = {
	    "",
	    "   ",
	    "[]",
	    "\"s\"",
	    "{",
	    "{\"a\"}",
	    "{\"a\":}",
	    "{\"a\":1,}",
	    "{,\"a\":1}",
	    "{\"a\":1",
	    "{a:1}",
	    "{'a':1}",
	    "{\"a\":\"x}",
	    "{\"a\":[1,2}",
	    "{\"a\":[1,]}",
	    "{\"a\":{\"b\"}}",
	    "{\"a\":{\"b\":1,}}",
	    "{\"a\":1} x",
	    "{\"a\":1}{}",
	    "{\"a\":1 \"b\":2}",
	    "{\"a\":tru}",
	    "{\"a\":truex}",
	    "{\"a\":nul}",
	    "{\"a\":True}",
	    "{\"a\":abc}",
	    "{\"a\":01}",
	    "{\"a\":1.}",
	    "{\"a\":.5}",
	    "{\"a\":-}",
	    "{\"a\":+1}",
	    "{\"a\":1e}",
	    "{\"a\":1e+}",
	    "{\"a\":0x10}",
	    "{\"a\":1e400}",
	    "{\"a\":-1e400}",
	    "{\"a\":[1e309]}",
	    "{\"a\":NaN}",
	    "{\"a\":Infinity}",
	    "{\"a\":\"\\q\"}",
	    "{\"a\":\"\\u12\"}",
	    "{\"a\":\"\\u12g4\"}",
	    "{\"a\":\"\\ud800\"}",
	    "{\"a\":\"\\ud800x\"}",
	    "{\"a\":\"\\ud800\\u0041\"}",
	    "{\"a\":\"\\udc00\"}",
	    "{\"a\":\"\\udc00\\ud800\"}",
	    "{\"a\":\"\x01\"}",
	    "{\"a\":\"\t\"}",
	    "{\"a\":\"\n\"}",
	    "{\"a\":\"\xff\"}",
	    "{\"a\":\"\xc0\x80\"}",
	    "{\"a\":\"\xed\xa0\x80\"}",
	    "{\"a\":\"\xf4\x90\x80\x80\"}",
	    "{\"a\":\"\xe2\x82\"}",
	    "{\"\xff\":1}",
	    "{\"a\":[\"\xff\"]}",
	    "{\"a\"\x0b:1}",
	    "\xef\xbb\xbf{}",
	};
	struct vigil_json_member m;
	struct vigil_json_scan sc;
	char deep[256];
	struct scanned s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (scan(bad[i], &s) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
		if (vigil_json_scan_object(bad[i], strlen(bad[i])) != -EINVAL)
			fail_msg("accepted as an object: %s", bad[i]);
	}
	/* A raw NUL, in a string and between tokens. */
	assert_int_equal(vigil_json_scan_object("{\"a\":\"\0\"}", 8), -EINVAL);
	assert_int_equal(vigil_json_scan_object("{\"a\":1\0}", 8), -EINVAL);

	/* VIGIL_JSON_SCAN_DEPTH containers, the top-level object included, and no more. */
	i = deep_object(deep, VIGIL_JSON_SCAN_DEPTH);
	assert_int_equal(vigil_json_scan_object(deep, i), 0);
	i = deep_object(deep, VIGIL_JSON_SCAN_DEPTH + 1);
	assert_int_equal(vigil_json_scan_object(deep, i), -EINVAL);

	/* An error sticks. */
	assert_int_equal(vigil_json_scan_begin(&sc, "{\"a\":x,\"b\":1}", 13, s.buf), 0);
	assert_int_equal(vigil_json_scan_next(&sc, &m), -EINVAL);
	assert_int_equal(vigil_json_scan_next(&sc, &m), -EINVAL);
	/* A member is returned before what follows it is read. */
	assert_int_equal(vigil_json_scan_begin(&sc, "{\"a\":1 x", 8, s.buf), 0);
	assert_int_equal(vigil_json_scan_next(&sc, &m), 1);
	assert_int_equal(vigil_json_scan_next(&sc, &m), -EINVAL);
}

/* Edges the scanner takes, each of which jansson takes too (with JSON_DECODE_INT_AS_REAL for
 * the integer beyond 64 bits); and every refused case above is checked against jansson in the
 * other direction by the fuzz target. */
static void test_accepted_as_jansson(void **state)
{
	static const char *const good[] = {
	    "{\"a\":-0}",
	    "{\"a\":0.0e-0}",
	    "{\"a\":1e308}",
	    "{\"a\":-1.7976931348623157e308}",
	    "{\"a\":4.9e-324}",
	    "{\"a\":1e-400}",
	    "{\"a\":99999999999999999999999999}",
	    "{\"a\":\"\\ud83d\\ude00\"}",
	    "{\"a\":\"\\uDBFF\\uDFFF\"}",
	    "{\"a\":\"\x7f\xf4\x8f\xbf\xbf\"}",
	    "{\"a\":1,\"a\":2}",
	    "{\"a\":[],\"b\":{},\"c\":[[],{}],\"d\":[true,false,null,\"\",0]}",
	    " \t\r\n{ \t\r\n\"a\" \t\r\n: \t\r\n[ 1 , 2 ] \t\r\n} \t\r\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		json_t *j = json_loads(good[i], JSON_DECODE_INT_AS_REAL, NULL);

		if (vigil_json_scan_object(good[i], strlen(good[i])))
			fail_msg("refused: %s", good[i]);
		if (!j)
			fail_msg("jansson refuses: %s", good[i]);
		json_decref(j);
	}
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
 * Objects written by json.c from random bytes (any byte, invalid UTF-8 and controls included)
 * are read back by the scanner: every one accepted, with its members' keys and strings equal
 * to what jansson decodes from the same text.
 */
static void test_reads_what_json_writes(void **state)
{
	struct vigil_json j = {0};
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	unsigned char bytes[64];
	static struct scanned s;

	(void)state;
	for (int iter = 0; iter < 5000; iter++) {
		size_t n = xorshift64(&rng) % sizeof(bytes);
		const char *key;
		json_t *root, *v;
		int k = 0;

		for (size_t i = 0; i < n; i++)
			bytes[i] = (unsigned char)xorshift64(&rng);
		vigil_json_begin(&j);
		vigil_json_strn(&j, (const char *)"s", (const char *)bytes, n);
		vigil_json_u64(&j, "u", xorshift64(&rng));
		vigil_json_i64(&j, "i", (int64_t)xorshift64(&rng));
		vigil_json_fixed(&j, "f", (double)(xorshift64(&rng) % 1000) / 7.0, 2);
		vigil_json_array_begin(&j, "a");
		vigil_json_strn(&j, NULL, (const char *)bytes, n / 2);
		vigil_json_object_begin(&j, NULL);
		vigil_json_bool(&j, "b", iter & 1);
		vigil_json_object_end(&j);
		vigil_json_array_end(&j);
		vigil_json_null(&j, "z");
		assert_int_equal(vigil_json_end(&j), 0);

		assert_int_equal(scan(j.buf, &s), 6);
		root = json_loadb(j.buf, j.len, JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, NULL);
		assert_non_null(root);
		json_object_foreach(root, key, v)
		{
			assert_int_equal(s.m[k].klen, strlen(key));
			assert_memory_equal(s.m[k].key, key, s.m[k].klen);
			if (json_is_string(v)) {
				assert_int_equal(s.m[k].vlen, json_string_length(v));
				assert_memory_equal(s.m[k].val, json_string_value(v), s.m[k].vlen);
			}
			k++;
		}
		assert_int_equal(k, 6);
		json_decref(root);
	}
	vigil_json_free(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_members),
	    cmocka_unit_test(test_unescape),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_accepted_as_jansson),
	    cmocka_unit_test(test_reads_what_json_writes),
	};

	return cmocka_run_group_tests_name("json_scan", tests, NULL, NULL);
}
