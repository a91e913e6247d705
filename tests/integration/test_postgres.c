// SPDX-License-Identifier: Apache-2.0
/*
 * Integration: the PostgreSQL sink against a real server (tests/lib's pg_server, on loopback
 * with scram passwords, sql/'s migrations applied) and a real vigil on the real BPF programs.
 * vigil connects as a login role that is not the tables' owner, so row-level security applies
 * to it: the role carries Supabase's service_role claim.
 *
 *   - a watched service crashes and a restart rule heals it: its incident, the audit trail
 *     and the knowledge row appear while vigil runs; vigil maps libpq, not libcurl (not
 *     configured);
 *   - the server stopped with -m immediate (a crash) in a burst of faults and started again:
 *     every record of the journal is in the tables, once;
 *   - a role without the claim is refused by RLS: nothing is lost, records wait, and arrive
 *     once the role is given it; anon reads nothing;
 *   - a wrong password: a clear error in `vigil status`, the password nowhere; a server that
 *     stops answering (SIGSTOP): vigil gives up on it after 5 s, spools, and catches up;
 *   - bad data (a check refusing some records): those rejected alone and counted.
 */
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "pg_server.h"

#define WAIT_MS 5000
#define WRITER "vigil_writer"
#define WRITER_PW "vt-pg-writer-pw"
#define NORLS "vigil_norls"
#define NORLS_PW "vt-pg-norls-pw"

static struct {
	struct vt_pg srv;
	char why[256];
	bool up;
} pg;

static int group_setup(void **state)
{
	char sqldir[512], out[4096], *slash;
	struct vt v;
	int rc;

	(void)state;
	/* The repository's sql/, from build/vigil's path. */
	if (vt_init(&v))
		return -1;
	snprintf(sqldir, sizeof(sqldir), "%s", v.vigil_bin);
	vt_fini(&v);
	for (int i = 0; i < 2 && (slash = strrchr(sqldir, '/')); i++)
		*slash = '\0';
	strncat(sqldir, "/sql", sizeof(sqldir) - strlen(sqldir) - 1);
	rc = vt_pg_init(&pg.srv, pg.why, sizeof(pg.why));
	if (rc)
		return rc < 0 ? -1 : 0;
	pg.up = true;
	if (vt_pg_supabase(&pg.srv) || vt_pg_migrate(&pg.srv, sqldir))
		return -1;
	/* vigil's role: what the service key is in Supabase, as a login of its own. */
	rc = vt_pg_psql(&pg.srv,
			"create role " WRITER " login password '" WRITER_PW "';\n"
			"alter role " WRITER " set request.jwt.claim.role = 'service_role';\n"
			"create role " NORLS " login password '" NORLS_PW "';\n"
			"create role vt_reader;\n"
			"grant usage on schema auth to " WRITER ", " NORLS ", vt_reader;\n"
			"grant select, insert, update on all tables in schema public to " WRITER
			", " NORLS ";\n"
			"grant usage on all sequences in schema public to " WRITER ", " NORLS ";\n"
			"grant select on all tables in schema public to vt_reader;\n",
			out, sizeof(out));
	if (rc)
		fprintf(stderr, "roles: %s\n", out);
	return rc ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	vt_pg_fini(&pg.srv);
	return 0;
}

static void need_server(void)
{
	if (!pg.up) {
		printf("test_postgres: skipped: %s\n", pg.why[0] ? pg.why : "no server");
		skip();
	}
}

/* One answer of the superuser's psql, which must succeed. */
static void q(char *out, size_t len, const char *fmt, ...)
{
	char sql[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	if (vt_pg_psql(&pg.srv, sql, out, len))
		fail_msg("psql failed: %s: %s", sql, out);
}

/* A password file in the test's directory, 0600. Its path into path. */
static void password_file(struct vt *v, const char *pw, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/pg.password", v->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", pw);
	fclose(f);
	assert_int_equal(chmod(path, 0600), 0);
}

/* A vigil config: its own node (its rows are its own), the sink as user with the password
 * file of the test's directory, and extra workloads. */
