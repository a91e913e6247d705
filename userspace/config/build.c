/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config_build: the meaning of the config. Validates the raw structures libcyaml loaded
 * (config_schema.h) against vigil's rules (ranges, durations, names, required keys, what goes
 * with what) and copies them out into a struct vigil_config.
 */
#include <errno.h>
#include <signal.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config/config.h"
#include "config/build.h"
#include "config/policy.h"
#include "config/yaml.h"
#include "core/netaddr.h"
#include "core/redis_conn.h"
#include "detect/alerts.h"
#include "detect/pods.h"
#include "detect/incidents.h"
#include "heal/action.h"
#include "heal/cache_clear.h"
#include "heal/proc.h"
#include "heal/http.h"
#include "heal/publish.h"
#include "heal/restart.h"
#include "heal/rollback.h"
#include "heal/set_flag.h"
#include "vigil/events.h" /* the trace family's scratch size */
#include "vigil/limits.h"
#include "output/journal.h" /* journal_keep's maximum, the fsync policies */
#define MAX_NAME_LEN 63
#define SYSCALL_CHARS "abcdefghijklmnopqrstuvwxyz0123456789_"
#define WORD_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZ" SYSCALL_CHARS /* and of variable names */

/* --- values ------------------------------------------------------------------------------- */

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

/* "250ms", "30s", "5m", "2h", or a bare number of seconds. Returns 0, or -EINVAL (*@ms
 * untouched). */
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

/* Parses the duration at @base.@key, or takes @def when it is absent. Returns 0 or -EINVAL. */
static int get_duration(struct parse_ctx *pc, const char *base, const char *key, const char *s,
			uint64_t def, bool positive, uint64_t *ms)
{
	if (!s) {
		*ms = def;
		return 0;
	}
	if (vigil_parse_duration(s, ms))
		return cfg_fail(pc, base, key, "'%s' is not a duration (like 250ms, 30s, 5m, 2h)",
				s);
	if (positive && !*ms)
		return cfg_fail(pc, base, key, "must be longer than 0");
	if (*ms > VIGIL_DURATION_MAX_MS)
		return cfg_fail(pc, base, key,
				"'%s' is longer than any duration vigil takes (%llu h)", s,
				(unsigned long long)VIGIL_DURATION_MAX_MS / 3600000);
	return 0;
}

/* True if @s is 1..MAX_NAME_LEN bytes, all from @chars. */
static bool is_word(const char *s, const char *chars)
{
	size_t n = strlen(s);

	return n && n <= MAX_NAME_LEN && strspn(s, chars) == n;
}

/*
 * Expands each ${VAR} in the string @s at @key from the environment into *@out. Returns 0,
 * -EINVAL (message written) for an unset variable, a malformed reference or an empty or
 * overlong result, or -ENOMEM.
 */
static int expand_env(struct parse_ctx *pc, const char *key, const char *s, char **out)
{
	char buf[1024], name[128];
	const char *p = s, *end, *val;
	size_t n = 0, len;

	while (*p) {
		val = p;
		len = 1;
		if (!strncmp(p, "${", 2)) {
			end = strchr(p + 2, '}');
			len = end ? (size_t)(end - p - 2) : 0;
			if (!len || len >= sizeof(name) || strspn(p + 2, WORD_CHARS) != len)
				return cfg_fail(pc, key, NULL,
						"'${' must be followed by a variable name and '}'");
			memcpy(name, p + 2, len);
			name[len] = '\0';
			val = getenv(name);
			if (!val)
				return cfg_fail(pc, key, NULL, "environment variable %s is not set",
						name);
			len = strlen(val);
			p = end;
		}
		p++;
		if (n + len >= sizeof(buf))
			return cfg_fail(pc, key, NULL, "'%s' expands to more than %zu bytes", s,
					sizeof(buf) - 1);
		memcpy(buf + n, val, len);
		n += len;
	}
	if (!n)
		return cfg_fail(pc, key, NULL, "'%s' expands to an empty name", s);
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
		return cfg_fail(pc, base, key, "'%s' is not a whole number", s);
	else if ((*out < min || *out > max) && max >= UINT_MAX)
		return cfg_fail(pc, base, key, "must be at least %" PRIu64 ", not %s", min, s);
	else if (*out < min || *out > max)
		return cfg_fail(pc, base, key, "%s is out of range %" PRIu64 "..%" PRIu64, s, min,
				max);
	return 0;
}

/* Reads the boolean at the top-level @key; absent is false. Returns 0 or -EINVAL. */
static int get_bool(struct parse_ctx *pc, const char *key, const char *s, bool *out)
{
	return cfg_bool(pc, key, NULL, s, out);
}

/* libcyaml loads `key: []` and a missing key alike, as NULL: tell them apart. Returns -EINVAL. */
static int no_list(struct parse_ctx *pc, const char *base, const char *key)
{
	char path[PATH_LEN];

	cfg_join_path(path, sizeof(path), base, key);
	if (cfg_has_node(pc, path))
		return cfg_fail(pc, base, key, "must not be empty");
	return cfg_fail(pc, base, NULL, "missing required key '%s'", key);
}

/* Refuses a relative path at @base.@key. Returns 0 or -EINVAL. */
static int need_abs(struct parse_ctx *pc, const char *base, const char *key, const char *s)
{
	if (s && s[0] != '/')
		return cfg_fail(pc, base, key, "'%s' must be an absolute path (start with /)", s);
	return 0;
}

/* Copies the string at @key, or @def when absent; an empty one is refused. Returns 0, -EINVAL
 * or -ENOMEM. */
static int get_str(struct parse_ctx *pc, const char *key, const char *s, const char *def,
		   char **out)
{
	if (s && !*s)
		return cfg_fail(pc, key, NULL, "must not be empty");
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
		return cfg_fail(pc, base, NULL, "missing required key 'match'");
	if (!r->comm && !r->exe && !r->cgroup && !r->pidfile)
		return cfg_fail(pc, base, "match",
				"needs at least one of comm, exe, cgroup, pidfile");
	if (r->comm && (!*r->comm || strlen(r->comm) >= VIGIL_COMM_LEN))
		return cfg_fail(pc, base, "match.comm",
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
		return cfg_fail(pc, lat, key, "'%s' is not a syscall name", r->syscalls[i]);
	}
	if (!r->budget_ms)
		return cfg_fail(pc, lat, NULL, "missing required key 'budget_ms'");
	if (get_uint(pc, lat, "budget_ms", r->budget_ms, 0, 1, VIGIL_BUDGET_MAX_MS,
		     &w->latency_budget_ms))
		return -EINVAL;
	if (cfg_dup_strv(r->syscalls, r->syscalls_count, &w->latency_syscalls))
		return -ENOMEM;
	w->n_latency_syscalls = r->syscalls_count;
	return 0;
}

