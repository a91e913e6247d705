// SPDX-License-Identifier: Apache-2.0
/*
 * Unit: the healer's policy on an event loop with a manual clock and real child processes —
 * autonomy levels, restart verification, exec failures, the circuit breaker and its records,
 * the backoff table, the quiet window and the stop of a live process, and the choice between
 * two actions by what the knowledge store learned. The audit trail it writes (a journal in a
 * scratch file) is what the tests read back.
 *
 * Time is the manual clock's: delays, backoff, cooldowns, the quiet window and verify windows
 * pass when a test moves it (advance()). Children are real (/bin/sleep, an exec that fails, a
 * live process to stop): the loop collects what they do with short real waits.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bad_exec.h"

#include "heal/action.h"
#include "heal/healer.h"
#include "heal/knowledge.h"
#include "records.h"
#include "heal/restart.h"

struct env {
	struct vigil_manual_clock mc;
	struct vigil_config *cfg;
	struct vigil_loop *loop;
	struct vigil_output *sinks;
	struct vigil_healer *h;
	struct vigil_incidents *incs;
	struct vigil_knowledge *know; /* NULL unless the test gives the healer a store */
	char journal[64];
	char know_path[64];
	int watched;	/* how often the watch callback ran */
	uint64_t lost;	/* kernel events the lost hook reports for every new incident */
	pid_t live;	/* the process the probe says is the workload's */
	uint64_t conns; /* the inbound connections the probe reports */
	/* what the probe was last asked: the ports (quiet.ports) */
	int busy; /* what the probe says of the busy key: 1 set, 0 absent, -1 unknown */
	unsigned int asked_ports;
	uint16_t asked_port0;
	pid_t mine[8]; /* the workload's other processes, as the kernel's watched set has them: */
	int n_mine;    /* what the healer watched, and what a test adds (own()) */
};

/* pid is in the workload's watched set from now on (as the kernel would have it). */
static void own(struct env *e, pid_t pid)
{
	assert_true(e->n_mine < 8);
	e->mine[e->n_mine++] = pid;
}

static void disown(struct env *e, pid_t pid)
{
	for (int i = 0; i < e->n_mine; i++)
		if (e->mine[i] == pid)
			e->mine[i] = -1;
}

static int count_watch(unsigned int workload, pid_t pid, void *arg)
{
	struct env *e = arg;

	(void)workload;
	e->watched++;
	own(e, pid);
	return 0;
}

static uint64_t probe_conversations(unsigned int workload, const uint16_t *ports, unsigned int n,
				    void *arg)
{
	struct env *e = arg;

	(void)workload;
	e->asked_ports = n;
	e->asked_port0 = n ? ports[0] : 0;
	return e->conns;
}

static int probe_busy(unsigned int workload, void *arg)
{
	(void)workload;
	return ((struct env *)arg)->busy;
}

static bool probe_owns(unsigned int workload, pid_t pid, void *arg)
{
	struct env *e = arg;

	for (int i = 0; workload == 1 && pid > 0 && i < e->n_mine; i++)
		if (e->mine[i] == pid)
			return true;
	return workload == 1 && pid > 0 && pid == e->live;
}

/* The watched set: the live process, then the others. */
static size_t probe_pids(unsigned int workload, pid_t *out, size_t max, void *arg)
{
	struct env *e = arg;
	size_t n = 0;

	if (workload != 1)
		return 0;
	if (e->live > 0 && n < max)
		out[n++] = e->live;
	for (int i = 0; i < e->n_mine && n < max; i++)
		if (e->mine[i] > 0)
			out[n++] = e->mine[i];
	return n;
}

static uint64_t lost_hook(void *arg, unsigned int workload, uint64_t since_ns)
{
	(void)workload;
	(void)since_ns;
	return ((struct env *)arg)->lost;
}

/* Move the clock by ms, then run what is ready and every timer due. */
static void advance(struct env *e, uint64_t ms)
{
	vigil_manual_clock_advance(&e->mc, ms);
	assert_int_equal(vigil_loop_run_once(e->loop, 0), 0);
}

/* Let real children act, the clock standing still: run the loop (10 ms waits, 2 s at most)
 * until inc is in state s. */
static void wait_state(struct env *e, const struct vigil_incident *inc, enum vigil_incident_state s)
{
	for (int n = 0; n < 200 && inc->state != s; n++)
		assert_int_equal(vigil_loop_run_once(e->loop, 10), 0);
	assert_int_equal(inc->state, s);
}

static int count_outcome(struct env *e, const char *outcome);

/* Let real children act, the clock standing still: run the loop (10 ms waits, 2 s at most)
 * until the journal holds n action records with this outcome. */
static void wait_outcome(struct env *e, const char *outcome, int n)
{
	for (int k = 0; k < 200 && count_outcome(e, outcome) < n; k++)
		assert_int_equal(vigil_loop_run_once(e->loop, 10), 0);
	assert_int_equal(count_outcome(e, outcome), n);
}

/* Incident records go to the journal, as the daemon wires them. */
static void record_incident(const struct vigil_incident *i, void *arg)
{
	struct env *e = arg;

	vigil_out_incident(e->sinks, i);
}

static void env_init(struct env *e, const char *yaml)
{
	struct vigil_output_opts so = {.node = "t", .quiet = true};
	char err[512];
	int fd;

	memset(e, 0, sizeof(*e));
	strcpy(e->journal, "/tmp/vigil-healer-XXXXXX");
	fd = mkstemp(e->journal);
	assert_true(fd >= 0);
	close(fd);
	so.journal = e->journal;
	if (vigil_config_parse(yaml, strlen(yaml), "test.yaml", &e->cfg, err, sizeof(err)))
		fail_msg("config: %s", err);
	vigil_manual_clock_init(&e->mc);
	assert_int_equal(vigil_loop_new(&e->mc.clock, &e->loop), 0);
	assert_int_equal(vigil_output_open(&so, &e->sinks, err, sizeof(err)), 0);
	{
		const struct vigil_incidents_opts io = {
		    .window_ms = 60000,
		    .clock = &e->mc.clock,
		    .notify = record_incident,
		    .notify_arg = e,
		    .lost = lost_hook,
		    .lost_arg = e,
		};

		assert_int_equal(vigil_incidents_new(&io, &e->incs), 0);
	}
	assert_int_equal(
	    vigil_healer_new(e->cfg, e->loop, e->sinks, e->incs, count_watch, e, &e->h), 0);
	{
		const struct vigil_healer_probe probe = {
		    .conversations = probe_conversations,
		    .busy = probe_busy,
		    .owns = probe_owns,
		    .pids = probe_pids,
		    .arg = e,
		};

		vigil_healer_set_probe(e->h, &probe);
	}
}

/* Give the healer a knowledge store in a scratch file. */
static void env_know(struct env *e)
{
	char msg[512];
	int fd;

	strcpy(e->know_path, "/tmp/vigil-know-XXXXXX");
	fd = mkstemp(e->know_path);
	assert_true(fd >= 0);
	close(fd);
	unlink(e->know_path); /* a missing file is an empty store */
	assert_int_equal(vigil_knowledge_open(e->know_path, 0, 0, &e->know, msg, sizeof(msg)), 0);
	vigil_healer_set_knowledge(e->h, e->know);
}

/* How many descriptors this process has open (a pidfd the healer forgot shows here). */
static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void env_fini(struct env *e)
{
	vigil_healer_free(e->h);
	vigil_knowledge_close(e->know);
	if (e->know_path[0])
		unlink(e->know_path);
	vigil_incidents_free(e->incs);
	vigil_output_close(e->sinks);
	vigil_loop_free(e->loop);
	vigil_config_free(e->cfg);
	unlink(e->journal);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* The exit of workload 1 by signal sig (pid distinct per signal), and what it is. */
static void crash_event(struct env *e, int sig, struct vigil_exit *x, struct vigil_detection *d)
{
	*x = tr_exit(1000 + sig, vigil_clock_mono(&e->mc.clock), 1, sig);
	vigil_detect(&x->hdr, "svc", d);
}

/* A crash of workload 1 (pid distinct per call so each opens an incident by signal). */
static struct vigil_incident *crash(struct env *e, int sig)
{
	struct vigil_detection d;
	struct vigil_exit x;
	struct vigil_incident *i;
	bool opened;

	crash_event(e, sig, &x, &d);
	i = vigil_incidents_record(e->incs, &x.hdr, &d, "svc", &opened);
	assert_non_null(i);
	vigil_healer_incident(e->h, i, opened);
	return i;
}

/* Outcomes of the action records in the journal, space-separated, in order. */
static void outcomes(struct env *e, char *buf, size_t len)
{
	FILE *f = fopen(e->journal, "r");
	char line[2048];

	buf[0] = '\0';
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		json_t *o = json_loads(line, 0, NULL);

		assert_non_null(o);
		if (!strcmp(json_string_value(json_object_get(o, "type")), "action")) {
			strncat(buf, json_string_value(json_object_get(o, "outcome")),
				len - strlen(buf) - 2);
			strcat(buf, " ");
		}
		json_decref(o);
	}
	fclose(f);
}

/* How many action records have this outcome. */
static int count_outcome(struct env *e, const char *outcome)
{
	char out[4096], *p = out;
	size_t len = strlen(outcome);
	int n = 0;

	outcomes(e, out, sizeof(out));
	while ((p = strstr(p, outcome))) {
		n += (p == out || p[-1] == ' ') && p[len] == ' ';
		p += len;
	}
	return n;
}

/* The journal's records of type (all of them, in order): a JSON array to json_decref. */
static json_t *records(struct env *e, const char *type)
{
	FILE *f = fopen(e->journal, "r");
	json_t *all = json_array();
	char line[4096];

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		json_t *o = json_loads(line, 0, NULL);

		assert_non_null(o);
		if (!strcmp(json_string_value(json_object_get(o, "type")), type))
			json_array_append(all, o);
		json_decref(o);
	}
	fclose(f);
	return all;
}

/* The first action record with this outcome, or NULL (borrowed from all). */
static json_t *action_rec(json_t *all, const char *outcome)
{
	size_t i;
	json_t *r;

	json_array_foreach(all, i, r)
	{
		if (!strcmp(json_string_value(json_object_get(r, "outcome")), outcome))
			return r;
	}
	return NULL;
}

static const char *str_of(json_t *r, const char *key)
{
	return json_string_value(json_object_get(r, key));
}

/* SIGKILL what the healer started (the pids of its "started" records), and nothing else. */
static void kill_started(struct env *e)
{
	json_t *all = records(e, "action"), *r;
	size_t i;

	json_array_foreach(all, i, r)
	{
		pid_t pid = (pid_t)json_integer_value(json_object_get(r, "pid"));

		if (!strcmp(str_of(r, "outcome"), "started") && pid > 0)
			kill(pid, SIGKILL);
	}
	json_decref(all);
}

/* The pid of the n-th "started" record (0-based), or 0. */
static pid_t started_pid(struct env *e, size_t n)
{
	json_t *all = records(e, "action"), *r;
	pid_t pid = 0;
	size_t i;

	json_array_foreach(all, i, r)
	{
		if (!strcmp(str_of(r, "outcome"), "started") && !n--) {
			pid = (pid_t)json_integer_value(json_object_get(r, "pid"));
			break;
		}
	}
	json_decref(all);
	return pid;
}

/* The audit trail, one line per action record: "ACTION OUTCOME PID: DETAIL\n". */
static void trail(struct env *e, char *buf, size_t len)
{
	json_t *all = records(e, "action"), *r;
	size_t i, off = 0;

	buf[0] = '\0';
	json_array_foreach(all, i, r)
	{
		off += (size_t)snprintf(buf + off, len - off, "%s %s %lld: %s\n",
					str_of(r, "action"), str_of(r, "outcome"),
					(long long)json_integer_value(json_object_get(r, "pid")),
					str_of(r, "detail"));
		assert_true(off < len);
	}
	json_decref(all);
}

/* Written with the format, for comparing with trail(). */
__attribute__((format(printf, 2, 3))) static const char *fmt(char *buf, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, 2048, f, ap);
	va_end(ap);
	return buf;
}

/*
 * A live process of workload 1 (the probe owns it): it exits when the test closes *release,
 * and at once on SIGKILL; on SIGTERM too unless ignore_term. Returns its pid, once ready.
 */
static pid_t spawn_live(struct env *e, int *release, bool ignore_term)
{
	int ready[2], go[2];
	pid_t pid;
	char c;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (ignore_term)
			signal(SIGTERM, SIG_IGN);
		close(ready[0]);
		close(go[1]);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	*release = go[1];
	e->live = pid;
	return pid;
}

