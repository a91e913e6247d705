// SPDX-License-Identifier: Apache-2.0
/*
 * daemon: the pipeline's wiring.
 *
 *   ring buffer -> collector -> workloads (name) -> detector -> sinks (event)
 *                                                -> incidents -> sinks (incident)
 *                                                             -> healer -> actions
 *
 * One thread: everything below runs from vigil_loop_run(), driven by the ring buffer's fd, a
 * signalfd (SIGINT, SIGTERM: stop; SIGCHLD: reap what the healer started) and timers.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "kernel/collector.h"
#include "config/config.h"
#include "control/ctl.h"
#include "daemon/daemon.h"
#include "daemon/daemon_int.h"
#include "detect/detector.h"
#include "heal/healer.h"
#include "detect/incidents.h"
#include "kernel/loader.h"
#include "core/loop.h"
#include "heal/knowledge.h"
#include "output/redis.h"
#include "output/output.h"
#include "detect/workloads.h"

/* Has this exit been reported already? Remembers it if not. */
static bool seen_exit(struct daemon *d, const struct vigil_exit *e)
{
	for (unsigned int i = 0; i < DEDUP_SLOTS; i++)
		if (d->dedup[i].tgid == e->hdr.tgid && d->dedup[i].start_ns == e->start_ns)
			return true;
	d->dedup[d->dedup_next].tgid = e->hdr.tgid;
	d->dedup[d->dedup_next].start_ns = e->start_ns;
	d->dedup_next = (d->dedup_next + 1) % DEDUP_SLOTS;
	return false;
}

/* Power of two: an incident's count is re-recorded at 2, 4, 8... so a storm costs log(n). */
static bool pow2(uint64_t n)
{
	return n && !(n & (n - 1));
}

/*
 * Did the workload lose kernel events since `since` (monotonic ns)? Compares its drop count
 * now with the one at the last tick before `since` (or at start). Returns how many were lost.
 */
static uint64_t lost_since(const struct daemon *d, unsigned int workload, uint64_t since)
{
	uint64_t now = 0, then = 0;

	if (vigil_probes_workload_drops(d->probes, workload, &now) || !now)
		return 0;
	for (unsigned int k = 0; k < DROP_TICKS; k++) {
		unsigned int i = (d->drop_next + k) % DROP_TICKS; /* oldest first */

		if (d->drop_hist[i].mono_ns && d->drop_hist[i].mono_ns <= since)
			then = d->drop_hist[i].drops[workload];
	}
	return now - then;
}

static void drops_tick(struct daemon *d)
{
	unsigned int i = d->drop_next;

	d->drop_hist[i].mono_ns = vigil_mono_ns();
	for (unsigned int w = 0; w <= d->cfg->n_workloads; w++)
		vigil_probes_workload_drops(d->probes, w, &d->drop_hist[i].drops[w]);
	d->drop_next = (i + 1) % DROP_TICKS;
}

/* Count a fault: join or open its incident, record it, let the healer decide. */
static void record(struct daemon *d, const struct vigil_event_hdr *h,
		   const struct vigil_detection *det, const char *name)
{
	struct vigil_incident *inc;
	bool opened;

	inc = vigil_incidents_record(d->incidents, h, det, name, &opened);
	if (!inc) {
		fprintf(stderr, "vigil: out of memory recording an incident of %s\n", name);
		return;
	}
	/* Telemetry confidence: lost events in the chain's window make the incident lossy. */
	if (opened && h->workload) {
		inc->lost = lost_since(d, h->workload, inc->first_kernel_ns - VIGIL_CHAIN_NS);
		inc->lossy = inc->lost > 0;
	}
	if (opened || pow2(inc->count))
		vigil_out_incident(d->out, inc);
	vigil_healer_incident(d->healer, inc, opened);
}

