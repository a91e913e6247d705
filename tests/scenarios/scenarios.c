// SPDX-License-Identifier: Apache-2.0
/*
 * The fault scenario suite (issue 4): one real build/vigil, one workload per scenario, real
 * faults (faulty.c causes them), an unwatched busy workload beside them all along — and at the
 * end a table of what was expected, what vigil reported and how fast, with recall, the
 * false-positive rate and detection-time percentiles.
 *
 * Nothing negative is concluded by waiting: the report is made after a watched sentinel fault
 * caused after everything else is in the journal (the ring buffer is ordered), and rate
 * faults, which are judged on vigil's 1 s tick rather than through the ring buffer, are
 * settled from the kernel's own counters (vigil status).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "scenarios.h"

/* vigil's own threshold (userspace/daemon_int.h): fewer retransmits than this in all can never
 * make a retransmits incident, whatever the interval. */
#define RETRANSMITS_PER_S 10
/* Far more incidents than the scenarios can open: reaching it is a failure in itself. */
#define MAX_INCIDENTS 512

static const char config[] = "observe_all: false\n"
			     "window: 60s\n"
			     "workloads:\n"
			     "  - { name: sc-segv, match: { comm: sc-segv } }\n"
			     "  - { name: sc-abort, match: { comm: sc-abort } }\n"
			     "  - { name: sc-exit, match: { comm: sc-exit } }\n"
			     "  - { name: sc-oom, match: { comm: sc-oom } }\n"
			     "  - { name: sc-loop, match: { comm: sc-loop } }\n"
			     "  - { name: sc-refused, match: { comm: sc-refused } }\n"
			     "  - { name: sc-reset, match: { comm: sc-reset } }\n"
			     "  - { name: sc-timeout, match: { comm: sc-timeout } }\n"
			     "  - name: sc-slow\n"
			     "    match: { comm: sc-slow }\n"
			     "    latency: { syscalls: [read], budget_ms: 100 }\n"
			     "  - { name: sc-retx, match: { comm: sc-retx } }\n"
			     "  - { name: sc-sentinel, match: { comm: sc-sentinel } }\n";

/* What each scenario must report, in table order (aligned by hand: clang-format packs it). */
/* clang-format off */
struct sc_scenario sc_scenarios[SC_N] = {
	[SC_SEGV]	= { "segfault",		"sc-segv",	{ { "crash", 1, 1 } } },
	[SC_ABORT]	= { "abort+core",	"sc-abort",	{ { "crash", 1, 1 } } },
	[SC_EXIT]	= { "exit code",	"sc-exit",	{ { "exit_nonzero", 1, 1 } } },
	[SC_OOM]	= { "oom kill",		"sc-oom",	{ { "oom_kill", 1, 1 } } },
	[SC_LOOP]	= { "crash loop",	"sc-loop",	{ { "crash_loop", 1, 1 },
							  { "exit_nonzero", 3, 3 } } },
	/* Twenty at once from a workload that never had one: also a rate anomaly (one or two
	 * ticks), an incident of its own (detail "rate"). */
	[SC_REFUSED]	= { "refused x20",	"sc-refused",	{ { "conn_refused", 20, 20 },
							  { "conn_refused", 1, 2, "rate" } } },
	[SC_RESET]	= { "reset storm x20",	"sc-reset",	{ { "conn_reset", 20, 20 },
							  { "conn_reset", 1, 2, "rate" } } },
	[SC_TIMEOUT]	= { "connect timeout",	"sc-timeout",	{ { "conn_timeout", 1, 1 } } },
	[SC_SLOW]	= { "slow read",	"sc-slow",	{ { "syscall_slow", 1, 1 } } },
	/* One incident, counted once per 1 s tick over the threshold: the SYN rounds at 1 s
	 * and 2 s (linear SYN timeouts) fall in one to three ticks. */
	[SC_RETX]	= { "retransmit burst",	"sc-retx",	{ { "retransmits", 1, 3 } } },
	[SC_NOISE]	= { "noise (unwatched)", "sc-noise",	{ { NULL } } },
};
/* clang-format on */

