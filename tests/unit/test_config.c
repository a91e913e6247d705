/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for userspace/config/ (load, build, schema, yaml): the embedded default, DESIGN.md's
 * example with every field and default checked, ${VAR} expansion, one refusal per kind of
 * mistake with the exact NAME:LINE:COL it must point at, the duration parser, class names,
 * allocation failures and loading from a file.
 */
#include <errno.h>
#include <signal.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "heal/cache_clear.h"
#include "heal/http.h"
#include "heal/publish.h"
#include "heal/restart.h"
#include "heal/rollback.h"
#include "heal/set_flag.h"
#include "vigil/limits.h"
#include "failalloc.h"

/* Parses @yaml as "t.yaml" and fails the test, showing the message, if it is refused. */
static struct vigil_config *parse_ok(const char *yaml)
{
	struct vigil_config *cfg = NULL;
	char err[512] = "unset";
	int ret;

	ret = vigil_config_parse(yaml, strlen(yaml), "t.yaml", &cfg, err, sizeof(err));
	if (ret)
		fail_msg("refused (%d): %s", ret, err);
	assert_string_equal(err, "");
	assert_non_null(cfg);
	return cfg;
}

/* Parses @yaml and checks it is refused with a message that starts with @where (the exact
 * "t.yaml:LINE:COL: ") and contains @what. Returns false, having said why, if not. */
static bool is_refused(const char *yaml, const char *where, const char *what)
{
	struct vigil_config *cfg = (struct vigil_config *)&cfg; /* must be reset to NULL */
	char err[512] = "";
	int ret;

	ret = vigil_config_parse(yaml, strlen(yaml), "t.yaml", &cfg, err, sizeof(err));
	if (ret == -EINVAL && !cfg && !strncmp(err, where, strlen(where)) && strstr(err, what))
		return true;
	print_error("for:\n%s\ngot %d \"%s\"\nwanted -EINVAL \"%s...%s...\"\n\n", yaml, ret, err,
		    where, what);
	if (!ret)
		vigil_config_free(cfg);
	return false;
}

static void expect_error(const char *yaml, const char *where, const char *what)
{
	assert_true(is_refused(yaml, where, what));
}

static void test_default_config(void **state)
{
	struct vigil_config *cfg = NULL;
	char err[256], host[HOST_NAME_MAX + 1];
	int ret;

	(void)state;
	assert_non_null(strstr(vigil_default_config, "observe_all: true"));
	ret = vigil_config_parse(vigil_default_config, strlen(vigil_default_config), "<embedded>",
				 &cfg, err, sizeof(err));
	assert_int_equal(ret, 0);
	assert_string_equal(cfg->source, "<embedded>");
	assert_true(cfg->observe_all);
	assert_int_equal(cfg->n_workloads, 0);
	assert_null(cfg->workloads);
	assert_string_equal(cfg->journal, "/var/lib/vigil/journal.jsonl");
	assert_int_equal(cfg->window_ms, 60000);
	assert_null(cfg->redis_url);
	assert_string_equal(cfg->redis_prefix, "vigil");
	assert_null(cfg->redis_username);
	assert_null(cfg->redis_password);
	assert_string_equal(cfg->redis_spool, "/var/lib/vigil/redis.spool");
	assert_int_equal(cfg->redis_spool_max_mb, 256);
	assert_int_equal(cfg->redis_maxlen, 100000);
	assert_int_equal(cfg->journal_max_mb, 64);
	assert_int_equal(cfg->journal_keep, 5);
	assert_int_equal(cfg->journal_fsync, 1); /* interval */
	assert_string_equal(cfg->knowledge, "/var/lib/vigil/knowledge.json");
	assert_string_equal(cfg->state, "/var/lib/vigil/state.json");
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	assert_string_equal(cfg->node, host);
	vigil_config_free(cfg);
}

/* An empty file, or one of comments only, is valid: all defaults, and observing nothing. */
static void test_empty_file(void **state)
{
	static const char *const texts[] = {"", "\n", "# nothing here\n\n   # at all\n"};
	struct vigil_config *cfg;

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		cfg = parse_ok(texts[i]);
		assert_false(cfg->observe_all);
		assert_int_equal(cfg->n_workloads, 0);
		assert_string_equal(cfg->journal, "/var/lib/vigil/journal.jsonl");
		assert_int_equal(cfg->window_ms, 60000);
		assert_null(cfg->redis_url);
		assert_string_equal(cfg->redis_prefix, "vigil");
		assert_non_null(cfg->node);
		assert_true(cfg->node[0] != '\0');
		vigil_config_free(cfg);
	}
	/* NULL text of length 0 is the empty file too. */
	assert_int_equal(vigil_config_parse(NULL, 0, "t.yaml", &cfg, NULL, 0), 0);
	assert_int_equal(cfg->n_workloads, 0);
	vigil_config_free(cfg);
}

/* DESIGN.md's example, with its cache_clear and rollback rules made restart rules. */
static const char design_example[] =
    "node: ${NODE_NAME}            # defaults to the hostname\n"
    "journal: /var/lib/vigil/journal.jsonl\n"
    "redis: { url: redis://127.0.0.1:6379/0, prefix: vigil }\n"
    "workloads:\n"
    "  - name: storyteller\n"
    "    match: { comm: storyteller }          # or exe:, cgroup: (path glob), pidfile:\n"
    "    latency: { syscalls: [read, write, connect, fsync], budget_ms: 200 }\n"
    "    heal:\n"
    "      - on: [crash, oom_kill, exit_nonzero]\n"
    "        level: 1\n"
    "        action: { restart: { exec: [/bin/echo, --port, \"8080\"] } }\n"
    "      - on: [conn_refused, conn_reset]\n"
    "        level: 2\n"
    "        delay: 5m\n"
    "        action: { restart: { exec: [/bin/echo, --port, \"8081\"] } }\n"
    "      - on: [crash_loop]\n"
    "        level: 3                          # needs `vigil approve ID`\n"
    "        action: { restart: { exec: [/bin/true, restart, storyteller] } }\n"
    "    breaker: { failures: 3, window: 10m, cooldown: 5m }\n"
    "    quiet: { max_defer: 60s }             # wait for no active connections before a "
    "restart\n"
    "    policy: { allow_comm_only: true, allowed_exec: [/bin/echo, /bin/true] }\n";

#define BIT(c) (1u << (c))

static void assert_argv(const struct vigil_action *a, const char *const *want, unsigned int n)
{
	const struct vigil_restart_params *p = a->params;

	assert_ptr_equal(a->ops, vigil_action_find("restart"));
	assert_non_null(p);
	assert_int_equal(p->argc, n);
	for (unsigned int i = 0; i < n; i++)
		assert_string_equal(p->argv[i], want[i]);
	assert_null(p->argv[n]);
}

static void test_design_example(void **state)
{
	static const char *const argv0[] = {"/bin/echo", "--port", "8080"};
	static const char *const argv1[] = {"/bin/echo", "--port", "8081"};
	static const char *const argv2[] = {"/bin/true", "restart", "storyteller"};
	static const char *const sys[] = {"read", "write", "connect", "fsync"};
	struct vigil_config *cfg;
	struct vigil_workload *w;

	(void)state;
	assert_int_equal(setenv("NODE_NAME", "node-7", 1), 0);
	cfg = parse_ok(design_example);
	assert_string_equal(cfg->source, "t.yaml");
	assert_string_equal(cfg->node, "node-7");
	assert_string_equal(cfg->journal, "/var/lib/vigil/journal.jsonl");
	assert_false(cfg->observe_all);
	assert_int_equal(cfg->window_ms, 60000);
	assert_string_equal(cfg->redis_url, "redis://127.0.0.1:6379/0");
	assert_string_equal(cfg->redis_prefix, "vigil");
	assert_int_equal(cfg->n_workloads, 1);

	w = &cfg->workloads[0];
	assert_string_equal(w->name, "storyteller");
	assert_string_equal(w->match.comm, "storyteller");
	assert_null(w->match.exe);
	assert_null(w->match.cgroup);
	assert_null(w->match.pidfile);
	assert_int_equal(w->n_latency_syscalls, 4);
	for (unsigned int i = 0; i < 4; i++)
		assert_string_equal(w->latency_syscalls[i], sys[i]);
	assert_int_equal(w->latency_budget_ms, 200);

	assert_int_equal(w->n_heal, 3);
	assert_int_equal(w->heal[0].on_mask, BIT(VIGIL_CLASS_CRASH) | BIT(VIGIL_CLASS_OOM_KILL) |
						 BIT(VIGIL_CLASS_EXIT_NONZERO));
	assert_int_equal(w->heal[0].level, 1);
	assert_int_equal(w->heal[0].delay_ms, 0);
	assert_argv(&w->heal[0].action, argv0, 3);
	assert_int_equal(w->heal[1].on_mask,
			 BIT(VIGIL_CLASS_CONN_REFUSED) | BIT(VIGIL_CLASS_CONN_RESET));
	assert_int_equal(w->heal[1].level, 2);
	assert_int_equal(w->heal[1].delay_ms, 300000);
	assert_argv(&w->heal[1].action, argv1, 3);
	assert_int_equal(w->heal[2].on_mask, BIT(VIGIL_CLASS_CRASH_LOOP));
	assert_int_equal(w->heal[2].level, 3);
	assert_int_equal(w->heal[2].delay_ms, 0);
	assert_argv(&w->heal[2].action, argv2, 3);

	assert_int_equal(w->breaker_failures, 3);
	assert_int_equal(w->breaker_window_ms, 600000);
	assert_int_equal(w->breaker_cooldown_ms, 300000);
	assert_int_equal(w->quiet_max_defer_ms, 60000);
	assert_int_equal(w->verify_ms, 2000); /* not in the example: the default */
	vigil_config_free(cfg);
	unsetenv("NODE_NAME");
}

/* Values that differ from every default, so a value ignored in favour of its default shows;
 * and a workload that names nothing but what is required, so every default shows. */
