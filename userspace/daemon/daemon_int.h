/* SPDX-License-Identifier: Apache-2.0 */
/*
 * daemon_int: the running daemon — the stages it built and the few things it keeps itself.
 * Shared by daemon.c (building and tearing down), daemon_route.c (the loop's callbacks), adapters.c
 * (the kernel as the stages read it), status.c (the control socket's answers) and daemon_sinks.c
 * (the queued sinks' glue). Private to those files. Allocated on the heap by vigil_daemon_run():
 * every table of state belongs to the stage that keeps it.
 */
#ifndef VIGIL_DAEMON_INT_H
#define VIGIL_DAEMON_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/privileges.h"
#include "config/config.h"
#include "control/ctl.h"
#include "control/history.h"
#include "core/loop.h"
#include "detect/derived.h"
#include "detect/incidents.h"
#include "detect/pods.h"
#include "detect/trace.h"
#include "detect/workloads.h"
#include "heal/healer.h"
#include "heal/state.h"
#include "kernel/collector.h"
#include "kernel/loader.h"
#include "output/output.h"
#include "output/redis.h"
#include "output/sink.h"
#include "output/tally.h"

#define TICK_MS VIGIL_DERIVED_TICK_MS
#define REFRESH_TICKS 5 /* pidfiles, executables and cgroup globs: every 5 ticks */

/* The queued sinks (output/sink.h) the daemon can run, and what it last said of each. */
enum { DAEMON_SINK_REDIS, DAEMON_SINK_POSTGRES, DAEMON_SINK_OTLP, DAEMON_SINKS };

struct daemon_sink {
	struct vigil_sink *sink; /* NULL: not configured */
	uint64_t lost;		 /* records it will never deliver, as last reported */
	int state;		 /* enum vigil_sink_state, as last reported */
};

struct daemon {
	struct vigil_config *cfg;
	struct vigil_loop *loop;
	struct vigil_probes *probes;
	struct vigil_collector *coll;
	struct vigil_workloads *wl;
	struct vigil_tracer *tracer; /* trace context of faults (trace.http, trace.env) */
	struct vigil_pods *pods;     /* the pods of processes (k8s); NULL: off */
	struct vigil_derived *derived;
	struct vigil_derived_source src;
	struct vigil_incidents *incidents;
	struct vigil_healer *healer;
	struct vigil_knowledge *know;		 /* the knowledge store (cfg->knowledge) */
	struct vigil_state_file *state;		 /* the healer's durable state (cfg->state) */
	struct vigil_heal_state loaded;		 /* ... as read at start, until resumed */
	const char *state_from;			 /* "file", "redis", or NULL: nothing resumed */
	struct vigil_healer_restored restored;	 /* what was resumed */
	struct vigil_fleet *fleet;		 /* the fleet's knowledge (with redis.url) */
	struct vigil_fleet_reader *fleet_reader; /* ... its thread */
	struct vigil_output *out;
	struct daemon_sink sinks[DAEMON_SINKS];	 /* redis.url, postgres.url, otlp.endpoint */
	struct vigil_redis_watch *watch;	 /* approvals stream, busy keys (redis.url) */
	int busy_index[VIGIL_MAX_WORKLOADS + 1]; /* workload -> its busy key in watch, or -1 */
	uint64_t approvals_ignored;		 /* stream decisions about no waiting incident */
	struct vigil_ctl *ctl;
	struct vigil_history_live history; /* the "incidents" and "incident" queries' context */
	struct vigil_timer tick, sample;
	unsigned int ticks;
	uint64_t last_tick_ns;	      /* the loop's clock at the last tick (for /healthz) */
	struct vigil_http *http;      /* metrics.listen's endpoint; NULL: none */
	struct daemon_alerts *alerts; /* POST /v1/alerts (daemon_alerts.c); NULL: no endpoint */
	struct vigil_tally tally;     /* incidents, heals and their times, for /metrics */
	const char *journal; /* the journal in use ("" when off): --journal beats the config */
	uint64_t started_mono_ns;
	struct vigil_privs privs; /* what the loop's thread kept of root (core/privileges.h) */
};

/* daemon_route.c: the loop's callbacks, registered by daemon.c — a valid record from the ring
 * buffer (the collector's), a finding of the derived stage, a signal (SIGCHLD: reap; SIGHUP:
 * reopen the journal; SIGINT, SIGTERM: stop), the derived stage's sample and the 1 s tick.
 * Each argument is the struct daemon. */
struct vigil_derived_out;
void vigil_daemon_on_event(const struct vigil_event_hdr *h, void *arg);
void vigil_daemon_on_derived(const struct vigil_derived_out *o, void *arg);
void vigil_daemon_on_signal(struct vigil_loop *loop, int signo, void *arg);
void vigil_daemon_on_sample(struct vigil_loop *loop, void *arg);
void vigil_daemon_on_tick(struct vigil_loop *loop, void *arg);

