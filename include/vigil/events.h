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
	VIGIL_EV_EXIT = 1,    /* a process ended (watched, or failing in observe-all mode) */
	VIGIL_EV_OOM = 2,     /* the OOM killer chose a victim (before it exits) */
	VIGIL_EV_EXEC = 3,    /* a new process matched a workload by comm, exe or cgroup */
	VIGIL_EV_SOCK = 4,    /* a socket error of a watched process (failed connect, reset...) */
	VIGIL_EV_SLOW = 5,    /* a syscall of a watched process took longer than its budget */
	VIGIL_EV_HANG = 6,    /* the kernel's hung-task detector found a watched task stuck in D */
	VIGIL_EV_RETRANS = 7, /* a workload's retransmits reached the count userspace armed */
	VIGIL_EV_KIND_MAX,
};

/* hdr.flags */
enum vigil_event_flags {
	VIGIL_F_WATCHED = 1 << 0,   /* the process belongs to a configured workload */
	VIGIL_F_INHERITED = 1 << 1, /* ... because its parent did (fork) */
	VIGIL_F_PASSIVE = 1 << 2,   /* sockets: an accepted connection, not one it connected */
};

struct vigil_event_hdr {
	__u16 kind;		   /* enum vigil_event_kind */
	__u16 version;		   /* VIGIL_ABI_VERSION */
	__u32 size;		   /* bytes in the whole record, header included */
	__u64 ts_ns;		   /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 tgid;		   /* the process the event is about (not always current) */
	__u32 pid;		   /* the thread */
	__u64 cgroup_id;	   /* cgroup v2 id of that process */
	__u32 workload;		   /* workload index + 1; 0 = no configured workload */
	__u32 flags;		   /* enum vigil_event_flags */
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
	__u32
	    sender_pid; /* with VIGIL_EXIT_SENDER: the sending thread (a fault: the faulting one) */
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

enum vigil_sock_what {
	VIGIL_SOCK_REFUSED = 1, /* connect: RST answered the SYN (ECONNREFUSED) */
	VIGIL_SOCK_TIMEOUT,	/* connect: SYNs unanswered (ETIMEDOUT) */
	VIGIL_SOCK_UNREACH,	/* connect: EHOSTUNREACH, ENETUNREACH */
	VIGIL_SOCK_CONNECT_ERR, /* connect failed with another errno */
	VIGIL_SOCK_RESET_RCVD,	/* RST received on a synchronized connection */
	VIGIL_SOCK_RESET_SENT,	/* this host answered with RST on an owned connection */
	VIGIL_SOCK_ERROR,	/* another error reported on an owned socket */
	VIGIL_SOCK_WHAT_MAX,
};

struct vigil_sock {
	struct vigil_event_hdr hdr; /* about the socket's owner: often not current (softirq) */
	__u32 what;		    /* enum vigil_sock_what */
	__s32 err;		    /* errno (positive), 0 if none */
	__u16 family;		    /* AF_INET or AF_INET6 */
	__u16 lport;		    /* host byte order */
	__u16 rport;		    /* host byte order */
	__u16 state;		    /* TCP state when it happened */
	__u8 laddr[16];		    /* network order; IPv4 in the first 4 bytes */
	__u8 raddr[16];
};

struct vigil_slow {
	struct vigil_event_hdr hdr;
	__u64 latency_ns;
	__s64 ret;	 /* the syscall's return value */
	__u32 syscall;	 /* number on this architecture */
	__u32 budget_ms; /* the workload's budget it exceeded */
};

struct vigil_hang {
	struct vigil_event_hdr hdr; /* about the hung task (current is khungtaskd) */
	__u64 switches;		    /* its context switches: unchanged for the whole timeout */
	__u32 state;		    /* its __state (TASK_UNINTERRUPTIBLE...) */
	__u32 __pad0;
};

/*
 * Map "retrans_alarm" (array, mmap'able, index: workload): each retransmit of a workload's
 * socket adds one to count (atomically), and stamps first_ns when it is 0; the one that makes
 * count equal to at sends one VIGIL_EV_RETRANS record. Userspace sets at to the count at which
 * the last second's retransmits would reach the class's threshold (0: disarmed), so the
 * retransmits class is decided when the kernel crosses it, not at the next sample; and takes
 * first_ns (setting it back to 0) at each sample: the time of each sample's first retransmit,
 * from which an incident is timed. hdr.tgid is the retransmitting socket's owner.
 */
struct vigil_retrans_alarm {
	__u64 count;
	__u64 at;
	__u64 first_ns; /* bpf_ktime_get_ns() of the first retransmit since userspace took it */
	__u64 __pad0;
};

struct vigil_retrans {
	struct vigil_event_hdr hdr;
	__u64 count; /* the alarm's count when it went off (== at) */
};

/*
 * Per-CPU counters of each probe family (one "stats" map per family), summed by userspace.
 * Not every family uses every counter.
 */
enum vigil_stat {
	VIGIL_STAT_EVENTS = 0,	      /* records submitted to the ring buffer */
	VIGIL_STAT_DROPS,	      /* ring buffer full: bpf_ringbuf_reserve() failed */
	VIGIL_STAT_CLEAN_EXITS,	      /* observe-all exits with status 0, aggregated, not sent */
	VIGIL_STAT_WATCH_FULL,	      /* watched-tgid map full: a process could not be watched */
	VIGIL_STAT_RATE_LIMITED,      /* slow-syscall events over the per-workload rate, not sent */
	VIGIL_STAT_NO_OWNER,	      /* socket event on a socket whose owner was never seen */
	VIGIL_STAT_OWNER_FULL,	      /* socket-owner map full */
	VIGIL_STAT_UNWATCHED_LIMITED, /* observe-all records over their comm's or cgroup's rate */
	VIGIL_STAT_UNWATCHED_SHED,    /* observe-all records not sent: ring buffer over half full */
	VIGIL_STAT_MAX,
};

/* Per-workload socket counters (map "sock_counts", per-CPU, index = workload). Monotonic:
 * userspace keeps the previous sum and takes differences, so nothing is ever reset. */
struct vigil_sock_counts {
	__u64 retransmits;
	__u64 established; /* connections that reached ESTABLISHED */
	__u64 closed;	   /* ... and left it: live = established - closed */
	__u64 resets_rcvd;
};

/*
 * Inbound connections of a workload on one of its listening ports (map "inbound", a hash):
 * the conversations the quiet window waits for. Outbound connections (a database pool) are
 * not counted here. Monotonic like the above: open = established - closed.
 */
struct vigil_inbound_key {
	__u32 workload; /* index + 1 */
	__u16 port;	/* the listening port, host byte order */
	__u16 __pad0;
};

struct vigil_inbound {
	__u64 established;
	__u64 closed;
};

/*
 * Latency: a log2 histogram per (workload, syscall), per-CPU, monotonic like the above. Each
 * timed (workload, syscall) pair gets a slot 1..VIGIL_LAT_HISTS-1 in map "lat_hist", a per-CPU
 * array (an inlined lookup on the hot path, where a hash would cost a hash and a walk);
 * userspace hands the slots out in config order.
 */
#define VIGIL_LAT_SLOTS 32  /* bucket i counts latencies in [2^i, 2^(i+1)) ns; the last: more */
#define VIGIL_LAT_HISTS 256 /* histogram slots; 0 means "not timed" */
#define VIGIL_MAX_SYSCALLS 512

struct vigil_lat_hist {
	__u64 slots[VIGIL_LAT_SLOTS];
	__u64 count;
	__u64 sum_ns;
};

/* What a workload times, and its budget (map "lat_cfg", index = workload). */
struct vigil_lat_cfg {
	__u64 budget_ns;	       /* 0: the workload times nothing */
	__u8 hist[VIGIL_MAX_SYSCALLS]; /* syscall number -> histogram slot, 0: not timed */
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
 * Trace correlation (bpf/trace.bpf.c, for workloads with trace.http): the W3C traceparent of
 * the requests a watched thread has read on a TCP socket and not yet answered. Nothing crosses
 * the ring buffer per request: userspace reads these maps when a fault happens.
 */
#define VIGIL_TRACE_QUEUE 4	 /* per thread: its last requests (pipelined ones too) */
#define VIGIL_TRACE_RING 8	 /* per process: recent contexts of its threads */
#define VIGIL_TRACE_SCRATCH 4096 /* bytes of one read searched at most (a power of 2) */
#define VIGIL_TRACE_BYTES_DEFAULT 1024
#define VIGIL_TRACE_MAX_AGE_NS (120ULL * 1000000000ULL) /* older contexts are stale */

enum vigil_trace_source {
	VIGIL_TRACE_NONE = 0,
	VIGIL_TRACE_HTTP = 1, /* a traceparent header read on a TCP socket */
	VIGIL_TRACE_ENV = 2,  /* the TRACEPARENT environment variable at exec */
};

/* One parsed traceparent (version 00): ids in binary, as on the wire in hex. */
struct vigil_trace_ctx {
	__u64 ts_ns;	   /* bpf_ktime_get_ns() when the request was read */
	__u64 done_ns;	   /* ... when the thread wrote its response; 0: not yet */
	__u8 trace_id[16]; /* never all zero */
	__u8 span_id[8];   /* the caller's span: the traceparent's parent-id, never all zero */
	__u8 flags;	   /* trace-flags (bit 0: sampled) */
	__u8 ring;	   /* kernel: the process ring slot it was also written to */
	__u8 __pad0[6];
};

/*
 * Map "trace_threads" (LRU hash, key: thread id): the last VIGIL_TRACE_QUEUE requests it read,
 * at q[i % VIGIL_TRACE_QUEUE] for i in [head - VIGIL_TRACE_QUEUE, head). A write on a TCP
 * socket (its response) marks the oldest unanswered one (index served) done. Nothing is
 * deleted, so that a fault read later in userspace still sees what was in flight at its time:
 * in flight at t means ts_ns <= t and (done_ns == 0 or done_ns > t).
 */
struct vigil_trace_thread {
	__u32 tgid;
	__u32 head;   /* contexts ever read (the next index) */
	__u32 served; /* contexts answered: the oldest unanswered index */
	__u32 __pad0;
	struct vigil_trace_ctx q[VIGIL_TRACE_QUEUE];
};

/* Map "trace_procs" (LRU hash, key: tgid): its threads' last VIGIL_TRACE_RING contexts, done_ns
 * kept in step with the thread's; tid 0: a slot never used. */
struct vigil_trace_slot {
	__u32 tid;
	__u32 __pad0;
	struct vigil_trace_ctx ctx;
};

struct vigil_trace_ring {
	__u32 head; /* next slot to write, modulo VIGIL_TRACE_RING */
	__u32 __pad0;
	struct vigil_trace_slot slots[VIGIL_TRACE_RING];
};

/* Map "trace_cfg" (array, index: workload): what the trace family does for it. */
struct vigil_trace_cfg {
	__u32 bytes; /* of each inbound read searched, 1..VIGIL_TRACE_SCRATCH; 0: no trace.http */
	__u32 env;   /* 1: look for TRACEPARENT in the environment at exec (map "trace_env") */
};

/* The environment searched at exec: chunks of VIGIL_TRACE_SCRATCH bytes, each overlapping the
 * one before by VIGIL_TRACE_ENV_OVERLAP (an entry across a chunk's end is whole in the next). */
#define VIGIL_TRACE_ENV_CHUNKS 8
#define VIGIL_TRACE_ENV_OVERLAP 80
#define VIGIL_TRACE_ENV_STEP (VIGIL_TRACE_SCRATCH - VIGIL_TRACE_ENV_OVERLAP) /* a multiple of 8 */

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
VIGIL_ABI_ASSERT(sizeof(struct vigil_sock) == 104);
VIGIL_ABI_ASSERT(__builtin_offsetof(struct vigil_sock, laddr) == 72);
VIGIL_ABI_ASSERT(sizeof(struct vigil_slow) == 80);
VIGIL_ABI_ASSERT(__builtin_offsetof(struct vigil_slow, syscall) == 72);
VIGIL_ABI_ASSERT(sizeof(struct vigil_sock_counts) == 32);
VIGIL_ABI_ASSERT(sizeof(struct vigil_inbound_key) == 8);
VIGIL_ABI_ASSERT(sizeof(struct vigil_inbound) == 16);
VIGIL_ABI_ASSERT(sizeof(struct vigil_hang) == 72);
VIGIL_ABI_ASSERT(sizeof(struct vigil_retrans) == 64);
VIGIL_ABI_ASSERT(sizeof(struct vigil_retrans_alarm) == 32);
VIGIL_ABI_ASSERT(sizeof(struct vigil_lat_hist) == 8 * (VIGIL_LAT_SLOTS + 2));
VIGIL_ABI_ASSERT(sizeof(struct vigil_lat_cfg) == 8 + VIGIL_MAX_SYSCALLS);
VIGIL_ABI_ASSERT(VIGIL_LAT_HISTS <= 256);
VIGIL_ABI_ASSERT(__builtin_offsetof(struct vigil_exit, sender_pid) == 84);
VIGIL_ABI_ASSERT(sizeof(struct vigil_trace_ctx) == 48);
VIGIL_ABI_ASSERT(sizeof(struct vigil_trace_thread) == 16 + 48 * VIGIL_TRACE_QUEUE);
VIGIL_ABI_ASSERT(sizeof(struct vigil_trace_slot) == 56);
VIGIL_ABI_ASSERT(sizeof(struct vigil_trace_ring) == 8 + 56 * VIGIL_TRACE_RING);
VIGIL_ABI_ASSERT((VIGIL_TRACE_QUEUE & (VIGIL_TRACE_QUEUE - 1)) == 0);
VIGIL_ABI_ASSERT((VIGIL_TRACE_RING & (VIGIL_TRACE_RING - 1)) == 0);
VIGIL_ABI_ASSERT(VIGIL_TRACE_ENV_STEP % 8 == 0);
VIGIL_ABI_ASSERT(sizeof(struct vigil_trace_cfg) == 8);
VIGIL_ABI_ASSERT((VIGIL_TRACE_SCRATCH & (VIGIL_TRACE_SCRATCH - 1)) ==
		 0); /* a slot fits the __u8 of vigil_lat_cfg.hist */

#endif /* VIGIL_EVENTS_H */
