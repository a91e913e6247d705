// SPDX-License-Identifier: Apache-2.0
/*
 * Unit: the control socket on a real event loop, and the renderers of its answers.
 *
 * The server runs where the daemon runs it, on a vigil_loop in this (the main) thread; each
 * test's client runs in a second thread and only records what it saw, since cmocka's asserts
 * must stay on the main thread. A loop timer polls for the client's end and stops the loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "control/ctl.h"

#define BIG (200 * 1024)   /* the answer that must arrive whole */
#define HUGE (1024 * 1024) /* more than a socket buffer holds: the server must wait */
#define TIMEOUT_MS 5000
#define STATUS_ANSWER "{\"version\":\"test\",\"node\":\"n1\",\"uptime_s\":12}"

struct fixture {
	char dir[64];
	char path[128];
	struct vigil_loop *loop;
	struct vigil_ctl *ctl;
	char last_arg[64]; /* written by the handler, on the loop's thread */
	struct vigil_ctl_peer last_peer;
	int done; /* set by the client thread, read with __atomic */
	uint64_t give_up_ns;
	struct vigil_timer watch;
};

/* What a client thread saw; the main thread asserts on it after the join. */
struct client {
	struct fixture *f;
	const char *path; /* NULL: the fixture's socket */
	void (*fn)(struct client *c);
	int err[4];
	char *answer[4];
	uint64_t ms[4];
	long cpu_ms;
	int still_open;
};

/* The handlers note their argument in the fixture: a command's context is not const. */
static int status_cmd(const char *arg, const struct vigil_ctl_peer *peer, struct vigil_json *out,
		      void *ctx)
{
	struct fixture *f = ctx;

	snprintf(f->last_arg, sizeof(f->last_arg), "%s", arg ? arg : "(none)");
	f->last_peer = *peer;
	vigil_json_begin(out);
	vigil_json_str(out, "version", "test");
	vigil_json_str(out, "node", "n1");
	vigil_json_u64(out, "uptime_s", 12);
	return vigil_json_end(out);
}

static int big(struct fixture *f, const char *arg, struct vigil_json *out, size_t n)
{
	char *s;

	snprintf(f->last_arg, sizeof(f->last_arg), "%s", arg ? arg : "(none)");
	s = malloc(n + 1);
	if (!s)
		return -ENOMEM;
	memset(s, 'x', n);
	s[n] = '\0';
	vigil_json_begin(out);
	vigil_json_str(out, "big", s);
	free(s);
	return vigil_json_end(out);
}

static int big_cmd(const char *arg, const struct vigil_ctl_peer *peer, struct vigil_json *out,
		   void *ctx)
{
	(void)peer;
	return big(ctx, arg, out, BIG);
}

static int huge_cmd(const char *arg, const struct vigil_ctl_peer *peer, struct vigil_json *out,
		    void *ctx)
{
	(void)peer;
	return big(ctx, arg, out, HUGE);
}

/* A query: its context is const, it cannot note anything. */
static int fail_query(const char *arg, struct vigil_json *out, const void *ctx)
{
	(void)arg;
	(void)out;
	(void)ctx;
	return -EIO;
}

/* Listen on path with the test's handlers. */
static int listen_with_handlers(struct fixture *f, const char *path, struct vigil_ctl **ctl)
{
	int err = vigil_ctl_listen(f->loop, path, ctl);

	if (err)
		return err;
	if (vigil_ctl_command(*ctl, "status", status_cmd, f) ||
	    vigil_ctl_command(*ctl, "big", big_cmd, f) ||
	    vigil_ctl_command(*ctl, "huge", huge_cmd, f) ||
	    vigil_ctl_query(*ctl, "fail", fail_query, f) ||
	    vigil_ctl_query(*ctl, "fail", fail_query, f) != -EEXIST) {
		vigil_ctl_close(*ctl);
		return -EINVAL;
	}
	return 0;
}

static uint64_t ms_since(uint64_t t0)
{
	return (vigil_mono_ns() - t0) / 1000000;
}

