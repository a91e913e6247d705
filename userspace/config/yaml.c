/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config_yaml: finds key paths in the config text with libyaml, and turns what libcyaml logs
 * into a message that points at the mistake (see config_yaml.h).
 *
 * libcyaml checks the shape (keys, types) but reports positions that are not always where the
 * mistake is (for an unknown key it gives the mapping's last value), and it knows nothing of
 * ranges or cross-field rules. So the text is also walked with libyaml's event API: once before
 * libcyaml, for syntax errors, and again for each error, to find the node at the key path the
 * message names.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "config/yaml.h"
#include "heal/action.h"

/* DESIGN.md's closed action vocabulary. Those implemented are the kinds of the action table
 * (heal/actions.c), each with a YAML shape in config/schema.c. */
static const char *const action_names[] = {
    "restart", "cache_clear", "retry", "set_flag", "publish", "rollback", "http",
};

/* --- finding a key path in the text (libyaml) --------------------------------------------- */

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
	/* cfg_string_map(): the mapping at this path, its pairs collected */
	const char *collect;
	struct cfg_pairs *pairs;
	int collect_err;
};

/* Returns libyaml's 0-based mark as a 1-based position. */
static struct yaml_pos mark_pos(yaml_mark_t m)
{
	return (struct yaml_pos){.line = m.line + 1, .col = m.column + 1};
}

