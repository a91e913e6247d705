/* SPDX-License-Identifier: Apache-2.0 */
/* files: what the modules that keep files (journal, spool, knowledge store, state) share. */
#ifndef VIGIL_FILES_H
#define VIGIL_FILES_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* mkdir -p of path's parent directory (mode 0755, less the umask). Returns 0 or -errno. */
int vigil_mkdir_parent(const char *path);
/* fsync of path's parent directory, so that a name made or renamed in it survives a crash.
 * Returns 0 or -errno. */
int vigil_sync_parent(const char *path);

/*
 * Replace path with the len bytes of buf so that a crash at any moment leaves either the old
 * file or the new one, whole: PATH.tmp (mode, less the umask; made with its directory if
 * missing), fsync, rename over path, fsync of the directory. Returns 0 or -errno; a failed
 * write leaves path as it was and no PATH.tmp.
 */
int vigil_write_atomic(const char *path, const char *buf, size_t len, mode_t mode);

/* Move a malformed file out of the way without replacing an earlier one: PATH.bad, or the
 * first free PATH.bad.1 .. PATH.bad.9. Returns 0 with its new name in bad, -EEXIST when they
 * all exist, or -errno. */
int vigil_set_aside(const char *path, char *bad, size_t len);

/* The whole of a regular file of at most max bytes, NUL-terminated, into *out (malloc'd; the
 * caller frees) and its length. Never blocks on a FIFO. Returns 0, -ENOENT, -EINVAL (not a
 * regular file), -EFBIG (larger than max), -ENOMEM or the -errno of reading it. */
int vigil_read_small(const char *path, size_t max, char **out, size_t *outlen);
/* The same from an open fd (its offset at the start; not closed here): the caller opened it
 * with the flags it needs (O_NOFOLLOW, openat2's resolve rules, and O_NONBLOCK). */
int vigil_read_small_fd(int fd, size_t max, char **out, size_t *outlen);

/*
 * May vigil, as root, run the executable at path: absolute, a regular executable file owned by
 * root and not writable by its group or others, and every directory on its way (of the path
 * as written, and of where its links lead) owned by root and not writable by others — unless
 * sticky, like /tmp, where no one but root may replace what root owns. Returns 0, or -errno
 * (-EPERM for a trust failure) with why naming the file or directory and what is wrong.
 */
int vigil_path_trusted(const char *path, char *why, size_t len);
/* The same for a file vigil believes (a pidfile): a regular file, executable or not, that
 * only root can have written or replaced. */
int vigil_file_trusted(const char *path, char *why, size_t len);

/* A token file (a bearer token, a secret) is a regular file open to no one but its owner: 0600
 * or 0400. Returns 0, or -EPERM with why. */
int vigil_token_mode_ok(const struct stat *st, const char *path, char *why, size_t len);
/*
 * A token file's token into buf (len bytes with its NUL), its trailing newline and spaces
 * dropped. Returns 0, or -errno with why naming the file and what is wrong: -EPERM (its mode,
 * vigil_token_mode_ok), -EFBIG (len - 1 bytes or more), -EINVAL (empty, or a control
 * character in it), or the -errno of opening or reading it.
 */
int vigil_read_token(const char *path, char *buf, size_t len, char *why, size_t whylen);

#endif /* VIGIL_FILES_H */
