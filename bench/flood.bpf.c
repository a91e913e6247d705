// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * flood: a synthetic event source for the collector throughput bench. For every getppid()
 * called by the bench's own process, submit `batch` exit records into a ring buffer of the
 * daemon's size, waking the collector as vigil's probes do (wake.bpf.h): every
 * `fault_every`-th record is a fault (marked with workload 1), the rest are routine. A
 * reservation that fails (ring buffer full: the consumer fell behind) is counted, exactly as
 * the real probes count VIGIL_STAT_DROPS.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "vigil/events.h"
#include "wake.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define FLOOD_MAX_BATCH 256

/* Set by the bench between open and load. */
const volatile __u32 target_tgid = 0;
const volatile long trigger_nr = -1; /* getppid's number on this architecture */

/* Records per getppid(), at most FLOOD_MAX_BATCH: set by the bench before each trial. */
__u32 batch = 1;

/* Every fault_every-th record is a fault (0: none). Set by the bench. */
__u32 fault_every = 0;
/* 1: the kernel's default wake-up for every record (flags 0), to compare with. */
__u32 wake_default = 0;

/* Read (and reset) by the bench through the skeleton. */
__u64 submitted = 0;
__u64 drops = 0;
__u64 last_wake = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, VIGIL_RINGBUF_BYTES);
} events SEC(".maps");

SEC("tp_btf/sys_enter")
int BPF_PROG(flood_enter, struct pt_regs *regs, long id)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 ts, n;
	__u32 i;

	if (pid_tgid >> 32 != target_tgid || id != trigger_nr)
		return 0;
	/* One clock read a call, as a probe reads one a record. */
	ts = bpf_ktime_get_ns();
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
		e->hdr.ts_ns = ts;
		e->hdr.tgid = pid_tgid >> 32;
		e->hdr.pid = (__u32)pid_tgid;
		e->exit_code = i;
		/* Each record a distinct exit (the collector drops a repeated one). */
		e->start_ns = ts + i;
		n = __sync_fetch_and_add(&submitted, 1);
		e->hdr.workload = fault_every && n % fault_every == 0;
		bpf_ringbuf_submit(
		    e, wake_default ? 0 : rb_wake_flags(&events, &last_wake, ts, e->hdr.workload));
	}
	return 0;
}
