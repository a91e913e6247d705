// SPDX-License-Identifier: Apache-2.0
/* Unit: classification of exits, and signatures that depend only on what the fault is. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <cmocka.h>

#include "core/classes.h"
#include "detect/detector.h"
#include "records.h"

static struct vigil_exit mk_exit(uint32_t tgid, uint32_t code)
{
	return tr_exit(tgid, 1000 + tgid, 0, code);
}

static void test_segv_is_crash(void **state)
{
	struct vigil_exit e = mk_exit(100, SIGSEGV | 0x80);
	struct vigil_detection d;

	(void)state;
	assert_int_equal(vigil_detect(&e.hdr, "svc", &d), 0);
	assert_int_equal(d.cls, VIGIL_CLASS_CRASH);
	assert_int_equal(d.signal, SIGSEGV);
	assert_true(d.core_dumped);
	assert_string_equal(d.detail, "SIGSEGV");
	assert_string_equal(d.title, "svc crash SIGSEGV");
	assert_string_equal(d.label, "crash");
	assert_int_equal(strlen(d.signature), 16);
}

static void test_exit_status(void **state)
{
	struct vigil_exit e = mk_exit(100, 3 << 8);
	struct vigil_detection d;

	(void)state;
	vigil_detect(&e.hdr, "svc", &d);
	assert_int_equal(d.cls, VIGIL_CLASS_EXIT_NONZERO);
	assert_int_equal(d.status, 3);
	assert_int_equal(d.signal, 0);
	assert_string_equal(d.detail, "status=3");

	e = mk_exit(100, 0);
	vigil_detect(&e.hdr, "svc", &d);
	assert_int_equal(d.cls, VIGIL_CLASS_NONE);
	assert_string_equal(d.label, "exit");
	assert_string_equal(d.signature, "");
}

static void test_oom_wins_over_sigkill(void **state)
{
	struct vigil_exit e = mk_exit(100, SIGKILL);
	struct vigil_detection d;

	(void)state;
	e.exit_flags = VIGIL_EXIT_OOM | VIGIL_EXIT_SENDER;
	e.sender_tgid = 7; /* the allocating task that ran the OOM killer */
	e.sender_sig = SIGKILL;
	vigil_detect(&e.hdr, "svc", &d);
	assert_int_equal(d.cls, VIGIL_CLASS_OOM_KILL);
	assert_string_equal(d.title, "svc oom_kill");
}

static void test_stop_by_another_process_is_not_a_fault(void **state)
{
	struct vigil_exit e = mk_exit(100, SIGTERM);
	struct vigil_detection d;

	(void)state;
	e.exit_flags = VIGIL_EXIT_SENDER;
	e.sender_tgid = 1;
	e.sender_sig = SIGTERM;
	vigil_detect(&e.hdr, "svc", &d);
	assert_int_equal(d.cls, VIGIL_CLASS_NONE);
	assert_string_equal(d.label, "killed");

	/* Sent to itself (raise, or the kernel in its context): a crash. */
	e.sender_tgid = 100;
	vigil_detect(&e.hdr, "svc", &d);
	assert_int_equal(d.cls, VIGIL_CLASS_CRASH);

	/* No sender known: reported, never assumed harmless. */
	e.exit_flags = 0;
	e.sender_tgid = 0;
	vigil_detect(&e.hdr, "svc", &d);
	assert_int_equal(d.cls, VIGIL_CLASS_CRASH);

	/* A fault signal sent by someone else is still a crash. */
	e = mk_exit(100, SIGSEGV);
	e.exit_flags = VIGIL_EXIT_SENDER;
	e.sender_tgid = 1;
	vigil_detect(&e.hdr, "svc", &d);
	assert_int_equal(d.cls, VIGIL_CLASS_CRASH);
}

static void test_signature_ignores_pid_time_core(void **state)
{
	struct vigil_exit a = mk_exit(100, SIGSEGV), b = mk_exit(200, SIGSEGV | 0x80);
	struct vigil_detection da, db;

	(void)state;
	b.hdr.ts_ns = 999999999;
	b.hdr.cgroup_id = 12345;
	memcpy(b.hdr.comm, "other", 6);
	vigil_detect(&a.hdr, "svc", &da);
	vigil_detect(&b.hdr, "svc", &db);
	assert_string_equal(da.signature, db.signature);
}

