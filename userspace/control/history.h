/* SPDX-License-Identifier: Apache-2.0 */
/*
 * history: the incidents, live or past. A running daemon answers "incidents" and "incident ID"
 * on its control socket from its live table; without a daemon (it stopped, or the journal
 * comes from another node) the same answers are built from a journal of JSON lines, where the
 * last record of an id is its current state. One renderer (ctl.h) serves both.
 *
 * "incidents"   -> {"incidents":[{"id","state","class","workload","count","age_s","title",
 *                   "lossy"}, ...]}, newest first; age_s is the time since the incident opened.
 * "incident ID" -> the incident's full record, as the journal writes it (records.h).
 */
#ifndef VIGIL_HISTORY_H
#define VIGIL_HISTORY_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "detect/incidents.h"
#include "core/json.h"

#define VIGIL_HISTORY_JOURNAL "/var/lib/vigil/journal.jsonl" /* the configs' default */
#define VIGIL_HISTORY_MAX 10000 /* incidents kept from a journal: the newest ones */
/* A record is a few KiB (a chain of 16 entries at most): a longer line is not one. */
#define VIGIL_JOURNAL_LINE_MAX (1u << 20)

/*
 * Answer "incidents" or "incident ID" from the live table t of the daemon on node. Returns 0
 * with one JSON object in out, -ENOENT for an unknown id and for a command (or an argument to
 * "incidents") that is not this module's, or -ENOMEM.
 */
int vigil_history_answer(const struct vigil_incidents *t, const char *node, const char *cmd,
			 const char *arg, struct vigil_json *out);

/* The same, as the control socket's queries "incidents" and "incident" (ctx: one of these). */
struct vigil_history_live {
	const struct vigil_incidents *incidents;
	const char *node;
};
int vigil_history_incidents_query(const char *arg, struct vigil_json *out, const void *ctx);
int vigil_history_incident_query(const char *arg, struct vigil_json *out, const void *ctx);

/* What reading a journal met. Skipped lines are never fatal. */
struct vigil_journal_stats {
	uint64_t lines;	    /* lines read */
	uint64_t skipped;   /* not JSON: torn, truncated, garbage, or longer than any record */
	uint64_t torn;	    /* torn, with a whole record after the tear: that record was read */
	uint64_t malformed; /* incident records without a usable id (counted when listing) */
	uint64_t forgotten; /* incidents dropped, oldest first, to keep only max of them */
};

/*
 * Answer cmd as vigil_history_answer() does, from the journal read from f (streamed line by
 * line; at most max incidents are kept, the newest: 0 means VIGIL_HISTORY_MAX). age_s is
 * counted from the ts of an incident's first record to now_wall_ns. Returns 0 and *answer
 * (malloc'd, NUL-terminated, one JSON object), -ENOENT for an id that is not in the journal
 * or a command that is not this module's, -EIO when reading f failed, or -ENOMEM. *st is
 * filled in every case.
 */
int vigil_history_journal(FILE *f, const char *cmd, const char *arg, unsigned int max,
			  uint64_t now_wall_ns, char **answer, struct vigil_journal_stats *st);
/* The same from the nf files of a journal, read in turn as one (oldest first: a rotated
 * journal's PATH.N .. PATH.1, then PATH; output/journal.h's vigil_journal_files()). */
int vigil_history_journals(FILE *const *f, unsigned int nf, const char *cmd, const char *arg,
			   unsigned int max, uint64_t now_wall_ns, char **answer,
			   struct vigil_journal_stats *st);

/*
 * The record on a journal line of len bytes (without its newline), or NULL when the line
 * holds none (counted in st->skipped): vigil_journal_parse_line(), counted. A line torn by a
 * crash mid-write and followed, on the same line, by a whole record: that record is read from
 * its own start (*at), the line counted in st->torn. The caller json_decref()s the record.
 * Every reader of a journal reads its lines so (vigil incidents, vigil report).
 */
json_t *vigil_history_parse_line(const char *line, size_t len, size_t *at,
				 struct vigil_journal_stats *st);

#endif /* VIGIL_HISTORY_H */
