/* SPDX-License-Identifier: Apache-2.0 */
/*
 * records: what vigil writes, one JSON object per record. Every record starts with type
 * (event|incident|action|health|breaker|knowledge|state), its record id rid, ts (RFC 3339 UTC, ms),
 * node and workload, in that order; see README.md "What vigil writes". The journal, stdout and
 * the queued sinks all take these bytes (output.h).
 */
#ifndef VIGIL_RECORDS_H
#define VIGIL_RECORDS_H

#include <stdint.h>
#include <sys/types.h>

#include "core/json.h"
#include "detect/detector.h"
#include "detect/incidents.h"

/*
 * A record id: "MS-N", the wall-clock millisecond it was written (never going back within a
 * run) and a counter within that millisecond, as Redis stream ids are. The Redis sink writes
 * each stream entry under that id, so a record replayed after an outage is recognised and
 * written once. vigil_rid_next() makes the next one, before the record is built.
 */
struct vigil_rid {
	uint64_t ms, n;
};
void vigil_rid_next(struct vigil_rid *r, uint64_t wall_ns);

/* What the knowledge store now holds for (signature, action): type "knowledge". */
struct vigil_know_rec {
	const char *workload, *signature, *cls, *action;
	uint64_t attempts, successes;
	uint64_t last_applied_wall_ns; /* 0: never */
	/* The outcome just learned ("success", "failed"), which the fleet's counts add (Redis:
	 * P:knowledge:SIGNATURE); NULL: none (a record of numbers only, never counted there). */
	const char *outcome;
};

/*
 * The record builders. Each writes one complete JSON object into j (begun and ended here; j's
 * buffer is reused), with "rid" right after "type" when rid is not NULL (an answer that shows
 * a record has none). Returns 0 or -ENOMEM.
 */
int vigil_record_event(struct vigil_json *j, const char *node, uint64_t wall_ns,
		       const struct vigil_rid *rid, const struct vigil_event_hdr *h,
		       const char *workload, const struct vigil_detection *d);
int vigil_record_incident(struct vigil_json *j, const char *node, uint64_t wall_ns,
			  const struct vigil_rid *rid, const struct vigil_incident *i);
int vigil_record_action(struct vigil_json *j, const char *node, uint64_t wall_ns,
			const struct vigil_rid *rid, const struct vigil_incident *i,
			const char *action, const char *outcome, const char *detail, pid_t pid);
/* A rate over one interval (retransmits): an event record with count, interval_ms, per_s. */
int vigil_record_rate(struct vigil_json *j, const char *node, uint64_t wall_ns,
		      const struct vigil_rid *rid, const char *workload,
		      const struct vigil_detection *d, uint64_t count, uint64_t interval_ms);
/* Kernel events a probe family dropped since the last record (type "health"). */
int vigil_record_health(struct vigil_json *j, const char *node, uint64_t wall_ns,
			const struct vigil_rid *rid, const char *family, uint64_t drops,
			uint64_t drops_total);
/* Map of family began to refuse entries for being full: refused in the last second, in all
 * (type "health", with "map"). */
int vigil_record_health_full(struct vigil_json *j, const char *node, uint64_t wall_ns,
			     const struct vigil_rid *rid, const char *family, const char *map,
			     uint64_t refused, uint64_t refused_total);
/* A circuit breaker changed state ("open", "half_open", "closed"): type "breaker". failures:
 * failed heals in the window; opened_wall_ns: when it last opened (0: never). */
int vigil_record_breaker(struct vigil_json *j, const char *node, uint64_t wall_ns,
			 const struct vigil_rid *rid, const char *workload, const char *state,
			 uint64_t failures, uint64_t opened_wall_ns);
int vigil_record_knowledge(struct vigil_json *j, const char *node, uint64_t wall_ns,
			   const struct vigil_rid *rid, const struct vigil_know_rec *k);
/* The healer's whole durable state (type "state", workload "-"): its members, written by
 * members(j, arg) into the object "state" (heal/state.h's vigil_state_members). */
typedef void (*vigil_members_fn)(struct vigil_json *j, const void *arg);
int vigil_record_state(struct vigil_json *j, const char *node, uint64_t wall_ns,
		       const struct vigil_rid *rid, vigil_members_fn members, const void *arg);

/* RFC 3339 UTC with milliseconds: "2026-11-29T12:34:56.789Z". buf needs 25 bytes. */
void vigil_rfc3339(uint64_t wall_ns, char *buf, size_t len);

#endif /* VIGIL_RECORDS_H */
