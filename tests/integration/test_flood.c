// SPDX-License-Identifier: Apache-2.0
/*
 * Integration: bounded under flood (issue 12). In observe-all mode any user can make vigil
 * open an incident per process name: nobody (uid 65534) forks thousands of children, each
 * renamed with PR_SET_NAME and exiting 1, while a watched service crashes. The crash must
 * still be detected (complete, not lossy) and healed by its restart rule; the kernel must
 * have rate-limited the flood (its counter > 0); the incident table must never pass its cap
 * (and say it is full in a health record); vigil's memory must stay bounded.
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
#include "vt_asan.h"

#define CAP 64
#define FLOOD_EXITS "4000"
#define FLOOD_MS "3000"
#define WAIT_MS 5000
#define RSS_MAX_KIB (48 * 1024)

static const char config[] =
    "observe_all: true\n"
    "max_incidents: 64\n"
    "observe_all_rate: 20\n"
    "workloads:\n"
    "  - name: svc\n"
    "    match: { comm: vt-fsvc }\n"
    "    verify: 500ms\n"
    "    heal:\n"
    "      - on: [crash]\n"
    "        level: 1\n"
    "        action: { restart: { exec: [\"@LINK:vt-fsvc@\", serve] } }\n"
    "    policy: { allow_comm_only: true, allowed_exec: [\"@LINK:vt-fsvc@\"] }\n";

/* A kB field of /proc/PID/status ("VmHWM:"), or -1. */
static long status_kib(pid_t pid, const char *field)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)))
			kib = atol(line + strlen(field));
	fclose(f);
	return kib;
}

/* The exits family's object of a status answer. */
static json_t *exits_probe(json_t *st)
{
	json_t *f;
	size_t i;

	json_array_foreach(json_object_get(st, "probes"), i,
			   f) if (!strcmp(vt_str(f, "family"), "exits")) return f;
	return NULL;
}

static void test_watched_crash_heals_under_flood(void **state)
{
	static const char *const serve[] = {"serve", NULL};
	static const char *const flood[] = {"comm-flood", "65534", FLOOD_EXITS, FLOOD_MS, NULL};
	long long live_max = 0, newpid;
	uint64_t t0, flood_ms;
	json_t *inc, *ok, *st, *incs, *health;
	pid_t svc, flooder;
	char pid[16];
	int wst;
	struct vt v;

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	assert_int_equal(vt_start(&v, config, NULL), 0);
	svc = vt_run(&v, "vt-fsvc", serve);
	usleep(300000);

	/* nobody floods: thousands of names, each its own signature. */
	t0 = vt_mono_ns();
	flooder = vt_run(&v, "vt-flooder", flood);
	usleep(1000000);
	/* The service crashes in the middle of it. */
	snprintf(pid, sizeof(pid), "%d", (int)svc);
	kill(svc, SIGSEGV);
	vt_reap(svc);
	inc =
	    vt_wait(&v, WAIT_MS, "incident", "class", "crash", "workload", "svc", "pid", pid, NULL);
	assert_non_null(inc);
	/* Its records won over the flood's: nothing of the workload was lost around it. */
	assert_false(json_is_true(json_object_get(inc, "lossy")));
	printf("    watched crash during the flood: detected in %lld us\n",
	       vt_int(inc, "detect_us"));
	ok = vt_wait(&v, WAIT_MS, "action", "incident", vt_str(inc, "id"), "outcome", "success",
		     NULL);
	assert_non_null(ok);
	newpid = vt_int(ok, "pid");
	assert_true(newpid > 0);

	/* While the flood goes on, the table stays within its cap. */
	while (waitpid(flooder, &wst, WNOHANG) == 0) {
		st = vt_ctl(&v, "status", NULL);
		assert_non_null(st);
		incs = json_object_get(st, "incidents");
		if (vt_int(incs, "live") > live_max)
			live_max = vt_int(incs, "live");
		json_decref(st);
		usleep(100000);
	}
	assert_true(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
	flood_ms = (vt_mono_ns() - t0) / 1000000;
	usleep(1500000); /* a tick for the health records */

	st = vt_ctl(&v, "status", NULL);
	assert_non_null(st);
	incs = json_object_get(st, "incidents");
	printf("    flood of " FLOOD_EXITS " failing exits as nobody (asked over " FLOOD_MS
	       " ms, took %llu ms): "
	       "%lld sent, %lld rate-limited, %lld shed in the kernel; incidents: peak %lld "
	       "(cap %d), %lld evicted, %lld dropped; vigil VmHWM %ld KiB\n",
	       (unsigned long long)flood_ms, vt_int(exits_probe(st), "events"),
	       vt_int(exits_probe(st), "unwatched_limited"),
	       vt_int(exits_probe(st), "unwatched_shed"), vt_int(incs, "peak"), CAP,
	       vt_int(incs, "evicted"), vt_int(incs, "dropped"), status_kib(v.vigil, "VmHWM:"));
	assert_true(vt_int(exits_probe(st), "unwatched_limited") > 0);
	assert_int_equal(vt_int(incs, "max"), CAP);
	assert_true(vt_int(incs, "peak") <= CAP);
	assert_true(live_max <= CAP);
	assert_true(vt_int(incs, "evicted") > 0);
	json_decref(st);
	/* The full table said so, once per episode. */
	health = vt_wait(&v, WAIT_MS, "health", "map", "incidents", NULL);
	assert_non_null(health);
	assert_true(vt_int(health, "full") > 0);
	assert_true(vt_count(&v, "health", "map", "incidents", NULL) <= 3);
	/* Memory bounded: the BTF parse at start-up is most of the peak. */
	/* vigil under ASan (make SAN=1) carries its shadow memory: no bound on it there. */
	if (!VT_ASAN)
		assert_true(status_kib(v.vigil, "VmHWM:") < RSS_MAX_KIB);

	kill((pid_t)newpid, SIGKILL);
	assert_int_equal(vt_stop(&v), 0);
	vt_fini(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_watched_crash_heals_under_flood),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_flood: must run as root (loads BPF programs)\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	return cmocka_run_group_tests_name("flood", tests, NULL, NULL);
}
