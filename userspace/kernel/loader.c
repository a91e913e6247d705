// SPDX-License-Identifier: Apache-2.0
/*
 * loader: the exits skeleton, with a runtime choice of program family.
 *
 * tp_btf programs get typed tracepoint arguments and need neither tracefs nor bpffs; classic
 * tracepoints are the fallback for kernels without tp_btf (or where it is refused), and
 * attach through perf events, which needs tracefs for the tracepoint ids.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "kernel/loader.h" /* first: the skeletons use the event ABI's types */
#include "kernel/syscalls.h"

#include "exits.skel.h"
#include "latency.skel.h"
#include "sockets.skel.h"
#include "trace.skel.h"

/* retrans_alarm, mmap'd: its entries rounded up to whole pages, as the kernel maps them. */
#define RETRANS_MAP_BYTES                                                                          \
	((((VIGIL_MAX_WORKLOADS + 1) * sizeof(struct vigil_retrans_alarm)) + 4095) & ~4095ul)

/* What this kernel's tracepoints offer, from its BTF (parsed once per vigil_probes_open:
 * it is megabytes). */
struct kernel_features {
	bool group_dead; /* sched_process_exit has (task, group_dead): 6.16+ */
	bool hang;	 /* sched_process_hang exists: CONFIG_DETECT_HUNG_TASK */
	bool oom_sizes;	 /* the classic oom/mark_victim event has total_vm and rss: 6.8+ */
	bool sk_error;	 /* inet_sk_error_report exists: 5.14+ */
};

struct vigil_probes {
	struct kernel_features feat;
	struct exits_bpf *exits;
	struct sockets_bpf *sockets;
	struct latency_bpf *latency;
	struct trace_bpf *trace;
	const char *mode;
	uint64_t *watched_bits;		     /* mmap of the map of the same name */
	struct vigil_retrans_alarm *retrans; /* mmap of retrans_alarm (sockets family) */
	char errors[VIGIL_FAM_MAX][256];     /* why a requested family is not attached */
};

const char *vigil_family_name(enum vigil_family f)
{
	static const char *const names[] = {"exits", "sockets", "latency", "trace"};

	return (unsigned int)f < VIGIL_FAM_MAX ? names[f] : "?";
}

/* The bpf_object of family f, or NULL when it is not loaded. */
static struct bpf_object *family_obj(const struct vigil_probes *p, enum vigil_family f)
{
	switch (f) {
	case VIGIL_FAM_EXITS:
		return p->exits ? p->exits->obj : NULL;
	case VIGIL_FAM_SOCKETS:
		return p->sockets ? p->sockets->obj : NULL;
	case VIGIL_FAM_LATENCY:
		return p->latency ? p->latency->obj : NULL;
	case VIGIL_FAM_TRACE:
		return p->trace ? p->trace->obj : NULL;
	default:
		return NULL;
	}
}

/* Has struct @name of @btf a member @member? */
static bool btf_has_member(const struct btf *btf, const char *name, const char *member)
{
	int id = btf__find_by_name_kind(btf, name, BTF_KIND_STRUCT);
	const struct btf_type *t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	const struct btf_member *m = t ? btf_members(t) : NULL;

	for (int i = 0; t && i < btf_vlen(t); i++)
		if (!strcmp(btf__name_by_offset(btf, m[i].name_off), member))
			return true;
	return false;
}

static struct kernel_features kernel_features(void)
{
	struct kernel_features f = {};
	const struct btf_type *t;
	struct btf *btf;
	int id;

	btf = btf__load_vmlinux_btf();
	if (!btf)
		return f;
	/* typedef void (*btf_trace_sched_process_exit)(void *, struct task_struct *, bool); */
	id = btf__find_by_name_kind(btf, "btf_trace_sched_process_exit", BTF_KIND_TYPEDEF);
	if (id > 0) {
		t = btf__type_by_id(btf, id);
		t = btf__type_by_id(btf, t->type); /* pointer */
		if (t && btf_is_ptr(t))
			t = btf__type_by_id(btf, t->type);
		f.group_dead = t && btf_is_func_proto(t) && btf_vlen(t) == 3;
	}
	f.hang = btf__find_by_name_kind(btf, "btf_trace_sched_process_hang", BTF_KIND_TYPEDEF) > 0;
	f.oom_sizes = btf_has_member(btf, "trace_event_raw_mark_victim", "total_vm");
	f.sk_error =
	    btf__find_by_name_kind(btf, "btf_trace_inet_sk_error_report", BTF_KIND_TYPEDEF) > 0;
	btf__free(btf);
	return f;
}

