/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the config parser: vigil_config_parse() on any bytes, then
 * vigil_config_free(). Built and run by tests/fuzz/run.sh, with ASan, UBSan and LeakSanitizer;
 * -timeout makes a parse that does not end a failure too.
 *
 * Beyond "no crash, no hang, no leak", it checks the contract of config.h: the result is 0 with a
 * config that keeps every rule of the schema, or -EINVAL with no config and a message that starts
 * "NAME:LINE:COL: " (-ENOMEM cannot happen here). A broken rule aborts, so libFuzzer keeps the
 * input.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"
#include "heal/http.h"
#include "heal/restart.h"
#include "heal/rollback.h"
#include "vigil/limits.h"

#define NAME "fuzz.yaml"

/* Aborts with @what when @cond is false: libFuzzer reports it as a crash and saves the input. */
#define CHECK(cond, what)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_config: %s (%s:%d)\n", what, __FILE__, __LINE__);    \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* Returns 0; sets the variables the seeds name, so ${VAR} expands as well as fails. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("NODE_NAME", "fuzz-node", 1);
	setenv("A", "a", 1);
	unsetenv("VIGIL_UNSET");
	return 0;
}

/* Aborts unless @s is a non-empty absolute path (or NULL when @may_be_null). */
static void check_path(const char *s, bool may_be_null)
{
	CHECK(s || may_be_null, "required path missing");
	CHECK(!s || s[0] == '/', "path is not absolute");
}

/* Aborts unless @cfg keeps every rule config.h states for an accepted config. */
static void check_config(const struct vigil_config *cfg)
{
	CHECK(cfg->source && !strcmp(cfg->source, NAME), "source is not the name given");
	CHECK(cfg->node && cfg->node[0], "node is empty");
	CHECK(cfg->journal && cfg->journal[0], "journal is empty");
	CHECK(cfg->redis_prefix && cfg->redis_prefix[0], "redis prefix is empty");
	CHECK(!cfg->redis_url || cfg->redis_url[0], "redis url is empty");
	CHECK(cfg->window_ms > 0, "window is 0");
	CHECK(cfg->n_workloads <= VIGIL_MAX_WORKLOADS, "too many workloads");
	CHECK(!cfg->n_workloads == !cfg->workloads, "workloads and their count disagree");
	for (unsigned int i = 0; i < cfg->n_workloads; i++) {
		const struct vigil_workload *w = &cfg->workloads[i];
		const struct vigil_match *m = &w->match;

		CHECK(w->name && w->name[0] && strlen(w->name) <= 63, "bad workload name");
		for (unsigned int j = 0; j < i; j++)
			CHECK(strcmp(w->name, cfg->workloads[j].name), "workload name given twice");
		CHECK(m->comm || m->exe || m->cgroup || m->pidfile, "workload matches nothing");
		CHECK(!m->comm || (m->comm[0] && strlen(m->comm) < VIGIL_COMM_LEN), "bad comm");
		check_path(m->exe, true);
		check_path(m->cgroup, true);
		check_path(m->pidfile, true);
		CHECK(!w->n_latency_syscalls == !w->latency_syscalls,
		      "syscalls and count disagree");
		CHECK(!w->n_latency_syscalls || w->latency_budget_ms, "latency budget is 0");
		for (unsigned int j = 0; j < w->n_latency_syscalls; j++)
			CHECK(w->latency_syscalls[j] && w->latency_syscalls[j][0], "empty syscall");
		CHECK(!w->n_latency_syscalls || !w->latency_syscalls[w->n_latency_syscalls],
		      "syscalls not NULL-terminated");
		CHECK(!w->n_heal == !w->heal, "rules and their count disagree");
		for (unsigned int j = 0; j < w->n_heal; j++) {
			const struct vigil_heal_rule *h = &w->heal[j];
			const struct vigil_restart_params *rp;

			CHECK(h->on_mask && !(h->on_mask & (1u << VIGIL_CLASS_NONE)) &&
				  h->on_mask < (1u << VIGIL_CLASS_MAX),
			      "bad on_mask");
			CHECK(h->level >= 1 && h->level <= 3, "bad level");
			CHECK(h->level == 2 || !h->delay_ms, "delay on a rule not of level 2");
			CHECK(h->action.ops && h->action.params, "rule without an action");
			if (h->action.ops == &vigil_http_ops) {
				const struct vigil_http_params *hp = h->action.params;

				CHECK(hp->url && (!strncasecmp(hp->url, "http://", 7) ||
						  !strncasecmp(hp->url, "https://", 8)),
				      "http url not http(s)");
				CHECK(hp->method && hp->timeout_ms > 0 &&
					  hp->timeout_ms <= VIGIL_HTTP_TIMEOUT_MAX_MS,
				      "bad http method or timeout");
				CHECK(!hp->token_file || hp->token_file[0] == '/',
				      "relative bearer_token_file");
				continue;
			}
			if (h->action.ops == &vigil_rollback_ops) {
				const struct vigil_rollback_params *bp = h->action.params;

				CHECK(h->level == 3, "rollback below level 3");
				CHECK(bp->argc >= 1 && bp->argv && bp->argv[0][0] == '/' &&
					  !bp->argv[bp->argc] && bp->timeout_ms > 0,
				      "bad rollback command");
				continue;
			}
			CHECK(h->action.ops == vigil_action_find("restart"), "unknown kind");
			rp = h->action.params;
			CHECK(rp->signo > 0 && rp->kill_after_ms > 0 && rp->timeout_ms > 0 &&
				  rp->await_ms > 0,
			      "bad signal or duration");
			if (rp->mode == VIGIL_RESTART_SIGNAL) {
				CHECK(!rp->argv && !rp->envp, "argv or env with signal");
				continue;
			}
			CHECK(rp->mode == VIGIL_RESTART_EXEC || rp->mode == VIGIL_RESTART_COMMAND,
			      "bad mode");
			CHECK(rp->argc >= 1 && rp->argc <= VIGIL_RESTART_MAX_ARGV, "bad argc");
			check_path(rp->argv[0], false);
			for (unsigned int k = 0; k < rp->argc; k++)
				CHECK(rp->argv[k], "NULL in argv");
			CHECK(!rp->argv[rp->argc], "argv not NULL-terminated");
			CHECK(rp->envp && !rp->envp[rp->envc], "env not NULL-terminated");
			for (unsigned int k = 0; k < rp->envc; k++)
				CHECK(rp->envp[k] && strchr(rp->envp[k], '=') &&
					  strchr(rp->envp[k], '=') != rp->envp[k],
				      "env entry not NAME=value");
		}
		CHECK(w->breaker_failures >= 1, "breaker failures is 0");
		CHECK(w->breaker_window_ms > 0 && w->verify_ms > 0, "window or verify is 0");
	}
}

