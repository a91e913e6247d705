/* SPDX-License-Identifier: Apache-2.0 */
/*
 * failalloc: libc's malloc, calloc, realloc and free, taken over for the whole test binary
 * that links failalloc.o (libc, libyaml, libcyaml and jansson included), so that a test can
 * make one allocation fail — or every one — and count the blocks still live without valgrind.
 * Under valgrind (which puts its own allocator in their place) nothing fails:
 * failalloc_works() says whether this one is in effect.
 */
#ifndef VIGIL_TEST_FAILALLOC_H
#define VIGIL_TEST_FAILALLOC_H

#include <stdbool.h>

/* Fail the allocation n from now (0: the next one), once; -1: fail none (disarm). */
void failalloc_at(long n);
/* Did the allocation armed by the last failalloc_at(n >= 0) fail? */
bool failalloc_failed(void);
/* While on, every allocation fails. */
void failalloc_all(bool on);
/* Blocks allocated and not yet freed. */
long failalloc_live(void);
/* Allocations made (malloc, calloc, realloc) since the start. */
unsigned long failalloc_calls(void);
/* Is this allocator the one in use (false under valgrind)? */
bool failalloc_works(void);

#endif /* VIGIL_TEST_FAILALLOC_H */
