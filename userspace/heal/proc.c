// SPDX-License-Identifier: Apache-2.0
/* proc: pidfd helpers and a process's start time (proc.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "heal/proc.h"

#ifndef P_PIDFD
#define P_PIDFD 3 /* waitid() on a pidfd: Linux 5.4 */
#endif

int vigil_pidfd_open(pid_t pid)
{
	long fd;

	if (pid <= 0)
		return -EINVAL;
	/* pidfds are close-on-exec whatever the flags: no child of ours inherits one. */
	fd = syscall(SYS_pidfd_open, pid, 0);
	return fd < 0 ? -errno : (int)fd;
}

int vigil_pidfd_signal(int pidfd, int sig)
{
	return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) ? -errno : 0;
}

int vigil_pidfd_running(int pidfd)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	int n = poll(&p, 1, 0);

	if (n < 0)
		return -errno;
	if (p.revents & POLLNVAL)
		return -EBADF;
	return n == 0; /* readable (POLLIN, or POLLHUP once reaped): it has exited */
}

int vigil_pidfd_exit(int pidfd, bool peek, int *wstatus)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED | WNOHANG | (peek ? WNOWAIT : 0)))
		return -errno;
	if (!si.si_pid)
		return 0;
	/* The wait status waitpid() would have given. */
	if (si.si_code == CLD_EXITED)
		*wstatus = (si.si_status & 0xff) << 8;
	else
		*wstatus = (si.si_status & 0x7f) | (si.si_code == CLD_DUMPED ? 0x80 : 0);
	return 1;
}

int vigil_proc_start_ns(pid_t pid, uint64_t *mono_ns, pid_t *ppid)
{
	int parent = 0;
	unsigned long long ticks = 0;
	struct timespec boot, mono;
	char path[48], buf[1024], *p;
	uint64_t start_boot;
	int64_t offset;
	long hz = sysconf(_SC_CLK_TCK);
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -ENOENT;
	buf[n] = '\0';
	/* "pid (comm) S ppid ...": fields counted after the last ')', as a comm may hold one;
	 * starttime is field 22, the 20th after it. */
	p = strrchr(buf, ')');
	if (!p || hz <= 0)
		return -EINVAL;
	p++;
	if (sscanf(p, " %*c %d", &parent) != 1)
		return -EINVAL;
	for (int field = 3; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -EINVAL;
	}
	if (sscanf(p, " %llu", &ticks) != 1)
		return -EINVAL;
	/* The field counts from boot on CLOCK_BOOTTIME, which runs on in suspend; the kernel's
	 * timestamps are CLOCK_MONOTONIC, which does not: take the difference off. */
	clock_gettime(CLOCK_BOOTTIME, &boot);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	offset = (int64_t)(boot.tv_sec - mono.tv_sec) * 1000000000ll + boot.tv_nsec - mono.tv_nsec;
	if (offset < 0)
		offset = 0; /* read a few ns apart: the same clock, never suspended */
	start_boot = ticks * (1000000000ull / (uint64_t)hz);
	*mono_ns = start_boot > (uint64_t)offset ? start_boot - (uint64_t)offset : 0;
	if (ppid)
		*ppid = parent;
	return 0;
}

int vigil_signal_parse(const char *s)
{
	static const struct {
		const char *name;
		int sig;
	} sigs[] = {
	    {"HUP", SIGHUP},   {"INT", SIGINT},	  {"QUIT", SIGQUIT}, {"KILL", SIGKILL},
	    {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"TERM", SIGTERM},
	};

	if (!s)
		return -EINVAL;
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (!strcasecmp(s, sigs[i].name))
			return sigs[i].sig;
	return -EINVAL;
}
