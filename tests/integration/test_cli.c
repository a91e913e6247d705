// SPDX-License-Identifier: Apache-2.0
/*
 * Integration: the command line of the real binary — a bad config refused with file, line
 * and key; doctor (and its rows for the optional client libraries); a hostile process name in
 * the journal; a clean detach on SIGTERM, by a daemon that maps none of those libraries;
 * `vigil knowledge` on a store written with the store's own API, and `vigil export --sql`
 * taking the store's numbers over the journal's.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "heal/knowledge.h"

/* Run a shell-free command line of build/vigil; output (stdout+stderr) into out. */
static int run_vigil(struct vt *v, const char *const *args, char *out, size_t len)
{
	const char *argv[16] = {v->vigil_bin};
	int pipefd[2], status, n = 1;
	size_t got = 0;
	ssize_t r;
	pid_t pid;

	for (int i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		dup2(pipefd[1], STDERR_FILENO);
		close(pipefd[0]);
		execv(argv[0], (char **)argv);
		_exit(127);
	}
	close(pipefd[1]);
	while (got + 1 < len && (r = read(pipefd[0], out + got, len - 1 - got)) > 0)
		got += r;
	out[got] = '\0';
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_bad_config_names_file_line_key(void **state)
{
	struct vt v;
	char out[4096], path[256];
	FILE *f;

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	snprintf(path, sizeof(path), "%s/bad.yaml", v.dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("observe_all: false\n"
	      "workloads:\n"
	      "  - name: svc\n"
	      "    match: { comm: svc }\n"
	      "    matc: { comm: svc }\n",
	      f);
	fclose(f);
	{
		const char *args[] = {"run", "--config", path, "--journal", "", NULL};

		assert_int_equal(run_vigil(&v, args, out, sizeof(out)), 1);
	}
	assert_non_null(strstr(out, path));
	assert_non_null(strstr(out, "bad.yaml:5:5:"));
	assert_non_null(strstr(out, "'matc'"));
	/* It refused before loading anything: no ready line. */
	assert_null(strstr(out, "ready"));
	vt_fini(&v);
}

/* check says what the config defines, and never prints a password it holds; doctor with the
 * config says that its Redis does not answer, as a warning. */
static void test_check_and_doctor_name_redis(void **state)
{
	struct vt v;
	char out[8192], path[256];
	FILE *f;
	int port = vt_tcp_closed_port();

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	snprintf(path, sizeof(path), "%s/r.yaml", v.dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f,
		"node: n1\n"
		"knowledge: %s/k.json\n"
		"redis: { url: \"redis://vigil:hunter2@127.0.0.1:%d/0\", spool: %s/r.spool }\n"
		"workloads:\n"
		"  - name: svc\n"
		"    match: { comm: svc }\n"
		"    heal:\n"
		"      - { name: quick, on: [crash], level: 1, action: { restart: { exec: "
		"[/bin/true] } } }\n"
		"      - { name: slow, on: [crash], level: 3, action: { restart: { exec: "
		"[/bin/false] } } }\n"
		"    policy: { allow_comm_only: true, allowed_exec: [/bin/true, /bin/false] }\n",
		v.dir, port, v.dir);
	fclose(f);
	{
		const char *args[] = {"check", path, NULL};

		assert_int_equal(run_vigil(&v, args, out, sizeof(out)), 0);
	}
	assert_non_null(strstr(out, "redis redis://vigil:***@127.0.0.1:"));
	assert_non_null(strstr(out, "as vigil:n1:*"));
	assert_non_null(strstr(out,
			       "  svc: 2 heal rules\n"
			       "    warning: matched by comm alone: any user can name a process "
			       "'svc' and be taken for this workload (its rules run: "
			       "policy.allow_comm_only is true)\n"
			       "    quick: level 1, on crash\n"
			       "      restart: /bin/true\n"
			       "        runs /bin/true\n"
			       "        signals the incident's process with SIGTERM\n"
			       "    slow: level 3 (a person approves), on crash\n"));
	assert_non_null(strstr(out,
			       "    policy:\n"
			       "      allowed_exec: /bin/true, /bin/false\n"
			       "      redis_keys: (none)\n"
			       "      forbidden: modify_story_content, change_user_permissions, "
			       "alter_database_schema, modify_privacy_settings\n"));
	assert_null(strstr(out, "hunter2"));
	{
		const char *args[] = {"doctor", "--config", path, NULL};

		assert_int_equal(run_vigil(&v, args, out, sizeof(out)), 0);
	}
	assert_non_null(strstr(out, "WARN     optional  redis"));
	assert_non_null(strstr(out, "spools records until Redis answers"));
	assert_non_null(strstr(out, "OK       optional  redis spool"));
	assert_null(strstr(out, "hunter2"));
	vt_fini(&v);
}

/* The repository's file at rel (from its root, which holds build/vigil), into path. */
static void repo_file(const struct vt *v, const char *rel, char *path, size_t len)
{
	snprintf(path, len, "%s", v->vigil_bin);
	*strrchr(path, '/') = '\0'; /* build */
	*strrchr(path, '/') = '\0'; /* the checkout */
	snprintf(path + strlen(path), len - strlen(path), "/%s", rel);
}

/*
 * deploy/vigil.yaml passes `vigil check` on this machine: the service's five allowed healing
 * actions by name, and a level-3 rollback, each with what it may touch; and so does the
 * DaemonSet's own config (below).
 */
static void test_deploy_configs_check(void **state)
{
	static const char *const names[] = {
	    "    restart_failed_agent: level 1",
	    "    clear_corrupted_cache: level 1",
	    "    retry_with_backoff: level 1",
	    "    switch_to_backup_model: level 1",
	    "    restore_conversation_state: level 1",
	    "    rollback: level 3 (a person approves), on crash_loop\n"
	    "      rollback: /usr/bin/systemctl start storyteller-rollback.service",
	};
	char path[512], out[16384];
	struct vt v;

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	assert_int_equal(setenv("NODE_NAME", "node-1", 1), 0);
	repo_file(&v, "deploy/vigil.yaml", path, sizeof(path));
	{
		const char *args[] = {"check", path, NULL};

		if (run_vigil(&v, args, out, sizeof(out)))
			fail_msg("vigil check %s:\n%s", path, out);
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strstr(out, names[i]))
			fail_msg("no '%s' in:\n%s", names[i], out);
	assert_non_null(strstr(out, "deletes the keys matching story:cache:*\n"));
	assert_non_null(strstr(out, "calls http://127.0.0.1:8080/admin/reconnect\n"));
	printf("%s", out);
	unsetenv("NODE_NAME");
	vt_fini(&v);
}

/* The DaemonSet's own config (its ConfigMap) passes vigil check: its command rule runs
 * kubectl, so the check needs a trusted /usr/bin/kubectl on this machine. */
static void test_daemonset_config_checks(void **state)
{
	char path[512], ds[512], out[16384], line[512];
	const char *args[] = {"check", ds, NULL};
	bool inside = false;
	struct vt v;
	FILE *in, *cm;

	(void)state;
	if (access("/usr/bin/kubectl", X_OK)) {
		printf(
		    "    SKIPPED: the DaemonSet's config runs /usr/bin/kubectl, which this machine "
		    "lacks\n");
		skip();
	}
	assert_int_equal(vt_init(&v), 0);
	/* The ConfigMap holds its own vigil.yaml, indented under "vigil.yaml: |". */
	repo_file(&v, "deploy/daemonset.yaml", path, sizeof(path));
	snprintf(ds, sizeof(ds), "%s/daemonset-vigil.yaml", v.dir);
	in = fopen(path, "r");
	cm = fopen(ds, "w");
	assert_non_null(in);
	assert_non_null(cm);
	while (fgets(line, sizeof(line), in)) {
		if (inside && !strncmp(line, "---", 3))
			break;
		if (inside)
			fputs(strlen(line) > 4 ? line + 4 : "\n", cm);
		inside |= !strcmp(line, "  vigil.yaml: |\n");
	}
	fclose(in);
	fclose(cm);
	setenv("NODE_NAME", "node-1", 1);
	setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	if (run_vigil(&v, args, out, sizeof(out)))
		fail_msg("vigil check (the DaemonSet's ConfigMap):\n%s", out);
	assert_non_null(strstr(out, "runs /usr/bin/kubectl\n"));
	unsetenv("NODE_NAME");
	vt_fini(&v);
}

static void test_missing_config_file(void **state)
{
	const char *args[] = {"run", "--config", "/nonexistent/vigil.yaml", NULL};
	struct vt v;
	char out[4096];

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	assert_int_equal(run_vigil(&v, args, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "/nonexistent/vigil.yaml"));
	assert_non_null(strstr(out, "No such file"));
	vt_fini(&v);
}

static void test_usage_and_version(void **state)
{
	const char *help[] = {"--help", NULL}, *ver[] = {"version", NULL},
		   *bogus[] = {"frobnicate", NULL}, *badopt[] = {"run", "--probes", "kprobe", NULL};
	struct vt v;
	char out[4096];

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	assert_int_equal(run_vigil(&v, help, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "usage: vigil"));
	assert_int_equal(run_vigil(&v, ver, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "event ABI 1"));
	assert_int_equal(run_vigil(&v, bogus, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "unknown command 'frobnicate'"));
	assert_int_equal(run_vigil(&v, badopt, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "'kprobe'"));
	vt_fini(&v);
}

static void test_doctor(void **state)
{
	const char *args[] = {"doctor", NULL};
	struct vt v;
	char out[8192];
	int rc;

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	rc = run_vigil(&v, args, out, sizeof(out));
	printf("%s", out);
	/* Where integration tests run, the required checks pass. */
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "OK       required  tp_btf programs (exits)"));
	/* Each optional client library: loadable here (the tests' hosts install them). */
	assert_non_null(strstr(out, "OK       optional  libcurl.so.4 "));
	assert_non_null(strstr(out, "OK       optional  libpq.so.5 "));
	assert_non_null(strstr(out, "OK       optional  libmicrohttpd.so.12 "));
	assert_non_null(strstr(out, "vigil can run here."));
	vt_fini(&v);
}

