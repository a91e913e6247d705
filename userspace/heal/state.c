// SPDX-License-Identifier: Apache-2.0
/*
 * state: the healer's durable state as JSON, and its file (see state.h). Written with the one
 * JSON writer, read back with jansson, every member checked: whatever the file or Redis holds,
 * what the healer is given back is what vigil could have written.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/classes.h"
#include "core/files.h"
#include "core/json.h"
#include "heal/state.h"
#include "output/records.h"

/* --- the structure ------------------------------------------------------------------------ */

/* Grow an array of n elements of size sz by one, zeroed. Returns the new element or NULL. */
static void *grow(void **arr, size_t *n, size_t sz)
{
	char *a = realloc(*arr, (*n + 1) * sz);

	if (!a)
		return NULL;
	*arr = a;
	memset(a + *n * sz, 0, sz);
	return a + (*n)++ * sz;
}

struct vigil_state_workload *vigil_state_add_workload(struct vigil_heal_state *s)
{
	return grow((void **)&s->wl, &s->n_wl, sizeof(*s->wl));
}

struct vigil_state_item *vigil_state_add_item(struct vigil_heal_state *s)
{
	return grow((void **)&s->items, &s->n_items, sizeof(*s->items));
}

void vigil_state_clear(struct vigil_heal_state *s)
{
	free(s->wl);
	free(s->items);
	memset(s, 0, sizeof(*s));
}

/* --- writing ------------------------------------------------------------------------------ */

static const char *const breaker_names[] = {
    [VIGIL_BREAKER_CLOSED] = "closed",
    [VIGIL_BREAKER_OPEN] = "open",
    [VIGIL_BREAKER_HALF_OPEN] = "half_open",
};

/* jansson reads signed integers only: clamp (a wall clock reaches it in 2262). */
static uint64_t as_int(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : v;
}

static void incident_json(struct vigil_json *j, const struct vigil_incident_saved *i)
{
	vigil_json_object_begin(j, "incident");
	vigil_json_str(j, "id", i->id);
	vigil_json_str(j, "signature", i->signature);
	vigil_json_str(j, "class", vigil_class_name(i->cls));
	vigil_json_str(j, "workload", i->workload_name);
	vigil_json_str(j, "title", i->title);
	vigil_json_str(j, "detail", i->detail);
	vigil_json_u64(j, "count", as_int(i->count));
	vigil_json_u64(j, "pid", i->tgid);
	vigil_json_i64(j, "signal", i->signal);
	vigil_json_i64(j, "exit_code", i->status);
	vigil_json_bool(j, "core_dumped", i->core_dumped);
	vigil_json_bool(j, "lossy", i->lossy);
	vigil_json_u64(j, "lost", as_int(i->lost));
	vigil_json_u64(j, "opened_at_ns", as_int(i->opened_wall_ns));
	vigil_json_u64(j, "detect_ns", as_int(i->detect_ns));
	vigil_json_object_end(j);
}

/* The items of one kind as the array key. Returns how many were written, at most left. */
static size_t items_json(struct vigil_json *j, const struct vigil_heal_state *s,
			 enum vigil_state_kind kind, const char *key, size_t left)
{
	size_t n = 0;

	vigil_json_array_begin(j, key);
	for (size_t i = 0; i < s->n_items && n < left; i++) {
		const struct vigil_state_item *it = &s->items[i];

		if (it->kind != kind)
			continue;
		vigil_json_object_begin(j, NULL);
		vigil_json_str(j, "rule", it->rule);
		vigil_json_u64(j, kind == VIGIL_STATE_PENDING ? "due_ns" : "since_ns",
			       as_int(it->at_wall_ns));
		if (kind == VIGIL_STATE_PENDING)
			vigil_json_bool(j, "approved", it->approved);
		incident_json(j, &it->inc);
		vigil_json_object_end(j);
		n++;
	}
	vigil_json_array_end(j);
	return n;
}

