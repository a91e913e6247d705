// SPDX-License-Identifier: Apache-2.0
/*
 * faulty: a process that fails on demand, for the integration tests. Its comm is the name it
 * was exec'd under, so the tests run it through symlinks named for the workload they need.
 *
 *   faulty segv | abort | exit N | serve [PIDFILE] | alloc MIB | fork-exec PATH ARGS...
 *          | segv-on-usr1   (waits for SIGUSR1, then faults: a crash of its own, when the
 *            test is ready for it)
 *          | threads-segv N   (N threads running, then one of them faults)
 *          | connect IP PORT | connect-read IP PORT | serve-accept PORT | syn-timeout
 *          | slow-read MS | getppid N | nanosleep N MS | connect-segv IP PORT
 *          | slow-then-serve MS  (one slow read, then serves)
 *          | daemonize [PIDFILE]  (forks into the background and serves there)
 *          | burst N CODE   (N children exit with CODE at the same moment)
 *          | slow-reads N MS  (N reads, each waiting MS ms for its byte)
 *          | hang FILE  (a thread stuck in D state until SIGKILL)
 *          | accept-close PORT  (closes an accepted connection with its data unread)
 *          | listen-slow PORT MS  (holds an accepted connection, then one slow read, then stays)
 *          | connect-slow PORT MS  (holds a connection it opened to 127.0.0.1:PORT — an
 *            outbound pool — then one slow read, then stays)
 *          | syn-timeout-clean | syn-burst N MS | connect-n IP PORT N
 *          | connect-reset-n IP PORT N | noise OUTFILE   (the scenario modes, below)
 *          | connect6 IP PORT | listen-hold IP PORT BACKLOG | overflow-reset SERVER
 *          | veth-exec PROG ARGS...   (test_sockets_more's modes, below)
 *          | httpd PORT   (a keep-alive HTTP/1.1 server that faults on /crash, below)
 *          | comm-flood UID N MS  (as UID, N children each under its own name exit(1), over
 *            MS ms; 0: flat out)
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/mman.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void *spin(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void *fault(void *arg)
{
	volatile int *p = arg;

	usleep(50000);
	*p = 1;
	return NULL;
}

static int tcp_connect(const char *ip, int port, int syncnt)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, ip, &a.sin_addr);
	if (syncnt)
		setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &syncnt, sizeof(syncnt));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)))
		return -errno;
	return fd;
}

static int tcp_listen(const char *ip, int port, int backlog)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	inet_pton(AF_INET, ip, &a.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, backlog))
		return -errno;
	return fd;
}

/*
 * A connect whose SYNs are dropped, on loopback only: in a private network namespace, a
 * listener with a backlog of 0 takes one connection; while it sits unaccepted the accept
 * queue is full and the kernel drops further SYNs. With TCP_SYNCNT 1 the second connect
 * times out after ~3 s. Exit 0 if it did.
 */
static int syn_timeout(void)
{
	struct ifreq ifr = {.ifr_name = "lo"};
	int s, l, first, second;

	if (unshare(CLONE_NEWNET))
		return 10;
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (ioctl(s, SIOCGIFFLAGS, &ifr))
		return 11;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr))
		return 12;
	l = tcp_listen("127.0.0.1", 7777, 0);
	if (l < 0)
		return 13;
	first = tcp_connect("127.0.0.1", 7777, 0);
	if (first < 0)
		return 14;
	second = tcp_connect("127.0.0.1", 7777, 1);
	return second == -ETIMEDOUT ? 0 : 15;
}

/* --- modes for the fault scenarios (tests/scenarios) ------------------------------------- */

/* Bring lo up in a private network namespace: loopback traffic nobody else on the host sees.
 * Returns 0 or -1. */
static int private_lo(void)
{
	struct ifreq ifr = {.ifr_name = "lo"};
	int s, rc;

	if (unshare(CLONE_NEWNET))
		return -1;
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0)
		return -1;
	rc = ioctl(s, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	if (!rc)
		rc = ioctl(s, SIOCSIFFLAGS, &ifr);
	close(s);
	return rc ? -1 : 0;
}

/*
 * A listener on 127.0.0.1:7777 of a private netns whose accept queue is full: backlog 0 and one
 * connection left unaccepted, so the kernel drops every later SYN to it (tcp_conn_request:
 * sk_acceptq_is_full). Returns 0 with the listener and that connection, or -1.
 */