/* A raw client socket connected to path, or -1. */
static int raw_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Wait up to ms for fd to be closed by the peer. Returns 0 (EOF or reset), -ETIMEDOUT. */
static int wait_closed(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char b[64];

	if (poll(&p, 1, ms) != 1)
		return -ETIMEDOUT;
	return recv(fd, b, sizeof(b), 0) <= 0 ? 0 : -EPROTO;
}

/* A socket file nobody listens on, as a daemon killed with SIGKILL leaves. */
static void make_stale(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
}

static long cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

static void *client_main(void *arg)
{
	struct client *c = arg;

	c->fn(c);
	__atomic_store_n(&c->f->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void watch_done(struct vigil_loop *loop, void *arg)
{
	struct fixture *f = arg;

	if (__atomic_load_n(&f->done, __ATOMIC_ACQUIRE) || vigil_mono_ns() > f->give_up_ns)
		vigil_loop_stop(loop);
	else
		vigil_timer_arm(loop, &f->watch, 10);
}

/* Run c->fn in a thread while this thread runs the server's loop, until the client ends. */
static void run_client(struct fixture *f, struct client *c, void (*fn)(struct client *))
{
	pthread_t t;

	c->f = f;
	c->fn = fn;
	if (!c->path)
		c->path = f->path;
	f->done = 0;
	f->give_up_ns = vigil_mono_ns() + 20000000000ull;
	assert_int_equal(pthread_create(&t, NULL, client_main, c), 0);
	vigil_timer_init(&f->watch, watch_done, f);
	vigil_timer_arm(f->loop, &f->watch, 10);
	assert_int_equal(vigil_loop_run(f->loop), 0);
	pthread_join(t, NULL);
	assert_true(__atomic_load_n(&f->done, __ATOMIC_ACQUIRE));
}

static void client_free(struct client *c)
{
	for (int i = 0; i < 4; i++)
		free(c->answer[i]);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/vigil-ctl-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/run/ctl.sock", f->dir);
	if (vigil_loop_new(NULL, &f->loop))
		return -1;
	if (listen_with_handlers(f, f->path, &f->ctl))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	vigil_ctl_close(f->ctl);
	vigil_loop_free(f->loop);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd))
		return -1;
	free(f);
	return 0;
}

static void requests(struct client *c)
{
	const char *path = c->path;

	c->err[0] = vigil_ctl_request(path, "status", NULL, &c->answer[0], TIMEOUT_MS);
	c->err[1] = vigil_ctl_request(path, "status", "  svc", &c->answer[1], TIMEOUT_MS);
}

static void test_status_request(void **state)
{
	struct fixture *f = *state;
	struct client c = {};

	run_client(f, &c, requests);
	assert_int_equal(c.err[0], 0);
	assert_string_equal(c.answer[0], STATUS_ANSWER);
	assert_int_equal(c.err[1], 0);
	assert_string_equal(c.answer[1], STATUS_ANSWER);
	assert_string_equal(f->last_arg, "svc");
	/* A command is told who asked: this process, as the kernel says (SO_PEERCRED). */
	assert_int_equal(f->last_peer.pid, getpid());
	assert_int_equal(f->last_peer.uid, getuid());
	client_free(&c);
}

static void bad_requests(struct client *c)
{
	const char *path = c->path;

	c->err[0] = vigil_ctl_request(path, "bogus", NULL, &c->answer[0], TIMEOUT_MS);
	c->err[1] = vigil_ctl_request(path, "bo\"g\\us", NULL, &c->answer[1], TIMEOUT_MS);
	c->err[2] = vigil_ctl_request(path, "latency", "nosuch", &c->answer[2], TIMEOUT_MS);
	c->err[3] = vigil_ctl_request(path, "fail", NULL, &c->answer[3], TIMEOUT_MS);
}

