// SPDX-License-Identifier: Apache-2.0
/*
 * http: the action kind `http` (http.h), behind the action interface (action.h). start() copies
 * what the request needs into the run's work (the thread touches nothing else), the request is
 * made on the work thread, and progress(WORK_DONE) ends the run with its outcome: "success" or
 * "failed", learnt — but for a token that could not be read, or a request vigil could not
 * make, which say nothing about the endpoint.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "core/curl_lib.h"
#include "core/files.h"
#include "detect/incidents.h"
#include "heal/http.h"

#define TOKEN_MAX 4096 /* bytes of a bearer token file, at most */

/* What the work thread gets (copies: it touches nothing of vigil's) and gives back. */
struct http_work {
	/* in */
	const struct vigil_curl *cu;
	char *url, *method, *body, *token_file;
	const char *ctype; /* NULL without a body */
	uint64_t timeout_ms;
	char incident[17], signature[17];
	/* out */
	bool done; /* the request was made, or refused before it */
	bool ok, known;
	char detail[VIGIL_HTTP_KEEP + 160];
	/* the answer, as it comes */
	char kept[VIGIL_HTTP_KEEP + 1];
	size_t n_kept, n_total;
};

struct http_run {
	struct vigil_action_run run; /* first: what the healer allocates and fills */
	struct http_work w;
};

/* --- at load ------------------------------------------------------------------------------ */

/* http:// or https://, a host, no credentials. Returns 0, or -EINVAL with why. */
static int check_url(const struct vigil_curl *cu, const char *url, char *why, size_t len)
{
	const char *host;
	CURLU *u;
	CURLUcode rc;
	char *part = NULL;
	int ret = -EINVAL;

	if (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8)) {
		snprintf(why, len, "'%s' must start with http:// or https://", url);
		return -EINVAL;
	}
	/* libcurl takes "http:///x" as host x: the host must follow the two slashes. */
	host = strstr(url, "://") + 3;
	if (!*host || *host == '/' || *host == '\\') {
		snprintf(why, len, "'%s' has no host", url);
		return -EINVAL;
	}
	u = cu->url();
	if (!u)
		return -ENOMEM;
	rc = cu->url_set(u, CURLUPART_URL, url, 0);
	if (rc) {
		snprintf(why, len, "'%s' is not a URL: %s", url, cu->url_strerror(rc));
		goto out;
	}
	if (cu->url_get(u, CURLUPART_HOST, &part, 0) || !part || !*part) {
		snprintf(why, len, "'%s' has no host", url);
		goto out;
	}
	cu->free(part);
	part = NULL;
	if (!cu->url_get(u, CURLUPART_USER, &part, 0) ||
	    !cu->url_get(u, CURLUPART_PASSWORD, &part, 0)) {
		/* Not echoed: it may hold a password. */
		snprintf(why, len,
			 "must not hold a user or password (a bearer_token_file holds the "
			 "secret)");
		goto out;
	}
	ret = 0;
out:
	cu->free(part);
	cu->url_cleanup(u);
	return ret;
}

static int http_validate(const struct vigil_action *a, const struct vigil_heal_rule *r,
			 const char **key, char *why, size_t len)
{
	const struct vigil_http_params *p = a->params;
	static const char *const methods[] = {"POST", "PUT", "PATCH", "DELETE"};
	const struct vigil_curl *cu;
	struct stat st;
	size_t i;
	int ret;

	(void)r;
	*key = NULL;
	/* libcurl is opened (and initialised) here, at config load on the main thread. */
	if (vigil_curl_load(&cu, why, len))
		return -EINVAL;
	*key = "url";
	if (!p || !p->url) {
		snprintf(why, len, "must not be empty");
		return -EINVAL;
	}
	ret = check_url(cu, p->url, why, len);
	if (ret)
		return ret;
	*key = "method";
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]) && strcmp(p->method, methods[i]); i++)
		;
	if (i == sizeof(methods) / sizeof(methods[0])) {
		snprintf(why, len, "'%s' is not one of POST, PUT, PATCH, DELETE", p->method);
		return -EINVAL;
	}
	*key = "body";
	if (p->body && strlen(p->body) > VIGIL_HTTP_BODY_MAX) {
		snprintf(why, len, "is %zu bytes, at most %d are allowed", strlen(p->body),
			 VIGIL_HTTP_BODY_MAX);
		return -EINVAL;
	}
	*key = "bearer_token_file";
	if (!p->token_file)
		return 0;
	if (p->token_file[0] != '/') {
		snprintf(why, len, "'%s' must be an absolute path (start with /)", p->token_file);
		return -EINVAL;
	}
	if (stat(p->token_file, &st)) {
		snprintf(why, len, "'%s' cannot be read: %s", p->token_file, strerror(errno));
		return -EINVAL;
	}
	return vigil_token_mode_ok(&st, p->token_file, why, len) ? -EINVAL : 0;
}

