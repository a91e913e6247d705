// SPDX-License-Identifier: Apache-2.0
/*
 * status: what a running daemon answers on its control socket. "status": probes per family
 * (events, drops, ...), the collector's counters, the journal, live incidents and each
 * workload's pids, connections and retransmits. "latency [WORKLOAD]": the kernel's log2
 * histograms per syscall. Queries only read; "approve", a command, lets a level-3 action run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon_int.h"
#include "control/history.h"
#include "heal/knowledge.h"
#include "output/redis.h"
#include "kernel/syscalls.h"

static void probes_json(const struct daemon *d, struct vigil_json *j)
{
	char progs[512];

	vigil_json_array_begin(j, "probes");

	for (enum vigil_family fam = 0; fam < VIGIL_FAM_MAX; fam++) {
		uint64_t st[VIGIL_STAT_MAX];
		const char *why = vigil_probes_error(d->probes, fam);

		if (!vigil_probes_has(d->probes, fam) && !why)
			continue;
		vigil_probes_stats(d->probes, fam, st);
		vigil_probes_attached(d->probes, fam, progs, sizeof(progs));
		vigil_json_object_begin(j, NULL);
		vigil_json_str(j, "family", vigil_family_name(fam));
		vigil_json_str(j, "mode", !vigil_probes_has(d->probes, fam) ? "not attached" :
					  fam == VIGIL_FAM_EXITS ? vigil_probes_mode(d->probes) :
								  "tp_btf");
		if (why)
			vigil_json_str(j, "error", why);
		vigil_json_str(j, "programs", progs);
		vigil_json_u64(j, "events", st[VIGIL_STAT_EVENTS]);
		vigil_json_u64(j, "drops", st[VIGIL_STAT_DROPS]);
		vigil_json_u64(j, "rate_limited", st[VIGIL_STAT_RATE_LIMITED]);
		vigil_json_u64(j, "no_owner", st[VIGIL_STAT_NO_OWNER]);
		vigil_json_u64(j, "clean_exits", st[VIGIL_STAT_CLEAN_EXITS]);
		vigil_json_u64(j, "map_full",
			       st[VIGIL_STAT_WATCH_FULL] + st[VIGIL_STAT_OWNER_FULL]);
		vigil_json_object_end(j);
	}
	vigil_json_array_end(j);
}

static void workloads_json(const struct daemon *d, struct vigil_json *j)
{
	vigil_json_array_begin(j, "workloads");
	for (unsigned int w = 1; w <= d->cfg->n_workloads; w++) {
		const struct vigil_workload *cw = &d->cfg->workloads[w - 1];
		struct vigil_sock_counts c = {};
		char lat[256] = "";
		pid_t p[32];
		size_t n = vigil_workloads_pids(d->wl, w, p, 32);

		for (unsigned int k = 0, o = 0; k < cw->n_latency_syscalls && o < sizeof(lat); k++)
			o += snprintf(lat + o, sizeof(lat) - o, "%s%s", k ? "," : "",
				      cw->latency_syscalls[k]);
		vigil_probes_sock_counts(d->probes, w, &c);
		vigil_json_object_begin(j, NULL);
		vigil_json_str(j, "name", cw->name);
		vigil_json_array_begin(j, "pids");
		for (size_t i = 0; i < n && i < 32; i++)
			vigil_json_i64(j, NULL, p[i]);
		vigil_json_array_end(j);
		vigil_json_u64(j, "established", c.established - c.closed);
		vigil_json_u64(j, "retransmits", c.retransmits);
		vigil_json_u64(j, "resets_received", c.resets_rcvd);
		vigil_json_str(j, "latency_syscalls", lat);
		vigil_json_u64(j, "budget_ms", cw->latency_budget_ms);
		vigil_json_object_end(j);
	}
	vigil_json_array_end(j);
}

/* "journal": where it is, and the records it could not take. */
static void journal_json(const struct daemon *d, struct vigil_json *j)
{
	vigil_json_object_begin(j, "journal");
	if (d->journal && d->journal[0])
		vigil_json_str(j, "path", d->journal);
	else
		vigil_json_null(j, "path");
	vigil_json_u64(j, "errors", vigil_output_errors(d->out));
	vigil_json_object_end(j);
}

