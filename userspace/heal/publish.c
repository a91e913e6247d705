// SPDX-License-Identifier: Apache-2.0
/*
 * publish: the action kind `publish` (publish.h, which states the acknowledgement contract),
 * behind the action interface (action.h). Its blocking steps run on the run's work thread
 * (vigil_action_work), on one connection to the action's Redis (opened again by the next poll
 * if it breaks):
 *
 *   publish   with a group: XINFO GROUPS stream, which must hold the group (the application's:
 *             vigil never creates it); then XADD stream * fields... incident signature
 *             workload action
 *   success   without ack_timeout: the entry has its id, which the record gives
 *   published with ack_timeout: the entry's id, as a step; the incident goes verifying
 *   poll      every 150 ms on the run's timer: XINFO GROUPS (the group's last-delivered-id),
 *             XPENDING stream group ID ID 1 (is the entry pending, with which consumer)
 *   success   delivered to the group and no longer pending: acknowledged, after how long
 *   failed    not acknowledged within ack_timeout: delivered and still pending (to whom,
 *             how many deliveries), or never read (learnt); the stream or group missing, Redis
 *             not reached, a command refused (not learnt)
 *
 * vigil's node name is not part of what a run is given (action.h), so vigil adds no `node`
 * field: a config that wants one lists it, `node=${NODE_NAME}` (a value's ${VAR} is expanded
 * at load, as `node:` itself is).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/loop.h"
#include "detect/incidents.h"
#include "heal/publish.h"
#include "heal/redis_step.h"

enum step { S_PUBLISH, S_POLL };

/* The fields vigil adds to every entry, after the configured ones. */
#define VIGIL_FIELDS 4

/* What the work thread reads and writes: nothing else of the run. */
struct pub_work {
	const struct vigil_publish_params *p; /* the config's: read only */
	struct vigil_redis_step rs;
	enum step step;
	/* copied on the loop before the first step */
	char incident[17], signature[32], workload[64], action[64];
	int err;	   /* of the last step: 0, or -EIO with rs.err */
	char id[48];	   /* publish: the entry's id */
	bool delivered;	   /* poll: the group's last-delivered-id has reached it */
	bool pending;	   /* poll: it is in the group's pending list */
	char consumer[64]; /* ... of the consumer it was last seen pending with */
	long long deliveries;
	uint64_t publish_ns; /* how long the publish step took */
};

struct pub_run {
	struct vigil_action_run run; /* first: what the healer allocates and fills */
	struct pub_work w;
	uint64_t published_ns; /* loop time the entry was known to be published */
	uint64_t until_ns;     /* the acknowledgement is due by then */
	unsigned int polls;
	char last_err[256]; /* of a poll that failed (the next poll tries again) */
};

static const struct vigil_publish_params *params(const struct vigil_action_run *run)
{
	return run->action->params;
}

/* --- the work thread --------------------------------------------------------------------- */

/* An entry id "ms-seq". Returns 0 or -EINVAL. */
static int parse_id(const char *s, uint64_t *ms, uint64_t *seq)
{
	char *end;

	*ms = strtoull(s, &end, 10);
	if (end == s || *end != '-')
		return -EINVAL;
	s = end + 1;
	*seq = strtoull(s, &end, 10);
	return end == s || *end ? -EINVAL : 0;
}

/* Is id a >= id b? (false if either is malformed) */
static bool id_reached(const char *a, const char *b)
{
	uint64_t am, as, bm, bs;

	if (parse_id(a, &am, &as) || parse_id(b, &bm, &bs))
		return false;
	return am > bm || (am == bm && as >= bs);
}

/* The value of field name in one XINFO GROUPS entry (a flat name, value list), or NULL. */
static const redisReply *info_field(const redisReply *g, const char *name)
{
	for (size_t i = 0; g->type == REDIS_REPLY_ARRAY && i + 1 < g->elements; i += 2)
		if (g->element[i]->type == REDIS_REPLY_STRING && !strcmp(g->element[i]->str, name))
			return g->element[i + 1];
	return NULL;
}

