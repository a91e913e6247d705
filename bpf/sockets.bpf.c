// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sockets: TCP faults of watched workloads — failed connects (refused, timed out,
 * unreachable), resets received and sent, other socket errors — plus per-workload counts of
 * retransmits and established connections, aggregated here and read by userspace.
 *
 * Many of these hooks fire in softirq or timer context, where `current` is whoever was
 * interrupted. So each socket's owner is recorded in process context — at connect()
 * (CLOSE -> SYN_SENT) and listen() (-> LISTEN) — and a passively opened connection inherits
 * the owner of the listener on its local port. Every later event looks the owner up by the
 * socket's address, never by current.
 *
 * Call paths (6.x): connect refused: tcp_rcv_synsent_state_process -> tcp_reset ->
 * tcp_done_with_error (sk_err = ECONNREFUSED) -> tcp_set_state(CLOSE); timed out:
 * tcp_retransmit_timer -> tcp_write_err -> tcp_done_with_error (ETIMEDOUT); unreachable:
 * tcp_v4_err (ICMP) -> tcp_done with sk_err = EHOSTUNREACH. In each the error is set before
 * the CLOSE transition, so SYN_SENT -> CLOSE with sk_err is the one place to classify.
 */
#include "maps.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define ECONNRESET 104
#define ENETUNREACH 101
#define ETIMEDOUT 110
#define ECONNREFUSED 111
#define EHOSTUNREACH 113

enum owner_flags {
	OWNER_ESTABLISHED = 1 << 0, /* counted in established, not yet in closed */
	OWNER_REPORTED = 1 << 1,    /* an error of this socket was already sent */
	OWNER_LISTENER = 1 << 2,
	OWNER_PASSIVE = 1 << 3, /* accepted, not connected */
};

struct owner {
	__u32 tgid;
	__u32 workload;
	__u64 cgroup_id;
	__u32 flags;
	__u16 lport; /* an accepted connection's listening port: unhashing at CLOSE zeroes it */
	__u16 hint;  /* its slot in owner_hints */
	__u32 tid;   /* the thread that connected, listened or accepted: its trace context */
	__u32 __pad1;
	char comm[VIGIL_COMM_LEN];
};

struct listen_key {
	__u32 netns;
	__u16 family;
	__u16 port;
};

/* struct sock * -> its owner, from connect/listen/accept until CLOSE. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct owner);
} sock_owner SEC(".maps");

/*
 * Owners of sockets that reached CLOSE a moment ago. The kernel closes before it aborts:
 * __tcp_close() (unread data) and tcp_disconnect() (SO_LINGER 0) set TCP_CLOSE and only then
 * call tcp_send_active_reset(), so the reset is attributed through this map. LRU: entries
 * are never needed for long, and the oldest go first.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct owner);
} closed_owner SEC(".maps");

/* (netns, family, local port) of a watched listener -> its owner. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct listen_key);
	__type(value, struct owner);
} listeners SEC(".maps");

#define HINT_BITS 10  /* owner_hints: 1024 slots, 4 KiB */
#define LISTEN_BITS 8 /* listen_hints: 256 slots, 1 KiB */

/*
 * The unwatched path's test. Nearly every TCP state change of the host is of a socket that no
 * watched process owns, and a hash lookup that misses still costs a hash computation and a
 * bucket walk. So the entries of sock_owner are counted in slots of a port of theirs, and
 * those of listeners in slots of their local port: a socket whose slots hold 0 has no entry,
 * and the program stops there. A count is raised before its entry is inserted and lowered
 * only after a delete that removed one, so it is never 0 while an entry of its slot exists.
 * A collision, or a count left raised (an entry overwritten rather than added), only costs
 * the lookup it would have saved.
 *
 * Ports rather than the socket's address, because the test must cost no more than the state
 * change already paid for: the ports are in the sock's first cache line, which the state
 * change has just touched, and ports concentrate (a service's connections share one), so
 * these small tables stay in cache. A table keyed by the socket's address was a cache miss at
 * nearly every test (about 16 ns, measured by bench/sockets). Global arrays (.bss), not array
 * maps: an element is one load from a constant address, without a lookup's bounds and NULL
 * tests.
 */
