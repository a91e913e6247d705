// SPDX-License-Identifier: Apache-2.0
/* failalloc: an allocator that fails on demand, in front of libc's (see failalloc.h). */
#include <dlfcn.h>
#include <stddef.h>
#include <string.h>

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

/*
 * The real allocator. Without a sanitizer: the next malloc after this one (libc's), found by
 * dlsym. Under AddressSanitizer: ASan's own entry points, called by name. ASan replaces malloc
 * too, and dlsym is no way to reach it: dlsym allocates, so the first malloc went looking for
 * its real malloc before it had one (test_config crashed so), and whether RTLD_NEXT finds
 * ASan's or libc's depends on how the runtime is linked (gcc: a shared library; clang: in the
 * executable). Every block still goes through ASan, so the tests that fail allocations on
 * purpose have those error paths checked for leaks and misuse too. ASan's strdup and strndup
 * allocate by themselves, not through malloc (libc's call it, and came here): they are taken
 * over too, or their blocks would be freed here uncounted (libyaml's strings).
 */
#if defined(__SANITIZE_ADDRESS__)
#define FAILALLOC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FAILALLOC_ASAN 1
#endif
#endif

#ifdef FAILALLOC_ASAN
void *__interceptor_malloc(size_t n);
void *__interceptor_calloc(size_t k, size_t n);
void *__interceptor_realloc(void *p, size_t n);
void __interceptor_free(void *p);
#define real_malloc __interceptor_malloc
#define real_calloc __interceptor_calloc
#define real_realloc __interceptor_realloc
#define real_free __interceptor_free
#else
static void *real_malloc(size_t n)
{
	static void *(*real)(size_t);

	if (!real)
		real = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
	return real(n);
}

static void *real_calloc(size_t k, size_t n)
{
	static void *(*real)(size_t, size_t);

	if (!real)
		real = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
	return real(k, n);
}

static void *real_realloc(void *p, size_t n)
{
	static void *(*real)(void *, size_t);

	if (!real)
		real = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	return real(p, n);
}

static void real_free(void *p)
{
	static void (*real)(void *);

	if (!real)
		real = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	real(p);
}
#endif

void *malloc(size_t n)
{
	void *p;

	p = fails() ? NULL : real_malloc(n);
	live_blocks += p != NULL;
	return p;
}

void *calloc(size_t k, size_t n)
{
	void *p;

	p = fails() ? NULL : real_calloc(k, n);
	live_blocks += p != NULL;
	return p;
}

void *realloc(void *p, size_t n)
{
	void *r;

	if (p && !n) { /* glibc frees */
		live_blocks--;
		return real_realloc(p, n);
	}
	r = fails() ? NULL : real_realloc(p, n);
	live_blocks += !p && r;
	return r;
}

void free(void *p)
{
	live_blocks -= p != NULL;
	real_free(p);
}

#ifdef FAILALLOC_ASAN
char *strdup(const char *s)
{
	return strndup(s, strlen(s));
}

char *strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = malloc(len + 1);

	if (p) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}
#endif

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
