/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Maps every probe family declares. The loader creates `events` and `watched` once (with the
 * exits family) and hands the same fds to the other families (bpf_map__reuse_fd), so there is
 * one ordered ring buffer and one watched set. `stats` is each family's own.
 */
#ifndef VIGIL_MAPS_BPF_H
#define VIGIL_MAPS_BPF_H

#include "common.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, VIGIL_RINGBUF_BYTES);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VIGIL_MAX_WATCHED);
	__type(key, __u32); /* tgid */
	__type(value, struct vigil_watch);
} watched SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VIGIL_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* Reserve a record of @size in the ring buffer, counting a full buffer as a drop. */
static __always_inline void *reserve(__u32 size)
{
	void *e = bpf_ringbuf_reserve(&events, size, 0);

	if (!e)
		stat_inc(&stats, VIGIL_STAT_DROPS);
	return e;
}

static __always_inline void submit(void *e)
{
	bpf_ringbuf_submit(e, 0);
	stat_inc(&stats, VIGIL_STAT_EVENTS);
}

#endif /* VIGIL_MAPS_BPF_H */
