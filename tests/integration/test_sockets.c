// SPDX-License-Identifier: Apache-2.0
/*
 * Integration: the real sockets and latency programs against real sockets and real slow
 * syscalls — a refused connect, a reset from a peer, a connect whose SYNs are dropped, a
 * read made slow, exact histogram counts, and silence for an unwatched process doing the
 * same. Peers are the test process itself (unwatched) on loopback, or a private network
 * namespace; no traffic leaves the machine.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define WAIT_MS 5000

static const char config[] =
    "observe_all: false\n"
    "window: 2s\n"
    "workloads:\n"
    "  - name: net\n"
    "    match: { comm: vt-net }\n"
    "  - name: srv\n"
    "    match: { comm: vt-srv }\n"
    "  - name: slow\n"
    "    match: { comm: vt-slow }\n"
    "    latency: { syscalls: [read], budget_ms: 100 }\n"
    "  - name: closer\n"
    "    match: { comm: vt-closer }\n"
    "  - name: chain\n"
    "    match: { comm: vt-chain }\n"
    "  - name: loop\n"
    "    match: { comm: vt-loop }\n"
    "  - name: loop4\n"
    "    match: { comm: vt-loop4 }\n"
    "    detect: { crash_loop_exits: 4, crash_loop_window: 30s }\n"
    "  - name: storm\n"
    "    match: { comm: vt-storm }\n"
    "  - name: slo\n"
    "    match: { comm: vt-slo }\n"
    "    latency: { syscalls: [read], budget_ms: 10 }\n"
    "  - name: live\n"
    "    match: { comm: vt-live }\n"
    "    latency: { syscalls: [read], budget_ms: 100 }\n"
    "    quiet: { max_defer: 10s }\n"
    "    verify: 300ms\n"
    "    heal:\n"
    "      - on: [syscall_slow]\n"
    "        level: 1\n"
    "        action: { restart: { exec: [\"@LINK:vt-live@\", serve] } }\n"
    "    policy: { allow_comm_only: true, allowed_exec: [\"@LINK:vt-live@\"] }\n"
    "  - name: pool\n"
    "    match: { comm: vt-pool }\n"
    "    latency: { syscalls: [read], budget_ms: 100 }\n"
    "    quiet: { max_defer: 10s }\n"
    "    verify: 300ms\n"
    "    heal:\n"
    "      - on: [syscall_slow]\n"
    "        level: 1\n"
    "        action: { restart: { exec: [\"@LINK:vt-pool@\", serve] } }\n"
    "    policy: { allow_comm_only: true, allowed_exec: [\"@LINK:vt-pool@\"] }\n"
    "  - name: talker\n"
    "    match: { comm: vt-talker }\n"
    "    latency: { syscalls: [read], budget_ms: 100 }\n"
    "    quiet: { max_defer: 1s }\n"
    "    verify: 300ms\n"
    "    heal:\n"
    "      - on: [syscall_slow]\n"
    "        level: 1\n"
    "        action: { restart: { exec: [\"@LINK:vt-talker@\", serve] } }\n"
    "    policy: { allow_comm_only: true, allowed_exec: [\"@LINK:vt-talker@\"] }\n"
    "  - name: hist\n"
    "    match: { comm: vt-hist }\n"
    "    latency: { syscalls: [getppid, nanosleep], budget_ms: 1000 }\n";

static int setup(void **state)
{
	return vt_group_setup(state, config, NULL);
}

static int teardown(void **state)
{
	return vt_group_teardown(state);
}

static long long established(struct vt *v, const char *workload)
{
	json_t *st = vt_ctl(v, "status", NULL), *w;
	long long n = -1;
	size_t i;

	json_array_foreach(json_object_get(st, "workloads"), i,
			   w) if (!strcmp(vt_str(w, "name"), workload)) n =
	    vt_int(w, "established");
	json_decref(st);
	return n;
}

static void test_refused_names_the_port(void **state)
{
	struct vt *v = *state;
	char port[16], pid[16], remote[32];
	json_t *inc, *ev;
	pid_t p;

	snprintf(port, sizeof(port), "%d", vt_tcp_closed_port());
	{
		const char *args[] = {"connect", "127.0.0.1", port, NULL};

		p = vt_run(v, "vt-net", args);
	}
	assert_int_equal(WEXITSTATUS(vt_reap(p)), ECONNREFUSED);
	snprintf(pid, sizeof(pid), "%d", p);
	snprintf(remote, sizeof(remote), "127.0.0.1:%s", port);
	ev = vt_wait(v, WAIT_MS, "event", "class", "conn_refused", "pid", pid, NULL);
	assert_non_null(ev);
	assert_string_equal(vt_str(ev, "remote"), remote);
	assert_int_equal(vt_int(ev, "errno"), ECONNREFUSED);
	inc = vt_wait(v, WAIT_MS, "incident", "class", "conn_refused", "pid", pid, NULL);
	assert_non_null(inc);
	assert_string_equal(vt_str(inc, "workload"), "net");
	assert_string_equal(vt_str(inc, "detail"), remote);
	printf("    detection: refused connect -> incident %lld us\n", vt_int(inc, "detect_us"));
}

/* The peer (this test, unwatched) aborts an established connection: conn_reset; and the
 * established count goes 1 -> 0. */
