/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config: vigil's YAML file, parsed with libcyaml into raw structures, validated, and copied
 * out into plain owned memory (struct vigil_config).
 *
 * libcyaml checks the shape (keys, types) but reports positions that are not always where the
 * mistake is (for an unknown key it gives the mapping's last value), and it knows nothing of
 * ranges or cross-field rules. So the text is also walked with libyaml's event API: once before
 * libcyaml, for syntax errors, and again for each error, to find the node at the key path the
 * message names.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cyaml/cyaml.h>
#include <yaml.h>

#include "config.h"
#include "vigil/limits.h"

#define MAX_FILE_BYTES (1 << 20)
#define MAX_ARGV 32
#define MAX_NAME_LEN 63
#define PATH_LEN 256  /* a key path such as "workloads[3].heal[1].action.restart.exec[0]" */
#define WALK_DEPTH 16 /* deeper nesting is refused; the schema is 8 deep */
#define SYSCALL_CHARS "abcdefghijklmnopqrstuvwxyz0123456789_"
#define WORD_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZ" SYSCALL_CHARS /* and of variable names */

const char vigil_default_config[] =
    "# vigil's embedded default, used when no config file is given.\n"
    "#\n"
    "# Observe every process on the host: failing exits, OOM kills and socket errors become\n"
    "# incidents on stdout and in the journal. No workload is named, so nothing is healed:\n"
    "# vigil only ever acts on workloads that a config file lists, with rules written for them.\n"
    "# Every other key (node, journal, window, redis) keeps its default.\n"
    "observe_all: true\n";

static const char *const class_names[VIGIL_CLASS_MAX] = {
    [VIGIL_CLASS_NONE] = "none",
    [VIGIL_CLASS_CRASH] = "crash",
    [VIGIL_CLASS_OOM_KILL] = "oom_kill",
    [VIGIL_CLASS_EXIT_NONZERO] = "exit_nonzero",
    [VIGIL_CLASS_CRASH_LOOP] = "crash_loop",
    [VIGIL_CLASS_CONN_REFUSED] = "conn_refused",
    [VIGIL_CLASS_CONN_TIMEOUT] = "conn_timeout",
    [VIGIL_CLASS_CONN_UNREACHABLE] = "conn_unreachable",
    [VIGIL_CLASS_CONN_RESET] = "conn_reset",
    [VIGIL_CLASS_RETRANSMITS] = "retransmits",
    [VIGIL_CLASS_SYSCALL_SLOW] = "syscall_slow",
    [VIGIL_CLASS_LATENCY_SLO] = "latency_slo",
    [VIGIL_CLASS_HANG] = "hang",
};

/* DESIGN.md's closed action vocabulary; only restart has a schema (and a healer) so far. */
static const char *const action_names[] = {
    "restart", "cache_clear", "retry", "set_flag", "publish", "rollback",
};

/* --- raw structures, as libcyaml loads them ----------------------------------------------- */

/*
 * Everything is optional to libcyaml: a NULL pointer means "absent", so required keys and
 * defaults are decided below, with messages that name the key. Scalars are all strings:
 * libcyaml reads "-3" as a huge unsigned number and any unknown word as true.
 */
struct raw_match {
	char *comm, *exe, *cgroup, *pidfile;
};

struct raw_latency {
	char **syscalls;
	unsigned int syscalls_count;
	char *budget_ms;
};

struct raw_restart {
	char **exec;
	unsigned int exec_count;
};

struct raw_action {
	struct raw_restart *restart;
};

struct raw_rule {
	char **on;
	unsigned int on_count;
	char *level;
	char *delay;
	struct raw_action *action;
};

struct raw_breaker {
	char *failures;
	char *window, *cooldown;
};

struct raw_quiet {
	char *max_defer;
};

struct raw_workload {
	char *name;
	struct raw_match *match;
	struct raw_latency *latency;
	struct raw_rule *heal;
	unsigned int heal_count;
	struct raw_breaker *breaker;
	struct raw_quiet *quiet;
	char *verify;
};

struct raw_redis {
	char *url, *prefix;
};

struct raw_config {
	char *node, *journal, *window;
	char *observe_all;
	struct raw_redis *redis;
	struct raw_workload *workloads;
	unsigned int workloads_count;
};

#define OPT (CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL)
#define F_STR(key, type, member) CYAML_FIELD_STRING_PTR(key, OPT, type, member, 0, CYAML_UNLIMITED)
#define F_STRV(key, type, member)                                                                  \
	CYAML_FIELD_SEQUENCE(key, OPT, type, member, &string_entry, 0, CYAML_UNLIMITED)
#define F_MAP(key, type, member, fields) CYAML_FIELD_MAPPING_PTR(key, OPT, type, member, fields)

static const cyaml_schema_value_t string_entry = {
    CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, CYAML_UNLIMITED),
};

