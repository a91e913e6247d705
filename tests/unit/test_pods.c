// SPDX-License-Identifier: Apache-2.0
/*
 * Unit: a process's Kubernetes pod.
 *
 *   - the cgroup path parser (pod_id.c) on each kubelet layout — cgroupfs, systemd with
 *     containerd, CRI-O and docker scopes, kind's kubelet.slice, a path seen from a private
 *     cgroup namespace, a static pod's uid — and on hostile ones: a user's delegated subtree
 *     named like a pod, malformed uids and ids, 60 KiB paths; /proc/PID/cgroup's text on v2,
 *     hybrid and v1 hosts;
 *   - the config.json reader on each runtime's annotations, missing and invalid ones, a uid
 *     that is another pod's, duplicate keys, an oversize file;
 *   - the table (pods.c) over a /proc, a cgroup v2 mount and a containerd state directory of
 *     the test's own: names learnt at exec and still there once /proc is gone, a pid that is
 *     another process by then, a process that left the cgroup, the fallback through
 *     /proc/PID/root (resolved inside that root: a link to the host's files is not followed;
 *     a FIFO does not block; the host's own root and the node's hostname are not a pod's),
 *     "not a pod" kept per cgroup, per-pid entries on a hybrid host, eviction;
 *   - the incident's pod, the records' "k8s" object (journal, Redis) and the config block.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "detect/incidents.h"
#include "detect/pod_id.h"
#include "detect/pods.h"
#include "output/records.h"
#include "output/redis_cmd.h"

#define UID "0c1a2b3c-1111-2222-3333-444455556666"
#define UID_ "0c1a2b3c_1111_2222_3333_444455556666"
#define CID "3f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
#define CID2 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define STATIC_UID "6b5a3b8d0c9f4e2a1c5d7e8f9a0b1c2d"

#define SYSTEMD_PATH                                                                               \
	"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_                     \
	".slice/cri-containerd-" CID ".scope"

static struct vigil_pod_cgroup pc;

static int path(const char *p)
{
	return vigil_pod_parse_path(p, strlen(p), &pc);
}

/* --- cgroup paths ---------------------------------------------------------------------------- */

static void test_layouts(void **state)
{
	(void)state;
	/* cgroupfs: burstable, guaranteed (no QoS directory), besteffort */
	assert_int_equal(path("/kubepods/burstable/pod" UID "/" CID), 0);
	assert_string_equal(pc.uid, UID);
	assert_string_equal(pc.container_id, CID);
	assert_int_equal(pc.runtime, VIGIL_RUNTIME_UNKNOWN);
	assert_int_equal(path("/kubepods/pod" UID "/" CID), 0);
	assert_string_equal(pc.uid, UID);
	assert_int_equal(path("/kubepods/besteffort/pod" STATIC_UID "/" CID), 0);
	assert_string_equal(pc.uid, STATIC_UID);
	/* systemd: each runtime's scope */
	assert_int_equal(path(SYSTEMD_PATH), 0);
	assert_string_equal(pc.uid, UID);
	assert_string_equal(pc.container_id, CID);
	assert_int_equal(pc.runtime, VIGIL_RUNTIME_CONTAINERD);
	assert_int_equal(
	    path("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
		 ".slice/crio-" CID ".scope"),
	    0);
	assert_int_equal(pc.runtime, VIGIL_RUNTIME_CRIO);
	assert_int_equal(path("/kubepods.slice/kubepods-pod" UID_ ".slice/docker-" CID ".scope"),
			 0);
	assert_int_equal(pc.runtime, VIGIL_RUNTIME_DOCKER);
	assert_string_equal(pc.uid, UID);
	/* kind: kubelet's cgroups under kubelet.slice */
	assert_int_equal(
	    path("/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
		 "kubelet-kubepods-besteffort-pod" UID_ ".slice/cri-containerd-" CID ".scope"),
	    0);
	assert_string_equal(pc.uid, UID);
	assert_string_equal(pc.container_id, CID);
	/* Seen from a private cgroup namespace. */
	assert_int_equal(
	    path("/../../kubepods-besteffort-pod" UID_ ".slice/cri-containerd-" CID ".scope"), 0);
	assert_string_equal(pc.container_id, CID);
	/* A container's own sub-cgroup; the pod's own cgroup (no container); a double slash. */
	assert_int_equal(path(SYSTEMD_PATH "/init.scope"), 0);
	assert_string_equal(pc.container_id, CID);
	assert_int_equal(path("/kubepods/burstable/pod" UID), 0);
	assert_string_equal(pc.uid, UID);
	assert_string_equal(pc.container_id, "");
	assert_int_equal(path("//kubepods//pod" UID "//" CID), 0);
	assert_string_equal(pc.container_id, CID);
	/* CRI-O's conmon sits in the pod's slice, in no container. */
	assert_int_equal(
	    path("/kubepods.slice/kubepods-pod" UID_ ".slice/crio-conmon-" CID ".scope"), 0);
	assert_string_equal(pc.container_id, "");
}