/* One that ignores SIGTERM: only SIGKILL (or *release) ends it. */
static pid_t live_process(struct env *e, int *release)
{
	return spawn_live(e, release, true);
}

/* Wait (really, 2 s at most) until pid has ended, leaving it to be reaped. */
static void wait_ended(pid_t pid)
{
	siginfo_t si;

	for (int n = 0; n < 2000; n++) {
		memset(&si, 0, sizeof(si));
		assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT), 0);
		if (si.si_pid == pid)
			return;
		usleep(1000);
	}
	fail_msg("pid %d did not end", pid);
}

/* A latency SLO breach of workload 1 by process tgid: a fault about a process that runs. */
static struct vigil_incident *slow(struct env *e, pid_t tgid)
{
	struct vigil_event_hdr hdr = {
	    .tgid = (__u32)tgid,
	    .workload = 1,
	    .ts_ns = vigil_clock_mono(&e->mc.clock),
	};
	struct vigil_detection d;
	struct vigil_incident *i;
	bool opened;

	vigil_detect_slo("svc", "read", 900000000ull, 200, &d);
	i = vigil_incidents_record(e->incs, &hdr, &d, "svc", &opened);
	assert_non_null(i);
	assert_true(opened);
	vigil_healer_incident(e->h, i, opened);
	return i;
}

/* Every executable the tests' rules run, listed as the policy requires (BAD_EXEC: a trusted
 * file that is no program, for an exec that fails). */
#define BAD_EXEC VT_BAD_EXEC
#define POLICY                                                                                     \
	"    policy: { allow_comm_only: true, allowed_exec: [/bin/sleep, /bin/true, /bin/false, "  \
	"/bin/sh, "                                                                                \
	"/usr/bin/sv, " BAD_EXEC "] }\n"

#define CFG(level_and_more, exec)                                                                  \
	"workloads:\n"                                                                             \
	"  - name: svc\n"                                                                          \
	"    match: { comm: svc }\n" POLICY "    verify: 150ms\n"                                  \
	"    breaker: { failures: 1, window: 1m, cooldown: 1h }\n"                                 \
	"    heal:\n"                                                                              \
	"      - on: [crash]\n"                                                                    \
	"        " level_and_more "\n"                                                             \
	"        action: { restart: { exec: [" exec "] } }\n"

static void test_level1_restart_verified(void **state)
{
	struct vigil_incident *i;
	struct env e;
	char out[256];

	(void)state;
	env_init(&e, CFG("level: 1", "/bin/sleep, \"5\""));
	i = crash(&e, 11);
	/* Level 1 acts at once: already spawned, watched before it could run. */
	assert_int_equal(i->state, VIGIL_INC_VERIFYING);
	/* The chosen rule's level: the incident records carry it (vigil report). */
	assert_int_equal(i->level, 1);
	assert_int_equal(e.watched, 1);
	/* Its exec succeeds: the replacement, timed; the verify window runs from there. */
	wait_outcome(&e, "replaced", 1);
	assert_int_equal(i->replaced_kernel_ns, i->first_kernel_ns);
	advance(&e, 149);
	assert_int_equal(i->state, VIGIL_INC_VERIFYING);
	advance(&e, 1);
	assert_int_equal(i->state, VIGIL_INC_RESOLVED);
	assert_true(i->resolved_mono_ns > i->opened_mono_ns);
	outcomes(&e, out, sizeof(out));
	assert_string_equal(out, "intent started replaced success ");
	kill_started(&e);
	env_fini(&e);
}

static void test_exec_failure_opens_breaker(void **state)
{
	struct vigil_incident *i, *j;
	struct env e;
	char out[256], tr[2048], want[2048];
	pid_t p;

	(void)state;
	assert_int_equal(vt_bad_exec_make(), 0);
	env_init(&e, CFG("level: 1", BAD_EXEC));
	i = crash(&e, 11);
	wait_state(&e, i, VIGIL_INC_FAILED);
	outcomes(&e, out, sizeof(out));
	/* exec failed -> failed; 1 failure opens the breaker (failures: 1). */
	assert_string_equal(out, "intent started failed open ");
	/* The next fault is escalated, nothing runs. */
	j = crash(&e, 6);
	assert_int_equal(j->state, VIGIL_INC_ESCALATED);
	outcomes(&e, out, sizeof(out));
	assert_string_equal(out, "intent started failed open skipped ");
	assert_int_equal(e.watched, 1);
	p = started_pid(&e, 0);
	assert_true(p > 0);
	trail(&e, tr, sizeof(tr));
	assert_string_equal(tr, fmt(want,
				    "restart intent 0: " BAD_EXEC "\n"
				    "restart started %d: started pid %d; verifying for 150 ms\n"
				    "restart failed %d: exec " BAD_EXEC ": Exec format error\n"
				    "breaker open 0: 1 failed heals in 60 s: no action for 3600 s\n"
				    "restart skipped 0: circuit breaker open: a human must look\n",
				    p, p, p));
	env_fini(&e);
}

static void test_level3_waits_for_approval(void **state)
{
	struct vigil_incident *i;
	struct env e;
	char out[256];

	(void)state;
	env_init(&e, CFG("level: 3", "/bin/true"));
	i = crash(&e, 11);
	advance(&e, 50);
	assert_int_equal(i->state, VIGIL_INC_AWAITING_APPROVAL);
	assert_int_equal(e.watched, 0);
	assert_int_equal(i->level, 3);
	outcomes(&e, out, sizeof(out));
	assert_string_equal(out, "");
	env_fini(&e);
}

static void test_level3_runs_when_approved(void **state)
{
	struct vigil_incident *i;
	struct env e;
	char out[256], tr[2048], want[2048];
	pid_t p;

	(void)state;
	env_init(&e, CFG("level: 3", "/bin/sleep, \"5\""));
	i = crash(&e, 11);
	assert_int_equal(i->state, VIGIL_INC_AWAITING_APPROVAL);
	/* Only an incident awaiting approval can be approved, and only once. */
	assert_int_equal(vigil_healer_approve(e.h, i, "test", NULL), 0);
	assert_int_equal(vigil_healer_approve(e.h, i, "test", NULL), -EINVAL);
	wait_outcome(&e, "replaced", 1);
	advance(&e, 150);
	assert_int_equal(i->state, VIGIL_INC_RESOLVED);
	assert_int_equal(e.watched, 1);
	outcomes(&e, out, sizeof(out));
	assert_string_equal(out, "approved intent started replaced success ");
	p = started_pid(&e, 0);
	trail(&e, tr, sizeof(tr));
	assert_string_equal(
	    tr, fmt(want,
		    "restart approved 0: approved by test\n"
		    "restart intent 0: /bin/sleep 5\n"
		    "restart started %d: started pid %d; verifying for 150 ms\n"
		    "restart replaced %d: pid %d replaced pid 1011 after 0 ms (started by vigil)\n"
		    "restart success %d: running again as pid %d, up for 150 ms\n",
		    p, p, p, p, p, p));
	kill_started(&e);
	env_fini(&e);
}

/*
 * An approval that arrives while a heal of the workload runs waits its turn and runs when it
 * ends — never dropped. On main it was recorded approved, then skipped, and the incident
 * stayed open for ever (a second approve was refused).
 */
static void test_approval_waits_its_turn(void **state)
{
	struct vigil_incident *i, *j;
	struct env e;
	char out[256], tr[4096], want[4096];
	pid_t p1, p2;

	(void)state;
	env_init(&e, CFG("level: 3", "/bin/sleep, \"5\""));
	i = crash(&e, 11);
	j = crash(&e, 6);
	assert_int_equal(j->state, VIGIL_INC_AWAITING_APPROVAL);
	assert_int_equal(vigil_healer_approve(e.h, i, "test", NULL), 0);
	wait_outcome(&e, "replaced", 1);
	assert_int_equal(i->state, VIGIL_INC_VERIFYING);
	assert_int_equal(vigil_healer_approve(e.h, j, "alice (uid 1000, pid 7)", "after the show"),
			 0);
	/* Approved, waiting its turn: open, still held, not approvable twice. */
	assert_int_equal(j->state, VIGIL_INC_OPEN);
	assert_true(j->busy);
	assert_int_equal(vigil_healer_approve(e.h, j, "test", NULL), -EINVAL);
	advance(&e, 150);
	assert_int_equal(i->state, VIGIL_INC_RESOLVED);
	wait_outcome(&e, "replaced", 2);
	assert_int_equal(j->state, VIGIL_INC_VERIFYING); /* its turn came */
	advance(&e, 150);
	assert_int_equal(j->state, VIGIL_INC_RESOLVED);
	outcomes(&e, out, sizeof(out));
	assert_string_equal(out, "approved intent started replaced approved waiting success intent "
				 "started replaced success ");
	p1 = started_pid(&e, 0);
	p2 = started_pid(&e, 1);
	trail(&e, tr, sizeof(tr));
	assert_string_equal(
	    tr,
	    fmt(want,
		"restart approved 0: approved by test\n"
		"restart intent 0: /bin/sleep 5\n"
		"restart started %d: started pid %d; verifying for 150 ms\n"
		"restart replaced %d: pid %d replaced pid 1011 after 0 ms (started by vigil)\n"
		"restart approved 0: approved by alice (uid 1000, pid 7): after the show\n"
		"restart waiting 0: a heal of this workload is running: this one runs when it "
		"ends\n"
		"restart success %d: running again as pid %d, up for 150 ms\n"
		"restart intent 0: /bin/sleep 5\n"
		"restart started %d: started pid %d; verifying for 150 ms\n"
		"restart replaced %d: pid %d replaced pid 1006 after 150 ms (started by vigil)\n"
		"restart success %d: running again as pid %d, up for 150 ms\n",
		p1, p1, p1, p1, p1, p1, p2, p2, p2, p2, p2, p2));
	kill_started(&e);
	env_fini(&e);
}

/* No one answers within approval_timeout: expired, and gone from the live table. On main it
 * waited for ever (2000 of them were still live an hour later). */
static void test_approval_expires(void **state)
{
	struct vigil_incident *i;
	char id[17], out[256], tr[1024];
	struct env e;

	(void)state;
	env_init(&e, CFG("level: 3", "/bin/sleep, \"5\""));
	e.cfg->workloads[0].approval_timeout_ms = 600000;
	i = crash(&e, 11);
	memcpy(id, i->id, sizeof(id));
	advance(&e, 599999);
	assert_non_null(vigil_incidents_lookup(e.incs, id));
	assert_int_equal(i->state, VIGIL_INC_AWAITING_APPROVAL);
	advance(&e, 1);
	assert_null(vigil_incidents_lookup(e.incs, id)); /* i is freed now */
	assert_int_equal(vigil_incidents_count(e.incs), 0);
	assert_int_equal(e.watched, 0);
	outcomes(&e, out, sizeof(out));
	assert_string_equal(out, "expired ");
	trail(&e, tr, sizeof(tr));
	assert_string_equal(tr,
			    "restart expired 0: no approval within 600 s: the action is not run\n");
	env_fini(&e);
}

/* A person says no: recorded with who and why; the incident is left open to people, never
 * runs, and no longer expires. */
static void test_deny(void **state)
{
	struct vigil_incident *i;
	char out[256], tr[1024];
	struct env e;

	(void)state;
	env_init(&e, CFG("level: 3", "/bin/sleep, \"5\""));
	i = crash(&e, 11);
	assert_int_equal(
	    vigil_healer_deny(e.h, i, "alice (uid 1000, pid 7)", "not during the show"), 0);
	assert_int_equal(i->state, VIGIL_INC_OPEN);
	assert_false(i->busy);
	assert_int_equal(vigil_healer_approve(e.h, i, "test", NULL), -EINVAL);
	assert_int_equal(vigil_healer_deny(e.h, i, "test", NULL), -EINVAL);
	advance(&e, 7200000);
	assert_int_equal(e.watched, 0);
	outcomes(&e, out, sizeof(out));
	assert_string_equal(out, "denied ");
	trail(&e, tr, sizeof(tr));
	assert_string_equal(tr, "restart denied 0: denied by alice (uid 1000, pid 7): not during "
				"the show\n");
	env_fini(&e);
}

