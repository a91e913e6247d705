// SPDX-License-Identifier: Apache-2.0
/*
 * Unit: the healer's policy on a real event loop with real child processes — autonomy
 * levels, restart verification, exec failures, the circuit breaker and its records, the
 * backoff table, and the choice between two actions by what the knowledge store learned.
 * The audit trail it writes (a journal in a scratch file) is what the tests read back.
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

#include "heal/healer.h"
#include "heal/knowledge.h"

struct env {
	struct vigil_config *cfg;
	struct vigil_loop *loop;
	struct vigil_output *sinks;
	struct vigil_healer *h;
	struct vigil_incidents *incs;
	struct vigil_knowledge *know; /* NULL unless the test gives the healer a store */
	char journal[64];
	char know_path[64];
	int watched; /* how often the watch callback ran */
};

static int count_watch(unsigned int workload, pid_t pid, void *arg)
{
	struct env *e = arg;

	(void)workload;
	(void)pid;
	e->watched++;
	return 0;
}

static void stop_loop(struct vigil_loop *loop, void *arg)
{
	(void)arg;
	vigil_loop_stop(loop);
}

/* Run the loop for ms milliseconds. */
static void run_for(struct env *e, uint64_t ms)
{
	struct vigil_timer t;

	vigil_timer_init(&t, stop_loop, NULL);
	vigil_timer_arm(e->loop, &t, ms);
	vigil_loop_run(e->loop);
	vigil_timer_cancel(e->loop, &t);
}

/* Incident records go to the journal, as the daemon wires them. */
static void record_incident(const struct vigil_incident *i, void *arg)
{
	struct env *e = arg;

	vigil_out_incident(e->sinks, i);
}

