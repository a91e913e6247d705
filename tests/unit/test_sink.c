// SPDX-License-Identifier: Apache-2.0
/*
 * Unit: the generic queued sink (output/sink.h) against a fake in-memory backend — no network.
 * The fake keeps what it was written, in order; it can be down, hold the sink's thread in
 * connect or in a write (gates, so a test knows exactly what is queued), and break a given
 * write call off after acknowledging some records (and holding a few more whose reply was
 * "lost"). It says DUPLICATE for a record it holds already, byte for byte, so replays are
 * checked for exactly-once, not just counted. Every count below is exact.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "output/sink.h"

#define STORE_MAX 4096
#define CALLS_MAX 16
#define CONNECTS_MAX 32

struct fake {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool gate;		/* connect waits while set */
	unsigned int at_gate;	/* connect calls that found it shut */
	bool wgate;		/* write waits while set */
	unsigned int at_wgate;	/* write calls that found it shut */
	bool up;		/* connect works (unless in fail_connects) */
	uint32_t fail_connects; /* bit k-1: connect number k fails */
	/* Write call number k (from 1): when brk[k], acknowledge ack[k] records, hold extra[k]
	 * more (written, the reply lost), and say the connection broke. */
	bool brk[CALLS_MAX];
	unsigned int ack[CALLS_MAX], extra[CALLS_MAX];
	bool break_next;	 /* the next write call acknowledges nothing and breaks */
	struct vigil_sink *sink; /* set before the gate opens: connect reads the backoff */
	uint64_t seen_backoff[CONNECTS_MAX];
	unsigned int connects, disconnects, writes;
	unsigned int misuse; /* write while not connected, connect while connected, store full */
	bool connected, freed;
	char *store[STORE_MAX];
	size_t nstore;
};

static bool contains(const char *rec, size_t len, const char *what)
{
	return memmem(rec, len, what, strlen(what)) != NULL;
}

static bool held(const struct fake *f, const char *rec, size_t len)
{
	for (size_t i = 0; i < f->nstore; i++)
		if (strlen(f->store[i]) == len && !memcmp(f->store[i], rec, len))
			return true;
	return false;
}

static int fake_connect(void *be, char *why, size_t len)
{
	struct fake *f = be;
	struct vigil_sink_stats st = {0};
	unsigned int k;
	bool ok;

	pthread_mutex_lock(&f->mu);
	f->at_gate += f->gate;
	while (f->gate)
		pthread_cond_wait(&f->cv, &f->mu);
	k = ++f->connects;
	f->misuse += f->connected;
	pthread_mutex_unlock(&f->mu);
	if (f->sink)
		vigil_sink_stats(f->sink, &st);
	pthread_mutex_lock(&f->mu);
	if (k <= CONNECTS_MAX)
		f->seen_backoff[k - 1] = st.backoff_ms;
	ok = f->up && !(k <= 32 && (f->fail_connects >> (k - 1)) & 1);
	f->connected = ok;
	pthread_mutex_unlock(&f->mu);
	if (!ok) {
		snprintf(why, len, "connect: fake is down");
		return -ECONNREFUSED;
	}
	return 0;
}

static void fake_disconnect(void *be)
{
	struct fake *f = be;

	pthread_mutex_lock(&f->mu);
	f->connected = false;
	f->disconnects++;
	pthread_mutex_unlock(&f->mu);
}

/* Records are {"rid":"1-N","x":"KIND"}: "dup" the fake says it held, "reorder" it writes
 * elsewhere, "bad" it rejects; any other it writes, or calls a duplicate if it holds it. */