/* Parses the refused @data again with a small buffer, of exactly its size so that ASan sees a
 * write past it: the message must be the one in @err, cut and NUL-terminated. */
static void check_short_err(const uint8_t *data, size_t size, const char *err)
{
	size_t errlen = 1 + size % 24, want = strlen(err) < errlen ? strlen(err) : errlen - 1;
	struct vigil_config *cfg = NULL;
	char *e = malloc(errlen);
	int ret;

	CHECK(e, "out of memory");
	ret = vigil_config_parse((const char *)data, size, NAME, &cfg, e, errlen);
	CHECK(ret == -EINVAL && !cfg, "refused once, not twice");
	CHECK(strnlen(e, errlen) == want && !memcmp(e, err, want), "cut message differs");
	free(e);
}

/* Returns 0 (libFuzzer's convention); aborts on a broken contract. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vigil_config *cfg = (struct vigil_config *)&cfg; /* must be overwritten */
	unsigned int line, col;
	char err[512];
	size_t len;
	int ret, n = 0;

	/* data holds exactly size bytes and no NUL after them: ASan sees a read past the end. */
	ret = vigil_config_parse((const char *)data, size, NAME, &cfg, err, sizeof(err));
	CHECK(ret == 0 || ret == -EINVAL, "neither 0 nor -EINVAL");
	CHECK(memchr(err, '\0', sizeof(err)), "message not NUL-terminated");
	if (ret) {
		CHECK(!cfg, "config not NULL on failure");
		CHECK(sscanf(err, NAME ":%u:%u: %n", &line, &col, &n) == 2 && n > 0 && line > 0 &&
			  col > 0,
		      "message does not start NAME:LINE:COL");
		CHECK(err[n], "message says nothing");
		len = strlen(err);
		CHECK(len == sizeof(err) - 1 || strcmp(err + len - 2, ": "),
		      "message has no reason");
		check_short_err(data, size, err);
		return 0;
	}
	CHECK(cfg && !err[0], "no config, or a message, on success");
	check_config(cfg);
	vigil_config_free(cfg);
	return 0;
}