/* Append key: val to p. Returns 0 or -ENOMEM. */
static int add_pair(struct cfg_pairs *p, const char *key, const char *val)
{
	char **k = realloc(p->keys, (p->n + 1) * sizeof(*k)), **v;

	if (!k)
		return -ENOMEM;
	p->keys = k;
	v = realloc(p->vals, (p->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	p->vals = v;
	k[p->n] = strdup(key);
	v[p->n] = strdup(val);
	if (!k[p->n] || !v[p->n]) {
		free(k[p->n]);
		free(v[p->n]);
		return -ENOMEM;
	}
	p->n++;
	return 0;
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
	if (f && f->mapping && w->collect && !strncmp(w->path, w->collect, base) &&
	    !w->collect[base]) {
		if (container)
			return "each value of this mapping must be a string";
		if (!w->collect_err)
			w->collect_err =
			    add_pair(w->pairs, f->key, (const char *)ev->data.scalar.value);
	}
	if (f && f->mapping)
		snprintf(w->path + base, PATH_LEN - base, "%s%s", base ? "." : "", f->key);
	else if (f)
		snprintf(w->path + base, PATH_LEN - base, "[%u]", f->index++);
	if (w->collect && !strcmp(w->path, w->collect) && ev->type != YAML_MAPPING_START_EVENT)
		return "must be a mapping of names to strings";
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
 * Returns true if libyaml stopped on a mistake in the text. Anything else is memory: libyaml
 * 0.2.5 fails some allocations without saying so (yaml_parser_scan_tag() leaves parser->error
 * at YAML_NO_ERROR when it cannot allocate a tag's handle).
 */
static bool syntax_error(const yaml_parser_t *parser)
{
	return parser->error == YAML_READER_ERROR || parser->error == YAML_SCANNER_ERROR ||
	       parser->error == YAML_PARSER_ERROR;
}

/*
 * Parses @text with libyaml, naming each node by its key path ("workloads[0].heal[1].level",
 * "" for the root) and noting where the node at @find (may be NULL) is. Returns 0, -ENOMEM, or
 * -EINVAL on a syntax error, a second document (libcyaml would silently ignore it) or an alias
 * (it replays a node elsewhere, so positions would lie, and nested ones multiply the work).
 */
static int walk(struct walker *w, const char *text, size_t len)
{
	struct walk_result *res = w->res;
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
		/* libyaml answers "success" with no event, forever, once the stream has ended or
		 * after an error: this loop must not rely on it never doing so before the end. */
		if (!yaml_parser_parse(&parser, &ev) || ev.type == YAML_NO_EVENT) {
			ret = syntax_error(&parser) ? -EINVAL : -ENOMEM;
			res->bad = mark_pos(parser.problem_mark);
			snprintf(res->what, sizeof(res->what), "syntax error: %s%s%s%s",
				 parser.problem ? parser.problem
						: "unexpected end of the event stream",
				 parser.context ? " (" : "", parser.context ? parser.context : "",
				 parser.context ? ")" : "");
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
			refused = walk_node(w, &ev);
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			w->depth--;
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

/* walk() for the node at find. Returns as walk(). */
static int yaml_walk(const char *text, size_t len, const char *find, struct walk_result *res)
{
	struct walker w = {.find = find, .res = res};

	return walk(&w, text, len);
}

void cfg_pairs_free(struct cfg_pairs *p)
{
	for (unsigned int i = 0; i < p->n; i++) {
		free(p->keys[i]);
		free(p->vals[i]);
	}
	free(p->keys);
	free(p->vals);
	*p = (struct cfg_pairs){0};
}

int cfg_string_map(struct parse_ctx *pc, const char *path, struct cfg_pairs *out)
{
	struct walk_result res;
	struct walker w = {.res = &res, .collect = path, .pairs = out};
	int ret = walk(&w, pc->text, pc->len);

	ret = ret ?: w.collect_err;
	if (ret == -EINVAL)
		ret = cfg_report(pc, res.bad, path, "%s", res.what);
	if (ret)
		cfg_pairs_free(out);
	return ret;
}

/* --- error messages ----------------------------------------------------------------------- */

/* libcyaml logs one line a call: the error, then "Backtrace:" and "  in ..." lines, innermost
 * first, such as "in mapping field 'level' (line: 5, column: 16)" or "in sequence entry '1'". */
void cfg_capture_log(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
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
bool cfg_join_path(char *out, size_t outlen, const char *base, const char *key)
{
	return snprintf(out, outlen, "%s%s%s", base, *base && key ? "." : "", key ? key : "") <
	       (int)outlen;
}

/* Returns true if the text has a node at @path. */
bool cfg_has_node(const struct parse_ctx *pc, const char *path)
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

/* As vreport(), with the arguments given. Returns -EINVAL. */
int cfg_report(struct parse_ctx *pc, struct yaml_pos pos, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(pc, pos, path, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Walks the whole text once, finding nothing: the check of its syntax. Returns 0, -EINVAL
 * (message written) or -ENOMEM. */
int cfg_check_syntax(struct parse_ctx *pc)
{
	struct walk_result res;
	int ret;

	ret = yaml_walk(pc->text, pc->len, NULL, &res);
	if (ret == -EINVAL)
		cfg_report(pc, res.bad, "", "%s", res.what);
	return ret;
}

/* An error about the value at @base.@key (@key may be NULL). Returns -EINVAL. */
int cfg_fail(struct parse_ctx *pc, const char *base, const char *key, const char *fmt, ...)
{
	char path[PATH_LEN];
	va_list ap;

	cfg_join_path(path, sizeof(path), base, key);
	va_start(ap, fmt);
	vreport(pc, path_pos(pc, path, false), path, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Returns true if @s is an action of the vocabulary, implemented or not. */
static bool is_action_name(const char *s)
{
	for (size_t i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++)
		if (!strcmp(s, action_names[i]))
			return true;
	return false;
}

/* "restart is", or "restart, cache_clear are": the kinds implemented, into @buf. */
static void implemented(char *buf, size_t len)
{
	const struct vigil_action_ops *ops;
	size_t off = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; (ops = vigil_action_kind_at(i)) && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", ops->kind);
	if (off < len)
		snprintf(buf + off, len - off, " %s", i > 1 ? "are" : "is");
}

/* An unknown key under @path. Under a rule's `action:` it is an action name, which is either
 * outside the closed vocabulary or not implemented yet. Returns -EINVAL. */
static int unknown_key(struct parse_ctx *pc, const char *path, const char *key)
{
	char full[2 * PATH_LEN]; /* holds @path and @key whole */
	const struct vigil_action_ops *ops;
	char kinds[128];
	struct yaml_pos pos;
	size_t n = strlen(path);

	cfg_join_path(full, sizeof(full), path, key);
	pos = path_pos(pc, full, true);
	if (n < 7 || strcmp(path + n - 7, ".action"))
		return cfg_report(pc, pos, path, "unexpected key '%s'", key);
	if (!is_action_name(key))
		return cfg_report(pc, pos, path, "unknown action '%s' (not in vigil's vocabulary)",
				  key);
	for (unsigned int i = 0; (ops = vigil_action_kind_at(i)); i++) {
		cfg_join_path(full, sizeof(full), path, ops->kind);
		if (cfg_has_node(pc, full))
			return cfg_report(pc, pos, path,
					  "has two actions, %s and '%s'; a rule takes exactly one",
					  ops->kind, key);
	}
	implemented(kinds, sizeof(kinds));
	return cfg_report(pc, pos, path,
			  "action '%s' is not implemented yet in this version (only %s)", key,
			  kinds);
}

/* Turns libcyaml's "Expecting STRING, got event: SEQUENCE_START" into words. Returns them, or
 * @t itself if it is not a type libcyaml names. */
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
int cfg_cyaml_failure(struct parse_ctx *pc, cyaml_err_t cerr)
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
			return cfg_report(pc, path_pos(pc, path, true), path, "key given twice");
		if (sscanf(rep->msg, "Expecting %31[A-Z_], got event: %31[A-Z_]", want, got) == 2)
			return cfg_report(pc, path_pos(pc, path, false), *path ? path : "top level",
					  "expected %s, got %s", type_word(want), type_word(got));
		break;
	}
	return cfg_report(pc, path_pos(pc, path, false), path, "%s",
			  rep->msg[0] ? rep->msg : cyaml_strerror(cerr));
}

int cfg_dup_strv(char *const *v, unsigned int n, char ***out)
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

int cfg_bool(struct parse_ctx *pc, const char *base, const char *key, const char *s, bool *out)
{
	*out = s && (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"));
	if (s && !*out && strcmp(s, "false") && strcmp(s, "no") && strcmp(s, "off"))
		return cfg_fail(pc, base, key, "'%s' is not a boolean (true or false)", s);
	return 0;
}
