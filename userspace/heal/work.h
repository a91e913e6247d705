/* SPDX-License-Identifier: Apache-2.0 */
/*
 * work: one piece of blocking work run on a thread of its own, off the event loop, its end
 * handed back to the loop — for the actions whose steps block (a Redis or HTTP round trip).
 * The work must bound its own time (its connections' timeouts): whoever stops it waits for it.
 */
#ifndef VIGIL_HEAL_WORK_H
#define VIGIL_HEAL_WORK_H

#include "core/loop.h"

struct vigil_work;

/*
 * Run fn(arg) on a new thread (every signal blocked: they are the loop's). When fn returns,
 * done(done_arg) is called on the loop's thread, after the thread is joined and the work freed.
 * Returns 0 and *out (valid until done runs, or vigil_work_wait), or -errno.
 */
int vigil_work_start(struct vigil_loop *loop, void (*fn)(void *arg), void *arg,
		     void (*done)(void *done_arg), void *done_arg, struct vigil_work **out);

/* Wait for fn to return and free the work without calling done (vigil stops). Accepts NULL. */
void vigil_work_wait(struct vigil_work *w);

#endif /* VIGIL_HEAL_WORK_H */
