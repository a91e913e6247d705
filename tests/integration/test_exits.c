// SPDX-License-Identifier: Apache-2.0
/*
 * Integration: the real exits programs, loaded by the real build/vigil, against real faults.
 *
 * Each fault is caused by tests/helpers/faulty run under a name (its comm) that a workload
 * of the test config matches, or does not. Negative checks never sleep-and-hope: after the
 * fault that must not be reported, a watched sentinel fault is caused, and once the sentinel
 * is in the journal (the ring buffer is ordered) the absence of the first is a fact.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "kernel/loader.h"

#define WAIT_MS 5000

static const char config[] =
    "observe_all: false\n"
    "window: 2s\n"
    "workloads:\n"
    "  - name: crasher\n"
    "    match: { comm: vt-crasher }\n"
    "  - name: hog\n"
    "    match: { comm: vt-hog }\n"
    "  - name: svc\n"
    "    match: { comm: vt-svc }\n"
    "    verify: 500ms\n"
    "    heal:\n"
    "      - on: [crash]\n"
    "        level: 1\n"
    "        action: { restart: { exec: [\"@LINK:vt-svc@\", serve] } }\n"
    "    policy: { allow_comm_only: true, allowed_exec: [\"@LINK:vt-svc@\"] }\n"
    "  - name: gated\n"
    "    match: { comm: vt-gated }\n"
    "    verify: 300ms\n"
    "    heal:\n"
    "      - on: [crash]\n"
    "        level: 3\n"
    "        action: { restart: { exec: [\"@LINK:vt-gated@\", serve] } }\n"
    "    policy: { allow_comm_only: true, allowed_exec: [\"@LINK:vt-gated@\"] }\n"
    "  - name: retrier\n"
    "    match: { comm: vt-retrier }\n"
    "    heal:\n"
    "      - on: [crash]\n"
    "        name: retry_with_backoff\n"
    "        level: 1\n"
    "        retry: { attempts: 3, backoff: 300ms, max: 500ms }\n"
    "        action: { restart: { command: [/bin/false] } }\n"
    "    policy: { allow_comm_only: true, allowed_exec: [/bin/false] }\n";

struct fixture {
	struct vt v;
	pid_t svc; /* started before vigil: found by the /proc scan */
};

/* A watched fault after which every earlier fault is in the journal, or never will be. */
static void sentinel(struct vt *v, int code)
{
	char want[16];
	const char *args[] = {"exit", want, NULL};
	pid_t pid;

	snprintf(want, sizeof(want), "%d", code);
	pid = vt_run(v, "vt-crasher", args);
	vt_reap(pid);
	assert_non_null(
	    vt_wait(v, WAIT_MS, "incident", "class", "exit_nonzero", "exit_code", want, NULL));
}

static int setup_group(void **state, const char *const *extra)
{
	static const char *const serve[] = {"serve", NULL};
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || vt_init(&f->v))
		return -1;
	f->svc = vt_run(&f->v, "vt-svc", serve);
	usleep(100000); /* let it exec, so /proc shows comm vt-svc */
	if (vt_start(&f->v, config, extra)) {
		kill(f->svc, SIGKILL);
		return -1;
	}
	*state = f;
	return 0;
}

static int setup_btf(void **state)
{
	return setup_group(state, NULL);
}

static int setup_classic(void **state)
{
	static const char *const extra[] = {"--probes", "tracepoint", NULL};

	return setup_group(state, extra);
}

static int teardown_group(void **state)
{
	struct fixture *f = *state;
	int rc = vt_stop(&f->v);

	if (rc != 0)
		fprintf(stderr, "vigil exited with %d on SIGTERM:\n%s\n", rc, f->v.errbuf);
	vt_fini(&f->v);
	if (f->svc > 0) {
		kill(f->svc, SIGKILL);
		waitpid(f->svc, NULL, WNOHANG);
	}
	free(f);
	return rc == 0 ? 0 : -1;
}

