/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * When a ring-buffer record wakes the collector (issue 15).
 *
 * The kernel's default (flags 0) wakes the consumer for every record that finds it caught
 * up: a collector that keeps pace with a busy host then pays a wake-up, an epoll return and
 * a sleep for nearly every record. Here a record wakes the collector only if
 *   - it is a fault (a crash, an OOM kill, a socket error, a slow syscall...): at once,
 *     BPF_RB_FORCE_WAKEUP, whatever routine records wait before it; or
 *   - no record of this program's object woke it in the last VIGIL_WAKE_GAP_NS; or
 *   - the buffer is more than a quarter full.
 * Any other record (a routine one: a watched process's exec or clean exit, observe-all) is
 * committed with BPF_RB_NO_WAKEUP. The collector closes the gap: after every drain that found
 * records it drains again VIGIL_DRAIN_AFTER_MS later (userspace/kernel/collector.c). A
 * record not woken for was committed less than VIGIL_WAKE_GAP_NS after a wake-up, whose drain
 * ended after that wake-up, so the drain that follows it comes after the record: no record
 * waits longer than about VIGIL_DRAIN_AFTER_MS, and an idle host has no timer at all.
 *
 * @last_wake is per object (each family has its own): a race between CPUs costs at most an
 * extra wake-up, never a missed one.
 */
#ifndef VIGIL_WAKE_BPF_H
#define VIGIL_WAKE_BPF_H

#include <bpf/bpf_helpers.h>

#include "vigil/limits.h"

static __always_inline __u64 rb_wake_flags(void *rb, __u64 *last_wake, __u64 ts, bool fault)
{
	if (fault || ts - *last_wake >= VIGIL_WAKE_GAP_NS ||
	    bpf_ringbuf_query(rb, BPF_RB_AVAIL_DATA) >
		bpf_ringbuf_query(rb, BPF_RB_RING_SIZE) / 4) {
		*last_wake = ts;
		return BPF_RB_FORCE_WAKEUP;
	}
	return BPF_RB_NO_WAKEUP;
}

#endif /* VIGIL_WAKE_BPF_H */
