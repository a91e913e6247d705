// SPDX-License-Identifier: Apache-2.0
/*
 * Unit: the optional client libraries opened at run time (core/dynlib.h). A library that is not
 * installed, and one that lacks a function, are refused with an error naming the library (and
 * the function), the table left as it was; a library that has them fills the table. Each of the
 * three real tables (libcurl, libpq, libmicrohttpd: installed where the tests run) loads with
 * every member set — a member added to a table but not to its list of names would be NULL —
 * and a second load gives the same table.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "control/mhd_lib.h"
#include "core/curl_lib.h"
#include "core/dynlib.h"
#include "output/pq_lib.h"

struct two {
	__typeof__(strlen) *len;
	__typeof__(strchr) *chr;
};

static void test_missing_library(void **state)
{
	static const struct vigil_dynsym syms[] = {{"strlen", offsetof(struct two, len)}};
	struct two t = {0};
	char err[256] = "";

	(void)state;
	assert_int_equal(vigil_dynlib_open("libvigil-no-such.so.7", syms, 1, &t, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "libvigil-no-such.so.7"));
	assert_null(t.len);
}

static void test_missing_function(void **state)
{
	static const struct vigil_dynsym syms[] = {
	    {"strlen", offsetof(struct two, len)},
	    {"vigil_no_such_function", offsetof(struct two, chr)},
	};
	struct two t = {0};
	char err[256] = "";

	(void)state;
	assert_int_equal(vigil_dynlib_open("libc.so.6", syms, 2, &t, err, sizeof(err)), -ENOSYS);
	assert_non_null(strstr(err, "libc.so.6"));
	assert_non_null(strstr(err, "vigil_no_such_function"));
	/* Nothing of it taken: not even the function that was found. */
	assert_null(t.len);
	assert_null(t.chr);
}

static void test_table_filled(void **state)
{
	static const struct vigil_dynsym syms[] = {
	    {"strlen", offsetof(struct two, len)},
	    {"strchr", offsetof(struct two, chr)},
	};
	struct two t = {0};
	char err[256] = "";

	(void)state;
	assert_int_equal(vigil_dynlib_open("libc.so.6", syms, 2, &t, err, sizeof(err)), 0);
	assert_int_equal(t.len("vigil"), 5);
	assert_string_equal(t.chr("vigil", 'g'), "gil");
}

/* Every member of the table of function pointers at p, size bytes, is set. */
static void all_set(const void *p, size_t size)
{
	void (*fn)(void);

	for (size_t off = 0; off < size; off += sizeof(fn)) {
		memcpy(&fn, (const char *)p + off, sizeof(fn));
		assert_non_null(fn);
	}
}

static void test_real_tables(void **state)
{
	const struct vigil_curl *cu, *cu2;
	const struct vigil_pq *pq, *pq2;
	const struct vigil_mhd *mhd, *mhd2;
	char err[256] = "";

	(void)state;
	assert_int_equal(vigil_curl_load(&cu, err, sizeof(err)), 0);
	all_set(cu, sizeof(*cu));
	assert_int_equal(vigil_curl_load(&cu2, err, sizeof(err)), 0);
	assert_ptr_equal(cu, cu2);
	/* The global init was done: a handle can be made and freed. */
	cu->easy_cleanup(cu->easy_init());

	assert_int_equal(vigil_pq_load(&pq, err, sizeof(err)), 0);
	all_set(pq, sizeof(*pq));
	assert_int_equal(vigil_pq_load(&pq2, err, sizeof(err)), 0);
	assert_ptr_equal(pq, pq2);

	assert_int_equal(vigil_mhd_load(&mhd, err, sizeof(err)), 0);
	all_set(mhd, sizeof(*mhd));
	assert_int_equal(vigil_mhd_load(&mhd2, err, sizeof(err)), 0);
	assert_ptr_equal(mhd, mhd2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_missing_library),
	    cmocka_unit_test(test_missing_function),
	    cmocka_unit_test(test_table_filled),
	    cmocka_unit_test(test_real_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
