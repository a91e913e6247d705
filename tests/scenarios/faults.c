// SPDX-License-Identifier: Apache-2.0
/*
 * The scenarios' faults: each test causes one real fault under its workload's name, waits for
 * what sc_expect() says vigil must report, and checks what is particular to the fault (the
 * signal, the core, the endpoint, the syscall). Peers are the runner itself (unwatched) on
 * loopback, or a private network namespace: no traffic leaves the machine.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "scenarios.h"

#define ROUNDS 20 /* connects of the refused and reset scenarios */

static struct vt *vigil(void **state)
{
	return &((struct sc_fixture *)*state)->v;
}

static void show(const char *what, json_t *inc)
{
	printf("    %s: %s, detected in %lld us\n", what, vt_str(inc, "title"),
	       vt_int(inc, "detect_us"));
}

/* A loopback port nothing listens on (bound, then closed). */
static int closed_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

void sc_test_segfault(void **state)
{
	static const char *const args[] = {"segv", NULL};
	struct vt *v = vigil(state);
	json_t *inc;
	int status;

	status = sc_reap(vt_run(v, "sc-segv", args));
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
	inc = sc_expect(v, SC_SEGV);
	assert_int_equal(vt_int(inc, "signal"), SIGSEGV);
	show("segfault", inc);
}

/* abort() with core dumps allowed: the core lands in the scratch dir (core_pattern "core" is
 * relative to the crashing process's cwd). */
void sc_test_abort_core(void **state)
{
	static const char *const args[] = {"abort", NULL};
	struct rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY}, old;
	struct vt *v = vigil(state);
	char cwd[512], pid[16];
	json_t *inc, *ev;
	pid_t p;

	getrlimit(RLIMIT_CORE, &old);
	setrlimit(RLIMIT_CORE, &unlimited);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(v->dir), 0);
	p = vt_run(v, "sc-abort", args);
	assert_int_equal(chdir(cwd), 0);
	setrlimit(RLIMIT_CORE, &old);
	assert_true(WIFSIGNALED(sc_reap(p)));
	inc = sc_expect(v, SC_ABORT);
	assert_int_equal(vt_int(inc, "signal"), SIGABRT);
	snprintf(pid, sizeof(pid), "%d", p);
	ev = vt_wait(v, SC_WAIT_MS, "event", "class", "crash", "pid", pid, NULL);
	assert_non_null(ev);
	assert_int_equal(vt_int(ev, "signal"), SIGABRT);
	assert_true(json_is_true(json_object_get(ev, "core_dumped")));
	show("abort", inc);
}

void sc_test_exit_code(void **state)
{
	static const char *const args[] = {"exit", "3", NULL};
	struct vt *v = vigil(state);
	json_t *inc;

	assert_int_equal(WEXITSTATUS(sc_reap(vt_run(v, "sc-exit", args))), 3);
	inc = sc_expect(v, SC_EXIT);
	assert_int_equal(vt_int(inc, "exit_code"), 3);
	show("exit code", inc);
}

/* A real OOM kill: the hog alone in a v1 memory cgroup limited to 32 MiB. */
void sc_test_oom_kill(void **state)
{
	static const char *const args[] = {"alloc", "2048", NULL};
	struct vt *v = vigil(state);
	char cg[128], procs[192];
	int status;
	pid_t p;

	if (vt_memcg(cg, sizeof(cg), "vigil-scenario", 32 << 20)) {
		printf("    SKIPPED: no cgroup v1 memory controller at /sys/fs/cgroup/memory\n");
		sc_scenarios[SC_OOM].skipped = true;
		skip();
	}
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
	p = vt_exec_in(procs, vt_link(v, "sc-oom"), args);
	status = sc_reap(p);
	rmdir(cg);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	show("oom kill", sc_expect(v, SC_OOM));
}

/* Three failed exits within a minute: each an exit_nonzero, and the third opens crash_loop. */
void sc_test_crash_loop(void **state)
{
	static const char *const args[] = {"exit", "9", NULL};
	struct vt *v = vigil(state);
	json_t *inc;

	for (int i = 0; i < 3; i++)
		assert_int_equal(WEXITSTATUS(sc_reap(vt_run(v, "sc-loop", args))), 9);
	inc = sc_expect(v, SC_LOOP);
	assert_string_equal(vt_str(inc, "title"), "sc-loop crash_loop (3 failed exits in 60 s)");
	show("crash loop", inc);
}

/* Twenty connects to a dead backend: one conn_refused incident naming it, counted 20 times. */
void sc_test_refused(void **state)
{
	struct vt *v = vigil(state);
	char port[16], remote[32], rounds[8];
	json_t *inc;

	snprintf(port, sizeof(port), "%d", closed_port());
	snprintf(remote, sizeof(remote), "127.0.0.1:%s", port);
	snprintf(rounds, sizeof(rounds), "%d", ROUNDS);
	{
		const char *const args[] = {"connect-n", "127.0.0.1", port, rounds, NULL};

		assert_int_equal(WEXITSTATUS(sc_reap(vt_run(v, "sc-refused", args))), 0);
	}
	inc = sc_expect(v, SC_REFUSED);
	assert_string_equal(vt_str(inc, "detail"), remote);
	assert_int_equal(
	    vt_count(v, "event", "workload", "sc-refused", "class", "conn_refused", NULL), ROUNDS);
	show("refused", inc);
}

