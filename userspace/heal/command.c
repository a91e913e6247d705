// SPDX-License-Identifier: Apache-2.0
/* command: a command run to its end, for restart's command mode and rollback (command.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/loop.h"
#include "heal/command.h"

int vigil_spawn_piped(struct vigil_spawn_opts *o, struct vigil_spawned *sp, int *out_fd)
{
	int out[2], err;

	if (pipe2(out, O_CLOEXEC))
		out[0] = out[1] = -1; /* then without its output */
	else
		fcntl(out[0], F_SETFL, O_NONBLOCK); /* ours only: the child writes blocking */
	o->out_fd = out[1];
	err = vigil_spawn(o, sp);
	if (out[1] >= 0)
		close(out[1]);
	if (err && out[0] >= 0) {
		close(out[0]);
		out[0] = -1;
	}
	*out_fd = out[0];
	return err;
}

int vigil_out_tail_read(struct vigil_out_tail *t, int fd)
{
	char buf[512];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : 1;
		for (ssize_t i = 0; i < n; i++) {
			char c = buf[i] == '\n' || buf[i] == '\t' ? ' ' : buf[i];

			if ((unsigned char)c < ' ' ||
			    (c == ' ' && t->len && t->buf[t->len - 1] == ' '))
				continue;
			if (t->len == VIGIL_OUT_TAIL) {
				memmove(t->buf, t->buf + 1, VIGIL_OUT_TAIL - 1);
				t->len--;
			}
			t->buf[t->len++] = c;
		}
		t->buf[t->len] = '\0';
	}
	return 1; /* EOF */
}

const char *vigil_out_tail_said(struct vigil_out_tail *t, char *buf, size_t len)
{
	while (t->len && t->buf[t->len - 1] == ' ')
		t->buf[--t->len] = '\0';
	snprintf(buf, len, "%s%s", t->len ? ": " : "", t->len ? t->buf : "");
	return buf;
}

int vigil_exec_status(int fd)
{
	int err = 0;
	ssize_t n = read(fd, &err, sizeof(err));

	if (n < 0 && errno == EAGAIN)
		return 0;
	return n == sizeof(err) && err ? -err : 1;
}

const char *vigil_wstatus_str(int wstatus, char *buf, size_t len)
{
	if (WIFSIGNALED(wstatus))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(wstatus));
	else
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(wstatus));
	return buf;
}

int vigil_argv_check(char *const *argv, unsigned int argc, const char *key, const char *key0,
		     const char **bad, char *why, size_t len)
{
	*bad = key;
	if (!argc || !argv) {
		snprintf(why, len, "must not be empty");
		return -EINVAL;
	}
	if (argc > VIGIL_MAX_ARGV) {
		snprintf(why, len, "has %u entries, at most %d are allowed", argc, VIGIL_MAX_ARGV);
		return -EINVAL;
	}
	if (argv[0][0] != '/') {
		*bad = key0;
		snprintf(why, len, "'%s' must be an absolute path (start with /)", argv[0]);
		return -EINVAL;
	}
	return 0;
}

void vigil_strv_free(char **v)
{
	for (char **s = v; s && *s; s++)
		free(*s);
	free(v);
}

void vigil_drop_fd(struct vigil_loop *loop, int *fd)
{
	if (*fd < 0)
		return;
	vigil_loop_del_fd(loop, *fd);
	close(*fd);
	*fd = -1;
}