static void test_level2_waits_its_delay(void **state)
{
	struct vigil_incident *i;
	struct env e;
	char out[256], tr[2048], want[2048];
	pid_t p;

	(void)state;
	env_init(&e, CFG("level: 2\n        delay: 200ms", "/bin/sleep, \"5\""));
	i = crash(&e, 11);
	assert_int_equal(i->state, VIGIL_INC_OPEN);
	assert_int_equal(i->level, 2);
	advance(&e, 100);
	assert_int_equal(e.watched, 0); /* not yet */
	advance(&e, 100);
	assert_int_equal(e.watched, 1);
	assert_int_equal(i->state, VIGIL_INC_VERIFYING);
	wait_outcome(&e, "replaced", 1);
	advance(&e, 150);
	assert_int_equal(i->state, VIGIL_INC_RESOLVED);
	outcomes(&e, out, sizeof(out));
	assert_string_equal(out, "scheduled intent started replaced success ");
	p = started_pid(&e, 0);
	trail(&e, tr, sizeof(tr));
	/* Recovery is timed from the fault to the new process's exec: the delay and all. */
	assert_string_equal(
	    tr,
	    fmt(want,
		"restart scheduled 0: restart in 200 ms (level 2 delay)\n"
		"restart intent 0: /bin/sleep 5\n"
		"restart started %d: started pid %d; verifying for 150 ms\n"
		"restart replaced %d: pid %d replaced pid 1011 after 200 ms (started by vigil)\n"
		"restart success %d: running again as pid %d, up for 150 ms\n",
		p, p, p, p, p, p));
	kill_started(&e);
	env_fini(&e);
}

static void test_second_fault_during_heal_is_not_stacked(void **state)
{
	struct vigil_incident *i, *j;
	struct env e;
	char out[256], tr[2048], want[2048];
	pid_t p;

	(void)state;
	env_init(&e, CFG("level: 1", "/bin/sleep, \"5\""));
	i = crash(&e, 11);
	j = crash(&e, 6); /* another signature, same workload, while verifying */
	assert_ptr_not_equal(i, j);
	assert_int_equal(e.watched, 1);
	wait_outcome(&e, "replaced", 1);
	advance(&e, 150);
	outcomes(&e, out, sizeof(out));
	assert_string_equal(out, "intent started skipped replaced success ");
	p = started_pid(&e, 0);
	trail(&e, tr, sizeof(tr));
	assert_string_equal(
	    tr, fmt(want,
		    "restart intent 0: /bin/sleep 5\n"
		    "restart started %d: started pid %d; verifying for 150 ms\n"
		    "restart skipped 0: a heal of this workload is already scheduled or "
		    "running\n"
		    "restart replaced %d: pid %d replaced pid 1011 after 0 ms (started by vigil)\n"
		    "restart success %d: running again as pid %d, up for 150 ms\n",
		    p, p, p, p, p, p));
	assert_int_equal(j->state, VIGIL_INC_OPEN);
	kill_started(&e);
	env_fini(&e);
}

/* The fault went away by itself (an alert resolved): a heal scheduled and not begun is
 * cancelled, nothing run, and the incident resolved; one under way is left to its outcome; an
 * open incident with no heal of its own is resolved as it is. */
static void test_fault_gone(void **state)
{
	struct vigil_incident *i, *j;
	struct env e;
	char out[256];

	(void)state;
	env_init(&e, CFG("level: 2\n        delay: 200ms", "/bin/sleep, \"5\""));
	i = crash(&e, 11);
	advance(&e, 100);
	assert_int_equal(vigil_healer_fault_gone(e.h, i, "alert X resolved"), 0);
	assert_int_equal(i->state, VIGIL_INC_RESOLVED);
	assert_false(i->busy);
	advance(&e, 200);
	assert_int_equal(e.watched, 0); /* never ran */
	outcomes(&e, out, sizeof(out));
	assert_string_equal(out, "scheduled cancelled ");
	assert_int_equal(vigil_healer_fault_gone(e.h, i, "again"), -EINVAL); /* over */
	env_fini(&e);

	env_init(&e, CFG("level: 1", "/bin/sleep, \"5\""));
	i = crash(&e, 11);
	j = crash(&e, 6); /* skipped: the workload's heal runs */
	assert_int_equal(e.watched, 1);
	assert_int_equal(vigil_healer_fault_gone(e.h, i, "alert X resolved"), -EBUSY);
	assert_int_equal(i->state, VIGIL_INC_VERIFYING);
	assert_int_equal(vigil_healer_fault_gone(e.h, j, "alert Y resolved"), 0);
	assert_int_equal(j->state, VIGIL_INC_RESOLVED);
	wait_outcome(&e, "replaced", 1);
	advance(&e, 150);
	assert_int_equal(i->state, VIGIL_INC_RESOLVED); /* its heal's outcome */
	outcomes(&e, out, sizeof(out));
	assert_string_equal(out, "intent started skipped replaced success ");
	kill_started(&e);
	env_fini(&e);
}

static void test_backoff_table(void **state)
{
	(void)state;
	assert_int_equal(vigil_backoff_ms(0, 0), 0); /* first restart: at once */
	assert_int_equal(vigil_backoff_ms(1, 0), 10000);
	assert_int_equal(vigil_backoff_ms(1, 4000), 6000); /* time already waited counts */
	assert_int_equal(vigil_backoff_ms(1, 12000), 0);
	assert_int_equal(vigil_backoff_ms(2, 0), 20000);
	assert_int_equal(vigil_backoff_ms(5, 0), 160000);
	assert_int_equal(vigil_backoff_ms(6, 0), 300000); /* 320 s capped to 5 min */
	assert_int_equal(vigil_backoff_ms(60, 0), 300000);
	assert_int_equal(vigil_backoff_ms(9, 600000), 0); /* ten quiet minutes reset it */
}

/* The retries' waits: doubling from backoff up to max, each 80..120 % of that, never past max. */
static void test_retry_wait_table(void **state)
{
	uint64_t rng = 42, w;

	(void)state;
	for (int k = 0; k < 1000; k++) {
		w = vigil_retry_wait_ms(10000, 300000, 1, &rng);
		assert_in_range(w, 8000, 12000);
		w = vigil_retry_wait_ms(10000, 300000, 3, &rng); /* 40 s */
		assert_in_range(w, 32000, 48000);
		w = vigil_retry_wait_ms(10000, 300000, 9, &rng); /* 2560 s, capped */
		assert_in_range(w, 240000, 300000);
		w = vigil_retry_wait_ms(10000, 15000, 2, &rng); /* 20 s, capped at 15 */
		assert_in_range(w, 12000, 15000);
	}
	/* The jitter spreads: not one value for all. */
	assert_int_not_equal(vigil_retry_wait_ms(10000, 300000, 1, &rng),
			     vigil_retry_wait_ms(10000, 300000, 1, &rng));
}

/* The wait a "retry" record announces ("...; attempt N in MS ms"). */
static uint64_t retry_wait(json_t *rec)
{
	const char *d = strstr(str_of(rec, "detail"), "; attempt ");
	unsigned int n;
	unsigned long long ms;

	assert_non_null(d);
	assert_int_equal(sscanf(d, "; attempt %u in %llu ms", &n, &ms), 2);
	return ms;
}

/*
 * retry: a failing action (its exec fails) tried 3 times in all, after 1 s then 2 s capped to
 * 1.5 s (each jittered), every attempt audited (intent "attempt N of 3", its failure as
 * "retry" with the wait), and the whole one heal: one failure for the breaker (failures: 1
 * opens it only after the third), one "failed" record.
 */
static void test_retry_with_backoff(void **state)
{
	struct vigil_incident *i;
	json_t *all, *r;
	uint64_t w1, w2;
	struct env e;
	char out[512];

	(void)state;
	assert_int_equal(vt_bad_exec_make(), 0);
	env_init(&e, CFG("level: 1\n        retry: { attempts: 3, backoff: 1s, max: 1500ms }",
			 BAD_EXEC));
	i = crash(&e, 11);
	wait_outcome(&e, "retry", 1);
	all = records(&e, "action");
	r = action_rec(all, "retry");
	assert_non_null(strstr(str_of(r, "detail"), "attempt 1 of 3 failed: exec " BAD_EXEC
						    ": Exec format error; attempt 2 in "));
	w1 = retry_wait(r);
	json_decref(all);
	assert_in_range(w1, 800, 1200);
	assert_int_equal(i->state, VIGIL_INC_HEALING);
	advance(&e, w1 - 1);
	assert_int_equal(count_outcome(&e, "intent"), 1);
	advance(&e, 1);
	assert_int_equal(count_outcome(&e, "intent"), 2);
	wait_outcome(&e, "retry", 2);
	all = records(&e, "action");
	r = json_array_get(all, json_array_size(all) - 1);
	assert_string_equal(str_of(r, "outcome"), "retry");
	w2 = retry_wait(r);
	assert_non_null(strstr(str_of(r, "detail"), "attempt 2 of 3 failed"));
	json_decref(all);
	assert_in_range(w2, 1200, 1500);
	advance(&e, w2);
	wait_state(&e, i, VIGIL_INC_FAILED);
	outcomes(&e, out, sizeof(out));
	assert_string_equal(out, "intent started retry intent started retry intent started failed "
				 "open ");
	all = records(&e, "action");
	assert_non_null(strstr(str_of(action_rec(all, "intent"), "detail"), "(attempt 1 of 3)"));
	assert_non_null(strstr(str_of(action_rec(all, "open"), "detail"), "1 failed heals"));
	json_decref(all);
	print_message("retry: attempts after %llu ms and %llu ms (backoff 1s, max 1500ms)\n",
		      (unsigned long long)w1, (unsigned long long)w2);
	env_fini(&e);
}

/* A retry that works: the second attempt succeeds; one success, the breaker never counted. */
static void test_retry_then_success(void **state)
{
	struct vigil_incident *i;
	struct env e;
	char out[256], prog[96], yaml[1024];

	(void)state;
	/* A program of this test's own (in root's /tmp/vigil-test-bad-exec/), broken at first. */
	assert_int_equal(vt_bad_exec_make(), 0);
	snprintf(prog, sizeof(prog), "/tmp/vigil-test-bad-exec/retry-%d", getpid());
	unlink(prog);
	assert_int_equal(link(BAD_EXEC, prog), 0);
	snprintf(yaml, sizeof(yaml),
		 "workloads:\n"
		 "  - name: svc\n"
		 "    match: { comm: svc }\n"
		 "    policy: { allow_comm_only: true, allowed_exec: [%s] }\n"
		 "    verify: 150ms\n"
		 "    breaker: { failures: 1, window: 1m, cooldown: 1h }\n"
		 "    heal:\n"
		 "      - on: [crash]\n"
		 "        level: 1\n"
		 "        retry: { attempts: 2, backoff: 1s }\n"
		 "        action: { restart: { exec: [%s, \"5\"] } }\n",
		 prog, prog);
	env_init(&e, yaml);
	i = crash(&e, 11);
	wait_outcome(&e, "retry", 1);
	/* The program is fixed meanwhile (as a cache warming up, a dependency coming back). */
	assert_int_equal(unlink(prog), 0);
	assert_int_equal(symlink("/bin/sleep", prog), 0);
	advance(&e, 1200);
	wait_outcome(&e, "replaced", 1);
	advance(&e, 150);
	assert_int_equal(i->state, VIGIL_INC_RESOLVED);
	outcomes(&e, out, sizeof(out));
	assert_string_equal(out, "intent started retry intent started replaced success ");
	kill_started(&e);
	env_fini(&e);
	assert_int_equal(unlink(prog), 0);
}

/* Two actions for one class: the first by config order, the second by name. */
#define CFG2(level, exec1, exec2, breaker)                                                         \
	"workloads:\n"                                                                             \
	"  - name: svc\n"                                                                          \
	"    match: { comm: svc }\n" POLICY "    verify: 150ms\n"                                  \
	"    breaker: " breaker "\n"                                                               \
	"    heal:\n"                                                                              \
	"      - on: [crash]\n"                                                                    \
	"        level: " level "\n"                                                               \
	"        action: { restart: { exec: [" exec1 "] } }\n"                                     \
	"      - on: [crash]\n"                                                                    \
	"        name: restart-clean\n"                                                            \
	"        level: " level "\n"                                                               \
	"        action: { restart: { exec: [" exec2 "] } }\n"

#define BREAKER_1H "{ failures: 1, window: 1m, cooldown: 1h }"

/* What the store holds for the crash by sig: `successes` of `attempts` for action. */
static void know_fill(struct env *e, int sig, const char *action, int attempts, int successes)
{
	struct vigil_detection d;
	struct vigil_exit x;

	crash_event(e, sig, &x, &d);
	for (int i = 0; i < attempts; i++)
		assert_int_equal(vigil_knowledge_record(e->know, "svc", d.signature, "crash",
							action, i < successes, 1000 + i, NULL),
				 0);
}