static void test_explicit_values_and_defaults(void **state)
{
	static const char yaml[] = "node: fixed-node\n"
				   "journal: /tmp/j.jsonl\n"
				   "observe_all: true\n"
				   "window: 250ms\n"
				   "redis:\n"
				   "  url: unix:///run/redis.sock\n"
				   "  prefix: vg\n"
				   "  username: vigil-writer\n"
				   "  password: pw-${VIGIL_TEST_PW}\n"
				   "  spool: /tmp/s.spool\n"
				   "  spool_max_mb: 9\n"
				   "  maxlen: 500\n"
				   "knowledge: /tmp/k.json\n"
				   "state: /tmp/st.json\n"
				   "workloads:\n"
				   "  - name: Api.v2_x-1\n"
				   "    match:\n"
				   "      exe: /usr/bin/api\n"
				   "      cgroup: /kubepods/api*\n"
				   "      pidfile: /run/api.pid\n"
				   "    heal:\n"
				   "      - on: [hang, syscall_slow, latency_slo, retransmits]\n"
				   "        name: quick-restart\n"
				   "        level: 2\n"
				   "        delay: 90\n"
				   "        action:\n"
				   "          restart:\n"
				   "            exec: [/bin/cat]\n"
				   "      - on: [conn_timeout, conn_unreachable, crash, crash]\n"
				   "        level: 2\n"
				   "        action: { restart: { exec: [/bin/cat, -v] } }\n"
				   "    breaker: { failures: 7, window: 2h, cooldown: 0 }\n"
				   "    quiet: { max_defer: 0s }\n"
				   "    verify: 1500ms\n"
				   "    policy:\n"
				   "      allowed_exec: [/bin/cat]\n"
				   "      redis_keys: ['api:cache:*', api:flag]\n"
				   "      forbidden: [drop_tables]\n"
				   "    detect: { crash_loop_exits: 5, crash_loop_window: 2m,\n"
				   "              retransmits_per_s: 50, conn_errors_per_s: 20,\n"
				   "              slo_intervals: 10 }\n"
				   "  - name: bare\n"
				   "    match: { comm: abcdefghijklmno }\n";
	struct vigil_config *cfg;
	struct vigil_workload *w;

	setenv("VIGIL_TEST_PW", "s3cret", 1);
	cfg = parse_ok(yaml);
	unsetenv("VIGIL_TEST_PW");
	(void)state;
	assert_string_equal(cfg->node, "fixed-node");
	assert_string_equal(cfg->redis_username, "vigil-writer");
	assert_string_equal(cfg->redis_password, "pw-s3cret");
	assert_string_equal(cfg->redis_spool, "/tmp/s.spool");
	assert_int_equal(cfg->redis_spool_max_mb, 9);
	assert_int_equal(cfg->redis_maxlen, 500);
	assert_string_equal(cfg->knowledge, "/tmp/k.json");
	assert_string_equal(cfg->state, "/tmp/st.json");
	assert_string_equal(cfg->workloads[0].heal[0].name, "quick-restart");
	assert_string_equal(cfg->workloads[0].heal[1].name, "restart");
	assert_string_equal(cfg->journal, "/tmp/j.jsonl");
	assert_true(cfg->observe_all);
	assert_int_equal(cfg->window_ms, 250);
	assert_string_equal(cfg->redis_url, "unix:///run/redis.sock");
	assert_string_equal(cfg->redis_prefix, "vg");
	assert_int_equal(cfg->n_workloads, 2);

	w = &cfg->workloads[0];
	assert_string_equal(w->name, "Api.v2_x-1");
	assert_null(w->match.comm);
	assert_string_equal(w->match.exe, "/usr/bin/api");
	assert_string_equal(w->match.cgroup, "/kubepods/api*");
	assert_string_equal(w->match.pidfile, "/run/api.pid");
	assert_null(w->latency_syscalls);
	assert_int_equal(w->n_latency_syscalls, 0);
	assert_int_equal(w->latency_budget_ms, 0);
	assert_int_equal(w->n_heal, 2);
	assert_int_equal(w->heal[0].on_mask, BIT(VIGIL_CLASS_HANG) | BIT(VIGIL_CLASS_SYSCALL_SLOW) |
						 BIT(VIGIL_CLASS_LATENCY_SLO) |
						 BIT(VIGIL_CLASS_RETRANSMITS));
	assert_int_equal(w->heal[0].delay_ms, 90000); /* a bare number is seconds */
	assert_argv(&w->heal[0].action, (const char *const[]){"/bin/cat"}, 1);
	assert_int_equal(w->heal[1].on_mask, BIT(VIGIL_CLASS_CONN_TIMEOUT) |
						 BIT(VIGIL_CLASS_CONN_UNREACHABLE) |
						 BIT(VIGIL_CLASS_CRASH));
	assert_int_equal(w->heal[1].delay_ms, 300000); /* level 2 without a delay: 5m */
	assert_argv(&w->heal[1].action, (const char *const[]){"/bin/cat", "-v"}, 2);
	assert_int_equal(w->breaker_failures, 7);
	assert_int_equal(w->breaker_window_ms, 7200000);
	assert_int_equal(w->breaker_cooldown_ms, 0);
	assert_int_equal(w->quiet_max_defer_ms, 0);
	assert_int_equal(w->verify_ms, 1500);
	assert_int_equal(w->crash_loop_exits, 5);
	assert_int_equal(w->crash_loop_window_ms, 120000);
	assert_int_equal(w->retransmits_per_s, 50);
	assert_int_equal(w->conn_errors_per_s, 20);
	assert_int_equal(w->slo_intervals, 10);

	w = &cfg->workloads[1];
	assert_string_equal(w->name, "bare");
	assert_string_equal(w->match.comm, "abcdefghijklmno"); /* 15 bytes: the most allowed */
	assert_int_equal(w->n_heal, 0);
	assert_null(w->heal);
	assert_int_equal(w->breaker_failures, 3);
	assert_int_equal(w->breaker_window_ms, 600000);
	assert_int_equal(w->breaker_cooldown_ms, 300000);
	assert_int_equal(w->quiet_max_defer_ms, 60000);
	assert_int_equal(w->verify_ms, 2000);
	/* detect: the defaults the README gives */
	assert_int_equal(w->crash_loop_exits, 3);
	assert_int_equal(w->crash_loop_window_ms, 60000);
	assert_int_equal(w->retransmits_per_s, 10);
	assert_int_equal(w->conn_errors_per_s, 5);
	assert_int_equal(w->slo_intervals, 3);
	vigil_config_free(cfg);
}

static void test_node_env(void **state)
{
	struct vigil_config *cfg;

	(void)state;
	assert_int_equal(setenv("VIGIL_TEST_NODE", "n1", 1), 0);
	assert_int_equal(setenv("VIGIL_TEST_ZONE", "eu", 1), 0);
	cfg = parse_ok("node: ${VIGIL_TEST_NODE}.${VIGIL_TEST_ZONE}-$HOME-$\n");
	assert_string_equal(cfg->node, "n1.eu-$HOME-$"); /* only ${...} is expanded */
	vigil_config_free(cfg);

	assert_int_equal(unsetenv("VIGIL_TEST_NODE"), 0);
	expect_error("journal: /j\nnode: ${VIGIL_TEST_NODE}\n",
		     "t.yaml:2:7: node: ", "environment variable VIGIL_TEST_NODE is not set");
	expect_error("node: x${VIGIL_TEST_ZONE\n", "t.yaml:1:7: node: ", "variable name");
	expect_error("node: ${}\n", "t.yaml:1:7: node: ", "variable name");
	expect_error("node: ${A B}\n", "t.yaml:1:7: node: ", "variable name");
	assert_int_equal(setenv("VIGIL_TEST_NODE", "", 1), 0);
	expect_error("node: ${VIGIL_TEST_NODE}\n", "t.yaml:1:7: node: ", "empty");
	unsetenv("VIGIL_TEST_NODE");
	unsetenv("VIGIL_TEST_ZONE");
}

/* restart's three modes: their params, defaults, ${VAR} in env and argv, supervisor. */
static void test_restart_modes(void **state)
{
	static const char yaml[] =
	    "workloads:\n"
	    "  - name: a\n"
	    "    match: { comm: a }\n"
	    "    supervisor: external\n"
	    "    heal:\n"
	    "      - { on: [hang], name: stop, level: 1, action: { restart: { signal: TERM } } }\n"
	    "      - on: [latency_slo]\n"
	    "        name: ask\n"
	    "        level: 1\n"
	    "        action:\n"
	    "          restart:\n"
	    "            command: [/bin/echo, restart, '/etc/sv/${VIGIL_TEST_SVC}', '']\n"
	    "            env: ['HOME=/root', 'TOKEN=t-${VIGIL_TEST_SVC}', 'EMPTY=']\n"
	    "            timeout: 5s\n"
	    "            await: 20s\n"
	    "    policy: { allow_comm_only: true, allowed_exec: [/bin/echo] }\n"
	    "  - name: b\n"
	    "    match: { comm: b }\n"
	    "    heal:\n"
	    "      - on: [crash]\n"
	    "        level: 1\n"
	    "        action: { restart: { exec: [/bin/false], kill_after: 3s } }\n"
	    "      - { on: [hang], name: kill, level: 1,\n"
	    "          action: { restart: { signal: sigkill, kill_after: 1s, await: 2m } } }\n"
	    "    policy: { allow_comm_only: true, allowed_exec: [/bin/false] }\n";
	const struct vigil_restart_params *p;
	struct vigil_config *cfg;

	(void)state;
	assert_int_equal(setenv("VIGIL_TEST_SVC", "story", 1), 0);
	cfg = parse_ok(yaml);
	assert_true(cfg->workloads[0].supervisor_external);
	assert_false(cfg->workloads[1].supervisor_external);
	p = cfg->workloads[0].heal[0].action.params;
	assert_int_equal(p->mode, VIGIL_RESTART_SIGNAL);
	assert_int_equal(p->signo, SIGTERM);
	assert_int_equal(p->kill_after_ms, VIGIL_STOP_GRACE_MS);
	assert_int_equal(p->await_ms, VIGIL_AWAIT_MS);
	assert_null(p->argv);
	p = cfg->workloads[0].heal[1].action.params;
	assert_int_equal(p->mode, VIGIL_RESTART_COMMAND);
	assert_int_equal(p->argc, 4);
	assert_string_equal(p->argv[2], "/etc/sv/story");
	assert_string_equal(p->argv[3], ""); /* no ${...}: as it is */
	assert_null(p->argv[4]);
	assert_int_equal(p->envc, 3);
	assert_string_equal(p->envp[0], "HOME=/root");
	assert_string_equal(p->envp[1], "TOKEN=t-story");
	assert_string_equal(p->envp[2], "EMPTY=");
	assert_null(p->envp[3]);
	assert_int_equal(p->timeout_ms, 5000);
	assert_int_equal(p->await_ms, 20000);
	p = cfg->workloads[1].heal[0].action.params;
	assert_int_equal(p->mode, VIGIL_RESTART_EXEC);
	assert_int_equal(p->signo, SIGTERM);
	assert_int_equal(p->kill_after_ms, 3000);
	assert_int_equal(p->timeout_ms, VIGIL_COMMAND_TIMEOUT_MS);
	assert_int_equal(p->envc, 0); /* no env: an empty environment */
	assert_non_null(p->envp);
	assert_null(p->envp[0]);
	p = cfg->workloads[1].heal[1].action.params;
	assert_int_equal(p->signo, SIGKILL);
	assert_int_equal(p->await_ms, 120000);
	vigil_config_free(cfg);
	unsetenv("VIGIL_TEST_SVC");
}

/* A workload prefix for the error cases below: lines 1-3, a rule from line 4. */
#define W "workloads:\n  - name: a\n    match: { comm: a }\n"
/* After the rule, so that the rule's lines stay 5-7. */
#define POLICY "    policy: { allow_comm_only: true, allowed_exec: [/bin/true, /bin/false] }\n"
#define RULE(on, level, action)                                                                    \
	W "    heal:\n      - on: " on "\n        level: " level "\n"                              \
	  "        action: " action "\n" POLICY
#define RESTART "{ restart: { exec: [/bin/true] } }"

struct bad {
	const char *yaml;
	const char *where; /* exact "file:line:col: " */
	const char *what;  /* must also appear, naming the key */
};