static __u32 owner_hints[1 << HINT_BITS];
static __u32 listen_hints[1 << LISTEN_BITS];

static __always_inline __u32 port_slot(__u16 port, __u32 bits)
{
	return (port * 0x9E3779B9U) >> (32 - bits);
}

/*
 * The port an owned socket is counted under, one that it keeps while it is owned: the remote
 * port of one the process connected (connect() names the owner before it picks the local
 * port) or of a listener (0: listen() names it before an autobind picks the port), the local
 * port of an accepted connection (its listener's).
 */
static __always_inline __u32 owner_slot(const struct sock *sk, __u32 flags)
{
	if (flags & OWNER_PASSIVE)
		return port_slot(sk->__sk_common.skc_num, HINT_BITS);
	return port_slot(sk->__sk_common.skc_dport, HINT_BITS);
}

/* May sk have an owner? False: certainly not. Either port's slot, as it is not known which. */
static __always_inline bool may_be_owned(const struct sock *sk)
{
	return owner_hints[port_slot(sk->__sk_common.skc_dport, HINT_BITS)] ||
	       owner_hints[port_slot(sk->__sk_common.skc_num, HINT_BITS)];
}

/* Insert sk -> o into sock_owner, its hint first (o->hint set). Returns 0 or -errno. */
static __always_inline int owner_put(const struct sock *sk, struct owner *o)
{
	__u64 key = (__u64)sk;
	int err;

	o->hint = owner_slot(sk, o->flags);
	__sync_fetch_and_add(&owner_hints[o->hint & ((1 << HINT_BITS) - 1)], 1);
	err = bpf_map_update_elem(&sock_owner, &key, o, BPF_ANY);
	if (err)
		__sync_fetch_and_add(&owner_hints[o->hint & ((1 << HINT_BITS) - 1)], -1);
	return err;
}

/* sk's owner, or NULL: the hints first, the hash only when it may hold sk. */
static __always_inline struct owner *owner_of(const struct sock *sk)
{
	__u64 key = (__u64)sk;

	if (!may_be_owned(sk))
		return NULL;
	return bpf_map_lookup_elem(&sock_owner, &key);
}

/* A listener's slot in listen_hints: its local port's. */
static __always_inline __u32 *listen_hint(__u16 port)
{
	return &listen_hints[port_slot(port, LISTEN_BITS)];
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VIGIL_MAX_WORKLOADS + 1);
	__type(key, __u32);
	__type(value, struct vigil_sock_counts);
} sock_counts SEC(".maps");

/* Per workload: its retransmits, and the count that wakes userspace (events.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, VIGIL_MAX_WORKLOADS + 1);
	__type(key, __u32);
	__type(value, struct vigil_retrans_alarm);
} retrans_alarm SEC(".maps");

/* (workload, listening port) -> inbound connections established and closed. A plain hash
 * with atomic adds: a passive open is rare next to a syscall, and userspace reads it only
 * while a heal waits for quiet. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct vigil_inbound_key);
	__type(value, struct vigil_inbound);
} inbound SEC(".maps");

/* Count an accepted connection of o entering (+1 established) or leaving ESTABLISHED. */
static __always_inline void inbound_count(const struct owner *o, bool opened)
{
	struct vigil_inbound_key k = {.workload = o->workload, .port = o->lport};
	struct vigil_inbound *v = bpf_map_lookup_elem(&inbound, &k), zero = {};

	if (!v) {
		if (!opened)
			return;
		bpf_map_update_elem(&inbound, &k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&inbound, &k);
		if (!v) {
			stat_inc(&stats, VIGIL_STAT_OWNER_FULL);
			return;
		}
	}
	if (opened)
		__sync_fetch_and_add(&v->established, 1);
	else
		__sync_fetch_and_add(&v->closed, 1);
}

