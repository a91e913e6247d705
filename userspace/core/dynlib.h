/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dynlib: an optional client library opened at run time, by its SONAME, and the functions vigil
 * uses of it resolved into a table of function pointers (one table per library: curl_lib.h,
 * output/pq_lib.h, control/mhd_lib.h).
 *
 * Why: libcurl (the otlp sink, the http heal action), libpq (the postgres sink) and
 * libmicrohttpd (metrics.listen, alerts) and what they pull in (TLS, Kerberos, LDAP, p11-kit:
 * some 6 MiB mapped, relocated and resident) are not in the binary's DT_NEEDED: a daemon whose
 * config uses none of them never maps them. Their headers are still used at build time for the
 * types and constants; the table's members are declared with __typeof__ of the real functions,
 * so a prototype that changes in a header fails the build, not a call.
 *
 * A library is opened once, on the first start of what needs it, and stays mapped until the
 * process exits (no dlclose: its threads and atexit handlers may outlive any one user).
 */
#ifndef VIGIL_DYNLIB_H
#define VIGIL_DYNLIB_H

#include <stddef.h>

/* One function of a table: its name in the library and its place in the table. */
struct vigil_dynsym {
	const char *name;
	size_t off; /* offsetof() its pointer in the table */
};

/* The entry of table type T's member m, for the function prefix + m (e.g. "curl_" easy_init). */
#define VIGIL_DYNSYM(T, prefix, m)                                                                 \
	{                                                                                          \
		prefix #m, offsetof(T, m)                                                          \
	}

/*
 * dlopen() soname (RTLD_NOW | RTLD_LOCAL), then resolve each of syms[0..n) into table. Returns
 * 0, -ENOENT (the library cannot be opened: err has the loader's reason, which names it) or
 * -ENOSYS (a function is missing: err names the library and the function), the library then
 * closed and table untouched. Not thread-safe: callers serialise (see each table's load).
 */
int vigil_dynlib_open(const char *soname, const struct vigil_dynsym *syms, size_t n, void *table,
		      char *err, size_t errlen);

#endif /* VIGIL_DYNLIB_H */