static void test_probe_mode(void **state, const char *mode)
{
	struct fixture *f = *state;
	char want[64];

	snprintf(want, sizeof(want), "%s probes", mode);
	assert_non_null(strstr(f->v.errbuf, want));
}

static void test_mode_btf(void **state)
{
	test_probe_mode(state, "tp_btf");
}

static void test_mode_classic(void **state)
{
	test_probe_mode(state, "tracepoint");
}

/* A watched child killed by SIGSEGV: a crash incident with signal 11, detected fast. */
static void test_segv_is_crash(void **state)
{
	static const char *const args[] = {"segv", NULL};
	struct fixture *f = *state;
	uint64_t t0 = vt_mono_ns();
	json_t *inc, *ev;
	char pid[16];
	int status;
	pid_t p;

	p = vt_run(&f->v, "vt-crasher", args);
	status = vt_reap(p);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
	snprintf(pid, sizeof(pid), "%d", p);
	inc = vt_wait(&f->v, WAIT_MS, "incident", "class", "crash", "pid", pid, NULL);
	assert_non_null(inc);
	assert_string_equal(vt_str(inc, "workload"), "crasher");
	assert_int_equal(vt_int(inc, "signal"), 11);
	assert_string_equal(vt_str(inc, "state"), "open");
	assert_string_equal(vt_str(inc, "title"), "crasher crash SIGSEGV");
	assert_int_equal(strlen(vt_str(inc, "signature")), 16);
	ev = vt_wait(&f->v, 0, "event", "class", "crash", "pid", pid, NULL);
	assert_non_null(ev);
	assert_string_equal(vt_str(ev, "comm"), "vt-crasher");
	assert_int_equal(vt_int(ev, "signal"), 11);
	/* The kernel sent SIGSEGV in the faulting task's own context. */
	assert_int_equal(vt_int(ev, "sender_pid"), p);
	printf("    detection: kernel exit -> incident record %lld us (vigil's clocks); "
	       "fault -> record read back from the journal %.1f ms (the test's clock)\n",
	       vt_int(inc, "detect_us"), (vt_mono_ns() - t0) / 1e6);
	assert_true(vt_int(inc, "detect_us") >= 0 && vt_int(inc, "detect_us") < 100000);
}

/* The same fault again has the same signature: no pid, no time in it. */
static void test_signature_stable(void **state)
{
	static const char *const args[] = {"segv", NULL};
	struct fixture *f = *state;
	json_t *first;
	char sig[32];

	first = vt_wait(&f->v, WAIT_MS, "incident", "class", "crash", "workload", "crasher", NULL);
	assert_non_null(first);
	snprintf(sig, sizeof(sig), "%s", vt_str(first, "signature"));
	vt_reap(vt_run(&f->v, "vt-crasher", args));
	/* Within the window: the same incident, counted twice. */
	assert_non_null(vt_wait(&f->v, WAIT_MS, "incident", "signature", sig, "count", "2", NULL));
}

static void test_exit_code_is_exit_nonzero(void **state)
{
	static const char *const args[] = {"exit", "3", NULL};
	struct fixture *f = *state;
	json_t *inc;
	char pid[16];
	pid_t p;

	p = vt_run(&f->v, "vt-crasher", args);
	assert_int_equal(WEXITSTATUS(vt_reap(p)), 3);
	snprintf(pid, sizeof(pid), "%d", p);
	inc = vt_wait(&f->v, WAIT_MS, "incident", "class", "exit_nonzero", "pid", pid, NULL);
	assert_non_null(inc);
	assert_int_equal(vt_int(inc, "exit_code"), 3);
	assert_int_equal(vt_int(inc, "signal"), 0);
	assert_string_equal(vt_str(inc, "title"), "crasher exit_nonzero status=3");
}

/* The collector's count of valid records, from vigil status; -1 if it did not answer. */
static long long records_read(struct vt *v)
{
	json_t *st = vt_ctl(v, "status", NULL);
	long long n = -1;

	if (st)
		n = vt_int(json_object_get(st, "collector"), "records");
	json_decref(st);
	return n;
}

