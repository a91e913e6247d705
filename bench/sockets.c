// SPDX-License-Identifier: Apache-2.0
/*
 * sockets: what vigil's socket programs cost the TCP connections of a process it does not
 * watch. They run on every TCP state change of the host (bpf/sockets.bpf.c), so this is a cost
 * every other process pays. Every figure is measured in this run against a baseline of the
 * same run; nothing here is a timed test.
 *
 *   (a) no programs                             the bare connection
 *   (b) empty tp_btf programs on the same five  the floor of any tracer on these hooks
 *       tracepoints (sock_empty.bpf.c)
 *   (c) vigil, sockets on for another comm      what an unwatched process pays
 *   (d) (b)'s programs 16 times over            (b)'s added cost, resolved
 *   (e) (c)'s programs 16 times over, loaded    (c)'s added cost, resolved
 *       from vigil's object, no daemon
 *
 * The loop: one thread pinned to one CPU, in a network namespace of its own, listens on
 * 127.0.0.1 and for each connection opens a socket, connects to the listener (a blocking
 * connect completes on loopback), accepts, and closes the client, then the accepted socket.
 * Each client is bound to a source address of its own in 127.0.0.0/8, its port picked at
 * connect() (IP_BIND_ADDRESS_NO_PORT): every connection has a new 4-tuple, so the port search
 * never meets a TIME_WAIT, and the cost of a connection does not grow along the run. The
 * namespace goes away with the loop, and with it the run's TIME_WAIT sockets: each run
 * starts from an empty table.
 *
 * The configurations are measured in rounds, in a rotating order, each added cost against the
 * (a) of its own round. (b)'s and (c)'s added costs are a few hundred ns on a connection of
 * tens of us, below what the loop resolves from round to round; (d) and (e) attach 16 copies
 * of each (each copy its own code and data), which the loop resolves, and (e) added / (d)
 * added in the same round is the floor ratio. After the rounds, (b) and (c) run together,
 * twice (each attached first once), with the kernel's BPF run-time stats on: the difference of
 * their program times a connection on the same state changes, a third estimate.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "proc.h"
#include "rounds.h"
#include "sock_empty.skel.h"

#define OTHER_COMM "vb-other"
#define LISTEN_PORT 5001
#define MAX_CONNS 100000 /* a run's TIME_WAITs stay below tcp_max_tw_buckets (131072 here) */
#define START_TIMEOUT_S 20.0
#define SETTLE_S 0.1	  /* after vigil is ready, before the loop */
#define FLOOR_TARGET 1.10 /* (c) added / (b) added */
#define N_HOOKS 5
#define COPIES_MAX 32 /* (d), (e): copies of the programs, 16 by default */
#define VIGIL_PROGS 8 /* programs in vigil's sockets object, at most */

enum cfg { BARE, EMPTY, VIGIL, MANY, VMANY, N_CFG };

static const char *const labels[N_CFG] = {
    "(a) no programs",
    "(b) empty tp_btf programs, same 5 hooks",
    "(c) vigil, sockets on for another comm",
    "(d) (b)'s programs N times over",
    "(e) (c)'s programs N times over",
};

/* The tracepoints of vigil's sockets family, and the empty program on each. */
static const char *const hooks[N_HOOKS] = {
    "inet_sock_set_state",  "tcp_receive_reset",  "tcp_send_reset",
    "inet_sk_error_report", "tcp_retransmit_skb",
};

/* The run time of programs on the hooks, from the kernel's BPF stats, summed over n runs. */
struct bpf_cost {
	unsigned int n;
	double ns;   /* per connection, all the programs together */
	double runs; /* program runs per connection */
	char detail[200];
};

struct bench {
	const char *vigil;
	const char *out; /* build/bench */
	unsigned long conns;
	unsigned int rounds;	  /* 0: the BPF stats pass only */
	unsigned int stats_pairs; /* side-by-side runs of each order in the BPF stats pass */
	int cpu;
	bool wall; /* time by the wall clock (see clock_choice) */
	char clock_why[160];
	char config[PATH_MAX];
	unsigned int copies;			  /* (d)'s and (e)'s */
	struct sock_empty_bpf *empty[COPIES_MAX]; /* (b) attaches the first, (d) copies */
	const char *sock_obj;			  /* vigil's sockets.bpf.o, for (e) */
	struct bpf_object *vobj[COPIES_MAX];
	struct bpf_link *vlink[COPIES_MAX][VIGIL_PROGS];
	__u32 own_ids[COPIES_MAX * (N_HOOKS + VIGIL_PROGS)]; /* of the programs loaded here */
	unsigned int n_own;
	__u32 hook_btf[N_HOOKS]; /* vmlinux BTF ids of the hooks' btf_trace_* types; 0: none */
	int sock_seen;		 /* vigil's socket programs: -1 unknown, 0 no, 1 yes */
	char sock_names[160];
	unsigned int foreign_max; /* most programs of others seen on the hooks in a run */
	struct series s[N_CFG], wall_s[N_CFG];
	bool failed[N_CFG];
	char why[N_CFG][200];
	struct bpf_cost bpf[N_CFG]; /* EMPTY and VIGIL, side by side */
	double delta[2];	    /* (c) - (b) program ns a connection: vigil first, (b) first */
	unsigned int delta_n[2];    /* runs summed in delta */
};