bool vigil_kernel_exit_has_group_dead(void)
{
	return kernel_features().group_dead;
}

bool vigil_kernel_has_hang_tracepoint(void)
{
	return kernel_features().hang;
}

bool vigil_kernel_oom_tp_has_sizes(void)
{
	return kernel_features().oom_sizes;
}

bool vigil_kernel_has_sk_error_report(void)
{
	return kernel_features().sk_error;
}

int vigil_ensure_tracefs(void)
{
	struct stat st;

	if (!stat("/sys/kernel/tracing/events", &st) ||
	    !stat("/sys/kernel/debug/tracing/events", &st))
		return 0;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) && errno != EBUSY)
		return -errno;
	return 0;
}

/* Pick which programs load: one exit program, and the tp_btf or the classic twins. */
static void choose_programs(struct exits_bpf *s, bool btf, const struct kernel_features *feat)
{
	struct kernel_features f = btf ? *feat : (struct kernel_features){};
	bool gd = f.group_dead;

	bpf_program__set_autoload(s->progs.exit_btf, gd);
	bpf_program__set_autoload(s->progs.exit_btf_live, btf && !gd);
	bpf_program__set_autoload(s->progs.exec_btf, btf);
	bpf_program__set_autoload(s->progs.fork_btf, btf);
	bpf_program__set_autoload(s->progs.signal_btf, btf);
	bpf_program__set_autoload(s->progs.oom_btf, btf);
	bpf_program__set_autoload(s->progs.hang_btf, f.hang);
	bpf_program__set_autoload(s->progs.exit_tp, !btf);
	bpf_program__set_autoload(s->progs.exec_tp, !btf);
	bpf_program__set_autoload(s->progs.signal_tp, !btf);
	bpf_program__set_autoload(s->progs.oom_tp, !btf);
}

/*
 * The layout the kernel object was compiled with must be the one this binary uses: both are
 * built from include/vigil/events.h, and this catches a stale object all the same.
 */
static int check_abi(struct bpf_object *obj, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		size_t size;
	} types[] = {
	    {"vigil_event_hdr", sizeof(struct vigil_event_hdr)},
	    {"vigil_exit", sizeof(struct vigil_exit)},
	    {"vigil_oom", sizeof(struct vigil_oom)},
	    {"vigil_exec", sizeof(struct vigil_exec)},
	    {"vigil_sock", sizeof(struct vigil_sock)},
	    {"vigil_slow", sizeof(struct vigil_slow)},
	    {"vigil_hang", sizeof(struct vigil_hang)},
	    {"vigil_sock_counts", sizeof(struct vigil_sock_counts)},
	    {"vigil_inbound_key", sizeof(struct vigil_inbound_key)},
	    {"vigil_inbound", sizeof(struct vigil_inbound)},
	    {"vigil_lat_hist", sizeof(struct vigil_lat_hist)},
	    {"vigil_lat_cfg", sizeof(struct vigil_lat_cfg)},
	    {"vigil_trace_ctx", sizeof(struct vigil_trace_ctx)},
	    {"vigil_trace_thread", sizeof(struct vigil_trace_thread)},
	    {"vigil_trace_ring", sizeof(struct vigil_trace_ring)},
	    {"vigil_trace_cfg", sizeof(struct vigil_trace_cfg)},
	};
	struct btf *btf = bpf_object__btf(obj);
	size_t i;

	for (i = 0; btf && i < sizeof(types) / sizeof(types[0]); i++) {
		int id = btf__find_by_name_kind(btf, types[i].name, BTF_KIND_STRUCT);

		if (id > 0 && (size_t)btf__resolve_size(btf, id) != types[i].size) {
			snprintf(
			    err, errlen, "ABI mismatch: struct %s is %lld bytes in BPF, %zu here",
			    types[i].name, (long long)btf__resolve_size(btf, id), types[i].size);
			return -EPROTO;
		}
	}
	return 0;
}

