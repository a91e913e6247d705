/* SPDX-License-Identifier: Apache-2.0 */
/*
 * output: where records go. The journal (JSON lines, append-only) and stdout (short human
 * lines, or JSON lines with --json). Every record has type (event|incident|action|health), ts
 * (RFC 3339 UTC, ms), node and workload; see README.md "What vigil writes".
 */
#ifndef VIGIL_OUTPUT_H
#define VIGIL_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "detect/detector.h"
#include "detect/incidents.h"
#include "core/json.h"

struct vigil_output;

struct vigil_output_opts {
	const char *node;
	const char *journal; /* NULL or "": no journal */
	bool json_stdout;    /* JSON lines on stdout instead of human lines */
	bool quiet;	     /* nothing on stdout */
};

/* Returns 0 and *out, or -errno with err naming the journal path and the reason. */
int vigil_output_open(const struct vigil_output_opts *o, struct vigil_output **out, char *err,
		     size_t errlen);
/* Closes the journal and frees; accepts NULL. */
void vigil_output_close(struct vigil_output *s);

void vigil_out_event(struct vigil_output *s, const struct vigil_event_hdr *h, const char *workload,
		      const struct vigil_detection *d);
void vigil_out_incident(struct vigil_output *s, const struct vigil_incident *i);
void vigil_out_action(struct vigil_output *s, const struct vigil_incident *i, const char *action,
		       const char *outcome, const char *detail, pid_t pid);
/* A rate over one interval (retransmits): an event record with count, interval_ms, per_s. */
void vigil_out_rate(struct vigil_output *s, const char *workload, const struct vigil_detection *d,
		     uint64_t count, uint64_t interval_ms);
/* Kernel events a probe family dropped since the last record (type "health"). */
void vigil_out_health(struct vigil_output *s, const char *family, uint64_t drops,
		       uint64_t drops_total);
/* A circuit breaker changed state ("open", "half_open", "closed"): type "breaker". failures:
 * failed heals in the window; opened_wall_ns: when it last opened (0: never). */
void vigil_out_breaker(struct vigil_output *s, const char *workload, const char *state,
			uint64_t failures, uint64_t opened_wall_ns);
/* What the knowledge store now holds for (signature, action): type "knowledge". */
struct vigil_know_rec {
	const char *workload, *signature, *cls, *action;
	uint64_t attempts, successes;
	uint64_t last_applied_wall_ns; /* 0: never */
};
void vigil_out_knowledge(struct vigil_output *s, const struct vigil_know_rec *k);
/* Also hand every finished record (JSON with its rid, no newline) to fn, e.g. the Redis
 * sink's push; fn NULL: stop. fn must not block. */
typedef int (*vigil_forward_fn)(void *arg, const char *json, size_t len);
void vigil_output_set_forward(struct vigil_output *s, vigil_forward_fn fn, void *arg);
/* Records that could not be written (journal write errors), for status. */
uint64_t vigil_output_errors(const struct vigil_output *s);

/* The record builders, exposed for tests. Each writes one complete JSON object into j.
 * Returns 0 or -ENOMEM. */
int vigil_record_event(struct vigil_json *j, const char *node, uint64_t wall_ns,
		       const struct vigil_event_hdr *h, const char *workload,
		       const struct vigil_detection *d);
int vigil_record_incident(struct vigil_json *j, const char *node, uint64_t wall_ns,
			  const struct vigil_incident *i);
int vigil_record_action(struct vigil_json *j, const char *node, uint64_t wall_ns,
			const struct vigil_incident *i, const char *action, const char *outcome,
			const char *detail, pid_t pid);

int vigil_record_rate(struct vigil_json *j, const char *node, uint64_t wall_ns, const char *workload,
		      const struct vigil_detection *d, uint64_t count, uint64_t interval_ms);
int vigil_record_health(struct vigil_json *j, const char *node, uint64_t wall_ns,
			const char *family, uint64_t drops, uint64_t drops_total);

int vigil_record_breaker(struct vigil_json *j, const char *node, uint64_t wall_ns,
			 const char *workload, const char *state, uint64_t failures,
			 uint64_t opened_wall_ns);
int vigil_record_knowledge(struct vigil_json *j, const char *node, uint64_t wall_ns,
			   const struct vigil_know_rec *k);

/*
 * Every record carries "rid", its record id: "MS-N", the wall-clock millisecond it was written
 * (never going back within a run) and a counter within that millisecond, as Redis stream ids
 * are. The Redis sink writes each stream entry under that id, so a record replayed after an
 * outage is recognised and written once. vigil_rid_next() makes the next one; vigil_rid_stamp()
 * puts it in a finished record, right after "type". Exposed for tests.
 */
struct vigil_rid {
	uint64_t ms, n;
};
void vigil_rid_next(struct vigil_rid *r, uint64_t wall_ns);
/* Returns 0, -EINVAL if j does not start with "type", -ENOMEM. */
int vigil_rid_stamp(struct vigil_json *j, const struct vigil_rid *r);

/* RFC 3339 UTC with milliseconds: "2026-11-29T12:34:56.789Z". buf needs 25 bytes. */
void vigil_rfc3339(uint64_t wall_ns, char *buf, size_t len);

#endif /* VIGIL_OUTPUT_H */
