// SPDX-License-Identifier: Apache-2.0
/*
 * endpoint: the HTTP endpoint on the event loop (see endpoint.h). MHD in external-epoll mode:
 * its epoll fd is watched by the loop, MHD_run() is called when it is ready and when MHD's own
 * timeout falls due (a timer of the loop), never from another thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "control/endpoint.h"
#include "control/mhd_lib.h"
#include "core/json.h"
#include "core/netaddr.h"

struct route {
	const char *method, *path;
	size_t max_body;
	vigil_http_fn fn;
	void *ctx;
};

struct vigil_http {
	struct vigil_loop *loop;
	const struct vigil_mhd *lib; /* libmicrohttpd, opened at listen */
	struct MHD_Daemon *mhd;
	int epoll_fd;
	struct vigil_timer timer;
	struct route routes[VIGIL_HTTP_MAX_ROUTES];
	unsigned int n_routes;
	struct vigil_http_stats st;
};

/* One request being read: its route and its body so far. */
struct pending {
	int route; /* index, or -1: no such path; -2: the path's method is another */
	bool too_large;
	char *body;
	size_t len, cap;
};

/* --- the response body --------------------------------------------------------------------- */

static int resp_grow(struct vigil_http_resp *r, size_t need)
{
	size_t cap = r->cap ? r->cap : 1024;
	char *buf;

	if (r->err)
		return r->err;
	if (r->len + need + 1 <= r->cap)
		return 0;
	while (cap < r->len + need + 1)
		cap *= 2;
	buf = realloc(r->buf, cap);
	if (!buf)
		return r->err = -ENOMEM;
	r->buf = buf;
	r->cap = cap;
	return 0;
}

void vigil_http_write(struct vigil_http_resp *r, const char *s, size_t n)
{
	if (resp_grow(r, n))
		return;
	memcpy(r->buf + r->len, s, n);
	r->len += n;
	r->buf[r->len] = '\0';
}

void vigil_http_printf(struct vigil_http_resp *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		r->err = -EINVAL;
		return;
	}
	if (resp_grow(r, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(r->buf + r->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	r->len += (size_t)n;
}

/* --- peers -------------------------------------------------------------------------------- */

static void peer_of(const struct vigil_mhd *lib, struct MHD_Connection *c,
		    struct vigil_http_req *req)
{
	const union MHD_ConnectionInfo *ci =
	    lib->get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(req->peer, sizeof(req->peer), "?");
	req->loopback = false;
	if (!sa)
		return;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, req->peer, sizeof(req->peer));
		req->loopback = (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, req->peer, sizeof(req->peer));
		req->loopback =
		    IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
		    (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && s6->sin6_addr.s6_addr[12] == 127);
	}
}

