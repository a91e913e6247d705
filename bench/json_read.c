// SPDX-License-Identifier: Apache-2.0
/*
 * json_read: whether vigil's two hot JSON readers need their own scanner (core/json_scan.c)
 * or could use jansson, which reads every other piece of JSON in vigil. Both are measured on
 * the same records, in the same run, in alternating rounds:
 *
 *   (f) Redis fields   a record split into field/value pairs as the Redis sink writes them:
 *                      vigil_redis_fields() against jansson (json_loadb, then each member:
 *                      a string's bytes, an integer printed, anything else json_dumps'd, as
 *                      a jansson-based split would have to).
 *   (j) journal lines  a journal line checked to be one whole JSON object and skipped, as
 *                      `vigil incidents` does with every record that is not an incident:
 *                      vigil_json_scan_object() against json_loadb() + json_decref().
 *
 * The records are built by vigil's own record builders (records.h): a mix as a journal holds
 * it, mostly events (a crash with a hostile comm, a refused connection, a slow syscall), then
 * an incident with a chain of 4, an action and a knowledge record. Each figure is CPU time of
 * this thread (CLOCK_THREAD_CPUTIME_ID), so a shared CPU does not skew it; the ratio is the
 * median of the per-round ratios. Before timing, both ways must give the same fields for every
 * record. Not a timed test: it prints the figures and exits 0 whenever it could run.
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json_scan.h"
#include "output/records.h"
#include "output/redis.h"

#define ROUNDS 5
#define PASSES 5000 /* over the whole record mix, per measurement */
#define MAXF 64
#define N_RECS 8

/* 2026-11-29T12:34:56.789Z */
#define WALL 1795955696789000000ull

struct rec {
	char *text;
	size_t len;
};

struct fields {
	char buf[4096];
	const char *k[MAXF], *v[MAXF];
	size_t kl[MAXF], vl[MAXF];
	int n;
};

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Keep the record the builder left in j (built: what the builder returned) as r[(*n)++].
 * Returns 0 or -errno. */
static int keep(const struct vigil_json *j, int built, struct rec *r, int *n)
{
	if (built)
		return built;
	r[*n].text = strndup(j->buf, j->len);
	r[*n].len = j->len;
	return r[(*n)++].text ? 0 : -ENOMEM;
}

/* A kernel event header of kind for the workload's process. */
static struct vigil_event_hdr hdr(unsigned int kind, size_t size, uint32_t tid)
{
	struct vigil_event_hdr h = {
	    .kind = kind,
	    .version = VIGIL_ABI_VERSION,
	    .size = size,
	    .tgid = 41234,
	    .pid = tid,
	    .cgroup_id = 8412,
	    .ts_ns = 1795955696789000000ull,
	};

	memcpy(h.comm, "storyteller", 12);
	return h;
}

/* The record mix, as vigil writes it: N_RECS records into r. Returns 0 or -errno. */
static int make_records(struct rec *r)
{
	static const char comm[16] = "stor\"yteller\x1b[2J";
	struct vigil_rid rid = {WALL / 1000000, 0};
	struct vigil_know_rec kn = {"storyteller", "851ca451ff50881d", "crash", "restart", 7, 5,
				    WALL};
	const char *node = "bench-node", *wl = "storyteller";
	struct vigil_detection d;
	struct vigil_incident inc;
	struct vigil_exit e = {};
	struct vigil_sock k = {};
	struct vigil_slow w = {};
	struct vigil_json j = {};
	int err = 0, n = 0;

	/* A crash, its comm full of what JSON must escape; twice, as events outnumber the rest. */
	e.hdr = hdr(VIGIL_EV_EXIT, sizeof(e), 41234);
	memcpy(e.hdr.comm, comm, sizeof(comm));
	e.exit_code = 11;
	e.ppid = 1;
	vigil_detect(&e.hdr, wl, &d);
	for (int i = 0; i < 2 && !err; i++)
		err = keep(&j, vigil_record_event(&j, node, WALL, &rid, &e.hdr, wl, &d), r, &n);

	/* A refused connection, twice. */
	k.hdr = hdr(VIGIL_EV_SOCK, sizeof(k), 41235);
	k.family = 2;
	memcpy(k.raddr, "\x0a\x00\x00\x05", 4);
	k.rport = 5432;
	k.err = -111;
	vigil_detect(&k.hdr, wl, &d);
	for (int i = 0; i < 2 && !err; i++)
		err = keep(&j, vigil_record_event(&j, node, WALL, &rid, &k.hdr, wl, &d), r, &n);

	/* A slow syscall. */
	w.hdr = hdr(VIGIL_EV_SLOW, sizeof(w), 41236);
	w.latency_ns = 250000000;
	w.budget_ms = 100;
	vigil_detect(&w.hdr, wl, &d);
	if (!err)
		err = keep(&j, vigil_record_event(&j, node, WALL, &rid, &w.hdr, wl, &d), r, &n);

	/* An incident with a chain of 4, its heal, and what the store learned. */
	memset(&inc, 0, sizeof(inc));
	strcpy(inc.id, "019ac0000000a001");
	strcpy(inc.signature, "851ca451ff50881d");
	inc.cls = VIGIL_CLASS_CRASH;
	strcpy(inc.workload_name, wl);
	strcpy(inc.title, "storyteller crash SIGSEGV");
	strcpy(inc.detail, "signal 11 (SIGSEGV), core dumped");
	inc.count = 3;
	inc.tgid = 41234;
	inc.signal = 11;
	inc.first_kernel_ns = 5000000000ull;
	inc.opened_mono_ns = inc.first_kernel_ns + 250000;
	inc.n_chain = 4;
	for (unsigned int i = 0; i < inc.n_chain; i++) {
		inc.chain[i].kernel_ns = 1000000000ull * (i + 1);
		inc.chain[i].pid = 41234;
		strcpy(inc.chain[i].label, "conn_refused");
		strcpy(inc.chain[i].detail, "10.0.0.5:5432");
	}
	if (!err)
		err = keep(&j, vigil_record_incident(&j, node, WALL, &rid, &inc), r, &n);
	if (!err)
		err = keep(&j,
			   vigil_record_action(&j, node, WALL, &rid, &inc, "restart", "success",
					       "running again as pid 41240", 41240),
			   r, &n);
	if (!err)
		err = keep(&j, vigil_record_knowledge(&j, node, WALL, &rid, &kn), r, &n);
	vigil_json_free(&j);
	return err ? err : n == N_RECS ? 0 : -EINVAL;
}

