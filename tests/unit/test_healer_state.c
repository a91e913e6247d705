// SPDX-License-Identifier: Apache-2.0
/*
 * Unit: the healer's durable state across a restart of vigil, on one manual clock. A "run" is
 * a healer with its own incidents table, journal and state file object; the state the first
 * run wrote (read back from its file, as the next start does) is restored by a second run
 * after the clock has moved on while vigil was down, and the arithmetic is checked to the
 * millisecond: an open breaker's remaining cooldown, the backoff going on, a level-2 heal run
 * at what was left of its delay, an approval still pending (and approvable), entries whose
 * rule the config lost dropped, and the state mirrored to the sinks but not the journal.
 */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bad_exec.h"

#include "heal/healer.h"
#include "heal/state.h"
#include "records.h"

#define CFG(level_and_more, exec, cooldown)                                                        \
	"workloads:\n"                                                                             \
	"  - name: svc\n"                                                                          \
	"    match: { comm: svc }\n"                                                               \
	"    verify: 150ms\n"                                                                      \
	"    breaker: { failures: 1, window: 10m, cooldown: " cooldown " }\n"                      \
	"    heal:\n"                                                                              \
	"      - on: [crash]\n"                                                                    \
	"        " level_and_more "\n"                                                             \
	"        action: { restart: { exec: [" exec "] } }\n"                                      \
	"    policy: { allow_comm_only: true, allowed_exec: [/bin/sleep, /bin/true, "              \
	"/bin/false, " VT_BAD_EXEC "] }\n"

/* What stays across runs: the clock, the loop, the config, the state file's path. */
struct world {
	struct vigil_manual_clock mc;
	struct vigil_loop *loop;
	struct vigil_config *cfg;
	char dir[64];
	char state_path[128];
	unsigned int forwarded_states; /* state records handed to the (fake) sinks */
	char last_state[8192];
};

/* One run of vigil. */
struct run {
	struct world *w;
	struct vigil_output *out;
	struct vigil_incidents *incs;
	struct vigil_healer *h;
	struct vigil_state_file *file;
	struct vigil_heal_state loaded;
	bool found;
	char journal[160];
	pid_t mine[8]; /* what the healer started and watched: the workload's, for its probe */
	int n_mine;
};

static int forward(void *arg, const char *json, size_t len)
{
	struct world *w = arg;
	json_t *o = json_loadb(json, len, 0, NULL);

	assert_non_null(o);
	if (!strcmp(json_string_value(json_object_get(o, "type")), "state")) {
		w->forwarded_states++;
		snprintf(w->last_state, sizeof(w->last_state), "%.*s", (int)len, json);
	}
	json_decref(o);
	return 0;
}

/* The daemon's watch callback puts what the healer starts into the kernel's watched set; here,
 * the run's list, which the probe answers from. */
static int watch(unsigned int workload, pid_t pid, void *arg)
{
	struct run *r = arg;

	(void)workload;
	assert_true(r->n_mine < 8);
	r->mine[r->n_mine++] = pid;
	return 0;
}

static bool probe_owns(unsigned int workload, pid_t pid, void *arg)
{
	const struct run *r = arg;

	for (int i = 0; workload == 1 && pid > 0 && i < r->n_mine; i++)
		if (r->mine[i] == pid)
			return true;
	return false;
}

static size_t probe_pids(unsigned int workload, pid_t *out, size_t max, void *arg)
{
	const struct run *r = arg;
	size_t n = 0;

	for (int i = 0; workload == 1 && i < r->n_mine && n < max; i++)
		out[n++] = r->mine[i];
	return n;
}

static void record_incident(const struct vigil_incident *i, void *arg)
{
	vigil_out_incident(((struct run *)arg)->out, i);
}

static void world_init(struct world *w, const char *yaml)
{
	char err[512];

	memset(w, 0, sizeof(*w));
	snprintf(w->dir, sizeof(w->dir), "/tmp/vigil-hstate-XXXXXX");
	assert_non_null(mkdtemp(w->dir));
	snprintf(w->state_path, sizeof(w->state_path), "%s/state.json", w->dir);
	if (vigil_config_parse(yaml, strlen(yaml), "test.yaml", &w->cfg, err, sizeof(err)))
		fail_msg("config: %s", err);
	vigil_manual_clock_init(&w->mc);
	assert_int_equal(vigil_loop_new(&w->mc.clock, &w->loop), 0);
}

