// SPDX-License-Identifier: Apache-2.0
/*
 * otlp: the OTLP/HTTP backend of the queued sink (see otlp.h): one libcurl handle, kept
 * between requests so that the connection is reused, and what each reply means. The queue,
 * the spool and replay are sink.c's; the log records are otlp_logs.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/curl_lib.h"
#include "output/otlp.h"
#include "output/otlp_logs.h"
#include "output/sink.h"

#define CHUNK 64	      /* records a request */
#define REPLY_MAX (64 * 1024) /* the most of a reply body read */
#define REPLY_FIRST 1024      /* the reply buffer to start with: it doubles up to REPLY_MAX */

/* The backend: set at open, then the sink thread's alone. */
struct otlp_be {
	const struct vigil_curl *cu; /* libcurl, opened at the sink's open */
	char *url;
	struct curl_slist *headers;
	unsigned int timeout_ms;
	CURL *c;
	/* the reply of the request in flight: reply_cap bytes, grown as replies need */
	char *reply;
	size_t n_reply, reply_cap;
	bool cut; /* longer than REPLY_MAX: the transfer was stopped there */
};

/* What a request came to. */
enum outcome {
	ACKED,	 /* 2xx: acknowledged */
	REFUSED, /* a status that says the records are wrong: rejected for good */
	RETRY,	 /* 429, 5xx, or no answer: later */
};

const char *vigil_otlp_url(const char *endpoint, char *buf, size_t len)
{
	size_t n = strlen(endpoint);

	while (n && endpoint[n - 1] == '/')
		n--;
	snprintf(buf, len, "%.*s/v1/logs", (int)n, endpoint);
	return buf;
}

/* libcurl's body callback: keep REPLY_MAX bytes, then stop the transfer. */
static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct otlp_be *b = arg;
	size_t n = size * nmemb;

	size_t cap = b->reply_cap;
	char *r;

	if (b->n_reply + n > REPLY_MAX) {
		b->cut = true;
		return 0; /* CURLE_WRITE_ERROR: the rest is not read */
	}
	while (cap < b->n_reply + n + 1)
		cap *= 2;
	if (cap > REPLY_MAX + 1)
		cap = REPLY_MAX + 1;
	if (cap != b->reply_cap) {
		r = realloc(b->reply, cap);
		if (!r)
			return 0; /* CURLE_WRITE_ERROR: retried later */
		b->reply = r;
		b->reply_cap = cap;
	}
	memcpy(b->reply + b->n_reply, p, n);
	b->n_reply += n;
	return n;
}

/* A new handle set up for the receiver. NULL: no memory. */
static CURL *handle(struct otlp_be *b)
{
	const struct vigil_curl *cu = b->cu;
	CURL *c = cu->easy_init();

	if (!c)
		return NULL;
	vigil_curl_request(cu, c, b->url, (long)b->timeout_ms, b->headers);
	cu->easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	cu->easy_setopt(c, CURLOPT_WRITEDATA, b);
	return c;
}

/* ops->connect: a TCP (and TLS) connection to the receiver, to know it is there; the requests
 * then go on a handle of their own. Returns 0 (up) or -EIO with why (down). */
static int otlp_connect(void *be, char *why, size_t len)
{
	struct otlp_be *b = be;
	char err[CURL_ERROR_SIZE] = "";
	CURL *probe = handle(b);
	CURLcode rc;

	if (probe) {
		b->cu->easy_setopt(probe, CURLOPT_CONNECT_ONLY, 1L);
		b->cu->easy_setopt(probe, CURLOPT_ERRORBUFFER, err);
	}
	rc = probe ? b->cu->easy_perform(probe) : CURLE_OUT_OF_MEMORY;
	b->cu->easy_cleanup(probe);
	if (rc != CURLE_OK) {
		snprintf(why, len, "connect: %s", err[0] ? err : b->cu->easy_strerror(rc));
		return -EIO;
	}
	b->c = handle(b);
	if (!b->c) {
		snprintf(why, len, "connect: %s", strerror(ENOMEM));
		return -EIO;
	}
	return 0;
}

