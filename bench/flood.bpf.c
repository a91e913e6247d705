// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * flood: a synthetic event source for the collector throughput bench. For every getppid()
 * called by the bench's own process, submit `batch` exit records into a ring buffer of the
 * daemon's size. A reservation that fails (ring buffer full: the consumer fell behind) is
 * counted, exactly as the real probes count VIGIL_STAT_DROPS.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "vigil/events.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define FLOOD_MAX_BATCH 256

/* Set by the bench between open and load. */
const volatile __u32 target_tgid = 0;
const volatile long trigger_nr = -1; /* getppid's number on this architecture */

/* Records per getppid(), at most FLOOD_MAX_BATCH: set by the bench before each trial. */
__u32 batch = 1;

/* Read (and reset) by the bench through the skeleton. */
__u64 submitted = 0;
__u64 drops = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, VIGIL_RINGBUF_BYTES);
} events SEC(".maps");

SEC("tp_btf/sys_enter")
int BPF_PROG(flood_enter, struct pt_regs *regs, long id)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 i;

	if (pid_tgid >> 32 != target_tgid || id != trigger_nr)
		return 0;
	for (i = 0; i < FLOOD_MAX_BATCH && i < batch; i++) {
		struct vigil_exit *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

		if (!e) {
			__sync_fetch_and_add(&drops, 1);
			continue;
		}
		__builtin_memset(e, 0, sizeof(*e));
		e->hdr.kind = VIGIL_EV_EXIT;
		e->hdr.version = VIGIL_ABI_VERSION;
		e->hdr.size = sizeof(*e);
		e->hdr.ts_ns = bpf_ktime_get_ns();
		e->hdr.tgid = pid_tgid >> 32;
		e->hdr.pid = (__u32)pid_tgid;
		e->exit_code = i;
		/* Each record a distinct exit (the collector drops a repeated one). */
		e->start_ns = e->hdr.ts_ns + i;
		bpf_ringbuf_submit(e, 0);
		__sync_fetch_and_add(&submitted, 1);
	}
	return 0;
}
