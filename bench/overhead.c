// SPDX-License-Identifier: Apache-2.0
/*
 * overhead: what syscall observation costs a tight getppid() loop. Every figure is measured
 * in this run and printed against a baseline of the same run; nothing here is a timed test.
 *
 *   (a) no probes                         the bare syscall
 *   (b) empty tp_btf sys_enter/sys_exit   the floor of any syscall latency tracking
 *   (c) vigil, latency for another comm   what every unwatched task pays
 *   (d) vigil, latency for the loop       what a watched task pays
 *   (e) syscount -L (libbpf-tools)        the nearest peer
 *   (f) (b) reading the clock on each side  the floor of any syscall *timing*: two clock reads
 *
 * The configurations are measured in rounds, (a) to (e) in each round in a rotating order,
 * and each one's added cost is taken against the (a) of its own round: a host that drifts
 * (other work, frequency, caches) moves every configuration alike. The loop runs in a child
 * exec'd through a symlink named vb-loop (this binary, with --loop), started after vigil is
 * ready, so that vigil's exec-time comm match sees it in (d) and nothing else differs.
 *
 * After the rounds, one more run of (b) to (e) with the kernel's BPF run-time stats on says
 * how much of each added cost is program time: a figure without the loop's noise.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "empty.skel.h"
#include "proc.h"
#include "rounds.h"

#define LOOP_COMM "vb-loop"
#define OTHER_COMM "vb-other"
#define START_TIMEOUT_S 20.0
#define SETTLE_S 0.1	  /* after a tracer is ready, before the loop */
#define FLOOR_TARGET 1.10 /* (c) added / (b) added */
#define PEER_TARGET 0.40  /* (d) added / (e) added */

enum cfg { BARE, EMPTY, OTHER, WATCHED, PEER, CLOCK, N_CFG };

static const char *const labels[N_CFG] = {
    "(a) no probes",
    "(b) empty tp_btf sys_enter/sys_exit pair",
    "(c) vigil, latency on for another comm",
    "(d) vigil, latency on for this loop",
    "(e) syscount -L (libbpf-tools)",
    "(f) (b) + one clock read a side",
};

/* One configuration's figures (rounds.h: one per round, in CPU ns per getppid(), and added =
 * minus (a) of the same round), and why it did not run. */
struct config {
	struct series r;
	bool failed; /* once: not tried again */
	char why[200];
};

/* The run time of a configuration's BPF programs, from the kernel's BPF stats. */
struct bpf_cost {
	bool ok;
	double ns; /* per syscall */
	char detail[160];
};

struct bench {
	const char *vigil;
	const char *syscount; /* "" or NULL: (e) is n/a */
	const char *out;      /* build/bench */
	unsigned long calls;
	unsigned int rounds;
	int cpu;
	char loop_exe[PATH_MAX]; /* the vb-loop symlink */
	char cfg_other[PATH_MAX], cfg_loop[PATH_MAX];
	struct empty_bpf *empty;
	int lat_seen[N_CFG]; /* for OTHER and WATCHED: -1 unknown, 0 no, 1 yes */
	char lat_names[128];
	bool tracefs_mounted;
	struct config s[N_CFG];
	struct bpf_cost bpf[N_CFG];
};

/*
 * The measured loop, in the vb-loop child: pinned to cpu, warmed up, then calls getppid();
 * prints ns/call on stdout. Returns 0 or -errno.
 *
 * The time is the thread's CPU time, user + system: what the calls cost, tracepoint programs
 * included (they run in the caller's context), and not the time another task held the CPU.
 * Wall-clock time doubles as soon as anything else shares the CPU.
 */
static int loop_main(unsigned long calls, int cpu)
{
	unsigned long i;
	cpu_set_t set;
	double t0, t1;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (!calls || sched_setaffinity(0, sizeof(set), &set))
		return -EINVAL;
	/* syscall(), not getppid(): no libc may ever answer from a cache. */
	for (i = 0; i < calls / 10; i++)
		syscall(SYS_getppid);
	t0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	for (i = 0; i < calls; i++)
		syscall(SYS_getppid);
	t1 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	printf("%.3f\n", (t1 - t0) * 1e9 / calls);
	return fflush(stdout) ? -errno : 0;
}