static void config(char *buf, size_t len, const char *node, const char *user, const char *workloads)
{
	snprintf(buf, len,
		 "node: %s\n"
		 "window: 2s\n"
		 "postgres:\n"
		 "  url: postgresql://%s@127.0.0.1:%d/postgres?sslmode=disable\n"
		 "  password_file: \"@DIR@/pg.password\"\n"
		 "  spool: \"@DIR@/postgres.spool\"\n"
		 "workloads:\n"
		 "%s",
		 node, user, pg.srv.port, workloads);
}

/* Wait until last_error holds text (and the state is not up). Returns the status. */
static json_t *sink_error(struct vt *v, const char *text, int timeout_ms)
{
	for (int waited = 0;; waited += 100) {
		json_t *r = vt_sink_status(v, "postgres");
		const char *e = vt_str(r, "last_error");

		if (e && strstr(e, text) && strcmp(vt_str(r, "state"), "up"))
			return r;
		if (waited >= timeout_ms) {
			char *s = json_dumps(r, JSON_COMPACT);

			fail_msg("no \"%s\" in the sink's status: %s", text, s);
		}
		json_decref(r);
		usleep(100000);
	}
}

/* What the journal and the tables hold of one node. */
struct tally {
	unsigned int records;		 /* incident, action and knowledge records in the journal */
	unsigned int incidents, actions; /* distinct incident ids; action records */
	unsigned int rows_incidents, rows_actions;
	unsigned int missing;	 /* journal records whose row is not there or not theirs */
	unsigned int duplicates; /* rows no journal record accounts for */
};

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || !p[n]))
			return true;
	return false;
}

static unsigned int lines(const char *text)
{
	unsigned int n = *text ? 1 : 0;

	for (const char *p = text; *p; p++)
		n += *p == '\n';
	return n;
}

/*
 * Every incident, action and knowledge record of the node's journal against the tables: the
 * row of each incident is its last record; each action record is one row; the knowledge row
 * of each (signature, action) has its last record's numbers; and no row is there that no
 * record accounts for.
 */
static void tally(struct vt *v, const char *node, struct tally *t)
{
	size_t cap = 1 << 20, i;
	char *out = malloc(cap), *acts = malloc(cap), line[512];
	json_t *last = json_object(), *know = json_object(), *rec;

	assert_true(out && acts && last && know);
	memset(t, 0, sizeof(*t));
	vt_count(v, "incident", NULL); /* read the journal to its end */
	json_array_foreach(v->records, i, rec)
	{
		const char *type = vt_str(rec, "type");

		if (!type)
			continue;
		if (!strcmp(type, "incident")) {
			json_object_set(last, vt_str(rec, "id"), rec);
		} else if (!strcmp(type, "action")) {
			t->actions++;
		} else if (!strcmp(type, "knowledge")) {
			snprintf(line, sizeof(line), "%s|%s", vt_str(rec, "signature"),
				 vt_str(rec, "action"));
			json_object_set(know, line, rec);
		} else {
			continue;
		}
		t->records++;
	}
	t->incidents = json_object_size(last);

	q(out, cap,
	  "select id || '|' || state || '|' || count || '|' || to_char(updated_at at time zone "
	  "'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') from incidents where node = '%s';",
	  node);
	t->rows_incidents = lines(out);
	{
		const char *id;

		json_object_foreach(last, id, rec)
		{
			snprintf(line, sizeof(line), "%s|%s|%lld|%s", id, vt_str(rec, "state"),
				 vt_int(rec, "count"), vt_str(rec, "ts"));
			if (!has_line(out, line)) {
				printf("missing incident row: %s\n", line);
				t->missing++;
			}
		}
	}
	q(acts, cap,
	  "select incident || '|' || action || '|' || outcome || '|' || to_char(at at time zone "
	  "'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') from healing_actions where node = '%s';",
	  node);
	t->rows_actions = lines(acts);
	json_array_foreach(v->records, i, rec)
	{
		if (!vt_str(rec, "type") || strcmp(vt_str(rec, "type"), "action"))
			continue;
		snprintf(line, sizeof(line), "%s|%s|%s|%s", vt_str(rec, "incident"),
			 vt_str(rec, "action"), vt_str(rec, "outcome"), vt_str(rec, "ts"));
		if (!has_line(acts, line)) {
			printf("missing action row: %s\n", line);
			t->missing++;
		}
	}
	{
		const char *key;

		json_object_foreach(know, key, rec)
		{
			q(out, cap,
			  "select attempts || '|' || successes || '|' || (created_by_agent like "
			  "'vigil@%%') from "
			  "incident_knowledge where error_pattern ->> 'signature' = '%s' and "
			  "fix_action ->> 'action' = '%s';",
			  vt_str(rec, "signature"), vt_str(rec, "action"));
			/* Rows are the fleet's: the node that made one is its created_by_agent. */
			snprintf(line, sizeof(line), "%lld|%lld|true", vt_int(rec, "attempts"),
				 vt_int(rec, "successes"));
			if (strcmp(out, line)) {
				printf("knowledge row %s: \"%s\", the record says \"%s\"\n", key,
				       out, line);
				t->missing++;
			}
		}
	}
	if (t->rows_incidents > t->incidents)
		t->duplicates += t->rows_incidents - t->incidents;
	if (t->rows_actions > t->actions)
		t->duplicates += t->rows_actions - t->actions;
	json_decref(last);
	json_decref(know);
	free(out);
	free(acts);
}

