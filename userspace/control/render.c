// SPDX-License-Identifier: Apache-2.0
/*
 * ctl_render: the daemon's "status", "latency", "incidents" and "incident ID" answers, for a
 * person (see ctl.h).
 *
 * The answers come from a daemon that may be older or newer than this binary, so every field
 * is optional here: a missing or mistyped number prints as 0, a string as "-". Only text that
 * is not JSON at all, or not the shape of the answer, is refused (-EINVAL).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "control/ctl.h"
#include "control/hist.h"
#include "control/table.h"
#include "core/text.h"

#define CELL VIGIL_TABLE_CELL /* bytes of a table cell; longer text is cut */
#define MAX_PIDS_SHOWN 8      /* a workload with more shows "+N" for the rest */

/* The string at key, or "-" when it is missing or not a string. */
static const char *get_str(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : "-";
}

/* The number at key (a real is truncated), or 0 when it is missing or not a number. */
static long long get_int(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (json_is_integer(v))
		return (long long)json_integer_value(v);
	if (json_is_real(v))
		return (long long)json_real_value(v);
	return 0;
}

/* Every string of v (values and array elements, at any depth) as vigil_term_safe() makes it:
 * whatever a renderer below prints of the answer cannot drive the terminal. Returns 0 or
 * -ENOMEM. */
static int term_safe_tree(json_t *v)
{
	char buf[4 * CELL];
	const char *key;
	json_t *e;
	size_t i;

	if (json_is_string(v) &&
	    strcmp(json_string_value(v), vigil_term_safe(json_string_value(v), buf, sizeof(buf))))
		return json_string_set(v, buf) ? -ENOMEM : 0;
	if (json_is_object(v)) {
		json_object_foreach(v, key, e) if (term_safe_tree(e)) return -ENOMEM;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, e) if (term_safe_tree(e)) return -ENOMEM;
	}
	return 0;
}

/*
 * Parse an answer, its strings made terminal-safe. Returns 0 and *root (an object;
 * json_decref it), -EINVAL for text that is not a JSON object, -ENOMEM, or -ENOENT for an {"error":
 * ...} answer, after printing the error.
 */
static int parse_answer(const char *text, FILE *out, json_t **root)
{
	json_t *r = text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
	const json_t *e;

	if (!json_is_object(r)) {
		json_decref(r);
		return -EINVAL;
	}
	if (term_safe_tree(r)) {
		json_decref(r);
		return -ENOMEM;
	}
	e = json_object_get(r, "error");
	if (e) {
		fprintf(out, "error: %s\n", json_is_string(e) ? json_string_value(e) : "(no text)");
		json_decref(r);
		return -ENOENT;
	}
	*root = r;
	return 0;
}

/* "12s", "4m05s", "3h07m", "2d04h". */
static void fmt_uptime(char *buf, size_t len, long long s)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, len, "%llds", s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
}

/* "12,13,14", at most MAX_PIDS_SHOWN of them then "+N"; "-" for none. */
static void fmt_pids(char *buf, size_t len, const json_t *pids)
{
	size_t n = json_array_size(pids), i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < n && i < MAX_PIDS_SHOWN && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%lld", i ? "," : "",
					(long long)json_integer_value(json_array_get(pids, i)));
	if (i < n && off < len)
		snprintf(buf + off, len - off, ",+%zu", n - i);
	if (!n)
		snprintf(buf, len, "-");
}

