// SPDX-License-Identifier: Apache-2.0
/*
 * syscalls: the table is generated at build time from <sys/syscall.h> (build/syscall_names.h),
 * so it is complete and right for the target architecture without a list kept by hand.
 */
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>

#include "kernel/syscalls.h"

static const struct {
	const char *name;
	int nr;
} table[] = {
#define VIGIL_SYSCALL(n) {#n, SYS_##n},
#include "syscall_names.h"
#undef VIGIL_SYSCALL
};

int vigil_syscall_nr(const char *name)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(table[i].name, name))
			return table[i].nr;
	return -ENOENT;
}

const char *vigil_syscall_name(int nr)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].nr == nr)
			return table[i].name;
	return NULL;
}
