// SPDX-License-Identifier: Apache-2.0
/*
 * flood: how many records a second vigil's collector takes off the ring buffer with zero
 * drops. The producer is flood.bpf.c: each getppid() of this process submits `batch` exit
 * records into a ring buffer of the daemon's size. A producer thread on one CPU calls
 * getppid(), paced or flat out; the main thread, on the other CPU, runs the daemon's own
 * event loop and collector (userspace/loop.c, userspace/collector.c) with a callback that
 * counts. Flat out first: if the producer outruns the collector (drops), the production rate
 * is bisected down to the highest one the collector sustains with no drop.
 *
 * Two searches: as the daemon runs (SCHED_OTHER, sharing the CPUs with whatever else runs on
 * the host), the figure the target is judged on, and with the collector's CPU to itself
 * (SCHED_FIFO for both threads). Each trial prints the oldest record the collector saw
 * (sampled), the kernel's wake-ups of the collector per record (wake.bpf.h: routine records
 * do not wake it; a fault, a quiet millisecond or a quarter-full buffer does), and how long the
 * fault records (one in FAULT_EVERY) waited between their production and their delivery.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "kernel/collector.h"
#include "core/loop.h"
#include "flood.skel.h"

#define TARGET_RATE 3e6	    /* records/s, zero drops, SCHED_OTHER */
#define FAULT_EVERY 4096    /* one record in FAULT_EVERY is a fault, the rest routine */
#define FAULT_TARGET_MS 1.0 /* a fault record's wait, production to delivery (max) */
/* The rates at which the fault records' wait is judged: the batching's own delay, with the
 * collector keeping up (at a rate it cannot sustain, a fault waits behind the backlog). */
static const double fault_rates[] = {1e5, 1e6};
#define MAX_DELAYS 8192
#define TRIAL_SECONDS 1.0 /* production time of one trial */
#define MIN_RECORDS (1 << 16)
#define MAX_RECORDS (1 << 24)
#define FLAT_OUT_RECORDS (1 << 22)
#define CHECK_EVERY 1024 /* records between two looks at the producer's counters */
#define AGE_EVERY 64	 /* records between two samples of a record's age */
#define TICK_MS 2
#define TRIAL_TIMEOUT_S 30.0
#define MAX_SEARCH 10
#define RT_PRIO 10

struct trial {
	double rate;	    /* requested records/s; 0: flat out */
	unsigned int batch; /* records per getppid() */
	uint64_t records;   /* reservation attempts: calls * batch */
	/* results */
	uint64_t consumed, drops, rejected;
	double prod_rate, cons_rate;	   /* records/s produced, consumed */
	double cpu_ns;			   /* collector thread's CPU time per record consumed */
	uint64_t max_age_ns;		   /* oldest record seen (sampled): wake-up latency */
	double wakeups;			   /* the kernel's wake-ups of the collector per record */
	double fault_p99_ms, fault_max_ms; /* fault records: production to delivery */
	uint64_t faults;
	bool timed_out;
};

struct flood {
	struct flood_bpf *skel;
	struct vigil_loop *loop;
	struct vigil_timer tick;
	struct vigil_collector *coll;
	int cpu_prod, cpu_cons;
	atomic_bool rt; /* SCHED_FIFO for both threads */
	/* the current trial */
	struct trial *t;
	uint64_t consumed, rejected0;
	uint64_t t0_ns, t_end_ns, max_age_ns;
	uint64_t delays[MAX_DELAYS]; /* of the trial's fault records, ns */
	uint64_t n_delays, n_faults;
	atomic_bool go, done, quit;
	atomic_uint_fast64_t prod_t0, prod_t1;
};

/* The outcome of one search. */
struct result {
	bool ran;
	double best;	       /* highest consumed rate with zero drops */
	double lossy;	       /* lowest production rate with drops */
	bool producer_bound;   /* no drop seen: the collector's ceiling is higher */
	bool producer_limited; /* the paced producer fell short of a rate asked */
	double best_age_ms;    /* oldest record in that trial */
	double best_cpu_ns;
	double best_wakeups;   /* per record, in that trial */
	double worst_fault_ms; /* the longest a fault record waited, over every trial */
};