/* The probe families as a table. Returns 0 or -ENOMEM. */
static int print_probes(const json_t *probes, FILE *out)
{
	static const char *const head[] = {
	    "family", "mode", "events", "drops", "rate-limited", "no-owner", "programs",
	};
	size_t n = json_array_size(probes);
	struct vigil_table t;
	int err;

	if (!n) {
		fprintf(out, "probes: none attached\n");
		return 0;
	}
	err = vigil_table_init(&t, head, 7, 0x3c, n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		const json_t *p = json_array_get(probes, i);

		snprintf(vigil_table_cell(&t, i, 0), CELL, "%s", get_str(p, "family"));
		snprintf(vigil_table_cell(&t, i, 1), CELL, "%s", get_str(p, "mode"));
		snprintf(vigil_table_cell(&t, i, 2), CELL, "%lld", get_int(p, "events"));
		snprintf(vigil_table_cell(&t, i, 3), CELL, "%lld", get_int(p, "drops"));
		snprintf(vigil_table_cell(&t, i, 4), CELL, "%lld", get_int(p, "rate_limited"));
		snprintf(vigil_table_cell(&t, i, 5), CELL, "%lld", get_int(p, "no_owner"));
		snprintf(vigil_table_cell(&t, i, 6), CELL, "%s", get_str(p, "programs"));
	}
	vigil_table_print(&t, out);
	/* Records of unwatched processes the kernel chose not to send (observe-all). */
	for (size_t i = 0; i < n; i++) {
		const json_t *p = json_array_get(probes, i);

		if (get_int(p, "unwatched_limited") > 0 || get_int(p, "unwatched_shed") > 0)
			fprintf(out,
				"%s: observe-all records not sent: %lld over their comm's or "
				"cgroup's rate, %lld shed (ring buffer over half full)\n",
				get_str(p, "family"), get_int(p, "unwatched_limited"),
				get_int(p, "unwatched_shed"));
	}
	return 0;
}

/* The workloads as a table. Returns 0 or -ENOMEM. */
static int print_workloads(const json_t *wls, FILE *out)
{
	static const char *const head[] = {"workload", "pids", "established", "retransmits",
					   "latency"};
	size_t n = json_array_size(wls);
	struct vigil_table t;
	int err;

	if (!n) {
		fprintf(out, "workloads: none configured\n");
		return 0;
	}
	err = vigil_table_init(&t, head, 5, 0x0c, n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		const json_t *w = json_array_get(wls, i);
		const char *sys = get_str(w, "latency_syscalls");
		long long budget = get_int(w, "budget_ms");
		char *lat = vigil_table_cell(&t, i, 4);

		snprintf(vigil_table_cell(&t, i, 0), CELL, "%s", get_str(w, "name"));
		fmt_pids(vigil_table_cell(&t, i, 1), CELL, json_object_get(w, "pids"));
		snprintf(vigil_table_cell(&t, i, 2), CELL, "%lld", get_int(w, "established"));
		snprintf(vigil_table_cell(&t, i, 3), CELL, "%lld", get_int(w, "retransmits"));
		if (!*sys || !strcmp(sys, "-"))
			snprintf(lat, CELL, "-");
		else if (budget > 0)
			snprintf(lat, CELL, "%s (budget %lld ms)", sys, budget);
		else
			snprintf(lat, CELL, "%s", sys);
	}
	vigil_table_print(&t, out);
	return 0;
}

/* A queued sink's lines ("redis", "postgres", "otlp"): state, queue depth, spool size; or
 * "off". */
static void print_sink(const char *name, const json_t *r, FILE *out)
{
	char buf[256];

	if (!json_is_object(r)) {
		fprintf(out, "%-10s off\n", name);
		return;
	}
	fprintf(out,
		"%-10s %s %s: %lld written, queue %lld/%lld, spool %lld records (%lld bytes), "
		"%lld duplicates skipped\n",
		name, get_str(r, "state"), get_str(r, "url"), get_int(r, "written"),
		get_int(r, "queued"), get_int(r, "queue_max"), get_int(r, "spool_pending"),
		get_int(r, "spool_bytes"), get_int(r, "duplicates"));
	fprintf(out,
		"           lost: %lld queue full, %lld spool full, %lld rejected, %lld torn spool "
		"frames; %lld reordered, %lld reconnects\n",
		get_int(r, "queue_drops"), get_int(r, "spool_drops"), get_int(r, "rejected"),
		get_int(r, "spool_torn_frames"), get_int(r, "reordered"), get_int(r, "reconnects"));
	if (get_str(r, "last_error")[0])
		fprintf(out, "           last error: %s\n",
			vigil_term_safe(get_str(r, "last_error"), buf, sizeof(buf)));
}

