/* SPDX-License-Identifier: Apache-2.0 */
/*
 * redis_cmd: one record as the Redis commands that write it (see redis.h for the keys). Pure:
 * no connection, no allocation, so it is unit-tested alone and the sink thread only sends.
 */
#ifndef VIGIL_REDIS_CMD_H
#define VIGIL_REDIS_CMD_H

#include <stdbool.h>
#include <stddef.h>

#define VIGIL_REDIS_MAX_FIELDS 64
#define VIGIL_REDIS_MAX_ARGS (8 + 2 * VIGIL_REDIS_MAX_FIELDS)
#define VIGIL_REDIS_KEY_MAX 640
#define VIGIL_REDIS_INCIDENT_TTL "604800" /* an incident's hash: a week after its last change */
#define VIGIL_REDIS_APPLIED_TTL "604800"  /* a fleet increment's marker: a week */

struct vigil_redis_cmd {
	int argc;
	const char *argv[VIGIL_REDIS_MAX_ARGS];
	size_t argl[VIGIL_REDIS_MAX_ARGS];
};

struct vigil_redis_plan {
	unsigned int ncmd;		  /* commands in cmd[]; 0: nothing the sink can write */
	bool xadd;			  /* cmd[0] is the record's stream entry */
	char stream[VIGIL_REDIS_KEY_MAX]; /* its stream */
	char rid[48];			  /* its id there */
	struct vigil_redis_cmd cmd[3];
	/* what the argv point into */
	char key[VIGIL_REDIS_KEY_MAX];
	char fkey[3][VIGIL_REDIS_KEY_MAX]; /* the fleet's increment: marker, hash, index */
	char marker[256];
	bool fleet; /* cmd[1] is the fleet's increment (EVAL) */
	char names[5][128];
	int nf;
	const char *k[VIGIL_REDIS_MAX_FIELDS], *v[VIGIL_REDIS_MAX_FIELDS];
	size_t kl[VIGIL_REDIS_MAX_FIELDS], vl[VIGIL_REDIS_MAX_FIELDS];
};

/*
 * The Lua script of a fleet increment, run with EVAL (KEYS: the record's marker
 * base+"applied:"+rid, the fleet's hash fleet+"knowledge:"+signature, its index
 * fleet+"knowledge:index"; ARGV: the marker's value, signature, class, workload, action,
 * 1 or 0 successes). Exactly once: the marker holds what the record is, so the same record
 * written again (a replay after a partial write) finds it and changes nothing, while another
 * record that happens to have the same rid (a clock stepped back across a restart of vigil)
 * does not. Returns 1 (counted) or 0 (already counted).
 */
extern const char vigil_redis_fleet_script[];

/*
 * The commands that write one JSON record (with "type" and "rid"): an event or health record
 * is XADD to base+"events", an incident XADD to base+"incidents" plus HSET and EXPIRE of
 * base+"incident:"+id, an action XADD to base+"audit", a breaker HSET of base+"breaker:"+
 * workload, a knowledge record HSET of base+"knowledge:"+signature with per-action field
 * names ("restart.attempts") and, when it has a last_outcome, the fleet's increment of
 * fleet+"knowledge:"+signature (EVAL of vigil_redis_fleet_script: "restart.attempts" + 1,
 * "restart.successes" + 1 or 0), a state record SET of base+"state" to its "state" object.
 * base is "prefix:node:", fleet "prefix:" (no node: every node's counts add up there). base is
 * "prefix:node:"; maxlen the streams' MAXLEN ~; scratch must hold len + 1 bytes and stay alive with
 * p. auto_id: the stream entry takes an id Redis picks ("*") instead of the rid. Returns 0, or
 * -EINVAL (p->ncmd 0) for a record that is not one (not a flat object, no type or rid, a key that
 * does not fit).
 */
int vigil_redis_plan(struct vigil_redis_plan *p, const char *base, const char *fleet,
		     const char *maxlen, const char *json, size_t len, char *scratch, bool auto_id);

#endif /* VIGIL_REDIS_CMD_H */