/* Run the loop once in a vb-loop child. Returns 0 and *ns, or -errno (why set). */
static int measure(const struct bench *b, double *ns, char *why, size_t len)
{
	char calls[24], cpu[16];
	int pfd[2], status, n = 0;
	FILE *in;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (!pid) {
		snprintf(calls, sizeof(calls), "%lu", b->calls);
		snprintf(cpu, sizeof(cpu), "%d", b->cpu);
		dup2(pfd[1], STDOUT_FILENO);
		execl(b->loop_exe, LOOP_COMM, "--loop", calls, cpu, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	in = fdopen(pfd[0], "r");
	if (in) {
		n = fscanf(in, "%lf", ns);
		fclose(in);
	} else {
		close(pfd[0]);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (!WIFEXITED(status) || WEXITSTATUS(status) || n != 1) {
		snprintf(why, len, "the loop failed (wait status 0x%x)", status);
		return -EIO;
	}
	return 0;
}

/* Start vigil on config. Returns 0 or -errno (line says why). */
static int vigil_start(const struct bench *b, const char *config, const char *tag, struct child *c,
		       char *line, size_t len)
{
	char *vigil = (char *)b->vigil, *cfg = (char *)config;
	/* No control socket: a vigil already running on the host keeps its own. */
	char *argv[] = {vigil, "run",	  "--journal", "",  "--ctl",
			"",    "--quiet", "--config",  cfg, NULL};
	int err;

	snprintf(c->log, sizeof(c->log), "%s/vigil-%s.log", b->out, tag);
	err = child_start(argv, c, "vigil: ready:", START_TIMEOUT_S, line, len);
	if (!err)
		sleep_s(SETTLE_S);
	return err;
}

/*
 * Does vigil have latency programs (lat_*, or any name with "lat")? Looks at the program list
 * of its ready line ("... probes (N: a,b,c) ...") and, in case that list was cut short, at the
 * programs the process holds. Their names go to names.
 */
static bool latency_programs(pid_t pid, const char *ready, char *names, size_t len)
{
	const char *list = strstr(ready, "probes ("), *end = list ? strchr(list, ')') : NULL;
	bool yes = list && end && strstr(list, "lat") && strstr(list, "lat") < end;
	struct progs p;
	unsigned int i;

	names[0] = '\0';
	if (proc_progs(pid, &p))
		return yes;
	for (i = 0; i < p.n; i++) {
		if (!strstr(p.name[i], "lat") || strlen(names) + strlen(p.name[i]) + 2 > len)
			continue;
		sprintf(names + strlen(names), "%s%s", names[0] ? "," : "", p.name[i]);
		yes = true;
	}
	return yes;
}

/*
 * Measure, and with bpf non-NULL also the run time of the BPF programs owner holds (BPF stats
 * must be on): the sum of their run time over the largest run count, i.e. per syscall, since
 * the sys_enter program runs once for each. Which programs ran, and their ns per run, go to
 * bpf->detail. Returns 0 or -errno.
 */
static int measure_bpf(const struct bench *b, pid_t owner, double *ns, struct bpf_cost *bpf,
		       char *why, size_t len)
{
	uint64_t dt[PROC_MAX_PROGS], dc[PROC_MAX_PROGS], time = 0, max = 0;
	struct progs p;
	unsigned int i;
	size_t off = 0;
	int err;

	if (!bpf)
		return measure(b, ns, why, len);
	err = proc_progs(owner, &p);
	if (err)
		return err;
	for (i = 0; i < p.n; i++) {
		dt[i] = p.run_time_ns[i];
		dc[i] = p.run_cnt[i];
	}
	err = measure(b, ns, why, len);
	if (!err)
		err = progs_refresh(&p);
	if (err)
		return err;
	for (i = 0; i < p.n; i++) {
		dt[i] = p.run_time_ns[i] - dt[i];
		dc[i] = p.run_cnt[i] - dc[i];
		time += dt[i];
		max = dc[i] > max ? dc[i] : max;
	}
	bpf->ns = max ? (double)time / max : 0;
	bpf->detail[0] = '\0';
	for (i = 0; i < p.n && max; i++) {
		int w;

		/* The programs on the syscall path; the others run now and then. */
		if (dc[i] < max / 10 || off >= sizeof(bpf->detail))
			continue;
		w = snprintf(bpf->detail + off, sizeof(bpf->detail) - off, "%s%s %.1f",
			     off ? ", " : "", p.name[i], (double)dt[i] / dc[i]);
		off += w > 0 ? (size_t)w : 0;
	}
	bpf->ok = true;
	return 0;
}

/* syscount's classic tracepoints need tracefs; mount it if it is not. Returns 0 or -errno. */
static int ensure_tracefs(bool *mounted)
{
	struct stat st;

	if (!stat("/sys/kernel/tracing/events", &st) ||
	    !stat("/sys/kernel/debug/tracing/events", &st))
		return 0;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL))
		return -errno;
	*mounted = true;
	return 0;
}

/* Why child_start() failed, in words. */
static const char *start_error(int err)
{
	if (err == -ECHILD)
		return "it exited";
	if (err == -ETIMEDOUT)
		return "not ready in time";
	return strerror(-err);
}

/* Attach the empty pair, or with clock the clock-reading one. Returns 0 or -errno. */
static int attach_pair(struct empty_bpf *e, bool clock, struct bpf_link *pair[2])
{
	pair[0] = bpf_program__attach(clock ? e->progs.clock_enter : e->progs.empty_enter);
	if (!pair[0])
		return -errno;
	pair[1] = bpf_program__attach(clock ? e->progs.clock_exit : e->progs.empty_exit);
	if (!pair[1]) {
		int err = -errno;

		bpf_link__destroy(pair[0]);
		pair[0] = NULL;
		return err;
	}
	return 0;
}

/*
 * One run of configuration cfg: set it up, measure, tear it down. With bpf non-NULL, also the
 * run time of its BPF programs. Returns 0 and *ns, or -errno with the series' why set.
 */
static int run_config(struct bench *b, enum cfg cfg, double *ns, struct bpf_cost *bpf)
{
	char *peer[] = {"stdbuf", "-oL", (char *)b->syscount, "-L", NULL};
	struct bpf_link *pair[2] = {};
	struct config *s = &b->s[cfg];
	struct child c = {};
	char line[512];
	int err;

	switch (cfg) {
	case BARE:
		return measure(b, ns, s->why, sizeof(s->why));
	case EMPTY:
	case CLOCK:
		if (!b->empty) {
			snprintf(s->why, sizeof(s->why), "%s", b->s[EMPTY].why);
			return -ENOENT; /* why: set when the load failed */
		}
		err = attach_pair(b->empty, cfg == CLOCK, pair);
		if (err) {
			snprintf(s->why, sizeof(s->why), "attaching: %s", strerror(-err));
			return err;
		}
		err = measure_bpf(b, getpid(), ns, bpf, s->why, sizeof(s->why));
		bpf_link__destroy(pair[0]);
		bpf_link__destroy(pair[1]);
		return err;
	case OTHER:
	case WATCHED:
		err = vigil_start(b, cfg == OTHER ? b->cfg_other : b->cfg_loop,
				  cfg == OTHER ? "other" : "loop", &c, line, sizeof(line));
		if (err) {
			snprintf(s->why, sizeof(s->why), "vigil did not start (%s)%s%.150s",
				 start_error(err), line[0] ? ": " : "", line);
			return err;
		}
		if (b->lat_seen[cfg] < 0)
			b->lat_seen[cfg] =
			    latency_programs(c.pid, line, b->lat_names, sizeof(b->lat_names));
		err = measure_bpf(b, c.pid, ns, bpf, s->why, sizeof(s->why));
		child_stop(&c, SIGTERM);
		return err;
	case PEER:
		if (!b->syscount || !b->syscount[0] || access(b->syscount, X_OK)) {
			snprintf(s->why, sizeof(s->why), "syscount not installed (libbpf-tools)");
			return -ENOENT;
		}
		err = ensure_tracefs(&b->tracefs_mounted);
		if (err) {
			snprintf(s->why, sizeof(s->why), "no tracefs for syscount: %s",
				 strerror(-err));
			return err;
		}
		snprintf(c.log, sizeof(c.log), "%s/syscount.log", b->out);
		err =
		    child_start(peer, &c, "Tracing syscalls", START_TIMEOUT_S, line, sizeof(line));
		if (err) {
			snprintf(s->why, sizeof(s->why), "syscount did not start (%s)%s%.150s",
				 start_error(err), line[0] ? ": " : "", line);
			return err;
		}
		sleep_s(SETTLE_S);
		err = measure_bpf(b, c.pid, ns, bpf, s->why, sizeof(s->why));
		child_stop(&c, SIGINT);
		return err;
	default:
		return -EINVAL;
	}
}

/* One round: every configuration once, starting at a different one each round. */
static int run_round(struct bench *b, unsigned int r)
{
	double ns[N_CFG];
	bool ok[N_CFG] = {};
	unsigned int k;

	for (k = 0; k < N_CFG; k++) {
		enum cfg c = (k + r) % N_CFG;

		if (!b->s[c].failed)
			ok[c] = !run_config(b, c, &ns[c], NULL);
		b->s[c].failed = !ok[c];
	}
	if (!ok[BARE])
		return -EIO;
	printf("  round %-2u", r + 1);
	for (k = 0; k < N_CFG; k++) {
		struct config *s = &b->s[k];

		if (!ok[k]) {
			printf(" %8s", "n/a");
			continue;
		}
		series_add(&s->r, r, ns[k], ns[BARE]);
		printf(" %8.1f", ns[k]);
	}
	printf("\n");
	fflush(stdout);
	return 0;
}

static void print_summary(const struct bench *b)
{
	double min, max, med, amed, amin, amax;
	unsigned int k;

	printf("  %-42s %7s %15s %8s %16s\n", "configuration", "median", "min..max", "added",
	       "added min..max");
	for (k = 0; k < N_CFG; k++) {
		const struct series *s = &b->s[k].r;

		if (!s->n) {
			printf("  %-42s %7s  %s\n", labels[k], "n/a", b->s[k].why);
			continue;
		}
		med = rounds_median(s->v, s->n, &min, &max);
		printf("  %-42s %7.1f %7.1f..%-6.1f", labels[k], med, min, max);
		if (k == BARE) {
			printf(" %8s\n", "-");
			continue;
		}
		amed = rounds_median(s->added, s->n, &amin, &amax);
		printf(" %+8.1f %+7.1f..%+.1f\n", amed, amin, amax);
	}
}

/* The median added cost of configuration k in *v; false when it never ran. */
static bool added(const struct bench *b, enum cfg k, double *v)
{
	if (!b->s[k].r.n)
		return false;
	*v = rounds_median(b->s[k].r.added, b->s[k].r.n, NULL, NULL);
	return true;
}

/*
 * The ratio of two added costs, round by round (each against its own round's (a)), and its
 * median over the rounds where both ran. Returns false when none did.
 */
static bool ratio(const struct bench *b, enum cfg num, enum cfg den, double *med, double *min,
		  double *max)
{
	return series_ratio(&b->s[num].r, &b->s[den].r, true, med, min, max);
}

static void print_ratio(const struct bench *b, const char *name, enum cfg num, enum cfg den,
			double target, bool judged)
{
	double med, min, max;
	const char *verdict;

	printf("  %-34s ", name);
	if (!ratio(b, num, den, &med, &min, &max)) {
		printf("  n/a: %s did not run\n", b->s[num].r.n ? labels[den] : labels[num]);
		return;
	}
	verdict = med <= target ? "PASS" : "MISS";
	printf("%5.2f (rounds %.2f..%.2f)  target <= %.2f  %s\n", med, min, max, target,
	       judged ? verdict : "not judged");
}

static int write_config(const char *path, const char *comm)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fprintf(f,
		"# Written by bench/overhead.c: latency tracking on for comm %s.\n"
		"workloads:\n"
		"  - name: %s\n"
		"    match: { comm: %s }\n"
		"    latency: { syscalls: [read, write, getppid], budget_ms: 100 }\n",
		comm, comm, comm);
	return fclose(f) ? -errno : 0;
}

