// SPDX-License-Identifier: Apache-2.0
/*
 * daemon_metrics: /metrics, every stage's numbers in the Prometheus text format. Names follow
 * Prometheus' conventions (vigil_ prefix, base units: seconds and bytes, _total on counters)
 * and every label is bounded by the config: workload, class, action, outcome, syscall, probe
 * family, sink — never a pid, an incident id or a trace id. README.md "Metrics" lists them.
 */
#include <stdio.h>
#include <string.h>

#include "control/endpoint.h"
#include "control/prom.h"
#include "daemon/daemon_int.h"
#include "detect/alerts.h"
#include "heal/state.h"
#include "kernel/syscalls.h"

/* The label a workload index takes: its name, or "-" for a process no workload matches. */
static const char *wl_name(const struct daemon *d, unsigned int w)
{
	return w && w <= d->cfg->n_workloads ? d->cfg->workloads[w - 1].name : "-";
}

static void build_info(const struct daemon *d, struct vigil_http_resp *r)
{
	vigil_prom_family(r, "vigil_build_info", "gauge",
			  "Always 1: the running vigil's version and node.");
	vigil_prom_u64(r, "vigil_build_info",
		       (const char *const[]){"version", VIGIL_VERSION, "node", d->cfg->node, NULL},
		       1);
	vigil_prom_family(r, "vigil_uptime_seconds", "gauge", "Seconds since vigil started.");
	vigil_prom_f64(r, "vigil_uptime_seconds", NULL,
		       (double)(vigil_mono_ns() - d->started_mono_ns) / 1e9);
}

static void incidents(const struct daemon *d, struct vigil_http_resp *r)
{
	const struct vigil_tally *t = &d->tally;
	struct vigil_incidents_stats st;

	vigil_prom_family(r, "vigil_incidents_total", "counter",
			  "Incidents opened, by workload and fault class.");
	for (unsigned int w = 0; w <= d->cfg->n_workloads; w++)
		for (unsigned int c = 1; c < VIGIL_CLASS_MAX; c++)
			if (t->opened[w][c] || w)
				vigil_prom_u64(r, "vigil_incidents_total",
					       (const char *const[]){"workload", wl_name(d, w),
								     "class", vigil_class_name(c),
								     NULL},
					       t->opened[w][c]);
	vigil_prom_family(r, "vigil_incidents_resolved_total", "counter",
			  "Incidents resolved (healed and verified), by workload and class.");
	for (unsigned int w = 0; w <= d->cfg->n_workloads; w++)
		for (unsigned int c = 1; c < VIGIL_CLASS_MAX; c++)
			if (t->resolved[w][c] || w)
				vigil_prom_u64(r, "vigil_incidents_resolved_total",
					       (const char *const[]){"workload", wl_name(d, w),
								     "class", vigil_class_name(c),
								     NULL},
					       t->resolved[w][c]);
	vigil_incidents_stats(d->incidents, &st);
	vigil_prom_family(r, "vigil_incidents_live", "gauge",
			  "Incidents vigil tracks now (open, healing, awaiting approval...).");
	vigil_prom_u64(r, "vigil_incidents_live", NULL, vigil_incidents_count(d->incidents));
	vigil_prom_family(r, "vigil_incidents_live_max", "gauge", "The live incidents' cap.");
	vigil_prom_u64(r, "vigil_incidents_live_max", NULL, st.max);
	vigil_prom_family(r, "vigil_incidents_evicted_total", "counter",
			  "Incidents that left a full table for a newer one.");
	vigil_prom_u64(r, "vigil_incidents_evicted_total", NULL, st.evicted);
	vigil_prom_family(r, "vigil_faults_uncounted_total", "counter",
			  "Faults not counted in any incident: the table was full of held ones.");
	vigil_prom_u64(r, "vigil_faults_uncounted_total", NULL, st.dropped);

	vigil_prom_family(r, "vigil_detection_seconds", "histogram",
			  "From the kernel's first event of an incident to vigil opening it.");
	for (unsigned int c = 1; c < VIGIL_CLASS_MAX; c++)
		vigil_prom_hist(r, "vigil_detection_seconds",
				(const char *const[]){"class", vigil_class_name(c), NULL},
				vigil_tally_detect_le, t->detect[c].buckets,
				VIGIL_TALLY_DETECT_BUCKETS, t->detect[c].count,
				(double)t->detect[c].sum_ns / 1e9);
	vigil_prom_family(r, "vigil_recovery_seconds", "histogram",
			  "From an incident opening to its heal verified (resolved).");
	for (unsigned int c = 1; c < VIGIL_CLASS_MAX; c++)
		vigil_prom_hist(r, "vigil_recovery_seconds",
				(const char *const[]){"class", vigil_class_name(c), NULL},
				vigil_tally_recover_le, t->recover[c].buckets,
				VIGIL_TALLY_RECOVER_BUCKETS, t->recover[c].count,
				(double)t->recover[c].sum_ns / 1e9);
}

