/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the JSON member scanner (userspace/core/json_scan.c), cross-checked
 * against jansson. Built and run by tests/fuzz/run.sh with ASan, UBSan and LeakSanitizer.
 *
 * The input is scanned twice, unescaping into a buffer of exactly its length (ASan catches a
 * write past it) and checking only (vigil_json_scan_object): both must agree. Whatever the
 * scanner accepts, jansson (JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, as json_scan.h says)
 * must accept too, with the same members: the same distinct keys, each key's last value equal
 * (a string byte for byte, a number as a double, a literal by its type, a nested value as
 * jansson decodes its text). The one exception json_scan.h names: a key holding \u0000, which
 * jansson refuses (json_error_null_byte_in_key) and the scanner takes.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_scan.h"

#define FLAGS (JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL)

/* Aborts with what when cond is false: libFuzzer reports it as a crash and saves the input. */
#define CHECK(cond, what)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_json_scan: %s (%s:%d)\n", what, __FILE__, __LINE__); \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* Whether member m holds the same value as jansson's v. */
static bool same_value(const struct vigil_json_member *m, const json_t *v)
{
	char num[1024];
	json_t *nested;
	bool same;

	switch (m->type) {
	case VIGIL_JSON_STRING:
		return json_is_string(v) && json_string_length(v) == m->vlen &&
		       !memcmp(json_string_value(v), m->val, m->vlen);
	case VIGIL_JSON_NUMBER:
		if (!json_is_real(v) || m->vlen >= sizeof(num))
			return false;
		memcpy(num, m->val, m->vlen);
		num[m->vlen] = '\0';
		return strtod(num, NULL) == json_real_value(v);
	case VIGIL_JSON_TRUE:
		return json_is_true(v);
	case VIGIL_JSON_FALSE:
		return json_is_false(v);
	case VIGIL_JSON_NULL:
		return json_is_null(v);
	case VIGIL_JSON_OBJECT:
	case VIGIL_JSON_ARRAY:
		nested = json_loadb(m->val, m->vlen, FLAGS | JSON_DECODE_ANY, NULL);
		same = nested && json_equal(nested, v) &&
		       (m->type == VIGIL_JSON_OBJECT ? json_is_object(v) : json_is_array(v));
		json_decref(nested);
		return same;
	}
	return false;
}

/* Returns 0 (libFuzzer's convention); aborts on a broken contract. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct vigil_json_member *m = NULL;
	struct vigil_json_scan s;
	size_t n = 0, cap = 0, distinct = 0;
	char *buf = malloc(size ? size : 1);
	bool nul_key = false;
	json_error_t jerr;
	json_t *root;
	int ret;

	CHECK(buf, "out of memory");
	ret = vigil_json_scan_begin(&s, in, size, buf);
	while (!ret) {
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			m = realloc(m, cap * sizeof(*m));
			CHECK(m, "out of memory");
		}
		ret = vigil_json_scan_next(&s, &m[n]);
		if (ret <= 0)
			break;
		ret = 0;
		CHECK(m[n].key >= buf && m[n].key + m[n].klen <= buf + size, "key outside buf");
		if (m[n].type == VIGIL_JSON_STRING)
			CHECK(m[n].val >= buf && m[n].val + m[n].vlen <= buf + size,
			      "string outside buf");
		else
			CHECK(m[n].val >= in && m[n].val + m[n].vlen <= in + size,
			      "value outside the input");
		nul_key |= memchr(m[n].key, '\0', m[n].klen) != NULL;
		n++;
	}
	CHECK(ret <= 0, "scan went on");
	CHECK(vigil_json_scan_object(in, size) == ret, "the two scans disagree");
	if (ret) /* refused: jansson may take it (deeper than the scanner goes), nothing to check */
		goto out;

	root = json_loadb(in, size, FLAGS, &jerr);
	if (!root) {
		/* A key with \u0000, here or in a nested object (json_scan.h). */
		CHECK(json_error_code(&jerr) == json_error_null_byte_in_key,
		      "the scanner accepts what jansson refuses");
		goto out;
	}
	CHECK(!nul_key, "jansson accepts a key with a NUL");
	CHECK(json_is_object(root), "jansson reads another type");
	for (size_t i = 0; i < n; i++) {
		bool last = true;

		/* The last member of a key is the one jansson keeps. */
		for (size_t k = i + 1; k < n && last; k++)
			last = m[k].klen != m[i].klen || memcmp(m[k].key, m[i].key, m[i].klen);
		if (!last)
			continue;
		distinct++;
		CHECK(same_value(&m[i], json_object_getn(root, m[i].key, m[i].klen)),
		      "a member differs from jansson's");
	}
	CHECK(distinct == json_object_size(root), "not the same keys as jansson");
	json_decref(root);
out:
	free(m);
	free(buf);
	return 0;
}
