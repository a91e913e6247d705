/* SPDX-License-Identifier: Apache-2.0 */
/*
 * collector: drains the kernel's ring buffer on the event loop, checks every record against
 * the event ABI, and hands valid ones on. A short, unknown or foreign-version record is
 * counted and dropped, never trusted and never a crash; an exit already delivered (the same
 * tgid and start time) is counted and dropped too, so that every later stage sees each end of
 * a process once.
 *
 * Routine records do not wake the collector (bpf/wake.bpf.h): after every drain that found
 * records it drains again VIGIL_DRAIN_AFTER_MS later, on a loop timer, so that none of them
 * waits longer than that; with no records there is no timer.
 */
#ifndef VIGIL_COLLECTOR_H
#define VIGIL_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "core/json.h"
#include "core/loop.h"
#include "vigil/events.h"

struct vigil_collector;

struct vigil_collector_stats {
	uint64_t records;      /* valid records delivered */
	uint64_t short_recs;   /* shorter than the header, or than hdr.size */
	uint64_t bad_version;  /* hdr.version != VIGIL_ABI_VERSION */
	uint64_t unknown;      /* hdr.kind this build does not know */
	uint64_t bad_size;     /* hdr.size differs from the kind's struct */
	uint64_t dup_exits;    /* the end of a process seen a second time (classic hooks
				* before 6.16 can report one twice): dropped */
	uint64_t wakeups;      /* the kernel woke the collector (the ring buffer's fd was ready) */
	uint64_t timed_drains; /* drains of routine records no record woke it for */
};

/* A valid record: hdr->kind tells which struct it starts (struct vigil_exit, ...). */
typedef void (*vigil_event_fn)(const struct vigil_event_hdr *hdr, void *arg);

/*
 * Check one record of len bytes. Returns 0 (and *out), -EBADMSG (too short), -EPROTO (other
 * ABI version), -ENOMSG (unknown kind) or -EMSGSIZE (size does not match the kind).
 */
int vigil_decode(const void *data, size_t len, const struct vigil_event_hdr **out);

/* Watch ringbuf_fd on loop, calling fn for each valid record. Returns 0 or -errno. */
int vigil_collector_new(struct vigil_loop *loop, int ringbuf_fd, vigil_event_fn fn, void *arg,
			struct vigil_collector **out);
/* Removes it from the loop and frees it; accepts NULL. */
void vigil_collector_free(struct vigil_collector *c);
/* Drain whatever is in the ring buffer now. Returns records consumed or -errno. */
int vigil_collector_drain(struct vigil_collector *c);
const struct vigil_collector_stats *vigil_collector_stats(const struct vigil_collector *c);
/* "collector": its counters, into j (inside an object). */
void vigil_collector_status_json(const struct vigil_collector *c, struct vigil_json *j);

#endif /* VIGIL_COLLECTOR_H */
