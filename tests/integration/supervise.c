// SPDX-License-Identifier: Apache-2.0
/* supervise: a supervisor started for a test, and vigil's side of each restart mode. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cmocka.h>

#include "supervise.h"

pid_t vt_spawn_supervisor(int deathsig, const char *const *argv)
{
	pid_t parent = getpid(), pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		vt_child_signals();
		if (prctl(PR_SET_PDEATHSIG, deathsig) || getppid() != parent)
			_exit(126);
		setsid();
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		execv(argv[0], (char **)argv);
		_exit(127);
	}
	return pid;
}

pid_t vt_restart_resolved(struct vt *v, int wait_ms, const char *mode, json_t *inc, pid_t old,
			  const char *started_by)
{
	const char *id = vt_str(inc, "id");
	json_t *rep, *ok, *fin;
	char want[96];
	pid_t np;

	rep = vt_wait(v, wait_ms, "action", "incident", id, "outcome", "replaced", NULL);
	assert_non_null(rep);
	np = (pid_t)vt_int(rep, "pid");
	assert_true(np > 0 && np != old);
	snprintf(want, sizeof(want), "replaced pid %d after", old);
	assert_non_null(strstr(vt_str(rep, "detail"), want));
	assert_non_null(strstr(vt_str(rep, "detail"), started_by));
	ok = vt_wait(v, wait_ms, "action", "incident", id, "outcome", "success", NULL);
	if (!ok)
		vt_dump(v, "incident", id);
	assert_non_null(ok);
	assert_int_equal(vt_int(ok, "pid"), np);
	fin = vt_wait(v, wait_ms, "incident", "id", id, "state", "resolved", NULL);
	assert_non_null(fin);
	assert_true(vt_int(fin, "replaced_after_ms") >= 0);
	printf("    %-8s fault -> replacement exec %lld ms -> verified %lld ms "
	       "(detected in %lld us; verify window 1000 ms)\n",
	       mode, vt_int(fin, "replaced_after_ms"),
	       vt_int(fin, "detect_us") / 1000 + vt_int(fin, "recovery_ms"),
	       vt_int(fin, "detect_us"));
	return np;
}

/* The workload's syscall_slow incident, its pid into *old. */
static json_t *slow_incident(struct vt *v, int wait_ms, const char *workload, pid_t *old)
{
	json_t *inc;

	inc = vt_wait(v, wait_ms, "incident", "workload", workload, "class", "syscall_slow", NULL);
	assert_non_null(inc);
	*old = (pid_t)vt_int(inc, "pid");
	return inc;
}

pid_t vt_restart_signal(struct vt *v, int wait_ms, const char *workload, pid_t *old)
{
	json_t *inc = slow_incident(v, wait_ms, workload, old), *stop;
	const char *id = vt_str(inc, "id");
	pid_t np;

	stop = vt_wait(v, wait_ms, "action", "incident", id, "outcome", "stop", NULL);
	assert_non_null(stop);
	assert_int_equal(vt_int(stop, "pid"), *old);
	assert_non_null(strstr(vt_str(stop, "detail"), "SIGTERM to pid"));
	assert_non_null(vt_wait(v, wait_ms, "action", "incident", id, "outcome", "await", NULL));
	np = vt_restart_resolved(v, wait_ms, "signal", inc, *old, "(started by the supervisor)");
	assert_int_equal(vt_count(v, "action", "incident", id, "outcome", "started", NULL), 0);
	return np;
}

pid_t vt_restart_command(struct vt *v, int wait_ms, const char *workload, const char *cmd,
			 pid_t *old)
{
	json_t *inc = slow_incident(v, wait_ms, workload, old), *rec;
	const char *id = vt_str(inc, "id");
	int exited0 = 0;
	size_t i;
	pid_t np;

	rec = vt_wait(v, wait_ms, "action", "incident", id, "outcome", "command", NULL);
	assert_non_null(rec);
	assert_non_null(strstr(vt_str(rec, "detail"), cmd));
	np = vt_restart_resolved(v, wait_ms, "command", inc, *old, "(started by the supervisor)");
	/* The command ran and exited 0; vigil itself signalled nothing. */
	json_array_foreach(v->records, i, rec)
	{
		if (strcmp(vt_str(rec, "type"), "action") ||
		    strcmp(vt_str(rec, "incident") ?: "", id))
			continue;
		if (!strcmp(vt_str(rec, "outcome"), "command") &&
		    strstr(vt_str(rec, "detail"), "exited 0 after"))
			exited0++;
		assert_string_not_equal(vt_str(rec, "outcome"), "stop");
	}
	assert_int_equal(exited0, 1);
	return np;
}

pid_t vt_restart_external(struct vt *v, int wait_ms, const char *workload, pid_t old)
{
	char want[16];
	json_t *inc;
	const char *id;
	pid_t np;

	/* Watched (its exec seen, or found by the /proc scan) before it is crashed. */
	snprintf(want, sizeof(want), "%d", old);
	for (int n = 0; n < 200; n++) {
		json_t *st = vt_ctl(v, "status", NULL);
		char *text = st ? json_dumps(st, 0) : NULL;
		bool seen = text && strstr(text, want);

		free(text);
		json_decref(st);
		if (seen)
			break;
		usleep(10000);
	}
	kill(old, SIGSEGV);
	inc = vt_wait(v, wait_ms, "incident", "workload", workload, "class", "crash", NULL);
	assert_non_null(inc);
	assert_int_equal(vt_int(inc, "pid"), old);
	id = vt_str(inc, "id");
	assert_non_null(vt_wait(v, wait_ms, "action", "incident", id, "outcome", "await", NULL));
	np = vt_restart_resolved(v, wait_ms, "external", inc, old, "(started by the supervisor)");
	assert_int_equal(vt_count(v, "action", "incident", id, "outcome", "command", NULL), 0);
	return np;
}