/* The fault records' wait under a routine flood the collector keeps up with, with vigil's
 * wake-ups and with the kernel's default (every record that finds the collector caught up
 * wakes it). */
struct fault_wait {
	double rate;
	double p99_ms[2], max_ms[2]; /* [0] vigil's, [1] default */
	uint64_t faults[2];
	double wakeups[2];
	bool lossy;
};

static int pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

/* Returns 0 or -errno (a positive pthread error, negated). */
static int set_policy(bool rt)
{
	struct sched_param sp = {.sched_priority = rt ? RT_PRIO : 0};

	return -pthread_setschedparam(pthread_self(), rt ? SCHED_FIFO : SCHED_OTHER, &sp);
}

static uint64_t rejected(const struct vigil_collector *c)
{
	const struct vigil_collector_stats *st = vigil_collector_stats(c);

	return st->short_recs + st->bad_version + st->unknown + st->bad_size + st->dup_exits;
}

/* Every reservation attempt of the trial is accounted for: consumed, rejected or dropped. */
static bool trial_complete(struct flood *fl)
{
	uint64_t drops = *(volatile __u64 *)&fl->skel->bss->drops;

	return fl->consumed + rejected(fl->coll) - fl->rejected0 + drops >= fl->t->records;
}

static void finish(struct flood *fl)
{
	fl->t_end_ns = vigil_mono_ns();
	vigil_loop_stop(fl->loop);
}

/* The collector's callback: count, sample ages, and now and then see if the trial is over. */
static void on_event(const struct vigil_event_hdr *hdr, void *arg)
{
	struct flood *fl = arg;

	if (hdr->workload == 1) {
		if (fl->n_delays < MAX_DELAYS)
			fl->delays[fl->n_delays++] = vigil_mono_ns() - hdr->ts_ns;
		fl->n_faults++;
	}
	if (fl->consumed % AGE_EVERY == 0) {
		uint64_t age = vigil_mono_ns() - hdr->ts_ns;

		if (age > fl->max_age_ns)
			fl->max_age_ns = age;
	}
	if (++fl->consumed % CHECK_EVERY == 0 && trial_complete(fl))
		finish(fl);
}

/* Every TICK_MS: the tail of a trial with drops (or rejects), and the timeout. */
static void on_tick(struct vigil_loop *loop, void *arg)
{
	struct flood *fl = arg;

	if (atomic_load(&fl->done) && trial_complete(fl)) {
		finish(fl);
		return;
	}
	if (vigil_mono_ns() - fl->t0_ns > TRIAL_TIMEOUT_S * 1e9) {
		fl->t->timed_out = true;
		finish(fl);
		return;
	}
	vigil_timer_arm(loop, &fl->tick, TICK_MS);
}

/* The producer: for each trial, getppid() t->records / batch times, paced or flat out. */
static void *producer(void *arg)
{
	struct flood *fl = arg;
	uint64_t calls, i, t0, gap_ns;
	bool rt = false;

	pin_cpu(fl->cpu_prod);
	for (;;) {
		while (!atomic_load(&fl->go))
			usleep(100); /* between trials: leave the CPU to others */
		if (atomic_load(&fl->quit))
			return NULL;
		if (atomic_load(&fl->rt) != rt) {
			rt = !rt;
			set_policy(rt);
		}
		calls = fl->t->records / fl->t->batch;
		gap_ns = fl->t->rate > 0 ? (uint64_t)(1e9 * fl->t->batch / fl->t->rate) : 0;
		t0 = vigil_mono_ns();
		atomic_store(&fl->prod_t0, t0);
		for (i = 0; i < calls; i++) {
			while (gap_ns && vigil_mono_ns() < t0 + i * gap_ns)
				;
			syscall(SYS_getppid);
		}
		atomic_store(&fl->prod_t1, vigil_mono_ns());
		atomic_store(&fl->go, false);
		atomic_store(&fl->done, true);
	}
}

