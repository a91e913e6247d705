// SPDX-License-Identifier: Apache-2.0
/*
 * derived: crash loops, rate anomalies, latency SLOs and drop accounting (see derived.h).
 *
 * The kernel's counters are monotonic and never reset: every rate here is a difference between
 * two reads, so nothing that arrives during a read is lost. State is per configured workload,
 * sized from the config at start (index 0, unattributed, is kept for drops only).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/derived.h"

#define CONN_CLASSES 4 /* conn_refused, conn_timeout, conn_unreachable, conn_reset */
/* A sliding second of connection errors, in 100 ms buckets. */
#define RATE_BUCKETS 10
#define RATE_BUCKET_NS 100000000ull
#define RETRANS_SAMPLES (1000 / VIGIL_RETRANS_SAMPLE_MS)
/* Per-workload drop totals kept for this many ticks: must cover VIGIL_CHAIN_NS (10 s). */
#define DROP_TICKS 16
#define MAX_FAMILIES 8
#define MAX_MAPS 8

/* One workload's connection errors of one class: judged at each error over the last second;
 * the per-tick count feeds the moving baseline. */
struct conn_rate {
	uint64_t bucket[RATE_BUCKETS];	 /* bucket number (ts / RATE_BUCKET_NS) held in the slot */
	uint64_t first_ns[RATE_BUCKETS]; /* kernel time of its first error */
	uint32_t n[RATE_BUCKETS];
	uint64_t tick_n; /* errors since the last tick */
	double baseline; /* errors a second, moving */
	bool fired;	 /* a rate incident was recorded since the last tick */
};

/* One workload's retransmits: the last second of samples, and the second's count for the
 * baseline. The counts carry no times: a fault is timed from the start of the earliest sample
 * in the window that had any. */
struct retrans_rate {
	uint64_t prev; /* the counter at the last sample */
	uint64_t n[RETRANS_SAMPLES];
	uint64_t since_ns[RETRANS_SAMPLES]; /* each sample's first retransmit (or its start) */
	unsigned int next;
	uint64_t second_n;
	double baseline;
	bool fired;
};

/* One timed syscall of a workload: the counts at the last tick, and the over-budget streak. */
struct slo_state {
	struct vigil_lat_hist prev;
	unsigned int over;
	uint64_t streak_ns; /* start of the first over-budget interval of the streak */
};

struct wl_state {
	uint64_t fails[VIGIL_CRASH_LOOP_MAX]; /* kernel times of the last failed exits */
	struct conn_rate conn[CONN_CLASSES];
	struct retrans_rate retrans;
	struct slo_state *slo; /* one per latency.syscalls entry */
};

struct vigil_derived {
	const struct vigil_config *cfg;
	const struct vigil_derived_source *src;
	vigil_derived_fn fn;
	void *arg;
	struct wl_state *w;	 /* [1 .. n_workloads] */
	uint64_t tick_ns;	 /* the last tick (or start) */
	uint64_t sample_ns;	 /* the last retransmit sample (or start) */
	uint64_t retrans_alarms; /* the kernel's retransmit alarms (and counts found past one) */
	uint64_t retrans_early;	 /* ... that found the window short of the class: armed again */
	uint64_t slo_ns;	 /* the last latency_slo check, 0 before the first */
	uint64_t family_seen[MAX_FAMILIES];
	uint64_t full_seen[MAX_MAPS];
	bool full_episode[MAX_MAPS]; /* the map refused something in the last tick */
	/* A ring of per-workload drop totals, one per tick, oldest at drop_next. */
	struct {
		uint64_t mono_ns;
		uint64_t *drops; /* [0 .. n_workloads] */
	} drop_hist[DROP_TICKS];
	unsigned int drop_next;
};

static const struct vigil_workload *wl_cfg(const struct vigil_derived *d, unsigned int w)
{
	return &d->cfg->workloads[w - 1];
}

static unsigned int emit_fault(struct vigil_derived *d, const struct vigil_event_hdr *h,
			       const struct vigil_detection *det, const char *name)
{
	struct vigil_derived_out o = {
	    .kind = VIGIL_DERIVED_FAULT, .hdr = *h, .det = *det, .workload = name};

	d->fn(&o, d->arg);
	return 1;
}

