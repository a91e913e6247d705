// SPDX-License-Identifier: Apache-2.0
/*
 * Integration: the other ways a workload matches its processes — by executable (its inode,
 * whatever name it runs under), by cgroup v2 path glob, and by pidfile — for processes that
 * start after vigil (kept current in the kernel at exec) and before it (found by the /proc
 * scan at start).
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define WAIT_MS 5000
#define CGROOT "/sys/fs/cgroup/unified"

struct fixture {
	struct vt v;
	char exe[192];	  /* a copy of faulty: an inode of its own */
	char cgroup[128]; /* a cgroup v2 directory of this run */
	char pidfile[192];
	pid_t early_exe; /* started before vigil: found by the /proc scan */
	pid_t early_pidf;
	pid_t user_pidf;  /* named by a pidfile that uid 65534 owns: never taken */
	pid_t wrong_comm; /* named by a root pidfile, but not of the workload's comm */
	bool have_cgroup;
};

static int setup(void **state)
{
	static const char *const serve[] = {"serve", NULL};
	struct fixture *f = calloc(1, sizeof(*f));
	char config[1024], link[224], cg[160];

	if (!f || vt_init(&f->v))
		return -1;
	snprintf(f->exe, sizeof(f->exe), "%s/vt-exe-copy", f->v.dir);
	snprintf(f->pidfile, sizeof(f->pidfile), "%s/svc.pid", f->v.dir);
	if (vt_copy_file(f->v.faulty, f->exe))
		return -1;
	/* A cgroup v2 directory of ours, with a child to put processes in. */
	snprintf(f->cgroup, sizeof(f->cgroup), "vigil-test-%d", getpid());
	snprintf(cg, sizeof(cg), CGROOT "/%s/app", f->cgroup);
	f->have_cgroup = !mkdir(CGROOT "/", 0755) || errno == EEXIST;
	if (f->have_cgroup) {
		char parent[160];

		snprintf(parent, sizeof(parent), CGROOT "/%s", f->cgroup);
		f->have_cgroup = !mkdir(parent, 0755) && !mkdir(cg, 0755);
	}
	/* Two processes that run before vigil does: one by exe, under a name no comm matches,
	 * and one that only its pidfile names. */
	snprintf(link, sizeof(link), "%s/vt-early", f->v.dir);
	if (symlink(f->exe, link))
		return -1;
	f->early_exe = vt_exec_in(NULL, link, serve);
	{
		const char *args[] = {"serve", f->pidfile, NULL};

		f->early_pidf = vt_run(&f->v, "vt-pidf", args);
	}
	{
		char upid[224], wpid[224];
		const char *uargs[] = {"serve", upid, NULL}, *wargs[] = {"serve", wpid, NULL};

		snprintf(upid, sizeof(upid), "%s/user.pid", f->v.dir);
		snprintf(wpid, sizeof(wpid), "%s/wrong.pid", f->v.dir);
		f->user_pidf = vt_run(&f->v, "vt-upidf", uargs);
		f->wrong_comm = vt_run(&f->v, "vt-wpidf", wargs);
		for (int i = 0; i < 100 && (access(upid, F_OK) || access(wpid, F_OK)); i++)
			usleep(10000);
		/* A user's pidfile, as a service that dropped root would write it. */
		if (chown(upid, 65534, 65534))
			return -1;
	}
	for (int i = 0; i < 100 && access(f->pidfile, F_OK); i++)
		usleep(10000);
	usleep(50000); /* both have exec'd */
	snprintf(config, sizeof(config),
		 "workloads:\n"
		 "  - name: byexe\n"
		 "    match: { exe: \"%s\" }\n"
		 "  - name: bycgroup\n"
		 "    match: { cgroup: \"/%s/*\" }\n"
		 "  - name: bypidfile\n"
		 "    match: { pidfile: \"%s\" }\n"
		 "  - name: byuserpidfile\n"
		 "    match: { pidfile: \"%s/user.pid\" }\n"
		 "  - name: pidfileandcomm\n"
		 "    match: { pidfile: \"%s/wrong.pid\", comm: vt-right }\n"
		 "  - name: sentinel\n"
		 "    match: { comm: vt-sentinel }\n",
		 f->exe, f->cgroup, f->pidfile, f->v.dir, f->v.dir);
	if (vt_start(&f->v, config, NULL))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char path[192];
	int rc = vt_stop(&f->v);

	if (f->early_exe > 0)
		kill(f->early_exe, SIGKILL);
	if (f->early_pidf > 0)
		kill(f->early_pidf, SIGKILL);
	if (f->user_pidf > 0)
		kill(f->user_pidf, SIGKILL);
	if (f->wrong_comm > 0)
		kill(f->wrong_comm, SIGKILL);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	snprintf(path, sizeof(path), CGROOT "/%s/app", f->cgroup);
	rmdir(path);
	snprintf(path, sizeof(path), CGROOT "/%s", f->cgroup);
	rmdir(path);
	vt_fini(&f->v);
	free(f);
	return rc ? -1 : 0;
}

/* Crash pid (a child of ours) and return the crash incident's record, or NULL. */
static json_t *crash(struct fixture *f, pid_t pid)
{
	char p[16];

	assert_true(pid > 0);
	kill(pid, SIGSEGV);
	vt_reap(pid);
	snprintf(p, sizeof(p), "%d", pid);
	return vt_wait(&f->v, WAIT_MS, "incident", "class", "crash", "pid", p, NULL);
}

