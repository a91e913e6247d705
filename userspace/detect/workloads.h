/* SPDX-License-Identifier: Apache-2.0 */
/*
 * workloads: which processes belong to which configured workload.
 *
 * Puts each workload's match keys (comm, executable inode, cgroup ids) in the kernel maps so
 * that exec and fork keep the watched set current in the kernel; finds the processes that
 * already run by scanning /proc at start; re-reads pidfiles, executables and cgroup globs on
 * every refresh; and keeps the list of each workload's main processes (matched, not children)
 * for the healer and status.
 */
#ifndef VIGIL_WORKLOADS_H
#define VIGIL_WORKLOADS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config/config.h"
#include "core/json.h"
#include "kernel/loader.h"

struct vigil_workloads;

/* Returns 0 and *out, or -errno with err saying which workload and what failed. */
int vigil_workloads_new(const struct vigil_config *cfg, struct vigil_probes *probes,
			struct vigil_workloads **out, char *err, size_t errlen);
void vigil_workloads_free(struct vigil_workloads *wl);

/* Re-read pidfiles, re-stat executables, re-walk cgroup globs. Returns processes added. */
int vigil_workloads_refresh(struct vigil_workloads *wl);

/* Name of workload (index + 1). For 0 (observe-all) the comm, made printable, into buf. */
const char *vigil_workloads_name(const struct vigil_workloads *wl, unsigned int workload,
				 const char *comm, char *buf, size_t len);

/* Put pid into workload's watched set, in the kernel and here. Returns 0 or -errno. */
int vigil_workloads_watch(struct vigil_workloads *wl, unsigned int workload, pid_t pid);
/* A watched main process ended: forget it here (the kernel already has). */
void vigil_workloads_gone(struct vigil_workloads *wl, unsigned int workload, pid_t pid);
/* Record a main process the kernel matched at exec. */
void vigil_workloads_seen(struct vigil_workloads *wl, unsigned int workload, pid_t pid);
/* The workload's live main processes, at most max into out. Returns how many it has. */
size_t vigil_workloads_pids(const struct vigil_workloads *wl, unsigned int workload, pid_t *out,
			    size_t max);

/* Histogram slot (1..) of the k-th of workload's latency.syscalls, 0 if it has none. */
unsigned int vigil_workloads_lat_hist(const struct vigil_workloads *wl, unsigned int workload,
				      unsigned int k);
/* The kernel's histogram of the k-th of workload's latency.syscalls. Returns 0, -ENOENT (no
 * such syscall, or no latency family), -EEXIST when the workload names that syscall twice and
 * k is not the first (one histogram), or -errno. */
int vigil_workloads_latency(const struct vigil_workloads *wl, unsigned int workload, unsigned int k,
			    struct vigil_lat_hist *h);
/* Is pid a live process of workload, in the kernel's watched set? */
bool vigil_workloads_owns(const struct vigil_workloads *wl, unsigned int workload, pid_t pid);

/* "workloads": each one's main pids, connections, retransmits and what it times, into j
 * (inside an object). */
void vigil_workloads_status_json(const struct vigil_workloads *wl, struct vigil_json *j);
/* The control socket's "latency [WORKLOAD]" (a query; ctx: the workloads): every workload's
 * histograms per timed syscall, or one's. Returns 0, -ENOENT for a workload that is not
 * configured or times nothing, -ENOMEM. */
int vigil_workloads_latency_answer(const char *arg, struct vigil_json *out, const void *ctx);

/* Kernel dev_t encoding ((major << 20) | minor) of a userspace st_dev. */
unsigned int vigil_kernel_dev(dev_t dev);

#endif /* VIGIL_WORKLOADS_H */