/* The source address of the loop's i-th client: 127.1.0.1 onwards, last octet 1..254. */
static uint32_t client_addr(unsigned long i)
{
	return 0x7f000000u | (uint32_t)(1 + i / (254 * 256)) << 16 |
	       (uint32_t)(i / 254 % 256) << 8 | (uint32_t)(1 + i % 254);
}

/* One connection: connect from the i-th address, accept, close both. Returns 0 or -errno. */
static int one_conn(int l, unsigned long i)
{
	struct sockaddr_in src = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(client_addr(i))};
	struct sockaddr_in dst = {.sin_family = AF_INET,
				  .sin_port = htons(LISTEN_PORT),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int one = 1, c, s = -1, err = 0;

	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0)
		return -errno;
	if (setsockopt(c, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) ||
	    bind(c, (struct sockaddr *)&src, sizeof(src)) ||
	    connect(c, (struct sockaddr *)&dst, sizeof(dst))) {
		err = -errno;
		goto out;
	}
	s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (s < 0)
		err = -errno;
out:
	/* The client first: its TIME_WAIT is on a 4-tuple never used again. */
	close(c);
	if (s >= 0)
		close(s);
	return err;
}

/* A network namespace of the caller's own, with lo up. Returns 0 or -errno. */
static int own_netns(void)
{
	struct ifreq ifr = {};
	int fd, err = 0;

	if (unshare(CLONE_NEWNET))
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr))
		err = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!err && ioctl(fd, SIOCSIFFLAGS, &ifr))
		err = -errno;
	close(fd);
	return err;
}

/*
 * The measured loop, in a child: pinned to cpu, in its own network namespace, warmed up with
 * conns / 10 connections, then conns timed ones. Writes "CPU-ns wall-ns" per connection, or
 * "error STEP ERRNO", to out. Returns 0 or -errno.
 *
 * The CPU time is the process's (user + system). On loopback, the receiving side's softirq
 * work runs in the sender's context (at local_bh_enable), so it is in that time unless the
 * kernel accounts IRQ time apart (CONFIG_IRQ_TIME_ACCOUNTING): see clock_choice().
 */
static int loop_main(unsigned long conns, int cpu, int out)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(LISTEN_PORT),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	const char *step = "affinity";
	double c0 = 0, w0 = 0, c1 = 0, w1 = 0;
	unsigned long i;
	cpu_set_t set;
	int l = -1, err = 0;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		err = -errno;
		goto out;
	}
	step = "netns";
	err = own_netns();
	if (err)
		goto out;
	step = "listen";
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 128)) {
		err = -errno;
		goto out;
	}
	step = "connection";
	for (i = 0; i < conns / 10 && !err; i++)
		err = one_conn(l, i);
	c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	w0 = clock_s(CLOCK_MONOTONIC);
	for (; i < conns / 10 + conns && !err; i++)
		err = one_conn(l, i);
	c1 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	w1 = clock_s(CLOCK_MONOTONIC);
out:
	if (l >= 0)
		close(l);
	if (err)
		dprintf(out, "error %s %d\n", step, -err);
	else
		dprintf(out, "%.3f %.3f\n", (c1 - c0) * 1e9 / conns, (w1 - w0) * 1e9 / conns);
	return err;
}

/* Run the loop once in a child. Returns 0 with *r (ns a connection), or -errno (why set). */
static int measure(const struct bench *b, double r[2], char *why, size_t len)
{
	char line[128] = "", step[32];
	int pfd[2], status, e;
	ssize_t n;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (!pid) {
		close(pfd[0]);
		_exit(loop_main(b->conns, b->cpu, pfd[1]) ? 1 : 0);
	}
	close(pfd[1]);
	n = read(pfd[0], line, sizeof(line) - 1);
	close(pfd[0]);
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	line[n > 0 ? n : 0] = '\0';
	if (sscanf(line, "error %31s %d", step, &e) == 2) {
		snprintf(why, len, "the loop failed at %s: %s", step, strerror(e));
		return -e;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) ||
	    sscanf(line, "%lf %lf", &r[0], &r[1]) != 2) {
		snprintf(why, len, "the loop failed (wait status 0x%x)", status);
		return -EIO;
	}
	return 0;
}

/* Is id in the n ids of set? */
static bool has_id(const __u32 *set, unsigned int n, __u32 id)
{
	while (n--)
		if (set[n] == id)
			return true;
	return false;
}