const char *vigil_http_header(const struct vigil_http_req *req, const char *name)
{
	return req->mhd->lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

/* --- requests ------------------------------------------------------------------------------ */

static int find_route(const struct vigil_http *h, const char *method, const char *path)
{
	int ret = -1;

	for (unsigned int i = 0; i < h->n_routes; i++) {
		if (strcmp(h->routes[i].path, path))
			continue;
		if (!strcmp(h->routes[i].method, method))
			return (int)i;
		ret = -2;
	}
	return ret;
}

static enum MHD_Result answer(const struct vigil_http *h, struct MHD_Connection *c,
			      unsigned int status, const char *type, const char *body, size_t len,
			      const char *allow)
{
	const struct vigil_mhd *lib = h->lib;
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = lib->create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	lib->add_response_header(r, "Content-Type", type);
	lib->add_response_header(r, "Cache-Control", "no-store");
	if (allow)
		lib->add_response_header(r, "Allow", allow);
	ret = lib->queue_response(c, status, r);
	lib->destroy_response(r);
	return ret;
}

static void count(struct vigil_http *h, int route, unsigned int status)
{
	if (route >= 0 && status >= 200 && status < 600)
		h->st.routes[route].by_class[status / 100]++;
}

static enum MHD_Result dispatch(struct vigil_http *h, struct MHD_Connection *c, struct pending *p,
				const char *url, const char *method)
{
	struct vigil_http_resp resp = {.status = 200, .type = "text/plain; charset=utf-8"};
	struct vigil_http_req req = {.method = method, .path = url, .conn = c, .mhd = h->lib};
	const struct route *rt = NULL;
	enum MHD_Result ret;
	char msg[160];
	int n;

	if (p->route == -1) {
		h->st.not_found++;
		n = snprintf(msg, sizeof(msg), "no such path: %s\n", url);
		return answer(h, c, 404, "text/plain", msg, (size_t)n < sizeof(msg) ? (size_t)n : 0,
			      NULL);
	}
	if (p->route == -2) {
		for (unsigned int i = 0; i < h->n_routes; i++)
			if (!strcmp(h->routes[i].path, url))
				rt = &h->routes[i];
		n = snprintf(msg, sizeof(msg), "this path takes %s only\n", rt->method);
		return answer(h, c, 405, "text/plain", msg, (size_t)n, rt->method);
	}
	rt = &h->routes[p->route];
	if (p->too_large) {
		h->st.too_large++;
		count(h, p->route, 413);
		n = snprintf(msg, sizeof(msg), "the body is larger than %zu bytes\n", rt->max_body);
		return answer(h, c, 413, "text/plain", msg, (size_t)n, NULL);
	}
	req.body = p->body ? p->body : "";
	req.body_len = p->len;
	peer_of(h->lib, c, &req);
	rt->fn(&req, &resp, rt->ctx);
	if (resp.err) {
		resp.status = 500;
		resp.type = "text/plain";
		resp.len = 0;
	}
	count(h, p->route, resp.status);
	ret = answer(h, c, resp.status, resp.type, resp.buf ? resp.buf : "", resp.len, NULL);
	free(resp.buf);
	return ret;
}

static int body_add(struct pending *p, size_t max, const char *data, size_t n)
{
	size_t cap = p->cap ? p->cap : 4096;
	char *b;

	if (p->too_large || p->len + n > max) {
		p->too_large = true;
		return 0;
	}
	while (cap < p->len + n + 1)
		cap *= 2;
	if (cap != p->cap) {
		b = realloc(p->body, cap);
		if (!b)
			return -ENOMEM;
		p->body = b;
		p->cap = cap;
	}
	memcpy(p->body + p->len, data, n);
	p->len += n;
	p->body[p->len] = '\0';
	return 0;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
				 const char *method, const char *version, const char *upload_data,
				 size_t *upload_data_size, void **con_cls)
{
	struct vigil_http *h = cls;
	struct pending *p = *con_cls;

	(void)version;
	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return MHD_NO;
		p->route = find_route(h, method, url);
		*con_cls = p;
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t max = p->route >= 0 ? h->routes[p->route].max_body : 0;

		if (body_add(p, max, upload_data, *upload_data_size))
			return MHD_NO;
		*upload_data_size = 0;
		return MHD_YES;
	}
	return dispatch(h, c, p, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode why)
{
	struct pending *p = *con_cls;

	(void)cls;
	(void)c;
	(void)why;
	if (p) {
		free(p->body);
		free(p);
	}
	*con_cls = NULL;
}

/* --- the loop's side ----------------------------------------------------------------------- */

/* Run MHD, then arm the timer for its next timeout (at most a second away). */
static void run(struct vigil_http *h)
{
	MHD_UNSIGNED_LONG_LONG ms = 1000;

	h->lib->run(h->mhd);
	if (h->lib->get_timeout(h->mhd, &ms) != MHD_YES || ms > 1000)
		ms = 1000;
	vigil_timer_arm(h->loop, &h->timer, ms);
}

static void on_ready(struct vigil_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)loop;
	(void)fd;
	(void)events;
	run(arg);
}

static void on_timer(struct vigil_loop *loop, void *arg)
{
	(void)loop;
	run(arg);
}

/* MHD's own complaints (a failed accept, a broken request) on stderr, once each. */
static void on_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	fputs("vigil: http: ", stderr);
	vfprintf(stderr, fmt, ap);
}