static unsigned int fake_write(void *be, const char *const *recs, const size_t *lens,
			       unsigned int n, enum vigil_sink_result *res, char *why, size_t len)
{
	struct fake *f = be;
	unsigned int k, acked = n, handled = n;

	pthread_mutex_lock(&f->mu);
	f->at_wgate += f->wgate;
	while (f->wgate)
		pthread_cond_wait(&f->cv, &f->mu);
	k = ++f->writes;
	f->misuse += !f->connected;
	if (k < CALLS_MAX && f->brk[k]) {
		acked = f->ack[k] < n ? f->ack[k] : n;
		handled = acked + f->extra[k] < n ? acked + f->extra[k] : n;
	}
	if (f->break_next) {
		f->break_next = false;
		acked = handled = 0;
	}
	for (unsigned int i = 0; i < handled; i++) {
		enum vigil_sink_result r;

		if (contains(recs[i], lens[i], "\"bad\"")) {
			snprintf(why, len, "rejected: fake says bad");
			r = VIGIL_SINK_REJECTED;
		} else if (contains(recs[i], lens[i], "\"dup\"") || held(f, recs[i], lens[i])) {
			r = VIGIL_SINK_DUPLICATE;
		} else if (f->nstore == STORE_MAX) {
			f->misuse++; /* no cmocka assert off the test's thread */
			r = VIGIL_SINK_REJECTED;
		} else {
			f->store[f->nstore++] = strndup(recs[i], lens[i]);
			r = contains(recs[i], lens[i], "\"reorder\"") ? VIGIL_SINK_REORDERED
								      : VIGIL_SINK_WRITTEN;
		}
		if (i < acked)
			res[i] = r;
	}
	if (acked < n)
		snprintf(why, len, "write: fake connection broke");
	pthread_mutex_unlock(&f->mu);
	return acked;
}

static void fake_free(void *be)
{
	struct fake *f = be;

	pthread_mutex_lock(&f->mu);
	f->freed = true;
	pthread_mutex_unlock(&f->mu);
}

static const struct vigil_sink_backend_ops fake_ops = {
    .name = "fake",
    .title = "Fake",
    .connect = fake_connect,
    .disconnect = fake_disconnect,
    .write = fake_write,
    .free = fake_free,
};

struct fix {
	char dir[64];
	char spool[128];
	struct fake f;
};

static int setup(void **state)
{
	struct fix *x = calloc(1, sizeof(*x));

	if (!x)
		return -1;
	snprintf(x->dir, sizeof(x->dir), "/tmp/vigil-sink-XXXXXX");
	if (!mkdtemp(x->dir))
		return -1;
	snprintf(x->spool, sizeof(x->spool), "%s/fake.spool", x->dir);
	pthread_mutex_init(&x->f.mu, NULL);
	pthread_cond_init(&x->f.cv, NULL);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fix *x = *state;
	char cmd[128];

	for (size_t i = 0; i < x->f.nstore; i++)
		free(x->f.store[i]);
	pthread_mutex_destroy(&x->f.mu);
	pthread_cond_destroy(&x->f.cv);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", x->dir);
	free(x);
	return system(cmd) ? -1 : 0;
}

static struct vigil_sink *open_sink(struct fix *x, unsigned int qmax, unsigned int backoff_max)
{
	const struct vigil_sink_opts o = {
	    .spool = x->spool,
	    .queue_max = qmax,
	    .backoff_first_ms = 1,
	    .backoff_max_ms = backoff_max,
	};
	struct vigil_sink *s = NULL;
	char err[256];

	x->f.freed = false;
	assert_int_equal(vigil_sink_open(&o, &fake_ops, &x->f, &s, err, sizeof(err)), 0);
	return s;
}

static void close_sink(struct fix *x, struct vigil_sink *s)
{
	vigil_sink_close(s);
	assert_true(x->f.freed);
	assert_false(x->f.connected);
	assert_int_equal(x->f.misuse, 0);
}

