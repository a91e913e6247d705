// SPDX-License-Identifier: Apache-2.0
/* redis_cmd: a record as the commands that write it to Redis. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "output/redis.h"
#include "output/redis_cmd.h"

const char vigil_redis_fleet_script[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return 0 end\n"
    "redis.call('SET', KEYS[1], ARGV[1], 'EX', " VIGIL_REDIS_APPLIED_TTL ")\n"
    "redis.call('HSET', KEYS[2], 'signature', ARGV[2], 'class', ARGV[3], 'workload', ARGV[4])\n"
    "redis.call('HINCRBY', KEYS[2], ARGV[5] .. '.attempts', 1)\n"
    "redis.call('HINCRBY', KEYS[2], ARGV[5] .. '.successes', ARGV[6])\n"
    "redis.call('SADD', KEYS[3], ARGV[2])\n"
    "return 1\n";

/* The value of field key, or NULL. */
static const char *field(const struct vigil_redis_plan *p, const char *key, size_t *len)
{
	size_t kl = strlen(key);

	for (int i = 0; i < p->nf; i++) {
		if (p->kl[i] == kl && !memcmp(p->k[i], key, kl)) {
			*len = p->vl[i];
			return p->v[i];
		}
	}
	return NULL;
}

/* base + suffix + tail (tl bytes) into out. Returns its length, 0 if it does not fit. */
static size_t make_key(char *out, const char *base, const char *suffix, const char *tail, size_t tl)
{
	size_t bl = strlen(base), sl = strlen(suffix);

	if (bl + sl + tl >= VIGIL_REDIS_KEY_MAX)
		return 0;
	memcpy(out, base, bl);
	memcpy(out + bl, suffix, sl);
	if (tl)
		memcpy(out + bl + sl, tail, tl);
	out[bl + sl + tl] = '\0';
	return bl + sl + tl;
}

static void arg(struct vigil_redis_cmd *c, const char *s, size_t len)
{
	c->argv[c->argc] = s;
	c->argl[c->argc++] = len;
}

/* Every field of the record, after what c holds. With action, the knowledge store's numbers
 * are named per action ("restart.attempts"), so one hash holds every action of a signature. */
static void put_fields(struct vigil_redis_plan *p, struct vigil_redis_cmd *c, const char *action,
		       size_t al)
{
	static const char *const per_action[] = {"attempts", "successes", "success_rate",
						 "last_applied", "last_outcome"};

	for (int i = 0; i < p->nf; i++) {
		const char *k = p->k[i];
		size_t kl = p->kl[i];

		for (unsigned int a = 0; action && a < 5; a++) {
			if (kl == strlen(per_action[a]) && !memcmp(k, per_action[a], kl) &&
			    al + 1 + kl < sizeof(p->names[a])) {
				memcpy(p->names[a], action, al);
				p->names[a][al] = '.';
				memcpy(p->names[a] + al + 1, k, kl);
				k = p->names[a];
				kl += al + 1;
			}
		}
		arg(c, k, kl);
		arg(c, p->v[i], p->vl[i]);
	}
}

/* HSET base+suffix+(value of field name) with the fields. Returns 0 or -EINVAL. */
static int hset(struct vigil_redis_plan *p, const char *base, const char *suffix, const char *name,
		const char *action, size_t al)
{
	struct vigil_redis_cmd *c = &p->cmd[p->ncmd];
	size_t vl = 0, kl;
	const char *v = field(p, name, &vl);

	kl = v && vl ? make_key(p->key, base, suffix, v, vl) : 0;
	if (!kl)
		return -EINVAL;
	c->argc = 0;
	arg(c, "HSET", 4);
	arg(c, p->key, kl);
	put_fields(p, c, action, al);
	p->ncmd++;
	return 0;
}

/* SET base+"state" to the value of field state (the healer's state object, as JSON). Setting
 * it again changes nothing, so a replayed record is harmless. Returns 0 or -EINVAL. */
static int set_state(struct vigil_redis_plan *p, const char *base)
{
	struct vigil_redis_cmd *c = &p->cmd[0];
	size_t vl = 0, kl = make_key(p->key, base, "state", NULL, 0);
	const char *v = field(p, "state", &vl);

	if (!kl || !v || !vl || v[0] != '{')
		return -EINVAL;
	c->argc = 0;
	arg(c, "SET", 3);
	arg(c, p->key, kl);
	arg(c, v, vl);
	p->ncmd = 1;
	return 0;
}

static bool is(const char *s, size_t len, const char *what)
{
	return len == strlen(what) && !memcmp(s, what, len);
}

