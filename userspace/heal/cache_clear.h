/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache_clear: the action kind `cache_clear` — delete the keys of an application's Redis that
 * match a pattern, in bounded batches, and verify that none is left.
 *
 *   cache_clear: { redis: URL, match: GLOB, max_keys: N }
 *
 * `SCAN cursor MATCH GLOB COUNT 500`, each batch of keys found removed with `UNLINK` (never
 * KEYS, never FLUSHDB/FLUSHALL), at most max_keys in all (default 10000, 1..1000000). Then a
 * final SCAN: the heal succeeds when no key matches any more; when some do (more matched than
 * max_keys, or the application wrote them again meanwhile) it fails saying how many remain.
 * The policy holds `match` inside the workload's policy.redis_keys; a pattern without a fixed
 * prefix is refused at load.
 */
#ifndef VIGIL_HEAL_CACHE_CLEAR_H
#define VIGIL_HEAL_CACHE_CLEAR_H

#include <stdint.h>

#include "heal/action.h"

#define VIGIL_CACHE_CLEAR_MAX_KEYS 10000     /* the default of max_keys */
#define VIGIL_CACHE_CLEAR_KEYS_LIMIT 1000000 /* its largest */

/* Its params (struct vigil_action.params). */
struct vigil_cache_clear_params {
	char *url;	/* redis:// or unix:// (${VAR} expanded), with its password if any */
	char *url_safe; /* the same with the password as *** (records, `vigil check`) */
	char *match;	/* the SCAN MATCH glob */
	uint64_t max_keys;
};

extern const struct vigil_action_ops vigil_cache_clear_ops;

#endif /* VIGIL_HEAL_CACHE_CLEAR_H */