static const cyaml_schema_field_t match_fields[] = {
    F_STR("comm", struct raw_match, comm),
    F_STR("exe", struct raw_match, exe),
    F_STR("cgroup", struct raw_match, cgroup),
    F_STR("pidfile", struct raw_match, pidfile),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t latency_fields[] = {
    F_STRV("syscalls", struct raw_latency, syscalls),
    F_STR("budget_ms", struct raw_latency, budget_ms),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t restart_fields[] = {
    F_STRV("exec", struct raw_restart, exec),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t action_fields[] = {
    F_MAP("restart", struct raw_action, restart, restart_fields),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t rule_fields[] = {
    F_STRV("on", struct raw_rule, on),
    F_STR("level", struct raw_rule, level),
    F_STR("delay", struct raw_rule, delay),
    F_MAP("action", struct raw_rule, action, action_fields),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t rule_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_rule, rule_fields),
};

static const cyaml_schema_field_t breaker_fields[] = {
    F_STR("failures", struct raw_breaker, failures),
    F_STR("window", struct raw_breaker, window),
    F_STR("cooldown", struct raw_breaker, cooldown),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t quiet_fields[] = {
    F_STR("max_defer", struct raw_quiet, max_defer),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t workload_fields[] = {
    F_STR("name", struct raw_workload, name),
    F_MAP("match", struct raw_workload, match, match_fields),
    F_MAP("latency", struct raw_workload, latency, latency_fields),
    CYAML_FIELD_SEQUENCE("heal", OPT, struct raw_workload, heal, &rule_entry, 0, CYAML_UNLIMITED),
    F_MAP("breaker", struct raw_workload, breaker, breaker_fields),
    F_MAP("quiet", struct raw_workload, quiet, quiet_fields),
    F_STR("verify", struct raw_workload, verify),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t workload_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_workload, workload_fields),
};

static const cyaml_schema_field_t redis_fields[] = {
    F_STR("url", struct raw_redis, url),
    F_STR("prefix", struct raw_redis, prefix),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t config_fields[] = {
    F_STR("node", struct raw_config, node),
    F_STR("journal", struct raw_config, journal),
    F_STR("observe_all", struct raw_config, observe_all),
    F_STR("window", struct raw_config, window),
    F_MAP("redis", struct raw_config, redis, redis_fields),
    CYAML_FIELD_SEQUENCE("workloads", OPT, struct raw_config, workloads, &workload_entry, 0,
			 CYAML_UNLIMITED),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t config_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct raw_config, config_fields),
};

/* --- finding a key path in the text (libyaml) --------------------------------------------- */

struct yaml_pos {
	unsigned int line, col; /* 1-based, as editors count */
};

/* What yaml_walk() found: the node at the path it was asked for, or what is wrong. When several
 * nodes have the path (a key given twice), the last one. */
struct walk_result {
	bool found;
	struct yaml_pos key; /* of its key (of the node itself if it has none) */
	struct yaml_pos val; /* of the node */
	struct yaml_pos bad; /* on -EINVAL: where, and what */
	char what[160];
};

struct walk_frame {
	bool mapping;
	bool want_key;	    /* mapping: the next node is its key */
	unsigned int index; /* sequence: index of the next entry */
	size_t path_len;    /* the container's own path is path[0, path_len) */
	char key[64];
	struct yaml_pos key_pos;
};

struct walker {
	struct walk_frame st[WALK_DEPTH];
	int depth; /* frames in use */
	char path[PATH_LEN];
	const char *find;
	struct walk_result *res;
};

static struct yaml_pos mark_pos(yaml_mark_t m)
{
	return (struct yaml_pos){.line = m.line + 1, .col = m.column + 1};
}

/* Names one node (a scalar, or the start of a mapping or sequence) by its path. Returns NULL,
 * or why the node is refused. */
static const char *walk_node(struct walker *w, const yaml_event_t *ev)
{
	bool container = ev->type != YAML_SCALAR_EVENT;
	struct walk_frame *f = w->depth ? &w->st[w->depth - 1] : NULL;
	struct yaml_pos pos = mark_pos(ev->start_mark);
	size_t base = f ? f->path_len : 0;

	if (f && f->mapping && f->want_key) {
		if (container)
			return "a key must be a plain word, not a mapping or a list";
		f->want_key = false;
		snprintf(f->key, sizeof(f->key), "%s", (const char *)ev->data.scalar.value);
		f->key_pos = pos;
		return NULL;
	}
	if (f && f->mapping)
		snprintf(w->path + base, PATH_LEN - base, "%s%s", base ? "." : "", f->key);
	else if (f)
		snprintf(w->path + base, PATH_LEN - base, "[%u]", f->index++);
	if (w->find && !strcmp(w->path, w->find)) {
		w->res->found = true;
		w->res->key = f && f->mapping ? f->key_pos : pos;
		w->res->val = pos;
	}
	if (f && f->mapping)
		f->want_key = true;
	if (container && w->depth == WALK_DEPTH)
		return "nested too deeply";
	if (container)
		w->st[w->depth++] = (struct walk_frame){
		    .mapping = ev->type == YAML_MAPPING_START_EVENT,
		    .want_key = true,
		    .path_len = strlen(w->path),
		};
	return NULL;
}

/*
 * Parses @text with libyaml, naming each node by its key path ("workloads[0].heal[1].level",
 * "" for the root) and noting where the node at @find (may be NULL) is. Returns 0, -ENOMEM, or
 * -EINVAL on a syntax error, a second document (libcyaml would silently ignore it) or an alias
 * (it replays a node elsewhere, so positions would lie, and nested ones multiply the work).
 */
static int yaml_walk(const char *text, size_t len, const char *find, struct walk_result *res)
{
	struct walker w = {.find = find, .res = res};
	const char *refused = NULL;
	yaml_parser_t parser;
	yaml_event_t ev;
	int docs = 0, ret = 0;
	bool done = false;

	memset(res, 0, sizeof(*res));
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			ret = parser.error == YAML_MEMORY_ERROR ? -ENOMEM : -EINVAL;
			res->bad = mark_pos(parser.problem_mark);
			snprintf(res->what, sizeof(res->what), "syntax error: %s%s%s%s",
				 parser.problem ? parser.problem : "", parser.context ? " (" : "",
				 parser.context ? parser.context : "", parser.context ? ")" : "");
			break;
		}
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			if (docs++)
				refused = "a second document is not allowed";
			break;
		case YAML_ALIAS_EVENT:
			refused = "aliases are not allowed";
			break;
		case YAML_SCALAR_EVENT:
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			refused = walk_node(&w, &ev);
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			w.depth--;
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			break;
		}
		if (refused) {
			ret = -EINVAL;
			done = true;
			res->bad = mark_pos(ev.start_mark);
			snprintf(res->what, sizeof(res->what), "%s", refused);
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return ret;
}

/* --- error messages ----------------------------------------------------------------------- */

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

struct parse_ctx {
	const char *text;
	size_t len;
	const char *name;
	char *err;
	size_t errlen;
	struct cyaml_report rep;
};

/* libcyaml logs one line a call: the error, then "Backtrace:" and "  in ..." lines, innermost
 * first, such as "in mapping field 'level' (line: 5, column: 16)" or "in sequence entry '1'". */
static void capture_log(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
{
	struct cyaml_report *rep = ctx;
	char line[256], *s = line, *p;
	unsigned int a, b;

	if (level < CYAML_LOG_ERROR)
		return;
	vsnprintf(line, sizeof(line), fmt, args);
	line[strcspn(line, "\n")] = '\0';
	if (!strncmp(s, "Load: ", 6))
		s += 6;
	s += strspn(s, " ");
	if (strncmp(s, "in ", 3)) {
		if (!rep->msg[0] && strcmp(s, "Backtrace:"))
			snprintf(rep->msg, sizeof(rep->msg), "%s", s);
		return;
	}
	p = strstr(s, "(line: ");
	if (p && !rep->has_pos && sscanf(p, "(line: %u, column: %u)", &a, &b) == 2) {
		rep->pos = (struct yaml_pos){a, b};
		rep->has_pos = true;
	}
	if (rep->n_bt == WALK_DEPTH)
		return;
	if (sscanf(s, "in mapping field '%63[^']'", rep->bt[rep->n_bt].key) == 1)
		rep->bt[rep->n_bt++].index = -1;
	else if (sscanf(s, "in sequence entry '%u'", &a) == 1 && a > 0) /* counted from 1 */
		rep->bt[rep->n_bt++].index = a - 1;
}

/* Writes "@base.@key" (or the one that is set) into @out. Returns false if it was cut short. */
static bool join_path(char *out, size_t outlen, const char *base, const char *key)
{
	return snprintf(out, outlen, "%s%s%s", base, *base && key ? "." : "", key ? key : "") <
	       (int)outlen;
}

/* Returns true if the text has a node at @path. */
static bool has_node(const struct parse_ctx *pc, const char *path)
{
	struct walk_result res;

	return !yaml_walk(pc->text, pc->len, path, &res) && res.found;
}

/* Where to point for @path: its key or its value; libcyaml's guess if the path is not found. */
static struct yaml_pos path_pos(const struct parse_ctx *pc, const char *path, bool at_key)
{
	struct walk_result res;

	if (!yaml_walk(pc->text, pc->len, path, &res) && res.found)
		return at_key ? res.key : res.val;
	return pc->rep.has_pos ? pc->rep.pos : (struct yaml_pos){1, 1};
}

/* Formats "NAME:LINE:COL: PATH: message" into the caller's buffer. Returns -EINVAL. */
__attribute__((format(printf, 4, 0))) static int
vreport(struct parse_ctx *pc, struct yaml_pos pos, const char *path, const char *fmt, va_list ap)
{
	int n;

	if (!pc->errlen)
		return -EINVAL;
	n = snprintf(pc->err, pc->errlen, "%s:%u:%u: %s%s", pc->name, pos.line, pos.col, path,
		     *path ? ": " : "");
	if (n >= 0 && (size_t)n < pc->errlen)
		vsnprintf(pc->err + n, pc->errlen - n, fmt, ap);
	return -EINVAL;
}

__attribute__((format(printf, 4, 5))) static int report(struct parse_ctx *pc, struct yaml_pos pos,
							const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(pc, pos, path, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* An error about the value at @base.@key (@key may be NULL). Returns -EINVAL. */
__attribute__((format(printf, 4, 5))) static int fail(struct parse_ctx *pc, const char *base,
						      const char *key, const char *fmt, ...)
{
	char path[PATH_LEN];
	va_list ap;

	join_path(path, sizeof(path), base, key);
	va_start(ap, fmt);
	vreport(pc, path_pos(pc, path, false), path, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool is_action_name(const char *s)
{
	for (size_t i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++)
		if (!strcmp(s, action_names[i]))
			return true;
	return false;
}

/* An unknown key under @path. Under a rule's `action:` it is an action name, which is either
 * outside the closed vocabulary or not implemented yet. Returns -EINVAL. */
static int unknown_key(struct parse_ctx *pc, const char *path, const char *key)
{
	char full[2 * PATH_LEN]; /* holds @path and @key whole */
	struct yaml_pos pos;
	size_t n = strlen(path);

	join_path(full, sizeof(full), path, key);
	pos = path_pos(pc, full, true);
	if (n < 7 || strcmp(path + n - 7, ".action"))
		return report(pc, pos, path, "unexpected key '%s'", key);
	if (!is_action_name(key))
		return report(pc, pos, path, "unknown action '%s' (not in vigil's vocabulary)",
			      key);
	join_path(full, sizeof(full), path, "restart");
	if (has_node(pc, full))
		return report(pc, pos, path,
			      "has two actions, restart and '%s'; a rule takes exactly one", key);
	return report(pc, pos, path,
		      "action '%s' is not implemented yet in this version (only restart is)", key);
}

/* Turns libcyaml's "Expecting STRING, got event: SEQUENCE_START" into words. */
static const char *type_word(const char *t)
{
	if (!strcmp(t, "STRING") || !strcmp(t, "SCALAR"))
		return "a scalar";
	if (!strncmp(t, "MAPPING", 7))
		return "a mapping";
	if (!strncmp(t, "SEQUENCE", 8))
		return "a list";
	return t;
}

/* Explains why libcyaml refused the text. Returns -EINVAL or -ENOMEM. */
static int cyaml_failure(struct parse_ctx *pc, cyaml_err_t cerr)
{
	const struct cyaml_report *rep = &pc->rep;
	char path[PATH_LEN] = "", want[32], got[32];
	size_t n = 0;

	for (unsigned int i = rep->n_bt; i-- > 0 && n < sizeof(path);) {
		if (rep->bt[i].index >= 0)
			n += snprintf(path + n, sizeof(path) - n, "[%d]", rep->bt[i].index);
		else
			n += snprintf(path + n, sizeof(path) - n, "%s%s", n ? "." : "",
				      rep->bt[i].key);
	}
	switch (cerr) {
	case CYAML_ERR_OOM:
	case CYAML_ERR_LIBYAML_PARSER_INIT:
	case CYAML_ERR_LIBYAML_EVENT_INIT:
	case CYAML_ERR_LIBYAML_PARSER: /* yaml_walk() parsed the same text: only memory is left */
		return -ENOMEM;
	case CYAML_ERR_INVALID_KEY:
		if (!strncmp(rep->msg, "Unexpected key: ", 16))
			return unknown_key(pc, path, rep->msg + 16);
		break;
	default:
		if (!strncmp(rep->msg, "Mapping field already seen: ", 28))
			return report(pc, path_pos(pc, path, true), path, "key given twice");
		if (sscanf(rep->msg, "Expecting %31[A-Z_], got event: %31[A-Z_]", want, got) == 2)
			return report(pc, path_pos(pc, path, false), *path ? path : "top level",
				      "expected %s, got %s", type_word(want), type_word(got));
		break;
	}
	return report(pc, path_pos(pc, path, false), path, "%s",
		      rep->msg[0] ? rep->msg : cyaml_strerror(cerr));
}

/* --- values ------------------------------------------------------------------------------- */

const char *vigil_class_name(enum vigil_class c)
{
	return (unsigned int)c < VIGIL_CLASS_MAX ? class_names[c] : NULL;
}

enum vigil_class vigil_class_parse(const char *name)
{
	for (unsigned int c = VIGIL_CLASS_NONE + 1; name && c < VIGIL_CLASS_MAX; c++)
		if (!strcmp(name, class_names[c]))
			return c;
	return VIGIL_CLASS_NONE;
}

/* Reads the decimal digits that start @s. Returns a pointer past them, or NULL if there are
 * none or they overflow. */
static const char *parse_u64(const char *s, uint64_t *v)
{
	const char *p = s;

	for (*v = 0; *p >= '0' && *p <= '9'; p++) {
		if (*v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return NULL;
		*v = *v * 10 + (uint64_t)(*p - '0');
	}
	return p == s ? NULL : p;
}

int vigil_parse_duration(const char *s, uint64_t *ms)
{
	static const struct {
		const char *suffix;
		uint64_t ms;
	} units[] = {{"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
	uint64_t v;
	const char *p = s ? parse_u64(s, &v) : NULL;

	if (!p)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].suffix))
			continue;
		if (v > UINT64_MAX / units[i].ms)
			return -EINVAL;
		*ms = v * units[i].ms;
		return 0;
	}
	return -EINVAL;
}

/* Copies @s (may be NULL) into *@out. Returns 0 or -ENOMEM. */
static int dup_str(const char *s, char **out)
{
	*out = s ? strdup(s) : NULL;
	return s && !*out ? -ENOMEM : 0;
}

/* Copies @n strings into a NULL-terminated array. Returns 0 or -ENOMEM (nothing is kept). */
static int dup_strv(char *const *v, unsigned int n, char ***out)
{
	char **r = calloc(n + 1, sizeof(*r));

	*out = NULL;
	if (!r)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++) {
		r[i] = strdup(v[i]);
		if (!r[i]) {
			while (i-- > 0)
				free(r[i]);
			free(r);
			return -ENOMEM;
		}
	}
	*out = r;
	return 0;
}

static void free_strv(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

/* Parses the duration at @base.@key, or takes @def when it is absent. Returns 0 or -EINVAL. */
static int get_duration(struct parse_ctx *pc, const char *base, const char *key, const char *s,
			uint64_t def, bool positive, uint64_t *ms)
{
	if (!s) {
		*ms = def;
		return 0;
	}
	if (vigil_parse_duration(s, ms))
		return fail(pc, base, key, "'%s' is not a duration (like 250ms, 30s, 5m, 2h)", s);
	if (positive && !*ms)
		return fail(pc, base, key, "must be longer than 0");
	return 0;
}

/* True if @s is 1..MAX_NAME_LEN bytes, all from @chars. */
static bool is_word(const char *s, const char *chars)
{
	size_t n = strlen(s);

	return n && n <= MAX_NAME_LEN && strspn(s, chars) == n;
}

/*
 * Expands each ${VAR} in the node name @s from the environment into *@out. Returns 0, -EINVAL
 * (message written) for an unset variable, a malformed reference or an empty or overlong
 * result, or -ENOMEM.
 */
static int expand_node(struct parse_ctx *pc, const char *s, char **out)
{
	char buf[256], name[128];
	const char *p = s, *end, *val;
	size_t n = 0, len;

	while (*p) {
		val = p;
		len = 1;
		if (!strncmp(p, "${", 2)) {
			end = strchr(p + 2, '}');
			len = end ? (size_t)(end - p - 2) : 0;
			if (!len || len >= sizeof(name) || strspn(p + 2, WORD_CHARS) != len)
				return fail(pc, "node", NULL,
					    "'${' must be followed by a variable name and '}'");
			memcpy(name, p + 2, len);
			name[len] = '\0';
			val = getenv(name);
			if (!val)
				return fail(pc, "node", NULL, "environment variable %s is not set",
					    name);
			len = strlen(val);
			p = end;
		}
		p++;
		if (n + len >= sizeof(buf))
			return fail(pc, "node", NULL, "'%s' expands to more than %zu bytes", s,
				    sizeof(buf) - 1);
		memcpy(buf + n, val, len);
		n += len;
	}
	if (!n)
		return fail(pc, "node", NULL, "'%s' expands to an empty name", s);
	buf[n] = '\0';
	return dup_str(buf, out);
}

/* Reads the number at @base.@key into @min..@max, or takes @def when it is absent. Returns 0
 * or -EINVAL. */
static int get_uint(struct parse_ctx *pc, const char *base, const char *key, const char *s,
		    uint64_t def, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *end = s ? parse_u64(s, out) : NULL;

	if (!s)
		*out = def;
	else if (!end || *end)
		return fail(pc, base, key, "'%s' is not a whole number", s);
	else if ((*out < min || *out > max) && max >= UINT_MAX)
		return fail(pc, base, key, "must be at least %" PRIu64 ", not %s", min, s);
	else if (*out < min || *out > max)
		return fail(pc, base, key, "%s is out of range %" PRIu64 "..%" PRIu64, s, min, max);
	return 0;
}

/* Reads the boolean at @key; absent is false. Returns 0 or -EINVAL. */
static int get_bool(struct parse_ctx *pc, const char *key, const char *s, bool *out)
{
	*out = s && (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"));
	if (s && !*out && strcmp(s, "false") && strcmp(s, "no") && strcmp(s, "off"))
		return fail(pc, key, NULL, "'%s' is not a boolean (true or false)", s);
	return 0;
}

/* libcyaml loads `key: []` and a missing key alike, as NULL: tell them apart. Returns -EINVAL. */
static int no_list(struct parse_ctx *pc, const char *base, const char *key)
{
	char path[PATH_LEN];

	join_path(path, sizeof(path), base, key);
	if (has_node(pc, path))
		return fail(pc, base, key, "must not be empty");
	return fail(pc, base, NULL, "missing required key '%s'", key);
}

/* Refuses a relative path at @base.@key. Returns 0 or -EINVAL. */
static int need_abs(struct parse_ctx *pc, const char *base, const char *key, const char *s)
{
	if (s && s[0] != '/')
		return fail(pc, base, key, "'%s' must be an absolute path (start with /)", s);
	return 0;
}

/* Copies the string at @key, or @def when absent; an empty one is refused. Returns 0, -EINVAL
 * or -ENOMEM. */
static int get_str(struct parse_ctx *pc, const char *key, const char *s, const char *def,
		   char **out)
{
	if (s && !*s)
		return fail(pc, key, NULL, "must not be empty");
	return dup_str(s ? s : def, out);
}

/* --- building the config ------------------------------------------------------------------ */

/* The build_* functions validate one raw section and copy it out. They return 0, -EINVAL (the
 * message written) or -ENOMEM; what they copied before failing is freed with the config. */

static int build_match(struct parse_ctx *pc, const char *base, const struct raw_match *r,
		       struct vigil_match *m)
{
	int ret;

	if (!r)
		return fail(pc, base, NULL, "missing required key 'match'");
	if (!r->comm && !r->exe && !r->cgroup && !r->pidfile)
		return fail(pc, base, "match", "needs at least one of comm, exe, cgroup, pidfile");
	if (r->comm && (!*r->comm || strlen(r->comm) >= VIGIL_COMM_LEN))
		return fail(pc, base, "match.comm",
			    "'%s' must be 1 to %d bytes long (the kernel's comm)", r->comm,
			    VIGIL_COMM_LEN - 1);
	ret = need_abs(pc, base, "match.exe", r->exe);
	if (!ret)
		ret = need_abs(pc, base, "match.cgroup", r->cgroup);
	if (!ret)
		ret = need_abs(pc, base, "match.pidfile", r->pidfile);
	if (ret)
		return ret;
	if (dup_str(r->comm, &m->comm) || dup_str(r->exe, &m->exe) ||
	    dup_str(r->cgroup, &m->cgroup) || dup_str(r->pidfile, &m->pidfile))
		return -ENOMEM;
	return 0;
}

static int build_latency(struct parse_ctx *pc, const char *base, const struct raw_latency *r,
			 struct vigil_workload *w)
{
	char lat[48], key[24];

	snprintf(lat, sizeof(lat), "%s.latency", base);
	if (!r->syscalls_count)
		return no_list(pc, lat, "syscalls");
	for (unsigned int i = 0; i < r->syscalls_count; i++) {
		if (is_word(r->syscalls[i], SYSCALL_CHARS))
			continue;
		snprintf(key, sizeof(key), "syscalls[%u]", i);
		return fail(pc, lat, key, "'%s' is not a syscall name", r->syscalls[i]);
	}
	if (!r->budget_ms)
		return fail(pc, lat, NULL, "missing required key 'budget_ms'");
	if (get_uint(pc, lat, "budget_ms", r->budget_ms, 0, 1, UINT64_MAX, &w->latency_budget_ms))
		return -EINVAL;
	if (dup_strv(r->syscalls, r->syscalls_count, &w->latency_syscalls))
		return -ENOMEM;
	w->n_latency_syscalls = r->syscalls_count;
	return 0;
}

static int build_rule(struct parse_ctx *pc, const char *base, const struct raw_rule *r,
		      struct vigil_heal_rule *h)
{
	const struct raw_restart *rs;
	enum vigil_class c;
	char key[24], restart[80];
	uint64_t v;
	int ret;

	if (!r->on_count)
		return no_list(pc, base, "on");
	for (unsigned int i = 0; i < r->on_count; i++) {
		c = vigil_class_parse(r->on[i]);
		if (c == VIGIL_CLASS_NONE) {
			snprintf(key, sizeof(key), "on[%u]", i);
			return fail(pc, base, key, "unknown class '%s'", r->on[i]);
		}
		h->on_mask |= 1u << c;
	}
	if (!r->level)
		return fail(pc, base, NULL, "missing required key 'level'");
	if (get_uint(pc, base, "level", r->level, 0, 1, 3, &v))
		return -EINVAL;
	h->level = v;
	/* A delay elsewhere would read as if it did something: refuse it rather than ignore it. */
	if (r->delay && h->level != 2)
		return fail(pc, base, "delay", "only applies to level 2 rules");
	ret = get_duration(pc, base, "delay", r->delay, h->level == 2 ? 300000 : 0, false,
			   &h->delay_ms);
	if (ret)
		return ret;
	if (!r->action)
		return fail(pc, base, NULL, "missing required key 'action'");
	rs = r->action->restart;
	if (!rs)
		return fail(pc, base, "action", "names no action; a rule takes exactly one");
	snprintf(restart, sizeof(restart), "%s.action.restart", base);
	if (!rs->exec_count)
		return no_list(pc, restart, "exec");
	if (rs->exec_count > MAX_ARGV)
		return fail(pc, restart, "exec", "has %u entries, at most %d are allowed",
			    rs->exec_count, MAX_ARGV);
	ret = need_abs(pc, restart, "exec[0]", rs->exec[0]);
	if (ret)
		return ret;
	h->action.kind = VIGIL_ACTION_RESTART;
	h->action.argc = rs->exec_count;
	return dup_strv(rs->exec, rs->exec_count, &h->action.argv);
}

static int build_workload(struct parse_ctx *pc, const struct vigil_config *cfg, unsigned int i,
			  const struct raw_workload *r)
{
	const struct raw_breaker *b = r->breaker ? r->breaker : &(struct raw_breaker){0};
	const struct raw_quiet *q = r->quiet ? r->quiet : &(struct raw_quiet){0};
	struct vigil_workload *w = &cfg->workloads[i];
	char base[24], rule[48];
	uint64_t v = 0;
	int ret;

	snprintf(base, sizeof(base), "workloads[%u]", i);
	if (!r->name)
		return fail(pc, base, NULL, "missing required key 'name'");
	if (!is_word(r->name, WORD_CHARS ".-"))
		return fail(pc, base, "name", "'%s' must be 1 to %d of A-Z a-z 0-9 _ . -", r->name,
			    MAX_NAME_LEN);
	for (unsigned int j = 0; j < i; j++)
		if (!strcmp(cfg->workloads[j].name, r->name))
			return fail(pc, base, "name", "'%s' is already the name of workloads[%u]",
				    r->name, j);
	if (dup_str(r->name, &w->name))
		return -ENOMEM;
	ret = build_match(pc, base, r->match, &w->match);
	if (!ret && r->latency)
		ret = build_latency(pc, base, r->latency, w);
	if (!ret && r->heal_count) {
		w->heal = calloc(r->heal_count, sizeof(*w->heal));
		if (!w->heal)
			return -ENOMEM;
		w->n_heal = r->heal_count;
	}
	for (unsigned int j = 0; !ret && j < r->heal_count; j++) {
		snprintf(rule, sizeof(rule), "%s.heal[%u]", base, j);
		ret = build_rule(pc, rule, &r->heal[j], &w->heal[j]);
	}
	if (ret)
		return ret;
	ret = get_uint(pc, base, "breaker.failures", b->failures, 3, 1, UINT_MAX, &v);
	w->breaker_failures = v;
	if (!ret)
		ret = get_duration(pc, base, "breaker.window", b->window, 600000, true,
				   &w->breaker_window_ms);
	if (!ret)
		ret = get_duration(pc, base, "breaker.cooldown", b->cooldown, 300000, false,
				   &w->breaker_cooldown_ms);
	if (!ret)
		ret = get_duration(pc, base, "quiet.max_defer", q->max_defer, 60000, false,
				   &w->quiet_max_defer_ms);
	if (!ret)
		ret = get_duration(pc, base, "verify", r->verify, 2000, true, &w->verify_ms);
	return ret;
}

static int build_config(struct parse_ctx *pc, const struct raw_config *r, struct vigil_config *cfg)
{
	const struct raw_redis *rd = r->redis ? r->redis : &(struct raw_redis){0};
	char host[HOST_NAME_MAX + 1];
	int ret;

	if (dup_str(pc->name, &cfg->source))
		return -ENOMEM;
	if (r->node) {
		ret = expand_node(pc, r->node, &cfg->node);
	} else if (gethostname(host, sizeof(host))) {
		ret = -errno;
		report(pc, (struct yaml_pos){1, 1}, "node", "unset, and no hostname: %s",
		       strerror(-ret));
	} else {
		host[sizeof(host) - 1] = '\0';
		ret = dup_str(host, &cfg->node);
	}
	if (!ret)
		ret = get_str(pc, "journal", r->journal, "/var/lib/vigil/journal.jsonl",
			      &cfg->journal);
	if (!ret)
		ret = get_bool(pc, "observe_all", r->observe_all, &cfg->observe_all);
	if (!ret)
		ret = get_duration(pc, "", "window", r->window, 60000, true, &cfg->window_ms);
	if (!ret)
		ret = get_str(pc, "redis.url", rd->url, NULL, &cfg->redis_url);
	if (!ret)
		ret = get_str(pc, "redis.prefix", rd->prefix, "vigil", &cfg->redis_prefix);
	if (ret)
		return ret;
	if (r->workloads_count > VIGIL_MAX_WORKLOADS)
		return fail(pc, "workloads", NULL, "%u workloads, at most %d are allowed",
			    r->workloads_count, VIGIL_MAX_WORKLOADS);
	if (r->workloads_count) {
		cfg->workloads = calloc(r->workloads_count, sizeof(*cfg->workloads));
		if (!cfg->workloads)
			return -ENOMEM;
		cfg->n_workloads = r->workloads_count;
	}
	for (unsigned int i = 0; !ret && i < r->workloads_count; i++)
		ret = build_workload(pc, cfg, i, &r->workloads[i]);
	return ret;
}

/* --- the interface ------------------------------------------------------------------------ */

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
	    .log_fn = capture_log,
	    .log_ctx = &pc.rep,
	    .mem_fn = cyaml_mem,
	    .log_level = CYAML_LOG_WARNING,
	    .flags = CYAML_CFG_NO_ALIAS, /* refused before, by yaml_walk() */
	};
	struct raw_config *raw = NULL;
	struct vigil_config *cfg = NULL;
	struct walk_result res;
	cyaml_err_t cerr;
	int ret;

	if (errlen)
		err[0] = '\0';
	if (!out)
		return -EINVAL;
	*out = NULL;
	/* Syntax first, as any YAML tool would: libcyaml may stop earlier, at a schema error. */
	ret = yaml_walk(pc.text, pc.len, NULL, &res);
	if (ret == -EINVAL)
		report(&pc, res.bad, "", "%s", res.what);
	if (ret)
		goto cleanup;
	cerr = cyaml_load_data((const uint8_t *)pc.text, pc.len, &cc, &config_schema,
			       (cyaml_data_t **)&raw, NULL);
	if (cerr != CYAML_OK) {
		ret = cyaml_failure(&pc, cerr);
		goto cleanup;
	}
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg) {
		ret = -ENOMEM;
		goto cleanup;
	}
	/* An empty file, or one of comments only, loads as NULL: all defaults. */
	ret = build_config(&pc, raw ? raw : &(struct raw_config){0}, cfg);
cleanup:
	if (raw)
		cyaml_free(&cc, &config_schema, raw, 0);
	if (ret == -ENOMEM && errlen)
		snprintf(err, errlen, "%s: out of memory", pc.name);
	if (ret) {
		vigil_config_free(cfg);
		return ret;
	}
	*out = cfg;
	return 0;
}

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
		free_strv(w->latency_syscalls);
		for (unsigned int j = 0; j < w->n_heal; j++)
			free_strv(w->heal[j].action.argv);
		free(w->heal);
	}
	free(cfg->workloads);
	free(cfg->source);
	free(cfg->node);
	free(cfg->journal);
	free(cfg->redis_url);
	free(cfg->redis_prefix);
	free(cfg);
}