static void test_hostile_paths(void **state)
{
	static char big[70000];
	size_t n = 0;

	(void)state;
	/* Not a pod's. */
	assert_int_equal(path("/"), -ENOENT);
	assert_int_equal(path(""), -ENOENT);
	assert_int_equal(path("/system.slice/containerd.service"), -ENOENT);
	assert_int_equal(path("kubepods/pod" UID "/" CID), -ENOENT); /* not absolute */
	/* A user's delegated subtree named like kubelet's: not a pod's. */
	assert_int_equal(
	    path("/user.slice/user-1000.slice/user@1000.service/app.slice/kubepods-pod" UID_
		 ".slice/cri-containerd-" CID ".scope"),
	    -ENOENT);
	assert_int_equal(path("/docker/" CID "/kubepods/pod" UID "/" CID), -ENOENT);
	assert_int_equal(path("/scratch/pod" UID "/" CID), -ENOENT);
	/* Malformed uids: upper case, short, dashes where a slice has underscores, no uid. */
	assert_int_equal(path("/kubepods/pod0C1A2B3C-1111-2222-3333-444455556666/" CID), -ENOENT);
	assert_int_equal(path("/kubepods/pod0c1a2b3c-1111-2222-3333-44445555666/" CID), -ENOENT);
	assert_int_equal(path("/kubepods/pod0c1a2b3c-1111-2222-3333_444455556666/" CID), -ENOENT);
	assert_int_equal(path("/kubepods.slice/kubepods-pod" UID ".slice/crio-" CID ".scope"),
			 -ENOENT);
	assert_int_equal(path("/kubepods/pod/" CID), -ENOENT);
	assert_int_equal(path("/kubepods.slice/kubepods-pod.slice"), -ENOENT);
	assert_int_equal(path("/kubepods.slice/notkubepods-pod" UID_ ".slice"), -ENOENT);
	/* Container ids that are not one: the pod stands, no container. */
	assert_int_equal(path("/kubepods/pod" UID "/" CID "0"), 0);
	assert_string_equal(pc.container_id, "");
	assert_int_equal(path("/kubepods/pod" UID
			      "/3F1E2D3C4B5A69788796A5B4C3D2E1F00F1E2D3C4B5A6978"
			      "8796A5B4C3D2E1F0"),
			 0);
	assert_string_equal(pc.container_id, "");
	assert_int_equal(
	    path("/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" CID ".scopex"), 0);
	assert_string_equal(pc.container_id, "");
	/* A nested fake pod inside a real container: the outer one is the pod. */
	assert_int_equal(path("/kubepods/pod" UID "/" CID "/kubepods/pod" STATIC_UID "/" CID2), 0);
	assert_string_equal(pc.uid, UID);
	assert_string_equal(pc.container_id, CID);
	/* Long: 60 KiB of kubelet's directories, then a pod; one 60 KiB component. */
	while (n + 16 < 60000)
		n += (size_t)sprintf(big + n, "/kubepods");
	n += (size_t)sprintf(big + n, "/pod" UID "/" CID);
	assert_int_equal(vigil_pod_parse_path(big, n, &pc), 0);
	assert_string_equal(pc.container_id, CID);
	big[0] = '/';
	memset(big + 1, 'a', 60000);
	assert_int_equal(vigil_pod_parse_path(big, 60001, &pc), -ENOENT);
	/* Not NUL-terminated: the length is what counts. */
	assert_int_equal(vigil_pod_parse_path("/kubepods/pod" UID "/" CID "XYZ",
					      strlen("/kubepods/pod" UID "/" CID), &pc),
			 0);
	assert_string_equal(pc.container_id, CID);
}

static int proc(const char *text)
{
	return vigil_pod_parse_proc_cgroup(text, strlen(text), &pc);
}

static void test_proc_cgroup(void **state)
{
	(void)state;
	/* A pure v2 host. */
	assert_int_equal(proc("0::" SYSTEMD_PATH "\n"), 0);
	assert_true(pc.from_v2);
	assert_true(pc.v2_only);
	assert_string_equal(pc.container_id, CID);
	assert_int_equal(proc("0::/system.slice/ssh.service\n"), -ENOENT);
	assert_true(pc.v2_only);
	/* Hybrid: the pod on v1 lines only, or on the v2 line too. */
	assert_int_equal(proc("12:memory:/kubepods/burstable/pod" UID "/" CID "\n"
			      "11:cpu,cpuacct:/kubepods/burstable/pod" UID "/" CID "\n"
			      "1:name=systemd:/kubepods/burstable/pod" UID "/" CID "\n"
			      "0::/\n"),
			 0);
	assert_false(pc.from_v2);
	assert_false(pc.v2_only);
	assert_string_equal(pc.uid, UID);
	assert_int_equal(proc("9:name=systemd:" SYSTEMD_PATH "\n0::" SYSTEMD_PATH), 0);
	assert_true(pc.from_v2);
	assert_false(pc.v2_only);
	/* v1 lines that disagree: believed neither. */
	assert_int_equal(proc("4:memory:/kubepods/pod" UID "/" CID "\n"
			      "3:cpu:/kubepods/pod" UID "/" CID2 "\n0::/\n"),
			 -EINVAL);
	/* Not the format. */
	assert_int_equal(proc(""), -EINVAL);
	assert_int_equal(proc("hello\nworld\n"), -EINVAL);
	/* A path with colons; a v1 line of the root only. */
	assert_int_equal(proc("2:cpuset:/\n0::/a:b/c\n"), -ENOENT);
	assert_false(pc.v2_only);
}

