// SPDX-License-Identifier: Apache-2.0
/*
 * Integration: socket paths test_sockets.c does not cover — a refused connect over IPv6, a
 * reset sent by the kernel on behalf of a watched listener, and a connect that ends
 * unreachable because ARP for its next hop failed. The peers are the test process itself
 * (unwatched) on loopback, or a private network namespace made by the faulty helper; no
 * packet leaves the machine.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
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

static const char config[] = "observe_all: false\n"
			     "window: 2s\n"
			     "workloads:\n"
			     "  - name: v6\n"
			     "    match: { comm: vt-v6 }\n"
			     "  - name: rst\n"
			     "    match: { comm: vt-rst }\n"
			     "  - name: unr\n"
			     "    match: { comm: vt-unr }\n"
			     "  - name: sentinel\n"
			     "    match: { comm: vt-sentinel }\n";

static int setup(void **state)
{
	return vt_group_setup(state, config, NULL);
}

static int teardown(void **state)
{
	return vt_group_teardown(state);
}

/* A TCP port on [::1] that nothing listens on (bound, then closed). */
static int closed_port6(void)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET6, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin6_port);
}

/*
 * A watched refused connect whose record is awaited: the ring buffer is one ordered stream, so
 * once the sentinel's event is in the journal, every record of what ran before it is too, and a
 * count of zero for those means none was sent (not "not yet").
 */
static void sentinel(struct vt *v)
{
	char port[16], pid[16];
	pid_t p;

	snprintf(port, sizeof(port), "%d", closed_port6());
	{
		const char *args[] = {"connect6", "::1", port, NULL};

		p = vt_run(v, "vt-sentinel", args);
	}
	assert_int_equal(WEXITSTATUS(vt_reap(p)), ECONNREFUSED);
	snprintf(pid, sizeof(pid), "%d", p);
	assert_non_null(vt_wait(v, WAIT_MS, "event", "class", "conn_refused", "pid", pid, NULL));
}

/* A refused connect to [::1]: the endpoint is printed in brackets, in the event and in the
 * incident's detail (and so its signature); the same connect by an unwatched process is
 * silent. */
static void test_refused_ipv6(void **state)
{
	struct vt *v = *state;
	char port[16], pid[16], bpid[16], remote[48];
	json_t *ev, *inc;
	pid_t p, b;

	snprintf(port, sizeof(port), "%d", closed_port6());
	snprintf(remote, sizeof(remote), "[::1]:%s", port);
	{
		const char *args[] = {"connect6", "::1", port, NULL};

		b = vt_run(v, "vt-bystander", args);
		assert_int_equal(WEXITSTATUS(vt_reap(b)), ECONNREFUSED);
		p = vt_run(v, "vt-v6", args);
	}
	assert_int_equal(WEXITSTATUS(vt_reap(p)), ECONNREFUSED);
	snprintf(pid, sizeof(pid), "%d", p);
	snprintf(bpid, sizeof(bpid), "%d", b);
	ev = vt_wait(v, WAIT_MS, "event", "class", "conn_refused", "pid", pid, NULL);
	assert_non_null(ev);
	assert_string_equal(vt_str(ev, "remote"), remote);
	assert_int_equal(vt_int(ev, "errno"), ECONNREFUSED);
	inc = vt_wait(v, WAIT_MS, "incident", "class", "conn_refused", "pid", pid, NULL);
	assert_non_null(inc);
	assert_string_equal(vt_str(inc, "workload"), "v6");
	assert_string_equal(vt_str(inc, "detail"), remote);
	/* The bystander ran first, and the watched connect's event is in: it would be too. */
	assert_int_equal(vt_count(v, "event", "pid", bpid, NULL), 0);
	assert_int_equal(vt_count(v, "incident", "pid", bpid, NULL), 0);
}

/*
 * A reset sent by this host on a watched socket. The listener of a watched server (vt-rst)
 * overflows its accept queue with net.ipv4.tcp_abort_on_overflow = 1 in a private network
 * namespace, so the kernel answers a client's handshake ACK with a RST sent for the listener
 * (tcp_check_req -> tcp_v4_send_reset, tcp/tcp_send_reset with sk = the listener). The client
 * is the helper process that started the server under a name nobody watches: its reset received
 * is not reported.
 *
 * (A process's own close that makes the kernel send a RST — unread data, SO_LINGER 0 — is
 * tested in test_sockets.c: those resets come after the CLOSE transition and are attributed
 * through the recently-closed owners.)
 */