static void set(struct fake *f, bool *field, bool v)
{
	pthread_mutex_lock(&f->mu);
	*field = v;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

/* Whether a connect (wgate: a write) has found its gate shut and waits there. */
static bool at_gate(struct fake *f, bool wgate)
{
	bool ret;

	pthread_mutex_lock(&f->mu);
	ret = (wgate ? f->at_wgate : f->at_gate) > 0;
	pthread_mutex_unlock(&f->mu);
	return ret;
}

static void wait_at_gate(struct fake *f, bool wgate)
{
	for (int i = 0; i < 5000 && !at_gate(f, wgate); i++)
		usleep(1000);
	assert_true(at_gate(f, wgate));
}

static int rec(char *buf, size_t len, unsigned int i, const char *kind)
{
	return snprintf(buf, len, "{\"rid\":\"1-%u\",\"x\":\"%s\"}", i, kind);
}

/* Push records from..from+n-1 of the kind; returns how many were refused. */
static unsigned int push(struct vigil_sink *s, unsigned int from, unsigned int n, const char *kind)
{
	unsigned int refused = 0;
	char buf[128];

	for (unsigned int i = from; i < from + n; i++) {
		int len = rec(buf, sizeof(buf), i, kind);

		refused += vigil_sink_push(s, buf, (size_t)len) == -ENOBUFS;
	}
	return refused;
}

/* The fake holds exactly records 0..n-1 ("ok"), once each, in order. */
static void assert_store(struct fake *f, unsigned int n)
{
	char buf[128];

	pthread_mutex_lock(&f->mu);
	assert_int_equal(f->nstore, n);
	for (unsigned int i = 0; i < n; i++) {
		rec(buf, sizeof(buf), i, "ok");
		assert_string_equal(f->store[i], buf);
	}
	pthread_mutex_unlock(&f->mu);
}

/* Poll the stats until cond holds, at most 5 s. */
#define WAIT_FOR(s, st, cond)                                                                      \
	do {                                                                                       \
		for (int _i = 0; _i < 5000; _i++) {                                                \
			vigil_sink_stats(s, &st);                                                  \
			if (cond)                                                                  \
				break;                                                             \
			usleep(1000);                                                              \
		}                                                                                  \
		vigil_sink_stats(s, &st);                                                          \
		assert_true(cond);                                                                 \
	} while (0)

/* Down: everything goes to the spool. Up again: the spool is replayed first, then what was
 * pushed after, and the backend holds every record once, in the order pushed. */
static void test_order_across_outage(void **state)
{
	struct fix *x = *state;
	struct vigil_sink_stats st;
	struct vigil_sink *s;

	s = open_sink(x, 0, 4);
	assert_int_equal(push(s, 0, 1000, "ok"), 0);
	assert_int_equal(vigil_sink_flush(s, 5000), 0);
	vigil_sink_stats(s, &st);
	assert_int_equal(st.state, VIGIL_SINK_DOWN);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.spool_pending, 1000);
	assert_int_equal(st.spooled, 1000);
	assert_int_equal(st.written, 0);
	assert_string_equal(st.last_error, "connect: fake is down");

	set(&x->f, &x->f.up, true);
	assert_int_equal(push(s, 1000, 500, "ok"), 0);
	WAIT_FOR(s, st, st.written == 1500 && st.spool_pending == 0 && st.queued == 0);
	assert_int_equal(vigil_sink_flush(s, 5000), 0);
	vigil_sink_stats(s, &st);
	assert_int_equal(st.state, VIGIL_SINK_UP);
	assert_int_equal(st.written, 1500);
	assert_int_equal(st.duplicates, 0);
	assert_int_equal(st.reconnects, 0); /* the first connection that worked */
	assert_int_equal(st.queue_drops + st.spool_drops + st.rejected, 0);
	assert_string_equal(st.last_error, "");
	assert_store(&x->f, 1500);
	close_sink(x, s);
}

/*
 * A batch of 100 breaks off after 10 acknowledged (15 held: 5 replies lost). The 90 not
 * acknowledged are spooled, as one frame, behind nothing; its replay breaks off too, after 30
 * (35 held), so the frame is kept and replayed from its start. The backend calls the records
 * it holds already duplicates: every record lands once, in order, and only what was
 * acknowledged is counted.
 *   write 1: 0..9 written (10)                               [10..14 held, unacknowledged]
 *   write 2: 10..14 duplicates (5), 15..39 written (25)      [40..44 held, unacknowledged]
 *   write 3: 10..44 duplicates (35), 45..99 written (55)
 */