int sc_reap(pid_t pid)
{
	int status = 0;

	waitpid(pid, &status, 0);
	return status;
}

/* The highest count any record of incident id carries in the journal so far. */
static long max_record_count(struct vt *v, const char *id)
{
	long max = 0;

	vt_count(v, "incident", NULL); /* read what the journal gained */
	for (size_t i = 0; i < json_array_size(v->records); i++) {
		json_t *rec = json_array_get(v->records, i);

		if (!strcmp(vt_str(rec, "type"), "incident") && !strcmp(vt_str(rec, "id"), id) &&
		    vt_int(rec, "count") > max)
			max = vt_int(rec, "count");
	}
	return max;
}

/*
 * The incident record is re-written only at counts 1, 2, 4, 8, ...: past that the count is
 * the number of events with its signature (one incident per signature here: the window is
 * longer than the run). Derived classes (crash_loop) have no events of their own.
 */
long sc_count(struct vt *v, json_t *inc)
{
	long recs = max_record_count(v, vt_str(inc, "id"));
	long events = vt_count(v, "event", "workload", vt_str(inc, "workload"), "signature",
			       vt_str(inc, "signature"), NULL);

	return events > recs ? events : recs;
}

json_t *sc_expect(struct vt *v, enum sc_id id)
{
	const struct sc_scenario *s = &sc_scenarios[id];
	json_t *first = NULL;

	for (int k = 0; k < SC_MAX_EXPECT && s->expect[k].cls; k++) {
		const struct sc_expect *e = &s->expect[k];
		uint64_t deadline = vt_mono_ns() + SC_WAIT_MS * 1000000ull;
		json_t *inc;
		long n;

		if (e->detail)
			inc = vt_wait(v, SC_WAIT_MS, "incident", "workload", s->workload, "class",
				      e->cls, "detail", e->detail, NULL);
		else
			inc = vt_wait(v, SC_WAIT_MS, "incident", "workload", s->workload, "class",
				      e->cls, NULL);
		if (!inc)
			fail_msg("%s: no %s incident of %s", s->name, e->cls, s->workload);
		while ((n = sc_count(v, inc)) < e->min && vt_mono_ns() < deadline)
			usleep(5000);
		if (n < e->min || n > e->max)
			fail_msg("%s: %s count %ld, expected %ld..%ld", s->name, e->cls, n, e->min,
				 e->max);
		if (!first)
			first = inc;
	}
	return first;
}

/* --- the report ------------------------------------------------------------------------- */

struct seen {
	json_t *open; /* the incident's first record */
	long count;
	bool expected;
};