/* Note the id of a program this bench loaded (its own are never another tracer's). */
static void own_prog(struct bench *b, const struct bpf_program *prog)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_program__fd(prog);

	if (fd >= 0 && b->n_own < sizeof(b->own_ids) / sizeof(b->own_ids[0]) &&
	    !bpf_obj_get_info_by_fd(fd, &info, &len))
		b->own_ids[b->n_own++] = info.id;
}

/*
 * Programs of other tracers attached to the five hooks now (another vigil, a tool): their cost
 * is in every configuration, (a) included. The programs this bench loaded, and those of its
 * vigil (pid, or 0), are not counted. Returns their number, or 0 when it cannot tell.
 */
static unsigned int foreign_progs(const struct bench *b, pid_t vigil)
{
	__u32 id = 0, attached[512], n_att = 0, i;
	unsigned int found = 0;
	struct progs v = {};

	if (vigil > 0)
		proc_progs(vigil, &v);
	/* A program runs only through a link (tp_btf attaches with one). */
	while (!bpf_link_get_next_id(id, &id) && n_att < 512) {
		struct bpf_link_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_link_get_fd_by_id(id);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len))
			attached[n_att++] = info.prog_id;
		close(fd);
	}
	for (id = 0; !bpf_prog_get_next_id(id, &id);) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		bool hook = false;
		int fd;

		if (has_id(b->own_ids, b->n_own, id) || has_id(v.id, v.n, id) ||
		    !has_id(attached, n_att, id))
			continue;
		fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.type == BPF_PROG_TYPE_TRACING)
			for (i = 0; i < N_HOOKS; i++)
				hook |= b->hook_btf[i] && info.attach_btf_id == b->hook_btf[i];
		close(fd);
		found += hook;
	}
	return found;
}

/*
 * The time and runs of the programs named prefix* in after since before (the same list, read
 * before the run), per connection, added into c; each program's runs a connection and ns a
 * run go to c->detail (the last run's). Returns this run's ns a connection, or -1 when none
 * of them ran.
 */
