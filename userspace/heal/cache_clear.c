// SPDX-License-Identifier: Apache-2.0
/*
 * cache_clear: the action kind `cache_clear` (cache_clear.h), behind the action interface
 * (action.h). Two blocking steps, each on the run's work thread (vigil_action_work), on one
 * connection to the action's Redis kept between them:
 *
 *   clear     SCAN cursor MATCH glob COUNT 500, each batch found UNLINKed, until the cursor is
 *             back at 0 or max_keys were unlinked: the "cleared" record says how many, in how
 *             long; the incident goes verifying
 *   verify    a final SCAN counts the keys that still match
 *   success   none does
 *   failed    some do: more matched than max_keys (max_keys were unlinked), or the application
 *             wrote them again; or Redis could not be reached or refused a command (not learnt:
 *             it says nothing of whether clearing the cache heals the fault)
 *
 * Each step bounds its own time: 2 s for the connect and each reply, and CLEAR_STEP_MS for the
 * whole walk of the keyspace (vigil waits for a step before it stops).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "heal/cache_clear.h"
#include "heal/redis_step.h"

#define SCAN_COUNT "500"    /* the COUNT hint of each SCAN */
#define CLEAR_STEP_MS 30000 /* a step's walk of the keyspace, at most */

enum step { S_CLEAR, S_VERIFY };

/* What the work thread reads and writes: nothing else of the run. */
struct clear_work {
	const struct vigil_cache_clear_params *p; /* the config's: read only */
	struct vigil_redis_step rs;
	enum step step;
	int err;	   /* of the last step: 0, or -EIO with rs.err */
	uint64_t unlinked; /* clear: keys UNLINK removed */
	bool at_limit;	   /* clear: stopped at max_keys */
	uint64_t remain;   /* verify: keys that still match */
	bool remain_more;  /* verify: stopped counting (at the limit, or out of time) */
	uint64_t clear_ns; /* how long the clear step took */
};

struct clear_run {
	struct vigil_action_run run; /* first: what the healer allocates and fills */
	struct clear_work w;
};

static const struct vigil_cache_clear_params *params(const struct vigil_action_run *run)
{
	return run->action->params;
}

/* "4.1 ms" of ns, into buf. */
static const char *ms_text(uint64_t ns, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRIu64 ".%" PRIu64 " ms", ns / 1000000, ns / 100000 % 10);
	return buf;
}

/* --- the work thread --------------------------------------------------------------------- */

/* One SCAN from cursor (updated). Returns the reply (its element[1] the keys), or NULL with
 * w->rs.err. */
static redisReply *scan(struct clear_work *w, char *cursor, size_t len)
{
	const char *argv[] = {"SCAN", cursor, "MATCH", w->p->match, "COUNT", SCAN_COUNT};
	redisReply *r = vigil_redis_step_cmd(&w->rs, 6, argv, NULL);

	if (!r)
		return NULL;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING || r->element[0]->len >= len ||
	    r->element[1]->type != REDIS_REPLY_ARRAY) {
		snprintf(w->rs.err, sizeof(w->rs.err), "SCAN: unexpected reply");
		freeReplyObject(r);
		return NULL;
	}
	for (size_t i = 0; i < r->element[1]->elements; i++)
		if (r->element[1]->element[i]->type != REDIS_REPLY_STRING) {
			snprintf(w->rs.err, sizeof(w->rs.err), "SCAN: a key that is not a string");
			freeReplyObject(r);
			return NULL;
		}
	memcpy(cursor, r->element[0]->str, r->element[0]->len + 1);
	return r;
}

/* UNLINK the first n keys of a SCAN's batch. Returns 0 (w->unlinked grown) or -EIO. */
static int unlink_keys(struct clear_work *w, const redisReply *keys, size_t n)
{
	const char **argv = calloc(n + 1, sizeof(*argv));
	size_t *lens = calloc(n + 1, sizeof(*lens));
	redisReply *r = NULL;
	int ret = -EIO;

	if (!argv || !lens) {
		snprintf(w->rs.err, sizeof(w->rs.err), "UNLINK: out of memory");
		goto out;
	}
	argv[0] = "UNLINK";
	lens[0] = 6;
	for (size_t i = 0; i < n; i++) {
		argv[i + 1] = keys->element[i]->str;
		lens[i + 1] = keys->element[i]->len;
	}
	r = vigil_redis_step_cmd(&w->rs, (int)n + 1, argv, lens);
	if (!r)
		goto out;
	if (r->type != REDIS_REPLY_INTEGER || r->integer < 0) {
		snprintf(w->rs.err, sizeof(w->rs.err), "UNLINK: unexpected reply");
		goto out;
	}
	w->unlinked += (uint64_t)r->integer;
	ret = 0;
out:
	if (r)
		freeReplyObject(r);
	free(argv);
	free(lens);
	return ret;
}

/* The walk of one step: clear (unlink what matches, up to max_keys) or verify (count what
 * still matches). Returns 0 or -EIO (w->rs.err). */
static int walk(struct clear_work *w, uint64_t until_ns)
{
	char cursor[32] = "0";
	redisReply *r;
	size_t n;
	int ret = 0;

	do {
		if (vigil_redis_step_now_ns() > until_ns) {
			if (w->step == S_VERIFY) {
				w->remain_more = true;
				return 0;
			}
			snprintf(w->rs.err, sizeof(w->rs.err),
				 "SCAN: the keyspace was not walked in %d ms", CLEAR_STEP_MS);
			return -EIO;
		}
		r = scan(w, cursor, sizeof(cursor));
		if (!r)
			return -EIO;
		n = r->element[1]->elements;
		if (w->step == S_VERIFY) {
			w->remain += n;
		} else {
			if (n > w->p->max_keys - w->unlinked)
				n = w->p->max_keys - w->unlinked;
			ret = n ? unlink_keys(w, r->element[1], n) : 0;
		}
		freeReplyObject(r);
		if (ret)
			return ret;
		if (w->step == S_CLEAR && w->unlinked >= w->p->max_keys) {
			w->at_limit = true;
			return 0;
		}
		if (w->step == S_VERIFY && w->remain >= VIGIL_CACHE_CLEAR_KEYS_LIMIT) {
			w->remain_more = true;
			return 0;
		}
	} while (strcmp(cursor, "0"));
	return 0;
}

