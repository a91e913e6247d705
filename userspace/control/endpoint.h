/* SPDX-License-Identifier: Apache-2.0 */
/*
 * endpoint: vigil's HTTP endpoint (libmicrohttpd, opened at listen: control/mhd_lib.h), on the
 * daemon's one event loop. MHD runs in its external-epoll mode: its epoll fd is one of the
 * loop's fds, and a timer takes MHD's own timeouts, so every handler runs on the loop's thread
 * and may read the stages' state without a lock. Handlers must not block.
 *
 * Routes are exact paths with one method each. A request for a path no route has is a 404, a
 * known path with another method a 405 (with Allow); a body beyond the route's max_body is a
 * 413, read to its end and dropped, never buffered. Every answer is counted by route and
 * status class for /metrics.
 */
#ifndef VIGIL_ENDPOINT_H
#define VIGIL_ENDPOINT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"

#define VIGIL_HTTP_MAX_ROUTES 8
#define VIGIL_HTTP_MAX_CONNECTIONS 32
#define VIGIL_HTTP_TIMEOUT_S 10 /* an idle or slow connection is closed after it */

struct vigil_http;
struct vigil_mhd;

/* One request, complete: its body read whole (at most the route's max_body). */
struct vigil_http_req {
	const char *method;
	const char *path;
	const char *body; /* NUL-terminated at body_len; "" when none */
	size_t body_len;
	bool loopback;		     /* the peer is 127.0.0.0/8 or ::1 */
	char peer[64];		     /* its address, for messages */
	void *conn;		     /* MHD's connection, for vigil_http_header() */
	const struct vigil_mhd *mhd; /* and its functions (control/mhd_lib.h) */
};

/* What a handler answers: status (default 200), content type (default text/plain) and a
 * body built with vigil_http_printf()/vigil_http_write(). Errors stick (err): the endpoint
 * then answers 500. */
struct vigil_http_resp {
	unsigned int status;
	const char *type;
	char *buf;
	size_t len, cap;
	int err;
};

typedef void (*vigil_http_fn)(const struct vigil_http_req *req, struct vigil_http_resp *resp,
			      void *ctx);

/* Per route: answers by status class, and bodies refused for size. */
struct vigil_http_route_stats {
	const char *method, *path;
	uint64_t by_class[6]; /* [2] 2xx ... [5] 5xx */
};

struct vigil_http_stats {
	struct vigil_http_route_stats routes[VIGIL_HTTP_MAX_ROUTES];
	unsigned int n_routes;
	uint64_t not_found; /* no such path */
	uint64_t too_large; /* bodies past max_body */
	uint16_t port;	    /* the port bound (a listen address with port 0 takes any) */
};

/*
 * Listen on addr, "HOST:PORT" or "[V6]:PORT" (HOST a numeric address). Returns 0 and *out, or
 * -errno with err written (the address unparsable, libmicrohttpd not installed, the port
 * taken).
 */
int vigil_http_listen(struct vigil_loop *loop, const char *addr, struct vigil_http **out, char *err,
		      size_t errlen);
/* Answer method + path with fn; bodies above max_body bytes get a 413. Returns 0, -EEXIST,
 * -E2BIG past VIGIL_HTTP_MAX_ROUTES. */
int vigil_http_route(struct vigil_http *h, const char *method, const char *path, size_t max_body,
		     vigil_http_fn fn, void *ctx);
/* Stop listening, close every connection; accepts NULL. */
void vigil_http_close(struct vigil_http *h);
void vigil_http_stats(const struct vigil_http *h, struct vigil_http_stats *st);
/* "http": the listen address as configured, the port bound, requests answered, unknown
 * paths and bodies too large, into j (inside an object); nothing when h is NULL. */
struct vigil_json;
void vigil_http_status_json(const struct vigil_http *h, const char *listen, struct vigil_json *j);

/* A request header's value (name case-insensitive), or NULL. */
const char *vigil_http_header(const struct vigil_http_req *req, const char *name);

__attribute__((format(printf, 2, 3))) void vigil_http_printf(struct vigil_http_resp *r,
							     const char *fmt, ...);
void vigil_http_write(struct vigil_http_resp *r, const char *s, size_t n);

#endif /* VIGIL_ENDPOINT_H */