/* One attempt with one program family. Returns 0 or -errno (err set). */
static int try_open(struct vigil_probes *p, const struct vigil_probe_opts *o, bool btf, char *err,
		    size_t errlen)
{
	struct exits_bpf *s;
	int ret;

	if (!btf) {
		ret = vigil_ensure_tracefs();
		if (ret) {
			snprintf(err, errlen, "tracefs is not mounted and mounting it failed: %s",
				 strerror(-ret));
			return ret;
		}
	}
	s = exits_bpf__open();
	if (!s) {
		ret = -errno;
		snprintf(err, errlen, "opening the exits BPF object: %s", strerror(-ret));
		return ret;
	}
	s->rodata->observe_all = o->observe_all;
	/* GCRA: one record every interval_ns, a second's worth at once. */
	s->rodata->unwatched_interval_ns =
	    1000000000ull / (o->unwatched_rate ? o->unwatched_rate : VIGIL_UNWATCHED_RATE_DEFAULT);
	s->rodata->inherit_at_exit = !btf;
	s->rodata->page_kib = (__u32)(sysconf(_SC_PAGESIZE) / 1024);
	choose_programs(s, btf, &p->feat);
	ret = bpf_map__set_max_entries(s->maps.events,
				       o->ringbuf_bytes ? o->ringbuf_bytes : VIGIL_RINGBUF_BYTES);
	if (!ret)
		ret = check_abi(s->obj, err, errlen);
	if (ret)
		goto fail;
	ret = exits_bpf__load(s);
	if (ret) {
		snprintf(err, errlen, "loading the exits programs (%s): %s",
			 btf ? "tp_btf" : "tracepoint", strerror(-ret));
		goto fail;
	}
	ret = exits_bpf__attach(s);
	if (ret) {
		snprintf(err, errlen, "attaching the exits programs (%s): %s",
			 btf ? "tp_btf" : "tracepoint", strerror(-ret));
		goto fail;
	}
	p->exits = s;
	p->mode = btf ? "tp_btf" : "tracepoint";
	return 0;
fail:
	exits_bpf__destroy(s);
	return ret;
}

/*
 * Load and attach an optional family (its skeleton is open), sharing the exits family's ring
 * buffer, watched set and drop counters, so that there is one ordered stream and one set.
 * Returns 0 or -errno with err set; the caller destroys the skeleton on failure.
 */
static int load_family(struct vigil_probes *p, struct bpf_object *obj,
		       struct bpf_object_skeleton *skel, const char *name, char *err, size_t errlen)
{
	static const char *const shared[] = {"events", "watched", "watched_bits", "workload_drops"};
	int ret = 0;

	for (size_t i = 0; !ret && i < sizeof(shared) / sizeof(shared[0]); i++) {
		struct bpf_map *mine = bpf_object__find_map_by_name(obj, shared[i]);
		struct bpf_map *theirs = bpf_object__find_map_by_name(p->exits->obj, shared[i]);

		ret = mine && theirs ? bpf_map__reuse_fd(mine, bpf_map__fd(theirs)) : -ENOENT;
		if (ret)
			snprintf(err, errlen, "sharing map %s with the %s programs: %s", shared[i],
				 name, strerror(-ret));
	}
	if (!ret)
		ret = check_abi(obj, err, errlen);
	if (!ret && (ret = bpf_object__load_skeleton(skel)))
		snprintf(err, errlen, "loading the %s programs: %s", name, strerror(-ret));
	if (!ret && (ret = bpf_object__attach_skeleton(skel)))
		snprintf(err, errlen, "attaching the %s programs: %s", name, strerror(-ret));
	return ret;
}

static int open_sockets(struct vigil_probes *p, char *err, size_t errlen)
{
	struct sockets_bpf *s = sockets_bpf__open();
	int ret;

	if (!s)
		return -errno;
	/* Before 5.14 there is no inet_sk_error_report: the rest of the family still runs. */
	bpf_program__set_autoload(s->progs.sock_error, p->feat.sk_error);
	ret = load_family(p, s->obj, s->skeleton, "sockets", err, errlen);
	if (ret)
		sockets_bpf__destroy(s);
	else
		p->sockets = s;
	return ret;
}

