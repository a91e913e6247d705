// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * exits: how watched processes end — exit status, fatal signal, core dump, OOM kill, and who
 * sent the signal — and which processes are watched at all.
 *
 * The set of watched processes lives here, in the map `watched` (tgid -> workload), so that
 * every probe family can filter in the kernel with one lookup. Userspace seeds it from /proc
 * and pidfiles; exec adds processes whose comm, executable inode or cgroup matches a workload;
 * fork adds the children of watched processes.
 *
 * Only exceptional records cross the ring buffer: in observe-all mode a clean exit of an
 * unwatched process is counted here (VIGIL_STAT_CLEAN_EXITS) and never sent, and a failing one
 * is sent at most at its comm's and its cgroup's rate (VIGIL_STAT_UNWATCHED_LIMITED beyond):
 * any user can fork processes under names of their choosing, and each name is a signature.
 *
 * Each hook has a tp_btf program (preferred: typed arguments, no tracefs) and a classic
 * tracepoint twin for kernels without tp_btf; the loader enables one of each pair.
 */
#include "maps.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the loader between open and load. */
const volatile bool observe_all = false;     /* report failing exits of every process */
const volatile bool inherit_at_exit = false; /* classic fork hook cannot tell threads apart */
const volatile __u32 page_kib = 4; /* the page size in KiB (the classic OOM event's unit) */
/* observe-all: one record every this many ns per comm and per cgroup, a second's worth at once */
const volatile __u64 unwatched_interval_ns = 1000000000ull / VIGIL_UNWATCHED_RATE_DEFAULT;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VIGIL_MAX_MATCH_KEYS);
	__type(key, char[VIGIL_COMM_LEN]); /* NUL-padded comm */
	__type(value, __u32);		   /* workload index + 1 */
} match_comm SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VIGIL_MAX_MATCH_KEYS);
	__type(key, struct vigil_exe_key);
	__type(value, __u32);
} match_exe SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VIGIL_MAX_MATCH_KEYS);
	__type(key, __u64); /* cgroup v2 id */
	__type(value, __u32);
} match_cgroup SEC(".maps");

/* tgid -> when the OOM killer marked it; consumed by its exit. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} oom_victims SEC(".maps");

struct sender {
	__u32 tgid;
	__u32 sig;
	__u32 pid; /* the sending thread: for a fault (SIGSEGV, SIGBUS...) the faulting one */
	__u32 __pad0;
	char comm[VIGIL_COMM_LEN];
};

/* target tgid -> the last fatal signal generated for it, and by whom. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct sender);
} senders SEC(".maps");

/*
 * The rate of unwatched records, per comm and per cgroup: key -> the GCRA's theoretical
 * arrival time (a token bucket in one __u64). LRU: a flood of new names pushes out old ones,
 * which then start again with a full bucket; the cgroup's bucket still holds the flood.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VIGIL_RATE_KEYS);
	__type(key, char[VIGIL_COMM_LEN]);
	__type(value, __u64);
} rate_comm SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VIGIL_RATE_KEYS);
	__type(key, __u64); /* cgroup v2 id */
	__type(value, __u64);
} rate_cgroup SEC(".maps");

/*
 * May one more record go under @key of @map at @now? GCRA: each record moves the key's
 * theoretical arrival time on by the interval; a record is refused while that time is more
 * than a second (less one interval) ahead, which allows a burst of a second's worth. Two CPUs
 * may race on one key: the rate is then a little over, never unbounded.
 */
static __always_inline bool rate_admit(void *map, const void *key, __u64 now)
{
	__u64 *tat = bpf_map_lookup_elem(map, key), t;

	if (!tat) {
		t = now + unwatched_interval_ns;
		bpf_map_update_elem(map, key, &t, BPF_ANY);
		return true;
	}
	t = *tat > now ? *tat : now;
	if (t - now + unwatched_interval_ns > 1000000000ull)
		return false;
	*tat = t + unwatched_interval_ns;
	return true;
}

/* An unwatched process's record: within its cgroup's rate (first, so that a flood of new
 * names is stopped before it churns the comm map), then its comm's. Counts a refusal. */
static __always_inline bool unwatched_admit(struct task_struct *task)
{
	char comm[VIGIL_COMM_LEN] = {};
	__u64 now = bpf_ktime_get_ns();
	__u64 cgid = task_cgroup_id(task);

	bpf_probe_read_kernel_str(comm, sizeof(comm), BPF_CORE_READ(task, group_leader, comm));
	if (rate_admit(&rate_cgroup, &cgid, now) && rate_admit(&rate_comm, comm, now))
		return true;
	stat_inc(&stats, VIGIL_STAT_UNWATCHED_LIMITED);
	return false;
}

