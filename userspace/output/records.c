// SPDX-License-Identifier: Apache-2.0
/* records: the JSON records vigil writes, built field by field in their contracted order (see
 * records.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/classes.h"
#include "output/records.h"

void vigil_rfc3339(uint64_t wall_ns, char *buf, size_t len)
{
	time_t sec = wall_ns / 1000000000ull;
	struct tm tm;

	gmtime_r(&sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned int)(wall_ns / 1000000ull % 1000));
}

/* "MS-N" of r into buf (48 bytes hold any). */
static void rid_text(const struct vigil_rid *r, char *buf, size_t len)
{
	snprintf(buf, len, "%llu-%llu", (unsigned long long)r->ms, (unsigned long long)r->n);
}

/* Begin a record with the members every record starts with, in their order. */
static void common(struct vigil_json *j, const char *type, const char *node, uint64_t wall_ns,
		   const struct vigil_rid *rid, const char *workload)
{
	char ts[32], id[48];

	vigil_rfc3339(wall_ns, ts, sizeof(ts));
	vigil_json_begin(j);
	vigil_json_str(j, "type", type);
	if (rid) {
		rid_text(rid, id, sizeof(id));
		vigil_json_str(j, "rid", id);
	}
	vigil_json_str(j, "ts", ts);
	vigil_json_str(j, "node", node);
	vigil_json_str(j, "workload", workload);
}

int vigil_record_event(struct vigil_json *j, const char *node, uint64_t wall_ns,
		       const struct vigil_rid *rid, const struct vigil_event_hdr *h,
		       const char *workload, const struct vigil_detection *d)
{
	common(j, "event", node, wall_ns, rid, workload);
	vigil_json_str(j, "class", d->label);
	vigil_json_u64(j, "pid", h->tgid);
	vigil_json_u64(j, "tid", h->pid);
	vigil_json_strn(j, "comm", h->comm, sizeof(h->comm));
	vigil_json_u64(j, "cgroup_id", h->cgroup_id);
	vigil_json_u64(j, "kernel_ts_ns", h->ts_ns);
	if (h->kind == VIGIL_EV_EXIT) {
		const struct vigil_exit *e = (const void *)h;

		vigil_json_i64(j, "exit_code", d->status);
		vigil_json_i64(j, "signal", d->signal);
		vigil_json_bool(j, "core_dumped", d->core_dumped);
		vigil_json_u64(j, "ppid", e->ppid);
		if (d->signature[0])
			vigil_json_str(j, "signature", d->signature);
		if (e->exit_flags & VIGIL_EXIT_SENDER) {
			vigil_json_u64(j, "sender_pid", e->sender_tgid);
			vigil_json_strn(j, "sender_comm", e->sender_comm, sizeof(e->sender_comm));
		}
	} else if (h->kind == VIGIL_EV_OOM) {
		const struct vigil_oom *o = (const void *)h;
		long page = sysconf(_SC_PAGESIZE);

		/* 0: not known (the classic tracepoint before 6.8 names no sizes), so left out. */
		if (o->total_vm_pages)
			vigil_json_u64(j, "total_vm_kib", o->total_vm_pages * page / 1024);
		if (o->rss_pages)
			vigil_json_u64(j, "rss_kib", o->rss_pages * page / 1024);
		vigil_json_u64(j, "trigger_pid", o->trigger_tgid);
		vigil_json_strn(j, "trigger_comm", o->trigger_comm, sizeof(o->trigger_comm));
	} else if (h->kind == VIGIL_EV_EXEC) {
		vigil_json_u64(j, "ppid", ((const struct vigil_exec *)h)->ppid);
	} else if (h->kind == VIGIL_EV_SOCK) {
		const struct vigil_sock *k = (const void *)h;
		char ep[64];

		vigil_endpoint(k->family, k->laddr, k->lport, ep, sizeof(ep));
		vigil_json_str(j, "local", ep);
		vigil_endpoint(k->family, k->raddr, k->rport, ep, sizeof(ep));
		vigil_json_str(j, "remote", ep);
		vigil_json_i64(j, "errno", k->err);
		vigil_json_u64(j, "tcp_state", k->state);
		vigil_json_bool(j, "accepted", h->flags & VIGIL_F_PASSIVE);
	} else if (h->kind == VIGIL_EV_SLOW) {
		const struct vigil_slow *w = (const void *)h;

		vigil_json_str(j, "syscall", d->detail);
		vigil_json_u64(j, "latency_us", w->latency_ns / 1000);
		vigil_json_u64(j, "budget_ms", w->budget_ms);
		vigil_json_i64(j, "ret", w->ret);
	} else if (h->kind == VIGIL_EV_HANG) {
		const struct vigil_hang *g = (const void *)h;

		vigil_json_u64(j, "task_state", g->state);
		vigil_json_u64(j, "switches", g->switches);
	}
	if (h->kind != VIGIL_EV_EXIT && d->signature[0])
		vigil_json_str(j, "signature", d->signature);
	return vigil_json_end(j);
}

