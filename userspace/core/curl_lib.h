/* SPDX-License-Identifier: Apache-2.0 */
/*
 * curl_lib: libcurl, opened at run time (core/dynlib.h) by the otlp sink (output/otlp.c) and the
 * http heal action (heal/http.c), the only users. Each member is the function of the same name
 * without its "curl_" prefix (curl.h's type-checking macros take the full names). The table is
 * the one static of this file, filled once; users keep the pointer load gives them.
 */
#ifndef VIGIL_CURL_LIB_H
#define VIGIL_CURL_LIB_H

#include <stddef.h>

#include <curl/curl.h>

#define VIGIL_CURL_SONAME "libcurl.so.4"

struct vigil_curl {
	__typeof__(curl_global_init) *global_init;
	__typeof__(curl_easy_init) *easy_init;
	__typeof__(curl_easy_setopt) *easy_setopt;
	__typeof__(curl_easy_perform) *easy_perform;
	__typeof__(curl_easy_getinfo) *easy_getinfo;
	__typeof__(curl_easy_cleanup) *easy_cleanup;
	__typeof__(curl_easy_strerror) *easy_strerror;
	__typeof__(curl_slist_append) *slist_append;
	__typeof__(curl_slist_free_all) *slist_free_all;
	__typeof__(curl_url) *url;
	__typeof__(curl_url_set) *url_set;
	__typeof__(curl_url_get) *url_get;
	__typeof__(curl_url_cleanup) *url_cleanup;
	__typeof__(curl_url_strerror) *url_strerror;
	__typeof__(curl_free) *free;
};

/*
 * libcurl's table. The first call that succeeds opens the library and runs curl_global_init();
 * later calls return the same table. curl_global_init is not thread-safe: the first call is
 * made on the main thread before any thread of vigil uses libcurl (the otlp sink's open, the
 * http action's validate). Returns 0 with *out, or -ENOENT (not installed), -ENOSYS (a function
 * missing) or -EIO (global init failed) with err naming the library and what failed.
 */
int vigil_curl_load(const struct vigil_curl **out, char *err, size_t errlen);

/*
 * What every request of vigil's sets on its handle c: url, http or https only, no redirect
 * followed, no proxy (whatever the environment says), no signals, timeout_ms to connect and in
 * all, vigil's user agent, and headers (NULL: none).
 */
void vigil_curl_request(const struct vigil_curl *cu, CURL *c, const char *url, long timeout_ms,
			struct curl_slist *headers);

#endif /* VIGIL_CURL_LIB_H */
