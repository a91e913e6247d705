/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the traceparent parser (include/vigil/traceparent.h), the one the
 * kernel runs on inbound reads and at exec. Built and run by tests/fuzz/run.sh with ASan,
 * UBSan and LeakSanitizer.
 *
 * The input is one read (up to VIGIL_TRACE_SCRATCH bytes, in a buffer of exactly that size, as
 * the kernel's scratch) and, the same bytes, one environment. The word-at-a-time scan the
 * kernel runs from bpf_loop (vigil_tp_scan) must find exactly what a plain reference written
 * here from the W3C text finds, in the same order; the environment search (vigil_tp_env, and
 * vigil_trace_from_environ's overlapping chunks) likewise. Every context found has a non-zero
 * trace id and parent id.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "detect/trace.h"
#include "vigil/traceparent.h"

#define CHECK(cond, what)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_traceparent: %s (%s:%d)\n", what, __FILE__,          \
				__LINE__);                                                         \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static int ref_hex(uint8_t c)
{
	return (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* The W3C version-00 value at p (avail bytes from there), its end delimited. */
static bool ref_value(const uint8_t *p, size_t avail, struct vigil_trace_ctx *out)
{
	static const int dash[] = {2, 35, 52};
	uint8_t bytes[25];
	bool tz = true, sz = true;

	if (avail < 55 || p[0] != '0' || p[1] != '0')
		return false;
	for (int i = 0; i < 3; i++)
		if (p[dash[i]] != '-')
			return false;
	/* 16 trace-id bytes at 3, 8 parent-id bytes at 36, 1 flags byte at 53 */
	for (int i = 0; i < 25; i++) {
		size_t at = i < 16 ? 3 + 2 * i : i < 24 ? 36 + 2 * (i - 16) : 53;
		int hi = ref_hex(p[at]), lo = ref_hex(p[at + 1]);

		if (hi < 0 || lo < 0)
			return false;
		bytes[i] = (uint8_t)(hi * 16 + lo);
		if (i < 16 && bytes[i])
			tz = false;
		if (i >= 16 && i < 24 && bytes[i])
			sz = false;
	}
	if (tz || sz)
		return false;
	if (avail > 55 && !strchr("\r\n \t", p[55] ? p[55] : '\r'))
		return false;
	memcpy(out->trace_id, bytes, 16);
	memcpy(out->span_id, bytes + 16, 8);
	out->flags = bytes[24];
	return true;
}

/* Every header line "traceparent:" (any case) OWS value, at most VIGIL_TRACE_QUEUE. */
static unsigned int ref_scan(const uint8_t *b, size_t len, struct vigil_trace_ctx *found)
{
	unsigned int n = 0;

	for (size_t i = 0; i < len && n < VIGIL_TRACE_QUEUE; i++) {
		size_t v;

		if (i && b[i - 1] != '\n')
			continue;
		if (len - i < 12 || strncasecmp((const char *)b + i, "traceparent:", 12))
			continue;
		v = i + 12;
		for (int k = 0; k < VIGIL_TP_OWS_MAX && v < len && (b[v] == ' ' || b[v] == '\t');
		     k++)
			v++;
		if (ref_value(b + v, len - v, &found[n]))
			n++;
	}
	return n;
}

/* The first entry TRACEPARENT= at the start or after a NUL, whose value is valid. */
static bool ref_env(const uint8_t *b, size_t len, struct vigil_trace_ctx *out)
{
	for (size_t i = 0; i < len; i++) {
		if (i && b[i - 1] != '\0')
			continue;
		if (len - i >= 12 && !memcmp(b + i, "TRACEPARENT=", 12) &&
		    ref_value(b + i + 12, len - i - 12, out))
			return true;
	}
	return false;
}

static bool same(const struct vigil_trace_ctx *a, const struct vigil_trace_ctx *b)
{
	return !memcmp(a->trace_id, b->trace_id, 16) && !memcmp(a->span_id, b->span_id, 8) &&
	       a->flags == b->flags;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[VIGIL_TRACE_SCRATCH];
	struct vigil_trace_ctx got[VIGIL_TRACE_QUEUE], want[VIGIL_TRACE_QUEUE], g, w;
	size_t len = size < sizeof(buf) ? size : sizeof(buf);
	unsigned int n, m;
	bool re;

	memset(buf, 0xa5, sizeof(buf));
	memcpy(buf, data, len);
	memset(got, 0, sizeof(got));
	n = vigil_tp_scan(buf, (__u32)len, got);
	m = ref_scan(buf, len, want);
	CHECK(n == m, "the kernel's scan and the reference disagree on how many");
	for (unsigned int i = 0; i < n; i++) {
		CHECK(same(&got[i], &want[i]), "the kernel's scan and the reference disagree");
		CHECK(memcmp(got[i].trace_id, (uint8_t[16]){0}, 16), "an all-zero trace id");
	}
	/* The same bytes as an environment: one chunk, then the chunked search on the whole. */
	memset(&g, 0, sizeof(g));
	re = ref_env(buf, len, &w);
	CHECK(!vigil_tp_env(buf, (__u32)len, &g) == re, "env search and reference disagree");
	CHECK(!re || same(&g, &w), "env search found another context");
	if (size <= VIGIL_TRACE_ENV_CHUNKS * (VIGIL_TRACE_SCRATCH - VIGIL_TRACE_ENV_OVERLAP)) {
		re = ref_env(data, size, &w);
		CHECK(!vigil_trace_from_environ((const char *)data, size, &g) == re,
		      "chunked env search and reference disagree");
		CHECK(!re || same(&g, &w), "chunked env search found another context");
	}
	return 0;
}