/* adapters.c: the derived stage's source, the incidents' lost hook and the healer's probe,
 * read from d's probes, workloads and derived stage; and the healer's watch callback. */
void vigil_daemon_adapters(struct daemon *d, struct vigil_derived_source *src,
			   struct vigil_incidents_opts *io, struct vigil_healer_probe *probe);
int vigil_daemon_watch_new(unsigned int workload, pid_t pid, void *arg);

/* daemon_watch.c: start the Redis watch (approvals from P:N:approvals to the healer, the
 * workloads' busy keys) when there is a redis.url. Returns 0 or -errno (err written). The
 * healer probe's busy(): 1 set, 0 absent, -1 unknown. The "redis_watch" status object. */
int vigil_daemon_watch_open(struct daemon *d, char *err, size_t errlen);
/* daemon_state.c: the config's Redis as every connection of vigil's needs it (URL, user,
 * password, prefix, node); the sink adds its spool and stream options. */
struct vigil_redis_opts vigil_daemon_redis_opts(const struct vigil_config *c);
int vigil_daemon_busy(unsigned int workload, void *arg);
void vigil_daemon_watch_status_json(const struct daemon *d, struct vigil_json *j);

/* status.c: the "ready" line on stderr. */
void vigil_daemon_say_ready(const struct daemon *d, const char *ctl_path);
/* status.c: register the control socket's handlers (status, latency, incidents, incident,
 * approve). Returns 0 or -errno. */
int vigil_daemon_handlers(struct daemon *d);

/* daemon_http.c: the HTTP endpoint (metrics.listen) and its routes: /healthz, /readyz,
 * /metrics, POST /v1/alerts (daemon_alerts.c). 0 (also when there is no metrics.listen) or -errno
 * with err written. */
struct vigil_http_req;
struct vigil_http_resp;
int vigil_daemon_http_open(struct daemon *d, char *err, size_t errlen);
/* daemon_metrics.c: /metrics, the Prometheus text of every stage's numbers. */
void vigil_daemon_metrics(const struct vigil_http_req *req, struct vigil_http_resp *r, void *ctx);

/* daemon_record.c: count a fault, from wherever it was found: join or open its incident
 * (recorded, tallied), let the healer decide. Returns the incident, or NULL (errno ENOSPC,
 * ENOMEM). And the incidents' notify: each incident record (its recovery tallied). */
struct vigil_incident *vigil_daemon_record(struct daemon *d, const struct vigil_event_hdr *h,
					   const struct vigil_detection *det, const char *name);
void vigil_daemon_record_incident(const struct vigil_incident *i, void *arg);

/* daemon_alerts.c: POST /v1/alerts on the endpoint (the token read, the route added; 0 or
 * -errno with err written); free its state; its counters (zero without an endpoint); the
 * "alerts" status object (none without an endpoint). */
struct vigil_alerts_stats;
int vigil_daemon_alerts_open(struct daemon *d, char *err, size_t errlen);
void vigil_daemon_alerts_close(struct daemon *d);
void vigil_daemon_alerts_stats(const struct daemon *d, struct vigil_alerts_stats *st);
void vigil_daemon_alerts_status_json(const struct daemon *d, struct vigil_json *j);

/* daemon_sinks.c: open the configured sinks (Redis) and hand them every record (0 or -errno,
 * err written); once a second, report their losses and state changes; at the end, stop
 * forwarding and close them (what they hold is written or spooled). */
int vigil_daemon_sinks_open(struct daemon *d, char *err, size_t errlen);
void vigil_daemon_sinks_tick(struct daemon *d);
void vigil_daemon_sinks_close(struct daemon *d);
/* Each sink's status object ("redis"), into j. */
void vigil_daemon_sinks_status_json(const struct daemon *d, struct vigil_json *j);

/* daemon_state.c: open the state file (0 or -errno, err written; a malformed file is set aside
 * and said), or read this node's state from Redis when there is none (Redis down: said, and
 * the start goes on), and with Redis start the fleet's knowledge cache and its reader; once
 * the healer is built, hand it the file and the cache, and resume what was read; close; the
 * "state" and "fleet" status objects. */
int vigil_daemon_state_open(struct daemon *d, char *err, size_t errlen);
void vigil_daemon_state_restore(struct daemon *d);
void vigil_daemon_state_close(struct daemon *d);
void vigil_daemon_state_status_json(const struct daemon *d, struct vigil_json *j);

#endif /* VIGIL_DAEMON_INT_H */