static void heals(const struct daemon *d, struct vigil_http_resp *r)
{
	const struct vigil_tally *t = &d->tally;
	struct vigil_heal_state s = {};

	vigil_prom_family(r, "vigil_heal_actions_total", "counter",
			  "Audited heal steps, by workload, action (the rule's name) and outcome "
			  "(intent, success, failed, retry, deferred, escalated, skipped, ...).");
	for (unsigned int k = 0; k < t->n_actions; k++)
		vigil_prom_u64(r, "vigil_heal_actions_total",
			       (const char *const[]){"workload", wl_name(d, t->actions[k].workload),
						     "action", t->actions[k].action, "outcome",
						     t->actions[k].outcome, NULL},
			       t->actions[k].n);
	vigil_prom_family(r, "vigil_heal_action_keys_unkept_total", "counter",
			  "Heal steps not counted above: too many distinct label sets.");
	vigil_prom_u64(r, "vigil_heal_action_keys_unkept_total", NULL, t->actions_unkept);

	/* One series per state, the one it is in at 1 (an enum as Prometheus has them). */
	vigil_prom_family(r, "vigil_breaker_state", "gauge",
			  "Each workload's circuit breaker: 1 for the state it is in.");
	vigil_healer_snapshot(d->healer, &s);
	for (unsigned int w = 1; w <= d->cfg->n_workloads; w++) {
		static const char *const names[] = {"closed", "open", "half_open"};
		enum vigil_breaker_state b = VIGIL_BREAKER_CLOSED;

		for (size_t k = 0; k < s.n_wl; k++)
			if (!strcmp(s.wl[k].name, wl_name(d, w)))
				b = s.wl[k].breaker;
		for (unsigned int k = 0; k < 3; k++)
			vigil_prom_u64(r, "vigil_breaker_state",
				       (const char *const[]){"workload", wl_name(d, w), "state",
							     names[k], NULL},
				       b == k);
	}
	vigil_state_clear(&s);
}

