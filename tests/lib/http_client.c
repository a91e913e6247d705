// SPDX-License-Identifier: Apache-2.0
/* http_client: a test's HTTP requests (see http_client.h). */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_client.h"

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct vt_http_answer *a = arg;
	char *b = realloc(a->body, a->len + size * n + 1);

	if (!b)
		return 0;
	memcpy(b + a->len, p, size * n);
	a->body = b;
	a->len += size * n;
	b[a->len] = '\0';
	return size * n;
}

int vt_http(const char *method, const char *url, const char *body, const char *const *headers,
	    long timeout_ms, struct vt_http_answer *a)
{
	struct curl_slist *hl = NULL;
	CURLcode rc;
	CURL *c;

	memset(a, 0, sizeof(*a));
	a->body = calloc(1, 1);
	c = curl_easy_init();
	if (!c || !a->body) {
		if (c)
			curl_easy_cleanup(c);
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
	if (body) {
		hl = curl_slist_append(hl, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	for (const char *const *h = headers; h && *h; h++)
		hl = curl_slist_append(hl, *h);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
	else
		snprintf(a->error, sizeof(a->error), "%s", curl_easy_strerror(rc));
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return 0;
}

void vt_http_free(struct vt_http_answer *a)
{
	free(a->body);
	a->body = NULL;
	a->len = 0;
}
