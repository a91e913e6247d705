// SPDX-License-Identifier: Apache-2.0
/*
 * Unit: how vigil starts a child (heal/spawn.c) and holds a process (heal/proc.c), on real
 * processes — the environment is exactly the list given, no descriptor of vigil's leaks, a
 * child that dies before it is let go is a failed spawn and not a SIGPIPE that ends vigil; a
 * pidfd tells a running process from a zombie, signals only the process it holds (never one
 * given its pid afterwards), and gives a child's exit status; a process's start time is on the
 * kernel's clock.
 */
#include <errno.h>
#include <fcntl.h>
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

#include "bad_exec.h"

#include "core/clock.h"
#include "heal/proc.h"
#include "heal/spawn.h"

/* Run argv with envp, its output into a scratch file; wait for it. Returns what it wrote. */
static char *run_capture(char *const argv[], char *const envp[], int *wstatus)
{
	static char out[4096];
	char path[] = "/tmp/vigil-spawn-XXXXXX";
	struct vigil_spawned sp;
	struct vigil_spawn_opts o = {.argv = argv, .envp = envp};
	int fd = mkstemp(path);
	ssize_t n;

	assert_true(fd >= 0);
	unlink(path);
	o.out_fd = fd;
	assert_int_equal(vigil_spawn(&o, &sp), 0);
	assert_true(sp.pid > 0 && sp.pidfd >= 0 && sp.status_fd >= 0);
	assert_int_equal(waitpid(sp.pid, wstatus, 0), sp.pid);
	close(sp.pidfd);
	close(sp.status_fd);
	n = pread(fd, out, sizeof(out) - 1, 0);
	close(fd);
	assert_true(n >= 0);
	out[n] = '\0';
	return out;
}

/* The child's environment is the list given, nothing inherited (REDIS_PASSWORD...). */
static void test_env_is_explicit(void **state)
{
	char *argv[] = {"/usr/bin/env", NULL};
	char *envp[] = {"A=1", "B=two words", NULL};
	char *out;
	int ws;

	(void)state;
	assert_int_equal(setenv("REDIS_PASSWORD", "hunter2", 1), 0);
	out = run_capture(argv, envp, &ws);
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	assert_string_equal(out, "A=1\nB=two words\n");
	/* No list: an empty environment. */
	out = run_capture(argv, NULL, &ws);
	assert_string_equal(out, "");
	unsetenv("REDIS_PASSWORD");
}

/* None of vigil's descriptors reach the child: stdin is /dev/null, stdout and stderr the fd
 * given, and nothing else but what it opens itself (ls's own directory, 3). */
static void test_no_vigil_fds(void **state)
{
	char *argv[] = {"/bin/ls", "/proc/self/fd", NULL};
	char *argv_in[] = {"/usr/bin/readlink", "/proc/self/fd/0", NULL};
	int leak = open("/dev/null", O_RDONLY); /* not close-on-exec, as a careless fd would be */
	int leak2 = dup2(leak, 57);
	char *out;
	int ws;

	(void)state;
	assert_true(leak >= 0 && leak2 == 57);
	out = run_capture(argv, NULL, &ws);
	assert_string_equal(out, "0\n1\n2\n3\n");
	out = run_capture(argv_in, NULL, &ws);
	assert_string_equal(out, "/dev/null\n");
	close(leak);
	close(leak2);
}

/* Without an output fd, the child writes to /dev/null, never to vigil's stdout (its journal
 * lines with --json). */
static void test_output_default_is_null(void **state)
{
	char *argv[] = {"/bin/sleep", "5", NULL};
	struct vigil_spawn_opts o = {.argv = argv, .out_fd = -1};
	struct vigil_spawned sp;
	char link[64], got[64];
	int st = 0;
	ssize_t n;

	(void)state;
	assert_int_equal(vigil_spawn(&o, &sp), 0);
	/* Once it runs sleep (the status pipe at EOF), look at its fds from here. */
	fcntl(sp.status_fd, F_SETFL, 0);
	assert_int_equal(read(sp.status_fd, &st, sizeof(st)), 0);
	for (int fd = 0; fd < 3; fd++) {
		snprintf(link, sizeof(link), "/proc/%d/fd/%d", sp.pid, fd);
		n = readlink(link, got, sizeof(got) - 1);
		assert_true(n > 0);
		got[n] = '\0';
		assert_string_equal(got, "/dev/null");
	}
	assert_int_equal(vigil_pidfd_signal(sp.pidfd, SIGKILL), 0);
	assert_int_equal(waitpid(sp.pid, &st, 0), sp.pid);
	close(sp.pidfd);
	close(sp.status_fd);
}

static int kill_first(pid_t pid, void *arg)
{
	siginfo_t si;

	(void)arg;
	/* The child dies before it is let go: its end of the go pipe is closed. */
	kill(pid, SIGKILL);
	memset(&si, 0, sizeof(si));
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) ? -errno : 0;
}

/*
 * A child that dies before it reads its go byte: the spawn fails with -EPIPE, and the SIGPIPE
 * that writing it raises never reaches the caller (vigil, whose default action for it is to
 * die). SIGPIPE is at its default here, as in a vigil started without the daemon's SIG_IGN.
 */
