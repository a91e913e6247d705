/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for a ring-buffer record as the collector takes it (kernel/collector.c):
 * the input is one record of N bytes, in a buffer of exactly N bytes, checked by vigil_decode;
 * a record it accepts goes on as the daemon's would, classified by the detector and written as
 * the journal's event record. Built and run by tests/fuzz/run.sh with ASan, UBSan and
 * LeakSanitizer.
 *
 * The contract: a record shorter than its header or than the size it claims, of another ABI
 * version, of an unknown kind or of a size not its kind's is refused with its own error (the
 * collector counts each); an accepted one is exactly its kind's struct, within the N bytes,
 * and what the detector and the record builder make of it is valid JSON — whatever the bytes
 * of its strings (a comm of 16 bytes without a NUL, an errno or a signal out of range).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/json.h"
#include "detect/detector.h"
#include "kernel/collector.h"
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
static size_t kind_size(unsigned int kind)
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
	default:
		return 0;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct vigil_event_hdr *h = NULL, *in = (const void *)data;
	struct vigil_detection d = {};
	struct vigil_json j = {};
	json_error_t jerr;
	json_t *root;
	int ret;

	/* libFuzzer's buffer is a malloc of exactly size bytes: ASan sees a read past it. */
	ret = vigil_decode(size ? data : NULL, size, &h);
	if (size < sizeof(*in)) {
		CHECK(ret == -EBADMSG, "a record shorter than its header not refused as short");
		return 0;
	}
	if (in->version != VIGIL_ABI_VERSION) {
		CHECK(ret == -EPROTO, "another ABI version not refused as such");
		return 0;
	}
	if (!kind_size(in->kind)) {
		CHECK(ret == -ENOMSG, "an unknown kind not refused as such");
		return 0;
	}
	if (in->size > size) {
		CHECK(ret == -EBADMSG, "a record claiming more than it holds not refused as short");
		return 0;
	}
	if (in->size != kind_size(in->kind)) {
		CHECK(ret == -EMSGSIZE, "a record not its kind's size not refused as such");
		return 0;
	}
	CHECK(ret == 0 && h == in, "a good record refused");
	/* On as the daemon takes it: classified, then written down. */
	ret = vigil_detect(h, "fuzz", &d);
	CHECK(ret == 0 || ret == -EINVAL, "the detector failed");
	if (ret)
		return 0;
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
	return 0;
}