static int full_queue(int *l, int *first)
{
	if (private_lo())
		return -1;
	*l = tcp_listen("127.0.0.1", 7777, 0);
	if (*l < 0)
		return -1;
	*first = tcp_connect("127.0.0.1", 7777, 0);
	return *first < 0 ? -1 : 0;
}

/*
 * Take full_queue down without a reset. Closing a listener resets the connections still in its
 * queue (inet_csk_listen_stop -> tcp_disconnect), and the client rightly sees that as a
 * conn_reset: so accept the queued one, close the client first and wait for its FIN to arrive
 * before the server side closes. Returns 0 or -1.
 */
static int drain_queue(int l, int first)
{
	int a = accept(l, NULL, NULL);
	char c;

	if (a < 0)
		return -1;
	close(first);
	if (read(a, &c, 1) != 0)
		return -1;
	close(a);
	close(l);
	return 0;
}

/* syn-timeout, then a clean teardown: only the timed-out connect is a fault. Exit 0 if so. */
static int syn_timeout_clean(void)
{
	int l, first;

	if (full_queue(&l, &first))
		return 13;
	if (tcp_connect("127.0.0.1", 7777, 1) != -ETIMEDOUT)
		return 15;
	return drain_queue(l, first) ? 16 : 0;
}

/*
 * A burst of retransmits without netem: n non-blocking connects to the full queue. Every SYN
 * is dropped, and the kernel retransmits each after the initial RTO of 1 s
 * (tcp_retransmit_timer -> tcp_retransmit_skb), n at once. Stay ms milliseconds (2500 covers
 * one round, the next comes at 3 s), then abandon the connects — a close in SYN_SENT with no
 * error is the application's choice, not a fault. Exit 0 on success.
 */
static int syn_burst(int n, int ms)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(7777)};
	int l, first, fds[256];

	if (n < 1 || n > 256)
		return 17;
	if (full_queue(&l, &first))
		return 13;
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	for (int i = 0; i < n; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (fds[i] < 0 || !connect(fds[i], (struct sockaddr *)&a, sizeof(a)) ||
		    errno != EINPROGRESS)
			return 18;
	}
	usleep(ms * 1000);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	return drain_queue(l, first) ? 16 : 0;
}

/* n blocking connects to ip:port, each closed after. Returns how many ended with err. */
static int connect_n(const char *ip, int port, int n, int err)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int hits = 0;

	inet_pton(AF_INET, ip, &a.sin_addr);
	for (int i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		char buf[64];
		ssize_t r = -1;

		if (fd < 0)
			return hits;
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)))
			hits += errno == err;
		else if (err == ECONNRESET) {
			/* Connected: read until the peer's abort ends it. */
			while ((r = read(fd, buf, sizeof(buf))) > 0)
				;
			hits += r < 0 && errno == err;
		}
		close(fd);
	}
	return hits;
}

/*
 * Background load nobody watches, until SIGTERM: short-lived children that exit 0 (exec'd
 * under our own name), and loopback connections opened and closed cleanly (client first, the
 * server side after the FIN, so no reset). Writes "PROCS CONNS FAILURES" to out at the end.
 * SIGTERM is taken with sigtimedwait, so no call is ever interrupted half-way.
 */
static int noise(const char *self, const char *out)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	struct timespec pause_ts = {.tv_nsec = 10000000};
	long procs = 0, conns = 0, failures = 0;
	socklen_t len = sizeof(a);
	sigset_t term;
	int l, status;
	FILE *f;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	l = tcp_listen("127.0.0.1", 0, 64);
	if (l < 0 || getsockname(l, (struct sockaddr *)&a, &len))
		return 60;
	while (sigtimedwait(&term, NULL, &pause_ts) < 0) {
		for (int i = 0; i < 4; i++) {
			pid_t p = fork();

			if (p == 0) {
				sigprocmask(SIG_UNBLOCK, &term, NULL);
				execl(self, self, "exit", "0", (char *)NULL);
				_exit(126);
			}
			procs += p > 0;
		}
		while (wait(&status) > 0)
			failures += !WIFEXITED(status) || WEXITSTATUS(status);
		for (int i = 0; i < 2; i++) {
			int c = tcp_connect("127.0.0.1", ntohs(a.sin_port), 0), s;
			char byte;

			s = c < 0 ? -1 : accept(l, NULL, NULL);
			if (c < 0 || s < 0) {
				failures++;
				continue;
			}
			close(c);
			failures += read(s, &byte, 1) != 0;
			close(s);
			conns++;
		}
	}
	f = fopen(out, "w");
	if (!f)
		return 62;
	fprintf(f, "%ld %ld %ld\n", procs, conns, failures);
	return fclose(f) ? 63 : 0;
}