int vigil_http_listen(struct vigil_loop *loop, const char *addr, struct vigil_http **out, char *err,
		      size_t errlen)
{
	const union MHD_DaemonInfo *info;
	const struct vigil_mhd *lib;
	struct sockaddr_storage ss;
	struct vigil_http *h;
	unsigned int flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	const char *why;
	char lib_why[256];
	int ret;

	ret = vigil_parse_hostport(addr, &ss, &why);
	if (ret) {
		snprintf(err, errlen, "metrics.listen %s: %s", addr, why);
		return ret;
	}
	/* libmicrohttpd is opened here, when an endpoint is first asked for. */
	ret = vigil_mhd_load(&lib, lib_why, sizeof(lib_why));
	if (ret) {
		snprintf(err, errlen, "metrics.listen %s: %s", addr, lib_why);
		return ret;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->loop = loop;
	h->lib = lib;
	h->epoll_fd = -1;
	vigil_timer_init(&h->timer, on_timer, h);
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->mhd = lib->start_daemon(
	    flags, 0, NULL, NULL, on_access, h, MHD_OPTION_EXTERNAL_LOGGER, on_log, h,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned int)VIGIL_HTTP_MAX_CONNECTIONS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned int)VIGIL_HTTP_MAX_CONNECTIONS / 2, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned int)VIGIL_HTTP_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
	    MHD_OPTION_END);
	if (!h->mhd) {
		ret = -EADDRINUSE;
		snprintf(err, errlen,
			 "metrics.listen %s: cannot listen there (taken, or not an "
			 "address of this host)",
			 addr);
		goto fail;
	}
	info = lib->get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info) {
		ret = -EINVAL;
		snprintf(err, errlen, "metrics.listen %s: libmicrohttpd has no epoll fd", addr);
		goto fail;
	}
	h->epoll_fd = info->epoll_fd;
	info = lib->get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
	h->st.port = info ? info->port : 0;
	ret = vigil_loop_add_fd(loop, h->epoll_fd, EPOLLIN, on_ready, h);
	if (ret) {
		snprintf(err, errlen, "metrics.listen %s: %s", addr, strerror(-ret));
		h->epoll_fd = -1;
		goto fail;
	}
	vigil_timer_arm(loop, &h->timer, 1000);
	*out = h;
	return 0;
fail:
	vigil_http_close(h);
	return ret;
}

int vigil_http_route(struct vigil_http *h, const char *method, const char *path, size_t max_body,
		     vigil_http_fn fn, void *ctx)
{
	if (find_route(h, method, path) >= 0)
		return -EEXIST;
	if (h->n_routes >= VIGIL_HTTP_MAX_ROUTES)
		return -E2BIG;
	h->routes[h->n_routes] = (struct route){method, path, max_body, fn, ctx};
	h->st.routes[h->n_routes].method = method;
	h->st.routes[h->n_routes].path = path;
	h->n_routes++;
	h->st.n_routes = h->n_routes;
	return 0;
}

void vigil_http_stats(const struct vigil_http *h, struct vigil_http_stats *st)
{
	*st = h->st;
}

void vigil_http_status_json(const struct vigil_http *h, const char *listen, struct vigil_json *j)
{
	uint64_t answered = 0;

	if (!h)
		return;
	for (unsigned int i = 0; i < h->st.n_routes; i++)
		for (unsigned int c = 0; c < 6; c++)
			answered += h->st.routes[i].by_class[c];
	vigil_json_object_begin(j, "http");
	vigil_json_str(j, "listen", listen);
	vigil_json_u64(j, "port", h->st.port);
	vigil_json_u64(j, "answered", answered);
	vigil_json_u64(j, "not_found", h->st.not_found);
	vigil_json_u64(j, "too_large", h->st.too_large);
	vigil_json_object_end(j);
}

void vigil_http_close(struct vigil_http *h)
{
	if (!h)
		return;
	if (h->epoll_fd >= 0)
		vigil_loop_del_fd(h->loop, h->epoll_fd);
	vigil_timer_cancel(h->loop, &h->timer);
	if (h->mhd)
		h->lib->stop_daemon(h->mhd);
	free(h);
}