static void test_signature_separates_what_differs(void **state)
{
	char s1[VIGIL_SIG_LEN], s2[VIGIL_SIG_LEN];

	(void)state;
	vigil_signature("svc", VIGIL_CLASS_CRASH, "SIGSEGV", s1);
	vigil_signature("svc", VIGIL_CLASS_CRASH, "SIGABRT", s2);
	assert_string_not_equal(s1, s2);
	vigil_signature("svd", VIGIL_CLASS_CRASH, "SIGSEGV", s2);
	assert_string_not_equal(s1, s2);
	vigil_signature("svc", VIGIL_CLASS_EXIT_NONZERO, "SIGSEGV", s2);
	assert_string_not_equal(s1, s2);
	/* Field boundaries count: "ab"+"c" is not "a"+"bc". */
	vigil_signature("ab", VIGIL_CLASS_CRASH, "c", s1);
	vigil_signature("a", VIGIL_CLASS_CRASH, "bc", s2);
	assert_string_not_equal(s1, s2);
}

static void test_signature_is_frozen(void **state)
{
	char s[VIGIL_SIG_LEN];

	(void)state;
	/*
	 * Signatures are a contract with everything that stored one (Redis, the knowledge
	 * store): the same fault must keep the same signature across versions. If this value
	 * changes, the scheme changed: bump "v1" in vigil_signature() on purpose.
	 */
	vigil_signature("storyteller", VIGIL_CLASS_CRASH, "SIGSEGV", s);
	assert_string_equal(s, "0c14ea5ca28149e2");
}

static void test_signal_names(void **state)
{
	char buf[8];

	(void)state;
	assert_string_equal(vigil_signal_name(SIGSEGV, buf), "SIGSEGV");
	assert_string_equal(vigil_signal_name(SIGKILL, buf), "SIGKILL");
	assert_string_equal(vigil_signal_name(34, buf), "SIG34");
	assert_string_equal(vigil_signal_name(0, buf), "SIG0");
}

static void test_other_kinds(void **state)
{
	struct vigil_exec x;
	struct vigil_detection d;

	(void)state;
	memset(&x, 0, sizeof(x));
	x.hdr.kind = VIGIL_EV_EXEC;
	assert_int_equal(vigil_detect(&x.hdr, "svc", &d), 0);
	assert_int_equal(d.cls, VIGIL_CLASS_NONE);
	assert_string_equal(d.label, "exec");
	x.hdr.kind = 77;
	assert_int_not_equal(vigil_detect(&x.hdr, "svc", &d), 0);
}

static struct vigil_sock mk_sock(uint32_t what, int err, uint16_t rport, uint32_t flags)
{
	return tr_sock(77, 0, what, err, rport, flags);
}

static void test_socket_classes(void **state)
{
	static const struct {
		uint32_t what;
		int err;
		enum vigil_class cls;
		const char *label;
	} cases[] = {
	    {VIGIL_SOCK_REFUSED, 111, VIGIL_CLASS_CONN_REFUSED, "conn_refused"},
	    {VIGIL_SOCK_TIMEOUT, 110, VIGIL_CLASS_CONN_TIMEOUT, "conn_timeout"},
	    {VIGIL_SOCK_UNREACH, 113, VIGIL_CLASS_CONN_UNREACHABLE, "conn_unreachable"},
	    {VIGIL_SOCK_RESET_RCVD, 104, VIGIL_CLASS_CONN_RESET, "conn_reset"},
	    {VIGIL_SOCK_ERROR, 110, VIGIL_CLASS_CONN_TIMEOUT, "conn_timeout"},
	    {VIGIL_SOCK_ERROR, 32, VIGIL_CLASS_NONE, "socket_error"},
	    {VIGIL_SOCK_CONNECT_ERR, 13, VIGIL_CLASS_NONE, "connect_error"},
	};
	struct vigil_detection d;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vigil_sock k = mk_sock(cases[i].what, cases[i].err, 5432, 0);

		assert_int_equal(vigil_detect(&k.hdr, "api", &d), 0);
		assert_int_equal(d.cls, cases[i].cls);
		assert_string_equal(d.label, cases[i].label);
		if (cases[i].cls != VIGIL_CLASS_NONE)
			assert_string_equal(d.detail, "10.0.0.5:5432");
	}
}

