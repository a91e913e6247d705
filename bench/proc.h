/* SPDX-License-Identifier: Apache-2.0 */
/*
 * proc: the benches' helpers for the processes they measure — start one with its output in a
 * log and wait for a line, stop it, read its memory, and list the BPF programs it holds with
 * their run-time counters.
 */
#ifndef VIGIL_BENCH_PROC_H
#define VIGIL_BENCH_PROC_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define PROC_MAX_PROGS 64

/* A child whose stdout and stderr go to a log file. */
struct child {
	pid_t pid; /* 0: not running */
	char log[PATH_MAX];
};

/* The BPF programs a process holds (program fds and links), with the kernel's counters. */
struct progs {
	unsigned int n;
	uint32_t id[PROC_MAX_PROGS];
	char name[PROC_MAX_PROGS][16];
	uint64_t run_time_ns[PROC_MAX_PROGS]; /* counted while BPF stats are enabled */
	uint64_t run_cnt[PROC_MAX_PROGS];
};

double clock_s(clockid_t id);
void sleep_s(double s);

/*
 * Start argv (PATH is searched) with stdin from /dev/null, stdout and stderr into c->log, and
 * wait up to timeout_s for a log line containing needle, copied into line. Returns 0, or
 * -errno with the child stopped and line holding the last thing it said (-ECHILD: it ended).
 */
int child_start(char *const argv[], struct child *c, const char *needle, double timeout_s,
		char *line, size_t len);
/* Stop with sig, SIGKILL after 5 s; reaps it. Accepts a child not running. */
void child_stop(struct child *c, int sig);

/* A loopback TCP port free now (bound, then closed), or -1. */
int proc_free_port(void);

/* VmRSS and VmHWM of pid, in KiB. Returns 0 or -errno. */
int proc_rss(pid_t pid, long *rss_kib, long *hwm_kib);

/* Fill p with the programs pid holds and their counters now. Returns 0 or -errno. */
int proc_progs(pid_t pid, struct progs *p);
/* Refresh the counters of the programs in p. Returns 0 or -errno. */
int progs_refresh(struct progs *p);

#endif /* VIGIL_BENCH_PROC_H */