int vigil_derived_new(const struct vigil_config *cfg, const struct vigil_derived_source *src,
		      vigil_derived_fn fn, void *arg, uint64_t now_ns, struct vigil_derived **out)
{
	struct vigil_derived *d = calloc(1, sizeof(*d));
	unsigned int n = cfg->n_workloads;

	if (!d)
		return -ENOMEM;
	d->cfg = cfg;
	d->src = src;
	d->fn = fn;
	d->arg = arg;
	d->tick_ns = d->sample_ns = now_ns;
	d->w = calloc(n + 1, sizeof(*d->w));
	if (!d->w)
		goto fail;
	for (unsigned int k = 0; k < DROP_TICKS; k++) {
		d->drop_hist[k].drops = calloc(n + 1, sizeof(uint64_t));
		if (!d->drop_hist[k].drops)
			goto fail;
	}
	for (unsigned int w = 1; w <= n; w++) {
		unsigned int ns = wl_cfg(d, w)->n_latency_syscalls;

		if (ns && !(d->w[w].slo = calloc(ns, sizeof(*d->w[w].slo))))
			goto fail;
		/* Differences from now on: what the counters held before is not this run's. */
		if (src->retransmits)
			src->retransmits(src->arg, w, &d->w[w].retrans.prev);
	}
	for (unsigned int f = 0; f < src->n_families && f < MAX_FAMILIES; f++) {
		const char *name;

		src->family_drops(src->arg, f, &d->family_seen[f], &name);
	}
	for (unsigned int m = 0; src->map_full && m < src->n_maps && m < MAX_MAPS; m++) {
		const char *family, *map;

		src->map_full(src->arg, m, &d->full_seen[m], &family, &map);
	}
	*out = d;
	return 0;
fail:
	vigil_derived_free(d);
	return -ENOMEM;
}

void vigil_derived_free(struct vigil_derived *d)
{
	if (!d)
		return;
	for (unsigned int w = 0; d->w && w <= d->cfg->n_workloads; w++)
		free(d->w[w].slo);
	for (unsigned int k = 0; k < DROP_TICKS; k++)
		free(d->drop_hist[k].drops);
	free(d->w);
	free(d);
}

/* --- per event ---------------------------------------------------------------------------- */

/* A failed exit: the last crash_loop_exits of them within crash_loop_window make a crash_loop
 * (and every further one inside the window counts it again). */
static unsigned int crash_loop(struct vigil_derived *d, const struct vigil_event_hdr *h,
			       const char *name)
{
	const struct vigil_workload *w = wl_cfg(d, h->workload);
	uint64_t *f = d->w[h->workload].fails;
	unsigned int n = w->crash_loop_exits;
	struct vigil_detection det;

	memmove(f, f + 1, (n - 1) * sizeof(*f));
	f[n - 1] = h->ts_ns;
	if (!f[0] || h->ts_ns - f[0] > w->crash_loop_window_ms * 1000000ull)
		return 0;
	vigil_detect_crash_loop(name, n, w->crash_loop_window_ms, &det);
	return emit_fault(d, h, &det, name);
}

/* One more connection error: its class's count over the last second against the floor and the
 * moving baseline. An anomaly is a fault at once — at most one a tick — timed from the first
 * error in the window. */
static unsigned int conn_rate(struct vigil_derived *d, const struct vigil_event_hdr *h,
			      enum vigil_class cls, const char *name)
{
	struct conn_rate *r = &d->w[h->workload].conn[cls - VIGIL_CLASS_CONN_REFUSED];
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
		return 0;
	for (unsigned int i = 0; i < RATE_BUCKETS; i++) {
		if (!r->n[i] || r->bucket[i] + RATE_BUCKETS <= b)
			continue; /* empty, or older than a second */
		sum += r->n[i];
		if (r->first_ns[i] < first)
			first = r->first_ns[i];
	}
	vigil_detect_conn_rate(name, cls, sum, 1000, wl_cfg(d, h->workload)->conn_errors_per_s,
			       r->baseline, &det);
	if (det.cls == VIGIL_CLASS_NONE)
		return 0;
	r->fired = true;
	rh.ts_ns = first;
	return emit_fault(d, &rh, &det, name);
}

unsigned int vigil_derived_event(struct vigil_derived *d, const struct vigil_event_hdr *h,
				 const struct vigil_detection *det, const char *name)
{
	if (!h->workload || h->workload > d->cfg->n_workloads)
		return 0;
	if (det->cls == VIGIL_CLASS_CRASH || det->cls == VIGIL_CLASS_OOM_KILL ||
	    det->cls == VIGIL_CLASS_EXIT_NONZERO)
		return crash_loop(d, h, name);
	if (det->cls >= VIGIL_CLASS_CONN_REFUSED && det->cls <= VIGIL_CLASS_CONN_RESET)
		return conn_rate(d, h, det->cls, name);
	return 0;
}

