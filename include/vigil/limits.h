/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Sizes shared by the kernel programs and the daemon. Plain constants only. */
#ifndef VIGIL_LIMITS_H
#define VIGIL_LIMITS_H

#define VIGIL_COMM_LEN 16	      /* TASK_COMM_LEN */
#define VIGIL_MAX_WORKLOADS 64	      /* configured workloads */
#define VIGIL_MAX_WATCHED 65536	      /* processes watched at once (kernel map) */
#define VIGIL_MAX_MATCH_KEYS 1024     /* comm / exe / cgroup match keys */
#define VIGIL_RINGBUF_BYTES (1 << 20) /* default ring buffer: ~10k exit records */
#define VIGIL_PID_MAX 4194304	      /* PID_MAX_LIMIT: the largest pid_max a kernel allows */
#define VIGIL_PID_WORDS (VIGIL_PID_MAX / 64) /* watched_bits: one bit per tgid */
#define VIGIL_UNWATCHED_RATE_DEFAULT 20	     /* observe-all records/s per comm, per cgroup */
#define VIGIL_UNWATCHED_RATE_LIMIT 100000    /* the largest observe_all_rate */
#define VIGIL_RATE_KEYS 4096		     /* comms and cgroups rate-limited at once (LRU) */
/* Ring-buffer wake-ups (bpf/wake.bpf.h): a routine record wakes the collector only if none
 * did in the last VIGIL_WAKE_GAP_NS; the collector drains again VIGIL_DRAIN_AFTER_MS after
 * every drain that found records (more than the gap: the loop's timers count whole ms). */
#define VIGIL_WAKE_GAP_NS 1000000ULL
#define VIGIL_DRAIN_AFTER_MS 2

#endif /* VIGIL_LIMITS_H */