static void env_init(struct env *e, const char *yaml)
{
	struct vigil_output_opts so = { .node = "t", .quiet = true };
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
	assert_int_equal(vigil_loop_new(NULL, &e->loop), 0);
	assert_int_equal(vigil_output_open(&so, &e->sinks, err, sizeof(err)), 0);
	{
		const struct vigil_incidents_opts io = {
			.window_ms = 60000,
			.notify = record_incident,
			.notify_arg = e,
		};

		assert_int_equal(vigil_incidents_new(&io, &e->incs), 0);
	}
	assert_int_equal(
	    vigil_healer_new(e->cfg, e->loop, e->sinks, e->incs, count_watch, e, &e->h), 0);
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
static void crash_event(int sig, struct vigil_exit *x, struct vigil_detection *d)
{
	memset(x, 0, sizeof(*x));
	x->hdr.kind = VIGIL_EV_EXIT;
	x->hdr.version = VIGIL_ABI_VERSION;
	x->hdr.size = sizeof(*x);
	x->hdr.tgid = 1000 + sig;
	x->hdr.ts_ns = vigil_mono_ns();
	x->hdr.workload = 1;
	x->exit_code = sig;
	vigil_detect(&x->hdr, "svc", d);
}

/* A crash of workload 1 (pid distinct per call so each opens an incident by signal). */
static struct vigil_incident *crash(struct env *e, int sig)
{
	struct vigil_detection d;
	struct vigil_exit x;
	struct vigil_incident *i;
	bool opened;

	crash_event(sig, &x, &d);
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

#define CFG(level_and_more, exec)                                                               \
	"workloads:\n"                                                                          \
	"  - name: svc\n"                                                                       \
	"    match: { comm: svc }\n"                                                            \
	"    verify: 150ms\n"                                                                   \
	"    breaker: { failures: 1, window: 1m, cooldown: 1h }\n"                              \
	"    heal:\n"                                                                           \
	"      - on: [crash]\n"                                                                 \
	"        " level_and_more "\n"                                                          \
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
	assert_int_equal(e.watched, 1);
	run_for(&e, 400);
	assert_int_equal(i->state, VIGIL_INC_RESOLVED);
	assert_true(i->resolved_mono_ns > i->opened_mono_ns);
	outcomes(&e, out, sizeof(out));
	assert_string_equal(out, "intent started success ");
	env_fini(&e);
	system("pkill -f '^/bin/sleep 5$'");
}

static void test_exec_failure_opens_breaker(void **state)
{
	struct vigil_incident *i, *j;
	struct env e;
	char out[256];

	(void)state;
	env_init(&e, CFG("level: 1", "/nonexistent/vigil-test-binary"));
	i = crash(&e, 11);
	run_for(&e, 100);
	assert_int_equal(i->state, VIGIL_INC_FAILED);
	outcomes(&e, out, sizeof(out));
	/* exec failed -> failed; 1 failure opens the breaker (failures: 1). */
	assert_string_equal(out, "intent started failed open ");
	/* The next fault is escalated, nothing runs. */
	j = crash(&e, 6);
	assert_int_equal(j->state, VIGIL_INC_ESCALATED);
	outcomes(&e, out, sizeof(out));
	assert_string_equal(out, "intent started failed open skipped ");
	assert_int_equal(e.watched, 1);
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
	run_for(&e, 50);
	assert_int_equal(i->state, VIGIL_INC_AWAITING_APPROVAL);
	assert_int_equal(e.watched, 0);
	outcomes(&e, out, sizeof(out));
	assert_string_equal(out, "");
	env_fini(&e);
}

static void test_level3_runs_when_approved(void **state)
{
	struct vigil_incident *i;
	struct env e;
	char out[256];

	(void)state;
	env_init(&e, CFG("level: 3", "/bin/sleep, \"5\""));
	i = crash(&e, 11);
	assert_int_equal(i->state, VIGIL_INC_AWAITING_APPROVAL);
	/* Only an incident awaiting approval can be approved, and only once. */
	assert_int_equal(vigil_healer_approve(e.h, i, "test"), 0);
	assert_int_equal(vigil_healer_approve(e.h, i, "test"), -EINVAL);
	run_for(&e, 400);
	assert_int_equal(i->state, VIGIL_INC_RESOLVED);
	assert_int_equal(e.watched, 1);
	outcomes(&e, out, sizeof(out));
	assert_string_equal(out, "approved intent started success ");
	env_fini(&e);
	system("pkill -f '^/bin/sleep 5$'");
}

static void test_level2_waits_its_delay(void **state)
{
	struct vigil_incident *i;
	struct env e;
	char out[256];

	(void)state;
	env_init(&e, CFG("level: 2\n        delay: 200ms", "/bin/sleep, \"5\""));
	i = crash(&e, 11);
	assert_int_equal(i->state, VIGIL_INC_OPEN);
	run_for(&e, 100);
	assert_int_equal(e.watched, 0); /* not yet */
	run_for(&e, 400);
	assert_int_equal(e.watched, 1);
	assert_int_equal(i->state, VIGIL_INC_RESOLVED);
	outcomes(&e, out, sizeof(out));
	assert_string_equal(out, "scheduled intent started success ");
	env_fini(&e);
	system("pkill -f '^/bin/sleep 5$'");
}

static void test_second_fault_during_heal_is_not_stacked(void **state)
{
	struct vigil_incident *i, *j;
	struct env e;
	char out[256];

	(void)state;
	env_init(&e, CFG("level: 1", "/bin/sleep, \"5\""));
	i = crash(&e, 11);
	j = crash(&e, 6); /* another signature, same workload, while verifying */
	assert_ptr_not_equal(i, j);
	assert_int_equal(e.watched, 1);
	run_for(&e, 300);
	outcomes(&e, out, sizeof(out));
	assert_string_equal(out, "intent started skipped success ");
	env_fini(&e);
	system("pkill -f '^/bin/sleep 5$'");
}

static void test_backoff_table(void **state)
{
	(void)state;
	assert_int_equal(vigil_backoff_ms(0, 0), 0);	     /* first restart: at once */
	assert_int_equal(vigil_backoff_ms(1, 0), 10000);
	assert_int_equal(vigil_backoff_ms(1, 4000), 6000);   /* time already waited counts */
	assert_int_equal(vigil_backoff_ms(1, 12000), 0);
	assert_int_equal(vigil_backoff_ms(2, 0), 20000);
	assert_int_equal(vigil_backoff_ms(5, 0), 160000);
	assert_int_equal(vigil_backoff_ms(6, 0), 300000);    /* 320 s capped to 5 min */
	assert_int_equal(vigil_backoff_ms(60, 0), 300000);
	assert_int_equal(vigil_backoff_ms(9, 600000), 0);    /* ten quiet minutes reset it */
}

/* Two actions for one class: the first by config order, the second by name. */
#define CFG2(level, exec1, exec2, breaker)                                                     \
	"workloads:\n"                                                                          \
	"  - name: svc\n"                                                                       \
	"    match: { comm: svc }\n"                                                            \
	"    verify: 150ms\n"                                                                   \
	"    breaker: " breaker "\n"                                                            \
	"    heal:\n"                                                                           \
	"      - on: [crash]\n"                                                                 \
	"        level: " level "\n"                                                            \
	"        action: { restart: { exec: [" exec1 "] } }\n"                                  \
	"      - on: [crash]\n"                                                                 \
	"        name: restart-clean\n"                                                         \
	"        level: " level "\n"                                                            \
	"        action: { restart: { exec: [" exec2 "] } }\n"

#define BREAKER_1H "{ failures: 1, window: 1m, cooldown: 1h }"

/* What the store holds for the crash by sig: `successes` of `attempts` for action. */
static void know_fill(struct env *e, int sig, const char *action, int attempts, int successes)
{
	struct vigil_detection d;
	struct vigil_exit x;

	crash_event(sig, &x, &d);
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
	run_for(&e, 400);
	assert_int_equal(i->state, VIGIL_INC_RESOLVED);

	acts = records(&e, "action");
	r = action_rec(acts, "chosen");
	assert_non_null(r);
	assert_string_equal(str_of(r, "action"), "restart-clean");
	assert_string_equal(str_of(r, "detail"), "chosen: restart-clean, 4/5 worked before (0.71); "
						 "other: restart 0/2 worked before (0.25)");
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
	run_for(&e, 400);
	assert_int_equal(i->state, VIGIL_INC_RESOLVED);
	acts = records(&e, "action");
	assert_string_equal(str_of(action_rec(acts, "chosen"), "detail"),
			    "chosen: restart, never tried (0.50); other: restart-clean never tried "
			    "(0.50)");
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
	run_for(&e, 400);
	assert_int_equal(i->state, VIGIL_INC_RESOLVED);
	outcomes(&e, out, sizeof(out));
	assert_string_equal(out, "intent started success ");
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
	env_init(&e, CFG2("1", "/nonexistent/vigil-test-binary", "/bin/sleep, \"5\"",
			  "{ failures: 1, window: 1m, cooldown: 100ms }"));
	env_know(&e);
	i = crash(&e, 11);
	run_for(&e, 100);
	assert_int_equal(i->state, VIGIL_INC_FAILED);
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
	run_for(&e, 150);
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
	assert_string_equal(str_of(r, "detail"), "chosen: restart-clean, never tried (0.50); "
						 "other: restart 0/1 worked before (0.33)");
	r = json_array_get(acts, json_array_size(acts) - 1);
	assert_string_equal(str_of(r, "outcome"), "scheduled"); /* the backoff */
	json_decref(acts);
	run_for(&e, 10500);
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
	assert_true(vigil_knowledge_score(vigil_knowledge_get(e.know, i->signature, "restart")) >
		    vigil_knowledge_score(
			vigil_knowledge_get(e.know, i->signature, "restart-clean")));
	assert_int_equal(vigil_healer_approve(e.h, i, "test"), 0);
	run_for(&e, 400);
	assert_int_equal(i->state, VIGIL_INC_RESOLVED);
	outcomes(&e, out, sizeof(out));
	assert_string_equal(out, "chosen approved intent started success ");
	acts = records(&e, "action");
	assert_string_equal(str_of(action_rec(acts, "approved"), "action"), "restart-clean");
	assert_string_equal(str_of(action_rec(acts, "intent"), "detail"), "/bin/sleep 6");
	json_decref(acts);
	kill_started(&e);
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
		cmocka_unit_test(test_backoff_table),
		cmocka_unit_test(test_knowledge_prefers_what_worked),
		cmocka_unit_test(test_knowledge_empty_store_takes_first),
		cmocka_unit_test(test_no_store_takes_first),
		cmocka_unit_test(test_failure_learned_and_breaker_records),
		cmocka_unit_test(test_approve_runs_the_rule_chosen),
	};

	return cmocka_run_group_tests_name("healer", tests, NULL, NULL);
}
