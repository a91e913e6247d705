/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http: the action kind `http` — one request to an application's admin endpoint.
 *
 *   http: { url: URL, method: POST, body: STRING, bearer_token_file: PATH, timeout: 10s }
 *
 * One request (POST unless `method` says PUT, PATCH or DELETE), made off the event loop on the
 * run's work thread (action.h's vigil_action_work) with libcurl:
 *
 *   url                http:// or https:// with a host, no user or password in it
 *                      (checked at load)
 *   body               sent as it is: Content-Type application/json when it parses as a
 *                      JSON object, text/plain; charset=utf-8 otherwise; absent: an empty body
 *                      without a Content-Type
 *   bearer_token_file  absolute; at load it must exist, be a regular file, and be open to
 *                      no one but its owner (mode 0600 or 0400). Read at each run (a rotated
 *                      token is taken), sent as "Authorization: Bearer TOKEN" (its last
 *                      newline dropped); a token that cannot be read fails the heal, not
 *                      learnt. The token is never written anywhere: not in a record, a message,
 *                      or `vigil check`
 *   timeout            connect and transfer together: default 10s, at most 5m
 *
 * Headers X-Vigil-Incident: ID and X-Vigil-Signature: SIGNATURE say which incident it is.
 * Redirects are not followed (a 3xx is a failure), only http and https are spoken, no proxy is
 * used (http_proxy and the like are ignored). Success is a 2xx answer. The answer's body is
 * not parsed: its first VIGIL_HTTP_KEEP bytes are kept for the record (bytes outside printable
 * ASCII shown as '.'), the rest only counted. Records: "success" or "failed" with
 * "HTTP 503 after 12.3 ms, 41 bytes: <first bytes>", "timed out after 10000 ms",
 * "connect: Connection refused"...
 *
 * libcurl is opened at run time (core/curl_lib.h) and its global init, which is not
 * thread-safe, done once: by the kind's validate(), which runs at config load on the main
 * thread before any rule of this kind can start a work thread; start() takes the same table.
 * Without libcurl installed, a config with an http action is refused, naming the library.
 */
#ifndef VIGIL_HEAL_HTTP_H
#define VIGIL_HEAL_HTTP_H

#include "heal/action.h"

#define VIGIL_HTTP_TIMEOUT_MS 10000	 /* default */
#define VIGIL_HTTP_TIMEOUT_MAX_MS 300000 /* at most: 5m */
#define VIGIL_HTTP_BODY_MAX 65536	 /* bytes of a request body, at most */
#define VIGIL_HTTP_KEEP 512		 /* bytes of the answer kept for the record */

/* Its params (struct vigil_action.params). */
struct vigil_http_params {
	char *url;
	char *method;	  /* "POST", "PUT", "PATCH" or "DELETE" */
	char *body;	  /* NULL: none */
	char *token_file; /* NULL: no Authorization header */
	uint64_t timeout_ms;
};

extern const struct vigil_action_ops vigil_http_ops;

#endif /* VIGIL_HEAL_HTTP_H */
