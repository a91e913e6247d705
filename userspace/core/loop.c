// SPDX-License-Identifier: Apache-2.0
/*
 * loop: epoll, and one timerfd armed for the earliest of the armed timers. Timers are few
 * (pending heals, verify windows, control connections, the periodic ticks), so they are kept
 * in a list sorted by due time; a new one is placed from the tail, where most land.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "core/json.h"
#include "core/loop.h"

#define MAX_EVENTS 32

struct fd_watch {
	int fd;
	vigil_fd_fn fn;
	void *arg;
	struct fd_watch *next;
};

struct vigil_loop {
	const struct vigil_clock *clock;
	int sigfd; /* vigil_loop_signals(), or -1 */
	vigil_signal_fn sig_fn;
	void *sig_arg;
	bool host_clock; /* the timerfd runs on the host's monotonic clock: only then is it armed */
	int epfd;
	int tfd;
	bool stop;
	bool tfd_failed; /* the last arm failed: epoll_wait's timeout stands in */
	struct fd_watch *watches;
	struct vigil_timer *head, *tail; /* armed timers, earliest first */
	struct vigil_loop_stats st;
};

const struct vigil_clock *vigil_loop_clock(const struct vigil_loop *loop)
{
	return loop->clock;
}

uint64_t vigil_loop_now(const struct vigil_loop *loop)
{
	return vigil_clock_mono(loop->clock);
}

uint64_t vigil_loop_wall(const struct vigil_loop *loop)
{
	return vigil_clock_wall(loop->clock);
}

void vigil_loop_stats(const struct vigil_loop *loop, struct vigil_loop_stats *st)
{
	*st = loop->st;
}

/* Arm the timerfd for the earliest timer, or disarm it. A failure is counted; the loop's
 * epoll timeout then stands in for the timerfd until an arm works again. */
static void arm(struct vigil_loop *loop)
{
	struct itimerspec its = {};

	if (!loop->host_clock)
		return;
	if (loop->head) {
		uint64_t due = loop->head->due_ns;

		its.it_value.tv_sec = due / 1000000000ull;
		its.it_value.tv_nsec = due % 1000000000ull;
		/* An all-zero it_value disarms: a deadline at 0 must still fire. */
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	}
	if (timerfd_settime(loop->tfd, TFD_TIMER_ABSTIME, &its, NULL)) {
		loop->st.timerfd_errors++;
		loop->tfd_failed = true;
		return;
	}
	loop->tfd_failed = false;
}

static void unlink_timer(struct vigil_loop *loop, struct vigil_timer *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		loop->head = t->next;
	if (t->next)
		t->next->prev = t->prev;
	else
		loop->tail = t->prev;
	t->prev = t->next = NULL;
	t->armed = false;
}

void vigil_timer_init(struct vigil_timer *t, vigil_timer_fn fn, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->fn = fn;
	t->arg = arg;
}

void vigil_timer_cancel(struct vigil_loop *loop, struct vigil_timer *t)
{
	bool first;

	if (!t->armed)
		return;
	first = loop->head == t;
	unlink_timer(loop, t);
	if (first)
		arm(loop);
}

void vigil_timer_arm(struct vigil_loop *loop, struct vigil_timer *t, uint64_t delay_ms)
{
	struct vigil_timer *at;

	vigil_timer_cancel(loop, t);
	t->due_ns = vigil_loop_now(loop) + delay_ms * 1000000ull;
	/* After every timer due at the same time or earlier: equal deadlines fire in order. */
	for (at = loop->tail; at && at->due_ns > t->due_ns; at = at->prev)
		;
	t->prev = at;
	t->next = at ? at->next : loop->head;
	if (t->next)
		t->next->prev = t;
	else
		loop->tail = t;
	if (at)
		at->next = t;
	else
		loop->head = t;
	t->armed = true;
	if (loop->head == t)
		arm(loop);
}

/* Run every timer due by the loop's clock. A callback may arm or cancel timers (itself
 * included): the head is taken afresh each time. */
static void fire_due(struct vigil_loop *loop)
{
	uint64_t now = vigil_loop_now(loop);
	struct vigil_timer *t;

	while ((t = loop->head) && t->due_ns <= now && !loop->stop) {
		unlink_timer(loop, t);
		loop->st.timers_fired++;
		t->fn(loop, t->arg);
	}
	arm(loop);
}

