// SPDX-License-Identifier: Apache-2.0
/*
 * Unit: /metrics' pieces. The Prometheus text writer (label values escaped whatever bytes they
 * hold, histograms cumulative with +Inf, _sum and _count, non-finite values as Prometheus
 * spells them); the tally (each observation in the first bucket whose bound holds it, the
 * action keys bounded); numeric listen addresses.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "control/prom.h"
#include "core/netaddr.h"
#include "output/tally.h"

static void test_family_and_escaping(void **state)
{
	struct vigil_http_resp r = {0};

	(void)state;
	vigil_prom_family(&r, "vigil_x_total", "counter", "Things.");
	vigil_prom_u64(&r, "vigil_x_total",
		       (const char *const[]){"a", "plain", "b", "q\"uo\\te\nnl", NULL}, 7);
	vigil_prom_u64(&r, "vigil_y", NULL, 0);
	vigil_prom_f64(&r, "vigil_z", (const char *const[]){"k", "", NULL}, 0.25);
	vigil_prom_f64(&r, "vigil_nan", NULL, NAN);
	vigil_prom_f64(&r, "vigil_inf", NULL, -INFINITY);
	assert_int_equal(r.err, 0);
	assert_string_equal(r.buf, "# HELP vigil_x_total Things.\n"
				   "# TYPE vigil_x_total counter\n"
				   "vigil_x_total{a=\"plain\",b=\"q\\\"uo\\\\te\\nnl\"} 7\n"
				   "vigil_y 0\n"
				   "vigil_z{k=\"\"} 0.25\n"
				   "vigil_nan NaN\n"
				   "vigil_inf -Inf\n");
	free(r.buf);
}

static void test_histogram_is_cumulative(void **state)
{
	static const double le[] = {0.001, 0.01, 1};
	static const uint64_t b[] = {2, 0, 3};
	struct vigil_http_resp r = {0};

	(void)state;
	/* 6 observations: 5 in the buckets, one above the last bound (+Inf only). */
	vigil_prom_hist(&r, "h", (const char *const[]){"class", "crash", NULL}, le, b, 3, 6, 2.5);
	assert_string_equal(r.buf, "h_bucket{class=\"crash\",le=\"0.001\"} 2\n"
				   "h_bucket{class=\"crash\",le=\"0.01\"} 2\n"
				   "h_bucket{class=\"crash\",le=\"1\"} 5\n"
				   "h_bucket{class=\"crash\",le=\"+Inf\"} 6\n"
				   "h_sum{class=\"crash\"} 2.5\n"
				   "h_count{class=\"crash\"} 6\n");
	free(r.buf);
}

static void test_tally(void **state)
{
	struct vigil_tally *t = calloc(1, sizeof(*t));
	struct vigil_incident i = {.cls = VIGIL_CLASS_CRASH, .workload = 2};
	char name[32];

	(void)state;
	assert_non_null(t);
	/* Detection 0.1 ms: the bucket le=0.0001 holds it (bounds are inclusive). */
	i.first_kernel_ns = 1000000;
	i.opened_mono_ns = i.first_kernel_ns + 100000;
	vigil_tally_opened(t, &i);
	assert_int_equal(t->opened[2][VIGIL_CLASS_CRASH], 1);
	assert_int_equal(t->detect[VIGIL_CLASS_CRASH].buckets[1], 1);
	assert_int_equal(t->detect[VIGIL_CLASS_CRASH].sum_ns, 100000);
	/* Recovery of an hour and more: above every bound, counted in +Inf alone. */
	i.resolved_mono_ns = i.opened_mono_ns + 4000ull * 1000000000ull;
	vigil_tally_resolved(t, &i);
	assert_int_equal(t->recover[VIGIL_CLASS_CRASH].count, 1);
	for (unsigned int k = 0; k < VIGIL_TALLY_RECOVER_BUCKETS; k++)
		assert_int_equal(t->recover[VIGIL_CLASS_CRASH].buckets[k], 0);
	/* A workload index beyond the config's counts as "no workload", never out of bounds. */
	i.workload = 1000;
	vigil_tally_opened(t, &i);
	assert_int_equal(t->opened[0][VIGIL_CLASS_CRASH], 1);
	/* Action keys: the same key counted in place; distinct keys bounded. */
	vigil_tally_action(t, &i, "restart", "success");
	vigil_tally_action(t, &i, "restart", "success");
	assert_int_equal(t->n_actions, 1);
	assert_int_equal(t->actions[0].n, 2);
	for (unsigned int k = 0; k < VIGIL_TALLY_ACTIONS_MAX + 10; k++) {
		snprintf(name, sizeof(name), "rule%u", k);
		vigil_tally_action(t, &i, name, "intent");
	}
	assert_int_equal(t->n_actions, VIGIL_TALLY_ACTIONS_MAX);
	assert_int_equal(t->actions_unkept, 11);
	vigil_tally_free(t);
	free(t);
}

static void test_listen_addresses(void **state)
{
	static const char *const bad[] = {
	    "9464",	   ":9464",	"localhost:9464", "127.0.0.1:", "127.0.0.1:65536",
	    "127.0.0.1:x", "[::1]9464", "[::1",		  "1.2.3:80",	"",
	};
	struct sockaddr_storage ss;
	const char *why;

	(void)state;
	assert_int_equal(vigil_parse_hostport("127.0.0.1:9464", &ss, &why), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 9464);
	assert_int_equal(vigil_parse_hostport("0.0.0.0:0", &ss, &why), 0);
	assert_int_equal(vigil_parse_hostport("[::1]:80", &ss, &why), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 80);
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		why = NULL;
		assert_int_equal(vigil_parse_hostport(bad[k], &ss, &why), -EINVAL);
		assert_non_null(why);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_family_and_escaping),
	    cmocka_unit_test(test_histogram_is_cumulative),
	    cmocka_unit_test(test_tally),
	    cmocka_unit_test(test_listen_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