static void test_reset_sent_by_listener(void **state)
{
	struct vt *v = *state;
	char server[256], cpid[16], spid[16];
	json_t *inc, *ev;
	pid_t p;

	/* vt_link returns a static buffer that vt_run reuses for the helper's own name. */
	snprintf(server, sizeof(server), "%s", vt_link(v, "vt-rst"));
	{
		const char *args[] = {"overflow-reset", server, NULL};

		p = vt_run(v, "vt-rst-client", args);
	}
	/* 0: the late client read ECONNRESET, so the kernel did send the reset. */
	assert_int_equal(WEXITSTATUS(vt_reap(p)), 0);
	snprintf(cpid, sizeof(cpid), "%d", p);
	inc = vt_wait(v, WAIT_MS, "incident", "class", "conn_reset", "workload", "rst", NULL);
	assert_non_null(inc);
	assert_non_null(vt_str(inc, "detail"));
	assert_memory_equal(vt_str(inc, "detail"), "sent ", 5);
	snprintf(spid, sizeof(spid), "%lld", vt_int(inc, "pid"));
	ev = vt_wait(v, WAIT_MS, "event", "class", "conn_reset", "pid", spid, NULL);
	assert_non_null(ev);
	/* The socket it was sent for is the server's listener (TCP_LISTEN is 10), which has no
	 * remote end: the detail names none. */
	assert_string_equal(vt_str(ev, "local"), "127.0.0.1:7777");
	assert_int_equal(vt_int(ev, "tcp_state"), 10);
	assert_true(json_is_false(json_object_get(ev, "accepted")));
	/* Named by the listener's own port, as accepted connections are. */
	assert_string_equal(vt_str(inc, "detail"), "sent on :7777");
	sentinel(v);
	/* Resets sent by the server only (the one for the late client, and possibly one for the
	 * connection still queued when it exited, aborted by the kernel on its behalf): all one
	 * incident; none for the client. */
	assert_true(vt_count(v, "event", "class", "conn_reset", "workload", "rst", NULL) >= 1);
	{
		const char *id = vt_str(inc, "id");
		json_t *rec;
		size_t i;

		/* Every incident record of rst's resets is that one incident's. */
		json_array_foreach(v->records, i,
				   rec) if (!strcmp(vt_str(rec, "type"), "incident") &&
					    !strcmp(vt_str(rec, "workload"), "rst"))
		    assert_string_equal(vt_str(rec, "id"), id);
	}
	assert_int_equal(vt_count(v, "event", "pid", cpid, NULL), 0);
	assert_int_equal(vt_count(v, "incident", "pid", cpid, NULL), 0);
}

/*
 * A connect to a neighbour that never answers ARP: a veth pair in a private network namespace,
 * 10.77.0.1/24 on one end, the connect to 10.77.0.2. After its probes (~3 s) the neighbour
 * entry fails, the kernel answers the queued SYN with an ICMP host unreachable to itself, and
 * tcp_v4_err ends the SYN_SENT socket with EHOSTUNREACH: conn_unreachable. The helper sets the
 * namespace up under an unwatched name, then execs the connect under vt-unr with the same pid.
 */
static void test_unreachable_neighbour(void **state)
{
	struct vt *v = *state;
	char connector[256], pid[16];
	json_t *ev, *inc;
	pid_t p;

	snprintf(connector, sizeof(connector), "%s", vt_link(v, "vt-unr"));
	{
		const char *args[] = {"veth-exec", connector, "connect", "10.77.0.2", "80", NULL};

		p = vt_run(v, "vt-unr-setup", args);
	}
	/* Exit codes 80-83 mean the namespace or the veth could not be made. */
	assert_int_equal(WEXITSTATUS(vt_reap(p)), EHOSTUNREACH);
	snprintf(pid, sizeof(pid), "%d", p);
	ev = vt_wait(v, WAIT_MS, "event", "class", "conn_unreachable", "pid", pid, NULL);
	if (!ev) { /* one failure in ~40 CI runs: say what was seen */
		json_t *st = vt_ctl(v, "status", NULL);
		char *text = st ? json_dumps(st, JSON_COMPACT) : NULL;

		vt_dump(v, "pid", pid);
		fprintf(stderr, "    vigil status: %s\n", text ? text : "?");
		free(text);
		json_decref(st);
	}
	assert_non_null(ev);
	assert_string_equal(vt_str(ev, "remote"), "10.77.0.2:80");
	assert_int_equal(vt_int(ev, "errno"), EHOSTUNREACH);
	inc = vt_wait(v, WAIT_MS, "incident", "class", "conn_unreachable", "pid", pid, NULL);
	assert_non_null(inc);
	assert_string_equal(vt_str(inc, "workload"), "unr");
	assert_string_equal(vt_str(inc, "detail"), "10.77.0.2:80");
	/* Unreachable is not a timeout: the socket was reported once, by its first error. */
	assert_int_equal(vt_count(v, "event", "class", "conn_timeout", "pid", pid, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_refused_ipv6),
	    cmocka_unit_test(test_reset_sent_by_listener),
	    cmocka_unit_test(test_unreachable_neighbour),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_sockets_more: must run as root (loads BPF programs)\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	return cmocka_run_group_tests_name("more socket paths", tests, setup, teardown);
}