/* The intent: what will be sent where. Never the token: only where it is read from. */
static void http_describe(const struct vigil_action *a, char *buf, size_t len)
{
	const struct vigil_http_params *p = a->params;
	char body[48] = "no body";

	if (p->body)
		snprintf(body, sizeof(body), "a %zu-byte body", strlen(p->body));
	snprintf(buf, len, "%s %s with %s%s%s; a 2xx answer within %llu ms", p->method, p->url,
		 body, p->token_file ? ", the bearer token of " : "",
		 p->token_file ? p->token_file : "", (unsigned long long)p->timeout_ms);
}

static int http_touches(const struct vigil_action *a, vigil_touch_fn fn, void *arg)
{
	const struct vigil_http_params *p = a->params;

	return fn(VIGIL_TOUCH_URL, "url", p->url, arg);
}

static void http_free_params(void *params)
{
	struct vigil_http_params *p = params;

	if (!p)
		return;
	free(p->url);
	free(p->method);
	free(p->body);
	free(p->token_file);
	free(p);
}

/* --- on the work thread -------------------------------------------------------------------- */

__attribute__((format(printf, 4, 5))) static void outcome(struct http_work *w, bool ok, bool known,
							  const char *f, ...)
{
	va_list ap;

	w->done = true;
	w->ok = ok;
	w->known = known;
	va_start(ap, f);
	vsnprintf(w->detail, sizeof(w->detail), f, ap);
	va_end(ap);
}

/* The token into buf (its trailing newline and spaces dropped). Returns 0, or -errno with the
 * outcome set. */
static int read_token(struct http_work *w, char *buf, size_t len)
{
	char why[320];
	int err = vigil_read_token(w->token_file, buf, len, why, sizeof(why));

	if (err)
		outcome(w, false, false, "bearer_token_file %s", why);
	return err;
}

/* libcurl hands the answer's body: the first bytes kept, the rest counted. */
static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct http_work *w = arg;
	size_t len = size * n;

	for (size_t i = 0; i < len && w->n_kept < VIGIL_HTTP_KEEP; i++) {
		unsigned char c = (unsigned char)data[i];

		w->kept[w->n_kept++] = c >= ' ' && c < 0x7f ? (char)c : c == '\n' ? ' ' : '.';
	}
	w->kept[w->n_kept] = '\0';
	w->n_total += len;
	return len;
}

static double ms_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

/* The request's outcome, once curl_easy_perform returned rc after ms. */
static void answered(struct http_work *w, CURL *c, CURLcode rc, double ms, const char *err)
{
	long status = 0, oserr = 0;

	if (rc == CURLE_OPERATION_TIMEDOUT) {
		outcome(w, false, true, "timed out after %.1f ms (timeout %llu ms)", ms,
			(unsigned long long)w->timeout_ms);
		return;
	}
	if (rc == CURLE_COULDNT_CONNECT) {
		w->cu->easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr);
		outcome(w, false, true, "connect: %s", oserr ? strerror((int)oserr) : err);
		return;
	}
	if (rc != CURLE_OK) {
		outcome(w, false, true, "%s: %s", w->cu->easy_strerror(rc), err);
		return;
	}
	w->cu->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	while (w->n_kept && w->kept[w->n_kept - 1] == ' ')
		w->kept[--w->n_kept] = '\0';
	outcome(w, status >= 200 && status < 300, true, "HTTP %ld after %.1f ms, %zu bytes%s%s%s",
		status, ms, w->n_total, w->n_kept ? ": " : "", w->kept,
		status >= 300 && status < 400 ? " (redirects are not followed)" : "");
}

