// SPDX-License-Identifier: Apache-2.0
/*
 * Integration: restarts under a real supervisor from Debian (runit: runsvdir, runsv, sv), with
 * the real build/vigil and BPF programs. Each restart mode is driven by a real fault and
 * checked by what the supervisor itself says afterwards (`sv status`: its new pid, up):
 *
 *   signal    a service made slow (syscall_slow): vigil SIGTERMs it, runsv starts the
 *             replacement, vigil verifies the new pid
 *   command   the same fault, healed with `sv restart DIR` as the command
 *   exec      a crashed service that no supervisor runs: vigil starts it
 *   external  a workload with supervisor: external crashes: runsv restarts it, vigil awaits
 *             and times the replacement and runs nothing
 *
 * Each prints its times — fault -> the replacement's exec -> verified — for the closing note.
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "supervise.h"

#define WAIT_MS 20000
#define SV "/usr/bin/sv"
#define RUNSVDIR "/usr/bin/runsvdir"

static const char config[] =
    "window: 10s\n"
    "workloads:\n"
    "  - name: rsig\n"
    "    match: { comm: vt-rsig }\n"
    "    latency: { syscalls: [read], budget_ms: 100 }\n"
    "    verify: 1s\n"
    "    heal:\n"
    "      - on: [syscall_slow]\n"
    "        level: 1\n"
    "        action: { restart: { signal: TERM, kill_after: 5s, await: 20s } }\n"
    "    policy: { allow_comm_only: true }\n"
    "  - name: rcmd\n"
    "    match: { comm: vt-rcmd }\n"
    "    latency: { syscalls: [read], budget_ms: 100 }\n"
    "    verify: 1s\n"
    "    heal:\n"
    "      - on: [syscall_slow]\n"
    "        level: 1\n"
    "        action:\n"
    "          restart:\n"
    "            command: [" SV ", restart, \"@DIR@/sv/rcmd\"]\n"
    "            timeout: 20s\n"
    "            await: 20s\n"
    "    policy: { allow_comm_only: true, allowed_exec: [" SV "] }\n"
    "  - name: rexe\n"
    "    match: { comm: vt-rexe }\n"
    "    verify: 1s\n"
    "    heal:\n"
    "      - on: [crash]\n"
    "        level: 1\n"
    "        action: { restart: { exec: [\"@LINK:vt-rexe@\", serve], env: [SERVICE=rexe] } }\n"
    "    policy: { allow_comm_only: true, allowed_exec: [\"@LINK:vt-rexe@\"] }\n"
    "  - name: rdmn\n"
    "    match: { comm: vt-rdmn }\n"
    "    verify: 1s\n"
    "    heal:\n"
    "      - on: [crash]\n"
    "        level: 1\n"
    "        action: { restart: { exec: [\"@LINK:vt-rdmn@\", daemonize] } }\n"
    "    policy: { allow_comm_only: true, allowed_exec: [\"@LINK:vt-rdmn@\"] }\n"
    "  - name: rext\n"
    "    match: { comm: vt-rext }\n"
    "    supervisor: external\n"
    "    verify: 1s\n"
    "    heal:\n"
    "      - on: [crash]\n"
    "        level: 1\n"
    "        action: { restart: { command: [" SV ", restart, \"@DIR@/sv/rext\"] } }\n"
    "    policy: { allow_comm_only: true, allowed_exec: [" SV "] }\n";

struct fixture {
	struct vt v;
	pid_t runsvdir;
	char svdir[160];
};

/* A runit service directory sv/NAME whose run script is body (after "#!/bin/sh"). */
static int service(struct fixture *f, const char *name, const char *body)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", f->svdir, name);
	if (mkdir(path, 0755) && errno != EEXIST)
		return -1;
	snprintf(path, sizeof(path), "%s/%s/run", f->svdir, name);
	fp = fopen(path, "w");
	if (!fp)
		return -1;
	fprintf(fp, "#!/bin/sh\nexec 2>&1\n%s\n", body);
	if (fclose(fp) || chmod(path, 0755))
		return -1;
	return 0;
}

/* `sv status sv/NAME`'s pid when it says "run:", else 0. */
static pid_t sv_pid(struct fixture *f, const char *name)
{
	char cmd[320], line[512];
	FILE *p;
	int pid = 0;
	char *at;

	snprintf(cmd, sizeof(cmd), SV " status %s/%s 2>&1", f->svdir, name);
	p = popen(cmd, "r");
	if (!p)
		return 0;
	if (fgets(line, sizeof(line), p) && !strncmp(line, "run: ", 5) &&
	    (at = strstr(line, "(pid ")))
		pid = atoi(at + 5);
	pclose(p);
	return pid;
}

