// SPDX-License-Identifier: Apache-2.0
/*
 * exit_flood: vigil in observe-all mode under what any user can do to it (issue 12) — nobody
 * (uid 65534) forks N children over T ms, each under its own name (PR_SET_NAME) and exiting 1,
 * every one a new signature. Measured in one run, against a quiet baseline of the same
 * daemon just before: its memory (VmRSS, and VmHWM, the peak), its event loop's latency (the
 * round trip of a "status" request on the control socket, every 50 ms: the loop answers it
 * between records), and a watched workload's crash in the middle of the flood, which must
 * still be detected, with its detection time (kernel timestamp -> incident opened). The
 * kernel's and the incident table's counters say where the flood went.
 *
 * usage: exit_flood VIGIL FAULTY OUTDIR [N [T_MS]]
 */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"

#define START_TIMEOUT_S 30.0
#define SAMPLE_S 0.05
#define BASELINE_S 3.0
#define MAX_SAMPLES 8192
#define LOOP_TARGET 10.0 /* loop latency under flood, p99 against the quiet p99, at most */

struct phase {
	double lat_ms[MAX_SAMPLES]; /* status round trips */
	unsigned int n;
	long rss_max_kib, hwm_kib;
	long long detect_us; /* the watched crash's detection, -1: not detected */
};

/* The answer to "cmd" on the control socket at path, parsed; NULL on failure. */
static json_t *ctl(const char *path, const char *cmd, double *ms)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	double t0 = clock_s(CLOCK_MONOTONIC);
	static char buf[1 << 20];
	size_t len = 0;
	json_t *answer = NULL;
	ssize_t n;
	int fd;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd))
		goto out;
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	answer = json_loads(buf, 0, NULL);
out:
	if (fd >= 0)
		close(fd);
	if (ms)
		*ms = (clock_s(CLOCK_MONOTONIC) - t0) * 1e3;
	return answer;
}

