// SPDX-License-Identifier: Apache-2.0
/*
 * Integration: a crashed process's pod on its incident and its OTLP log record, on the real
 * BPF programs, a real cgroup v2 directory and the real OTLP receiver (tests/lib/otlp_receiver.js,
 * which decodes with the official OpenTelemetry protobuf definitions).
 *
 *   - a watched process is put in a cgroup v2 directory laid out as kubelet's systemd driver
 *     makes a containerd container's (kubepods.slice/kubepods-burstable.slice/
 *     kubepods-burstable-pod<UID>.slice/cri-containerd-<ID>.scope, made and removed here);
 *     containerd's state for that container is a config.json under a directory of the test's,
 *     named in k8s.containerd; vigil learns the pod at the exec; the process then faults
 *     (SIGSEGV) and is reaped — its /proc gone, its cgroup removed — and the incident record's
 *     "k8s" and the log record's resource (k8s.pod.name, k8s.namespace.name,
 *     k8s.container.name, k8s.pod.uid) name it;
 *   - the same fault of a process in no pod: no "k8s", no k8s.* attribute;
 *   - vigil status counts what it learnt.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "otlp_server.h"

#define WAIT_MS 8000
#define CGROOT "/sys/fs/cgroup/unified"

static struct {
	struct vt_otlp rx;
	char why[256];
	bool up;
	/* the pod's cgroup directories, outermost first; made[i]: by this test */
	char dirs[4][512];
	bool made[4];
	bool have_cgroup;
	char uid[40], cid[80];
	struct vt v;
	bool started;
} g;

/* kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<UID_>.slice/
 * cri-containerd-<CID>.scope under CGROOT, each level made unless it exists. */
static bool make_pod_cgroup(void)
{
	char uid_[40];
	int pid = getpid();

	snprintf(g.uid, sizeof(g.uid), "%08x-7e57-4c8a-9d00-%012x", (unsigned int)pid,
		 (unsigned int)pid);
	snprintf(uid_, sizeof(uid_), "%s", g.uid);
	for (char *c = uid_; *c; c++)
		if (*c == '-')
			*c = '_';
	snprintf(g.cid, sizeof(g.cid), "%08x%056x", (unsigned int)pid, 0xc0ffee);
#define BURSTABLE CGROOT "/kubepods.slice/kubepods-burstable.slice"
	snprintf(g.dirs[0], sizeof(g.dirs[0]), CGROOT "/kubepods.slice");
	snprintf(g.dirs[1], sizeof(g.dirs[1]), BURSTABLE);
	snprintf(g.dirs[2], sizeof(g.dirs[2]), BURSTABLE "/kubepods-burstable-pod%s.slice", uid_);
	snprintf(g.dirs[3], sizeof(g.dirs[3]),
		 BURSTABLE "/kubepods-burstable-pod%s.slice/cri-containerd-%s.scope", uid_, g.cid);
	for (int i = 0; i < 4; i++) {
		if (!mkdir(g.dirs[i], 0755))
			g.made[i] = true;
		else if (errno != EEXIST)
			return false;
	}
	return true;
}

static void remove_pod_cgroup(void)
{
	for (int i = 3; i >= 0; i--)
		if (g.made[i] && rmdir(g.dirs[i]))
			fprintf(stderr, "test_k8s: rmdir %s: %s\n", g.dirs[i], strerror(errno));
}

/* containerd's state of the container: DIR/containerd/<CID>/config.json, as containerd's CRI
 * plugin writes it (abridged). */
static void write_runtime_state(const char *dir)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/containerd", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/containerd/%s", dir, g.cid);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/containerd/%s/config.json", dir, g.cid);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f,
		"{\"ociVersion\":\"1.1.0\",\"process\":{\"args\":[\"/app\"],\"cwd\":\"/\"},"
		"\"root\":{\"path\":\"rootfs\"},\"annotations\":{"
		"\"io.kubernetes.cri.container-name\":\"storyteller\","
		"\"io.kubernetes.cri.container-type\":\"container\","
		"\"io.kubernetes.cri.image-name\":\"registry.example/storyteller:1.4\","
		"\"io.kubernetes.cri.sandbox-id\":\"%064x\","
		"\"io.kubernetes.cri.sandbox-name\":\"storyteller-5f7c9d-x2x9q\","
		"\"io.kubernetes.cri.sandbox-namespace\":\"storytelling\","
		"\"io.kubernetes.cri.sandbox-uid\":\"%s\"}}\n",
		0xabc, g.uid);
	fclose(f);
}

