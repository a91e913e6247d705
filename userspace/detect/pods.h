/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pods: the Kubernetes pod (uid, name, namespace, container) of the processes vigil hears of,
 * learnt while they live and kept for when they are gone.
 *
 * A crashed process's /proc is gone by the time its incident is written, and a crashed
 * container's runtime state soon after: so a process's pod is read when vigil first hears of
 * it — at the exec of a watched process, at start for the workloads' running processes, and on
 * the first event of any other — and kept in a bounded table keyed by the cgroup v2 id every
 * event header carries. The cgroup (pod_id.c) gives the pod's uid and the container's id; the
 * container runtime's state on the node (containerd's or CRI-O's config.json, read-only) the
 * names; when that is not readable, the process's own /etc/hostname and service-account
 * namespace file (through /proc/PID/root, resolved inside that root) give the pod's name and
 * namespace, and the container's name stays unknown.
 *
 * Identity: what /proc/PID says is taken only when PID is still the process of the event — it
 * started before the event (its start time, read after everything else) — and, when the
 * cgroup's path can be resolved under the v2 mount, when that directory is the event's cgroup
 * (its inode is the cgroup id). On a host whose processes share one v2 cgroup (cgroup v1 or
 * hybrid, the pod seen on v1 lines only), a process's pod is kept under its pid, and forgotten
 * at its exit.
 *
 * The table holds at most max entries (VIGIL_PODS_MAX): an entry is made as a process is first
 * heard of, and the least recently used one leaves for a new one. Nothing is sized at start
 * for the worst case.
 */
#ifndef VIGIL_PODS_H
#define VIGIL_PODS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/json.h"
#include "detect/pod_id.h"
#include "vigil/events.h"

#define VIGIL_PODS_MAX 4096 /* entries: ~100 bytes, ~500 with a pod's names */

/* The default runtime state directories (config k8s.containerd, k8s.crio). */
#define VIGIL_K8S_CONTAINERD_DIR "/run/containerd/io.containerd.runtime.v2.task/k8s.io"
#define VIGIL_K8S_CRIO_DIR "/run/containers/storage/overlay-containers"

struct vigil_pods_opts {
	const char *containerd;	 /* DIR/<id>/config.json; NULL: not read */
	const char *crio;	 /* DIR/<id>/userdata/config.json; NULL: not read */
	bool proc_fallback;	 /* /proc/PID/root's hostname and namespace file */
	const char *node;	 /* a hostname equal to the node's is the node's, not a pod's */
	const char *proc;	 /* NULL: "/proc" (tests: a tree of their own) */
	const char *cgroup2;	 /* the cgroup v2 mount; NULL: found in /proc/self/mountinfo */
	const char *cgroup_root; /* the cgroup hierarchies; NULL: /sys/fs/cgroup */
	unsigned int max;	 /* entries; 0: VIGIL_PODS_MAX */
};

struct vigil_pods_stats {
	uint64_t learned;      /* processes whose cgroup was read and believed */
	uint64_t in_pods;      /* ... in a pod */
	uint64_t from_runtime; /* ... named by the runtime's state */
	uint64_t from_proc;    /* ... named by their own files (/proc/PID/root) */
	uint64_t unnamed;      /* ... in a pod, no name found */
	uint64_t unreadable;   /* gone before their cgroup could be read, or it did not parse */
	uint64_t refused;      /* PID was another process by then, or it had left the cgroup */
	uint64_t evicted;      /* entries that left the full table */
	unsigned int entries, max;
};

struct vigil_pods;

/* Returns 0 and *out, or -ENOMEM. The strings of o must outlive the table. */
int vigil_pods_new(const struct vigil_pods_opts *o, struct vigil_pods **out);
/* Accepts NULL. */
void vigil_pods_free(struct vigil_pods *p);

/*
 * Does this node run pods (k8s.enabled: auto)? A runtime directory of o exists, or a kubelet
 * cgroup ("kubepods", "kubepods.slice", "kubelet.slice") at the root of the cgroup v2 mount or
 * of a v1 hierarchy.
 */
bool vigil_pods_node_runs_pods(const struct vigil_pods_opts *o);

/*
 * The pod of the process event h is about, into *out (out->uid "": none, or not known). With
 * learn, a process not known yet is learnt now (from its /proc); without, only what is kept is
 * read (a derived fault, whose process may be long gone). p may be NULL (k8s off): none.
 */
void vigil_pods_lookup(struct vigil_pods *p, const struct vigil_event_hdr *h, bool learn,
		       struct vigil_pod *out);
/* Learn the pod of running process pid, found without an event (the workloads' processes at
 * start), at time now_ns (CLOCK_MONOTONIC). Returns 0 or -errno (gone, refused). */
int vigil_pods_learn(struct vigil_pods *p, pid_t pid, uint64_t now_ns);
/* Process tgid (of v2 cgroup cgroup_id) ended, after its exit was looked up: forget what is
 * kept under its pid (what is kept under its cgroup stays, for its other processes). */
void vigil_pods_exit(struct vigil_pods *p, uint64_t cgroup_id, uint32_t tgid);

void vigil_pods_stats(const struct vigil_pods *p, struct vigil_pods_stats *st);
/* "k8s": on or off, and the numbers above, into j (inside an object). p may be NULL. */
void vigil_pods_status_json(const struct vigil_pods *p, struct vigil_json *j);

#endif /* VIGIL_PODS_H */