/* vigil as node, connecting as user with password pw (in its password file), on workloads. */
static void start(struct vt *v, const char *node, const char *user, const char *pw,
		  const char *workloads)
{
	char yaml[2048], path[256];

	assert_int_equal(vt_init(v), 0);
	password_file(v, pw, path, sizeof(path));
	config(yaml, sizeof(yaml), node, user, workloads);
	assert_int_equal(vt_start(v, yaml, NULL), 0);
}

/* Stop vigil, and its journal against the tables: nothing missing, nothing twice, at least
 * min incidents. */
static void stop_and_tally(struct vt *v, const char *node, unsigned int min, struct tally *t)
{
	assert_int_equal(vt_stop(v), 0);
	tally(v, node, t);
	assert_true(t->incidents >= min);
	assert_int_equal(t->missing, 0);
	assert_int_equal(t->duplicates, 0);
}

static const char svc_workload[] =
    "  - name: svc\n"
    "    match: { comm: vt-pgsvc }\n"
    "    verify: 300ms\n"
    "    heal:\n"
    "      - on: [crash]\n"
    "        level: 1\n"
    "        action: { restart: { exec: [\"@LINK:vt-pgsvc@\", serve] } }\n"
    "    policy: { allow_comm_only: true, allowed_exec: [\"@LINK:vt-pgsvc@\"] }\n";

/* A crash healed by a restart: the rows appear while vigil runs. */
static void test_heal_rows_live(void **state)
{
	static const char *const serve[] = {"serve", NULL};
	char out[4096], want[256];
	json_t *inc, *ok, *know, *st;
	long long newpid;
	struct tally t;
	struct vt v;
	pid_t svc;

	(void)state;
	need_server();
	start(&v, "t-pg-live", WRITER, WRITER_PW, svc_workload);
	/* libpq opened for the sink; libcurl (no otlp, no http action) never mapped. */
	assert_int_equal(vt_maps_lib(&v, "libpq.so"), 1);
	assert_int_equal(vt_maps_lib(&v, "libcurl.so"), 0);
	svc = vt_run(&v, "vt-pgsvc", serve);
	usleep(200000); /* exec'd under its name, in the watched set */
	kill(svc, SIGSEGV);
	vt_reap(svc);
	inc = vt_wait(&v, WAIT_MS, "incident", "class", "crash", "workload", "svc", NULL);
	assert_non_null(inc);
	ok = vt_wait(&v, WAIT_MS, "action", "incident", vt_str(inc, "id"), "outcome", "success",
		     NULL);
	assert_non_null(ok);
	newpid = vt_int(ok, "pid");
	know = vt_wait(&v, WAIT_MS, "knowledge", "signature", vt_str(inc, "signature"), NULL);
	assert_non_null(know);
	assert_non_null(
	    vt_wait(&v, WAIT_MS, "incident", "id", vt_str(inc, "id"), "state", "resolved", NULL));
	st = vt_sink_settled(&v, "postgres", WAIT_MS);
	/* Live: vigil still runs. */
	q(out, sizeof(out),
	  "select i.state || '|' || (select count(*) from healing_actions a where a.incident = "
	  "i.id) || '|' || k.attempts || '|' || k.successes || '|' || k.success_rate || '|' || "
	  "k.incident_type || '|' || k.created_by_agent || '|' || (k.error_pattern ->> "
	  "'workload') from incidents i, incident_knowledge k where i.id = '%s' and "
	  "k.error_pattern ->> 'signature' = i.signature and k.fix_action ->> 'action' = "
	  "'restart';",
	  vt_str(inc, "id"));
	snprintf(want, sizeof(want), "resolved|%d|1|1|1.00|crash|vigil@t-pg-live|svc",
		 vt_count(&v, "action", "incident", vt_str(inc, "id"), NULL));
	printf("live: %s (rows: state|actions|attempts|successes|rate|type|by|workload); sink "
	       "written %lld, duplicates %lld, rejected %lld\n",
	       out, vt_int(st, "written"), vt_int(st, "duplicates"), vt_int(st, "rejected"));
	assert_string_equal(out, want);
	assert_int_equal(vt_int(st, "rejected"), 0);
	assert_int_equal(vt_int(st, "duplicates"), 0);
	/* The status names the server, never the password. */
	assert_non_null(strstr(vt_str(st, "url"), "127.0.0.1"));
	json_decref(st);
	/* vigil doctor reaches the server as the sink does, and finds sql/ applied. */
	assert_int_equal(
	    vt_pg_sh("%s doctor -c %s | grep -q 'answers, sql/ applied'", v.vigil_bin, v.config),
	    0);
	if (newpid > 0)
		kill((pid_t)newpid, SIGKILL);
	stop_and_tally(&v, "t-pg-live", 1, &t);
	vt_fini(&v);
}