static void on_timerfd(struct vigil_loop *loop, int fd, uint32_t events, void *arg)
{
	uint64_t expirations;

	(void)events;
	(void)arg;
	if (read(fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		return;
	fire_due(loop);
}

int vigil_loop_new(const struct vigil_clock *clock, struct vigil_loop **out)
{
	struct vigil_loop *loop;
	int err;

	loop = calloc(1, sizeof(*loop));
	if (!loop)
		return -ENOMEM;
	loop->clock = clock ? clock : &vigil_clock_host;
	loop->host_clock = loop->clock == &vigil_clock_host;
	loop->tfd = -1;
	loop->sigfd = -1;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		err = -errno;
		goto fail;
	}
	loop->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (loop->tfd < 0) {
		err = -errno;
		goto fail;
	}
	err = vigil_loop_add_fd(loop, loop->tfd, EPOLLIN, on_timerfd, NULL);
	if (err)
		goto fail;
	*out = loop;
	return 0;
fail:
	vigil_loop_free(loop);
	return err;
}

void vigil_loop_free(struct vigil_loop *loop)
{
	struct fd_watch *w, *next;

	if (!loop)
		return;
	for (w = loop->watches; w; w = next) {
		next = w->next;
		free(w);
	}
	/* Timers belong to their owners: only forget them. */
	while (loop->head)
		unlink_timer(loop, loop->head);
	if (loop->tfd >= 0)
		close(loop->tfd);
	if (loop->sigfd >= 0)
		close(loop->sigfd);
	if (loop->epfd >= 0)
		close(loop->epfd);
	free(loop);
}

int vigil_loop_add_fd(struct vigil_loop *loop, int fd, uint32_t events, vigil_fd_fn fn, void *arg)
{
	struct epoll_event ev = {.events = events};
	struct fd_watch *w;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = fd;
	w->fn = fn;
	w->arg = arg;
	ev.data.ptr = w;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		int err = -errno;

		free(w);
		return err;
	}
	w->next = loop->watches;
	loop->watches = w;
	return 0;
}

int vigil_loop_del_fd(struct vigil_loop *loop, int fd)
{
	struct fd_watch **pp, *w;

	for (pp = &loop->watches; (w = *pp); pp = &w->next) {
		if (w->fd != fd)
			continue;
		epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
		*pp = w->next;
		/* Freed now: run_once() checks each ready watch against the list before calling
		 * it, so one removed earlier in the same batch is skipped. */
		free(w);
		return 0;
	}
	return -ENOENT;
}

static void on_signalfd(struct vigil_loop *loop, int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si;

	(void)events;
	(void)arg;
	while (read(fd, &si, sizeof(si)) == sizeof(si))
		loop->sig_fn(loop, (int)si.ssi_signo, loop->sig_arg);
}

int vigil_loop_signals(struct vigil_loop *loop, const int *signals, size_t n, vigil_signal_fn fn,
		       void *arg)
{
	sigset_t set;
	int err;

	if (loop->sigfd >= 0)
		return -EBUSY;
	sigemptyset(&set);
	for (size_t i = 0; i < n; i++)
		sigaddset(&set, signals[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	loop->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (loop->sigfd < 0)
		return -errno;
	loop->sig_fn = fn;
	loop->sig_arg = arg;
	err = vigil_loop_add_fd(loop, loop->sigfd, EPOLLIN, on_signalfd, NULL);
	if (err) {
		close(loop->sigfd);
		loop->sigfd = -1;
	}
	return err;
}

/* Is w still registered? A callback earlier in the same batch may have removed it. */
static bool registered(struct vigil_loop *loop, struct fd_watch *w)
{
	struct fd_watch *it;

	for (it = loop->watches; it; it = it->next)
		if (it == w)
			return true;
	return false;
}

/* How long epoll may wait: what the caller allows, but not past what is due. With the host's
 * clock the timerfd wakes the loop, unless arming it failed: then the first due time bounds
 * the wait. A manual clock does not move while the loop waits: only what is already due
 * shortens the wait (to nothing). */
static int wait_ms(const struct vigil_loop *loop, int timeout_ms)
{
	uint64_t now, left;

	if (!loop->head || (loop->host_clock && !loop->tfd_failed))
		return timeout_ms;
	now = vigil_loop_now(loop);
	left = loop->head->due_ns > now ? (loop->head->due_ns - now + 999999) / 1000000 : 0;
	if (!loop->host_clock && left)
		return timeout_ms;
	if (timeout_ms >= 0 && (uint64_t)timeout_ms < left)
		return timeout_ms;
	return left > 60000 ? 60000 : (int)left;
}

int vigil_loop_run_once(struct vigil_loop *loop, int timeout_ms)
{
	struct epoll_event evs[MAX_EVENTS];
	int i, n;

	n = epoll_wait(loop->epfd, evs, MAX_EVENTS, wait_ms(loop, timeout_ms));
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n && !loop->stop; i++) {
		struct fd_watch *w = evs[i].data.ptr;

		if (registered(loop, w))
			w->fn(loop, w->fd, evs[i].events, w->arg);
	}
	/* The timerfd's own callback fires what is due; this catches the rest (a manual clock,
	 * a failed timerfd) and costs one comparison otherwise. */
	if (loop->head && loop->head->due_ns <= vigil_loop_now(loop))
		fire_due(loop);
	return 0;
}

int vigil_loop_run(struct vigil_loop *loop)
{
	int err = 0;

	loop->stop = false;
	while (!loop->stop && !err)
		err = vigil_loop_run_once(loop, -1);
	return err;
}

void vigil_loop_stop(struct vigil_loop *loop)
{
	loop->stop = true;
}

void vigil_loop_status_json(const struct vigil_loop *loop, struct vigil_json *j)
{
	vigil_json_object_begin(j, "loop");
	vigil_json_u64(j, "timers_fired", loop->st.timers_fired);
	vigil_json_u64(j, "timerfd_errors", loop->st.timerfd_errors);
	vigil_json_object_end(j);
}