static void world_fini(struct world *w)
{
	char cmd[128];

	vigil_loop_free(w->loop);
	vigil_config_free(w->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", w->dir);
	assert_int_equal(system(cmd), 0);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* Start a run: open the state file as the daemon does, and restore what it holds. */
static void run_start(struct run *r, struct world *w, unsigned int n,
		      struct vigil_healer_restored *restored)
{
	struct vigil_output_opts so = {.node = "t", .quiet = true};
	char err[512], msg[512];

	memset(r, 0, sizeof(*r));
	r->w = w;
	snprintf(r->journal, sizeof(r->journal), "%s/journal-%u.jsonl", w->dir, n);
	so.journal = r->journal;
	assert_int_equal(vigil_output_open(&so, &r->out, err, sizeof(err)), 0);
	vigil_output_set_forward(r->out, forward, w);
	{
		const struct vigil_incidents_opts io = {
		    .window_ms = 60000,
		    .clock = &w->mc.clock,
		    .notify = record_incident,
		    .notify_arg = r,
		};

		assert_int_equal(vigil_incidents_new(&io, &r->incs), 0);
	}
	assert_int_equal(vigil_healer_new(w->cfg, w->loop, r->out, r->incs, watch, r, &r->h), 0);
	{
		const struct vigil_healer_probe probe = {
		    .owns = probe_owns,
		    .pids = probe_pids,
		    .arg = r,
		};

		vigil_healer_set_probe(r->h, &probe);
	}
	assert_int_equal(
	    vigil_state_file_open(w->state_path, &r->file, &r->loaded, &r->found, msg, sizeof(msg)),
	    0);
	assert_string_equal(msg, "");
	vigil_healer_set_state(r->h, r->file);
	assert_int_equal(vigil_healer_restore(r->h, &r->loaded, restored), 0);
	vigil_state_clear(&r->loaded);
}

/* vigil is killed: nothing more is written (the file holds what the last change wrote). */
static void run_kill(struct run *r)
{
	vigil_healer_set_state(r->h, NULL);
	vigil_healer_free(r->h);
	vigil_state_file_close(r->file);
	vigil_incidents_free(r->incs);
	vigil_output_close(r->out);
}

/* Move the clock by ms, then run what is ready and every timer due. */
static void advance(struct world *w, uint64_t ms)
{
	vigil_manual_clock_advance(&w->mc, ms);
	assert_int_equal(vigil_loop_run_once(w->loop, 0), 0);
}

/* Let real children act, the clock standing still, until inc is in state s. */
static void wait_state(struct world *w, const struct vigil_incident *inc,
		       enum vigil_incident_state s)
{
	for (int n = 0; n < 200 && inc->state != s; n++)
		assert_int_equal(vigil_loop_run_once(w->loop, 10), 0);
	assert_int_equal(inc->state, s);
}

static struct vigil_incident *crash(struct run *r, int sig)
{
	struct vigil_detection d;
	struct vigil_exit x = tr_exit(1000 + sig, vigil_clock_mono(&r->w->mc.clock), 1, sig);
	struct vigil_incident *i;
	bool opened;

	vigil_detect(&x.hdr, "svc", &d);
	i = vigil_incidents_record(r->incs, &x.hdr, &d, "svc", &opened);
	assert_non_null(i);
	vigil_healer_incident(r->h, i, opened);
	return i;
}

/* The run's audit trail: "ACTION OUTCOME: DETAIL\n" per action record; breaker records as
 * "breaker STATE\n" (a started pid as PID); the journal never holds a state record. */
static void trail(struct run *r, char *buf, size_t len)
{
	FILE *f = fopen(r->journal, "r");
	char line[4096];
	size_t off = 0;

	assert_non_null(f);
	buf[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		json_t *o = json_loads(line, 0, NULL);
		const char *type;

		assert_non_null(o);
		type = json_string_value(json_object_get(o, "type"));
		assert_string_not_equal(type, "state");
		if (!strcmp(type, "action"))
			off += (size_t)snprintf(
			    buf + off, len - off, "%s %s: %s\n",
			    json_string_value(json_object_get(o, "action")),
			    json_string_value(json_object_get(o, "outcome")),
			    /* a started pid differs at each run */
			    strcmp(json_string_value(json_object_get(o, "outcome")), "started")
				? json_string_value(json_object_get(o, "detail"))
				: "PID");
		else if (!strcmp(type, "breaker"))
			off += (size_t)snprintf(buf + off, len - off, "breaker %s\n",
						json_string_value(json_object_get(o, "state")));
		json_decref(o);
		assert_true(off < len);
	}
	fclose(f);
}

/* SIGKILL what a run started (the pids of its "started" records), and nothing else. */
static void kill_started(struct run *r)
{
	FILE *f = fopen(r->journal, "r");
	char line[4096];

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		json_t *o = json_loads(line, 0, NULL);
		const char *outcome = json_string_value(json_object_get(o, "outcome"));
		pid_t pid = (pid_t)json_integer_value(json_object_get(o, "pid"));

		if (outcome && !strcmp(outcome, "started") && pid > 0)
			kill(pid, SIGKILL);
		json_decref(o);
	}
	fclose(f);
}

/* How many action records of r have this outcome. */
static int count_outcome(struct run *r, const char *outcome)
{
	FILE *f = fopen(r->journal, "r");
	char line[4096];
	int n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		json_t *o = json_loads(line, 0, NULL);
		const char *got = json_string_value(json_object_get(o, "outcome"));

		n += got && !strcmp(got, outcome);
		json_decref(o);
	}
	fclose(f);
	return n;
}

