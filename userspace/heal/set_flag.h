/* SPDX-License-Identifier: Apache-2.0 */
/*
 * set_flag: the action kind `set_flag` — set a key of an application's Redis that the
 * application reads as a switch (switch_to_backup_model), verify it, and optionally put the old
 * value back later.
 *
 *   set_flag: { redis: URL, key: K, value: V, ttl: D, revert_after: D }
 *
 * `GET K` (the old value, kept for the record and the revert), `SET K V` (`PX ttl` when ttl is
 * given), `GET K` again: the heal is verified when it reads back V. With revert_after, the run
 * stays open (the incident verifying) until then: the old value is put back (`DEL` when there
 * was none) if K still holds V, and the run ends. The policy holds `key` inside the workload's
 * policy.redis_keys.
 */
#ifndef VIGIL_HEAL_SET_FLAG_H
#define VIGIL_HEAL_SET_FLAG_H

#include <stdint.h>

#include "heal/action.h"

/* Its params (struct vigil_action.params). */
struct vigil_set_flag_params {
	char *url;	/* redis:// or unix:// (${VAR} expanded), with its password if any */
	char *url_safe; /* the same with the password as *** */
	char *key;
	char *value;
	uint64_t ttl_ms;	  /* 0: the key does not expire */
	uint64_t revert_after_ms; /* 0: never put back */
};

extern const struct vigil_action_ops vigil_set_flag_ops;

#endif /* VIGIL_HEAL_SET_FLAG_H */