/* ops->disconnect */
static void otlp_disconnect(void *be)
{
	struct otlp_be *b = be;

	b->cu->easy_cleanup(b->c);
	b->c = NULL;
}

/* The reply's first characters, printable, for a message. */
static const char *reply_text(struct otlp_be *b, char *buf, size_t len)
{
	size_t n = b->n_reply < len - 1 ? b->n_reply : len - 1;

	for (size_t i = 0; i < n; i++)
		buf[i] = b->reply[i] >= ' ' && b->reply[i] < 0x7f ? b->reply[i] : ' ';
	while (n && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
	return buf;
}

/*
 * POST body on the kept handle. Returns ACKED with *rejected (partialSuccess) and why written
 * when it says anything, or REFUSED or RETRY with why written.
 */
static enum outcome post(struct otlp_be *b, const char *body, size_t blen, uint64_t *rejected,
			 char *why, size_t len)
{
	char err[CURL_ERROR_SIZE] = "", msg[128], text[96];
	long code = 0;
	CURLcode rc;

	*rejected = 0;
	b->n_reply = 0;
	b->cut = false;
	b->cu->easy_setopt(b->c, CURLOPT_POSTFIELDS, body);
	b->cu->easy_setopt(b->c, CURLOPT_POSTFIELDSIZE, (long)blen);
	b->cu->easy_setopt(b->c, CURLOPT_ERRORBUFFER, err);
	rc = b->cu->easy_perform(b->c);
	b->cu->easy_getinfo(b->c, CURLINFO_RESPONSE_CODE, &code);
	b->cu->easy_setopt(b->c, CURLOPT_ERRORBUFFER, NULL);
	b->reply[b->n_reply] = '\0';
	/* A body cut at REPLY_MAX still has its status: that is what acknowledges. */
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && b->cut && code)) {
		snprintf(why, len, "write: %s", err[0] ? err : b->cu->easy_strerror(rc));
		return RETRY;
	}
	if (code >= 200 && code < 300) {
		if (b->cut) {
			snprintf(why, len, "a reply body over %d KiB: not read", REPLY_MAX / 1024);
		} else if (vigil_otlp_parse_reply(b->reply, b->n_reply, rejected, msg,
						  sizeof(msg))) {
			snprintf(why, len, "HTTP %ld: %s (the records count as delivered)", code,
				 msg);
		} else if (*rejected) {
			snprintf(why, len, "partial success: %llu log records rejected: %s",
				 (unsigned long long)*rejected, msg);
		}
		return ACKED;
	}
	snprintf(why, len, "%s: HTTP %ld: %s",
		 code == 429 || code >= 500 ? "refused for now" : "rejected", code,
		 reply_text(b, text, sizeof(text)));
	return code == 429 || code >= 500 ? RETRY : REFUSED;
}

/*
 * One request of records [from, to): those the encoder refuses are rejected alone; the rest
 * are sent. Returns whether they are done (res set), else RETRY with why written.
 */
static bool write_chunk(void *be, const char *const *recs, const size_t *lens, unsigned int from,
			unsigned int to, enum vigil_sink_result *res, char *why, size_t len)
{
	struct otlp_be *b = be;
	unsigned int sent = 0;
	json_t *req = json_object();
	enum outcome o = ACKED;
	uint64_t rejected = 0;
	char *body = NULL;

	for (unsigned int i = from; req && i < to; i++) {
		int err = vigil_otlp_add(req, recs[i], lens[i], why, len);

		if (err == -ENOMEM)
			goto nomem;
		res[i] = err ? VIGIL_SINK_REJECTED : VIGIL_SINK_WRITTEN;
		sent += !err;
	}
	if (!req)
		goto nomem;
	if (sent) {
		body = json_dumps(req, JSON_COMPACT);
		if (!body)
			goto nomem;
		o = post(b, body, strlen(body), &rejected, why, len);
	}
	free(body);
	json_decref(req);
	if (o == RETRY)
		return false;
	/* REFUSED: every record sent; ACKED: the last `rejected` of them (which ones the reply
	 * does not say). */
	for (unsigned int i = to; i-- > from && (o == REFUSED || rejected);) {
		if (res[i] != VIGIL_SINK_WRITTEN)
			continue;
		res[i] = VIGIL_SINK_REJECTED;
		rejected -= rejected > 0;
	}
	return true;
nomem:
	json_decref(req);
	snprintf(why, len, "write: %s", strerror(ENOMEM));
	return false;
}

