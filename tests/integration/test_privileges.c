// SPDX-License-Identifier: Apache-2.0
/*
 * Least privilege: once its programs are loaded, vigil keeps of root only what its config
 * needs (core/privileges.h) — in every thread — with no_new_privs, and goes on working: a
 * crash is still detected, its kernel counters still read, its heal still stops a process.
 * And it starts with only the capabilities the README documents (setpriv, nothing else).
 */
#include <errno.h>
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define WAIT_MS 5000
#define CAP(n) (1ull << (n))
#define CAP_KILL_ 5
#define CAP_SYS_PTRACE_ 19
#define CAP_BPF_ 39

/* A "CapEff:\t..." line of a status file, as a number. */
static uint64_t cap_line(const char *path, const char *field)
{
	char line[256];
	uint64_t v = UINT64_MAX;
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)))
			v = strtoull(line + strlen(field) + 1, NULL, 16);
	fclose(f);
	return v;
}

/* Every thread of pid: its effective set inside want, no_new_privs on the loop's. */
static void every_thread_within(pid_t pid, uint64_t want)
{
	char dir[64], path[400];
	struct dirent *de;
	unsigned int n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/status", dir, de->d_name);
		assert_int_equal(cap_line(path, "CapEff:") & ~want, 0);
		n++;
	}
	closedir(d);
	assert_true(n >= 1);
}

/* A crash of a process of workload name is detected; returns its incident. */
static json_t *crash_seen(struct vt *v, const char *name)
{
	static const char *const serve[] = {"serve", NULL};
	char pid[16];
	pid_t p = vt_run(v, name, serve);

	snprintf(pid, sizeof(pid), "%d", p);
	assert_non_null(vt_wait(v, WAIT_MS, "event", "class", "exec", "pid", pid, NULL));
	kill(p, SIGSEGV);
	vt_reap(p);
	return vt_wait(v, WAIT_MS, "incident", "class", "crash", "pid", pid, NULL);
}

/*
 * A workload matched by exe with a signal rule: vigil keeps CAP_BPF, CAP_SYS_PTRACE and
 * CAP_KILL and nothing else, in its effective, permitted and bounding sets, in every thread
 * (the Redis sink's holds none), with no_new_privs; detection, the kernel's counters and the
 * heal still work.
 */
static void test_kept_what_the_config_needs(void **state)
{
	const uint64_t want = CAP(CAP_BPF_) | CAP(CAP_SYS_PTRACE_) | CAP(CAP_KILL_);
	struct vt v;
	char path[64], yaml[1024];
	json_t *st, *pr, *inc;

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	snprintf(
	    yaml, sizeof(yaml),
	    "workloads:\n"
	    "  - name: svc\n"
	    "    match: { exe: \"@FAULTY@\" }\n"
	    "    latency: { syscalls: [read], budget_ms: 50 }\n"
	    "    heal:\n"
	    "      - { on: [syscall_slow], level: 1, action: { restart: { signal: TERM } } }\n");
	assert_int_equal(vt_start(&v, yaml, NULL), 0);
	snprintf(path, sizeof(path), "/proc/%d/status", v.vigil);
	assert_true(cap_line(path, "CapEff:") == want);
	assert_true(cap_line(path, "CapPrm:") == want);
	assert_true(cap_line(path, "CapBnd:") == want);
	assert_int_equal(cap_line(path, "NoNewPrivs:"), 1);
	every_thread_within(v.vigil, want);
	assert_non_null(strstr(v.errbuf, "capabilities kill,sys_ptrace,bpf\n"));
	/* Still working: a crash seen, the kernel's counters read (bpf() on the maps), and a
	 * slow read's process stopped by the heal (CAP_KILL). */
	inc = crash_seen(&v, "vt-svc");
	assert_non_null(inc);
	st = vt_ctl(&v, "status", NULL);
	assert_non_null(st);
	pr = json_object_get(st, "privileges");
	assert_string_equal(vt_str(pr, "effective"), "kill,sys_ptrace,bpf");
	assert_true(json_is_true(json_object_get(pr, "no_new_privs")));
	json_decref(st);
	{
		const char *args[] = {"slow-reads", "50", "200", NULL};
		char pid[16];
		pid_t p = vt_run(&v, "vt-slow", args);

		snprintf(pid, sizeof(pid), "%d", p);
		assert_non_null(
		    vt_wait(&v, WAIT_MS, "action", "outcome", "stop", "pid", pid, NULL));
		vt_reap(p);
	}
	assert_int_equal(vt_stop(&v), 0);
	vt_fini(&v);
}

/* Rules that run programs: vigil's own effective set is cut, its permitted and bounding sets
 * stay root's for the programs (a restarted service needs its own privileges), and
 * no_new_privs is not set. */
static void test_programs_keep_roots_sets(void **state)
{
	const uint64_t want = CAP(CAP_BPF_) | CAP(CAP_KILL_);
	struct vt v;
	char path[64];

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	assert_int_equal(vt_start(&v,
				  "workloads:\n"
				  "  - name: svc\n"
				  "    match: { comm: vt-svc }\n"
				  "    heal:\n"
				  "      - { on: [crash], level: 1, action: { restart: { exec: "
				  "[\"@LINK:vt-svc@\", serve] } } }\n"
				  "    policy: { allow_comm_only: true, allowed_exec: "
				  "[\"@LINK:vt-svc@\"] }\n",
				  NULL),
			 0);
	snprintf(path, sizeof(path), "/proc/%d/status", v.vigil);
	assert_true(cap_line(path, "CapEff:") == want);
	assert_true((cap_line(path, "CapPrm:") & want) == want);
	assert_true(cap_line(path, "CapPrm:") != want);
	/* ... and no no_new_privs: it would outlive the exec into the service. */
	assert_int_equal(cap_line(path, "NoNewPrivs:"), 0);
	assert_non_null(strstr(v.errbuf, "(root's kept for the programs rules run)"));
	assert_int_equal(vt_stop(&v), 0);
	vt_fini(&v);
}

/* Started with only the documented capabilities (README, core/privileges.h): tp_btf probes,
 * and a crash detected. */
static void test_starts_with_the_documented_set(void **state)
{
	static const char *const caps = "-all,+bpf,+perfmon,+sys_admin,+sys_ptrace,+kill";
	char inh[128], amb[128], bnd[128];
	const char *wrap[] = {"/usr/bin/setpriv", inh, amb, bnd, "--", NULL};
	struct vt v;

	(void)state;
	if (access("/usr/bin/setpriv", X_OK)) {
		printf("    SKIPPED: no /usr/bin/setpriv (util-linux)\n");
		skip();
	}
	snprintf(inh, sizeof(inh), "--inh-caps=%s", caps);
	snprintf(amb, sizeof(amb), "--ambient-caps=%s", caps);
	snprintf(bnd, sizeof(bnd), "--bounding-set=%s", caps);
	assert_int_equal(vt_init(&v), 0);
	v.wrap = wrap;
	assert_int_equal(vt_start(&v,
				  "workloads:\n"
				  "  - name: svc\n"
				  "    match: { comm: vt-svc }\n",
				  NULL),
			 0);
	assert_non_null(strstr(v.errbuf, "tp_btf probes"));
	assert_non_null(crash_seen(&v, "vt-svc"));
	assert_int_equal(vt_stop(&v), 0);
	vt_fini(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kept_what_the_config_needs),
	    cmocka_unit_test(test_programs_keep_roots_sets),
	    cmocka_unit_test(test_starts_with_the_documented_set),
	};

	vt_child_signals();
	return cmocka_run_group_tests_name("least privilege", tests, NULL, NULL);
}
