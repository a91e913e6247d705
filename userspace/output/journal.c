// SPDX-License-Identifier: Apache-2.0
/* journal: the journal file — whole lines, rotation, fsync policy, reopen — and how its lines
 * are read back (see journal.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/files.h"
#include "output/journal.h"

/* Every record starts so (records.c): where a record begins after a torn one. */
#define RECORD_MARK "{\"type\":\""

struct vigil_journal {
	char *path;
	int fd;	       /* -1: closed after a failed reopen; the next append tries again */
	uint64_t size; /* bytes in PATH, as far as this process knows */
	uint64_t max_bytes;
	unsigned int keep;
	enum vigil_journal_fsync fsync;
	bool dirty;	   /* written since the last fsync */
	bool need_newline; /* a torn line ends the file: set it apart before the next record */
	struct vigil_journal_counts st;
};

const char *vigil_journal_fsync_name(enum vigil_journal_fsync f)
{
	static const char *const names[] = {"none", "interval", "always"};

	return (unsigned int)f < 3 ? names[f] : NULL;
}

/* Open PATH for appending and learn its size. Returns 0 or -errno. */
static int open_fd(struct vigil_journal *j)
{
	struct stat sb;
	int ret = vigil_mkdir_parent(j->path);

	if (ret)
		return ret;
	/* O_RDWR: the last byte is read back below. */
	j->fd = open(j->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (j->fd < 0)
		return -errno;
	j->size = fstat(j->fd, &sb) ? 0 : (uint64_t)sb.st_size;
	/* A file that does not end in a newline (a crash mid-write, a copy cut short): the
	 * next record must start a line of its own. */
	j->need_newline = false;
	if (j->size) {
		char last;

		if (pread(j->fd, &last, 1, (off_t)j->size - 1) == 1 && last != '\n')
			j->need_newline = true;
	}
	return 0;
}

int vigil_journal_open(const struct vigil_journal_opts *o, struct vigil_journal **out, char *err,
		       size_t errlen)
{
	struct vigil_journal *j = calloc(1, sizeof(*j));
	int ret;

	if (!j)
		return -ENOMEM;
	j->fd = -1;
	j->max_bytes = o->max_bytes;
	j->keep = o->keep;
	j->fsync = o->fsync;
	j->path = strdup(o->path);
	ret = j->path ? open_fd(j) : -ENOMEM;
	if (ret) {
		snprintf(err, errlen, "journal %s: %s", o->path, strerror(-ret));
		vigil_journal_close(j);
		return ret;
	}
	*out = j;
	return 0;
}

/* fsync under the policy (not "none"), counted. */
static void sync_fd(struct vigil_journal *j)
{
	if (j->fd < 0 || j->fsync == VIGIL_FSYNC_NONE || !j->dirty)
		return;
	if (fsync(j->fd)) {
		j->st.fsync_errors++;
		j->st.last_errno = errno;
	} else {
		j->st.fsyncs++;
	}
	j->dirty = false;
}

void vigil_journal_close(struct vigil_journal *j)
{
	if (!j)
		return;
	sync_fd(j);
	if (j->fd >= 0)
		close(j->fd);
	free(j->path);
	free(j);
}

void vigil_journal_sync(struct vigil_journal *j)
{
	if (j && j->fsync == VIGIL_FSYNC_INTERVAL)
		sync_fd(j);
}

int vigil_journal_reopen(struct vigil_journal *j)
{
	int ret;

	sync_fd(j);
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
	ret = open_fd(j);
	if (ret) {
		j->st.reopen_errors++;
		j->st.last_errno = -ret;
	} else {
		j->st.reopens++;
	}
	return ret;
}

/* PATH.n into buf. Returns 0, or -ENAMETOOLONG. */
static int numbered(const char *path, unsigned int n, char *buf, size_t len)
{
	return snprintf(buf, len, "%s.%u", path, n) >= (int)len ? -ENAMETOOLONG : 0;
}

/* PATH -> PATH.1 -> ... -> PATH.keep (removed), then a new PATH. Returns 0 or -errno; on an
 * error the records go on to PATH as it is. */
static int rotate(struct vigil_journal *j)
{
	char from[PATH_MAX], to[PATH_MAX];
	int ret = 0;

	sync_fd(j);
	if (!j->keep) {
		if (unlink(j->path) && errno != ENOENT)
			ret = -errno;
	} else {
		ret = numbered(j->path, j->keep, to, sizeof(to));
		if (!ret && unlink(to) && errno != ENOENT)
			ret = -errno;
		for (unsigned int n = j->keep - 1; !ret && n >= 1; n--) {
			ret = numbered(j->path, n, from, sizeof(from));
			if (!ret)
				ret = numbered(j->path, n + 1, to, sizeof(to));
			if (!ret && rename(from, to) && errno != ENOENT)
				ret = -errno;
		}
		if (!ret)
			ret = numbered(j->path, 1, to, sizeof(to));
		if (!ret && rename(j->path, to))
			ret = -errno;
	}
	if (!ret) {
		close(j->fd);
		j->fd = -1;
		ret = open_fd(j);
		if (!ret && j->fsync != VIGIL_FSYNC_NONE)
			vigil_sync_parent(j->path);
	}
	if (ret) {
		j->st.rotate_errors++;
		j->st.last_errno = -ret;
		return ret;
	}
	j->st.rotations++;
	return 0;
}

/* Whether PATH would pass max_bytes with len more bytes. The size this process counted may be
 * stale (a copytruncate): it is checked against the file before a rotation. */
static bool over(struct vigil_journal *j, size_t len)
{
	struct stat sb;

	if (!j->max_bytes || j->size + len <= j->max_bytes)
		return false;
	if (!fstat(j->fd, &sb))
		j->size = (uint64_t)sb.st_size;
	return j->size && j->size + len > j->max_bytes;
}

/* A failed record, by kind. Returns -err. */
static int failed(struct vigil_journal *j, int err)
{
	j->st.errors++;
	j->st.last_errno = err;
	if (err == ENOSPC || err == EDQUOT || err == EFBIG)
		j->st.enospc++;
	return -err;
}

int vigil_journal_append(struct vigil_journal *j, const char *buf, size_t len)
{
	ssize_t n;
	off_t end;

	if (j->fd < 0 && vigil_journal_reopen(j))
		return failed(j, j->st.last_errno);
	if (over(j, len))
		rotate(j); /* failed: counted, and the record still goes to PATH */
	if (j->need_newline) {
		n = write(j->fd, "\n", 1);
		if (n != 1)
			return failed(j, n < 0 ? errno : ENOSPC);
		j->need_newline = false;
		j->size++;
	}
	n = write(j->fd, buf, len);
	if (n == (ssize_t)len) {
		j->size += len;
		j->st.records++;
		j->dirty = true;
		if (j->fsync == VIGIL_FSYNC_ALWAYS)
			sync_fd(j);
		return 0;
	}
	if (n <= 0)
		return failed(j, n < 0 ? errno : ENOSPC);
	/* Cut short: take back the n bytes that went (with O_APPEND the offset is the end). */
	j->st.short_writes++;
	end = lseek(j->fd, 0, SEEK_CUR);
	if (end >= n && !ftruncate(j->fd, end - n)) {
		j->st.cut_back++;
		j->size = (uint64_t)(end - n);
	} else {
		j->st.torn++;
		j->need_newline = true;
		j->size += (size_t)n;
	}
	/* A short write does not say why: a second one would (ENOSPC, EFBIG, EDQUOT). */
	return failed(j, ENOSPC);
}

const struct vigil_journal_counts *vigil_journal_counts(const struct vigil_journal *j)
{
	return &j->st;
}

void vigil_journal_status_json(const struct vigil_journal *j, struct vigil_json *js)
{
	const struct vigil_journal_counts *s = &j->st;

	vigil_json_str(js, "path", j->path);
	vigil_json_u64(js, "max_bytes", j->max_bytes);
	vigil_json_u64(js, "keep", j->keep);
	vigil_json_str(js, "fsync", vigil_journal_fsync_name(j->fsync));
	vigil_json_bool(js, "open", j->fd >= 0);
	vigil_json_u64(js, "records", s->records);
	vigil_json_u64(js, "errors", s->errors);
	vigil_json_u64(js, "enospc", s->enospc);
	vigil_json_u64(js, "short_writes", s->short_writes);
	vigil_json_u64(js, "cut_back", s->cut_back);
	vigil_json_u64(js, "torn", s->torn);
	vigil_json_u64(js, "rotations", s->rotations);
	vigil_json_u64(js, "rotate_errors", s->rotate_errors);
	vigil_json_u64(js, "reopens", s->reopens);
	vigil_json_u64(js, "reopen_errors", s->reopen_errors);
	vigil_json_u64(js, "fsyncs", s->fsyncs);
	vigil_json_u64(js, "fsync_errors", s->fsync_errors);
	vigil_json_str(js, "last_error", s->last_errno ? strerror(s->last_errno) : "");
}

/* --- reading ------------------------------------------------------------------------------ */

json_t *vigil_journal_parse_line(const char *line, size_t len, size_t flags, size_t *at, bool *torn)
{
	const char *p = line;
	json_t *r = json_loadb(line, len, flags, NULL);

	*at = 0;
	*torn = false;
	if (json_is_object(r))
		return r;
	json_decref(r);
	*torn = true;
	/* A record's text cannot hold the mark inside a string (its quote would be \"), but a
	 * nested object could begin so: the first start from which the rest parses wins. */
	while (len > 1 && (p = memmem(p + 1, len - (size_t)(p + 1 - line), RECORD_MARK,
				      sizeof(RECORD_MARK) - 1))) {
		r = json_loadb(p, len - (size_t)(p - line), flags, NULL);
		if (json_is_object(r)) {
			*at = (size_t)(p - line);
			return r;
		}
		json_decref(r);
	}
	return NULL;
}

void vigil_journal_files_free(char **paths, int n)
{
	for (int i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

int vigil_journal_files(const char *path, unsigned int keep, char ***paths)
{
	char **v = calloc(keep + 1, sizeof(*v)), name[PATH_MAX];
	int n = 0;

	if (!v)
		return -ENOMEM;
	for (unsigned int k = keep; k >= 1; k--) {
		if (numbered(path, k, name, sizeof(name)) || access(name, F_OK))
			continue;
		v[n] = strdup(name);
		if (!v[n++])
			goto fail;
	}
	v[n] = strdup(path);
	if (!v[n++])
		goto fail;
	*paths = v;
	return n;
fail:
	vigil_journal_files_free(v, n);
	return -ENOMEM;
}
