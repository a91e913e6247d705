/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loop: the daemon's one event loop. epoll over file descriptors, and timers on one timerfd.
 * Everything runs on the calling thread; callbacks must not block.
 *
 * Timers are embedded in their owner (struct vigil_timer, as the kernel's timer_list): arming
 * one allocates nothing and cannot fail, so a periodic tick that re-arms itself from its own
 * callback can never stop for want of memory. If the timerfd itself cannot be armed, the loop
 * counts it and falls back to epoll's timeout: timers still fire.
 *
 * The loop reads time from a clock (core/clock.h): the host's, or a manual one that a test
 * moves, firing what falls due with vigil_loop_run_once().
 */
#ifndef VIGIL_CORE_LOOP_H
#define VIGIL_CORE_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"

struct vigil_loop;

/* Called with the epoll events that fired on fd. */
typedef void (*vigil_fd_fn)(struct vigil_loop *loop, int fd, uint32_t events, void *arg);
/* Called once when a timer is due (it is no longer armed then, and may be armed again). */
typedef void (*vigil_timer_fn)(struct vigil_loop *loop, void *arg);
/* Called with each signal delivered (vigil_loop_signals). */
typedef void (*vigil_signal_fn)(struct vigil_loop *loop, int signo, void *arg);

/* A timer, embedded in what it belongs to. Set up with vigil_timer_init() before use; a
 * zeroed timer that was never armed may be cancelled. */
struct vigil_timer {
	uint64_t due_ns; /* on the loop's monotonic clock */
	vigil_timer_fn fn;
	void *arg;
	struct vigil_timer *prev, *next; /* in the loop's list, by due time, while armed */
	bool armed;
};

struct vigil_loop_stats {
	uint64_t timers_fired;
	uint64_t timerfd_errors; /* the timerfd could not be armed: epoll's timeout stood in */
};

/* clock: NULL for the host's. The clock must outlive the loop. Returns 0 and *out, or -errno. */
int vigil_loop_new(const struct vigil_clock *clock, struct vigil_loop **out);
/* Frees the loop; does not close the fds registered with it. Accepts NULL. */
void vigil_loop_free(struct vigil_loop *loop);

/* Watch fd for events (EPOLLIN...). Returns 0 or -errno. */
int vigil_loop_add_fd(struct vigil_loop *loop, int fd, uint32_t events, vigil_fd_fn fn, void *arg);
/* Stop watching fd. Returns 0 or -errno (-ENOENT if it was not watched). */
int vigil_loop_del_fd(struct vigil_loop *loop, int fd);
/* Take these n signals on the loop: they are blocked for the thread (so that the threads it
 * starts later inherit the mask) and read through a signalfd the loop owns; fn runs for each.
 * Once per loop. Returns 0 or -errno. */
int vigil_loop_signals(struct vigil_loop *loop, const int *signals, size_t n, vigil_signal_fn fn,
		       void *arg);

void vigil_timer_init(struct vigil_timer *t, vigil_timer_fn fn, void *arg);
/* (Re-)arm t to fire delay_ms from now. Never fails. */
void vigil_timer_arm(struct vigil_loop *loop, struct vigil_timer *t, uint64_t delay_ms);
/* Disarm t; a no-op when it is not armed. */
void vigil_timer_cancel(struct vigil_loop *loop, struct vigil_timer *t);
static inline bool vigil_timer_pending(const struct vigil_timer *t)
{
	return t->armed;
}

/* Run until vigil_loop_stop(). Returns 0, or -errno if epoll itself failed. */
int vigil_loop_run(struct vigil_loop *loop);
/*
 * One round: wait at most timeout_ms (-1: until something happens) for an fd or a timer, run
 * the callbacks of what is ready, then every timer due by the loop's clock. With a manual clock
 * nothing waits on a timer: move the clock, then call this. Returns 0 or -errno.
 */
int vigil_loop_run_once(struct vigil_loop *loop, int timeout_ms);
void vigil_loop_stop(struct vigil_loop *loop);

/* The loop's clock, and its readings. */
const struct vigil_clock *vigil_loop_clock(const struct vigil_loop *loop);
uint64_t vigil_loop_now(const struct vigil_loop *loop);	 /* monotonic ns */
uint64_t vigil_loop_wall(const struct vigil_loop *loop); /* wall-clock ns */
void vigil_loop_stats(const struct vigil_loop *loop, struct vigil_loop_stats *st);
/* "loop": its timer counters, into j (inside an object). */
struct vigil_json;
void vigil_loop_status_json(const struct vigil_loop *loop, struct vigil_json *j);

#endif /* VIGIL_CORE_LOOP_H */