/* A failed exit of a configured workload: the last N within the window make a crash_loop. */
static void check_crash_loop(struct daemon *d, const struct vigil_event_hdr *h, const char *name)
{
	const struct vigil_workload *w;
	struct vigil_detection det;
	unsigned int n;
	uint64_t *f;

	if (!h->workload || h->workload > d->cfg->n_workloads)
		return;
	w = &d->cfg->workloads[h->workload - 1];
	n = w->crash_loop_exits;
	f = d->fails[h->workload];
	memmove(f, f + 1, (n - 1) * sizeof(*f));
	f[n - 1] = h->ts_ns;
	if (!f[0] || h->ts_ns - f[0] > w->crash_loop_window_ms * 1000000ull)
		return;
	vigil_detect_crash_loop(name, n, w->crash_loop_window_ms, &det);
	record(d, h, &det, name);
}

static void check_conn_rate(struct daemon *d, const struct vigil_event_hdr *h,
			    enum vigil_class cls, const char *name);

static void on_event(const struct vigil_event_hdr *h, void *arg)
{
	struct daemon *d = arg;
	struct vigil_detection det;
	char namebuf[VIGIL_COMM_LEN + 1];
	const char *name;

	if (h->kind == VIGIL_EV_EXIT && seen_exit(d, (const struct vigil_exit *)h))
		return;
	name = vigil_workloads_name(d->wl, h->workload, h->comm, namebuf, sizeof(namebuf));
	if (vigil_detect(h, name, &det))
		return;
	if (h->kind == VIGIL_EV_EXEC)
		vigil_workloads_seen(d->wl, h->workload, h->tgid);
	else if (h->kind == VIGIL_EV_EXIT)
		vigil_workloads_gone(d->wl, h->workload, h->tgid);
	vigil_out_event(d->out, h, name, &det);
	if (det.cls != VIGIL_CLASS_NONE)
		record(d, h, &det, name);
	vigil_incidents_note(d->incidents, h->workload, h->ts_ns, h->tgid, det.label, det.detail);
	if (det.cls == VIGIL_CLASS_CRASH || det.cls == VIGIL_CLASS_OOM_KILL ||
	    det.cls == VIGIL_CLASS_EXIT_NONZERO)
		check_crash_loop(d, h, name);
	if (det.cls >= VIGIL_CLASS_CONN_REFUSED && det.cls <= VIGIL_CLASS_CONN_RESET &&
	    h->workload && h->workload <= d->cfg->n_workloads)
		check_conn_rate(d, h, det.cls, name);
}

/* The healer's probe: the workload's live connections, from the kernel's counters. */
static uint64_t established(unsigned int workload, void *arg)
{
	struct vigil_sock_counts c;

	return vigil_sock_counts(arg, workload, &c) ? 0 : c.established - c.closed;
}

/* ... and whether pid is still one of the workload's processes (in the kernel's set). */
static bool owns(unsigned int workload, pid_t pid, void *arg)
{
	struct daemon *d = arg;
	struct vigil_watch w;
	__u32 key = pid;

	return !bpf_map_lookup_elem(vigil_probes_watched_fd(d->probes), &key, &w) &&
	       w.workload == workload;
}

static int watch_new_process(unsigned int workload, pid_t pid, void *arg)
{
	struct daemon *d = arg;

	return vigil_workloads_watch(d->wl, workload, pid);
}

static void on_signal(struct vigil_loop *loop, int fd, uint32_t events, void *arg)
{
	struct daemon *d = arg;
	struct signalfd_siginfo si;
	int status;
	pid_t pid;

	(void)events;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
				vigil_healer_reaped(d->healer, pid, status);
			continue;
		}
		fprintf(stderr, "vigil: %s, stopping\n", strsignal(si.ssi_signo));
		vigil_loop_stop(loop);
	}
}

/* Kernel drops of each family since the last tick: a health record when they grew. */
static void check_drops(struct daemon *d)
{
	uint64_t st[VIGIL_STAT_MAX];

	for (enum vigil_family f = 0; f < VIGIL_FAM_MAX; f++) {
		if (vigil_probes_stats(d->probes, f, st) || st[VIGIL_STAT_DROPS] == d->drops_seen[f])
			continue;
		vigil_out_health(d->out, vigil_family_name(f),
				  st[VIGIL_STAT_DROPS] - d->drops_seen[f], st[VIGIL_STAT_DROPS]);
		d->drops_seen[f] = st[VIGIL_STAT_DROPS];
	}
}