/* connect-n and connect-reset-n: exit 0 when all N connects ended with err, else fail. */
static int connects_ending(char **argv, int err, int fail)
{
	int n = atoi(argv[4]);

	return connect_n(argv[2], atoi(argv[3]), n, err) == n ? 0 : fail;
}

/*
 * What any user can do to an observe-all agent: as uid (setuid in this process, before any
 * child), n children, each renamed "fl-<pid>" (PR_SET_NAME: its comm, so its own signature)
 * and exiting 1, spread evenly over ms milliseconds. At most 64 children are alive at once.
 * Prints "comm-flood: N exits in MS ms" on stdout. Returns 0, or 60 when it cannot drop to
 * uid, 61 when a fork fails.
 */
static int comm_flood(uid_t uid, int n, int ms)
{
	struct timespec t0, now;
	int alive = 0;
	double el;

	if (setgroups(0, NULL) || setgid(uid) || setuid(uid))
		return 60;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++) {
		char name[16];
		pid_t p;

		/* Paced: child i starts at i * ms / n. */
		do {
			clock_gettime(CLOCK_MONOTONIC, &now);
			el = (now.tv_sec - t0.tv_sec) * 1e3 + (now.tv_nsec - t0.tv_nsec) / 1e6;
			if (ms && el < (double)i * ms / n)
				usleep(200);
		} while (ms && el < (double)i * ms / n);
		while (alive >= 64 && wait(NULL) > 0)
			alive--;
		p = fork();
		if (p < 0)
			return 61;
		if (p == 0) {
			snprintf(name, sizeof(name), "fl-%d", (int)getpid());
			prctl(PR_SET_NAME, name);
			_exit(1);
		}
		alive++;
		while (alive && waitpid(-1, NULL, WNOHANG) > 0)
			alive--;
	}
	while (wait(NULL) > 0)
		;
	clock_gettime(CLOCK_MONOTONIC, &now);
	el = (now.tv_sec - t0.tv_sec) * 1e3 + (now.tv_nsec - t0.tv_nsec) / 1e6;
	printf("comm-flood: %d exits in %.0f ms\n", n, el);
	return 0;
}

/*
 * The scenario modes. Returns the exit code of the one argv names, or -1 if it names none.
 *   syn-timeout-clean | syn-burst N MS | connect-n IP PORT N (all refused: exit 0)
 *   | connect-reset-n IP PORT N (each reset by the peer: exit 0) | noise OUTFILE
 */
static int scenario_mode(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	if (!strcmp(mode, "syn-timeout-clean"))
		return syn_timeout_clean();
	if (!strcmp(mode, "syn-burst") && argc > 3)
		return syn_burst(atoi(argv[2]), atoi(argv[3]));
	if (!strcmp(mode, "connect-n") && argc > 4)
		return connects_ending(argv, ECONNREFUSED, 50);
	if (!strcmp(mode, "connect-reset-n") && argc > 4)
		return connects_ending(argv, ECONNRESET, 51);
	if (!strcmp(mode, "noise") && argc > 2)
		return noise(argv[0], argv[2]);
	if (!strcmp(mode, "comm-flood") && argc > 4)
		return comm_flood((uid_t)atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	return -1;
}

/* The hang mode's two threads share this: the file and a page nobody will ever fill. */
struct hang {
	int fd;
	char *page;
};

static void *hang_writer(void *arg)
{
	struct hang *h = arg;

	/* The copy from h->page faults into a userfaultfd nobody serves: this thread waits
	 * (killably) while holding the file's position lock. */
	if (write(h->fd, h->page, 4096) < 0)
		return NULL;
	return NULL;
}

/*
 * A task stuck in an uninterruptible, non-killable sleep, as the hung-task detector wants:
 * the main thread's write() waits for the file position lock (a mutex) held by a thread
 * blocked in a userfaultfd fault. SIGKILL ends the process.
 */
static int hang(const char *path)
{
	struct uffdio_api api = {.api = UFFD_API};
	struct uffdio_register reg = {};
	struct hang h;
	pthread_t t;
	int uffd;

	uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api))
		return 60;
	h.page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (h.page == MAP_FAILED)
		return 61;
	reg.range.start = (unsigned long)h.page;
	reg.range.len = 4096;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		return 62;
	h.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (h.fd < 0 || pthread_create(&t, NULL, hang_writer, &h))
		return 63;
	usleep(100000);
	return write(h.fd, "x", 1) == 1 ? 0 : 64;
}

