// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * trace: the W3C traceparent of the requests a watched thread is serving, for workloads with
 * trace.http. Loaded only when one asks (the loader leaves this family out otherwise).
 *
 * Inbound reads (read, readv, recvfrom, recvmsg): the enter tracepoint stashes the user buffer
 * in the thread's task storage; the exit tracepoint, with the returned length, copies the
 * first trace_cfg.bytes of it into a per-CPU scratch buffer (only on a TCP socket), finds the
 * "traceparent:" header lines (vigil/traceparent.h, the parser userspace shares) and appends
 * them to the thread's queue (trace_threads) and the process's ring (trace_procs). A write on
 * a TCP socket (write, writev, sendto, sendmsg: the response) drops the thread's oldest
 * context. Nothing goes to the ring buffer: userspace reads the two maps when a fault happens.
 * With trace.env, the exec tracepoint looks for TRACEPARENT in the new environment.
 *
 * Two hook shapes, the loader attaches one: the raw pair (tp_btf sys_enter/sys_exit, switching
 * on the syscall number), or the per-syscall tracepoints (syscalls/sys_{enter,exit}_*), which
 * run only on the eight syscalls they name but cost those more (DESIGN.md, "Cost"). Each
 * program starts with the watched bit.
 */
#include "maps.bpf.h"
#include "vigil/traceparent.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define IPPROTO_TCP 6
#define SOCK_STREAM 1

enum read_kind {
	READ_BUF = 1, /* read, recvfrom: (fd, buf, len) */
	READ_IOV,     /* readv: (fd, iov, iovcnt): the first iovec */
	READ_MSG,     /* recvmsg: (fd, msghdr, flags): its first iovec */
};

/* What the enter tracepoint saw, for the exit one (the thread's task storage). */
struct stash {
	__u64 arg; /* user pointer: buffer, iovec or msghdr */
	__s32 fd;
	__u32 kind;	/* enum read_kind; 0: nothing stashed */
	__u32 bytes;	/* the workload's trace_cfg.bytes, looked up at enter */
	__s32 tcp_fd;	/* the last fd found to be a TCP socket, with its file: a keep-alive */
	__u64 tcp_file; /* connection's next request is not walked to its sock again */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct stash);
} trace_stash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VIGIL_MAX_WORKLOADS + 1);
	__type(key, __u32);
	__type(value, struct vigil_trace_cfg);
} trace_cfg SEC(".maps");

/* thread id -> the requests it read and has not answered. LRU: threads that end leave their
 * entry; userspace checks the tgid and the age of what it reads. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct vigil_trace_thread);
} trace_threads SEC(".maps");

/* tgid -> its threads' recent contexts: what an OOM kill (no faulting thread) lists. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct vigil_trace_ring);
} trace_procs SEC(".maps");

/* tgid -> the TRACEPARENT its environment held at exec (workloads with trace.env). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct vigil_trace_ctx);
} trace_env SEC(".maps");

struct scratch {
	__u8 buf[VIGIL_TRACE_SCRATCH];
	struct vigil_trace_ctx found[VIGIL_TRACE_QUEUE];
	__u32 len;
	__u32 n;
	/* Never written: the zeroed values new map entries start from (too big for the stack). */
	struct vigil_trace_thread zero_thread;
	struct vigil_trace_ring zero_ring;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} trace_scratch SEC(".maps");

/* This architecture's syscall numbers, set by the loader: the raw programs' switch. */
const volatile __u32 nr_read = ~0u, nr_readv = ~0u, nr_recvfrom = ~0u, nr_recvmsg = ~0u;
const volatile __u32 nr_write = ~0u, nr_writev = ~0u, nr_sendto = ~0u, nr_sendmsg = ~0u;

/* What this process's workload traces, or NULL. */
static __always_inline struct vigil_trace_cfg *trace_cfg_of(__u32 tgid)
{
	struct vigil_watch *w;
	__u32 workload;

	w = bpf_map_lookup_elem(&watched, &tgid);
	if (!w)
		return NULL;
	workload = w->workload;
	return bpf_map_lookup_elem(&trace_cfg, &workload);
}

/* The bytes of each inbound read this process's workload searches; 0: none (not traced). */
static __always_inline __u32 traced_bytes(__u32 tgid)
{
	struct vigil_trace_cfg *c = trace_cfg_of(tgid);

	return c ? c->bytes : 0;
}

/*
 * Is @fd of current a TCP socket? Its file's inode is a socket, and the socket's sock is
 * IPPROTO_TCP over SOCK_STREAM (sk_protocol is a plain field since 5.6). Unix sockets, pipes,
 * files and UDP are not. The fd table is reached by direct loads from the current task (a
 * BTF pointer: no helper call); with the thread's stash @s, the last fd found to be TCP and
 * its file are remembered, and the same fd still holding the same file is not walked again.
 */