/* "knowledge": the store's file, size, evictions and failed writes. */
static void knowledge_json(const struct daemon *d, struct vigil_json *j)
{
	struct vigil_know_stats st;

	if (!d->know) {
		vigil_json_null(j, "knowledge");
		return;
	}
	vigil_knowledge_stats(d->know, &st);
	vigil_json_object_begin(j, "knowledge");
	vigil_json_str(j, "path", d->cfg->knowledge);
	vigil_json_u64(j, "entries", vigil_knowledge_count(d->know));
	vigil_json_u64(j, "evicted", st.evicted);
	vigil_json_u64(j, "write_errors", st.persist_errors);
	vigil_json_object_end(j);
}

/* "redis": the sink's state, queue and spool (null when no redis.url). */
static void redis_json(const struct daemon *d, struct vigil_json *j)
{
	struct vigil_sink *sink = d->sinks[DAEMON_SINK_REDIS].sink;
	char safe[256];

	if (!sink) {
		vigil_json_null(j, "redis");
		return;
	}
	vigil_json_object_begin(j, "redis");
	vigil_sink_status_json(sink, vigil_redis_url_safe(d->cfg->redis_url, safe, sizeof(safe)),
			       j);
	vigil_json_object_end(j);
}

static int status(const struct daemon *d, struct vigil_json *j)
{
	const struct vigil_collector_stats *cs = vigil_collector_stats(d->coll);

	vigil_json_begin(j);
	vigil_json_str(j, "version", VIGIL_VERSION);
	vigil_json_str(j, "node", d->cfg->node);
	vigil_json_u64(j, "uptime_s", (vigil_mono_ns() - d->started_mono_ns) / 1000000000ull);
	vigil_json_str(j, "config", d->cfg->source);
	probes_json(d, j);
	vigil_json_object_begin(j, "collector");
	vigil_json_u64(j, "records", cs->records);
	vigil_json_u64(j, "short", cs->short_recs);
	vigil_json_u64(j, "bad_version", cs->bad_version);
	vigil_json_u64(j, "unknown", cs->unknown);
	vigil_json_u64(j, "bad_size", cs->bad_size);
	vigil_json_object_end(j);
	journal_json(d, j);
	knowledge_json(d, j);
	redis_json(d, j);
	vigil_json_object_begin(j, "incidents");
	vigil_json_u64(j, "live", vigil_incidents_count(d->incidents));
	vigil_json_object_end(j);
	workloads_json(d, j);
	return vigil_json_end(j);
}

/* One workload's histograms as {"name":..,"budget_ms":..,"histograms":[...]}, an element of
 * the array open in j. */
static void latency_of(const struct daemon *d, unsigned int w, struct vigil_json *j)
{
	const struct vigil_workload *cw = &d->cfg->workloads[w - 1];
	struct vigil_lat_hist h;

	vigil_json_object_begin(j, NULL);
	vigil_json_str(j, "name", cw->name);
	vigil_json_u64(j, "budget_ms", cw->latency_budget_ms);
	vigil_json_array_begin(j, "histograms");
	/* The counts are monotonic and never reset: a read loses nothing. */
	for (unsigned int k = 0; k < cw->n_latency_syscalls; k++) {
		if (vigil_workloads_latency(d->wl, w, k, &h))
			continue; /* not timed, or named twice: shown once */
		vigil_json_object_begin(j, NULL);
		vigil_json_str(j, "syscall", cw->latency_syscalls[k]);
		vigil_json_i64(j, "nr", vigil_syscall_nr(cw->latency_syscalls[k]));
		vigil_json_u64(j, "count", h.count);
		vigil_json_u64(j, "sum_ns", h.sum_ns);
		vigil_json_array_begin(j, "slots");
		for (int i = 0; i < VIGIL_LAT_SLOTS; i++)
			vigil_json_u64(j, NULL, h.slots[i]);
		vigil_json_array_end(j);
		vigil_json_object_end(j);
	}
	vigil_json_array_end(j);
	vigil_json_object_end(j);
}