/* Insert @tgid into the watched set; counts a full map instead of failing silently. */
static __always_inline void watch(__u32 tgid, __u32 workload, __u32 flags)
{
	struct vigil_watch w = {.workload = workload, .flags = flags};

	int ret = bpf_map_update_elem(&watched, &tgid, &w, BPF_NOEXIST);

	if (!ret)
		tgid_mark(tgid, true);
	else if (ret == -E2BIG)
		stat_inc(&stats, VIGIL_STAT_WATCH_FULL);
}

/* Workload (index + 1) whose comm, executable or cgroup matches @task, or 0. */
static __always_inline __u32 match_task(struct task_struct *task)
{
	char comm[VIGIL_COMM_LEN] = {};
	struct vigil_exe_key exe = {};
	struct inode *inode;
	__u64 cgid;
	__u32 *w;

	bpf_probe_read_kernel_str(comm, sizeof(comm), BPF_CORE_READ(task, comm));
	w = bpf_map_lookup_elem(&match_comm, comm);
	if (w)
		return *w;

	inode = BPF_CORE_READ(task, mm, exe_file, f_inode);
	if (inode) {
		exe.ino = BPF_CORE_READ(inode, i_ino);
		exe.dev = BPF_CORE_READ(inode, i_sb, s_dev);
		w = bpf_map_lookup_elem(&match_exe, &exe);
		if (w)
			return *w;
	}

	cgid = task_cgroup_id(task);
	w = bpf_map_lookup_elem(&match_cgroup, &cgid);
	return w ? *w : 0;
}

/* With the classic hooks, a child is adopted into its parent's workload when first seen. */
static __always_inline struct vigil_watch *inherit(struct task_struct *task, __u32 tgid)
{
	__u32 ptgid = BPF_CORE_READ(task, real_parent, tgid);
	struct vigil_watch *pw = bpf_map_lookup_elem(&watched, &ptgid);

	if (!pw)
		return NULL;
	watch(tgid, pw->workload, VIGIL_F_WATCHED | VIGIL_F_INHERITED);
	return bpf_map_lookup_elem(&watched, &tgid);
}

/* exec: a process that now matches a workload becomes watched, and userspace learns its pid. */
static __always_inline int on_exec(struct task_struct *task)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	struct vigil_exec *e;
	__u32 workload;

	if (bpf_map_lookup_elem(&watched, &tgid))
		return 0;
	workload = match_task(task);
	if (!workload) {
		if (inherit_at_exit)
			inherit(task, tgid);
		return 0;
	}
	watch(tgid, workload, VIGIL_F_WATCHED);

	e = reserve(sizeof(*e), workload);
	if (!e)
		return 0;
	fill_hdr(&e->hdr, VIGIL_EV_EXEC, sizeof(*e), task, workload, VIGIL_F_WATCHED);
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->__pad0 = 0;
	e->start_ns = BPF_CORE_READ(task, group_leader, start_time);
	submit(e, false); /* routine: the collector learns of it within ms */
	return 0;
}

/*
 * The process is gone (its last thread is exiting). exit_code is already set by do_exit();
 * for a group exit every thread carries signal->group_exit_code.
 */
static __always_inline int on_exit(struct task_struct *task)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	struct vigil_watch *wp, w = {};
	struct vigil_exit *e;
	struct sender *s;
	__u32 code = BPF_CORE_READ(task, exit_code);
	bool oom = false;
	__u64 *oomts;

	wp = bpf_map_lookup_elem(&watched, &tgid);
	if (!wp && inherit_at_exit)
		wp = inherit(task, tgid);
	if (wp) {
		w = *wp;
		/* Only the thread that removes the entry reports: no duplicate records. */
		if (bpf_map_delete_elem(&watched, &tgid))
			return 0;
		tgid_mark(tgid, false);
	}
	oomts = bpf_map_lookup_elem(&oom_victims, &tgid);
	if (oomts) {
		oom = true;
		bpf_map_delete_elem(&oom_victims, &tgid);
	}
	if (!w.workload && !observe_all)
		goto out;
	/* A clean exit is news only for a workload's main process (the service stopped); for
	 * an unwatched process or a watched one's child it is counted, not sent. */
	if (code == 0 && !oom && (!w.workload || (w.flags & VIGIL_F_INHERITED))) {
		stat_inc(&stats, VIGIL_STAT_CLEAN_EXITS);
		goto out;
	}
	/* A workload's records are never rate-limited. */
	if (!w.workload && !unwatched_admit(task))
		goto out;

	e = reserve(sizeof(*e), w.workload);
	if (!e)
		goto out;
	fill_hdr(&e->hdr, VIGIL_EV_EXIT, sizeof(*e), task, w.workload, w.flags);
	e->exit_code = code;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->start_ns = BPF_CORE_READ(task, group_leader, start_time);
	e->exit_flags = oom ? VIGIL_EXIT_OOM : 0;
	e->sender_tgid = 0;
	e->sender_sig = 0;
	e->sender_pid = 0;
	__builtin_memset(e->sender_comm, 0, sizeof(e->sender_comm));
	s = bpf_map_lookup_elem(&senders, &tgid);
	if (s && (code & 0x7f) && s->sig == (code & 0x7f)) {
		e->exit_flags |= VIGIL_EXIT_SENDER;
		e->sender_tgid = s->tgid;
		e->sender_sig = s->sig;
		e->sender_pid = s->pid;
		__builtin_memcpy(e->sender_comm, s->comm, sizeof(e->sender_comm));
	}
	/* A workload's failure wakes the collector now; a clean exit and observe-all wait for
	 * its next drain (wake.bpf.h). */
	submit(e, w.workload && (code || oom));