static double tv_ns(const struct timeval *tv)
{
	return tv->tv_sec * 1e9 + tv->tv_usec * 1e3;
}

static double cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return tv_ns(&ru.ru_utime) + tv_ns(&ru.ru_stime);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The trial's fault records: p99 and max of their wait, in ms. */
static void fault_delays(struct flood *fl, struct trial *t)
{
	size_t n = fl->n_delays;

	t->faults = fl->n_faults;
	if (!n)
		return;
	qsort(fl->delays, n, sizeof(fl->delays[0]), cmp_u64);
	t->fault_p99_ms = fl->delays[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] / 1e6;
	t->fault_max_ms = fl->delays[n - 1] / 1e6;
}

/* Run one trial; the collector runs here, on the calling thread. Returns 0 or -errno. */
static int run_trial(struct flood *fl, struct trial *t)
{
	uint64_t wake0 = vigil_collector_stats(fl->coll)->wakeups;
	double prod_s, cons_s, cpu0;
	int err;

	fl->skel->bss->drops = 0;
	fl->skel->bss->submitted = 0;
	fl->skel->data->batch = t->batch;
	fl->skel->bss->fault_every = FAULT_EVERY;
	fl->t = t;
	fl->consumed = 0;
	fl->n_delays = 0;
	fl->n_faults = 0;
	fl->max_age_ns = 0;
	fl->rejected0 = rejected(fl->coll);
	atomic_store(&fl->done, false);
	/* Initialised once (main): a timer still armed from the last trial is moved, not lost. */
	vigil_timer_arm(fl->loop, &fl->tick, TICK_MS);
	cpu0 = cpu_ns();
	fl->t0_ns = vigil_mono_ns();
	atomic_store(&fl->go, true);
	err = vigil_loop_run(fl->loop);
	if (err)
		return err;
	/* Wait for the producer's last call, and drain whatever it left (after a timeout). */
	while (!atomic_load(&fl->done))
		;
	vigil_collector_drain(fl->coll);
	t->cpu_ns = (cpu_ns() - cpu0) / (double)(fl->consumed ? fl->consumed : 1);
	t->consumed = fl->consumed;
	t->drops = fl->skel->bss->drops;
	t->rejected = rejected(fl->coll) - fl->rejected0;
	t->max_age_ns = fl->max_age_ns;
	t->wakeups = (double)(vigil_collector_stats(fl->coll)->wakeups - wake0) /
		     (double)(fl->consumed ? fl->consumed : 1);
	fault_delays(fl, t);
	prod_s = (atomic_load(&fl->prod_t1) - atomic_load(&fl->prod_t0)) / 1e9;
	cons_s = (fl->t_end_ns - atomic_load(&fl->prod_t0)) / 1e9;
	t->prod_rate = prod_s > 0 ? t->records / prod_s : 0;
	t->cons_rate = cons_s > 0 ? t->consumed / cons_s : 0;
	return 0;
}

static bool lost(const struct trial *t)
{
	return t->drops || t->rejected || t->timed_out;
}

static void print_trial(const struct trial *t)
{
	char req[32];

	if (t->rate > 0)
		snprintf(req, sizeof(req), "%.2f M/s", t->rate / 1e6);
	else
		snprintf(req, sizeof(req), "flat out");
	printf("  %-11s %5u %7.2f M %8.2f M/s %8.2f M/s %9llu %7.0f %8.2f ms %9.5f %7.3f %7.3f "
	       "ms%s%s\n",
	       req, t->batch, t->records / 1e6, t->prod_rate / 1e6, t->cons_rate / 1e6,
	       (unsigned long long)t->drops, t->cpu_ns, t->max_age_ns / 1e6, t->wakeups,
	       t->fault_p99_ms, t->fault_max_ms, t->rejected ? "  REJECTED BY THE DECODER" : "",
	       t->timed_out ? "  timed out" : "");
	fflush(stdout);
}