/* Faults of a watched workload, healed by a command that cannot bring it back: incidents,
 * actions (intents, outcomes, the breaker) and knowledge. */
static const char burst_workload[] =
    "  - name: burst\n"
    "    match: { comm: vt-pgburst }\n"
    "    heal:\n"
    "      - on: [exit_nonzero]\n"
    "        level: 1\n"
    "        action: { restart: { command: [/bin/true], await: 200ms } }\n"
    "    policy: { allow_comm_only: true, allowed_exec: [/bin/true] }\n";

static void burst(struct vt *v, int from, int to)
{
	vt_run_exits(v, "vt-pgburst", from, to);
}

/*
 * The server crashes (pg_ctl stop -m immediate: no checkpoint, transactions in flight lost)
 * in a burst of faults, more come while it is down, then it starts again: every record is in
 * the tables once.
 */
static void test_outage_loses_nothing(void **state)
{
	long long spooled, dups;
	struct tally t;
	struct vt v;
	json_t *st;
	const int n = 45;

	(void)state;
	need_server();
	start(&v, "t-pg-outage", WRITER, WRITER_PW, burst_workload);
	burst(&v, 1, n / 3);
	assert_int_equal(vt_pg_stop(&pg.srv, "immediate"), 0);
	burst(&v, n / 3 + 1, 2 * n / 3);
	json_decref(sink_error(&v, "", WAIT_MS)); /* it saw the server go */
	sleep(1);				  /* heals fail, breakers open: records */
	assert_int_equal(vt_pg_start(&pg.srv), 0);
	burst(&v, 2 * n / 3 + 1, n);
	for (int i = 1; i <= n; i++) {
		char code[16];

		snprintf(code, sizeof(code), "%d", i);
		assert_non_null(vt_wait(&v, WAIT_MS, "incident", "exit_code", code, NULL));
	}
	sleep(1); /* the last heals' outcomes */
	st = vt_sink_settled(&v, "postgres", 15000);
	spooled = vt_int(st, "spooled");
	dups = vt_int(st, "duplicates");
	assert_int_equal(vt_int(st, "queue_drops"), 0);
	assert_int_equal(vt_int(st, "spool_drops"), 0);
	assert_int_equal(vt_int(st, "rejected"), 0);
	json_decref(st);
	stop_and_tally(&v, "t-pg-outage", n, &t);
	printf("outage: %u records in the journal (%u incidents, %u actions), rows: %u "
	       "incidents, %u healing_actions; %lld records spooled during the outage and "
	       "replayed, %lld replays the server held already; %u duplicates, %u missing\n",
	       t.records, t.incidents, t.actions, t.rows_incidents, t.rows_actions, spooled, dups,
	       t.duplicates, t.missing);
	assert_true(spooled > 0); /* the outage was real */
	/* vigil export --sql of the same journal agrees with the sink: loaded now, it changes
	 * no row (psql tags every statement "INSERT 0 0"). */
	{
		char cmd[512];

		assert_int_equal(vt_pg_sh("%s export --sql -c %s --journal %s --knowledge '' "
					  "2>/dev/null | %s -v QUIET=off -f - >%s/load.out 2>&1",
					  v.vigil_bin, v.config, v.journal,
					  vt_pg_psql_cmd(&pg.srv, cmd, sizeof(cmd)), v.dir),
				 0);
		fflush(stdout);
		vt_pg_sh(
		    "echo \"export of the same journal: $(grep -c 'INSERT 0 0' %s/load.out) "
		    "statements changed nothing, $(grep -c 'INSERT 0 1' %s/load.out) changed a "
		    "row\"",
		    v.dir, v.dir);
		assert_int_equal(vt_pg_sh("grep -q 'INSERT 0 0' %s/load.out", v.dir), 0);
		assert_int_not_equal(vt_pg_sh("grep -q 'INSERT 0 1' %s/load.out", v.dir), 0);
	}
	vt_fini(&v);
}