/* The healer's state file (what it resumed, from where) and the fleet's knowledge cache. */
static void print_state(const json_t *st, const json_t *fl, FILE *out)
{
	char buf[256];

	if (json_is_object(st)) {
		fprintf(out,
			"state      %s, %lld writes, %lld write errors; resumed from %s: %lld "
			"breakers open, %lld pending heals, %lld awaiting approval",
			get_str(st, "path"), get_int(st, "writes"), get_int(st, "write_errors"),
			json_is_string(json_object_get(st, "resumed_from"))
			    ? get_str(st, "resumed_from")
			    : "nothing",
			get_int(st, "resumed_breakers_open"), get_int(st, "resumed_pending"),
			get_int(st, "resumed_awaiting"));
		if (get_int(st, "not_resumed"))
			fprintf(out, ", %lld not resumed (config changed)",
				get_int(st, "not_resumed"));
		fputc('\n', out);
	}
	if (!json_is_object(fl))
		return;
	fprintf(
	    out,
	    "fleet      %s: %lld entries, last load %s, %lld loads, %lld failed, %lld "
	    "refreshes\n",
	    json_is_true(json_object_get(fl, "usable")) ? "usable" : "not usable (local numbers)",
	    get_int(fl, "entries"),
	    json_is_string(json_object_get(fl, "last_load")) ? get_str(fl, "last_load") : "never",
	    get_int(fl, "loads"), get_int(fl, "load_errors"), get_int(fl, "refreshes"));
	if (get_str(fl, "last_error")[0])
		fprintf(out, "           last error: %s\n",
			vigil_term_safe(get_str(fl, "last_error"), buf, sizeof(buf)));
}

/* The rest of the journal's line (what a daemon that has them sends: its policy, each kind of
 * failure, rotations) and the stdout line (lines a stalled reader made vigil drop). */
static void print_journal(const json_t *jr, const json_t *so, FILE *out)
{
	if (json_object_get(jr, "records")) {
		fprintf(out,
			" (%lld no space, %lld short writes: %lld cut back, %lld left torn); %lld "
			"records, fsync %s",
			get_int(jr, "enospc"), get_int(jr, "short_writes"), get_int(jr, "cut_back"),
			get_int(jr, "torn"), get_int(jr, "records"), get_str(jr, "fsync"));
		if (get_int(jr, "max_bytes"))
			fprintf(out, ", rotated past %lld MiB (%lld kept): %lld rotations",
				get_int(jr, "max_bytes") >> 20, get_int(jr, "keep"),
				get_int(jr, "rotations"));
		if (get_int(jr, "rotate_errors") || get_int(jr, "reopen_errors") ||
		    get_int(jr, "fsync_errors"))
			fprintf(out, "; failed: %lld rotations, %lld reopens, %lld fsyncs",
				get_int(jr, "rotate_errors"), get_int(jr, "reopen_errors"),
				get_int(jr, "fsync_errors"));
		if (get_int(jr, "reopens"))
			fprintf(out, "; %lld reopens (SIGHUP)", get_int(jr, "reopens"));
		if (get_str(jr, "last_error")[0] && strcmp(get_str(jr, "last_error"), "-"))
			fprintf(out, "\n           last error: %s", get_str(jr, "last_error"));
	}
	fputc('\n', out);
	if (!json_is_object(so))
		return;
	fprintf(out, "stdout     %s%s: %lld lines, %lld dropped (reader behind), %lld errors\n",
		get_str(so, "mode"),
		json_is_true(json_object_get(so, "nonblocking")) ? ", non-blocking" : "",
		get_int(so, "lines"), get_int(so, "dropped"), get_int(so, "errors"));
}

