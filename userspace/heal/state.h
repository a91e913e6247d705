/* SPDX-License-Identifier: Apache-2.0 */
/*
 * state: the healer's durable state — what it must not forget when vigil restarts — as a plain
 * structure, its JSON form, and its file.
 *
 * Per workload: the circuit breaker (its state, the failed heals it still counts, when it
 * opened) and the restart backoff (restarts, the last one). Per incident the healer holds: a
 * heal waiting for its level-2 delay or its backoff (the rule by name, when it is due), or an
 * incident awaiting approval (the rule by name, since when). Every time is wall-clock ns: a
 * state read back after a reboot, or by a new pod from Redis, is moved onto that run's own
 * monotonic clock.
 *
 *   {"version": 1, "node": "n1", "saved_at_ns": 1764420000000000000,
 *    "workloads": [{"name": "svc", "breaker": "open", "opened_at_ns": ..., "failures_ns": [...],
 *                   "restarts": 2, "last_restart_ns": ...}],
 *    "pending": [{"rule": "restart", "due_ns": ..., "approved": false, "incident": {...}}],
 *    "awaiting": [{"rule": "rollback", "since_ns": ..., "incident": {...}}]}
 *
 * The same object is the file and the value of the Redis key P:N:state. The file is rewritten
 * whole and atomically after every change, as the knowledge store is; a malformed one is set
 * aside as PATH.bad and said, never fatal.
 */
#ifndef VIGIL_HEAL_STATE_H
#define VIGIL_HEAL_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "detect/incidents.h"

#define VIGIL_STATE_VERSION 1
#define VIGIL_STATE_FAILS 64		 /* failed heals kept per workload (the healer's) */
#define VIGIL_STATE_ITEMS_MAX 1024	 /* pending heals and approvals kept: the rest, counted */
#define VIGIL_STATE_FILE_MAX (16u << 20) /* a larger file is refused as malformed */
#define VIGIL_STATE_NAME 64		 /* workload and rule names, NUL included */

enum vigil_breaker_state {
	VIGIL_BREAKER_CLOSED,
	VIGIL_BREAKER_OPEN,
	VIGIL_BREAKER_HALF_OPEN,
};

struct vigil_state_workload {
	char name[VIGIL_STATE_NAME];
	enum vigil_breaker_state breaker;
	uint64_t opened_wall_ns;		   /* when it last opened; 0: never */
	uint64_t fails_wall_ns[VIGIL_STATE_FAILS]; /* failed heals, oldest first */
	unsigned int n_fails;
	unsigned int restarts; /* for the backoff */
	uint64_t last_restart_wall_ns;
};

enum vigil_state_kind {
	VIGIL_STATE_PENDING,  /* a heal scheduled: a level-2 delay or the backoff */
	VIGIL_STATE_AWAITING, /* a level-3 incident waiting for approval */
};

struct vigil_state_item {
	enum vigil_state_kind kind;
	char rule[VIGIL_STATE_NAME];
	uint64_t at_wall_ns; /* pending: when it is due; awaiting: since when it waits */
	bool approved;	     /* pending: a person approved it (a level-3 rule's heal) */
	struct vigil_incident_saved inc;
};

struct vigil_heal_state {
	uint64_t saved_wall_ns;
	struct vigil_state_workload *wl;
	size_t n_wl;
	struct vigil_state_item *items;
	size_t n_items; /* beyond VIGIL_STATE_ITEMS_MAX, not written (counted by the file) */
};

/* Append an entry (zeroed) and return it, or NULL on -ENOMEM. */
struct vigil_state_workload *vigil_state_add_workload(struct vigil_heal_state *s);
struct vigil_state_item *vigil_state_add_item(struct vigil_heal_state *s);
/* Free the entries; s is empty after. Accepts an empty state. */
void vigil_state_clear(struct vigil_heal_state *s);

struct vigil_json;
/* The state's members (version, node, saved_at_ns, workloads, pending, awaiting) into the
 * object j has open; at most VIGIL_STATE_ITEMS_MAX items. */
void vigil_state_members(struct vigil_json *j, const struct vigil_heal_state *s, const char *node);
/* The state as one JSON object (the file's text) into j. Returns 0 or -ENOMEM. */
int vigil_state_to_json(struct vigil_json *j, const struct vigil_heal_state *s, const char *node);

/*
 * Read a state object from len bytes of JSON into *out (emptied first). Returns 0, -EBADMSG
 * with why saying what was wrong (not a JSON object, another version, a member of the wrong
 * type or out of range, a name or id that is not one vigil writes, a duplicate workload or
 * incident id, more than VIGIL_STATE_ITEMS_MAX items), or -ENOMEM; *out is empty on error.
 */
int vigil_state_parse(const char *text, size_t len, struct vigil_heal_state *out, char *why,
		      size_t whylen);

/* --- the file ----------------------------------------------------------------------------- */

struct vigil_state_file;

struct vigil_state_file_stats {
	uint64_t writes;       /* files written since open */
	uint64_t write_errors; /* writes that failed */
	int last_error;	       /* -errno of the last failed write, 0 if none */
	uint64_t omitted;      /* items left out of the last write (VIGIL_STATE_ITEMS_MAX) */
	uint64_t last_write_wall_ns;
};

/*
 * Open the state file at path and read it into *loaded (emptied first). *found says whether
 * it held a state: false for a missing file, and for a malformed one, which is renamed
 * PATH.bad (or PATH.bad.1 .. .9, never overwriting one) with msg saying so — the caller must
 * report it loudly, and may look for the state elsewhere (Redis).
 *
 * Returns 0 and *out (msg "" unless a file was set aside), or -errno with msg naming the path
 * and the reason: a file that cannot be read (not a regular file, permissions), a malformed
 * one that could not be set aside (-EEXIST: no free .bad name), -ENOMEM.
 */
int vigil_state_file_open(const char *path, struct vigil_state_file **out,
			  struct vigil_heal_state *loaded, bool *found, char *msg, size_t msglen);
/* Frees; accepts NULL. Nothing is written: the file is current after every change. */
void vigil_state_file_close(struct vigil_state_file *f);
/* Rewrite the file with s (atomically: core/files.h). Returns 0 or -errno, also counted. */
int vigil_state_file_write(struct vigil_state_file *f, const struct vigil_heal_state *s,
			   const char *node);
const char *vigil_state_file_path(const struct vigil_state_file *f);
void vigil_state_file_stats(const struct vigil_state_file *f, struct vigil_state_file_stats *st);
/* Its path, writes, failed writes and the last error, items omitted, the last write's time, as
 * members of the object j has open (the daemon's "state" status). */
void vigil_state_file_status_members(const struct vigil_state_file *f, struct vigil_json *j);

#endif /* VIGIL_HEAL_STATE_H */
