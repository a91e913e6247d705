/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The event ABI between the kernel programs (bpf/) and the daemon (userspace/).
 *
 * Every ring-buffer record starts with struct vigil_event_hdr; hdr.kind says which body follows
 * and hdr.size how many bytes the whole record holds. Plain fixed-size types only, explicit
 * padding, no logic. Any change to a layout bumps VIGIL_ABI_VERSION; the static asserts at the
 * bottom are compiled by both clang -target bpf and the host compiler, so the two sides cannot
 * silently disagree on a size or an offset.
 */
#ifndef VIGIL_EVENTS_H
#define VIGIL_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#include <stddef.h>
#endif

#include "vigil/limits.h"

#define VIGIL_ABI_VERSION 1

enum vigil_event_kind {
	VIGIL_EV_EXIT = 1, /* a process ended (watched, or failing in observe-all mode) */
	VIGIL_EV_OOM = 2,  /* the OOM killer chose a victim (before it exits) */
	VIGIL_EV_EXEC = 3, /* a new process matched a workload by comm, exe or cgroup */
	VIGIL_EV_KIND_MAX,
};

/* hdr.flags */
enum vigil_event_flags {
	VIGIL_F_WATCHED = 1 << 0, /* the process belongs to a configured workload */
	VIGIL_F_INHERITED = 1 << 1, /* ... because its parent did (fork) */
};

struct vigil_event_hdr {
	__u16 kind;	/* enum vigil_event_kind */
	__u16 version;	/* VIGIL_ABI_VERSION */
	__u32 size;	/* bytes in the whole record, header included */
	__u64 ts_ns;	/* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 tgid;	/* the process the event is about (not always current) */
	__u32 pid;	/* the thread */
	__u64 cgroup_id; /* cgroup v2 id of that process */
	__u32 workload;	/* workload index + 1; 0 = no configured workload */
	__u32 flags;	/* enum vigil_event_flags */
	char comm[VIGIL_COMM_LEN]; /* thread-group leader's comm, not NUL-terminated if full */
};

/* exit_flags */
enum vigil_exit_flags {
	VIGIL_EXIT_OOM = 1 << 0,    /* the OOM killer marked this process as its victim */
	VIGIL_EXIT_SENDER = 1 << 1, /* sender_* says who generated the fatal signal */
};

struct vigil_exit {
	struct vigil_event_hdr hdr;
	__u32 exit_code;   /* raw wait status: (status << 8) | 0x80 if core | signal */
	__u32 ppid;	   /* parent's tgid at exit */
	__u64 start_ns;	   /* leader's start_time: with tgid, unique across pid reuse */
	__u32 exit_flags;  /* enum vigil_exit_flags */
	__u32 sender_tgid; /* with VIGIL_EXIT_SENDER: who sent sender_sig */
	__u32 sender_sig;
	__u32 __pad0;
	char sender_comm[VIGIL_COMM_LEN];
};

struct vigil_oom {
	struct vigil_event_hdr hdr; /* about the victim */
	__u64 total_vm_pages;	    /* victim's mm size at the kill */
	__u64 rss_pages;	    /* anon + file + shmem resident pages */
	__u32 trigger_tgid;	    /* the task whose allocation ran the OOM killer */
	__u32 __pad0;
	char trigger_comm[VIGIL_COMM_LEN];
};

struct vigil_exec {
	struct vigil_event_hdr hdr;
	__u32 ppid;
	__u32 __pad0;
	__u64 start_ns;
};

/* Per-CPU counters of the exits family (map "stats"), summed by userspace. */
enum vigil_stat {
	VIGIL_STAT_EVENTS = 0,	   /* records submitted to the ring buffer */
	VIGIL_STAT_DROPS,	   /* ring buffer full: bpf_ringbuf_reserve() failed */
	VIGIL_STAT_CLEAN_EXITS,	   /* observe-all exits with status 0, aggregated, not sent */
	VIGIL_STAT_WATCH_FULL,	   /* watched-tgid map full: a process could not be watched */
	VIGIL_STAT_MAX,
};

/* Value of the kernel's watched-tgid map. */
struct vigil_watch {
	__u32 workload; /* index + 1 */
	__u32 flags;	/* enum vigil_event_flags */
};

/* Key of the exe match map: the executable's inode, as the kernel sees it. */
struct vigil_exe_key {
	__u64 ino;
	__u32 dev; /* kernel dev_t: (major << 20) | minor */
	__u32 __pad0;
};

/*
 * Layout checks, evaluated by both compilers. If one fails, the two sides of the ring buffer
 * disagree: fix the struct (explicit padding), then bump VIGIL_ABI_VERSION.
 */
#define VIGIL_ABI_ASSERT(cond) _Static_assert(cond, #cond)
VIGIL_ABI_ASSERT(sizeof(struct vigil_event_hdr) == 56);
VIGIL_ABI_ASSERT(__builtin_offsetof(struct vigil_event_hdr, ts_ns) == 8);
VIGIL_ABI_ASSERT(__builtin_offsetof(struct vigil_event_hdr, cgroup_id) == 24);
VIGIL_ABI_ASSERT(__builtin_offsetof(struct vigil_event_hdr, comm) == 40);
VIGIL_ABI_ASSERT(sizeof(struct vigil_exit) == 104);
VIGIL_ABI_ASSERT(__builtin_offsetof(struct vigil_exit, start_ns) == 64);
VIGIL_ABI_ASSERT(__builtin_offsetof(struct vigil_exit, sender_comm) == 88);
VIGIL_ABI_ASSERT(sizeof(struct vigil_oom) == 96);
VIGIL_ABI_ASSERT(__builtin_offsetof(struct vigil_oom, trigger_comm) == 80);
VIGIL_ABI_ASSERT(sizeof(struct vigil_exec) == 72);
VIGIL_ABI_ASSERT(sizeof(struct vigil_watch) == 8);
VIGIL_ABI_ASSERT(sizeof(struct vigil_exe_key) == 16);

#endif /* VIGIL_EVENTS_H */