/* --- modes for tests/integration/test_sockets_more.c ------------------------------------- */

/* connect6 IP PORT: one blocking IPv6 connect; exit with its errno (0 if it connected). */
static int connect6(const char *ip, int port)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	int fd = socket(AF_INET6, SOCK_STREAM, 0);

	if (fd < 0 || inet_pton(AF_INET6, ip, &a.sin6_addr) != 1)
		return 70;
	return connect(fd, (struct sockaddr *)&a, sizeof(a)) ? errno : 0;
}

/*
 * listen-hold IP PORT BACKLOG: listen and never accept, so that the accept queue fills. Writes
 * one byte on stdout once listening, then holds the listener until stdin reaches EOF, and exits
 * 0. Meant to be the watched server of overflow-reset.
 */
static int listen_hold(const char *ip, int port, int backlog)
{
	int l = tcp_listen(ip, port, backlog);
	char c;

	if (l < 0 || write(STDOUT_FILENO, "r", 1) != 1)
		return 71;
	while (read(STDIN_FILENO, &c, 1) > 0)
		;
	return 0;
}

/* Write val to a sysctl file of the current network namespace. Returns 0 or -1. */
static int set_sysctl(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), rc = -1;

	if (fd >= 0) {
		rc = write(fd, val, strlen(val)) == (ssize_t)strlen(val) ? 0 : -1;
		close(fd);
	}
	return rc;
}

/*
 * overflow-reset SERVER: the kernel resets a client on behalf of a listener whose accept queue
 * overflowed. Run under a name nobody watches: this process is the client; SERVER (a link to
 * faulty under a watched name) is exec'd as listen-hold in the same private network namespace.
 *
 * With net.ipv4.tcp_abort_on_overflow = 1 (a per-namespace sysctl), a handshake ACK that finds
 * the accept queue full makes tcp_check_req answer with a RST (send_reset, i.e.
 * tcp_v4_send_reset with the listener as sk), which fires tcp/tcp_send_reset for the watched
 * listener. The queue must fill between the SYN and the ACK of one connection, since a SYN
 * arriving at a full queue is dropped: the late client sets TCP_DEFER_ACCEPT, which makes the
 * kernel delay its handshake ACK (tcp_rcv_synsent_state_process: TCP_DELACK_MAX, 200 ms); a
 * second, ordinary client fills the queue (backlog 0) in that time. Exit 0 when the late
 * client read ECONNRESET and the server exited 0.
 */
static int overflow_reset(const char *server)
{
	int to[2], from[2], late, filler, one = 1, status;
	char c, buf[16];
	ssize_t n;
	pid_t pid;

	if (private_lo() || set_sysctl("/proc/sys/net/ipv4/tcp_abort_on_overflow", "1") ||
	    pipe(to) || pipe(from))
		return 72;
	pid = fork();
	if (pid == 0) {
		dup2(to[0], STDIN_FILENO);
		dup2(from[1], STDOUT_FILENO);
		close(to[1]);
		close(from[0]);
		execl(server, server, "listen-hold", "127.0.0.1", "7777", "0", (char *)NULL);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	if (pid < 0 || read(from[0], &c, 1) != 1)
		return 73;
	late = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(late, IPPROTO_TCP, TCP_DEFER_ACCEPT, &one, sizeof(one));
	{
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(7777)};

		inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
		if (connect(late, (struct sockaddr *)&a, sizeof(a)))
			return 74;
	}
	filler = tcp_connect("127.0.0.1", 7777, 0);
	if (filler < 0)
		return 75;
	/* Blocks until the reset that answers the late client's ACK. */
	n = read(late, buf, sizeof(buf));
	if (n >= 0 || errno != ECONNRESET)
		return 76;
	close(filler);
	close(to[1]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		return 77;
	return 0;
}

/* Run argv[0] with args, wait; returns 0 if it exited 0. */
static int run_cmd(char *const argv[])
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, STDOUT_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -1;
}

