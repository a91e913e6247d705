// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * empty: the floor of syscall latency tracking. A sys_enter/sys_exit pair that does nothing;
 * attaching it puts every task on the traced syscall path, which is all any syscall
 * observation on this kernel must pay before its program does any work. The overhead bench
 * compares vigil's latency probes against this pair.
 *
 * clock: the same pair reading the clock once on each side (bpf_ktime_get_ns(), as vigil and
 * syscount do), kept in a global so that the read is not optimised away. The floor of any
 * latency tracker: it cannot time a syscall without two clock reads.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp_btf/sys_enter")
int empty_enter(void *ctx)
{
	return 0;
}

SEC("tp_btf/sys_exit")
int empty_exit(void *ctx)
{
	return 0;
}

__u64 clock_sink = 0;

SEC("tp_btf/sys_enter")
int clock_enter(void *ctx)
{
	clock_sink = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/sys_exit")
int clock_exit(void *ctx)
{
	clock_sink = bpf_ktime_get_ns() - clock_sink;
	return 0;
}