/* The second action has worked and the first has not: the second runs, and says why. */
static void test_knowledge_prefers_what_worked(void **state)
{
	const struct vigil_know_entry *k;
	struct vigil_incident *i;
	json_t *acts, *kn, *r;
	struct env e;

	(void)state;
	env_init(&e, CFG2("1", "/bin/sleep, \"5\"", "/bin/sleep, \"6\"", BREAKER_1H));
	env_know(&e);
	know_fill(&e, 11, "restart", 2, 0);
	know_fill(&e, 11, "restart-clean", 5, 4);
	i = crash(&e, 11);
	assert_int_equal(i->state, VIGIL_INC_VERIFYING);
	wait_outcome(&e, "replaced", 1);
	advance(&e, 150);
	assert_int_equal(i->state, VIGIL_INC_RESOLVED);

	acts = records(&e, "action");
	r = action_rec(acts, "chosen");
	assert_non_null(r);
	assert_string_equal(str_of(r, "action"), "restart-clean");
	assert_string_equal(str_of(r, "detail"),
			    "chosen: restart-clean, 4/5 worked before (0.71); "
			    "other: restart 0/2 worked before (0.25); numbers: local");
	r = action_rec(acts, "intent");
	assert_string_equal(str_of(r, "action"), "restart-clean");
	assert_string_equal(str_of(r, "detail"), "/bin/sleep 6");
	assert_string_equal(str_of(action_rec(acts, "started"), "action"), "restart-clean");
	assert_string_equal(str_of(action_rec(acts, "success"), "action"), "restart-clean");
	json_decref(acts);

	/* The outcome is learned, and written as a knowledge record. */
	k = vigil_knowledge_get(e.know, i->signature, "restart-clean");
	assert_non_null(k);
	assert_int_equal(k->attempts, 6);
	assert_int_equal(k->successes, 5);
	assert_true(k->last_applied_ns > 1000000000ull * 1000000000ull);
	assert_int_equal(vigil_knowledge_get(e.know, i->signature, "restart")->attempts, 2);
	kn = records(&e, "knowledge");
	assert_int_equal(json_array_size(kn), 1);
	r = json_array_get(kn, 0);
	assert_string_equal(str_of(r, "workload"), "svc");
	assert_string_equal(str_of(r, "signature"), i->signature);
	assert_string_equal(str_of(r, "class"), "crash");
	assert_string_equal(str_of(r, "action"), "restart-clean");
	assert_int_equal(json_integer_value(json_object_get(r, "attempts")), 6);
	assert_int_equal(json_integer_value(json_object_get(r, "successes")), 5);
	assert_true(json_real_value(json_object_get(r, "success_rate")) == 0.83);
	assert_true(json_is_string(json_object_get(r, "last_applied")));
	json_decref(kn);
	kill_started(&e);
	env_fini(&e);
}

/* Nothing learned yet: config order decides, the choice is still explained, the outcome is
 * learned. */
static void test_knowledge_empty_store_takes_first(void **state)
{
	const struct vigil_know_entry *k;
	struct vigil_incident *i;
	json_t *acts, *kn;
	struct env e;

	(void)state;
	env_init(&e, CFG2("1", "/bin/sleep, \"5\"", "/bin/sleep, \"6\"", BREAKER_1H));
	env_know(&e);
	i = crash(&e, 11);
	wait_outcome(&e, "replaced", 1);
	advance(&e, 150);
	assert_int_equal(i->state, VIGIL_INC_RESOLVED);
	acts = records(&e, "action");
	assert_string_equal(str_of(action_rec(acts, "chosen"), "detail"),
			    "chosen: restart, never tried (0.50); other: restart-clean never tried "
			    "(0.50); numbers: local");
	assert_string_equal(str_of(action_rec(acts, "intent"), "action"), "restart");
	assert_string_equal(str_of(action_rec(acts, "intent"), "detail"), "/bin/sleep 5");
	json_decref(acts);
	k = vigil_knowledge_get(e.know, i->signature, "restart");
	assert_non_null(k);
	assert_int_equal(k->attempts, 1);
	assert_int_equal(k->successes, 1);
	assert_null(vigil_knowledge_get(e.know, i->signature, "restart-clean"));
	kn = records(&e, "knowledge");
	assert_int_equal(json_array_size(kn), 1);
	json_decref(kn);
	kill_started(&e);
	env_fini(&e);
}

/* Without a store: the first rule, no choice record, nothing learned (as before the store). */
static void test_no_store_takes_first(void **state)
{
	struct vigil_incident *i;
	json_t *acts, *kn;
	struct env e;
	char out[256];

	(void)state;
	env_init(&e, CFG2("1", "/bin/sleep, \"5\"", "/bin/sleep, \"6\"", BREAKER_1H));
	i = crash(&e, 11);
	wait_outcome(&e, "replaced", 1);
	advance(&e, 150);
	assert_int_equal(i->state, VIGIL_INC_RESOLVED);
	outcomes(&e, out, sizeof(out));
	assert_string_equal(out, "intent started replaced success ");
	acts = records(&e, "action");
	assert_string_equal(str_of(action_rec(acts, "intent"), "detail"), "/bin/sleep 5");
	json_decref(acts);
	kn = records(&e, "knowledge");
	assert_int_equal(json_array_size(kn), 0);
	json_decref(kn);
	kill_started(&e);
	env_fini(&e);
}

/*
 * A failed action is learned as such and opens the breaker (a breaker record); after the
 * cooldown the breaker goes half-open (a record), the store now prefers the other action,
 * which works, and the breaker closes (a record). Waits out the 10 s restart backoff.
 */
static void test_failure_learned_and_breaker_records(void **state)
{
	const struct vigil_know_entry *k;
	struct vigil_incident *i, *j;
	json_t *br, *kn, *acts, *r;
	struct env e;

	(void)state;
	assert_int_equal(vt_bad_exec_make(), 0);
	env_init(&e, CFG2("1", BAD_EXEC, "/bin/sleep, \"5\"",
			  "{ failures: 1, window: 1m, cooldown: 100ms }"));
	env_know(&e);
	i = crash(&e, 11);
	wait_state(&e, i, VIGIL_INC_FAILED);
	k = vigil_knowledge_get(e.know, i->signature, "restart");
	assert_non_null(k);
	assert_int_equal(k->attempts, 1);
	assert_int_equal(k->successes, 0);
	kn = records(&e, "knowledge");
	assert_int_equal(json_array_size(kn), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(kn, 0), "successes")),
			 0);
	json_decref(kn);
	br = records(&e, "breaker");
	assert_int_equal(json_array_size(br), 1);
	r = json_array_get(br, 0);
	assert_string_equal(str_of(r, "workload"), "svc");
	assert_string_equal(str_of(r, "state"), "open");
	assert_int_equal(json_integer_value(json_object_get(r, "failures")), 1);
	assert_true(json_is_string(json_object_get(r, "opened_at")));
	json_decref(br);

	/* The same fault after the cooldown: one try, with the action that has not failed. */
	advance(&e, 150);
	j = crash(&e, 11);
	assert_ptr_not_equal(i, j);
	br = records(&e, "breaker");
	assert_int_equal(json_array_size(br), 2);
	assert_string_equal(str_of(json_array_get(br, 1), "state"), "half_open");
	json_decref(br);
	acts = records(&e, "action");
	r = json_array_get(acts, json_array_size(acts) - 2);
	assert_string_equal(str_of(r, "outcome"), "chosen");
	assert_string_equal(str_of(r, "action"), "restart-clean");
	assert_string_equal(str_of(r, "detail"),
			    "chosen: restart-clean, never tried (0.50); "
			    "other: restart 0/1 worked before (0.33); numbers: local");
	r = json_array_get(acts, json_array_size(acts) - 1);
	assert_string_equal(str_of(r, "outcome"), "scheduled"); /* the backoff */
	/* 10 s after the first restart, which was 150 ms ago. */
	assert_string_equal(str_of(r, "detail"), "restart in 9850 ms (backoff)");
	json_decref(acts);
	advance(&e, 9849);
	assert_int_equal(j->state, VIGIL_INC_OPEN);
	advance(&e, 1);
	assert_int_equal(j->state, VIGIL_INC_VERIFYING);
	wait_outcome(&e, "replaced", 1);
	advance(&e, 150);
	assert_int_equal(j->state, VIGIL_INC_RESOLVED);
	br = records(&e, "breaker");
	assert_int_equal(json_array_size(br), 3);
	r = json_array_get(br, 2);
	assert_string_equal(str_of(r, "state"), "closed");
	assert_int_equal(json_integer_value(json_object_get(r, "failures")), 0);
	json_decref(br);
	k = vigil_knowledge_get(e.know, j->signature, "restart-clean");
	assert_non_null(k);
	assert_int_equal(k->successes, 1);
	kill_started(&e);
	env_fini(&e);
}

/* Level 3: the approval runs the rule chosen when the incident went awaiting approval, even if
 * the store has since come to prefer another. */
static void test_approve_runs_the_rule_chosen(void **state)
{
	struct vigil_incident *i;
	json_t *acts;
	struct env e;
	char out[256];

	(void)state;
	env_init(&e, CFG2("3", "/bin/sleep, \"5\"", "/bin/sleep, \"6\"", BREAKER_1H));
	env_know(&e);
	know_fill(&e, 11, "restart", 2, 0);
	know_fill(&e, 11, "restart-clean", 5, 4);
	i = crash(&e, 11);
	assert_int_equal(i->state, VIGIL_INC_AWAITING_APPROVAL);
	/* Meanwhile "restart" worked ten times elsewhere: it now scores 11/14 > 5/7. */
	know_fill(&e, 11, "restart", 12, 12);
	assert_true(
	    vigil_knowledge_score(vigil_knowledge_get(e.know, i->signature, "restart")) >
	    vigil_knowledge_score(vigil_knowledge_get(e.know, i->signature, "restart-clean")));
	assert_int_equal(vigil_healer_approve(e.h, i, "test", NULL), 0);
	wait_outcome(&e, "replaced", 1);
	advance(&e, 150);
	assert_int_equal(i->state, VIGIL_INC_RESOLVED);
	outcomes(&e, out, sizeof(out));
	assert_string_equal(out, "chosen approved intent started replaced success ");
	acts = records(&e, "action");
	assert_string_equal(str_of(action_rec(acts, "approved"), "action"), "restart-clean");
	assert_string_equal(str_of(action_rec(acts, "intent"), "detail"), "/bin/sleep 6");
	json_decref(acts);
	kill_started(&e);
	env_fini(&e);
}

/* A workload whose rule restarts on a latency SLO breach: a fault about a process that runs. */
#define CFG_LIVE(max_defer) CFG_LIVE_Q("max_defer: " max_defer)
#define CFG_LIVE_Q(quiet)                                                                          \
	"workloads:\n"                                                                             \
	"  - name: svc\n"                                                                          \
	"    match: { comm: svc }\n" POLICY "    verify: 150ms\n"                                  \
	"    quiet: { " quiet " }\n"                                                               \
	"    heal:\n"                                                                              \
	"      - on: [latency_slo]\n"                                                              \
	"        level: 1\n"                                                                       \
	"        action: { restart: { exec: [/bin/sleep, \"5\"] } }\n"

/*
 * A restart of a process that still runs waits for the workload's connections to close
 * (deferred, once), then stops it (SIGTERM), and starts the new process only once the old one
 * is gone. Every record, exactly.
 */
static void test_restart_waits_for_quiet_then_stops(void **state)
{
	struct vigil_incident *i;
	char tr[2048], want[2048];
	struct env e;
	int release;
	pid_t old, p;

	(void)state;
	env_init(&e, CFG_LIVE("60s"));
	old = live_process(&e, &release);
	e.conns = 2;
	i = slow(&e, old);
	assert_int_equal(i->state, VIGIL_INC_HEALING);
	advance(&e, 100);
	advance(&e, 30000);
	advance(&e, 100);
	/* Still waiting, said once; the old process untouched, nothing started. */
	assert_int_equal(i->state, VIGIL_INC_HEALING);
	assert_int_equal(e.watched, 0);
	assert_int_equal(kill(old, 0), 0);
	trail(&e, tr, sizeof(tr));
	assert_string_equal(tr,
			    fmt(want,
				"restart intent 0: /bin/sleep 5\n"
				"restart deferred %d: 2 inbound connections open: waiting up to "
				"60000 ms for them to close before stopping pid %d\n",
				old, old));
	/* The conversations end: SIGTERM, which it ignores for now; nothing starts meanwhile. */
	e.conns = 0;
	advance(&e, 100);
	advance(&e, 20);
	assert_int_equal(e.watched, 0);
	assert_int_equal(i->state, VIGIL_INC_HEALING);
	/* It ends: the new process starts at the next look, and is verified. */
	close(release);
	wait_ended(old);
	advance(&e, 20);
	assert_int_equal(i->state, VIGIL_INC_VERIFYING);
	assert_int_equal(e.watched, 1);
	wait_outcome(&e, "replaced", 1);
	advance(&e, 150);
	assert_int_equal(i->state, VIGIL_INC_RESOLVED);
	p = started_pid(&e, 0);
	assert_true(p > 0 && p != old);
	trail(&e, tr, sizeof(tr));
	assert_string_equal(
	    tr, fmt(want,
		    "restart intent 0: /bin/sleep 5\n"
		    "restart deferred %d: 2 inbound connections open: waiting up to "
		    "60000 ms for them to close before stopping pid %d\n"
		    "restart stop %d: SIGTERM to pid %d\n"
		    "restart started %d: started pid %d; verifying for 150 ms\n"
		    "restart replaced %d: pid %d replaced pid %d after 30340 ms (started "
		    "by vigil)\n"
		    "restart success %d: running again as pid %d, up for 150 ms\n",
		    old, old, old, old, p, p, p, p, old, p, p));
	kill_started(&e);
	env_fini(&e);
}

