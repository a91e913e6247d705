/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * traceparent: the W3C Trace Context header parser (https://www.w3.org/TR/trace-context/),
 * compiled by both sides: bpf/trace.bpf.c runs it on inbound reads, userspace on the
 * TRACEPARENT environment variable, the unit tests and the fuzz target. It is the one piece of
 * logic in include/vigil/, because the kernel and userspace must accept exactly the same bytes.
 *
 * Accepted: a line starting "traceparent:" (name in any case), at most VIGIL_TP_OWS_MAX spaces
 * or tabs, then version 00 exactly: "00-" 32 lowercase hex (trace-id, not all zero) "-" 16
 * lowercase hex (parent-id, not all zero) "-" 2 lowercase hex (flags), then the end of the data,
 * CR, LF, space, tab or NUL. Anything else (another version, uppercase hex, a longer value) is not
 * a context.
 *
 * Every byte is read as buf[i & (VIGIL_TRACE_SCRATCH - 1)] after checking i < len: the bound the
 * verifier needs, and the same on both sides. A caller's buffer holds VIGIL_TRACE_SCRATCH bytes
 * and len <= VIGIL_TRACE_SCRATCH. No loop here is longer than 32 steps.
 */
#ifndef VIGIL_TRACEPARENT_H
#define VIGIL_TRACEPARENT_H

#include "vigil/events.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define VIGIL_TP_NAME_LEN 12  /* "traceparent:" */
#define VIGIL_TP_VALUE_LEN 55 /* "00-" 32 "-" 16 "-" 2 */
#define VIGIL_TP_OWS_MAX 4    /* spaces or tabs between the colon and the value */

#define VIGIL_TP_AT(buf, i) ((buf)[(i) & (VIGIL_TRACE_SCRATCH - 1)])

/* The value of a lowercase hex digit, or -1. */
static __always_inline int vigil_tp_hex(__u8 c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* n bytes of hex at buf[off] into out[0..n/2). Returns the OR of the bytes (0: all zero), or
 * -1 for a byte that is not a lowercase hex digit. The caller checked off + 2n <= len. */
static __always_inline int vigil_tp_bytes(const __u8 *buf, __u32 off, __u8 *out, __u32 n)
{
	int any = 0, hi, lo;

	for (__u32 k = 0; k < n && k < 16; k++) {
		hi = vigil_tp_hex(VIGIL_TP_AT(buf, off + 2 * k));
		lo = vigil_tp_hex(VIGIL_TP_AT(buf, off + 2 * k + 1));
		if (hi < 0 || lo < 0)
			return -1;
		out[k] = (__u8)(hi << 4 | lo);
		any |= out[k];
	}
	return any;
}

/* A traceparent value at buf[off] (see the top). Returns 0 and *out (ids and flags; ts_ns and
 * ring untouched), or -1. */
static __always_inline int vigil_tp_value(const __u8 *buf, __u32 len, __u32 off,
					  struct vigil_trace_ctx *out)
{
	__u8 c;

	if (len > VIGIL_TRACE_SCRATCH || off > VIGIL_TRACE_SCRATCH ||
	    off + VIGIL_TP_VALUE_LEN > len)
		return -1;
	if (VIGIL_TP_AT(buf, off) != '0' || VIGIL_TP_AT(buf, off + 1) != '0' ||
	    VIGIL_TP_AT(buf, off + 2) != '-' || VIGIL_TP_AT(buf, off + 35) != '-' ||
	    VIGIL_TP_AT(buf, off + 52) != '-')
		return -1;
	if (vigil_tp_bytes(buf, off + 3, out->trace_id, 16) <= 0)
		return -1;
	if (vigil_tp_bytes(buf, off + 36, out->span_id, 8) <= 0)
		return -1;
	if (vigil_tp_bytes(buf, off + 53, &out->flags, 1) < 0)
		return -1;
	if (off + VIGIL_TP_VALUE_LEN < len) {
		c = VIGIL_TP_AT(buf, off + VIGIL_TP_VALUE_LEN);
		if (c != '\r' && c != '\n' && c != ' ' && c != '\t' && c != '\0')
			return -1;
	}
	return 0;
}

/* A "traceparent:" header line starting at buf[off]. Returns 0 and *out, or -1. */
static __always_inline int vigil_tp_header(const __u8 *buf, __u32 len, __u32 off,
					   struct vigil_trace_ctx *out)
{
	const char name[VIGIL_TP_NAME_LEN + 1] = "traceparent:";
	__u8 c;

	if (len > VIGIL_TRACE_SCRATCH || off > VIGIL_TRACE_SCRATCH ||
	    off + VIGIL_TP_NAME_LEN + VIGIL_TP_VALUE_LEN > len)
		return -1;
	for (__u32 k = 0; k < VIGIL_TP_NAME_LEN; k++) {
		c = VIGIL_TP_AT(buf, off + k);
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c != (__u8)name[k])
			return -1;
	}
	off += VIGIL_TP_NAME_LEN;
	for (__u32 k = 0; k < VIGIL_TP_OWS_MAX && off < len; k++) {
		c = VIGIL_TP_AT(buf, off);
		if (c != ' ' && c != '\t')
			break;
		off++;
	}
	return vigil_tp_value(buf, len, off, out);
}

/* A "TRACEPARENT=" environment entry starting at buf[off] (the name exact, no spaces).
 * Returns 0 and *out, or -1. */
static __always_inline int vigil_tp_env_at(const __u8 *buf, __u32 len, __u32 off,
					   struct vigil_trace_ctx *out)
{
	const char name[VIGIL_TP_NAME_LEN + 1] = "TRACEPARENT=";

	if (len > VIGIL_TRACE_SCRATCH || off > VIGIL_TRACE_SCRATCH ||
	    off + VIGIL_TP_NAME_LEN + VIGIL_TP_VALUE_LEN > len)
		return -1;
	for (__u32 k = 0; k < VIGIL_TP_NAME_LEN; k++)
		if (VIGIL_TP_AT(buf, off + k) != (__u8)name[k])
			return -1;
	return vigil_tp_value(buf, len, off + VIGIL_TP_NAME_LEN, out);
}

/* The environment entry after byte i of an environ block, if byte i is a NUL (the entry at 0
 * is the caller's): a TRACEPARENT goes to *out, *n set to 1. The kernel calls this once per
 * byte from bpf_loop (a word at a time is more than the verifier takes here). */
static __always_inline void vigil_tp_env_pos(const __u8 *buf, __u32 len, __u32 i,
					     struct vigil_trace_ctx *out, __u32 *n)
{
	if (i < len && !*n && VIGIL_TP_AT(buf, i) == '\0' && !vigil_tp_env_at(buf, len, i + 1, out))
		*n = 1;
}

/*
 * The lines that start in bytes 8w..8w+7 of buf (a line starts after each '\n'; the one at 0
 * is the caller's): each traceparent found goes to found[*n], while *n < VIGIL_TRACE_QUEUE.
 * The kernel calls this once per word from bpf_loop(); vigil_tp_scan() is the whole loop.
 */
static __always_inline void vigil_tp_scan_word(const __u8 *buf, __u32 len, __u32 w,
					       struct vigil_trace_ctx *found, __u32 *n)
{
	__u32 i;

	for (__u32 b = 0; b < 8; b++) {
		i = w * 8 + b;
		if (i >= len || *n >= VIGIL_TRACE_QUEUE)
			return;
		if (VIGIL_TP_AT(buf, i) != '\n')
			continue;
		if (!vigil_tp_header(buf, len, i + 1, &found[*n & (VIGIL_TRACE_QUEUE - 1)]))
			(*n)++;
	}
}

/* Every traceparent header in buf[0..len), in order, at most VIGIL_TRACE_QUEUE into found.
 * Returns how many. What the kernel does to one read, as one loop. */
static inline __u32 vigil_tp_scan(const __u8 *buf, __u32 len, struct vigil_trace_ctx *found)
{
	__u32 n = 0;

	if (len > VIGIL_TRACE_SCRATCH)
		len = VIGIL_TRACE_SCRATCH;
	if (!vigil_tp_header(buf, len, 0, &found[0]))
		n = 1;
	for (__u32 w = 0; w * 8 < len && n < VIGIL_TRACE_QUEUE; w++)
		vigil_tp_scan_word(buf, len, w, found, &n);
	return n;
}

/* The first TRACEPARENT entry in an environ block of len bytes into *out. Returns 0, or -1
 * (none valid). What the kernel does to one chunk of a process's environment at exec. */
static inline int vigil_tp_env(const __u8 *buf, __u32 len, struct vigil_trace_ctx *out)
{
	__u32 n = 0;

	if (len > VIGIL_TRACE_SCRATCH)
		len = VIGIL_TRACE_SCRATCH;
	if (!vigil_tp_env_at(buf, len, 0, out))
		return 0;
	for (__u32 i = 0; i < len && !n; i++)
		vigil_tp_env_pos(buf, len, i, out, &n);
	return n ? 0 : -1;
}

#endif /* VIGIL_TRACEPARENT_H */
