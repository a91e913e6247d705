/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bad_exec: a file the heal policy trusts — root-owned, mode 0755, in a directory of root's
 * alone — that is no program, so that its exec fails (ENOEXEC). For the tests of a restart
 * whose exec fails: a path that does not exist is refused at load now, as any untrusted one.
 */
#ifndef VIGIL_TEST_BAD_EXEC_H
#define VIGIL_TEST_BAD_EXEC_H

#define VT_BAD_EXEC "/tmp/vigil-test-bad-exec/not-a-program"

/* Make VT_BAD_EXEC. 0 or -errno. */
int vt_bad_exec_make(void);

#endif