struct totals {
	int expected, found, incidents, unexpected, n_detect;
	double detect_ms[SC_N * SC_MAX_EXPECT];
	const char *detect_cls[SC_N * SC_MAX_EXPECT]; /* the class of each detect_ms */
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile (p in %) of n sorted values. */
static double percentile(const double *v, int n, int p)
{
	int rank = (p * n + 99) / 100;

	return n ? v[rank < 1 ? 0 : rank - 1] : 0;
}

/* Every distinct incident of the journal, by its opening record. Returns how many. */
static size_t collect(struct vt *v, struct seen *out, size_t max)
{
	size_t n = 0, k;

	vt_count(v, "incident", NULL);
	for (size_t i = 0; i < json_array_size(v->records); i++) {
		json_t *rec = json_array_get(v->records, i);

		if (strcmp(vt_str(rec, "type"), "incident"))
			continue;
		for (k = 0; k < n && strcmp(vt_str(out[k].open, "id"), vt_str(rec, "id")); k++)
			;
		if (k == n && n < max) {
			out[n].open = rec;
			out[n].count = sc_count(v, rec);
			out[n].expected = false;
			n++;
		}
	}
	return n;
}

static void line(const char *name, const char *want, const char *got, const char *ms)
{
	printf("%-19s %-20s %-25s %s\n", name, want, got, ms);
}

/* "class xN", "class xN-M" */
static void expect_text(const struct sc_expect *e, char *buf, size_t len)
{
	const char *d = e->detail ? " " : "", *dd = e->detail ? e->detail : "";

	if (e->min == e->max)
		snprintf(buf, len, "%s%s%s x%ld", e->cls, d, dd, e->min);
	else
		snprintf(buf, len, "%s%s%s x%ld-%ld", e->cls, d, dd, e->min, e->max);
}

/*
 * A scenario's lines: one per expected incident, beside the incident of its workload and
 * class that vigil opened (the first one: a second is not expected), then one per incident of
 * its workload that nobody expected, marked (!). Adds to the totals.
 */
static void row(const struct sc_scenario *s, struct seen *inc, size_t n, struct totals *t)
{
	const char *name = s->name;
	char want[48], got[48], ms[16];
	bool within;
	int k;

	for (k = 0; k < SC_MAX_EXPECT && s->expect[k].cls; k++) {
		const struct sc_expect *e = &s->expect[k];

		expect_text(e, want, sizeof(want));
		snprintf(got, sizeof(got), "%s", s->skipped ? "skipped" : "none");
		snprintf(ms, sizeof(ms), "-");
		for (size_t i = 0; i < n && !s->skipped; i++) {
			long long us = vt_int(inc[i].open, "detect_us");

			if (inc[i].expected ||
			    strcmp(vt_str(inc[i].open, "workload"), s->workload) ||
			    strcmp(vt_str(inc[i].open, "class"), e->cls) ||
			    (e->detail && strcmp(vt_str(inc[i].open, "detail"), e->detail)))
				continue;
			inc[i].expected = true;
			within = inc[i].count >= e->min && inc[i].count <= e->max;
			t->found += within;
			t->incidents++;
			t->detect_cls[t->n_detect] = e->cls;
			t->detect_ms[t->n_detect++] = us / 1000.0;
			snprintf(got, sizeof(got), "%s%s%s x%ld%s", e->cls, e->detail ? " " : "",
				 e->detail ? e->detail : "", inc[i].count,
				 within ? "" : " (count!)");
			snprintf(ms, sizeof(ms), "%.3f", us / 1000.0);
			break;
		}
		t->expected += !s->skipped;
		line(name, want, got, ms);
		name = "";
	}
	for (size_t i = 0; i < n; i++) {
		if (inc[i].expected || strcmp(vt_str(inc[i].open, "workload"), s->workload))
			continue;
		snprintf(got, sizeof(got), "%s x%ld (!)", vt_str(inc[i].open, "class"),
			 inc[i].count);
		snprintf(ms, sizeof(ms), "%.3f", vt_int(inc[i].open, "detect_us") / 1000.0);
		line(name, k ? "" : "none", got, ms);
		name = "";
		t->incidents++;
		t->unexpected++;
	}
	if (!k && name[0])
		line(name, "none", "none", "-");
}

/* Detection p50 and p99 of each class found (issue 15's target: p99 < 5 ms for every class;
 * reported, not enforced: a timing is the benchmarks' business, never a test's verdict). */
static void per_class(const struct totals *t)
{
	const char *done[SC_N * SC_MAX_EXPECT];
	int n_done = 0;

	printf("\nclass             incidents  p50 ms     p99 ms     (target p99 < 5 ms)\n");
	for (int i = 0; i < t->n_detect; i++) {
		double v[SC_N * SC_MAX_EXPECT];
		bool seen = false;
		int n = 0;

		for (int k = 0; k < n_done; k++)
			seen |= !strcmp(done[k], t->detect_cls[i]);
		if (seen)
			continue;
		done[n_done++] = t->detect_cls[i];
		for (int k = 0; k < t->n_detect; k++)
			if (!strcmp(t->detect_cls[k], t->detect_cls[i]))
				v[n++] = t->detect_ms[k];
		qsort(v, n, sizeof(double), cmp_double);
		printf("%-17s %9d  %-9.3f  %-9.3f  %s\n", t->detect_cls[i], n, percentile(v, n, 50),
		       percentile(v, n, 99), percentile(v, n, 99) < 5 ? "PASS" : "MISS");
	}
}

/* `vigil report` of the suite's journal, as it prints: the success metrics of what just ran.
 * Returns its exit status. */
static int vigil_report(const struct vt *v)
{
	char cmd[1024], line[512];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s report --journal %s 2>&1", v->vigil_bin, v->journal);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	printf("\n$ vigil report --journal <the suite's journal>\n");
	while (fgets(line, sizeof(line), p))
		printf("%s", line);
	return pclose(p);
}

/* Print the table and totals; returns false when recall < 100 % or any false positive. */
static bool report(struct vt *v)
{
	struct seen inc[MAX_INCIDENTS];
	struct totals t = {};
	size_t n = collect(v, inc, MAX_INCIDENTS);
	double recall, fp_rate, p50, p99, sorted[SC_N * SC_MAX_EXPECT];
	int others = 0;

	if (n == MAX_INCIDENTS) {
		printf("    more than %d incidents: a storm of false positives\n",
		       MAX_INCIDENTS - 1);
		return false;
	}
	printf("\n");
	line("scenario", "expected", "got", "detect ms");
	for (int id = 0; id < SC_N; id++)
		row(&sc_scenarios[id], inc, n, &t);
	/* Anything else, but the sentinel's own, is a false positive of no scenario. */
	for (size_t i = 0; i < n; i++) {
		const char *w = vt_str(inc[i].open, "workload");
		bool known = !strcmp(w, "sc-sentinel");

		for (int id = 0; id < SC_N; id++)
			known |= !strcmp(w, sc_scenarios[id].workload);
		if (!known) {
			char got[80];

			snprintf(got, sizeof(got), "%s %s x%ld (!)", w,
				 vt_str(inc[i].open, "class"), inc[i].count);
			line("(other workload)", "none", got, "-");
			others++;
		}
	}
	t.incidents += others;
	t.unexpected += others;
	/* Sorted apart: detect_ms stays beside detect_cls for the per-class lines. */
	memcpy(sorted, t.detect_ms, sizeof(sorted));
	qsort(sorted, t.n_detect, sizeof(double), cmp_double);
	recall = t.expected ? 100.0 * t.found / t.expected : 0;
	fp_rate = t.incidents ? 100.0 * t.unexpected / t.incidents : 0;
	p50 = percentile(sorted, t.n_detect, 50);
	p99 = percentile(sorted, t.n_detect, 99);
	printf("\nrecall           %d/%d expected incidents found = %.1f %%  (target 100 %%)  %s\n",
	       t.found, t.expected, recall, t.found == t.expected ? "PASS" : "MISS");
	printf("false positives  %d/%d incidents unexpected = %.1f %%  (target 0)  %s\n",
	       t.unexpected, t.incidents, fp_rate, t.unexpected ? "MISS" : "PASS");
	printf("detection p50    %.3f ms  (kernel event -> incident open, %d incidents)\n", p50,
	       t.n_detect);
	printf("detection p99    %.3f ms  (target < 50 ms, reported, not enforced)  %s\n", p99,
	       p99 < 50 ? "PASS" : "MISS");
	per_class(&t);
	printf("\n");
	return t.found == t.expected && !t.unexpected;
}

/* --- the noise, the sentinel and the verdict ------------------------------------------- */

static void stop_noise(struct sc_fixture *f, long *procs, long *conns, long *failures)
{
	FILE *fp;
	int status;

	*procs = *conns = *failures = -1;
	if (f->noise <= 0)
		return;
	kill(f->noise, SIGTERM);
	status = sc_reap(f->noise);
	f->noise = -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail_msg("noise ended with status 0x%x", status);
	fp = fopen(f->noise_out, "r");
	if (!fp || fscanf(fp, "%ld %ld %ld", procs, conns, failures) != 3)
		fail_msg("noise wrote no account to %s", f->noise_out);
	fclose(fp);
}

long long sc_retransmits(struct vt *v, const char *workload)
{
	json_t *st = vt_ctl(v, "status", NULL), *list = json_object_get(st, "workloads");
	long long n = -1;

	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *w = json_array_get(list, i);

		if (!strcmp(vt_str(w, "name"), workload))
			n = vt_int(w, "retransmits");
	}
	json_decref(st);
	return n;
}

