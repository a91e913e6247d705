// SPDX-License-Identifier: Apache-2.0
/*
 * Unit: the healer's policy on a real event loop with real child processes — autonomy
 * levels, restart verification, exec failures, the circuit breaker, and the backoff table.
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

#include "healer.h"

struct env {
	struct vigil_config *cfg;
	struct vigil_loop *loop;
	struct vigil_sinks *sinks;
	struct vigil_healer *h;
	struct vigil_incidents *incs;
	char journal[64];
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
	vigil_loop_timer(e->loop, ms, stop_loop, NULL);
	vigil_loop_run(e->loop);
}

static void env_init(struct env *e, const char *yaml)
{
	struct vigil_sink_opts so = { .node = "t", .quiet = true };
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
	assert_int_equal(vigil_loop_new(&e->loop), 0);
	assert_int_equal(vigil_sinks_open(&so, &e->sinks, err, sizeof(err)), 0);
	assert_int_equal(vigil_healer_new(e->cfg, e->loop, e->sinks, count_watch, e, &e->h), 0);
	assert_int_equal(vigil_incidents_new(60000, &e->incs), 0);
}

static void env_fini(struct env *e)
{
	vigil_healer_free(e->h);
	vigil_incidents_free(e->incs);
	vigil_sinks_close(e->sinks);
	vigil_loop_free(e->loop);
	vigil_config_free(e->cfg);
	unlink(e->journal);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* A crash of workload 1 (pid distinct per call so each opens an incident by signal). */
static struct vigil_incident *crash(struct env *e, int sig)
{
	struct vigil_detection d;
	struct vigil_exit x;
	struct vigil_incident *i;
	bool opened;

	memset(&x, 0, sizeof(x));
	x.hdr.kind = VIGIL_EV_EXIT;
	x.hdr.version = VIGIL_ABI_VERSION;
	x.hdr.size = sizeof(x);
	x.hdr.tgid = 1000 + sig;
	x.hdr.ts_ns = vigil_mono_ns();
	x.hdr.workload = 1;
	x.exit_code = sig;
	vigil_detect(&x.hdr, "svc", &d);
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
	};

	return cmocka_run_group_tests_name("healer", tests, NULL, NULL);
}
