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
	struct vigil_json_list list = {};
	struct vigil_json item = {};
	char progs[512];

	for (enum vigil_family fam = 0; fam < VIGIL_FAM_MAX; fam++) {
		uint64_t st[VIGIL_STAT_MAX];
		const char *why = vigil_probes_error(d->probes, fam);

		if (!vigil_probes_has(d->probes, fam) && !why)
			continue;
		vigil_probes_stats(d->probes, fam, st);
		vigil_probes_attached(d->probes, fam, progs, sizeof(progs));
		vigil_json_begin(&item);
		vigil_json_str(&item, "family", vigil_family_name(fam));
		vigil_json_str(&item, "mode", !vigil_probes_has(d->probes, fam) ? "not attached" :
					      fam == VIGIL_FAM_EXITS ? vigil_probes_mode(d->probes) :
								      "tp_btf");
		if (why)
			vigil_json_str(&item, "error", why);
		vigil_json_str(&item, "programs", progs);
		vigil_json_u64(&item, "events", st[VIGIL_STAT_EVENTS]);
		vigil_json_u64(&item, "drops", st[VIGIL_STAT_DROPS]);
		vigil_json_u64(&item, "rate_limited", st[VIGIL_STAT_RATE_LIMITED]);
		vigil_json_u64(&item, "no_owner", st[VIGIL_STAT_NO_OWNER]);
		vigil_json_u64(&item, "clean_exits", st[VIGIL_STAT_CLEAN_EXITS]);
		vigil_json_u64(&item, "map_full", st[VIGIL_STAT_WATCH_FULL] + st[VIGIL_STAT_OWNER_FULL]);
		vigil_json_end(&item);
		vigil_json_list_add(&list, &item);
	}
	vigil_json_put_list(j, "probes", &list);
	vigil_json_free(&item);
}

static void workloads_json(const struct daemon *d, struct vigil_json *j)
{
	struct vigil_json_list list = {};
	struct vigil_json item = {};

	for (unsigned int w = 1; w <= d->cfg->n_workloads; w++) {
		const struct vigil_workload *cw = &d->cfg->workloads[w - 1];
		struct vigil_sock_counts c = {};
		char pids[512] = "[", lat[256] = "";
		pid_t p[32];
		size_t n = vigil_workloads_pids(d->wl, w, p, 32), off = 1;

		for (size_t i = 0; i < n && i < 32 && off < sizeof(pids) - 16; i++)
			off += snprintf(pids + off, sizeof(pids) - off, "%s%d", i ? "," : "", p[i]);
		snprintf(pids + off, sizeof(pids) - off, "]");
		for (unsigned int k = 0, o = 0; k < cw->n_latency_syscalls && o < sizeof(lat); k++)
			o += snprintf(lat + o, sizeof(lat) - o, "%s%s", k ? "," : "",
				      cw->latency_syscalls[k]);
		vigil_probes_sock_counts(d->probes, w, &c);
		vigil_json_begin(&item);
		vigil_json_str(&item, "name", cw->name);
		vigil_json_raw(&item, "pids", pids);
		vigil_json_u64(&item, "established", c.established - c.closed);
		vigil_json_u64(&item, "retransmits", c.retransmits);
		vigil_json_u64(&item, "resets_received", c.resets_rcvd);
		vigil_json_str(&item, "latency_syscalls", lat);
		vigil_json_u64(&item, "budget_ms", cw->latency_budget_ms);
		vigil_json_end(&item);
		vigil_json_list_add(&list, &item);
	}
	vigil_json_put_list(j, "workloads", &list);
	vigil_json_free(&item);
}

/* Close the object sub and put it under key in j (null if it could not be built); frees sub. */
static void put_object(struct vigil_json *j, const char *key, struct vigil_json *sub)
{
	if (!vigil_json_end(sub))
		vigil_json_raw(j, key, sub->buf);
	else
		vigil_json_null(j, key);
	vigil_json_free(sub);
}

/* "journal": where it is, and the records it could not take. */
static void journal_json(const struct daemon *d, struct vigil_json *j)
{
	struct vigil_json sub = {};

	vigil_json_begin(&sub);
	if (d->journal && d->journal[0])
		vigil_json_str(&sub, "path", d->journal);
	else
		vigil_json_null(&sub, "path");
	vigil_json_u64(&sub, "errors", vigil_output_errors(d->out));
	put_object(j, "journal", &sub);
}