/*
 * The quiet window expires with connections still open: SIGTERM anyway (said so), and SIGKILL
 * exactly VIGIL_STOP_GRACE_MS later to a process that ignores it.
 */
static void test_restart_kills_after_grace(void **state)
{
	struct vigil_incident *i;
	char tr[2048], want[2048], out[256];
	struct env e;
	int release;
	pid_t old, p;

	(void)state;
	env_init(&e, CFG_LIVE_Q("max_defer: 1s, on_timeout: restart"));
	old = live_process(&e, &release);
	e.conns = 3;
	i = slow(&e, old);
	advance(&e, 999);
	outcomes(&e, out, sizeof(out));
	assert_string_equal(out, "intent deferred ");
	advance(&e, 101); /* the first look past the window (they are 100 ms apart): SIGTERM */
	advance(&e, VIGIL_STOP_GRACE_MS - 1);
	assert_int_equal(kill(old, 0), 0);
	trail(&e, tr, sizeof(tr));
	assert_string_equal(tr,
			    fmt(want,
				"restart intent 0: /bin/sleep 5\n"
				"restart deferred %d: 3 inbound connections open: waiting up to "
				"1000 ms for them to close before stopping pid %d\n"
				"restart stop %d: SIGTERM to pid %d (the quiet window expired with "
				"connections open)\n",
				old, old, old, old));
	advance(&e, 20); /* the grace is over at the next look: SIGKILL */
	wait_ended(old);
	advance(&e, 20);
	assert_int_equal(i->state, VIGIL_INC_VERIFYING);
	wait_outcome(&e, "replaced", 1);
	advance(&e, 150);
	assert_int_equal(i->state, VIGIL_INC_RESOLVED);
	p = started_pid(&e, 0);
	trail(&e, tr, sizeof(tr));
	assert_string_equal(
	    tr, fmt(want,
		    "restart intent 0: /bin/sleep 5\n"
		    "restart deferred %d: 3 inbound connections open: waiting up to "
		    "1000 ms for them to close before stopping pid %d\n"
		    "restart stop %d: SIGTERM to pid %d (the quiet window expired with "
		    "connections open)\n"
		    "restart stop %d: SIGKILL to pid %d after 10000 ms\n"
		    "restart started %d: started pid %d; verifying for 150 ms\n"
		    "restart replaced %d: pid %d replaced pid %d after 11139 ms (started "
		    "by vigil)\n"
		    "restart success %d: running again as pid %d, up for 150 ms\n",
		    old, old, old, old, old, old, p, p, p, p, old, p, p));
	close(release);
	kill_started(&e);
	env_fini(&e);
}

/*
 * The quiet window ends with a conversation still open: by default nothing is stopped — the
 * incident is escalated to a person, the process keeps serving, and it is neither a failed heal
 * (no breaker) nor something learnt. On main, the process was SIGTERMed anyway.
 */
static void test_quiet_timeout_escalates(void **state)
{
	struct vigil_incident *i;
	char tr[2048], want[2048], out[256];
	struct env e;
	int release, fds;
	pid_t old;

	(void)state;
	env_init(&e, CFG_LIVE_Q("max_defer: 1s, ports: [8080, 8443]"));
	env_know(&e);
	old = live_process(&e, &release);
	fds = open_fds();
	e.conns = 1;
	i = slow(&e, old);
	/* The probe is asked about the configured ports only. */
	assert_int_equal(e.asked_ports, 2);
	assert_int_equal(e.asked_port0, 8080);
	advance(&e, 999);
	assert_int_equal(i->state, VIGIL_INC_HEALING);
	advance(&e, 101);
	assert_int_equal(i->state, VIGIL_INC_ESCALATED);
	advance(&e, 30000);
	assert_int_equal(kill(old, 0), 0); /* never signalled */
	assert_int_equal(e.watched, 0);	   /* nothing started */
	outcomes(&e, out, sizeof(out));
	assert_string_equal(out, "intent deferred escalated ");
	trail(&e, tr, sizeof(tr));
	assert_string_equal(tr,
			    fmt(want,
				"restart intent 0: /bin/sleep 5\n"
				"restart deferred %d: 1 inbound connections open: waiting up to "
				"1000 ms for them to close before stopping pid %d\n"
				"restart escalated %d: after 1000 ms, 1 inbound connections open: "
				"pid %d is not stopped; a person decides (quiet.on_timeout: "
				"restart stops it anyway)\n",
				old, old, old, old));
	assert_null(vigil_knowledge_get(e.know, i->signature, "restart")); /* not learnt */
	/* The pidfd taken of the process it would have stopped is closed. */
	assert_int_equal(open_fds(), fds);
	close(release);
	env_fini(&e);
}

/* vigil stops while a heal waits in its quiet window: nothing is signalled, and the pidfd
 * taken of the process it would have stopped is closed. */
static void test_stop_in_quiet_window_releases(void **state)
{
	struct vigil_incident *i;
	struct env e;
	int release, fds;
	pid_t old;

	(void)state;
	fds = open_fds();
	env_init(&e, CFG_LIVE("60s"));
	old = live_process(&e, &release);
	e.conns = 1;
	i = slow(&e, old);
	assert_int_equal(i->state, VIGIL_INC_HEALING);
	advance(&e, 500);
	env_fini(&e);
	assert_int_equal(kill(old, 0), 0); /* never signalled */
	close(release);
	assert_int_equal(open_fds(), fds);
}

/* A process the probe does not own (or a crash: nothing runs) is never waited for or stopped. */
static void test_restart_leaves_what_it_does_not_own(void **state)
{
	struct vigil_incident *i;
	char out[256];
	struct env e;
	int release;
	pid_t old;

	(void)state;
	env_init(&e, CFG_LIVE("60s"));
	old = live_process(&e, &release);
	e.live = 0; /* no longer the workload's (a reused pid, say) */
	e.conns = 5;
	i = slow(&e, old);
	assert_int_equal(i->state, VIGIL_INC_VERIFYING);
	wait_outcome(&e, "replaced", 1);
	advance(&e, 150);
	assert_int_equal(i->state, VIGIL_INC_RESOLVED);
	outcomes(&e, out, sizeof(out));
	assert_string_equal(out, "intent started replaced success ");
	assert_int_equal(kill(old, 0), 0);
	close(release);
	kill_started(&e);
	env_fini(&e);
}

#define CFG_FALSE                                                                                  \
	"workloads:\n"                                                                             \
	"  - name: svc\n"                                                                          \
	"    match: { comm: svc }\n" POLICY "    verify: 150ms\n"                                  \
	"    breaker: { failures: 5, window: 1m, cooldown: 1h }\n"                                 \
	"    heal:\n"                                                                              \
	"      - on: [crash]\n"                                                                    \
	"        level: 1\n"                                                                       \
	"        action: { restart: { exec: [/bin/false] } }\n"

/* A new process that dies within the verify window: the reap says how; without it, the verify
 * window's end finds it gone. Both are failed heals, learned. */
static void test_verify_failures_recorded(void **state)
{
	struct vigil_incident *i, *j;
	char tr[2048], want[2048];
	struct env e;
	pid_t p, q;
	int st;

	(void)state;
	env_init(&e, CFG_FALSE);
	env_know(&e);
	i = crash(&e, 11);
	p = started_pid(&e, 0);
	assert_int_equal(waitpid(p, &st, 0), p);
	vigil_healer_reaped(e.h, p + 100000, st); /* not ours: nothing */
	assert_int_equal(i->state, VIGIL_INC_VERIFYING);
	vigil_healer_reaped(e.h, p, st);
	assert_int_equal(i->state, VIGIL_INC_FAILED);
	j = crash(&e, 6); /* the backoff: 10 s */
	advance(&e, 10000);
	q = started_pid(&e, 1);
	assert_true(q > 0);
	assert_int_equal(waitpid(q, &st, 0), q); /* reaped, and not told */
	wait_outcome(&e, "replaced", 2);
	advance(&e, 150);
	assert_int_equal(j->state, VIGIL_INC_FAILED);
	trail(&e, tr, sizeof(tr));
	assert_string_equal(
	    tr, fmt(want,
		    "restart intent 0: /bin/false\n"
		    "restart started %d: started pid %d; verifying for 150 ms\n"
		    "restart replaced %d: pid %d replaced pid 1011 after 0 ms (started by vigil)\n"
		    "restart failed %d: pid %d exited with status 1 within the verify "
		    "window\n"
		    "restart scheduled 0: restart in 10000 ms (backoff)\n"
		    "restart intent 0: /bin/false\n"
		    "restart started %d: started pid %d; verifying for 150 ms\n"
		    "restart replaced %d: pid %d replaced pid 1006 after 10000 ms (started by "
		    "vigil)\n"
		    "restart failed %d: pid %d is gone before the verify window ended\n",
		    p, p, p, p, p, p, q, q, q, q, q, q));
	assert_int_equal(vigil_knowledge_get(e.know, i->signature, "restart")->attempts, 1);
	assert_int_equal(vigil_knowledge_get(e.know, j->signature, "restart")->attempts, 1);
	env_fini(&e);
}

static void test_killed_within_verify_window(void **state)
{
	struct vigil_incident *i;
	char tr[2048], want[2048];
	struct env e;
	pid_t p;
	int st;

	(void)state;
	env_init(&e, CFG("level: 1", "/bin/sleep, \"5\""));
	i = crash(&e, 11);
	p = started_pid(&e, 0);
	kill(p, SIGKILL);
	assert_int_equal(waitpid(p, &st, 0), p);
	vigil_healer_reaped(e.h, p, st);
	assert_int_equal(i->state, VIGIL_INC_FAILED);
	trail(&e, tr, sizeof(tr));
	assert_string_equal(
	    tr, fmt(want,
		    "restart intent 0: /bin/sleep 5\n"
		    "restart started %d: started pid %d; verifying for 150 ms\n"
		    "restart replaced %d: pid %d replaced pid 1011 after 0 ms (started by vigil)\n"
		    "restart failed %d: pid %d killed by signal 9 within the verify "
		    "window\n"
		    "breaker open 0: 1 failed heals in 60 s: no action for 3600 s\n",
		    p, p, p, p, p, p));
	env_fini(&e);
}

/* An incident on incomplete telemetry: only level 1 acts on it. */
static void test_lossy_incident_needs_level1(void **state)
{
	struct vigil_incident *i;
	char tr[2048];
	struct env e;

	(void)state;
	env_init(&e, CFG("level: 2", "/bin/sleep, \"5\""));
	e.lost = 5;
	i = crash(&e, 11);
	assert_true(i->lossy);
	assert_int_equal(i->state, VIGIL_INC_ESCALATED);
	trail(&e, tr, sizeof(tr));
	assert_string_equal(tr, "restart skipped 0: 5 kernel events of this workload were dropped "
				"around it: a level-2 action needs complete telemetry\n");
	assert_int_equal(e.watched, 0);
	env_fini(&e);
}

/* vigil stops with heals pending: each is ended and recorded — a verify under way by what it
 * shows now, one not yet started as failed (which counts against the breaker). */