static void kernel(const struct daemon *d, struct vigil_http_resp *r)
{
	/* The kernel's per-family counters, as vigil_probes_stats() sums them. */
	static const struct {
		unsigned int stat;
		const char *reason;
	} not_sent[] = {
	    {VIGIL_STAT_DROPS, "ring_buffer_full"},
	    {VIGIL_STAT_RATE_LIMITED, "rate_limited"},
	    {VIGIL_STAT_UNWATCHED_LIMITED, "unwatched_rate_limited"},
	    {VIGIL_STAT_UNWATCHED_SHED, "unwatched_shed"},
	    {VIGIL_STAT_CLEAN_EXITS, "clean_exit"},
	};
	static const struct {
		unsigned int stat;
		const char *map;
	} refused[] = {
	    {VIGIL_STAT_WATCH_FULL, "watched"},
	    {VIGIL_STAT_OWNER_FULL, "sock_owner"},
	    {VIGIL_STAT_NO_OWNER, "no_owner"},
	};
	const struct vigil_collector_stats *cs = vigil_collector_stats(d->coll);
	uint64_t st[VIGIL_FAM_MAX][VIGIL_STAT_MAX] = {};
	uint64_t used = 0, size = 0, alarms, early;

	for (enum vigil_family f = 0; f < VIGIL_FAM_MAX; f++)
		vigil_probes_stats(d->probes, f, st[f]);
	vigil_prom_family(r, "vigil_probes_attached", "gauge",
			  "1 when the probe family's programs are attached.");
	for (enum vigil_family f = 0; f < VIGIL_FAM_MAX; f++)
		vigil_prom_u64(r, "vigil_probes_attached",
			       (const char *const[]){"family", vigil_family_name(f), NULL},
			       vigil_probes_has(d->probes, f));
	vigil_prom_family(r, "vigil_kernel_events_total", "counter",
			  "Records the kernel programs put in the ring buffer, by probe family.");
	for (enum vigil_family f = 0; f < VIGIL_FAM_MAX; f++)
		vigil_prom_u64(r, "vigil_kernel_events_total",
			       (const char *const[]){"family", vigil_family_name(f), NULL},
			       st[f][VIGIL_STAT_EVENTS]);
	vigil_prom_family(r, "vigil_kernel_events_not_sent_total", "counter",
			  "Kernel events not put in the ring buffer, by family and reason "
			  "(ring_buffer_full is a loss; the others are limits and aggregation).");
	for (enum vigil_family f = 0; f < VIGIL_FAM_MAX; f++)
		for (size_t k = 0; k < sizeof(not_sent) / sizeof(not_sent[0]); k++)
			vigil_prom_u64(r, "vigil_kernel_events_not_sent_total",
				       (const char *const[]){"family", vigil_family_name(f),
							     "reason", not_sent[k].reason, NULL},
				       st[f][not_sent[k].stat]);
	vigil_prom_family(r, "vigil_kernel_map_refusals_total", "counter",
			  "Entries a kernel map could not take (full), or sockets with no known "
			  "owner, by family and map.");
	for (enum vigil_family f = 0; f < VIGIL_FAM_MAX; f++)
		for (size_t k = 0; k < sizeof(refused) / sizeof(refused[0]); k++)
			vigil_prom_u64(r, "vigil_kernel_map_refusals_total",
				       (const char *const[]){"family", vigil_family_name(f), "map",
							     refused[k].map, NULL},
				       st[f][refused[k].stat]);
	if (!vigil_probes_ringbuf_fill(d->probes, &used, &size)) {
		vigil_prom_family(r, "vigil_ring_buffer_used_bytes", "gauge",
				  "Bytes of the ring buffer holding records not read yet.");
		vigil_prom_u64(r, "vigil_ring_buffer_used_bytes", NULL, used);
		vigil_prom_family(r, "vigil_ring_buffer_size_bytes", "gauge",
				  "The ring buffer's size.");
		vigil_prom_u64(r, "vigil_ring_buffer_size_bytes", NULL, size);
	}
	vigil_derived_retrans_stats(d->derived, &alarms, &early);
	vigil_prom_family(r, "vigil_retransmit_alarms_total", "counter",
			  "Times the kernel's retransmit alarm woke the retransmits class between "
			  "samples (or a count was found past it).");
	vigil_prom_u64(r, "vigil_retransmit_alarms_total", NULL, alarms);
	vigil_prom_family(r, "vigil_retransmit_alarms_early_total", "counter",
			  "... of which found the last second short of the class (armed again).");
	vigil_prom_u64(r, "vigil_retransmit_alarms_early_total", NULL, early);
	vigil_prom_family(r, "vigil_records_total", "counter",
			  "Ring-buffer records the collector read, by result (valid, or why it "
			  "was dropped).");
	vigil_prom_u64(r, "vigil_records_total", (const char *const[]){"result", "valid", NULL},
		       cs->records);
	vigil_prom_u64(r, "vigil_records_total", (const char *const[]){"result", "short", NULL},
		       cs->short_recs);
	vigil_prom_u64(r, "vigil_records_total",
		       (const char *const[]){"result", "bad_version", NULL}, cs->bad_version);
	vigil_prom_u64(r, "vigil_records_total", (const char *const[]){"result", "unknown", NULL},
		       cs->unknown);
	vigil_prom_u64(r, "vigil_records_total", (const char *const[]){"result", "bad_size", NULL},
		       cs->bad_size);
	vigil_prom_u64(r, "vigil_records_total",
		       (const char *const[]){"result", "duplicate_exit", NULL}, cs->dup_exits);
	vigil_prom_family(r, "vigil_collector_drains_total", "counter",
			  "Ring-buffer drains, by cause: the kernel woke the collector, or the "
			  "timer that follows a drain which found records.");
	vigil_prom_u64(r, "vigil_collector_drains_total",
		       (const char *const[]){"cause", "wakeup", NULL}, cs->wakeups);
	vigil_prom_u64(r, "vigil_collector_drains_total",
		       (const char *const[]){"cause", "timer", NULL}, cs->timed_drains);
}