/* Wait (5 s at most) until runsv says sv/NAME runs; its pid, or 0. */
static pid_t sv_wait_run(struct fixture *f, const char *name, pid_t other)
{
	pid_t pid = 0;

	for (int i = 0; i < 500; i++) {
		pid = sv_pid(f, name);
		if (pid > 0 && pid != other)
			return pid;
		usleep(10000);
	}
	return 0;
}

static int setup(void **state)
{
	char body[512];
	struct fixture *f = calloc(1, sizeof(*f));
	const char *sig, *cmd, *ext;

	if (!f || vt_init(&f->v))
		return -1;
	*state = f;
	if (access(RUNSVDIR, X_OK) || access(SV, X_OK))
		return 0; /* each test says why it is skipped */
	snprintf(f->svdir, sizeof(f->svdir), "%s/sv", f->v.dir);
	sig = vt_link(&f->v, "vt-rsig");
	if (mkdir(f->svdir, 0755))
		return -1;
	/* First run: one slow read, then it keeps running; runs after: a healthy service. */
	snprintf(body, sizeof(body),
		 "if [ -e %s/rsig.healed ]; then exec %s serve; fi\ntouch %s/rsig.healed\n"
		 "exec %s slow-then-serve 400",
		 f->v.dir, sig, f->v.dir, sig);
	if (service(f, "rsig", body))
		return -1;
	cmd = vt_link(&f->v, "vt-rcmd");
	snprintf(body, sizeof(body),
		 "if [ -e %s/rcmd.healed ]; then exec %s serve; fi\ntouch %s/rcmd.healed\n"
		 "exec %s slow-then-serve 400",
		 f->v.dir, cmd, f->v.dir, cmd);
	if (service(f, "rcmd", body))
		return -1;
	ext = vt_link(&f->v, "vt-rext");
	snprintf(body, sizeof(body), "exec %s serve", ext);
	if (service(f, "rext", body))
		return -1;
	vt_link(&f->v, "vt-rexe");
	vt_link(&f->v, "vt-rdmn");
	/* vigil first, so that it sees the services exec (and the slow read) from the start. */
	if (vt_start(&f->v, config, NULL))
		return -1;
	/* SIGHUP: runsvdir stops its services and exits (as in teardown). */
	f->runsvdir = vt_spawn_supervisor(SIGHUP, (const char *const[]){RUNSVDIR, f->svdir, NULL});
	return f->runsvdir > 0 ? 0 : -1;
}

/* Stop the services and runit (by the pids started here), then vigil. */
static int teardown(void **state)
{
	struct fixture *f = *state;
	static const char *const names[] = {"rsig", "rcmd", "rext"};
	pid_t pids[3];
	int rc;

	for (int i = 0; f->runsvdir > 0 && i < 3; i++)
		pids[i] = sv_pid(f, names[i]);
	if (f->runsvdir > 0) {
		/* runsvdir passes SIGHUP on as SIGTERM to each runsv, which stops its service
		 * (TERM, CONT) and exits. */
		kill(f->runsvdir, SIGHUP);
		waitpid(f->runsvdir, NULL, 0);
		for (int i = 0; i < 3; i++) {
			for (int n = 0; n < 200 && pids[i] > 0 && kill(pids[i], 0) == 0; n++)
				usleep(10000);
		}
	}
	rc = vt_finish(&f->v);
	free(f);
	return rc;
}

static void need_runit(struct fixture *f)
{
	if (!f->svdir[0]) {
		printf("    SKIPPED: runit is not installed (" RUNSVDIR ", " SV "): make deps\n");
		skip();
	}
}

/* signal: vigil stops the slow service; runsv starts the replacement; vigil verifies it. */
static void test_signal_mode_runit(void **state)
{
	struct fixture *f = *state;
	pid_t old, np;

	need_runit(f);
	np = vt_restart_signal(&f->v, WAIT_MS, "rsig", &old);
	/* runit's own word: its service runs, as the new pid. */
	assert_int_equal(sv_wait_run(f, "rsig", old), np);
}

/* command: `sv restart DIR`, which must exit 0; the replacement is awaited and verified. */
static void test_command_mode_runit(void **state)
{
	struct fixture *f = *state;
	pid_t old, np;

	need_runit(f);
	np = vt_restart_command(&f->v, WAIT_MS, "rcmd", SV " restart ", &old);
	assert_int_equal(sv_wait_run(f, "rcmd", old), np);
}

