/* SPDX-License-Identifier: Apache-2.0 */
/*
 * export: the journal as SQL for the tables in sql/ (PostgreSQL / Supabase), so that the
 * incident history, the audit trail and the knowledge they imply can be loaded into the
 * seed's database with `vigil export --sql | psql -v ON_ERROR_STOP=1 -f -`.
 */
#ifndef VIGIL_EXPORT_H
#define VIGIL_EXPORT_H

#include <stdio.h>

struct vigil_export_stats {
	unsigned long lines;	 /* non-empty lines read */
	unsigned long bad_lines; /* no record in them: skipped (a torn tail, garbage) */
	unsigned long torn;	 /* torn lines with a whole record after the tear: it was read */
	unsigned long skipped;	 /* incident/action records without the fields a row needs */
	unsigned long incidents; /* rows upserted into incidents */
	unsigned long actions;	 /* rows inserted into healing_actions */
	unsigned long knowledge; /* rows upserted into incident_knowledge */
	unsigned long knowledge_records; /* knowledge records read from the journal */
	unsigned long store_entries;	 /* entries taken from the knowledge store */
	unsigned long nul_replaced;	 /* NUL characters (\u0000) written as U+FFFD */
	unsigned long bad_utf8; /* invalid UTF-8 bytes written as U+FFFD (never from vigil) */
};

struct vigil_knowledge;

/*
 * Read a journal of JSON lines (the n files of journals in turn, oldest first: a rotated
 * journal's PATH.N .. PATH.1, then PATH) and write one transaction of SQL to out: for each incident
 * id its last record as an upsert into incidents, every action record as an insert into
 * healing_actions (a re-load inserts nothing twice), and per (signature, action) an upsert
 * into incident_knowledge of its attempts, successes and last application, taken from the
 * best source that has the pair: the knowledge store (store, may be NULL), else the last
 * knowledge record of the journal, else the counts of intents and successes among its action
 * records. Other record types (event, health, breaker) are not loaded. PostgreSQL text cannot
 * hold NUL, so a \u0000 in any string is written as U+FFFD. node fills created_by_agent
 * ("vigil@node") of new knowledge rows. The statements are sql_rows.h's, as the PostgreSQL
 * sink sends them. st may be NULL.
 * Returns 0, -EIO on a read or write error, -ENOMEM.
 */
int vigil_export_sql(FILE *const *journals, unsigned int n, const struct vigil_knowledge *store,
		     const char *node, FILE *out, struct vigil_export_stats *st);

#endif /* VIGIL_EXPORT_H */
