/* SPDX-License-Identifier: Apache-2.0 */
/*
 * daemon_int: the running daemon's state, shared by daemon.c (the wiring and the loop's
 * callbacks) and status.c (the answers to `vigil status` and `vigil latency`). Private to
 * those two files.
 */
#ifndef VIGIL_DAEMON_INT_H
#define VIGIL_DAEMON_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/collector.h"
#include "config/config.h"
#include "control/ctl.h"
#include "heal/healer.h"
#include "detect/incidents.h"
#include "kernel/loader.h"
#include "core/loop.h"
#include "output/output.h"
#include "output/sink.h"
#include "detect/workloads.h"

#define TICK_MS 1000
#define REFRESH_TICKS 5
#define DEDUP_SLOTS 64
/* The derived classes' thresholds are per workload: `detect:` in the config (config.h). */
#define CONN_CLASSES 4 /* conn_refused, conn_timeout, conn_unreachable, conn_reset */
/* Per-workload drop counts kept for this many ticks, to tell whether an incident's window
 * lost events. Must cover VIGIL_CHAIN_NS. */
#define DROP_TICKS 16
/* latency_slo: each over-budget interval needs at least this many calls (fewer say nothing
 * about a p99). */
#define VIGIL_SLO_MIN_CALLS 20

/*
 * A sliding one-second window of one workload's connection errors of one class, in 100 ms
 * buckets, judged at each error; and the per-tick count that feeds its moving baseline.
 */
#define RATE_BUCKETS 10
#define RATE_BUCKET_NS 100000000ull

struct conn_rate {
	uint64_t bucket[RATE_BUCKETS];	   /* bucket number (ts / RATE_BUCKET_NS) held in the slot */
	uint64_t first_ns[RATE_BUCKETS];   /* kernel time of its first error */
	uint32_t n[RATE_BUCKETS];
	uint64_t tick_n;		   /* errors since the last tick */
	double baseline;		   /* errors a second, moving */
	bool fired;			   /* a rate incident was recorded since the last tick */
};

/*
 * A workload's retransmits: the kernel's monotonic counter sampled every RETRANS_SAMPLE_MS
 * (a few map lookups), the last second of samples judged at each sample, and the per-second
 * count for the baseline. The sample period bounds the detection time of this class.
 */
#define RETRANS_SAMPLE_MS 25
#define RETRANS_SAMPLES (1000 / RETRANS_SAMPLE_MS)

struct retrans_rate {
	uint64_t n[RETRANS_SAMPLES];	    /* retransmits in each of the last samples */
	uint64_t since_ns[RETRANS_SAMPLES]; /* start of each sample's period */
	unsigned int next;
	uint64_t second_n; /* since the last 1 s tick */
	double baseline;   /* per second, moving */
	bool fired;
};

/* The queued sinks (output/sink.h) the daemon can run, and what it last said of each. */
enum { DAEMON_SINK_REDIS, DAEMON_SINKS };

struct daemon_sink {
	struct vigil_sink *sink; /* NULL: not configured */
	uint64_t lost;		 /* records it will never deliver, as last reported */
	int state;		 /* enum vigil_sink_state, as last reported */
};

/* Per histogram slot: the counts at the last tick, and how many intervals in a row its p99
 * was over budget. */
struct slo_state {
	struct vigil_lat_hist prev;
	unsigned int over;
	uint64_t streak_ns; /* start of the first over-budget interval of the streak */
};

struct daemon {
	struct vigil_config *cfg;
	struct vigil_loop *loop;
	struct vigil_probes *probes;
	struct vigil_collector *coll;
	struct vigil_workloads *wl;
	struct vigil_incidents *incidents;
	struct vigil_healer *healer;
	struct vigil_output *out;
	struct daemon_sink sinks[DAEMON_SINKS]; /* [DAEMON_SINK_REDIS]: redis.url */
	struct vigil_knowledge *know; /* the knowledge store (cfg->knowledge) */
	int sigfd;
	unsigned int ticks;
	/* Recent exits (tgid, start): the classic exit hook can see a group's end twice. */
	struct {
		uint32_t tgid;
		uint64_t start_ns;
	} dedup[DEDUP_SLOTS];
	unsigned int dedup_next;
	struct vigil_ctl *ctl;
	const char *journal; /* the journal in use ("" when off): --journal beats the config */
	uint64_t started_mono_ns;
	uint64_t drops_seen[VIGIL_FAM_MAX];
	/* Socket counters at the previous tick, per workload: rates are differences. */
	struct vigil_sock_counts sock_prev[VIGIL_MAX_WORKLOADS + 1];
	uint64_t sock_prev_ns;
	/* Kernel times of each workload's last failed exits, for crash_loop. */
	uint64_t fails[VIGIL_MAX_WORKLOADS + 1][VIGIL_CRASH_LOOP_MAX];
	/* A ring of per-workload drop counts, one per tick, oldest at drop_next. */
	struct {
		uint64_t mono_ns;
		uint64_t drops[VIGIL_MAX_WORKLOADS + 1];
	} drop_hist[DROP_TICKS];
	unsigned int drop_next;
	struct retrans_rate retrans[VIGIL_MAX_WORKLOADS + 1];
	uint64_t retrans_sample_ns; /* when the counters were last sampled */
	/* Connection errors per workload and class: judged as they arrive, over a sliding second. */
	struct conn_rate conn[VIGIL_MAX_WORKLOADS + 1][CONN_CLASSES];
	uint64_t slo_prev_ns; /* the last latency_slo check */
	struct slo_state *slo; /* VIGIL_LAT_HISTS entries, when any workload times syscalls */
};

/* Answer a control-socket request ("status", "latency [WORKLOAD]"). See ctl.h. */
int vigil_status_answer(const char *cmd, const char *arg, struct vigil_json *out, void *ctx);
/* Sum of the kernel's socket counters of a workload into c. Returns 0 or -errno. */
int vigil_sock_counts(const struct daemon *d, unsigned int workload, struct vigil_sock_counts *c);

/* daemon_sinks.c: open the configured sinks (Redis) and hand them every record (0 or -errno,
 * err written); once a second, report their losses and state changes; at the end, stop
 * forwarding and close them (what they hold is written or spooled). */
int vigil_daemon_sinks_open(struct daemon *d, char *err, size_t errlen);
void vigil_daemon_sinks_tick(struct daemon *d);
void vigil_daemon_sinks_close(struct daemon *d);

#endif /* VIGIL_DAEMON_INT_H */


