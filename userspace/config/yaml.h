/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config_yaml: where a key path is in the config text, and the messages that point there
 * (internal to config*.c).
 *
 * Every message reads "NAME:LINE:COL: PATH: what was wrong", PATH being a key path such as
 * "workloads[0].heal[1].level" ("" for the root).
 */
#ifndef VIGIL_CONFIG_YAML_H
#define VIGIL_CONFIG_YAML_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <cyaml/cyaml.h>

#define PATH_LEN 256  /* a key path such as "workloads[3].heal[1].action.restart.exec[0]" */
#define WALK_DEPTH 16 /* deeper nesting is refused; the schema is 8 deep */

struct yaml_pos {
	unsigned int line, col; /* 1-based, as editors count */
};

/* What libcyaml said through its log callback: its message and backtrace. */
struct cyaml_report {
	char msg[192];
	struct {
		char key[64];
		int index; /* a sequence entry when >= 0, else the mapping field key */
	} bt[WALK_DEPTH];
	unsigned int n_bt;
	bool has_pos;
	struct yaml_pos pos; /* innermost position libcyaml gave */
};

/* One parse: the text, and where its message goes. */
struct parse_ctx {
	const char *text;
	size_t len;
	const char *name;
	char *err;
	size_t errlen;
	struct cyaml_report rep;
};

/* Checks the YAML syntax of the whole text, and refuses a second document, an alias, a key that
 * is not a scalar and nesting deeper than WALK_DEPTH. Returns 0, -EINVAL (message written) or
 * -ENOMEM. */
int cfg_check_syntax(struct parse_ctx *pc);

/* Returns true if the text has a node at @path. */
bool cfg_has_node(const struct parse_ctx *pc, const char *path);

/* Writes "@base.@key" (or the one that is set) into @out. Returns false if it was cut short. */
bool cfg_join_path(char *out, size_t outlen, const char *base, const char *key);

/* Writes "NAME:LINE:COL: PATH: message" for @pos. Returns -EINVAL. */
__attribute__((format(printf, 4, 5))) int cfg_report(struct parse_ctx *pc, struct yaml_pos pos,
						     const char *path, const char *fmt, ...);

/* An error about the value at @base.@key (@key may be NULL), pointing at that value. Returns
 * -EINVAL. */
__attribute__((format(printf, 4, 5))) int cfg_fail(struct parse_ctx *pc, const char *base,
						   const char *key, const char *fmt, ...);

/* The pairs of a mapping of strings, in their order. */
struct cfg_pairs {
	char **keys, **vals;
	unsigned int n;
};

/* The pairs of the mapping at path (such as "otlp.headers": libcyaml, which cannot read a
 * mapping of free keys, ignores it) into out (zeroed first by the caller; none if the text has
 * no such mapping). Returns 0, -EINVAL (a value that is not a string: message written) or
 * -ENOMEM; out is empty on an error. */
int cfg_string_map(struct parse_ctx *pc, const char *path, struct cfg_pairs *out);
void cfg_pairs_free(struct cfg_pairs *p);

/* Copies n strings into a NULL-terminated array. Returns 0 or -ENOMEM (nothing is kept). */
int cfg_dup_strv(char *const *v, unsigned int n, char ***out);

/* The boolean s at base.key (key may be NULL); absent is false. Returns 0 or -EINVAL. */
int cfg_bool(struct parse_ctx *pc, const char *base, const char *key, const char *s, bool *out);

/* libcyaml's log_fn: keeps what explains an error in the struct cyaml_report at @ctx. */
void cfg_capture_log(cyaml_log_t level, void *ctx, const char *fmt, va_list args);

/* Explains why libcyaml refused the text. Returns -EINVAL (message written) or -ENOMEM. */
int cfg_cyaml_failure(struct parse_ctx *pc, cyaml_err_t cerr);

#endif /* VIGIL_CONFIG_YAML_H */