/* Returns 0, -EINVAL for text that is not a status answer, -ENOENT for an error answer, or
 * -ENOMEM. */
int vigil_ctl_print_status(const char *json, FILE *out)
{
	const json_t *coll, *journal, *incs;
	json_t *root;
	char up[32];
	int err;

	err = parse_answer(json, out, &root);
	if (err)
		return err;
	fmt_uptime(up, sizeof(up), get_int(root, "uptime_s"));
	fprintf(out, "vigil %s on %s, up %s, config %s\n\n", get_str(root, "version"),
		get_str(root, "node"), up, get_str(root, "config"));
	err = print_probes(json_object_get(root, "probes"), out);
	if (err)
		goto out;
	coll = json_object_get(root, "collector");
	fprintf(out,
		"\ncollector  %lld records, %lld short, %lld bad version, %lld unknown kind, "
		"%lld bad size",
		get_int(coll, "records"), get_int(coll, "short"), get_int(coll, "bad_version"),
		get_int(coll, "unknown"), get_int(coll, "bad_size"));
	/* Fields a newer daemon adds are shown when it sends them. */
	if (json_object_get(coll, "dup_exits"))
		fprintf(out, ", %lld repeated exits", get_int(coll, "dup_exits"));
	if (json_object_get(coll, "wakeups"))
		fprintf(out, "; %lld wake-ups, %lld timed drains", get_int(coll, "wakeups"),
			get_int(coll, "timed_drains"));
	fputc('\n', out);
	journal = json_object_get(root, "journal");
	fprintf(out, "journal    %s, %lld errors", get_str(journal, "path"),
		get_int(journal, "errors"));
	print_journal(journal, json_object_get(root, "stdout"), out);
	if (json_is_object(json_object_get(root, "knowledge"))) {
		const json_t *k = json_object_get(root, "knowledge");

		fprintf(out, "knowledge  %s, %lld entries, %lld evicted, %lld write errors\n",
			get_str(k, "path"), get_int(k, "entries"), get_int(k, "evicted"),
			get_int(k, "write_errors"));
	}
	print_sink("redis", json_object_get(root, "redis"), out);
	if (json_is_object(json_object_get(root, "postgres")))
		print_sink("postgres", json_object_get(root, "postgres"), out);
	if (json_is_object(json_object_get(root, "otlp")))
		print_sink("otlp", json_object_get(root, "otlp"), out);
	print_state(json_object_get(root, "state"), json_object_get(root, "fleet"), out);
	if (json_is_object(json_object_get(root, "http"))) {
		const json_t *h = json_object_get(root, "http");

		fprintf(out, "http       %s (port %lld): %lld answered, %lld unknown paths\n",
			get_str(h, "listen"), get_int(h, "port"), get_int(h, "answered"),
			get_int(h, "not_found"));
	}
	if (json_is_true(json_object_get(json_object_get(root, "k8s"), "enabled"))) {
		const json_t *k = json_object_get(root, "k8s");

		fprintf(
		    out,
		    "k8s        %lld processes read, %lld in pods (%lld named by the runtime, %lld "
		    "by their own files, %lld unnamed); %lld gone first, %lld refused; %lld kept "
		    "(at most %lld), %lld evicted\n",
		    get_int(k, "learned"), get_int(k, "in_pods"), get_int(k, "from_runtime"),
		    get_int(k, "from_proc"), get_int(k, "unnamed"), get_int(k, "unreadable"),
		    get_int(k, "refused"), get_int(k, "entries"), get_int(k, "max"),
		    get_int(k, "evicted"));
	}
	incs = json_object_get(root, "incidents");
	fprintf(out, "incidents  %lld live", get_int(incs, "live"));
	if (json_object_get(incs, "max"))
		fprintf(out, " (at most %lld, peak %lld)", get_int(incs, "max"),
			get_int(incs, "peak"));
	if (json_object_get(incs, "opened"))
		fprintf(out, ", %lld opened since start", get_int(incs, "opened"));
	/* The table at its cap: who left for newer ones, and what found no room at all. */
	if (get_int(incs, "evicted") || get_int(incs, "dropped"))
		fprintf(out, ", %lld evicted (least recently seen), %lld dropped (all held)",
			get_int(incs, "evicted"), get_int(incs, "dropped"));
	/* A refused lifecycle transition is a bug in vigil: never hidden. */
	if (get_int(incs, "bad_transitions"))
		fprintf(out, ", %lld invalid state transitions (a bug: see vigil's stderr)",
			get_int(incs, "bad_transitions"));
	fputc('\n', out);
	if (get_int(json_object_get(root, "loop"), "timerfd_errors"))
		fprintf(out, "loop       %lld timerfd errors (epoll's timeout stood in)\n",
			get_int(json_object_get(root, "loop"), "timerfd_errors"));
	fputc('\n', out);
	err = print_workloads(json_object_get(root, "workloads"), out);
out:
	json_decref(root);
	return err;
}