/*
 * Routine records (a workload's exec and its clean exit) do not wake the collector
 * (bpf/wake.bpf.h): a burst of them with no fault after it is still delivered whole, by the
 * drain that follows every drain that found records. Without that drain, a record committed
 * in the millisecond after a wake-up (a process's exit right after its exec) would wait for
 * the next fault of the host, and the last ones here would never be counted.
 */
static void test_routine_records_drained(void **state)
{
	static const char *const args[] = {"exit", "0", NULL};
	struct fixture *f = *state;
	long long before, got = -1;
	json_t *st, *coll;
	uint64_t t0;
	int i;

	/* Let whatever earlier tests left be drained first. */
	usleep(100 * 1000);
	before = records_read(&f->v);
	assert_true(before >= 0);
	for (i = 0; i < 10; i++)
		assert_int_equal(WEXITSTATUS(vt_reap(vt_run(&f->v, "vt-crasher", args))), 0);
	/* Each process: its exec and its exit, two routine records. */
	t0 = vt_mono_ns();
	while (vt_mono_ns() - t0 < 2000ull * 1000000) {
		got = records_read(&f->v);
		if (got >= before + 20)
			break;
		usleep(10 * 1000);
	}
	st = vt_ctl(&f->v, "status", NULL);
	coll = json_object_get(st, "collector");
	printf("    20 routine records delivered in %.1f ms; the collector: %lld wake-ups, %lld "
	       "timed drains so far\n",
	       (vt_mono_ns() - t0) / 1e6, vt_int(coll, "wakeups"), vt_int(coll, "timed_drains"));
	assert_true(vt_int(coll, "timed_drains") > 0);
	json_decref(st);
	assert_true(got >= before + 20);
}

/* A crash in a process with several threads is one exit, not one per thread. */
static void test_threads_one_exit(void **state)
{
	static const char *const args[] = {"threads-segv", "4", NULL};
	struct fixture *f = *state;
	char pid[16];
	pid_t p;

	p = vt_run(&f->v, "vt-crasher", args);
	assert_true(WIFSIGNALED(vt_reap(p)));
	snprintf(pid, sizeof(pid), "%d", p);
	sentinel(&f->v, 41);
	assert_int_equal(vt_count(&f->v, "event", "class", "crash", "pid", pid, NULL), 1);
}

/* abort() with core dumps allowed: a crash with SIGABRT and core_dumped true. */
static void test_abort_core(void **state)
{
	static const char *const args[] = {"abort", NULL};
	struct rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY}, old;
	struct fixture *f = *state;
	char pid[16], cwd[512];
	json_t *ev;
	pid_t p;

	/* The core lands in the scratch directory (core_pattern "core" is relative). */
	getrlimit(RLIMIT_CORE, &old);
	setrlimit(RLIMIT_CORE, &unlimited);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(f->v.dir), 0);
	p = vt_run(&f->v, "vt-crasher", args);
	assert_int_equal(chdir(cwd), 0);
	setrlimit(RLIMIT_CORE, &old);
	assert_true(WIFSIGNALED(vt_reap(p)));
	snprintf(pid, sizeof(pid), "%d", p);
	ev = vt_wait(&f->v, WAIT_MS, "event", "class", "crash", "pid", pid, NULL);
	assert_non_null(ev);
	assert_int_equal(vt_int(ev, "signal"), SIGABRT);
	assert_true(json_is_true(json_object_get(ev, "core_dumped")));
}

/* A process nobody watches crashes: nothing is reported. */
static void test_unwatched_crash_ignored(void **state)
{
	static const char *const args[] = {"segv", NULL};
	struct fixture *f = *state;
	char pid[16];
	pid_t p;

	p = vt_run(&f->v, "vt-bystander", args);
	assert_true(WIFSIGNALED(vt_reap(p)));
	snprintf(pid, sizeof(pid), "%d", p);
	sentinel(&f->v, 42);
	assert_int_equal(vt_count(&f->v, "event", "pid", pid, NULL), 0);
	assert_int_equal(vt_count(&f->v, "incident", "pid", pid, NULL), 0);
}

