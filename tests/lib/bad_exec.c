// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bad_exec.h"

int vt_bad_exec_make(void)
{
	static const char text[] = "not a program\n";
	int fd, ret = 0;

	if (mkdir("/tmp/vigil-test-bad-exec", 0700) && errno != EEXIST)
		return -errno;
	if (chmod("/tmp/vigil-test-bad-exec", 0700))
		return -errno;
	/* Whatever stands there (a link a test left) goes: the file is made anew. */
	if (unlink(VT_BAD_EXEC) && errno != ENOENT)
		return -errno;
	fd = open(VT_BAD_EXEC, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0755);
	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text) || fchmod(fd, 0755))
		ret = errno ? -errno : -EIO;
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}