static const struct bad bad_inputs[] = {
    /* unknown keys: the position of the key itself */
    {"workloads:\n  - name: storyteller\n    matc: { comm: storyteller }\n",
     "t.yaml:3:5: workloads[0]: ", "unexpected key 'matc'"},
    {"node: x\nobserve: true\n", "t.yaml:2:1: ", "unexpected key 'observe'"},
    {W "    breaker: { failures: 3, windw: 1m }\n",
     "t.yaml:4:29: workloads[0].breaker: ", "unexpected key 'windw'"},
    {W "    detect: { crash_loops: 3 }\n",
     "t.yaml:4:15: workloads[0].detect: ", "unexpected key 'crash_loops'"},
    {W "    detect: { crash_loop_exits: 1 }\n",
     "t.yaml:4:33: workloads[0].detect.crash_loop_exits: ", "1 is out of range 2..16"},
    {W "    detect: { slo_intervals: 61 }\n",
     "t.yaml:4:30: workloads[0].detect.slo_intervals: ", "61 is out of range 1..60"},
    /* values out of range: the position of the value */
    {RULE("[crash]", "4", RESTART),
     "t.yaml:6:16: workloads[0].heal[0].level: ", "4 is out of range 1..3"},
    {RULE("[crash]", "0", RESTART),
     "t.yaml:6:16: workloads[0].heal[0].level: ", "0 is out of range 1..3"},
    {RULE("[crash]", "-1", RESTART),
     "t.yaml:6:16: workloads[0].heal[0].level: ", "'-1' is not a whole number"},
    {RULE("[crash]", "one", RESTART),
     "t.yaml:6:16: workloads[0].heal[0].level: ", "'one' is not a whole number"},
    {W "    breaker: { failures: 0 }\n",
     "t.yaml:4:26: workloads[0].breaker.failures: ", "must be at least 1"},
    {W "    latency: { syscalls: [read], budget_ms: 0 }\n",
     "t.yaml:4:45: workloads[0].latency.budget_ms: ", "0 is out of range 1..3600000"},
    {W "    latency: { syscalls: [read, Write], budget_ms: 5 }\n",
     "t.yaml:4:33: workloads[0].latency.syscalls[1]: ", "'Write' is not a syscall name"},
    {W "    latency: { budget_ms: 5 }\n",
     "t.yaml:4:14: workloads[0].latency: ", "missing required key 'syscalls'"},
    {W "    latency: { syscalls: [read] }\n",
     "t.yaml:4:14: workloads[0].latency: ", "missing required key 'budget_ms'"},
    /* wrong types */
    {"node: [a, b]\n", "t.yaml:1:7: node: ", "expected a scalar, got a list"},
    {"workloads: { name: a }\n", "t.yaml:1:12: workloads: ", "expected a list, got a mapping"},
    {"workloads:\n  - name: a\n    match: storyteller\n",
     "t.yaml:3:12: workloads[0].match: ", "expected a mapping, got a scalar"},
    {"just a string\n", "t.yaml:1:1: top level: ", "expected a mapping"},
    {"observe_all: maybe\n", "t.yaml:1:14: observe_all: ", "'maybe' is not a boolean"},
    {RULE("crash", "1", RESTART),
     "t.yaml:5:13: workloads[0].heal[0].on: ", "expected a list, got a scalar"},
    /* missing required keys: the position of the mapping that lacks them */
    {"workloads:\n  - match: { comm: a }\n",
     "t.yaml:2:5: workloads[0]: ", "missing required key 'name'"},
    {"workloads:\n  - name: a\n", "t.yaml:2:5: workloads[0]: ", "missing required key 'match'"},
    {W "    heal:\n      - level: 1\n        action: " RESTART "\n",
     "t.yaml:5:9: workloads[0].heal[0]: ", "missing required key 'on'"},
    {W "    heal:\n      - on: [crash]\n        action: " RESTART "\n",
     "t.yaml:5:9: workloads[0].heal[0]: ", "missing required key 'level'"},
    {W "    heal:\n      - on: [crash]\n        level: 1\n",
     "t.yaml:5:9: workloads[0].heal[0]: ", "missing required key 'action'"},
    {RULE("[crash]", "1", "{ restart: { } }"), "t.yaml:7:28: workloads[0].heal[0].action.restart: ",
     "needs one of exec (vigil starts it), signal (vigil stops it, its supervisor starts it) or "
     "command (one that restarts it)"},
    /* match */
    {"workloads:\n  - name: a\n    match: { comm: abcdefghijklmnop }\n",
     "t.yaml:3:20: workloads[0].match.comm: ", "'abcdefghijklmnop' must be 1 to 15 bytes"},
    {"workloads:\n  - name: a\n    match: { exe: usr/bin/a }\n",
     "t.yaml:3:19: workloads[0].match.exe: ", "'usr/bin/a' must be an absolute path"},
    {"workloads:\n  - name: a\n    match: { cgroup: kubepods/* }\n",
     "t.yaml:3:22: workloads[0].match.cgroup: ", "must be an absolute path"},
    {"workloads:\n  - name: a\n    match: { pidfile: a.pid }\n",
     "t.yaml:3:23: workloads[0].match.pidfile: ", "must be an absolute path"},
    {"workloads:\n  - name: a\n    match: { }\n",
     "t.yaml:3:12: workloads[0].match: ", "needs at least one of comm, exe, cgroup, pidfile"},
    /* names */
    {W "  - name: b\n    match: { comm: b }\n  - name: a\n    match: { comm: c }\n",
     "t.yaml:6:11: workloads[2].name: ", "'a' is already the name of workloads[0]"},
    {"workloads:\n  - name: a b\n    match: { comm: a }\n",
     "t.yaml:2:11: workloads[0].name: ", "'a b' must be 1 to 63"},
    {"workloads:\n  - name: ''\n    match: { comm: a }\n",
     "t.yaml:2:11: workloads[0].name: ", "must be 1 to 63"},
    {"workloads:\n  - name: "
     "a234567890123456789012345678901234567890123456789012345678901234\n"
     "    match: { comm: a }\n",
     "t.yaml:2:11: workloads[0].name: ", "must be 1 to 63"},
    /* classes */
    {RULE("[crash, crsh]", "1", RESTART),
     "t.yaml:5:21: workloads[0].heal[0].on[1]: ", "unknown class 'crsh'"},
    {RULE("[none]", "1", RESTART),
     "t.yaml:5:14: workloads[0].heal[0].on[0]: ", "unknown class 'none'"},
    {RULE("[]", "1", RESTART), "t.yaml:5:13: workloads[0].heal[0].on: ", "must not be empty"},
    /* durations */
    {"window: 1d\n", "t.yaml:1:9: window: ", "'1d' is not a duration"},
    {"window: 0s\n", "t.yaml:1:9: window: ", "must be longer than 0"},
    {W "    verify: soon\n", "t.yaml:4:13: workloads[0].verify: ", "'soon' is not a duration"},
    {W "    quiet: { max_defer: -5s }\n",
     "t.yaml:4:25: workloads[0].quiet.max_defer: ", "'-5s' is not a duration"},
    {W "    breaker: { cooldown: 5 m }\n",
     "t.yaml:4:26: workloads[0].breaker.cooldown: ", "'5 m' is not a duration"},
    {W "    heal:\n      - on: [crash]\n        level: 2\n        delay: 5x\n"
       "        action: " RESTART "\n",
     "t.yaml:7:16: workloads[0].heal[0].delay: ", "'5x' is not a duration"},
    {W "    heal:\n      - on: [crash]\n        level: 1\n        delay: 5m\n"
       "        action: " RESTART "\n",
     "t.yaml:7:16: workloads[0].heal[0].delay: ", "only applies to level 2"},
    /* actions: the closed vocabulary, every kind of it implemented; retry is a rule's key */
    {RULE("[crash]", "1", "{ retry: { } }"), "t.yaml:7:19: workloads[0].heal[0].action: ",
     "action 'retry' is not implemented yet in this version (only restart, cache_clear, "
     "set_flag, publish, http, rollback are)"},
    {RULE("[crash]", "1", "{ shell: \"rm -rf /\" }"),
     "t.yaml:7:19: workloads[0].heal[0].action: ", "unknown action 'shell'"},
    {RULE("[crash]", "1", "{ flushall: { } }"),
     "t.yaml:7:19: workloads[0].heal[0].action: ", "unknown action 'flushall'"},
    {RULE("[crash]", "1",
	  "{ restart: { exec: [/bin/true] }, rollback: { command: [/bin/false] } }"),
     "t.yaml:7:17: workloads[0].heal[0].action: ",
     "two actions, restart and 'rollback'; a rule takes exactly one"},
    {RULE("[crash]", "1", "{ restart: { exec: [/bin/true] }, cache_clear: { match: 'a:*' } }"),
     "t.yaml:7:17: workloads[0].heal[0].action: ",
     "has two actions, restart and 'cache_clear'; a rule takes exactly one"},
    {RULE("[crash]", "1", "{ }"), "t.yaml:7:17: workloads[0].heal[0].action: ", "names no action"},
    {RULE("[crash]", "1", "{ restart: { exec: [/bin/true], args: [x] } }"),
     "t.yaml:7:49: workloads[0].heal[0].action.restart: ", "unexpected key 'args'"},
    {RULE("[crash]", "1", "{ restart: { exec: [] } }"),
     "t.yaml:7:36: workloads[0].heal[0].action.restart.exec: ", "must not be empty"},
    {RULE("[crash]", "1", "{ restart: { exec: [bin/a, x] } }"),
     "t.yaml:7:37: workloads[0].heal[0].action.restart.exec[0]: ",
     "'bin/a' must be an absolute path"},
    {RULE("[crash]", "1",
	  "{ restart: { exec: [/a,1,2,3,4,5,6,7,8,9,0,1,2,3,4,5,6,7,8,9,0,1,2,3,4,5,6,7,8,9,"
	  "0,1,2] } }"),
     "t.yaml:7:36: workloads[0].heal[0].action.restart.exec: ",
     "has 33 entries, at most 32 are allowed"},
    /* restart's modes: exactly one, each with its own keys */
    {RULE("[crash]", "1", "{ restart: { exec: [/bin/true], signal: TERM } }"),
     "t.yaml:7:57: workloads[0].heal[0].action.restart.signal: ",
     "a restart takes exactly one of exec, signal and command, not both exec and signal"},
    {RULE("[crash]", "1", "{ restart: { signal: TERM, command: [/bin/sv, restart, /a] } }"),
     "t.yaml:7:53: workloads[0].heal[0].action.restart.command: ", "not both signal and command"},
    {RULE("[crash]", "1", "{ restart: { command: [] } }"),
     "t.yaml:7:39: workloads[0].heal[0].action.restart.command: ", "must not be empty"},
    {RULE("[crash]", "1", "{ restart: { command: [sv, restart] } }"),
     "t.yaml:7:40: workloads[0].heal[0].action.restart.command[0]: ",
     "'sv' must be an absolute path"},
    {RULE("[crash]", "1", "{ restart: { signal: TERMINATE } }"),
     "t.yaml:7:38: workloads[0].heal[0].action.restart.signal: ",
     "'TERMINATE' is not one of HUP, INT, QUIT, KILL, USR1, USR2, TERM"},
    {RULE("[crash]", "1", "{ restart: { signal: TERM, env: [A=1] } }"),
     "t.yaml:7:49: workloads[0].heal[0].action.restart.env: ", "only applies to exec and command"},
    {RULE("[crash]", "1", "{ restart: { exec: [/bin/true], timeout: 5s } }"),
     "t.yaml:7:58: workloads[0].heal[0].action.restart.timeout: ", "only applies to command"},
    {RULE("[crash]", "1", "{ restart: { command: [/bin/true], kill_after: 5s } }"),
     "t.yaml:7:64: workloads[0].heal[0].action.restart.kill_after: ",
     "only applies to exec and signal"},
    {RULE("[crash]", "1", "{ restart: { signal: TERM, kill_after: 0s } }"),
     "t.yaml:7:56: workloads[0].heal[0].action.restart.kill_after: ", "must be longer than 0"},
    {RULE("[crash]", "1", "{ restart: { signal: TERM, await: soon } }"),
     "t.yaml:7:51: workloads[0].heal[0].action.restart.await: ", "'soon' is not a duration"},
    {RULE("[crash]", "1", "{ restart: { exec: [/bin/true], env: [PATH=/bin, 'NO SPACE=x'] } }"),
     "t.yaml:7:66: workloads[0].heal[0].action.restart.env[1]: ",
     "'NO SPACE=x' must be NAME=value"},
    {RULE("[crash]", "1", "{ restart: { exec: [/bin/true], env: [JUSTNAME] } }"),
     "t.yaml:7:55: workloads[0].heal[0].action.restart.env[0]: ", "'JUSTNAME' must be NAME=value"},
    {RULE("[crash]", "1", "{ restart: { exec: [/bin/true], env: ['T=${VIGIL_NO_SUCH_VAR}'] } }"),
     "t.yaml:7:55: workloads[0].heal[0].action.restart.env[0]: ",
     "environment variable VIGIL_NO_SUCH_VAR is not set"},
    {RULE("[crash]", "1", "{ restart: { command: [/bin/true, '${VIGIL_NO_SUCH_VAR}'] } }"),
     "t.yaml:7:51: workloads[0].heal[0].action.restart.command[1]: ",
     "environment variable VIGIL_NO_SUCH_VAR is not set"},
    /* rollback: level 3 only, an argv the policy allows */
    {RULE("[crash]", "1", "{ rollback: { command: [/bin/true] } }"),
     "t.yaml:7:29: workloads[0].heal[0].action.rollback: ",
     "rollback runs only with a person's approval: level must be 3, not 1"},
    {RULE("[crash]", "2", "{ rollback: { command: [/bin/true] } }"),
     "t.yaml:7:29: workloads[0].heal[0].action.rollback: ",
     "rollback runs only with a person's approval: level must be 3, not 2"},
    {RULE("[crash]", "3", "{ rollback: { command: [/bin/sh, -c, 'echo x'] } }"),
     "t.yaml:7:41: workloads[0].heal[0].action.rollback.command[0]: ",
     "'/bin/sh' is not in the workload's policy.allowed_exec (/bin/true, /bin/false)"},
    {RULE("[crash]", "3", "{ rollback: { command: [bin/true] } }"),
     "t.yaml:7:41: workloads[0].heal[0].action.rollback.command[0]: ",
     "'bin/true' must be an absolute path (start with /)"},
    {RULE("[crash]", "3", "{ rollback: { command: [] } }"),
     "t.yaml:7:40: workloads[0].heal[0].action.rollback.command: ", "must not be empty"},
    {RULE("[crash]", "3", "{ rollback: { env: [A=1] } }"),
     "t.yaml:7:29: workloads[0].heal[0].action.rollback: ", "missing required key 'command'"},
    {RULE("[crash]", "3", "{ rollback: { command: [/bin/true], timeout: 0s } }"),
     "t.yaml:7:62: workloads[0].heal[0].action.rollback.timeout: ", "must be longer than 0"},
    {RULE("[crash]", "3", "{ rollback: { command: [/bin/true], env: [NOEQ] } }"),
     "t.yaml:7:59: workloads[0].heal[0].action.rollback.env[0]: ", "'NOEQ' must be NAME=value"},
    {RULE("[crash_loop]", "3", "{ rollback: { exec: [kubectl, rollout, undo] } }"),
     "t.yaml:7:31: workloads[0].heal[0].action.rollback: ", "unexpected key 'exec'"},
    /* http: an http(s) URL with a host, an absolute token file open to its owner only */
    {RULE("[crash]", "1", "{ http: { url: 'ftp://example.com/x' } }"),
     "t.yaml:7:32: workloads[0].heal[0].action.http.url: ",
     "'ftp://example.com/x' must start with http:// or https://"},
    {RULE("[crash]", "1", "{ http: { url: 'http:///admin' } }"),
     "t.yaml:7:32: workloads[0].heal[0].action.http.url: ", "'http:///admin' has no host"},
    {RULE("[crash]", "1", "{ http: { url: 'https://h:99999/' } }"),
     "t.yaml:7:32: workloads[0].heal[0].action.http.url: ", "'https://h:99999/' is not a URL: "},
    {RULE("[crash]", "1", "{ http: { url: 'http://u:pw@h/admin' } }"),
     "t.yaml:7:32: workloads[0].heal[0].action.http.url: ",
     "must not hold a user or password (a bearer_token_file holds the secret)"},
    {RULE("[crash]", "1", "{ http: { url: 'http://h/', bearer_token_file: run/token } }"),
     "t.yaml:7:64: workloads[0].heal[0].action.http.bearer_token_file: ",
     "'run/token' must be an absolute path (start with /)"},
    {RULE("[crash]", "1", "{ http: { url: 'http://h/', bearer_token_file: /etc/passwd } }"),
     "t.yaml:7:64: workloads[0].heal[0].action.http.bearer_token_file: ",
     "'/etc/passwd' is open to group or others (mode 0644): a token file must be 0600 or 0400"},
    {RULE("[crash]", "1", "{ http: { url: 'http://h/', bearer_token_file: /nonexistent/token } }"),
     "t.yaml:7:64: workloads[0].heal[0].action.http.bearer_token_file: ",
     "'/nonexistent/token' cannot be read: No such file or directory"},
    {RULE("[crash]", "1", "{ http: { url: 'http://h/', timeout: 6m } }"),
     "t.yaml:7:54: workloads[0].heal[0].action.http.timeout: ",
     "'6m' is longer than the 5m allowed"},
    {RULE("[crash]", "1", "{ http: { url: 'http://h/', method: GET } }"),
     "t.yaml:7:53: workloads[0].heal[0].action.http.method: ",
     "'GET' is not one of POST, PUT, PATCH, DELETE"},
    {RULE("[crash]", "1", "{ http: { body: x } }"),
     "t.yaml:7:25: workloads[0].heal[0].action.http: ", "missing required key 'url'"},
    {RULE("[crash]", "1", "{ http: { url: 'http://h/', body: '' } }"),
     "t.yaml:7:51: workloads[0].heal[0].action.http.body: ", "must not be empty"},
    {RULE("[crash]", "1", "{ http: { url: 'http://h/', header: x } }"),
     "t.yaml:7:45: workloads[0].heal[0].action.http: ", "unexpected key 'header'"},
    {W "    supervisor: systemd\n",
     "t.yaml:4:17: workloads[0].supervisor: ", "'systemd' is not vigil"},
    {W "    supervisor: external\n"
       "    heal:\n      - { on: [crash], level: 1, action: { restart: "
       "{ exec: [/bin/true] } } }\n",
     "t.yaml:6:61: workloads[0].heal[0].action.restart.exec: ",
     "the workload's supervisor is external: vigil must not start it too"},
    /* empty strings */
    {"journal: ''\n", "t.yaml:1:10: journal: ", "must not be empty"},
    {"redis: { url: }\n", "t.yaml:1:15: redis.url: ", "must not be empty"},
    /* redis and knowledge */
    {"redis: { url: http://x }\n", "t.yaml:1:15: redis.url: ", "must start with redis://"},
    {"redis: { prefix: 'a b' }\n", "t.yaml:1:18: redis.prefix: ", "must be 1..63 of"},
    {"redis: { spool: var/s }\n", "t.yaml:1:17: redis.spool: ", "must be an absolute path"},
    {"redis: { spool_max_mb: 0 }\n",
     "t.yaml:1:24: redis.spool_max_mb: ", "0 is out of range 1..1048576"},
    {"redis: { maxlen: 10 }\n", "t.yaml:1:18: redis.maxlen: ", "must be at least 100, not 10"},
    {"redis: { password: '${VIGIL_NO_SUCH_VAR}' }\n",
     "t.yaml:1:20: redis.password: ", "environment variable VIGIL_NO_SUCH_VAR is not set"},
    {"knowledge: k.json\n", "t.yaml:1:12: knowledge: ", "must be an absolute path"},
    {"journal: j.jsonl\n", "t.yaml:1:10: journal: ", "must be an absolute path"},
    /* numbers that would overflow once in nanoseconds */
    {"window: 307445735h\n",
     "t.yaml:1:9: window: ", "'307445735h' is longer than any duration vigil takes (720 h)"},
    {"window: 721h\n", "t.yaml:1:9: window: ", "is longer than any duration vigil takes"},
    {W "    latency: { syscalls: [read], budget_ms: 18446744073710 }\n",
     "t.yaml:4:45: workloads[0].latency.budget_ms: ", "18446744073710 is out of range 1..3600000"},
    {"state: st.json\n", "t.yaml:1:8: state: ", "must be an absolute path"},
    /* the journal's rotation and fsync */
    {"journal_max_mb: 1048577\n",
     "t.yaml:1:17: journal_max_mb: ", "1048577 is out of range 0..1048576"},
    {"journal_keep: 101\n", "t.yaml:1:15: journal_keep: ", "101 is out of range 0..100"},
    {"journal_keep: -1\n", "t.yaml:1:15: journal_keep: ", "'-1' is not a whole number"},
    {"journal_fsync: sometimes\n",
     "t.yaml:1:16: journal_fsync: ", "'sometimes' is not none, interval or always"},
    {W "    heal:\n      - { on: [crash], level: 1, action: { restart: { exec: [/bin/true] } } }\n"
       "      - { on: [oom_kill, crash], level: 1, action: { restart: { exec: [/bin/false] } } "
       "}\n" POLICY,
     "t.yaml:6:9: workloads[0].heal[1]: ", "name 'restart' is also heal[0]'s"},
    {W "    heal:\n      - { name: 'a b', on: [crash], level: 1, action: { restart: { exec: "
       "[/bin/true] } "
       "} }\n",
     "t.yaml:5:17: workloads[0].heal[0].name: ", "must be 1..63 of"},
    /* a heal rule on a workload anyone can take */
    {W "    heal:\n      - { on: [hang], level: 1, action: { restart: { signal: TERM } } }\n",
     "t.yaml:5:9: workloads[0].heal[0]: ",
     "the workload is matched by comm alone, which any user can take (a process may name "
     "itself 'a'): match it by exe, cgroup or pidfile too, or accept that with "
     "policy.allow_comm_only: true"},
    {W "    policy: { allow_comm_only: maybe }\n",
     "t.yaml:4:32: workloads[0].policy.allow_comm_only: ", "'maybe' is not a boolean"},
    /* duplicate keys: the position of the second one */
    {"node: a\njournal: /j\nnode: b\n", "t.yaml:3:1: node: ", "key given twice"},
    {W "    match: storyteller\n", "t.yaml:4:5: workloads[0].match: ", "key given twice"},
    {RULE("[crash]", "1\n        level: 2", RESTART),
     "t.yaml:7:9: workloads[0].heal[0].level: ", "key given twice"},
    /* YAML syntax */
    {"workloads:\n  - name: a\n   match: { comm: a }\n",
     "t.yaml:3:4: ", "syntax error: did not find expected '-' indicator"},
    {"node: a\nredis: { url: x\n",
     "t.yaml:3:1: ", "syntax error: did not find expected ',' or '}'"},
    {"node: [a\n", "t.yaml:2:1: ", "syntax error"},
    {"node: \"a\n", "t.yaml:2:1: ", "syntax error"},
    {"node: a\n\tjournal: b\n", "t.yaml:2:1: ", "syntax error"},
    {"workloads:\n  - &w { name: a, match: { comm: a } }\n  - *w\n",
     "t.yaml:3:5: ", "aliases are not allowed"},
    {"node: a\n? [a, b]\n: c\n", "t.yaml:2:3: ", "a key must be a plain word"},
    {"node: [[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]\n", "t.yaml:1:22: ", "nested too deeply"},
    {"node: a\n---\nnode: b\n", "t.yaml:2:1: ", "a second document is not allowed"},
    {"node: a\n...\nnode: [\n", "t.yaml:3:1: ", "syntax error"},
};