void vigil_state_members(struct vigil_json *j, const struct vigil_heal_state *s, const char *node)
{
	size_t written;

	vigil_json_i64(j, "version", VIGIL_STATE_VERSION);
	vigil_json_str(j, "node", node ? node : "");
	vigil_json_u64(j, "saved_at_ns", as_int(s->saved_wall_ns));
	vigil_json_array_begin(j, "workloads");
	for (size_t i = 0; i < s->n_wl; i++) {
		const struct vigil_state_workload *w = &s->wl[i];

		vigil_json_object_begin(j, NULL);
		vigil_json_str(j, "name", w->name);
		vigil_json_str(j, "breaker", breaker_names[w->breaker]);
		vigil_json_u64(j, "opened_at_ns", as_int(w->opened_wall_ns));
		vigil_json_array_begin(j, "failures_ns");
		for (unsigned int f = 0; f < w->n_fails; f++)
			vigil_json_u64(j, NULL, as_int(w->fails_wall_ns[f]));
		vigil_json_array_end(j);
		vigil_json_u64(j, "restarts", w->restarts);
		vigil_json_u64(j, "last_restart_ns", as_int(w->last_restart_wall_ns));
		vigil_json_object_end(j);
	}
	vigil_json_array_end(j);
	/* Approvals first: a person was asked about them; a pending heal can be redone. */
	written = items_json(j, s, VIGIL_STATE_AWAITING, "awaiting", VIGIL_STATE_ITEMS_MAX);
	items_json(j, s, VIGIL_STATE_PENDING, "pending", VIGIL_STATE_ITEMS_MAX - written);
}

int vigil_state_to_json(struct vigil_json *j, const struct vigil_heal_state *s, const char *node)
{
	vigil_json_begin(j);
	vigil_state_members(j, s, node);
	return vigil_json_end(j);
}

/* --- reading ------------------------------------------------------------------------------ */

static void say(char *msg, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *msg, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!len)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, len, fmt, ap);
	va_end(ap);
}

/* Where a member is, for messages: "workloads[2]", "pending[0].incident". */
struct at {
	const char *what;
	size_t i;
	const char *sub; /* NULL or "incident" */
};

static int bad(const struct at *at, char *why, size_t len, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int bad(const struct at *at, char *why, size_t len, const char *key, const char *fmt, ...)
{
	char text[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	say(why, len, "%s[%zu]%s%s: '%s' %s", at->what, at->i, at->sub ? "." : "",
	    at->sub ? at->sub : "", key, text);
	return -EBADMSG;
}

/* A string member of 1..size-1 bytes (empty allowed when may_be_empty); printable ASCII when
 * ascii. Returns 0 or -EBADMSG with why. */
static int get_str(const json_t *o, const char *key, char *buf, size_t size, bool may_be_empty,
		   bool ascii, const struct at *at, char *why, size_t len)
{
	const json_t *v = json_object_get(o, key);
	size_t n;

	if (!json_is_string(v))
		return bad(at, why, len, key, "is %s, not a string",
			   v ? "another type" : "missing");
	n = json_string_length(v);
	if (n >= size || (!n && !may_be_empty))
		return bad(at, why, len, key, "is %zu bytes long (%d to %zu)", n, !may_be_empty,
			   size - 1);
	for (size_t k = 0; ascii && k < n; k++) {
		unsigned char c = (unsigned char)json_string_value(v)[k];

		if (c < 0x20 || c > 0x7e)
			return bad(at, why, len, key, "has byte 0x%02x: not printable ASCII", c);
	}
	memcpy(buf, json_string_value(v), n + 1);
	return 0;
}

/* A name vigil writes ([A-Za-z0-9_.-]{1,63}: workloads, rules), or 16 hex digits (hex). */
static int get_name(const json_t *o, const char *key, char *buf, size_t size, bool hex,
		    const struct at *at, char *why, size_t len)
{
	int err = get_str(o, key, buf, size, false, true, at, why, len);

	if (err)
		return err;
	for (const char *p = buf; *p; p++) {
		bool ok = hex ? (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')
			      : strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "0123456789_.-",
				       *p) != NULL;

		if (!ok)
			return bad(at, why, len, key, "is not a name vigil writes");
	}
	if (hex && strlen(buf) != 16)
		return bad(at, why, len, key, "is not 16 hex digits");
	return 0;
}

/* An integer member in min..max. Returns 0 or -EBADMSG with why. */
static int get_int(const json_t *o, const char *key, int64_t min, int64_t max, int64_t *out,
		   const struct at *at, char *why, size_t len)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		return bad(at, why, len, key, "is %s, not an integer",
			   v ? "another type" : "missing");
	if (json_integer_value(v) < min || json_integer_value(v) > max)
		return bad(at, why, len, key, "is out of range %lld..%lld", (long long)min,
			   (long long)max);
	*out = json_integer_value(v);
	return 0;
}

static int get_bool(const json_t *o, const char *key, bool *out, const struct at *at, char *why,
		    size_t len)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_boolean(v))
		return bad(at, why, len, key, "is %s, not a boolean",
			   v ? "another type" : "missing");
	*out = json_is_true(v);
	return 0;
}

