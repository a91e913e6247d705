// SPDX-License-Identifier: Apache-2.0
/* Unit: the Redis spool keeps every record's exact bytes in order across reopen, survives a
 * torn or corrupt tail, keeps its cursor, and honours its cap. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "output/spool.h"

struct fixture {
	char dir[64];
	char path[128]; /* dir/a/b/spool: the parents do not exist yet */
};

struct rec {
	const char *p;
	size_t len;
};

/* clang-format off */
#define REC(s) { s, sizeof(s) - 1 }
/* clang-format on */

/* Three frames of different record counts: NUL, '\n' and an empty record among them. */
static const struct rec f1[] = {REC("first record")};
static const struct rec f2[] = {REC("a\0b\nc"), {"", 0}, REC("line one\nline two\n")};
static const struct rec f3[] = {REC("x"), REC("\0\0\0\0"), REC("{\"type\":\"event\"}"),
				REC("\xff\xfe\n")};

struct frame_def {
	const struct rec *r;
	unsigned int n;
};

static const struct frame_def F1 = {f1, 1}, F2 = {f2, 3}, F3 = {f3, 4};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/vigil-spool-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/a/b/spool", f->dir);
	*state = f;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int ret = nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);

	free(f);
	return ret;
}

static struct vigil_spool *open_ok(const char *path, uint64_t max_bytes)
{
	struct vigil_spool *s = NULL;
	char err[256] = "";
	int ret = vigil_spool_open(path, max_bytes, true, &s, err, sizeof(err));

	if (ret)
		fail_msg("open %s: %d %s", path, ret, err);
	return s;
}

static int append(struct vigil_spool *s, const struct frame_def *d)
{
	const void *recs[8];
	size_t lens[8];

	for (unsigned int i = 0; i < d->n; i++) {
		recs[i] = d->r[i].p;
		lens[i] = d->r[i].len;
	}
	return vigil_spool_append(s, recs, lens, d->n);
}

/* Peek: the frame is d, byte for byte. */
static void expect_peek(struct vigil_spool *s, const struct frame_def *d)
{
	const void *const *recs;
	const size_t *lens;
	unsigned int n;

	assert_int_equal(vigil_spool_peek(s, &recs, &lens, &n), 0);
	assert_int_equal(n, d->n);
	for (unsigned int i = 0; i < n; i++) {
		assert_int_equal(lens[i], d->r[i].len);
		if (lens[i])
			assert_memory_equal(recs[i], d->r[i].p, lens[i]);
	}
}

static void expect_frame(struct vigil_spool *s, const struct frame_def *d)
{
	expect_peek(s, d);
	assert_int_equal(vigil_spool_consume(s), 0);
}

static void expect_empty(struct vigil_spool *s)
{
	const void *const *recs;
	const size_t *lens;
	unsigned int n;

	assert_int_equal(vigil_spool_peek(s, &recs, &lens, &n), -ENOENT);
}

static struct vigil_spool_stats stats(const struct vigil_spool *s)
{
	struct vigil_spool_stats st;

	vigil_spool_stats(s, &st);
	return st;
}

static uint64_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static void poke(const char *path, uint64_t off, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, buf, len, off), (ssize_t)len);
	close(fd);
}

static void read_at(const char *path, uint64_t off, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, off), (ssize_t)len);
	close(fd);
}