/* --- every sample ------------------------------------------------------------------------- */

/* The retransmits in the window that ends at the last sample. */
static uint64_t retrans_window(const struct retrans_rate *r)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; i < RETRANS_SAMPLES; i++)
		sum += r->n[i];
	return sum;
}

/*
 * The fewest retransmits in a second that make the class: the floor, and more than
 * VIGIL_ANOMALY_FACTOR times the baseline (vigil_detect_retransmits' two tests).
 */
static uint64_t retrans_needed(const struct vigil_derived *d, unsigned int w)
{
	double base = VIGIL_ANOMALY_FACTOR * d->w[w].retrans.baseline;
	uint64_t need = wl_cfg(d, w)->retransmits_per_s;

	if (base > (double)need)
		need = (uint64_t)base + ((double)(uint64_t)base < base);
	return need ? need : 1;
}

static unsigned int retrans_alarm(struct vigil_derived *d, unsigned int w, uint64_t ts_ns);

/*
 * Arm the kernel's alarm at the count where the window (as the last sample left it) would hold
 * enough: its retransmits before the window, plus the fewest that make the class. The window
 * only moves on, so the real crossing is at or after that count: an early alarm costs one look,
 * never a late detection. Disarmed while the class has fired this second. A count already
 * past the alarm when it is armed is the alarm going off now.
 */
static unsigned int retrans_arm(struct vigil_derived *d, unsigned int w, uint64_t now_ns)
{
	const struct retrans_rate *r = &d->w[w].retrans;
	uint64_t at = 0, now_count;

	if (!d->src->retrans_arm)
		return 0;
	if (!r->fired) {
		at = r->prev - retrans_window(r) + retrans_needed(d, w);
		if (at <= r->prev)
			at = r->prev + 1;
	}
	if (d->src->retrans_arm(d->src->arg, w, at, &now_count) || !at || now_count < at)
		return 0;
	return retrans_alarm(d, w, now_ns);
}

/* The kernel's alarm (or a count found past it): judge the window with what came since the
 * last sample, without moving the window. The fault is timed at the crossing. */
static unsigned int retrans_alarm(struct vigil_derived *d, unsigned int w, uint64_t ts_ns)
{
	struct retrans_rate *r = &d->w[w].retrans;
	struct vigil_event_hdr h = {.workload = w, .ts_ns = ts_ns};
	const char *name = wl_cfg(d, w)->name;
	struct vigil_detection det;
	uint64_t total, first = 0;

	d->retrans_alarms++;
	if (r->fired || d->src->retransmits(d->src->arg, w, &total) || total < r->prev)
		return 0;
	/* Timed from the first retransmit of the window: the samples' and the one since. */
	if (d->src->retrans_first && !d->src->retrans_first(d->src->arg, w, false, &first) &&
	    first && first < h.ts_ns)
		h.ts_ns = first;
	else if (total > r->prev && d->sample_ns < h.ts_ns)
		h.ts_ns = d->sample_ns;
	for (unsigned int i = 0; i < RETRANS_SAMPLES; i++)
		if (r->n[i] && r->since_ns[i] < h.ts_ns)
			h.ts_ns = r->since_ns[i];
	vigil_detect_retransmits(name, retrans_window(r) + (total - r->prev), 1000,
				 wl_cfg(d, w)->retransmits_per_s, r->baseline, &det);
	if (det.cls == VIGIL_CLASS_NONE) {
		/* Early (the window moved on since it was armed): armed again, past this count. */
		d->retrans_early++;
		if (d->src->retrans_arm) {
			uint64_t at = total + 1, now_count;

			d->src->retrans_arm(d->src->arg, w, at, &now_count);
		}
		return 0;
	}
	r->fired = true;
	if (d->src->retrans_arm) {
		uint64_t now_count;

		d->src->retrans_arm(d->src->arg, w, 0, &now_count);
	}
	return emit_fault(d, &h, &det, name);
}

unsigned int vigil_derived_retrans(struct vigil_derived *d, unsigned int workload,
				   uint64_t kernel_ns)
{
	if (!workload || workload > d->cfg->n_workloads || !d->src->retransmits)
		return 0;
	return retrans_alarm(d, workload, kernel_ns);
}