static int open_latency(struct vigil_probes *p, char *err, size_t errlen)
{
	struct latency_bpf *s = latency_bpf__open();
	int ret;

	if (!s)
		return -errno;
	ret = load_family(p, s->obj, s->skeleton, "latency", err, errlen);
	if (ret)
		latency_bpf__destroy(s);
	else
		p->latency = s;
	return ret;
}

/* One attempt at the trace family with one hook shape for trace.http (raw: the tp_btf pair;
 * else the per-syscall classic tracepoints, which attach through tracefs), and the exec
 * program for trace.env. Returns 0 or -errno with err set. */
static int try_trace(struct vigil_probes *p, const struct vigil_probe_opts *o, bool raw, char *err,
		     size_t errlen)
{
	struct bpf_program *prog;
	struct trace_bpf *s;
	int ret = o->trace && !raw ? vigil_ensure_tracefs() : 0;

	if (ret) {
		snprintf(err, errlen, "tracefs is not mounted and mounting it failed: %s",
			 strerror(-ret));
		return ret;
	}
	s = trace_bpf__open();
	if (!s)
		return -errno;
	bpf_object__for_each_program(prog, s->obj)
	{
		bpf_program__set_autoload(prog, o->trace && !raw);
	}
	bpf_program__set_autoload(s->progs.trace_sys_enter, o->trace && raw);
	bpf_program__set_autoload(s->progs.trace_sys_exit, o->trace && raw);
	bpf_program__set_autoload(s->progs.trace_exec, o->trace_env);
	s->rodata->nr_read = vigil_syscall_nr("read");
	s->rodata->nr_readv = vigil_syscall_nr("readv");
	s->rodata->nr_recvfrom = vigil_syscall_nr("recvfrom");
	s->rodata->nr_recvmsg = vigil_syscall_nr("recvmsg");
	s->rodata->nr_write = vigil_syscall_nr("write");
	s->rodata->nr_writev = vigil_syscall_nr("writev");
	s->rodata->nr_sendto = vigil_syscall_nr("sendto");
	s->rodata->nr_sendmsg = vigil_syscall_nr("sendmsg");
	ret = load_family(p, s->obj, s->skeleton, "trace", err, errlen);
	if (ret)
		trace_bpf__destroy(s);
	else
		p->trace = s;
	return ret;
}

/* The trace family: the raw pair unless classic tracepoints were asked for (or the raw pair
 * is refused), each only when some workload asks. */
static int open_trace(struct vigil_probes *p, const struct vigil_probe_opts *o, char *err,
		      size_t errlen)
{
	if (!o->force_classic && !try_trace(p, o, true, err, errlen))
		return 0;
	return try_trace(p, o, false, err, errlen);
}