/* ops->write: n records, CHUNK to a request. Returns the number done from the start. */
static unsigned int otlp_write(void *be, const char *const *recs, const size_t *lens,
			       unsigned int n, enum vigil_sink_result *res, char *why, size_t len)
{
	return vigil_sink_write_chunked(be, CHUNK, write_chunk, recs, lens, n, res, why, len);
}

/* ops->free */
static void otlp_free(void *be)
{
	struct otlp_be *b = be;

	if (!b)
		return;
	otlp_disconnect(b);
	free(b->url);
	free(b->reply);
	b->cu->slist_free_all(b->headers);
	free(b);
}

static const struct vigil_sink_backend_ops otlp_ops = {
    .name = "otlp",
    .title = "the OTLP receiver",
    .connect = otlp_connect,
    .disconnect = otlp_disconnect,
    .write = otlp_write,
    .free = otlp_free,
};

/*
 * A backend for o, on libcurl (opened here on first use: not thread-safe, so on the main
 * thread, before the sink's own starts). Returns 0 and *out, or -errno with err written.
 */
static int be_new(const struct vigil_otlp_opts *o, struct otlp_be **out, char *err, size_t errlen)
{
	const struct vigil_curl *cu;
	struct otlp_be *b;
	struct curl_slist *h;
	char url[1024];
	int ret;

	ret = vigil_curl_load(&cu, err, errlen);
	if (ret)
		return ret;
	b = calloc(1, sizeof(*b));
	if (!b)
		goto nomem;
	b->cu = cu;
	b->timeout_ms = o->timeout_ms ? o->timeout_ms : 10000;
	b->url = strdup(vigil_otlp_url(o->endpoint, url, sizeof(url)));
	b->reply = malloc(REPLY_FIRST);
	b->reply_cap = REPLY_FIRST;
	b->headers = b->cu->slist_append(NULL, "Content-Type: application/json");
	h = b->headers ? b->cu->slist_append(b->headers, "Expect:") : NULL; /* no 100-continue */
	for (unsigned int i = 0; h && i < o->n_headers; i++)
		h = b->cu->slist_append(b->headers, o->headers[i]);
	if (!b->url || !b->reply || !h) {
		otlp_free(b);
		goto nomem;
	}
	*out = b;
	return 0;
nomem:
	snprintf(err, errlen, "%s", strerror(ENOMEM));
	return -ENOMEM;
}

int vigil_otlp_sink_open(const struct vigil_otlp_opts *o, struct vigil_sink **out, char *err,
			 size_t errlen)
{
	const struct vigil_sink_opts so = {
	    .spool = o->spool,
	    .spool_max_bytes = o->spool_max_bytes,
	    .spool_sync = o->spool_sync,
	    .queue_max = o->queue_max,
	    .backoff_first_ms = o->backoff_first_ms,
	    .backoff_max_ms = o->backoff_max_ms,
	};
	struct otlp_be *b;
	int ret;

	ret = be_new(o, &b, err, errlen);
	if (ret)
		return ret;
	/* From here the backend is the sink's, whatever it returns. */
	return vigil_sink_open(&so, &otlp_ops, b, out, err, errlen);
}

int vigil_otlp_ping(const struct vigil_otlp_opts *o, char *msg, size_t len)
{
	static const char empty[] = "{\"resourceLogs\":[]}";
	struct otlp_be *b;
	uint64_t rejected;
	char why[256];
	enum outcome out;

	if (be_new(o, &b, msg, len))
		return -EIO;
	why[0] = '\0';
	b->c = handle(b);
	out = b->c ? post(b, empty, strlen(empty), &rejected, why, sizeof(why)) : RETRY;
	if (out == ACKED)
		snprintf(msg, len, "%s answers", b->url);
	else
		snprintf(msg, len, "%s: %s", b->url, b->c ? why : strerror(ENOMEM));
	otlp_free(b);
	return out == ACKED ? 0 : -EIO;
}
