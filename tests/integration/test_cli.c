// SPDX-License-Identifier: Apache-2.0
/*
 * Integration: the command line of the real binary — a bad config refused with file, line
 * and key; doctor; a hostile process name in the journal; a clean detach on SIGTERM.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

/* Run a shell-free command line of build/vigil; output (stdout+stderr) into out. */
static int run_vigil(struct vt *v, const char *const *args, char *out, size_t len)
{
	const char *argv[16] = { v->vigil_bin };
	int pipefd[2], status, n = 1;
	size_t got = 0;
	ssize_t r;
	pid_t pid;

	for (int i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		dup2(pipefd[1], STDERR_FILENO);
		close(pipefd[0]);
		execv(argv[0], (char **)argv);
		_exit(127);
	}
	close(pipefd[1]);
	while (got + 1 < len && (r = read(pipefd[0], out + got, len - 1 - got)) > 0)
		got += r;
	out[got] = '\0';
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_bad_config_names_file_line_key(void **state)
{
	struct vt v;
	char out[4096], path[256];
	FILE *f;

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	snprintf(path, sizeof(path), "%s/bad.yaml", v.dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("observe_all: false\n"
	      "workloads:\n"
	      "  - name: svc\n"
	      "    match: { comm: svc }\n"
	      "    matc: { comm: svc }\n",
	      f);
	fclose(f);
	{
		const char *args[] = { "run", "--config", path, "--journal", "", NULL };

		assert_int_equal(run_vigil(&v, args, out, sizeof(out)), 1);
	}
	assert_non_null(strstr(out, path));
	assert_non_null(strstr(out, "bad.yaml:5:5:"));
	assert_non_null(strstr(out, "'matc'"));
	/* It refused before loading anything: no ready line. */
	assert_null(strstr(out, "ready"));
	vt_fini(&v);
}

static void test_missing_config_file(void **state)
{
	const char *args[] = { "run", "--config", "/nonexistent/vigil.yaml", NULL };
	struct vt v;
	char out[4096];

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	assert_int_equal(run_vigil(&v, args, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "/nonexistent/vigil.yaml"));
	assert_non_null(strstr(out, "No such file"));
	vt_fini(&v);
}

static void test_usage_and_version(void **state)
{
	const char *help[] = { "--help", NULL }, *ver[] = { "version", NULL },
		   *bogus[] = { "frobnicate", NULL }, *badopt[] = { "run", "--probes", "kprobe",
								 NULL };
	struct vt v;
	char out[4096];

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	assert_int_equal(run_vigil(&v, help, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "usage: vigil"));
	assert_int_equal(run_vigil(&v, ver, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "event ABI 1"));
	assert_int_equal(run_vigil(&v, bogus, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "unknown command 'frobnicate'"));
	assert_int_equal(run_vigil(&v, badopt, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "'kprobe'"));
	vt_fini(&v);
}

static void test_doctor(void **state)
{
	const char *args[] = { "doctor", NULL };
	struct vt v;
	char out[8192];
	int rc;

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	rc = run_vigil(&v, args, out, sizeof(out));
	printf("%s", out);
	/* Where integration tests run, the required checks pass. */
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "OK       required  tp_btf programs (exits)"));
	assert_non_null(strstr(out, "vigil can run here."));
	vt_fini(&v);
}

/* Observe-all: a process named to break JSON and terminals crashes; the journal stays valid. */
static void test_hostile_comm_in_journal(void **state)
{
	static const char hostile[] = "vt\"}\n{\x1b[2J\xff";
	static const char *const args[] = { "segv", NULL };
	struct vt v;
	json_t *ev;
	pid_t p;

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	assert_int_equal(vt_start(&v, "observe_all: true\n", NULL), 0);
	p = vt_run(&v, hostile, args);
	waitpid(p, NULL, 0);
	{
		char pid[16];

		snprintf(pid, sizeof(pid), "%d", p);
		ev = vt_wait(&v, 5000, "event", "class", "crash", "pid", pid, NULL);
	}
	assert_non_null(ev);
	/* Every byte that was valid UTF-8 comes back as it was. */
	assert_memory_equal(vt_str(ev, "comm"), "vt\"}\n{\x1b[2J", 10);
	assert_int_equal(vt_count(&v, "invalid-json", NULL), 0);
	assert_int_equal(vt_stop(&v), 0);
	vt_fini(&v);
}

/* Programs of vigil's still loaded in the kernel (bpftool's view). */
static int programs_left(void)
{
	char line[512];
	int left = 0;
	FILE *f = popen("bpftool prog show 2>/dev/null", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		left += strstr(line, " name exit_btf ") || strstr(line, " name exec_btf ");
	pclose(f);
	return left;
}

/* SIGTERM: exit status 0 and none of vigil's programs left in the kernel. */
static void test_sigterm_detaches(void **state)
{
	struct vt v;
	int left;

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	assert_int_equal(vt_start(&v, "observe_all: true\n", NULL), 0);
	assert_true(programs_left() >= 1);
	assert_int_equal(vt_stop(&v), 0);
	assert_non_null(strstr(v.errbuf, "stopping"));
	/* The kernel frees a program after an RCU grace period: give it a moment. */
	for (int i = 0; i < 100 && (left = programs_left()) > 0; i++)
		usleep(20000);
	assert_int_equal(left, 0);
	vt_fini(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_config_names_file_line_key),
		cmocka_unit_test(test_missing_config_file),
		cmocka_unit_test(test_usage_and_version),
		cmocka_unit_test(test_doctor),
		cmocka_unit_test(test_hostile_comm_in_journal),
		cmocka_unit_test(test_sigterm_detaches),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_cli: must run as root (loads BPF programs): sudo make test\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