/* What a jansson-based vigil_redis_fields() would do. Returns the number of pairs or -errno;
 * the printed values go into f->buf. */
static int jansson_fields(const struct rec *r, struct fields *f)
{
	json_t *root = json_loadb(r->text, r->len, 0, NULL), *v;
	size_t off = 0;
	const char *key;
	int n = 0;

	if (!json_is_object(root)) {
		json_decref(root);
		return -EINVAL;
	}
	json_object_foreach(root, key, v)
	{
		char *text = NULL;
		size_t len = 0;

		if (n == MAXF)
			break;
		f->k[n] = key;
		f->kl[n] = strlen(key);
		if (json_is_string(v)) {
			f->v[n] = json_string_value(v);
			f->vl[n] = json_string_length(v);
		} else if (json_is_integer(v)) {
			len = (size_t)snprintf(f->buf + off, sizeof(f->buf) - off,
					       "%" JSON_INTEGER_FORMAT, json_integer_value(v));
			f->v[n] = f->buf + off;
			f->vl[n] = len;
			off += len;
		} else if (json_is_true(v) || json_is_false(v)) {
			f->v[n] = json_is_true(v) ? "true" : "false";
			f->vl[n] = strlen(f->v[n]);
		} else if (json_is_null(v)) {
			f->v[n] = "";
			f->vl[n] = 0;
		} else {
			text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			len = text ? strlen(text) : 0;
			if (!text || off + len > sizeof(f->buf)) {
				free(text);
				json_decref(root);
				return -ENOMEM;
			}
			memcpy(f->buf + off, text, len);
			f->v[n] = f->buf + off;
			f->vl[n] = len;
			off += len;
			free(text);
		}
		n++;
	}
	/* The pointers into root are only good until here: a real split would copy them out
	 * too (this one does not, so it is measured at its cheapest). */
	json_decref(root);
	return n;
}

static int scanner_fields(const struct rec *r, struct fields *f)
{
	return vigil_redis_fields(r->text, r->len, f->buf, f->k, f->kl, f->v, f->vl, MAXF);
}

/* Whether both splits give the same pairs for a record: the same keys in the same order, the
 * same strings (jansson's pointers die with its tree, so the tree is kept while comparing),
 * as many pairs. */
static bool same_split(const struct rec *r)
{
	json_t *root = json_loadb(r->text, r->len, 0, NULL), *v;
	struct fields a, b;
	const char *key;
	bool same = json_is_object(root);
	int i = 0;

	a.n = scanner_fields(r, &a);
	json_object_foreach(root, key, v)
	{
		if (!same || i >= a.n || strlen(key) != a.kl[i] || memcmp(key, a.k[i], a.kl[i]) ||
		    (json_is_string(v) && (json_string_length(v) != a.vl[i] ||
					   memcmp(json_string_value(v), a.v[i], a.vl[i]))))
			same = false;
		i++;
	}
	json_decref(root);
	return same && a.n > 0 && i == a.n && jansson_fields(r, &b) == a.n;
}