int vigil_record_rate(struct vigil_json *j, const char *node, uint64_t wall_ns,
		      const struct vigil_rid *rid, const char *workload,
		      const struct vigil_detection *d, uint64_t count, uint64_t interval_ms)
{
	common(j, "event", node, wall_ns, rid, workload);
	vigil_json_str(j, "class", d->label);
	vigil_json_u64(j, "count", count);
	vigil_json_u64(j, "interval_ms", interval_ms);
	vigil_json_u64(j, "per_s", interval_ms ? count * 1000 / interval_ms : 0);
	if (d->signature[0])
		vigil_json_str(j, "signature", d->signature);
	return vigil_json_end(j);
}

int vigil_record_health(struct vigil_json *j, const char *node, uint64_t wall_ns,
			const struct vigil_rid *rid, const char *family, uint64_t drops,
			uint64_t drops_total)
{
	common(j, "health", node, wall_ns, rid, "-");
	vigil_json_str(j, "family", family);
	vigil_json_u64(j, "drops", drops);
	vigil_json_u64(j, "drops_total", drops_total);
	return vigil_json_end(j);
}

int vigil_record_health_full(struct vigil_json *j, const char *node, uint64_t wall_ns,
			     const struct vigil_rid *rid, const char *family, const char *map,
			     uint64_t refused, uint64_t refused_total)
{
	common(j, "health", node, wall_ns, rid, "-");
	vigil_json_str(j, "family", family);
	vigil_json_str(j, "map", map);
	vigil_json_u64(j, "full", refused);
	vigil_json_u64(j, "full_total", refused_total);
	return vigil_json_end(j);
}

/* "chain": the workload's events before the incident, each with its offset before it. */
static void chain(struct vigil_json *j, const struct vigil_incident *i)
{
	vigil_json_array_begin(j, "chain");
	for (unsigned int k = 0; k < i->n_chain; k++) {
		const struct vigil_chain_entry *c = &i->chain[k];

		vigil_json_object_begin(j, NULL);
		vigil_json_str(j, "class", c->label);
		vigil_json_str(j, "detail", c->detail);
		vigil_json_u64(j, "pid", c->pid);
		vigil_json_u64(j, "before_ms", (i->first_kernel_ns - c->kernel_ns) / 1000000);
		vigil_json_object_end(j);
	}
	vigil_json_array_end(j);
}

/* "trace_ids", "span_id", "trace_source": only when the incident has a trace context (the
 * contract the OTLP sink reads). */
static void trace(struct vigil_json *j, const struct vigil_trace *t)
{
	char hex[33];

	if (!t->n)
		return;
	vigil_json_array_begin(j, "trace_ids");
	for (unsigned int k = 0; k < t->n && k < VIGIL_TRACE_IDS_MAX; k++) {
		vigil_trace_hex(t->ids[k], 16, hex);
		vigil_json_str(j, NULL, hex);
	}
	vigil_json_array_end(j);
	vigil_trace_hex(t->span_id, 8, hex);
	vigil_json_str(j, "span_id", hex);
	vigil_json_str(j, "trace_source", vigil_trace_source_name(t->source));
}

/* "k8s": the pod the incident's process ran in, only when it ran in one: {pod, namespace,
 * container, pod_uid}, each name only when known (the contract the OTLP sink reads). */
static void pod(struct vigil_json *j, const struct vigil_pod *p)
{
	if (!p->uid[0])
		return;
	vigil_json_object_begin(j, "k8s");
	if (p->name[0])
		vigil_json_str(j, "pod", p->name);
	if (p->ns[0])
		vigil_json_str(j, "namespace", p->ns);
	if (p->container[0])
		vigil_json_str(j, "container", p->container);
	vigil_json_str(j, "pod_uid", p->uid);
	vigil_json_object_end(j);
}