/* The vb-loop symlink next to this binary, and the two configs. Returns 0 or -errno. */
static int prepare(struct bench *b)
{
	char target[NAME_MAX + 1], *slash;
	ssize_t n;
	int err;

	n = readlink("/proc/self/exe", b->loop_exe, sizeof(b->loop_exe) - 1);
	if (n < 0)
		return -errno;
	b->loop_exe[n] = '\0';
	slash = strrchr(b->loop_exe, '/');
	if (!slash || strlen(slash + 1) > NAME_MAX ||
	    slash + sizeof("/" LOOP_COMM) > b->loop_exe + sizeof(b->loop_exe))
		return -ENAMETOOLONG;
	memcpy(target, slash + 1, strlen(slash + 1) + 1);
	memcpy(slash + 1, LOOP_COMM, sizeof(LOOP_COMM));
	unlink(b->loop_exe);
	if (symlink(target, b->loop_exe))
		return -errno;

	snprintf(b->cfg_other, sizeof(b->cfg_other), "%s/latency-other.yaml", b->out);
	snprintf(b->cfg_loop, sizeof(b->cfg_loop), "%s/latency-loop.yaml", b->out);
	err = write_config(b->cfg_other, OTHER_COMM);
	if (!err)
		err = write_config(b->cfg_loop, LOOP_COMM);
	return err;
}

