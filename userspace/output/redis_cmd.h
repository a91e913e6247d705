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
	char names[4][128];
	int nf;
	const char *k[VIGIL_REDIS_MAX_FIELDS], *v[VIGIL_REDIS_MAX_FIELDS];
	size_t kl[VIGIL_REDIS_MAX_FIELDS], vl[VIGIL_REDIS_MAX_FIELDS];
};

/*
 * The commands that write one JSON record (with "type" and "rid"): an event or health record
 * is XADD to base+"events", an incident XADD to base+"incidents" plus HSET and EXPIRE of
 * base+"incident:"+id, an action XADD to base+"audit", a breaker HSET of base+"breaker:"+
 * workload, a knowledge record HSET of base+"knowledge:"+signature with per-action field
 * names ("restart.attempts"), a state record SET of base+"state" to its "state" object. base is
 * "prefix:node:"; maxlen the streams' MAXLEN ~; scratch must hold len + 1 bytes and stay alive with
 * p. auto_id: the stream entry takes an id Redis picks ("*") instead of the rid. Returns 0, or
 * -EINVAL (p->ncmd 0) for a record that is not one (not a flat object, no type or rid, a key that
 * does not fit).
 */
int vigil_redis_plan(struct vigil_redis_plan *p, const char *base, const char *maxlen,
		     const char *json, size_t len, char *scratch, bool auto_id);

#endif /* VIGIL_REDIS_CMD_H */