/* A duration in ns, in the unit that gives it 1 to 3 integer digits. */
static void fmt_ns(char *buf, size_t len, double ns)
{
	if (ns < 1e3)
		snprintf(buf, len, "%.0f ns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.1f us", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, len, "%.1f ms", ns / 1e6);
	else
		snprintf(buf, len, "%.2f s", ns / 1e9);
}

/* One histogram: its calls and average, then its bars (hist.h). Returns 0, or -EINVAL for a
 * histogram without a slots array. */
static int print_hist(const char *wl, long long budget, const json_t *h, FILE *out)
{
	const json_t *js = json_object_get(h, "slots");
	size_t n = json_array_size(js), i;
	unsigned long long slot[VIGIL_HIST_SLOTS] = {}, total = 0, count;
	const char *sys = get_str(h, "syscall");
	char avg[32];

	if (!json_is_array(js) || n > VIGIL_HIST_SLOTS)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		long long v = (long long)json_integer_value(json_array_get(js, i));

		slot[i] = v > 0 ? (unsigned long long)v : 0;
		total += slot[i];
	}
	count = get_int(h, "count") > 0 ? (unsigned long long)get_int(h, "count") : total;
	if (!count) {
		fprintf(out, "%s %s: no calls\n", wl, sys);
		return 0;
	}
	fmt_ns(avg, sizeof(avg), (double)get_int(h, "sum_ns") / (double)count);
	fprintf(out, "%s %s: %llu calls, avg %s", wl, sys, count, avg);
	if (budget > 0)
		fprintf(out, ", budget %lld ms", budget);
	fputc('\n', out);
	vigil_hist_draw(out, slot, n);
	return 0;
}

/* Returns 0, -EINVAL for text that is not a latency answer, or -ENOENT for an error answer. */
int vigil_ctl_print_latency(const char *json, FILE *out)
{
	const json_t *wls;
	json_t *root;
	size_t printed = 0;
	int err;

	err = parse_answer(json, out, &root);
	if (err)
		return err;
	wls = json_object_get(root, "workloads");
	if (!json_is_array(wls)) {
		err = -EINVAL;
		goto out;
	}
	for (size_t i = 0; i < json_array_size(wls) && !err; i++) {
		const json_t *w = json_array_get(wls, i);
		const json_t *hs = json_object_get(w, "histograms");
		const char *name = get_str(w, "name");

		if (!json_array_size(hs)) {
			fprintf(out, "%s%s: no syscall latency tracked\n", printed++ ? "\n" : "",
				name);
			continue;
		}
		for (size_t k = 0; k < json_array_size(hs) && !err; k++) {
			if (printed++)
				fputc('\n', out);
			err = print_hist(name, get_int(w, "budget_ms"), json_array_get(hs, k), out);
		}
	}
	if (!printed)
		fprintf(out, "no workload tracks syscall latency\n");
out:
	json_decref(root);
	return err;
}