/* A file for the policy refusals: mode, owner; its directory's too. */
static void policy_file(const char *path, mode_t mode, uid_t uid)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs("#!/bin/sh\nexit 0\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
	assert_int_equal(chown(path, uid, 0), 0);
}

/*
 * The policy refuses, at load, with the file, line, column and why: an executable not listed
 * or not one root alone controls, a forbidden rule name, a key glob that would hold any key.
 * Each message is printed (the closing note's table).
 */
static void test_policy_refusals(void **state)
{
	char dir[] = "/tmp/vigil-policy-XXXXXX", wdir[128], udir[128], path[8][160];
	char yaml[1024];
	static const struct {
		const char *exec; /* %s: the test's directory; NULL: /bin/true */
		const char *allowed;
		const char *name;
		const char *extra; /* more policy */
		const char *what;
	} cases[] = {
	    {NULL, NULL, NULL, NULL,
	     "'/bin/true' is not in the workload's policy.allowed_exec, "
	     "which lists none: list each executable a rule may run"},
	    {NULL, "/bin/false", NULL, NULL,
	     "'/bin/true' is not in the workload's policy.allowed_exec (/bin/false)"},
	    {NULL, "bin/true", NULL, NULL, "'bin/true' must be an absolute path"},
	    {"%s/gone", "%s/gone", NULL, NULL, "/gone: No such file or directory"},
	    {"%s/user", "%s/user", NULL, NULL, "is not an executable vigil may run as root"},
	    {"%s/world", "%s/world", NULL, NULL, "is not an executable vigil may run as root"},
	    {"%s/group", "%s/group", NULL, NULL, "is not an executable vigil may run as root"},
	    {"%s/plain", "%s/plain", NULL, NULL, "is not an executable file"},
	    {"%s/w/prog", "%s/w/prog", NULL, NULL, "is not an executable vigil may run as root"},
	    {"%s/u/prog", "%s/u/prog", NULL, NULL, "is not an executable vigil may run as root"},
	    {NULL, "/bin/true", "modify_story_content", NULL,
	     "'modify_story_content' is a forbidden action: vigil never modifies story content, "
	     "user permissions, database schemas or privacy settings"},
	    {NULL, "/bin/true", "Alter_Database_Schema", NULL, "is a forbidden action"},
	    {NULL, "/bin/true", "change_user_permissions", NULL, "is a forbidden action"},
	    {NULL, "/bin/true", "modify_privacy_settings", NULL, "is a forbidden action"},
	    {NULL, "/bin/true", "purge", ", forbidden: [purge]",
	     "'purge' is forbidden by the workload's policy.forbidden"},
	    {NULL, "/bin/true", NULL, ", redis_keys: ['*']",
	     "'*' would allow keys of any name: a glob must start with a fixed prefix"},
	};
	char exec[160], allowed[160];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path[0], sizeof(path[0]), "%s/user", dir);
	policy_file(path[0], 0755, 65534);
	snprintf(path[1], sizeof(path[1]), "%s/world", dir);
	policy_file(path[1], 0777, 0);
	snprintf(path[2], sizeof(path[2]), "%s/group", dir);
	policy_file(path[2], 0775, 0);
	snprintf(path[3], sizeof(path[3]), "%s/plain", dir);
	policy_file(path[3], 0644, 0);
	snprintf(wdir, sizeof(wdir), "%s/w", dir); /* anyone may replace what it holds */
	assert_int_equal(mkdir(wdir, 0777), 0);
	assert_int_equal(chmod(wdir, 0777), 0);
	snprintf(path[4], sizeof(path[4]), "%s/prog", wdir);
	policy_file(path[4], 0755, 0);
	snprintf(udir, sizeof(udir), "%s/u", dir); /* a user's directory */
	assert_int_equal(mkdir(udir, 0755), 0);
	assert_int_equal(chown(udir, 65534, 0), 0);
	snprintf(path[5], sizeof(path[5]), "%s/prog", udir);
	policy_file(path[5], 0755, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vigil_config *cfg = NULL;
		char err[512] = "";
		int ret;

		snprintf(exec, sizeof(exec), cases[i].exec ? cases[i].exec : "/bin/true", dir);
		snprintf(allowed, sizeof(allowed), cases[i].allowed ? cases[i].allowed : "", dir);
		snprintf(yaml, sizeof(yaml),
			 "workloads:\n"
			 "  - name: svc\n"
			 "    match: { comm: svc }\n"
			 "    heal:\n"
			 "      - { on: [crash], level: 1, name: %s,\n"
			 "          action: { restart: { exec: [\"%s\"] } } }\n"
			 "    policy: { allow_comm_only: true, allowed_exec: [%s%s%s]%s }\n",
			 cases[i].name ? cases[i].name : "restart", exec,
			 cases[i].allowed ? "\"" : "", allowed, cases[i].allowed ? "\"" : "",
			 cases[i].extra ? cases[i].extra : "");
		ret = vigil_config_parse(yaml, strlen(yaml), "t.yaml", &cfg, err, sizeof(err));
		if (ret != -EINVAL || !strstr(err, cases[i].what) || strncmp(err, "t.yaml:", 7))
			fail_msg("case %zu:\n%s\ngot %d \"%s\"\nwanted \"%s\"", i, yaml, ret, err,
				 cases[i].what);
		assert_null(cfg);
		print_message("refused: %s\n", err);
	}
	/* The same trusted file, listed: loads. */
	snprintf(yaml, sizeof(yaml),
		 "workloads:\n  - name: svc\n    match: { comm: svc }\n"
		 "    heal: [{ on: [crash], level: 1, action: { restart: "
		 "{ exec: [/bin/true] } } }]\n"
		 "    policy: { allow_comm_only: true, allowed_exec: [/bin/true] }\n");
	{
		struct vigil_config *cfg = NULL;
		char err[512];

		assert_int_equal(
		    vigil_config_parse(yaml, strlen(yaml), "t.yaml", &cfg, err, sizeof(err)), 0);
		vigil_config_free(cfg);
	}
	snprintf(yaml, sizeof(yaml), "rm -rf '%s'", dir);
	assert_int_equal(system(yaml), 0);
}