/* SIGTERM from someone else is a stop, not a crash: an event naming the sender, no incident. */
static void test_sigterm_is_not_a_crash(void **state)
{
	static const char *const args[] = {"serve", NULL};
	struct fixture *f = *state;
	char pid[16], me[16];
	json_t *ev;
	pid_t p;

	p = vt_run(&f->v, "vt-crasher", args);
	snprintf(pid, sizeof(pid), "%d", p);
	snprintf(me, sizeof(me), "%d", getpid());
	/* Watched from its exec on: the kernel says so with an exec event. */
	assert_non_null(vt_wait(&f->v, WAIT_MS, "event", "class", "exec", "pid", pid, NULL));
	kill(p, SIGTERM);
	vt_reap(p);
	ev = vt_wait(&f->v, WAIT_MS, "event", "class", "killed", "pid", pid, NULL);
	assert_non_null(ev);
	assert_int_equal(vt_int(ev, "signal"), SIGTERM);
	assert_int_equal(vt_int(ev, "sender_pid"), getpid());
	sentinel(&f->v, 43);
	assert_int_equal(vt_count(&f->v, "incident", "pid", pid, NULL), 0);
}

/* A child of a watched process belongs to its workload, even under another name. */
static void test_child_inherits_workload(void **state)
{
	struct fixture *f = *state;
	const char *kid = vt_link(&f->v, "vt-kid");
	char kidpath[256];
	json_t *inc;

	snprintf(kidpath, sizeof(kidpath), "%s", kid);
	{
		const char *const args[] = {"fork-exec", kidpath, "segv", NULL};

		vt_reap(vt_run(&f->v, "vt-crasher", args));
	}
	inc = vt_wait(&f->v, WAIT_MS, "event", "class", "crash", "comm", "vt-kid", NULL);
	assert_non_null(inc);
	assert_string_equal(vt_str(inc, "workload"), "crasher");
}

/* A real OOM kill in a v1 memory cgroup: oom_kill, attributed to the victim. */
static void test_oom_kill(void **state)
{
	static const char *const args[] = {"alloc", "2048", NULL};
	struct fixture *f = *state;
	char cg[128], procs[192], pid[16];
	json_t *inc, *ev;
	long long rss, vm;
	int status;
	pid_t p;

	if (vt_memcg(cg, sizeof(cg), "vigil-test", 32 << 20)) {
		printf("    SKIPPED: no cgroup v1 memory controller at /sys/fs/cgroup/memory "
		       "(vigil doctor: memory cgroup)\n");
		skip();
	}
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
	p = vt_exec_in(procs, vt_link(&f->v, "vt-hog"), args);
	status = vt_reap(p);
	rmdir(cg);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	snprintf(pid, sizeof(pid), "%d", p);
	inc = vt_wait(&f->v, WAIT_MS, "incident", "class", "oom_kill", "pid", pid, NULL);
	assert_non_null(inc);
	assert_string_equal(vt_str(inc, "workload"), "hog");
	assert_string_equal(vt_str(inc, "title"), "hog oom_kill");
	ev = vt_wait(&f->v, WAIT_MS, "event", "class", "oom_victim", "pid", pid, NULL);
	assert_non_null(ev);
	/* Its sizes: the victim's, read from its mm (tp_btf: percpu counters from 6.2, atomics
	 * before) or named by the classic event (6.8+); left out where the kernel tells none. */
	rss = vt_int(ev, "rss_kib");
	vm = vt_int(ev, "total_vm_kib");
	if (strstr(f->v.errbuf, "tracepoint probes") && !vigil_kernel_oom_tp_has_sizes()) {
		printf("    classic oom/mark_victim names no sizes before 6.8: none reported\n");
		assert_int_equal(rss, -1);
		assert_int_equal(vm, -1);
		return;
	}
	printf("    oom victim: rss %lld KiB, total_vm %lld KiB (limit 32 MiB)\n", rss, vm);
	assert_in_range(rss, 1024, 64 << 10);
	assert_true(vm >= rss);
}