static void test_shutdown_records_pending_heals(void **state)
{
	struct vigil_incident *i;
	char tr[2048], want[2048];
	struct env e;
	int release;
	pid_t p, old;

	(void)state;
	env_init(&e, CFG("level: 1", "/bin/sleep, \"5\""));
	i = crash(&e, 11);
	p = started_pid(&e, 0);
	vigil_healer_free(e.h);
	e.h = NULL;
	assert_int_equal(i->state, VIGIL_INC_RESOLVED);
	trail(&e, tr, sizeof(tr));
	assert_string_equal(tr, fmt(want,
				    "restart intent 0: /bin/sleep 5\n"
				    "restart started %d: started pid %d; verifying for 150 ms\n"
				    "restart success %d: vigil stopped during the verify window\n",
				    p, p, p));
	kill_started(&e);
	env_fini(&e);

	env_init(&e, CFG("level: 2", "/bin/sleep, \"5\""));
	i = crash(&e, 11);
	vigil_healer_free(e.h);
	e.h = NULL;
	assert_int_equal(i->state, VIGIL_INC_FAILED);
	trail(&e, tr, sizeof(tr));
	assert_string_equal(tr, "restart scheduled 0: restart in 300000 ms (level 2 delay)\n"
				"restart failed 0: vigil stopped before the scheduled heal\n"
				"breaker open 0: 1 failed heals in 60 s: no action for 3600 s\n");
	env_fini(&e);

	/* Waiting for quiet, or for the old process to go: not started either. */
	env_init(&e, CFG_LIVE("60s"));
	old = live_process(&e, &release);
	e.conns = 1;
	i = slow(&e, old);
	vigil_healer_free(e.h);
	e.h = NULL;
	assert_int_equal(i->state, VIGIL_INC_FAILED);
	trail(&e, tr, sizeof(tr));
	assert_string_equal(tr,
			    fmt(want,
				"restart intent 0: /bin/sleep 5\n"
				"restart deferred %d: 1 inbound connections open: waiting up to "
				"60000 ms for them to close before stopping pid %d\n"
				"restart failed 0: vigil stopped before the scheduled heal\n",
				old, old));
	close(release);
	assert_int_equal(e.watched, 0);
	env_fini(&e);
}

/* --- regressions of issue 10: what main got wrong -------------------------------------- */

/*
 * A new process that has exited but is not reaped yet (a zombie: nothing reaps here) is not
 * "running again". main asked kill(pid, 0), which a zombie answers, and called /bin/false a
 * success.
 */
static void test_zombie_is_not_running(void **state)
{
	struct vigil_incident *i;
	struct env e;
	siginfo_t si;
	pid_t p;

	(void)state;
	env_init(&e, CFG_FALSE);
	i = crash(&e, 11);
	p = started_pid(&e, 0);
	assert_true(p > 0);
	memset(&si, 0, sizeof(si));
	assert_int_equal(waitid(P_PID, (id_t)p, &si, WEXITED | WNOWAIT), 0); /* a zombie now */
	advance(&e, 150);
	advance(&e, 150);
	assert_int_equal(i->state, VIGIL_INC_FAILED);
	env_fini(&e);
}

/* A live process of workload 1 that ends on SIGTERM (not ignored); *release ends it too. */
static pid_t live_process_soft(struct env *e, int *release)
{
	return spawn_live(e, release, false);
}

/* Has pid ended (left as a zombie for us to see)? */
static bool ended(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT), 0);
	return si.si_pid == pid;
}

/*
 * The process chosen leaves the workload while the quiet window holds the heal back (its pid
 * reused, say): SIGTERM is not sent. main checked ownership once, when the heal began, and
 * signalled the pid up to max_defer later.
 */
static void test_no_sigterm_to_a_process_that_left(void **state)
{
	struct vigil_incident *i;
	char tr[2048], want[2048];
	struct env e;
	int release;
	pid_t old;

	(void)state;
	env_init(&e, CFG_LIVE("60s"));
	old = live_process_soft(&e, &release);
	e.conns = 1;
	i = slow(&e, old);
	advance(&e, 100);
	assert_int_equal(i->state, VIGIL_INC_HEALING);
	e.live = 0; /* no longer the workload's */
	e.conns = 0;
	advance(&e, 100);
	usleep(50000); /* a SIGTERM would have ended it by now */
	assert_false(ended(old));
	trail(&e, tr, sizeof(tr));
	assert_non_null(strstr(tr, fmt(want,
				       "restart stop %d: pid %d is no longer the workload's: "
				       "not signalled\n",
				       old, old)));
	close(release);
	kill_started(&e);
	env_fini(&e);
}

/*
 * The process leaves the workload between SIGTERM (which it ignores) and SIGKILL: SIGKILL is
 * not sent. main sent SIGKILL to the pid 10 s after SIGTERM without looking.
 */
static void test_no_sigkill_to_a_process_that_left(void **state)
{
	struct vigil_incident *i;
	char tr[2048], want[2048];
	struct env e;
	int release;
	pid_t old;

	(void)state;
	env_init(&e, CFG_LIVE("60s"));
	old = live_process(&e, &release);
	i = slow(&e, old);
	assert_int_equal(i->state, VIGIL_INC_HEALING); /* SIGTERM sent, ignored */
	e.live = 0;				       /* ... and now it is not the workload's */
	advance(&e, VIGIL_STOP_GRACE_MS);
	advance(&e, 20);
	usleep(50000); /* a SIGKILL would have ended it by now */
	assert_false(ended(old));
	trail(&e, tr, sizeof(tr));
	assert_non_null(strstr(tr, fmt(want,
				       "restart stop %d: SIGTERM to pid %d\n"
				       "restart stop %d: pid %d is no longer the workload's: "
				       "SIGKILL not sent\n",
				       old, old, old, old)));
	close(release);
	wait_ended(old);
	kill_started(&e);
	env_fini(&e);
}

/*
 * A service that forks into the background: the process vigil started exits 0 and leaves one
 * of the workload running, which is what is verified. main called that a failed heal.
 */
static void test_daemonizing_service_runs_again(void **state)
{
	struct vigil_incident *i;
	char tr[2048], want[2048];
	struct env e;
	int release, st;
	pid_t p, bg;

	(void)state;
	env_init(&e, CFG("level: 1", "/bin/true"));
	i = crash(&e, 11);
	p = started_pid(&e, 0);
	assert_true(p > 0);
	/* What it left in the background: a process of the workload, started after the fault. */
	bg = live_process(&e, &release);
	e.live = 0;
	own(&e, bg);
	assert_int_equal(waitpid(p, &st, 0), p);
	vigil_healer_reaped(e.h, p, st);
	assert_int_equal(i->state, VIGIL_INC_VERIFYING);
	advance(&e, 150);
	assert_int_equal(i->state, VIGIL_INC_RESOLVED);
	trail(&e, tr, sizeof(tr));
	assert_string_equal(
	    tr, fmt(want,
		    "restart intent 0: /bin/true\n"
		    "restart started %d: started pid %d; verifying for 150 ms\n"
		    "restart replaced %d: pid %d replaced pid 1011 after 0 ms (started by vigil)\n"
		    "restart followed %d: pid %d exited 0 and left pid %d of the workload running: "
		    "verifying that one\n"
		    "restart success %d: running again as pid %d, up for 150 ms\n",
		    p, p, p, p, bg, p, bg, bg, bg));
	close(release);
	wait_ended(bg);
	env_fini(&e);
}

/* --- the modes: signal, command, await, supervisor: external ------------------------------ */

#define CFG_MODE(on, supervisor, restart)                                                          \
	"workloads:\n"                                                                             \
	"  - name: svc\n"                                                                          \
	"    match: { comm: svc }\n" POLICY "    verify: 150ms\n" supervisor                       \
	"    breaker: { failures: 1, window: 1m, cooldown: 1h }\n"                                 \
	"    heal:\n"                                                                              \
	"      - on: [" on "]\n"                                                                   \
	"        level: 1\n"                                                                       \
	"        action: { restart: " restart " }\n"

/* The kernel saw pid exec as a process of workload 1 (what daemon.c hands the healer). */
static void exec_seen(struct env *e, pid_t pid)
{
	const struct vigil_action_event ev = {
	    .type = VIGIL_ACTION_WORKLOAD_EXEC,
	    .pid = pid,
	    .ts_ns = vigil_clock_mono(&e->mc.clock),
	};

	own(e, pid);
	vigil_healer_workload_event(e->h, 1, &ev);
}

/* The incident's last record, as written. */
static json_t *last_incident(struct env *e)
{
	json_t *all = records(e, "incident");
	json_t *r = json_incref(json_array_get(all, json_array_size(all) - 1));

	json_decref(all);
	return r;
}

/* Signal mode up to verify: vigil SIGTERMs a slow process of the workload (*old, ended by
 * *release), the supervisor's replacement (*np, ended by *release2) execs 40 ms later. The
 * incident, verifying. */
static struct vigil_incident *replaced_by_supervisor(struct env *e, int *release, int *release2,
						     pid_t *old, pid_t *np)
{
	struct vigil_incident *i;

	env_init(e, CFG_MODE("latency_slo", "", "{ signal: TERM, kill_after: 1s, await: 5s }"));
	*old = live_process_soft(e, release);
	i = slow(e, *old);
	assert_int_equal(i->state, VIGIL_INC_HEALING);
	wait_ended(*old);
	advance(e, 40);
	*np = live_process(e, release2);
	e->live = 0;
	exec_seen(e, *np);
	assert_int_equal(i->state, VIGIL_INC_VERIFYING);
	return i;
}

/* signal: vigil SIGTERMs the incident's process, the supervisor starts the new one (an exec
 * the kernel saw), which is verified and timed. */
static void test_signal_mode(void **state)
{
	struct vigil_incident *i;
	char tr[2048], want[2048];
	struct env e;
	int release, release2;
	pid_t old, np;
	json_t *inc;

	(void)state;
	i = replaced_by_supervisor(&e, &release, &release2, &old, &np);
	advance(&e, 150);
	assert_int_equal(i->state, VIGIL_INC_RESOLVED);
	assert_int_equal(e.watched, 0); /* vigil started nothing */
	trail(&e, tr, sizeof(tr));
	assert_string_equal(
	    tr, fmt(want,
		    "restart intent 0: SIGTERM to the workload's process (SIGKILL after 1000 ms); "
		    "await its replacement by the supervisor for up to 5000 ms\n"
		    "restart stop %d: SIGTERM to pid %d\n"
		    "restart await %d: awaiting the supervisor's replacement of pid %d for up to "
		    "5000 ms\n"
		    "restart replaced %d: pid %d replaced pid %d after 40 ms (started by the "
		    "supervisor)\n"
		    "restart success %d: running again as pid %d, up for 150 ms\n",
		    old, old, old, old, np, np, old, np, np));
	inc = last_incident(&e);
	assert_string_equal(str_of(inc, "state"), "resolved");
	assert_int_equal(json_integer_value(json_object_get(inc, "replaced_after_ms")), 40);
	json_decref(inc);
	close(release);
	close(release2);
	wait_ended(np);
	env_fini(&e);
}

/*
 * A supervisor's replacement that exits and stays a zombie within the verify window (nobody
 * has reaped it, no exit record has come) is not "running again": its pidfd says it has
 * exited. The regression of issue 10's kill(pid, 0), which a zombie answers, on the one path
 * where vigil does not watch the process itself (it did not start it).
 */
static void test_zombie_replacement_is_not_running(void **state)
{
	struct vigil_incident *i;
	int release, release2;
	struct env e;
	pid_t old, np;

	(void)state;
	i = replaced_by_supervisor(&e, &release, &release2, &old, &np);
	close(release2);
	wait_ended(np); /* a zombie now: this test is its parent and does not reap it */
	advance(&e, 150);
	assert_int_equal(i->state, VIGIL_INC_FAILED);
	close(release);
	env_fini(&e);
}

/* A replacement found in the watched set is timed from its start as /proc gives it (to the
 * clock tick, on the host's clock): "after N ms (started by the supervisor)" -> "after X ms". */
static void mask_after(char *tr)
{
	char *p = strstr(tr, " ms (started by the supervisor)"), *d = p;

	assert_non_null(p);
	while (d > tr && d[-1] >= '0' && d[-1] <= '9')
		d--;
	assert_true(d < p);
	*d = 'X';
	memmove(d + 1, p, strlen(p) + 1);
}

/* signal: a process that ignores SIGTERM gets SIGKILL after kill_after; the verify waits for
 * it to be gone. A replacement nobody announced is found in the watched set (polled). */