static int parse_incident(const json_t *o, struct vigil_incident_saved *i, struct at *at, char *why,
			  size_t len)
{
	char cls[32];
	int64_t v = 0;
	int err;

	at->sub = "incident";
	if (!json_is_object(o)) {
		say(why, len, "%s[%zu]: 'incident' is not an object", at->what, at->i);
		return -EBADMSG;
	}
	err = get_name(o, "id", i->id, sizeof(i->id), true, at, why, len);
	err =
	    err ?: get_name(o, "signature", i->signature, sizeof(i->signature), true, at, why, len);
	err = err ?: get_str(o, "class", cls, sizeof(cls), false, true, at, why, len);
	if (!err) {
		i->cls = vigil_class_parse(cls);
		if (i->cls == VIGIL_CLASS_NONE)
			err = bad(at, why, len, "class", "is not a fault class");
	}
	err = err
		  ?: get_name(o, "workload", i->workload_name, sizeof(i->workload_name), false, at,
			      why, len);
	err = err ?: get_str(o, "title", i->title, sizeof(i->title), true, false, at, why, len);
	err = err ?: get_str(o, "detail", i->detail, sizeof(i->detail), true, false, at, why, len);
	err = err ?: get_int(o, "count", 1, INT64_MAX, &v, at, why, len);
	i->count = (uint64_t)v;
	err = err ?: get_int(o, "pid", 0, UINT32_MAX, &v, at, why, len);
	i->tgid = (uint32_t)v;
	err = err ?: get_int(o, "signal", 0, 255, &v, at, why, len);
	i->signal = (int)v;
	err = err ?: get_int(o, "exit_code", -255, 255, &v, at, why, len);
	i->status = (int)v;
	err = err ?: get_bool(o, "core_dumped", &i->core_dumped, at, why, len);
	err = err ?: get_bool(o, "lossy", &i->lossy, at, why, len);
	err = err ?: get_int(o, "lost", 0, INT64_MAX, &v, at, why, len);
	i->lost = (uint64_t)v;
	err = err ?: get_int(o, "opened_at_ns", 1, INT64_MAX, &v, at, why, len);
	i->opened_wall_ns = (uint64_t)v;
	err = err ?: get_int(o, "detect_ns", 0, INT64_MAX, &v, at, why, len);
	i->detect_ns = (uint64_t)v;
	at->sub = NULL;
	return err;
}

static int parse_workload(const json_t *o, struct vigil_state_workload *w, struct at *at, char *why,
			  size_t len)
{
	const json_t *fails = json_object_get(o, "failures_ns"), *f;
	char state[16];
	int64_t v = 0;
	size_t k;
	int err;

	if (!json_is_object(o)) {
		say(why, len, "workloads[%zu] is not an object", at->i);
		return -EBADMSG;
	}
	err = get_name(o, "name", w->name, sizeof(w->name), false, at, why, len);
	err = err ?: get_str(o, "breaker", state, sizeof(state), false, true, at, why, len);
	if (err)
		return err;
	for (k = 0; k < 3 && strcmp(state, breaker_names[k]); k++)
		;
	if (k == 3)
		return bad(at, why, len, "breaker", "is not closed, open or half_open");
	w->breaker = (enum vigil_breaker_state)k;
	err = get_int(o, "opened_at_ns", 0, INT64_MAX, &v, at, why, len);
	w->opened_wall_ns = (uint64_t)v;
	err = err ?: get_int(o, "restarts", 0, 1000000, &v, at, why, len);
	w->restarts = (unsigned int)v;
	err = err ?: get_int(o, "last_restart_ns", 0, INT64_MAX, &v, at, why, len);
	w->last_restart_wall_ns = (uint64_t)v;
	if (err)
		return err;
	if (!json_is_array(fails) || json_array_size(fails) > VIGIL_STATE_FAILS)
		return bad(at, why, len, "failures_ns", "is not an array of at most %d",
			   VIGIL_STATE_FAILS);
	json_array_foreach(fails, k, f)
	{
		if (!json_is_integer(f) || json_integer_value(f) < 0)
			return bad(at, why, len, "failures_ns", "holds something not a time");
		w->fails_wall_ns[w->n_fails++] = (uint64_t)json_integer_value(f);
	}
	if (w->breaker != VIGIL_BREAKER_CLOSED && !w->opened_wall_ns)
		return bad(at, why, len, "opened_at_ns", "is 0 for a breaker that opened");
	return 0;
}