static __always_inline bool fd_is_tcp(struct stash *s, __s32 fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = task->files->fdt;
	struct file **fds = fdt->fd;
	unsigned int max = fdt->max_fds;
	struct file *f = NULL;
	struct socket *sock;
	struct sock *sk;
	bool tcp;

	if (fd < 0 || (unsigned int)fd >= max)
		return false;
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return false;
	if (s && s->tcp_fd == fd && s->tcp_file == (__u64)f)
		return true;
	if ((BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return false;
	sock = BPF_CORE_READ(f, private_data);
	sk = BPF_CORE_READ(sock, sk);
	tcp = sk && BPF_CORE_READ(sk, sk_protocol) == IPPROTO_TCP &&
	      BPF_CORE_READ(sk, sk_type) == SOCK_STREAM;
	if (tcp && s) {
		s->tcp_fd = fd;
		s->tcp_file = (__u64)f;
	}
	return tcp;
}

static __always_inline int on_read_enter(__s32 fd, __u64 arg, __u32 kind)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, bytes;
	struct stash *s;

	/* The unwatched path: one inlined array lookup, then return. */
	if (!tgid_watched(tgid))
		return 0;
	bytes = traced_bytes(tgid);
	if (!bytes)
		return 0;
	s = bpf_task_storage_get(&trace_stash, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!s)
		return 0;
	s->arg = arg;
	s->fd = fd;
	s->kind = kind;
	s->bytes = bytes;
	return 0;
}

/* The user buffer and its length a read filled, from what enter stashed. Returns 0 and
 * *buf, *len, or -1. */
static __always_inline int read_buffer(const struct stash *s, __u64 *buf, __u64 *len)
{
	struct user_msghdr msg;
	struct iovec iov;
	__u64 iovp = s->arg;

	if (s->kind == READ_BUF) {
		*buf = s->arg;
		*len = ~0ULL;
		return 0;
	}
	if (s->kind == READ_MSG) {
		if (bpf_probe_read_user(&msg, sizeof(msg), (void *)s->arg))
			return -1;
		iovp = (__u64)msg.msg_iov;
	}
	if (bpf_probe_read_user(&iov, sizeof(iov), (void *)iovp))
		return -1;
	*buf = (__u64)iov.iov_base;
	*len = iov.iov_len;
	return 0;
}

/* One word of the scratch buffer (bpf_loop callback): the parser's per-word step. */
static long scan_word(__u64 w, void *unused)
{
	__u32 zero = 0;
	struct scratch *s = bpf_map_lookup_elem(&trace_scratch, &zero);

	if (!s)
		return 1;
	vigil_tp_scan_word(s->buf, s->len, (__u32)w, s->found, &s->n);
	return s->n >= VIGIL_TRACE_QUEUE;
}

/* Append the contexts found to the thread's queue and the process's ring. */
static __always_inline void remember(struct scratch *sc, __u32 tgid, __u32 tid, __u64 now)
{
	struct vigil_trace_thread *t;
	struct vigil_trace_ring *r;
	struct vigil_trace_ctx *c;
	__u32 slot;

	t = bpf_map_lookup_elem(&trace_threads, &tid);
	if (!t) {
		bpf_map_update_elem(&trace_threads, &tid, &sc->zero_thread, BPF_NOEXIST);
		t = bpf_map_lookup_elem(&trace_threads, &tid);
		if (!t)
			return;
	}
	/* A thread id of an ended process, now another's: start again. */
	if (t->tgid != tgid) {
		*t = sc->zero_thread;
		t->tgid = tgid;
	}
	r = bpf_map_lookup_elem(&trace_procs, &tgid);
	if (!r) {
		bpf_map_update_elem(&trace_procs, &tgid, &sc->zero_ring, BPF_NOEXIST);
		r = bpf_map_lookup_elem(&trace_procs, &tgid);
		if (!r)
			return;
	}
	for (__u32 k = 0; k < VIGIL_TRACE_QUEUE; k++) {
		if (k >= sc->n)
			break;
		c = &t->q[t->head & (VIGIL_TRACE_QUEUE - 1)];
		*c = sc->found[k];
		c->ts_ns = now;
		c->done_ns = 0;
		slot = __sync_fetch_and_add(&r->head, 1) & (VIGIL_TRACE_RING - 1);
		c->ring = slot;
		r->slots[slot].tid = tid;
		r->slots[slot].ctx = *c;
		t->head++;
		/* More unanswered than the queue holds: the oldest are forgotten. */
		if (t->head - t->served > VIGIL_TRACE_QUEUE)
			t->served = t->head - VIGIL_TRACE_QUEUE;
	}
}

static __always_inline int on_read_exit(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, zero = 0, bytes;
	struct scratch *sc;
	struct stash *s;
	__u64 buf, len;
	struct stash st;

	if (!tgid_watched(tgid))
		return 0;
	s = bpf_task_storage_get(&trace_stash, bpf_get_current_task_btf(), 0, 0);
	if (!s || !s->kind)
		return 0;
	st = *s;
	s->kind = 0;
	if (ret <= 0 || !fd_is_tcp(s, st.fd))
		return 0;
	bytes = st.bytes;
	sc = bpf_map_lookup_elem(&trace_scratch, &zero);
	if (!sc || !bytes || read_buffer(&st, &buf, &len))
		return 0;
	if (len > (__u64)ret)
		len = ret;
	if (len > bytes)
		len = bytes;
	if (len > VIGIL_TRACE_SCRATCH)
		len = VIGIL_TRACE_SCRATCH;
	/* Shortest request that can hold one: "traceparent:" and its value. */
	if (len < VIGIL_TP_NAME_LEN + VIGIL_TP_VALUE_LEN)
		return 0;
	if (bpf_probe_read_user(sc->buf, len, (void *)buf))
		return 0;
	sc->len = len;
	sc->n = 0;
	if (!vigil_tp_header(sc->buf, sc->len, 0, &sc->found[0]))
		sc->n = 1;
	bpf_loop((len + 7) / 8, scan_word, NULL, 0);
	if (sc->n)
		remember(sc, tgid, (__u32)id, bpf_ktime_get_ns());
	return 0;
}

/* A write on a TCP socket: the thread answered its oldest unanswered request. */
static __always_inline int on_write(__s32 fd)
{
	__u64 id = bpf_get_current_pid_tgid(), now;
	__u32 tgid = id >> 32, tid = (__u32)id, slot;
	struct vigil_trace_thread *t;
	struct vigil_trace_ring *r;
	struct vigil_trace_ctx *c;

	if (!tgid_watched(tgid))
		return 0;
	t = bpf_map_lookup_elem(&trace_threads, &tid);
	if (!t || t->served == t->head || t->tgid != tgid ||
	    !fd_is_tcp(bpf_task_storage_get(&trace_stash, bpf_get_current_task_btf(), 0, 0), fd))
		return 0;
	now = bpf_ktime_get_ns();
	c = &t->q[t->served & (VIGIL_TRACE_QUEUE - 1)];
	c->done_ns = now;
	t->served++;
	slot = c->ring;
	r = bpf_map_lookup_elem(&trace_procs, &tgid);
	if (r && slot < VIGIL_TRACE_RING && r->slots[slot].tid == tid &&
	    r->slots[slot].ctx.ts_ns == c->ts_ns)
		r->slots[slot].ctx.done_ns = now;
	return 0;
}

/* One byte of an environment chunk in the scratch buffer (bpf_loop callback). */
static long env_pos(__u64 i, void *unused)
{
	__u32 zero = 0;
	struct scratch *s = bpf_map_lookup_elem(&trace_scratch, &zero);

	if (!s)
		return 1;
	vigil_tp_env_pos(s->buf, s->len, (__u32)i, &s->found[0], &s->n);
	return s->n ? 1 : 0;
}

/*
 * A watched process exec'd (after exits.bpf.c's program put it in the watched set: programs
 * on one tracepoint run in the order they were attached). With trace.env, search its new
 * environment — current's memory, here — for TRACEPARENT: the fallback context of batch jobs
 * and CLI runs, which read no request.
 */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(trace_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = BPF_CORE_READ(task, tgid), zero = 0;
	struct vigil_trace_cfg *cfg;
	struct mm_struct *mm;
	struct scratch *sc;
	__u64 start, end, off, len, span;

	if (!tgid_watched(tgid))
		return 0;
	/* A new program: its predecessor's context is not its own. */
	bpf_map_delete_elem(&trace_env, &tgid);
	cfg = trace_cfg_of(tgid);
	sc = bpf_map_lookup_elem(&trace_scratch, &zero);
	if (!cfg || !cfg->env || !sc)
		return 0;
	mm = BPF_CORE_READ(task, mm);
	start = BPF_CORE_READ(mm, env_start);
	end = BPF_CORE_READ(mm, env_end);
	for (__u32 c = 0; c < VIGIL_TRACE_ENV_CHUNKS; c++) {
		off = c * VIGIL_TRACE_ENV_STEP;
		if (start + off >= end)
			break;
		len = end - start - off;
		if (len > VIGIL_TRACE_SCRATCH)
			len = VIGIL_TRACE_SCRATCH;
		if (bpf_probe_read_user(sc->buf, len, (void *)(start + off)))
			break;
		sc->len = len;
		sc->n = 0;
		/* Entries that start in the overlap are the next chunk's, where they are whole. */
		span = start + off + len >= end ? len : VIGIL_TRACE_ENV_STEP;
		if (!c && !vigil_tp_env_at(sc->buf, sc->len, 0, &sc->found[0]))
			sc->n = 1;
		else
			bpf_loop(span, env_pos, NULL, 0);
		if (sc->n) {
			sc->found[0].ts_ns = bpf_ktime_get_ns();
			sc->found[0].done_ns = 0;
			bpf_map_update_elem(&trace_env, &tgid, &sc->found[0], BPF_ANY);
			break;
		}
	}
	return 0;
}

/*
 * The raw pair (tp_btf sys_enter/sys_exit), the default: one program on every syscall of the
 * host, which tests the watched bit and returns for every other process — cheaper for the
 * host than the per-syscall tracepoints below when reads and writes are most of its syscalls
 * (measured: bench/trace_http.c). The per-syscall ones are the fallback (--probes tracepoint).
 */
SEC("tp_btf/sys_enter")
int BPF_PROG(trace_sys_enter, struct pt_regs *regs, long id)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__s32 fd;
	__u64 arg;

	if (!tgid_watched(task->tgid))
		return 0;
	/* regs is a BTF pointer here: direct loads, no helper call. */
	fd = (__s32)PT_REGS_PARM1_SYSCALL(regs);
	if (id == nr_write || id == nr_writev || id == nr_sendto || id == nr_sendmsg)
		return on_write(fd);
	arg = PT_REGS_PARM2_SYSCALL(regs);
	if (id == nr_read || id == nr_recvfrom)
		return on_read_enter(fd, arg, READ_BUF);
	if (id == nr_readv)
		return on_read_enter(fd, arg, READ_IOV);
	if (id == nr_recvmsg)
		return on_read_enter(fd, arg, READ_MSG);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(trace_sys_exit, struct pt_regs *regs, long ret)
{
	/* on_read_exit() does the rest only when the enter stashed a read. */
	if (!tgid_watched(bpf_get_current_task_btf()->tgid))
		return 0;
	return on_read_exit(ret);
}

SEC("tp/syscalls/sys_enter_read")
int trace_read_enter(struct trace_event_raw_sys_enter *ctx)
{
	return on_read_enter((__s32)ctx->args[0], ctx->args[1], READ_BUF);
}

SEC("tp/syscalls/sys_enter_recvfrom")
int trace_recvfrom_enter(struct trace_event_raw_sys_enter *ctx)
{
	return on_read_enter((__s32)ctx->args[0], ctx->args[1], READ_BUF);
}

SEC("tp/syscalls/sys_enter_readv")
int trace_readv_enter(struct trace_event_raw_sys_enter *ctx)
{
	return on_read_enter((__s32)ctx->args[0], ctx->args[1], READ_IOV);
}

SEC("tp/syscalls/sys_enter_recvmsg")
int trace_recvmsg_enter(struct trace_event_raw_sys_enter *ctx)
{
	return on_read_enter((__s32)ctx->args[0], ctx->args[1], READ_MSG);
}

SEC("tp/syscalls/sys_exit_read")
int trace_read_exit(struct trace_event_raw_sys_exit *ctx)
{
	return on_read_exit(ctx->ret);
}

SEC("tp/syscalls/sys_exit_recvfrom")
int trace_recvfrom_exit(struct trace_event_raw_sys_exit *ctx)
{
	return on_read_exit(ctx->ret);
}

SEC("tp/syscalls/sys_exit_readv")
int trace_readv_exit(struct trace_event_raw_sys_exit *ctx)
{
	return on_read_exit(ctx->ret);
}

SEC("tp/syscalls/sys_exit_recvmsg")
int trace_recvmsg_exit(struct trace_event_raw_sys_exit *ctx)
{
	return on_read_exit(ctx->ret);
}

SEC("tp/syscalls/sys_enter_write")
int trace_write(struct trace_event_raw_sys_enter *ctx)
{
	return on_write((__s32)ctx->args[0]);
}

SEC("tp/syscalls/sys_enter_writev")
int trace_writev(struct trace_event_raw_sys_enter *ctx)
{
	return on_write((__s32)ctx->args[0]);
}

SEC("tp/syscalls/sys_enter_sendto")
int trace_sendto(struct trace_event_raw_sys_enter *ctx)
{
	return on_write((__s32)ctx->args[0]);
}

SEC("tp/syscalls/sys_enter_sendmsg")
int trace_sendmsg(struct trace_event_raw_sys_enter *ctx)
{
	return on_write((__s32)ctx->args[0]);
}