static void test_signal_mode_kill_after_and_poll(void **state)
{
	struct vigil_incident *i;
	char tr[2048], want[2048];
	struct env e;
	int release, release2;
	pid_t old, np;

	(void)state;
	env_init(&e, CFG_MODE("latency_slo", "", "{ signal: INT, kill_after: 1s, await: 5s }"));
	signal(SIGINT, SIG_IGN); /* the child inherits it: it ignores SIGINT */
	old = live_process(&e, &release);
	signal(SIGINT, SIG_DFL);
	i = slow(&e, old);
	advance(&e, 250);
	np = live_process(&e, &release2); /* a new one, found at the next poll */
	e.live = old;
	own(&e, np);
	advance(&e, 250);
	assert_int_equal(i->state, VIGIL_INC_VERIFYING);
	advance(&e, 150); /* the window is over; old still there: its SIGKILL is due first */
	assert_int_equal(i->state, VIGIL_INC_VERIFYING);
	advance(&e, 600);
	wait_state(&e, i, VIGIL_INC_RESOLVED);
	assert_true(ended(old));
	trail(&e, tr, sizeof(tr));
	mask_after(tr);
	assert_string_equal(
	    tr, fmt(want,
		    "restart intent 0: SIGINT to the workload's process (SIGKILL after 1000 ms); "
		    "await its replacement by the supervisor for up to 5000 ms\n"
		    "restart stop %d: SIGINT to pid %d\n"
		    "restart await %d: awaiting the supervisor's replacement of pid %d for up to "
		    "5000 ms\n"
		    "restart replaced %d: pid %d replaced pid %d after X ms (started by the "
		    "supervisor)\n"
		    "restart stop %d: SIGKILL to pid %d after 1000 ms\n"
		    "restart success %d: running again as pid %d, up for 750 ms\n",
		    old, old, old, old, np, np, old, old, old, np, np));
	close(release2);
	wait_ended(np);
	env_fini(&e);
}

/* Nothing replaces it within await: a failed heal, learnt, counted by the breaker. */
static void test_await_timeout(void **state)
{
	struct vigil_incident *i;
	char tr[2048], want[2048];
	struct env e;
	int release;
	pid_t old;

	(void)state;
	env_init(&e, CFG_MODE("latency_slo", "", "{ signal: TERM, await: 2s }"));
	env_know(&e);
	old = live_process_soft(&e, &release);
	i = slow(&e, old);
	wait_ended(old);
	advance(&e, 1999);
	assert_int_equal(i->state, VIGIL_INC_HEALING);
	advance(&e, 1);
	assert_int_equal(i->state, VIGIL_INC_FAILED);
	trail(&e, tr, sizeof(tr));
	assert_non_null(
	    strstr(tr, fmt(want,
			   "restart failed 0: no new process of the workload replaced "
			   "pid %d within 2000 ms\n"
			   "breaker open 0: 1 failed heals in 60 s: no action for 3600 s\n",
			   old)));
	assert_int_equal(vigil_knowledge_get(e.know, i->signature, "restart")->attempts, 1);
	env_fini(&e);
}

/* command: it runs with exactly its env (nothing of vigil's), exits 0; then the replacement
 * is awaited, and one that exec'd while the command still ran counts (systemctl restart). */
static void test_command_mode(void **state)
{
	struct vigil_incident *i;
	char tr[2048], want[2048], out[128] = "", path[64];
	struct env e;
	int release, fd;
	pid_t old, np, c;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/vigil-cmd-%d", getpid());
	assert_int_equal(setenv("VIGIL_SECRET", "hunter2", 1), 0);
	{
		char yaml[1024];

		snprintf(yaml, sizeof(yaml),
			 CFG_MODE("latency_slo", "",
				  "{ command: [/bin/sh, -c, 'sleep 0.2; env > %s'], env: "
				  "[A=1], await: 5s }"),
			 path);
		env_init(&e, yaml);
	}
	old = live_process_soft(&e, &release);
	i = slow(&e, old);
	assert_int_equal(i->state, VIGIL_INC_HEALING);
	c = started_pid(&e, 0); /* none: a command is not the workload's new process */
	assert_int_equal(c, 0);
	kill(old, SIGTERM); /* what the command's supervisor does */
	np = live_process(&e, &release);
	e.live = 0;
	exec_seen(&e, np); /* while the command runs: taken once it exits 0 */
	wait_outcome(&e, "command", 2);
	assert_int_equal(i->state, VIGIL_INC_VERIFYING);
	advance(&e, 150);
	assert_int_equal(i->state, VIGIL_INC_RESOLVED);
	assert_int_equal(e.watched, 0);
	trail(&e, tr, sizeof(tr));
	{
		json_t *all = records(&e, "action");

		c = (pid_t)json_integer_value(json_object_get(json_array_get(all, 1), "pid"));
		json_decref(all);
	}
	assert_string_equal(
	    tr,
	    fmt(want,
		"restart intent 0: /bin/sh -c sleep 0.2; env > %s; await the replacement for up "
		"to 5000 ms\n"
		"restart command %d: pid %d: /bin/sh -c sleep 0.2; env > %s (may take 60000 "
		"ms)\n"
		"restart command %d: command pid %d exited 0 after 0 ms\n"
		"restart replaced %d: pid %d replaced pid %d after 0 ms (started by the "
		"supervisor)\n"
		"restart success %d: running again as pid %d, up for 150 ms\n",
		path, c, c, path, c, c, np, np, old, np, np));
	/* Its environment was the env list, nothing inherited (VIGIL_SECRET, PATH...). */
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	f = fdopen(fd, "r");
	while (f && fgets(out + strlen(out), (int)(sizeof(out) - strlen(out)), f))
		;
	fclose(f);
	unlink(path);
	assert_null(strstr(out, "VIGIL_SECRET"));
	assert_non_null(strstr(out, "A=1\n"));
	assert_null(strstr(out, "PATH=/"));
	unsetenv("VIGIL_SECRET");
	close(release);
	wait_ended(np);
	env_fini(&e);
}

/* command: a non-zero exit is a failed heal, with the status and what it said. */
static void test_command_fails(void **state)
{
	struct vigil_incident *i;
	char tr[2048];
	struct env e;
	int release;
	pid_t old;

	(void)state;
	env_init(&e, CFG_MODE("latency_slo", "",
			      "{ command: [/bin/sh, -c, 'echo no such service >&2; exit 3'] }"));
	old = live_process_soft(&e, &release);
	i = slow(&e, old);
	wait_state(&e, i, VIGIL_INC_FAILED);
	trail(&e, tr, sizeof(tr));
	assert_non_null(strstr(tr, "exited with status 3 after 0 ms: no such service\n"));
	assert_false(ended(old)); /* never signalled by vigil */
	close(release);
	env_fini(&e);
}

/* command: still running at its timeout — killed, a failed heal. */
static void test_command_timeout(void **state)
{
	struct vigil_incident *i;
	char tr[2048], want[2048];
	struct env e;
	int release;
	pid_t old, c;

	(void)state;
	env_init(&e, CFG_MODE("latency_slo", "", "{ command: [/bin/sleep, \"30\"], timeout: 1s }"));
	old = live_process_soft(&e, &release);
	i = slow(&e, old);
	{
		json_t *all = records(&e, "action");

		c = (pid_t)json_integer_value(json_object_get(json_array_get(all, 1), "pid"));
		json_decref(all);
	}
	assert_true(c > 0);
	advance(&e, 999);
	assert_int_equal(i->state, VIGIL_INC_HEALING);
	advance(&e, 1);
	assert_int_equal(i->state, VIGIL_INC_FAILED);
	wait_ended(c);
	trail(&e, tr, sizeof(tr));
	assert_non_null(strstr(tr, fmt(want,
				       "restart failed %d: command pid %d still running after 1000 "
				       "ms: killed\n",
				       c, c)));
	close(release);
	env_fini(&e);
}

/* supervisor: external — a crash's replacement is awaited and timed; the command is not run,
 * nothing is spawned. */
static void test_supervisor_external_awaits(void **state)
{
	struct vigil_incident *i;
	char tr[2048], want[2048];
	struct env e;
	int release;
	pid_t np;

	(void)state;
	env_init(&e, CFG_MODE("crash", "    supervisor: external\n",
			      "{ command: [/usr/bin/sv, restart, /etc/sv/svc] }"));
	i = crash(&e, 11);
	assert_int_equal(i->state, VIGIL_INC_HEALING);
	advance(&e, 1000); /* runit waits a second before it starts it again */
	np = live_process(&e, &release);
	e.live = 0;
	exec_seen(&e, np);
	advance(&e, 150);
	assert_int_equal(i->state, VIGIL_INC_RESOLVED);
	assert_int_equal(e.watched, 0);
	assert_int_equal(count_outcome(&e, "command"), 0);
	trail(&e, tr, sizeof(tr));
	assert_string_equal(
	    tr, fmt(want,
		    "restart intent 0: /usr/bin/sv restart /etc/sv/svc; await the replacement for "
		    "up to 60000 ms\n"
		    "restart await 1011: pid 1011 ended; its supervisor starts the replacement "
		    "(supervisor: external): awaiting it for up to 60000 ms\n"
		    "restart replaced %d: pid %d replaced pid 1011 after 1000 ms (started by the "
		    "supervisor)\n"
		    "restart success %d: running again as pid %d, up for 150 ms\n",
		    np, np, np, np));
	/* Its replacement crashes within the verify window: failed, with how. */
	close(release);
	wait_ended(np);
	disown(&e, np);
	env_fini(&e);
}

/* An exit record of the replacement (a process vigil did not start) within the verify
 * window: a failed heal, saying how it ended. */
static void test_replacement_dies_within_verify(void **state)
{
	const struct vigil_action_event died = {
	    .type = VIGIL_ACTION_WORKLOAD_EXIT,
	    .pid = 4243,
	    .wstatus = SIGSEGV,
	};
	struct vigil_incident *i;
	char tr[2048];
	struct env e;
	int release;
	pid_t np;

	(void)state;
	env_init(&e, CFG_MODE("crash", "    supervisor: external\n", "{ signal: TERM }"));
	i = crash(&e, 11);
	np = live_process(&e, &release);
	e.live = 0;
	exec_seen(&e, np);
	assert_int_equal(i->state, VIGIL_INC_VERIFYING);
	vigil_healer_workload_event(e.h, 1, &died); /* another pid: nothing */
	assert_int_equal(i->state, VIGIL_INC_VERIFYING);
	{
		struct vigil_action_event ev = died;

		ev.pid = np;
		vigil_healer_workload_event(e.h, 1, &ev);
	}
	assert_int_equal(i->state, VIGIL_INC_FAILED);
	trail(&e, tr, sizeof(tr));
	assert_non_null(strstr(tr, "killed by signal 11 within the verify window\n"));
	close(release);
	env_fini(&e);
}

/* --- any kind runs through the interface: a fake one, defined here ----------------------- */

static char fake_log[512]; /* the ops called, in order */
static pid_t fake_victim;  /* what interrupts() returns */
static bool fake_forks;	   /* start() forks a child that exits 3, and owns it */
static int fake_work_ms;   /* start() runs blocking work this long (vigil_action_work) */

__attribute__((format(printf, 1, 2))) static void fake_say(const char *f, ...)
{
	size_t n = strlen(fake_log);
	va_list ap;

	va_start(ap, f);
	vsnprintf(fake_log + n, sizeof(fake_log) - n, f, ap);
	va_end(ap);
}

struct fake_run {
	struct vigil_action_run run;
	int ticks;
	int worked; /* set by its blocking work, on the work's thread */
};

/* The blocking work: sleeps, then leaves its mark in the run (its own memory). */
static void fake_work(void *arg)
{
	struct fake_run *f = arg;

	usleep((useconds_t)fake_work_ms * 1000);
	f->worked = 42;
}

static void fake_describe(const struct vigil_action *a, char *buf, size_t len)
{
	(void)a;
	snprintf(buf, len, "fake: do the thing");
}

static pid_t fake_interrupts(struct vigil_action_run *run)
{
	(void)run;
	fake_say("interrupts ");
	return fake_victim;
}

/* One step recorded, then a timer; or a child to wait for. */
static void fake_start(struct vigil_action_run *run)
{
	pid_t pid;

	fake_say("start(%llu) ", (unsigned long long)run->open_conns);
	vigil_action_note(run, "step", "fake began", 0);
	if (fake_work_ms) {
		assert_int_equal(vigil_action_work(run, fake_work, run), 0);
		assert_int_equal(vigil_action_work(run, fake_work, run),
				 -EBUSY); /* one at a time */
		return;
	}
	if (!fake_forks) {
		vigil_action_after(run, 1000);
		return;
	}
	pid = fork();
	if (pid == 0)
		_exit(3);
	assert_true(pid > 0);
	vigil_action_own_child(run, pid);
}