static void clear_work(void *arg)
{
	struct clear_work *w = arg;
	uint64_t t0 = vigil_redis_step_now_ns();

	w->err = vigil_redis_step_open(&w->rs, w->p->url);
	if (!w->err)
		w->err = walk(w, t0 + CLEAR_STEP_MS * 1000000ull);
	if (w->step == S_CLEAR)
		w->clear_ns = vigil_redis_step_now_ns() - t0;
}

/* --- the loop ----------------------------------------------------------------------------- */

/* Run the step at hand off the loop; its end comes to progress(WORK_DONE). */
static void go(struct clear_run *r, enum step s)
{
	r->w.step = s;
	vigil_redis_step_go(&r->run, &r->w.rs, clear_work, &r->w);
}

static void clear_start(struct vigil_action_run *run)
{
	struct clear_run *r = (struct clear_run *)run;

	r->w.p = params(run);
	go(r, S_CLEAR);
}

/* The clear step is over: said, then verified. */
static void cleared(struct clear_run *r)
{
	const struct vigil_cache_clear_params *p = params(&r->run);
	char detail[384], took[32];

	ms_text(r->w.clear_ns, took, sizeof(took));
	if (r->w.err) {
		vigil_redis_step_done(&r->run, &r->w.rs, false, false,
				      "%s; %" PRIu64 " keys matching '%s' unlinked before, in %s",
				      r->w.rs.err, r->w.unlinked, p->match, took);
		return;
	}
	snprintf(detail, sizeof(detail), "%" PRIu64 " keys matching '%s' unlinked in %s%s",
		 r->w.unlinked, p->match, took, r->w.at_limit ? " (max_keys reached)" : "");
	vigil_action_note(&r->run, "cleared", detail, 0);
	vigil_action_verifying(&r->run);
	go(r, S_VERIFY);
}

/* The final SCAN is over: the end. */
static void verified(struct clear_run *r)
{
	const struct vigil_cache_clear_params *p = params(&r->run);
	const char *more = r->w.remain_more ? "at least " : "";
	char took[32];

	ms_text(r->w.clear_ns, took, sizeof(took));
	if (r->w.err)
		vigil_redis_step_done(&r->run, &r->w.rs, false, false,
				      "%" PRIu64 " keys unlinked in %s; the final SCAN failed: %s",
				      r->w.unlinked, took, r->w.rs.err);
	else if (!r->w.remain && !r->w.remain_more)
		vigil_redis_step_done(&r->run, &r->w.rs, true, true,
				      "%" PRIu64 " keys matching '%s' unlinked in %s; none remain",
				      r->w.unlinked, p->match, took);
	else if (r->w.at_limit)
		vigil_redis_step_done(&r->run, &r->w.rs, false, true,
				      "more keys matched '%s' than max_keys: %" PRIu64
				      " unlinked in %s, %s%" PRIu64 " remain",
				      p->match, r->w.unlinked, took, more, r->w.remain);
	else
		vigil_redis_step_done(&r->run, &r->w.rs, false, true,
				      "%" PRIu64
				      " keys matching '%s' unlinked in %s, but %s%" PRIu64
				      " match again (written since?)",
				      r->w.unlinked, p->match, took, more, r->w.remain);
}

static void clear_progress(struct vigil_action_run *run, const struct vigil_action_event *ev)
{
	struct clear_run *r = (struct clear_run *)run;

	if (ev->type != VIGIL_ACTION_WORK_DONE)
		return; /* no timer, no child; the workload's processes are not its concern */
	if (r->w.step == S_CLEAR)
		cleared(r);
	else
		verified(r);
}

/* vigil stops (its work is over): what was unlinked stays unlinked. */
static bool clear_cancel(struct vigil_action_run *run)
{
	struct clear_run *r = (struct clear_run *)run;

	vigil_redis_step_close(&r->w.rs);
	return r->w.unlinked > 0;
}

/* --- at load ------------------------------------------------------------------------------ */

static void clear_describe(const struct vigil_action *a, char *buf, size_t len)
{
	const struct vigil_cache_clear_params *p = a->params;

	snprintf(buf, len, "SCAN MATCH '%s' + UNLINK, at most %" PRIu64 " keys, on %s", p->match,
		 p->max_keys, p->url_safe);
}

static int clear_touches(const struct vigil_action *a, vigil_touch_fn fn, void *arg)
{
	const struct vigil_cache_clear_params *p = a->params;
	int ret = fn(VIGIL_TOUCH_REDIS, "redis", p->url_safe, arg);

	return ret ? ret : fn(VIGIL_TOUCH_REDIS_MATCH, "match", p->match, arg);
}

static void clear_free_params(void *params)
{
	struct vigil_cache_clear_params *p = params;

	if (!p)
		return;
	free(p->url);
	free(p->url_safe);
	free(p->match);
	free(p);
}

const struct vigil_action_ops vigil_cache_clear_ops = {
    .kind = "cache_clear",
    .describe = clear_describe,
    .touches = clear_touches,
    .free_params = clear_free_params,
    .run_size = sizeof(struct clear_run),
    .start = clear_start,
    .progress = clear_progress,
    .cancel = clear_cancel,
};