static void test_reset_from_peer(void **state)
{
	struct vt *v = *state;
	char port[16], pid[16], remote[32];
	int l, c, portnr;
	json_t *ev;
	pid_t p;

	l = vt_tcp_listener(&portnr);
	snprintf(port, sizeof(port), "%d", portnr);
	{
		const char *args[] = {"connect-read", "127.0.0.1", port, NULL};

		p = vt_run(v, "vt-net", args);
	}
	c = accept(l, NULL, NULL);
	assert_true(c >= 0);
	/* The client's side reached ESTABLISHED: counted for its workload. */
	for (int i = 0; i < 100 && established(v, "net") < 1; i++)
		usleep(10000);
	assert_int_equal(established(v, "net"), 1);
	vt_tcp_abort_close(c);
	close(l);
	assert_int_equal(WEXITSTATUS(vt_reap(p)), ECONNRESET);
	snprintf(pid, sizeof(pid), "%d", p);
	snprintf(remote, sizeof(remote), "127.0.0.1:%s", port);
	ev = vt_wait(v, WAIT_MS, "event", "class", "conn_reset", "pid", pid, NULL);
	assert_non_null(ev);
	assert_string_equal(vt_str(ev, "remote"), remote);
	assert_true(json_is_false(json_object_get(ev, "accepted")));
	assert_non_null(
	    vt_wait(v, WAIT_MS, "incident", "class", "conn_reset", "detail", remote, NULL));
	assert_int_equal(established(v, "net"), 0);
}

/* A watched server's accepted connection is reset by its client: attributed to the server
 * (the owner of the listener), named by its own port, though it happened in softirq. */
static void test_reset_on_accepted_connection(void **state)
{
	struct vt *v = *state;
	char port[16], pid[16], detail[32];
	int c = -1, portnr = vt_tcp_closed_port();
	json_t *ev;
	pid_t p;

	snprintf(port, sizeof(port), "%d", portnr);
	{
		const char *args[] = {"serve-accept", port, NULL};

		p = vt_run(v, "vt-srv", args);
	}
	c = vt_tcp_connect_retry(portnr);
	assert_true(c >= 0);
	for (int i = 0; i < 100 && established(v, "srv") < 1; i++)
		usleep(10000);
	assert_int_equal(established(v, "srv"), 1);
	vt_tcp_abort_close(c);
	vt_reap(p);
	snprintf(pid, sizeof(pid), "%d", p);
	ev = vt_wait(v, WAIT_MS, "event", "class", "conn_reset", "pid", pid, NULL);
	assert_non_null(ev);
	assert_true(json_is_true(json_object_get(ev, "accepted")));
	snprintf(detail, sizeof(detail), "on :%d", portnr);
	assert_non_null(vt_wait(v, WAIT_MS, "incident", "class", "conn_reset", "workload", "srv",
				"detail", detail, NULL));
}