int vigil_probes_open(const struct vigil_probe_opts *opts, struct vigil_probes **out, char *err,
		      size_t errlen)
{
	char first[256] = "";
	struct vigil_probes *p;
	int ret = -EOPNOTSUPP;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->feat = kernel_features();
	if (!opts->force_classic) {
		ret = try_open(p, opts, true, first, sizeof(first));
		if (!ret)
			goto others;
	}
	ret = try_open(p, opts, false, err, errlen);
	if (ret) {
		if (first[0]) {
			char second[256];

			snprintf(second, sizeof(second), "%s", err);
			snprintf(err, errlen, "%s; fallback: %s", first, second);
		}
		free(p);
		return ret;
	}
others:
	p->watched_bits = mmap(NULL, VIGIL_PID_WORDS * sizeof(uint64_t), PROT_READ | PROT_WRITE,
			       MAP_SHARED, bpf_map__fd(p->exits->maps.watched_bits), 0);
	if (p->watched_bits == MAP_FAILED) {
		ret = -errno;
		snprintf(err, errlen, "mapping watched_bits: %s", strerror(-ret));
		p->watched_bits = NULL;
		vigil_probes_close(p);
		return ret;
	}
	/* Optional families: vigil runs without them, and says why. */
	if (opts->sockets && open_sockets(p, p->errors[VIGIL_FAM_SOCKETS], 256) &&
	    !p->errors[VIGIL_FAM_SOCKETS][0])
		snprintf(p->errors[VIGIL_FAM_SOCKETS], 256, "opening the sockets object failed");
	if (p->sockets) {
		p->retrans = mmap(NULL, RETRANS_MAP_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED,
				  bpf_map__fd(p->sockets->maps.retrans_alarm), 0);
		if (p->retrans == MAP_FAILED) {
			/* The class still works, at the sampler's pace. */
			fprintf(stderr,
				"vigil: mapping retrans_alarm: %s: retransmits sampled only\n",
				strerror(errno));
			p->retrans = NULL;
		}
	}
	if (opts->latency && open_latency(p, p->errors[VIGIL_FAM_LATENCY], 256) &&
	    !p->errors[VIGIL_FAM_LATENCY][0])
		snprintf(p->errors[VIGIL_FAM_LATENCY], 256, "opening the latency object failed");
	if ((opts->trace || opts->trace_env) &&
	    open_trace(p, opts, p->errors[VIGIL_FAM_TRACE], 256) && !p->errors[VIGIL_FAM_TRACE][0])
		snprintf(p->errors[VIGIL_FAM_TRACE], 256, "opening the trace object failed");
	*out = p;
	return 0;
}

void vigil_probes_close(struct vigil_probes *p)
{
	if (!p)
		return;
	if (p->watched_bits)
		munmap(p->watched_bits, VIGIL_PID_WORDS * sizeof(uint64_t));
	if (p->retrans)
		munmap(p->retrans, RETRANS_MAP_BYTES);
	trace_bpf__destroy(p->trace);
	latency_bpf__destroy(p->latency);
	sockets_bpf__destroy(p->sockets);
	exits_bpf__destroy(p->exits);
	free(p);
}

const char *vigil_probes_mode(const struct vigil_probes *p)
{
	return p->mode;
}

bool vigil_probes_has(const struct vigil_probes *p, enum vigil_family f)
{
	return family_obj(p, f) != NULL;
}

const char *vigil_probes_error(const struct vigil_probes *p, enum vigil_family f)
{
	return (unsigned int)f < VIGIL_FAM_MAX && p->errors[f][0] ? p->errors[f] : NULL;
}

unsigned int vigil_probes_attached(const struct vigil_probes *p, enum vigil_family f, char *buf,
				   size_t len)
{
	unsigned int n = 0;
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	for (enum vigil_family i = 0; i < VIGIL_FAM_MAX; i++) {
		struct bpf_object *obj = family_obj(p, i);
		struct bpf_program *prog;

		if (!obj || (f != VIGIL_FAM_MAX && f != i))
			continue;
		bpf_object__for_each_program(prog, obj)
		{
			int w;

			if (!bpf_program__autoload(prog))
				continue;
			n++;
			if (off >= len)
				continue;
			w = snprintf(buf + off, len - off, "%s%s", off ? "," : "",
				     bpf_program__name(prog));
			off += w > 0 ? (size_t)w : 0;
		}
	}
	return n;
}

int vigil_probes_ringbuf_fd(const struct vigil_probes *p)
{
	return bpf_map__fd(p->exits->maps.events);
}