static void test_socket_signature_ignores_client_ports(void **state)
{
	struct vigil_sock a = mk_sock(VIGIL_SOCK_RESET_RCVD, 104, 40001, VIGIL_F_PASSIVE),
			  b = mk_sock(VIGIL_SOCK_RESET_RCVD, 104, 51234, VIGIL_F_PASSIVE),
			  c = mk_sock(VIGIL_SOCK_RESET_RCVD, 104, 5432, 0);
	struct vigil_detection da, db, dc;

	(void)state;
	vigil_detect(&a.hdr, "api", &da);
	vigil_detect(&b.hdr, "api", &db);
	vigil_detect(&c.hdr, "api", &dc);
	/* Accepted connections are named by the listening port, not the client's port. */
	assert_string_equal(da.detail, "on :8080");
	assert_string_equal(da.signature, db.signature);
	assert_string_not_equal(da.signature, dc.signature);
	assert_string_equal(dc.title, "api conn_reset 10.0.0.5:5432");
}

static void test_endpoint_v6(void **state)
{
	unsigned char a[16] = {0x20, 0x01, 0x0d, 0xb8};
	char buf[64];

	(void)state;
	a[15] = 1;
	vigil_endpoint(AF_INET6, a, 443, buf, sizeof(buf));
	assert_string_equal(buf, "[2001:db8::1]:443");
}

static void test_slow_syscall(void **state)
{
	struct vigil_slow w = tr_slow(9, 0, SYS_read, 300000000);
	struct vigil_detection d;

	(void)state;
	vigil_detect(&w.hdr, "db", &d);
	assert_int_equal(d.cls, VIGIL_CLASS_SYSCALL_SLOW);
	assert_string_equal(d.detail, "read");
	assert_string_equal(d.title, "db syscall_slow read");
	w.syscall = 4000; /* no such syscall */
	vigil_detect(&w.hdr, "db", &d);
	assert_string_equal(d.detail, "syscall_4000");
}

static void test_retransmit_threshold(void **state)
{
	struct vigil_detection d;
	double base = 0;

	(void)state;
	vigil_detect_retransmits("api", 9, 1000, 10, 0, &d);
	assert_int_equal(d.cls, VIGIL_CLASS_NONE);
	assert_string_equal(d.label, "retransmits");
	vigil_detect_retransmits("api", 10, 1000, 10, 0, &d);
	assert_int_equal(d.cls, VIGIL_CLASS_RETRANSMITS);
	/* A rate, not a count: 15 in 2 s is 7.5/s. */
	vigil_detect_retransmits("api", 15, 2000, 10, 0, &d);
	assert_int_equal(d.cls, VIGIL_CLASS_NONE);
	vigil_detect_retransmits("api", 15, 0, 10, 0, &d);
	assert_int_equal(d.cls, VIGIL_CLASS_NONE);

	/* A workload that always retransmits ~50/s: its baseline learns it, 60/s is normal... */
	for (int i = 0; i < 100; i++)
		base = vigil_ewma(base, 50);
	assert_true(base > 49 && base < 51);
	vigil_detect_retransmits("api", 60, 1000, 10, base, &d);
	assert_int_equal(d.cls, VIGIL_CLASS_NONE);
	/* ... and a jump to four times that is not. */
	vigil_detect_retransmits("api", 210, 1000, 10, base, &d);
	assert_int_equal(d.cls, VIGIL_CLASS_RETRANSMITS);
}

