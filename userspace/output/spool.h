/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spool: a local, append-only, zlib-compressed file of records waiting to be sent. A queued
 * sink (sink.h) writes here while its backend (Redis) is unreachable and replays the frames in
 * order when it is back.
 * Records are opaque byte strings (any bytes, NUL and '\n' included) of at most 16 MiB; one
 * append of n records is one frame, and replay goes frame by frame (peek, send, consume).
 * Replay is at least once: a crash between send and consume replays the frame again.
 * Not thread-safe: the caller holds a mutex. The file format is described in spool.c.
 */
#ifndef VIGIL_SPOOL_H
#define VIGIL_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vigil_spool;

struct vigil_spool_stats {
	uint64_t bytes;	      /* file size now, header included */
	uint64_t pending;     /* records appended and not yet consumed */
	uint64_t appended;    /* records appended since open */
	uint64_t consumed;    /* records consumed since open */
	uint64_t full_drops;  /* records refused because the cap was reached */
	uint64_t torn_bytes;  /* bytes cut off at open (a torn tail), since open */
	uint64_t torn_frames; /* 1 per tear found at open */
};

/* Open (create if missing, mode 0600, parent directories created 0755) the spool at path.
 * max_bytes: the cap on the file size (0 = no cap). sync: fdatasync after each append and
 * cursor update (the daemon passes true; benchmarks may pass false).
 * Recovery at open: walks every frame from the header; a frame that is short, has a bad
 * magic, a bad length or a bad CRC ends the walk, and the file is truncated there (counted in
 * torn_bytes / torn_frames). The saved cursor is kept if it falls on a frame boundary inside
 * the good part, else reset to the first frame (replaying again is safe: the consumer drops
 * duplicates by record id). pending is recomputed from the frames after the cursor.
 * A missing file is created under a temporary name and linked into place, so a spool file is
 * never seen without its header; an existing empty file is given a header. The file is locked
 * (flock): a second open of the same spool, in this process or another, fails with -EBUSY.
 * Returns 0 and *out, or -errno with err naming the path and what was wrong. A file that is
 * not a spool at all (bad file header) is never overwritten: it is set aside as PATH.bad (or
 * .bad.1 to .9) and a new spool made in its place (vigil_spool_aside() says where it went);
 * -EINVAL only when it cannot be set aside. */
int vigil_spool_open(const char *path, uint64_t max_bytes, bool sync, struct vigil_spool **out,
		     char *err, size_t errlen);
/* Closes the file (releasing the lock) and frees; accepts NULL. */
void vigil_spool_close(struct vigil_spool *s);

/* Append n records (recs[i], lens[i]) as one frame (one write of the whole frame, then
 * fdatasync when sync). Returns 0, -ENOSPC if the frame would take the file past max_bytes
 * (nothing written; the n records are counted in full_drops), -E2BIG if one record exceeds
 * 16 MiB or the frame exceeds 64 MiB (raw or compressed), -EINVAL if n is 0, -ENOMEM, or
 * -errno of the write (the file is truncated back to its previous size so no torn frame is
 * left behind). */
int vigil_spool_append(struct vigil_spool *s, const void *const *recs, const size_t *lens,
		       unsigned int n);

/* The frame at the cursor, decompressed: *n records; record i is (*recs)[i] of (*lens)[i]
 * bytes. The arrays and bytes belong to the spool and stay valid until the next call to
 * peek, consume, append or close. Returns 0, -ENOENT when nothing is pending, -EBADMSG if
 * the frame cannot be inflated (it is then skipped as if consumed, counted in torn_frames),
 * -ENOMEM, or -errno of a read. Calling peek twice without consume returns the same frame. */
int vigil_spool_peek(struct vigil_spool *s, const void *const **recs, const size_t **lens,
		     unsigned int *n);

/* Mark the frame returned by the last peek as done: advance the cursor past it and save the
 * cursor (pwrite of the 8-byte cursor field, fdatasync when sync). When the cursor reaches the
 * end of the file, truncate the file back to its header and reset the cursor (the spool is
 * empty again). Returns 0 or -errno (-EINVAL if there was no peek). On an error saving the
 * cursor after the truncation, the frame is consumed all the same (it is gone from the file). */
int vigil_spool_consume(struct vigil_spool *s);

/* Counters and sizes. */
void vigil_spool_stats(const struct vigil_spool *s, struct vigil_spool_stats *st);
/* Where open set aside a file that was no spool, or NULL. */
const char *vigil_spool_aside(const struct vigil_spool *s);

#endif /* VIGIL_SPOOL_H */