/* Per (workload, syscall): the kernel's log2 histogram, slot i counting [2^i, 2^(i+1)) ns,
 * the last one everything above: cumulative buckets with le = 2^(i+1) ns in seconds. */
static void latency(const struct daemon *d, struct vigil_http_resp *r)
{
	double le[VIGIL_LAT_SLOTS - 1];

	for (unsigned int i = 0; i < VIGIL_LAT_SLOTS - 1; i++)
		le[i] = (double)(1ull << (i + 1)) / 1e9;
	vigil_prom_family(r, "vigil_syscall_latency_seconds", "histogram",
			  "Latency of the syscalls a workload times (latency.syscalls), from the "
			  "kernel's log2 buckets.");
	for (unsigned int w = 1; w <= d->cfg->n_workloads; w++) {
		const struct vigil_workload *cw = &d->cfg->workloads[w - 1];

		for (unsigned int k = 0; k < cw->n_latency_syscalls; k++) {
			uint64_t slots[VIGIL_LAT_SLOTS];
			struct vigil_lat_hist h;

			if (vigil_workloads_latency(d->wl, w, k, &h))
				continue;
			for (unsigned int i = 0; i < VIGIL_LAT_SLOTS; i++)
				slots[i] = h.slots[i];
			vigil_prom_hist(r, "vigil_syscall_latency_seconds",
					(const char *const[]){"workload", cw->name, "syscall",
							      cw->latency_syscalls[k], NULL},
					le, slots, VIGIL_LAT_SLOTS - 1, h.count,
					(double)h.sum_ns / 1e9);
		}
	}
}

static void sinks(const struct daemon *d, struct vigil_http_resp *r)
{
	static const struct {
		const char *name, *type, *help;
		size_t off;
	} fields[] = {
#define F(n, t, h, f) {n, t, h, offsetof(struct vigil_sink_stats, f)}
	    F("vigil_sink_queued_records", "gauge", "Records in the sink's queue now.", queued),
	    F("vigil_sink_queue_max_records", "gauge", "The queue's capacity.", queue_max),
	    F("vigil_sink_written_total", "counter", "Records the backend acknowledged.", written),
	    F("vigil_sink_duplicates_total", "counter",
	      "Replayed records the backend held already (skipped).", duplicates),
	    F("vigil_sink_rejected_total", "counter", "Records the backend refused for good.",
	      rejected),
	    F("vigil_sink_queue_drops_total", "counter", "Records lost: the queue was full.",
	      queue_drops),
	    F("vigil_sink_spool_drops_total", "counter",
	      "Records lost: the spool refused them (its cap, or a failed write).", spool_drops),
	    F("vigil_sink_spooled_total", "counter", "Records written to the spool.", spooled),
	    F("vigil_sink_spool_records", "gauge", "Records in the spool now.", spool_pending),
	    F("vigil_sink_spool_bytes", "gauge", "The spool's size.", spool_bytes),
	    F("vigil_sink_reconnects_total", "counter", "Connections made after the first.",
	      reconnects),
#undef F
	};
	struct vigil_sink_stats st[DAEMON_SINKS];

	for (unsigned int i = 0; i < DAEMON_SINKS; i++)
		if (d->sinks[i].sink)
			vigil_sink_stats(d->sinks[i].sink, &st[i]);
	vigil_prom_family(r, "vigil_sink_up", "gauge",
			  "1 when the sink's backend is connected and writing.");
	for (unsigned int i = 0; i < DAEMON_SINKS; i++)
		if (d->sinks[i].sink)
			vigil_prom_u64(
			    r, "vigil_sink_up",
			    (const char *const[]){"sink", vigil_sink_name(d->sinks[i].sink), NULL},
			    st[i].state == VIGIL_SINK_UP);
	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		vigil_prom_family(r, fields[f].name, fields[f].type, fields[f].help);
		for (unsigned int i = 0; i < DAEMON_SINKS; i++) {
			if (!d->sinks[i].sink)
				continue;
			vigil_prom_u64(
			    r, fields[f].name,
			    (const char *const[]){"sink", vigil_sink_name(d->sinks[i].sink), NULL},
			    *(const uint64_t *)((const char *)&st[i] + fields[f].off));
		}
	}
}