/* Retransmits of each workload over the last interval: a rate, and a fault over the
 * threshold. The kernel counters are monotonic: nothing is reset, nothing lost. */
/*
 * One more connection error of a workload: its count over the last second (a sliding window
 * of 100 ms buckets), against the floor and the class's moving baseline. An anomaly is
 * recorded at once — at most once a tick — timed from the first error in the window.
 */
static void check_conn_rate(struct daemon *d, const struct vigil_event_hdr *h,
			    enum vigil_class cls, const char *name)
{
	struct conn_rate *r = &d->conn[h->workload][cls - VIGIL_CLASS_CONN_REFUSED];
	uint64_t b = h->ts_ns / RATE_BUCKET_NS, first = h->ts_ns, sum = 0;
	unsigned int slot = b % RATE_BUCKETS;
	struct vigil_event_hdr rh = *h;
	struct vigil_detection det;

	if (r->bucket[slot] != b) {
		r->bucket[slot] = b;
		r->n[slot] = 0;
		r->first_ns[slot] = h->ts_ns;
	}
	r->n[slot]++;
	r->tick_n++;
	if (r->fired)
		return;
	for (unsigned int i = 0; i < RATE_BUCKETS; i++) {
		if (!r->n[i] || r->bucket[i] + RATE_BUCKETS <= b)
			continue; /* empty, or older than a second */
		sum += r->n[i];
		if (r->first_ns[i] < first)
			first = r->first_ns[i];
	}
	vigil_detect_conn_rate(name, cls, sum, 1000,
			       d->cfg->workloads[h->workload - 1].conn_errors_per_s, r->baseline, &det);
	if (det.cls == VIGIL_CLASS_NONE)
		return;
	r->fired = true;
	rh.ts_ns = first;
	record(d, &rh, &det, name);
}

/* Each tick: fold the tick's connection errors into each baseline (quiet ticks too). */
static void conn_rates_tick(struct daemon *d, uint64_t interval_ms)
{
	if (!interval_ms)
		return;
	for (unsigned int w = 1; w <= d->cfg->n_workloads; w++) {
		for (unsigned int k = 0; k < CONN_CLASSES; k++) {
			struct conn_rate *r = &d->conn[w][k];

			r->baseline = vigil_ewma(r->baseline, r->tick_n * 1000.0 / interval_ms);
			r->tick_n = 0;
			r->fired = false;
		}
	}
}

/*
 * Every RETRANS_SAMPLE_MS: each workload's retransmits since the last sample (the kernel counts
 * are monotonic: differences, never resets), judged over the last second against the floor and
 * the workload's moving baseline. The counts carry no times, so a fault is timed from the start
 * of the earliest sample period in the window that had any: the earliest they can have been.
 */
static void sample_retransmits(struct vigil_loop *loop, void *arg)
{
	struct daemon *d = arg;
	uint64_t now = vigil_mono_ns();
	struct vigil_sock_counts c;

	for (unsigned int w = 1; w <= d->cfg->n_workloads; w++) {
		struct retrans_rate *r = &d->retrans[w];
		struct vigil_event_hdr h = { .workload = w };
		const char *name = d->cfg->workloads[w - 1].name;
		struct vigil_detection det;
		uint64_t sum = 0;

		if (vigil_sock_counts(d, w, &c))
			continue;
		r->n[r->next] = c.retransmits - d->sock_prev[w].retransmits;
		r->since_ns[r->next] = d->retrans_sample_ns;
		r->next = (r->next + 1) % RETRANS_SAMPLES;
		r->second_n += c.retransmits - d->sock_prev[w].retransmits;
		d->sock_prev[w] = c;
		h.ts_ns = now;
		for (unsigned int i = 0; i < RETRANS_SAMPLES; i++) {
			sum += r->n[i];
			if (r->n[i] && r->since_ns[i] < h.ts_ns)
				h.ts_ns = r->since_ns[i];
		}
		if (r->fired || !sum)
			continue;
		vigil_detect_retransmits(name, sum, 1000, d->cfg->workloads[w - 1].retransmits_per_s,
					 r->baseline, &det);
		if (det.cls == VIGIL_CLASS_NONE)
			continue;
		r->fired = true;
		record(d, &h, &det, name);
	}
	d->retrans_sample_ns = now;
	vigil_loop_timer(loop, RETRANS_SAMPLE_MS, sample_retransmits, d);
}