/* Observe-all: a process named to break JSON and terminals crashes; the journal stays valid. */
static void test_hostile_comm_in_journal(void **state)
{
	static const char hostile[] = "vt\"}\n{\x1b[2J\xff";
	static const char *const args[] = {"segv", NULL};
	struct vt v;
	json_t *ev;
	pid_t p;

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	assert_int_equal(vt_start(&v, "observe_all: true\n", NULL), 0);
	p = vt_run(&v, hostile, args);
	waitpid(p, NULL, 0);
	{
		char pid[16];

		snprintf(pid, sizeof(pid), "%d", p);
		ev = vt_wait(&v, 5000, "event", "class", "crash", "pid", pid, NULL);
	}
	assert_non_null(ev);
	/* Every byte that was valid UTF-8 comes back as it was. */
	assert_memory_equal(vt_str(ev, "comm"), "vt\"}\n{\x1b[2J", 10);
	assert_int_equal(vt_count(&v, "invalid-json", NULL), 0);
	assert_int_equal(vt_stop(&v), 0);
	vt_fini(&v);
}

/* Programs of vigil's still loaded in the kernel (bpftool's view). */
static int programs_left(void)
{
	char line[512];
	int left = 0;
	FILE *f = popen("bpftool prog show 2>/dev/null", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		left += strstr(line, " name exit_btf ") || strstr(line, " name exec_btf ");
	pclose(f);
	return left;
}

/* SIGTERM: exit status 0 and none of vigil's programs left in the kernel. On the way, the
 * optional client libraries: none is mapped by a daemon whose config does not use it. */
static void test_sigterm_detaches(void **state)
{
	struct vt v;
	int left;

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	assert_int_equal(vt_start(&v, "observe_all: true\n", NULL), 0);
	assert_true(programs_left() >= 1);
	/* A config without otlp, postgres or metrics: none of their client libraries mapped. */
	assert_int_equal(vt_maps_lib(&v, "libcurl.so"), 0);
	assert_int_equal(vt_maps_lib(&v, "libpq.so"), 0);
	assert_int_equal(vt_maps_lib(&v, "libmicrohttpd.so"), 0);
	assert_int_equal(vt_stop(&v), 0);
	assert_non_null(strstr(v.errbuf, "stopping"));
	/* The kernel frees a program after an RCU grace period: give it a moment. */
	for (int i = 0; i < 100 && (left = programs_left()) > 0; i++)
		usleep(20000);
	assert_int_equal(left, 0);
	vt_fini(&v);
}

/* A config in the scratch dir naming a knowledge store (and a journal) there. */
static void knowledge_config(struct vt *v, char *store, size_t len)
{
	FILE *f = fopen(v->config, "w");

	snprintf(store, len, "%s/k/knowledge.json", v->dir);
	assert_non_null(f);
	fprintf(f, "knowledge: %s\njournal: %s\nobserve_all: true\n", store, v->journal);
	fclose(f);
}

#define SIG_A "01a22736f8b60001"
#define SIG_B "9f00aa11bb22cc33"
#define QUOTED "re\"start\\;'x" /* an action name a terminal or JSON must not misread */

static void test_knowledge_command(void **state)
{
	const char *table[] = {"knowledge", "-c", NULL, NULL},
		   *json[] = {"knowledge", "-c", NULL, "--json", NULL};
	struct vigil_knowledge *k;
	char out[8192], store[256], msg[512], *line;
	json_t *arr, *e;
	struct vt v;
	FILE *f;

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	knowledge_config(&v, store, sizeof(store));
	table[2] = json[2] = v.config;

	/* Nothing learned yet. */
	assert_int_equal(run_vigil(&v, table, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "no knowledge yet"));
	assert_int_equal(run_vigil(&v, json, out, sizeof(out)), 0);
	assert_string_equal(out, "[]\n");

	/* A store written as the daemon writes it. */
	assert_int_equal(vigil_knowledge_open(store, 0, 0, &k, msg, sizeof(msg)), 0);
	assert_int_equal(vigil_knowledge_record(k, "svc", SIG_A, "crash", "restart", true,
						1764420000123000000ull, NULL),
			 0);
	assert_int_equal(vigil_knowledge_record(k, "svc", SIG_A, "crash", "restart", false,
						1764420001000000000ull, NULL),
			 0);
	assert_int_equal(vigil_knowledge_record(k, "svc", SIG_A, "crash", "restart", true,
						1764420002000000000ull, NULL),
			 0);
	assert_int_equal(vigil_knowledge_record(k, "db", SIG_B, "oom_kill", QUOTED, false,
						1764420003000000000ull, NULL),
			 0);
	vigil_knowledge_close(k);

	assert_int_equal(run_vigil(&v, table, out, sizeof(out)), 0);
	printf("%s", out);
	line = strtok(out, "\n");
	assert_non_null(line);
	assert_non_null(strstr(line, "SIGNATURE"));
	assert_non_null(strstr(line, "WORKLOAD  CLASS     ACTION"));
	assert_non_null(strstr(line, "ATTEMPTS  SUCCESSES  SUCCESS_RATE  LAST_APPLIED"));
	/* By workload: db first. */
	line = strtok(NULL, "\n");
	assert_non_null(line);
	assert_non_null(strstr(line, SIG_B "  db        oom_kill  " QUOTED));
	assert_non_null(strstr(line, "0.00  2025-11-29T12:40:03.000Z"));
	line = strtok(NULL, "\n");
	assert_non_null(line);
	assert_non_null(strstr(line, SIG_A "  svc       crash     restart"));
	assert_non_null(strstr(line, " 3          2          0.67  2025-11-29T12:40:02.000Z"));
	assert_null(strtok(NULL, "\n"));

	assert_int_equal(run_vigil(&v, json, out, sizeof(out)), 0);
	arr = json_loads(out, 0, NULL);
	assert_true(json_is_array(arr));
	assert_int_equal(json_array_size(arr), 2);
	e = json_array_get(arr, 0);
	assert_string_equal(vt_str(e, "action"), QUOTED);
	assert_string_equal(vt_str(e, "workload"), "db");
	e = json_array_get(arr, 1);
	assert_string_equal(vt_str(e, "signature"), SIG_A);
	assert_string_equal(vt_str(e, "class"), "crash");
	assert_int_equal(vt_int(e, "attempts"), 3);
	assert_int_equal(vt_int(e, "successes"), 2);
	assert_true(json_real_value(json_object_get(e, "success_rate")) == 0.67);
	assert_true(json_real_value(json_object_get(e, "score")) == 0.6);
	assert_string_equal(vt_str(e, "last_applied"), "2025-11-29T12:40:02.000Z");
	json_decref(arr);

	/* A store someone wrote terminal escapes into: an error naming it, the bytes not
	 * echoed, exit 1; the file left as it was for a person to look at. */
	f = fopen(store, "w");
	assert_non_null(f);
	fputs("{\"version\":1,\"entries\":[{\"signature\":\"\x1b[2J\x1b]0;pwned\x07\"", f);
	fclose(f);
	assert_int_equal(run_vigil(&v, table, out, sizeof(out)), 1);
	printf("%s", out);
	assert_non_null(strstr(out, store));
	assert_non_null(strstr(out, "malformed"));
	assert_null(strchr(out, '\x1b'));
	assert_null(strchr(out, '\x07'));
	assert_int_equal(run_vigil(&v, json, out, sizeof(out)), 1);
	assert_null(strchr(out, '\x1b'));
	snprintf(msg, sizeof(msg), "%s.bad", store);
	assert_int_not_equal(access(msg, F_OK), 0);
	assert_int_equal(access(store, F_OK), 0);
	vt_fini(&v);
}

/* One journal line. */
static void jline(FILE *f, const char *sig, const char *outcome, const char *ts)
{
	fprintf(f,
		"{\"type\":\"action\",\"rid\":\"1-0\",\"ts\":\"%s\",\"node\":\"n\","
		"\"workload\":\"svc\",\"incident\":\"019ac0000000a001\",\"signature\":\"%s\","
		"\"action\":\"restart\",\"outcome\":\"%s\",\"detail\":\"d\"}\n",
		ts, sig, outcome);
}

/* export --sql: per (signature, action), the store beats the journal's knowledge records,
 * which beat the counts of its action records; breaker records are not loaded. */
static void test_export_takes_the_store(void **state)
{
	const char *with[] = {"export", "--sql", "-c", NULL, NULL},
		   *without[] = {"export", "--sql", "-c", NULL, "--knowledge", "", NULL};
	struct vigil_knowledge *k;
	char out[16384], store[256], msg[512];
	struct vt v;
	FILE *f;

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	knowledge_config(&v, store, sizeof(store));
	with[3] = without[3] = v.config;
	f = fopen(v.journal, "w");
	assert_non_null(f);
	/* sigA: 2 intents, 1 success in the journal. */
	jline(f, SIG_A, "intent", "2026-11-29T10:00:00.000Z");
	jline(f, SIG_A, "success", "2026-11-29T10:00:01.000Z");
	jline(f, SIG_A, "intent", "2026-11-29T10:00:02.000Z");
	/* sigB: 1 intent, and a knowledge record holding 9 attempts, 3 successes. */
	jline(f, SIG_B, "intent", "2026-11-29T10:01:00.000Z");
	fputs("{\"type\":\"knowledge\",\"rid\":\"2-0\",\"ts\":\"2026-11-29T10:01:01.000Z\","
	      "\"node\":\"n\",\"workload\":\"svc\",\"signature\":\"" SIG_B "\","
	      "\"class\":\"exit_nonzero\",\"action\":\"restart\",\"attempts\":9,"
	      "\"successes\":3,\"success_rate\":0.33,"
	      "\"last_applied\":\"2026-11-29T10:01:01.000Z\"}\n"
	      "{\"type\":\"breaker\",\"rid\":\"3-0\",\"ts\":\"2026-11-29T10:01:02.000Z\","
	      "\"node\":\"n\",\"workload\":\"svc\",\"state\":\"open\",\"failures\":3,"
	      "\"opened_at\":\"2026-11-29T10:01:02.000Z\"}\n",
	      f);
	fclose(f);

	/* No store: sigA from its action records, sigB from its knowledge record. */
	assert_int_equal(run_vigil(&v, without, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "select coalesce('exit_nonzero'::text, 'unknown'), "
				    "jsonb_build_object('signature', '" SIG_B "'::text, "
				    "'workload', 'svc'::text, 'class', 'exit_nonzero'::text"));
	assert_non_null(strstr(out, "'0.50'::numeric, '2026-11-29T10:00:02.000Z'::timestamptz, "
				    "'2'::integer, '1'::integer"));
	assert_non_null(strstr(out, "'0.33'::numeric, '2026-11-29T10:01:01.000Z'::timestamptz, "
				    "'9'::integer, '3'::integer"));
	assert_non_null(strstr(out, "knowledge store (none): 0 entries"));
	assert_null(strstr(out, "'open'"));

	/* The store holds sigA: 7 attempts, 5 successes; its numbers win. */
	assert_int_equal(vigil_knowledge_open(store, 0, 0, &k, msg, sizeof(msg)), 0);
	for (int i = 0; i < 7; i++)
		assert_int_equal(vigil_knowledge_record(k, "svc", SIG_A, "crash", "restart", i < 5,
							1764420000000000000ull + i, NULL),
				 0);
	vigil_knowledge_close(k);
	assert_int_equal(run_vigil(&v, with, out, sizeof(out)), 0);
	printf("%s", out);
	assert_non_null(strstr(out, "'0.71'::numeric, '2025-11-29T12:40:00.000Z'::timestamptz, "
				    "'7'::integer, '5'::integer"));
	assert_null(strstr(out, "'2'::integer, '1'::integer"));
	assert_non_null(strstr(out, "'0.33'::numeric, '2026-11-29T10:01:01.000Z'::timestamptz, "
				    "'9'::integer, '3'::integer"));
	assert_non_null(strstr(out, ": 1 entries"));

	/* A malformed store stops the export rather than be silently left out. */
	f = fopen(store, "w");
	assert_non_null(f);
	fputs("{", f);
	fclose(f);
	assert_int_equal(run_vigil(&v, with, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "malformed"));
	vt_fini(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad_config_names_file_line_key),
	    cmocka_unit_test(test_missing_config_file),
	    cmocka_unit_test(test_check_and_doctor_name_redis),
	    cmocka_unit_test(test_deploy_configs_check),
	    cmocka_unit_test(test_daemonset_config_checks),
	    cmocka_unit_test(test_usage_and_version),
	    cmocka_unit_test(test_doctor),
	    cmocka_unit_test(test_hostile_comm_in_journal),
	    cmocka_unit_test(test_sigterm_detaches),
	    cmocka_unit_test(test_knowledge_command),
	    cmocka_unit_test(test_export_takes_the_store),
	};

	if (geteuid() != 0) {
		fprintf(stderr,
			"test_cli: must run as root (loads BPF programs): sudo make test\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