static void test_unknown_command(void **state)
{
	struct fixture *f = *state;
	struct client c = {};
	json_t *o;

	run_client(f, &c, bad_requests);
	for (int i = 0; i < 4; i++)
		assert_int_equal(c.err[i], 0);
	assert_string_equal(c.answer[0], "{\"error\":\"unknown command 'bogus'\"}");
	/* Escaped by the writer: still one valid object, with the name as it was sent. */
	o = json_loads(c.answer[1], 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "error")),
			    "unknown command 'bo\"g\\us'");
	json_decref(o);
	assert_string_equal(c.answer[2],
			    "{\"error\":\"unknown command or argument 'latency nosuch'\"}");
	assert_string_equal(c.answer[3], "{\"error\":\"fail: Input/output error\"}");
	client_free(&c);
}

/* A client that reads the answer only after a pause: the server must wait for room in the
 * socket without blocking the loop or spinning on it. */
static void slow_reader(struct client *c)
{
	char *buf = malloc(HUGE + 4096);
	size_t len = 0;
	long cpu0;
	ssize_t n;
	int fd;

	c->err[0] = vigil_ctl_request(c->path, "big", NULL, &c->answer[0], TIMEOUT_MS);
	fd = raw_connect(c->path);
	if (fd < 0 || !buf || send(fd, "huge\n", 5, 0) != 5) {
		c->err[1] = -EIO;
		goto out;
	}
	usleep(100000); /* the server has written what fits and waits for EPOLLOUT */
	cpu0 = cpu_ms();
	usleep(300000);
	c->cpu_ms = cpu_ms() - cpu0;
	while ((n = recv(fd, buf + len, HUGE + 4096 - len, 0)) > 0)
		len += (size_t)n;
	c->err[1] = n < 0 ? -errno : 0;
	c->ms[1] = len;
	c->answer[1] = buf;
	buf = NULL;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
}

static void test_large_answer(void **state)
{
	struct fixture *f = *state;
	struct client c = {};
	size_t want = strlen("{\"big\":\"\"}") + HUGE + 1;
	json_t *o;

	run_client(f, &c, slow_reader);
	assert_int_equal(c.err[0], 0);
	o = json_loads(c.answer[0], 0, NULL);
	assert_non_null(o);
	assert_int_equal(json_string_length(json_object_get(o, "big")), BIG);
	json_decref(o);

	assert_int_equal(c.err[1], 0);
	assert_int_equal(c.ms[1], want);
	assert_int_equal(c.answer[1][want - 1], '\n');
	assert_memory_equal(c.answer[1], "{\"big\":\"xxx", 11);
	assert_memory_equal(c.answer[1] + want - 4, "x\"}\n", 4);
	/* Waiting 300 ms for the reader cost (far) less than 300 ms of CPU: no busy loop. */
	assert_true(c.cpu_ms < 100);
	client_free(&c);
}

/* A client that connects and says nothing; another that asks meanwhile. */
static void silent(struct client *c)
{
	uint64_t t0 = vigil_mono_ns();
	int fd = raw_connect(c->path);

	if (fd < 0) {
		c->err[0] = -EIO;
		return;
	}
	c->err[1] = vigil_ctl_request(c->path, "status", NULL, &c->answer[1], TIMEOUT_MS);
	c->ms[1] = ms_since(t0);
	c->err[0] = wait_closed(fd, TIMEOUT_MS);
	c->ms[0] = ms_since(t0);
	close(fd);
}

static void test_silent_client_dropped(void **state)
{
	struct fixture *f = *state;
	struct client c = {};

	run_client(f, &c, silent);
	assert_int_equal(c.err[1], 0);
	assert_string_equal(c.answer[1], STATUS_ANSWER);
	assert_true(c.ms[1] < 1000); /* not held up by the silent one */
	assert_int_equal(c.err[0], 0);
	assert_true(c.ms[0] >= 1900);
	assert_true(c.ms[0] < 4000);
	client_free(&c);
}

static void seventeen(struct client *c)
{
	int fds[17], i, n = 0;
	uint64_t t0;

	for (i = 0; i < 17; i++) {
		fds[i] = raw_connect(c->path);
		if (fds[i] < 0)
			goto out;
		n++;
	}
	t0 = vigil_mono_ns();
	c->err[0] = wait_closed(fds[16], TIMEOUT_MS);
	c->ms[0] = ms_since(t0);
	for (i = 0; i < 16; i++) {
		struct pollfd p = {.fd = fds[i], .events = POLLIN};

		c->still_open += poll(&p, 1, 0) == 0;
	}
out:
	for (i = 0; i < n; i++)
		close(fds[i]);
	if (n < 17) {
		c->err[0] = -EIO;
		return;
	}
	usleep(200000); /* the server sees the 16 go */
	c->err[1] = vigil_ctl_request(c->path, "status", NULL, &c->answer[1], TIMEOUT_MS);
}