/* Each 1 s tick: the second's retransmits as a rate event, and into the moving baseline
 * (quiet seconds too, or a single storm would become the norm). */
static void retransmits_tick(struct daemon *d, uint64_t interval_ms)
{
	uint64_t now = vigil_mono_ns();

	for (unsigned int w = 1; w <= d->cfg->n_workloads && interval_ms; w++) {
		struct retrans_rate *r = &d->retrans[w];
		const char *name = d->cfg->workloads[w - 1].name;
		struct vigil_detection det;
		char detail[64];
		uint64_t n = r->second_n;

		r->baseline = vigil_ewma(r->baseline, n * 1000.0 / interval_ms);
		r->second_n = 0;
		r->fired = false;
		if (!n)
			continue;
		vigil_detect_retransmits(name, n, interval_ms, d->cfg->workloads[w - 1].retransmits_per_s,
					 0, &det);
		det.cls = VIGIL_CLASS_NONE; /* the record: judged by the sampler, not here */
		vigil_out_rate(d->out, name, &det, n, interval_ms);
		snprintf(detail, sizeof(detail), "%llu in %llu ms", (unsigned long long)n,
			 (unsigned long long)interval_ms);
		vigil_incidents_note(d->incidents, w, now, 0, "retransmits", detail);
	}
}

/*
 * latency_slo: for each timed (workload, syscall), the interval's histogram is the difference
 * of two reads of the kernel's monotonic counts; its p99 over budget for slo_intervals
 * intervals in a row is a fault.
 */
static void check_slo(struct daemon *d)
{
	int fd = vigil_probes_lat_hist_fd(d->probes);
	struct vigil_event_hdr h = { .ts_ns = vigil_mono_ns() };

	if (fd < 0 || !d->slo)
		return;
	for (unsigned int w = 1; w <= d->cfg->n_workloads; w++) {
		const struct vigil_workload *cw = &d->cfg->workloads[w - 1];

		for (unsigned int k = 0; k < cw->n_latency_syscalls; k++) {
			__u32 slot = vigil_workloads_lat_hist(d->wl, w, k);
			struct slo_state *st = &d->slo[slot];
			struct vigil_lat_hist now, delta;
			struct vigil_detection det;
			uint64_t p99;

			if (!slot || vigil_percpu_sum(fd, &slot, &now, sizeof(now)))
				continue;
			for (int i = 0; i < VIGIL_LAT_SLOTS; i++)
				delta.slots[i] = now.slots[i] - st->prev.slots[i];
			delta.count = now.count - st->prev.count;
			st->prev = now;
			if (delta.count < VIGIL_SLO_MIN_CALLS)
				continue; /* too few calls to judge: the streak neither grows nor ends */
			p99 = vigil_hist_p99_floor(delta.slots, VIGIL_LAT_SLOTS, delta.count);
			if (p99 <= cw->latency_budget_ms * 1000000ull) {
				st->over = 0;
				continue;
			}
			if (!st->over++)
				st->streak_ns = d->slo_prev_ns ? d->slo_prev_ns : h.ts_ns;
			if (st->over < cw->slo_intervals)
				continue;
			vigil_detect_slo(cw->name, cw->latency_syscalls[k], p99,
					 cw->latency_budget_ms, &det);
			/* Timed from the start of the streak: the SLO was breached from then on. */
			h.ts_ns = st->streak_ns;
			h.workload = w;
			record(d, &h, &det, cw->name);
		}
	}
	d->slo_prev_ns = vigil_mono_ns();
}