/* Let real children act, the clock standing still, until r's heal has its replacement (its
 * exec succeeded: the verify window runs from there). */
static void wait_replaced(struct world *w, struct run *r)
{
	for (int n = 0; n < 200 && !count_outcome(r, "replaced"); n++)
		assert_int_equal(vigil_loop_run_once(w->loop, 10), 0);
	assert_int_equal(count_outcome(r, "replaced"), 1);
}

/* Run the loop (no time passing) so that a change is written. */
static void settle(struct world *w)
{
	assert_int_equal(vigil_loop_run_once(w->loop, 0), 0);
}

/*
 * An open breaker stays open for the rest of its cooldown: opened, vigil down for 100 s of a
 * 300 s cooldown, a new run escalates every fault until the 300 s are over, then tries once.
 */
static void test_breaker_keeps_its_cooldown(void **state)
{
	struct vigil_healer_restored rs;
	struct vigil_incident *i;
	struct world w;
	struct run a, b;
	char tr[4096];

	(void)state;
	assert_int_equal(vt_bad_exec_make(), 0);
	world_init(&w, CFG("level: 1", VT_BAD_EXEC, "300s"));
	run_start(&a, &w, 1, &rs);
	assert_false(a.found);
	i = crash(&a, 11);
	wait_state(&w, i, VIGIL_INC_FAILED); /* the exec failed: the breaker opened */
	settle(&w);
	run_kill(&a);

	advance(&w, 100000); /* vigil is down for 100 s */
	run_start(&b, &w, 2, &rs);
	assert_true(b.found);
	assert_int_equal(rs.breakers_open, 1);
	assert_int_equal(rs.dropped, 0);
	i = crash(&b, 6);
	assert_int_equal(i->state, VIGIL_INC_ESCALATED);
	advance(&w, 199999); /* 1 ms of the cooldown left */
	i = crash(&b, 4);
	assert_int_equal(i->state, VIGIL_INC_ESCALATED);
	advance(&w, 1);
	i = crash(&b, 7); /* the cooldown is over: one try */
	wait_state(&w, i, VIGIL_INC_FAILED);
	trail(&b, tr, sizeof(tr));
	assert_string_equal(tr, "breaker open\n"
				"restart skipped: circuit breaker open: a human must look\n"
				"restart skipped: circuit breaker open: a human must look\n"
				"breaker half_open\n"
				"restart intent: " VT_BAD_EXEC "\n"
				"restart started: PID\n"
				"restart failed: exec " VT_BAD_EXEC ": Exec format error\n"
				"breaker open: 2 failed heals in 600 s: no action for 300 s\n"
				"breaker open\n");
	run_kill(&b);
	world_fini(&w);
}

/*
 * The backoff goes on: a restart, vigil down for 4 s, a new fault waits the rest of the 10 s
 * the second restart owes (counted from the first one's spawn).
 */