/* Records a second through split (PASSES passes over the mix). */
static double rate_fields(const struct rec *r, int nrec,
			  int (*split)(const struct rec *, struct fields *))
{
	static struct fields f;
	double t0 = cpu_s();
	int bad = 0;

	for (int p = 0; p < PASSES; p++)
		for (int i = 0; i < nrec; i++)
			bad |= split(&r[i], &f) <= 0;
	return bad ? -1 : (double)PASSES * nrec / (cpu_s() - t0);
}

static int scanner_skip(const struct rec *r)
{
	return vigil_json_scan_object(r->text, r->len);
}

static int jansson_skip(const struct rec *r)
{
	json_t *root = json_loadb(r->text, r->len, 0, NULL);
	int ok = json_is_object(root) ? 0 : -EINVAL;

	json_decref(root);
	return ok;
}

/* Lines a second through check (PASSES passes over the mix); -1 if a line was refused. */
static double rate_skip(const struct rec *r, int nrec, int (*check)(const struct rec *))
{
	double t0 = cpu_s();
	int bad = 0;

	for (int p = 0; p < PASSES; p++)
		for (int i = 0; i < nrec; i++)
			bad |= check(&r[i]);
	return bad ? -1 : (double)PASSES * nrec / (cpu_s() - t0);
}

/* One figure: ROUNDS alternating rounds of mine and theirs, printed with the median ratio. */
static int figure(const char *name, const char *unit, double (*measure)(int which, void *arg),
		  void *arg)
{
	double mine[ROUNDS], theirs[ROUNDS], ratio[ROUNDS];

	printf("%s\nround  %-22s %-22s ratio\n", name, "scanner", "jansson");
	for (int i = 0; i < ROUNDS; i++) {
		/* Alternate which goes first: a round's drift falls on both. */
		if (i & 1) {
			theirs[i] = measure(1, arg);
			mine[i] = measure(0, arg);
		} else {
			mine[i] = measure(0, arg);
			theirs[i] = measure(1, arg);
		}
		if (mine[i] <= 0 || theirs[i] <= 0) {
			fprintf(stderr, "json_read: %s: round %d could not run\n", name, i + 1);
			return -1;
		}
		ratio[i] = mine[i] / theirs[i];
		printf("%5d  %12.0f %-9s %12.0f %-9s %.2f\n", i + 1, mine[i], unit, theirs[i], unit,
		       ratio[i]);
	}
	qsort(mine, ROUNDS, sizeof(mine[0]), cmp);
	qsort(theirs, ROUNDS, sizeof(theirs[0]), cmp);
	qsort(ratio, ROUNDS, sizeof(ratio[0]), cmp);
	printf("scanner / jansson  %.2f (median of %d rounds, %.2f..%.2f); per record: scanner "
	       "%.2f us, jansson %.2f us\n\n",
	       ratio[ROUNDS / 2], ROUNDS, ratio[0], ratio[ROUNDS - 1], 1e6 / mine[ROUNDS / 2],
	       1e6 / theirs[ROUNDS / 2]);
	return 0;
}

struct mix {
	struct rec *r;
	int n;
};

static double measure_fields(int which, void *arg)
{
	const struct mix *m = arg;

	return rate_fields(m->r, m->n, which ? jansson_fields : scanner_fields);
}

static double measure_skip(int which, void *arg)
{
	const struct mix *m = arg;

	return rate_skip(m->r, m->n, which ? jansson_skip : scanner_skip);
}

int main(void)
{
	struct rec r[N_RECS] = {};
	struct mix m = {r, N_RECS};
	size_t bytes = 0;
	int rc = 1;

	if (make_records(r)) {
		fprintf(stderr, "json_read: could not build the records\n");
		goto out;
	}
	for (int i = 0; i < N_RECS; i++) {
		if (!same_split(&r[i])) {
			fprintf(stderr, "json_read: the two splits differ on: %s\n", r[i].text);
			goto out;
		}
	}
	for (int i = 0; i < N_RECS; i++)
		bytes += r[i].len;
	printf("JSON reading: vigil's scanner against jansson %s, %d records of %zu bytes on "
	       "average, %d passes a round\n\n",
	       jansson_version_str(), N_RECS, bytes / N_RECS, PASSES);
	if (figure("(f) records split into Redis fields per second", "rec/s", measure_fields, &m))
		goto out;
	if (figure("(j) journal lines checked and skipped per second", "lines/s", measure_skip, &m))
		goto out;
	rc = 0;
out:
	for (int i = 0; i < N_RECS; i++)
		free(r[i].text);
	return rc;
}
