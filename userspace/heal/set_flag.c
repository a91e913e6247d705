// SPDX-License-Identifier: Apache-2.0
/*
 * set_flag: the action kind `set_flag` (set_flag.h), behind the action interface (action.h).
 * Its blocking steps run on the run's work thread (vigil_action_work), on one connection to
 * the action's Redis:
 *
 *   set       GET key (the old value; a key of another type fails here, before any write),
 *             PTTL key when it had one and will be put back, SET key value [PX ttl], GET key
 *   success   without revert_after: the value read back is the value set; the record says
 *             the old value and the new ("(none)": there was none)
 *   set       with revert_after: the same, as a step; the incident goes verifying and the run
 *             stays open until then — a run holds no timer after its end, and the revert is
 *             part of the heal's record
 *   revert    at revert_after: GET key; if it still holds the value set, SET it back to the
 *             old value (with what was left of its expiry) or DEL it (there was none); else
 *             it is left as it is (the application or the ttl changed it since): said
 *   success   after the revert (or the reason there was none), in one detail: set + reverted
 *   failed    a value read back that is not the one set (learnt); Redis not reached, a
 *             command refused, the revert failing (not learnt)
 *
 * The read of the old value and the SET are two commands (SET ... GET needs Redis 6.2): a
 * write between them by someone else is overwritten, and the revert puts back what was read.
 * The revert's GET and SET are two commands too. vigil stopping before revert_after leaves the
 * flag set (cancel() does not act): give it a ttl when it must not outlive vigil.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heal/redis_step.h"
#include "heal/set_flag.h"

#define SHOW_MAX 64 /* bytes of a value shown in a record */

enum step { S_SET, S_REVERT };

/* A value read from Redis: absent, or its bytes (a copy). */
struct value {
	bool set;
	char *s;
	size_t len;
};

/* What the work thread reads and writes: nothing else of the run. */
struct flag_work {
	const struct vigil_set_flag_params *p; /* the config's: read only */
	struct vigil_redis_step rs;
	enum step step;
	int err;	    /* of the last step: 0, or -EIO with rs.err */
	struct value old;   /* set: the value before */
	long long old_pttl; /* ... its expiry in ms (-1: none) */
	bool written;	    /* set: the SET succeeded */
	struct value now;   /* set: read back; revert: found */
	bool reverted;	    /* revert: the old value is back (or the key deleted) */
	uint64_t set_ns;    /* how long the set step took */
};

struct flag_run {
	struct vigil_action_run run; /* first: what the healer allocates and fills */
	struct flag_work w;
	bool waiting; /* the value is set: the revert is due at the run's timer */
};

static const struct vigil_set_flag_params *params(const struct vigil_action_run *run)
{
	return run->action->params;
}

static void value_clear(struct value *v)
{
	free(v->s);
	*v = (struct value){0};
}

/* --- the work thread --------------------------------------------------------------------- */

/* GET key into v. Returns 0 or -EIO (w->rs.err). */
static int get(struct flag_work *w, struct value *v)
{
	const char *argv[] = {"GET", w->p->key};
	redisReply *r = vigil_redis_step_cmd(&w->rs, 2, argv, NULL);
	int ret = 0;

	value_clear(v);
	if (!r)
		return -EIO;
	if (r->type == REDIS_REPLY_STRING) {
		v->s = malloc(r->len + 1);
		if (v->s) {
			memcpy(v->s, r->str, r->len + 1);
			v->len = r->len;
			v->set = true;
		} else {
			snprintf(w->rs.err, sizeof(w->rs.err), "GET: out of memory");
			ret = -EIO;
		}
	} else if (r->type != REDIS_REPLY_NIL) {
		snprintf(w->rs.err, sizeof(w->rs.err), "GET: unexpected reply");
		ret = -EIO;
	}
	freeReplyObject(r);
	return ret;
}

/* A command whose reply is only checked for an error. Returns 0 or -EIO. */
static int run_cmd(struct flag_work *w, int argc, const char **argv, const size_t *lens,
		   long long *integer)
{
	redisReply *r = vigil_redis_step_cmd(&w->rs, argc, argv, lens);

	if (!r)
		return -EIO;
	if (integer)
		*integer = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
	freeReplyObject(r);
	return 0;
}

/* SET key to bytes s (len), with PX ms when ms > 0. Returns 0 or -EIO. */
static int set(struct flag_work *w, const char *s, size_t len, long long ms)
{
	const char *argv[5] = {"SET", w->p->key, s, "PX", NULL};
	size_t lens[5] = {3, strlen(w->p->key), len, 2, 0};
	char px[24];

	snprintf(px, sizeof(px), "%lld", ms);
	argv[4] = px;
	lens[4] = strlen(px);
	return run_cmd(w, ms > 0 ? 5 : 3, argv, lens, NULL);
}