static int parse_args(int argc, char **argv, struct bench *b)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int i;

	b->calls = 2000000;
	b->rounds = 7;
	b->out = "build/bench";
	/* The last CPU: CPU 0 takes most interrupts and the host's other work. */
	b->cpu = ncpu > 1 ? ncpu - 1 : 0;
	for (i = 1; i + 1 < argc; i += 2) {
		const char *v = argv[i + 1];

		if (!strcmp(argv[i], "--vigil"))
			b->vigil = v;
		else if (!strcmp(argv[i], "--syscount"))
			b->syscount = v;
		else if (!strcmp(argv[i], "--out"))
			b->out = v;
		else if (!strcmp(argv[i], "--calls"))
			b->calls = strtoul(v, NULL, 10);
		else if (!strcmp(argv[i], "--rounds"))
			b->rounds = strtoul(v, NULL, 10);
		else if (!strcmp(argv[i], "--cpu"))
			b->cpu = atoi(v);
		else
			return -EINVAL;
	}
	if (i != argc || !b->vigil || !b->calls || !b->rounds || b->rounds > ROUNDS_MAX ||
	    b->cpu < 0 || b->cpu >= ncpu)
		return -EINVAL;
	return 0;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

/*
 * One more run of each probed configuration with the kernel's BPF run-time stats on (they
 * cost two clock reads a program run, so never during the rounds): how much of each added
 * cost is program time, and how much the hook itself. Returns 0 or -errno.
 */