/* The items of array key, of kind. Returns 0, -EBADMSG with why, or -ENOMEM. */
static int parse_items(const json_t *root, const char *key, enum vigil_state_kind kind,
		       struct vigil_heal_state *s, char *why, size_t len)
{
	const json_t *arr = json_object_get(root, key), *o;
	struct at at = {.what = key};
	size_t i;

	if (!json_is_array(arr)) {
		say(why, len, "'%s' is not an array", key);
		return -EBADMSG;
	}
	json_array_foreach(arr, i, o)
	{
		struct vigil_state_item *it;
		int64_t v = 0;
		int err;

		at.i = i;
		if (s->n_items == VIGIL_STATE_ITEMS_MAX) {
			say(why, len, "more than %d pending heals and approvals",
			    VIGIL_STATE_ITEMS_MAX);
			return -EBADMSG;
		}
		if (!json_is_object(o)) {
			say(why, len, "%s[%zu] is not an object", key, i);
			return -EBADMSG;
		}
		it = vigil_state_add_item(s);
		if (!it)
			return -ENOMEM;
		it->kind = kind;
		err = get_name(o, "rule", it->rule, sizeof(it->rule), false, &at, why, len);
		err = err
			  ?: get_int(o, kind == VIGIL_STATE_PENDING ? "due_ns" : "since_ns", 0,
				     INT64_MAX, &v, &at, why, len);
		it->at_wall_ns = (uint64_t)v;
		if (!err && kind == VIGIL_STATE_PENDING)
			err = get_bool(o, "approved", &it->approved, &at, why, len);
		err =
		    err ?: parse_incident(json_object_get(o, "incident"), &it->inc, &at, why, len);
		if (err)
			return err;
		for (size_t k = 0; k + 1 < s->n_items; k++) {
			if (strcmp(s->items[k].inc.id, it->inc.id))
				continue;
			say(why, len, "%s[%zu]: incident %s is there twice", key, i, it->inc.id);
			return -EBADMSG;
		}
	}
	return 0;
}

static int from_json(const json_t *root, struct vigil_heal_state *s, char *why, size_t len)
{
	const json_t *ver = json_object_get(root, "version"),
		     *saved = json_object_get(root, "saved_at_ns"),
		     *wls = json_object_get(root, "workloads"), *o;
	struct at at = {.what = "workloads"};
	size_t i;
	int err;

	if (!json_is_object(root)) {
		say(why, len, "not a JSON object");
		return -EBADMSG;
	}
	if (!json_is_integer(ver) || json_integer_value(ver) != VIGIL_STATE_VERSION) {
		say(why, len, "'version' is not %d, the one this vigil reads", VIGIL_STATE_VERSION);
		return -EBADMSG;
	}
	if (!json_is_integer(saved) || json_integer_value(saved) < 0) {
		say(why, len, "'saved_at_ns' is not a time");
		return -EBADMSG;
	}
	s->saved_wall_ns = (uint64_t)json_integer_value(saved);
	if (!json_is_array(wls)) {
		say(why, len, "'workloads' is not an array");
		return -EBADMSG;
	}
	json_array_foreach(wls, i, o)
	{
		struct vigil_state_workload *w = vigil_state_add_workload(s);

		if (!w)
			return -ENOMEM;
		at.i = i;
		err = parse_workload(o, w, &at, why, len);
		if (err)
			return err;
		for (size_t k = 0; k + 1 < s->n_wl; k++) {
			if (strcmp(s->wl[k].name, w->name))
				continue;
			say(why, len, "workloads[%zu]: '%s' is there twice", i, w->name);
			return -EBADMSG;
		}
	}
	err = parse_items(root, "awaiting", VIGIL_STATE_AWAITING, s, why, len);
	return err ?: parse_items(root, "pending", VIGIL_STATE_PENDING, s, why, len);
}

