// SPDX-License-Identifier: Apache-2.0
/* proc: start, wait for, stop and inspect the processes a bench measures. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "proc.h"

double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void sleep_s(double s)
{
	struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (time_t)s) * 1e9)};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * The log is truncated here, before the fork: a reader must never see the previous run's
 * lines. Returns 0 or -errno.
 */
static int spawn(char *const argv[], struct child *c)
{
	int fd, null;

	fd = open(c->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	c->pid = fork();
	if (c->pid < 0) {
		c->pid = 0;
		close(fd);
		return -errno;
	}
	if (!c->pid) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null >= 0)
			dup2(null, STDIN_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fd);
	return 0;
}

/* Does c->log hold a line with needle? The last line read goes to line either way. */
static bool log_has(const struct child *c, const char *needle, char *line, size_t len)
{
	FILE *f = fopen(c->log, "r");
	char buf[512];

	line[0] = '\0';
	while (f && fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = '\0';
		snprintf(line, len, "%s", buf);
		if (strstr(buf, needle)) {
			fclose(f);
			return true;
		}
	}
	if (f)
		fclose(f);
	return false;
}

int child_start(char *const argv[], struct child *c, const char *needle, double timeout_s,
		char *line, size_t len)
{
	double deadline = clock_s(CLOCK_MONOTONIC) + timeout_s;
	int err, status;

	err = spawn(argv, c);
	if (err)
		return err;
	for (;;) {
		/* Reap first, read after: a child that printed the line and ended still counts. */
		bool ended = waitpid(c->pid, &status, WNOHANG) == c->pid;

		if (log_has(c, needle, line, len) && !ended)
			return 0;
		if (ended) {
			c->pid = 0;
			return -ECHILD;
		}
		if (clock_s(CLOCK_MONOTONIC) > deadline) {
			child_stop(c, SIGKILL);
			return -ETIMEDOUT;
		}
		sleep_s(0.01);
	}
}

void child_stop(struct child *c, int sig)
{
	double deadline = clock_s(CLOCK_MONOTONIC) + 5.0;
	int status;

	if (c->pid <= 0)
		return;
	kill(c->pid, sig);
	while (waitpid(c->pid, &status, WNOHANG) == 0) {
		if (clock_s(CLOCK_MONOTONIC) > deadline) {
			kill(c->pid, SIGKILL);
			waitpid(c->pid, &status, 0);
			break;
		}
		sleep_s(0.01);
	}
	c->pid = 0;
}

int proc_rss(pid_t pid, long *rss_kib, long *hwm_kib)
{
	char path[64], line[128];
	FILE *f;

	*rss_kib = *hwm_kib = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "VmRSS: %ld", rss_kib);
		sscanf(line, "VmHWM: %ld", hwm_kib);
	}
	fclose(f);
	return *rss_kib < 0 ? -ENOENT : 0;
}

/* The program id behind one fd of a process (a program or a link), or 0. */
static uint32_t fd_prog_id(const char *fdinfo)
{
	char line[128];
	uint32_t id = 0;
	FILE *f;

	f = fopen(fdinfo, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f) && sscanf(line, "prog_id: %u", &id) != 1)
		;
	fclose(f);
	return id;
}

/* Name and counters of program i. Returns 0 or -errno. */
static int prog_info(struct progs *p, unsigned int i)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd, err = 0;

	fd = bpf_prog_get_fd_by_id(p->id[i]);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		err = -errno;
	close(fd);
	if (err)
		return err;
	snprintf(p->name[i], sizeof(p->name[i]), "%s", info.name);
	p->run_time_ns[i] = info.run_time_ns;
	p->run_cnt[i] = info.run_cnt;
	return 0;
}

int proc_progs(pid_t pid, struct progs *p)
{
	char dir_path[64], path[PATH_MAX];
	struct dirent *de;
	unsigned int i;
	DIR *dir;

	p->n = 0;
	snprintf(dir_path, sizeof(dir_path), "/proc/%d/fdinfo", pid);
	dir = opendir(dir_path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir)) && p->n < PROC_MAX_PROGS) {
		uint32_t id;

		snprintf(path, sizeof(path), "%s/%s", dir_path, de->d_name);
		id = de->d_name[0] == '.' ? 0 : fd_prog_id(path);
		for (i = 0; id && i < p->n; i++)
			if (p->id[i] == id)
				id = 0;
		if (id)
			p->id[p->n++] = id;
	}
	closedir(dir);
	return progs_refresh(p);
}

int progs_refresh(struct progs *p)
{
	unsigned int i;
	int err;

	for (i = 0; i < p->n; i++) {
		err = prog_info(p, i);
		if (err)
			return err;
	}
	return 0;
}

int proc_free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(fd, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}
