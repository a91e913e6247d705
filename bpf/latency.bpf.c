// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * latency: how long watched workloads' chosen syscalls take. log2 histograms per
 * (workload, syscall) in per-CPU maps, and one ring-buffer record only when a syscall exceeds
 * its workload's budget, rate-limited per workload here in the kernel.
 *
 * Enabling raw_syscalls puts every task of the host on the traced syscall path, so the
 * unwatched path is as short as it can be: sys_enter and sys_exit each test the task's bit in
 * watched_bits (an array lookup the verifier inlines) and return. The loader attaches these
 * programs only when a workload asks for latency.
 */
#include "maps.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define SLOW_PER_SEC 20 /* slow-syscall records a workload may send each second */

struct start {
	__u64 ts;
	__u64 budget_ns; /* the workload's, copied at sys_enter: sys_exit needs no lat_cfg */
	__u32 syscall;
	__u16 workload;
	__u16 hist; /* histogram slot of this syscall for this workload */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct start);
} lat_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VIGIL_MAX_WORKLOADS + 1);
	__type(key, __u32);
	__type(value, struct vigil_lat_cfg);
} lat_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VIGIL_LAT_HISTS);
	__type(key, __u32);
	__type(value, struct vigil_lat_hist);
} lat_hist SEC(".maps");

struct rate {
	__u64 window; /* second (ktime / 1e9) this count is for */
	__u64 sent;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VIGIL_MAX_WORKLOADS + 1);
	__type(key, __u32);
	__type(value, struct rate);
} lat_rate SEC(".maps");

/* floor(log2(v)) for v > 0, without loops. */
static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0, s;

	s = (v > 0xffffffffULL) << 5;
	v >>= s;
	r |= s;
	s = (v > 0xffff) << 4;
	v >>= s;
	r |= s;
	s = (v > 0xff) << 3;
	v >>= s;
	r |= s;
	s = (v > 0xf) << 2;
	v >>= s;
	r |= s;
	s = (v > 0x3) << 1;
	v >>= s;
	r |= s;
	r |= (v >> 1);
	return r;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(lat_enter, struct pt_regs *regs, long id)
{
	/* bpf_get_current_task_btf() is inlined on x86-64 (6.10+), pid_tgid is a call. */
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 tgid = task->tgid;
	struct vigil_lat_cfg *cfg;
	struct vigil_watch *w;
	__u32 workload, hist;
	struct start *s;

	/* The unwatched path: one inlined array lookup, then return. */
	if (!tgid_watched(tgid))
		return 0;
	s = bpf_task_storage_get(&lat_start, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!s)
		return 0;
	/* The workload is looked up once per thread, then kept in its storage. */
	if (!s->workload) {
		w = bpf_map_lookup_elem(&watched, &tgid);
		if (!w)
			return 0;
		s->workload = w->workload;
	}
	workload = s->workload;
	cfg = bpf_map_lookup_elem(&lat_cfg, &workload);
	if (!cfg || id < 0 || id >= VIGIL_MAX_SYSCALLS)
		return 0;
	hist = cfg->hist[id & (VIGIL_MAX_SYSCALLS - 1)];
	if (!hist)
		return 0;
	s->syscall = id;
	s->hist = hist;
	s->budget_ns = cfg->budget_ns;
	s->ts = bpf_ktime_get_ns();
	return 0;
}

/* May the workload send one more slow-syscall record this second? */
static __always_inline bool rate_ok(__u32 workload, __u64 now)
{
	struct rate *r = bpf_map_lookup_elem(&lat_rate, &workload);
	__u64 sec = now / 1000000000ULL;

	if (!r)
		return false;
	if (r->window != sec) {
		r->window = sec;
		r->sent = 0;
	}
	if (__sync_fetch_and_add(&r->sent, 1) < SLOW_PER_SEC)
		return true;
	stat_inc(&stats, VIGIL_STAT_RATE_LIMITED);
	return false;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(lat_exit, struct pt_regs *regs, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct vigil_lat_hist *h;
	struct vigil_slow *e;
	__u32 slot, workload, hist;
	__u64 now, delta;
	struct start *s;

	if (!tgid_watched(task->tgid))
		return 0;
	s = bpf_task_storage_get(&lat_start, task, 0, 0);
	if (!s || !s->ts)
		return 0;
	now = bpf_ktime_get_ns();
	delta = now - s->ts;
	s->ts = 0;
	workload = s->workload;
	hist = s->hist;

	h = bpf_map_lookup_elem(&lat_hist, &hist);
	if (!h)
		return 0;
	slot = delta ? log2_u64(delta) : 0;
	if (slot >= VIGIL_LAT_SLOTS)
		slot = VIGIL_LAT_SLOTS - 1;
	h->slots[slot]++;
	h->count++;
	h->sum_ns += delta;

	if (delta <= s->budget_ns || !rate_ok(workload, now))
		return 0;
	e = reserve(sizeof(*e), workload);
	if (!e)
		return 0;
	fill_hdr(&e->hdr, VIGIL_EV_SLOW, sizeof(*e), task, workload, VIGIL_F_WATCHED);
	e->latency_ns = delta;
	e->ret = ret;
	e->syscall = s->syscall;
	e->budget_ms = s->budget_ns / 1000000;
	submit(e, true);
	return 0;
}