out:
	bpf_map_delete_elem(&senders, &tgid);
	return 0;
}

/* A fatal signal was queued for @target_tgid by current: remember who, for the exit record. */
static __always_inline int on_signal(int sig, __u32 target_tgid, int result)
{
	struct sender s = {};
	__u64 id;

	/* result 0 is TRACE_SIGNAL_DELIVERED: queued, not ignored or blocked-and-dropped. */
	if (result != 0 || !signal_is_fatal(sig))
		return 0;
	if (!observe_all && !bpf_map_lookup_elem(&watched, &target_tgid))
		return 0;
	id = bpf_get_current_pid_tgid();
	s.tgid = id >> 32;
	s.pid = (__u32)id;
	s.sig = sig;
	bpf_get_current_comm(s.comm, sizeof(s.comm));
	bpf_map_update_elem(&senders, &target_tgid, &s, BPF_ANY);
	return 0;
}

/*
 * The OOM killer picked @victim (not current): mark it so its exit is an oom_kill.
 * @comm: the victim's name when @victim is not known (classic hook), else NULL.
 */
static __always_inline int on_oom(struct task_struct *victim, __u32 tgid, __u64 vm, __u64 rss,
				  const char *comm)
{
	struct vigil_watch *w = bpf_map_lookup_elem(&watched, &tgid);
	__u64 now = bpf_ktime_get_ns();
	struct vigil_oom *e;

	bpf_map_update_elem(&oom_victims, &tgid, &now, BPF_ANY);
	if (!w && !observe_all)
		return 0;
	e = reserve(sizeof(*e), w ? w->workload : 0);
	if (!e)
		return 0;
	fill_hdr(&e->hdr, VIGIL_EV_OOM, sizeof(*e), victim, w ? w->workload : 0, w ? w->flags : 0);
	if (comm) {
		e->hdr.tgid = tgid;
		e->hdr.pid = tgid;
		e->hdr.cgroup_id = 0;
		bpf_probe_read_kernel_str(e->hdr.comm, sizeof(e->hdr.comm), comm);
	}
	e->total_vm_pages = vm;
	e->rss_pages = rss;
	e->trigger_tgid = bpf_get_current_pid_tgid() >> 32;
	e->__pad0 = 0;
	bpf_get_current_comm(e->trigger_comm, sizeof(e->trigger_comm));
	submit(e, true);
	return 0;
}

/* Before 6.2 (commit f1a7941243c1) rss_stat was this struct of atomics, not percpu counters. */
struct mm_rss_stat___old {
	atomic_long_t count[4];
} __attribute__((preserve_access_index));

struct mm_struct___old {
	struct mm_rss_stat___old rss_stat;
} __attribute__((preserve_access_index));

/*
 * Resident pages of @mm: file + anon + shmem (MM_FILEPAGES 0, MM_ANONPAGES 1, MM_SHMEMPAGES 3),
 * as /proc/PID/status reads them: from 6.2 the shared count of each percpu counter, before
 * that the atomics of struct mm_rss_stat (what a task has not yet folded in from its own
 * cache, at most 64 events, is missing from both).
 */
static __always_inline __u64 mm_rss_pages(struct mm_struct *mm)
{
	struct percpu_counter *c;

	if (!mm)
		return 0;
	/* Its own flavour of mm_struct: a relocation of mm_struct.rss_stat as the percpu array
	 * fails on 6.1, and clang would hoist one shared by both branches above the test. */
	if (bpf_core_type_exists(struct mm_rss_stat___old)) {
		struct mm_struct___old *o = (void *)mm;

		return BPF_CORE_READ(o, rss_stat.count[0].counter) +
		       BPF_CORE_READ(o, rss_stat.count[1].counter) +
		       BPF_CORE_READ(o, rss_stat.count[3].counter);
	}
	c = (void *)mm + bpf_core_field_offset(struct mm_struct, rss_stat);
	return BPF_CORE_READ(&c[0], count) + BPF_CORE_READ(&c[1], count) +
	       BPF_CORE_READ(&c[3], count);
}