static void test_batch_breaks_midway(void **state)
{
	struct fix *x = *state;
	struct vigil_sink_stats st;
	struct vigil_sink *s;

	x->f.up = true;
	x->f.gate = true; /* the thread waits in connect until all 100 are queued */
	x->f.brk[1] = true;
	x->f.ack[1] = 10;
	x->f.extra[1] = 5;
	x->f.brk[2] = true;
	x->f.ack[2] = 30;
	x->f.extra[2] = 5;
	s = open_sink(x, 0, 4);
	assert_int_equal(push(s, 0, 100, "ok"), 0);
	set(&x->f, &x->f.gate, false);
	WAIT_FOR(s, st,
		 st.state == VIGIL_SINK_UP && st.spool_pending == 0 && st.queued == 0 &&
		     st.written + st.duplicates == 130);
	assert_int_equal(vigil_sink_flush(s, 5000), 0);
	vigil_sink_stats(s, &st);
	assert_int_equal(st.written, 90);
	assert_int_equal(st.duplicates, 40);
	assert_int_equal(st.spooled, 90);
	assert_int_equal(st.reconnects, 2);
	assert_int_equal(st.queue_drops + st.spool_drops + st.rejected + st.reordered, 0);
	assert_string_equal(st.last_error, ""); /* cleared by the connection that worked */
	assert_int_equal(x->f.writes, 3);
	assert_int_equal(x->f.disconnects, 2);
	assert_store(&x->f, 100);
	close_sink(x, s);
}

/* What the backend says of each record is what is counted: written, duplicates, reordered
 * (counted as written too), rejected (with the backend's message). */
static void test_results_counted(void **state)
{
	static const char *const kinds[] = {"ok", "dup", "reorder", "bad", "ok"};
	struct fix *x = *state;
	struct vigil_sink_stats st;
	struct vigil_sink *s;

	x->f.up = true;
	s = open_sink(x, 0, 4);
	for (unsigned int i = 0; i < 20; i++)
		assert_int_equal(push(s, i, 1, kinds[i % 5]), 0);
	assert_int_equal(vigil_sink_flush(s, 5000), 0);
	vigil_sink_stats(s, &st);
	assert_int_equal(st.state, VIGIL_SINK_UP);
	assert_int_equal(st.written, 12); /* 8 ok + 4 reordered */
	assert_int_equal(st.reordered, 4);
	assert_int_equal(st.duplicates, 4);
	assert_int_equal(st.rejected, 4);
	assert_int_equal(st.spooled, 0);
	assert_int_equal(st.reconnects, 0);
	assert_string_equal(st.last_error, "rejected: fake says bad");
	pthread_mutex_lock(&x->f.mu);
	assert_int_equal(x->f.nstore, 12);
	for (unsigned int i = 0, k = 0; i < 20; i++) {
		char buf[128];

		if (strcmp(kinds[i % 5], "ok") && strcmp(kinds[i % 5], "reorder"))
			continue;
		rec(buf, sizeof(buf), i, kinds[i % 5]);
		assert_string_equal(x->f.store[k++], buf);
	}
	pthread_mutex_unlock(&x->f.mu);
	close_sink(x, s);
}

/* The thread is held in connect: a queue of 8 takes 8, the other 32 pushes are refused and
 * counted at once, never waited for. Released, the 8 are written. */
static void test_queue_full_never_waits(void **state)
{
	struct fix *x = *state;
	struct vigil_sink_stats st;
	struct timespec t0, t1;
	struct vigil_sink *s;
	unsigned int refused;
	long ms;

	x->f.up = true;
	x->f.gate = true;
	s = open_sink(x, 8, 4);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	refused = push(s, 0, 40, "ok");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	vigil_sink_stats(s, &st);
	assert_int_equal(refused, 32);
	assert_int_equal(st.queue_drops, 32);
	assert_int_equal(st.queued, 8);
	assert_int_equal(st.queue_max, 8);
	assert_true(ms < 1000); /* a wait would be forever: the gate is shut */
	assert_int_equal(vigil_sink_flush(s, 50), -ETIMEDOUT);
	set(&x->f, &x->f.gate, false);
	assert_int_equal(vigil_sink_flush(s, 5000), 0);
	vigil_sink_stats(s, &st);
	assert_int_equal(st.written, 8);
	assert_int_equal(st.queue_drops, 32);
	assert_int_equal(st.spooled, 0);
	assert_store(&x->f, 8);
	close_sink(x, s);
}

