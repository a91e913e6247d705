/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hist: log2 histograms of durations drawn as bars on a terminal, as bcc's print_log2_hist
 * draws them: `vigil latency` (syscall latency, counted in the kernel) and `vigil report`
 * (detection and recovery times, counted from a journal) draw theirs here.
 */
#ifndef VIGIL_HIST_H
#define VIGIL_HIST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define VIGIL_HIST_SLOTS 64 /* slot i starts at 2^i ns: 64 cover any u64 */

/* The slot of a duration of ns nanoseconds: floor(log2(ns)), 0 for 0 — as
 * bpf/latency.bpf.c counts its slots. */
unsigned int vigil_hist_slot(uint64_t ns);

/*
 * Draw slot[0..n) (n at most VIGIL_HIST_SLOTS): slot i counts [2^i, 2^(i+1)) ns, slot 0 also
 * 0 ns, and the last slot, n - 1, everything above. A header line names the unit, then one
 * line per slot from the lowest populated to the highest. Nothing is drawn when every slot
 * is 0. The unit is chosen by the lowest populated slot: nsecs below 1024 ns, usecs below
 * 2^20 ns, else msecs; bounds in us or ms are the ns bounds divided and truncated, so each
 * row is exactly the set of truncated values it counts (two rows can share a bound:
 * 1024..2047 ns is "1 -> 2" usecs, 2048..4095 ns "2 -> 4").
 */
void vigil_hist_draw(FILE *out, const unsigned long long *slot, size_t n);

#endif /* VIGIL_HIST_H */