static long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static int write_long(const char *path, long v)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f, "%ld\n", v);
	return fclose(f);
}

/* A watched task stuck in D state: the kernel's hung-task detector (its timeout lowered to
 * 2 s for the test, then restored) reports it, and vigil makes a hang incident of it. */
static void test_hang(void **state)
{
	static const char *timeout_path = "/proc/sys/kernel/hung_task_timeout_secs";
	static const char *warn_path = "/proc/sys/kernel/hung_task_warnings";
	struct fixture *f = *state;
	char file[128], pid[16];
	long timeout, warnings;
	json_t *inc;
	pid_t p;

	timeout = read_long(timeout_path);
	warnings = read_long(warn_path);
	if (timeout < 0) {
		printf("    SKIPPED: no %s: the kernel has no hung-task detector "
		       "(vigil doctor: sched_process_hang)\n",
		       timeout_path);
		skip();
	}
	snprintf(file, sizeof(file), "%s/hang.out", f->v.dir);
	/* No stack traces in the kernel log for a test's hang. */
	write_long(warn_path, 0);
	write_long(timeout_path, 2);
	{
		const char *args[] = {"hang", file, NULL};

		p = vt_run(&f->v, "vt-crasher", args);
	}
	snprintf(pid, sizeof(pid), "%d", p);
	inc = vt_wait(&f->v, 15000, "incident", "class", "hang", "pid", pid, NULL);
	write_long(timeout_path, timeout);
	write_long(warn_path, warnings);
	kill(p, SIGKILL);
	vt_reap(p);
	assert_non_null(inc);
	assert_string_equal(vt_str(inc, "title"), "crasher hang");
	assert_non_null(vt_wait(&f->v, 0, "event", "class", "hang", "pid", pid, NULL));
}