/* A watched server closes an accepted connection with the client's data unread: the kernel
 * sends a RST after the socket's CLOSE transition — attributed all the same. */
static void test_reset_sent_on_close(void **state)
{
	struct vt *v = *state;
	char port[16], detail[32], buf[16];
	int c = -1, portnr = vt_tcp_closed_port();
	json_t *inc;
	pid_t p;

	snprintf(port, sizeof(port), "%d", portnr);
	{
		const char *args[] = {"accept-close", port, NULL};

		p = vt_run(v, "vt-closer", args);
	}
	c = vt_tcp_connect_retry(portnr);
	assert_true(c >= 0);
	assert_int_equal(write(c, "unread", 6), 6);
	assert_true(read(c, buf, sizeof(buf)) < 0 && errno == ECONNRESET);
	close(c);
	vt_reap(p);
	snprintf(detail, sizeof(detail), "sent on :%d", portnr);
	inc = vt_wait(v, WAIT_MS, "incident", "class", "conn_reset", "workload", "closer", "detail",
		      detail, NULL);
	assert_non_null(inc);
}

/* SYNs dropped (full accept queue in a private netns): conn_timeout after the retries. */
static void test_syn_timeout(void **state)
{
	static const char *const args[] = {"syn-timeout", NULL};
	struct vt *v = *state;
	char pid[16];
	json_t *ev;
	pid_t p;

	p = vt_run(v, "vt-net", args);
	assert_int_equal(WEXITSTATUS(vt_reap(p)), 0);
	snprintf(pid, sizeof(pid), "%d", p);
	ev = vt_wait(v, WAIT_MS, "event", "class", "conn_timeout", "pid", pid, NULL);
	assert_non_null(ev);
	assert_string_equal(vt_str(ev, "remote"), "127.0.0.1:7777");
	assert_int_equal(vt_int(ev, "errno"), ETIMEDOUT);
	assert_non_null(vt_wait(v, WAIT_MS, "incident", "class", "conn_timeout", "pid", pid, NULL));
	/* The SYN was retransmitted once (TCP_SYNCNT 1): counted in the kernel, and reported
	 * as a rate on the next tick — below the fault threshold, so no incident. */
	ev = vt_wait(v, WAIT_MS, "event", "class", "retransmits", "workload", "net", NULL);
	assert_non_null(ev);
	assert_true(vt_int(ev, "count") >= 1);
	assert_int_equal(vt_count(v, "incident", "class", "retransmits", NULL), 0);
	{
		json_t *st = vt_ctl(v, "status", NULL), *w;
		size_t i;

		json_array_foreach(json_object_get(st, "workloads"), i,
				   w) if (!strcmp(vt_str(w, "name"), "net"))
		    assert_true(vt_int(w, "retransmits") >= 1);
		json_decref(st);
	}
}

/* A read that waits 300 ms for its pipe, with a 100 ms budget: syscall_slow naming read. */
static void test_slow_read(void **state)
{
	static const char *const args[] = {"slow-read", "300", NULL};
	struct vt *v = *state;
	char pid[16];
	json_t *ev, *inc;
	pid_t p;

	p = vt_run(v, "vt-slow", args);
	assert_int_equal(WEXITSTATUS(vt_reap(p)), 0);
	snprintf(pid, sizeof(pid), "%d", p);
	ev = vt_wait(v, WAIT_MS, "event", "class", "syscall_slow", "pid", pid, NULL);
	assert_non_null(ev);
	assert_string_equal(vt_str(ev, "syscall"), "read");
	assert_true(vt_int(ev, "latency_us") >= 290000);
	assert_true(vt_int(ev, "latency_us") < 5000000);
	assert_int_equal(vt_int(ev, "budget_ms"), 100);
	inc = vt_wait(v, WAIT_MS, "incident", "class", "syscall_slow", "workload", "slow", NULL);
	assert_non_null(inc);
	assert_string_equal(vt_str(inc, "title"), "slow syscall_slow read");
	printf("    slow read: %lld us, detected %lld us after it returned\n",
	       vt_int(ev, "latency_us"), vt_int(inc, "detect_us"));
}