static uint64_t disk_cursor(const char *path)
{
	uint8_t b[8];
	uint64_t v = 0;

	read_at(path, 8, b, sizeof(b));
	for (int i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

static void put_cursor(const char *path, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = v >> (8 * i);
	poke(path, 8, b, sizeof(b));
}

/* Bytes that do not compress, from a fixed seed. */
static void noise(uint8_t *p, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = seed >> 16;
	}
}

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	size_t big_len = 3u << 20; /* past the buffers' keep size */
	uint8_t *big = malloc(big_len);
	struct rec big_rec[2];
	struct frame_def BIG = {big_rec, 2};
	struct vigil_spool *s;
	char parent[160];
	struct stat st;
	DIR *d;
	struct dirent *e;
	int entries = 0;

	assert_non_null(big);
	noise(big, big_len, 7);
	big_rec[0] = (struct rec){(const char *)big, big_len};
	big_rec[1] = (struct rec){"tail", 4};

	s = open_ok(f->path, 0);
	assert_int_equal(file_size(f->path), 16);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(append(s, &F1), 0);
	assert_int_equal(append(s, &F2), 0);
	assert_int_equal(append(s, &F3), 0);
	assert_int_equal(append(s, &BIG), 0);
	assert_int_equal(stats(s).appended, 10);
	assert_int_equal(stats(s).pending, 10);
	assert_int_equal(stats(s).bytes, file_size(f->path));
	vigil_spool_close(s);

	/* The parents were made, and no temporary file is left next to the spool. */
	snprintf(parent, sizeof(parent), "%s/a/b", f->dir);
	d = opendir(parent);
	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			entries++;
	closedir(d);
	assert_int_equal(entries, 1);

	s = open_ok(f->path, 0);
	assert_int_equal(stats(s).pending, 10);
	assert_int_equal(stats(s).appended, 0);
	assert_int_equal(stats(s).torn_frames, 0);
	assert_int_equal(vigil_spool_consume(s), -EINVAL); /* no peek */
	expect_peek(s, &F1);
	expect_frame(s, &F1); /* peek twice: the same frame */
	assert_int_equal(stats(s).pending, 9);
	expect_frame(s, &F2);
	expect_frame(s, &F3);
	expect_frame(s, &BIG);
	assert_int_equal(vigil_spool_consume(s), -EINVAL);
	expect_empty(s);
	assert_int_equal(file_size(f->path), 16);
	assert_int_equal(disk_cursor(f->path), 16);
	assert_int_equal(stats(s).bytes, 16);
	assert_int_equal(stats(s).pending, 0);
	assert_int_equal(stats(s).consumed, 10);
	vigil_spool_close(s);
	free(big);
}

static void test_cursor_persists(void **state)
{
	struct fixture *f = *state;
	struct vigil_spool *s = open_ok(f->path, 0);
	uint64_t e1;

	assert_int_equal(append(s, &F1), 0);
	e1 = stats(s).bytes;
	assert_int_equal(append(s, &F2), 0);
	expect_peek(s, &F1);
	/* An append between peek and consume leaves the peeked frame in place. */
	assert_int_equal(append(s, &F3), 0);
	assert_int_equal(vigil_spool_consume(s), 0);
	assert_int_equal(disk_cursor(f->path), e1);
	vigil_spool_close(s);

	s = open_ok(f->path, 0);
	assert_int_equal(stats(s).pending, F2.n + F3.n);
	expect_frame(s, &F2);
	expect_frame(s, &F3);
	expect_empty(s);
	vigil_spool_close(s);
}

static void test_torn_tail(void **state)
{
	struct fixture *f = *state;
	struct vigil_spool *s = open_ok(f->path, 0);
	uint64_t e2, e3;

	assert_int_equal(append(s, &F1), 0);
	assert_int_equal(append(s, &F2), 0);
	e2 = stats(s).bytes;
	assert_int_equal(append(s, &F3), 0);
	e3 = stats(s).bytes;
	vigil_spool_close(s);

	assert_int_equal(truncate(f->path, e3 - 5), 0);
	s = open_ok(f->path, 0);
	assert_int_equal(stats(s).torn_frames, 1);
	assert_int_equal(stats(s).torn_bytes, e3 - 5 - e2);
	assert_int_equal(stats(s).pending, F1.n + F2.n);
	assert_int_equal(file_size(f->path), e2);
	assert_int_equal(stats(s).bytes, e2);
	/* Appending after recovery: the new frame replays after the good ones. */
	assert_int_equal(append(s, &F3), 0);
	expect_frame(s, &F1);
	expect_frame(s, &F2);
	expect_frame(s, &F3);
	expect_empty(s);
	vigil_spool_close(s);

	/* A tear inside a frame header (3 bytes of it) is cut the same way. */
	s = open_ok(f->path, 0);
	assert_int_equal(append(s, &F1), 0);
	vigil_spool_close(s);
	poke(f->path, file_size(f->path), "VSF", 3);
	s = open_ok(f->path, 0);
	assert_int_equal(stats(s).torn_frames, 1);
	assert_int_equal(stats(s).torn_bytes, 3);
	expect_frame(s, &F1);
	expect_empty(s);
	vigil_spool_close(s);
}