/* "5s", "3m", "2h", "1d": the largest whole unit. */
static void fmt_age(char *buf, size_t len, long long s)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, len, "%llds", s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm", s / 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh", s / 3600);
	else
		snprintf(buf, len, "%lldd", s / 86400);
}

/* Returns 0, -EINVAL for text that is not an incidents answer, -ENOENT for an error answer,
 * or -ENOMEM. */
int vigil_ctl_print_incidents(const char *json, FILE *out)
{
	static const char *const head[] = {"ID", "STATE", "COUNT", "AGE", "TITLE"};
	const json_t *list;
	struct vigil_table t;
	json_t *root;
	size_t n;
	int err;

	err = parse_answer(json, out, &root);
	if (err)
		return err;
	list = json_object_get(root, "incidents");
	n = json_array_size(list);
	if (!json_is_array(list)) {
		err = -EINVAL;
		goto out;
	}
	if (!n) {
		fprintf(out, "no incidents\n");
		goto out;
	}
	err = vigil_table_init(&t, head, 5, 0x0c, n);
	if (err)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const json_t *inc = json_array_get(list, i);
		char title[CELL];

		vigil_term_safe(get_str(inc, "id"), vigil_table_cell(&t, i, 0), CELL);
		vigil_term_safe(get_str(inc, "state"), vigil_table_cell(&t, i, 1), CELL);
		snprintf(vigil_table_cell(&t, i, 2), CELL, "%lld", get_int(inc, "count"));
		fmt_age(vigil_table_cell(&t, i, 3), CELL, get_int(inc, "age_s"));
		vigil_term_safe(get_str(inc, "title"), title, sizeof(title));
		/* Kernel events of the workload were lost around it: its chain may miss some. */
		snprintf(vigil_table_cell(&t, i, 4), CELL, "%.*s%s", CELL - 9, title,
			 json_is_true(json_object_get(inc, "lossy")) ? " [lossy]" : "");
	}
	vigil_table_print(&t, out);
out:
	json_decref(root);
	return err;
}

/* "opened": an id is the wall-clock ms of its opening in 12 hex digits, then a sequence
 * number in 4 (incidents.h). Prints nothing for an id of another shape. */
static void print_opened(const char *id, FILE *out)
{
	unsigned long long ms;
	char ts[32];
	struct tm tm;
	time_t sec;

	if (strlen(id) != 16 || strspn(id, "0123456789abcdef") != 16 ||
	    sscanf(id, "%12llx", &ms) != 1)
		return;
	sec = (time_t)(ms / 1000);
	if (!gmtime_r(&sec, &tm) || !strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm))
		return;
	fprintf(out, "%-10s %s.%03lluZ\n", "opened", ts, ms % 1000);
}

/* The requests it broke: "trace     4bf9... (the faulting request, http), span 00f0..." and one
 * line per other trace id. Nothing without trace_ids. */
static void print_trace(const json_t *root, FILE *out)
{
	const json_t *ids = json_object_get(root, "trace_ids");
	char buf[128], src[16], span[40];

	if (!json_array_size(ids))
		return;
	vigil_term_safe(get_str(root, "trace_source"), src, sizeof(src));
	vigil_term_safe(get_str(root, "span_id"), span, sizeof(span));
	for (size_t i = 0; i < json_array_size(ids); i++) {
		vigil_term_safe(json_string_value(json_array_get(ids, i)), buf, sizeof(buf));
		if (!i)
			fprintf(out, "%-10s %s (%s), span %s\n", "trace", buf, src, span);
		else
			fprintf(out, "%-10s %s (also in flight)\n", "", buf);
	}
}

/* The causal chain, oldest first: "  -1234 ms  conn_refused 10.0.0.5:5432 (pid 42)", the
 * offsets aligned on the widest. */