/* The work: one request, bounded by the timeout. */
static void http_request(void *arg)
{
	struct http_work *w = arg;
	char token[TOKEN_MAX + 1], line[TOKEN_MAX + 32], err[CURL_ERROR_SIZE] = "";
	struct curl_slist *h = NULL, *nh;
	const struct vigil_curl *cu = w->cu;
	struct timespec t0, t1;
	CURL *c = NULL;
	CURLcode rc;

	if (w->token_file && read_token(w, token, sizeof(token)))
		return;
	c = cu->easy_init();
	if (!c) {
		outcome(w, false, false, "libcurl: no handle");
		goto out;
	}
	snprintf(line, sizeof(line), "X-Vigil-Incident: %s", w->incident);
	h = cu->slist_append(h, line);
	snprintf(line, sizeof(line), "X-Vigil-Signature: %s", w->signature);
	h = h ? cu->slist_append(h, line) : NULL;
	h = h ? cu->slist_append(h, "Expect:") : NULL; /* no 100-continue round trip */
	if (h && w->ctype) {
		snprintf(line, sizeof(line), "Content-Type: %s", w->ctype);
		h = cu->slist_append(h, line);
	}
	if (h && w->token_file) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
		nh = cu->slist_append(h, line);
		explicit_bzero(line, sizeof(line));
		h = nh;
	}
	if (!h) {
		outcome(w, false, false, "libcurl: out of memory");
		goto out;
	}
	vigil_curl_request(cu, c, w->url, (long)w->timeout_ms, h);
	cu->easy_setopt(c, CURLOPT_POSTFIELDS, w->body ? w->body : "");
	cu->easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(w->body ? strlen(w->body) : 0));
	if (strcmp(w->method, "POST"))
		cu->easy_setopt(c, CURLOPT_CUSTOMREQUEST, w->method);
	cu->easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	cu->easy_setopt(c, CURLOPT_WRITEDATA, w);
	cu->easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = cu->easy_perform(c);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	answered(w, c, rc, ms_between(&t0, &t1), err[0] ? err : cu->easy_strerror(rc));
out:
	if (w->token_file)
		explicit_bzero(token, sizeof(token));
	cu->slist_free_all(h);
	cu->easy_cleanup(c);
}

/* --- the run ------------------------------------------------------------------------------ */

/* application/json for a JSON object, text/plain otherwise; NULL without a body. */
static const char *content_type(const char *body)
{
	json_t *j;
	bool obj;

	if (!body)
		return NULL;
	j = json_loads(body, JSON_DECODE_ANY, NULL);
	obj = json_is_object(j);
	json_decref(j);
	return obj ? "application/json" : "text/plain; charset=utf-8";
}

static void drop_copies(struct http_work *w)
{
	free(w->url);
	free(w->method);
	free(w->body);
	free(w->token_file);
	w->url = w->method = w->body = w->token_file = NULL;
}

static char *dup_or_null(const char *s, bool *failed)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*failed = true;
	return d;
}

static void http_start(struct vigil_action_run *run)
{
	struct http_run *r = (struct http_run *)run;
	const struct vigil_http_params *p = run->action->params;
	struct http_work *w = &r->w;
	char detail[320], why[256] = "";
	bool failed = false;
	int err;

	/* Opened at validate already: the same table, or why it cannot be had. */
	err = vigil_curl_load(&w->cu, why, sizeof(why));
	if (err) {
		snprintf(detail, sizeof(detail), "the request could not be started: %s", why);
		vigil_action_done(run, false, false, detail, 0);
		return;
	}
	w->url = dup_or_null(p->url, &failed);
	w->method = dup_or_null(p->method, &failed);
	w->body = dup_or_null(p->body, &failed);
	w->token_file = dup_or_null(p->token_file, &failed);
	w->ctype = content_type(p->body);
	w->timeout_ms = p->timeout_ms;
	snprintf(w->incident, sizeof(w->incident), "%s", run->inc->id);
	snprintf(w->signature, sizeof(w->signature), "%s", run->inc->signature);
	err = failed ? -ENOMEM : vigil_action_work(run, http_request, w);
	if (err) {
		drop_copies(w);
		snprintf(detail, sizeof(detail), "the request could not be started: %s",
			 strerror(-err));
		vigil_action_done(run, false, false, detail, 0);
		return;
	}
	vigil_action_attempt(run);
}

static void http_progress(struct vigil_action_run *run, const struct vigil_action_event *ev)
{
	struct http_run *r = (struct http_run *)run;
	char detail[sizeof(r->w.detail)];

	if (ev->type != VIGIL_ACTION_WORK_DONE)
		return; /* nothing else is waited for */
	drop_copies(&r->w);
	snprintf(detail, sizeof(detail), "%s", r->w.done ? r->w.detail : "no outcome");
	vigil_action_done(run, r->w.ok, r->w.known && r->w.done, detail, 0);
}

/* vigil stops: the work has returned (vigil waited for it). Did the endpoint say yes? */
static bool http_cancel(struct vigil_action_run *run)
{
	struct http_run *r = (struct http_run *)run;

	drop_copies(&r->w);
	return r->w.done && r->w.ok;
}

const struct vigil_action_ops vigil_http_ops = {
    .kind = "http",
    .validate = http_validate,
    .describe = http_describe,
    .touches = http_touches,
    .free_params = http_free_params,
    .run_size = sizeof(struct http_run),
    .start = http_start,
    .progress = http_progress,
    .cancel = http_cancel,
};