static void test_garbage_tail(void **state)
{
	struct fixture *f = *state;
	struct vigil_spool *s = open_ok(f->path, 0);
	uint8_t junk[1000];
	uint64_t e2;

	assert_int_equal(append(s, &F1), 0);
	assert_int_equal(append(s, &F2), 0);
	e2 = stats(s).bytes;
	vigil_spool_close(s);

	/* Random bytes, then the same behind a valid frame magic (its lengths then point past the
	 * end of the file or beyond 64 MiB). */
	for (int round = 0; round < 2; round++) {
		noise(junk, sizeof(junk), 99 + round);
		if (round)
			memcpy(junk, "VSFR", 4);
		else
			junk[0] = 0xab;
		poke(f->path, e2, junk, sizeof(junk));
		assert_int_equal(file_size(f->path), e2 + sizeof(junk));
		s = open_ok(f->path, 0);
		assert_int_equal(stats(s).torn_frames, 1);
		assert_int_equal(stats(s).torn_bytes, sizeof(junk));
		assert_int_equal(file_size(f->path), e2);
		assert_int_equal(stats(s).pending, F1.n + F2.n);
		vigil_spool_close(s);
	}
	s = open_ok(f->path, 0);
	assert_int_equal(stats(s).torn_frames, 0);
	expect_frame(s, &F1);
	expect_frame(s, &F2);
	expect_empty(s);
	vigil_spool_close(s);
}

/* A bad CRC in the middle ends the walk: the frames after it are cut off too (spool.c says
 * why: after a bad frame, where the next one starts is a guess). */
static void test_bad_crc_middle(void **state)
{
	struct fixture *f = *state;
	struct vigil_spool *s = open_ok(f->path, 0);
	uint64_t e1, e3;
	uint8_t b;

	assert_int_equal(append(s, &F1), 0);
	e1 = stats(s).bytes;
	assert_int_equal(append(s, &F2), 0);
	assert_int_equal(append(s, &F3), 0);
	e3 = stats(s).bytes;
	vigil_spool_close(s);

	read_at(f->path, e1 + 16 + 2, &b, 1); /* a compressed byte of the second frame */
	b ^= 0x40;
	poke(f->path, e1 + 16 + 2, &b, 1);
	s = open_ok(f->path, 0);
	assert_int_equal(stats(s).torn_frames, 1);
	assert_int_equal(stats(s).torn_bytes, e3 - e1);
	assert_int_equal(file_size(f->path), e1);
	assert_int_equal(stats(s).pending, F1.n);
	expect_frame(s, &F1);
	expect_empty(s);
	vigil_spool_close(s);
}

static void test_cap(void **state)
{
	struct fixture *f = *state;
	struct vigil_spool *s = open_ok(f->path, 700);
	uint8_t rec[200];
	const void *recs[3] = {rec, rec, rec};
	size_t lens[3] = {sizeof(rec), sizeof(rec), sizeof(rec)};
	uint64_t size = 0;
	int ret = 0, ok = 0;

	noise(rec, sizeof(rec), 5);
	/* About 240 bytes a frame: two fit in 700 with the header, the third does not. */
	for (int i = 0; i < 10; i++) {
		size = file_size(f->path);
		ret = vigil_spool_append(s, recs, lens, 1);
		if (ret)
			break;
		ok++;
	}
	assert_int_equal(ret, -ENOSPC);
	assert_int_equal(ok, 2);
	assert_int_equal(file_size(f->path), size);
	assert_int_equal(stats(s).bytes, size);
	assert_true(size <= 700);
	assert_int_equal(stats(s).full_drops, 1);
	assert_int_equal(vigil_spool_append(s, recs, lens, 3), -ENOSPC);
	assert_int_equal(stats(s).full_drops, 4);
	assert_int_equal(stats(s).pending, 2);
	assert_int_equal(stats(s).appended, 2);
	assert_int_equal(file_size(f->path), size);
	vigil_spool_close(s);

	/* Nothing partial: the file reopens clean, and draining it makes room again. */
	s = open_ok(f->path, 700);
	assert_int_equal(stats(s).torn_frames, 0);
	assert_int_equal(stats(s).pending, 2);
	for (int i = 0; i < 2; i++) {
		const void *const *r;
		const size_t *l;
		unsigned int n;

		assert_int_equal(vigil_spool_peek(s, &r, &l, &n), 0);
		assert_int_equal(n, 1);
		assert_int_equal(l[0], sizeof(rec));
		assert_memory_equal(r[0], rec, sizeof(rec));
		assert_int_equal(vigil_spool_consume(s), 0);
	}
	assert_int_equal(file_size(f->path), 16);
	assert_int_equal(vigil_spool_append(s, recs, lens, 1), 0);
	vigil_spool_close(s);
}