/* The histogram entry for (hist, syscall) from the daemon, or NULL. */
static json_t *histogram(struct vt *v, const char *syscall)
{
	json_t *ans = vt_ctl(v, "latency", "hist"), *w, *h, *found = NULL;
	size_t i, k;

	json_array_foreach(json_object_get(ans, "workloads"), i, w) json_array_foreach(
	    json_object_get(w, "histograms"), k, h) if (!strcmp(vt_str(h, "syscall"), syscall))
	    found = json_incref(h);
	json_decref(ans);
	return found;
}

static long long slot(json_t *h, size_t i)
{
	return json_integer_value(json_array_get(json_object_get(h, "slots"), i));
}

/* A known number of syscalls lands in the histogram, in the right log2 bucket. */
static void test_histogram_counts(void **state)
{
	static const char *const pp[] = {"getppid", "1000", NULL};
	static const char *const ns[] = {"nanosleep", "5", "20", NULL};
	struct vt *v = *state;
	json_t *g, *n;
	long long sum = 0;

	vt_reap(vt_run(v, "vt-hist", pp));
	vt_reap(vt_run(v, "vt-hist", ns));
	g = histogram(v, "getppid");
	n = histogram(v, "nanosleep");
	assert_non_null(g);
	assert_non_null(n);
	assert_int_equal(vt_int(g, "count"), 1000);
	for (size_t i = 0; i < 32; i++)
		sum += slot(g, i);
	assert_int_equal(sum, 1000);
	/* 20 ms lies in [2^24, 2^25) ns = [16.8, 33.6) ms. */
	assert_int_equal(vt_int(n, "count"), 5);
	assert_int_equal(slot(n, 24), 5);
	assert_true(vt_int(n, "sum_ns") >= 5 * 20000000LL);
	json_decref(g);
	json_decref(n);
}

/* The same faults by a process nobody watches: no record at all. */
static void test_unwatched_is_silent(void **state)
{
	struct vt *v = *state;
	char port[16], pid[16], spid[16];
	pid_t p, s;

	snprintf(port, sizeof(port), "%d", vt_tcp_closed_port());
	{
		const char *args[] = {"connect", "127.0.0.1", port, NULL};
		const char *slow[] = {"slow-read", "150", NULL};

		p = vt_run(v, "vt-bystander", args);
		s = vt_run(v, "vt-bystander", slow);
	}
	vt_reap(p);
	vt_reap(s);
	snprintf(pid, sizeof(pid), "%d", p);
	snprintf(spid, sizeof(spid), "%d", s);
	/* Sentinel: a watched refused connect after them; once it is in, they would be too. */
	{
		const char *args[] = {"connect", "127.0.0.1", port, NULL};
		char wpid[16];
		pid_t w = vt_run(v, "vt-net", args);

		vt_reap(w);
		snprintf(wpid, sizeof(wpid), "%d", w);
		assert_non_null(
		    vt_wait(v, WAIT_MS, "event", "class", "conn_refused", "pid", wpid, NULL));
	}
	assert_int_equal(vt_count(v, "event", "pid", pid, NULL), 0);
	assert_int_equal(vt_count(v, "event", "pid", spid, NULL), 0);
	assert_int_equal(vt_count(v, "incident", "pid", pid, NULL), 0);
}