/* Which Redis keys and patterns lie inside a policy glob. */
static void test_redis_glob_inside(void **state)
{
	(void)state;
	assert_true(vigil_redis_glob_inside("story:cache:1", "story:cache:*"));
	assert_true(vigil_redis_glob_inside("story:cache:*", "story:cache:*"));
	assert_true(vigil_redis_glob_inside("story:cache:user:*", "story:cache:*"));
	assert_true(vigil_redis_glob_inside("story:cache:?", "story:cache:*"));
	assert_true(vigil_redis_glob_inside("model:active", "model:active"));
	assert_true(vigil_redis_glob_inside("model:active", "model:*"));
	assert_false(vigil_redis_glob_inside("story:*", "story:cache:*"));
	assert_false(vigil_redis_glob_inside("story:cache*", "story:cache:*"));
	assert_false(vigil_redis_glob_inside("user:perm:1", "story:cache:*"));
	assert_false(vigil_redis_glob_inside("model:active2", "model:active"));
	/* A pattern inside a glob of another shape is not proven: refused. */
	assert_false(vigil_redis_glob_inside("a:b:*", "a:?:*"));
	assert_false(vigil_redis_glob_inside("a:*", "a:*:x"));
}

/* Every case is tried, so one run shows all that fail. */
static void test_bad_inputs(void **state)
{
	unsigned int failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_inputs) / sizeof(bad_inputs[0]); i++)
		failed += !is_refused(bad_inputs[i].yaml, bad_inputs[i].where, bad_inputs[i].what);
	assert_int_equal(failed, 0);
}

/* A rule of the Redis kinds (its action from column 17 of line 7), in a workload whose policy
 * allows the keys under app: (line 8). */
#define RPOLICY "    policy: { allow_comm_only: true, redis_keys: ['app:*'] }\n"
#define RRULE(action)                                                                              \
	W "    heal:\n      - on: [crash]\n        level: 1\n        action: " action "\n" RPOLICY
#define AT(key) "workloads[0].heal[0].action." key ": "
#define CC(rest) "{ cache_clear: { redis: 'redis://h', " rest " } }"
#define SF(rest) "{ set_flag: { redis: 'redis://h', " rest " } }"
#define PB(rest) "{ publish: { redis: 'redis://h', stream: 'app:cmd', " rest " } }"

/* cache_clear, set_flag and publish: each refusal, at the key it is about. */
static const struct bad redis_bad_inputs[] = {
    /* every kind: redis, required and parsed at load */
    {RRULE("{ cache_clear: { match: 'app:*' } }"), "t.yaml:7:32: " AT("cache_clear"),
     "missing required key 'redis'"},
    {RRULE("{ cache_clear: { redis: '', match: 'app:*' } }"),
     "t.yaml:7:41: " AT("cache_clear.redis"), "must not be empty"},
    {RRULE("{ cache_clear: { redis: 'http://h', match: 'app:*' } }"),
     "t.yaml:7:41: " AT("cache_clear.redis"),
     "redis url 'http://h': must start with redis:// or unix://"},
    {RRULE("{ set_flag: { redis: 'redis://:pw@h:99999', key: 'app:f', value: on } }"),
     "t.yaml:7:38: " AT("set_flag.redis"), "redis url 'redis://:***@h:99999': bad port"},
    {RRULE("{ publish: { redis: 'unix://run/r.sock', stream: 'app:s', fields: [a=1] } }"),
     "t.yaml:7:37: " AT("publish.redis"), "unix:// needs an absolute socket path"},
    {RRULE("{ publish: { redis: 'redis://h/${VIGIL_NO_SUCH_VAR}', stream: 'app:s', "
	   "fields: [a=1] } }"),
     "t.yaml:7:37: " AT("publish.redis"), "environment variable VIGIL_NO_SUCH_VAR is not set"},
    /* cache_clear */
    {RRULE("{ cache_clear: { redis: 'redis://h' } }"), "t.yaml:7:32: " AT("cache_clear"),
     "missing required key 'match'"},
    {RRULE(CC("match: ''")), "t.yaml:7:61: " AT("cache_clear.match"), "must be 1 to 512 bytes"},
    {RRULE(CC("match: 'app:*', max_keys: 0")), "t.yaml:7:80: " AT("cache_clear.max_keys"),
     "0 is out of range 1..1000000"},
    {RRULE(CC("match: 'app:*', max_keys: 1000001")), "t.yaml:7:80: " AT("cache_clear.max_keys"),
     "1000001 is out of range 1..1000000"},
    {RRULE(CC("match: 'app:*', max_keys: all")), "t.yaml:7:80: " AT("cache_clear.max_keys"),
     "'all' is not a whole number"},
    {RRULE(CC("match: 'app:*', pattern: 'x'")), "t.yaml:7:70: " AT("cache_clear"),
     "unexpected key 'pattern'"},
    /* the policy: a pattern with a fixed prefix, inside policy.redis_keys */
    {RRULE(CC("match: '*'")), "t.yaml:7:61: " AT("cache_clear.match"),
     "'*' would match keys of any name: a pattern must start with a fixed prefix (like "
     "story:cache:*)"},
    {RRULE(CC("match: '[a]pp:*'")), "t.yaml:7:61: " AT("cache_clear.match"),
     "'[a]pp:*' would match keys of any name"},
    {RRULE(CC("match: 'other:*'")), "t.yaml:7:61: " AT("cache_clear.match"),
     "pattern 'other:*' is not inside the workload's policy.redis_keys (app:*)"},
    {RRULE(CC("match: 'ap*'")), "t.yaml:7:61: " AT("cache_clear.match"),
     "pattern 'ap*' is not inside the workload's policy.redis_keys (app:*)"},
    {W "    heal:\n      - { on: [crash], level: 1, action: " CC(
	 "match: 'app:*'") " }\n"
			   "    policy: { allow_comm_only: true }\n",
     "t.yaml:5:86: " AT("cache_clear.match"),
     "pattern 'app:*' is not inside the workload's policy.redis_keys, which lists none: list "
     "the key globs its rules may touch"},
    /* set_flag */
    {RRULE(SF("value: on")), "t.yaml:7:29: " AT("set_flag"), "missing required key 'key'"},
    {RRULE(SF("key: '', value: on")), "t.yaml:7:56: " AT("set_flag.key"), "must be 1 to 512 bytes"},
    {RRULE(SF("key: 'app:f'")), "t.yaml:7:29: " AT("set_flag"), "missing required key 'value'"},
    {RRULE(SF("key: 'app:f', value: ''")), "t.yaml:7:72: " AT("set_flag.value"),
     "must be 1 to 4096 bytes"},
    {RRULE(SF("key: 'app:f', value: on, ttl: soon")), "t.yaml:7:81: " AT("set_flag.ttl"),
     "'soon' is not a duration (like 250ms, 30s, 5m, 2h)"},
    {RRULE(SF("key: 'app:f', value: on, ttl: 0s")), "t.yaml:7:81: " AT("set_flag.ttl"),
     "must be longer than 0"},
    {RRULE(SF("key: 'app:f', value: on, revert_after: 0")),
     "t.yaml:7:90: " AT("set_flag.revert_after"), "must be longer than 0"},
    {RRULE(SF("key: 'app:f', value: on, ttl: 1m, revert_after: 1m")),
     "t.yaml:7:99: " AT("set_flag.revert_after"),
     "must be shorter than ttl (60000 ms): the key would have expired"},
    {RRULE(SF("key: 'other:f', value: on")), "t.yaml:7:56: " AT("set_flag.key"),
     "key 'other:f' is not inside the workload's policy.redis_keys (app:*)"},
    /* publish */
    {RRULE("{ publish: { redis: 'redis://h', fields: [a=1] } }"), "t.yaml:7:28: " AT("publish"),
     "missing required key 'stream'"},
    {RRULE(PB("")), "t.yaml:7:28: " AT("publish"), "missing required key 'fields'"},
    {RRULE(PB("fields: []")), "t.yaml:7:77: " AT("publish.fields"), "must not be empty"},
    {RRULE(PB("fields: [op=restore, 'no name']")), "t.yaml:7:90: " AT("publish.fields[1]"),
     "'no name' must be NAME=value, NAME 1..64 of A-Z a-z 0-9 _ . - :"},
    {RRULE(PB("fields: ['=x']")), "t.yaml:7:78: " AT("publish.fields[0]"),
     "'=x' must be NAME=value"},
    {RRULE(PB("fields: [op=restore, incident=x]")), "t.yaml:7:90: " AT("publish.fields[1]"),
     "'incident' is a field vigil sets itself (incident, signature, workload, action)"},
    {RRULE(PB("fields: ['v=${VIGIL_NO_SUCH_VAR}']")), "t.yaml:7:78: " AT("publish.fields[0]"),
     "environment variable VIGIL_NO_SUCH_VAR is not set"},
    {RRULE(PB("fields: [a=1,b=1,c=1,d=1,e=1,f=1,g=1,h=1,i=1,j=1,k=1,l=1,m=1,n=1,o=1,p=1,q=1,"
	      "r=1,s=1,t=1,u=1,v=1,w=1,x=1,y=1,z=1,A=1,B=1,C=1,D=1,E=1,F=1,G=1]")),
     "t.yaml:7:77: " AT("publish.fields"), "has 33 entries, at most 32 are allowed"},
    {RRULE(PB("fields: [a=1], ack_timeout: 2s")), "t.yaml:7:28: " AT("publish"),
     "ack_timeout needs group: the consumer group in which the application acknowledges the "
     "entry (XACK)"},
    {RRULE(PB("fields: [a=1], group: g")), "t.yaml:7:91: " AT("publish.group"),
     "only applies with ack_timeout"},
    {RRULE(PB("fields: [a=1], ack_timeout: never, group: g")),
     "t.yaml:7:97: " AT("publish.ack_timeout"), "'never' is not a duration"},
    {RRULE(PB("fields: [a=1], ack_timeout: 2s, group: ''")), "t.yaml:7:108: " AT("publish.group"),
     "must be 1 to 512 bytes"},
    {RRULE("{ publish: { redis: 'redis://h', stream: 'app', fields: [a=1] } }"),
     "t.yaml:7:58: " AT("publish.stream"),
     "key 'app' is not inside the workload's policy.redis_keys (app:*)"},
};