/* Is v the value the action sets? */
static bool is_ours(const struct flag_work *w, const struct value *v)
{
	return v->set && v->len == strlen(w->p->value) && !memcmp(v->s, w->p->value, v->len);
}

static int set_step(struct flag_work *w)
{
	const char *pttl[] = {"PTTL", w->p->key};
	int ret;

	ret = get(w, &w->old);
	w->old_pttl = -1;
	if (!ret && w->old.set && w->p->revert_after_ms)
		ret = run_cmd(w, 2, pttl, NULL, &w->old_pttl);
	if (!ret)
		ret = set(w, w->p->value, strlen(w->p->value), (long long)w->p->ttl_ms);
	w->written = !ret;
	return ret ? ret : get(w, &w->now);
}

static int revert_step(struct flag_work *w)
{
	const char *del[] = {"DEL", w->p->key};
	int ret = get(w, &w->now);

	if (ret || !is_ours(w, &w->now))
		return ret;
	ret =
	    w->old.set ? set(w, w->old.s, w->old.len, w->old_pttl) : run_cmd(w, 2, del, NULL, NULL);
	w->reverted = !ret;
	return ret;
}

static void flag_work(void *arg)
{
	struct flag_work *w = arg;
	uint64_t t0 = vigil_redis_step_now_ns();

	w->err = vigil_redis_step_open(&w->rs, w->p->url);
	if (!w->err)
		w->err = w->step == S_SET ? set_step(w) : revert_step(w);
	if (w->step == S_SET)
		w->set_ns = vigil_redis_step_now_ns() - t0;
}

/* --- the loop ----------------------------------------------------------------------------- */

/* Let go of the connection and the values. */
static void release(struct flag_run *r)
{
	vigil_redis_step_close(&r->w.rs);
	value_clear(&r->w.old);
	value_clear(&r->w.now);
}

/* The end: what the run holds released, the run ended (and freed). */
__attribute__((format(printf, 4, 5))) static void finish(struct flag_run *r, bool ok, bool known,
							 const char *f, ...)
{
	va_list ap;

	value_clear(&r->w.old);
	value_clear(&r->w.now);
	va_start(ap, f);
	vigil_redis_step_vdone(&r->run, &r->w.rs, ok, known, f, ap);
	va_end(ap);
}

/* Run the step at hand off the loop; its end comes to progress(WORK_DONE). */
static void go(struct flag_run *r, enum step s)
{
	int err;

	r->w.step = s;
	err = vigil_action_work(&r->run, flag_work, &r->w);
	if (err) /* the values held go too: not vigil_redis_step_go() */
		finish(r, false, false, "could not start its work: %s", strerror(-err));
}

/* "KEY set to 'v' (was 'old') in 1.2 ms", into buf. */
static const char *what_was_set(struct flag_run *r, char *buf, size_t len)
{
	const struct vigil_set_flag_params *p = params(&r->run);
	char old[SHOW_MAX * 4 + 8], val[SHOW_MAX * 4 + 8], ttl[48] = "";

	if (p->ttl_ms)
		snprintf(ttl, sizeof(ttl), ", expiring in %" PRIu64 " ms", p->ttl_ms);
	snprintf(buf, len, "%s set to %s (was %s)%s in %" PRIu64 ".%" PRIu64 " ms", p->key,
		 vigil_redis_step_show(p->value, strlen(p->value), SHOW_MAX, val, sizeof(val)),
		 vigil_redis_step_show(r->w.old.set ? r->w.old.s : NULL, r->w.old.len, SHOW_MAX,
				       old, sizeof(old)),
		 ttl, r->w.set_ns / 1000000, r->w.set_ns / 100000 % 10);
	return buf;
}

/* The set step is over: verified (the end, or the wait for the revert). */
static void was_set(struct flag_run *r)
{
	const struct vigil_set_flag_params *p = params(&r->run);
	char what[384], got[SHOW_MAX * 4 + 8], detail[512];

	if (r->w.err && !r->w.written) {
		finish(r, false, false, "%s not set: %s", p->key, r->w.rs.err);
		return;
	}
	what_was_set(r, what, sizeof(what));
	if (r->w.err) {
		finish(r, false, false, "%s, but not read back: %s", what, r->w.rs.err);
		return;
	}
	if (!is_ours(&r->w, &r->w.now)) {
		finish(r, false, true, "%s, but read back %s", what,
		       vigil_redis_step_show(r->w.now.set ? r->w.now.s : NULL, r->w.now.len,
					     SHOW_MAX, got, sizeof(got)));
		return;
	}
	if (!p->revert_after_ms) {
		finish(r, true, true, "%s; read back", what);
		return;
	}
	snprintf(detail, sizeof(detail), "%s; read back; put back in %" PRIu64 " ms", what,
		 p->revert_after_ms);
	vigil_action_note(&r->run, "set", detail, 0);
	vigil_action_verifying(&r->run);
	r->waiting = true;
	vigil_action_after(&r->run, p->revert_after_ms);
}