/* By executable: a process started after vigil, through a symlink of another name. */
static void test_exe_at_exec(void **state)
{
	static const char *const serve[] = {"serve", NULL};
	struct fixture *f = *state;
	char link[224], p[16];
	json_t *inc;

	pid_t pid;

	snprintf(link, sizeof(link), "%s/vt-any-name", f->v.dir);
	assert_int_equal(symlink(f->exe, link), 0);
	pid = vt_exec_in(NULL, link, serve);
	snprintf(p, sizeof(p), "%d", pid);
	/* Matched at its exec: the kernel says so with an exec event (then it may crash). */
	assert_non_null(vt_wait(&f->v, WAIT_MS, "event", "class", "exec", "pid", p, NULL));
	inc = crash(f, pid);
	assert_non_null(inc);
	assert_string_equal(vt_str(inc, "workload"), "byexe");
}

/* By executable, found by the /proc scan when vigil started. */
static void test_exe_found_at_start(void **state)
{
	struct fixture *f = *state;
	json_t *inc = crash(f, f->early_exe);

	f->early_exe = -1;
	assert_non_null(inc);
	assert_string_equal(vt_str(inc, "workload"), "byexe");
}

/* By pidfile, found at start; its process has a comm no workload names. */
static void test_pidfile_found_at_start(void **state)
{
	struct fixture *f = *state;
	json_t *inc = crash(f, f->early_pidf);

	f->early_pidf = -1;
	assert_non_null(inc);
	assert_string_equal(vt_str(inc, "workload"), "bypidfile");
}

/*
 * A pidfile is believed only when root alone could have written it, and its pid only when the
 * process also holds the workload's other keys: a pidfile uid 65534 owns, and a root one
 * naming a process of another comm, make nobody's process a workload's (a heal on a non-exit
 * class would stop it). vigil says why, once.
 */
static void test_pidfile_not_trusted(void **state)
{
	static const char *const sentinel[] = {"exit", "6", NULL};
	struct fixture *f = *state;
	char u[16], w[16];

	snprintf(u, sizeof(u), "%d", f->user_pidf);
	snprintf(w, sizeof(w), "%d", f->wrong_comm);
	kill(f->user_pidf, SIGSEGV);
	kill(f->wrong_comm, SIGSEGV);
	vt_reap(f->user_pidf);
	vt_reap(f->wrong_comm);
	f->user_pidf = f->wrong_comm = -1;
	vt_reap(vt_run(&f->v, "vt-sentinel", sentinel));
	assert_non_null(
	    vt_wait(&f->v, WAIT_MS, "incident", "workload", "sentinel", "exit_code", "6", NULL));
	assert_int_equal(vt_count(&f->v, "event", "pid", u, NULL), 0);
	assert_int_equal(vt_count(&f->v, "event", "pid", w, NULL), 0);
	assert_non_null(strstr(f->v.errbuf, "workload byuserpidfile: pidfile not taken: file "));
	assert_non_null(strstr(f->v.errbuf, "is owned by uid 65534, not root"));
}

/* By cgroup: a process that enters the matched cgroup and then execs is watched from its
 * exec on, whatever its name. */
static void test_cgroup_at_exec(void **state)
{
	static const char *const segv[] = {"segv", NULL};
	struct fixture *f = *state;
	char procs[192], p[16];
	json_t *inc;
	pid_t pid;

	if (!f->have_cgroup) {
		printf("    SKIPPED: cannot create a cgroup under " CGROOT
		       " (vigil doctor: cgroup v2)\n");
		skip();
	}
	snprintf(procs, sizeof(procs), CGROOT "/%s/app/cgroup.procs", f->cgroup);
	pid = vt_exec_in(procs, vt_link(&f->v, "vt-in-cgroup"), segv);
	assert_true(WIFSIGNALED(vt_reap(pid)));
	snprintf(p, sizeof(p), "%d", pid);
	inc = vt_wait(&f->v, WAIT_MS, "incident", "class", "crash", "pid", p, NULL);
	assert_non_null(inc);
	assert_string_equal(vt_str(inc, "workload"), "bycgroup");
}

/* The same name outside the cgroup, and a plain copy of faulty's name: nobody's. */
static void test_no_false_match(void **state)
{
	static const char *const args[] = {"segv", NULL};
	static const char *const sentinel[] = {"exit", "5", NULL};
	struct fixture *f = *state;
	char p[16];
	pid_t pid;

	pid = vt_run(&f->v, "vt-in-cgroup", args); /* not in the cgroup; the original binary */
	vt_reap(pid);
	vt_reap(vt_run(&f->v, "vt-sentinel", sentinel));
	assert_non_null(vt_wait(&f->v, WAIT_MS, "incident", "workload", "sentinel", NULL));
	snprintf(p, sizeof(p), "%d", pid);
	assert_int_equal(vt_count(&f->v, "event", "pid", p, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exe_at_exec),
	    cmocka_unit_test(test_exe_found_at_start),
	    cmocka_unit_test(test_pidfile_found_at_start),
	    cmocka_unit_test(test_pidfile_not_trusted),
	    cmocka_unit_test(test_cgroup_at_exec),
	    cmocka_unit_test(test_no_false_match),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_match: must run as root (loads BPF programs)\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	return cmocka_run_group_tests_name("workload matching", tests, setup, teardown);
}