/* exec: a crashed service no supervisor runs; vigil starts it with its env list. */
static void test_exec_mode(void **state)
{
	static const char *const serve[] = {"serve", NULL};
	struct fixture *f = *state;
	char pid[16], path[64], env[256] = "";
	json_t *inc;
	pid_t old, np;
	FILE *fp;
	size_t n;

	need_runit(f);
	old = vt_run(&f->v, "vt-rexe", serve);
	snprintf(pid, sizeof(pid), "%d", old);
	assert_non_null(vt_wait(&f->v, WAIT_MS, "event", "class", "exec", "pid", pid, NULL));
	kill(old, SIGSEGV);
	vt_reap(old);
	inc = vt_wait(&f->v, WAIT_MS, "incident", "workload", "rexe", "class", "crash", NULL);
	assert_non_null(inc);
	np = vt_restart_resolved(&f->v, WAIT_MS, "exec", inc, old, "(started by vigil)");
	/* Its environment is its env list, nothing of vigil's. */
	snprintf(path, sizeof(path), "/proc/%d/environ", np);
	fp = fopen(path, "r");
	assert_non_null(fp);
	n = fread(env, 1, sizeof(env) - 1, fp);
	fclose(fp);
	assert_int_equal(n, strlen("SERVICE=rexe") + 1);
	assert_string_equal(env, "SERVICE=rexe");
	kill(np, SIGKILL); /* vigil's child (setsid): ours to stop now */
}

/* The pid in DIR/name, once it is there (5 s at most), or 0. */
static pid_t read_pid(struct vt *v, const char *name)
{
	char path[192];
	int pid = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", v->dir, name);
	for (int i = 0; i < 500 && pid <= 0; i++) {
		fp = fopen(path, "r");
		if (!fp || fscanf(fp, "%d", &pid) != 1)
			pid = 0;
		if (fp)
			fclose(fp);
		if (pid <= 0)
			usleep(10000);
	}
	return pid;
}

/* exec, a service that forks into the background: the process vigil starts exits 0 and the
 * child it leaves (found in the kernel's watched set) is what runs again. */
static void test_exec_mode_daemonizing(void **state)
{
	struct fixture *f = *state;
	char pidfile[192], id[32];
	json_t *inc, *rep, *fol, *ok, *fin;
	pid_t old, started, np;

	need_runit(f);
	snprintf(pidfile, sizeof(pidfile), "%s/rdmn.pid", f->v.dir);
	{
		const char *args[] = {"daemonize", pidfile, NULL};

		assert_int_equal(WEXITSTATUS(vt_reap(vt_run(&f->v, "vt-rdmn", args))), 0);
	}
	old = read_pid(&f->v, "rdmn.pid"); /* its background child: the workload's (by fork) */
	assert_true(old > 0);
	unlink(pidfile);
	kill(old, SIGSEGV);
	inc = vt_wait(&f->v, WAIT_MS, "incident", "workload", "rdmn", "class", "crash", NULL);
	assert_non_null(inc);
	assert_int_equal(vt_int(inc, "pid"), old);
	snprintf(id, sizeof(id), "%s", vt_str(inc, "id"));
	rep = vt_wait(&f->v, WAIT_MS, "action", "incident", id, "outcome", "replaced", NULL);
	assert_non_null(rep);
	started = (pid_t)vt_int(rep, "pid");
	fol = vt_wait(&f->v, WAIT_MS, "action", "incident", id, "outcome", "followed", NULL);
	assert_non_null(fol);
	np = (pid_t)vt_int(fol, "pid");
	assert_true(np > 0 && np != started && np != old);
	ok = vt_wait(&f->v, WAIT_MS, "action", "incident", id, "outcome", "success", NULL);
	assert_non_null(ok);
	assert_int_equal(vt_int(ok, "pid"), np);
	fin = vt_wait(&f->v, WAIT_MS, "incident", "id", id, "state", "resolved", NULL);
	assert_non_null(fin);
	printf("    %-8s fault -> replacement exec %lld ms -> verified %lld ms (its background "
	       "child pid %d followed)\n",
	       "exec-bg", vt_int(fin, "replaced_after_ms"),
	       vt_int(fin, "detect_us") / 1000 + vt_int(fin, "recovery_ms"), np);
	kill(np, SIGKILL);
}

/* supervisor: external — a crash; runsv restarts it; vigil awaits and times it, runs no
 * command and starts nothing. */
static void test_external_supervisor_runit(void **state)
{
	struct fixture *f = *state;
	pid_t old, np;

	need_runit(f);
	old = sv_wait_run(f, "rext", 0);
	assert_true(old > 0);
	np = vt_restart_external(&f->v, WAIT_MS, "rext", old);
	assert_int_equal(sv_wait_run(f, "rext", old), np);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_signal_mode_runit),
	    cmocka_unit_test(test_command_mode_runit),
	    cmocka_unit_test(test_exec_mode),
	    cmocka_unit_test(test_exec_mode_daemonizing),
	    cmocka_unit_test(test_external_supervisor_runit),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_supervisors: must run as root (loads BPF programs)\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	return cmocka_run_group_tests_name("restarts under runit", tests, setup, teardown);
}