static void test_redis_bad_inputs(void **state)
{
	unsigned int failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(redis_bad_inputs) / sizeof(redis_bad_inputs[0]); i++)
		failed += !is_refused(redis_bad_inputs[i].yaml, redis_bad_inputs[i].where,
				      redis_bad_inputs[i].what);
	assert_int_equal(failed, 0);
}

/* otlp: endpoint, headers (a mapping of free names, read beside libcyaml), timeout, spool. */
static void test_otlp(void **state)
{
	struct vigil_config *cfg;

	(void)state;
	cfg = parse_ok("journal: /j\n");
	assert_null(cfg->otlp_endpoint);
	assert_int_equal(cfg->otlp_n_headers, 0);
	vigil_config_free(cfg);
	setenv("VIGIL_TEST_OTLP_TOKEN", "s3cret", 1);
	cfg = parse_ok("otlp:\n"
		       "  endpoint: http://collector:4318\n"
		       "  headers:\n"
		       "    Authorization: \"Bearer ${VIGIL_TEST_OTLP_TOKEN}\"\n"
		       "    X-Scope-OrgID: team-1\n"
		       "  timeout: 3s\n");
	assert_string_equal(cfg->otlp_endpoint, "http://collector:4318");
	assert_int_equal(cfg->otlp_n_headers, 2);
	assert_string_equal(cfg->otlp_headers[0], "Authorization: Bearer s3cret");
	assert_string_equal(cfg->otlp_headers[1], "X-Scope-OrgID: team-1");
	assert_null(cfg->otlp_headers[2]);
	assert_int_equal(cfg->otlp_timeout_ms, 3000);
	assert_string_equal(cfg->otlp_spool, "/var/lib/vigil/otlp.spool");
	assert_int_equal(cfg->otlp_spool_max_mb, 256);
	vigil_config_free(cfg);
	cfg = parse_ok("otlp: { endpoint: \"https://x/otlp/\", spool: /s, spool_max_mb: 8 }\n");
	assert_int_equal(cfg->otlp_timeout_ms, 10000);
	assert_string_equal(cfg->otlp_spool, "/s");
	assert_int_equal(cfg->otlp_n_headers, 0);
	vigil_config_free(cfg);
	expect_error("otlp: { endpoint: ftp://x }\n",
		     "t.yaml:1:19: otlp.endpoint: ", "must start with http:// or https://");
	expect_error("otlp: { endpoint: \"http://x?a=b\" }\n",
		     "t.yaml:1:19: otlp.endpoint: ", "no query");
	expect_error("otlp: { endpoint: http://x, headers: [a] }\n",
		     "t.yaml:1:38: otlp.headers: ", "must be a mapping");
	expect_error("otlp: { endpoint: http://x, headers: { A: { b: c } } }\n",
		     "t.yaml:1:43: otlp.headers: ", "must be a string");
	expect_error("otlp: { endpoint: http://x, headers: { \"a b\": c } }\n",
		     "t.yaml:1:47: otlp.headers.a b: ", "not a header name");
	expect_error("otlp: { endpoint: http://x, headers: { content-type: c } }\n",
		     "t.yaml:1:54: otlp.headers.content-type: ", "not a header name");
	expect_error("otlp: { endpoint: http://x, headers: { A: \"${VIGIL_TEST_NO_SUCH}\" } }\n",
		     "t.yaml:1:43: otlp.headers.A: ", "VIGIL_TEST_NO_SUCH");
	expect_error("otlp: { endpoint: http://x, timeout: 0s }\n",
		     "t.yaml:1:38: otlp.timeout: ", "longer than 0");
	expect_error("otlp: { endpoint: http://x, spool: rel }\n",
		     "t.yaml:1:36: otlp.spool: ", "absolute");
	expect_error("otlp: { endpoint: http://x, header: {} }\n", "t.yaml:1:", "header");
}

/* What a touches() walk saw: "TYPE key value" lines. */
static int collect_touch(enum vigil_touch_type type, const char *key, const char *value, void *arg)
{
	char *buf = arg;
	size_t n = strlen(buf);

	snprintf(buf + n, 512 - n, "%d %s %s\n", (int)type, key, value);
	return 0;
}

/* The three kinds parsed: their params, defaults, ${VAR}s, what they describe and touch (the
 * URL's password never shown). */
static void test_redis_kinds(void **state)
{
	static const char yaml[] =
	    "workloads:\n"
	    "  - name: app\n"
	    "    match: { comm: app }\n"
	    "    heal:\n"
	    "      - on: [crash]\n"
	    "        level: 1\n"
	    "        action: { cache_clear: { redis: 'redis://u:${VIGIL_TEST_PW}@h:6380/2',\n"
	    "                                 match: 'app:cache:*' } }\n"
	    "      - on: [hang]\n"
	    "        name: switch_to_backup_model\n"
	    "        level: 2\n"
	    "        action:\n"
	    "          set_flag: { redis: 'unix:///run/r.sock', key: 'app:model', value: backup,\n"
	    "                      ttl: 10m, revert_after: 5m }\n"
	    "      - on: [oom_kill]\n"
	    "        name: restore_conversation_state\n"
	    "        level: 1\n"
	    "        action:\n"
	    "          publish:\n"
	    "            redis: 'redis://h'\n"
	    "            stream: 'app:commands'\n"
	    "            fields: [op=restore, 'node=${VIGIL_TEST_PW}', 'empty=', 'eq=a=b']\n"
	    "            ack_timeout: 1500ms\n"
	    "            group: app\n"
	    "      - { on: [exit_nonzero], level: 1, action: { cache_clear: { redis: 'redis://h',\n"
	    "          match: 'app:cache:x', max_keys: 1000000 } } }\n"
	    "    policy: { allow_comm_only: true, redis_keys: ['app:*'] }\n";
	const struct vigil_cache_clear_params *cc;
	const struct vigil_set_flag_params *sf;
	const struct vigil_publish_params *pb;
	const struct vigil_workload *w;
	struct vigil_config *cfg;
	char buf[512];

	(void)state;
	assert_int_equal(setenv("VIGIL_TEST_PW", "s3cret", 1), 0);
	cfg = parse_ok(yaml);
	w = &cfg->workloads[0];
	assert_int_equal(w->n_heal, 4);

	assert_ptr_equal(w->heal[0].action.ops, &vigil_cache_clear_ops);
	assert_string_equal(w->heal[0].name, "cache_clear");
	cc = w->heal[0].action.params;
	assert_string_equal(cc->url, "redis://u:s3cret@h:6380/2");
	assert_string_equal(cc->url_safe, "redis://u:***@h:6380/2");
	assert_string_equal(cc->match, "app:cache:*");
	assert_int_equal(cc->max_keys, VIGIL_CACHE_CLEAR_MAX_KEYS);
	w->heal[0].action.ops->describe(&w->heal[0].action, buf, sizeof(buf));
	assert_string_equal(buf, "SCAN MATCH 'app:cache:*' + UNLINK, at most 10000 keys, on "
				 "redis://u:***@h:6380/2");
	buf[0] = '\0';
	assert_int_equal(w->heal[0].action.ops->touches(&w->heal[0].action, collect_touch, buf), 0);
	assert_string_equal(buf, "2 redis redis://u:***@h:6380/2\n4 match app:cache:*\n");
	cc = w->heal[3].action.params;
	assert_int_equal(cc->max_keys, 1000000);

	assert_ptr_equal(w->heal[1].action.ops, &vigil_set_flag_ops);
	sf = w->heal[1].action.params;
	assert_string_equal(sf->url_safe, "unix:///run/r.sock");
	assert_string_equal(sf->key, "app:model");
	assert_string_equal(sf->value, "backup");
	assert_int_equal(sf->ttl_ms, 600000);
	assert_int_equal(sf->revert_after_ms, 300000);
	w->heal[1].action.ops->describe(&w->heal[1].action, buf, sizeof(buf));
	assert_string_equal(buf, "SET app:model 'backup' PX 600000 on unix:///run/r.sock; put back "
				 "after 300000 ms");
	buf[0] = '\0';
	assert_int_equal(w->heal[1].action.ops->touches(&w->heal[1].action, collect_touch, buf), 0);
	assert_string_equal(buf, "2 redis unix:///run/r.sock\n3 key app:model\n");

	assert_ptr_equal(w->heal[2].action.ops, &vigil_publish_ops);
	pb = w->heal[2].action.params;
	assert_string_equal(pb->stream, "app:commands");
	assert_int_equal(pb->nfields, 4);
	assert_string_equal(pb->names[0], "op");
	assert_string_equal(pb->values[0], "restore");
	assert_string_equal(pb->names[1], "node");
	assert_string_equal(pb->values[1], "s3cret");
	assert_string_equal(pb->names[2], "empty");
	assert_string_equal(pb->values[2], "");
	assert_string_equal(pb->names[3], "eq");
	assert_string_equal(pb->values[3], "a=b");
	assert_int_equal(pb->ack_timeout_ms, 1500);
	assert_string_equal(pb->group, "app");
	w->heal[2].action.ops->describe(&w->heal[2].action, buf, sizeof(buf));
	assert_string_equal(buf,
			    "XADD app:commands * op restore node s3cret empty  eq a=b incident "
			    "signature workload action on redis://h; acknowledged in group "
			    "app within 1500 ms");
	buf[0] = '\0';
	assert_int_equal(w->heal[2].action.ops->touches(&w->heal[2].action, collect_touch, buf), 0);
	assert_string_equal(buf, "2 redis redis://h\n3 stream app:commands\n");
	vigil_config_free(cfg);
	unsetenv("VIGIL_TEST_PW");
}

