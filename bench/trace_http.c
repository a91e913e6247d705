// SPDX-License-Identifier: Apache-2.0
/*
 * trace_http: what trace.http costs (issue 13). Every figure is measured in this run against
 * a baseline of the same run; nothing here is a timed test.
 *
 *   requests/s of a loopback keep-alive HTTP/1.1 server (tests/helpers/faulty httpd, a thread
 *   per connection, read() then one write() per request), each request carrying a
 *   traceparent, in a watched workload: vigil with trace.http on vs the same workload
 *   without it (target >= 0.95);
 *
 *   the cost of an unwatched process's syscalls (this bench's own), vigil with trace.http on
 *   vs vigil without it: getppid (a syscall the trace programs do not name) and read() of
 *   /dev/zero (one they name: the watched bit's test, then return).
 *
 * "On" is measured in both hook shapes: the raw tp_btf sys_enter/sys_exit pair (the default)
 * and the per-syscall tracepoints (vigil run --probes tracepoint). The three configurations
 * rotate in rounds and each round's ratios are taken against its own "off", so a drifting
 * host moves all alike; the median ratio is printed with its range.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"

#define ROUNDS 5
#define LOAD_S 1.5
#define START_TIMEOUT_S 20.0
#define RPS_TARGET 0.95
#define UNWATCHED_CALLS 2000000

static const char request[] =
    "GET /ok HTTP/1.1\r\nHost: bench\r\nUser-Agent: vigil-bench\r\nAccept: */*\r\n"
    "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n\r\n";

static int connect_retry(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int one = 1;

	for (int i = 0; i < 300; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd >= 0 && !connect(fd, (struct sockaddr *)&a, sizeof(a))) {
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			return fd;
		}
		if (fd >= 0)
			close(fd);
		usleep(10000);
	}
	return -1;
}

/* Requests answered per second on one keep-alive connection, for LOAD_S. -1: it failed. */
static double load(int port)
{
	char buf[512];
	double t0, t;
	long n = 0;
	int fd = connect_retry(port);

	if (fd < 0)
		return -1;
	t0 = clock_s(CLOCK_MONOTONIC);
	do {
		ssize_t got = 0, r;

		if (write(fd, request, sizeof(request) - 1) != (ssize_t)sizeof(request) - 1)
			goto fail;
		/* The whole answer: its body "ok\n" ends it. */
		do {
			r = read(fd, buf + got, sizeof(buf) - 1 - got);
			if (r <= 0)
				goto fail;
			got += r;
			buf[got] = '\0';
		} while (!strstr(buf, "ok\n"));
		n++;
		t = clock_s(CLOCK_MONOTONIC);
	} while (t - t0 < LOAD_S);
	close(fd);
	return n / (t - t0);
fail:
	close(fd);
	return -1;
}

/* ns per call of an unwatched syscall loop: the best of 3 batches. */
static double unwatched_ns(bool use_read)
{
	double best = 0;
	char b[64];
	int fd = open("/dev/zero", O_RDONLY);

	for (int k = 0; k < 3; k++) {
		double t0 = clock_s(CLOCK_MONOTONIC), ns;

		for (int i = 0; i < UNWATCHED_CALLS; i++) {
			if (use_read) {
				if (read(fd, b, sizeof(b)) != sizeof(b))
					break;
			} else {
				syscall(SYS_getppid);
			}
		}
		ns = (clock_s(CLOCK_MONOTONIC) - t0) * 1e9 / UNWATCHED_CALLS;
		if (!k || ns < best)
			best = ns;
	}
	close(fd);
	return best;
}

struct sample {
	double rps, getppid_ns, read_ns;
};

/* One configuration: vigil on config, the server started after it (exec-time comm match),
 * the load, the unwatched loops. Returns 0 or -1 (said). */
