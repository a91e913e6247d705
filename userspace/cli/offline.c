// SPDX-License-Identifier: Apache-2.0
/*
 * offline: the commands that read files and the host rather than ask the daemon — check,
 * doctor, knowledge, export, report (see commands.h for their exit statuses).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "config/config.h"
#include "core/classes.h"
#include "core/text.h"
#include "heal/action.h"
#include "cli/doctor.h"
#include "output/export.h"
#include "output/journal.h"
#include "output/otlp.h"
#include "output/postgres.h"
#include "control/history.h"
#include "heal/knowledge.h"
#include "control/know_render.h"
#include "control/report.h"
#include "core/clock.h"
#include "output/records.h"
#include "output/redis.h"

/* The config a client command reads (-c FILE, or the embedded default: the paths it names
 * are the defaults). Returns 0 and *cfg, or -errno after saying why on stderr. */
static int client_config(const char *cmd, const char *path, struct vigil_config **cfg)
{
	char err[512];
	int ret;

	if (path)
		ret = vigil_config_load(path, cfg, err, sizeof(err));
	else
		ret = vigil_config_parse(vigil_default_config, strlen(vigil_default_config),
					 "<embedded>", cfg, err, sizeof(err));
	if (ret)
		fprintf(stderr, "vigil %s: %s\n", cmd, err);
	return ret;
}

/* vigil doctor [--config FILE]: the host, then what the config names (Redis, directories). */
int vigil_cmd_doctor(int argc, char **argv)
{
	struct vigil_config *cfg = NULL;
	const char *path = NULL;
	int ret;

	if (argc == 3 && (!strcmp(argv[1], "-c") || !strcmp(argv[1], "--config"))) {
		path = argv[2];
	} else if (argc != 1) {
		fputs("usage: vigil doctor [--config FILE]\n", stderr);
		return 2;
	}
	if (client_config("doctor", path, &cfg))
		return 1;
	ret = vigil_doctor(stdout, cfg);
	vigil_config_free(cfg);
	return ret ? 1 : 0;
}

/*
 * `vigil knowledge [-c CONFIG] [--json]`: the knowledge store the config names (the embedded
 * default's when no -c), read-only, as a table or a JSON array. Exit status: 0 (a missing or
 * empty store prints "no knowledge yet", or [] with --json); 1 when the config or the store
 * cannot be read or is malformed; 2 for a usage error.
 */
