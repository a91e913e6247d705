// SPDX-License-Identifier: Apache-2.0
/*
 * Integration: restarts under supervisord (Debian's supervisor package), the second real
 * supervisor after runit (test_supervisors.c), with the real build/vigil and BPF programs. The
 * test starts its own `supervisord -n -c DIR/supervisord.conf` (its socket in the scratch dir,
 * nothing of /etc/supervisor); each restart mode is driven by a real fault and checked by what
 * supervisord itself says afterwards (`supervisorctl pid NAME`: the new pid):
 *
 *   signal    a service made slow (syscall_slow): vigil SIGTERMs it, supervisord
 *             (autorestart) starts the replacement, vigil verifies the new pid
 *   command   the same fault, healed with `supervisorctl -c CONF restart NAME` as the command
 *   external  a workload with supervisor: external crashes: supervisord restarts it, vigil
 *             awaits and times the replacement and runs nothing
 *
 * Each program is `DIR/NAME.run`, a shell script that execs the service (a faulty link named
 * vt-NAME), so that the pid supervisord started is the service's. startsecs=0: a program that
 * runs at all counts as started, so a restart is never held back by supervisord's backoff.
 * Each prints its times — fault -> the replacement's exec -> verified.
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
#define SUPERVISORD "/usr/bin/supervisord"
#define SUPERVISORCTL "/usr/bin/supervisorctl"

static const char config[] =
    "window: 10s\n"
    "workloads:\n"
    "  - name: ssig\n"
    "    match: { comm: vt-ssig }\n"
    "    latency: { syscalls: [read], budget_ms: 100 }\n"
    "    verify: 1s\n"
    "    heal:\n"
    "      - on: [syscall_slow]\n"
    "        level: 1\n"
    "        action: { restart: { signal: TERM, kill_after: 5s, await: 20s } }\n"
    "    policy: { allow_comm_only: true }\n"
    "  - name: scmd\n"
    "    match: { comm: vt-scmd }\n"
    "    latency: { syscalls: [read], budget_ms: 100 }\n"
    "    verify: 1s\n"
    "    heal:\n"
    "      - on: [syscall_slow]\n"
    "        level: 1\n"
    "        action:\n"
    "          restart:\n"
    "            command: [" SUPERVISORCTL ", -c, \"@DIR@/supervisord.conf\", restart, scmd]\n"
    "            timeout: 20s\n"
    "            await: 20s\n"
    "    policy: { allow_comm_only: true, allowed_exec: [" SUPERVISORCTL "] }\n"
    "  - name: sext\n"
    "    match: { comm: vt-sext }\n"
    "    supervisor: external\n"
    "    verify: 1s\n"
    "    heal:\n"
    "      - on: [crash]\n"
    "        level: 1\n"
    "        action:\n"
    "          restart:\n"
    "            command: [" SUPERVISORCTL ", -c, \"@DIR@/supervisord.conf\", restart, sext]\n"
    "    policy: { allow_comm_only: true, allowed_exec: [" SUPERVISORCTL "] }\n";

/* supervisord's config: its socket, log and pid file in the scratch dir (%1$s). */
static const char conf_head[] =
    "[unix_http_server]\n"
    "file=%1$s/supervisord.sock\n"
    "chmod=0700\n"
    "\n"
    "[supervisord]\n"
    "nodaemon=true\n"
    "user=root\n"
    "logfile=%1$s/supervisord.log\n"
    "pidfile=%1$s/supervisord.pid\n"
    "childlogdir=%1$s\n"
    "\n"
    "[rpcinterface:supervisor]\n"
    "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n"
    "\n"
    "[supervisorctl]\n"
    "serverurl=unix://%1$s/supervisord.sock\n";

static const char *const names[] = {"ssig", "scmd", "sext"};
#define NPROGS (sizeof(names) / sizeof(names[0]))

struct fixture {
	struct vt v;
	pid_t supervisord;
	char conf[160];
};

/*
 * Program NAME: DIR/NAME.run execs faulty as vt-NAME. slow: its first run makes one slow read
 * and keeps serving; the runs after it (a marker file says so) serve.
 */
static int program(struct fixture *f, FILE *conf, const char *name, bool slow)
{
	char path[192], link[16];
	const char *svc;
	FILE *fp;

	snprintf(link, sizeof(link), "vt-%s", name);
	svc = vt_link(&f->v, link);
	snprintf(path, sizeof(path), "%s/%s.run", f->v.dir, name);
	fp = fopen(path, "w");
	if (!fp)
		return -1;
	fprintf(fp, "#!/bin/sh\n");
	if (slow)
		fprintf(fp,
			"[ -e %s.healed ] && exec %s serve\ntouch %s.healed\n"
			"exec %s slow-then-serve 400\n",
			path, svc, path, svc);
	else
		fprintf(fp, "exec %s serve\n", svc);
	if (fclose(fp) || chmod(path, 0755))
		return -1;
	fprintf(conf,
		"\n[program:%s]\ncommand=%s\nautorestart=true\nstartsecs=0\nstopwaitsecs=2\n"
		"redirect_stderr=true\nstdout_logfile=NONE\n",
		name, path);
	return 0;
}