static void endpoint(const struct daemon *d, struct vigil_http_resp *r)
{
	struct vigil_http_stats st;
	char code[8];

	vigil_http_stats(d->http, &st);
	vigil_prom_family(r, "vigil_http_requests_total", "counter",
			  "Requests the HTTP endpoint answered, by path and status class.");
	for (unsigned int i = 0; i < st.n_routes; i++)
		for (unsigned int c = 2; c <= 5; c++) {
			snprintf(code, sizeof(code), "%ux", c);
			vigil_prom_u64(
			    r, "vigil_http_requests_total",
			    (const char *const[]){"path", st.routes[i].path, "code", code, NULL},
			    st.routes[i].by_class[c]);
		}
	vigil_prom_family(r, "vigil_http_not_found_total", "counter",
			  "Requests for a path the endpoint does not serve.");
	vigil_prom_u64(r, "vigil_http_not_found_total", NULL, st.not_found);
	vigil_prom_family(r, "vigil_journal_errors_total", "counter",
			  "Records that could not be built or written to the journal.");
	vigil_prom_u64(r, "vigil_journal_errors_total", NULL, vigil_output_errors(d->out));
}

/* POST /v1/alerts (daemon_alerts.c): payloads by answer, alerts by what they did. */
static void alerts_of(const struct vigil_alerts_stats *st, struct vigil_http_resp *r)
{
	const struct {
		const char *family, *label, *value;
		uint64_t n;
	} rows[] = {
	    {"vigil_alert_payloads_total", "result", "accepted", st->payloads},
	    {"vigil_alert_payloads_total", "result", "malformed", st->rejected},
	    {"vigil_alert_payloads_total", "result", "unauthorized", st->unauthorized},
	    {"vigil_alert_payloads_total", "result", "forbidden", st->forbidden},
	    {"vigil_alerts_total", "effect", "opened", st->opened},
	    {"vigil_alerts_total", "effect", "repeat", st->repeats},
	    {"vigil_alerts_total", "effect", "ignored", st->ignored},
	    {"vigil_alerts_total", "effect", "resolved", st->resolved},
	    {"vigil_alerts_total", "effect", "resolved_after", st->resolved_after},
	    {"vigil_alerts_total", "effect", "resolved_partial", st->resolved_partial},
	    {"vigil_alerts_total", "effect", "resolved_unknown", st->resolved_unknown},
	    {"vigil_alerts_total", "effect", "untracked", st->untracked},
	};

	vigil_prom_family(r, "vigil_alert_payloads_total", "counter",
			  "Alertmanager webhook payloads posted to /v1/alerts, by answer.");
	for (unsigned int i = 0; i < 4; i++)
		vigil_prom_u64(r, rows[i].family,
			       (const char *const[]){rows[i].label, rows[i].value, NULL},
			       rows[i].n);
	vigil_prom_family(r, "vigil_alerts_total", "counter",
			  "Alerts received, by what they did (opened an incident, repeated a "
			  "firing one, named no workload, resolved one...).");
	for (unsigned int i = 4; i < sizeof(rows) / sizeof(rows[0]); i++)
		vigil_prom_u64(r, rows[i].family,
			       (const char *const[]){rows[i].label, rows[i].value, NULL},
			       rows[i].n);
	vigil_prom_family(r, "vigil_alerts_firing", "gauge",
			  "Alert signatures vigil remembers as firing now.");
	vigil_prom_u64(r, "vigil_alerts_firing", NULL, st->firing_now);
}

static void alerts(const struct daemon *d, struct vigil_http_resp *r)
{
	struct vigil_alerts_stats st;

	if (!d->alerts)
		return;
	vigil_daemon_alerts_stats(d, &st);
	alerts_of(&st, r);
}

void vigil_daemon_metrics(const struct vigil_http_req *req, struct vigil_http_resp *r, void *ctx)
{
	const struct daemon *d = ctx;

	(void)req;
	r->type = VIGIL_PROM_TYPE;
	build_info(d, r);
	incidents(d, r);
	heals(d, r);
	kernel(d, r);
	latency(d, r);
	sinks(d, r);
	endpoint(d, r);
	alerts(d, r);
}
