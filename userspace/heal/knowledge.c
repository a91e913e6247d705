// SPDX-License-Identifier: Apache-2.0
/*
 * knowledge: the (signature, action) table, its file and its score (see knowledge.h).
 *
 * The table is small (a few thousand entries at most) and changes once per heal, so it is a
 * plain array searched linearly, and the whole file is rewritten at each change: that keeps
 * the file always whole and always current, at the cost of one fsync per heal outcome.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "core/files.h"
#include "core/json.h"
#include "heal/knowledge.h"
#include "output/records.h"

struct vigil_knowledge {
	char *path; /* NULL: in memory only */
	unsigned int flags;
	struct vigil_know_entry *e;
	size_t n, cap, max;
	struct vigil_know_stats st;
};

/* 1..VIGIL_KNOW_STR-1 bytes of printable ASCII. Returns 0, or the offset of the first bad byte
 * plus one, or -1 for a bad length. */
static long check_str(const char *s, size_t n)
{
	if (!s || !n || n >= VIGIL_KNOW_STR)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return (long)i + 1;
	return 0;
}

static bool good_str(const char *s)
{
	return s && check_str(s, strnlen(s, VIGIL_KNOW_STR)) == 0;
}

static ssize_t find(const struct vigil_knowledge *k, const char *signature, const char *action)
{
	for (size_t i = 0; i < k->n; i++)
		if (!strcmp(k->e[i].signature, signature) && !strcmp(k->e[i].action, action))
			return (ssize_t)i;
	return -1;
}

/* Append e, first evicting the entry applied least recently if the table is full. Returns its
 * index, or -ENOMEM. */
static ssize_t add(struct vigil_knowledge *k, const struct vigil_know_entry *e)
{
	if (k->n >= k->max) {
		size_t old = 0;

		for (size_t i = 1; i < k->n; i++)
			if (k->e[i].last_applied_ns < k->e[old].last_applied_ns)
				old = i;
		k->e[old] = k->e[--k->n];
		k->st.evicted++;
	}
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 16;
		struct vigil_know_entry *ne;

		if (cap > k->max)
			cap = k->max;
		ne = realloc(k->e, cap * sizeof(*ne));
		if (!ne)
			return -ENOMEM;
		k->e = ne;
		k->cap = cap;
	}
	k->e[k->n] = *e;
	return (ssize_t)k->n++;
}

/* jansson, which reads the file back, takes signed integers only: clamp (record() never counts
 * that far; a wall clock reaches it in 2262). */
static uint64_t as_int(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : v;
}

/* The whole table as the file's JSON object into j. Returns 0 or -ENOMEM. */
static int to_json(const struct vigil_knowledge *k, struct vigil_json *j)
{
	vigil_json_begin(j);
	vigil_json_i64(j, "version", VIGIL_KNOW_VERSION);
	vigil_json_array_begin(j, "entries");
	for (size_t i = 0; i < k->n; i++) {
		const struct vigil_know_entry *e = &k->e[i];

		vigil_json_object_begin(j, NULL);
		vigil_json_str(j, "signature", e->signature);
		vigil_json_str(j, "action", e->action);
		vigil_json_str(j, "workload", e->workload);
		vigil_json_str(j, "class", e->cls);
		vigil_json_u64(j, "attempts", as_int(e->attempts));
		vigil_json_u64(j, "successes", as_int(e->successes));
		vigil_json_u64(j, "last_applied_ns", as_int(e->last_applied_ns));
		vigil_json_object_end(j);
	}
	vigil_json_array_end(j);
	return vigil_json_end(j);
}

/* Write the whole table: PATH.tmp, fsync, rename over PATH, fsync the directory
 * (vigil_write_atomic). Returns 0 or -errno; a failed write leaves PATH as it was. */
static int persist(struct vigil_knowledge *k)
{
	struct vigil_json j = {};
	int err;

	err = to_json(k, &j);
	if (!err) {
		j.buf[j.len] = '\n'; /* over the writer's NUL: the file ends with a newline */
		err = vigil_write_atomic(k->path, j.buf, j.len + 1, 0640);
	}
	vigil_json_free(&j);
	if (err) {
		k->st.persist_errors++;
		k->st.last_error = err;
	}
	return err;
}

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