/* `supervisorctl -c CONF pid NAME`: the program's pid, 0 when it is not running (or
 * supervisord does not answer yet). */
static pid_t ctl_pid(struct fixture *f, const char *name)
{
	char cmd[320], line[256];
	int pid = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), SUPERVISORCTL " -c %s pid %s 2>&1", f->conf, name);
	p = popen(cmd, "r");
	if (!p)
		return 0;
	if (fgets(line, sizeof(line), p))
		pid = atoi(line);
	pclose(p);
	return pid;
}

/* Wait (10 s at most: supervisord takes a second to start its programs) until supervisord
 * says NAME runs as a pid other than other; that pid, or 0. */
static pid_t ctl_wait_run(struct fixture *f, const char *name, pid_t other)
{
	uint64_t end = vt_mono_ns() + 10000000000ull;
	pid_t pid;

	do {
		pid = ctl_pid(f, name);
		if (pid > 0 && pid != other)
			return pid;
		usleep(20000);
	} while (vt_mono_ns() < end);
	fprintf(stderr, "supervisord says %s runs as pid %d (not another than %d)\n", name, pid,
		other);
	return 0;
}

static int write_conf(struct fixture *f)
{
	FILE *conf;
	int rc = 0;

	snprintf(f->conf, sizeof(f->conf), "%s/supervisord.conf", f->v.dir);
	conf = fopen(f->conf, "w");
	if (!conf)
		return -1;
	fprintf(conf, conf_head, f->v.dir);
	for (size_t i = 0; i < NPROGS; i++)
		rc |= program(f, conf, names[i], strcmp(names[i], "sext") != 0);
	return fclose(conf) || rc ? -1 : 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || vt_init(&f->v))
		return -1;
	*state = f;
	if (access(SUPERVISORD, X_OK) || access(SUPERVISORCTL, X_OK))
		return 0; /* each test says why it is skipped */
	if (write_conf(f))
		return -1;
	/* vigil first, so that it sees the services exec (and the slow read) from the start. */
	if (vt_start(&f->v, config, NULL))
		return -1;
	/* The test gone (killed, say), SIGTERM: supervisord stops its programs and exits. */
	f->supervisord = vt_spawn_supervisor(
	    SIGTERM, (const char *const[]){SUPERVISORD, "-n", "-c", f->conf, NULL});
	return f->supervisord > 0 ? 0 : -1;
}

/* Stop supervisord (by the pid started here), which stops its programs, then vigil; vt_fini
 * kills any service still running (by its exe, in the scratch dir). */
static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	if (f->supervisord > 0) {
		kill(f->supervisord, SIGTERM);
		waitpid(f->supervisord, NULL, 0);
	}
	rc = vt_finish(&f->v);
	free(f);
	return rc;
}

/* The fixture, or the test skipped (and said why) when supervisord is not installed. */
static struct fixture *need_supervisord(struct fixture *f)
{
	if (!f->conf[0]) {
		printf("    SKIPPED: supervisord is not installed (" SUPERVISORD ", " SUPERVISORCTL
		       "): make deps\n");
		skip();
	}
	return f;
}

/* signal: vigil stops the slow service; supervisord starts the replacement (autorestart);
 * vigil verifies it, and supervisord's own word is that its program runs as that pid. */
static void test_signal_mode_supervisord(void **state)
{
	struct fixture *f = need_supervisord(*state);
	pid_t old, np = vt_restart_signal(&f->v, WAIT_MS, "ssig", &old);

	assert_int_equal(ctl_wait_run(f, "ssig", old), np);
}

/* command: `supervisorctl -c CONF restart scmd` (it waits for the stop, then the start), which
 * must exit 0; the replacement is awaited and verified. */
static void test_command_mode_supervisord(void **state)
{
	struct fixture *f = need_supervisord(*state);
	pid_t old, np = vt_restart_command(&f->v, WAIT_MS, "scmd", SUPERVISORCTL " -c ", &old);

	assert_int_equal(ctl_wait_run(f, "scmd", old), np);
}

/* supervisor: external — a crash; supervisord restarts it; vigil awaits and times it, runs no
 * command and starts nothing. */
static void test_external_supervisor_supervisord(void **state)
{
	struct fixture *f = need_supervisord(*state);
	pid_t old = ctl_wait_run(f, "sext", 0), np;

	assert_true(old > 0);
	np = vt_restart_external(&f->v, WAIT_MS, "sext", old);
	assert_int_equal(ctl_wait_run(f, "sext", old), np);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_signal_mode_supervisord),
	    cmocka_unit_test(test_command_mode_supervisord),
	    cmocka_unit_test(test_external_supervisor_supervisord),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_supervisord: must run as root (loads BPF programs)\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	return cmocka_run_group_tests_name("restarts under supervisord", tests, setup, teardown);
}
