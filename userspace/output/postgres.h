/* SPDX-License-Identifier: Apache-2.0 */
/*
 * postgres: the PostgreSQL backend of the queued sink (sink.h). The records that sql/'s
 * tables hold — incident, action and knowledge records — are handed to the sink as they are
 * journaled; its thread writes them with libpq as sql_rows.h's statements (the ones `vigil
 * export --sql` writes), parameterized, a transaction per few records. Every statement is
 * idempotent, so a record replayed after a lost reply changes nothing and is counted as a
 * duplicate.
 *
 * What an error means decides what becomes of a record: the connection lost, no answer in
 * time, or a refusal that says the server cannot take writes now (permissions, a missing
 * table, a shutdown, a timeout) — retried later, the records spooled meanwhile; bad data
 * (SQLSTATE classes 22, 23, 54) — that record rejected for good and counted.
 */
#ifndef VIGIL_POSTGRES_H
#define VIGIL_POSTGRES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "output/sink.h"

struct vigil_pg_opts {
	const char *url;	   /* postgresql://[user[:password]@]host[:port]/db[?...] */
	const char *password;	   /* NULL: password_file, else the URL's, else PGPASSWORD */
	const char *password_file; /* read at each connection (first line); may be NULL */
	const char *node;	   /* created_by_agent: vigil@node */
	const char *spool;
	uint64_t spool_max_bytes;
	bool spool_sync;
	unsigned int queue_max;	 /* records; 0: 65536 */
	unsigned int timeout_ms; /* connect, and each statement's answer; 0: 5000 */
};

/* Open a sink (sink.h) writing to PostgreSQL: its spool opened (and recovered), its thread
 * started. The server need not be up. Returns 0 and *out, or -errno with err written. */
int vigil_pg_sink_open(const struct vigil_pg_opts *o, struct vigil_sink **out, char *err,
		       size_t errlen);
/* Connect once and read sql/'s columns (none of their rows), for `vigil doctor`. Returns 0
 * with msg "URL answers, sql/ applied", or -EIO with msg saying what failed. */
int vigil_pg_ping(const struct vigil_pg_opts *o, char *msg, size_t len);
/* Whether the sink has anything to write for this record (incident, action, knowledge):
 * others are not queued. */
bool vigil_pg_wants(const char *json, size_t len);
/* url with its password (user:PASSWORD@, password=...) replaced by "***", into buf. */
const char *vigil_pg_url_safe(const char *url, char *buf, size_t len);

#endif /* VIGIL_POSTGRES_H */
