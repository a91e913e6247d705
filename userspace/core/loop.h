/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loop: the daemon's one event loop. epoll over file descriptors, plus one-shot timers on a
 * single timerfd. Everything runs on the calling thread; callbacks must not block.
 */
#ifndef VIGIL_LOOP_H
#define VIGIL_LOOP_H

#include <stdint.h>

struct vigil_loop;

/* Called with the epoll events that fired on fd. */
typedef void (*vigil_fd_fn)(struct vigil_loop *loop, int fd, uint32_t events, void *arg);
/* Called once when a timer is due. */
typedef void (*vigil_timer_fn)(struct vigil_loop *loop, void *arg);

/* Returns 0 and *out, or -errno. */
int vigil_loop_new(struct vigil_loop **out);
/* Frees the loop; does not close the fds registered with it. Accepts NULL. */
void vigil_loop_free(struct vigil_loop *loop);

/* Watch fd for events (EPOLLIN...). Returns 0 or -errno. */
int vigil_loop_add_fd(struct vigil_loop *loop, int fd, uint32_t events, vigil_fd_fn fn, void *arg);
/* Stop watching fd. Returns 0 or -errno (-ENOENT if it was not watched). */
int vigil_loop_del_fd(struct vigil_loop *loop, int fd);

/* Call fn(arg) once, delay_ms from now. Returns a timer id (> 0) or -errno. */
int64_t vigil_loop_timer(struct vigil_loop *loop, uint64_t delay_ms, vigil_timer_fn fn, void *arg);
/* Cancel a pending timer; a no-op when it has fired or never existed. */
void vigil_loop_cancel(struct vigil_loop *loop, int64_t id);

/* Run until vigil_loop_stop(). Returns 0, or -errno if epoll itself failed. */
int vigil_loop_run(struct vigil_loop *loop);
void vigil_loop_stop(struct vigil_loop *loop);

/* CLOCK_MONOTONIC in ns: the clock of the kernel's bpf_ktime_get_ns(). */
uint64_t vigil_mono_ns(void);
/* CLOCK_REALTIME in ns. */
uint64_t vigil_wall_ns(void);

#endif /* VIGIL_LOOP_H */