/*
 * A reset storm: the runner (unwatched) accepts each of a watched client's connections and
 * aborts it (SO_LINGER 0: RST, not FIN). The client sees twenty resets on established
 * connections to one endpoint: one conn_reset incident, count 20.
 */
void sc_test_reset_storm(void **state)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct linger abort_close = {.l_onoff = 1, .l_linger = 0};
	struct vt *v = vigil(state);
	char port[16], rounds[8], remote[32];
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	json_t *inc;
	pid_t p;

	assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(l, ROUNDS), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&a, &len), 0);
	snprintf(port, sizeof(port), "%d", ntohs(a.sin_port));
	snprintf(rounds, sizeof(rounds), "%d", ROUNDS);
	{
		const char *const args[] = {"connect-reset-n", "127.0.0.1", port, rounds, NULL};

		p = vt_run(v, "sc-reset", args);
	}
	for (int i = 0; i < ROUNDS; i++) {
		struct pollfd pfd = {.fd = l, .events = POLLIN};
		int c;

		assert_int_equal(poll(&pfd, 1, SC_WAIT_MS), 1);
		c = accept(l, NULL, NULL);
		assert_true(c >= 0);
		setsockopt(c, SOL_SOCKET, SO_LINGER, &abort_close, sizeof(abort_close));
		close(c);
	}
	close(l);
	assert_int_equal(WEXITSTATUS(sc_reap(p)), 0);
	inc = sc_expect(v, SC_RESET);
	snprintf(remote, sizeof(remote), "127.0.0.1:%s", port);
	assert_string_equal(vt_str(inc, "detail"), remote);
	show("reset storm", inc);
}

/*
 * SYNs dropped by a full accept queue (private netns, TCP_SYNCNT 1): the connect times out
 * after ~3 s. The syn-timeout-clean mode: plain syn-timeout exits with its queued connection
 * still unaccepted, and the kernel resets it — a real reset, which vigil reports.
 */
void sc_test_connect_timeout(void **state)
{
	static const char *const args[] = {"syn-timeout-clean", NULL};
	struct vt *v = vigil(state);
	json_t *inc, *ev;

	assert_int_equal(WEXITSTATUS(sc_reap(vt_run(v, "sc-timeout", args))), 0);
	inc = sc_expect(v, SC_TIMEOUT);
	assert_string_equal(vt_str(inc, "detail"), "127.0.0.1:7777");
	ev = vt_wait(v, SC_WAIT_MS, "event", "workload", "sc-timeout", "class", "conn_timeout",
		     NULL);
	assert_non_null(ev);
	assert_int_equal(vt_int(ev, "errno"), ETIMEDOUT);
	show("connect timeout", inc);
}

/* A read that waits 300 ms on its pipe, against a 100 ms budget. */
void sc_test_slow_read(void **state)
{
	static const char *const args[] = {"slow-read", "300", NULL};
	struct vt *v = vigil(state);
	json_t *inc, *ev;

	assert_int_equal(WEXITSTATUS(sc_reap(vt_run(v, "sc-slow", args))), 0);
	inc = sc_expect(v, SC_SLOW);
	assert_string_equal(vt_str(inc, "detail"), "read");
	ev = vt_wait(v, SC_WAIT_MS, "event", "workload", "sc-slow", "class", "syscall_slow", NULL);
	assert_non_null(ev);
	assert_true(vt_int(ev, "latency_us") >= 290000);
	show("slow read", inc);
}

/* Sum of the retransmits the rate events of a workload have accounted for so far. */
static long long rate_sum(struct vt *v, const char *workload)
{
	long long sum = 0;

	vt_count(v, "event", NULL); /* read what the journal gained */
	for (size_t i = 0; i < json_array_size(v->records); i++) {
		json_t *rec = json_array_get(v->records, i);

		if (!strcmp(vt_str(rec, "type"), "event") &&
		    !strcmp(vt_str(rec, "workload"), workload) &&
		    !strcmp(vt_str(rec, "class"), "retransmits"))
			sum += vt_int(rec, "count");
	}
	return sum;
}

/*
 * A retransmit burst without netem: 40 connects into a full accept queue (private netns);
 * every SYN is dropped and the kernel retransmits all 40 after 1 s, again after 2 s. Once the
 * process is gone nothing retransmits any more: wait until vigil's rate events account for
 * every retransmit the kernel counted, so the incident's count is final.
 */
void sc_test_retransmits(void **state)
{
	static const char *const args[] = {"syn-burst", "40", "2500", NULL};
	struct vt *v = vigil(state);
	uint64_t deadline;
	long long kernel;
	json_t *inc;

	assert_int_equal(WEXITSTATUS(sc_reap(vt_run(v, "sc-retx", args))), 0);
	kernel = sc_retransmits(v, "sc-retx");
	assert_true(kernel >= 40);
	deadline = vt_mono_ns() + 3000000000ull;
	while (rate_sum(v, "sc-retx") < kernel && vt_mono_ns() < deadline)
		usleep(20000);
	assert_int_equal(rate_sum(v, "sc-retx"), kernel);
	inc = sc_expect(v, SC_RETX);
	printf("    retransmit burst: %lld SYN retransmits in the kernel's count; %s, detected in "
	       "%lld us after the tick\n",
	       kernel, vt_str(inc, "title"), vt_int(inc, "detect_us"));
}