/* An incident leaves the live table: its last record says so (final), with its last count,
 * so that a reader of the journal knows it will not change any more. */
static void record_final(const struct vigil_incident *i, void *arg)
{
	struct daemon *d = arg;

	vigil_out_incident(d->out, i);
}

static void on_tick(struct vigil_loop *loop, void *arg)
{
	struct daemon *d = arg;
	uint64_t interval_ms;

	check_drops(d);
	drops_tick(d);
	interval_ms = (vigil_mono_ns() - d->sock_prev_ns) / 1000000;
	d->sock_prev_ns = vigil_mono_ns();
	conn_rates_tick(d, interval_ms);
	retransmits_tick(d, interval_ms);
	check_slo(d);
	vigil_daemon_sinks_tick(d);
	vigil_incidents_expire(d->incidents, vigil_mono_ns(), record_final, d);
	if (++d->ticks % REFRESH_TICKS == 0)
		vigil_workloads_refresh(d->wl);
	vigil_loop_timer(loop, TICK_MS, on_tick, d);
}

/* Block the signals the loop reads through a signalfd. Returns the fd or -errno. */
static int signals_fd(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static void teardown(struct daemon *d)
{
	vigil_ctl_close(d->ctl);
	/* The healer records its pending work, so it goes before the sinks. */
	vigil_healer_free(d->healer);
	vigil_knowledge_close(d->know);
	vigil_collector_free(d->coll);
	vigil_workloads_free(d->wl);
	vigil_probes_close(d->probes);
	vigil_incidents_free(d->incidents);
	/* Everything has been recorded: what the sinks have not written yet goes to their
	 * spools. */
	vigil_daemon_sinks_close(d);
	vigil_output_close(d->out);
	if (d->sigfd >= 0)
		close(d->sigfd);
	vigil_loop_free(d->loop);
	vigil_config_free(d->cfg);
	free(d->slo);
}

int vigil_daemon_run(const struct vigil_run_opts *o)
{
	struct daemon d = { .sigfd = -1, .started_mono_ns = vigil_mono_ns() };

	/* The kernel's counters start at zero with the maps: the first interval starts now. */
	d.sock_prev_ns = d.started_mono_ns;
	d.retrans_sample_ns = d.started_mono_ns;
	struct vigil_probe_opts po = {};
	struct vigil_output_opts so = {};
	const char *ctl_path = o->ctl ? o->ctl : VIGIL_CTL_PATH;
	char err[512] = "", progs[512], safe[256];
	unsigned int nprogs;
	int ret;

	/* 1. Configuration: refuse to start on any error, naming file, line and key. */
	if (o->config)
		ret = vigil_config_load(o->config, &d.cfg, err, sizeof(err));
	else
		ret = vigil_config_parse(vigil_default_config, strlen(vigil_default_config),
					 "<embedded>", &d.cfg, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "vigil: %s\n", err);
		return ret;
	}

	/* 2. Sinks first, so that everything after can be recorded. */
	so.node = d.cfg->node;
	so.journal = o->journal ? o->journal : d.cfg->journal;
	d.journal = so.journal;
	so.json_stdout = o->json;
	so.quiet = o->quiet;
	ret = vigil_output_open(&so, &d.out, err, sizeof(err));
	if (!ret)
		ret = vigil_daemon_sinks_open(&d, err, sizeof(err));
	/* The knowledge store: a malformed file is set aside (PATH.bad), said, and vigil starts
	 * with an empty store rather than not at all. */
	if (!ret)
		ret = vigil_knowledge_open(d.cfg->knowledge, 0, VIGIL_KNOW_SET_ASIDE, &d.know, err,
					   sizeof(err));
	if (ret)
		goto fail;
	if (err[0]) {
		fprintf(stderr, "vigil: warning: %s\n", err);
		err[0] = '\0';
	}

	/* 3. Kernel programs: load and attach, tp_btf or classic tracepoints. */
	po.observe_all = d.cfg->observe_all;
	po.force_classic = o->force_classic;
	po.ringbuf_bytes = o->ringbuf_kib * 1024;
	/* Sockets and latency serve workloads only; latency attaches nothing unless asked. */
	po.sockets = d.cfg->n_workloads > 0;
	for (unsigned int i = 0; i < d.cfg->n_workloads; i++)
		po.latency |= d.cfg->workloads[i].n_latency_syscalls > 0;
	ret = vigil_probes_open(&po, &d.probes, err, sizeof(err));
	if (ret)
		goto fail;

	/* 4. Workloads: match keys into the kernel, then find what already runs. */
	ret = vigil_workloads_new(d.cfg, d.probes, &d.wl, err, sizeof(err));
	if (ret)
		goto fail;

	if (po.latency) {
		d.slo = calloc(VIGIL_LAT_HISTS, sizeof(*d.slo));
		if (!d.slo) {
			ret = -ENOMEM;
			goto fail;
		}
	}

	/* 5. The loop, and the stages it drives. */
	ret = vigil_loop_new(&d.loop);
	if (!ret)
		ret = vigil_incidents_new(d.cfg->window_ms, &d.incidents);
	if (!ret)
		ret = vigil_healer_new(d.cfg, d.loop, d.out, watch_new_process, &d, &d.healer);
	if (!ret) {
		const struct vigil_healer_probe probe = { established, owns, &d };

		vigil_healer_set_probe(d.healer, &probe);
		vigil_healer_set_knowledge(d.healer, d.know);
	}
	if (!ret)
		ret = vigil_collector_new(d.loop, vigil_probes_ringbuf_fd(d.probes), on_event, &d,
					  &d.coll);
	if (ret) {
		snprintf(err, sizeof(err), "setting up the event loop: %s", strerror(-ret));
		goto fail;
	}
	d.sigfd = signals_fd();
	ret = d.sigfd < 0 ? d.sigfd : vigil_loop_add_fd(d.loop, d.sigfd, EPOLLIN, on_signal, &d);
	if (!ret && vigil_loop_timer(d.loop, TICK_MS, on_tick, &d) < 0)
		ret = -ENOMEM;
	if (!ret && po.sockets &&
	    vigil_loop_timer(d.loop, RETRANS_SAMPLE_MS, sample_retransmits, &d) < 0)
		ret = -ENOMEM;
	if (ret) {
		snprintf(err, sizeof(err), "signals: %s", strerror(-ret));
		goto fail;
	}
	if (ctl_path[0]) {
		ret = vigil_ctl_listen(d.loop, ctl_path, vigil_status_answer, &d, &d.ctl);
		if (ret) {
			snprintf(err, sizeof(err), "control socket %s: %s", ctl_path,
				 strerror(-ret));
			goto fail;
		}
	}

	for (enum vigil_family f = VIGIL_FAM_SOCKETS; f < VIGIL_FAM_MAX; f++)
		if (vigil_probes_error(d.probes, f))
			fprintf(stderr, "vigil: %s probes not attached, running without them: %s\n",
				vigil_family_name(f), vigil_probes_error(d.probes, f));
	nprogs = vigil_probes_attached(d.probes, VIGIL_FAM_MAX, progs, sizeof(progs));
	fprintf(stderr,
		"vigil: ready: node %s, config %s, %s probes (%u: %s), %u workloads, "
		"observe_all %s, journal %s, redis %s, control %s\n",
		d.cfg->node, d.cfg->source, vigil_probes_mode(d.probes), nprogs, progs,
		d.cfg->n_workloads, d.cfg->observe_all ? "on" : "off",
		so.journal && so.journal[0] ? so.journal : "off",
		d.cfg->redis_url ? vigil_redis_url_safe(d.cfg->redis_url, safe, sizeof(safe)) : "off",
		ctl_path[0] ? ctl_path : "off");

	/* 6. Run until SIGINT/SIGTERM; then detach everything (teardown). */
	ret = vigil_loop_run(d.loop);
	teardown(&d);
	return ret;
fail:
	if (err[0])
		fprintf(stderr, "vigil: %s\n", err);
	teardown(&d);
	return ret;
}
