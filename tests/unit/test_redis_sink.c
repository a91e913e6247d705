// SPDX-License-Identifier: Apache-2.0
/*
 * Unit: the Redis sink with no Redis to talk to — a closed port (down: everything to the spool),
 * a listener that never answers (a stalled Redis: the queue fills, and the overflow is counted,
 * never waited for), and a tiny spool cap (records beyond it counted). Whatever happens, every
 * record pushed is written, spooled, or counted as lost: none disappears unaccounted.
 */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "output/redis.h"

struct fix {
	char dir[64];
	char spool[128];
	char url[64];
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/vigil-sink-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->spool, sizeof(f->spool), "%s/sub/redis.spool", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	free(f);
	return system(cmd) ? -1 : 0;
}

/* A loopback port: listening (never accepting) when listen_too, else closed. Returns the fd
 * (closed port: -1) and the port in *port. */
static int port_on_lo(bool listen_too, int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	if (listen_too) {
		assert_int_equal(listen(fd, 16), 0);
		return fd;
	}
	close(fd);
	return -1;
}

static void push_n(struct vigil_sink *r, unsigned int from, unsigned int n, unsigned int *refused)
{
	char rec[256];

	for (unsigned int i = from; i < from + n; i++) {
		/* Each record different and hard to compress, as real ones are not. */
		int len =
		    snprintf(rec, sizeof(rec),
			     "{\"type\":\"event\",\"rid\":\"1000-%u\",\"noise\":\"%08x%08x%08x\"}",
			     i, (unsigned int)rand(), (unsigned int)rand(), (unsigned int)rand());

		if (vigil_sink_push(r, rec, (size_t)len) == -ENOBUFS)
			(*refused)++;
	}
}

/* Poll the stats until cond holds, at most 5 s. */
#define WAIT_FOR(r, st, cond)                                                                      \
	do {                                                                                       \
		for (int _i = 0; _i < 500; _i++) {                                                 \
			vigil_sink_stats(r, &st);                                                  \
			if (cond)                                                                  \
				break;                                                             \
			usleep(10000);                                                             \
		}                                                                                  \
		vigil_sink_stats(r, &st);                                                          \
		assert_true(cond);                                                                 \
	} while (0)

static struct vigil_sink *open_sink(struct fix *f, uint64_t cap, unsigned int qmax)
{
	struct vigil_redis_opts o = {.url = f->url,
				     .prefix = "vigil",
				     .node = "n",
				     .spool = f->spool,
				     .spool_max_bytes = cap,
				     .maxlen = 1000,
				     .queue_max = qmax,
				     .timeout_ms = 1000};
	struct vigil_sink *r = NULL;
	char err[256];

	assert_int_equal(vigil_redis_sink_open(&o, &r, err, sizeof(err)), 0);
	return r;
}

/* Redis down: every record goes to the spool, and a later vigil finds them there. */
static void test_down_spools_everything(void **state)
{
	struct fix *f = *state;
	struct vigil_sink_stats st;
	struct vigil_sink *r;
	unsigned int refused = 0;
	int port;

	port_on_lo(false, &port);
	snprintf(f->url, sizeof(f->url), "redis://127.0.0.1:%d/0", port);
	r = open_sink(f, 0, 0);
	push_n(r, 0, 50, &refused);
	WAIT_FOR(r, st, st.spool_pending == 50);
	assert_int_equal(refused, 0);
	assert_int_equal(st.state, VIGIL_SINK_DOWN);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.written, 0);
	assert_int_equal(st.spooled, 50);
	assert_non_null(strstr(st.last_error, "connect"));
	assert_true(st.retry_in_ms <= 5000);
	vigil_sink_close(r);

	r = open_sink(f, 0, 0);
	vigil_sink_stats(r, &st);
	assert_int_equal(st.spool_pending, 50);
	assert_int_equal(st.spool_torn_bytes, 0);
	vigil_sink_close(r);
}

/* A Redis that takes the connection and never answers: the thread waits for its reply (up to
 * the timeout); the loop's pushes never wait — those that find the queue full are refused and
 * counted. After the timeout everything taken goes to the spool. */
static void test_stalled_queue_full_is_counted(void **state)
{
	struct fix *f = *state;
	struct vigil_sink_stats st;
	struct vigil_sink *r;
	unsigned int refused = 0;
	struct timespec t0, t1;
	int port, lfd = port_on_lo(true, &port);

	snprintf(f->url, sizeof(f->url), "redis://127.0.0.1:%d/0", port);
	unlink(f->spool);
	r = open_sink(f, 0, 8);
	push_n(r, 0, 1, &refused);
	usleep(100000); /* the thread has taken it and waits for the reply */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	push_n(r, 1, 40, &refused);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	vigil_sink_stats(r, &st);
	printf("stalled: 41 pushed in %ld us, %u refused (queue of 8 full), %llu counted\n",
	       (long)((t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000),
	       refused, (unsigned long long)st.queue_drops);
	/* Never waited: 40 pushes take microseconds, not the 1 s reply timeout. */
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 500);
	assert_true(refused >= 40 - 8);
	assert_int_equal(st.queue_drops, refused);
	WAIT_FOR(r, st,
		 st.state == VIGIL_SINK_DOWN && st.queued == 0 && st.spool_pending == 41 - refused);
	assert_int_equal(st.written, 0);
	vigil_sink_close(r);
	close(lfd);
}

/* The spool's cap: what does not fit is counted, and what was pushed is all accounted for. */
static void test_spool_cap_is_counted(void **state)
{
	struct fix *f = *state;
	struct vigil_sink_stats st;
	struct vigil_sink *r;
	unsigned int refused = 0;
	int port;

	port_on_lo(false, &port);
	snprintf(f->url, sizeof(f->url), "redis://127.0.0.1:%d/0", port);
	unlink(f->spool);
	r = open_sink(f, 4096, 0);
	for (int i = 0; i < 20; i++) {
		push_n(r, 100 * i, 100, &refused);
		usleep(5000);
	}
	WAIT_FOR(r, st, st.queued == 0 && st.spool_pending + st.spool_drops == 2000);
	printf("cap: 2000 pushed, %llu spooled (%llu bytes of a 4096-byte cap), %llu counted as "
	       "lost\n",
	       (unsigned long long)st.spool_pending, (unsigned long long)st.spool_bytes,
	       (unsigned long long)st.spool_drops);
	assert_int_equal(refused, 0);
	assert_true(st.spool_drops > 0);
	assert_true(st.spool_pending > 0);
	assert_true(st.spool_bytes <= 4096);
	vigil_sink_close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_down_spools_everything),
	    cmocka_unit_test(test_stalled_queue_full_is_counted),
	    cmocka_unit_test(test_spool_cap_is_counted),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