/* The group's last-delivered-id, from XINFO GROUPS stream, into last (may be NULL). Returns 0,
 * or -EIO with w->rs.err (the stream or the group missing said plainly). */
static int group_info(struct pub_work *w, char *last, size_t len)
{
	const char *argv[] = {"XINFO", "GROUPS", w->p->stream};
	redisReply *r = vigil_redis_step_cmd(&w->rs, 3, argv, NULL);
	const redisReply *name, *ld;
	int ret = -EIO;

	if (!r) {
		if (strstr(w->rs.err, "no such key"))
			snprintf(w->rs.err, sizeof(w->rs.err),
				 "stream %s does not exist: the application creates it with its "
				 "group (XGROUP CREATE %s %s $ MKSTREAM)",
				 w->p->stream, w->p->stream, w->p->group);
		return -EIO;
	}
	for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
		name = info_field(r->element[i], "name");
		if (!name || name->type != REDIS_REPLY_STRING || strcmp(name->str, w->p->group))
			continue;
		ld = info_field(r->element[i], "last-delivered-id");
		if (last && ld && ld->type == REDIS_REPLY_STRING)
			snprintf(last, len, "%s", ld->str);
		ret = 0;
		break;
	}
	if (ret)
		snprintf(w->rs.err, sizeof(w->rs.err),
			 "stream %s has no consumer group %s: the application creates it (XGROUP "
			 "CREATE %s %s $)",
			 w->p->stream, w->p->group, w->p->stream, w->p->group);
	freeReplyObject(r);
	return ret;
}

static int publish_step(struct pub_work *w)
{
	const struct vigil_publish_params *p = w->p;
	const char *argv[3 + 2 * (VIGIL_PUBLISH_MAX_FIELDS + VIGIL_FIELDS)];
	const char *mine[2 * VIGIL_FIELDS] = {"incident", w->incident, "signature", w->signature,
					      "workload", w->workload, "action",    w->action};
	redisReply *r;
	int argc = 0;

	if (p->group && group_info(w, NULL, 0))
		return -EIO;
	argv[argc++] = "XADD";
	argv[argc++] = p->stream;
	argv[argc++] = "*";
	for (unsigned int i = 0; i < p->nfields; i++) {
		argv[argc++] = p->names[i];
		argv[argc++] = p->values[i];
	}
	for (unsigned int i = 0; i < 2 * VIGIL_FIELDS; i++)
		argv[argc++] = mine[i];
	r = vigil_redis_step_cmd(&w->rs, argc, argv, NULL);
	if (!r)
		return -EIO;
	if (r->type != REDIS_REPLY_STRING || r->len >= sizeof(w->id)) {
		snprintf(w->rs.err, sizeof(w->rs.err), "XADD: unexpected reply");
		freeReplyObject(r);
		return -EIO;
	}
	memcpy(w->id, r->str, r->len + 1);
	freeReplyObject(r);
	return 0;
}

static int poll_step(struct pub_work *w)
{
	const char *argv[] = {"XPENDING", w->p->stream, w->p->group, w->id, w->id, "1"};
	const redisReply *e;
	char last[48] = "";
	redisReply *r;

	if (group_info(w, last, sizeof(last)))
		return -EIO;
	w->delivered = id_reached(last, w->id);
	r = vigil_redis_step_cmd(&w->rs, 6, argv, NULL);
	if (!r)
		return -EIO;
	w->pending = r->type == REDIS_REPLY_ARRAY && r->elements > 0;
	e = w->pending ? r->element[0] : NULL;
	if (e && e->type == REDIS_REPLY_ARRAY && e->elements == 4 &&
	    e->element[1]->type == REDIS_REPLY_STRING &&
	    e->element[3]->type == REDIS_REPLY_INTEGER) {
		snprintf(w->consumer, sizeof(w->consumer), "%s", e->element[1]->str);
		w->deliveries = e->element[3]->integer;
	}
	freeReplyObject(r);
	return 0;
}