static int group_setup(void **state)
{
	char yaml[2048];
	int rc;

	(void)state;
	rc = vt_otlp_init(&g.rx, g.why, sizeof(g.why));
	if (rc < 0)
		return -1;
	g.up = rc == 0;
	g.have_cgroup = make_pod_cgroup();
	if (!g.up || !g.have_cgroup)
		return 0;
	if (vt_init(&g.v))
		return -1;
	write_runtime_state(g.v.dir);
	snprintf(yaml, sizeof(yaml),
		 "node: t-k8s\n"
		 "window: 2s\n"
		 "otlp:\n"
		 "  endpoint: http://127.0.0.1:%d/\n"
		 "  timeout: 2s\n"
		 "  spool: \"@DIR@/otlp.spool\"\n"
		 "k8s:\n"
		 "  enabled: true\n"
		 "  containerd: \"@DIR@/containerd\"\n"
		 "  crio: \"@DIR@/crio\"\n"
		 "workloads:\n"
		 "  - name: storyteller\n"
		 "    match: { comm: vt-k8s-pod }\n"
		 "  - name: batch\n"
		 "    match: { comm: vt-k8s-host }\n",
		 g.rx.port);
	if (vt_start(&g.v, yaml, NULL))
		return -1;
	g.started = true;
	return 0;
}

static int group_teardown(void **state)
{
	int rc = 0;

	(void)state;
	if (g.started)
		rc = vt_stop(&g.v);
	if (g.up && g.have_cgroup)
		vt_fini(&g.v);
	vt_otlp_fini(&g.rx);
	remove_pod_cgroup();
	return rc ? -1 : 0;
}

static void need_all(void)
{
	if (!g.up) {
		printf("test_k8s: skipped: %s\n", g.why);
		skip();
	}
	if (!g.have_cgroup) {
		printf("test_k8s: skipped: cannot make a cgroup under " CGROOT
		       " (vigil doctor: cgroup v2)\n");
		skip();
	}
}

/* got is want; a missing one (NULL) fails the test, saying which. */
#define assert_str(got, want)                                                                      \
	do {                                                                                       \
		const char *g_ = (got);                                                            \
		if (!g_)                                                                           \
			fail_msg("%s: absent, %s expected", #got, (want));                         \
		assert_string_equal(g_, (want));                                                   \
	} while (0)

/* The receiver decoded every request. */
static void no_decode_errors(void)
{
	json_t *e = vt_otlp_lines(&g.rx, "errors.jsonl");

	if (json_array_size(e)) {
		char *s = json_dumps(e, JSON_COMPACT);

		fail_msg("the receiver refused requests: %s", s);
	}
	json_decref(e);
}

/* The first decoded log record whose vigil.incident.id is id, waiting timeout_ms at most (the
 * caller json_decrefs), or NULL. */
static json_t *wait_log(const char *id, int timeout_ms)
{
	for (int waited = 0;; waited += 100) {
		json_t *all = vt_otlp_lines(&g.rx, "logs.jsonl"), *l, *got = NULL;
		size_t i;

		json_array_foreach(all, i, l)
		{
			const char *v = json_string_value(json_object_get(
			    json_object_get(json_object_get(l, "record"), "attributes"),
			    "vigil.incident.id"));

			if (v && !strcmp(v, id)) {
				got = json_incref(l);
				break;
			}
		}
		json_decref(all);
		if (got || waited >= timeout_ms)
			return got;
		usleep(100000);
	}
}

static const char *resource(json_t *l, const char *key)
{
	return json_string_value(json_object_get(json_object_get(l, "resource"), key));
}

/* Run faulty as name (in the pod's cgroup when procs is given) and wait for vigil to hear of
 * its exec. Returns its pid. */
static pid_t start(const char *procs, const char *name)
{
	static const char *const args[] = {"segv-on-usr1", NULL};
	sigset_t usr1, old;
	char pid[16];
	pid_t p;

	/* Blocked from the fork on (a mask outlives exec): SIGUSR1 waits for faulty's sigwait,
	 * however soon it is sent after the exec. */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &old);
	p = vt_exec_in(procs, vt_link(&g.v, name), args);
	sigprocmask(SIG_SETMASK, &old, NULL);
	assert_true(p > 0);
	snprintf(pid, sizeof(pid), "%d", p);
	assert_non_null(vt_wait(&g.v, WAIT_MS, "event", "class", "exec", "pid", pid, NULL));
	return p;
}

