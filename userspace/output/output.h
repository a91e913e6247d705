/* SPDX-License-Identifier: Apache-2.0 */
/*
 * output: where records go. The journal (JSON lines, append-only; journal.h), stdout (short
 * human lines, terminal-safe, or JSON lines with --json) and a forward hook for the queued
 * sinks. Each vigil_out_*() takes the next record id, builds the record (records.h) and hands
 * the same bytes to all three. stdout never makes the loop wait: each line is one write(2),
 * non-blocking when stdout is a pipe or socket; a line a stalled reader cannot take now is
 * dropped and counted (the journal has it).
 */
#ifndef VIGIL_OUTPUT_H
#define VIGIL_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "detect/detector.h"
#include "detect/incidents.h"
#include "output/journal.h"
#include "output/records.h"

struct vigil_output;

struct vigil_output_opts {
	const char *node;
	const char *journal;			/* NULL or "": no journal */
	uint64_t journal_max_bytes;		/* journal.h: rotate past it; 0: never */
	unsigned int journal_keep;		/* rotated files kept */
	enum vigil_journal_fsync journal_fsync; /* none, interval (vigil_output_tick), always */
	bool json_stdout;			/* JSON lines on stdout instead of human lines */
	bool quiet;				/* nothing on stdout */
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
/* A map of family is full: the start of an episode (type "health", with "map"). */
void vigil_out_health_full(struct vigil_output *s, const char *family, const char *map,
			   uint64_t refused, uint64_t refused_total);
/* Kernel events a probe family dropped since the last record (type "health"). */
void vigil_out_health(struct vigil_output *s, const char *family, uint64_t drops,
		      uint64_t drops_total);
/* A circuit breaker changed state ("open", "half_open", "closed"): type "breaker". failures:
 * failed heals in the window; opened_wall_ns: when it last opened (0: never). */
void vigil_out_breaker(struct vigil_output *s, const char *workload, const char *state,
		       uint64_t failures, uint64_t opened_wall_ns);
/* What the knowledge store now holds for (signature, action): type "knowledge". */
void vigil_out_knowledge(struct vigil_output *s, const struct vigil_know_rec *k);
/*
 * The healer's durable state (a "state" record, members written by members(j, arg)), to the
 * queued sinks only: not to the journal nor stdout, which have every change it is made of as
 * its own record already (breaker, scheduled, awaiting approval...), where a whole snapshot
 * after each change would repeat all of it every time.
 */
void vigil_out_state(struct vigil_output *s, vigil_members_fn members, const void *arg);
/* Also hand every finished record (JSON with its rid, no newline) to fn, e.g. the Redis
 * sink's push; fn NULL: stop. fn must not block. */
typedef int (*vigil_forward_fn)(void *arg, const char *json, size_t len);
void vigil_output_set_forward(struct vigil_output *s, vigil_forward_fn fn, void *arg);
/* Count every action record in t (tally.h) too; NULL: stop. */
struct vigil_tally;
void vigil_output_set_tally(struct vigil_output *s, struct vigil_tally *t);
/* Records that could not be built or written to the journal, for status. */
uint64_t vigil_output_errors(const struct vigil_output *s);
/* SIGHUP: close the journal and open its path again (an outside rotation moved or cut it).
 * Returns 0 or -errno (counted; the next record tries again). */
int vigil_output_reopen(struct vigil_output *s);
/* Once a second: the journal's interval fsync, and a "health" record (family "journal" or
 * "stdout") when records were lost there since the last one (drops: since, drops_total: all). */
void vigil_output_tick(struct vigil_output *s);
/* "journal": its path (null when off), policy and counts (journal.h); "stdout": its mode and
 * the lines a stalled reader made it drop; into j. */
void vigil_output_status_json(const struct vigil_output *s, struct vigil_json *j);

#endif /* VIGIL_OUTPUT_H */
