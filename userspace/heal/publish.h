/* SPDX-License-Identifier: Apache-2.0 */
/*
 * publish: the action kind `publish` — a command to the application through a Redis stream
 * (restore_conversation_state), optionally acknowledged.
 *
 *   publish: { redis: URL, stream: S, fields: [NAME=value, ...], ack_timeout: D, group: G }
 *
 * `XADD S * NAME value ... incident ID signature SIG workload W action RULE`: the configured
 * fields, then what says which incident the command is for. Without ack_timeout the heal
 * succeeds once Redis gave the entry its id.
 *
 * The acknowledgement contract (with ack_timeout, which needs group): the application owns a
 * consumer group G on S (vigil never creates it: a missing stream or group fails the heal
 * before anything is published), reads S with `XREADGROUP GROUP G consumer ... STREAMS S >`,
 * and `XACK S G ID` once it has done what the entry asks. vigil polls every 150 ms until
 * ack_timeout: the entry is acknowledged when G's last-delivered-id has reached it (`XINFO
 * GROUPS S`) and it is not pending in G (`XPENDING S G ID ID 1`). A consumer that reads with
 * NOACK acknowledges on delivery. Not acknowledged in time: the heal fails, saying whether the
 * entry was delivered (to which consumer) or never read.
 */
#ifndef VIGIL_HEAL_PUBLISH_H
#define VIGIL_HEAL_PUBLISH_H

#include <stdint.h>

#include "heal/action.h"

#define VIGIL_PUBLISH_MAX_FIELDS 32
#define VIGIL_PUBLISH_POLL_MS 150 /* how often an acknowledgement is looked for */

/* Its params (struct vigil_action.params). */
struct vigil_publish_params {
	char *url;	/* redis:// or unix:// (${VAR} expanded), with its password if any */
	char *url_safe; /* the same with the password as *** */
	char *stream;
	char **names, **values; /* the configured fields, nfields of each */
	unsigned int nfields;
	uint64_t ack_timeout_ms; /* 0: published is done */
	char *group;		 /* with ack_timeout: the application's consumer group */
};

extern const struct vigil_action_ops vigil_publish_ops;

#endif /* VIGIL_HEAL_PUBLISH_H */