/* A crash after a refused connect: the incident lists the connect before it. */
static void test_causal_chain(void **state)
{
	struct vt *v = *state;
	char port[16], pid[16], remote[32];
	json_t *inc, *chain, *first;
	pid_t p;

	snprintf(port, sizeof(port), "%d", vt_tcp_closed_port());
	{
		const char *args[] = {"connect-segv", "127.0.0.1", port, NULL};

		p = vt_run(v, "vt-chain", args);
	}
	assert_true(WIFSIGNALED(vt_reap(p)));
	snprintf(pid, sizeof(pid), "%d", p);
	snprintf(remote, sizeof(remote), "127.0.0.1:%s", port);
	inc = vt_wait(v, WAIT_MS, "incident", "class", "crash", "pid", pid, NULL);
	assert_non_null(inc);
	chain = json_object_get(inc, "chain");
	assert_true(json_array_size(chain) >= 1);
	/* The exec that started it and the refused connect, oldest first. */
	first = json_array_get(chain, json_array_size(chain) - 1);
	assert_string_equal(vt_str(first, "class"), "conn_refused");
	assert_string_equal(vt_str(first, "detail"), remote);
	assert_true(vt_int(first, "before_ms") >= 15 && vt_int(first, "before_ms") < 5000);
	assert_true(json_is_false(json_object_get(inc, "lossy")));
}

/* Three failed exits of one workload within a minute: a crash_loop incident. */
static void test_crash_loop(void **state)
{
	static const char *const args[] = {"exit", "9", NULL};
	struct vt *v = *state;
	json_t *inc;

	for (int i = 0; i < 2; i++)
		vt_reap(vt_run(v, "vt-loop", args));
	/* Two are not a loop. */
	assert_non_null(vt_wait(v, WAIT_MS, "incident", "workload", "loop", "class", "exit_nonzero",
				"count", "2", NULL));
	assert_int_equal(vt_count(v, "incident", "class", "crash_loop", "workload", "loop", NULL),
			 0);
	vt_reap(vt_run(v, "vt-loop", args));
	inc = vt_wait(v, WAIT_MS, "incident", "class", "crash_loop", "workload", "loop", NULL);
	assert_non_null(inc);
	assert_string_equal(vt_str(inc, "title"), "loop crash_loop (3 failed exits in 60 s)");
	/* Its chain holds the earlier failed exits. */
	assert_true(json_array_size(json_object_get(inc, "chain")) >= 2);
}

/* Forty refused connects at once, from a workload that never had any: besides the refused
 * incident for the endpoint, a rate anomaly against its (zero) baseline. */
static void test_conn_error_rate(void **state)
{
	struct vt *v = *state;
	char port[16];
	json_t *inc;

	snprintf(port, sizeof(port), "%d", vt_tcp_closed_port());
	{
		const char *args[] = {"connect-n", "127.0.0.1", port, "40", NULL};

		assert_int_equal(WEXITSTATUS(vt_reap(vt_run(v, "vt-storm", args))), 0);
	}
	inc = vt_wait(v, WAIT_MS, "incident", "class", "conn_refused", "workload", "storm",
		      "detail", "rate", NULL);
	assert_non_null(inc);
	assert_non_null(strstr(vt_str(inc, "title"), "storm conn_refused rate "));
	assert_non_null(strstr(vt_str(inc, "title"), "(baseline 0.0/s)"));
}

/* Reads that each take ~20 ms against a 10 ms budget, for 4 s: the p99 stays over budget for
 * three intervals in a row, a latency_slo. */
static void test_latency_slo(void **state)
{
	static const char *const args[] = {"slow-reads", "200", "20", NULL};
	struct vt *v = *state;
	json_t *inc;

	vt_reap(vt_run(v, "vt-slo", args));
	inc = vt_wait(v, WAIT_MS, "incident", "class", "latency_slo", "workload", "slo", NULL);
	assert_non_null(inc);
	assert_string_equal(vt_str(inc, "detail"), "read");
	assert_non_null(strstr(vt_str(inc, "title"), "slo latency_slo read p99 >= 16 ms"));
}

