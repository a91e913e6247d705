// SPDX-License-Identifier: Apache-2.0
/*
 * Integration: drops are never silent. With the smallest ring buffer (one page) and vigil
 * stopped, a burst of hundreds of simultaneous failing exits overflows it; the loss must show in a
 * health record, in `vigil status`, and on the workload's next incident (lossy), whose level-2 rule
 * the healer must then refuse to run.
 */
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

#include "harness.h"

static const char config[] = "workloads:\n"
			     "  - name: flood\n"
			     "    match: { comm: vt-flood }\n"
			     "    heal:\n"
			     "      - on: [crash]\n"
			     "        level: 2\n"
			     "        delay: 1s\n"
			     "        action: { restart: { exec: [/bin/true] } }\n"
			     "    policy: { allow_comm_only: true, allowed_exec: [/bin/true] }\n";

static void test_drops_are_counted_and_taint_incidents(void **state)
{
	static const char *const burst[] = {"burst", "800", "3", NULL};
	static const char *const segv[] = {"segv", NULL};
	const char *const extra[] = {"--ringbuf-kib", "4", NULL};
	struct vt v;
	json_t *health, *st, *f, *inc, *act;
	long long drops = 0, events;
	char pid[16];
	size_t i;
	pid_t p;

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	assert_int_equal(vt_start(&v, config, extra), 0);
	/* vigil stopped while the burst happens: nothing drains the ring buffer, so the loss
	 * does not depend on how fast this machine is. */
	kill(v.vigil, SIGSTOP);
	waitpid(vt_run(&v, "vt-flood", burst), NULL, 0);
	kill(v.vigil, SIGCONT);

	/* A health record says how many were lost... */
	health = vt_wait(&v, 5000, "health", "family", "exits", NULL);
	assert_non_null(health);
	assert_true(vt_int(health, "drops") > 0);
	/* ... and status counts them, beside what did arrive. */
	st = vt_ctl(&v, "status", NULL);
	assert_non_null(st);
	json_array_foreach(json_object_get(st, "probes"), i,
			   f) if (!strcmp(vt_str(f, "family"), "exits")) drops = vt_int(f, "drops");
	events = vt_count(&v, "event", "class", "exit_nonzero", NULL);
	printf("    burst of 800 exits into a 4 KiB ring buffer: %lld recorded, %lld dropped "
	       "(kernel count), sum %lld\n",
	       events, drops, events + drops);
	assert_true(drops > 0);
	/* Nothing vanished unaccounted: every exit was either recorded or counted as dropped. */
	assert_true(events + drops >= 800);
	json_decref(st);

	/* The workload's next incident carries the loss, and its level-2 heal is refused. */
	p = vt_run(&v, "vt-flood", segv);
	waitpid(p, NULL, 0);
	snprintf(pid, sizeof(pid), "%d", p);
	inc = vt_wait(&v, 5000, "incident", "class", "crash", "pid", pid, NULL);
	assert_non_null(inc);
	assert_true(json_is_true(json_object_get(inc, "lossy")));
	assert_true(vt_int(inc, "lost") > 0);
	act =
	    vt_wait(&v, 5000, "action", "incident", vt_str(inc, "id"), "outcome", "skipped", NULL);
	assert_non_null(act);
	assert_non_null(strstr(vt_str(act, "detail"), "complete telemetry"));
	assert_int_equal(vt_count(&v, "action", "outcome", "intent", NULL), 0);
	assert_int_equal(vt_stop(&v), 0);
	vt_fini(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_drops_are_counted_and_taint_incidents),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_drops: must run as root (loads BPF programs)\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	return cmocka_run_group_tests_name("drops", tests, NULL, NULL);
}
