/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pg_server: a real PostgreSQL server for a test, in a scratch directory of its own (owned by
 * the postgres user: initdb refuses root), on a unix socket there and on a free loopback TCP
 * port. The superuser postgres connects on the socket without a password (the test's own
 * psql); every TCP connection needs a password (scram-sha-256): what vigil uses.
 */
#ifndef VIGIL_TEST_PG_SERVER_H
#define VIGIL_TEST_PG_SERVER_H

#include <stddef.h>

struct vt_pg {
	char bin[256]; /* /usr/lib/postgresql/N/bin */
	char dir[64];  /* data in dir/data, the socket and logs in dir */
	int port;
	int up;
};

/*
 * initdb and start. Returns 0; 1 when this host has no PostgreSQL to run (why written: the
 * test skips); -1 on a failure (said on stderr, with the server's log).
 */
int vt_pg_init(struct vt_pg *pg, char *why, size_t len);
/* Start again (after vt_pg_stop), on the same port and data. Returns 0 or -1. */
int vt_pg_start(struct vt_pg *pg);
/* pg_ctl stop -m mode ("fast", "immediate": a crash, no checkpoint). Returns 0 or -1. */
int vt_pg_stop(struct vt_pg *pg, const char *mode);
/* Stop it if up and remove its directory. */
void vt_pg_fini(struct vt_pg *pg);
/* Send sig to the postmaster and every process of the server. Returns how many got it. */
int vt_pg_signal(const struct vt_pg *pg, int sig);

/* Run a shell command line built from the test's own paths (psql, pg_ctl, vigil export
 * piped to psql). Returns its exit status, -1 if it did not exit. */
__attribute__((format(printf, 1, 2))) int vt_pg_sh(const char *fmt, ...);
/* The psql command line as the superuser, up to the options of one call, into buf. */
const char *vt_pg_psql_cmd(const struct vt_pg *pg, char *buf, size_t len);
/* Run sql (from a file: no shell quoting) as the superuser; the unaligned answer, without
 * its last newline, into out (may be NULL). Returns psql's exit status. */
int vt_pg_psql(const struct vt_pg *pg, const char *sql, char *out, size_t len);
/* What Supabase provides (auth.users, auth.role()), then every migration of sqldir in
 * order. Returns 0 or psql's status (its output on stderr). */
int vt_pg_supabase(const struct vt_pg *pg);
int vt_pg_migrate(const struct vt_pg *pg, const char *sqldir);

#endif /* VIGIL_TEST_PG_SERVER_H */
