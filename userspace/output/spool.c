// SPDX-License-Identifier: Apache-2.0
/*
 * spool: records waiting for a queued sink's backend (Redis), in a local file.
 *
 * File format (integers little-endian):
 *
 *   file header, 16 bytes    "VSPOOL1\0" (8 bytes), then u64 cursor: the offset of the next
 *                            frame to replay (16 when at the start)
 *   frames, one per append   u32 magic 0x52465356 ("VSFR"), u32 compressed length, u32 raw
 *                            length, u32 CRC-32 (zlib crc32()) of the compressed bytes; then
 *                            the compressed bytes (zlib compress2(), Z_BEST_SPEED)
 *   raw payload of a frame   u32 record count, then per record u32 length + bytes
 *
 * A frame's compressed and raw lengths are at most 64 MiB, a record at most 16 MiB.
 *
 * Crash safety. A frame is written with one pwrite() at the end of the file, so a crash can
 * only leave a torn frame at the tail. Open walks every frame and cuts the file at the first
 * one that is short or has a bad magic, length or CRC. A bad frame in the middle of the file
 * (the disk or someone else changed it: appends cannot) ends the walk just the same and the
 * frames after it are cut off too. That is a choice: a frame has no marker that cannot also
 * appear inside compressed bytes, so skipping to "the next frame" after a bad one is a guess,
 * and a file that is always a prefix of what was written is easy to reason about.
 * The cursor is one 8-byte pwrite(); a cursor that is not a frame boundary is reset to the
 * first frame (replay is at least once: the consumer drops duplicates by record id).
 */
#define ZLIB_CONST
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/files.h"
#include "output/spool.h"

#define SPOOL_HDR 16u
#define CURSOR_OFF 8u
#define FRAME_HDR 16u
#define FRAME_MAGIC 0x52465356u /* "VSFR" */
#define FRAME_MAX (64u << 20)
#define RECORD_MAX (16u << 20)
/* Buffers grown past this for one big frame are freed after use, not kept for the next. */
#define KEEP_BYTES (1u << 20)

static const char spool_magic[8] = "VSPOOL1";

struct frame {
	uint32_t clen; /* compressed length */
	uint32_t rlen; /* raw length */
	uint32_t crc;
};

struct vigil_spool {
	int fd;
	bool sync;
	bool dirty; /* a failed append could not be truncated away: retry before the next */
	uint64_t max_bytes;
	uint64_t end;	 /* file size: where the next frame goes */
	uint64_t cursor; /* the next frame to replay */
	struct vigil_spool_stats st;
	/* The last peek, until consume. */
	bool peeked;
	uint64_t peek_next; /* offset just past the peeked frame */
	unsigned int peek_n;
	uint8_t *abuf; /* append: raw payload being built */
	size_t acap;
	uint8_t *zbuf; /* append: frame being written; open, peek: compressed bytes read */
	size_t zcap;
	uint8_t *rbuf; /* peek: raw payload, which recs point into */
	size_t rcap;
	const void **recs;
	size_t *lens;
	size_t ncap;
	char *aside; /* where a file that was no spool was put at open, or NULL */
};

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = v >> (8 * i);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

/* Returns 0, -ENODATA at the end of the file before len bytes, or -errno. */
static int pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t r = pread(fd, p, len, off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ENODATA;
		p += r;
		len -= r;
		off += r;
	}
	return 0;
}

/* Returns 0 or -errno (a short write is retried for the rest, which then reports why). */
static int pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t r = pwrite(fd, p, len, off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO;
		p += r;
		len -= r;
		off += r;
	}
	return 0;
}

/* Makes *buf hold at least need bytes; the old contents are not kept. Returns 0 or -ENOMEM. */
static int grow(uint8_t **buf, size_t *cap, size_t need)
{
	size_t n = need < 4096 ? 4096 : need + need / 4;

	if (*cap >= need)
		return 0;
	free(*buf);
	*buf = malloc(n);
	*cap = *buf ? n : 0;
	return *buf ? 0 : -ENOMEM;
}