int vigil_cmd_knowledge(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'J'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	static const char kusage[] = "usage: vigil knowledge [-c CONFIG] [--json]\n";
	struct vigil_knowledge *k = NULL;
	struct vigil_config *cfg = NULL;
	const char *config = NULL;
	bool json = false;
	char msg[4608];
	int c, ret = 1;

	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'J':
			json = true;
			break;
		case 'h':
			fputs(kusage, stdout);
			return 0;
		default:
			fputs(kusage, stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vigil knowledge: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (client_config("knowledge", config, &cfg))
		return 1;
	if (vigil_knowledge_open(cfg->knowledge, 0, VIGIL_KNOW_READONLY, &k, msg, sizeof(msg))) {
		fprintf(stderr, "vigil knowledge: %s\n", msg);
		goto cleanup;
	}
	ret = 0;
	if (!json && !vigil_knowledge_count(k))
		printf("no knowledge yet (%s)\n", cfg->knowledge);
	else if (vigil_knowledge_print(k, json, stdout)) {
		fprintf(stderr, "vigil knowledge: %s\n", strerror(ENOMEM));
		ret = 1;
	}
	if (fflush(stdout) || ferror(stdout))
		ret = 1;
cleanup:
	vigil_knowledge_close(k);
	vigil_config_free(cfg);
	return ret;
}

/* s, terminal-safe (core/text.h), in one of four buffers that take turns: a config's strings
 * (a path, a command, a name) go to the terminal through it, up to four in one printf. */
static const char *safe(const char *s)
{
	static char buf[4][1024];
	static unsigned int next;

	return vigil_term_safe(s, buf[next++ % 4], sizeof(buf[0]));
}

/* One thing a rule may touch, as `vigil check` says it (a Redis URL without its password). */
static int print_touch(enum vigil_touch_type type, const char *key, const char *value, void *arg)
{
	static const char *const what[] = {
	    [VIGIL_TOUCH_EXEC] = "runs",
	    [VIGIL_TOUCH_SIGNAL] = "signals the incident's process with",
	    [VIGIL_TOUCH_REDIS] = "connects to Redis",
	    [VIGIL_TOUCH_REDIS_KEY] = "reads and writes the key",
	    [VIGIL_TOUCH_REDIS_MATCH] = "deletes the keys matching",
	    [VIGIL_TOUCH_URL] = "calls",
	};
	char url[256];

	(void)key;
	(void)arg;
	if (type == VIGIL_TOUCH_REDIS)
		value = vigil_redis_url_safe(value, url, sizeof(url));
	printf("        %s %s\n", what[type], safe(value));
	return 0;
}

static void print_list(const char *name, char *const *v, unsigned int n)
{
	printf("      %s:", name);
	for (unsigned int i = 0; i < n; i++)
		printf("%s%s", i ? ", " : " ", safe(v[i]));
	printf("%s\n", n ? "" : " (none)");
}

/* Per workload: each rule's classes, level and action, what the action may touch, and the
 * policy that holds them. */
static void check_workload(const struct vigil_workload *w)
{
	char desc[512];

	printf("  %s: %u heal rules%s\n", safe(w->name), w->n_heal,
	       w->supervisor_external ? "; supervisor: external" : "");
	if (vigil_workload_comm_only(w))
		printf(
		    "    warning: matched by comm alone: any user can name a process '%s' and be "
		    "taken for this workload%s\n",
		    w->match.comm,
		    w->n_heal ? " (its rules run: policy.allow_comm_only is true)" : "");
	for (unsigned int k = 0; k < w->n_heal; k++) {
		const struct vigil_heal_rule *r = &w->heal[k];
		const struct vigil_action_ops *ops = r->action.ops;
		unsigned int n = 0;

		printf("    %s: level %u", safe(r->name), r->level);
		if (r->level == 2)
			printf(" (after %llu ms)", (unsigned long long)r->delay_ms);
		if (r->level == 3)
			printf(" (a person approves)");
		printf(", on");
		for (unsigned int c = 0; c < 32; c++)
			if (r->on_mask & (1u << c))
				printf("%s%s", n++ ? ", " : " ", vigil_class_name(c));
		if (r->retry_attempts > 1)
			printf("; %u attempts, retried after %llu ms doubling to %llu ms",
			       r->retry_attempts, (unsigned long long)r->retry_backoff_ms,
			       (unsigned long long)r->retry_max_ms);
		ops->describe(&r->action, desc, sizeof(desc));
		printf("\n      %s: %s\n", ops->kind, safe(desc));
		if (ops->touches)
			ops->touches(&r->action, print_touch, NULL);
	}
	printf("    policy:\n");
	print_list("allowed_exec", w->policy.allowed_exec, w->policy.n_allowed_exec);
	print_list("redis_keys", w->policy.redis_keys, w->policy.n_redis_keys);
	printf("      forbidden:");
	for (unsigned int i = 0; vigil_forbidden_names[i]; i++)
		printf("%s%s", i ? ", " : " ", vigil_forbidden_names[i]);
	for (unsigned int i = 0; i < w->policy.n_forbidden; i++)
		printf(", %s", safe(w->policy.forbidden[i]));
	printf("\n");
}

int vigil_cmd_check(int argc, char **argv)
{
	struct vigil_config *cfg;
	char err[512], url[256];

	if (argc != 2) {
		fputs("usage: vigil check FILE\n", stderr);
		return 2;
	}
	if (vigil_config_load(argv[1], &cfg, err, sizeof(err))) {
		fprintf(stderr, "vigil: %s\n", safe(err));
		return 1;
	}
	printf("%s: ok: node %s, %u workloads, observe_all %s, journal %s\n", safe(cfg->source),
	       safe(cfg->node), cfg->n_workloads, cfg->observe_all ? "on" : "off",
	       safe(cfg->journal));
	if (cfg->journal_max_mb)
		printf("  journal rotated past %llu MiB, %u rotated files kept",
		       (unsigned long long)cfg->journal_max_mb, cfg->journal_keep);
	else
		printf("  journal never rotated by vigil (SIGHUP reopens it)");
	printf(", fsync %s\n", vigil_journal_fsync_name(cfg->journal_fsync));
	printf("  knowledge store %s\n", safe(cfg->knowledge));
	printf("  healer state %s\n", safe(cfg->state));
	if (cfg->redis_url)
		printf(
		    "  redis %s as %s:%s:*, spool %s (at most %llu MiB), streams capped at ~%llu\n",
		    safe(vigil_redis_url_safe(cfg->redis_url, url, sizeof(url))), cfg->redis_prefix,
		    safe(cfg->node), safe(cfg->redis_spool),
		    (unsigned long long)cfg->redis_spool_max_mb,
		    (unsigned long long)cfg->redis_maxlen);
	else
		printf("  redis off\n");
	if (cfg->pg_url)
		printf("  postgres %s, password %s, spool %s (at most %llu MiB)\n",
		       safe(vigil_pg_url_safe(cfg->pg_url, url, sizeof(url))),
		       cfg->pg_password	       ? "set"
		       : cfg->pg_password_file ? safe(cfg->pg_password_file)
					       : "from the URL or PGPASSWORD",
		       safe(cfg->pg_spool), (unsigned long long)cfg->pg_spool_max_mb);
	else
		printf("  postgres off\n");
	if (cfg->otlp_endpoint) {
		/* Header names only: their values are often tokens. */
		printf("  otlp %s, timeout %llu ms, spool %s (at most %llu MiB), headers:",
		       safe(vigil_otlp_url(cfg->otlp_endpoint, url, sizeof(url))),
		       (unsigned long long)cfg->otlp_timeout_ms, safe(cfg->otlp_spool),
		       (unsigned long long)cfg->otlp_spool_max_mb);
		for (unsigned int i = 0; i < cfg->otlp_n_headers; i++) {
			const char *h = safe(cfg->otlp_headers[i]);

			printf(" %.*s", (int)strcspn(h, ":"), h);
		}
		printf("%s\n", cfg->otlp_n_headers ? "" : " none");
	} else {
		printf("  otlp off\n");
	}
	if (cfg->k8s == VIGIL_K8S_OFF)
		printf("  k8s off\n");
	else
		printf("  k8s %s: pods named from containerd %s, CRI-O %s%s\n",
		       cfg->k8s == VIGIL_K8S_ON ? "on" : "auto (when this node runs pods)",
		       safe(cfg->k8s_containerd), safe(cfg->k8s_crio),
		       cfg->k8s_proc_fallback ? ", or the process's own files" : "");
	for (unsigned int i = 0; i < cfg->n_workloads; i++)
		check_workload(&cfg->workloads[i]);
	vigil_config_free(cfg);
	return 0;
}

/* The files to export: those named by --journal, in their order; else the journal (the
 * config's, or the default) with its rotated files, oldest first. Returns how many are in
 * *paths (vigil_journal_files_free), or -ENOMEM. */
static int export_files(char *const *named, int n_named, const char *journal, char ***paths)
{
	char **v;

	if (!n_named)
		return vigil_journal_files(journal, VIGIL_JOURNAL_KEEP_MAX, paths);
	v = calloc((size_t)n_named, sizeof(*v));
	for (int i = 0; v && i < n_named; i++) {
		v[i] = strdup(named[i]);
		if (!v[i]) {
			vigil_journal_files_free(v, i);
			v = NULL;
		}
	}
	*paths = v;
	return v ? n_named : -ENOMEM;
}

/*
 * `vigil export --sql [-c CONFIG] [--journal FILE]... [--knowledge FILE]`: the journal as SQL
 * on stdout, a summary on stderr (so that stdout stays a clean script for psql). The journal
 * defaults to the config's (the embedded one's without -c) with its rotated files (PATH.N ..
 * PATH.1, then PATH); each --journal names one file, read in the order given (oldest first).
 * The knowledge store defaults to the config's and is taken when it exists. Exit status: 0; 1
 * when the config, a journal or the store cannot be read (or the store is malformed) or
 * stdout written; 2 for a usage error.
 */
int vigil_cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"sql", no_argument, NULL, 's'},	       {"config", required_argument, NULL, 'c'},
	    {"journal", required_argument, NULL, 'j'}, {"knowledge", required_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'},	       {},
	};
	static const char eusage[] = "usage: vigil export --sql [-c CONFIG] [--journal FILE]... "
				     "[--knowledge FILE]\n";
	const char *config = NULL, *knowledge = NULL, *journal;
	char **named = calloc((size_t)argc, sizeof(char *)), **paths = NULL;
	FILE **f = NULL;
	struct vigil_knowledge *store = NULL;
	struct vigil_config *cfg = NULL;
	struct vigil_export_stats st;
	int c, err, n_named = 0, n = 0, nf = 0, ret = 1;
	char msg[4608];
	bool sql = false;

	if (!named) {
		fprintf(stderr, "vigil export: %s\n", strerror(ENOMEM));
		return 1;
	}
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			sql = true;
			break;
		case 'c':
			config = optarg;
			break;
		case 'j':
			named[n_named++] = optarg;
			break;
		case 'k':
			knowledge = optarg;
			break;
		case 'h':
			fputs(eusage, stdout);
			free(named);
			return 0;
		default:
			fputs(eusage, stderr);
			free(named);
			return 2;
		}
	}
	for (int i = 0; i < n_named; i++)
		sql = sql && named[i][0];
	if (!sql || optind != argc) {
		fputs(eusage, stderr);
		free(named);
		return 2;
	}
	if (client_config("export", config, &cfg))
		goto cleanup;
	/* Without -c, the journal's default stays the one the other commands read. */
	journal = config ? cfg->journal : VIGIL_HISTORY_JOURNAL;
	if (!knowledge)
		knowledge = cfg->knowledge;
	err = vigil_knowledge_open(knowledge, 0, VIGIL_KNOW_READONLY, &store, msg, sizeof(msg));
	if ((err == -EACCES || err == -EPERM) && !config && knowledge == cfg->knowledge) {
		/* The host's store, not asked for by name: a user exporting a copy of a journal
		 * may not read it. Say so, and go on without it. */
		fprintf(stderr, "vigil export: %s: going on without it (--knowledge '' for none)\n",
			msg);
		knowledge = "";
		err = vigil_knowledge_open(NULL, 0, VIGIL_KNOW_READONLY, &store, msg, sizeof(msg));
	}
	if (err) {
		fprintf(stderr, "vigil export: %s\n", msg);
		goto cleanup;
	}
	n = export_files(named, n_named, journal, &paths);
	f = n > 0 ? calloc((size_t)n, sizeof(*f)) : NULL;
	if (!f) {
		fprintf(stderr, "vigil export: %s\n", strerror(ENOMEM));
		goto cleanup;
	}
	for (int i = 0; i < n; i++) {
		f[nf] = fopen(paths[i], "r");
		if (f[nf]) {
			nf++;
			continue;
		}
		/* A rotated file the daemon removed since it was listed is no error. */
		if (errno == ENOENT && !n_named && i < n - 1)
			continue;
		fprintf(stderr, "vigil export: %s: %s\n", paths[i], strerror(errno));
		goto cleanup;
	}
	err = vigil_export_sql(f, (unsigned int)nf, store, cfg->node, stdout, &st);
	if (err) {
		fprintf(stderr, "vigil export: %s\n", strerror(-err));
		goto cleanup;
	}
	fprintf(stderr,
		"vigil export: %s%s: %lu lines, %lu incidents, %lu actions, %lu knowledge rows; "
		"%lu lines not JSON and %lu records incomplete, skipped; %lu torn lines (the "
		"record after the tear read); %lu NUL and %lu invalid UTF-8 written as U+FFFD; "
		"%lu knowledge records; knowledge store %s: %lu entries\n",
		paths[n - 1], n > 1 ? " (and the files before it)" : "", st.lines, st.incidents,
		st.actions, st.knowledge, st.bad_lines, st.skipped, st.torn, st.nul_replaced,
		st.bad_utf8, st.knowledge_records, knowledge[0] ? knowledge : "(none)",
		st.store_entries);
	ret = 0;