unsigned int vigil_derived_sample(struct vigil_derived *d, uint64_t now_ns)
{
	unsigned int found = 0;

	for (unsigned int w = 1; w <= d->cfg->n_workloads && d->src->retransmits; w++) {
		struct retrans_rate *r = &d->w[w].retrans;
		struct vigil_event_hdr h = {.workload = w, .ts_ns = now_ns};
		const char *name = wl_cfg(d, w)->name;
		struct vigil_detection det;
		uint64_t total, sum = 0;

		uint64_t first = 0;

		/* Its first retransmit's time taken before the count: one that comes between the
		 * two is counted here and timed in the next sample, never timed before it came. */
		if (d->src->retrans_first)
			d->src->retrans_first(d->src->arg, w, true, &first);
		if (d->src->retransmits(d->src->arg, w, &total))
			continue;
		r->n[r->next] = total - r->prev;
		r->since_ns[r->next] = first && first < now_ns ? first : d->sample_ns;
		r->next = (r->next + 1) % RETRANS_SAMPLES;
		r->second_n += total - r->prev;
		r->prev = total;
		for (unsigned int i = 0; i < RETRANS_SAMPLES; i++) {
			sum += r->n[i];
			if (r->n[i] && r->since_ns[i] < h.ts_ns)
				h.ts_ns = r->since_ns[i];
		}
		if (r->fired || !sum) {
			found += retrans_arm(d, w, now_ns);
			continue;
		}
		vigil_detect_retransmits(name, sum, 1000, wl_cfg(d, w)->retransmits_per_s,
					 r->baseline, &det);
		if (det.cls == VIGIL_CLASS_NONE) {
			found += retrans_arm(d, w, now_ns);
			continue;
		}
		r->fired = true;
		found += emit_fault(d, &h, &det, name);
		found += retrans_arm(d, w, now_ns);
	}
	d->sample_ns = now_ns;
	return found;
}

/* --- every tick --------------------------------------------------------------------------- */

/* Each family's records lost to a full ring buffer since the last tick: a health finding. */
static unsigned int family_drops(struct vigil_derived *d)
{
	unsigned int found = 0;

	for (unsigned int f = 0; f < d->src->n_families && f < MAX_FAMILIES; f++) {
		struct vigil_derived_out o = {.kind = VIGIL_DERIVED_HEALTH};
		uint64_t total;

		if (d->src->family_drops(d->src->arg, f, &total, &o.workload) ||
		    total == d->family_seen[f])
			continue;
		o.count = total - d->family_seen[f];
		o.total = total;
		d->family_seen[f] = total;
		d->fn(&o, d->arg);
		found++;
	}
	return found;
}

/*
 * Maps that refused entries since the last tick: a health finding when an episode starts (the
 * tick before refused nothing), so that a map full for an hour says so once, not 3,600 times.
 * The counters still say how many, in status.
 */
static unsigned int maps_full(struct vigil_derived *d)
{
	unsigned int found = 0;

	for (unsigned int m = 0; d->src->map_full && m < d->src->n_maps && m < MAX_MAPS; m++) {
		struct vigil_derived_out o = {.kind = VIGIL_DERIVED_FULL};
		bool refusing;
		uint64_t total;

		if (d->src->map_full(d->src->arg, m, &total, &o.workload, &o.map))
			continue;
		refusing = total != d->full_seen[m];
		if (refusing && !d->full_episode[m]) {
			o.count = total - d->full_seen[m];
			o.total = total;
			d->fn(&o, d->arg);
			found++;
		}
		d->full_episode[m] = refusing;
		d->full_seen[m] = total;
	}
	return found;
}

/* The workloads' drop totals now, into the ring. */
static void drops_tick(struct vigil_derived *d, uint64_t now_ns)
{
	unsigned int i = d->drop_next;

	d->drop_hist[i].mono_ns = now_ns;
	for (unsigned int w = 0; w <= d->cfg->n_workloads; w++)
		if (d->src->workload_drops(d->src->arg, w, &d->drop_hist[i].drops[w]))
			d->drop_hist[i].drops[w] = 0;
	d->drop_next = (i + 1) % DROP_TICKS;
}

void vigil_derived_retrans_stats(const struct vigil_derived *d, uint64_t *alarms, uint64_t *early)
{
	*alarms = d->retrans_alarms;
	*early = d->retrans_early;
}

uint64_t vigil_derived_lost_since(const struct vigil_derived *d, unsigned int workload,
				  uint64_t since_ns)
{
	uint64_t now = 0, then = 0;

	if (workload > d->cfg->n_workloads || d->src->workload_drops(d->src->arg, workload, &now) ||
	    !now)
		return 0;
	for (unsigned int k = 0; k < DROP_TICKS; k++) {
		unsigned int i = (d->drop_next + k) % DROP_TICKS; /* oldest first */

		if (d->drop_hist[i].mono_ns && d->drop_hist[i].mono_ns <= since_ns)
			then = d->drop_hist[i].drops[workload];
	}
	return now - then;
}

