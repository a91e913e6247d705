// SPDX-License-Identifier: Apache-2.0
/*
 * work: blocking work on a thread of its own, its end handed to the loop through an eventfd
 * (see work.h).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "heal/work.h"

struct vigil_work {
	struct vigil_loop *loop;
	pthread_t thread;
	int efd;
	void (*fn)(void *arg);
	void *arg;
	void (*done)(void *done_arg);
	void *done_arg;
};

static void *work_main(void *p)
{
	struct vigil_work *w = p;
	uint64_t one = 1;

	w->fn(w->arg);
	/* An eventfd write of 1 cannot fail here (the counter is far from its maximum). */
	(void)!write(w->efd, &one, sizeof(one));
	return NULL;
}

static void finish(struct vigil_work *w)
{
	pthread_join(w->thread, NULL);
	vigil_loop_del_fd(w->loop, w->efd);
	close(w->efd);
	free(w);
}

/* The thread wrote its eventfd: fn has returned. */
static void on_done(struct vigil_loop *loop, int fd, uint32_t events, void *arg)
{
	struct vigil_work *w = arg;
	void (*done)(void *) = w->done;
	void *done_arg = w->done_arg;
	uint64_t n;

	(void)loop;
	(void)events;
	if (read(fd, &n, sizeof(n)) < 0 && errno == EAGAIN)
		return; /* not yet */
	finish(w);
	done(done_arg);
}

int vigil_work_start(struct vigil_loop *loop, void (*fn)(void *arg), void *arg,
		     void (*done)(void *done_arg), void *done_arg, struct vigil_work **out)
{
	struct vigil_work *w = calloc(1, sizeof(*w));
	sigset_t all, old;
	int ret;

	if (!w)
		return -ENOMEM;
	*w = (struct vigil_work){
	    .loop = loop, .fn = fn, .arg = arg, .done = done, .done_arg = done_arg};
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0) {
		ret = -errno;
		free(w);
		return ret;
	}
	ret = vigil_loop_add_fd(loop, w->efd, EPOLLIN, on_done, w);
	if (ret) {
		close(w->efd);
		free(w);
		return ret;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ret = -pthread_create(&w->thread, NULL, work_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		vigil_loop_del_fd(loop, w->efd);
		close(w->efd);
		free(w);
		return ret;
	}
	*out = w;
	return 0;
}

void vigil_work_wait(struct vigil_work *w)
{
	if (w)
		finish(w);
}
