/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sql_rows: the rows of sql/'s tables that vigil's records become — each one statement with
 * $n parameters and the parameters' text — shared by the two writers so that they cannot
 * disagree: `vigil export --sql` renders a row as literals (vigil_sql_render), the PostgreSQL
 * sink sends it with PQexecParams.
 *
 * Every statement is idempotent: an upsert that changes a row only when the record is not
 * older than the row and says something new, or an insert that does nothing on conflict. A
 * statement that changed nothing reports 0 rows: the writer may count the record as one the
 * database held already.
 *
 * PostgreSQL text holds neither NUL nor invalid UTF-8: each parameter is made valid UTF-8,
 * NUL (also \u0000 inside jsonb) and bad bytes written as U+FFFD, counted in the row.
 */
#ifndef VIGIL_SQL_ROWS_H
#define VIGIL_SQL_ROWS_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#define VIGIL_SQL_MAX_PARAMS 20

struct vigil_sql_row {
	const char *stmt;		      /* the statement, $1..$n */
	int n;				      /* parameters */
	char *v[VIGIL_SQL_MAX_PARAMS];	      /* each one's text (allocated); NULL: SQL null */
	unsigned long nul_replaced, bad_utf8; /* U+FFFD written for NUL, for invalid bytes */
};

/* A (signature, action) pair's numbers, for incident_knowledge. */
struct vigil_sql_know {
	const char *signature, *action;
	const char *workload, *cls; /* may be NULL */
	long long attempts, successes;
	const char *last_applied; /* RFC 3339, may be NULL */
	const char *node;	  /* created_by_agent: "vigil@" node */
};

/*
 * Build a row (r's previous contents are not freed: vigil_sql_row_free first). Each returns
 * 0, -EINVAL when the record lacks what the row needs (the reason is a constant string in
 * *why when why is not NULL), or -ENOMEM.
 *
 * incident: the upsert of an incident record; opened_at is the ts of the incident's first
 * record when known (the export), else the record's own (the sink: a row, once made, keeps
 * its opened_at). stub: the incidents row an action record references, made only if missing.
 * action: the healing_actions insert. knowledge: the incident_knowledge upsert (attempts > 0,
 * 0 <= successes <= attempts <= INT32_MAX); success_rate is successes / attempts rounded half
 * up to 2 places; error_pattern's detail is the incident's of the pair's last intent, looked
 * up by the statement in the tables.
 */
int vigil_sql_incident(struct vigil_sql_row *r, const json_t *rec, const char *opened_at,
		       const char **why);
int vigil_sql_stub(struct vigil_sql_row *r, const json_t *action, const char **why);
int vigil_sql_action(struct vigil_sql_row *r, const json_t *rec, const char **why);
int vigil_sql_knowledge(struct vigil_sql_row *r, const struct vigil_sql_know *k, const char **why);
/* Fill k from a knowledge record (pointers into rec). Returns 0 or -EINVAL (*why set). */
int vigil_sql_know_from_record(struct vigil_sql_know *k, const json_t *rec, const char **why);
void vigil_sql_row_free(struct vigil_sql_row *r);

/* The row as one SQL statement with literals, ending ";\n". Returns 0 or -EIO. */
int vigil_sql_render(FILE *out, const struct vigil_sql_row *r);

/* Whether ts is what vigil writes ("2026-11-29T13:42:45.123Z"); anything else goes out as
 * null rather than making PostgreSQL refuse the statement. */
bool vigil_sql_ts_ok(const char *ts);

#endif /* VIGIL_SQL_ROWS_H */