static __always_inline struct vigil_sock_counts *counts(__u32 workload)
{
	return bpf_map_lookup_elem(&sock_counts, &workload);
}

/* Direct loads (tp_btf gives sk with its BTF type): no helper call. */
static __always_inline struct listen_key listen_key_of(const struct sock *sk)
{
	struct listen_key k = {
	    .netns = sk->__sk_common.skc_net.net->ns.inum,
	    .family = sk->__sk_common.skc_family,
	    .port = sk->__sk_common.skc_num,
	};

	return k;
}

/*
 * Record current (a watched process, in process context) as the owner of sk. Every connect()
 * and listen() of the host comes here, so current's bit in watched_bits (an array lookup the
 * verifier inlines) is tested first, on its tgid read from the task: no hash lookup of
 * `watched`, no cgroup or comm read and no sock field for a process that is not watched.
 */
static __always_inline void own(const struct sock *sk, __u32 flags)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 tgid = task->tgid;
	struct vigil_watch *w;
	struct owner o = {};

	if (!tgid_watched(tgid) || sk->sk_protocol != IPPROTO_TCP)
		return;
	w = bpf_map_lookup_elem(&watched, &tgid);
	if (!w)
		return;
	o.tgid = tgid;
	o.tid = task->pid;
	o.workload = w->workload;
	o.cgroup_id = bpf_get_current_cgroup_id();
	o.flags = flags;
	bpf_probe_read_kernel(o.comm, sizeof(o.comm), BPF_CORE_READ(task, group_leader, comm));
	if (owner_put(sk, &o))
		stat_inc(&stats, VIGIL_STAT_OWNER_FULL);
	if (flags & OWNER_LISTENER) {
		struct listen_key lk = listen_key_of(sk);

		__sync_fetch_and_add(listen_hint(lk.port), 1);
		if (bpf_map_update_elem(&listeners, &lk, &o, BPF_ANY))
			__sync_fetch_and_add(listen_hint(lk.port), -1);
	}
}

