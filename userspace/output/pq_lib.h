/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pq_lib: libpq, opened at run time (core/dynlib.h) by the postgres sink (postgres.c), its only
 * user. Each member is the function of the same name without its "PQ" prefix. The table is the
 * one static of this file, filled once; users keep the pointer load gives them.
 */
#ifndef VIGIL_PQ_LIB_H
#define VIGIL_PQ_LIB_H

#include <stddef.h>

#include <libpq-fe.h>

#define VIGIL_PQ_SONAME "libpq.so.5"

struct vigil_pq {
	__typeof__(PQconnectdbParams) *connectdbParams;
	__typeof__(PQstatus) *status;
	__typeof__(PQerrorMessage) *errorMessage;
	__typeof__(PQsetNoticeProcessor) *setNoticeProcessor;
	__typeof__(PQfinish) *finish;
	__typeof__(PQsocket) *socket;
	__typeof__(PQsendQuery) *sendQuery;
	__typeof__(PQsendQueryParams) *sendQueryParams;
	__typeof__(PQisBusy) *isBusy;
	__typeof__(PQconsumeInput) *consumeInput;
	__typeof__(PQgetResult) *getResult;
	__typeof__(PQresultStatus) *resultStatus;
	__typeof__(PQresultErrorField) *resultErrorField;
	__typeof__(PQcmdTuples) *cmdTuples;
	__typeof__(PQclear) *clear;
};

/*
 * libpq's table: opened on the first call that succeeds, the same table after. Thread-safe.
 * Returns 0 with *out, or -ENOENT (not installed) or -ENOSYS (a function missing) with err
 * naming the library and what is missing.
 */
int vigil_pq_load(const struct vigil_pq **out, char *err, size_t errlen);

#endif /* VIGIL_PQ_LIB_H */
