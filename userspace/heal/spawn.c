// SPDX-License-Identifier: Apache-2.0
/* spawn: fork + setsid + execve, the exec's outcome on a pipe (spawn.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "heal/proc.h"
#include "core/files.h"
#include "heal/spawn.h"

/* An fd of ours moved to 3 or above (close-on-exec), so that stdio can be laid over 0..2. */
static int above_stdio(int fd)
{
	return fd >= 0 && fd < 3 ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : fd;
}

/* In the child: never returns. Reports an exec failure through status_fd. */
static void child(const struct vigil_spawn_opts *o, int go_fd, int status_fd)
{
	static char *const empty[] = {NULL};
	int null, out, err;
	sigset_t none;
	char c;

	/* Wait until the parent has put us in the watched set (or given up: EOF). */
	if (read(go_fd, &c, 1) != 1)
		_exit(127);
	/* vigil blocks the signals its loop reads and ignores SIGPIPE: none of it is the
	 * service's. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	setsid();
	status_fd = above_stdio(status_fd);
	out = above_stdio(o->out_fd);
	null = above_stdio(open("/dev/null", O_RDWR | O_CLOEXEC));
	if (status_fd < 0 || null < 0)
		_exit(127);
	if (out < 0)
		out = null;
	if (dup2(null, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
	    dup2(out, STDERR_FILENO) < 0)
		_exit(127);
	/* Everything but stdio and status_fd (close-on-exec) must not leak into the service. */
	if (status_fd > 3)
		close_range(3, status_fd - 1, 0);
	close_range(status_fd + 1, ~0U, 0);
	execve(o->argv[0], o->argv, o->envp ? o->envp : empty);
	err = errno;
	if (write(status_fd, &err, sizeof(err)) < 0)
		_exit(127);
	_exit(127);
}

/* Let the child go. Returns 0, or -EPIPE when it has died already: the SIGPIPE that write
 * raises then is blocked and taken back, so it never reaches the caller. */
static int let_go(int fd)
{
	const struct timespec zero = {0, 0};
	sigset_t pipe_set, old;
	ssize_t n;
	int err = 0;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	n = write(fd, "g", 1);
	if (n != 1) {
		err = n < 0 ? -errno : -EIO;
		if (err == -EPIPE && !sigismember(&old, SIGPIPE))
			sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

int vigil_spawn(const struct vigil_spawn_opts *o, struct vigil_spawned *out)
{
	int go[2] = {-1, -1}, st[2] = {-1, -1}, pidfd = -1;
	pid_t p;
	int err;

	char why[256];

	if (!o->argv || !o->argv[0] || o->argv[0][0] != '/')
		return -EINVAL;
	err = vigil_path_trusted(o->argv[0], why, sizeof(why));
	if (err) {
		if (o->why)
			snprintf(o->why, o->whylen, "%s", why);
		return err;
	}
	if (pipe2(go, O_CLOEXEC) || pipe2(st, O_CLOEXEC)) {
		err = -errno;
		goto fail;
	}
	p = fork();
	if (p < 0) {
		err = -errno;
		goto fail;
	}
	if (p == 0) {
		close(go[1]);
		close(st[0]);
		child(o, go[0], st[1]);
	}
	close(go[0]);
	close(st[1]);
	go[0] = st[1] = -1;
	/* Held before the child may run: nobody reaps it until the loop runs again. */
	pidfd = vigil_pidfd_open(p);
	err = pidfd < 0 ? pidfd : 0;
	if (!err && o->pre)
		err = o->pre(p, o->arg);
	/* On any error the child reads EOF (or was dead already) and exits 127 unexec'd. */
	if (!err)
		err = let_go(go[1]);
	if (err)
		goto fail;
	close(go[1]);
	fcntl(st[0], F_SETFL, O_NONBLOCK);
	out->pid = p;
	out->status_fd = st[0];
	out->pidfd = pidfd;
	return 0;
fail:
	if (pidfd >= 0)
		close(pidfd);
	for (int i = 0; i < 2; i++) {
		if (go[i] >= 0)
			close(go[i]);
		if (st[i] >= 0)
			close(st[i]);
	}
	return err;
}

void vigil_argv_join(char *const argv[], char *buf, size_t len)
{
	size_t off = 0;

	if (!len)
		return;
	buf[0] = '\0';
	for (int i = 0; argv && argv[i] && off < len; i++) {
		int w = snprintf(buf + off, len - off, "%s%s", i ? " " : "", argv[i]);

		if (w < 0)
			break;
		off += (size_t)w;
	}
}