static int bpf_pass(struct bench *b)
{
	unsigned int k;
	double ns;
	int fd;

	fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (fd < 0)
		return -errno;
	for (k = EMPTY; k < N_CFG; k++)
		if (!b->s[k].failed)
			run_config(b, k, &ns, &b->bpf[k]);
	close(fd);
	return 0;
}

static void print_bpf(const struct bench *b)
{
	unsigned int k;

	printf(
	    "\n  BPF program time per getppid(), from the kernel's BPF stats (one more run each).\n"
	    "  The stats time every program run with two clock reads: the empty pair shows that\n"
	    "  floor, so read the other rows against (b):\n");
	printf("  %-42s %7s %8s   %s\n", "configuration", "ns", "vs (b)", "ns a run");
	for (k = EMPTY; k < N_CFG; k++) {
		if (!b->bpf[k].ok)
			continue;
		printf("  %-42s %7.1f", labels[k], b->bpf[k].ns);
		if (k != EMPTY && b->bpf[EMPTY].ok)
			printf(" %+8.1f", b->bpf[k].ns - b->bpf[EMPTY].ns);
		else
			printf(" %8s", "-");
		printf("   %s\n", b->bpf[k].detail);
	}
}

/*
 * The floor ratio again, with its noisy part replaced: (b) and (c) hook the same tracepoints
 * the same way, so (c) added = (b) added + the difference of their program times, which the
 * BPF stats measure without the loop's noise.
 */
static void print_floor_check(const struct bench *b)
{
	double d;

	if (!b->bpf[EMPTY].ok || !b->bpf[OTHER].ok || !added(b, EMPTY, &d) || d <= 0)
		return;
	printf("  %-34s %5.2f = 1 + ((c) - (b) program time %+.1f ns) / (b) added %.1f ns\n",
	       "  cross-check from BPF stats", 1 + (b->bpf[OTHER].ns - b->bpf[EMPTY].ns) / d,
	       b->bpf[OTHER].ns - b->bpf[EMPTY].ns, d);
}

/*
 * What limits the peer ratio: the two clock reads every timing tracker pays, vigil and
 * syscount alike. (f) added / (e) added is the lowest peer ratio any of them could reach on
 * this host, and (d) added / (f) added how close vigil's watched path is to that floor.
 */