static int measure(const char *vigil, const char *faulty, const char *out, const char *config,
		   const char *tag, bool classic, struct sample *s)
{
	char *argv[] = {(char *)vigil,
			"run",
			"--journal",
			"",
			"--quiet",
			"--ctl",
			"",
			"--config",
			(char *)config,
			"--probes",
			classic ? "tracepoint" : "tp_btf",
			NULL};
	char link[PATH_MAX], target[PATH_MAX], port_s[16], line[512];
	struct child c = {};
	pid_t srv;
	int port = proc_free_port(), err;

	snprintf(c.log, sizeof(c.log), "%s/vigil-trace-%s.log", out, tag);
	err = child_start(argv, &c, "vigil: ready:", START_TIMEOUT_S, line, sizeof(line));
	if (err) {
		printf("  vigil did not start (%s): %.200s\n", tag, line);
		return -1;
	}
	sleep_s(0.1);
	snprintf(link, sizeof(link), "%s/vb-web", out);
	unlink(link);
	/* A symlink's target is relative to the link's folder: give it an absolute one. */
	if (!realpath(faulty, target) || symlink(target, link)) {
		printf("  symlink %s: %s\n", link, strerror(errno));
		child_stop(&c, SIGTERM);
		return -1;
	}
	snprintf(port_s, sizeof(port_s), "%d", port);
	srv = fork();
	if (!srv) {
		int dn = open("/dev/null", O_RDWR);

		dup2(dn, 1);
		dup2(dn, 2);
		execl(link, "vb-web", "httpd", port_s, (char *)NULL);
		_exit(127);
	}
	s->rps = load(port);
	s->getppid_ns = unwatched_ns(false);
	s->read_ns = unwatched_ns(true);
	kill(srv, SIGKILL);
	waitpid(srv, NULL, 0);
	child_stop(&c, SIGTERM);
	if (s->rps < 0) {
		printf("  the load failed (%s)\n", tag);
		return -1;
	}
	return 0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One ratio's median and range; with min > 0, judged against it (after the sort: the median
 * of the sorted rounds). */
static void row(const char *label, double *r, int n, double min)
{
	qsort(r, n, sizeof(*r), cmp);
	printf("  %-52s %.3f  (%.3f..%.3f)", label, r[n / 2], r[0], r[n - 1]);
	if (min > 0)
		printf("  target >= %.2f  %s", min, r[n / 2] >= min ? "PASS" : "MISS");
	printf("\n");
}

enum { OFF, RAW, PER_SYSCALL, N_CFG };

int main(int argc, char **argv)
{
	static const char *const tags[N_CFG] = {"off", "on-raw", "on-syscalls"};
	double ratio[N_CFG][3][ROUNDS], mean[N_CFG][3] = {};
	char off_cfg[PATH_MAX], on_cfg[PATH_MAX];
	struct sample s[N_CFG];
	FILE *f;
	int n = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: trace_http VIGIL FAULTY OUTDIR\n");
		return 2;
	}
	if (geteuid()) {
		fprintf(stderr, "trace_http: must run as root (vigil loads BPF programs)\n");
		return 1;
	}
	snprintf(off_cfg, sizeof(off_cfg), "%s/trace-off.yaml", argv[3]);
	snprintf(on_cfg, sizeof(on_cfg), "%s/trace-on.yaml", argv[3]);
	f = fopen(off_cfg, "w");
	if (!f || fprintf(f, "workloads:\n  - name: web\n    match: { comm: vb-web }\n") < 0 ||
	    fclose(f))
		return 1;
	f = fopen(on_cfg, "w");
	if (!f ||
	    fprintf(f, "workloads:\n  - name: web\n    match: { comm: vb-web }\n"
		       "    trace: { http: true }\n") < 0 ||
	    fclose(f))
		return 1;
	printf("== trace.http: a loopback keep-alive HTTP/1.1 server's requests/s, and unwatched "
	       "syscalls ==\n");
	for (int r = 0; r < ROUNDS; r++) {
		/* The three in a rotating order: none is always first or last. */
		for (int k = 0; k < N_CFG; k++) {
			int c = (r + k) % N_CFG;

			if (measure(argv[1], argv[2], argv[3], c == OFF ? off_cfg : on_cfg, tags[c],
				    c == PER_SYSCALL, &s[c]))
				return 1;
		}
		for (int c = 0; c < N_CFG; c++) {
			ratio[c][0][n] = s[c].rps / s[OFF].rps;
			ratio[c][1][n] = s[c].getppid_ns / s[OFF].getppid_ns;
			ratio[c][2][n] = s[c].read_ns / s[OFF].read_ns;
			mean[c][0] += s[c].rps / ROUNDS;
			mean[c][1] += s[c].getppid_ns / ROUNDS;
			mean[c][2] += s[c].read_ns / ROUNDS;
		}
		n++;
	}
	for (int c = 0; c < N_CFG; c++)
		printf("  %-12s means: %6.0f req/s; unwatched getppid %4.0f ns, read %4.0f ns\n",
		       tags[c], mean[c][0], mean[c][1], mean[c][2]);
	printf("  ratios against off (median of %d rounds, range):\n", n);
	for (int c = RAW; c < N_CFG; c++) {
		char label[96];

		snprintf(label, sizeof(label), "HTTP requests/s, %s / off", tags[c]);
		row(label, ratio[c][0], n, c == RAW ? RPS_TARGET : 0);
	}
	for (int c = RAW; c < N_CFG; c++) {
		char label[96];

		snprintf(label, sizeof(label), "unwatched getppid ns/call, %s / off", tags[c]);
		row(label, ratio[c][1], n, 0);
		snprintf(label, sizeof(label), "unwatched read ns/call, %s / off", tags[c]);
		row(label, ratio[c][2], n, 0);
	}
	return 0;
}