cleanup:
	while (nf > 0)
		fclose(f[--nf]);
	free(f);
	if (n > 0)
		vigil_journal_files_free(paths, n);
	vigil_knowledge_close(store);
	vigil_config_free(cfg);
	free(named);
	return ret;
}

/*
 * `vigil report [-c CONFIG] [--journal FILE] [--since D] [--json]`: the success metrics of a
 * journal (control/report.h) for a person, or as one JSON object. The journal defaults as for
 * export. --since D ("2h", "30m", "90s"; a bare number is seconds) counts only the incidents
 * whose last record is that recent. Exit status: 0 (an empty journal says "no incidents", or
 * gives zeros with --json); 1 when the config or the journal cannot be read or stdout
 * written; 2 for a usage error.
 */
int vigil_cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'}, {"journal", required_argument, NULL, 'j'},
	    {"since", required_argument, NULL, 's'},  {"json", no_argument, NULL, 'J'},
	    {"help", no_argument, NULL, 'h'},	      {},
	};
	static const char rusage[] =
	    "usage: vigil report [-c CONFIG] [--journal FILE] [--since DURATION] [--json]\n";
	const char *journal = NULL, *config = NULL, *since = NULL;
	struct vigil_config *cfg = NULL;
	struct vigil_json out = {};
	struct vigil_report r = {};
	char cutoff[32];
	uint64_t ms = 0, now;
	bool json = false;
	int c, err, ret = 1;
	FILE *f;

	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'j':
			journal = optarg;
			break;
		case 's':
			since = optarg;
			break;
		case 'J':
			json = true;
			break;
		case 'h':
			fputs(rusage, stdout);
			return 0;
		default:
			fputs(rusage, stderr);
			return 2;
		}
	}
	if (optind != argc || (journal && !journal[0])) {
		fputs(rusage, stderr);
		return 2;
	}
	now = vigil_wall_ns();
	if (since && (vigil_parse_duration(since, &ms) || !ms || ms > now / 1000000)) {
		fprintf(stderr, "vigil report: --since '%s' is not a duration (like 30m, 2h)\n",
			since);
		return 2;
	}
	if (since)
		vigil_rfc3339(now - ms * 1000000, cutoff, sizeof(cutoff));
	if (client_config("report", config, &cfg))
		return 1;
	if (!journal)
		journal = config ? cfg->journal : VIGIL_HISTORY_JOURNAL;
	f = fopen(journal, "r");
	if (!f) {
		fprintf(stderr, "vigil report: %s: %s\n", journal, strerror(errno));
		goto cleanup;
	}
	err = vigil_report_read(f, since ? cutoff : NULL, &r);
	fclose(f);
	if (!err && json) {
		err = vigil_report_json(&r, journal, &out);
		if (!err)
			printf("%s\n", out.buf);
	} else if (!err) {
		err = vigil_report_print(&r, journal, stdout);
	}
	if (err) {
		fprintf(stderr, "vigil report: %s: %s\n", journal, strerror(-err));
		goto cleanup;
	}
	ret = fflush(stdout) || ferror(stdout) ? 1 : 0;
cleanup:
	vigil_json_free(&out);
	vigil_report_free(&r);
	vigil_config_free(cfg);
	return ret;
}