int vigil_probes_ringbuf_fill(const struct vigil_probes *p, uint64_t *used, uint64_t *size)
{
	int fd = bpf_map__fd(p->exits->maps.events);
	long page = sysconf(_SC_PAGESIZE);
	uint64_t cons, prod;
	void *m;

	/* The ring buffer's first page holds the consumer's position, the second the
	 * producer's: both may be mapped read-only, and are read without a system call. */
	m = mmap(NULL, 2 * (size_t)page, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	cons = __atomic_load_n((const unsigned long *)m, __ATOMIC_ACQUIRE);
	prod = __atomic_load_n((const unsigned long *)((const char *)m + page), __ATOMIC_ACQUIRE);
	munmap(m, 2 * (size_t)page);
	*size = bpf_map__max_entries(p->exits->maps.events);
	*used = prod >= cons ? prod - cons : 0;
	return 0;
}

int vigil_probes_watched(const struct vigil_probes *p, uint32_t tgid, uint32_t *workload)
{
	struct vigil_watch w;

	if (bpf_map_lookup_elem(bpf_map__fd(p->exits->maps.watched), &tgid, &w))
		return -errno;
	*workload = w.workload;
	return 0;
}

/*
 * The watched hash, read in batches (BPF_MAP_LOOKUP_BATCH walks it bucket by bucket, so an
 * entry deleted or added meanwhile neither restarts the walk nor repeats an entry, as
 * get_next_key from a deleted key would).
 */
int vigil_probes_watched_pids(const struct vigil_probes *p, uint32_t workload, pid_t *out,
			      size_t max)
{
	enum { BATCH = 1024 };
	int fd = bpf_map__fd(p->exits->maps.watched), total = 0, err = 0;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct vigil_watch *vals;
	__u32 *keys, token = 0;
	bool first = true;

	keys = calloc(BATCH, sizeof(*keys));
	vals = calloc(BATCH, sizeof(*vals));
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	while (!err) {
		__u32 count = BATCH;

		err = bpf_map_lookup_batch(fd, first ? NULL : &token, &token, keys, vals, &count,
					   &opts);
		err = err ? -errno : 0;
		first = false;
		for (__u32 i = 0; i < count; i++) {
			if (vals[i].workload != workload)
				continue;
			if ((size_t)total < max)
				out[total] = (pid_t)keys[i];
			total++;
		}
	}
	if (err == -ENOENT) /* the end of the map */
		err = 0;
out:
	free(keys);
	free(vals);
	return err ? err : total;
}

/* Put a 4-byte workload value under key in map. */
static int put_key(struct bpf_map *map, const void *key, uint32_t workload)
{
	__u32 v = workload;

	return bpf_map_update_elem(bpf_map__fd(map), key, &v, BPF_ANY) ? -errno : 0;
}

int vigil_probes_match_comm(const struct vigil_probes *p, const char *comm, uint32_t workload)
{
	return put_key(p->exits->maps.match_comm, comm, workload);
}

int vigil_probes_match_exe(const struct vigil_probes *p, const struct vigil_exe_key *key,
			   uint32_t workload)
{
	return put_key(p->exits->maps.match_exe, key, workload);
}

int vigil_probes_match_cgroup(const struct vigil_probes *p, uint64_t cgroup_id, uint32_t workload)
{
	__u64 id = cgroup_id;

	return put_key(p->exits->maps.match_cgroup, &id, workload);
}

int vigil_probes_watch(const struct vigil_probes *p, uint32_t tgid, uint32_t workload)
{
	struct vigil_watch v = {.workload = workload, .flags = VIGIL_F_WATCHED};

	if (tgid >= VIGIL_PID_MAX)
		return -ERANGE;
	if (bpf_map_update_elem(bpf_map__fd(p->exits->maps.watched), &tgid, &v, BPF_ANY))
		return -errno;
	/* After the hash entry: a set bit always has its entry. */
	__atomic_fetch_or(&p->watched_bits[tgid / 64], 1ull << (tgid % 64), __ATOMIC_SEQ_CST);
	return 0;
}

/* Sum a per-CPU map's value at key over all CPUs into out (value_size bytes of __u64s).
 * Returns 0, -ENOENT, or -errno. */
static int percpu_sum(int fd, const void *key, void *out, size_t value_size)
{
	int ncpu = libbpf_num_possible_cpus();
	size_t words = value_size / sizeof(uint64_t);
	uint64_t *vals, *sum = out;

	if (ncpu < 0)
		return ncpu;
	/* Per-CPU values are laid out at 8-byte-rounded strides. */
	vals = calloc((size_t)ncpu, (value_size + 7) & ~7ul);
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, key, vals)) {
		int err = -errno;

		free(vals);
		return err;
	}
	memset(out, 0, value_size);
	for (int c = 0; c < ncpu; c++)
		for (size_t w = 0; w < words; w++)
			sum[w] += vals[c * (((value_size + 7) & ~7ul) / 8) + w];
	free(vals);
	return 0;
}

