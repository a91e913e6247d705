/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Helpers shared by every probe family: the event header, the counters, and the few
 * kernel-version workarounds, each with the kernel change it works around.
 */
#ifndef VIGIL_COMMON_BPF_H
#define VIGIL_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>

#include "vigil/events.h"

/* vmlinux.h has no errno macros. */
#define E2BIG 7
#define EEXIST 17

/* Add one to this CPU's counter @idx of a BPF_MAP_TYPE_PERCPU_ARRAY of __u64. */
static __always_inline void stat_inc(void *stats, __u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(stats, &idx);

	if (v)
		(*v)++;
}

/* cgroup v2 id of @task: what bpf_get_current_cgroup_id() returns for current. */
static __always_inline __u64 task_cgroup_id(struct task_struct *task)
{
	return BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
}

/* Fill the common header. @task is the process the event is about, not always current. */
static __always_inline void fill_hdr(struct vigil_event_hdr *h, __u16 kind, __u32 size,
				     struct task_struct *task, __u32 workload, __u32 flags)
{
	struct task_struct *leader = BPF_CORE_READ(task, group_leader);

	h->kind = kind;
	h->version = VIGIL_ABI_VERSION;
	h->size = size;
	h->ts_ns = bpf_ktime_get_ns();
	h->tgid = BPF_CORE_READ(task, tgid);
	h->pid = BPF_CORE_READ(task, pid);
	h->cgroup_id = task_cgroup_id(task);
	h->workload = workload;
	h->flags = flags;
	/* The leader's name: the last thread to exit may carry a thread name ("worker-3"). */
	bpf_probe_read_kernel(h->comm, sizeof(h->comm), BPF_CORE_READ(leader, comm));
}

/*
 * Signals whose default action ends the process (signal(7)): the ones worth remembering the
 * sender of. SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, SIGURG, SIGWINCH are not.
 */
#define VIGIL_FATAL_SIGNALS                                                                        \
	(((1ULL << 32) - 2) & ~((1ULL << 17) | (1ULL << 18) | (1ULL << 19) | (1ULL << 20) |        \
				(1ULL << 21) | (1ULL << 22) | (1ULL << 23) | (1ULL << 28)))

static __always_inline bool signal_is_fatal(int sig)
{
	return sig > 0 && sig < 32 && (VIGIL_FATAL_SIGNALS & (1ULL << sig));
}

#endif /* VIGIL_COMMON_BPF_H */
