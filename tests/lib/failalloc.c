// SPDX-License-Identifier: Apache-2.0
/* failalloc: an allocator that fails on demand, in front of libc's (see failalloc.h). */
#include <dlfcn.h>
#include <stddef.h>

#include "failalloc.h"

static long fail_at = -1;
static bool failed_once, fail_all;
static long live_blocks;
static unsigned long calls;

void failalloc_at(long n)
{
	fail_at = n;
	if (n >= 0)
		failed_once = false; /* disarming keeps what happened, for failalloc_failed() */
}

bool failalloc_failed(void)
{
	return failed_once;
}

void failalloc_all(bool on)
{
	fail_all = on;
}

long failalloc_live(void)
{
	return live_blocks;
}

unsigned long failalloc_calls(void)
{
	return calls;
}

/* Is this allocation the one to fail? */
static bool fails(void)
{
	calls++;
	if (fail_all)
		return true;
	if (fail_at < 0 || failed_once)
		return false;
	if (fail_at-- > 0)
		return false;
	failed_once = true;
	return true;
}

void *malloc(size_t n)
{
	static void *(*real)(size_t);
	void *p;

	if (!real)
		real = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
	p = fails() ? NULL : real(n);
	live_blocks += p != NULL;
	return p;
}

void *calloc(size_t k, size_t n)
{
	static void *(*real)(size_t, size_t);
	void *p;

	if (!real)
		real = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
	p = fails() ? NULL : real(k, n);
	live_blocks += p != NULL;
	return p;
}

void *realloc(void *p, size_t n)
{
	static void *(*real)(void *, size_t);
	void *r;

	if (!real)
		real = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	if (p && !n) { /* glibc frees */
		live_blocks--;
		return real(p, n);
	}
	r = fails() ? NULL : real(p, n);
	live_blocks += !p && r;
	return r;
}

void free(void *p)
{
	static void (*real)(void *);

	if (!real)
		real = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	live_blocks -= p != NULL;
	real(p);
}

bool failalloc_works(void)
{
	/* Called through a volatile pointer, or the compiler elides the malloc/free pair. */
	void *(*volatile call)(size_t) = malloc;
	void *p;

	fail_all = true;
	p = call(16);
	fail_all = false;
	free(p);
	return !p;
}