static void print_clock(const struct bench *b, bool lat)
{
	double f, e, med, min, max;

	if (!added(b, CLOCK, &f) || !added(b, EMPTY, &e))
		return;
	printf("  %-34s %+.1f ns over (b): %+.1f ns a clock read\n", "  the clock: (f) added",
	       f - e, (f - e) / 2);
	if (ratio(b, CLOCK, PEER, &med, &min, &max))
		printf(
		    "  %-34s %5.2f (rounds %.2f..%.2f): no syscall timer reading the clock twice "
		    "goes lower here\n",
		    "  bound: (f) added / (e) added", med, min, max);
	if (lat && ratio(b, WATCHED, CLOCK, &med, &min, &max))
		printf(
		    "  %-34s %5.2f (rounds %.2f..%.2f): vigil's watched path against that floor\n",
		    "  (d) added / (f) added", med, min, max);
}

int main(int argc, char **argv)
{
	struct bench b = {.lat_seen = {-1, -1, -1, -1, -1, -1}};
	struct utsname un = {};
	double load[3] = {};
	unsigned int r;
	bool lat;
	int err;

	if (argc == 4 && !strcmp(argv[1], "--loop"))
		return loop_main(strtoul(argv[2], NULL, 10), atoi(argv[3])) ? 1 : 0;
	if (parse_args(argc, argv, &b)) {
		fprintf(stderr, "usage: overhead --vigil PATH [--syscount PATH] [--out DIR] "
				"[--calls N] [--rounds N (<= 31)] [--cpu N]\n");
		return 2;
	}
	if (geteuid()) {
		fprintf(stderr, "overhead: must run as root (it loads BPF programs)\n");
		return 1;
	}
	libbpf_set_print(libbpf_quiet);

	/* 1. The loop's symlink, the configs, and the floor's programs (attached per run). */
	err = prepare(&b);
	if (err) {
		fprintf(stderr, "overhead: preparing %s: %s\n", b.out, strerror(-err));
		return 1;
	}
	b.empty = empty_bpf__open_and_load();
	if (!b.empty)
		snprintf(b.s[EMPTY].why, sizeof(b.s[EMPTY].why), "loading empty.bpf.o: %s",
			 strerror(errno));

	/* 2. The rounds, then the BPF stats pass. */
	uname(&un);
	getloadavg(load, 3);
	printf("== syscall overhead: getppid loop, %lu calls a run, %u rounds, on CPU %d, "
	       "CPU ns/call ==\n",
	       b.calls, b.rounds, b.cpu);
	printf("  host: %ld CPUs, kernel %s, load average %.2f %.2f %.2f\n",
	       sysconf(_SC_NPROCESSORS_ONLN), un.release, load[0], load[1], load[2]);
	printf("  %-8s %8s %8s %8s %8s %8s %8s\n", "", "(a)", "(b)", "(c)", "(d)", "(e)", "(f)");
	for (r = 0; r < b.rounds && !err; r++)
		err = run_round(&b, r);
	if (err) {
		fprintf(stderr, "overhead: the bare loop did not run: %s\n", b.s[BARE].why);
		empty_bpf__destroy(b.empty);
		return 1;
	}
	err = bpf_pass(&b);
	empty_bpf__destroy(b.empty);

	/* 3. The table: medians over the rounds, added = against (a) of the same round. */
	printf("\n");
	print_summary(&b);
	if (err)
		printf("\n  (no BPF stats: %s)\n", strerror(-err));
	else
		print_bpf(&b);
	if (b.tracefs_mounted)
		printf("  (tracefs was not mounted: mounted it on /sys/kernel/tracing for "
		       "syscount)\n");

	/* 4. The targets. Without latency programs, (c) and (d) say nothing about them. */
	lat = b.lat_seen[OTHER] == 1 && b.lat_seen[WATCHED] == 1;
	printf("\n== targets ==\n");
	if (lat)
		printf("  vigil's latency programs: %s\n", b.lat_names);
	else if (b.s[OTHER].r.n || b.s[WATCHED].r.n)
		printf("  latency probes not present in this build: (c)/(d) measure vigil without "
		       "them (ratios not judged)\n");
	print_ratio(&b, "floor: (c) added / (b) added", OTHER, EMPTY, FLOOR_TARGET, lat);
	if (lat)
		print_floor_check(&b);
	print_ratio(&b, "peer:  (d) added / (e) added", WATCHED, PEER, PEER_TARGET, lat);
	print_clock(&b, lat);
	return 0;
}