/* "latency [WORKLOAD]": -ENOENT for a workload that is not configured. */
static int latency(const struct daemon *d, const char *arg, struct vigil_json *j)
{
	bool found = false;

	vigil_json_begin(j);
	vigil_json_array_begin(j, "workloads");
	for (unsigned int w = 1; w <= d->cfg->n_workloads; w++) {
		if (arg && arg[0] && strcmp(arg, d->cfg->workloads[w - 1].name))
			continue;
		if (!d->cfg->workloads[w - 1].n_latency_syscalls)
			continue;
		latency_of(d, w, j);
		found = true;
	}
	vigil_json_array_end(j);
	if (arg && arg[0] && !found)
		return -ENOENT;
	return vigil_json_end(j);
}

/* "approve ID": run the action of a level-3 incident awaiting approval. */
static int approve(const char *id, const struct vigil_ctl_peer *peer, struct vigil_json *j,
		   void *ctx)
{
	struct daemon *d = ctx;
	struct vigil_incident *inc = id ? vigil_incidents_lookup(d->incidents, id) : NULL;
	int ret;

	(void)peer; /* the audit names the control socket; who by uid comes with issue 10 */
	if (!inc)
		return -ENOENT;
	ret = vigil_healer_approve(d->healer, inc, "vigil approve (control socket)");
	vigil_json_begin(j);
	vigil_json_str(j, "incident", inc->id);
	vigil_json_str(j, "state", vigil_incident_state_name(inc->state));
	if (ret)
		vigil_json_str(j, "error", ret == -EINVAL ? "not awaiting approval" :
						     "no heal rule applies to it");
	else
		vigil_json_bool(j, "approved", true);
	return vigil_json_end(j);
}

/* "status": takes no argument. */
static int status_query(const char *arg, struct vigil_json *out, const void *ctx)
{
	return arg ? -ENOENT : status(ctx, out);
}

static int latency_query(const char *arg, struct vigil_json *out, const void *ctx)
{
	return latency(ctx, arg, out);
}

static int incidents_query(const char *arg, struct vigil_json *out, const void *ctx)
{
	const struct daemon *d = ctx;

	return vigil_history_answer(d->incidents, d->cfg->node, "incidents", arg, out);
}

static int incident_query(const char *arg, struct vigil_json *out, const void *ctx)
{
	const struct daemon *d = ctx;

	return vigil_history_answer(d->incidents, d->cfg->node, "incident", arg, out);
}

int vigil_daemon_handlers(struct daemon *d)
{
	int err = vigil_ctl_query(d->ctl, "status", status_query, d);

	if (!err)
		err = vigil_ctl_query(d->ctl, "latency", latency_query, d);
	if (!err)
		err = vigil_ctl_query(d->ctl, "incidents", incidents_query, d);
	if (!err)
		err = vigil_ctl_query(d->ctl, "incident", incident_query, d);
	if (!err)
		err = vigil_ctl_command(d->ctl, "approve", approve, d);
	return err;
}

/* The one line on stderr that says vigil runs, and how: "vigil: ready: ...". */
void vigil_daemon_say_ready(const struct daemon *d, const char *ctl_path)
{
	char progs[512], safe[256];
	unsigned int nprogs;

	for (enum vigil_family f = VIGIL_FAM_SOCKETS; f < VIGIL_FAM_MAX; f++)
		if (vigil_probes_error(d->probes, f))
			fprintf(stderr, "vigil: %s probes not attached, running without them: %s\n",
				vigil_family_name(f), vigil_probes_error(d->probes, f));
	nprogs = vigil_probes_attached(d->probes, VIGIL_FAM_MAX, progs, sizeof(progs));
	fprintf(stderr,
		"vigil: ready: node %s, config %s, %s probes (%u: %s), %u workloads, "
		"observe_all %s, journal %s, redis %s, control %s\n",
		d->cfg->node, d->cfg->source, vigil_probes_mode(d->probes), nprogs, progs,
		d->cfg->n_workloads, d->cfg->observe_all ? "on" : "off",
		d->journal && d->journal[0] ? d->journal : "off",
		d->cfg->redis_url ? vigil_redis_url_safe(d->cfg->redis_url, safe, sizeof(safe))
				  : "off",
		ctl_path[0] ? ctl_path : "off");
}