int vigil_probes_workload_drops(const struct vigil_probes *p, unsigned int workload,
				uint64_t *drops)
{
	__u32 key = workload;

	return percpu_sum(bpf_map__fd(p->exits->maps.workload_drops), &key, drops, sizeof(*drops));
}

int vigil_probes_sock_counts(const struct vigil_probes *p, unsigned int workload,
			     struct vigil_sock_counts *c)
{
	__u32 key = workload;

	if (!p->sockets)
		return -ENOENT;
	return percpu_sum(bpf_map__fd(p->sockets->maps.sock_counts), &key, c, sizeof(*c));
}

int vigil_probes_retrans(const struct vigil_probes *p, unsigned int workload, uint64_t *count)
{
	if (!p->retrans || workload > VIGIL_MAX_WORKLOADS)
		return -ENOENT;
	*count = __atomic_load_n(&p->retrans[workload].count, __ATOMIC_ACQUIRE);
	return 0;
}

int vigil_probes_retrans_arm(const struct vigil_probes *p, unsigned int workload, uint64_t at,
			     uint64_t *count)
{
	if (!p->retrans || workload > VIGIL_MAX_WORKLOADS)
		return -ENOENT;
	__atomic_store_n(&p->retrans[workload].at, at, __ATOMIC_SEQ_CST);
	*count = __atomic_load_n(&p->retrans[workload].count, __ATOMIC_SEQ_CST);
	return 0;
}

int vigil_probes_retrans_first(const struct vigil_probes *p, unsigned int workload, bool take,
			       uint64_t *first_ns)
{
	if (!p->retrans || workload > VIGIL_MAX_WORKLOADS)
		return -ENOENT;
	*first_ns = take ? __atomic_exchange_n(&p->retrans[workload].first_ns, 0, __ATOMIC_SEQ_CST)
			 : __atomic_load_n(&p->retrans[workload].first_ns, __ATOMIC_ACQUIRE);
	return 0;
}

/* Is port one of ports (n 0: every port is)? */
static bool port_in(uint16_t port, const uint16_t *ports, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (ports[i] == port)
			return true;
	return !n;
}

int vigil_probes_inbound(const struct vigil_probes *p, unsigned int workload, const uint16_t *ports,
			 unsigned int n, uint64_t *open)
{
	struct vigil_inbound_key k, next, *prev = NULL;
	struct vigil_inbound v;
	int fd;

	*open = 0;
	if (!p->sockets)
		return -ENOENT;
	fd = bpf_map__fd(p->sockets->maps.inbound);
	/* A walk of the keys: a few per listening port of each workload, at most 4096. */
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (k.workload != workload || !port_in(k.port, ports, n) ||
		    bpf_map_lookup_elem(fd, &k, &v))
			continue;
		if (v.established > v.closed)
			*open += v.established - v.closed;
	}
	return errno == ENOENT ? 0 : -errno;
}

int vigil_probes_set_latency(const struct vigil_probes *p, unsigned int workload,
			     const struct vigil_lat_cfg *lc)
{
	__u32 key = workload;

	if (!p->latency)
		return -ENOENT;
	if (bpf_map_update_elem(bpf_map__fd(p->latency->maps.lat_cfg), &key, lc, BPF_ANY))
		return -errno;
	return 0;
}

int vigil_probes_set_trace(const struct vigil_probes *p, unsigned int workload, uint32_t bytes,
			   bool env)
{
	struct vigil_trace_cfg c = {.bytes = bytes, .env = env};
	uint32_t key = workload;

	if (!p->trace)
		return -ENOENT;
	if (bpf_map_update_elem(bpf_map__fd(p->trace->maps.trace_cfg), &key, &c, BPF_ANY))
		return -errno;
	return 0;
}

/* One element of a map of the trace family: 0, -ENOENT (none, or no trace family), -errno. */
static int trace_get(const struct vigil_probes *p, struct bpf_map *m, const void *key, void *val)
{
	if (!p->trace)
		return -ENOENT;
	return bpf_map_lookup_elem(bpf_map__fd(m), key, val) ? -errno : 0;
}