static void test_conn_rate(void **state)
{
	struct vigil_detection d, e;

	(void)state;
	vigil_detect_conn_rate("api", VIGIL_CLASS_CONN_RESET, 4, 1000, 5, 0, &d);
	assert_int_equal(d.cls, VIGIL_CLASS_NONE);
	vigil_detect_conn_rate("api", VIGIL_CLASS_CONN_RESET, 40, 1000, 5, 2.0, &d);
	assert_int_equal(d.cls, VIGIL_CLASS_CONN_RESET);
	assert_string_equal(d.detail, "rate");
	assert_string_equal(d.title, "api conn_reset rate 40/s (baseline 2.0/s)");
	/* 40/s is usual for a workload whose baseline is 30/s. */
	vigil_detect_conn_rate("api", VIGIL_CLASS_CONN_RESET, 40, 1000, 5, 30.0, &e);
	assert_int_equal(e.cls, VIGIL_CLASS_NONE);
}

static void test_hang_class(void **state)
{
	struct vigil_hang g = tr_hang(5, 0);
	struct vigil_detection d;

	(void)state;
	assert_int_equal(vigil_detect(&g.hdr, "db", &d), 0);
	assert_int_equal(d.cls, VIGIL_CLASS_HANG);
	assert_string_equal(d.title, "db hang");
	assert_string_equal(d.label, "hang");
}

static void test_p99_floor(void **state)
{
	__u64 slots[VIGIL_LAT_SLOTS] = {};

	(void)state;
	assert_int_equal(vigil_hist_p99_floor(slots, VIGIL_LAT_SLOTS, 0), 0);
	slots[10] = 990; /* [1024, 2048) ns */
	slots[20] = 10;	 /* [1 Mi, 2 Mi) ns */
	/* 990 of 1000 below 2048: the 990th call is in slot 10. */
	assert_int_equal(vigil_hist_p99_floor(slots, VIGIL_LAT_SLOTS, 1000), 1024);
	slots[10] = 989;
	slots[20] = 11;
	assert_int_equal(vigil_hist_p99_floor(slots, VIGIL_LAT_SLOTS, 1000), 1 << 20);
	memset(slots, 0, sizeof(slots));
	slots[24] = 5;
	assert_int_equal(vigil_hist_p99_floor(slots, VIGIL_LAT_SLOTS, 5), 1 << 24);
}

static void test_slo_and_crash_loop_titles(void **state)
{
	struct vigil_detection a, b;

	(void)state;
	vigil_detect_slo("db", "fsync", 1 << 24, 10, &a);
	vigil_detect_slo("db", "fsync", 1 << 28, 10, &b);
	assert_int_equal(a.cls, VIGIL_CLASS_LATENCY_SLO);
	assert_string_equal(a.title, "db latency_slo fsync p99 >= 16 ms (budget 10 ms)");
	/* How slow is not part of what the fault is. */
	assert_string_equal(a.signature, b.signature);
	vigil_detect_crash_loop("svc", 3, 60000, &a);
	vigil_detect_crash_loop("svc", 5, 300000, &b);
	assert_int_equal(a.cls, VIGIL_CLASS_CRASH_LOOP);
	assert_string_equal(a.signature, b.signature);
	assert_string_equal(a.title, "svc crash_loop (3 failed exits in 60 s)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_segv_is_crash),
	    cmocka_unit_test(test_exit_status),
	    cmocka_unit_test(test_oom_wins_over_sigkill),
	    cmocka_unit_test(test_stop_by_another_process_is_not_a_fault),
	    cmocka_unit_test(test_signature_ignores_pid_time_core),
	    cmocka_unit_test(test_signature_separates_what_differs),
	    cmocka_unit_test(test_signature_is_frozen),
	    cmocka_unit_test(test_signal_names),
	    cmocka_unit_test(test_other_kinds),
	    cmocka_unit_test(test_socket_classes),
	    cmocka_unit_test(test_socket_signature_ignores_client_ports),
	    cmocka_unit_test(test_endpoint_v6),
	    cmocka_unit_test(test_slow_syscall),
	    cmocka_unit_test(test_retransmit_threshold),
	    cmocka_unit_test(test_p99_floor),
	    cmocka_unit_test(test_hang_class),
	    cmocka_unit_test(test_conn_rate),
	    cmocka_unit_test(test_slo_and_crash_loop_titles),
	};

	return cmocka_run_group_tests_name("detector", tests, NULL, NULL);
}