/* Copy the string field key of entry i into buf. Returns 0 or -EBADMSG with why. */
static int get_str(const json_t *o, size_t i, const char *key, char *buf, char *why, size_t len)
{
	const json_t *v = json_object_get(o, key);
	long bad;

	if (!json_is_string(v)) {
		say(why, len, "entries[%zu]: '%s' is %s, not a string", i, key,
		    v ? "of another type" : "missing");
		return -EBADMSG;
	}
	bad = check_str(json_string_value(v), json_string_length(v));
	if (bad < 0) {
		say(why, len, "entries[%zu]: '%s' is %zu bytes long (1 to %d)", i, key,
		    json_string_length(v), VIGIL_KNOW_STR - 1);
		return -EBADMSG;
	}
	if (bad > 0) {
		say(why, len,
		    "entries[%zu]: '%s' has byte 0x%02x at offset %ld: not printable ASCII", i, key,
		    (unsigned char)json_string_value(v)[bad - 1], bad - 1);
		return -EBADMSG;
	}
	memcpy(buf, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

/* An integer field >= 0 (absent or null: 0 when optional). Returns 0 or -EBADMSG with why. */
static int get_u64(const json_t *o, size_t i, const char *key, bool optional, uint64_t *out,
		   char *why, size_t len)
{
	const json_t *v = json_object_get(o, key);

	if (optional && (!v || json_is_null(v))) {
		*out = 0;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		say(why, len, "entries[%zu]: '%s' is %s, not an integer >= 0", i, key,
		    v ? "of another type or negative" : "missing");
		return -EBADMSG;
	}
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* Fill the table from a parsed file. Returns 0, -EBADMSG with why, or -ENOMEM. */
static int from_json(struct vigil_knowledge *k, const json_t *root, char *why, size_t len)
{
	const json_t *ver = json_object_get(root, "version"),
		     *arr = json_object_get(root, "entries");
	const json_t *o;
	size_t i;

	if (!json_is_object(root)) {
		say(why, len, "not a JSON object");
		return -EBADMSG;
	}
	if (!json_is_integer(ver) || json_integer_value(ver) != VIGIL_KNOW_VERSION) {
		say(why, len, "'version' is not %d, the one this vigil reads", VIGIL_KNOW_VERSION);
		return -EBADMSG;
	}
	if (!json_is_array(arr)) {
		say(why, len, "'entries' is not an array");
		return -EBADMSG;
	}
	json_array_foreach(arr, i, o)
	{
		struct vigil_know_entry e = {};
		int err;

		if (!json_is_object(o)) {
			say(why, len, "entries[%zu] is not an object", i);
			return -EBADMSG;
		}
		err = get_str(o, i, "signature", e.signature, why, len);
		err = err ?: get_str(o, i, "action", e.action, why, len);
		err = err ?: get_str(o, i, "workload", e.workload, why, len);
		err = err ?: get_str(o, i, "class", e.cls, why, len);
		err = err ?: get_u64(o, i, "attempts", false, &e.attempts, why, len);
		err = err ?: get_u64(o, i, "successes", false, &e.successes, why, len);
		err = err ?: get_u64(o, i, "last_applied_ns", true, &e.last_applied_ns, why, len);
		if (err)
			return err;
		if (e.successes > e.attempts) {
			say(why, len, "entries[%zu]: more successes than attempts", i);
			return -EBADMSG;
		}
		if (find(k, e.signature, e.action) >= 0) {
			say(why, len,
			    "entries[%zu]: a second entry for the same signature and action", i);
			return -EBADMSG;
		}
		if (add(k, &e) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Read the file into the table. Returns 0 (a missing file included), -EBADMSG with why (not
 * naming the path), or another -errno with why. */
static int load(struct vigil_knowledge *k, char *why, size_t len)
{
	json_error_t jerr;
	json_t *root = NULL;
	struct stat st;
	FILE *f;
	int fd, err;

	/* O_NONBLOCK: a FIFO put at the path must not hang the daemon's start. */
	fd = open(k->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if (err == -ENOENT)
			return 0;
		say(why, len, "%s", strerror(-err));
		return err;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		say(why, len, "%s", strerror(-err));
		close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		say(why, len, "not a regular file");
		close(fd);
		return -EINVAL;
	}
	if (st.st_size > VIGIL_KNOW_FILE_MAX) {
		say(why, len, "%lld bytes: larger than any store vigil writes (%u)",
		    (long long)st.st_size, VIGIL_KNOW_FILE_MAX);
		close(fd);
		return -EBADMSG;
	}
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		say(why, len, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	/* JSON_ALLOW_NUL: a \u0000 then reaches check_str, which names the entry and field. */
	root = json_loadf(f, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (!root) {
		err = -EBADMSG;
		/* jansson quotes the bytes it stopped at: they are the file's, maybe hostile. */
		for (char *p = jerr.text; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
				*p = '?';
		say(why, len, "line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
		goto cleanup;
	}
	err = from_json(k, root, why, len);
	if (err == -ENOMEM)
		say(why, len, "%s", strerror(ENOMEM));
cleanup:
	json_decref(root);
	fclose(f);
	return err;
}

int vigil_knowledge_open(const char *path, unsigned int max, unsigned int flags,
			 struct vigil_knowledge **out, char *msg, size_t msglen)
{
	struct vigil_knowledge *k;
	char why[256] = "", bad[4200];
	int err;

	say(msg, msglen, "%s", "");
	k = calloc(1, sizeof(*k));
	if (!k) {
		say(msg, msglen, "knowledge store: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	k->flags = flags;
	k->max = max ? max : VIGIL_KNOW_MAX;
	if (path && path[0]) {
		k->path = strdup(path);
		if (!k->path) {
			err = -ENOMEM;
			say(msg, msglen, "knowledge store %s: %s", path, strerror(ENOMEM));
			goto fail;
		}
		err = load(k, why, sizeof(why));
		if (err == -EBADMSG && (flags & VIGIL_KNOW_SET_ASIDE)) {
			/* Start, loudly, without losing the file: a person can look at it. */
			k->n = 0;
			k->st.evicted = 0;
			err = vigil_set_aside(path, bad, sizeof(bad));
			if (err) {
				say(msg, msglen,
				    "knowledge store %s: malformed (%s), and it could not be kept "
				    "aside: %s",
				    path, why,
				    err == -EEXIST ? "PATH.bad and PATH.bad.1 to .9 all exist"
						   : strerror(-err));
				goto fail;
			}
			say(msg, msglen,
			    "knowledge store %s: malformed (%s): kept aside as %s, starting with "
			    "an "
			    "empty store",
			    path, why, bad);
		} else if (err) {
			say(msg, msglen, "knowledge store %s: %s%s", path,
			    err == -EBADMSG ? "malformed: " : "", why);
			goto fail;
		}
	}
	*out = k;
	return 0;
fail:
	vigil_knowledge_close(k);
	return err;
}

void vigil_knowledge_close(struct vigil_knowledge *k)
{
	if (!k)
		return;
	free(k->e);
	free(k->path);
	free(k);
}

static void to_rec(const struct vigil_know_entry *e, struct vigil_know_rec *r)
{
	r->workload = e->workload;
	r->signature = e->signature;
	r->cls = e->cls;
	r->action = e->action;
	r->attempts = e->attempts;
	r->successes = e->successes;
	r->last_applied_wall_ns = e->last_applied_ns;
}

int vigil_knowledge_record(struct vigil_knowledge *k, const char *workload, const char *signature,
			   const char *cls, const char *action, bool success, uint64_t wall_ns,
			   struct vigil_know_rec *out)
{
	struct vigil_know_entry *e;
	ssize_t i;

	if (!good_str(workload) || !good_str(signature) || !good_str(cls) || !good_str(action))
		return -EINVAL;
	if (k->flags & VIGIL_KNOW_READONLY)
		return -EROFS;
	i = find(k, signature, action);
	if (i < 0) {
		struct vigil_know_entry ne = {};

		strcpy(ne.signature, signature);
		strcpy(ne.action, action);
		i = add(k, &ne);
		if (i < 0)
			return (int)i;
	}
	e = &k->e[i];
	/* The workload and class of a signature do not change; refreshed all the same. */
	strcpy(e->workload, workload);
	strcpy(e->cls, cls);
	if (e->attempts < INT64_MAX) {
		e->attempts++;
		e->successes += success;
	}
	e->last_applied_ns = wall_ns;
	if (out) {
		to_rec(e, out);
		out->outcome = success ? "success" : "failed";
	}
	return k->path ? persist(k) : 0;
}

const struct vigil_know_entry *vigil_knowledge_get(const struct vigil_knowledge *k,
						   const char *signature, const char *action)
{
	ssize_t i;

	if (!k || !signature || !action)
		return NULL;
	i = find(k, signature, action);
	return i < 0 ? NULL : &k->e[i];
}

size_t vigil_knowledge_count(const struct vigil_knowledge *k)
{
	return k ? k->n : 0;
}

const struct vigil_know_entry *vigil_knowledge_at(const struct vigil_knowledge *k, size_t i)
{
	return k && i < k->n ? &k->e[i] : NULL;
}

void vigil_knowledge_stats(const struct vigil_knowledge *k, struct vigil_know_stats *st)
{
	*st = k->st;
}

double vigil_knowledge_score(const struct vigil_know_entry *e)
{
	if (!e)
		return 0.5;
	return ((double)e->successes + 1.0) / ((double)e->attempts + 2.0);
}

void vigil_knowledge_status_json(const struct vigil_knowledge *k, const char *path,
				 struct vigil_json *j)
{
	struct vigil_know_stats st;

	if (!k) {
		vigil_json_null(j, "knowledge");
		return;
	}
	vigil_knowledge_stats(k, &st);
	vigil_json_object_begin(j, "knowledge");
	vigil_json_str(j, "path", path);
	vigil_json_u64(j, "entries", vigil_knowledge_count(k));
	vigil_json_u64(j, "evicted", st.evicted);
	vigil_json_u64(j, "write_errors", st.persist_errors);
	vigil_json_object_end(j);
}