int vigil_probes_trace_thread(const struct vigil_probes *p, uint32_t tid,
			      struct vigil_trace_thread *t)
{
	return trace_get(p, p->trace ? p->trace->maps.trace_threads : NULL, &tid, t);
}

int vigil_probes_trace_ring(const struct vigil_probes *p, uint32_t tgid, struct vigil_trace_ring *r)
{
	return trace_get(p, p->trace ? p->trace->maps.trace_procs : NULL, &tgid, r);
}

int vigil_probes_trace_env(const struct vigil_probes *p, uint32_t tgid, struct vigil_trace_ctx *c)
{
	return trace_get(p, p->trace ? p->trace->maps.trace_env : NULL, &tgid, c);
}

void vigil_probes_trace_forget(const struct vigil_probes *p, uint32_t tgid)
{
	if (!p->trace)
		return;
	bpf_map_delete_elem(bpf_map__fd(p->trace->maps.trace_procs), &tgid);
	bpf_map_delete_elem(bpf_map__fd(p->trace->maps.trace_env), &tgid);
}

int vigil_probes_lat_hist(const struct vigil_probes *p, unsigned int slot, struct vigil_lat_hist *h)
{
	__u32 key = slot;

	if (!p->latency)
		return -ENOENT;
	return percpu_sum(bpf_map__fd(p->latency->maps.lat_hist), &key, h, sizeof(*h));
}

int vigil_probes_stats(const struct vigil_probes *p, enum vigil_family f,
		       uint64_t out[VIGIL_STAT_MAX])
{
	struct bpf_object *obj = family_obj(p, f);
	struct bpf_map *map;
	int fd;

	memset(out, 0, VIGIL_STAT_MAX * sizeof(out[0]));
	if (!obj)
		return 0;
	map = bpf_object__find_map_by_name(obj, "stats");
	fd = map ? bpf_map__fd(map) : -1;
	if (fd < 0)
		return -ENOENT;
	for (__u32 k = 0; k < VIGIL_STAT_MAX; k++) {
		int ret = percpu_sum(fd, &k, &out[k], sizeof(out[k]));

		if (ret)
			return ret;
	}
	return 0;
}

void vigil_probes_status_json(const struct vigil_probes *p, struct vigil_json *j)
{
	char progs[512];

	vigil_json_array_begin(j, "probes");
	for (enum vigil_family fam = 0; fam < VIGIL_FAM_MAX; fam++) {
		uint64_t st[VIGIL_STAT_MAX];
		const char *why = vigil_probes_error(p, fam);

		if (!vigil_probes_has(p, fam) && !why)
			continue;
		vigil_probes_stats(p, fam, st);
		vigil_probes_attached(p, fam, progs, sizeof(progs));
		vigil_json_object_begin(j, NULL);
		vigil_json_str(j, "family", vigil_family_name(fam));
		vigil_json_str(j, "mode",
			       !vigil_probes_has(p, fam) ? "not attached"
			       : fam == VIGIL_FAM_EXITS	 ? vigil_probes_mode(p)
							 : "tp_btf");
		if (why)
			vigil_json_str(j, "error", why);
		vigil_json_str(j, "programs", progs);
		vigil_json_u64(j, "events", st[VIGIL_STAT_EVENTS]);
		vigil_json_u64(j, "drops", st[VIGIL_STAT_DROPS]);
		vigil_json_u64(j, "rate_limited", st[VIGIL_STAT_RATE_LIMITED]);
		vigil_json_u64(j, "no_owner", st[VIGIL_STAT_NO_OWNER]);
		vigil_json_u64(j, "clean_exits", st[VIGIL_STAT_CLEAN_EXITS]);
		vigil_json_u64(j, "map_full",
			       st[VIGIL_STAT_WATCH_FULL] + st[VIGIL_STAT_OWNER_FULL]);
		vigil_json_u64(j, "unwatched_limited", st[VIGIL_STAT_UNWATCHED_LIMITED]);
		vigil_json_u64(j, "unwatched_shed", st[VIGIL_STAT_UNWATCHED_SHED]);
		vigil_json_object_end(j);
	}
	vigil_json_array_end(j);
}