/*
 * Scenario 11 and the verdict. The noise ran beside every scenario; stop it, then cause the
 * sentinel: once its incident is in, every earlier exit, socket and slow-syscall record is.
 * Rate faults come from the tick instead: a workload whose kernel retransmit count is below
 * the threshold in total can never have one, now or later.
 */
static void test_noise_and_report(void **state)
{
	static const char *const sentinel[] = {"exit", "42", NULL};
	struct sc_fixture *f = *state;
	struct vt *v = &f->v;
	long procs, conns, failures;
	long long rt;

	stop_noise(f, &procs, &conns, &failures);
	sc_reap(vt_run(v, "sc-sentinel", sentinel));
	assert_non_null(vt_wait(v, SC_WAIT_MS, "incident", "workload", "sc-sentinel", "class",
				"exit_nonzero", NULL));
	for (int id = 0; id < SC_N; id++) {
		const char *w = sc_scenarios[id].workload;

		if (id == SC_RETX || id == SC_NOISE)
			continue;
		rt = sc_retransmits(v, w);
		assert_true(rt >= 0);
		if (rt >= RETRANSMITS_PER_S)
			fail_msg("%s: %lld retransmits could still make an incident", w, rt);
	}
	printf("    noise: %ld clean processes and %ld clean loopback connections beside the "
	       "scenarios (%ld went wrong); vigil recorded %d events of it\n",
	       procs, conns, failures, vt_count(v, "event", "comm", "sc-noise", NULL));
	assert_int_equal(failures, 0);
	assert_true(procs >= 100);
	assert_int_equal(vt_count(v, "event", "comm", "sc-noise", NULL), 0);
	assert_int_equal(vt_count(v, "incident", "workload", "sc-noise", NULL), 0);
	if (!report(v))
		fail_msg("recall below 100 %% or a false positive: see the table");
	assert_int_equal(vigil_report(v), 0);
}

