/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config: vigil's YAML file, parsed in three steps, each in a module of its own:
 *
 *   1. config_yaml.c   the text is checked as YAML (syntax, one document, no aliases);
 *   2. config_schema.c libcyaml loads it into raw structures of strings, checking its shape;
 *   3. config_build.c  the raw structures are validated and copied out into plain owned memory
 *                      (struct vigil_config).
 *
 * A refusal at any step is written by config_yaml.c, which finds in the text the key path that
 * was wrong, so a message reads "NAME:LINE:COL: PATH: what was wrong".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cyaml/cyaml.h>

#include "config/config.h"
#include "config/build.h"
#include "config/schema.h"
#include "config/yaml.h"

#define MAX_FILE_BYTES (1 << 20)

const char vigil_default_config[] =
    "# vigil's embedded default, used when no config file is given.\n"
    "#\n"
    "# Observe every process on the host: failing exits, OOM kills and socket errors become\n"
    "# incidents on stdout and in the journal. No workload is named, so nothing is healed:\n"
    "# vigil only ever acts on workloads that a config file lists, with rules written for them.\n"
    "# Every other key (node, journal, window, redis) keeps its default.\n"
    "observe_all: true\n";

/* Frees a NULL-terminated array of strings; accepts NULL. */
static void free_strv(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

/* --- the interface ------------------------------------------------------------------------ */

/* The three steps, in order (see config.h). Returns 0 and *out, -EINVAL (message in @err) or
 * -ENOMEM. */
int vigil_config_parse(const char *text, size_t len, const char *name, struct vigil_config **out,
		       char *err, size_t errlen)
{
	struct parse_ctx pc = {
	    .text = text ? text : "",
	    .len = text ? len : 0,
	    .name = name ? name : "<input>",
	    .err = err,
	    .errlen = errlen,
	};
	cyaml_config_t cc = {
	    .log_fn = cfg_capture_log,
	    .log_ctx = &pc.rep,
	    .mem_fn = cyaml_mem,
	    .log_level = CYAML_LOG_WARNING,
	    .flags = CYAML_CFG_NO_ALIAS, /* refused before, by cfg_check_syntax() */
	};
	struct raw_config *raw = NULL;
	struct vigil_config *cfg = NULL;
	cyaml_err_t cerr;
	int ret;

	if (errlen)
		err[0] = '\0';
	if (!out)
		return -EINVAL;
	*out = NULL;
	/* 1. YAML syntax, as any YAML tool would: libcyaml may stop earlier, at a schema error. */
	ret = cfg_check_syntax(&pc);
	if (ret)
		goto cleanup;
	/* 2. The shape: known keys, each of the right type. */
	cerr = cyaml_load_data((const uint8_t *)pc.text, pc.len, &cc, &cfg_schema,
			       (cyaml_data_t **)&raw, NULL);
	if (cerr != CYAML_OK) {
		ret = cfg_cyaml_failure(&pc, cerr);
		goto cleanup;
	}
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg) {
		ret = -ENOMEM;
		goto cleanup;
	}
	/* 3. The meaning. An empty file, or one of comments only, loads as NULL: all defaults. */
	ret = cfg_build(&pc, raw ? raw : &(struct raw_config){0}, cfg);
cleanup:
	if (raw)
		cyaml_free(&cc, &cfg_schema, raw, 0);
	if (ret == -ENOMEM && errlen)
		snprintf(err, errlen, "%s: out of memory", pc.name);
	if (ret) {
		vigil_config_free(cfg);
		return ret;
	}
	*out = cfg;
	return 0;
}

/* Reads at most 1 MiB of @path and parses it. Returns as vigil_config_parse(), or -errno (or
 * -EFBIG) if it cannot be read. */
int vigil_config_load(const char *path, struct vigil_config **out, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, ret;

	if (errlen)
		err[0] = '\0';
	if (out)
		*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(-ret));
		return ret;
	}
	buf = malloc(MAX_FILE_BYTES + 1); /* one byte more, to see a file that is too large */
	if (!buf) {
		ret = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto cleanup;
	}
	while (len <= MAX_FILE_BYTES) {
		n = read(fd, buf + len, MAX_FILE_BYTES + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			snprintf(err, errlen, "cannot read %s: %s", path, strerror(-ret));
			goto cleanup;
		}
		if (!n)
			break;
		len += n;
	}
	if (len > MAX_FILE_BYTES) {
		ret = -EFBIG;
		snprintf(err, errlen, "%s: larger than 1 MiB, refusing to read it", path);
		goto cleanup;
	}
	ret = vigil_config_parse(buf, len, path, out, err, errlen);
cleanup:
	free(buf);
	close(fd);
	return ret;
}

/* Frees @cfg and everything it owns; accepts NULL, and a config that cfg_build() left half
 * built. */
void vigil_config_free(struct vigil_config *cfg)
{
	if (!cfg)
		return;
	for (unsigned int i = 0; i < cfg->n_workloads; i++) {
		struct vigil_workload *w = &cfg->workloads[i];

		free(w->name);
		free(w->match.comm);
		free(w->match.exe);
		free(w->match.cgroup);
		free(w->match.pidfile);
		free(w->quiet_busy_key);
		free_strv(w->policy.allowed_exec);
		free_strv(w->policy.redis_keys);
		free_strv(w->policy.forbidden);
		free_strv(w->latency_syscalls);
		free_strv(w->alert_labels);
		for (unsigned int j = 0; j < w->n_heal; j++) {
			const struct vigil_action *a = &w->heal[j].action;

			if (a->ops && a->ops->free_params)
				a->ops->free_params(a->params);
			else
				free(a->params);
			free(w->heal[j].name);
			free(w->heal[j].alert);
		}
		free(w->heal);
	}
	free(cfg->workloads);
	free(cfg->source);
	free(cfg->node);
	free(cfg->journal);
	free(cfg->redis_url);
	free(cfg->redis_prefix);
	free(cfg->redis_username);
	free(cfg->redis_password);
	free(cfg->redis_spool);
	free(cfg->pg_url);
	free(cfg->pg_password);
	free(cfg->pg_password_file);
	free(cfg->pg_spool);
	for (unsigned int i = 0; i < cfg->otlp_n_headers; i++)
		free(cfg->otlp_headers[i]);
	free(cfg->otlp_headers);
	free(cfg->otlp_endpoint);
	free(cfg->otlp_spool);
	free(cfg->metrics_listen);
	free(cfg->alerts_token_file);
	free(cfg->k8s_containerd);
	free(cfg->k8s_crio);
	free(cfg->knowledge);
	free(cfg->state);
	free(cfg);
}