int vigil_record_incident(struct vigil_json *j, const char *node, uint64_t wall_ns,
			  const struct vigil_rid *rid, const struct vigil_incident *i)
{
	common(j, "incident", node, wall_ns, rid, i->workload_name);
	vigil_json_str(j, "id", i->id);
	vigil_json_str(j, "signature", i->signature);
	vigil_json_str(j, "class", vigil_class_name(i->cls));
	vigil_json_str(j, "state", vigil_incident_state_name(i->state));
	vigil_json_u64(j, "count", i->count);
	vigil_json_str(j, "title", i->title);
	vigil_json_str(j, "detail", i->detail);
	vigil_json_u64(j, "pid", i->tgid);
	if (i->comm[0])
		vigil_json_str(j, "comm", i->comm);
	vigil_json_i64(j, "signal", i->signal);
	vigil_json_i64(j, "exit_code", i->status);
	vigil_json_u64(j, "first_kernel_ts_ns", i->first_kernel_ns);
	/* Detection: kernel timestamp of the first event -> incident opened in userspace. */
	vigil_json_u64(j, "detect_us", (i->opened_mono_ns - i->first_kernel_ns) / 1000);
	if (i->resolved_mono_ns)
		vigil_json_u64(j, "recovery_ms",
			       (i->resolved_mono_ns - i->opened_mono_ns) / 1000000);
	/* A heal's new process exec'd: first fault (kernel) -> the replacement's exec. */
	if (i->replaced_kernel_ns)
		vigil_json_u64(j, "replaced_after_ms",
			       (i->replaced_kernel_ns - i->first_kernel_ns) / 1000000);
	/* The chosen heal rule's autonomy level; absent while none was chosen (or none applies). */
	if (i->level)
		vigil_json_u64(j, "level", i->level);
	vigil_json_bool(j, "lossy", i->lossy);
	if (i->final)
		vigil_json_bool(j, "final", true);
	if (i->evicted)
		vigil_json_bool(j, "evicted", true);
	if (i->restored)
		vigil_json_bool(j, "restored", true);
	if (i->lossy)
		vigil_json_u64(j, "lost", i->lost);
	trace(j, &i->trace);
	pod(j, &i->pod);
	chain(j, i);
	return vigil_json_end(j);
}

int vigil_record_action(struct vigil_json *j, const char *node, uint64_t wall_ns,
			const struct vigil_rid *rid, const struct vigil_incident *i,
			const char *action, const char *outcome, const char *detail, pid_t pid)
{
	common(j, "action", node, wall_ns, rid, i->workload_name);
	vigil_json_str(j, "incident", i->id);
	vigil_json_str(j, "signature", i->signature);
	vigil_json_str(j, "action", action);
	vigil_json_str(j, "outcome", outcome);
	vigil_json_str(j, "detail", detail);
	if (pid > 0)
		vigil_json_u64(j, "pid", (uint64_t)pid);
	trace(j, &i->trace);
	pod(j, &i->pod);
	return vigil_json_end(j);
}

int vigil_record_breaker(struct vigil_json *j, const char *node, uint64_t wall_ns,
			 const struct vigil_rid *rid, const char *workload, const char *state,
			 uint64_t failures, uint64_t opened_wall_ns)
{
	char ts[32];

	common(j, "breaker", node, wall_ns, rid, workload);
	vigil_json_str(j, "state", state);
	vigil_json_u64(j, "failures", failures);
	if (opened_wall_ns) {
		vigil_rfc3339(opened_wall_ns, ts, sizeof(ts));
		vigil_json_str(j, "opened_at", ts);
	} else {
		vigil_json_null(j, "opened_at");
	}
	return vigil_json_end(j);
}

int vigil_record_knowledge(struct vigil_json *j, const char *node, uint64_t wall_ns,
			   const struct vigil_rid *rid, const struct vigil_know_rec *k)
{
	char ts[32];

	common(j, "knowledge", node, wall_ns, rid, k->workload);
	vigil_json_str(j, "signature", k->signature);
	vigil_json_str(j, "class", k->cls);
	vigil_json_str(j, "action", k->action);
	vigil_json_u64(j, "attempts", k->attempts);
	vigil_json_u64(j, "successes", k->successes);
	/* Two decimals, as the SQL column numeric(3,2) holds it; written as a number. */
	vigil_json_fixed(j, "success_rate",
			 k->attempts ? (double)k->successes / (double)k->attempts : 0.0, 2);
	if (k->last_applied_wall_ns) {
		vigil_rfc3339(k->last_applied_wall_ns, ts, sizeof(ts));
		vigil_json_str(j, "last_applied", ts);
	} else {
		vigil_json_null(j, "last_applied");
	}
	if (k->outcome)
		vigil_json_str(j, "last_outcome", k->outcome);
	return vigil_json_end(j);
}

int vigil_record_state(struct vigil_json *j, const char *node, uint64_t wall_ns,
		       const struct vigil_rid *rid, vigil_members_fn members, const void *arg)
{
	common(j, "state", node, wall_ns, rid, "-");
	vigil_json_object_begin(j, "state");
	members(j, arg);
	vigil_json_object_end(j);
	return vigil_json_end(j);
}

void vigil_rid_next(struct vigil_rid *r, uint64_t wall_ns)
{
	uint64_t ms = wall_ns / 1000000ull;

	if (ms > r->ms) {
		r->ms = ms;
		r->n = 0;
	} else {
		r->n++; /* the same millisecond, or the clock stepped back: stay increasing */
	}
}