int vigil_state_parse(const char *text, size_t len, struct vigil_heal_state *out, char *why,
		      size_t whylen)
{
	json_error_t jerr;
	json_t *root;
	int err;

	memset(out, 0, sizeof(*out));
	say(why, whylen, "%s", "");
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		/* jansson quotes the bytes it stopped at: they are the file's, maybe hostile. */
		for (char *p = jerr.text; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
				*p = '?';
		say(why, whylen, "line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
		return -EBADMSG;
	}
	err = from_json(root, out, why, whylen);
	json_decref(root);
	if (err == -ENOMEM)
		say(why, whylen, "%s", strerror(ENOMEM));
	if (err)
		vigil_state_clear(out);
	return err;
}

/* --- the file ----------------------------------------------------------------------------- */

struct vigil_state_file {
	char *path;
	struct vigil_state_file_stats st;
	struct vigil_json j; /* reused: no allocation once grown */
};

int vigil_state_file_open(const char *path, struct vigil_state_file **out,
			  struct vigil_heal_state *loaded, bool *found, char *msg, size_t msglen)
{
	struct vigil_state_file *f;
	char why[256] = "", bad_name[4200], *text = NULL;
	size_t len = 0;
	int err;

	say(msg, msglen, "%s", "");
	memset(loaded, 0, sizeof(*loaded));
	*found = false;
	f = calloc(1, sizeof(*f));
	if (f)
		f->path = strdup(path);
	if (!f || !f->path) {
		say(msg, msglen, "state file %s: %s", path, strerror(ENOMEM));
		err = -ENOMEM;
		goto fail;
	}
	err = vigil_read_small(path, VIGIL_STATE_FILE_MAX, &text, &len);
	if (err == -ENOENT) {
		*out = f;
		return 0;
	}
	if (err == -EFBIG) {
		snprintf(why, sizeof(why), "larger than any state vigil writes (%u bytes)",
			 VIGIL_STATE_FILE_MAX);
		err = -EBADMSG;
	} else if (err) {
		say(msg, msglen, "state file %s: %s", path,
		    err == -EINVAL ? "not a regular file" : strerror(-err));
		goto fail;
	} else {
		err = vigil_state_parse(text, len, loaded, why, sizeof(why));
	}
	free(text);
	if (err == -EBADMSG) {
		/* Start, loudly, without losing the file: a person can look at it. */
		err = vigil_set_aside(path, bad_name, sizeof(bad_name));
		if (err) {
			say(msg, msglen,
			    "state file %s: malformed (%s), and it could not be kept aside: %s",
			    path, why,
			    err == -EEXIST ? "PATH.bad and PATH.bad.1 to .9 all exist"
					   : strerror(-err));
			goto fail;
		}
		say(msg, msglen, "state file %s: malformed (%s): kept aside as %s", path, why,
		    bad_name);
		*out = f;
		return 0;
	}
	if (err) {
		say(msg, msglen, "state file %s: %s", path, why);
		goto fail;
	}
	*found = true;
	*out = f;
	return 0;
fail:
	vigil_state_file_close(f);
	return err;
}

void vigil_state_file_close(struct vigil_state_file *f)
{
	if (!f)
		return;
	vigil_json_free(&f->j);
	free(f->path);
	free(f);
}

int vigil_state_file_write(struct vigil_state_file *f, const struct vigil_heal_state *s,
			   const char *node)
{
	size_t n_items = s->n_items;
	int err = vigil_state_to_json(&f->j, s, node);

	if (!err) {
		f->j.buf[f->j.len] = '\n'; /* over the writer's NUL: the file ends with a newline */
		err = vigil_write_atomic(f->path, f->j.buf, f->j.len + 1, 0640);
		f->j.buf[f->j.len] = '\0';
	}
	f->st.omitted = n_items > VIGIL_STATE_ITEMS_MAX ? n_items - VIGIL_STATE_ITEMS_MAX : 0;
	if (err) {
		f->st.write_errors++;
		f->st.last_error = err;
		return err;
	}
	f->st.writes++;
	f->st.last_write_wall_ns = s->saved_wall_ns;
	return 0;
}

const char *vigil_state_file_path(const struct vigil_state_file *f)
{
	return f ? f->path : NULL;
}

void vigil_state_file_stats(const struct vigil_state_file *f, struct vigil_state_file_stats *st)
{
	*st = f->st;
}

void vigil_state_file_status_members(const struct vigil_state_file *f, struct vigil_json *j)
{
	char ts[32];

	vigil_json_str(j, "path", f->path);
	vigil_json_u64(j, "writes", f->st.writes);
	vigil_json_u64(j, "write_errors", f->st.write_errors);
	if (f->st.last_error)
		vigil_json_str(j, "last_error", strerror(-f->st.last_error));
	else
		vigil_json_null(j, "last_error");
	vigil_json_u64(j, "omitted", f->st.omitted);
	if (f->st.last_write_wall_ns) {
		vigil_rfc3339(f->st.last_write_wall_ns, ts, sizeof(ts));
		vigil_json_str(j, "last_write", ts);
	} else {
		vigil_json_null(j, "last_write");
	}
}