/* Let it fault (a SIGSEGV of its own), and reap it. */
static void crash(pid_t p)
{
	int status;

	assert_int_equal(kill(p, SIGUSR1), 0);
	status = vt_reap(p);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSEGV);
}

/* A pod's process crashes: its incident and its log record name the pod. */
static void test_pod_crash(void **state)
{
	char procs[600], pid[16], path[512];
	json_t *inc, *k8s, *l, *st;
	pid_t p;

	(void)state;
	need_all();
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", g.dirs[3]);
	p = start(procs, "vt-k8s-pod");
	snprintf(pid, sizeof(pid), "%d", p);
	/* As the runtime does once a crashed container's task is deleted: its state is gone
	 * before vigil writes the incident. What vigil knows, it learnt at the exec. */
	snprintf(path, sizeof(path), "%s/containerd/%s/config.json", g.v.dir, g.cid);
	assert_int_equal(unlink(path), 0);
	crash(p);
	inc = vt_wait(&g.v, WAIT_MS, "incident", "class", "crash", "workload", "storyteller", "pid",
		      pid, NULL);
	assert_non_null(inc);
	k8s = json_object_get(inc, "k8s");
	if (!k8s) {
		vt_dump(&g.v, "pid", pid);
		fail_msg("the incident has no k8s");
	}
	assert_str(json_string_value(json_object_get(k8s, "pod")), "storyteller-5f7c9d-x2x9q");
	assert_str(json_string_value(json_object_get(k8s, "namespace")), "storytelling");
	assert_str(json_string_value(json_object_get(k8s, "container")), "storyteller");
	assert_str(json_string_value(json_object_get(k8s, "pod_uid")), g.uid);
	/* Its process is gone, and its cgroup may go too: the record was already made. */
	l = wait_log(vt_str(inc, "id"), WAIT_MS);
	assert_non_null(l);
	no_decode_errors();
	{
		char *r = json_dumps(inc, JSON_COMPACT), *o = json_dumps(l, JSON_COMPACT);

		printf("incident record: %s\nOTLP log record as decoded: %s\n", r, o);
		free(r);
		free(o);
	}
	assert_str(resource(l, "service.name"), "storyteller");
	assert_str(resource(l, "host.name"), "t-k8s");
	assert_str(resource(l, "k8s.pod.name"), "storyteller-5f7c9d-x2x9q");
	assert_str(resource(l, "k8s.namespace.name"), "storytelling");
	assert_str(resource(l, "k8s.container.name"), "storyteller");
	assert_str(resource(l, "k8s.pod.uid"), g.uid);
	json_decref(l);
	st = vt_ctl(&g.v, "status", NULL);
	assert_non_null(st);
	k8s = json_object_get(st, "k8s");
	assert_true(json_is_true(json_object_get(k8s, "enabled")));
	assert_true(vt_int(k8s, "in_pods") >= 1);
	assert_true(vt_int(k8s, "from_runtime") >= 1);
	assert_int_equal(vt_int(k8s, "refused"), 0);
	json_decref(st);
	{
		char cmd[1024];

		snprintf(
		    cmd, sizeof(cmd),
		    "%s status --ctl %s | grep -q '^k8s  *[0-9]* processes read, [1-9][0-9]* in "
		    "pods ([1-9][0-9]* named by the runtime'",
		    g.v.vigil_bin, g.v.ctl);
		assert_int_equal(system(cmd), 0);
	}
}

/* A process in no pod: its incident and log record carry no k8s at all. */
static void test_host_crash(void **state)
{
	json_t *inc, *l, *res;
	char pid[16];
	const char *key;
	json_t *v;
	pid_t p;

	(void)state;
	need_all();
	p = start(NULL, "vt-k8s-host");
	snprintf(pid, sizeof(pid), "%d", p);
	crash(p);
	inc = vt_wait(&g.v, WAIT_MS, "incident", "class", "crash", "workload", "batch", "pid", pid,
		      NULL);
	assert_non_null(inc);
	assert_null(json_object_get(inc, "k8s"));
	l = wait_log(vt_str(inc, "id"), WAIT_MS);
	assert_non_null(l);
	no_decode_errors();
	res = json_object_get(l, "resource");
	assert_str(resource(l, "service.name"), "batch");
	json_object_foreach(res, key, v) assert_false(!strncmp(key, "k8s.", 4));
	json_decref(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pod_crash),
	    cmocka_unit_test(test_host_crash),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