/* First tick: to be verified, for 500 ms; second: it worked. A child's exit: it did not. */
static void fake_progress(struct vigil_action_run *run, const struct vigil_action_event *ev)
{
	struct fake_run *f = (struct fake_run *)run;

	if (ev->type == VIGIL_ACTION_WORK_DONE) {
		fake_say("work(%d) ", f->worked);
		vigil_action_done(run, f->worked == 42, true, "fake worked off the loop", 0);
		return;
	}
	if (ev->type == VIGIL_ACTION_CHILD_EXIT) {
		fake_say("child(%d) ", WEXITSTATUS(ev->wstatus));
		vigil_action_done(run, false, true, "fake child died", ev->pid);
		return;
	}
	fake_say("tick ");
	if (!f->ticks++) {
		vigil_action_verifying(run);
		vigil_action_after(run, 500);
		return;
	}
	vigil_action_done(run, true, true, "fake worked", 0);
}

static bool fake_cancel(struct vigil_action_run *run)
{
	fake_say("cancel(%d) ", ((struct fake_run *)run)->worked);
	return ((struct fake_run *)run)->ticks > 0;
}

static const struct vigil_action_ops fake_ops = {
    .kind = "fake",
    .describe = fake_describe,
    .run_size = sizeof(struct fake_run),
    .interrupts = fake_interrupts,
    .start = fake_start,
    .progress = fake_progress,
    .cancel = fake_cancel,
};

/* Make the parsed config's first rule a fake one named "fake"; returns what it was. */
static struct vigil_action fake_rule(struct env *e)
{
	struct vigil_heal_rule *r = &e->cfg->workloads[0].heal[0];
	struct vigil_action was = r->action;

	r->action = (struct vigil_action){.ops = &fake_ops};
	free(r->name);
	r->name = strdup("fake");
	assert_non_null(r->name);
	fake_log[0] = '\0';
	fake_victim = 0;
	fake_forks = false;
	fake_work_ms = 0;
	return was;
}

static void fake_unrule(struct env *e, struct vigil_action was)
{
	e->cfg->workloads[0].heal[0].action = was;
}

/* The healer runs a kind it knows nothing of: intent from describe(), start, progress on its
 * timer, verifying, the outcome learned; its incident's states; no backoff unless it asks. */
static void test_any_kind_runs_through_the_interface(void **state)
{
	const struct vigil_know_entry *k;
	struct vigil_action was;
	struct vigil_incident *i, *j;
	char tr[2048];
	struct env e;

	(void)state;
	env_init(&e, CFG("level: 1", "/bin/true"));
	env_know(&e);
	was = fake_rule(&e);
	i = crash(&e, 11);
	assert_string_equal(fake_log, "interrupts start(0) ");
	assert_int_equal(i->state, VIGIL_INC_HEALING);
	advance(&e, 999);
	assert_string_equal(fake_log, "interrupts start(0) ");
	advance(&e, 1);
	assert_string_equal(fake_log, "interrupts start(0) tick ");
	assert_int_equal(i->state, VIGIL_INC_VERIFYING);
	advance(&e, 500);
	assert_string_equal(fake_log, "interrupts start(0) tick tick ");
	assert_int_equal(i->state, VIGIL_INC_RESOLVED);
	k = vigil_knowledge_get(e.know, i->signature, "fake");
	assert_non_null(k);
	assert_int_equal(k->attempts, 1);
	assert_int_equal(k->successes, 1);
	/* It never called vigil_action_attempt(): the next runs at once, not backed off. */
	j = crash(&e, 6);
	assert_int_equal(j->state, VIGIL_INC_HEALING);
	trail(&e, tr, sizeof(tr));
	assert_string_equal(tr, "fake intent 0: fake: do the thing\n"
				"fake step 0: fake began\n"
				"fake success 0: fake worked\n"
				"fake intent 0: fake: do the thing\n"
				"fake step 0: fake began\n");
	assert_int_equal(e.watched, 0);
	/* vigil stops while it runs, before it asked to be verified: cancelled. */
	vigil_healer_free(e.h);
	e.h = NULL;
	assert_string_equal(fake_log,
			    "interrupts start(0) tick tick interrupts start(0) cancel(0) ");
	assert_int_equal(j->state, VIGIL_INC_FAILED);
	trail(&e, tr, sizeof(tr));
	assert_string_equal(tr, "fake intent 0: fake: do the thing\n"
				"fake step 0: fake began\n"
				"fake success 0: fake worked\n"
				"fake intent 0: fake: do the thing\n"
				"fake step 0: fake began\n"
				"fake failed 0: vigil stopped before the scheduled heal\n"
				"breaker open 0: 1 failed heals in 60 s: no action for 3600 s\n");
	assert_null(vigil_knowledge_get(e.know, j->signature, "fake")); /* not learned */
	fake_unrule(&e, was);
	env_fini(&e);
}

/* A kind's blocking step runs off the loop (the loop goes on while it blocks); its end comes
 * back to progress() on the loop. vigil stopping while it runs waits for it before cancel(). */
static void test_any_kind_works_off_the_loop(void **state)
{
	struct vigil_action was;
	struct vigil_incident *i, *j;
	char tr[1024];
	struct env e;

	(void)state;
	env_init(&e, CFG("level: 1", "/bin/true"));
	was = fake_rule(&e);
	fake_work_ms = 100;
	i = crash(&e, 11);
	assert_string_equal(fake_log, "interrupts start(0) ");
	assert_int_equal(i->state, VIGIL_INC_HEALING);
	/* The loop does not wait for it: a turn returns with the work still running. */
	assert_int_equal(vigil_loop_run_once(e.loop, 0), 0);
	assert_string_equal(fake_log, "interrupts start(0) ");
	for (int n = 0; n < 100 && i->state == VIGIL_INC_HEALING; n++)
		assert_int_equal(vigil_loop_run_once(e.loop, 10), 0);
	assert_int_equal(i->state, VIGIL_INC_RESOLVED);
	assert_string_equal(fake_log, "interrupts start(0) work(42) ");
	/* vigil stops while the next one's work blocks: it is waited for, then cancelled. */
	fake_log[0] = '\0';
	fake_work_ms = 200;
	j = crash(&e, 6);
	assert_int_equal(j->state, VIGIL_INC_HEALING);
	vigil_healer_free(e.h);
	e.h = NULL;
	assert_string_equal(fake_log, "interrupts start(0) cancel(42) ");
	trail(&e, tr, sizeof(tr));
	assert_non_null(strstr(tr, "fake success 0: fake worked off the loop\n"));
	fake_unrule(&e, was);
	env_fini(&e);
}

/* interrupts() names a live process: the healer's quiet window holds start() back, and tells
 * it the connections still open when the window expired. */
static void test_any_kind_waits_for_quiet(void **state)
{
	struct vigil_action was;
	struct vigil_incident *i;
	char tr[2048];
	struct env e;

	(void)state;
	env_init(&e, CFG("level: 1", "/bin/true"));
	e.cfg->workloads[0].quiet_on_timeout = VIGIL_QUIET_RESTART; /* the window's end runs it */
	was = fake_rule(&e);
	fake_victim = 4242;
	e.conns = 2;
	i = crash(&e, 11);
	assert_string_equal(fake_log, "interrupts ");
	advance(&e, 59999);
	assert_string_equal(fake_log, "interrupts ");
	advance(&e, 100); /* the first look past the window (they are 100 ms apart) */
	assert_string_equal(fake_log, "interrupts start(2) ");
	advance(&e, 1000);
	/* vigil stops during its verify window: cancel says its work stands. */
	vigil_healer_free(e.h);
	e.h = NULL;
	assert_string_equal(fake_log, "interrupts start(2) tick cancel(0) ");
	assert_int_equal(i->state, VIGIL_INC_RESOLVED);
	trail(&e, tr, sizeof(tr));
	assert_string_equal(tr,
			    "fake intent 0: fake: do the thing\n"
			    "fake deferred 4242: 2 inbound connections open: waiting up to 60000 "
			    "ms for them to close before stopping pid 4242\n"
			    "fake step 0: fake began\n"
			    "fake success 0: vigil stopped during the verify window\n");
	fake_unrule(&e, was);
	env_fini(&e);
}

/* A child the run owns: its reap goes to progress(), and only its own. A heal scheduled at
 * shutdown never reached the kind: no cancel. The schedule names the kind. */
static void test_any_kind_hears_its_child(void **state)
{
	struct vigil_action was;
	struct vigil_incident *i;
	char tr[2048], want[2048];
	struct env e;
	pid_t child;
	int st;

	(void)state;
	env_init(&e, CFG("level: 1", "/bin/true"));
	was = fake_rule(&e);
	fake_forks = true;
	i = crash(&e, 11);
	child = wait(&st);
	assert_true(child > 0);
	vigil_healer_reaped(e.h, child + 100000, st);
	assert_string_equal(fake_log, "interrupts start(0) ");
	vigil_healer_reaped(e.h, child, st);
	assert_string_equal(fake_log, "interrupts start(0) child(3) ");
	assert_int_equal(i->state, VIGIL_INC_FAILED);
	trail(&e, tr, sizeof(tr));
	assert_string_equal(tr,
			    fmt(want,
				"fake intent 0: fake: do the thing\n"
				"fake step 0: fake began\n"
				"fake failed %d: fake child died\n"
				"breaker open 0: 1 failed heals in 60 s: no action for 3600 s\n",
				child));
	fake_unrule(&e, was);
	env_fini(&e);

	env_init(&e, CFG("level: 2", "/bin/true"));
	was = fake_rule(&e);
	i = crash(&e, 11);
	vigil_healer_free(e.h);
	e.h = NULL;
	assert_string_equal(fake_log, "");
	trail(&e, tr, sizeof(tr));
	assert_string_equal(tr, "fake scheduled 0: fake in 300000 ms (level 2 delay)\n"
				"fake failed 0: vigil stopped before the scheduled heal\n"
				"breaker open 0: 1 failed heals in 60 s: no action for 3600 s\n");
	fake_unrule(&e, was);
	env_fini(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_level1_restart_verified),
	    cmocka_unit_test(test_exec_failure_opens_breaker),
	    cmocka_unit_test(test_level3_waits_for_approval),
	    cmocka_unit_test(test_level3_runs_when_approved),
	    cmocka_unit_test(test_level2_waits_its_delay),
	    cmocka_unit_test(test_second_fault_during_heal_is_not_stacked),
	    cmocka_unit_test(test_fault_gone),
	    cmocka_unit_test(test_backoff_table),
	    cmocka_unit_test(test_retry_wait_table),
	    cmocka_unit_test(test_retry_with_backoff),
	    cmocka_unit_test(test_retry_then_success),
	    cmocka_unit_test(test_knowledge_prefers_what_worked),
	    cmocka_unit_test(test_knowledge_empty_store_takes_first),
	    cmocka_unit_test(test_no_store_takes_first),
	    cmocka_unit_test(test_failure_learned_and_breaker_records),
	    cmocka_unit_test(test_approve_runs_the_rule_chosen),
	    cmocka_unit_test(test_approval_waits_its_turn),
	    cmocka_unit_test(test_approval_expires),
	    cmocka_unit_test(test_deny),
	    cmocka_unit_test(test_restart_waits_for_quiet_then_stops),
	    cmocka_unit_test(test_restart_kills_after_grace),
	    cmocka_unit_test(test_quiet_timeout_escalates),
	    cmocka_unit_test(test_stop_in_quiet_window_releases),
	    cmocka_unit_test(test_restart_leaves_what_it_does_not_own),
	    cmocka_unit_test(test_verify_failures_recorded),
	    cmocka_unit_test(test_killed_within_verify_window),
	    cmocka_unit_test(test_lossy_incident_needs_level1),
	    cmocka_unit_test(test_shutdown_records_pending_heals),
	    cmocka_unit_test(test_zombie_is_not_running),
	    cmocka_unit_test(test_no_sigterm_to_a_process_that_left),
	    cmocka_unit_test(test_no_sigkill_to_a_process_that_left),
	    cmocka_unit_test(test_daemonizing_service_runs_again),
	    cmocka_unit_test(test_signal_mode),
	    cmocka_unit_test(test_zombie_replacement_is_not_running),
	    cmocka_unit_test(test_signal_mode_kill_after_and_poll),
	    cmocka_unit_test(test_await_timeout),
	    cmocka_unit_test(test_command_mode),
	    cmocka_unit_test(test_command_fails),
	    cmocka_unit_test(test_command_timeout),
	    cmocka_unit_test(test_supervisor_external_awaits),
	    cmocka_unit_test(test_replacement_dies_within_verify),
	    cmocka_unit_test(test_any_kind_runs_through_the_interface),
	    cmocka_unit_test(test_any_kind_waits_for_quiet),
	    cmocka_unit_test(test_any_kind_works_off_the_loop),
	    cmocka_unit_test(test_any_kind_hears_its_child),
	};

	return cmocka_run_group_tests_name("healer", tests, NULL, NULL);
}