/* The same with the workload's own threshold: four exits in 30 s (detect: in the config). */
static void test_crash_loop_configured(void **state)
{
	static const char *const args[] = {"exit", "9", NULL};
	struct vt *v = *state;
	char pid[16];
	pid_t p = 0;

	for (int i = 0; i < 3; i++)
		vt_reap(p = vt_run(v, "vt-loop4", args));
	/* The third exit is in the journal: had it made a crash_loop, that would be too. */
	snprintf(pid, sizeof(pid), "%d", p);
	assert_non_null(vt_wait(v, WAIT_MS, "event", "class", "exit_nonzero", "pid", pid, NULL));
	assert_int_equal(vt_count(v, "incident", "class", "crash_loop", "workload", "loop4", NULL),
			 0);
	vt_reap(vt_run(v, "vt-loop4", args));
	assert_non_null(vt_wait(v, WAIT_MS, "incident", "class", "crash_loop", "workload", "loop4",
				"title", "loop4 crash_loop (4 failed exits in 30 s)", NULL));
}

/*
 * A restart of a process that still runs (its incident is a slow read, not an exit) waits
 * while the workload holds a live connection — never cuts a conversation — then stops it
 * (SIGTERM) and starts the new one.
 */
static void test_restart_waits_for_quiet(void **state)
{
	struct vt *v = *state;
	char port[16], pid[16];
	int c = -1, portnr = vt_tcp_closed_port();
	json_t *inc, *deferred, *stop, *ok;
	uint64_t closed_ms;
	pid_t p;

	snprintf(port, sizeof(port), "%d", portnr);
	{
		const char *args[] = {"listen-slow", port, "300", NULL};

		p = vt_run(v, "vt-live", args);
	}
	c = vt_tcp_connect_retry(portnr);
	assert_true(c >= 0);
	snprintf(pid, sizeof(pid), "%d", p);
	inc = vt_wait(v, WAIT_MS, "incident", "class", "syscall_slow", "workload", "live", NULL);
	assert_non_null(inc);
	deferred = vt_wait(v, WAIT_MS, "action", "incident", vt_str(inc, "id"), "outcome",
			   "deferred", NULL);
	assert_non_null(deferred);
	assert_int_equal(vt_int(deferred, "pid"), p);
	/* While the conversation lasts, nothing is stopped. */
	usleep(500000);
	assert_int_equal(kill(p, 0), 0);
	assert_int_equal(
	    vt_count(v, "action", "incident", vt_str(inc, "id"), "outcome", "stop", NULL), 0);
	closed_ms = vt_wall_ms();
	close(c);
	stop =
	    vt_wait(v, WAIT_MS, "action", "incident", vt_str(inc, "id"), "outcome", "stop", NULL);
	assert_non_null(stop);
	assert_true(vt_ts_ms(vt_str(stop, "ts")) >= closed_ms);
	assert_true(WIFSIGNALED(vt_reap(p)));
	ok = vt_wait(v, WAIT_MS, "action", "incident", vt_str(inc, "id"), "outcome", "success",
		     NULL);
	assert_non_null(ok);
	assert_true(vt_int(ok, "pid") > 0 && vt_int(ok, "pid") != p);
	kill((pid_t)vt_int(ok, "pid"), SIGKILL);
}

/*
 * A connection the workload opened itself (a database pool) is not a conversation: the
 * restart does not wait for it. On main every established connection counted, and a service
 * holding a pool never looked quiet.
 */
static void test_outbound_pool_is_not_a_conversation(void **state)
{
	struct vt *v = *state;
	int l, c = -1, portnr;
	json_t *inc, *stop;
	char port[16];
	pid_t p;

	l = vt_tcp_listener(&portnr);
	assert_true(l >= 0);
	snprintf(port, sizeof(port), "%d", portnr);
	{
		const char *args[] = {"connect-slow", port, "300", NULL};

		p = vt_run(v, "vt-pool", args);
	}
	c = accept(l, NULL, NULL); /* the pool's connection, established, kept open */
	assert_true(c >= 0);
	inc = vt_wait(v, WAIT_MS, "incident", "class", "syscall_slow", "workload", "pool", NULL);
	assert_non_null(inc);
	stop =
	    vt_wait(v, WAIT_MS, "action", "incident", vt_str(inc, "id"), "outcome", "stop", NULL);
	assert_non_null(stop);
	assert_int_equal(
	    vt_count(v, "action", "incident", vt_str(inc, "id"), "outcome", "deferred", NULL), 0);
	assert_true(WIFSIGNALED(vt_reap(p)));
	assert_non_null(vt_wait(v, WAIT_MS, "action", "incident", vt_str(inc, "id"), "outcome",
				"success", NULL));
	kill((pid_t)vt_int(
		 vt_wait(v, 0, "action", "incident", vt_str(inc, "id"), "outcome", "success", NULL),
		 "pid"),
	     SIGKILL);
	close(c);
	close(l);
}