/* Closed while down, what is queued goes to the spool, and the next sink replays it. Closed
 * while up, what is queued is written; closed while a write breaks, it is spooled. */
static void test_close_spools_or_writes(void **state)
{
	struct fix *x = *state;
	struct vigil_sink_stats st;
	struct vigil_sink *s;

	s = open_sink(x, 0, 4);
	assert_int_equal(push(s, 0, 100, "ok"), 0);
	close_sink(x, s);
	assert_store(&x->f, 0);

	s = open_sink(x, 0, 4);
	vigil_sink_stats(s, &st);
	assert_int_equal(st.spool_pending, 100);
	set(&x->f, &x->f.up, true);
	WAIT_FOR(s, st, st.written == 100 && st.spool_pending == 0);
	close_sink(x, s);
	assert_store(&x->f, 100);

	/* Held in connect while 50 are queued, then closed at once: written. (A sink closed before
	 * its thread ever tried to connect spools instead.) */
	x->f.gate = true;
	s = open_sink(x, 0, 4);
	assert_int_equal(push(s, 100, 50, "ok"), 0);
	wait_at_gate(&x->f, false);
	set(&x->f, &x->f.gate, false);
	close_sink(x, s);
	assert_store(&x->f, 150);

	/* Up, nothing spooled; the next write breaks, and the sink is closed at once: whether the
	 * thread or the close tried it, the record is spooled. */
	s = open_sink(x, 0, 4);
	WAIT_FOR(s, st, st.state == VIGIL_SINK_UP);
	assert_int_equal(st.spool_pending, 0);
	pthread_mutex_lock(&x->f.mu);
	x->f.break_next = true;
	pthread_mutex_unlock(&x->f.mu);
	assert_int_equal(push(s, 150, 1, "ok"), 0);
	close_sink(x, s);
	assert_store(&x->f, 150);

	x->f.up = false;
	s = open_sink(x, 0, 4);
	vigil_sink_stats(s, &st);
	assert_int_equal(st.spool_pending, 1);
	set(&x->f, &x->f.up, true);
	WAIT_FOR(s, st, st.written == 1 && st.spool_pending == 0);
	close_sink(x, s);
	assert_store(&x->f, 151);
}

/* Opens the fake's write gate 20 ms from now: by then the test's close has set stop. */
static void *open_wgate_later(void *arg)
{
	struct fake *f = arg;

	usleep(20000);
	set(f, &f->wgate, false);
	return NULL;
}

/* Up, the thread inside a write while 49 more records are queued, and closed: the close
 * writes those 49 (the stop path), it does not spool them. */
static void test_close_writes_when_up(void **state)
{
	struct fix *x = *state;
	struct vigil_sink_stats st;
	struct vigil_sink *s;
	pthread_t t;

	x->f.up = true;
	x->f.wgate = true;
	s = open_sink(x, 0, 4);
	assert_int_equal(push(s, 0, 1, "ok"), 0);
	wait_at_gate(&x->f, true);
	assert_int_equal(push(s, 1, 49, "ok"), 0);
	assert_int_equal(pthread_create(&t, NULL, open_wgate_later, &x->f), 0);
	close_sink(x, s);
	pthread_join(t, NULL);
	assert_store(&x->f, 50);
	x->f.up = false;
	s = open_sink(x, 0, 4);
	vigil_sink_stats(s, &st);
	assert_int_equal(st.spool_pending, 0);
	assert_int_equal(st.spool_bytes, 16); /* the header alone */
	close_sink(x, s);
}