static void test_backoff_goes_on(void **state)
{
	struct vigil_healer_restored rs;
	struct vigil_incident *i;
	struct world w;
	struct run a, b;
	char tr[4096];

	(void)state;
	world_init(&w, CFG("level: 1", "/bin/sleep, \"30\"", "1h"));
	run_start(&a, &w, 1, &rs);
	i = crash(&a, 11); /* spawned now: the backoff counts from here */
	wait_replaced(&w, &a);
	assert_int_equal(i->state, VIGIL_INC_VERIFYING);
	advance(&w, 150);
	assert_int_equal(i->state, VIGIL_INC_RESOLVED);
	run_kill(&a);
	kill_started(&a);

	advance(&w, 3850); /* 4000 ms since the spawn */
	run_start(&b, &w, 2, &rs);
	assert_int_equal(rs.backoffs, 1);
	i = crash(&b, 6);
	assert_int_equal(i->state, VIGIL_INC_OPEN);
	trail(&b, tr, sizeof(tr));
	assert_string_equal(tr, "restart scheduled: restart in 6000 ms (backoff)\n");
	advance(&w, 5999);
	assert_int_equal(i->state, VIGIL_INC_OPEN);
	advance(&w, 1);
	wait_replaced(&w, &b);
	assert_int_equal(i->state, VIGIL_INC_VERIFYING);
	run_kill(&b);
	kill_started(&b);
	world_fini(&w);
}

/*
 * A level-2 heal waiting for its delay: 60 s delay, vigil killed after 20 s and down for 15 s;
 * the new run has the incident back (restored) and runs the heal 25 s later, not before.
 */
static void test_level2_runs_at_its_remaining_delay(void **state)
{
	struct vigil_healer_restored rs;
	struct vigil_incident *i, *r;
	struct world w;
	struct run a, b;
	char tr[4096], id[17];

	(void)state;
	world_init(&w, CFG("level: 2\n        delay: 60s", "/bin/sleep, \"30\"", "1h"));
	run_start(&a, &w, 1, &rs);
	i = crash(&a, 11);
	assert_int_equal(i->state, VIGIL_INC_OPEN);
	snprintf(id, sizeof(id), "%s", i->id);
	advance(&w, 20000);
	run_kill(&a);
	advance(&w, 15000);

	run_start(&b, &w, 2, &rs);
	assert_int_equal(rs.pending, 1);
	r = vigil_incidents_lookup(b.incs, id);
	assert_non_null(r);
	assert_true(r->restored);
	assert_int_equal(r->state, VIGIL_INC_OPEN);
	trail(&b, tr, sizeof(tr));
	assert_string_equal(tr, "restart scheduled: restart in 25000 ms (resumed: its delay goes "
				"on)\n");
	advance(&w, 24999);
	assert_int_equal(r->state, VIGIL_INC_OPEN);
	advance(&w, 1);
	wait_replaced(&w, &b);
	assert_int_equal(r->state, VIGIL_INC_VERIFYING);
	advance(&w, 150);
	assert_int_equal(r->state, VIGIL_INC_RESOLVED);
	/* The heal is over: the state written now has nothing pending. */
	settle(&w);
	assert_null(strstr(w.last_state, "\"pending\":[{"));
	run_kill(&b);
	kill_started(&b);
	world_fini(&w);
}

/*
 * A level-3 incident awaiting approval outlives the restart: back in the live table awaiting
 * approval, restored, with the rule it waited with; approved, it runs. The state goes to the
 * sinks at every change, never to the journal.
 */
static void test_approval_stays_pending(void **state)
{
	struct vigil_healer_restored rs;
	struct vigil_incident *i, *r;
	struct world w;
	struct run a, b;
	char tr[4096], id[17];
	unsigned int states;

	(void)state;
	world_init(&w, CFG("level: 3", "/bin/sleep, \"30\"", "1h"));
	run_start(&a, &w, 1, &rs);
	i = crash(&a, 11);
	assert_int_equal(i->state, VIGIL_INC_AWAITING_APPROVAL);
	snprintf(id, sizeof(id), "%s", i->id);
	states = w.forwarded_states;
	settle(&w);
	assert_int_equal(w.forwarded_states, states + 1);
	assert_non_null(strstr(w.last_state, id));
	assert_non_null(strstr(w.last_state, "\"awaiting\":[{\"rule\":\"restart\""));
	run_kill(&a);
	advance(&w, 1800000); /* half an hour later: within its approval_timeout (1 h) */

	run_start(&b, &w, 2, &rs);
	assert_int_equal(rs.awaiting, 1);
	r = vigil_incidents_lookup(b.incs, id);
	assert_non_null(r);
	assert_true(r->restored && r->busy);
	assert_int_equal(r->state, VIGIL_INC_AWAITING_APPROVAL);
	assert_non_null(r->heal_rule);
	assert_int_equal(vigil_incidents_expire(b.incs), 0); /* held */
	assert_int_equal(vigil_healer_approve(b.h, r, "test", NULL), 0);
	wait_replaced(&w, &b);
	assert_int_equal(r->state, VIGIL_INC_VERIFYING);
	trail(&b, tr, sizeof(tr));
	assert_non_null(strstr(tr, "restart approved: approved by test\n"
				   "restart intent: /bin/sleep 30\n"));
	advance(&w, 150);
	assert_int_equal(r->state, VIGIL_INC_RESOLVED);
	run_kill(&b);
	kill_started(&b);
	world_fini(&w);
}

