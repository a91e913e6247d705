/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the control socket's request line (control/ctl.c): whatever a local
 * client of the socket's group sends, cut as the server cuts it — at the first "\n", within
 * the server's 256 bytes — and split by vigil_ctl_parse_request. Built and run by
 * tests/fuzz/run.sh with ASan, UBSan and LeakSanitizer.
 *
 * The contract: 0 with a command that is not empty, has no space and no NUL inside the line,
 * and an argument that is NULL or not empty, does not start with a space and lies after the
 * command; or -EBADMSG with a reason. Nothing is read or written outside the line.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/ctl.h"

#define CHECK(cond, what)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_ctl: %s (%s:%d)\n", what, __FILE__, __LINE__);       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#define MAX_REQUEST 256 /* the server's, "\n" included */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t len = nl ? (size_t)(nl - data) : size;
	char *line, *cmd, *arg;
	const char *why = NULL;
	int ret;

	if (len >= MAX_REQUEST)
		return 0;	/* the server drops the connection before it parses */
	line = malloc(len + 1); /* exactly what the parser may touch */
	CHECK(line, "out of memory");
	memcpy(line, data, len);
	ret = vigil_ctl_parse_request(line, len, &cmd, &arg, &why);
	CHECK(ret == 0 || ret == -EBADMSG, "an unexpected error");
	if (ret) {
		CHECK(why && why[0], "a refusal without a reason");
		CHECK(memchr(data, '\0', len) || len == 0 || data[0] == ' ' ||
			  (len == 1 && data[0] == '\r'),
		      "a line with a command refused");
		goto out;
	}
	CHECK(cmd == line && cmd[0], "an empty command");
	CHECK(strlen(cmd) <= len && !strchr(cmd, ' ') && !strchr(cmd, '\n'),
	      "a command with a space, a line break or beyond the line");
	if (arg) {
		CHECK(arg > cmd + strlen(cmd) && arg < line + len, "an argument outside the line");
		CHECK(arg[0] && arg[0] != ' ', "an empty argument, or one starting with a space");
		CHECK(arg + strlen(arg) <= line + len, "an argument running past the line");
	}
out:
	free(line);
	return 0;
}