/* Run `build/vigil approve ID` against the test's daemon; returns its exit status. */
/* `vigil VERB ID [--reason REASON]`; returns its exit status, and its pid in *who. */
static int decide(struct vt *v, const char *verb, const char *id, const char *reason, pid_t *who)
{
	const char *args[] = {verb, id, "--ctl", v->ctl, reason ? "--reason" : NULL, reason, NULL};
	pid_t pid = vt_exec_in(NULL, v->vigil_bin, args);
	int status = vt_reap(pid);

	if (who)
		*who = pid;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int approve(struct vt *v, const char *id)
{
	return decide(v, "approve", id, NULL, NULL);
}

/* Level 3: a crash waits for a person; `vigil approve ID` lets the restart run. */
static void test_level3_waits_for_approve(void **state)
{
	static const char *const serve[] = {"serve", NULL};
	struct fixture *f = *state;
	char pid[16], id[32], want[128];
	json_t *inc, *ok, *rec;
	pid_t p, client;

	p = vt_run(&f->v, "vt-gated", serve);
	snprintf(pid, sizeof(pid), "%d", p);
	assert_non_null(vt_wait(&f->v, WAIT_MS, "event", "class", "exec", "pid", pid, NULL));
	kill(p, SIGSEGV);
	vt_reap(p);
	inc = vt_wait(&f->v, WAIT_MS, "incident", "workload", "gated", "state", "awaiting_approval",
		      NULL);
	assert_non_null(inc);
	snprintf(id, sizeof(id), "%s", vt_str(inc, "id"));
	/* Nothing runs before the approval. */
	assert_int_equal(vt_count(&f->v, "action", "incident", id, "outcome", "intent", NULL), 0);
	assert_int_equal(approve(&f->v, "0000000000000000"), 1); /* no such incident */
	assert_int_equal(decide(&f->v, "approve", id, "the show is over", &client), 0);
	rec = vt_wait(&f->v, WAIT_MS, "action", "incident", id, "outcome", "approved", NULL);
	assert_non_null(rec);
	/* Who, from the socket's peer credentials, and why. */
	snprintf(want, sizeof(want), "approved by root (uid 0, pid %d): the show is over", client);
	assert_string_equal(vt_str(rec, "detail"), want);
	ok = vt_wait(&f->v, WAIT_MS, "action", "incident", id, "outcome", "success", NULL);
	assert_non_null(ok);
	assert_int_equal(approve(&f->v, id), 1); /* not awaiting approval any more */
	kill((pid_t)vt_int(ok, "pid"), SIGKILL);
}

/* `vigil deny ID --reason`: recorded with who and why; the action never runs; the incident is
 * left open to people. */
static void test_level3_denied(void **state)
{
	static const char *const serve[] = {"serve", NULL};
	struct fixture *f = *state;
	char pid[16], id[32], want[128];
	json_t *inc, *rec;
	pid_t p, client;

	p = vt_run(&f->v, "vt-gated", serve);
	snprintf(pid, sizeof(pid), "%d", p);
	assert_non_null(vt_wait(&f->v, WAIT_MS, "event", "class", "exec", "pid", pid, NULL));
	kill(p, SIGABRT);
	vt_reap(p);
	inc = vt_wait(&f->v, WAIT_MS, "incident", "workload", "gated", "state", "awaiting_approval",
		      "signal", "6", NULL);
	assert_non_null(inc);
	snprintf(id, sizeof(id), "%s", vt_str(inc, "id"));
	assert_int_equal(decide(&f->v, "deny", id, "not now", &client), 0);
	rec = vt_wait(&f->v, WAIT_MS, "action", "incident", id, "outcome", "denied", NULL);
	assert_non_null(rec);
	snprintf(want, sizeof(want), "denied by root (uid 0, pid %d): not now", client);
	assert_string_equal(vt_str(rec, "detail"), want);
	assert_non_null(vt_wait(&f->v, WAIT_MS, "incident", "id", id, "state", "open", NULL));
	assert_int_equal(approve(&f->v, id), 1); /* not awaiting approval any more */
	assert_int_equal(vt_count(&f->v, "action", "incident", id, "outcome", "intent", NULL), 0);
}

/* The restart rule brings a crashed service back with a new pid, and the journal says so. */
static void test_restart_crashed_service(void **state)
{
	struct fixture *f = *state;
	char pid[16], comm[64], path[64];
	json_t *inc, *started, *ok;
	uint64_t t0;
	long long newpid;
	FILE *fp;

	assert_true(f->svc > 0);
	snprintf(pid, sizeof(pid), "%d", f->svc);
	t0 = vt_wall_ms();
	kill(f->svc, SIGSEGV);
	vt_reap(f->svc);
	f->svc = -1;
	inc = vt_wait(&f->v, WAIT_MS, "incident", "class", "crash", "workload", "svc", "pid", pid,
		      NULL);
	assert_non_null(inc);
	started = vt_wait(&f->v, WAIT_MS, "action", "incident", vt_str(inc, "id"), "outcome",
			  "started", NULL);
	assert_non_null(started);
	newpid = vt_int(started, "pid");
	assert_true(newpid > 0 && newpid != atoll(pid));
	ok = vt_wait(&f->v, WAIT_MS, "action", "incident", vt_str(inc, "id"), "outcome", "success",
		     NULL);
	assert_non_null(ok);
	assert_int_equal(vt_int(ok, "pid"), newpid);
	assert_non_null(vt_wait(&f->v, WAIT_MS, "incident", "id", vt_str(inc, "id"), "state",
				"resolved", NULL));
	/* Really running, under the workload's name. */
	snprintf(path, sizeof(path), "/proc/%lld/comm", newpid);
	fp = fopen(path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(comm, sizeof(comm), fp));
	fclose(fp);
	assert_string_equal(comm, "vt-svc\n");
	printf("    restart: crash -> restarted process running %llu ms; "
	       "verified up (incident resolved) after %llu ms\n",
	       (unsigned long long)(vt_ts_ms(vt_str(started, "ts")) - t0),
	       (unsigned long long)(vt_ts_ms(vt_str(ok, "ts")) - t0));
	/* The restarted service is vigil's child (setsid); it is ours to stop now. */
	kill((pid_t)newpid, SIGKILL);
}

/*
 * retry: a rule whose action always fails (its command exits 1), 3 attempts after 300 ms
 * doubling to at most 500 ms, jittered. The audit trail has each attempt's intent, each
 * failure's "retry" record with the wait it announced, and one final "failed"; the real gaps
 * between a failure and the next intent are those waits.
 */
static void test_retry_backoff(void **state)
{
	static const char *const serve[] = {"serve", NULL};
	struct fixture *f = *state;
	json_t *inc, *rec;
	char pid[16];
	uint64_t failed_ms = 0;
	unsigned int intents = 0, retries = 0, waits[2] = {};
	size_t i;
	pid_t p = vt_run(&f->v, "vt-retrier", serve);

	snprintf(pid, sizeof(pid), "%d", p);
	assert_non_null(vt_wait(&f->v, WAIT_MS, "event", "class", "exec", "pid", pid, NULL));
	kill(p, SIGSEGV);
	vt_reap(p);
	inc = vt_wait(&f->v, WAIT_MS, "incident", "class", "crash", "workload", "retrier", NULL);
	assert_non_null(inc);
	assert_non_null(vt_wait(&f->v, WAIT_MS, "action", "incident", vt_str(inc, "id"), "outcome",
				"failed", NULL));
	json_array_foreach(f->v.records, i, rec)
	{
		const char *o;

		if (strcmp(vt_str(rec, "type"), "action") ||
		    strcmp(vt_str(rec, "incident"), vt_str(inc, "id")))
			continue;
		o = vt_str(rec, "outcome");
		if (!strcmp(o, "intent")) {
			char want[32];

			snprintf(want, sizeof(want), "(attempt %u of 3)", ++intents);
			assert_non_null(strstr(vt_str(rec, "detail"), want));
			if (intents > 1) {
				uint64_t gap = vt_ts_ms(vt_str(rec, "ts")) - failed_ms;

				/* jittered: 80..120 % of 300 ms, then of 500 ms (600 capped) */
				assert_in_range(waits[intents - 2], intents == 2 ? 240 : 400,
						intents == 2 ? 360 : 500);
				assert_in_range(gap, waits[intents - 2], waits[intents - 2] + 300);
				printf("    retry: attempt %u after %llu ms (announced %u ms)\n",
				       intents, (unsigned long long)gap, waits[intents - 2]);
			}
		} else if (!strcmp(o, "retry")) {
			const char *d = strstr(vt_str(rec, "detail"), " ms");
			const char *in = strstr(vt_str(rec, "detail"), " in ");

			assert_true(retries < 2 && d && in);
			waits[retries++] = (unsigned int)atoi(in + 4);
			failed_ms = vt_ts_ms(vt_str(rec, "ts"));
			assert_non_null(strstr(vt_str(rec, "detail"), "failed: "));
		}
	}
	assert_int_equal(intents, 3);
	assert_int_equal(retries, 2);
	/* One heal: one failure for the breaker (its default: 3 opens it), one outcome. */
	assert_int_equal(
	    vt_count(&f->v, "action", "incident", vt_str(inc, "id"), "outcome", "failed", NULL), 1);
	assert_int_equal(vt_count(&f->v, "action", "workload", "retrier", "outcome", "open", NULL),
			 0);
}

/*
 * SIGTERM: every live incident's final record carries its true count. Six identical failed
 * exits are recorded at counts 1, 2 and 4; the record vigil writes as it stops says 6.
 */
static void test_stop_records_true_counts(void **state)
{
	static const char *const args[] = {"exit", "5", NULL};
	static const char cfg[] = "observe_all: false\n"
				  "window: 1h\n"
				  "workloads:\n"
				  "  - name: crasher\n"
				  "    match: { comm: vt-crasher }\n";
	struct vt v;
	json_t *inc, *last = NULL;
	const char *id;
	size_t i;

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	assert_int_equal(vt_start(&v, cfg, NULL), 0);
	for (int k = 0; k < 6; k++)
		vt_reap(vt_run(&v, "vt-crasher", args));
	inc = vt_wait(&v, WAIT_MS, "incident", "class", "exit_nonzero", "count", "4", NULL);
	assert_non_null(inc);
	id = vt_str(inc, "id");
	/* All six exits are in the journal (as events) before vigil is stopped. */
	for (uint64_t end = vt_mono_ns() + WAIT_MS * 1000000ull;
	     vt_count(&v, "event", "class", "exit_nonzero", NULL) < 6 && vt_mono_ns() < end;)
		usleep(2000);
	assert_int_equal(vt_count(&v, "event", "class", "exit_nonzero", NULL), 6);
	assert_int_equal(vt_stop(&v), 0);
	assert_non_null(vt_wait(&v, WAIT_MS, "incident", "id", id, "final", "true", NULL));
	json_array_foreach(v.records, i, inc)
	{
		if (!strcmp(vt_str(inc, "type"), "incident") && !strcmp(vt_str(inc, "id"), id))
			last = inc;
	}
	assert_non_null(last);
	assert_true(json_is_true(json_object_get(last, "final")));
	assert_int_equal(vt_int(last, "count"), 6);
	printf("    stop: the incident's last record says count %lld, final\n",
	       vt_int(last, "count"));
	vt_fini(&v);
}

int main(void)
{
	const struct CMUnitTest btf[] = {
	    cmocka_unit_test(test_mode_btf),
	    cmocka_unit_test(test_segv_is_crash),
	    cmocka_unit_test(test_signature_stable),
	    cmocka_unit_test(test_exit_code_is_exit_nonzero),
	    cmocka_unit_test(test_routine_records_drained),
	    cmocka_unit_test(test_threads_one_exit),
	    cmocka_unit_test(test_abort_core),
	    cmocka_unit_test(test_unwatched_crash_ignored),
	    cmocka_unit_test(test_sigterm_is_not_a_crash),
	    cmocka_unit_test(test_child_inherits_workload),
	    cmocka_unit_test(test_oom_kill),
	    cmocka_unit_test(test_hang),
	    cmocka_unit_test(test_level3_waits_for_approve),
	    cmocka_unit_test(test_level3_denied),
	    cmocka_unit_test(test_restart_crashed_service),
	    cmocka_unit_test(test_retry_backoff),
	};
	const struct CMUnitTest classic[] = {
	    cmocka_unit_test(test_mode_classic),
	    cmocka_unit_test(test_segv_is_crash),
	    cmocka_unit_test(test_exit_code_is_exit_nonzero),
	    cmocka_unit_test(test_threads_one_exit),
	    cmocka_unit_test(test_unwatched_crash_ignored),
	    cmocka_unit_test(test_child_inherits_workload),
	    cmocka_unit_test(test_oom_kill),
	    cmocka_unit_test(test_restart_crashed_service),
	};
	const struct CMUnitTest stop[] = {
	    cmocka_unit_test(test_stop_records_true_counts),
	};
	int failed;

	if (geteuid() != 0) {
		fprintf(stderr,
			"test_exits: must run as root (loads BPF programs): sudo make test\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	failed = cmocka_run_group_tests_name("exits (tp_btf)", btf, setup_btf, teardown_group);
	failed += cmocka_run_group_tests_name("exits (classic tracepoints)", classic, setup_classic,
					      teardown_group);
	failed += cmocka_run_group_tests_name("exits (vigil stops)", stop, NULL, NULL);
	return failed ? 1 : 0;
}