/* A restored approval expires when its approval_timeout, counted from when it began to wait,
 * runs out — not a whole timeout after the restart. */
static void test_restored_approval_expires_on_time(void **state)
{
	struct vigil_healer_restored rs;
	struct vigil_incident *i;
	struct world w;
	struct run a, b;
	char id[17], tr[1024];

	(void)state;
	world_init(&w, CFG("level: 3", "/bin/sleep, \"30\"", "1h"));
	w.cfg->workloads[0].approval_timeout_ms = 600000; /* 10 min */
	run_start(&a, &w, 1, &rs);
	i = crash(&a, 11);
	snprintf(id, sizeof(id), "%s", i->id);
	settle(&w);
	run_kill(&a);
	advance(&w, 420000); /* 7 min later */
	run_start(&b, &w, 2, &rs);
	assert_int_equal(rs.awaiting, 1);
	advance(&w, 179999);
	assert_non_null(vigil_incidents_lookup(b.incs, id));
	advance(&w, 1);
	assert_null(vigil_incidents_lookup(b.incs, id));
	trail(&b, tr, sizeof(tr));
	assert_non_null(strstr(tr, "restart expired: no approval within 600 s"));
	run_kill(&b);
	world_fini(&w);
}

/* An approval waiting for its workload's heal to end is kept as an approved pending heal: the
 * next run runs it, with no approval asked again. */
static void test_approved_waiting_survives(void **state)
{
	struct vigil_healer_restored rs;
	struct vigil_incident *i, *j, *r;
	struct world w;
	struct run a, b;
	char id[17];

	(void)state;
	world_init(&w, CFG("level: 3", "/bin/sleep, \"30\"", "1h"));
	run_start(&a, &w, 1, &rs);
	i = crash(&a, 11);
	j = crash(&a, 6);
	snprintf(id, sizeof(id), "%s", j->id);
	assert_int_equal(vigil_healer_approve(a.h, i, "test", NULL), 0);
	assert_int_equal(vigil_healer_approve(a.h, j, "test", NULL), 0);
	assert_int_equal(j->state, VIGIL_INC_OPEN); /* waiting its turn */
	settle(&w);
	assert_non_null(strstr(w.last_state, id));
	run_kill(&a);
	kill_started(&a);
	run_start(&b, &w, 2, &rs);
	assert_int_equal(rs.pending, 1);
	r = vigil_incidents_lookup(b.incs, id);
	assert_non_null(r);
	advance(&w, 0);
	wait_replaced(&w, &b);
	assert_int_equal(r->state, VIGIL_INC_VERIFYING);
	advance(&w, 150);
	assert_int_equal(r->state, VIGIL_INC_RESOLVED);
	run_kill(&b);
	kill_started(&b);
	world_fini(&w);
}

/* What the config no longer has is dropped (counted, said); a pending heal whose rule became
 * level 3 waits for approval instead of running, unless a person approved it already. */
