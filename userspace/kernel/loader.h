/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loader: opens, loads and attaches the kernel programs, choosing at runtime between tp_btf
 * programs (preferred) and their classic-tracepoint twins. It owns their maps: the other
 * stages read and write them through the typed queries below, never through a map fd (the
 * ring buffer's fd alone goes to the collector, which drains it).
 */
#ifndef VIGIL_LOADER_H
#define VIGIL_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/json.h"
#include "vigil/events.h"

struct vigil_probes;

/* Probe families: one bpf/<family>.bpf.c and one skeleton each. */
enum vigil_family {
	VIGIL_FAM_EXITS = 0, /* always: exits, OOM kills, signals, exec/fork (the watched set) */
	VIGIL_FAM_SOCKETS,   /* when any workload is configured */
	VIGIL_FAM_LATENCY,   /* only when a workload asks for syscall latency */
	VIGIL_FAM_TRACE,     /* only when a workload asks for trace.http */
	VIGIL_FAM_MAX,
};

struct vigil_probe_opts {
	bool observe_all;     /* report failing exits of every process */
	bool force_classic;   /* skip tp_btf for exits (tests of the fallback, old kernels) */
	bool sockets;	      /* load the sockets family */
	bool latency;	      /* load the latency family */
	bool trace;	      /* the trace family's syscall programs (classic: mounts tracefs) */
	bool trace_env;	      /* the trace family's exec program (TRACEPARENT at exec) */
	size_t ringbuf_bytes; /* 0: VIGIL_RINGBUF_BYTES; else a power of 2, >= the page size */
	unsigned int unwatched_rate; /* observe-all records/s per comm and per cgroup; 0: the
				      * default */
};

/*
 * Open, load and attach. The exits family tries tp_btf first and falls back to classic
 * tracepoints (mounting tracefs when it is missing); without it nothing works, so its failure
 * is this function's. The sockets and latency families are tp_btf only: if one cannot be
 * attached, vigil runs without it and vigil_probes_error() says why.
 * Returns 0 and *out, or -errno with err saying what failed.
 */
int vigil_probes_open(const struct vigil_probe_opts *opts, struct vigil_probes **out, char *err,
		      size_t errlen);
/* Detach and free everything; accepts NULL. */
void vigil_probes_close(struct vigil_probes *p);

/* "tp_btf" or "tracepoint": which kind of programs the exits family attached. */
const char *vigil_probes_mode(const struct vigil_probes *p);
const char *vigil_family_name(enum vigil_family f);
/* Is the family loaded and attached? */
bool vigil_probes_has(const struct vigil_probes *p, enum vigil_family f);
/* Why a requested family is not attached, or NULL. */
const char *vigil_probes_error(const struct vigil_probes *p, enum vigil_family f);
/* How many programs of family f are attached; their names, comma-separated, into buf.
 * f == VIGIL_FAM_MAX: every family's. */
unsigned int vigil_probes_attached(const struct vigil_probes *p, enum vigil_family f, char *buf,
				   size_t len);

/* The ring buffer every family writes to, for the collector. */
int vigil_probes_ringbuf_fd(const struct vigil_probes *p);
/* How many of its bytes hold records not read yet, and its size. Returns 0 or -errno. */
int vigil_probes_ringbuf_fill(const struct vigil_probes *p, uint64_t *used, uint64_t *size);

/* --- the watched set and how processes join it (exits family) --- */

/* Put tgid in the kernel's watched set (the hash and its bit). Returns 0 or -errno. */
int vigil_probes_watch(const struct vigil_probes *p, uint32_t tgid, uint32_t workload);
/* The workload (index + 1) tgid is watched for: 0 and *workload, or -ENOENT (not watched). */
int vigil_probes_watched(const struct vigil_probes *p, uint32_t tgid, uint32_t *workload);
/* The live processes (tgids) of workload in the watched set: at most max into out. Returns
 * how many it holds (more than max when out was too short), or -errno. Processes that start
 * or end meanwhile may or may not be listed; none is listed twice. */
int vigil_probes_watched_pids(const struct vigil_probes *p, uint32_t workload, pid_t *out,
			      size_t max);
/* Match keys: a process that execs with this comm (VIGIL_COMM_LEN bytes, NUL-padded), this
 * executable inode or in this cgroup v2 id joins workload. Each returns 0 or -errno. */
int vigil_probes_match_comm(const struct vigil_probes *p, const char *comm, uint32_t workload);
int vigil_probes_match_exe(const struct vigil_probes *p, const struct vigil_exe_key *key,
			   uint32_t workload);
int vigil_probes_match_cgroup(const struct vigil_probes *p, uint64_t cgroup_id, uint32_t workload);

/* --- counters and histograms (monotonic: read and take differences) --- */

/* Kernel records about workload lost to a full ring buffer, all families, since start. */
int vigil_probes_workload_drops(const struct vigil_probes *p, unsigned int workload,
				uint64_t *drops);
/* Sum family f's per-CPU counters into out[VIGIL_STAT_MAX] (zeros for an absent family).
 * Returns 0 or -errno. */
int vigil_probes_stats(const struct vigil_probes *p, enum vigil_family f,
		       uint64_t out[VIGIL_STAT_MAX]);
/* A workload's retransmits in all (its alarm's count); arm its alarm at count at (0: off) and
 * read the count after. Returns 0, or -ENOENT without the sockets family (or its map). */
int vigil_probes_retrans(const struct vigil_probes *p, unsigned int workload, uint64_t *count);
int vigil_probes_retrans_arm(const struct vigil_probes *p, unsigned int workload, uint64_t at,
			     uint64_t *count);
/* The kernel time of the workload's first retransmit since the last take (0: none), taken
 * (set back to 0) or only read. Returns 0 or -ENOENT as above. */
int vigil_probes_retrans_first(const struct vigil_probes *p, unsigned int workload, bool take,
			       uint64_t *first_ns);
/* A workload's socket counters, summed over CPUs. Returns 0, -ENOENT without the sockets
 * family, or -errno. */
int vigil_probes_sock_counts(const struct vigil_probes *p, unsigned int workload,
			     struct vigil_sock_counts *c);
/* Inbound connections of workload open now (accepted, still established), on any of ports
 * (n: how many; 0: on all its listening ports), into *open. Returns 0, -ENOENT without the
 * sockets family, or -errno. */
int vigil_probes_inbound(const struct vigil_probes *p, unsigned int workload, const uint16_t *ports,
			 unsigned int n, uint64_t *open);
/* What a workload times and its budget (latency family). Returns 0, -ENOENT without the
 * latency family (nothing to do), or -errno. */
int vigil_probes_set_latency(const struct vigil_probes *p, unsigned int workload,
			     const struct vigil_lat_cfg *lc);
/* Bytes of each inbound read a workload searches for traceparent (0: off), and whether its
 * environment is searched at exec. Returns 0, -ENOENT without the trace family, or -errno. */
int vigil_probes_set_trace(const struct vigil_probes *p, unsigned int workload, uint32_t bytes,
			   bool env);
/* The requests thread tid read and has not answered / the recent contexts of process tgid, as
 * the kernel keeps them (vigil/events.h). Each returns 0, -ENOENT (no entry, or no trace
 * family) or -errno. */
int vigil_probes_trace_thread(const struct vigil_probes *p, uint32_t tid,
			      struct vigil_trace_thread *t);
int vigil_probes_trace_ring(const struct vigil_probes *p, uint32_t tgid,
			    struct vigil_trace_ring *r);
/* The TRACEPARENT process tgid had in its environment at exec: 0, -ENOENT or -errno. */
int vigil_probes_trace_env(const struct vigil_probes *p, uint32_t tgid, struct vigil_trace_ctx *c);
/* Forget process tgid's ring and environment context (it ended). */
void vigil_probes_trace_forget(const struct vigil_probes *p, uint32_t tgid);
/* Histogram slot (1..VIGIL_LAT_HISTS-1), summed over CPUs. Returns 0, -ENOENT without the
 * latency family, or -errno. */
int vigil_probes_lat_hist(const struct vigil_probes *p, unsigned int slot,
			  struct vigil_lat_hist *h);

/* "probes": per family, its mode, programs, events, drops and other counters, into j (inside
 * an object). */
void vigil_probes_status_json(const struct vigil_probes *p, struct vigil_json *j);

/* Does this kernel's sched_process_exit carry group_dead (6.16+)? Used by doctor too. */
bool vigil_kernel_exit_has_group_dead(void);
/* Does this kernel have sched_process_hang (CONFIG_DETECT_HUNG_TASK)? */
bool vigil_kernel_has_hang_tracepoint(void);
/* Mount tracefs at /sys/kernel/tracing unless some tracefs is already reachable.
 * Returns 0 (mounted or already there) or -errno. */
int vigil_ensure_tracefs(void);

#endif /* VIGIL_LOADER_H */