/* The two messages the brief shows, whole: the name given, the line and column, the key path. */
static void test_exact_messages(void **state)
{
	static const char matc[] = "node: n\n"
				   "workloads:\n"
				   "  - name: storyteller\n"
				   "    match: { comm: storyteller }\n"
				   "  - name: other\n"
				   "    matc: { comm: other }\n";
	static const char level[] = "workloads:\n"
				    "  - name: storyteller\n"
				    "    match: { comm: storyteller }\n"
				    "    latency: { syscalls: [read], budget_ms: 200 }\n"
				    "    heal:\n"
				    "      - on: [crash]\n"
				    "        action: { restart: { exec: [/bin/true] } }\n"
				    "        # and last, the level\n"
				    "        level: 4\n";
	struct vigil_config *cfg;
	char err[256];
	int ret;

	(void)state;
	ret =
	    vigil_config_parse(matc, strlen(matc), "/etc/vigil/vigil.yaml", &cfg, err, sizeof(err));
	assert_int_equal(ret, -EINVAL);
	assert_string_equal(err, "/etc/vigil/vigil.yaml:6:5: workloads[1]: unexpected key 'matc'");
	ret = vigil_config_parse(level, strlen(level), "vigil.yaml", &cfg, err, sizeof(err));
	assert_int_equal(ret, -EINVAL);
	assert_string_equal(err,
			    "vigil.yaml:9:16: workloads[0].heal[0].level: 4 is out of range 1..3");
}

/*
 * A rule's action is refused by its kind at load (ops->validate), through the same message as
 * every other error: the kind names the key under its own, the config finds it in the text —
 * here in block style, on a line of its own.
 */
static void test_action_validate_refusal(void **state)
{
	static const char yaml[] = "workloads:\n"
				   "  - name: api\n"
				   "    match: { comm: api }\n"
				   "    heal:\n"
				   "      - on: [hang]\n"
				   "        level: 1\n"
				   "        action:\n"
				   "          restart:\n"
				   "            exec:\n"
				   "              - api\n"
				   "              - --port\n";
	const struct vigil_action_ops *ops = vigil_action_find("restart");
	char *argv[] = {"usr/bin/api", "-v", NULL};
	struct vigil_restart_params p = {.mode = VIGIL_RESTART_EXEC, .argv = argv, .argc = 2};
	struct vigil_action a = {ops, &p};
	struct vigil_config *cfg;
	const char *key = NULL;
	char err[256], why[128];

	(void)state;
	assert_int_equal(vigil_config_parse(yaml, strlen(yaml), "api.yaml", &cfg, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "api.yaml:10:17: workloads[0].heal[0].action.restart.exec[0]: "
				 "'api' must be an absolute path (start with /)");
	/* The kind itself: its name in the table, what it refuses and says, what it describes. */
	assert_non_null(ops);
	assert_string_equal(ops->kind, "restart");
	assert_ptr_equal(vigil_action_kind_at(0), ops);
	assert_ptr_equal(vigil_action_find("cache_clear"), &vigil_cache_clear_ops);
	assert_ptr_equal(vigil_action_find("set_flag"), &vigil_set_flag_ops);
	assert_ptr_equal(vigil_action_find("publish"), &vigil_publish_ops);
	assert_ptr_equal(vigil_action_find("http"), &vigil_http_ops);
	assert_ptr_equal(vigil_action_find("rollback"), &vigil_rollback_ops);
	assert_null(vigil_action_kind_at(6));
	assert_null(vigil_action_find("retry"));
	assert_null(vigil_action_find(NULL));
	assert_int_equal(ops->validate(&a, NULL, &key, why, sizeof(why)), -EINVAL);
	assert_string_equal(key, "exec[0]");
	assert_string_equal(why, "'usr/bin/api' must be an absolute path (start with /)");
	p.argc = VIGIL_RESTART_MAX_ARGV + 1;
	assert_int_equal(ops->validate(&a, NULL, &key, why, sizeof(why)), -EINVAL);
	assert_string_equal(key, "exec");
	assert_string_equal(why, "has 33 entries, at most 32 are allowed");
	argv[0] = "/usr/bin/api";
	p.argc = 2;
	assert_int_equal(ops->validate(&a, NULL, &key, why, sizeof(why)), 0);
	ops->describe(&a, why, sizeof(why));
	assert_string_equal(why, "/usr/bin/api -v");
}

/* http and rollback as they load: their params, defaults, intent and touches — never the token. */
static void test_http_rollback_ok(void **state)
{
	char tok[] = "/tmp/vigil-test-token-XXXXXX", yaml[1024], buf[512];
	const struct vigil_http_params *hp;
	const struct vigil_rollback_params *rp;
	const struct vigil_heal_rule *h;
	struct vigil_config *cfg;
	int fd = mkstemp(tok);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "sekrit-token\n", 13), 13);
	close(fd);
	snprintf(yaml, sizeof(yaml),
		 W "    heal:\n"
		   "      - { name: drain, on: [crash], level: 1, action: { http: { url: "
		   "'https://127.0.0.1:8443/admin/drain', body: '{\"mode\": \"safe\"}', "
		   "bearer_token_file: %s } } }\n"
		   "      - { on: [crash_loop], level: 3, action: { rollback: { command: "
		   "[/bin/true, undo], env: [A=1], timeout: 90s } } }\n" POLICY,
		 tok);
	cfg = parse_ok(yaml);
	h = &cfg->workloads[0].heal[0];
	assert_ptr_equal(h->action.ops, &vigil_http_ops);
	hp = h->action.params;
	assert_string_equal(hp->url, "https://127.0.0.1:8443/admin/drain");
	assert_string_equal(hp->method, "POST");
	assert_string_equal(hp->body, "{\"mode\": \"safe\"}");
	assert_string_equal(hp->token_file, tok);
	assert_int_equal(hp->timeout_ms, VIGIL_HTTP_TIMEOUT_MS);
	h->action.ops->describe(&h->action, buf, sizeof(buf));
	assert_null(strstr(buf, "sekrit"));
	assert_non_null(strstr(buf, "POST https://127.0.0.1:8443/admin/drain with a 16-byte body"));
	buf[0] = '\0';
	assert_int_equal(h->action.ops->touches(&h->action, collect_touch, buf), 0);
	assert_string_equal(buf, "5 url https://127.0.0.1:8443/admin/drain\n");
	h = &cfg->workloads[0].heal[1];
	assert_ptr_equal(h->action.ops, &vigil_rollback_ops);
	assert_string_equal(h->name, "rollback");
	rp = h->action.params;
	assert_int_equal(rp->argc, 2);
	assert_string_equal(rp->argv[1], "undo");
	assert_null(rp->argv[2]);
	assert_string_equal(rp->envp[0], "A=1");
	assert_int_equal(rp->timeout_ms, 90000);
	h->action.ops->describe(&h->action, buf, sizeof(buf));
	assert_string_equal(buf, "/bin/true undo (must exit 0 within 90000 ms)");
	buf[0] = '\0';
	assert_int_equal(h->action.ops->touches(&h->action, collect_touch, buf), 0);
	assert_string_equal(buf, "0 command[0] /bin/true\n");
	vigil_config_free(cfg);
	/* Open to the group: refused, as at any load. */
	assert_int_equal(chmod(tok, 0640), 0);
	assert_true(is_refused(yaml,
			       "t.yaml:5:153: workloads[0].heal[0].action.http.bearer_token_file: ",
			       "is open to group or others (mode 0640)"));
	unlink(tok);
}

static void test_too_many_workloads(void **state)
{
	char *yaml = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&yaml, &size);

	(void)state;
	assert_non_null(f);
	fputs("workloads:\n", f);
	for (int i = 0; i <= VIGIL_MAX_WORKLOADS; i++)
		fprintf(f, "  - { name: w%d, match: { comm: w } }\n", i);
	assert_int_equal(fclose(f), 0);
	expect_error(yaml, "t.yaml:2:3: workloads: ", "65 workloads, at most 64 are allowed");
	free(yaml);
}

/* The message is cut to the buffer, always NUL-terminated; no buffer at all is fine too. */
static void test_err_buffer(void **state)
{
	static const char yaml[] = "observe: true\n";
	struct vigil_config *cfg;
	char err[12];

	(void)state;
	memset(err, 'x', sizeof(err));
	assert_int_equal(vigil_config_parse(yaml, strlen(yaml), "t.yaml", &cfg, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "t.yaml:1:1:");
	assert_int_equal(vigil_config_parse(yaml, strlen(yaml), "t.yaml", &cfg, NULL, 0), -EINVAL);
	assert_null(cfg);
	assert_int_equal(vigil_config_parse(yaml, strlen(yaml), "t.yaml", NULL, err, sizeof(err)),
			 -EINVAL);
}

/* Only the first len bytes are read: the text need not be NUL-terminated. */
static void test_length_bounds_text(void **state)
{
	static const char yaml[] = "observe_all: true\nbogus: 1\n";
	struct vigil_config *cfg;
	char err[128];

	(void)state;
	assert_int_equal(vigil_config_parse(yaml, 18, "t.yaml", &cfg, err, sizeof(err)), 0);
	assert_true(cfg->observe_all);
	vigil_config_free(cfg);
}

static void test_duration(void **state)
{
	static const struct {
		const char *s;
		int ret;
		uint64_t ms;
	} cases[] = {
	    {"250ms", 0, 250},
	    {"30s", 0, 30000},
	    {"5m", 0, 300000},
	    {"2h", 0, 7200000},
	    {"45", 0, 45000},
	    {"0", 0, 0},
	    {"0ms", 0, 0},
	    {"007s", 0, 7000},
	    {"18446744073709551615ms", 0, UINT64_MAX},
	    {"18446744073709551616ms", -EINVAL, 0}, /* overflows while reading */
	    {"18446744073709552s", -EINVAL, 0},	    /* overflows in the unit */
	    {"", -EINVAL, 0},
	    {"ms", -EINVAL, 0},
	    {"s", -EINVAL, 0},
	    {"-5s", -EINVAL, 0},
	    {"+5s", -EINVAL, 0},
	    {" 5s", -EINVAL, 0},
	    {"5s ", -EINVAL, 0},
	    {"5 s", -EINVAL, 0},
	    {"1.5s", -EINVAL, 0},
	    {"5S", -EINVAL, 0},
	    {"5sec", -EINVAL, 0},
	    {"1d", -EINVAL, 0},
	    {"5us", -EINVAL, 0},
	    {"1m30s", -EINVAL, 0},
	    {"0x10", -EINVAL, 0},
	};
	uint64_t ms;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ms = 12345;
		if (vigil_parse_duration(cases[i].s, &ms) != cases[i].ret)
			fail_msg("\"%s\": wanted %d", cases[i].s, cases[i].ret);
		if (!cases[i].ret && ms != cases[i].ms)
			fail_msg("\"%s\": %" PRIu64 " ms, wanted %" PRIu64, cases[i].s, ms,
				 cases[i].ms);
		if (cases[i].ret)
			assert_int_equal(ms, 12345); /* untouched on failure */
	}
	assert_int_equal(vigil_parse_duration(NULL, &ms), -EINVAL);
}