static void test_config_changed(void **state)
{
	struct vigil_healer_restored rs;
	struct vigil_state_item *it;
	struct vigil_state_workload *sw;
	struct vigil_heal_state s = {};
	struct vigil_incident *r;
	struct world w;
	struct run b;
	char msg[512];

	(void)state;
	world_init(&w, CFG("level: 3", "/bin/sleep, \"30\"", "1h"));
	sw = vigil_state_add_workload(&s);
	snprintf(sw->name, sizeof(sw->name), "gone");
	it = vigil_state_add_item(&s);
	it->kind = VIGIL_STATE_PENDING;
	snprintf(it->rule, sizeof(it->rule), "restart");
	it->at_wall_ns = vigil_clock_wall(&w.mc.clock);
	snprintf(it->inc.id, sizeof(it->inc.id), "019abc0000000001");
	snprintf(it->inc.signature, sizeof(it->inc.signature), "01a22736f8b60001");
	snprintf(it->inc.workload_name, sizeof(it->inc.workload_name), "svc");
	it->inc.cls = VIGIL_CLASS_CRASH;
	it->inc.count = 1;
	it->inc.opened_wall_ns = vigil_clock_wall(&w.mc.clock) - 1000000000ull;
	it = vigil_state_add_item(&s);
	*it = s.items[0];
	snprintf(it->inc.id, sizeof(it->inc.id), "019abc0000000002");
	snprintf(it->rule, sizeof(it->rule), "rollback");
	it = vigil_state_add_item(&s);
	*it = s.items[0];
	snprintf(it->inc.id, sizeof(it->inc.id), "019abc0000000003");
	it->approved = true;
	it->at_wall_ns += 60000000000ull;
	{
		struct vigil_state_file *f;
		struct vigil_heal_state none;
		bool found;

		assert_int_equal(
		    vigil_state_file_open(w.state_path, &f, &none, &found, msg, sizeof(msg)), 0);
		assert_int_equal(vigil_state_file_write(f, &s, "t"), 0);
		vigil_state_file_close(f);
	}
	run_start(&b, &w, 1, &rs);
	assert_int_equal(rs.dropped, 2);
	assert_int_equal(rs.awaiting, 1);
	assert_int_equal(rs.pending, 1);
	assert_string_equal(rs.dropped_why, "workload gone is no longer in the config");
	r = vigil_incidents_lookup(b.incs, "019abc0000000001");
	assert_non_null(r);
	assert_int_equal(r->state, VIGIL_INC_AWAITING_APPROVAL);
	assert_null(vigil_incidents_lookup(b.incs, "019abc0000000002"));
	r = vigil_incidents_lookup(b.incs, "019abc0000000003");
	assert_non_null(r);
	assert_int_equal(r->state, VIGIL_INC_OPEN); /* approved: it runs in 60 s */
	assert_non_null(r->heal_rule);
	run_kill(&b);
	vigil_state_clear(&s);
	world_fini(&w);
}

/* The snapshot of a restored healer is the state it was given, on the wall clock. */
static void test_snapshot_round_trip(void **state)
{
	struct vigil_healer_restored rs;
	struct vigil_heal_state s;
	struct vigil_incident *i;
	struct world w;
	struct run a, b;
	uint64_t opened;

	(void)state;
	assert_int_equal(vt_bad_exec_make(), 0);
	world_init(&w, CFG("level: 1", VT_BAD_EXEC, "300s"));
	run_start(&a, &w, 1, &rs);
	i = crash(&a, 11);
	wait_state(&w, i, VIGIL_INC_FAILED);
	settle(&w);
	assert_int_equal(vigil_healer_snapshot(a.h, &s), 0);
	assert_int_equal(s.n_wl, 1);
	assert_int_equal(s.wl[0].breaker, VIGIL_BREAKER_OPEN);
	assert_int_equal(s.wl[0].n_fails, 1);
	assert_int_equal(s.wl[0].restarts, 1);
	opened = s.wl[0].opened_wall_ns;
	vigil_state_clear(&s);
	run_kill(&a);
	advance(&w, 5000);
	run_start(&b, &w, 2, &rs);
	assert_int_equal(vigil_healer_snapshot(b.h, &s), 0);
	assert_int_equal(s.n_wl, 1);
	assert_int_equal(s.wl[0].breaker, VIGIL_BREAKER_OPEN);
	assert_int_equal(s.wl[0].opened_wall_ns, opened);
	assert_int_equal(s.wl[0].n_fails, 1);
	assert_int_equal(s.wl[0].fails_wall_ns[0], opened);
	vigil_state_clear(&s);
	run_kill(&b);
	world_fini(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_breaker_keeps_its_cooldown),
	    cmocka_unit_test(test_backoff_goes_on),
	    cmocka_unit_test(test_level2_runs_at_its_remaining_delay),
	    cmocka_unit_test(test_approval_stays_pending),
	    cmocka_unit_test(test_restored_approval_expires_on_time),
	    cmocka_unit_test(test_approved_waiting_survives),
	    cmocka_unit_test(test_config_changed),
	    cmocka_unit_test(test_snapshot_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
