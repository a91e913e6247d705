/* SPDX-License-Identifier: Apache-2.0 */
/* files: what the modules that keep files (journal, spool, knowledge store) share. */
#ifndef VIGIL_FILES_H
#define VIGIL_FILES_H

/* mkdir -p of path's parent directory (mode 0755, less the umask). Returns 0 or -errno. */
int vigil_mkdir_parent(const char *path);
/* fsync of path's parent directory, so that a name made or renamed in it survives a crash.
 * Returns 0 or -errno. */
int vigil_sync_parent(const char *path);

#endif /* VIGIL_FILES_H */