static void test_child_dead_before_go_is_epipe(void **state)
{
	char *argv[] = {"/bin/true", NULL};
	struct vigil_spawn_opts o = {.argv = argv, .out_fd = -1, .pre = kill_first};
	struct vigil_spawned sp;
	sigset_t pending;
	pid_t pid;
	int ws;

	(void)state;
	signal(SIGPIPE, SIG_DFL);
	assert_int_equal(vigil_spawn(&o, &sp), -EPIPE);
	sigpending(&pending);
	assert_false(sigismember(&pending, SIGPIPE));
	pid = wait(&ws); /* the child is left to whoever reaps ours */
	assert_true(pid > 0 && WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
}

/* An exec that fails: the errno on the status pipe; the child exits 127. */
static void test_exec_failure_on_status_pipe(void **state)
{
	char *argv[] = {VT_BAD_EXEC, NULL}, why[256] = "";
	struct vigil_spawn_opts o = {.argv = argv, .out_fd = -1, .why = why, .whylen = sizeof(why)};
	struct vigil_spawned sp;
	int err = 0, ws;

	(void)state;
	assert_int_equal(vt_bad_exec_make(), 0);
	assert_int_equal(vigil_spawn(&o, &sp), 0);
	assert_int_equal(waitpid(sp.pid, &ws, 0), sp.pid);
	assert_int_equal(WEXITSTATUS(ws), 127);
	assert_int_equal(read(sp.status_fd, &err, sizeof(err)), sizeof(err));
	assert_int_equal(err, ENOEXEC);
	close(sp.pidfd);
	close(sp.status_fd);
	{
		char *rel[] = {"bin/true", NULL};

		o.argv = rel;
		assert_int_equal(vigil_spawn(&o, &sp), -EINVAL);
	}
	/* Checked again at the fork, not only at load: a path gone since is refused, said why. */
	{
		char *gone[] = {"/nonexistent/vigil-test", NULL};

		o.argv = gone;
		assert_int_equal(vigil_spawn(&o, &sp), -ENOENT);
		assert_non_null(strstr(why, "/nonexistent/vigil-test"));
	}
}

/* Running, then a zombie (exited: not running, whatever kill(pid, 0) says), then reaped
 * through the pidfd with its status; a signal to it fails, never reaching a new owner of the
 * pid. */
static void test_pidfd_running_zombie_reaped(void **state)
{
	siginfo_t si;
	pid_t pid;
	int fd, ws = 0;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(7);
	}
	fd = vigil_pidfd_open(pid);
	assert_true(fd >= 0);
	assert_int_equal(vigil_pidfd_running(fd), 1);
	assert_int_equal(vigil_pidfd_exit(fd, true, &ws), 0);
	assert_int_equal(vigil_pidfd_signal(fd, SIGKILL), 0);
	memset(&si, 0, sizeof(si));
	assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	assert_int_equal(kill(pid, 0), 0);	      /* the zombie answers kill(pid, 0)... */
	assert_int_equal(vigil_pidfd_running(fd), 0); /* ... not the pidfd */
	assert_int_equal(vigil_pidfd_exit(fd, true, &ws), 1);
	assert_true(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
	assert_int_equal(vigil_pidfd_exit(fd, false, &ws), 1); /* reaped now */
	assert_int_equal(vigil_pidfd_running(fd), 0);
	assert_int_equal(vigil_pidfd_exit(fd, false, &ws), -ECHILD);
	assert_int_equal(vigil_pidfd_signal(fd, SIGTERM), -ESRCH);
	close(fd);
	assert_int_equal(vigil_pidfd_open(pid), -ESRCH);
	assert_int_equal(vigil_pidfd_open(0), -EINVAL);
}

/* An exit status through the pidfd, as waitpid() gives it. */
static void test_pidfd_exit_status(void **state)
{
	pid_t pid;
	int fd, ws = 0;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(7);
	fd = vigil_pidfd_open(pid);
	assert_true(fd >= 0);
	for (int n = 0; n < 2000 && vigil_pidfd_exit(fd, false, &ws) == 0; n++)
		usleep(1000);
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), 7);
	close(fd);
}

/* A process's start time, on CLOCK_MONOTONIC (the kernel's timestamps), to the tick. */
static void test_start_time(void **state)
{
	uint64_t before = vigil_mono_ns(), start = 0, after;
	pid_t pid = fork(), ppid = 0;

	(void)state;
	assert_true(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	after = vigil_mono_ns();
	assert_int_equal(vigil_proc_start_ns(pid, &start, &ppid), 0);
	assert_true(start + VIGIL_PROC_START_RES_NS >= before);
	assert_true(start <= after);
	assert_int_equal(ppid, getpid());
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(vigil_proc_start_ns(pid, &start, NULL), -ENOENT);
}

static void test_signal_names(void **state)
{
	(void)state;
	assert_int_equal(vigil_signal_parse("TERM"), SIGTERM);
	assert_int_equal(vigil_signal_parse("SIGTERM"), SIGTERM);
	assert_int_equal(vigil_signal_parse("kill"), SIGKILL);
	assert_int_equal(vigil_signal_parse("HUP"), SIGHUP);
	assert_int_equal(vigil_signal_parse("SEGV"), -EINVAL); /* not one that stops a service */
	assert_int_equal(vigil_signal_parse("15"), -EINVAL);
	assert_int_equal(vigil_signal_parse(NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_env_is_explicit),
	    cmocka_unit_test(test_no_vigil_fds),
	    cmocka_unit_test(test_output_default_is_null),
	    cmocka_unit_test(test_child_dead_before_go_is_epipe),
	    cmocka_unit_test(test_exec_failure_on_status_pipe),
	    cmocka_unit_test(test_pidfd_running_zombie_reaped),
	    cmocka_unit_test(test_pidfd_exit_status),
	    cmocka_unit_test(test_start_time),
	    cmocka_unit_test(test_signal_names),
	};

	return cmocka_run_group_tests_name("spawn and pidfds", tests, NULL, NULL);
}