/*
 * Row-level security: a role without the service_role claim is refused (records wait in the
 * spool, none is lost or rejected); given the claim, it writes them. anon reads nothing,
 * authenticated reads the rows.
 */
static void test_rls(void **state)
{
	char out[4096];
	struct tally t;
	struct vt v;
	json_t *st;

	(void)state;
	need_server();
	start(&v, "t-pg-rls", NORLS, NORLS_PW, burst_workload);
	burst(&v, 1, 3);
	st = sink_error(&v, "row-level security", WAIT_MS);
	printf("rls: without the claim: %s, \"%s\", %lld records waiting, %lld rejected\n",
	       vt_str(st, "state"), vt_str(st, "last_error"), vt_int(st, "spool_pending"),
	       vt_int(st, "rejected"));
	assert_int_equal(vt_int(st, "rejected"), 0);
	json_decref(st);
	q(out, sizeof(out), "select count(*) from incidents where node = 't-pg-rls';");
	assert_string_equal(out, "0");
	/* The claim, for the role's next sessions: the sink's next connection. */
	q(out, sizeof(out), "alter role " NORLS " set request.jwt.claim.role = 'service_role';");
	st = vt_sink_settled(&v, "postgres", 15000);
	assert_int_equal(vt_int(st, "rejected"), 0);
	json_decref(st);
	stop_and_tally(&v, "t-pg-rls", 3, &t);

	q(out, sizeof(out),
	  "set role vt_reader; set request.jwt.claim.role = 'anon';\n"
	  "select count(*) from incidents;");
	assert_string_equal(out, "0");
	q(out, sizeof(out),
	  "set role vt_reader; set request.jwt.claim.role = 'anon';\n"
	  "select (select count(*) from healing_actions) + (select count(*) from "
	  "incident_knowledge);");
	assert_string_equal(out, "0");
	q(out, sizeof(out),
	  "set role vt_reader; set request.jwt.claim.role = 'authenticated';\n"
	  "select count(*) > 0 from incidents where node = 't-pg-rls';");
	assert_string_equal(out, "t");
	printf("rls: anon reads 0 rows, authenticated reads them\n");
	vt_fini(&v);
}

/* A wrong password: said in `vigil status`, the password nowhere; a right one, once the
 * file says it, and the records that waited arrive. */
static void test_wrong_password(void **state)
{
	static const char wrong[] = "vt-not-the-password";
	char pw[256];
	struct tally t;
	struct vt v;
	json_t *st, *all;
	char *s;

	(void)state;
	need_server();
	start(&v, "t-pg-auth", WRITER, wrong, burst_workload);
	burst(&v, 1, 2);
	st = sink_error(&v, "password authentication failed", WAIT_MS);
	printf("wrong password: %s: \"%s\"\n", vt_str(st, "state"), vt_str(st, "last_error"));
	json_decref(st);
	all = vt_ctl(&v, "status", NULL);
	s = json_dumps(all, JSON_COMPACT);
	assert_non_null(s);
	assert_null(strstr(s, wrong));
	assert_null(strstr(s, WRITER_PW));
	free(s);
	json_decref(all);
	password_file(&v, WRITER_PW, pw, sizeof(pw));
	json_decref(vt_sink_settled(&v, "postgres", 15000));
	stop_and_tally(&v, "t-pg-auth", 2, &t);
	assert_null(strstr(v.errbuf, wrong));
	vt_fini(&v);
}