static void pub_work(void *arg)
{
	struct pub_work *w = arg;
	uint64_t t0 = vigil_redis_step_now_ns();

	w->err = vigil_redis_step_open(&w->rs, w->p->url);
	if (!w->err)
		w->err = w->step == S_PUBLISH ? publish_step(w) : poll_step(w);
	if (w->step == S_PUBLISH)
		w->publish_ns = vigil_redis_step_now_ns() - t0;
}

/* --- the loop ----------------------------------------------------------------------------- */

static uint64_t now_ns(const struct pub_run *r)
{
	return vigil_loop_now(r->run.loop);
}

/* Run the step at hand off the loop; its end comes to progress(WORK_DONE). */
static void go(struct pub_run *r, enum step s)
{
	r->w.step = s;
	vigil_redis_step_go(&r->run, &r->w.rs, pub_work, &r->w);
}

/* The publish step is over: the end, or the wait for the acknowledgement. */
static void published(struct pub_run *r)
{
	const struct vigil_publish_params *p = params(&r->run);
	uint64_t took = r->w.publish_ns;
	char detail[384];

	if (r->w.err) {
		vigil_redis_step_done(&r->run, &r->w.rs, false, false, "not published: %s",
				      r->w.rs.err);
		return;
	}
	if (!p->ack_timeout_ms) {
		vigil_redis_step_done(&r->run, &r->w.rs, true, true,
				      "published to %s as entry %s in %" PRIu64 ".%" PRIu64 " ms",
				      p->stream, r->w.id, took / 1000000, took / 100000 % 10);
		return;
	}
	r->published_ns = now_ns(r);
	r->until_ns = r->published_ns + p->ack_timeout_ms * 1000000ull;
	snprintf(detail, sizeof(detail),
		 "published to %s as entry %s in %" PRIu64 ".%" PRIu64
		 " ms; awaiting its acknowledgement in group %s for up to %" PRIu64 " ms",
		 p->stream, r->w.id, took / 1000000, took / 100000 % 10, p->group,
		 p->ack_timeout_ms);
	vigil_action_note(&r->run, "published", detail, 0);
	vigil_action_verifying(&r->run);
	vigil_action_after(&r->run, VIGIL_PUBLISH_POLL_MS);
}

/* A poll is over: acknowledged (the end), out of time (the end), or poll again. */
static void polled(struct pub_run *r)
{
	const struct vigil_publish_params *p = params(&r->run);
	uint64_t now = now_ns(r), left, since = (now - r->published_ns) / 1000000;
	char why[320];

	r->polls++;
	if (r->w.err)
		snprintf(r->last_err, sizeof(r->last_err), "%s", r->w.rs.err);
	if (!r->w.err && r->w.delivered && !r->w.pending) {
		vigil_redis_step_done(
		    &r->run, &r->w.rs, true, true,
		    "%s entry %s acknowledged in group %s%s%s after %" PRIu64 " ms", p->stream,
		    r->w.id, p->group, r->w.consumer[0] ? " by " : "", r->w.consumer, since);
		return;
	}
	if (now < r->until_ns) {
		left = (r->until_ns - now + 999999) / 1000000;
		vigil_action_after(&r->run,
				   left < VIGIL_PUBLISH_POLL_MS ? left : VIGIL_PUBLISH_POLL_MS);
		return;
	}
	if (r->w.consumer[0])
		snprintf(why, sizeof(why),
			 "delivered to consumer %s (%lld deliveries), still pending", r->w.consumer,
			 r->w.deliveries);
	else if (r->w.delivered)
		snprintf(why, sizeof(why), "delivered, but never seen pending nor acknowledged");
	else
		snprintf(why, sizeof(why), "never read by group %s", p->group);
	vigil_redis_step_done(&r->run, &r->w.rs, false, true,
			      "%s entry %s not acknowledged within %" PRIu64 " ms: %s%s%s",
			      p->stream, r->w.id, p->ack_timeout_ms, why,
			      r->last_err[0] ? "; last poll: " : "", r->last_err);
}

