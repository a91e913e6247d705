/* SPDX-License-Identifier: Apache-2.0 */
/*
 * redis_step: what the Redis action kinds (cache_clear, set_flag, publish) share on their work
 * thread (vigil_action_work): a connection to the action's Redis opened when first needed and
 * kept between the run's steps, each command's failure said in words, the clock of a step, and
 * a value shown safely in an audit record.
 *
 * A step's connection is touched by the work thread while the step runs and by the loop only
 * between steps (vigil waits for the work before cancel() and before the run is freed), so it
 * needs no lock.
 */
#ifndef VIGIL_HEAL_REDIS_STEP_H
#define VIGIL_HEAL_REDIS_STEP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#define VIGIL_REDIS_STEP_TIMEOUT_MS 2000 /* the connect and each reply */

struct vigil_redis_step {
	redisContext *c; /* NULL until the first command, and after a broken connection */
	char err[256];	 /* why the last call failed: "connect ...", "UNLINK: NOPERM ..." */
};

/* Connect to url if not connected. Returns 0, or -EIO with s->err. */
int vigil_redis_step_open(struct vigil_redis_step *s, const char *url);

/*
 * One command (argv with lens; lens NULL: C strings) on the connection, opened if need be.
 * Returns its reply (freeReplyObject it), or NULL with s->err: "CMD: why" for an error reply,
 * the connection's error for a broken connection (which is then closed, to be opened again by
 * the next command).
 */
redisReply *vigil_redis_step_cmd(struct vigil_redis_step *s, int argc, const char **argv,
				 const size_t *lens);

/* Close the connection if open (NULL-safe s->c). */
void vigil_redis_step_close(struct vigil_redis_step *s);

struct vigil_action_run;

/*
 * Run the run's next step, fn(arg), on its work thread (vigil_action_work): its end comes to
 * progress(WORK_DONE). If it cannot start, the run ends here, failed and not learnt (vigil
 * failed, not the action), s closed. Returns 0, or -errno when the run has ended (and is
 * freed: not to be touched).
 */
int vigil_redis_step_go(struct vigil_action_run *run, struct vigil_redis_step *s,
			void (*fn)(void *arg), void *arg);

/* The end of the run: s closed, then vigil_action_done(run, ok, known, the detail, 0). The
 * run is freed after. */
__attribute__((format(printf, 5, 6))) void vigil_redis_step_done(struct vigil_action_run *run,
								 struct vigil_redis_step *s,
								 bool ok, bool known,
								 const char *fmt, ...);
__attribute__((format(printf, 5, 0))) void vigil_redis_step_vdone(struct vigil_action_run *run,
								  struct vigil_redis_step *s,
								  bool ok, bool known,
								  const char *fmt, va_list ap);

/* CLOCK_MONOTONIC now, in ns: a step times itself. */
uint64_t vigil_redis_step_now_ns(void);

/*
 * The value s (n bytes, binary) for an audit record: quoted, bytes outside printable ASCII
 * and quotes as \xHH, cut at max bytes of the value with "..." after. NULL: "(none)". Returns
 * buf.
 */
const char *vigil_redis_step_show(const char *s, size_t n, size_t max, char *buf, size_t len);

#endif /* VIGIL_HEAL_REDIS_STEP_H */
