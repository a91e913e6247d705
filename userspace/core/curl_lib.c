// SPDX-License-Identifier: Apache-2.0
/* curl_lib: libcurl's table, opened on first use (see curl_lib.h). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include "core/curl_lib.h"
#include "core/dynlib.h"

#define SYM(m) VIGIL_DYNSYM(struct vigil_curl, "curl_", m)

static const struct vigil_dynsym syms[] = {
    SYM(global_init),	 SYM(easy_init),    SYM(easy_setopt),	SYM(easy_perform),
    SYM(easy_getinfo),	 SYM(easy_cleanup), SYM(easy_strerror), SYM(slist_append),
    SYM(slist_free_all), SYM(url),	    SYM(url_set),	SYM(url_get),
    SYM(url_cleanup),	 SYM(url_strerror), SYM(free),
};

/* The process's one libcurl: filled once under lock, read-only after. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct vigil_curl table;
static bool ready;

int vigil_curl_load(const struct vigil_curl **out, char *err, size_t errlen)
{
	CURLcode rc;
	int ret = 0;

	pthread_mutex_lock(&lock);
	if (ready)
		goto out;
	if (!table.global_init)
		ret = vigil_dynlib_open(VIGIL_CURL_SONAME, syms, sizeof(syms) / sizeof(syms[0]),
					&table, err, errlen);
	if (ret)
		goto out;
	rc = table.global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s: curl_global_init failed: %s", VIGIL_CURL_SONAME,
			 table.easy_strerror(rc));
		ret = -EIO;
		goto out;
	}
	ready = true;
out:
	pthread_mutex_unlock(&lock);
	*out = ret ? NULL : &table;
	return ret;
}

void vigil_curl_request(const struct vigil_curl *cu, CURL *c, const char *url, long timeout_ms,
			struct curl_slist *headers)
{
	cu->easy_setopt(c, CURLOPT_URL, url);
	cu->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	cu->easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	cu->easy_setopt(c, CURLOPT_PROXY, "");
	cu->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cu->easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	cu->easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	cu->easy_setopt(c, CURLOPT_USERAGENT, "vigil/" VIGIL_VERSION);
	cu->easy_setopt(c, CURLOPT_HTTPHEADER, headers);
}