/* The revert step is over: the end. */
static void was_reverted(struct flag_run *r)
{
	const struct vigil_set_flag_params *p = params(&r->run);
	char what[384], got[SHOW_MAX * 4 + 8], old[SHOW_MAX * 4 + 8];

	what_was_set(r, what, sizeof(what));
	vigil_redis_step_show(r->w.old.set ? r->w.old.s : NULL, r->w.old.len, SHOW_MAX, old,
			      sizeof(old));
	if (r->w.err)
		finish(r, false, false, "%s; read back; not put back after %" PRIu64 " ms: %s",
		       what, p->revert_after_ms, r->w.rs.err);
	else if (r->w.reverted)
		finish(r, true, true, "%s; read back; after %" PRIu64 " ms %s", what,
		       p->revert_after_ms, r->w.old.set ? "put back" : "deleted (it had no value)");
	else
		finish(r, true, true,
		       "%s; read back; after %" PRIu64 " ms not put back to %s: it holds %s now, "
		       "changed since",
		       what, p->revert_after_ms, old,
		       vigil_redis_step_show(r->w.now.set ? r->w.now.s : NULL, r->w.now.len,
					     SHOW_MAX, got, sizeof(got)));
}

static void flag_start(struct vigil_action_run *run)
{
	struct flag_run *r = (struct flag_run *)run;

	r->w.p = params(run);
	go(r, S_SET);
}

static void flag_progress(struct vigil_action_run *run, const struct vigil_action_event *ev)
{
	struct flag_run *r = (struct flag_run *)run;

	if (ev->type == VIGIL_ACTION_TIMER && r->waiting) {
		r->waiting = false;
		go(r, S_REVERT);
	} else if (ev->type == VIGIL_ACTION_WORK_DONE) {
		if (r->w.step == S_SET)
			was_set(r);
		else
			was_reverted(r);
	}
}

/* vigil stops (its work is over): a value set stands — it is not put back. */
static bool flag_cancel(struct vigil_action_run *run)
{
	struct flag_run *r = (struct flag_run *)run;
	bool stands = r->w.written && !r->w.reverted;

	release(r);
	return stands;
}

/* --- at load ------------------------------------------------------------------------------ */

/* revert_after after the ttl would find the key gone: refused. */
static int flag_validate(const struct vigil_action *a, const struct vigil_heal_rule *rule,
			 const char **key, char *why, size_t len)
{
	const struct vigil_set_flag_params *p = a->params;

	(void)rule;
	if (p->ttl_ms && p->revert_after_ms && p->revert_after_ms >= p->ttl_ms) {
		*key = "revert_after";
		snprintf(why, len,
			 "must be shorter than ttl (%" PRIu64 " ms): the key would have expired",
			 p->ttl_ms);
		return -EINVAL;
	}
	return 0;
}

static void flag_describe(const struct vigil_action *a, char *buf, size_t len)
{
	const struct vigil_set_flag_params *p = a->params;
	char val[SHOW_MAX * 4 + 8], ttl[48] = "", rev[48] = "";

	if (p->ttl_ms)
		snprintf(ttl, sizeof(ttl), " PX %" PRIu64, p->ttl_ms);
	if (p->revert_after_ms)
		snprintf(rev, sizeof(rev), "; put back after %" PRIu64 " ms", p->revert_after_ms);
	snprintf(buf, len, "SET %s %s%s on %s%s", p->key,
		 vigil_redis_step_show(p->value, strlen(p->value), SHOW_MAX, val, sizeof(val)), ttl,
		 p->url_safe, rev);
}

static int flag_touches(const struct vigil_action *a, vigil_touch_fn fn, void *arg)
{
	const struct vigil_set_flag_params *p = a->params;
	int ret = fn(VIGIL_TOUCH_REDIS, "redis", p->url_safe, arg);

	return ret ? ret : fn(VIGIL_TOUCH_REDIS_KEY, "key", p->key, arg);
}

static void flag_free_params(void *params)
{
	struct vigil_set_flag_params *p = params;

	if (!p)
		return;
	free(p->url);
	free(p->url_safe);
	free(p->key);
	free(p->value);
	free(p);
}

const struct vigil_action_ops vigil_set_flag_ops = {
    .kind = "set_flag",
    .validate = flag_validate,
    .describe = flag_describe,
    .touches = flag_touches,
    .free_params = flag_free_params,
    .run_size = sizeof(struct flag_run),
    .start = flag_start,
    .progress = flag_progress,
    .cancel = flag_cancel,
};
