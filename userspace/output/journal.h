/* SPDX-License-Identifier: Apache-2.0 */
/*
 * journal: the file of JSON lines every record goes to, and how its lines are read back.
 *
 * Writing. Each record is one line written with one write(2) on an O_APPEND descriptor, so a
 * reader never sees half a line of a write that succeeded. A write the file system cuts short
 * (ENOSPC, EFBIG, a quota) is undone: the file is cut back to where the record began
 * (ftruncate); if even that fails, the next record is preceded by a "\n", so that the torn
 * part stands on a line of its own and is never glued to the next record. Failures are
 * counted, by kind, and the last error kept.
 *
 * Rotation: before a record would take the file past max_bytes, PATH.keep is removed, PATH.N
 * becomes PATH.N+1, PATH becomes PATH.1 and a new PATH is started (keep 0: PATH is removed and
 * started anew). A failed rotation is counted and the records stay in PATH.
 *
 * Durability: fsync none (the kernel writes back when it will), interval (vigil_journal_sync()
 * from a timer: at most once a second, and only after a write), or always (after every
 * record, and before a rotation). A failed fsync is counted.
 *
 * Reopen: vigil_journal_reopen() (on SIGHUP) closes PATH and opens it again, for rotation
 * tools that move the file away (logrotate's create) or cut it (copytruncate, where O_APPEND
 * keeps every next line at the new end).
 */
#ifndef VIGIL_JOURNAL_H
#define VIGIL_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/json.h"

enum vigil_journal_fsync {
	VIGIL_FSYNC_NONE,
	VIGIL_FSYNC_INTERVAL,
	VIGIL_FSYNC_ALWAYS,
};

struct vigil_journal_opts {
	const char *path;
	uint64_t max_bytes; /* rotate before the file would exceed it; 0: never */
	unsigned int keep;  /* rotated files kept: PATH.1 (newest) .. PATH.keep */
	enum vigil_journal_fsync fsync;
};

struct vigil_journal_counts {
	uint64_t records;      /* lines written whole */
	uint64_t errors;       /* records not written (every kind below) */
	uint64_t enospc;       /* ... of them for want of space (ENOSPC, EDQUOT, EFBIG) */
	uint64_t short_writes; /* ... of them cut short by the file system */
	uint64_t cut_back;     /* short writes undone by ftruncate */
	uint64_t torn;	       /* short writes left in place: a "\n" sets them apart */
	uint64_t rotations;
	uint64_t rotate_errors;
	uint64_t reopens;
	uint64_t reopen_errors;
	uint64_t fsyncs;
	uint64_t fsync_errors;
	int last_errno; /* of the last failure, 0: none yet */
};

struct vigil_journal;

/* Open (or create, mode 0640, with its directory) the journal. Returns 0 and *out, or -errno
 * with err naming the path and the reason. */
int vigil_journal_open(const struct vigil_journal_opts *o, struct vigil_journal **out, char *err,
		       size_t errlen);
/* fsync (unless "none") and close; accepts NULL. */
void vigil_journal_close(struct vigil_journal *j);
/* Append one line: buf holds len bytes ending in '\n'. Returns 0 or -errno (counted). */
int vigil_journal_append(struct vigil_journal *j, const char *buf, size_t len);
/* Close and open PATH again (SIGHUP). Returns 0 or -errno (counted; the next append tries
 * again). */
int vigil_journal_reopen(struct vigil_journal *j);
/* The interval policy's fsync, when something was written since the last. */
void vigil_journal_sync(struct vigil_journal *j);
const struct vigil_journal_counts *vigil_journal_counts(const struct vigil_journal *j);
/* "path", "max_bytes", "keep", "fsync" and every count (the members of the "journal"
 * status object, which the caller opens). */
void vigil_journal_status_json(const struct vigil_journal *j, struct vigil_json *js);
/* "none", "interval", "always"; NULL for anything else. */
const char *vigil_journal_fsync_name(enum vigil_journal_fsync f);

/*
 * Reading. A journal line is one record; a line may also be torn (a crash, a journal written
 * by a version that glued the next record to a torn one, a copy cut short) or garbage. The
 * record of a line is where it parses as a JSON object: the whole line, or else the first
 * point after its start where a record begins ({"type":") and the rest of the line parses.
 * Returns the record (json_decref it) and *at its offset in line, or NULL when the line holds
 * none. *torn: the line did not parse whole (counted by the caller as skipped or torn).
 * flags: jansson's decoding flags.
 */
json_t *vigil_journal_parse_line(const char *line, size_t len, size_t flags, size_t *at,
				 bool *torn);

/* The files of a journal, oldest first: PATH.keep .. PATH.1 those that exist, then PATH
 * (always named). Returns how many were put in paths (malloc'd each; free with
 * vigil_journal_files_free), or -ENOMEM. */
int vigil_journal_files(const char *path, unsigned int keep, char ***paths);
void vigil_journal_files_free(char **paths, int n);

#define VIGIL_JOURNAL_KEEP_MAX 100 /* journal_keep's maximum, and what readers look for */

#endif /* VIGIL_JOURNAL_H */