/* --- config.json ------------------------------------------------------------------------------ */

static struct vigil_pod pod;

static int oci(const char *json, enum vigil_runtime rt, const char *uid)
{
	memset(&pod, 0, sizeof(pod));
	return vigil_pod_parse_oci(json, strlen(json), rt, uid, &pod);
}

#define CONTAINERD_JSON(name, ns, container, uid)                                                  \
	"{\"ociVersion\":\"1.1.0\",\"process\":{\"args\":[\"/app\"]},\"annotations\":{"            \
	"\"io.kubernetes.cri.container-type\":\"container\","                                      \
	"\"io.kubernetes.cri.sandbox-id\":\"" CID2 "\","                                           \
	"\"io.kubernetes.cri.sandbox-name\":" name ",\"io.kubernetes.cri.sandbox-namespace\":" ns  \
	",\"io.kubernetes.cri.container-name\":" container                                         \
	",\"io.kubernetes.cri.sandbox-uid\":" uid "}}"

#define CRIO_JSON(name, ns, container)                                                             \
	"{\"ociVersion\":\"1.0.2\",\"annotations\":{\"io.kubernetes.pod.name\":" name              \
	",\"io.kubernetes.pod.namespace\":" ns ",\"io.kubernetes.container.name\":" container      \
	",\"io.kubernetes.pod.uid\":\"" UID "\",\"io.container.manager\":\"cri-o\"}}"

static void test_oci(void **state)
{
	static char huge[VIGIL_POD_OCI_MAX + 2];
	char name253[300];

	(void)state;
	assert_int_equal(
	    oci(CONTAINERD_JSON("\"web-7d9f8-abcde\"", "\"shop\"", "\"app\"", "\"" UID "\""),
		VIGIL_RUNTIME_CONTAINERD, UID),
	    0);
	assert_string_equal(pod.name, "web-7d9f8-abcde");
	assert_string_equal(pod.ns, "shop");
	assert_string_equal(pod.container, "app");
	assert_int_equal(
	    oci(CRIO_JSON("\"db-0\"", "\"data\"", "\"postgres\""), VIGIL_RUNTIME_CRIO, UID), 0);
	assert_string_equal(pod.name, "db-0");
	assert_string_equal(pod.ns, "data");
	assert_string_equal(pod.container, "postgres");
	/* The cgroupfs driver names no runtime: whichever annotations are there. */
	assert_int_equal(
	    oci(CRIO_JSON("\"db-0\"", "\"data\"", "\"postgres\""), VIGIL_RUNTIME_UNKNOWN, UID), 0);
	assert_string_equal(pod.container, "postgres");
	assert_int_equal(oci(CONTAINERD_JSON("\"a\"", "\"b\"", "\"c\"", "\"" UID "\""),
			     VIGIL_RUNTIME_UNKNOWN, UID),
			 0);
	assert_string_equal(pod.container, "c");
	/* The other runtime's annotations are not read. */
	assert_int_equal(
	    oci(CRIO_JSON("\"db-0\"", "\"data\"", "\"pg\""), VIGIL_RUNTIME_CONTAINERD, UID),
	    -ENOENT);
	/* Another pod's container: nothing at all. */
	assert_int_equal(oci(CONTAINERD_JSON("\"a\"", "\"b\"", "\"c\"", "\"" STATIC_UID "\""),
			     VIGIL_RUNTIME_CONTAINERD, UID),
			 -ESTALE);
	assert_string_equal(pod.name, "");
	/* Invalid values are left out, one by one. */
	assert_int_equal(oci(CONTAINERD_JSON("\"Web_1\"", "\"shop\"", "42", "\"" UID "\""),
			     VIGIL_RUNTIME_CONTAINERD, UID),
			 0);
	assert_string_equal(pod.name, "");
	assert_string_equal(pod.ns, "shop");
	assert_string_equal(pod.container, "");
	assert_int_equal(
	    oci(CONTAINERD_JSON("\"-a\"", "\"a.b\"",
				"\"a123456789012345678901234567890123456789012345678901"
				"234567890123\"",
				"\"" UID "\""),
		VIGIL_RUNTIME_CONTAINERD, UID),
	    -ENOENT);
	assert_int_equal(
	    oci(CRIO_JSON("\"x\\u0000y\"", "\"\"", "\"POD\""), VIGIL_RUNTIME_CRIO, UID), -EINVAL);
	assert_int_equal(oci(CRIO_JSON("\"x.\"", "\"\"", "\"POD\""), VIGIL_RUNTIME_CRIO, UID),
			 -ENOENT);
	/* A sandbox (pause) container: the pod's names, no container's. */
	assert_int_equal(oci("{\"annotations\":{\"io.kubernetes.cri.container-type\":\"sandbox\","
			     "\"io.kubernetes.cri.sandbox-name\":\"web\","
			     "\"io.kubernetes.cri.sandbox-namespace\":\"shop\"}}",
			     VIGIL_RUNTIME_CONTAINERD, UID),
			 0);
	assert_string_equal(pod.container, "");
	/* A pod's name may be 253 bytes of dot-separated labels. */
	memset(name253, 'a', 253);
	for (int i = 63; i < 253; i += 64)
		name253[i] = '.';
	name253[253] = '\0';
	assert_true(vigil_pod_dns_subdomain(name253));
	name253[253] = 'a';
	name253[254] = '\0';
	assert_false(vigil_pod_dns_subdomain(name253));
	assert_false(vigil_pod_dns_subdomain("a..b"));
	assert_false(vigil_pod_dns_label("a", 0));
	/* Not a spec. */
	assert_int_equal(oci("{\"annotations\":[]}", VIGIL_RUNTIME_CRIO, UID), -ENOENT);
	assert_int_equal(oci("{}", VIGIL_RUNTIME_CRIO, UID), -ENOENT);
	assert_int_equal(oci("[1,2]", VIGIL_RUNTIME_CRIO, UID), -EINVAL);
	assert_int_equal(oci("{\"annotations\":{", VIGIL_RUNTIME_CRIO, UID), -EINVAL);
	assert_int_equal(oci("", VIGIL_RUNTIME_CRIO, UID), -EINVAL);
	assert_int_equal(oci("{\"annotations\":{\"io.kubernetes.pod.name\":\"a\","
			     "\"io.kubernetes.pod.name\":\"b\"}}",
			     VIGIL_RUNTIME_CRIO, UID),
			 -EINVAL);
	/* Over the cap, however well-formed. */
	memset(huge, ' ', sizeof(huge) - 1);
	huge[0] = '{';
	huge[sizeof(huge) - 2] = '}';
	assert_int_equal(vigil_pod_parse_oci(huge, sizeof(huge) - 1, VIGIL_RUNTIME_CRIO, UID, &pod),
			 -EFBIG);
	assert_true(vigil_pod_uid_valid(UID));
	assert_true(vigil_pod_uid_valid(STATIC_UID));
	assert_false(vigil_pod_uid_valid(UID_));
}