static int setup(void **state)
{
	struct sc_fixture *f = calloc(1, sizeof(*f));

	if (!f || vt_init(&f->v) || vt_start(&f->v, config, NULL))
		return -1;
	snprintf(f->noise_out, sizeof(f->noise_out), "%s/noise.out", f->v.dir);
	{
		const char *const args[] = {"noise", f->noise_out, NULL};

		f->noise = vt_run(&f->v, "sc-noise", args);
	}
	*state = f;
	return f->noise > 0 ? 0 : -1;
}

static int teardown(void **state)
{
	struct sc_fixture *f = *state;
	int rc;

	if (f->noise > 0) {
		kill(f->noise, SIGKILL);
		sc_reap(f->noise);
	}
	rc = vt_stop(&f->v);
	if (rc)
		fprintf(stderr, "vigil exited with %d:\n%s\n", rc, f->v.errbuf);
	vt_fini(&f->v);
	free(f);
	return rc ? -1 : 0;
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sc_test_segfault),
		cmocka_unit_test(sc_test_abort_core),
		cmocka_unit_test(sc_test_exit_code),
		cmocka_unit_test(sc_test_oom_kill),
		cmocka_unit_test(sc_test_crash_loop),
		cmocka_unit_test(sc_test_refused),
		cmocka_unit_test(sc_test_reset_storm),
		cmocka_unit_test(sc_test_connect_timeout),
		cmocka_unit_test(sc_test_slow_read),
		cmocka_unit_test(sc_test_retransmits),
		cmocka_unit_test(test_noise_and_report), /* last: stops the noise, then reports */
	};
	/* clang-format on */

	if (geteuid() != 0) {
		fprintf(stderr, "scenarios: must run as root (loads BPF programs)\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	return cmocka_run_group_tests_name("fault scenarios", tests, setup, teardown);
}