/* A server that stops answering (every process SIGSTOPped): the sink gives up on an answer
 * after 5 s and spools; vigil itself answers all along; once the server runs again, what
 * waited arrives, once. */
static void test_server_stops_answering(void **state)
{
	uint64_t t0, took;
	struct tally t;
	struct vt v;
	json_t *st;

	(void)state;
	need_server();
	start(&v, "t-pg-slow", WRITER, WRITER_PW, burst_workload);
	burst(&v, 1, 2);
	json_decref(vt_sink_settled(&v, "postgres", WAIT_MS));
	assert_true(vt_pg_signal(&pg.srv, SIGSTOP) > 0);
	burst(&v, 3, 6);
	t0 = vt_mono_ns();
	st = sink_error(&v, "no answer", 12000);
	took = (vt_mono_ns() - t0) / 1000000;
	printf("slow server: %s after %llu ms: \"%s\", %lld spooled\n", vt_str(st, "state"),
	       (unsigned long long)took, vt_str(st, "last_error"), vt_int(st, "spooled"));
	json_decref(st);
	/* vigil answered its control socket all along (sink_status above). */
	assert_int_equal(vt_pg_signal(&pg.srv, SIGCONT) > 0, 1);
	burst(&v, 7, 8);
	st = vt_sink_settled(&v, "postgres", 20000);
	printf("slow server: caught up: written %lld, duplicates %lld, rejected %lld\n",
	       vt_int(st, "written"), vt_int(st, "duplicates"), vt_int(st, "rejected"));
	assert_int_equal(vt_int(st, "rejected"), 0);
	json_decref(st);
	stop_and_tally(&v, "t-pg-slow", 8, &t);
	vt_fini(&v);
}

/*
 * Bad data: a check the server adds refuses the "intent" action records of this node
 * (SQLSTATE 23514). Each is rejected alone and counted, said in last_error; every other
 * record of the same transactions is written, and the sink stays up.
 */
static void test_bad_data_rejected(void **state)
{
	char out[4096];
	struct tally t;
	struct vt v;
	json_t *st;
	int started;

	(void)state;
	need_server();
	q(out, sizeof(out),
	  "alter table healing_actions add constraint vt_no_intent check (node <> 't-pg-bad' or "
	  "outcome <> 'intent');");
	start(&v, "t-pg-bad", WRITER, WRITER_PW, burst_workload);
	burst(&v, 1, 4);
	for (int i = 1; i <= 4; i++) {
		char code[16];

		snprintf(code, sizeof(code), "%d", i);
		assert_non_null(vt_wait(&v, WAIT_MS, "incident", "exit_code", code, NULL));
	}
	sleep(1); /* the heals' outcomes */
	st = vt_sink_settled(&v, "postgres", 10000);
	assert_int_equal(vt_stop(&v), 0);
	started = vt_count(&v, "action", "outcome", "intent", NULL);
	tally(&v, "t-pg-bad", &t);
	printf("bad data: %d intent records, %lld rejected (\"%s\"), %lld written; rows: %u "
	       "missing, %u duplicates\n",
	       started, vt_int(st, "rejected"), vt_str(st, "last_error"), vt_int(st, "written"),
	       t.missing, t.duplicates);
	assert_true(started > 0);
	assert_int_equal(vt_int(st, "rejected"), started);
	assert_non_null(strstr(vt_str(st, "last_error"), "rejected: 23514"));
	assert_int_equal(t.missing, (unsigned int)started);
	assert_int_equal(t.duplicates, 0);
	json_decref(st);
	q(out, sizeof(out), "alter table healing_actions drop constraint vt_no_intent;");
	vt_fini(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_heal_rows_live),
	    cmocka_unit_test(test_outage_loses_nothing),
	    cmocka_unit_test(test_rls),
	    cmocka_unit_test(test_wrong_password),
	    cmocka_unit_test(test_server_stops_answering),
	    cmocka_unit_test(test_bad_data_rejected),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
