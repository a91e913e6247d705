/* SPDX-License-Identifier: Apache-2.0 */
/* syscalls: syscall names <-> numbers of the architecture vigil was built for. */
#ifndef VIGIL_SYSCALLS_H
#define VIGIL_SYSCALLS_H

/* Number of a syscall name ("read"), or -ENOENT. */
int vigil_syscall_nr(const char *name);
/* Name of a syscall number, or NULL. */
const char *vigil_syscall_name(int nr);

#endif /* VIGIL_SYSCALLS_H */