static int build_trace(struct parse_ctx *pc, const char *base, const struct raw_trace *r,
		       struct vigil_workload *w)
{
	char tr[48];
	uint64_t bytes;

	snprintf(tr, sizeof(tr), "%s.trace", base);
	if (cfg_bool(pc, tr, "http", r->http, &w->trace_http) ||
	    cfg_bool(pc, tr, "env", r->env, &w->trace_env))
		return -EINVAL;
	/* The shortest that holds a request line's end and one header; the kernel's scratch. */
	if (get_uint(pc, tr, "bytes", r->bytes, VIGIL_TRACE_BYTES_DEFAULT, 80, VIGIL_TRACE_SCRATCH,
		     &bytes))
		return -EINVAL;
	w->trace_bytes = (unsigned int)bytes;
	return 0;
}

/* --- actions: each kind's YAML shape -> its params --------------------------------------- */

/* The raw -> params step of each kind: the kind's raw mapping at @path becomes its params in
 * *@out (set as soon as allocated, so that the config frees it whatever happens). Returns 0,
 * -EINVAL (message written) or -ENOMEM. What the params mean is checked by the kind's
 * validate(), after. */
typedef int (*params_fn)(struct parse_ctx *pc, const char *path, const void *raw, void **out);

/* An argv for a child: each entry copied, ${VAR} expanded in those that hold one (the others
 * as they are, "" included). Returns 0, -EINVAL (message written) or -ENOMEM. */