/*
 * The fleet's increment of a knowledge record that says what was just learned (last_outcome),
 * after its HSET: EVAL of vigil_redis_fleet_script. Nothing for a record without one, or
 * without its fields (its HSET still goes).
 */
static void fleet_increment(struct vigil_redis_plan *p, const char *base, const char *fleet)
{
	static const char *const args[] = {"signature", "class", "workload", "action"};
	struct vigil_redis_cmd *c = &p->cmd[p->ncmd];
	const char *v[4], *outcome, *attempts;
	size_t vl[4], ol = 0, al = 0, kl[3], ml;

	outcome = field(p, "last_outcome", &ol);
	attempts = field(p, "attempts", &al);
	for (int i = 0; i < 4; i++)
		if (!(v[i] = field(p, args[i], &vl[i])) || !vl[i])
			return;
	if (!outcome || !attempts)
		return;
	kl[0] = make_key(p->fkey[0], base, "applied:", p->rid, strlen(p->rid));
	kl[1] = make_key(p->fkey[1], fleet, "knowledge:", v[0], vl[0]);
	kl[2] = make_key(p->fkey[2], fleet, "knowledge:index", NULL, 0);
	/* What the record is, beyond its rid: its pair and the node's count of attempts. */
	ml = (size_t)snprintf(p->marker, sizeof(p->marker), "%.*s %.*s %.*s", (int)vl[0], v[0],
			      (int)vl[3], v[3], (int)al, attempts);
	if (!kl[0] || !kl[1] || !kl[2] || ml >= sizeof(p->marker))
		return;
	c->argc = 0;
	arg(c, "EVAL", 4);
	arg(c, vigil_redis_fleet_script, strlen(vigil_redis_fleet_script));
	arg(c, "3", 1);
	for (int i = 0; i < 3; i++)
		arg(c, p->fkey[i], kl[i]);
	arg(c, p->marker, ml);
	for (int i = 0; i < 4; i++)
		arg(c, v[i], vl[i]);
	arg(c, is(outcome, ol, "success") ? "1" : "0", 1);
	p->ncmd++;
	p->fleet = true;
}

int vigil_redis_plan(struct vigil_redis_plan *p, const char *base, const char *fleet,
		     const char *maxlen, const char *json, size_t len, char *scratch, bool auto_id)
{
	const char *type, *rid, *stream = "events", *a;
	size_t tl = 0, rl = 0, al = 0;
	struct vigil_redis_cmd *c = &p->cmd[0];

	p->ncmd = 0;
	p->xadd = false;
	p->fleet = false;
	p->nf = vigil_redis_fields(json, len, scratch, p->k, p->kl, p->v, p->vl,
				   VIGIL_REDIS_MAX_FIELDS);
	type = p->nf > 0 ? field(p, "type", &tl) : NULL;
	rid = p->nf > 0 ? field(p, "rid", &rl) : NULL;
	if (!type || !rid || !rl || rl >= sizeof(p->rid))
		return -EINVAL;
	memcpy(p->rid, rid, rl);
	p->rid[rl] = '\0';

	if (is(type, tl, "breaker"))
		return hset(p, base, "breaker:", "workload", NULL, 0);
	if (is(type, tl, "state"))
		return set_state(p, base);
	if (is(type, tl, "knowledge")) {
		a = field(p, "action", &al);
		if (!a || hset(p, base, "knowledge:", "signature", a, al))
			return -EINVAL;
		fleet_increment(p, base, fleet);
		return 0;
	}
	if (is(type, tl, "incident"))
		stream = "incidents";
	else if (is(type, tl, "action"))
		stream = "audit";
	if (!make_key(p->stream, base, stream, NULL, 0))
		return -EINVAL;
	c->argc = 0;
	arg(c, "XADD", 4);
	arg(c, p->stream, strlen(p->stream));
	arg(c, "MAXLEN", 6);
	arg(c, "~", 1);
	arg(c, maxlen, strlen(maxlen));
	if (auto_id)
		arg(c, "*", 1);
	else
		arg(c, p->rid, rl);
	put_fields(p, c, NULL, 0);
	p->xadd = true;
	p->ncmd = 1;
	if (stream[0] != 'i' || auto_id)
		return 0;
	/* An incident: its hash too, expiring a week after its last change. */
	if (hset(p, base, "incident:", "id", NULL, 0))
		return 0; /* an incident without an id: its stream entry still goes */
	c = &p->cmd[p->ncmd++];
	c->argc = 0;
	arg(c, "EXPIRE", 6);
	arg(c, p->key, strlen(p->key));
	arg(c, VIGIL_REDIS_INCIDENT_TTL, strlen(VIGIL_REDIS_INCIDENT_TTL));
	return 0;
}
