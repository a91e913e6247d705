// SPDX-License-Identifier: Apache-2.0
/*
 * offline: the commands that read files and the host rather than ask the daemon — check,
 * doctor, knowledge, export (see commands.h for their exit statuses).
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
#include "heal/action.h"
#include "cli/doctor.h"
#include "output/export.h"
#include "output/postgres.h"
#include "control/history.h"
#include "heal/knowledge.h"
#include "control/know_render.h"
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
	char safe[256];

	(void)key;
	(void)arg;
	if (type == VIGIL_TOUCH_REDIS)
		value = vigil_redis_url_safe(value, safe, sizeof(safe));
	printf("        %s %s\n", what[type], value);
	return 0;
}

static void print_list(const char *name, char *const *v, unsigned int n)
{
	printf("      %s:", name);
	for (unsigned int i = 0; i < n; i++)
		printf("%s%s", i ? ", " : " ", v[i]);
	printf("%s\n", n ? "" : " (none)");
}

/* Per workload: each rule's classes, level and action, what the action may touch, and the
 * policy that holds them. */
static void check_workload(const struct vigil_workload *w)
{
	char desc[512];

	printf("  %s: %u heal rules%s\n", w->name, w->n_heal,
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

		printf("    %s: level %u", r->name, r->level);
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
		printf("\n      %s: %s\n", ops->kind, desc);
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
		printf(", %s", w->policy.forbidden[i]);
	printf("\n");
}

int vigil_cmd_check(int argc, char **argv)
{
	struct vigil_config *cfg;
	char err[512], safe[256];

	if (argc != 2) {
		fputs("usage: vigil check FILE\n", stderr);
		return 2;
	}
	if (vigil_config_load(argv[1], &cfg, err, sizeof(err))) {
		fprintf(stderr, "vigil: %s\n", err);
		return 1;
	}
	printf("%s: ok: node %s, %u workloads, observe_all %s, journal %s\n", cfg->source,
	       cfg->node, cfg->n_workloads, cfg->observe_all ? "on" : "off", cfg->journal);
	printf("  knowledge store %s\n", cfg->knowledge);
	printf("  healer state %s\n", cfg->state);
	if (cfg->redis_url)
		printf(
		    "  redis %s as %s:%s:*, spool %s (at most %llu MiB), streams capped at ~%llu\n",
		    vigil_redis_url_safe(cfg->redis_url, safe, sizeof(safe)), cfg->redis_prefix,
		    cfg->node, cfg->redis_spool, (unsigned long long)cfg->redis_spool_max_mb,
		    (unsigned long long)cfg->redis_maxlen);
	else
		printf("  redis off\n");
	if (cfg->pg_url)
		printf("  postgres %s, password %s, spool %s (at most %llu MiB)\n",
		       vigil_pg_url_safe(cfg->pg_url, safe, sizeof(safe)),
		       cfg->pg_password	       ? "set"
		       : cfg->pg_password_file ? cfg->pg_password_file
					       : "from the URL or PGPASSWORD",
		       cfg->pg_spool, (unsigned long long)cfg->pg_spool_max_mb);
	else
		printf("  postgres off\n");
	for (unsigned int i = 0; i < cfg->n_workloads; i++)
		check_workload(&cfg->workloads[i]);
	vigil_config_free(cfg);
	return 0;
}

/*
 * `vigil export --sql [-c CONFIG] [--journal FILE] [--knowledge FILE]`: the journal as SQL on
 * stdout, a summary on stderr (so that stdout stays a clean script for psql). The journal and
 * the knowledge store default to the config's (the embedded one's without -c); the store is
 * taken when it exists. Exit status: 0; 1 when the config, the journal or the store cannot be
 * read (or the store is malformed) or stdout written; 2 for a usage error.
 */
int vigil_cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"sql", no_argument, NULL, 's'},	       {"config", required_argument, NULL, 'c'},
	    {"journal", required_argument, NULL, 'j'}, {"knowledge", required_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'},	       {},
	};
	static const char eusage[] = "usage: vigil export --sql [-c CONFIG] [--journal FILE] "
				     "[--knowledge FILE]\n";
	const char *journal = NULL, *config = NULL, *knowledge = NULL;
	struct vigil_knowledge *store = NULL;
	struct vigil_config *cfg = NULL;
	struct vigil_export_stats st;
	char msg[4608];
	bool sql = false;
	FILE *f;
	int c, err;

	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			sql = true;
			break;
		case 'c':
			config = optarg;
			break;
		case 'j':
			journal = optarg;
			break;
		case 'k':
			knowledge = optarg;
			break;
		case 'h':
			fputs(eusage, stdout);
			return 0;
		default:
			fputs(eusage, stderr);
			return 2;
		}
	}
	if (!sql || optind != argc || (journal && !journal[0])) {
		fputs(eusage, stderr);
		return 2;
	}
	if (client_config("export", config, &cfg))
		return 1;
	/* Without -c, the journal's default stays the one the other commands read. */
	if (!journal)
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
		vigil_config_free(cfg);
		return 1;
	}
	f = fopen(journal, "r");
	if (!f) {
		fprintf(stderr, "vigil export: %s: %s\n", journal, strerror(errno));
		vigil_knowledge_close(store);
		vigil_config_free(cfg);
		return 1;
	}
	err = vigil_export_sql(f, store, cfg->node, stdout, &st);
	fclose(f);
	vigil_knowledge_close(store);
	if (err) {
		fprintf(stderr, "vigil export: %s\n", strerror(-err));
		vigil_config_free(cfg);
		return 1;
	}
	fprintf(stderr,
		"vigil export: %s: %lu lines, %lu incidents, %lu actions, %lu knowledge rows; "
		"%lu lines not JSON and %lu records incomplete, skipped; %lu NUL and %lu invalid "
		"UTF-8 written as U+FFFD; %lu knowledge records; knowledge store %s: %lu entries\n",
		journal, st.lines, st.incidents, st.actions, st.knowledge, st.bad_lines, st.skipped,
		st.nul_replaced, st.bad_utf8, st.knowledge_records,
		knowledge[0] ? knowledge : "(none)", st.store_entries);
	vigil_config_free(cfg);
	return 0;
}