/*
 * veth-exec PROG ARGS...: in a private network namespace, a veth pair vu0/vu1 with
 * 10.77.0.1/24 on vu0 and both ends up, then exec PROG ARGS (so the exec'd program keeps this
 * pid). Nothing answers for the rest of 10.77.0.0/24: ARP for it fails, and nothing can leave
 * the namespace. Run under a name nobody watches so that the setup commands are silent.
 */
static int veth_exec(char **argv)
{
	static char ip[] = "/sbin/ip";
	char *add[] = {ip, "link", "add", "vu0", "type", "veth", "peer", "name", "vu1", NULL};
	char *addr[] = {ip, "addr", "add", "10.77.0.1/24", "dev", "vu0", NULL};
	char *up0[] = {ip, "link", "set", "vu0", "up", NULL};
	char *up1[] = {ip, "link", "set", "vu1", "up", NULL};

	if (private_lo())
		return 80;
	if (run_cmd(add))
		return 81;
	if (run_cmd(addr) || run_cmd(up0) || run_cmd(up1))
		return 82;
	execv(argv[0], argv);
	return 83;
}

/* The modes above. Returns the exit code of the one argv names, or -1 if it names none. */
static int more_mode(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	if (!strcmp(mode, "connect6") && argc > 3)
		return connect6(argv[2], atoi(argv[3]));
	if (!strcmp(mode, "listen-hold") && argc > 4)
		return listen_hold(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (!strcmp(mode, "overflow-reset") && argc > 2)
		return overflow_reset(argv[2]);
	if (!strcmp(mode, "veth-exec") && argc > 2)
		return veth_exec(argv + 2);
	return -1;
}

/*
 * httpd PORT: a keep-alive HTTP/1.1 server on 127.0.0.1:PORT for the trace tests, a thread per
 * connection, requests read with read() (pipelined ones taken from the buffer one by one) and
 * each answered with one write(). Paths: /crash faults (SIGSEGV) in the serving thread;
 * /oom allocates until the OOM killer ends it (in a memory cgroup); /upstream?PORT connects
 * to 127.0.0.1:PORT (refused, say), then answers 502; /hold waits 30 s, then answers; any
 * other path is answered 200 at once.
 */
static void http_answer(int fd, const char *status)
{
	char out[128];
	int n = snprintf(out, sizeof(out), "HTTP/1.1 %s\r\nContent-Length: 3\r\n\r\nok\n", status);

	if (write(fd, out, n) != n)
		_exit(5);
}

static void http_request(int fd, const char *path)
{
	if (!strncmp(path, "/crash", 6)) {
		volatile int *p = NULL;

		*p = 1;
	} else if (!strncmp(path, "/oom", 4)) {
		for (;;) {
			char *p = malloc(1 << 20);

			if (p)
				memset(p, 0xa5, 1 << 20);
		}
	} else if (!strncmp(path, "/upstream?", 10)) {
		int up = tcp_connect("127.0.0.1", atoi(path + 10), 0);

		if (up >= 0)
			close(up);
		http_answer(fd, up >= 0 ? "200 OK" : "502 Bad Gateway");
		return;
	} else if (!strncmp(path, "/hold", 5)) {
		sleep(30);
	}
	http_answer(fd, "200 OK");
}

static void *http_conn(void *arg)
{
	int fd = (int)(long)arg;
	char buf[16384], path[256];
	size_t have = 0, used;
	char *end;
	ssize_t n;

	for (;;) {
		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (!end) {
			if (have >= sizeof(buf) - 1)
				break;
			n = read(fd, buf + have, sizeof(buf) - 1 - have);
			if (n <= 0)
				break;
			have += n;
			continue;
		}
		used = end + 4 - buf;
		if (sscanf(buf, "%*s %255s", path) != 1)
			break;
		http_request(fd, path);
		memmove(buf, buf + used, have - used);
		have -= used;
	}
	close(fd);
	return NULL;
}

static int httpd(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int one = 1, lfd = socket(AF_INET, SOCK_STREAM, 0), fd;
	pthread_t t;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 64))
		return 2;
	for (;;) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			continue;
		pthread_create(&t, NULL, http_conn, (void *)(long)fd);
		pthread_detach(t);
	}
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	if (!strcmp(mode, "httpd") && argc > 2)
		return httpd(atoi(argv[2]));

	if (!strcmp(mode, "segv")) {
		volatile int *p = NULL;

		*p = 1;
	} else if (!strcmp(mode, "segv-on-usr1")) {
		volatile int *p = NULL;
		sigset_t set;
		int sig;

		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		if (sigwait(&set, &sig))
			return 5;
		*p = 1;
	} else if (!strcmp(mode, "abort")) {
		abort();
	} else if (!strcmp(mode, "exit") && argc > 2) {
		return atoi(argv[2]);
	} else if (!strcmp(mode, "serve")) {
		if (argc > 2) {
			FILE *f = fopen(argv[2], "w");

			if (!f)
				return 2;
			fprintf(f, "%d\n", getpid());
			fclose(f);
		}
		for (;;)
			pause();
	} else if (!strcmp(mode, "alloc") && argc > 2) {
		size_t mib = strtoul(argv[2], NULL, 10);

		for (size_t i = 0; i < mib; i++) {
			char *p = malloc(1 << 20);

			if (!p)
				return 3;
			memset(p, 0xa5, 1 << 20);
		}
		return 4; /* should have been OOM-killed */
	} else if (!strcmp(mode, "threads-segv") && argc > 2) {
		int n = atoi(argv[2]);
		pthread_t t;

		for (int i = 0; i < n; i++)
			pthread_create(&t, NULL, spin, NULL);
		pthread_create(&t, NULL, fault, NULL);
		for (;;)
			pause();
	} else if (!strcmp(mode, "connect") && argc > 3) {
		int fd = tcp_connect(argv[2], atoi(argv[3]), 0);

		return fd < 0 ? -fd : 0;
	} else if (!strcmp(mode, "connect-read") && argc > 3) {
		int fd = tcp_connect(argv[2], atoi(argv[3]), 0);
		char buf[64];
		ssize_t n;

		if (fd < 0)
			return 20;
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			;
		return n < 0 ? errno : 0;
	} else if (!strcmp(mode, "serve-accept") && argc > 2) {
		int l = tcp_listen("127.0.0.1", atoi(argv[2]), 8), c;
		char buf[64];
		ssize_t n;

		if (l < 0)
			return 21;
		c = accept(l, NULL, NULL);
		while (c >= 0 && (n = read(c, buf, sizeof(buf))) > 0)
			;
		return 0;
	} else if (!strcmp(mode, "connect-segv") && argc > 3) {
		volatile int *p = NULL;

		/* A refused connect, then a crash: the first is the second's causal chain. */
		tcp_connect(argv[2], atoi(argv[3]), 0);
		usleep(20000);
		*p = 1;
	} else if (!strcmp(mode, "hang") && argc > 2) {
		return hang(argv[2]);
	} else if (!strcmp(mode, "slow-reads") && argc > 3) {
		int n = atoi(argv[2]), ms = atoi(argv[3]), p[2];
		char c;

		if (pipe(p))
			return 50;
		if (fork() == 0) {
			for (int i = 0; i < n; i++) {
				usleep(ms * 1000);
				if (write(p[1], "x", 1) != 1)
					_exit(1);
			}
			_exit(0);
		}
		for (int i = 0; i < n; i++)
			if (read(p[0], &c, 1) != 1)
				return 51;
		return 0;
	} else if (!strcmp(mode, "burst") && argc > 3) {
		int n = atoi(argv[2]), code = atoi(argv[3]), gate[2];
		char c;

		/* Every child waits on the gate; closing it releases them all at once. */
		if (pipe(gate))
			return 40;
		for (int i = 0; i < n; i++) {
			if (fork() == 0) {
				close(gate[1]);
				if (read(gate[0], &c, 1) < 0)
					_exit(41);
				_exit(code);
			}
		}
		close(gate[0]);
		close(gate[1]);
		while (wait(NULL) > 0)
			;
		return 0;
	} else if (!strcmp(mode, "listen-slow") && argc > 3) {
		/* Accept one connection and keep it; then one read that waits MS ms; then stay. */
		int l = tcp_listen("127.0.0.1", atoi(argv[2]), 8), c, p[2];
		char b;

		if (l < 0 || pipe(p))
			return 71;
		c = accept(l, NULL, NULL);
		if (c < 0)
			return 72;
		if (fork() == 0) {
			usleep(atoi(argv[3]) * 1000);
			_exit(write(p[1], "x", 1) == 1 ? 0 : 1);
		}
		if (read(p[0], &b, 1) != 1)
			return 73;
		for (;;)
			pause();
	} else if (!strcmp(mode, "connect-slow") && argc > 3) {
		/* Open a connection out and keep it, as a database pool does; then one read that
		 * waits MS ms; then stay. */
		int c = tcp_connect("127.0.0.1", atoi(argv[2]), 0), p[2];
		char b;

		if (c < 0 || pipe(p))
			return 74;
		if (fork() == 0) {
			usleep(atoi(argv[3]) * 1000);
			_exit(write(p[1], "x", 1) == 1 ? 0 : 1);
		}
		if (read(p[0], &b, 1) != 1)
			return 75;
		for (;;)
			pause();
	} else if (!strcmp(mode, "accept-close") && argc > 2) {
		/* Accept one connection, let its data arrive, close it unread: the kernel
		 * aborts it with a RST (after the socket's CLOSE transition). */
		int l = tcp_listen("127.0.0.1", atoi(argv[2]), 8), c;

		if (l < 0)
			return 70;
		c = accept(l, NULL, NULL);
		usleep(200000);
		close(c);
		return 0;
	} else if (!strcmp(mode, "syn-timeout")) {
		return syn_timeout();
	} else if (!strcmp(mode, "daemonize")) {
		/* A service that forks into the background: the child serves, the parent exits 0.
		 */
		pid_t c = fork();

		if (c == 0) {
			setsid();
			if (argc > 2) {
				FILE *f = fopen(argv[2], "w");

				if (!f)
					_exit(2);
				fprintf(f, "%d\n", getpid());
				fclose(f);
			}
			for (;;)
				pause();
		}
		return c > 0 ? 0 : 60;
	} else if (!strcmp(mode, "slow-then-serve") && argc > 2) {
		/* One read that waits MS ms for its byte, then a service that keeps running. */
		int p[2];
		char c;

		if (pipe(p))
			return 30;
		if (fork() == 0) {
			usleep(atoi(argv[2]) * 1000);
			_exit(write(p[1], "x", 1) == 1 ? 0 : 1);
		}
		if (read(p[0], &c, 1) != 1)
			return 31;
		for (;;)
			pause();
	} else if (!strcmp(mode, "slow-read") && argc > 2) {
		int p[2];
		char c;

		if (pipe(p))
			return 30;
		if (fork() == 0) {
			usleep(atoi(argv[2]) * 1000);
			_exit(write(p[1], "x", 1) == 1 ? 0 : 1);
		}
		return read(p[0], &c, 1) == 1 ? 0 : 31;
	} else if (!strcmp(mode, "getppid") && argc > 2) {
		for (long i = atol(argv[2]); i > 0; i--)
			syscall(SYS_getppid);
		return 0;
	} else if (!strcmp(mode, "nanosleep") && argc > 3) {
		struct timespec ts = {.tv_nsec = atol(argv[3]) * 1000000L};

		for (long i = atol(argv[2]); i > 0; i--)
			syscall(SYS_nanosleep, &ts, NULL);
		return 0;
	} else if (!strcmp(mode, "fork-exec") && argc > 2) {
		pid_t pid = fork();
		int status;

		if (pid == 0) {
			execv(argv[2], argv + 2);
			_exit(126);
		}
		waitpid(pid, &status, 0);
		return 0;
	}
	{
		int rc = scenario_mode(argc, argv);

		if (rc >= 0)
			return rc;
	}
	{
		int rc = more_mode(argc, argv);

		if (rc >= 0)
			return rc;
	}
	fprintf(stderr,
		"usage: faulty segv|abort|exit N|serve [PIDFILE]|alloc MIB|fork-exec PATH...\n");
	return 64;
}