/*
 * A conversation that outlasts quiet.max_defer is not cut: by default the heal is escalated to
 * a person and the process keeps serving. On main it was SIGTERMed when the window ended.
 */
static void test_quiet_timeout_escalates(void **state)
{
	struct vt *v = *state;
	int c = -1, portnr = vt_tcp_closed_port();
	json_t *inc, *esc;
	char port[16];
	pid_t p;

	snprintf(port, sizeof(port), "%d", portnr);
	{
		const char *args[] = {"listen-slow", port, "300", NULL};

		p = vt_run(v, "vt-talker", args);
	}
	c = vt_tcp_connect_retry(portnr);
	assert_true(c >= 0);
	inc = vt_wait(v, WAIT_MS, "incident", "class", "syscall_slow", "workload", "talker", NULL);
	assert_non_null(inc);
	esc = vt_wait(v, WAIT_MS, "action", "incident", vt_str(inc, "id"), "outcome", "escalated",
		      NULL);
	assert_non_null(esc);
	assert_int_equal(vt_int(esc, "pid"), p);
	assert_non_null(
	    vt_wait(v, WAIT_MS, "incident", "id", vt_str(inc, "id"), "state", "escalated", NULL));
	/* Still serving, never signalled. */
	assert_int_equal(kill(p, 0), 0);
	assert_int_equal(
	    vt_count(v, "action", "incident", vt_str(inc, "id"), "outcome", "stop", NULL), 0);
	close(c);
	kill(p, SIGKILL);
	vt_reap(p);
}

static void test_status_reports_families(void **state)
{
	struct vt *v = *state;
	json_t *st = vt_ctl(v, "status", NULL), *f;
	int found = 0;
	size_t i;

	assert_non_null(st);
	json_array_foreach(json_object_get(st, "probes"), i, f)
	{
		assert_string_equal(vt_str(f, "mode"), "tp_btf");
		assert_int_equal(vt_int(f, "drops"), 0);
		found |= 1 << i;
	}
	assert_int_equal(found, 7); /* exits, sockets, latency */
	assert_int_equal(vt_int(json_object_get(st, "collector"), "unknown"), 0);
	json_decref(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_refused_names_the_port),
	    cmocka_unit_test(test_reset_from_peer),
	    cmocka_unit_test(test_reset_on_accepted_connection),
	    cmocka_unit_test(test_reset_sent_on_close),
	    cmocka_unit_test(test_syn_timeout),
	    cmocka_unit_test(test_slow_read),
	    cmocka_unit_test(test_histogram_counts),
	    cmocka_unit_test(test_unwatched_is_silent),
	    cmocka_unit_test(test_causal_chain),
	    cmocka_unit_test(test_crash_loop),
	    cmocka_unit_test(test_crash_loop_configured),
	    cmocka_unit_test(test_latency_slo),
	    cmocka_unit_test(test_restart_waits_for_quiet),
	    cmocka_unit_test(test_outbound_pool_is_not_a_conversation),
	    cmocka_unit_test(test_quiet_timeout_escalates),
	    cmocka_unit_test(test_conn_error_rate),
	    cmocka_unit_test(test_status_reports_families),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_sockets: must run as root (loads BPF programs)\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	return cmocka_run_group_tests_name("sockets and latency", tests, setup, teardown);
}