static void trim(uint8_t **buf, size_t *cap)
{
	if (*cap <= KEEP_BYTES)
		return;
	free(*buf);
	*buf = NULL;
	*cap = 0;
}

static void file_hdr(uint8_t *h, uint64_t cursor)
{
	memcpy(h, spool_magic, sizeof(spool_magic));
	put_le64(h + CURSOR_OFF, cursor);
}

/* Returns 0 and the cursor saved in the file header, or -errno. */
static int save_cursor(struct vigil_spool *s, uint64_t cursor)
{
	uint8_t b[8];
	int ret;

	put_le64(b, cursor);
	ret = pwrite_full(s->fd, b, sizeof(b), CURSOR_OFF);
	if (!ret && s->sync && fdatasync(s->fd))
		ret = -errno;
	return ret;
}

/* Reads the frame at off (which must end by limit) into s->zbuf and checks it. Returns 0 and
 * *f, -EBADMSG if it is short or has a bad magic, length or CRC, -ENOMEM, or -errno. */
static int read_frame(struct vigil_spool *s, uint64_t off, uint64_t limit, struct frame *f)
{
	uint8_t h[FRAME_HDR];
	int ret;

	if (limit - off < FRAME_HDR)
		return -EBADMSG;
	ret = pread_full(s->fd, h, sizeof(h), off);
	if (ret)
		return ret == -ENODATA ? -EBADMSG : ret;
	f->clen = get_le32(h + 4);
	f->rlen = get_le32(h + 8);
	f->crc = get_le32(h + 12);
	/* Any real payload is 4 bytes or more, and compresses to a few bytes at least. */
	if (get_le32(h) != FRAME_MAGIC || !f->clen || f->clen > FRAME_MAX || f->rlen < 4 ||
	    f->rlen > FRAME_MAX || f->clen > limit - off - FRAME_HDR)
		return -EBADMSG;
	ret = grow(&s->zbuf, &s->zcap, f->clen);
	if (ret)
		return ret;
	ret = pread_full(s->fd, s->zbuf, f->clen, off + FRAME_HDR);
	if (ret)
		return ret == -ENODATA ? -EBADMSG : ret;
	if (crc32(0, s->zbuf, f->clen) != f->crc)
		return -EBADMSG;
	return 0;
}

/* The record count of the frame in s->zbuf, from the first 4 inflated bytes only (open counts
 * pending records without inflating whole frames). A count that cannot be right is 0. Returns
 * 0 and *count, -EBADMSG if those bytes do not inflate, -ENOMEM. */
static int frame_count(const struct vigil_spool *s, const struct frame *f, uint32_t *count)
{
	uint8_t out[4];
	z_stream z = {};

	z.next_in = s->zbuf;
	z.avail_in = f->clen;
	z.next_out = out;
	z.avail_out = sizeof(out);
	if (inflateInit(&z) != Z_OK)
		return -ENOMEM;
	if (inflate(&z, Z_SYNC_FLUSH) == Z_MEM_ERROR) {
		inflateEnd(&z);
		return -ENOMEM;
	}
	inflateEnd(&z);
	if (z.avail_out)
		return -EBADMSG;
	*count = get_le32(out);
	if (*count > (f->rlen - 4) / 4)
		*count = 0;
	return 0;
}

/* Points s->recs and s->lens at the records of the raw payload in s->rbuf. Returns 0 and
 * *count, -EBADMSG if the lengths do not add up to exactly rlen, -ENOMEM. */