static void test_seventeenth_connection_closed(void **state)
{
	struct fixture *f = *state;
	struct client c = {};

	run_client(f, &c, seventeen);
	assert_int_equal(c.err[0], 0);
	assert_true(c.ms[0] < 1000); /* closed at once, not after the idle timeout */
	assert_int_equal(c.still_open, 16);
	assert_int_equal(c.err[1], 0); /* and the slots come back */
	assert_string_equal(c.answer[1], STATUS_ANSWER);
	client_free(&c);
}

/*
 * One member of the socket's group (a child as uid 65534) opens 16 connections: it keeps 4
 * (its share), the rest are closed at once, and root still gets its answer.
 */
static void greedy_user(struct client *c)
{
	int up[2], down[2];
	char kept = 0, go = 0;
	pid_t pid;

	if (pipe(up) || pipe(down)) {
		c->err[0] = -errno;
		return;
	}
	pid = fork();
	if (pid == 0) {
		int fds[16], n = 0;

		close(up[0]);
		close(down[1]);
		if (setgid(65534) || setuid(65534))
			_exit(1);
		for (int i = 0; i < 16; i++)
			fds[n++] = raw_connect(c->path);
		usleep(300000); /* the server takes them, and closes what is over the share */
		for (int i = 0; i < n; i++) {
			struct pollfd p = {.fd = fds[i], .events = POLLIN};

			kept += fds[i] >= 0 && poll(&p, 1, 0) == 0;
		}
		if (write(up[1], &kept, 1) != 1 || read(down[0], &go, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	if (pid < 0 || read(up[0], &kept, 1) != 1)
		c->err[0] = -EIO;
	c->still_open = kept;
	/* While it holds its share: root is answered. */
	c->err[1] = vigil_ctl_request(c->path, "status", NULL, &c->answer[1], TIMEOUT_MS);
	close(down[1]);
	close(up[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

static void test_slots_fair_per_user(void **state)
{
	struct fixture *f = *state;
	struct client c = {};

	/* The socket's group is nogroup here, so that uid 65534 may connect. */
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_int_equal(chown(f->path, 0, 65534), 0);
	run_client(f, &c, greedy_user);
	assert_int_equal(c.err[0], 0);
	assert_int_equal(c.still_open, 4);
	assert_int_equal(c.err[1], 0);
	assert_string_equal(c.answer[1], STATUS_ANSWER);
	client_free(&c);
}

static void one_status(struct client *c)
{
	c->err[0] = vigil_ctl_request(c->path, "status", NULL, &c->answer[0], TIMEOUT_MS);
}

static void test_stale_live_and_modes(void **state)
{
	struct fixture *f = *state;
	struct vigil_ctl *ctl = NULL, *other = NULL;
	struct client c = {};
	char path[160], dir[160];
	struct stat st;
	mode_t old;
	int fd;

	/* A stale socket, as a daemon killed with SIGKILL leaves: replaced, with mode 0660
	 * whatever the umask. */
	snprintf(path, sizeof(path), "%s/stale.sock", f->dir);
	make_stale(path);
	old = umask(077);
	assert_int_equal(listen_with_handlers(f, path, &ctl), 0);
	umask(old);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);

	/* A second daemon on the same path: refused, and the first keeps its socket. */
	assert_int_equal(listen_with_handlers(f, path, &other), -EADDRINUSE);
	assert_null(other);
	c.path = path;
	run_client(f, &c, one_status);
	assert_int_equal(c.err[0], 0);
	assert_string_equal(c.answer[0], STATUS_ANSWER);
	vigil_ctl_close(ctl);
	assert_int_equal(access(path, F_OK), -1); /* unlinked */

	/* Created directories are 0755 whatever the umask: the socket's group must reach it. */
	snprintf(dir, sizeof(dir), "%s/new/dir", f->dir);
	snprintf(path, sizeof(path), "%s/new/dir/ctl.sock", f->dir);
	old = umask(077);
	assert_int_equal(listen_with_handlers(f, path, &ctl), 0);
	umask(old);
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	vigil_ctl_close(ctl);

	/* Something that is not a socket is not ours to delete. */
	snprintf(path, sizeof(path), "%s/plain", f->dir);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(listen_with_handlers(f, path, &ctl), -EEXIST);
	assert_int_equal(access(path, F_OK), 0);
	client_free(&c);
}

static void test_client_no_daemon(void **state)
{
	struct fixture *f = *state;
	char path[160], *answer = NULL;

	snprintf(path, sizeof(path), "%s/missing.sock", f->dir);
	assert_int_equal(vigil_ctl_request(path, "status", NULL, &answer, 1000), -ENOENT);
	make_stale(path);
	assert_int_equal(vigil_ctl_request(path, "status", NULL, &answer, 1000), -ECONNREFUSED);
	assert_null(answer);
	/* Requests the server could not read are refused before anything is sent. */
	assert_int_equal(vigil_ctl_request(path, "a b", NULL, &answer, 1000), -EINVAL);
	assert_int_equal(vigil_ctl_request(path, "latency", "x\ny", &answer, 1000), -EINVAL);
}

/* Render with fn into a string (free it). */
static char *render(int (*fn)(const char *, FILE *), const char *json, int *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(out);
	*err = fn(json, out);
	fclose(out);
	return buf;
}

static const char status_sample[] =
    "{\"version\":\"1.2.3\",\"node\":\"vm\",\"uptime_s\":3725,"
    "\"config\":\"/etc/vigil/vigil.yaml\","
    "\"probes\":[{\"family\":\"exits\",\"mode\":\"tp_btf\",\"programs\":\"exit_btf,exec_btf\","
    "\"events\":10,\"drops\":0,\"rate_limited\":0,\"no_owner\":0},"
    "{\"family\":\"sockets\",\"mode\":\"tracepoint\",\"programs\":\"state_tp\","
    "\"events\":123456,\"drops\":7,\"rate_limited\":2,\"no_owner\":31}],"
    "\"collector\":{\"records\":10,\"short\":0,\"bad_version\":1,\"unknown\":0,\"bad_size\":0},"
    "\"journal\":{\"path\":\"/var/lib/vigil/journal.jsonl\",\"errors\":0},"
    "\"knowledge\":{\"path\":\"/var/lib/vigil/knowledge.json\",\"entries\":3,\"evicted\":0,"
    "\"write_errors\":1},"
    "\"redis\":{\"url\":\"redis://r:6379/0\",\"state\":\"down\",\"queued\":5,"
    "\"queue_max\":65536,\"written\":1200,\"duplicates\":2,\"reordered\":0,\"rejected\":1,"
    "\"queue_drops\":0,\"spool_pending\":40,\"spool_bytes\":4096,\"spool_drops\":0,"
    "\"spool_torn_frames\":2,\"reconnects\":3,\"last_error\":\"connect r: Connection "
    "refused\\u001b[2J\"},"
    "\"fleet\":{\"usable\":true,\"entries\":12,\"loads\":4,\"load_errors\":1,"
    "\"last_load\":\"2026-01-02T03:04:05.678Z\",\"refreshes\":2,\"learned\":2,"
    "\"last_error\":\"\"},"
    "\"state\":{\"path\":\"/var/lib/vigil/state.json\",\"writes\":9,\"write_errors\":0,"
    "\"resumed_from\":\"redis\",\"resumed_breakers_open\":1,\"resumed_pending\":0,"
    "\"resumed_awaiting\":2,\"not_resumed\":1},"
    "\"incidents\":{\"live\":2},"
    "\"workloads\":[{\"name\":\"svc\",\"pids\":[12,13],\"established\":3,\"retransmits\":0,"
    "\"latency_syscalls\":\"read,write\",\"budget_ms\":200},"
    "{\"name\":\"many\",\"pids\":[1,2,3,4,5,6,7,8,9,10],\"established\":0,"
    "\"retransmits\":12}]}";

static void test_render_status(void **state)
{
	char *s;
	int err;

	(void)state;
	s = render(vigil_ctl_print_status, status_sample, &err);
	assert_int_equal(err, 0);
	assert_string_equal(
	    s,
	    "vigil 1.2.3 on vm, up 1h02m, config /etc/vigil/vigil.yaml\n"
	    "\n"
	    "family   mode        events  drops  rate-limited  no-owner  programs\n"
	    "exits    tp_btf          10      0             0         0  exit_btf,exec_btf\n"
	    "sockets  tracepoint  123456      7             2        31  state_tp\n"
	    "\n"
	    "collector  10 records, 0 short, 1 bad version, 0 unknown kind, 0 bad size\n"
	    "journal    /var/lib/vigil/journal.jsonl, 0 errors\n"
	    "knowledge  /var/lib/vigil/knowledge.json, 3 entries, 0 evicted, 1 write errors\n"
	    "redis      down redis://r:6379/0: 1200 written, queue 5/65536, spool 40 records "
	    "(4096 bytes), 2 duplicates skipped\n"
	    "           lost: 0 queue full, 0 spool full, 1 rejected, 2 torn spool frames; 0 "
	    "reordered, "
	    "3 reconnects\n"
	    "           last error: connect r: Connection refused\\x1b[2J\n"
	    "state      /var/lib/vigil/state.json, 9 writes, 0 write errors; resumed from redis: 1 "
	    "breakers open, 0 pending heals, 2 awaiting approval, 1 not resumed (config changed)\n"
	    "fleet      usable: 12 entries, last load 2026-01-02T03:04:05.678Z, 4 loads, 1 failed, "
	    "2 refreshes\n"
	    "incidents  2 live\n"
	    "\n"
	    "workload  pids                established  retransmits  latency\n"
	    "svc       12,13                         3            0  read,write (budget 200 ms)\n"
	    "many      1,2,3,4,5,6,7,8,+2            0           12  -\n");
	free(s);

	/* Every field is optional: a minimal or odd answer still renders. */
	s = render(vigil_ctl_print_status,
		   "{\"node\":7,\"probes\":[{},3],\"workloads\":[{\"pids\":\"x\"}]}", &err);
	assert_int_equal(err, 0);
	assert_non_null(strstr(s, "vigil - on -, up 0s, config -\n"));
	assert_non_null(strstr(s, "\n-       -          0      0             0         0  -\n"));
	assert_non_null(strstr(s, "\n-         -               0            0  -\n"));
	free(s);
	s = render(vigil_ctl_print_status, "{}", &err);
	assert_int_equal(err, 0);
	assert_non_null(strstr(s, "probes: none attached\n"));
	assert_non_null(strstr(s, "redis      off\n"));
	assert_non_null(strstr(s, "workloads: none configured\n"));
	assert_null(strstr(s, "k8s"));
	free(s);
	/* k8s: a line when it is on, none when off. */
	s = render(vigil_ctl_print_status,
		   "{\"k8s\":{\"enabled\":true,\"learned\":5,\"in_pods\":3,\"from_runtime\":2,"
		   "\"from_proc\":1,\"unnamed\":0,\"unreadable\":4,\"refused\":1,\"entries\":5,"
		   "\"max\":4096,\"evicted\":0}}",
		   &err);
	assert_int_equal(err, 0);
	assert_non_null(strstr(s,
			       "k8s        5 processes read, 3 in pods (2 named by the runtime, 1 "
			       "by their own files, 0 unnamed); 4 gone first, 1 refused; 5 kept "
			       "(at most 4096), 0 evicted\n"));
	free(s);
	s = render(vigil_ctl_print_status, "{\"k8s\":{\"enabled\":false}}", &err);
	assert_int_equal(err, 0);
	assert_null(strstr(s, "k8s"));
	free(s);
}

static void test_render_latency(void **state)
{
	char *s;
	int err;

	(void)state;
	s = render(vigil_ctl_print_latency,
		   "{\"workloads\":[{\"name\":\"svc\",\"budget_ms\":200,\"histograms\":["
		   "{\"syscall\":\"read\",\"count\":7,\"sum_ns\":210,"
		   "\"slots\":[0,0,0,1,4,2,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]},"
		   "{\"syscall\":\"write\",\"count\":0,\"sum_ns\":0,\"slots\":[0,0,0]}]},"
		   "{\"name\":\"idle\"}]}",
		   &err);
	assert_int_equal(err, 0);
	assert_string_equal(s, "svc read: 7 calls, avg 30 ns, budget 200 ms\n"
			       "     nsecs               : count    distribution\n"
			       "         8 -> 15         : 1        |**********                    "
			       "          |\n"
			       "        16 -> 31         : 4        |******************************"
			       "**********|\n"
			       "        32 -> 63         : 2        |********************          "
			       "          |\n"
			       "\n"
			       "svc write: no calls\n"
			       "\n"
			       "idle: no syscall latency tracked\n");
	free(s);

	/* All calls above 1 us: usecs; the last slot is open-ended. */
	s = render(vigil_ctl_print_latency,
		   "{\"workloads\":[{\"name\":\"db\",\"histograms\":[{\"syscall\":\"fsync\","
		   "\"count\":3,\"sum_ns\":5678900,\"slots\":[0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,0,"
		   "0,0,0,0,0,0,0,0,0,0,0,0,0,0,2]}]}]}",
		   &err);
	assert_int_equal(err, 0);
	assert_non_null(strstr(s, "db fsync: 3 calls, avg 1.9 ms\n"));
	assert_non_null(strstr(s, "     usecs               : count    distribution\n"));
	assert_non_null(strstr(s, "         4 -> 8          : 1        |********************"));
	assert_non_null(strstr(s, "   2147483 -> inf        : 2        |****************"));
	free(s);

	s = render(vigil_ctl_print_latency, "{\"workloads\":[]}", &err);
	assert_int_equal(err, 0);
	assert_string_equal(s, "no workload tracks syscall latency\n");
	free(s);
}

static void test_render_errors(void **state)
{
	static const char *const bad[] = {"{", "[]", "null", "42", "{\"a\":1,\"a\":2}", ""};
	char *s;
	int err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = render(vigil_ctl_print_status, bad[i], &err);
		assert_int_equal(err, -EINVAL);
		free(s);
		s = render(vigil_ctl_print_latency, bad[i], &err);
		assert_int_equal(err, -EINVAL);
		free(s);
	}
	s = render(vigil_ctl_print_status, NULL, &err);
	assert_int_equal(err, -EINVAL);
	free(s);
	/* Not a latency answer: no workloads array, or a histogram without slots. */
	s = render(vigil_ctl_print_latency, "{\"workloads\":3}", &err);
	assert_int_equal(err, -EINVAL);
	free(s);
	s = render(vigil_ctl_print_latency,
		   "{\"workloads\":[{\"name\":\"a\",\"histograms\":[{\"count\":1}]}]}", &err);
	assert_int_equal(err, -EINVAL);
	free(s);
	/* The daemon's error answer is printed, and said apart from a bad one. */
	s = render(vigil_ctl_print_latency, "{\"error\":\"unknown workload 'x'\"}", &err);
	assert_int_equal(err, -ENOENT);
	assert_string_equal(s, "error: unknown workload 'x'\n");
	free(s);
	s = render(vigil_ctl_print_status, "{\"error\":\"unknown command 'status'\"}", &err);
	assert_int_equal(err, -ENOENT);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_status_request, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_command, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_large_answer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_silent_client_dropped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_seventeenth_connection_closed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_slots_fair_per_user, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stale_live_and_modes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_client_no_daemon, setup, teardown),
	    cmocka_unit_test(test_render_status),
	    cmocka_unit_test(test_render_latency),
	    cmocka_unit_test(test_render_errors),
	};

	return cmocka_run_group_tests_name("ctl", tests, NULL, NULL);
}