/* One sample of the phase: a status round trip, and the memory. */
static void sample(struct phase *p, const char *sock, pid_t vigil)
{
	long rss, hwm;
	double ms;
	json_t *st = ctl(sock, "status\n", &ms);

	if (st && p->n < MAX_SAMPLES)
		p->lat_ms[p->n++] = ms;
	json_decref(st);
	if (!proc_rss(vigil, &rss, &hwm)) {
		if (rss > p->rss_max_kib)
			p->rss_max_kib = rss;
		p->hwm_kib = hwm;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile of the phase's round trips (sorts them). */
static double quantile(struct phase *p, double q)
{
	if (!p->n)
		return 0;
	qsort(p->lat_ms, p->n, sizeof(p->lat_ms[0]), cmp_double);
	return p->lat_ms[(unsigned int)(q * (p->n - 1))];
}

/* detect_us of the incident of workload vb-watched about pid in the journal, or -1. */
static long long detected(const char *journal, pid_t pid)
{
	char line[65536];
	long long us = -1;
	FILE *f = fopen(journal, "r");

	while (f && fgets(line, sizeof(line), f)) {
		json_t *r;

		if (!strstr(line, "\"incident\"") || !strstr(line, "vb-watched"))
			continue;
		r = json_loads(line, 0, NULL);
		if (r && json_integer_value(json_object_get(r, "pid")) == pid &&
		    !strcmp(json_string_value(json_object_get(r, "class")) ?: "", "crash"))
			us = json_integer_value(json_object_get(r, "detect_us"));
		json_decref(r);
		if (us >= 0)
			break;
	}
	if (f)
		fclose(f);
	return us;
}

/* Start the watched workload (faulty segv, exec'd as vb-watched): it crashes at once. */
static pid_t crash_watched(const char *link)
{
	pid_t p = fork();

	if (p == 0) {
		execl(link, "vb-watched", "segv", (char *)NULL);
		_exit(127);
	}
	if (p > 0)
		waitpid(p, NULL, 0);
	return p;
}

/* Wait up to 5 s for the crash's incident. */
static long long wait_detected(const char *journal, pid_t pid)
{
	long long us = -1;

	for (int i = 0; i < 100 && us < 0; i++) {
		us = detected(journal, pid);
		if (us < 0)
			sleep_s(0.05);
	}
	return us;
}

static long long stat_of(json_t *st, const char *family, const char *key)
{
	json_t *f;
	size_t i;

	json_array_foreach(
	    json_object_get(st, "probes"), i,
	    f) if (!strcmp(json_string_value(json_object_get(f, "family")) ?: "",
			   family)) return json_integer_value(json_object_get(f, key));
	return 0;
}

static void print_phase(const char *what, struct phase *p)
{
	double p50 = quantile(p, 0.5), p99 = quantile(p, 0.99), max = quantile(p, 1.0);
	char det[48];

	if (p->detect_us < 0)
		snprintf(det, sizeof(det), "NOT DETECTED");
	else
		snprintf(det, sizeof(det), "%.2f ms", p->detect_us / 1e3);
	printf("  %-6s loop (status round trip) p50 %6.2f ms  p99 %7.2f ms  max %7.2f ms  "
	       "(%u samples)\n"
	       "  %-6s VmRSS max %5.1f MiB  VmHWM %5.1f MiB  watched crash detected in %s\n",
	       what, p50, p99, max, p->n, "", p->rss_max_kib / 1024.0, p->hwm_kib / 1024.0, det);
}

/* The flood: faulty comm-flood as nobody, output to /dev/null. Returns its pid or -errno. */
static pid_t start_flood(const char *faulty, int n, int t_ms)
{
	char nbuf[16], tbuf[16];
	pid_t p;

	snprintf(nbuf, sizeof(nbuf), "%d", n);
	snprintf(tbuf, sizeof(tbuf), "%d", t_ms);
	p = fork();
	if (p == 0) {
		if (!freopen("/dev/null", "w", stdout))
			_exit(126);
		execl(faulty, "vb-flooder", "comm-flood", "65534", nbuf, tbuf, (char *)NULL);
		_exit(127);
	}
	return p < 0 ? -errno : p;
}

int main(int argc, char **argv)
{
	static struct phase quiet, flood;
	char config[PATH_MAX], journal[PATH_MAX], sock[PATH_MAX], link[PATH_MAX], line[512];
	char faulty[PATH_MAX];
	int n = argc > 4 ? atoi(argv[4]) : 20000, t_ms = argc > 5 ? atoi(argv[5]) : 20000;
	struct child vigil = {};
	double t0, took_s = 0;
	pid_t w = 0, fl;
	int err, wst = 0;
	json_t *st;
	FILE *f;

	if (argc < 4) {
		fprintf(stderr, "usage: exit_flood VIGIL FAULTY OUTDIR [N [T_MS]]\n");
		return 2;
	}
	if (geteuid()) {
		fprintf(stderr, "exit_flood: must run as root (vigil loads BPF programs)\n");
		return 1;
	}
	/* Nothing buffered to be printed twice by a forked child. */
	setvbuf(stdout, NULL, _IONBF, 0);
	/* The symlink names faulty from another directory. */
	if (!realpath(argv[2], faulty)) {
		fprintf(stderr, "exit_flood: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	snprintf(config, sizeof(config), "%s/exit-flood.yaml", argv[3]);
	snprintf(journal, sizeof(journal), "%s/exit-flood.jsonl", argv[3]);
	snprintf(sock, sizeof(sock), "%s/exit-flood.sock", argv[3]);
	snprintf(link, sizeof(link), "%s/vb-watched", argv[3]);
	unlink(journal);
	unlink(link);
	f = fopen(config, "w");
	if (!f || symlink(faulty, link) ||
	    fprintf(f, "observe_all: true\n"
		       "workloads:\n"
		       "  - name: vb-watched\n"
		       "    match: { comm: vb-watched }\n") < 0 ||
	    fclose(f)) {
		fprintf(stderr, "exit_flood: writing %s: %s\n", config, strerror(errno));
		return 1;
	}

	/* 1. vigil, observe-all with one watched workload, as the DaemonSet runs it. */
	{
		char *av[] = {argv[1], "run",	"--config", config,    "--journal",
			      journal, "--ctl", sock,	    "--quiet", NULL};

		snprintf(vigil.log, sizeof(vigil.log), "%s/vigil-exit-flood.log", argv[3]);
		err = child_start(av, &vigil, "vigil: ready:", START_TIMEOUT_S, line, sizeof(line));
	}
	if (err) {
		fprintf(stderr, "exit_flood: vigil did not start: %s\n", line);
		return 1;
	}
	printf("== observe-all under a flood of distinct-name failing exits (as nobody) ==\n");

	/* 2. The baseline, in this run: quiet, and a watched crash. */
	quiet.detect_us = wait_detected(journal, crash_watched(link));
	t0 = clock_s(CLOCK_MONOTONIC);
	while (clock_s(CLOCK_MONOTONIC) - t0 < BASELINE_S) {
		sample(&quiet, sock, vigil.pid);
		sleep_s(SAMPLE_S);
	}

	/* 3. The flood, sampled as it goes, and the watched crash a second into it. */
	flood.detect_us = -1;
	fl = start_flood(faulty, n, t_ms);
	if (fl < 0) {
		fprintf(stderr, "exit_flood: fork: %s\n", strerror((int)-fl));
		child_stop(&vigil, SIGTERM);
		return 1;
	}
	t0 = clock_s(CLOCK_MONOTONIC);
	while (waitpid(fl, &wst, WNOHANG) == 0) {
		if (!w && clock_s(CLOCK_MONOTONIC) - t0 > 1.0)
			w = crash_watched(link);
		sample(&flood, sock, vigil.pid);
		sleep_s(SAMPLE_S);
	}
	took_s = clock_s(CLOCK_MONOTONIC) - t0;
	if (w > 0)
		flood.detect_us = wait_detected(journal, w);
	sample(&flood, sock, vigil.pid);

	/* 4. The numbers. */
	printf("  flood: %d failing exits, each its own name, as uid 65534, asked over %d ms, "
	       "took %.1f s (%.0f/s)%s\n",
	       n, t_ms, took_s, n / took_s,
	       WIFEXITED(wst) && !WEXITSTATUS(wst) ? "" : "  (THE FLOODER FAILED)");
	print_phase("quiet", &quiet);
	print_phase("flood", &flood);
	st = ctl(sock, "status\n", NULL);
	printf("  kernel: %lld records sent, %lld rate-limited (per comm, per cgroup), %lld shed "
	       "(ring buffer over half full), %lld lost (full)\n",
	       stat_of(st, "exits", "events"), stat_of(st, "exits", "unwatched_limited"),
	       stat_of(st, "exits", "unwatched_shed"), stat_of(st, "exits", "drops"));
	{
		json_t *i = json_object_get(st, "incidents");

		printf("  incidents: %lld live, peak %lld of at most %lld, %lld opened, %lld "
		       "evicted, %lld dropped\n",
		       json_integer_value(json_object_get(i, "live")),
		       json_integer_value(json_object_get(i, "peak")),
		       json_integer_value(json_object_get(i, "max")),
		       json_integer_value(json_object_get(i, "opened")),
		       json_integer_value(json_object_get(i, "evicted")),
		       json_integer_value(json_object_get(i, "dropped")));
	}
	json_decref(st);
	{
		double q = quantile(&quiet, 0.99), fq = quantile(&flood, 0.99);
		double ratio = q > 0 ? fq / q : 0;

		printf("  loop p99 flood/quiet %.2f (target <= %.0f): %s; VmHWM +%.1f MiB; "
		       "watched crash under flood: %s\n",
		       ratio, LOOP_TARGET, ratio <= LOOP_TARGET ? "PASS" : "MISS",
		       (flood.hwm_kib - quiet.hwm_kib) / 1024.0,
		       flood.detect_us >= 0 ? "detected, PASS" : "NOT DETECTED, MISS");
	}
	child_stop(&vigil, SIGTERM);
	unlink(link);
	return 0;
}