static void test_not_a_spool(void **state)
{
	static const char text[] = "not a spool at all\n";
	struct fixture *f = *state;
	struct vigil_spool *s = NULL;
	char path[160], bad[176], err[256] = "", back[64] = "";
	int fd;

	/* Other contents, and a short file: set aside untouched (PATH.bad, then PATH.bad.1), and
	 * a new spool in their place — vigil starts, and loses nothing. */
	snprintf(path, sizeof(path), "%s/other", f->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	assert_int_equal(vigil_spool_open(path, 0, true, &s, err, sizeof(err)), 0);
	assert_non_null(s);
	snprintf(bad, sizeof(bad), "%s.bad", path);
	assert_string_equal(vigil_spool_aside(s), bad);
	assert_int_equal(file_size(path), 16);
	vigil_spool_close(s);
	assert_int_equal(file_size(bad), sizeof(text) - 1);
	read_at(bad, 0, back, sizeof(text) - 1);
	assert_string_equal(back, text);

	assert_int_equal(truncate(path, 3), 0); /* a torn header: "VSP" */
	assert_int_equal(vigil_spool_open(path, 0, true, &s, err, sizeof(err)), 0);
	snprintf(bad, sizeof(bad), "%s.bad.1", path);
	assert_string_equal(vigil_spool_aside(s), bad);
	assert_int_equal(file_size(bad), 3);
	vigil_spool_close(s);
	s = NULL;

	/* A directory is an error too. */
	assert_int_equal(vigil_spool_open(f->dir, 0, true, &s, err, sizeof(err)), -EISDIR);
	assert_non_null(strstr(err, f->dir));

	/* An empty file has nothing to lose: it becomes a spool. */
	assert_int_equal(truncate(path, 0), 0);
	s = open_ok(path, 0);
	assert_int_equal(file_size(path), 16);
	assert_int_equal(append(s, &F2), 0);
	vigil_spool_close(s);
	s = open_ok(path, 0);
	expect_frame(s, &F2);
	vigil_spool_close(s);
}

static void test_bad_cursor(void **state)
{
	struct fixture *f = *state;
	struct vigil_spool *s = open_ok(f->path, 0);
	uint64_t e1, e2, bad[5];

	assert_int_equal(append(s, &F1), 0);
	e1 = stats(s).bytes;
	assert_int_equal(append(s, &F2), 0);
	e2 = stats(s).bytes;
	expect_frame(s, &F1);
	vigil_spool_close(s);
	assert_int_equal(disk_cursor(f->path), e1);

	/* Inside a frame, inside the header, past the end, absurd: back to the first frame. */
	bad[0] = e1 + 3;
	bad[1] = 5;
	bad[2] = 0;
	bad[3] = e2 + 100;
	bad[4] = UINT64_MAX;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put_cursor(f->path, bad[i]);
		s = open_ok(f->path, 0);
		assert_int_equal(disk_cursor(f->path), 16);
		assert_int_equal(stats(s).pending, F1.n + F2.n);
		assert_int_equal(stats(s).torn_frames, 0);
		assert_int_equal(file_size(f->path), e2);
		expect_peek(s, &F1);
		vigil_spool_close(s);
	}

	/* At the end of the file: all consumed, the crash came before the truncation. */
	put_cursor(f->path, e2);
	s = open_ok(f->path, 0);
	assert_int_equal(stats(s).pending, 0);
	assert_int_equal(file_size(f->path), 16);
	assert_int_equal(disk_cursor(f->path), 16);
	expect_empty(s);
	vigil_spool_close(s);
}

static void test_too_big(void **state)
{
	struct fixture *f = *state;
	struct vigil_spool *s = open_ok(f->path, 0);
	static const char small[] = "small";
	const void *recs[5] = {small, small, small, small, small};
	size_t lens[5];

	/* The length is checked before the bytes are read: small is never read past its end
	 * (valgrind would say so). */
	lens[0] = 5;
	lens[1] = (16u << 20) + 1;
	assert_int_equal(vigil_spool_append(s, recs, lens, 2), -E2BIG);
	/* Five records of 16 MiB each: every one allowed, the frame over 64 MiB. */
	for (int i = 0; i < 5; i++)
		lens[i] = 16u << 20;
	assert_int_equal(vigil_spool_append(s, recs, lens, 5), -E2BIG);
	assert_int_equal(vigil_spool_append(s, recs, lens, 0), -EINVAL);
	assert_int_equal(stats(s).full_drops, 0);
	assert_int_equal(stats(s).appended, 0);
	assert_int_equal(file_size(f->path), 16);
	vigil_spool_close(s);
}

/* Writes a frame of body bytes (CRC right) claiming rlen raw bytes at the end of the file. */
static void put_frame(const char *path, const uint8_t *body, uint32_t blen, uint32_t rlen)
{
	uint32_t v[4] = {0x52465356u, blen, rlen, crc32(0, body, blen)};
	uint8_t hdr[16];

	for (int i = 0; i < 16; i++)
		hdr[i] = v[i / 4] >> (8 * (i % 4));
	poke(path, file_size(path), hdr, sizeof(hdr));
	poke(path, file_size(path), body, blen);
}