/* Fold the tick's connection errors into each baseline (quiet ticks too). */
static void conn_rates_tick(struct vigil_derived *d, uint64_t interval_ms)
{
	for (unsigned int w = 1; w <= d->cfg->n_workloads; w++) {
		for (unsigned int k = 0; k < CONN_CLASSES; k++) {
			struct conn_rate *r = &d->w[w].conn[k];

			r->baseline = vigil_ewma(r->baseline, r->tick_n * 1000.0 / interval_ms);
			r->tick_n = 0;
			r->fired = false;
		}
	}
}

/* The second's retransmits as a rate event, and into the moving baseline (quiet seconds too,
 * or a single storm would become the norm). */
static unsigned int retransmits_tick(struct vigil_derived *d, uint64_t interval_ms, uint64_t now_ns)
{
	unsigned int found = 0;

	for (unsigned int w = 1; w <= d->cfg->n_workloads; w++) {
		struct retrans_rate *r = &d->w[w].retrans;
		struct vigil_derived_out o = {.kind = VIGIL_DERIVED_RATE,
					      .interval_ms = interval_ms};
		uint64_t n = r->second_n;

		r->baseline = vigil_ewma(r->baseline, n * 1000.0 / interval_ms);
		r->second_n = 0;
		r->fired = false;
		/* A new second, a new baseline: the alarm where they now put the class. */
		found += retrans_arm(d, w, now_ns);
		if (!n)
			continue;
		o.workload = wl_cfg(d, w)->name;
		o.hdr.workload = w;
		o.count = n;
		vigil_detect_retransmits(o.workload, n, interval_ms,
					 wl_cfg(d, w)->retransmits_per_s, 0, &o.det);
		o.det.cls = VIGIL_CLASS_NONE; /* an event: the sampler judges the fault */
		d->fn(&o, d->arg);
		found++;
	}
	return found;
}

/* latency_slo: each interval's histogram is the difference of two reads of the kernel's
 * counts; its p99 over budget for slo_intervals intervals in a row is a fault, timed from the
 * start of the streak. */
static unsigned int check_slo(struct vigil_derived *d, uint64_t now_ns)
{
	unsigned int found = 0;

	for (unsigned int w = 1; w <= d->cfg->n_workloads && d->src->latency; w++) {
		const struct vigil_workload *cw = wl_cfg(d, w);

		for (unsigned int k = 0; k < cw->n_latency_syscalls; k++) {
			struct slo_state *st = &d->w[w].slo[k];
			struct vigil_event_hdr h = {.workload = w};
			struct vigil_lat_hist now, delta;
			struct vigil_detection det;
			uint64_t p99;

			if (d->src->latency(d->src->arg, w, k, &now))
				continue;
			for (int i = 0; i < VIGIL_LAT_SLOTS; i++)
				delta.slots[i] = now.slots[i] - st->prev.slots[i];
			delta.count = now.count - st->prev.count;
			st->prev = now;
			if (delta.count < VIGIL_SLO_MIN_CALLS)
				continue; /* too few calls to judge: the streak neither grows nor
					     ends */
			p99 = vigil_hist_p99_floor(delta.slots, VIGIL_LAT_SLOTS, delta.count);
			if (p99 <= cw->latency_budget_ms * 1000000ull) {
				st->over = 0;
				continue;
			}
			if (!st->over++)
				st->streak_ns = d->slo_ns ? d->slo_ns : now_ns;
			if (st->over < cw->slo_intervals)
				continue;
			vigil_detect_slo(cw->name, cw->latency_syscalls[k], p99,
					 cw->latency_budget_ms, &det);
			h.ts_ns = st->streak_ns;
			found += emit_fault(d, &h, &det, cw->name);
		}
	}
	d->slo_ns = now_ns;
	return found;
}

unsigned int vigil_derived_tick(struct vigil_derived *d, uint64_t now_ns)
{
	uint64_t interval_ms = (now_ns - d->tick_ns) / 1000000;
	unsigned int found;

	found = family_drops(d);
	found += maps_full(d);
	drops_tick(d, now_ns);
	d->tick_ns = now_ns;
	if (interval_ms) {
		conn_rates_tick(d, interval_ms);
		found += retransmits_tick(d, interval_ms, now_ns);
	}
	return found + check_slo(d, now_ns);
}