static int build_argv(struct parse_ctx *pc, const char *path, const char *key, char **v,
		      unsigned int n, char ***out)
{
	char at[PATH_LEN], entry[48];
	int ret;

	*out = calloc(n + 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++) {
		snprintf(entry, sizeof(entry), "%s[%u]", key, i);
		cfg_join_path(at, sizeof(at), path, entry);
		ret = strstr(v[i], "${") ? expand_env(pc, at, v[i], &(*out)[i])
					 : dup_str(v[i], &(*out)[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* env: [NAME=value...] (n of them), a child's whole environment; ${VAR} expanded in each,
 * into *envp and *envc. Returns 0, -EINVAL (message written) or -ENOMEM. */
static int build_envp(struct parse_ctx *pc, const char *path, char **env, unsigned int n,
		      char ***envp, unsigned int *envc)
{
	char key[24];
	size_t name;

	if (n > VIGIL_MAX_ENV)
		return cfg_fail(pc, path, "env", "has %u entries, at most %d are allowed", n,
				VIGIL_MAX_ENV);
	for (unsigned int i = 0; i < n; i++) {
		name = strcspn(env[i], "=");
		if (env[i][name] == '=' && name && name < 128 &&
		    strspn(env[i], WORD_CHARS) == name && !strchr("0123456789", env[i][0]))
			continue;
		snprintf(key, sizeof(key), "env[%u]", i);
		return cfg_fail(pc, path, key, "'%s' must be NAME=value, NAME of A-Z a-z 0-9 _",
				env[i]);
	}
	*envc = n;
	return build_argv(pc, path, "env", env, n, envp);
}

/* restart: { exec: [argv...] | signal: SIG | command: [argv...], env, kill_after, timeout,
 * await } — exactly one of the three modes, and only the keys that go with it. */
static int restart_params(struct parse_ctx *pc, const char *path, const void *raw, void **out)
{
	static const char *const modes[] = {"exec", "signal", "command"};
	const struct raw_restart *rs = raw;
	struct vigil_restart_params *p;
	const char *mode = NULL;
	char at[PATH_LEN];
	int ret, n = 0;
	bool has[3];

	has[0] = rs->exec_count;
	has[1] = rs->signal;
	has[2] = rs->command_count;
	/* `exec: []` is loaded as no exec at all: it names the mode all the same. */
	for (int i = 0; !has[0] && !has[1] && !has[2] && i < 3; i += 2) {
		cfg_join_path(at, sizeof(at), path, modes[i]);
		if (cfg_has_node(pc, at))
			return no_list(pc, path, modes[i]);
	}
	for (int i = 0; i < 3; i++) {
		if (!has[i])
			continue;
		if (mode)
			return cfg_fail(pc, path, modes[i],
					"a restart takes exactly one of exec, signal and command, "
					"not both %s and %s",
					mode, modes[i]);
		mode = modes[i];
		n++;
	}
	if (!n)
		return cfg_fail(pc, path, NULL,
				"needs one of exec (vigil starts it), signal (vigil stops it, its "
				"supervisor starts it) or command (one that restarts it)");
	if (rs->env && has[1])
		return cfg_fail(pc, path, "env", "only applies to exec and command (a child's)");
	if (rs->timeout && !has[2])
		return cfg_fail(pc, path, "timeout", "only applies to command");
	if (rs->kill_after && has[2])
		return cfg_fail(pc, path, "kill_after",
				"only applies to exec and signal (the command stops the process)");
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	*out = p;
	p->mode = has[0]   ? VIGIL_RESTART_EXEC
		  : has[1] ? VIGIL_RESTART_SIGNAL
			   : VIGIL_RESTART_COMMAND;
	p->signo = SIGTERM;
	if (has[1]) {
		p->signo = vigil_signal_parse(rs->signal);
		if (p->signo < 0)
			return cfg_fail(pc, path, "signal",
					"'%s' is not one of HUP, INT, QUIT, KILL, USR1, USR2, TERM",
					rs->signal);
	}
	ret = get_duration(pc, path, "kill_after", rs->kill_after, VIGIL_STOP_GRACE_MS, true,
			   &p->kill_after_ms);
	if (!ret)
		ret = get_duration(pc, path, "timeout", rs->timeout, VIGIL_COMMAND_TIMEOUT_MS, true,
				   &p->timeout_ms);
	if (!ret)
		ret =
		    get_duration(pc, path, "await", rs->await, VIGIL_AWAIT_MS, true, &p->await_ms);
	if (!ret && p->mode != VIGIL_RESTART_SIGNAL) {
		p->argc = has[0] ? rs->exec_count : rs->command_count;
		ret =
		    build_argv(pc, path, mode, has[0] ? rs->exec : rs->command, p->argc, &p->argv);
		if (!ret)
			ret = build_envp(pc, path, rs->env, rs->env_count, &p->envp, &p->envc);
	}
	return ret;
}

#define MAX_KEY_LEN 512	   /* of a Redis key, pattern, stream or group an action names */
#define MAX_VALUE_LEN 4096 /* of a flag's value */
#define MAX_FIELD_NAME 64  /* of a published field's name */

/* redis: URL of the Redis an action works on (required): ${VAR} expanded, parsed now, and its
 * form without the password for the records. Returns 0, -EINVAL (message written) or -ENOMEM. */
static int get_redis_url(struct parse_ctx *pc, const char *path, const char *s, char **url,
			 char **safe)
{
	struct vigil_redis_url u;
	char at[PATH_LEN], why[192], buf[512];
	int ret;

	if (!s)
		return cfg_fail(pc, path, NULL, "missing required key 'redis'");
	if (!*s)
		return cfg_fail(pc, path, "redis", "must not be empty");
	cfg_join_path(at, sizeof(at), path, "redis");
	ret = strstr(s, "${") ? expand_env(pc, at, s, url) : dup_str(s, url);
	if (ret)
		return ret;
	ret = vigil_redis_parse_url(*url, &u, why, sizeof(why));
	memset(&u, 0, sizeof(u)); /* its password */
	if (ret)
		return cfg_fail(pc, path, "redis", "%s", why);
	return dup_str(vigil_redis_url_safe(*url, buf, sizeof(buf)), safe);
}

/* A required string at @path.@key of 1..@max bytes (a key, a pattern, a value). Returns 0,
 * -EINVAL (message written) or -ENOMEM. */
static int get_text(struct parse_ctx *pc, const char *path, const char *key, const char *s,
		    size_t max, char **out)
{
	if (!s)
		return cfg_fail(pc, path, NULL, "missing required key '%s'", key);
	if (!*s || strlen(s) > max)
		return cfg_fail(pc, path, key, "must be 1 to %zu bytes", max);
	return dup_str(s, out);
}

/* cache_clear: { redis, match, max_keys }. */
static int cache_clear_params(struct parse_ctx *pc, const char *path, const void *raw, void **out)
{
	const struct raw_cache_clear *rc = raw;
	struct vigil_cache_clear_params *p = calloc(1, sizeof(*p));
	int ret;

	if (!p)
		return -ENOMEM;
	*out = p;
	ret = get_redis_url(pc, path, rc->redis, &p->url, &p->url_safe);
	if (!ret)
		ret = get_text(pc, path, "match", rc->match, MAX_KEY_LEN, &p->match);
	if (!ret)
		ret = get_uint(pc, path, "max_keys", rc->max_keys, VIGIL_CACHE_CLEAR_MAX_KEYS, 1,
			       VIGIL_CACHE_CLEAR_KEYS_LIMIT, &p->max_keys);
	return ret;
}

/* set_flag: { redis, key, value, ttl, revert_after }. */
static int set_flag_params(struct parse_ctx *pc, const char *path, const void *raw, void **out)
{
	const struct raw_set_flag *rs = raw;
	struct vigil_set_flag_params *p = calloc(1, sizeof(*p));
	int ret;

	if (!p)
		return -ENOMEM;
	*out = p;
	ret = get_redis_url(pc, path, rs->redis, &p->url, &p->url_safe);
	if (!ret)
		ret = get_text(pc, path, "key", rs->key, MAX_KEY_LEN, &p->key);
	if (!ret)
		ret = get_text(pc, path, "value", rs->value, MAX_VALUE_LEN, &p->value);
	if (!ret)
		ret = get_duration(pc, path, "ttl", rs->ttl, 0, true, &p->ttl_ms);
	if (!ret)
		ret = get_duration(pc, path, "revert_after", rs->revert_after, 0, true,
				   &p->revert_after_ms);
	return ret;
}

/* publish's fields: [NAME=value...], NAME not one vigil sets, ${VAR} expanded in a value that
 * holds one. Returns 0, -EINVAL (message written) or -ENOMEM. */
static int build_fields(struct parse_ctx *pc, const char *path, const struct raw_publish *rp,
			struct vigil_publish_params *p)
{
	static const char *const own[] = {"incident", "signature", "workload", "action"};
	char key[24], at[PATH_LEN];
	size_t name;
	int ret;

	if (!rp->fields_count)
		return no_list(pc, path, "fields");
	if (rp->fields_count > VIGIL_PUBLISH_MAX_FIELDS)
		return cfg_fail(pc, path, "fields", "has %u entries, at most %d are allowed",
				rp->fields_count, VIGIL_PUBLISH_MAX_FIELDS);
	p->names = calloc(rp->fields_count, sizeof(*p->names));
	p->values = calloc(rp->fields_count, sizeof(*p->values));
	if (!p->names || !p->values)
		return -ENOMEM;
	p->nfields = rp->fields_count;
	for (unsigned int i = 0; i < rp->fields_count; i++) {
		const char *f = rp->fields[i];

		snprintf(key, sizeof(key), "fields[%u]", i);
		name = strcspn(f, "=");
		if (f[name] != '=' || !name || name > MAX_FIELD_NAME ||
		    strspn(f, WORD_CHARS ".-:") != name)
			return cfg_fail(
			    pc, path, key,
			    "'%s' must be NAME=value, NAME 1..%d of A-Z a-z 0-9 _ . - :", f,
			    MAX_FIELD_NAME);
		for (size_t k = 0; k < sizeof(own) / sizeof(own[0]); k++)
			if (strlen(own[k]) == name && !strncmp(f, own[k], name))
				return cfg_fail(pc, path, key,
						"'%s' is a field vigil sets itself (incident, "
						"signature, workload, action)",
						own[k]);
		p->names[i] = strndup(f, name);
		if (!p->names[i])
			return -ENOMEM;
		cfg_join_path(at, sizeof(at), path, key);
		ret = strstr(f + name + 1, "${") ? expand_env(pc, at, f + name + 1, &p->values[i])
						 : dup_str(f + name + 1, &p->values[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* publish: { redis, stream, fields, ack_timeout, group }. */
static int publish_params(struct parse_ctx *pc, const char *path, const void *raw, void **out)
{
	const struct raw_publish *rp = raw;
	struct vigil_publish_params *p = calloc(1, sizeof(*p));
	int ret;

	if (!p)
		return -ENOMEM;
	*out = p;
	ret = get_redis_url(pc, path, rp->redis, &p->url, &p->url_safe);
	if (!ret)
		ret = get_text(pc, path, "stream", rp->stream, MAX_KEY_LEN, &p->stream);
	if (!ret)
		ret = build_fields(pc, path, rp, p);
	if (!ret)
		ret = get_duration(pc, path, "ack_timeout", rp->ack_timeout, 0, true,
				   &p->ack_timeout_ms);
	if (!ret && rp->group)
		ret = get_text(pc, path, "group", rp->group, MAX_KEY_LEN, &p->group);
	return ret;
}

/* http: { url, method, body, bearer_token_file, timeout } — url required, method POST and
 * timeout 10s (at most 5m) by default. What they mean is checked by the kind (heal/http.c). */
static int http_params(struct parse_ctx *pc, const char *path, const void *raw, void **out)
{
	const struct raw_http *rh = raw;
	struct vigil_http_params *p;
	char at[5][PATH_LEN];
	int ret;

	if (!rh->url)
		return cfg_fail(pc, path, NULL, "missing required key 'url'");
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	*out = p;
	cfg_join_path(at[0], PATH_LEN, path, "url");
	cfg_join_path(at[1], PATH_LEN, path, "method");
	cfg_join_path(at[2], PATH_LEN, path, "body");
	cfg_join_path(at[3], PATH_LEN, path, "bearer_token_file");
	ret = get_str(pc, at[0], rh->url, NULL, &p->url);
	if (!ret)
		ret = get_str(pc, at[1], rh->method, "POST", &p->method);
	if (!ret && rh->body)
		ret = get_str(pc, at[2], rh->body, NULL, &p->body);
	if (!ret && rh->bearer_token_file)
		ret = get_str(pc, at[3], rh->bearer_token_file, NULL, &p->token_file);
	if (!ret)
		ret = get_duration(pc, path, "timeout", rh->timeout, VIGIL_HTTP_TIMEOUT_MS, true,
				   &p->timeout_ms);
	if (!ret && p->timeout_ms > VIGIL_HTTP_TIMEOUT_MAX_MS)
		ret = cfg_fail(pc, path, "timeout", "'%s' is longer than the 5m allowed",
			       rh->timeout);
	return ret;
}

/* rollback: { command: [argv...], env, timeout } — command required; timeout 5m by default. */
static int rollback_params(struct parse_ctx *pc, const char *path, const void *raw, void **out)
{
	const struct raw_rollback *rr = raw;
	struct vigil_rollback_params *p;
	int ret;

	if (!rr->command_count)
		return no_list(pc, path, "command");
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	*out = p;
	p->argc = rr->command_count;
	ret = get_duration(pc, path, "timeout", rr->timeout, VIGIL_ROLLBACK_TIMEOUT_MS, true,
			   &p->timeout_ms);
	if (!ret)
		ret = build_argv(pc, path, "command", rr->command, rr->command_count, &p->argv);
	if (!ret)
		ret = build_envp(pc, path, rr->env, rr->env_count, &p->envp, &p->envc);
	return ret;
}

/* Each kind the schema has (config/schema.c): its key under `action:`, which is its name in
 * the action table (heal/actions.c), where libcyaml put its raw mapping, and its params. */
static const struct {
	const char *kind;
	size_t raw; /* offsetof(struct raw_action, the kind's member), a pointer */
	params_fn params;
} action_shapes[] = {
    {"restart", offsetof(struct raw_action, restart), restart_params},
    {"cache_clear", offsetof(struct raw_action, cache_clear), cache_clear_params},
    {"set_flag", offsetof(struct raw_action, set_flag), set_flag_params},
    {"publish", offsetof(struct raw_action, publish), publish_params},
    {"http", offsetof(struct raw_action, http), http_params},
    {"rollback", offsetof(struct raw_action, rollback), rollback_params},
};

/* The rule's one action: its kind resolved through the action table, its params built, and
 * validated by the kind. Returns 0, -EINVAL (message written) or -ENOMEM. */
static int build_action(struct parse_ctx *pc, const char *base, const struct raw_action *ra,
			struct vigil_heal_rule *h)
{
	const struct vigil_action_ops *ops;
	const char *kind = NULL, *key = NULL;
	const void *raw = NULL, *r;
	char path[PATH_LEN], why[192] = "";
	params_fn params = NULL;
	int ret;

	for (size_t i = 0; i < sizeof(action_shapes) / sizeof(action_shapes[0]); i++) {
		r = *(const void *const *)((const char *)ra + action_shapes[i].raw);
		if (!r)
			continue;
		if (kind)
			return cfg_fail(pc, base, "action",
					"has two actions, %s and '%s'; a rule takes exactly one",
					kind, action_shapes[i].kind);
		kind = action_shapes[i].kind;
		raw = r;
		params = action_shapes[i].params;
	}
	if (!kind)
		return cfg_fail(pc, base, "action", "names no action; a rule takes exactly one");
	ops = vigil_action_find(kind);
	if (!ops)
		return cfg_fail(pc, base, "action",
				"action '%s' is not implemented yet in this version", kind);
	snprintf(path, sizeof(path), "%s.action.%s", base, kind);
	h->action.ops = ops;
	ret = params(pc, path, raw, &h->action.params);
	if (ret)
		return ret;
	if (!h->name && dup_str(ops->kind, &h->name)) /* the default name: the kind's */
		return -ENOMEM;
	ret = ops->validate ? ops->validate(&h->action, h, &key, why, sizeof(why)) : 0;
	if (ret == -EINVAL)
		return cfg_fail(pc, path, key, "%s", why);
	return ret;
}

/* retry: { attempts, backoff, max }. Absent: one attempt. Returns 0 or -EINVAL. */
static int build_retry(struct parse_ctx *pc, const char *base, const struct raw_retry *r,
		       struct vigil_heal_rule *h)
{
	const struct raw_retry none = {};
	uint64_t v = 1;
	int ret;

	if (!r)
		r = &none;
	else if (!r->attempts)
		return cfg_fail(pc, base, "retry", "missing required key 'attempts'");
	ret = get_uint(pc, base, "retry.attempts", r->attempts, 1, 1, VIGIL_RETRY_MAX_ATTEMPTS, &v);
	h->retry_attempts = v;
	if (!ret)
		ret = get_duration(pc, base, "retry.backoff", r->backoff, 10000, true,
				   &h->retry_backoff_ms);
	if (!ret)
		ret = get_duration(pc, base, "retry.max", r->max, 300000, true, &h->retry_max_ms);
	if (!ret && h->retry_max_ms < h->retry_backoff_ms)
		ret = cfg_fail(pc, base, "retry.max", "must not be shorter than retry.backoff");
	return ret;
}

static int build_rule(struct parse_ctx *pc, const char *base, const struct raw_rule *r,
		      struct vigil_heal_rule *h)
{
	enum vigil_class c;
	char key[24];
	uint64_t v;
	int ret;

	if (!r->on_count)
		return no_list(pc, base, "on");
	for (unsigned int i = 0; i < r->on_count; i++) {
		c = vigil_class_parse(r->on[i]);
		if (c == VIGIL_CLASS_NONE) {
			snprintf(key, sizeof(key), "on[%u]", i);
			return cfg_fail(pc, base, key, "unknown class '%s'", r->on[i]);
		}
		h->on_mask |= 1u << c;
	}
	if (r->name && !is_word(r->name, WORD_CHARS ".-"))
		return cfg_fail(pc, base, "name", "'%s' must be 1..%d of A-Za-z0-9_.-", r->name,
				MAX_NAME_LEN);
	if (!r->level)
		return cfg_fail(pc, base, NULL, "missing required key 'level'");
	if (get_uint(pc, base, "level", r->level, 0, 1, 3, &v))
		return -EINVAL;
	h->level = v;
	/* A delay elsewhere would read as if it did something: refuse it rather than ignore it. */
	if (r->delay && h->level != 2)
		return cfg_fail(pc, base, "delay", "only applies to level 2 rules");
	ret = get_duration(pc, base, "delay", r->delay, h->level == 2 ? 300000 : 0, false,
			   &h->delay_ms);
	if (ret)
		return ret;
	ret = build_retry(pc, base, r->retry, h);
	if (ret)
		return ret;
	if (!r->action)
		return cfg_fail(pc, base, NULL, "missing required key 'action'");
	if (r->name && dup_str(r->name, &h->name))
		return -ENOMEM;
	/* alert: NAME narrows an alert rule to one alertname; on anything else it would read as
	 * if it narrowed what it cannot. */
	if (r->alert && !(h->on_mask & (1u << VIGIL_CLASS_ALERT)))
		return cfg_fail(pc, base, "alert", "needs alert in on: (on: [alert])");
	if (r->alert && (!r->alert[0] || strlen(r->alert) > VIGIL_ALERT_NAME_MAX))
		return cfg_fail(pc, base, "alert", "must be 1 to %d bytes (an alertname)",
				VIGIL_ALERT_NAME_MAX);
	if (r->alert && dup_str(r->alert, &h->alert))
		return -ENOMEM;
	return build_action(pc, base, r->action, h);
}

/* alerts.match_labels: "name=value" each, name a Prometheus label name. Returns 0, -EINVAL
 * (message written) or -ENOMEM. */
static int build_walerts(struct parse_ctx *pc, const char *base, const struct raw_walerts *a,
			 struct vigil_workload *w)
{
	char key[48];

	if (!a)
		return 0;
	if (!a->match_labels_count)
		return no_list(pc, base, "alerts.match_labels");
	for (unsigned int i = 0; i < a->match_labels_count; i++) {
		const char *l = a->match_labels[i];
		size_t n = strcspn(l, "=");

		snprintf(key, sizeof(key), "alerts.match_labels[%u]", i);
		if (!l[n] || !n || n > VIGIL_ALERT_LABEL_NAME_MAX || strspn(l, WORD_CHARS) != n ||
		    strchr("0123456789", l[0]))
			return cfg_fail(pc, base, key,
					"'%s' is not name=value (a label name: A-Za-z0-9_, not "
					"starting with a digit)",
					l);
	}
	if (cfg_dup_strv(a->match_labels, a->match_labels_count, &w->alert_labels))
		return -ENOMEM;
	w->n_alert_labels = a->match_labels_count;
	return 0;
}

/* detect: the thresholds of the derived classes. Returns 0, -EINVAL (message written). */
static int build_detect(struct parse_ctx *pc, const char *base, const struct raw_detect *d,
			struct vigil_workload *w)
{
	uint64_t v = 0;
	int ret;

	ret = get_uint(pc, base, "detect.crash_loop_exits", d->crash_loop_exits, 3, 2,
		       VIGIL_CRASH_LOOP_MAX, &v);
	w->crash_loop_exits = v;
	if (!ret)
		ret = get_duration(pc, base, "detect.crash_loop_window", d->crash_loop_window,
				   60000, true, &w->crash_loop_window_ms);
	if (!ret)
		ret = get_uint(pc, base, "detect.retransmits_per_s", d->retransmits_per_s, 10, 1,
			       1000000, &v);
	w->retransmits_per_s = v;
	if (!ret)
		ret = get_uint(pc, base, "detect.conn_errors_per_s", d->conn_errors_per_s, 5, 1,
			       1000000, &v);
	w->conn_errors_per_s = v;
	if (!ret)
		ret = get_uint(pc, base, "detect.slo_intervals", d->slo_intervals, 3, 1, 60, &v);
	w->slo_intervals = v;
	return ret;
}

/* quiet.ports and quiet.on_timeout. Returns 0 or -EINVAL. */
static int build_quiet(struct parse_ctx *pc, const struct vigil_config *cfg, const char *base,
		       const struct raw_quiet *q, struct vigil_workload *w)
{
	char key[40];
	uint64_t v;
	int ret = 0;

	if (q->ports && !q->ports_count)
		return no_list(pc, base, "quiet.ports");
	if (q->ports_count > VIGIL_QUIET_MAX_PORTS)
		return cfg_fail(pc, base, "quiet.ports", "has %u entries, at most %d are allowed",
				q->ports_count, VIGIL_QUIET_MAX_PORTS);
	for (unsigned int k = 0; !ret && k < q->ports_count; k++) {
		snprintf(key, sizeof(key), "quiet.ports[%u]", k);
		ret = get_uint(pc, base, key, q->ports[k], 0, 1, 65535, &v);
		w->quiet_ports[k] = (uint16_t)v;
	}
	w->n_quiet_ports = q->ports_count;
	if (!ret && q->busy_key) {
		if (!cfg->redis_url)
			return cfg_fail(pc, base, "quiet.busy_key",
					"needs redis.url: the key is looked up in that Redis");
		if (!q->busy_key[0] || strlen(q->busy_key) > 512)
			return cfg_fail(pc, base, "quiet.busy_key", "must be 1 to 512 bytes");
		ret = dup_str(q->busy_key, &w->quiet_busy_key);
	}
	if (ret || !q->on_timeout)
		return ret;
	if (!strcmp(q->on_timeout, "escalate"))
		w->quiet_on_timeout = VIGIL_QUIET_ESCALATE;
	else if (!strcmp(q->on_timeout, "restart"))
		w->quiet_on_timeout = VIGIL_QUIET_RESTART;
	else
		return cfg_fail(pc, base, "quiet.on_timeout", "'%s' is not escalate or restart",
				q->on_timeout);
	return 0;
}

static int build_workload(struct parse_ctx *pc, const struct vigil_config *cfg, unsigned int i,
			  const struct raw_workload *r)
{
	const struct raw_breaker *b = r->breaker ? r->breaker : &(struct raw_breaker){0};
	const struct raw_quiet *q = r->quiet ? r->quiet : &(struct raw_quiet){0};
	const struct raw_detect *dt = r->detect ? r->detect : &(struct raw_detect){0};
	struct vigil_workload *w = &cfg->workloads[i];
	char base[24], rule[64];
	uint64_t v = 0;
	int ret;

	snprintf(base, sizeof(base), "workloads[%u]", i);
	if (!r->name)
		return cfg_fail(pc, base, NULL, "missing required key 'name'");
	if (!is_word(r->name, WORD_CHARS ".-"))
		return cfg_fail(pc, base, "name", "'%s' must be 1 to %d of A-Z a-z 0-9 _ . -",
				r->name, MAX_NAME_LEN);
	for (unsigned int j = 0; j < i; j++)
		if (!strcmp(cfg->workloads[j].name, r->name))
			return cfg_fail(pc, base, "name",
					"'%s' is already the name of workloads[%u]", r->name, j);
	if (dup_str(r->name, &w->name))
		return -ENOMEM;
	ret = build_match(pc, base, r->match, &w->match);
	if (!ret && r->supervisor && strcmp(r->supervisor, "vigil") &&
	    strcmp(r->supervisor, "external"))
		ret = cfg_fail(pc, base, "supervisor",
			       "'%s' is not vigil (vigil starts what it restarts) or external "
			       "(kubelet, systemd, runit... do)",
			       r->supervisor);
	w->supervisor_external = r->supervisor && !strcmp(r->supervisor, "external");
	if (!ret && r->latency)
		ret = build_latency(pc, base, r->latency, w);
	w->trace_bytes = VIGIL_TRACE_BYTES_DEFAULT;
	if (!ret && r->trace)
		ret = build_trace(pc, base, r->trace, w);
	if (!ret)
		ret = cfg_build_policy(pc, base, r->policy, w);
	if (!ret)
		ret = build_walerts(pc, base, r->alerts, w);
	if (!ret && r->heal_count) {
		w->heal = calloc(r->heal_count, sizeof(*w->heal));
		if (!w->heal)
			return -ENOMEM;
		w->n_heal = r->heal_count;
	}
	for (unsigned int j = 0; !ret && j < r->heal_count; j++) {
		snprintf(rule, sizeof(rule), "%s.heal[%u]", base, j);
		ret = build_rule(pc, rule, &r->heal[j], &w->heal[j]);
		if (!ret && w->supervisor_external && w->heal[j].action.ops == &vigil_restart_ops &&
		    ((struct vigil_restart_params *)w->heal[j].action.params)->mode ==
			VIGIL_RESTART_EXEC) {
			snprintf(rule, sizeof(rule), "%s.heal[%u].action.restart", base, j);
			ret = cfg_fail(pc, rule, "exec",
				       "the workload's supervisor is external: vigil must not "
				       "start it too (two would run); use signal or command");
		}
		/* The knowledge store tells two actions for one class apart by name alone. */
		for (unsigned int k = 0; !ret && k < j; k++)
			if ((w->heal[k].on_mask & w->heal[j].on_mask) &&
			    !strcmp(w->heal[k].name, w->heal[j].name))
				ret = cfg_fail(pc, rule, NULL,
					       "name '%s' is also heal[%u]'s, for the same class: "
					       "give each rule a name of its own",
					       w->heal[j].name, k);
		/* Last: a rule well formed in itself, then held to what its workload allows. */
		if (!ret)
			ret = cfg_check_rule_policy(pc, rule, w, &w->heal[j]);
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
		ret = build_quiet(pc, cfg, base, q, w);
	if (!ret)
		ret = get_duration(pc, base, "verify", r->verify, 2000, true, &w->verify_ms);
	if (!ret)
		ret = get_duration(pc, base, "approval_timeout", r->approval_timeout, 3600000, true,
				   &w->approval_timeout_ms);
	if (!ret)
		ret = build_detect(pc, base, dt, w);
	return ret;
}

/* redis: where the sink writes, and its spool. Returns 0, -EINVAL or -ENOMEM. */
static int build_redis(struct parse_ctx *pc, const struct raw_redis *rd, struct vigil_config *cfg)
{
	int ret;

	if (rd->url && *rd->url && strncmp(rd->url, "redis://", 8) &&
	    strncmp(rd->url, "unix://", 7))
		return cfg_fail(pc, "redis", "url",
				"'%s' must start with redis:// (host) or unix:// (socket path)",
				rd->url);
	ret = get_str(pc, "redis.url", rd->url, NULL, &cfg->redis_url);
	if (!ret && rd->prefix && !is_word(rd->prefix, WORD_CHARS ":"))
		ret = cfg_fail(pc, "redis", "prefix",
			       "'%s' must be 1..%d of A-Za-z0-9_.-:", rd->prefix, MAX_NAME_LEN);
	if (!ret)
		ret = get_str(pc, "redis.prefix", rd->prefix, "vigil", &cfg->redis_prefix);
	if (!ret)
		ret = get_str(pc, "redis.username", rd->username, NULL, &cfg->redis_username);
	if (!ret && rd->password)
		ret = expand_env(pc, "redis.password", rd->password, &cfg->redis_password);
	if (!ret)
		ret = need_abs(pc, "redis", "spool", rd->spool);
	if (!ret)
		ret = get_str(pc, "redis.spool", rd->spool, "/var/lib/vigil/redis.spool",
			      &cfg->redis_spool);
	if (!ret)
		ret = get_uint(pc, "redis", "spool_max_mb", rd->spool_max_mb, 256, 1, 1 << 20,
			       &cfg->redis_spool_max_mb);
	if (!ret)
		ret = get_uint(pc, "redis", "maxlen", rd->maxlen, 100000, 100, 1ull << 32,
			       &cfg->redis_maxlen);
	return ret;
}

/* journal_max_mb (0: never rotate), journal_keep, journal_fsync (output/journal.h). Returns 0
 * or -EINVAL. */
static int build_journal(struct parse_ctx *pc, const struct raw_config *r, struct vigil_config *c)
{
	static const char *const fsyncs[] = {"none", "interval", "always"};
	uint64_t keep = 0;
	int ret = get_uint(pc, "", "journal_max_mb", r->journal_max_mb, 64, 0, 1 << 20,
			   &c->journal_max_mb);

	if (!ret)
		ret = get_uint(pc, "", "journal_keep", r->journal_keep, 5, 0,
			       VIGIL_JOURNAL_KEEP_MAX, &keep);
	c->journal_keep = (unsigned int)keep;
	c->journal_fsync = VIGIL_FSYNC_INTERVAL;
	if (ret || !r->journal_fsync)
		return ret;
	for (int i = 0; i < 3; i++) {
		if (!strcmp(r->journal_fsync, fsyncs[i])) {
			c->journal_fsync = i;
			return 0;
		}
	}
	return cfg_fail(pc, "", "journal_fsync", "'%s' is not none, interval or always",
			r->journal_fsync);
}

/* postgres: where the PostgreSQL sink writes, and its spool. Returns 0, -EINVAL or -ENOMEM. */
static int build_postgres(struct parse_ctx *pc, const struct raw_postgres *pg,
			  struct vigil_config *cfg)
{
	int ret = 0;

	if (pg->url && strncmp(pg->url, "postgresql://", 13) && strncmp(pg->url, "postgres://", 11))
		return cfg_fail(pc, "postgres", "url", "must start with postgresql://");
	if (pg->password && pg->password_file)
		return cfg_fail(pc, "postgres", "password_file",
				"password is set too: one or the other");
	ret = get_str(pc, "postgres.url", pg->url, NULL, &cfg->pg_url);
	if (!ret && pg->password)
		ret = expand_env(pc, "postgres.password", pg->password, &cfg->pg_password);
	ret = ret ?: need_abs(pc, "postgres", "password_file", pg->password_file);
	ret = ret
		  ?: get_str(pc, "postgres.password_file", pg->password_file, NULL,
			     &cfg->pg_password_file);
	ret = ret ?: need_abs(pc, "postgres", "spool", pg->spool);
	ret = ret
		  ?: get_str(pc, "postgres.spool", pg->spool, "/var/lib/vigil/postgres.spool",
			     &cfg->pg_spool);
	return ret
		   ?: get_uint(pc, "postgres", "spool_max_mb", pg->spool_max_mb, 256, 1, 1 << 20,
			       &cfg->pg_spool_max_mb);
}

/* A header's name: an HTTP token (RFC 9110), and not one the sink sets itself. */
static bool header_name_ok(const char *s)
{
	static const char *const own[] = {"content-type", "content-length", "expect", "host",
					  "transfer-encoding"};

	if (!*s || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
			     "!#$%&'*+-.^_`|~") != strlen(s))
		return false;
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (!strcasecmp(s, own[i]))
			return false;
	return true;
}

/* otlp.headers, each "Name: value" with ${VAR} expanded. Returns 0, -EINVAL or -ENOMEM. */
static int build_otlp_headers(struct parse_ctx *pc, struct vigil_config *cfg)
{
	struct cfg_pairs p = {0};
	char path[PATH_LEN], *val = NULL;
	int ret = cfg_string_map(pc, "otlp.headers", &p);

	if (ret)
		return ret;
	if (p.n) {
		cfg->otlp_headers = calloc(p.n + 1, sizeof(*cfg->otlp_headers));
		ret = cfg->otlp_headers ? 0 : -ENOMEM;
	}
	for (unsigned int i = 0; !ret && i < p.n; i++) {
		if (!header_name_ok(p.keys[i])) {
			ret = cfg_fail(pc, "otlp.headers", p.keys[i],
				       "'%s' is not a header name vigil may set", p.keys[i]);
			break;
		}
		snprintf(path, sizeof(path), "otlp.headers.%s", p.keys[i]);
		ret = expand_env(pc, path, p.vals[i], &val);
		if (!ret && strpbrk(val, "\r\n"))
			ret = cfg_fail(pc, "otlp.headers", p.keys[i], "a line break in the value");
		if (!ret && asprintf(&cfg->otlp_headers[i], "%s: %s", p.keys[i], val) < 0) {
			cfg->otlp_headers[i] = NULL;
			ret = -ENOMEM;
		}
		if (!ret)
			cfg->otlp_n_headers++;
		if (val)
			explicit_bzero(val, strlen(val));
		free(val);
		val = NULL;
	}
	cfg_pairs_free(&p);
	return ret;
}

/* otlp: where the OTLP sink sends, how, and its spool. Returns 0, -EINVAL or -ENOMEM. */
static int build_otlp(struct parse_ctx *pc, const struct raw_otlp *o, struct vigil_config *cfg)
{
	int ret;

	if (o->endpoint && strncmp(o->endpoint, "http://", 7) &&
	    strncmp(o->endpoint, "https://", 8))
		return cfg_fail(pc, "otlp", "endpoint", "'%s' must start with http:// or https://",
				o->endpoint);
	if (o->endpoint && strpbrk(o->endpoint, "?#"))
		return cfg_fail(pc, "otlp", "endpoint",
				"no query or fragment: /v1/logs is appended to it");
	ret = get_str(pc, "otlp.endpoint", o->endpoint, NULL, &cfg->otlp_endpoint);
	ret = ret
		  ?: get_duration(pc, "otlp", "timeout", o->timeout, 10000, true,
				  &cfg->otlp_timeout_ms);
	ret = ret ?: need_abs(pc, "otlp", "spool", o->spool);
	ret = ret
		  ?: get_str(pc, "otlp.spool", o->spool, "/var/lib/vigil/otlp.spool",
			     &cfg->otlp_spool);
	ret = ret
		  ?: get_uint(pc, "otlp", "spool_max_mb", o->spool_max_mb, 256, 1, 1 << 20,
			      &cfg->otlp_spool_max_mb);
	return ret ?: build_otlp_headers(pc, cfg);
}

/* metrics: the HTTP endpoint's address (numeric: nothing is resolved). */
static int build_metrics(struct parse_ctx *pc, const struct raw_metrics *m,
			 struct vigil_config *cfg)
{
	struct sockaddr_storage ss;
	const char *why;

	if (m->listen && vigil_parse_hostport(m->listen, &ss, &why))
		return cfg_fail(pc, "metrics", "listen", "'%s': %s", m->listen, why);
	return get_str(pc, "metrics.listen", m->listen, NULL, &cfg->metrics_listen);
}

/* alerts: POST /v1/alerts's bearer token file and who may post. A remote peer must bring a
 * token: allow_remote without token_file is refused. */
static int build_alerts(struct parse_ctx *pc, const struct raw_alerts *a, struct vigil_config *cfg)
{
	int ret;

	ret = cfg_bool(pc, "alerts", "allow_remote", a->allow_remote, &cfg->alerts_allow_remote);
	if (!ret && cfg->alerts_allow_remote && !a->token_file)
		ret = cfg_fail(pc, "alerts", "allow_remote",
			       "needs alerts.token_file: a peer beyond loopback must bring the "
			       "bearer token");
	if (!ret && (a->token_file || a->allow_remote) && !cfg->metrics_listen)
		ret = cfg_fail(pc, "alerts", NULL,
			       "needs metrics.listen: POST /v1/alerts is served on that listener");
	return ret ?: need_abs(pc, "alerts", "token_file", a->token_file)
		   ?: get_str(pc, "alerts.token_file", a->token_file, NULL,
			      &cfg->alerts_token_file);
}

/* k8s: whether vigil learns the pods of processes, where the runtimes keep their state, and
 * whether a process's own files may name its pod. Returns 0, -EINVAL or -ENOMEM. */
static int build_k8s(struct parse_ctx *pc, const struct raw_k8s *k, struct vigil_config *cfg)
{
	static const char *const words[][2] = {{"true", "false"}, {"yes", "no"}, {"on", "off"}};
	int ret = 0;

	cfg->k8s = VIGIL_K8S_AUTO;
	for (size_t i = 0; k->enabled && i < sizeof(words) / sizeof(words[0]); i++) {
		if (!strcmp(k->enabled, words[i][0]))
			cfg->k8s = VIGIL_K8S_ON;
		if (!strcmp(k->enabled, words[i][1]))
			cfg->k8s = VIGIL_K8S_OFF;
	}
	if (k->enabled && cfg->k8s == VIGIL_K8S_AUTO && strcmp(k->enabled, "auto"))
		return cfg_fail(pc, "k8s", "enabled", "'%s' is not auto, true or false",
				k->enabled);
	cfg->k8s_proc_fallback = true;
	if (k->proc_fallback)
		ret =
		    cfg_bool(pc, "k8s", "proc_fallback", k->proc_fallback, &cfg->k8s_proc_fallback);
	ret = ret ?: need_abs(pc, "k8s", "containerd", k->containerd);
	ret = ret ?: need_abs(pc, "k8s", "crio", k->crio);
	ret = ret
		  ?: get_str(pc, "k8s.containerd", k->containerd, VIGIL_K8S_CONTAINERD_DIR,
			     &cfg->k8s_containerd);
	return ret ?: get_str(pc, "k8s.crio", k->crio, VIGIL_K8S_CRIO_DIR, &cfg->k8s_crio);
}

/* The top level, then each workload in turn. Returns 0, -EINVAL (the message written) or
 * -ENOMEM. */
int cfg_build(struct parse_ctx *pc, const struct raw_config *r, struct vigil_config *cfg)
{
	const struct raw_redis *rd = r->redis ? r->redis : &(struct raw_redis){0};
	char host[HOST_NAME_MAX + 1];
	int ret;

	if (dup_str(pc->name, &cfg->source))
		return -ENOMEM;
	if (r->node) {
		ret = expand_env(pc, "node", r->node, &cfg->node);
	} else if (gethostname(host, sizeof(host))) {
		ret = -errno;
		cfg_report(pc, (struct yaml_pos){1, 1}, "node", "unset, and no hostname: %s",
			   strerror(-ret));
	} else {
		host[sizeof(host) - 1] = '\0';
		ret = dup_str(host, &cfg->node);
	}
	if (!ret)
		ret = get_str(pc, "journal", r->journal, "/var/lib/vigil/journal.jsonl",
			      &cfg->journal);
	if (!ret)
		ret = need_abs(pc, "", "journal", r->journal);
	if (!ret)
		ret = get_bool(pc, "observe_all", r->observe_all, &cfg->observe_all);
	if (!ret)
		ret = get_duration(pc, "", "window", r->window, 60000, true, &cfg->window_ms);
	if (!ret)
		ret = build_journal(pc, r, cfg);
	if (!ret)
		ret = need_abs(pc, "", "knowledge", r->knowledge);
	if (!ret)
		ret = get_str(pc, "knowledge", r->knowledge, "/var/lib/vigil/knowledge.json",
			      &cfg->knowledge);
	if (!ret)
		ret = need_abs(pc, "", "state", r->state);
	if (!ret)
		ret = get_str(pc, "state", r->state, "/var/lib/vigil/state.json", &cfg->state);
	if (!ret)
		ret = build_redis(pc, rd, cfg);
	if (!ret)
		ret =
		    get_uint(pc, "", "max_incidents", r->max_incidents, VIGIL_INCIDENTS_MAX_DEFAULT,
			     16, VIGIL_INCIDENTS_MAX_LIMIT, &cfg->max_incidents);
	if (!ret)
		ret = get_uint(pc, "", "observe_all_rate", r->observe_all_rate,
			       VIGIL_UNWATCHED_RATE_DEFAULT, 1, VIGIL_UNWATCHED_RATE_LIMIT,
			       &cfg->observe_all_rate);
	if (!ret)
		ret = build_postgres(pc, r->postgres ?: &(struct raw_postgres){0}, cfg);
	if (!ret)
		ret = build_otlp(pc, r->otlp ?: &(struct raw_otlp){0}, cfg);
	if (!ret)
		ret = build_metrics(pc, r->metrics ?: &(struct raw_metrics){0}, cfg);
	if (!ret)
		ret = build_alerts(pc, r->alerts ?: &(struct raw_alerts){0}, cfg);
	if (!ret)
		ret = build_k8s(pc, r->k8s ?: &(struct raw_k8s){0}, cfg);
	if (ret)
		return ret;
	if (r->workloads_count > VIGIL_MAX_WORKLOADS)
		return cfg_fail(pc, "workloads", NULL, "%u workloads, at most %d are allowed",
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