/* Records for about TRIAL_SECONDS at rate, a multiple of CHECK_EVERY (and of any batch). */
static uint64_t trial_records(double rate)
{
	double want = rate * TRIAL_SECONDS;
	uint64_t n = want < MIN_RECORDS ? MIN_RECORDS : want > MAX_RECORDS ? MAX_RECORDS : want;

	return n / CHECK_EVERY * CHECK_EVERY;
}

static void keep_best(struct result *r, const struct trial *t)
{
	if (t->cons_rate <= r->best)
		return;
	r->best = t->cons_rate;
	r->best_age_ms = t->max_age_ns / 1e6;
	r->best_cpu_ns = t->cpu_ns;
	r->best_wakeups = t->wakeups;
}

/* A fault record's wait counts in every trial, lossy or not. */
static void keep_fault(struct result *r, const struct trial *t)
{
	if (t->fault_max_ms > r->worst_fault_ms)
		r->worst_fault_ms = t->fault_max_ms;
}

/*
 * One search, under the current policy. Flat out with growing batches until the producer
 * outruns the collector; then bisect the paced production rate between the best rate without
 * drops and the lowest with. Returns 0 or -errno.
 */
static int search(struct flood *fl, struct result *r)
{
	double hi = 0, rate;
	unsigned int batch, i;
	struct trial t = {};
	int err;

	for (batch = 16; batch <= 256 && !hi; batch *= 4) {
		t = (struct trial){.batch = batch, .records = FLAT_OUT_RECORDS};
		err = run_trial(fl, &t);
		if (err)
			return err;
		print_trial(&t);
		keep_fault(r, &t);
		if (lost(&t))
			hi = t.prod_rate;
		else
			keep_best(r, &t);
	}
	r->ran = true;
	r->producer_bound = !hi;
	if (!hi)
		return 0;
	batch = t.batch;
	rate = t.cons_rate * 0.9 > r->best ? t.cons_rate * 0.9 : (r->best + hi) / 2;
	for (i = 0; i < MAX_SEARCH && hi > r->best * 1.03 && hi > 1e4; i++) {
		t = (struct trial){.rate = rate, .batch = batch, .records = trial_records(rate)};
		err = run_trial(fl, &t);
		if (err)
			return err;
		print_trial(&t);
		keep_fault(r, &t);
		if (lost(&t)) {
			hi = rate < t.prod_rate ? rate : t.prod_rate;
		} else {
			keep_best(r, &t);
			/* Paced below the asked rate: the producer is the limit. */
			if (t.prod_rate < 0.97 * rate) {
				r->producer_limited = true;
				break;
			}
		}
		rate = r->best > 0 ? (r->best + hi) / 2 : hi * 0.6;
	}
	r->lossy = hi;
	return 0;
}

/* Paced trials at each of fault_rates, SCHED_OTHER: how long fault records waited. */
static int measure_fault_wait(struct flood *fl, struct fault_wait *fw, size_t n)
{
	size_t i;
	int err;

	unsigned int pol;

	for (i = 0; i < n; i++) {
		fw[i].rate = fault_rates[i];
		for (pol = 0; pol < 2; pol++) {
			struct trial t = {.rate = fault_rates[i], .batch = 16};

			t.records = trial_records(t.rate) * 2; /* two seconds: enough faults */
			fl->skel->bss->wake_default = pol;
			err = run_trial(fl, &t);
			fl->skel->bss->wake_default = 0;
			if (err)
				return err;
			printf("%s", pol ? "  (default wake-ups:)\n" : "");
			print_trial(&t);
			fw[i].p99_ms[pol] = t.fault_p99_ms;
			fw[i].max_ms[pol] = t.fault_max_ms;
			fw[i].faults[pol] = t.faults;
			fw[i].wakeups[pol] = t.wakeups;
			fw[i].lossy |= lost(&t);
		}
	}
	return 0;
}