/* Compresses raw and writes it as a frame, with its raw length off by extra. */
static void put_raw(const char *path, const uint8_t *raw, uint32_t len, uint32_t extra)
{
	uint8_t z[128];
	uLongf zlen = sizeof(z);

	assert_int_equal(compress2(z, &zlen, raw, len, Z_BEST_SPEED), Z_OK);
	put_frame(path, z, zlen, len + extra);
}

/* Frames whose CRC is right but whose payload is not a payload: open keeps them (it checks
 * CRCs only), peek says -EBADMSG once for each, skips it, and goes on with the next frame. */
static void test_bad_frame_skipped(void **state)
{
	struct fixture *f = *state;
	struct vigil_spool *s = open_ok(f->path, 0);
	/* A count of 5 with one record; one record and 2 bytes more; a good payload. */
	static const uint8_t count5[] = {5, 0, 0, 0, 3, 0, 0, 0, 'a', 'b', 'c'};
	static const uint8_t trailing[] = {1, 0, 0, 0, 3, 0, 0, 0, 'a', 'b', 'c', 'x', 'y'};
	static const uint8_t good[] = {1, 0, 0, 0, 3, 0, 0, 0, 'a', 'b', 'c'};
	uint8_t notz[40];

	assert_int_equal(append(s, &F1), 0);
	vigil_spool_close(s);

	put_raw(f->path, count5, sizeof(count5), 0);
	noise(notz, sizeof(notz), 3); /* not zlib at all */
	put_frame(f->path, notz, sizeof(notz), 11);
	put_raw(f->path, trailing, sizeof(trailing), 0);
	put_raw(f->path, good, sizeof(good), 8); /* inflates to fewer bytes than it says */

	s = open_ok(f->path, 0);
	assert_int_equal(stats(s).torn_frames, 0);
	assert_int_equal(append(s, &F2), 0);
	expect_frame(s, &F1);
	for (int i = 1; i <= 4; i++) {
		const void *const *r;
		const size_t *l;
		unsigned int n;

		assert_int_equal(vigil_spool_peek(s, &r, &l, &n), -EBADMSG);
		assert_int_equal(stats(s).torn_frames, i);
	}
	assert_int_equal(stats(s).pending, F2.n);
	expect_frame(s, &F2);
	expect_empty(s);
	assert_int_equal(file_size(f->path), 16);
	vigil_spool_close(s);
}

/* A write that fails half way (here: the file size limit) leaves no torn frame behind. */
static void test_write_error_truncates(void **state)
{
	struct fixture *f = *state;
	struct vigil_spool *s = open_ok(f->path, 0);
	struct rlimit old, lim;
	uint8_t rec[4096];
	const void *recs[1] = {rec};
	size_t lens[1] = {sizeof(rec)};
	uint64_t e1;
	int ret;

	noise(rec, sizeof(rec), 11);
	assert_int_equal(append(s, &F1), 0);
	e1 = stats(s).bytes;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = e1 + 100;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	ret = vigil_spool_append(s, recs, lens, 1);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(ret, -EFBIG);
	assert_int_equal(file_size(f->path), e1);
	assert_int_equal(stats(s).bytes, e1);
	assert_int_equal(stats(s).appended, F1.n);
	assert_int_equal(append(s, &F2), 0);
	vigil_spool_close(s);

	s = open_ok(f->path, 0);
	assert_int_equal(stats(s).torn_frames, 0);
	expect_frame(s, &F1);
	expect_frame(s, &F2);
	expect_empty(s);
	vigil_spool_close(s);
}

/* One writer: a second open of the same spool is refused until the first closes. */
static void test_locked(void **state)
{
	struct fixture *f = *state;
	struct vigil_spool *s = open_ok(f->path, 0), *t = NULL;
	char err[256] = "";

	assert_int_equal(vigil_spool_open(f->path, 0, true, &t, err, sizeof(err)), -EBUSY);
	assert_null(t);
	assert_non_null(strstr(err, f->path));
	vigil_spool_close(s);
	t = open_ok(f->path, 0);
	vigil_spool_close(t);
	vigil_spool_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cursor_persists, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_garbage_tail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_crc_middle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_a_spool, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_cursor, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_too_big, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_frame_skipped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_error_truncates, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_locked, setup, teardown),
	};

	return cmocka_run_group_tests_name("spool", tests, NULL, NULL);
}
