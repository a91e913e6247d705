/* SPDX-License-Identifier: Apache-2.0 */
/*
 * otlp: the OTLP/HTTP backend of the queued sink (sink.h). Incident and action records are
 * handed to the sink as they are journaled; its thread POSTs them with libcurl to
 * ENDPOINT/v1/logs as OTLP/HTTP JSON log records (otlp_logs.h), up to CHUNK records a request.
 *
 * What the receiver answers decides what becomes of the records of a request:
 *   2xx                    written (acknowledged); a partialSuccess's rejectedLogRecords are
 *                          counted as rejected (the reply does not say which: the last ones
 *                          of the request are marked) and its errorMessage becomes last_error
 *   429, 5xx, no answer    (connection refused or lost, no reply within timeout, a reply cut
 *                          short) retried later, the records spooled meanwhile
 *   any other status       rejected for good and counted (the receiver refuses them as they
 *                          are: a bad request, a wrong path, a refused token)
 * A reply body is read up to 64 KiB; beyond it the transfer is cut (a 2xx still acknowledges).
 *
 * OTLP has no deduplication. The sink replays only what was not acknowledged, so a record
 * reaches the receiver twice only when a request arrived but its reply did not (timeout, lost
 * connection): each log record carries vigil.rid, the record's id, for a backend to drop such
 * a copy.
 */
#ifndef VIGIL_OTLP_H
#define VIGIL_OTLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "output/sink.h"

struct vigil_otlp_opts {
	const char *endpoint;	    /* http[s]://host:port[/prefix]; /v1/logs is appended */
	const char *const *headers; /* "Name: value" each; may be NULL */
	unsigned int n_headers;
	unsigned int timeout_ms; /* each request, connection included; 0: 10000 */
	const char *spool;
	uint64_t spool_max_bytes;
	bool spool_sync;
	unsigned int queue_max;	       /* records; 0: 65536 */
	unsigned int backoff_first_ms; /* 0: the sink's */
	unsigned int backoff_max_ms;   /* 0: the sink's */
};

/* Open a sink (sink.h) sending to an OTLP/HTTP receiver: its spool opened (and recovered), its
 * thread started. The receiver need not be up. Returns 0 and *out, or -errno with err written.
 * Call on the main thread (libcurl's global init). */
int vigil_otlp_sink_open(const struct vigil_otlp_opts *o, struct vigil_sink **out, char *err,
			 size_t errlen);
/* POST an empty request (no resourceLogs) once, for `vigil doctor`. Returns 0 with msg
 * "URL answers HTTP 200", or -EIO with msg saying what failed. */
int vigil_otlp_ping(const struct vigil_otlp_opts *o, char *msg, size_t len);
/* The URL records are sent to (endpoint + /v1/logs), into buf. */
const char *vigil_otlp_url(const char *endpoint, char *buf, size_t len);

#endif /* VIGIL_OTLP_H */
