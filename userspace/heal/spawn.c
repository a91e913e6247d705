// SPDX-License-Identifier: Apache-2.0
/* spawn: fork + setsid + execve, the exec's outcome on a pipe (spawn.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "heal/spawn.h"

extern char **environ;

/* In the child: never returns. Reports an exec failure through status_fd. */
static void child(char *const argv[], int go_fd, int status_fd)
{
	sigset_t none;
	char c;
	int fd, err;

	/* Wait until the parent has put us in the watched set (or given up: EOF). */
	if (read(go_fd, &c, 1) != 1)
		_exit(127);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	setsid();
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0 && fd != STDIN_FILENO) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
	/* Everything but stdio and status_fd (close-on-exec) must not leak into the service. */
	if (status_fd > 3)
		close_range(3, status_fd - 1, 0);
	close_range(status_fd + 1, ~0U, 0);
	execve(argv[0], argv, environ);
	err = errno;
	if (write(status_fd, &err, sizeof(err)) < 0)
		_exit(127);
	_exit(127);
}

int vigil_spawn(char *const argv[], vigil_prespawn_fn pre, void *arg, pid_t *pid, int *status_fd)
{
	int go[2] = {-1, -1}, st[2] = {-1, -1};
	pid_t p;
	int err;

	if (!argv || !argv[0] || argv[0][0] != '/')
		return -EINVAL;
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
		child(argv, go[0], st[1]);
	}
	close(go[0]);
	close(st[1]);
	if (pre && (err = pre(p, arg))) {
		close(go[1]); /* the child reads EOF and exits 127 */
		close(st[0]);
		return err;
	}
	if (write(go[1], "g", 1) != 1) {
		err = -errno;
		close(go[1]);
		close(st[0]);
		return err;
	}
	close(go[1]);
	fcntl(st[0], F_SETFL, O_NONBLOCK);
	*pid = p;
	*status_fd = st[0];
	return 0;
fail:
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