static void pub_start(struct vigil_action_run *run)
{
	struct pub_run *r = (struct pub_run *)run;
	struct pub_work *w = &r->w;

	w->p = params(run);
	snprintf(w->incident, sizeof(w->incident), "%s", run->inc->id);
	snprintf(w->signature, sizeof(w->signature), "%s", run->inc->signature);
	snprintf(w->workload, sizeof(w->workload), "%s", run->workload->name);
	snprintf(w->action, sizeof(w->action), "%s", run->rule->name);
	go(r, S_PUBLISH);
}

static void pub_progress(struct vigil_action_run *run, const struct vigil_action_event *ev)
{
	struct pub_run *r = (struct pub_run *)run;

	if (ev->type == VIGIL_ACTION_TIMER && r->published_ns)
		go(r, S_POLL);
	else if (ev->type == VIGIL_ACTION_WORK_DONE && r->w.step == S_PUBLISH)
		published(r);
	else if (ev->type == VIGIL_ACTION_WORK_DONE)
		polled(r);
}

/* vigil stops (its work is over): an entry published stays in the stream. */
static bool pub_cancel(struct vigil_action_run *run)
{
	struct pub_run *r = (struct pub_run *)run;

	vigil_redis_step_close(&r->w.rs);
	return r->w.id[0] != '\0';
}

/* --- at load ------------------------------------------------------------------------------ */

/* group goes with ack_timeout, both ways (the fields' names are checked as they are read). */
static int pub_validate(const struct vigil_action *a, const struct vigil_heal_rule *rule,
			const char **key, char *why, size_t len)
{
	const struct vigil_publish_params *p = a->params;

	(void)rule;
	if (p->ack_timeout_ms && !p->group) {
		*key = NULL;
		snprintf(why, len,
			 "ack_timeout needs group: the consumer group in which the application "
			 "acknowledges the entry (XACK)");
		return -EINVAL;
	}
	if (p->group && !p->ack_timeout_ms) {
		*key = "group";
		snprintf(why, len, "only applies with ack_timeout");
		return -EINVAL;
	}
	return 0;
}

static void pub_describe(const struct vigil_action *a, char *buf, size_t len)
{
	const struct vigil_publish_params *p = a->params;
	size_t off;

	off = (size_t)snprintf(buf, len, "XADD %s *", p->stream);
	for (unsigned int i = 0; i < p->nfields && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, " %s %s", p->names[i], p->values[i]);
	if (off < len)
		off += (size_t)snprintf(buf + off, len - off,
					" incident signature workload action on %s", p->url_safe);
	if (off < len && p->ack_timeout_ms)
		snprintf(buf + off, len - off, "; acknowledged in group %s within %" PRIu64 " ms",
			 p->group, p->ack_timeout_ms);
}

static int pub_touches(const struct vigil_action *a, vigil_touch_fn fn, void *arg)
{
	const struct vigil_publish_params *p = a->params;
	int ret = fn(VIGIL_TOUCH_REDIS, "redis", p->url_safe, arg);

	return ret ? ret : fn(VIGIL_TOUCH_REDIS_KEY, "stream", p->stream, arg);
}

static void free_strv(char **v, unsigned int n)
{
	for (unsigned int i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static void pub_free_params(void *params)
{
	struct vigil_publish_params *p = params;

	if (!p)
		return;
	free(p->url);
	free(p->url_safe);
	free(p->stream);
	free_strv(p->names, p->nfields);
	free_strv(p->values, p->nfields);
	free(p->group);
	free(p);
}

const struct vigil_action_ops vigil_publish_ops = {
    .kind = "publish",
    .validate = pub_validate,
    .describe = pub_describe,
    .touches = pub_touches,
    .free_params = pub_free_params,
    .run_size = sizeof(struct pub_run),
    .start = pub_start,
    .progress = pub_progress,
    .cancel = pub_cancel,
};
