// SPDX-License-Identifier: Apache-2.0
/* pg_server: a real PostgreSQL server for a test (see pg_server.h). */
#include <arpa/inet.h>
#include <dirent.h>
#include <glob.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pg_server.h"
#include "ports.h"

int vt_pg_sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int vt_pg_init(struct vt_pg *pg, char *why, size_t len)
{
	struct passwd *pw;
	glob_t g = {};

	memset(pg, 0, sizeof(*pg));
	if (glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) || !g.gl_pathc) {
		snprintf(why, len, "no /usr/lib/postgresql/*/bin/initdb (make deps)");
		globfree(&g);
		return 1;
	}
	/* The newest version: glob sorts, and Debian 12 has one (15). */
	snprintf(pg->bin, sizeof(pg->bin), "%s", g.gl_pathv[g.gl_pathc - 1]);
	globfree(&g);
	*strrchr(pg->bin, '/') = '\0';
	pw = getpwnam("postgres");
	if (!pw) {
		snprintf(why, len, "no postgres user to run initdb as");
		return 1;
	}
	snprintf(pg->dir, sizeof(pg->dir), "/tmp/vigil-pg-XXXXXX");
	pg->port = vt_free_port();
	if (!mkdtemp(pg->dir) || pg->port < 0 || chown(pg->dir, pw->pw_uid, pw->pw_gid)) {
		perror("pg_server: scratch directory");
		return -1;
	}
	if (vt_pg_sh("runuser -u postgres -- %s/initdb -D %s/data -U postgres --auth-local=trust "
		     "--auth-host=scram-sha-256 -E UTF8 --no-locale >%s/initdb.log 2>&1",
		     pg->bin, pg->dir, pg->dir)) {
		fprintf(stderr, "pg_server: initdb failed:\n");
		vt_pg_sh("cat %s/initdb.log >&2", pg->dir);
		return -1;
	}
	return vt_pg_start(pg);
}

int vt_pg_start(struct vt_pg *pg)
{
	if (vt_pg_sh("runuser -u postgres -- %s/pg_ctl -D %s/data -l %s/pg.log -w -t 60 -o \"-k %s "
		     "-c listen_addresses=127.0.0.1 -p %d\" start >/dev/null",
		     pg->bin, pg->dir, pg->dir, pg->dir, pg->port)) {
		fprintf(stderr, "pg_server: pg_ctl start failed:\n");
		vt_pg_sh("tail -20 %s/pg.log >&2", pg->dir);
		return -1;
	}
	pg->up = 1;
	return 0;
}

int vt_pg_stop(struct vt_pg *pg, const char *mode)
{
	int rc = vt_pg_sh("runuser -u postgres -- %s/pg_ctl -D %s/data -m %s -w stop >/dev/null",
			  pg->bin, pg->dir, mode);

	pg->up = 0;
	return rc ? -1 : 0;
}

void vt_pg_fini(struct vt_pg *pg)
{
	if (!pg->dir[0])
		return;
	if (pg->up) {
		vt_pg_signal(pg, SIGCONT); /* a test that stopped it and failed */
		if (vt_pg_stop(pg, "fast"))
			fprintf(stderr, "pg_server: pg_ctl stop failed\n");
	}
	vt_pg_sh("rm -rf '%s'", pg->dir);
	pg->dir[0] = '\0';
}

/* The postmaster's pid, from its pid file, or -1. */
static pid_t postmaster(const struct vt_pg *pg)
{
	char path[128];
	long pid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/data/postmaster.pid", pg->dir);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = -1;
	fclose(f);
	return (pid_t)pid;
}

/* The parent of pid, from /proc, or -1. */
static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512], *p;
	long pp = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		sscanf(p + 2, "%*c %ld", &pp);
	fclose(f);
	return (pid_t)pp;
}

int vt_pg_signal(const struct vt_pg *pg, int sig)
{
	pid_t pm = postmaster(pg);
	struct dirent *e;
	int n = 0;
	DIR *d;

	if (pm <= 0)
		return 0;
	/* The backends first, then the postmaster (it would notice a stopped child). */
	d = opendir("/proc");
	while (d && (e = readdir(d))) {
		pid_t pid = (pid_t)atoi(e->d_name);

		if (pid > 0 && parent_of(pid) == pm && !kill(pid, sig))
			n++;
	}
	if (d)
		closedir(d);
	return n + !kill(pm, sig);
}

const char *vt_pg_psql_cmd(const struct vt_pg *pg, char *buf, size_t len)
{
	snprintf(buf, len, "%s/psql -X -q -h %s -p %d -U postgres -d postgres -v ON_ERROR_STOP=1",
		 pg->bin, pg->dir, pg->port);
	return buf;
}

int vt_pg_psql(const struct vt_pg *pg, const char *sql, char *out, size_t len)
{
	char path[128], opath[128], cmd[512];
	size_t n = 0;
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/q.sql", pg->dir);
	snprintf(opath, sizeof(opath), "%s/q.out", pg->dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(sql, f);
	fclose(f);
	rc = vt_pg_sh("%s -At -f %s >%s 2>&1", vt_pg_psql_cmd(pg, cmd, sizeof(cmd)), path, opath);
	if (out && len) {
		f = fopen(opath, "r");
		if (f) {
			n = fread(out, 1, len - 1, f);
			fclose(f);
		}
		out[n] = '\0';
		/* One answer line: without its newline, for assert_string_equal. */
		if (n && out[n - 1] == '\n')
			out[n - 1] = '\0';
	}
	return rc;
}

int vt_pg_supabase(const struct vt_pg *pg)
{
	/* auth.role() as Supabase defines it: the role claim of the request's JWT. */
	return vt_pg_psql(
	    pg,
	    "create schema auth;\n"
	    "create table auth.users (id uuid primary key);\n"
	    "create function auth.role() returns text language sql stable as $$\n"
	    "  select coalesce(nullif(current_setting('request.jwt.claim.role', true), ''),\n"
	    "    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role'))\n"
	    "$$;\n",
	    NULL, 0);
}

int vt_pg_migrate(const struct vt_pg *pg, const char *sqldir)
{
	char pat[600], cmd[512];
	glob_t g = {};
	int rc = 0;

	snprintf(pat, sizeof(pat), "%s/[0-9][0-9][0-9]_*.sql", sqldir);
	if (glob(pat, 0, NULL, &g))
		return -1;
	for (size_t i = 0; !rc && i < g.gl_pathc; i++) {
		rc = vt_pg_sh("%s -f %s >%s/migrate.log 2>&1", vt_pg_psql_cmd(pg, cmd, sizeof(cmd)),
			      g.gl_pathv[i], pg->dir);
		if (rc)
			vt_pg_sh("cat %s/migrate.log >&2", pg->dir);
	}
	globfree(&g);
	return rc;
}