/* --- the table over a node of the test's own -------------------------------------------------- */

struct node {
	char dir[64];
	char proc[128], cg2[128], containerd[128], podroot[128], hostroot[128];
	uint64_t cg;	  /* the inode of the pod's cgroup directory */
	uint64_t root_cg; /* ... of the v2 root */
	struct vigil_pods *pods;
};

static void put(const char *path, const char *text)
{
	FILE *f;
	char parent[512], *slash;

	snprintf(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	*slash = '\0';
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", parent);
		assert_int_equal(system(cmd), 0);
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void putf(struct node *n, const char *text, const char *fmt, ...)
{
	char path[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	(void)n;
	put(path, text);
}

/* /proc/PID of the fake tree: its cgroup, its stat (start tick), its root (a link). */
static void fake_proc(struct node *n, int pid, const char *cgroup, unsigned long start_tick,
		      const char *root)
{
	char stat[256], link[256];

	putf(n, cgroup, "%s/%d/cgroup", n->proc, pid);
	snprintf(stat, sizeof(stat),
		 "%d (odd) name)) S 1 %d %d 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 %lu 1000 10\n",
		 pid, pid, pid, start_tick);
	putf(n, stat, "%s/%d/stat", n->proc, pid);
	snprintf(link, sizeof(link), "%s/%d/root", n->proc, pid);
	unlink(link);
	if (root)
		assert_int_equal(symlink(root, link), 0);
}

static void gone(struct node *n, int pid)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s/%d'", n->proc, pid);
	assert_int_equal(system(cmd), 0);
}

static int node_setup(void **state)
{
	struct node *n = calloc(1, sizeof(*n));
	char p[512];
	struct stat st;

	assert_non_null(n);
	snprintf(n->dir, sizeof(n->dir), "/tmp/vigil-pods-XXXXXX");
	assert_non_null(mkdtemp(n->dir));
	snprintf(n->proc, sizeof(n->proc), "%s/proc", n->dir);
	snprintf(n->cg2, sizeof(n->cg2), "%s/cg2", n->dir);
	snprintf(n->containerd, sizeof(n->containerd), "%s/containerd", n->dir);
	snprintf(n->podroot, sizeof(n->podroot), "%s/podroot", n->dir);
	snprintf(n->hostroot, sizeof(n->hostroot), "%s/hostroot", n->dir);
	/* The host: its root, its init. */
	putf(n, "build-host\n", "%s/etc/hostname", n->hostroot);
	fake_proc(n, 1, "0::/init.scope\n", 1, n->hostroot);
	/* The pod's cgroup, its container's state, its own files. */
	putf(n, "", "%s%s/cgroup.procs", n->cg2, SYSTEMD_PATH);
	snprintf(p, sizeof(p), "%s%s", n->cg2, SYSTEMD_PATH);
	assert_int_equal(stat(p, &st), 0);
	n->cg = st.st_ino;
	assert_int_equal(stat(n->cg2, &st), 0);
	n->root_cg = st.st_ino;
	putf(n, "", "%s/system.slice/ssh.service/cgroup.procs", n->cg2);
	putf(n, CONTAINERD_JSON("\"web-7d9f8-abcde\"", "\"shop\"", "\"app\"", "\"" UID "\""),
	     "%s/%s/config.json", n->containerd, CID);
	putf(n, "web-7d9f8-abcde\n", "%s/etc/hostname", n->podroot);
	putf(n, "shop", "%s/var/run/secrets/kubernetes.io/serviceaccount/namespace", n->podroot);
	*state = n;
	return 0;
}

static int node_teardown(void **state)
{
	struct node *n = *state;
	char cmd[128];

	vigil_pods_free(n->pods);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", n->dir);
	assert_int_equal(system(cmd), 0);
	free(n);
	return 0;
}

static void open_pods(struct node *n, bool fallback, unsigned int max)
{
	struct vigil_pods_opts o = {
	    .containerd = n->containerd,
	    .crio = NULL,
	    .proc_fallback = fallback,
	    .node = "node-1",
	    .proc = n->proc,
	    .cgroup2 = n->cg2,
	    .max = max,
	};

	vigil_pods_free(n->pods);
	assert_int_equal(vigil_pods_new(&o, &n->pods), 0);
}

static union {
	struct vigil_event_hdr hdr;
	struct vigil_exec exec;
	struct vigil_exit exit;
} ev;

/* An event header of kind about pid (started at 1 s, as fake_proc's tick 100) in cgroup cg at
 * 5 s (CLOCK_MONOTONIC). */
static const struct vigil_event_hdr *event(uint16_t kind, uint32_t pid, uint64_t cg)
{
	memset(&ev, 0, sizeof(ev));
	ev.hdr.kind = kind;
	ev.hdr.size = kind == VIGIL_EV_EXIT ? sizeof(struct vigil_exit) : sizeof(struct vigil_exec);
	ev.hdr.tgid = ev.hdr.pid = pid;
	ev.hdr.cgroup_id = cg;
	ev.hdr.ts_ns = 5000000000ull;
	if (kind == VIGIL_EV_EXIT)
		ev.exit.start_ns = 1000000000ull;
	else
		ev.exec.start_ns = 1000000000ull;
	return &ev.hdr;
}

static struct vigil_pods_stats stats(const struct node *n)
{
	struct vigil_pods_stats st;

	vigil_pods_stats(n->pods, &st);
	return st;
}

/* Learnt at exec from the runtime's state; still known once the process and its runtime
 * state are gone (the crash's exit). */
static void test_learn_at_exec(void **state)
{
	struct node *n = *state;

	open_pods(n, true, 0);
	fake_proc(n, 4242, "0::" SYSTEMD_PATH "\n", 100, n->podroot);
	vigil_pods_lookup(n->pods, event(VIGIL_EV_EXEC, 4242, n->cg), true, &pod);
	assert_string_equal(pod.uid, UID);
	assert_string_equal(pod.name, "web-7d9f8-abcde");
	assert_string_equal(pod.ns, "shop");
	assert_string_equal(pod.container, "app");
	assert_int_equal(stats(n).from_runtime, 1);
	gone(n, 4242);
	vigil_pods_lookup(n->pods, event(VIGIL_EV_EXIT, 4242, n->cg), true, &pod);
	assert_string_equal(pod.container, "app");
	/* Another process of the same container, never read: its cgroup tells. */
	vigil_pods_lookup(n->pods, event(VIGIL_EV_SOCK, 999, n->cg), true, &pod);
	assert_string_equal(pod.name, "web-7d9f8-abcde");
	vigil_pods_exit(n->pods, n->cg, 4242);
	vigil_pods_lookup(n->pods, event(VIGIL_EV_SOCK, 4242, n->cg), false, &pod);
	assert_string_equal(pod.uid, UID); /* kept under the cgroup, not the pid */
	assert_int_equal(stats(n).learned, 1);
	assert_int_equal(stats(n).entries, 1);
	/* Without learning, an unknown cgroup is none. */
	vigil_pods_lookup(n->pods, event(VIGIL_EV_SOCK, 4243, n->cg + 1), false, &pod);
	assert_string_equal(pod.uid, "");
	/* k8s off: none. */
	vigil_pods_lookup(NULL, event(VIGIL_EV_SOCK, 4243, n->cg), true, &pod);
	assert_string_equal(pod.uid, "");
}

/* A pid that is another process by the time it is read (it started after the event), or a
 * process that left the event's cgroup: nothing is believed, and nothing kept. */
static void test_refused(void **state)
{
	struct node *n = *state;

	open_pods(n, true, 0);
	fake_proc(n, 4242, "0::" SYSTEMD_PATH "\n", 100000, n->podroot); /* 1000 s > 5 s */
	vigil_pods_lookup(n->pods, event(VIGIL_EV_EXIT, 4242, n->cg), true, &pod);
	assert_string_equal(pod.uid, "");
	assert_int_equal(stats(n).refused, 1);
	assert_int_equal(stats(n).entries, 0);
	fake_proc(n, 4242, "0::" SYSTEMD_PATH "\n", 100, n->podroot);
	vigil_pods_lookup(n->pods, event(VIGIL_EV_EXEC, 4242, n->cg + 7), true, &pod);
	assert_string_equal(pod.uid, "");
	assert_int_equal(stats(n).refused, 2);
	/* Gone before it could be read. */
	gone(n, 4242);
	vigil_pods_lookup(n->pods, event(VIGIL_EV_EXIT, 4242, n->cg), true, &pod);
	assert_string_equal(pod.uid, "");
	assert_int_equal(stats(n).unreadable, 1);
	assert_int_equal(stats(n).entries, 0);
}

/* No runtime state: the pod's name and namespace from the process's own files, resolved inside
 * its root; the container's name stays unknown. */
static void test_fallback(void **state)
{
	struct node *n = *state;
	char secret[256], link[256], p[256];

	open_pods(n, true, 0);
	/* A container whose state the runtime does not have. */
	fake_proc(n, 5000,
		  "0::/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" CID2 ".scope\n",
		  100, n->podroot);
	vigil_pods_lookup(n->pods, event(VIGIL_EV_EXEC, 5000, 77), true, &pod);
	assert_string_equal(pod.uid, UID);
	assert_string_equal(pod.name, "web-7d9f8-abcde");
	assert_string_equal(pod.ns, "shop");
	assert_string_equal(pod.container, "");
	assert_int_equal(stats(n).from_proc, 1);

	/* Off: the uid only. */
	open_pods(n, false, 0);
	vigil_pods_lookup(n->pods, event(VIGIL_EV_EXEC, 5000, 77), true, &pod);
	assert_string_equal(pod.uid, UID);
	assert_string_equal(pod.name, "");
	assert_int_equal(stats(n).unnamed, 1);

	/* The host's own root (a process in a pod's cgroup, not in a container): not its files. */
	open_pods(n, true, 0);
	fake_proc(n, 5001, "0::/kubepods/pod" UID "\n", 100, n->hostroot);
	vigil_pods_lookup(n->pods, event(VIGIL_EV_EXEC, 5001, 78), true, &pod);
	assert_string_equal(pod.uid, UID);
	assert_string_equal(pod.name, "");

	/* /etc/hostname a link to a file of the host's: resolved inside the pod's root, where
	 * there is no such file. The node's own hostname (a hostNetwork pod's): not the pod's. */
	snprintf(secret, sizeof(secret), "%s/secret", n->dir);
	put(secret, "leaked-name\n");
	snprintf(link, sizeof(link), "%s/etc/hostname", n->podroot);
	unlink(link);
	assert_int_equal(symlink(secret, link), 0);
	vigil_pods_lookup(n->pods, event(VIGIL_EV_EXEC, 5000, 79), true, &pod);
	assert_string_equal(pod.name, "");
	assert_string_equal(pod.ns, "shop");
	unlink(link);
	put(link, "node-1\n");
	vigil_pods_lookup(n->pods, event(VIGIL_EV_EXEC, 5000, 80), true, &pod);
	assert_string_equal(pod.name, "");
	/* A FIFO does not block; a name that is not one is left out. */
	unlink(link);
	assert_int_equal(mkfifo(link, 0600), 0);
	snprintf(p, sizeof(p), "%s/var/run/secrets/kubernetes.io/serviceaccount/namespace",
		 n->podroot);
	put(p, "Not_A_Namespace\n");
	vigil_pods_lookup(n->pods, event(VIGIL_EV_EXEC, 5000, 81), true, &pod);
	assert_string_equal(pod.uid, UID);
	assert_string_equal(pod.name, "");
	assert_string_equal(pod.ns, "");
	unlink(link);
	put(link, "web-7d9f8-abcde\n");
	put(p, "shop");
}

/* A process in no pod: kept per cgroup on a v2-only host (its other processes are not read
 * again), per pid on a hybrid one (another process in the same v2 cgroup may be in a pod). */
static void test_not_a_pod(void **state)
{
	struct node *n = *state;

	open_pods(n, true, 0);
	fake_proc(n, 6000, "0::/system.slice/cron.service\n", 100, n->hostroot);
	vigil_pods_lookup(n->pods, event(VIGIL_EV_EXIT, 6000, 90), true, &pod);
	assert_string_equal(pod.uid, "");
	assert_int_equal(stats(n).learned, 1);
	vigil_pods_lookup(n->pods, event(VIGIL_EV_EXIT, 6001, 90), true, &pod);
	assert_int_equal(stats(n).learned, 1);
	assert_int_equal(stats(n).unreadable, 0);

	/* Hybrid: v2 is "/" for everyone, the pod on the v1 lines. */
	fake_proc(n, 6100, "4:memory:/kubepods/burstable/pod" UID "/" CID "\n0::/\n", 100,
		  n->podroot);
	fake_proc(n, 6101, "4:memory:/user.slice\n0::/\n", 100, n->hostroot);
	vigil_pods_lookup(n->pods, event(VIGIL_EV_SOCK, 6100, n->root_cg), true, &pod);
	assert_string_equal(pod.container, "app");
	vigil_pods_lookup(n->pods, event(VIGIL_EV_SOCK, 6101, n->root_cg), true, &pod);
	assert_string_equal(pod.uid, "");
	assert_int_equal(stats(n).entries, 3);
	/* Another pid in the same v2 cgroup, gone: not the pod's by default. */
	vigil_pods_lookup(n->pods, event(VIGIL_EV_EXIT, 6102, n->root_cg), true, &pod);
	assert_string_equal(pod.uid, "");
	/* The pod's process again, at its exit (its start in the event): still known. */
	gone(n, 6100);
	vigil_pods_lookup(n->pods, event(VIGIL_EV_EXIT, 6100, n->root_cg), false, &pod);
	assert_string_equal(pod.container, "app");
	/* The same pid, now another process (started later than the one learnt): read again. */
	fake_proc(n, 6100, "4:memory:/user.slice\n0::/\n", 300, n->hostroot);
	vigil_pods_lookup(n->pods, event(VIGIL_EV_SOCK, 6100, n->root_cg), true, &pod);
	assert_string_equal(pod.uid, "");
	assert_int_equal(stats(n).learned, 4);
	/* An exit forgets what is kept under its pid. */
	vigil_pods_exit(n->pods, n->root_cg, 6101);
	assert_int_equal(stats(n).entries, 2);
}

/* Learnt without an event (a workload's process at start): under its cgroup's inode when that
 * can be told; the table's bound. */
static void test_learn_and_evict(void **state)
{
	struct node *n = *state;

	open_pods(n, true, 2);
	fake_proc(n, 7000, "0::" SYSTEMD_PATH "\n", 100, n->podroot);
	assert_int_equal(vigil_pods_learn(n->pods, 7000, 5000000000ull), 0);
	gone(n, 7000);
	vigil_pods_lookup(n->pods, event(VIGIL_EV_EXIT, 7000, n->cg), false, &pod);
	assert_string_equal(pod.container, "app");
	/* Outside the reader's cgroup namespace: no inode to tell, kept under the pid. */
	fake_proc(n, 7001, "0::/../kubepods-pod" UID_ ".slice/cri-containerd-" CID ".scope\n", 100,
		  n->podroot);
	assert_int_equal(vigil_pods_learn(n->pods, 7001, 5000000000ull), 0);
	vigil_pods_lookup(n->pods, event(VIGIL_EV_EXEC, 7001, 12345), false, &pod);
	assert_string_equal(pod.name, "web-7d9f8-abcde");
	assert_int_equal(stats(n).entries, 2);
	/* A third: the least recently used leaves. */
	fake_proc(n, 7002, "0::/system.slice/cron.service\n", 100, n->hostroot);
	vigil_pods_lookup(n->pods, event(VIGIL_EV_EXIT, 7002, 91), true, &pod);
	assert_int_equal(stats(n).entries, 2);
	assert_int_equal(stats(n).evicted, 1);
	vigil_pods_lookup(n->pods, event(VIGIL_EV_EXIT, 7000, n->cg), false, &pod);
	assert_string_equal(pod.uid, "");
	assert_int_equal(vigil_pods_learn(n->pods, 7000, 1), -ENOENT);
}

static void test_node_runs_pods(void **state)
{
	struct node *n = *state;
	char root[256], p[300];
	struct vigil_pods_opts o = {.cgroup2 = n->cg2, .cgroup_root = root};

	(void)state;
	snprintf(root, sizeof(root), "%s/sysfs", n->dir);
	putf(n, "", "%s/memory/user.slice/x", root);
	o.containerd = "/nonexistent/containerd";
	/* n->cg2 holds kubepods.slice */
	assert_true(vigil_pods_node_runs_pods(&o));
	o.cgroup2 = root;
	assert_false(vigil_pods_node_runs_pods(&o));
	snprintf(p, sizeof(p), "%s/memory/kubepods/x", root);
	put(p, "");
	assert_true(vigil_pods_node_runs_pods(&o));
	o.cgroup_root = "/nonexistent";
	o.crio = n->containerd;
	assert_true(vigil_pods_node_runs_pods(&o));
}

/* --- the incident and its records ------------------------------------------------------------ */

static void test_records(void **state)
{
	static struct vigil_redis_plan plan;
	struct vigil_incident inc = {.id = "0123456789abcdef", .workload_name = "web"};
	struct vigil_json j = {};
	char scratch[4096];
	bool seen = false;

	(void)state;
	assert_int_equal(vigil_record_incident(&j, "n", 0, NULL, &inc), 0);
	assert_null(strstr(j.buf, "k8s"));
	snprintf(inc.pod.uid, sizeof(inc.pod.uid), UID);
	assert_int_equal(vigil_record_incident(&j, "n", 0, NULL, &inc), 0);
	assert_non_null(strstr(j.buf, "\"k8s\":{\"pod_uid\":\"" UID "\"}"));
	snprintf(inc.pod.name, sizeof(inc.pod.name), "web-1");
	snprintf(inc.pod.ns, sizeof(inc.pod.ns), "shop");
	snprintf(inc.pod.container, sizeof(inc.pod.container), "app");
	assert_int_equal(vigil_record_action(&j, "n", 0, NULL, &inc, "restart", "ok", "", 0), 0);
	assert_non_null(strstr(j.buf, "\"k8s\":{\"pod\":\"web-1\",\"namespace\":\"shop\","
				      "\"container\":\"app\",\"pod_uid\":\"" UID "\"}"));
	/* Redis: one field "k8s", its JSON text; the others as they were. */
	assert_int_equal(vigil_record_incident(&j, "n", 0, &(struct vigil_rid){5, 1}, &inc), 0);
	assert_int_equal(vigil_redis_plan(&plan, "v:n:", "v:", "100", j.buf, j.len, scratch, false),
			 0);
	assert_string_equal(plan.cmd[1].argv[0], "HSET");
	for (int i = 2; i + 1 < plan.cmd[1].argc; i += 2) {
		if (plan.cmd[1].argl[i] != 3 || memcmp(plan.cmd[1].argv[i], "k8s", 3))
			continue;
		assert_memory_equal(plan.cmd[1].argv[i + 1], "{\"pod\":\"web-1\"", 14);
		seen = true;
	}
	assert_true(seen);
	vigil_json_free(&j);
}

/* The incident takes the pod of its first fault that had one. */
static void test_incident_pod(void **state)
{
	struct vigil_incidents *t;
	struct vigil_incident *i;
	struct vigil_detection d = {.cls = VIGIL_CLASS_CRASH, .signature = "s1", .title = "t"};
	struct vigil_event_hdr h = {.kind = VIGIL_EV_EXIT, .tgid = 1, .ts_ns = 10};
	bool opened;

	(void)state;
	assert_int_equal(
	    vigil_incidents_new(&(struct vigil_incidents_opts){.window_ms = 60000}, &t), 0);
	i = vigil_incidents_record(t, &h, &d, "web", &opened);
	assert_non_null(i);
	assert_string_equal(i->pod.uid, "");
	snprintf(d.pod.uid, sizeof(d.pod.uid), UID);
	snprintf(d.pod.name, sizeof(d.pod.name), "first");
	h.ts_ns = 20;
	i = vigil_incidents_record(t, &h, &d, "web", &opened);
	assert_false(opened);
	assert_string_equal(i->pod.name, "first");
	snprintf(d.pod.name, sizeof(d.pod.name), "second");
	h.ts_ns = 30;
	i = vigil_incidents_record(t, &h, &d, "web", &opened);
	assert_string_equal(i->pod.name, "first");
	vigil_incidents_free(t);
}

static void test_config(void **state)
{
	struct vigil_config *c;
	char err[512];

	(void)state;
	assert_int_equal(vigil_config_parse("node: n\n", 8, "t", &c, err, sizeof(err)), 0);
	assert_int_equal(c->k8s, VIGIL_K8S_AUTO);
	assert_string_equal(c->k8s_containerd, VIGIL_K8S_CONTAINERD_DIR);
	assert_string_equal(c->k8s_crio, VIGIL_K8S_CRIO_DIR);
	assert_true(c->k8s_proc_fallback);
	vigil_config_free(c);
	{
		static const char y[] = "k8s: { enabled: true, containerd: /host/containerd, "
					"crio: /host/crio, proc_fallback: false }\n";

		assert_int_equal(vigil_config_parse(y, strlen(y), "t", &c, err, sizeof(err)), 0);
		assert_int_equal(c->k8s, VIGIL_K8S_ON);
		assert_string_equal(c->k8s_containerd, "/host/containerd");
		assert_string_equal(c->k8s_crio, "/host/crio");
		assert_false(c->k8s_proc_fallback);
		vigil_config_free(c);
	}
	{
		static const char y[] = "k8s: { enabled: off }\n";

		assert_int_equal(vigil_config_parse(y, strlen(y), "t", &c, err, sizeof(err)), 0);
		assert_int_equal(c->k8s, VIGIL_K8S_OFF);
		vigil_config_free(c);
	}
	{
		static const char y[] = "k8s: { enabled: sometimes }\n";

		assert_int_equal(vigil_config_parse(y, strlen(y), "t", &c, err, sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, "k8s.enabled"));
	}
	{
		static const char y[] = "k8s: { containerd: run/containerd }\n";

		assert_int_equal(vigil_config_parse(y, strlen(y), "t", &c, err, sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, "k8s.containerd"));
	}
	{
		static const char y[] = "k8s: { runtime: containerd }\n";

		assert_int_equal(vigil_config_parse(y, strlen(y), "t", &c, err, sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, "runtime"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_layouts),
	    cmocka_unit_test(test_hostile_paths),
	    cmocka_unit_test(test_proc_cgroup),
	    cmocka_unit_test(test_oci),
	    cmocka_unit_test_setup_teardown(test_learn_at_exec, node_setup, node_teardown),
	    cmocka_unit_test_setup_teardown(test_refused, node_setup, node_teardown),
	    cmocka_unit_test_setup_teardown(test_fallback, node_setup, node_teardown),
	    cmocka_unit_test_setup_teardown(test_not_a_pod, node_setup, node_teardown),
	    cmocka_unit_test_setup_teardown(test_learn_and_evict, node_setup, node_teardown),
	    cmocka_unit_test_setup_teardown(test_node_runs_pods, node_setup, node_teardown),
	    cmocka_unit_test(test_records),
	    cmocka_unit_test(test_incident_pod),
	    cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
