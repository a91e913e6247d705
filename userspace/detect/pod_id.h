/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pod_id: which Kubernetes pod and container a process belongs to, read from text the node
 * holds — its /proc/PID/cgroup, and the OCI runtime spec (config.json) the container runtime
 * wrote for the container. Pure functions over bytes, no I/O: pods.c reads the files.
 *
 * Everything here is outside input (any process can be in a cgroup with a made-up name; the
 * annotations come from the pod spec): what does not parse, or does not pass the Kubernetes
 * name rules, is left out, never guessed.
 */
#ifndef VIGIL_POD_ID_H
#define VIGIL_POD_ID_H

#include <stdbool.h>
#include <stddef.h>

#define VIGIL_POD_UID_LEN 36		/* 8-4-4-4-12 lowercase hex (a static pod's: 32 hex) */
#define VIGIL_POD_NAME_MAX 253		/* a pod's name: a DNS subdomain (RFC 1123) */
#define VIGIL_POD_LABEL_MAX 63		/* a namespace's, a container's: a DNS label */
#define VIGIL_CONTAINER_ID_LEN 64	/* lowercase hex */
#define VIGIL_POD_OCI_MAX (1u << 20)	/* the largest config.json read */
#define VIGIL_POD_CGROUP_MAX (1u << 16) /* the largest /proc/PID/cgroup read */

/* A process's pod. uid "": not in a pod (or not known); each name "" when not known. */
struct vigil_pod {
	char uid[VIGIL_POD_UID_LEN + 1];
	char name[VIGIL_POD_NAME_MAX + 1];
	char ns[VIGIL_POD_LABEL_MAX + 1];
	char container[VIGIL_POD_LABEL_MAX + 1];
};

/* The runtime a container's cgroup names (its systemd scope's prefix). */
enum vigil_runtime {
	VIGIL_RUNTIME_UNKNOWN = 0, /* the cgroupfs driver's bare id: containerd or CRI-O */
	VIGIL_RUNTIME_CONTAINERD,  /* cri-containerd-ID.scope */
	VIGIL_RUNTIME_CRIO,	   /* crio-ID.scope */
	VIGIL_RUNTIME_DOCKER,	   /* docker-ID.scope (cri-dockerd) */
};

/* What a cgroup path says of a pod. */
struct vigil_pod_cgroup {
	char uid[VIGIL_POD_UID_LEN + 1]; /* dashed, lowercase */
	char
	    container_id[VIGIL_CONTAINER_ID_LEN + 1]; /* "": the pod's own cgroup, no container's */
	enum vigil_runtime runtime;
	bool from_v2; /* found on the cgroup v2 line: the v2 cgroup (its id) is the pod's */
	bool v2_only; /* the file had the v2 line only: the v2 cgroup tells every process apart */
};

/*
 * A kubelet's pod in a cgroup path (len bytes, no NUL needed), in the layouts of its two
 * cgroup drivers:
 *
 *   cgroupfs  /kubepods[/burstable|/besteffort]/pod<UID>/<64-hex container id>
 *   systemd   /kubepods.slice[/kubepods-QOS.slice]/kubepods[-QOS]-pod<UID_>.slice/
 *             {cri-containerd,crio,docker}-<id>.scope
 *
 * (kind's kubelet.slice/kubelet-kubepods.slice/... too). The pod's directory must sit under
 * kubelet's own ones only — every component before it "kubepods*", "kubelet*", "burstable",
 * "besteffort", or ".." (a path outside the reader's cgroup namespace) — so that a user's
 * delegated subtree cannot pass for a pod. Deeper components (a container's own sub-cgroups)
 * are allowed; a pod directory whose uid is malformed is not one. Returns 0 (out->uid set;
 * container_id "" when the path ends at the pod, or what follows is not a container id) or
 * -ENOENT (not a pod's).
 */
int vigil_pod_parse_path(const char *path, size_t len, struct vigil_pod_cgroup *out);

/*
 * /proc/PID/cgroup's text (len bytes): the pod on its v2 line ("0::/path"), or on its v1 lines
 * ("N:controllers:/path"), which must then all agree. Returns 0 (from_v2 says which), -ENOENT
 * (no pod; v2_only still set), or -EINVAL (no line of the format, v1 lines that disagree).
 */
int vigil_pod_parse_proc_cgroup(const char *text, size_t len, struct vigil_pod_cgroup *out);

/*
 * The names in an OCI runtime spec (config.json, len bytes) written by runtime rt, from its
 * annotations: containerd's io.kubernetes.cri.{sandbox-name, sandbox-namespace,
 * container-name, sandbox-uid}, CRI-O's io.kubernetes.{pod.name, pod.namespace,
 * container.name, pod.uid}; VIGIL_RUNTIME_UNKNOWN tries containerd's, then CRI-O's. Each name
 * that passes the Kubernetes rules goes into out (the others stay ""); uid is not changed.
 * A pod uid annotation that is not uid means the container is another pod's: nothing is
 * taken. Returns 0 (at least one name), -ENOENT (none), -ESTALE (another pod's), -EFBIG
 * (over VIGIL_POD_OCI_MAX), -EINVAL (not a JSON object), -ENOMEM.
 */
int vigil_pod_parse_oci(const char *json, size_t len, enum vigil_runtime rt, const char *uid,
			struct vigil_pod *out);

/* s is a DNS label of at most max bytes: [a-z0-9]([a-z0-9-]*[a-z0-9])? */
bool vigil_pod_dns_label(const char *s, size_t max);
/* s is a DNS subdomain (a pod's name): dot-separated labels, VIGIL_POD_NAME_MAX at most. */
bool vigil_pod_dns_subdomain(const char *s);
/* s is a pod uid as vigil keeps it (dashed UUID, or a static pod's 32 hex digits). */
bool vigil_pod_uid_valid(const char *s);

#endif /* VIGIL_POD_ID_H */