/*
 * The queue grows on demand (its first capacity is 256 records) up to queue_max, whatever
 * place of its ring it has reached: the thread holds record 0 in a write while 1000 more are
 * pushed into a sink of queue_max 1000, the first of them behind where record 0 was taken
 * from. All 1000 are queued, the next one refused; then all 1001 are written once, in order.
 * Emptied, the queue takes a second burst as well.
 */
static void test_queue_grows(void **state)
{
	struct fix *x = *state;
	struct vigil_sink_stats st;
	struct vigil_sink *s;

	x->f.up = true;
	x->f.wgate = true;
	s = open_sink(x, 1000, 4);
	assert_int_equal(push(s, 0, 1, "ok"), 0);
	wait_at_gate(&x->f, true);
	assert_int_equal(push(s, 1, 1000, "ok"), 0);
	assert_int_equal(push(s, 1001, 1, "ok"), 1);
	vigil_sink_stats(s, &st);
	assert_int_equal(st.queued, 1001);
	assert_int_equal(st.queue_drops, 1);
	set(&x->f, &x->f.wgate, false);
	assert_int_equal(vigil_sink_flush(s, 5000), 0);
	assert_store(&x->f, 1001);
	assert_int_equal(push(s, 1001, 700, "ok"), 0);
	assert_int_equal(vigil_sink_flush(s, 5000), 0);
	vigil_sink_stats(s, &st);
	assert_int_equal(st.written, 1701);
	assert_int_equal(st.queue_drops, 1);
	assert_store(&x->f, 1701);
	close_sink(x, s);
}

/*
 * The backoff: from the first delay, doubling to the cap, with each failure in a row; a
 * connection that works does not reset it (the write after it is refused), a write that works
 * does. Each connect attempt reads the delay set by the failure before it:
 *   connect 1..4 fail                  0, 1, 2, 4
 *   connect 5 works, its write breaks  8
 *   connect 6 fails                    16
 *   connect 7 works, its write works   16 (the cap: not 32)
 *   a later write breaks               -> 1
 *   connect 8 works                    1
 */
static void test_backoff(void **state)
{
	static const uint64_t want[] = {0, 1, 2, 4, 8, 16, 16, 1};
	struct fix *x = *state;
	struct vigil_sink_stats st;
	struct vigil_sink *s;

	x->f.up = true;
	x->f.gate = true;
	x->f.fail_connects = 0x2f; /* connects 1, 2, 3, 4 and 6 */
	x->f.brk[1] = true;	   /* the first write: nothing acknowledged */
	s = open_sink(x, 0, 16);
	x->f.sink = s;
	assert_int_equal(push(s, 0, 1, "ok"), 0);
	set(&x->f, &x->f.gate, false);
	WAIT_FOR(s, st, st.written == 1 && st.spool_pending == 0);
	assert_int_equal(st.backoff_ms, 0);
	assert_int_equal(x->f.connects, 7);

	pthread_mutex_lock(&x->f.mu);
	x->f.brk[3] = true; /* the next write */
	pthread_mutex_unlock(&x->f.mu);
	assert_int_equal(push(s, 1, 1, "ok"), 0);
	WAIT_FOR(s, st, st.written == 2 && st.spool_pending == 0);
	assert_int_equal(st.backoff_ms, 0);
	assert_int_equal(st.reconnects, 2); /* connects 7 and 8 */
	assert_int_equal(x->f.connects, 8);
	assert_int_equal(x->f.writes, 4);
	for (unsigned int i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		printf("connect %u: backoff %llu ms (want %llu)\n", i + 1,
		       (unsigned long long)x->f.seen_backoff[i], (unsigned long long)want[i]);
		assert_int_equal(x->f.seen_backoff[i], want[i]);
	}
	assert_store(&x->f, 2);
	close_sink(x, s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_order_across_outage, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_batch_breaks_midway, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_results_counted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queue_full_never_waits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queue_grows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_spools_or_writes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_writes_when_up, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_backoff, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
