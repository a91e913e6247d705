/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Maps every probe family declares. The loader creates `events` and `watched` once (with the
 * exits family) and hands the same fds to the other families (bpf_map__reuse_fd), so there is
 * one ordered ring buffer and one watched set. `stats` is each family's own.
 */
#ifndef VIGIL_MAPS_BPF_H
#define VIGIL_MAPS_BPF_H

#include "common.bpf.h"
#include "wake.bpf.h"

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

/*
 * One bit per tgid, set while the tgid is in `watched`. Hot paths (every syscall of every task
 * when latency is on) test the bit first: an array lookup is inlined by the verifier into a
 * few instructions, where a hash lookup costs a hash computation and a bucket walk. The hash
 * still holds the workload. Userspace sets bits through an mmap of this map (BPF_F_MMAPABLE),
 * atomically, as the kernel does.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, VIGIL_PID_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} watched_bits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VIGIL_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* Is tgid watched? The fast test: no hash lookup. */
static __always_inline bool tgid_watched(__u32 tgid)
{
	__u32 k = tgid / 64;
	__u64 *w = bpf_map_lookup_elem(&watched_bits, &k);

	return w && (*w & (1ULL << (tgid % 64)));
}

/* Set or clear tgid's bit; callers keep it in step with the `watched` hash. */
static __always_inline void tgid_mark(__u32 tgid, bool on)
{
	__u32 k = tgid / 64;
	__u64 *w = bpf_map_lookup_elem(&watched_bits, &k);

	if (!w)
		return;
	if (on)
		__sync_fetch_and_or(w, 1ULL << (tgid % 64));
	else
		__sync_fetch_and_and(w, ~(1ULL << (tgid % 64)));
}

/*
 * Records lost for a full ring buffer, per workload (index; 0 = unwatched), all families
 * together: an incident of a workload that lost events around it says so (lossy).
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VIGIL_MAX_WORKLOADS + 1);
	__type(key, __u32);
	__type(value, __u64);
} workload_drops SEC(".maps");

/*
 * Reserve a record of @size about @workload, counting a full buffer as a drop. A workload's
 * records always win: an unwatched one (@workload 0, observe-all) is not sent once the buffer
 * is more than half full, so that a flood of them cannot take the room a workload's fault
 * needs. Counted apart (VIGIL_STAT_UNWATCHED_SHED): it is a choice, not a loss.
 */
static __always_inline void *reserve(__u32 size, __u32 workload)
{
	void *e;

	if (!workload && bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >
			     bpf_ringbuf_query(&events, BPF_RB_RING_SIZE) / 2) {
		stat_inc(&stats, VIGIL_STAT_UNWATCHED_SHED);
		return NULL;
	}
	e = bpf_ringbuf_reserve(&events, size, 0);

	if (!e) {
		stat_inc(&stats, VIGIL_STAT_DROPS);
		stat_inc(&workload_drops, workload);
	}
	return e;
}

/* When this object's records last woke the collector (wake.bpf.h). */
__u64 rb_last_wake = 0;

/* Commit a reserved record; @fault: wake the collector now (wake.bpf.h). */
static __always_inline void submit(void *e, bool fault)
{
	__u64 ts = ((struct vigil_event_hdr *)e)->ts_ns;

	bpf_ringbuf_submit(e, rb_wake_flags(&events, &rb_last_wake, ts, fault));
	stat_inc(&stats, VIGIL_STAT_EVENTS);
}

#endif /* VIGIL_MAPS_BPF_H */
