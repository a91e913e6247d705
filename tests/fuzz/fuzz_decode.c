/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for a ring-buffer record as the collector takes it (kernel/collector.c):
 * the input is one record of N bytes, in a buffer of exactly N bytes, handed to the collector's
 * own ring-buffer callback (the file is included here to reach it: libbpf calls it with what
 * the kernel wrote); a record it delivers goes on as the daemon's would, classified by the
 * detector and written as the journal's event record. Built and run by tests/fuzz/run.sh with
 * ASan, UBSan and LeakSanitizer.
 *
 * The contract: a record shorter than its header or than the size it claims, of another ABI
 * version, of an unknown kind or of a size not its kind's is refused by vigil_decode with its
 * own error and counted once, under its own counter, never delivered; an accepted one is
 * exactly its kind's struct, within the N bytes, delivered once (or counted as an exit seen
 * before), and what the detector and the record builder make of it is valid JSON — whatever
 * the bytes of its strings (a comm of 16 bytes without a NUL, an errno or a signal out of
 * range).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <stdbool.h>

#include "core/json.h"
#include "detect/detector.h"
#include "kernel/collector.c" /* on_record() is static */
#include "output/records.h"

#define CHECK(cond, what)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_decode: %s (%s:%d)\n", what, __FILE__, __LINE__);    \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* Each kind's size, written again on purpose: an oracle that asked the collector's own table
 * would agree with any mistake in it. */
static size_t abi_size(unsigned int kind)
{
	switch (kind) {
	case VIGIL_EV_EXIT:
		return sizeof(struct vigil_exit);
	case VIGIL_EV_OOM:
		return sizeof(struct vigil_oom);
	case VIGIL_EV_EXEC:
		return sizeof(struct vigil_exec);
	case VIGIL_EV_SOCK:
		return sizeof(struct vigil_sock);
	case VIGIL_EV_SLOW:
		return sizeof(struct vigil_slow);
	case VIGIL_EV_HANG:
		return sizeof(struct vigil_hang);
	case VIGIL_EV_RETRANS:
		return sizeof(struct vigil_retrans);
	default:
		return 0;
	}
}

/* The daemon's side: classify, then write down. */
static void deliver(const struct vigil_event_hdr *h, void *arg)
{
	struct vigil_detection d = {};
	struct vigil_json j = {};
	json_error_t jerr;
	json_t *root;
	int ret;

	(*(unsigned int *)arg)++;
	ret = vigil_detect(h, "fuzz", &d);
	CHECK(ret == 0 || ret == -EINVAL, "the detector failed");
	if (ret)
		return;
	CHECK(memchr(d.detail, '\0', sizeof(d.detail)) && memchr(d.title, '\0', sizeof(d.title)),
	      "a detection's strings not terminated");
	CHECK(vigil_record_event(&j, "node", 1764420000000000000ull, NULL, h, "fuzz", &d) == 0,
	      "the event record not written");
	/* As reals: a u64 field above INT64_MAX (a cgroup id no kernel gives) is valid JSON that
	 * jansson refuses as an integer. */
	root = json_loadb(j.buf, j.len, JSON_DECODE_INT_AS_REAL, &jerr);
	if (!root)
		fprintf(stderr, "fuzz_decode: %s\n%.*s\n", jerr.text, (int)j.len, j.buf);
	CHECK(root, "the event record is not JSON");
	json_decref(root);
	vigil_json_free(&j);
}

static uint64_t total(const struct vigil_collector_stats *st)
{
	return st->records + st->short_recs + st->bad_version + st->unknown + st->bad_size +
	       st->dup_exits;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vigil_collector c; /* its exit dedup kept across inputs, as in a run */
	const struct vigil_event_hdr *h = NULL, *in = (const void *)data;
	struct vigil_collector_stats before = c.st;
	unsigned int delivered = 0;
	int want;

	/* libFuzzer's buffer is a malloc of exactly size bytes: ASan sees a read past it. */
	c.fn = deliver;
	c.arg = &delivered;
	on_record(&c, (void *)(size ? data : NULL), size);
	CHECK(total(&c.st) == total(&before) + 1, "a record not counted exactly once");

	if (size < sizeof(*in) ||
	    (in->version == VIGIL_ABI_VERSION && abi_size(in->kind) && in->size > size))
		want = -EBADMSG;
	else if (in->version != VIGIL_ABI_VERSION)
		want = -EPROTO;
	else if (!abi_size(in->kind))
		want = -ENOMSG;
	else if (in->size != abi_size(in->kind))
		want = -EMSGSIZE;
	else
		want = 0;
	CHECK(vigil_decode(size ? data : NULL, size, &h) == want, "refused for the wrong reason");
	switch (want) {
	case 0:
		CHECK(h == in, "not the record given");
		CHECK(delivered == (c.st.records - before.records) &&
			  delivered + (c.st.dup_exits - before.dup_exits) == 1,
		      "a good record neither delivered once nor counted as a repeated exit");
		break;
	case -EBADMSG:
		CHECK(c.st.short_recs == before.short_recs + 1 && !delivered,
		      "short, not counted so");
		break;
	case -EPROTO:
		CHECK(c.st.bad_version == before.bad_version + 1 && !delivered,
		      "another version, not counted so");
		break;
	case -ENOMSG:
		CHECK(c.st.unknown == before.unknown + 1 && !delivered, "unknown, not counted so");
		break;
	default:
		CHECK(c.st.bad_size == before.bad_size + 1 && !delivered,
		      "bad size, not counted so");
		break;
	}
	return 0;
}