static void print_chain(const json_t *chain, FILE *out)
{
	size_t n = json_array_size(chain);
	char label[64], detail[128], ms[32];
	int width = 0;

	if (!n) {
		fprintf(out, "%-10s none\n", "chain");
		return;
	}
	fprintf(out, "%-10s %zu earlier event%s of the workload, oldest first\n", "chain", n,
		n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(ms, sizeof(ms), "-%lld",
				 get_int(json_array_get(chain, i), "before_ms"));

		width = w > width ? w : width;
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *c = json_array_get(chain, i);
		const char *d = vigil_term_safe(get_str(c, "detail"), detail, sizeof(detail));
		long long pid = get_int(c, "pid");

		snprintf(ms, sizeof(ms), "-%lld", get_int(c, "before_ms"));
		fprintf(out, "  %*s ms  %s", width, ms,
			vigil_term_safe(get_str(c, "class"), label, sizeof(label)));
		if (d[0] && strcmp(d, "-"))
			fprintf(out, " %s", d);
		if (pid > 0)
			fprintf(out, " (pid %lld)", pid);
		fputc('\n', out);
	}
}

/* Returns 0, -EINVAL for text that is not an incident record, or -ENOENT for an error
 * answer. */
int vigil_ctl_print_incident(const char *json, FILE *out)
{
	static const char *const first[] = {"id", "signature", "class", "state"};
	const json_t *id;
	json_t *root;
	char buf[CELL];
	const char *sig;
	long long signal, code;
	int err;

	err = parse_answer(json, out, &root);
	if (err)
		return err;
	id = json_object_get(root, "id");
	if (!json_is_string(id)) {
		err = -EINVAL;
		goto out;
	}
	fprintf(out, "%s\n", vigil_term_safe(get_str(root, "title"), buf, sizeof(buf)));
	for (size_t i = 0; i < sizeof(first) / sizeof(first[0]); i++)
		fprintf(out, "%-10s %s\n", first[i],
			vigil_term_safe(get_str(root, first[i]), buf, sizeof(buf)));
	fprintf(out, "%-10s %lld\n", "count", get_int(root, "count"));
	fprintf(out, "%-10s %s\n", "workload",
		vigil_term_safe(get_str(root, "workload"), buf, sizeof(buf)));
	if (get_int(root, "pid") > 0)
		fprintf(out, "%-10s %lld (the last event's)\n", "pid", get_int(root, "pid"));
	signal = get_int(root, "signal");
	code = get_int(root, "exit_code");
	sig = signal > 0 && signal < 65 ? sigabbrev_np((int)signal) : NULL;
	if (signal > 0)
		fprintf(out, "%-10s %s%s (%lld)\n", "signal", sig ? "SIG" : "", sig ? sig : "?",
			signal);
	else if (code)
		fprintf(out, "%-10s %lld\n", "exit code", code);
	fprintf(out, "%-10s in %lld us\n", "detected", get_int(root, "detect_us"));
	print_trace(root, out);
	if (json_object_get(root, "replaced_after_ms"))
		fprintf(out, "%-10s %lld ms after the fault (the new process's exec)\n", "replaced",
			get_int(root, "replaced_after_ms"));
	if (json_object_get(root, "recovery_ms"))
		fprintf(out, "%-10s in %lld ms\n", "recovered", get_int(root, "recovery_ms"));
	if (json_is_true(json_object_get(root, "lossy")))
		fprintf(out, "%-10s yes: %lld kernel events of the workload lost around it\n",
			"lossy", get_int(root, "lost"));
	else
		fprintf(out, "%-10s no\n", "lossy");
	fprintf(out, "%-10s %s\n", "node",
		vigil_term_safe(get_str(root, "node"), buf, sizeof(buf)));
	print_opened(json_string_value(id), out);
	fprintf(out, "%-10s %s\n", "as of", vigil_term_safe(get_str(root, "ts"), buf, sizeof(buf)));
	print_chain(json_object_get(root, "chain"), out);
out:
	json_decref(root);
	return err;
}