static void test_class_names(void **state)
{
	static const char *const names[] = {
	    "crash",	    "oom_kill",	    "exit_nonzero",	"crash_loop",
	    "conn_refused", "conn_timeout", "conn_unreachable", "conn_reset",
	    "retransmits",  "syscall_slow", "latency_slo",	"hang",
	    "alert",
	};

	(void)state;
	assert_int_equal(sizeof(names) / sizeof(names[0]), VIGIL_CLASS_MAX - 1);
	for (int c = VIGIL_CLASS_NONE + 1; c < VIGIL_CLASS_MAX; c++) {
		assert_non_null(vigil_class_name(c));
		assert_string_equal(vigil_class_name(c), names[c - 1]);
		assert_int_equal(vigil_class_parse(names[c - 1]), c);
	}
	assert_string_equal(vigil_class_name(VIGIL_CLASS_NONE), "none");
	assert_null(vigil_class_name(VIGIL_CLASS_MAX));
	assert_null(vigil_class_name((enum vigil_class) - 1));
	assert_int_equal(vigil_class_parse("none"), VIGIL_CLASS_NONE);
	assert_int_equal(vigil_class_parse("Crash"), VIGIL_CLASS_NONE);
	assert_int_equal(vigil_class_parse("crash "), VIGIL_CLASS_NONE);
	assert_int_equal(vigil_class_parse(""), VIGIL_CLASS_NONE);
	assert_int_equal(vigil_class_parse(NULL), VIGIL_CLASS_NONE);
}

/*
 * Makes each allocation of a parse fail in turn, until a parse meets no failure. Each parse must
 * then give -ENOMEM and no config (or, for a text that is refused anyway, -EINVAL), and leave
 * the heap as it found it. Under valgrind its own allocator takes the place of the functions
 * above, so nothing can be made to fail: the sweep says so and stops (tests/lib/failalloc.c).
 */
static void alloc_sweep(const char *yaml, int refused)
{
	struct vigil_config *cfg;
	long in_use;
	char err[512];
	long n;
	int ret;

	for (n = 0;; n++) {
		in_use = failalloc_live();
		failalloc_at(n);
		ret = vigil_config_parse(yaml, strlen(yaml), "t.yaml", &cfg, err, sizeof(err));
		failalloc_at(-1);
		if (!failalloc_failed())
			break;
		if (ret != -ENOMEM && ret != refused)
			fail_msg("allocation %ld failing: %d \"%s\"", n, ret, err);
		assert_null(cfg);
		if (ret == -ENOMEM)
			assert_string_equal(err, "t.yaml: out of memory");
		if (failalloc_live() != in_use)
			fail_msg("allocation %ld failing: %ld blocks leaked", n,
				 failalloc_live() - in_use);
	}
	assert_int_equal(ret, refused);
	vigil_config_free(cfg);
	if (!n)
		print_message("allocation failures cannot be injected here (valgrind?)\n");
}

static void test_alloc_failure(void **state)
{
	(void)state;
	alloc_sweep(vigil_default_config, 0);
	assert_int_equal(setenv("NODE_NAME", "n", 1), 0);
	alloc_sweep(design_example, 0);
	unsetenv("NODE_NAME");
	alloc_sweep("workloads:\n  - name: a\n    matc: { comm: a }\n", -EINVAL);
	alloc_sweep(RULE("[crash]", "1", "{ restart: { exec: [] } }"), -EINVAL);
	alloc_sweep(
	    RULE("[hang]", "1", "{ restart: { command: [/bin/true, b], env: [A=1, B=2] } }"), 0);
	alloc_sweep(RULE("[hang]", "1", "{ restart: { signal: TERM, env: [A=1] } }"), -EINVAL);
	alloc_sweep(RRULE(CC("match: 'app:c:*', max_keys: 5")), 0);
	alloc_sweep(RRULE(SF("key: 'app:f', value: on, ttl: 1m, revert_after: 5s")), 0);
	alloc_sweep(RRULE(PB("fields: [a=1, b=2], ack_timeout: 2s, group: g")), 0);
	alloc_sweep(RRULE(PB("fields: [a=1, incident=2]")), -EINVAL);
	/* Refused by the libyaml walk before libcyaml runs: with any allocation failing, each walk
	 * must still end (not spin in yaml_parser_parse()) and free what it took. */
	alloc_sweep("node: a\nredis: { url: x\n", -EINVAL);
	alloc_sweep("workloads:\n  - &w { name: a, match: { comm: a } }\n  - *w\n", -EINVAL);
	alloc_sweep("node: a\n---\nnode: b\n", -EINVAL);
	alloc_sweep("node: [[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]\n", -EINVAL);
	/* libyaml 0.2.5 fails an allocation for a tag ("!a", "!<...>") without setting
	 * parser.error: that is out of memory too, not "1:1: syntax error: " with no reason. */
	alloc_sweep("node: !a n\njournal: !<tag:x> /j\n", 0);
}

static void test_free_null(void **state)
{
	(void)state;
	vigil_config_free(NULL);
}

/* Writes @len bytes of @data to a new temporary file; its path goes in @path. */
static void write_temp(char *path, const char *data, size_t len)
{
	int fd;

	strcpy(path, "/tmp/vigil-test-config-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, data + off, len - off);

		assert_true(n > 0);
		off += (size_t)n;
	}
	assert_int_equal(close(fd), 0);
}

static void test_load(void **state)
{
	struct vigil_config *cfg = NULL;
	char path[64], err[512], want[128];
	char *big;

	(void)state;
	write_temp(path, design_example, strlen(design_example));
	assert_int_equal(setenv("NODE_NAME", "from-file", 1), 0);
	assert_int_equal(vigil_config_load(path, &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg->source, path);
	assert_string_equal(cfg->node, "from-file");
	assert_int_equal(cfg->n_workloads, 1);
	vigil_config_free(cfg);
	unsetenv("NODE_NAME");
	unlink(path);

	/* Content errors name the path as the file. */
	write_temp(path, "node: a\nmatc: 1\n", 16);
	assert_int_equal(vigil_config_load(path, &cfg, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:2:1: unexpected key 'matc'", path);
	assert_string_equal(err, want);
	unlink(path);

	/* Unreadable: -errno, and the path with strerror. */
	assert_int_equal(vigil_config_load("/nonexistent/vigil.yaml", &cfg, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/vigil.yaml"));
	assert_non_null(strstr(err, strerror(ENOENT)));
	assert_int_equal(vigil_config_load("/tmp", &cfg, err, sizeof(err)), -EISDIR);
	assert_non_null(strstr(err, "/tmp"));
	assert_non_null(strstr(err, strerror(EISDIR)));

	/* 1 MiB of comments is read; one byte more is refused. */
	big = malloc((1 << 20) + 1);
	assert_non_null(big);
	memset(big, '#', (1 << 20) + 1);
	big[0] = '\n';
	write_temp(path, big, 1 << 20);
	assert_int_equal(vigil_config_load(path, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg->n_workloads, 0);
	vigil_config_free(cfg);
	unlink(path);
	write_temp(path, big, (1 << 20) + 1);
	assert_int_equal(vigil_config_load(path, &cfg, err, sizeof(err)), -EFBIG);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "1 MiB"));
	unlink(path);
	free(big);
}

/* alerts: the endpoint's token file and remote peers; a workload's match_labels; a rule's
 * alert: NAME. */
static void test_alerts_config(void **state)
{
	static const char head[] = "metrics: { listen: '127.0.0.1:9851' }\n";
	static const char wl[] = "workloads:\n"
				 "  - name: api\n"
				 "    match: { exe: /usr/bin/api }\n"
				 "    alerts: { match_labels: ['team=voice', 'service=tts=2'] }\n"
				 "    policy: { redis_keys: ['app:*'] }\n"
				 "    heal:\n"
				 "      - on: [alert]\n"
				 "        alert: ModelApiErrors\n"
				 "        level: 1\n"
				 "        action: { set_flag: { redis: 'redis://127.0.0.1:6379/0',"
				 " key: 'app:flag', value: backup } }\n";
	struct vigil_config *cfg;
	char yaml[2048];

	(void)state;
	snprintf(yaml, sizeof(yaml),
		 "%salerts: { token_file: /etc/vigil/alerts.token, "
		 "allow_remote: true }\n%s",
		 head, wl);
	cfg = parse_ok(yaml);
	assert_string_equal(cfg->alerts_token_file, "/etc/vigil/alerts.token");
	assert_true(cfg->alerts_allow_remote);
	assert_int_equal(cfg->workloads[0].n_alert_labels, 2);
	assert_string_equal(cfg->workloads[0].alert_labels[1], "service=tts=2");
	assert_string_equal(cfg->workloads[0].heal[0].alert, "ModelApiErrors");
	assert_int_equal(cfg->workloads[0].heal[0].on_mask, 1u << VIGIL_CLASS_ALERT);
	vigil_config_free(cfg);
	/* Defaults: no token, loopback only. */
	cfg = parse_ok(head);
	assert_null(cfg->alerts_token_file);
	assert_false(cfg->alerts_allow_remote);
	vigil_config_free(cfg);

	expect_error("metrics: { listen: '127.0.0.1:1' }\nalerts: { allow_remote: true }\n",
		     "t.yaml:", "needs alerts.token_file");
	expect_error("alerts: { token_file: /t }\n", "t.yaml:", "needs metrics.listen");
	expect_error("metrics: { listen: '127.0.0.1:1' }\nalerts: { token_file: t }\n",
		     "t.yaml:", "must be an absolute path");
	expect_error("metrics: { listen: '127.0.0.1:1' }\nalerts: { allow_remote: maybe }\n",
		     "t.yaml:", "alerts.allow_remote");
	expect_error("workloads:\n  - name: a\n    match: { exe: /a }\n"
		     "    alerts: { match_labels: ['team'] }\n",
		     "t.yaml:", "is not name=value");
	expect_error("workloads:\n  - name: a\n    match: { exe: /a }\n"
		     "    alerts: { match_labels: ['1x=a'] }\n",
		     "t.yaml:", "is not name=value");
	expect_error("workloads:\n  - name: a\n    match: { exe: /a }\n"
		     "    alerts: { match_labels: [] }\n",
		     "t.yaml:", "match_labels");
	expect_error("workloads:\n  - name: a\n    match: { exe: /a }\n"
		     "    heal:\n      - on: [crash]\n        alert: X\n        level: 1\n"
		     "        action: { restart: { signal: TERM } }\n",
		     "t.yaml:", "needs alert in on:");
	expect_error("workloads:\n  - name: a\n    match: { exe: /a }\n"
		     "    heal:\n      - on: [alert]\n        alert: "
		     "A234567890123456789012345678901234567890123456789012345678901234\n"
		     "        level: 1\n        action: { restart: { signal: TERM } }\n",
		     "t.yaml:", "must be 1 to 63 bytes");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_config),
	    cmocka_unit_test(test_empty_file),
	    cmocka_unit_test(test_design_example),
	    cmocka_unit_test(test_explicit_values_and_defaults),
	    cmocka_unit_test(test_node_env),
	    cmocka_unit_test(test_restart_modes),
	    cmocka_unit_test(test_bad_inputs),
	    cmocka_unit_test(test_policy_refusals),
	    cmocka_unit_test(test_redis_glob_inside),
	    cmocka_unit_test(test_redis_bad_inputs),
	    cmocka_unit_test(test_otlp),
	    cmocka_unit_test(test_redis_kinds),
	    cmocka_unit_test(test_http_rollback_ok),
	    cmocka_unit_test(test_exact_messages),
	    cmocka_unit_test(test_action_validate_refusal),
	    cmocka_unit_test(test_too_many_workloads),
	    cmocka_unit_test(test_err_buffer),
	    cmocka_unit_test(test_length_bounds_text),
	    cmocka_unit_test(test_duration),
	    cmocka_unit_test(test_class_names),
	    cmocka_unit_test(test_alerts_config),
	    cmocka_unit_test(test_alloc_failure),
	    cmocka_unit_test(test_free_null),
	    cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