/* Send one socket record about sk on behalf of its owner o. */
static __always_inline void report(const struct sock *sk, struct owner *o, __u32 what, int err)
{
	struct vigil_sock *e;
	__u16 family;

	if (o->flags & OWNER_REPORTED)
		return;
	o->flags |= OWNER_REPORTED;
	e = reserve(sizeof(*e), o->workload);
	if (!e)
		return;
	__builtin_memset(e, 0, sizeof(*e));
	e->hdr.kind = VIGIL_EV_SOCK;
	e->hdr.version = VIGIL_ABI_VERSION;
	e->hdr.size = sizeof(*e);
	e->hdr.ts_ns = bpf_ktime_get_ns();
	e->hdr.tgid = o->tgid;
	e->hdr.pid = o->tid ?: o->tgid;
	e->hdr.cgroup_id = o->cgroup_id;
	e->hdr.workload = o->workload;
	e->hdr.flags = VIGIL_F_WATCHED | (o->flags & OWNER_PASSIVE ? VIGIL_F_PASSIVE : 0);
	__builtin_memcpy(e->hdr.comm, o->comm, sizeof(e->hdr.comm));
	e->what = what;
	e->err = err;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->family = family;
	e->lport = BPF_CORE_READ(sk, __sk_common.skc_num) ?: o->lport;
	e->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	e->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	if (family == AF_INET) {
		bpf_core_read(e->laddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(e->raddr, 4, &sk->__sk_common.skc_daddr);
	} else {
		bpf_core_read(e->laddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(e->raddr, 16, &sk->__sk_common.skc_v6_daddr);
	}
	submit(e, true);
}

/* A connect that ended before ESTABLISHED: which kind of failure. */
static __always_inline __u32 connect_failure(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return VIGIL_SOCK_REFUSED;
	case ETIMEDOUT:
		return VIGIL_SOCK_TIMEOUT;
	case EHOSTUNREACH:
	case ENETUNREACH:
		return VIGIL_SOCK_UNREACH;
	default:
		return VIGIL_SOCK_CONNECT_ERR;
	}
}

static __always_inline void on_close(const struct sock *sk, struct owner *o, int oldstate)
{
	int err = BPF_CORE_READ(sk, sk_err);
	__u64 key = (__u64)sk;
	__u32 hint;

	/* err 0: the application closed it (an abandoned non-blocking connect, a normal
	 * close): not a fault. */
	if (err) {
		if (oldstate == TCP_SYN_SENT)
			report(sk, o, connect_failure(err), err);
		else
			report(sk, o, VIGIL_SOCK_ERROR, err);
	}
	if (o->flags & OWNER_LISTENER) {
		struct listen_key lk = listen_key_of(sk);

		if (!bpf_map_delete_elem(&listeners, &lk))
			__sync_fetch_and_add(listen_hint(lk.port), -1);
	}
	bpf_map_update_elem(&closed_owner, &key, o, BPF_ANY);
	/* o is the entry: its slot is read before the delete frees it. */
	hint = o->hint & ((1 << HINT_BITS) - 1);
	if (!bpf_map_delete_elem(&sock_owner, &key))
		__sync_fetch_and_add(&owner_hints[hint], -1);
}

/* Softirq: a passive open (sk) inherits the owner of the listener on its port. */
static __always_inline struct owner *adopt(const struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct listen_key lk;
	struct owner child;
	struct owner *l;

	if (!*listen_hint(sk->__sk_common.skc_num) || sk->sk_protocol != IPPROTO_TCP)
		return NULL;
	lk = listen_key_of(sk);
	l = bpf_map_lookup_elem(&listeners, &lk);
	if (!l)
		return NULL;
	child = *l;
	child.flags = OWNER_PASSIVE;
	child.lport = lk.port;
	/* Which thread will serve it is not known yet: its errors take the process's trace
	 * contexts, not the listening thread's. */
	child.tid = 0;
	if (owner_put(sk, &child)) {
		stat_inc(&stats, VIGIL_STAT_OWNER_FULL);
		return NULL;
	}
	return bpf_map_lookup_elem(&sock_owner, &key);
}

/*
 * The rest of sock_state: a connect() or listen(), a socket that may be owned, or a passive
 * open on the port of a watched listener.
 */
static __noinline int state_changed(const struct sock *sk, int oldstate, int newstate)
{
	struct vigil_sock_counts *c;
	struct owner *o;

	/* Process context: connect() and listen() name the owner; own() tests current's
	 * watched bit before anything else. */
	if (newstate == TCP_SYN_SENT || newstate == TCP_LISTEN) {
		own(sk, newstate == TCP_LISTEN ? OWNER_LISTENER : 0);
		return 0;
	}
	o = owner_of(sk);
	if (!o && oldstate == TCP_SYN_RECV && newstate == TCP_ESTABLISHED)
		o = adopt(sk);
	/* Only TCP sockets are ever owned (own() and adopt() test it); tested again all the
	 * same, as before anything else, at the cost of a cache line of the sock. */
	if (!o || sk->sk_protocol != IPPROTO_TCP)
		return 0;
	c = counts(o->workload);
	if (newstate == TCP_ESTABLISHED && !(o->flags & OWNER_ESTABLISHED)) {
		o->flags |= OWNER_ESTABLISHED;
		if (c)
			c->established++;
		if (o->flags & OWNER_PASSIVE)
			inbound_count(o, true);
	} else if (oldstate == TCP_ESTABLISHED && (o->flags & OWNER_ESTABLISHED)) {
		o->flags &= ~OWNER_ESTABLISHED;
		if (c)
			c->closed++;
		if (o->flags & OWNER_PASSIVE)
			inbound_count(o, false);
	}
	if (newstate == TCP_CLOSE) {
		/* ESTABLISHED -> CLOSE directly (a reset) already counted closed above. */
		on_close(sk, o, oldstate);
	}
	return 0;
}

/*
 * Every TCP state change of the host: about ten a connection, nearly all of sockets that no
 * watched process owns. For those, this is all that runs: the states (arguments), the hints
 * of the socket's ports (in the cache line the state change touched) and, for a passive
 * open, the hint of its listener's port. It is kept to a few instructions on caller-saved
 * registers and no stack, so that it is one or two cache lines of code with no registers to
 * save: the code it runs counts as much as the data it reads, since the kernel's own work
 * between two state changes evicts both. Anything else goes on in state_changed().
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(sock_state, const struct sock *sk, const int oldstate, const int newstate)
{
	if (newstate != TCP_SYN_SENT && newstate != TCP_LISTEN && !may_be_owned(sk) &&
	    (newstate != TCP_ESTABLISHED || oldstate != TCP_SYN_RECV ||
	     !*listen_hint(sk->__sk_common.skc_num)))
		return 0;
	return state_changed(sk, oldstate, newstate);
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(sock_rst_rcvd, struct sock *sk)
{
	struct owner *o = owner_of(sk);
	struct vigil_sock_counts *c;

	if (!o)
		return 0;
	/* A reset answering our SYN is a refused connect, classified at CLOSE. */
	if (BPF_CORE_READ(sk, __sk_common.skc_state) == TCP_SYN_SENT)
		return 0;
	c = counts(o->workload);
	if (c)
		c->resets_rcvd++;
	report(sk, o, VIGIL_SOCK_RESET_RCVD, ECONNRESET);
	return 0;
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(sock_rst_sent, const struct sock *sk, const struct sk_buff *skb)
{
	__u64 key = (__u64)sk;
	struct owner *o;

	/* No socket: the kernel answering for a closed port — nobody's fault of ours. */
	if (!sk)
		return 0;
	o = owner_of(sk);
	if (!o)
		o = bpf_map_lookup_elem(&closed_owner, &key); /* an abort after the close */
	if (o)
		report(sk, o, VIGIL_SOCK_RESET_SENT, 0);
	return 0;
}

SEC("tp_btf/inet_sk_error_report")
int BPF_PROG(sock_error, const struct sock *sk)
{
	struct owner *o;
	int err;

	/* A second report with error 0 follows a refused connect: ignore it. */
	err = BPF_CORE_READ(sk, sk_err);
	if (!err)
		return 0;
	/* Errors that end the connection were reported at CLOSE (the owner is gone by now);
	 * this catches the ones on a socket that lives on. */
	o = owner_of(sk);
	if (o && BPF_CORE_READ(sk, __sk_common.skc_state) != TCP_SYN_SENT)
		report(sk, o, VIGIL_SOCK_ERROR, err);
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(sock_retransmit, const struct sock *sk)
{
	struct owner *o = owner_of(sk);
	struct vigil_sock_counts *c;
	struct vigil_retrans_alarm *a;
	struct vigil_retrans *e;
	__u32 workload;
	__u64 n;

	if (!o)
		return 0;
	workload = o->workload;
	/* Counted; sent only when the count reaches the alarm userspace armed. */
	c = counts(workload);
	if (c)
		c->retransmits++;
	a = bpf_map_lookup_elem(&retrans_alarm, &workload);
	if (!a)
		return 0;
	if (!*(volatile __u64 *)&a->first_ns)
		__sync_val_compare_and_swap(&a->first_ns, 0, bpf_ktime_get_ns());
	n = __sync_fetch_and_add(&a->count, 1) + 1;
	if (n != *(volatile __u64 *)&a->at)
		return 0;
	e = reserve(sizeof(*e), workload);
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->hdr.kind = VIGIL_EV_RETRANS;
	e->hdr.version = VIGIL_ABI_VERSION;
	e->hdr.size = sizeof(*e);
	e->hdr.ts_ns = bpf_ktime_get_ns();
	e->hdr.tgid = o->tgid;
	e->hdr.pid = o->tgid;
	e->hdr.cgroup_id = o->cgroup_id;
	e->hdr.workload = workload;
	e->hdr.flags = VIGIL_F_WATCHED;
	__builtin_memcpy(e->hdr.comm, o->comm, sizeof(e->hdr.comm));
	e->count = n;
	submit(e, true);
	return 0;
}
