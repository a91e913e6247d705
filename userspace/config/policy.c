// SPDX-License-Identifier: Apache-2.0
/*
 * policy: what a workload's heal rules may touch, enforced when the config is loaded (see
 * struct vigil_policy). Each action kind declares what it touches (ops->touches); each of
 * those is checked here against the workload's policy, so that a kind added later is held to
 * the same rules without a line of its own here.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/policy.h"
#include "core/files.h"

const char *const vigil_forbidden_names[] = {
    "modify_story_content",
    "change_user_permissions",
    "alter_database_schema",
    "modify_privacy_settings",
    NULL,
};

bool vigil_workload_comm_only(const struct vigil_workload *w)
{
	return w->match.comm && !w->match.exe && !w->match.cgroup && !w->match.pidfile;
}

/* Where a Redis glob stops being literal: its first *, ?, [ or \. */
static size_t literal_len(const char *glob)
{
	return strcspn(glob, "*?[\\");
}

bool vigil_redis_glob_inside(const char *pattern, const char *glob)
{
	size_t lit = literal_len(glob);

	/* A key: the glob says whether it matches. */
	if (!pattern[literal_len(pattern)])
		return fnmatch(glob, pattern, 0) == 0;
	if (!strcmp(pattern, glob))
		return true;
	/* A pattern inside "PREFIX*": whatever it matches starts with PREFIX. Other shapes of
	 * glob cannot be shown to hold a pattern this simply: refused, never guessed. */
	return glob[lit] == '*' && !glob[lit + 1] && literal_len(pattern) >= lit &&
	       !strncmp(pattern, glob, lit);
}

/* "a, b, c" of a NULL-terminated list, cut to fit. */
static const char *list(char *const *v, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; v && v[i] && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", v[i]);
	return buf;
}

int cfg_build_policy(struct parse_ctx *pc, const char *base, const struct raw_policy *r,
		     struct vigil_workload *w)
{
	struct vigil_policy *p = &w->policy;
	char key[48];
	int ret;

	if (!r)
		return 0;
	for (unsigned int i = 0; i < r->allowed_exec_count; i++)
		if (r->allowed_exec[i][0] != '/') {
			snprintf(key, sizeof(key), "policy.allowed_exec[%u]", i);
			return cfg_fail(pc, base, key,
					"'%s' must be an absolute path (start with /)",
					r->allowed_exec[i]);
		}
	for (unsigned int i = 0; i < r->redis_keys_count; i++)
		if (!literal_len(r->redis_keys[i])) {
			snprintf(key, sizeof(key), "policy.redis_keys[%u]", i);
			return cfg_fail(
			    pc, base, key,
			    "'%s' would allow keys of any name: a glob must start with a "
			    "fixed prefix (like story:cache:*)",
			    r->redis_keys[i]);
		}
	ret = cfg_bool(pc, base, "policy.allow_comm_only", r->allow_comm_only, &p->allow_comm_only);
	if (!ret)
		ret = cfg_dup_strv(r->allowed_exec, r->allowed_exec_count, &p->allowed_exec);
	p->n_allowed_exec = r->allowed_exec_count;
	if (!ret)
		ret = cfg_dup_strv(r->redis_keys, r->redis_keys_count, &p->redis_keys);
	p->n_redis_keys = r->redis_keys_count;
	if (!ret)
		ret = cfg_dup_strv(r->forbidden, r->forbidden_count, &p->forbidden);
	p->n_forbidden = r->forbidden_count;
	return ret;
}

/* One rule's touches, checked: the walk's state. */
struct walk {
	struct parse_ctx *pc;
	const char *path; /* the action's: workloads[i].heal[j].action.KIND */
	const struct vigil_policy *p;
};

