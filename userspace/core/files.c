// SPDX-License-Identifier: Apache-2.0
/* files: parent directories of the files vigil keeps, and how a whole file is written, set aside
 * and read back. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/files.h"

int vigil_mkdir_parent(const char *path)
{
	char dir[PATH_MAX];
	char *p;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	p = strrchr(dir, '/');
	if (!p || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

int vigil_sync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	int fd, ret = 0;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if (snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd))
		ret = -errno;
	close(fd);
	return ret;
}

int vigil_write_atomic(const char *path, const char *buf, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	size_t off = 0;
	int fd = -1, err;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	err = vigil_mkdir_parent(path);
	if (err)
		return err;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t w = write(fd, buf + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			err = -errno;
			goto cleanup;
		}
		off += (size_t)w;
	}
	if (fsync(fd)) {
		err = -errno;
		goto cleanup;
	}
	err = close(fd) ? -errno : 0;
	fd = -1;
	if (!err && rename(tmp, path))
		err = -errno;
	if (!err)
		err = vigil_sync_parent(path);
cleanup:
	if (fd >= 0)
		close(fd);
	if (err)
		unlink(tmp);
	return err;
}

int vigil_set_aside(const char *path, char *bad, size_t len)
{
	for (int i = 0; i < 10; i++) {
		if (i)
			snprintf(bad, len, "%s.bad.%d", path, i);
		else
			snprintf(bad, len, "%s.bad", path);
		if (!renameat2(AT_FDCWD, path, AT_FDCWD, bad, RENAME_NOREPLACE))
			return 0;
		if (errno == EEXIST)
			continue;
		if (errno != EINVAL)
			return -errno;
		/* A filesystem without RENAME_NOREPLACE: link() never replaces either. */
		if (!link(path, bad))
			return unlink(path) ? -errno : 0;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

int vigil_read_small_fd(int fd, size_t max, char **out, size_t *outlen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int err = 0;

	*out = NULL;
	*outlen = 0;
	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((uint64_t)st.st_size > max)
		return -EFBIG;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	/* Read to the end, not to st_size: a file that grew meanwhile is still capped. */
	while (len <= (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto cleanup;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	if (len > (size_t)st.st_size) {
		err = -EFBIG;
		goto cleanup;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	buf = NULL;
cleanup:
	free(buf);
	return err;
}

int vigil_read_small(const char *path, size_t max, char **out, size_t *outlen)
{
	int fd, err;

	*out = NULL;
	*outlen = 0;
	/* O_NONBLOCK: a FIFO put at the path must not hang the daemon's start. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = vigil_read_small_fd(fd, max, out, outlen);
	close(fd);
	return err;
}

/* st of name (a file or a directory): owned by root, and not writable by its group or others
 * (a directory may be, when sticky). Returns 0 or -EPERM with why. */
static int owned_safely(const char *name, const struct stat *st, char *why, size_t len)
{
	bool dir = S_ISDIR(st->st_mode);

	if (st->st_uid != 0) {
		snprintf(why, len, "%s %s is owned by uid %u, not root", dir ? "directory" : "file",
			 name, (unsigned int)st->st_uid);
		return -EPERM;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(dir && (st->st_mode & S_ISVTX))) {
		snprintf(why, len, "%s %s is writable by %s (mode %04o)",
			 dir ? "directory" : "file", name,
			 st->st_mode & S_IWOTH ? "others" : "its group",
			 (unsigned int)(st->st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

/* Every directory above the file at real (a resolved path), up to /. */
static int dirs_safe(const char *real, char *why, size_t len)
{
	char dir[PATH_MAX];
	struct stat st;
	char *slash;

	snprintf(dir, sizeof(dir), "%s", real);
	while ((slash = strrchr(dir, '/'))) {
		if (slash == dir)
			slash[1] = '\0'; /* "/" itself */
		else
			*slash = '\0';
		if (stat(dir, &st)) {
			int err = -errno;

			snprintf(why, len, "directory %s: %s", dir, strerror(-err));
			return err;
		}
		if (owned_safely(dir, &st, why, len))
			return -EPERM;
		if (!strcmp(dir, "/"))
			break;
	}
	return 0;
}

/* vigil_path_trusted() and vigil_file_trusted(): exec, whether it must be executable. */
static int trusted(const char *path, bool exec, char *why, size_t len)
{
	char real[PATH_MAX], linkdir[PATH_MAX], dir[PATH_MAX];
	struct stat st;
	char *slash;
	int err;

	if (!path || path[0] != '/') {
		snprintf(why, len, "'%s' is not an absolute path", path ? path : "");
		return -EINVAL;
	}
	if (!realpath(path, real) || stat(real, &st)) {
		err = -errno;
		snprintf(why, len, "%s: %s", path, strerror(-err));
		return err;
	}
	if (!S_ISREG(st.st_mode) || (exec && !(st.st_mode & 0111))) {
		snprintf(why, len, "%s is not %s", path, exec ? "an executable file" : "a file");
		return -EPERM;
	}
	err = owned_safely(real, &st, why, len);
	if (!err)
		err = dirs_safe(real, why, len);
	if (err || !strcmp(path, real))
		return err;
	/* A link: whoever may change the directory it stands in may point it elsewhere. */
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	slash[slash == dir ? 1 : 0] = '\0';
	if (!realpath(dir, linkdir)) {
		err = -errno;
		snprintf(why, len, "directory %s: %s", dir, strerror(-err));
		return err;
	}
	if (stat(linkdir, &st)) {
		err = -errno;
		snprintf(why, len, "directory %s: %s", linkdir, strerror(-err));
		return err;
	}
	err = owned_safely(linkdir, &st, why, len);
	return err ? err : dirs_safe(linkdir, why, len);
}

int vigil_path_trusted(const char *path, char *why, size_t len)
{
	return trusted(path, true, why, len);
}

int vigil_file_trusted(const char *path, char *why, size_t len)
{
	return trusted(path, false, why, len);
}

int vigil_token_mode_ok(const struct stat *st, const char *path, char *why, size_t len)
{
	if (!S_ISREG(st->st_mode)) {
		snprintf(why, len, "'%s' is not a regular file", path);
		return -EPERM;
	}
	if (st->st_mode & 077) {
		snprintf(why, len,
			 "'%s' is open to group or others (mode %04o): a token file must be 0600 "
			 "or 0400",
			 path, (unsigned int)(st->st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

int vigil_read_token(const char *path, char *buf, size_t len, char *why, size_t whylen)
{
	struct stat st;
	ssize_t n;
	size_t end;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		err = -errno;
		snprintf(why, whylen, "%s: %s", path, strerror(-err));
		return err;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		snprintf(why, whylen, "%s: %s", path, strerror(-err));
	} else if (vigil_token_mode_ok(&st, path, why, whylen)) {
		err = -EPERM;
	} else if ((n = read(fd, buf, len)) < 0) {
		err = -errno;
		snprintf(why, whylen, "%s: %s", path, strerror(-err));
	} else if ((size_t)n == len) {
		err = -EFBIG;
		snprintf(why, whylen, "%s: longer than %zu bytes", path, len - 1);
	} else {
		for (end = (size_t)n; end && strchr(" \t\r\n", buf[end - 1]); end--)
			;
		buf[end] = '\0';
		for (size_t i = 0; i < end && !err; i++)
			if ((unsigned char)buf[i] < ' ' || buf[i] == 0x7f)
				err = -EINVAL;
		if (!end || err) {
			err = -EINVAL;
			snprintf(why, whylen, "%s: %s", path,
				 end ? "the token holds a control character" : "empty");
		}
	}
	close(fd);
	return err;
}