/* Before 5.14 (commit 2f064a59a11f) task_struct's state was `state`, not `__state`. */
struct task_struct___old {
	long state;
} __attribute__((preserve_access_index));

static __always_inline __u32 task_state(struct task_struct *task)
{
	if (bpf_core_field_exists(task->__state))
		return BPF_CORE_READ(task, __state);
	return BPF_CORE_READ((struct task_struct___old *)task, state);
}

/* ---- tp_btf programs: typed arguments, no tracefs needed ---- */

SEC("tp_btf/sched_process_exit")
int BPF_PROG(exit_btf, struct task_struct *task, bool group_dead)
{
	/* group_dead (6.16+): the last thread of the group. */
	return group_dead ? on_exit(task) : 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(exit_btf_live, struct task_struct *task)
{
	/* Before group_dead was an argument: signal->live has been decremented by do_exit(). */
	return BPF_CORE_READ(task, signal, live.counter) == 0 ? on_exit(task) : 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(exec_btf, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	return on_exec(task);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(fork_btf, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 tgid = BPF_CORE_READ(child, tgid);
	struct vigil_watch *pw;

	/* A new thread is not a new process. */
	if (tgid == ptgid)
		return 0;
	pw = bpf_map_lookup_elem(&watched, &ptgid);
	if (pw)
		watch(tgid, pw->workload, VIGIL_F_WATCHED | VIGIL_F_INHERITED);
	return 0;
}

SEC("tp_btf/signal_generate")
int BPF_PROG(signal_btf, int sig, struct kernel_siginfo *info, struct task_struct *task, int group,
	     int result)
{
	return on_signal(sig, BPF_CORE_READ(task, tgid), result);
}

SEC("tp_btf/mark_victim")
int BPF_PROG(oom_btf, struct task_struct *victim)
{
	struct mm_struct *mm = BPF_CORE_READ(victim, mm);

	return on_oom(victim, BPF_CORE_READ(victim, tgid), BPF_CORE_READ(mm, total_vm),
		      mm_rss_pages(mm), NULL);
}

/*
 * khungtaskd (check_hung_task) found @task in an uninterruptible, non-killable sleep for the
 * whole hung_task_timeout_secs. Only where the kernel has CONFIG_DETECT_HUNG_TASK: the loader
 * enables this program when the tracepoint exists.
 */
SEC("tp_btf/sched_process_hang")
int BPF_PROG(hang_btf, struct task_struct *task)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	struct vigil_watch *w = bpf_map_lookup_elem(&watched, &tgid);
	struct vigil_hang *e;

	if (!w && !observe_all)
		return 0;
	e = reserve(sizeof(*e), w ? w->workload : 0);
	if (!e)
		return 0;
	fill_hdr(&e->hdr, VIGIL_EV_HANG, sizeof(*e), task, w ? w->workload : 0, w ? w->flags : 0);
	e->switches = BPF_CORE_READ(task, nvcsw) + BPF_CORE_READ(task, nivcsw);
	e->state = task_state(task);
	e->__pad0 = 0;
	submit(e, true);
	return 0;
}

/* ---- classic tracepoints: the fallback, current task read through CO-RE ---- */

SEC("tp/sched/sched_process_exit")
int exit_tp(void *ctx)
{
	struct task_struct *task = (void *)bpf_get_current_task();

	return BPF_CORE_READ(task, signal, live.counter) == 0 ? on_exit(task) : 0;
}

SEC("tp/sched/sched_process_exec")
int exec_tp(void *ctx)
{
	return on_exec((void *)bpf_get_current_task());
}

SEC("tp/signal/signal_generate")
int signal_tp(struct trace_event_raw_signal_generate *ctx)
{
	/* ctx->pid is the target thread; a process-directed signal names the leader. */
	return on_signal(ctx->sig, ctx->pid, ctx->result);
}

SEC("tp/oom/mark_victim")
int oom_tp(struct trace_event_raw_mark_victim *ctx)
{
	__u64 vm = 0, rss = 0;
	const char *comm = "";

	/* comm and the rss fields were added to the event in 6.8 (commit 72ba14deb40a). */
	if (bpf_core_field_exists(ctx->total_vm) && page_kib) {
		/* The event's sizes are in KiB; the record's in pages, as the mm counts them. */
		vm = ctx->total_vm / page_kib;
		rss = (ctx->anon_rss + ctx->file_rss + ctx->shmem_rss) / page_kib;
		comm = (const char *)ctx + (ctx->__data_loc_comm & 0xffff);
	}
	/* Only the victim's pid is known here: the kill is process-wide, the leader is named. */
	return on_oom((void *)bpf_get_current_task(), ctx->pid, vm, rss, comm);
}