/* "knowledge": the store's file, size, evictions and failed writes. */
static void knowledge_json(const struct daemon *d, struct vigil_json *j)
{
	struct vigil_know_stats st;
	struct vigil_json k = {};

	if (!d->know) {
		vigil_json_null(j, "knowledge");
		return;
	}
	vigil_knowledge_stats(d->know, &st);
	vigil_json_begin(&k);
	vigil_json_str(&k, "path", d->cfg->knowledge);
	vigil_json_u64(&k, "entries", vigil_knowledge_count(d->know));
	vigil_json_u64(&k, "evicted", st.evicted);
	vigil_json_u64(&k, "write_errors", st.persist_errors);
	put_object(j, "knowledge", &k);
}

/* "redis": the sink's state, queue and spool (null when no redis.url). */
static void redis_json(const struct daemon *d, struct vigil_json *j)
{
	struct vigil_sink *sink = d->sinks[DAEMON_SINK_REDIS].sink;
	struct vigil_json r = {};
	char safe[256];

	if (!sink) {
		vigil_json_null(j, "redis");
		return;
	}
	vigil_json_begin(&r);
	vigil_sink_status_json(sink, vigil_redis_url_safe(d->cfg->redis_url, safe, sizeof(safe)),
			       &r);
	put_object(j, "redis", &r);
}

static int status(const struct daemon *d, struct vigil_json *j)
{
	const struct vigil_collector_stats *cs = vigil_collector_stats(d->coll);
	char coll[256], incs[64];

	snprintf(coll, sizeof(coll),
		 "{\"records\":%llu,\"short\":%llu,\"bad_version\":%llu,\"unknown\":%llu,"
		 "\"bad_size\":%llu}",
		 (unsigned long long)cs->records, (unsigned long long)cs->short_recs,
		 (unsigned long long)cs->bad_version, (unsigned long long)cs->unknown,
		 (unsigned long long)cs->bad_size);
	snprintf(incs, sizeof(incs), "{\"live\":%u}", vigil_incidents_count(d->incidents));
	vigil_json_begin(j);
	vigil_json_str(j, "version", VIGIL_VERSION);
	vigil_json_str(j, "node", d->cfg->node);
	vigil_json_u64(j, "uptime_s", (vigil_mono_ns() - d->started_mono_ns) / 1000000000ull);
	vigil_json_str(j, "config", d->cfg->source);
	probes_json(d, j);
	vigil_json_raw(j, "collector", coll);
	journal_json(d, j);
	knowledge_json(d, j);
	redis_json(d, j);
	vigil_json_raw(j, "incidents", incs);
	workloads_json(d, j);
	return vigil_json_end(j);
}

/* One workload's histograms as {"name":..,"budget_ms":..,"histograms":[...]} into f. */
static void latency_of(const struct daemon *d, unsigned int w, FILE *f)
{
	const struct vigil_workload *cw = &d->cfg->workloads[w - 1];
	struct vigil_lat_hist h;
	bool first = true;

	fprintf(f, "{\"name\":\"%s\",\"budget_ms\":%llu,\"histograms\":[", cw->name,
		(unsigned long long)cw->latency_budget_ms);
	/* The counts are monotonic and never reset: a read loses nothing. */
	for (unsigned int k = 0; k < cw->n_latency_syscalls; k++) {
		if (vigil_workloads_latency(d->wl, w, k, &h))
			continue; /* not timed, or named twice: shown once */
		fprintf(f, "%s{\"syscall\":\"%s\",\"nr\":%d,\"count\":%llu,\"sum_ns\":%llu,"
			"\"slots\":[",
			first ? "" : ",", cw->latency_syscalls[k],
			vigil_syscall_nr(cw->latency_syscalls[k]), (unsigned long long)h.count,
			(unsigned long long)h.sum_ns);
		for (int i = 0; i < VIGIL_LAT_SLOTS; i++)
			fprintf(f, "%s%llu", i ? "," : "", (unsigned long long)h.slots[i]);
		fputs("]}", f);
		first = false;
	}
	fputs("]}", f);
}

/* "latency [WORKLOAD]": -ENOENT for a workload that is not configured. */
static int latency(const struct daemon *d, const char *arg, struct vigil_json *j)
{
	char *arr = NULL;
	size_t cap = 0;
	bool found = false;
	FILE *f;

	f = open_memstream(&arr, &cap);
	if (!f)
		return -ENOMEM;
	fputc('[', f);
	for (unsigned int w = 1; w <= d->cfg->n_workloads; w++) {
		if (arg && arg[0] && strcmp(arg, d->cfg->workloads[w - 1].name))
			continue;
		if (!d->cfg->workloads[w - 1].n_latency_syscalls)
			continue;
		if (found)
			fputc(',', f);
		latency_of(d, w, f);
		found = true;
	}
	fputc(']', f);
	fclose(f);
	if (arg && arg[0] && !found) {
		free(arr);
		return -ENOENT;
	}
	vigil_json_begin(j);
	vigil_json_raw(j, "workloads", arr);
	free(arr);
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
