/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_client: a test's HTTP requests (libcurl), to vigil's endpoint and to the real
 * Prometheus and Alertmanager servers the tests start.
 */
#ifndef VIGIL_TEST_HTTP_CLIENT_H
#define VIGIL_TEST_HTTP_CLIENT_H

#include <stddef.h>

#include "ports.h" /* vt_free_port(), for the servers the tests start */

struct vt_http_answer {
	long status; /* 0: no answer (refused, timed out) */
	char *body;  /* NUL-terminated (malloc'd; vt_http_free) */
	size_t len;
	char error[128]; /* curl's error when status is 0 */
};

/*
 * method url, with body (NULL: none) of type "application/json" and the extra header lines
 * (NULL-terminated, may be NULL), timeout_ms at most. Returns 0 with *a filled (whatever the
 * status), or -1 when curl could not be set up.
 */
int vt_http(const char *method, const char *url, const char *body, const char *const *headers,
	    long timeout_ms, struct vt_http_answer *a);
void vt_http_free(struct vt_http_answer *a);

#endif /* VIGIL_TEST_HTTP_CLIENT_H */