static void print_result(const char *what, const struct result *r)
{
	if (!r->ran)
		return;
	if (r->producer_bound) {
		printf("  %s: no drop at any rate the producer reached, up to %.2f M records/s "
		       "(the collector's ceiling is higher)\n",
		       what, r->best / 1e6);
		return;
	}
	printf("  %s: zero drops at %.2f M records/s, drops at %.2f M/s%s;\n", what, r->best / 1e6,
	       r->lossy / 1e6,
	       r->producer_limited ? " (flat out; paced, the producer fell short)" : "");
	printf("  %*s  %.0f ns of collector CPU a record, %.5f wake-ups a record, oldest record "
	       "%.2f ms;\n",
	       (int)strlen(what), "", r->best_cpu_ns, r->best_wakeups, r->best_age_ms);
	printf("  %*s  fault records waited at most %.3f ms (every trial)\n", (int)strlen(what), "",
	       r->worst_fault_ms);
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

int main(void)
{
	struct flood fl = {.cpu_cons = 0, .cpu_prod = 1};
	struct fault_wait fw[sizeof(fault_rates) / sizeof(fault_rates[0])] = {};
	const size_t n_fw = sizeof(fw) / sizeof(fw[0]);
	struct result shared = {}, alone = {};
	double fw_max = 0;
	size_t i;
	bool started = false;
	pthread_t thread;
	double ring_ms, load[3] = {};
	int err;

	libbpf_set_print(libbpf_quiet);
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		fl.cpu_prod = 0;

	/* 1. The producer program, for this process and getppid() only. */
	fl.skel = flood_bpf__open();
	if (!fl.skel) {
		err = -errno;
		fprintf(stderr, "flood: opening flood.bpf.o: %s\n", strerror(-err));
		return 1;
	}
	fl.skel->rodata->target_tgid = getpid();
	fl.skel->rodata->trigger_nr = SYS_getppid;
	err = flood_bpf__load(fl.skel);
	if (!err)
		err = flood_bpf__attach(fl.skel);
	if (err) {
		fprintf(stderr, "flood: loading flood.bpf.o: %s\n", strerror(-err));
		goto cleanup;
	}

	/* 2. The daemon's loop and collector, on this thread and CPU 0. */
	err = pin_cpu(fl.cpu_cons);
	if (!err)
		err = vigil_loop_new(NULL, &fl.loop);
	if (!err) {
		vigil_timer_init(&fl.tick, on_tick, &fl);
		err = vigil_collector_new(fl.loop, bpf_map__fd(fl.skel->maps.events), on_event, &fl,
					  &fl.coll);
	}
	if (err) {
		fprintf(stderr, "flood: setting up the collector: %s\n", strerror(-err));
		goto cleanup;
	}

	/* 3. The producer thread, on CPU 1. */
	err = -pthread_create(&thread, NULL, producer, &fl);
	if (err) {
		fprintf(stderr, "flood: producer thread: %s\n", strerror(-err));
		goto cleanup;
	}
	started = true;

	/* 4. Measure: as the daemon runs, then with the CPU to itself. */
	/* A record takes its size plus the ring buffer's 8-byte header. */
	ring_ms = VIGIL_RINGBUF_BYTES / (sizeof(struct vigil_exit) + 8.0) / TARGET_RATE * 1e3;
	printf(
	    "== collector throughput: %zu-byte records, %d KiB ring buffer (%.1f ms at %.0f M/s), "
	    "collector on CPU %d, producer on CPU %d ==\n",
	    sizeof(struct vigil_exit), VIGIL_RINGBUF_BYTES / 1024, ring_ms, TARGET_RATE / 1e6,
	    fl.cpu_cons, fl.cpu_prod);
	getloadavg(load, 3);
	printf("  host load average %.2f %.2f %.2f; cpu ns = collector CPU time a record; oldest = "
	       "age of the oldest record seen (sampled);\n"
	       "  wake/rec = the kernel's wake-ups of the collector a record; fault p99, max = how "
	       "long the fault records (1 in %d) waited, production to delivery\n",
	       load[0], load[1], load[2], FAULT_EVERY);
	printf("  %-11s %5s %9s %12s %12s %9s %7s %11s %9s %7s %10s\n", "production", "batch",
	       "records", "produced", "consumed", "drops", "cpu ns", "oldest", "wake/rec",
	       "fault p99", "max");
	printf(
	    "  -- as the daemon runs: SCHED_OTHER, sharing the CPUs with the rest of the host\n");
	err = search(&fl, &shared);
	if (!err) {
		printf("  -- fault records under a paced routine flood, SCHED_OTHER\n");
		err = measure_fault_wait(&fl, fw, n_fw);
	}
	if (!err) {
		printf("  -- the collector's CPU to itself: SCHED_FIFO\n");
		if (set_policy(true)) {
			printf("  (SCHED_FIFO refused: no second search)\n");
		} else {
			atomic_store(&fl.rt, true);
			err = search(&fl, &alone);
			set_policy(false);
		}
	}
	if (err) {
		fprintf(stderr, "flood: %s\n", strerror(-err));
		goto cleanup;
	}
	print_result("SCHED_OTHER", &shared);
	print_result("SCHED_FIFO ", &alone);

	printf("\n== targets ==\n");
	printf("  %-44s %s%5.2f M/s  target >= %.2f M/s  %s\n",
	       "collector, zero drops, SCHED_OTHER", shared.producer_bound ? ">= " : "",
	       shared.best / 1e6, TARGET_RATE / 1e6,
	       shared.best >= TARGET_RATE ? "PASS"
	       : shared.producer_bound	  ? "not judged (the producer is the limit)"
					  : "MISS");
	if (alone.ran)
		printf("  %-44s %s%5.2f M/s  (no target: the ceiling with a CPU to itself)\n",
		       "collector, zero drops, SCHED_FIFO", alone.producer_bound ? ">= " : "",
		       alone.best / 1e6);
	for (i = 0; i < n_fw; i++) {
		double added = fw[i].max_ms[0] - fw[i].max_ms[1];

		printf(
		    "  at %.1f M routine records/s, fault records waited: vigil's wake-ups p99 "
		    "%.3f max %.3f ms (%llu faults, %.5f wake-ups a record); the kernel's default "
		    "p99 %.3f max %.3f ms (%llu, %.5f)%s\n",
		    fw[i].rate / 1e6, fw[i].p99_ms[0], fw[i].max_ms[0],
		    (unsigned long long)fw[i].faults[0], fw[i].wakeups[0], fw[i].p99_ms[1],
		    fw[i].max_ms[1], (unsigned long long)fw[i].faults[1], fw[i].wakeups[1],
		    fw[i].lossy ? " (drops: not judged)" : "");
		if (!fw[i].lossy && added > fw_max)
			fw_max = added;
	}
	printf("  %-44s %+.3f ms  target <= %.1f ms  %s\n",
	       "fault records' wait added by the batching", fw_max, FAULT_TARGET_MS,
	       fw_max <= FAULT_TARGET_MS ? "PASS" : "MISS");
	printf("  (in the searches, at rates the collector cannot always keep up with, a fault "
	       "waited up to %.3f ms behind the backlog)\n",
	       shared.worst_fault_ms > alone.worst_fault_ms ? shared.worst_fault_ms
							    : alone.worst_fault_ms);
cleanup:
	if (started) {
		atomic_store(&fl.quit, true);
		atomic_store(&fl.go, true);
		pthread_join(thread, NULL);
	}
	vigil_collector_free(fl.coll);
	vigil_loop_free(fl.loop);
	flood_bpf__destroy(fl.skel);
	return err ? 1 : 0;
}