static int parse(struct vigil_spool *s, uint32_t rlen, uint32_t *count)
{
	uint32_t n = get_le32(s->rbuf);
	size_t pos = 4;

	if (n > (rlen - 4) / 4)
		return -EBADMSG;
	if (n > s->ncap) {
		size_t cap = n < 64 ? 64 : n;
		const void **r;
		size_t *l;

		r = realloc(s->recs, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		s->recs = r;
		l = realloc(s->lens, cap * sizeof(*l));
		if (!l)
			return -ENOMEM;
		s->lens = l;
		s->ncap = cap;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint32_t len;

		if (rlen - pos < 4)
			return -EBADMSG;
		len = get_le32(s->rbuf + pos);
		pos += 4;
		if (len > rlen - pos)
			return -EBADMSG;
		s->recs[i] = s->rbuf + pos;
		s->lens[i] = len;
		pos += len;
	}
	if (pos != rlen)
		return -EBADMSG;
	*count = n;
	return 0;
}

/* Moves the cursor to next, past nrec records, and saves it; when nothing is left the file is
 * truncated back to its header. Returns 0 or -errno: the cursor has not moved, unless the
 * error came after the truncation (the frames are gone: the spool is empty all the same). */
static int advance(struct vigil_spool *s, uint64_t next, uint64_t nrec)
{
	int ret;

	if (next >= s->end) {
		/* Truncate first: a crash before the cursor is saved leaves a cursor past the end
		 * of the file, which open resets to the (empty) start. */
		if (ftruncate(s->fd, SPOOL_HDR))
			return -errno;
		s->end = SPOOL_HDR;
		s->cursor = SPOOL_HDR;
		s->st.pending = 0;
		s->dirty = false;
		s->peeked = false;
		return save_cursor(s, SPOOL_HDR);
	}
	ret = save_cursor(s, next);
	if (ret)
		return ret;
	s->cursor = next;
	s->st.pending -= nrec < s->st.pending ? nrec : s->st.pending;
	s->peeked = false;
	return 0;
}

/* Walks the frames of a file of size bytes whose header holds saved, cuts a torn tail, and
 * sets end, cursor and pending. Returns 0 or -errno. */
static int recover(struct vigil_spool *s, uint64_t size, uint64_t saved)
{
	uint64_t off = SPOOL_HDR, records = 0, before = 0;
	bool cursor_ok = false;
	struct frame f;
	uint32_t count;
	int ret;

	for (;;) {
		if (off == saved) {
			cursor_ok = true;
			before = records;
		}
		if (off == size)
			break;
		ret = read_frame(s, off, size, &f);
		if (ret == -EBADMSG)
			break;
		if (ret)
			return ret;
		ret = frame_count(s, &f, &count);
		if (ret == -ENOMEM)
			return ret;
		/* CRC-good but not inflatable: peek reports it (-EBADMSG) and skips it. */
		records += ret ? 0 : count;
		off += FRAME_HDR + f.clen;
	}
	if (off < size) {
		s->st.torn_bytes += size - off;
		s->st.torn_frames++;
		if (ftruncate(s->fd, off))
			return -errno;
	}
	s->end = off;
	s->cursor = cursor_ok ? saved : SPOOL_HDR;
	s->st.pending = records - (cursor_ok ? before : 0);
	if (s->cursor == s->end && s->end > SPOOL_HDR) {
		/* Everything was consumed; the crash came before the truncation. */
		if (ftruncate(s->fd, SPOOL_HDR))
			return -errno;
		s->end = SPOOL_HDR;
		s->cursor = SPOOL_HDR;
	}
	if (s->cursor != saved)
		return save_cursor(s, s->cursor);
	if (off < size && s->sync && fdatasync(s->fd))
		return -errno;
	return 0;
}

/* Creates the spool at path: the header is written under a temporary name (mode 0600) that is
 * then linked into place, so no crash leaves a spool without its header. If another process
 * creates it first, its file is kept. Returns 0 or -errno. */
static int create(const char *path, bool sync)
{
	uint8_t h[SPOOL_HDR];
	char tmp[PATH_MAX];
	int fd, ret;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	file_hdr(h, SPOOL_HDR);
	ret = pwrite_full(fd, h, sizeof(h), 0);
	if (!ret && sync && fdatasync(fd))
		ret = -errno;
	close(fd);
	if (!ret && link(tmp, path) && errno != EEXIST)
		ret = -errno;
	unlink(tmp);
	if (!ret && sync)
		ret = vigil_sync_parent(path);
	return ret;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int vigil_spool_open(const char *path, uint64_t max_bytes, bool sync, struct vigil_spool **out,
		     char *err, size_t errlen)
{
	const char *why = NULL;
	struct vigil_spool *s;
	uint8_t h[SPOOL_HDR];
	struct stat st;
	int ret;

	s = calloc(1, sizeof(*s));
	if (!s) {
		ret = -ENOMEM;
		goto fail;
	}
	s->max_bytes = max_bytes;
	s->sync = sync;
again:
	s->fd = open(path, O_RDWR | O_CLOEXEC);
	if (s->fd < 0 && errno == ENOENT) {
		ret = vigil_mkdir_parent(path);
		if (!ret)
			ret = create(path, sync);
		if (ret)
			goto fail;
		s->fd = open(path, O_RDWR | O_CLOEXEC);
	}
	if (s->fd < 0) {
		ret = -errno;
		goto fail;
	}
	/* Two writers would interleave frames and fight over the cursor. */
	if (flock(s->fd, LOCK_EX | LOCK_NB)) {
		ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
		why = ret == -EBUSY ? "in use (locked by another open)" : NULL;
		goto fail;
	}
	if (fstat(s->fd, &st)) {
		ret = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		why = "not a regular file";
		goto fail;
	}
	if (st.st_size == 0) {
		/* Never one of ours (see create()); nothing to lose: give it a header. */
		file_hdr(h, SPOOL_HDR);
		ret = pwrite_full(s->fd, h, sizeof(h), 0);
		if (!ret && sync && fdatasync(s->fd))
			ret = -errno;
		if (ret)
			goto fail;
		st.st_size = SPOOL_HDR;
	}
	if (st.st_size >= SPOOL_HDR) {
		ret = pread_full(s->fd, h, sizeof(h), 0);
		if (ret)
			goto fail;
	}
	if (st.st_size < SPOOL_HDR || memcmp(h, spool_magic, sizeof(spool_magic))) {
		char bad[PATH_MAX];

		/* Not ours, or its header destroyed: kept for a person to look at, and vigil
		 * starts with a new spool rather than not at all. Once. */
		ret = -EINVAL;
		why = "not a vigil spool";
		if (s->aside)
			goto fail;
		ret = vigil_set_aside(path, bad, sizeof(bad));
		why = ret ? "not a vigil spool, and it could not be kept aside" : NULL;
		if (!ret && !(s->aside = strdup(bad)))
			ret = -ENOMEM;
		if (ret)
			goto fail;
		close(s->fd);
		s->fd = -1;
		goto again;
	}
	ret = recover(s, st.st_size, get_le64(h + CURSOR_OFF));
	trim(&s->zbuf, &s->zcap);
	if (ret)
		goto fail;
	*out = s;
	return 0;
fail:
	set_err(err, errlen, "%s: %s", path, why ? why : strerror(-ret));
	vigil_spool_close(s);
	return ret;
}

void vigil_spool_close(struct vigil_spool *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s->abuf);
	free(s->zbuf);
	free(s->rbuf);
	free(s->recs);
	free(s->lens);
	free(s->aside);
	free(s);
}

const char *vigil_spool_aside(const struct vigil_spool *s)
{
	return s->aside;
}

int vigil_spool_append(struct vigil_spool *s, const void *const *recs, const size_t *lens,
		       unsigned int n)
{
	uint64_t raw = 4;
	uLongf zlen;
	size_t pos;
	int ret;

	if (!n)
		return -EINVAL;
	for (unsigned int i = 0; i < n; i++) {
		if (lens[i] > RECORD_MAX)
			return -E2BIG;
		raw += 4 + lens[i];
	}
	if (raw > FRAME_MAX)
		return -E2BIG;
	if (s->dirty) {
		if (ftruncate(s->fd, s->end))
			return -errno;
		s->dirty = false;
	}
	ret = grow(&s->abuf, &s->acap, raw);
	if (!ret)
		ret = grow(&s->zbuf, &s->zcap, FRAME_HDR + compressBound(raw));
	if (ret)
		goto out;
	put_le32(s->abuf, n);
	pos = 4;
	for (unsigned int i = 0; i < n; i++) {
		put_le32(s->abuf + pos, lens[i]);
		pos += 4;
		if (lens[i])
			memcpy(s->abuf + pos, recs[i], lens[i]);
		pos += lens[i];
	}
	zlen = s->zcap - FRAME_HDR;
	if (compress2(s->zbuf + FRAME_HDR, &zlen, s->abuf, raw, Z_BEST_SPEED) != Z_OK) {
		ret = -ENOMEM; /* the buffer is compressBound(): memory is the only failure */
		goto out;
	}
	if (zlen > FRAME_MAX) {
		ret = -E2BIG;
		goto out;
	}
	if (s->max_bytes && s->end + FRAME_HDR + zlen > s->max_bytes) {
		s->st.full_drops += n;
		ret = -ENOSPC;
		goto out;
	}
	put_le32(s->zbuf, FRAME_MAGIC);
	put_le32(s->zbuf + 4, zlen);
	put_le32(s->zbuf + 8, raw);
	put_le32(s->zbuf + 12, crc32(0, s->zbuf + FRAME_HDR, zlen));
	ret = pwrite_full(s->fd, s->zbuf, FRAME_HDR + zlen, s->end);
	if (!ret && s->sync && fdatasync(s->fd))
		ret = -errno;
	if (ret) {
		/* Leave no torn frame; if even that fails, open cuts it later, or the next
		 * append truncates first. */
		if (ftruncate(s->fd, s->end))
			s->dirty = true;
		goto out;
	}
	s->end += FRAME_HDR + zlen;
	s->st.pending += n;
	s->st.appended += n;
out:
	trim(&s->abuf, &s->acap);
	trim(&s->zbuf, &s->zcap);
	return ret;
}

int vigil_spool_peek(struct vigil_spool *s, const void *const **recs, const size_t **lens,
		     unsigned int *n)
{
	uint32_t count = 0;
	struct frame f;
	uLongf got;
	int ret, zret;

	if (s->peeked)
		goto done;
	if (s->cursor >= s->end)
		return -ENOENT;
	ret = read_frame(s, s->cursor, s->end, &f);
	if (ret == -EBADMSG) {
		/* The file changed under us since open: the next frame cannot be found. Drop
		 * everything from here (the frames before the cursor are consumed already). */
		s->st.torn_frames++;
		ret = advance(s, s->end, 0);
		return ret ? ret : -EBADMSG;
	}
	if (!ret)
		ret = grow(&s->rbuf, &s->rcap, f.rlen);
	if (ret)
		goto out;
	got = f.rlen;
	zret = uncompress(s->rbuf, &got, s->zbuf, f.clen);
	if (zret == Z_MEM_ERROR) {
		ret = -ENOMEM;
		goto out;
	}
	ret = zret == Z_OK && got == f.rlen ? parse(s, f.rlen, &count) : -EBADMSG;
	if (ret == -EBADMSG) {
		/* Skipped as if consumed: this frame will never inflate. */
		s->st.torn_frames++;
		if (frame_count(s, &f, &count))
			count = 0;
		ret = advance(s, s->cursor + FRAME_HDR + f.clen, count);
		ret = ret ? ret : -EBADMSG;
		goto out;
	}
	if (ret)
		goto out;
	s->peeked = true;
	s->peek_next = s->cursor + FRAME_HDR + f.clen;
	s->peek_n = count;
	trim(&s->zbuf, &s->zcap);
done:
	*recs = s->recs;
	*lens = s->lens;
	*n = s->peek_n;
	return 0;
out:
	trim(&s->zbuf, &s->zcap);
	trim(&s->rbuf, &s->rcap);
	return ret;
}

int vigil_spool_consume(struct vigil_spool *s)
{
	unsigned int n = s->peek_n;
	int ret;

	if (!s->peeked)
		return -EINVAL;
	ret = advance(s, s->peek_next, n);
	if (!s->peeked)
		s->st.consumed += n;
	/* The records are no longer needed: a big frame's buffer can go. */
	if (!s->peeked)
		trim(&s->rbuf, &s->rcap);
	return ret;
}

void vigil_spool_stats(const struct vigil_spool *s, struct vigil_spool_stats *st)
{
	*st = s->st;
	st->bytes = s->end;
}
