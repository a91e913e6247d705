/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scratch: for a harness whose parser reads a file — the input written as that file, in a
 * directory of tmpfs (/dev/shm: no disk written, however many runs) made at the first input,
 * and emptied and removed when the fuzzer exits. Header-only: each harness is one program.
 */
#ifndef VIGIL_FUZZ_SCRATCH_H
#define VIGIL_FUZZ_SCRATCH_H

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char scratch_dir[64];

/* Everything in the directory (the file, and what the parser made beside it), then itself. */
static void scratch_cleanup(void)
{
	DIR *d = opendir(scratch_dir);
	struct dirent *de;

	while (d && (de = readdir(d)))
		unlinkat(dirfd(d), de->d_name, 0); /* "." and "..": refused, harmless */
	if (d)
		closedir(d);
	rmdir(scratch_dir);
}

/* The path of name in the scratch directory, now holding the size bytes at data; written into
 * path (len bytes). Aborts when tmpfs cannot take it: the run would test nothing. */
static void scratch_file(const char *name, const uint8_t *data, size_t size, char *path, size_t len)
{
	int fd;

	if (!scratch_dir[0]) {
		snprintf(scratch_dir, sizeof(scratch_dir), "/dev/shm/vigil-fuzz-XXXXXX");
		if (!mkdtemp(scratch_dir)) {
			perror("fuzz: /dev/shm");
			abort();
		}
		atexit(scratch_cleanup);
	}
	snprintf(path, len, "%s/%s", scratch_dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size || close(fd)) {
		perror("fuzz: writing the input");
		abort();
	}
}

#endif /* VIGIL_FUZZ_SCRATCH_H */