static double add_cost(struct bpf_cost *c, const struct progs *before, const struct progs *after,
		       const char *prefix, double conns)
{
	uint64_t time = 0, runs = 0, dt, dc;
	unsigned int i;
	size_t off = 0;

	c->detail[0] = '\0';
	for (i = 0; i < after->n && i < before->n; i++) {
		int w;

		if (strncmp(after->name[i], prefix, strlen(prefix)))
			continue;
		dt = after->run_time_ns[i] - before->run_time_ns[i];
		dc = after->run_cnt[i] - before->run_cnt[i];
		time += dt;
		runs += dc;
		if (!dc || off >= sizeof(c->detail))
			continue;
		w = snprintf(c->detail + off, sizeof(c->detail) - off, "%s%s %.1f x %.1f",
			     off ? ", " : "", after->name[i], dc / conns, (double)dt / dc);
		off += w > 0 ? (size_t)w : 0;
	}
	c->ns += time / conns;
	c->runs += runs / conns;
	c->n++;
	return runs ? time / conns : -1;
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

/* Start vigil on the bench's config, and let it settle. Returns 0 or -errno (why set). */
static int vigil_start(struct bench *b, struct child *c, char *why, size_t len)
{
	char *argv[] = {(char *)b->vigil, "run", "--journal", "",	 "--quiet",
			"--ctl",	  "",	 "--config",  b->config, NULL};
	char line[512];
	int err;

	snprintf(c->log, sizeof(c->log), "%s/vigil-sockets.log", b->out);
	err = child_start(argv, c, "vigil: ready:", START_TIMEOUT_S, line, sizeof(line));
	if (err) {
		snprintf(why, len, "vigil did not start (%s)%s%.150s", start_error(err),
			 line[0] ? ": " : "", line);
		return err;
	}
	sleep_s(SETTLE_S);
	return 0;
}

/* Does vigil hold its socket programs (sock_*)? Their names go to b->sock_names. */
static bool socket_programs(struct bench *b, pid_t pid)
{
	size_t len = sizeof(b->sock_names);
	struct progs p;
	unsigned int i;
	bool yes = false;

	b->sock_names[0] = '\0';
	if (proc_progs(pid, &p))
		return false;
	for (i = 0; i < p.n; i++) {
		if (strncmp(p.name[i], "sock_", 5) ||
		    strlen(b->sock_names) + strlen(p.name[i]) + 2 > len)
			continue;
		sprintf(b->sock_names + strlen(b->sock_names), "%s%s", b->sock_names[0] ? "," : "",
			p.name[i]);
		yes = true;
	}
	return yes;
}

/* Attach the first n copies of the empty programs. Returns 0 or -errno (all detached). */
static int empty_attach(struct bench *b, unsigned int n)
{
	unsigned int i;
	int err = 0;

	for (i = 0; i < n && !err; i++)
		err = b->empty[i] ? sock_empty_bpf__attach(b->empty[i]) : -ENOENT;
	while (err && i--)
		if (b->empty[i])
			sock_empty_bpf__detach(b->empty[i]);
	return err;
}

static void empty_detach(struct bench *b, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (b->empty[i])
			sock_empty_bpf__detach(b->empty[i]);
}

/*
 * Load n copies of vigil's socket programs from its object (for (e)), each its own programs
 * and .bss, the maps shared with the first copy's. No daemon: nothing is watched, so every
 * state change takes the unwatched path, as under (c). Returns 0 or -errno.
 */
static int vigil_load(struct bench *b)
{
	struct bpf_program *prog;
	struct bpf_map *map;
	unsigned int i;
	int err = 0;

	for (i = 0; i < b->copies && !err; i++) {
		struct bpf_object *o = bpf_object__open_file(b->sock_obj, NULL);

		err = libbpf_get_error(o);
		if (err)
			return err;
		b->vobj[i] = o;
		bpf_object__for_each_map(map, o)
		{
			struct bpf_map *first;

			if (!i || bpf_map__is_internal(map))
				continue;
			first = bpf_object__find_map_by_name(b->vobj[0], bpf_map__name(map));
			err = first ? bpf_map__reuse_fd(map, bpf_map__fd(first)) : -ENOENT;
			if (err)
				return err;
		}
		/* As vigil's loader: no inet_sk_error_report before 5.14. */
		prog = bpf_object__find_program_by_name(o, "sock_error");
		if (prog)
			bpf_program__set_autoload(prog, b->hook_btf[3] != 0);
		err = bpf_object__load(o);
		bpf_object__for_each_program(prog, o)
		{
			own_prog(b, prog);
		}
	}
	return err;
}

static void vigil_detach(struct bench *b)
{
	unsigned int i, k;

	for (i = 0; i < b->copies; i++)
		for (k = 0; k < VIGIL_PROGS; k++) {
			bpf_link__destroy(b->vlink[i][k]);
			b->vlink[i][k] = NULL;
		}
}

/* Attach every loaded program of the n copies. Returns 0 or -errno (all detached). */
static int vigil_attach(struct bench *b)
{
	struct bpf_program *prog;
	unsigned int i, k;
	int err = 0;

	for (i = 0; i < b->copies && !err; i++) {
		if (!b->vobj[i])
			return -ENOENT;
		k = 0;
		bpf_object__for_each_program(prog, b->vobj[i])
		{
			if (!bpf_program__autoload(prog) || k == VIGIL_PROGS)
				continue;
			b->vlink[i][k] = bpf_program__attach(prog);
			err = libbpf_get_error(b->vlink[i][k]);
			if (err) {
				b->vlink[i][k] = NULL;
				break;
			}
			k++;
		}
	}
	if (err)
		vigil_detach(b);
	return err;
}

/*
 * One run of configuration cfg: set it up, measure, tear it down. Returns 0 and r, or -errno
 * with the configuration's why set.
 */
static int run_config(struct bench *b, enum cfg cfg, double r[2])
{
	unsigned int others = 0, n = cfg == EMPTY ? 1 : b->copies;
	size_t len = sizeof(b->why[cfg]);
	char *why = b->why[cfg];
	struct child c = {};
	int err;

	switch (cfg) {
	case BARE:
		others = foreign_progs(b, 0);
		err = measure(b, r, why, len);
		break;
	case VMANY:
		err = vigil_attach(b);
		if (err) {
			if (!why[0])
				snprintf(why, len, "attaching %s: %s", b->sock_obj, strerror(-err));
			return err;
		}
		others = foreign_progs(b, 0);
		err = measure(b, r, why, len);
		vigil_detach(b);
		break;
	case EMPTY:
	case MANY:
		err = empty_attach(b, n);
		if (err) {
			if (!why[0])
				snprintf(why, len, "attaching: %s", strerror(-err));
			return err;
		}
		others = foreign_progs(b, 0);
		err = measure(b, r, why, len);
		empty_detach(b, n);
		break;
	case VIGIL:
		err = vigil_start(b, &c, why, len);
		if (err)
			return err;
		if (b->sock_seen < 0)
			b->sock_seen = socket_programs(b, c.pid);
		others = foreign_progs(b, c.pid);
		err = measure(b, r, why, len);
		child_stop(&c, SIGTERM);
		break;
	default:
		return -EINVAL;
	}
	b->foreign_max = others > b->foreign_max ? others : b->foreign_max;
	return err;
}

/* One round: every configuration once, starting at a different one each round. */
static int run_round(struct bench *b, unsigned int r)
{
	double v[N_CFG][2];
	bool ok[N_CFG] = {};
	unsigned int k, t = b->wall ? 1 : 0;

	for (k = 0; k < N_CFG; k++) {
		enum cfg c = (k + r) % N_CFG;

		if (!b->failed[c])
			ok[c] = !run_config(b, c, v[c]);
		b->failed[c] = !ok[c];
	}
	if (!ok[BARE])
		return -EIO;
	printf("  round %-2u", r + 1);
	for (k = 0; k < N_CFG; k++) {
		if (!ok[k]) {
			printf(" %9s", "n/a");
			continue;
		}
		series_add(&b->s[k], r, v[k][t], v[BARE][t]);
		series_add(&b->wall_s[k], r, v[k][1], v[BARE][1]);
		printf(" %9.1f", v[k][t]);
	}
	printf("\n");
	fflush(stdout);
	return 0;
}

static void print_summary(const struct bench *b)
{
	double min, max, med, amin, amax;
	unsigned int k;

	printf("  %-40s %8s %17s %7s %15s %8s\n", "configuration", "median", "min..max", "added",
	       "added min..max", b->wall ? "" : "wall");
	for (k = 0; k < N_CFG; k++) {
		const struct series *s = &b->s[k];

		if (!s->n) {
			printf("  %-40s %8s  %s\n", labels[k], "n/a", b->why[k]);
			continue;
		}
		med = rounds_median(s->v, s->n, &min, &max);
		printf("  %-40s %8.1f %8.1f..%-7.1f", labels[k], med, min, max);
		if (k == BARE) {
			printf(" %7s %15s", "-", "");
		} else {
			med = rounds_median(s->added, s->n, &amin, &amax);
			printf(" %+7.1f %+7.1f..%+-6.1f", med, amin, amax);
		}
		if (!b->wall)
			printf(" %8.1f", rounds_median(b->wall_s[k].v, b->wall_s[k].n, NULL, NULL));
		printf("\n");
	}
}

static void print_bpf(const struct bench *b)
{
	unsigned int k;

	printf(
	    "\n  BPF program time per connection, from the kernel's BPF stats: (b) and (c) in the\n"
	    "  same runs, one with each attached first (the stats time every program run with\n"
	    "  two clock reads, in both):\n");
	printf("  %-40s %7s %7s   %s\n", "configuration", "ns", "runs",
	       "program runs/conn x ns a run");
	for (k = EMPTY; k <= VIGIL; k++) {
		const struct bpf_cost *c = &b->bpf[k];

		if (!c->n || !c->runs) {
			printf("  %-40s %7s  no program of it ran\n", labels[k], "n/a");
			continue;
		}
		printf("  %-40s %7.1f %7.1f   %s\n", labels[k], c->ns / c->n, c->runs / c->n,
		       c->detail);
	}
	for (k = 0; k < 2; k++)
		if (b->delta_n[k])
			printf("  %-40s %+7.1f\n",
			       k ? "(c) - (b), (b) attached first"
				 : "(c) - (b), vigil attached first",
			       b->delta[k] / b->delta_n[k]);
}

/* The median of (d) added / copies over the rounds: (b) added, resolved. False: none. */
static bool floor_resolved(const struct bench *b, double *med, double *min, double *max)
{
	const struct series *d = &b->s[MANY];
	double v[ROUNDS_MAX];
	unsigned int i;

	for (i = 0; i < d->n; i++)
		v[i] = d->added[i] / b->copies;
	if (!d->n)
		return false;
	*med = rounds_median(v, d->n, min, max);
	return true;
}

/*
 * The verdict on a ratio over rounds: the median's, qualified when the rounds do not settle it
 * (some on each side of the target, or one where the configuration cost less than (a)).
 */
static const char *verdict(bool judged, double med, double min, double max)
{
	bool pass = med <= FLOOR_TARGET;

	if (!judged)
		return "not judged";
	if (min <= 0 || (min <= FLOOR_TARGET && max > FLOOR_TARGET))
		return pass ? "PASS (the rounds do not settle it)"
			    : "MISS (the rounds do not settle it)";
	return pass ? "PASS" : "MISS";
}

/*
 * The targets: the floor ratio, (c) added / (b) added, three ways.
 *
 *  - loop: as asked, round by round. (b) added is a few hundred ns on a connection whose
 *    cost moves by more than that from round to round: rarely resolved.
 *  - amplified, the judged figure: (e) added / (d) added, the same programs 16 times over
 *    in the same round, each copy with its own code and data; no BPF stats, whose two clock
 *    reads a run wait for the program's loads to complete.
 *  - BPF stats: 1 + ((c) - (b) program time) / ((d) added / N): (b) and (c) hook the same
 *    tracepoints the same way, so their difference is the difference of their programs,
 *    which the stats measure without the loop's noise (the clock reads make it an upper
 *    bound: a load's latency is counted whole, where the loop overlaps it with other work).
 */
static void print_targets(const struct bench *b)
{
	bool judged = b->sock_seen == 1, ok = b->delta_n[0] && b->delta_n[1];
	double med, min, max, fl, fmin, fmax, delta;

	printf("\n== targets ==\n");
	if (judged)
		printf("  vigil's socket programs: %s\n", b->sock_names);
	else if (b->s[VIGIL].n)
		printf("  vigil holds no socket programs (sock_*): (c) measures vigil without them "
		       "(not judged)\n");
	printf("  %-40s ", "floor, loop: (c) added / (b) added");
	if (series_ratio(&b->s[VIGIL], &b->s[EMPTY], true, &med, &min, &max))
		printf("%5.2f (rounds %.2f..%.2f)  target <= %.2f  %s\n", med, min, max,
		       FLOOR_TARGET, verdict(judged, med, min, max));
	else
		printf("n/a: %s\n", b->s[VIGIL].n && b->s[EMPTY].n
					? "(b) added nothing measurable in any round"
					: "(b) or (c) did not run");
	if (series_ratio(&b->s[VIGIL], &b->s[EMPTY], false, &med, &min, &max))
		printf("  %-40s %5.3f (rounds %.3f..%.3f)\n", "(c) / (b), whole connection", med,
		       min, max);
	printf("  %-40s ", "floor, amplified: (e) added / (d) added");
	if (series_ratio(&b->s[VMANY], &b->s[MANY], true, &med, &min, &max))
		printf("%5.2f (rounds %.2f..%.2f)  target <= %.2f  %s\n", med, min, max,
		       FLOOR_TARGET, verdict(true, med, min, max));
	else
		printf("n/a: %s\n", b->s[VMANY].n ? b->why[MANY] : b->why[VMANY]);
	if (!floor_resolved(b, &fl, &fmin, &fmax))
		return;
	printf("  %-40s %5.1f ns (rounds %.1f..%.1f)\n", "(b) added, resolved: (d) added / N", fl,
	       fmin, fmax);
	if (!ok || fl <= 0) {
		printf("  %-40s n/a: %s\n", "floor, from BPF stats",
		       ok ? "(d) added nothing measurable" : "no BPF stats of (b) and (c)");
		return;
	}
	/* Each order's mean, then their mean: being first on the hook costs a little more. */
	delta = (b->delta[0] / b->delta_n[0] + b->delta[1] / b->delta_n[1]) / 2;
	med = 1 + delta / fl;
	printf("  %-40s %5.2f = 1 + ((c) - (b) program time %+.1f ns) / (b) added %.1f ns  "
	       "(an upper bound)\n",
	       "floor, from BPF stats", med, delta, fl);
}

/*
 * Which clock measures the loop. Process CPU time, unless the kernel accounts IRQ time apart
 * (CONFIG_IRQ_TIME_ACCOUNTING=y): then softirq time, where loopback's receive side and most of
 * the socket programs run, is left out of every task's CPU time, and only the wall clock
 * sees it. Read from /proc/config.gz, else /boot/config-RELEASE.
 */
static void clock_choice(struct bench *b, const char *forced)
{
	char path[PATH_MAX], line[256];
	struct utsname un = {};
	int found = -1;
	gzFile f;

	uname(&un);
	snprintf(path, sizeof(path), "/boot/config-%s", un.release);
	f = gzopen("/proc/config.gz", "r");
	if (!f)
		f = gzopen(path, "r"); /* gzopen reads a plain file as it is */
	while (f && gzgets(f, line, sizeof(line)))
		if (strstr(line, "CONFIG_IRQ_TIME_ACCOUNTING"))
			found = !strncmp(line, "CONFIG_IRQ_TIME_ACCOUNTING=y", 28);
	if (f)
		gzclose(f);
	if (f && found < 0)
		found = 0; /* not in the config: not set */
	if (forced) {
		b->wall = !strcmp(forced, "wall");
		snprintf(b->clock_why, sizeof(b->clock_why), "%s, as asked (--clock)",
			 b->wall ? "wall-clock time" : "process CPU time");
	} else if (found == 1) {
		b->wall = true;
		snprintf(b->clock_why, sizeof(b->clock_why),
			 "wall-clock time: CONFIG_IRQ_TIME_ACCOUNTING=y takes softirq time out of "
			 "CPU time");
	} else {
		snprintf(b->clock_why, sizeof(b->clock_why),
			 "process CPU time: %s, so softirq time in the loop's context is in it",
			 found ? "kernel config not found, assuming no IRQ time accounting"
			       : "CONFIG_IRQ_TIME_ACCOUNTING is not set");
	}
}

static int write_config(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	/* A workload turns the sockets family on; no latency, which would put every syscall
	 * on the traced path and measure something else. */
	fprintf(f,
		"# Written by bench/sockets.c: one workload (comm %s), so the sockets family is\n"
		"# on and the loop is not watched.\n"
		"workloads:\n"
		"  - name: %s\n"
		"    match: { comm: %s }\n",
		OTHER_COMM, OTHER_COMM, OTHER_COMM);
	return fclose(f) ? -errno : 0;
}

static int parse_args(int argc, char **argv, struct bench *b, const char **clock)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int i;

	b->conns = 20000;
	b->rounds = 7;
	b->stats_pairs = 1;
	b->copies = 16;
	b->out = "build/bench";
	/* The last CPU: CPU 0 takes most interrupts and the host's other work. */
	b->cpu = ncpu > 1 ? ncpu - 1 : 0;
	for (i = 1; i + 1 < argc; i += 2) {
		const char *v = argv[i + 1];

		if (!strcmp(argv[i], "--vigil"))
			b->vigil = v;
		else if (!strcmp(argv[i], "--out"))
			b->out = v;
		else if (!strcmp(argv[i], "--conns"))
			b->conns = strtoul(v, NULL, 10);
		else if (!strcmp(argv[i], "--rounds"))
			b->rounds = strtoul(v, NULL, 10);
		else if (!strcmp(argv[i], "--sockets-obj"))
			b->sock_obj = v;
		else if (!strcmp(argv[i], "--copies"))
			b->copies = strtoul(v, NULL, 10);
		else if (!strcmp(argv[i], "--stats-runs"))
			b->stats_pairs = strtoul(v, NULL, 10);
		else if (!strcmp(argv[i], "--cpu"))
			b->cpu = atoi(v);
		else if (!strcmp(argv[i], "--clock") && (!strcmp(v, "cpu") || !strcmp(v, "wall")))
			*clock = v;
		else
			return -EINVAL;
	}
	if (i != argc || !b->vigil || b->conns < 10 || b->conns > MAX_CONNS ||
	    b->rounds > ROUNDS_MAX || !b->stats_pairs || b->stats_pairs > 10 || b->copies < 2 ||
	    b->copies > COPIES_MAX || b->cpu < 0 || b->cpu >= ncpu)
		return -EINVAL;
	return 0;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

/*
 * One copy of the empty programs, each only where its tracepoint exists (inet_sk_error_report
 * is 5.14, and vigil leaves its own program out before that too). Their BTF ids also tell
 * other tracers' programs on the hooks apart. Returns 0 or -errno.
 */
static int load_empty(struct bench *b, struct sock_empty_bpf **out)
{
	struct bpf_program *progs[N_HOOKS];
	struct sock_empty_bpf *s;
	unsigned int i;
	int id, err;

	s = sock_empty_bpf__open();
	if (!s)
		return -errno;
	progs[0] = s->progs.empty_state;
	progs[1] = s->progs.empty_rst_rcvd;
	progs[2] = s->progs.empty_rst_sent;
	progs[3] = s->progs.empty_error;
	progs[4] = s->progs.empty_retrans;
	for (i = 0; i < N_HOOKS; i++) {
		id = libbpf_find_vmlinux_btf_id(hooks[i], BPF_TRACE_RAW_TP);
		b->hook_btf[i] = id > 0 ? (__u32)id : 0;
		bpf_program__set_autoload(progs[i], id > 0);
	}
	err = sock_empty_bpf__load(s);
	if (err) {
		sock_empty_bpf__destroy(s);
		return err;
	}
	for (i = 0; i < N_HOOKS; i++)
		own_prog(b, progs[i]);
	*out = s;
	return 0;
}

/*
 * (b) and (c) in one run with the BPF stats on, (b) attached first or after vigil: the time of
 * each one's programs on the same state changes. Returns 0 or -errno.
 */
static int side_by_side(struct bench *b, bool empty_first)
{
	double conns = b->conns + b->conns / 10; /* the warm-up ran the programs too */
	char *why = b->why[VIGIL];
	size_t len = sizeof(b->why[VIGIL]);
	struct progs pe, pv, pe0, pv0;
	struct child c = {};
	double r[2], e, v;
	int err;

	err = empty_first ? empty_attach(b, 1) : 0;
	if (!err)
		err = vigil_start(b, &c, why, len);
	if (!err && !empty_first)
		err = empty_attach(b, 1);
	if (!err)
		err = proc_progs(getpid(), &pe);
	if (!err)
		err = proc_progs(c.pid, &pv);
	pe0 = pe;
	pv0 = pv;
	if (!err)
		err = measure(b, r, why, len);
	if (!err)
		err = progs_refresh(&pe);
	if (!err)
		err = progs_refresh(&pv);
	child_stop(&c, SIGTERM);
	empty_detach(b, 1);
	if (err)
		return err;
	e = add_cost(&b->bpf[EMPTY], &pe0, &pe, "empty_", conns);
	v = add_cost(&b->bpf[VIGIL], &pv0, &pv, "sock_", conns);
	if (e >= 0 && v >= 0) {
		b->delta[empty_first] += v - e;
		b->delta_n[empty_first]++;
	}
	return 0;
}

/* (b) and (c) side by side, twice, with the kernel's BPF run-time stats on (they cost two clock
 * reads a program run, so never during the rounds). Returns 0 or -errno. */
static int bpf_pass(struct bench *b)
{
	unsigned int i;
	int fd, err = 0;

	if (b->failed[EMPTY] || b->failed[VIGIL])
		return -ENOENT;
	fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (fd < 0)
		return -errno;
	for (i = 0; i < b->stats_pairs && !err; i++) {
		err = side_by_side(b, false);
		if (!err)
			err = side_by_side(b, true);
	}
	close(fd);
	return err;
}

/* vigil's sockets object: --sockets-obj, else bpf/sockets.bpf.o beside the vigil binary. */
static void sock_obj_path(struct bench *b, char *buf, size_t len)
{
	const char *slash = strrchr(b->vigil, '/');

	if (b->sock_obj)
		return;
	snprintf(buf, len, "%.*sbpf/sockets.bpf.o", slash ? (int)(slash - b->vigil + 1) : 0,
		 b->vigil);
	b->sock_obj = buf;
}

int main(int argc, char **argv)
{
	struct bench b = {.sock_seen = -1};
	char obj[PATH_MAX];
	const char *clock = NULL;
	struct utsname un = {};
	double load[3] = {};
	unsigned int r, i;
	int err;

	if (parse_args(argc, argv, &b, &clock)) {
		fprintf(stderr,
			"usage: sockets --vigil PATH [--sockets-obj PATH] [--out DIR] "
			"[--conns N (10..%d)] "
			"[--rounds N (<= %d; 0: the BPF stats pass only)] "
			"[--copies N (2..%d)] [--stats-runs N (<= 10)] [--cpu N] "
			"[--clock cpu|wall]\n",
			MAX_CONNS, ROUNDS_MAX, COPIES_MAX);
		return 2;
	}
	if (geteuid()) {
		fprintf(stderr, "sockets: must run as root (BPF programs, a network namespace)\n");
		return 1;
	}
	libbpf_set_print(libbpf_quiet);

	/* 1. vigil's config, the clock, and the floor's programs (attached per run). */
	snprintf(b.config, sizeof(b.config), "%s/sockets-other.yaml", b.out);
	err = write_config(b.config);
	if (err) {
		fprintf(stderr, "sockets: writing %s: %s\n", b.config, strerror(-err));
		return 1;
	}
	clock_choice(&b, clock);
	for (i = 0; i < b.copies && !err; i++)
		err = load_empty(&b, &b.empty[i]);
	if (err) {
		snprintf(b.why[EMPTY], sizeof(b.why[EMPTY]), "loading sock_empty.bpf.o: %s",
			 strerror(-err));
		snprintf(b.why[MANY], sizeof(b.why[MANY]), "%s", b.why[EMPTY]);
	}
	sock_obj_path(&b, obj, sizeof(obj));
	err = vigil_load(&b);
	if (err)
		snprintf(b.why[VMANY], sizeof(b.why[VMANY]), "loading %s: %s", b.sock_obj,
			 strerror(-err));

	/* 2. The rounds, then the BPF stats pass. */
	uname(&un);
	getloadavg(load, 3);
	printf("== TCP state hooks: loopback connect/accept/close loop, not watched, %lu "
	       "connections a run, %u rounds, on CPU %d, ns/connection ==\n",
	       b.conns, b.rounds, b.cpu);
	printf("  host: %ld CPUs, kernel %s, load average %.2f %.2f %.2f\n",
	       sysconf(_SC_NPROCESSORS_ONLN), un.release, load[0], load[1], load[2]);
	printf("  clock: %s\n", b.clock_why);
	printf("  (d): (b)'s programs %u times over\n", b.copies);
	printf("  (e): (c)'s programs from %s, %u times over, without the daemon\n", b.sock_obj,
	       b.copies);
	printf("  %-8s %9s %9s %9s %9s %9s\n", "", "(a)", "(b)", "(c)", "(d)", "(e)");
	for (r = 0, err = 0; r < b.rounds && !err; r++)
		err = run_round(&b, r);
	if (!err)
		err = bpf_pass(&b);
	for (i = 0; i < b.copies; i++) {
		sock_empty_bpf__destroy(b.empty[i]);
		bpf_object__close(b.vobj[i]);
	}
	if (err == -EIO && b.rounds && !b.s[BARE].n) {
		fprintf(stderr, "sockets: the bare loop did not run: %s\n", b.why[BARE]);
		return 1;
	}

	/* 3. The table, the program times, the targets. */
	printf("\n");
	print_summary(&b);
	if (b.foreign_max)
		printf(
		    "  warning: up to %u programs of another tracer were on these hooks during a "
		    "run: their cost is in every configuration\n",
		    b.foreign_max);
	if (err)
		printf("\n  (no BPF stats: %s%s%s)\n", strerror(-err), b.why[VIGIL][0] ? ": " : "",
		       b.why[VIGIL]);
	else
		print_bpf(&b);
	print_targets(&b);
	return 0;
}