static int check_exec(struct walk *k, const char *key, const char *path)
{
	char why[256], buf[256];
	unsigned int i;

	for (i = 0; i < k->p->n_allowed_exec && strcmp(k->p->allowed_exec[i], path); i++)
		;
	if (i == k->p->n_allowed_exec)
		return k->p->n_allowed_exec
			   ? cfg_fail(k->pc, k->path, key,
				      "'%s' is not in the workload's policy.allowed_exec (%s)",
				      path, list(k->p->allowed_exec, buf, sizeof(buf)))
			   : cfg_fail(k->pc, k->path, key,
				      "'%s' is not in the workload's policy.allowed_exec, which "
				      "lists none: list each executable a rule may run",
				      path);
	if (vigil_path_trusted(path, why, sizeof(why)))
		return cfg_fail(k->pc, k->path, key,
				"'%s' is not an executable vigil may run as root: %s", path, why);
	return 0;
}

static int check_key(struct walk *k, const char *key, const char *value, bool pattern)
{
	char buf[256];

	if (pattern && !literal_len(value))
		return cfg_fail(k->pc, k->path, key,
				"'%s' would match keys of any name: a pattern must start with a "
				"fixed prefix (like story:cache:*)",
				value);
	for (unsigned int i = 0; i < k->p->n_redis_keys; i++)
		if (vigil_redis_glob_inside(value, k->p->redis_keys[i]))
			return 0;
	if (!k->p->n_redis_keys)
		return cfg_fail(
		    k->pc, k->path, key,
		    "%s '%s' is not inside the workload's policy.redis_keys, which lists "
		    "none: list the key globs its rules may touch",
		    pattern ? "pattern" : "key", value);
	return cfg_fail(k->pc, k->path, key,
			"%s '%s' is not inside the workload's "
			"policy.redis_keys (%s)",
			pattern ? "pattern" : "key", value,
			list(k->p->redis_keys, buf, sizeof(buf)));
}

static int check_touch(enum vigil_touch_type type, const char *key, const char *value, void *arg)
{
	struct walk *k = arg;

	switch (type) {
	case VIGIL_TOUCH_EXEC:
		return check_exec(k, key, value);
	case VIGIL_TOUCH_REDIS_KEY:
		return check_key(k, key, value, false);
	case VIGIL_TOUCH_REDIS_MATCH:
		return check_key(k, key, value, true);
	case VIGIL_TOUCH_SIGNAL:
	case VIGIL_TOUCH_REDIS:
	case VIGIL_TOUCH_URL:
		break; /* said by `vigil check`; the kind validated its form */
	}
	return 0;
}

int cfg_check_rule_policy(struct parse_ctx *pc, const char *base, const struct vigil_workload *w,
			  const struct vigil_heal_rule *h)
{
	const struct vigil_action_ops *ops = h->action.ops;
	char path[160];
	struct walk k = {.pc = pc, .path = path, .p = &w->policy};

	for (unsigned int i = 0; vigil_forbidden_names[i]; i++)
		if (!strcasecmp(h->name, vigil_forbidden_names[i]))
			return cfg_fail(pc, base, "name",
					"'%s' is a forbidden action: vigil never modifies story "
					"content, user permissions, database schemas or privacy "
					"settings",
					h->name);
	for (unsigned int i = 0; i < w->policy.n_forbidden; i++)
		if (!strcasecmp(h->name, w->policy.forbidden[i]))
			return cfg_fail(pc, base, "name",
					"'%s' is forbidden by the workload's policy.forbidden",
					h->name);
	if (vigil_workload_comm_only(w) && !w->policy.allow_comm_only)
		return cfg_fail(pc, base, NULL,
				"the workload is matched by comm alone, which any user can take "
				"(a process may name itself '%s'): match it by exe, cgroup or "
				"pidfile too, or accept that with policy.allow_comm_only: true",
				w->match.comm);
	if (!ops->touches)
		return 0;
	snprintf(path, sizeof(path), "%s.action.%s", base, ops->kind);
	return ops->touches(&h->action, check_touch, &k);
}
