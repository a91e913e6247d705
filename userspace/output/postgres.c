// SPDX-License-Identifier: Apache-2.0
/*
 * postgres: the PostgreSQL backend of the queued sink (see postgres.h): the connection, and
 * the writing of records as sql_rows.h's statements. The queue, the spool and replay are
 * sink.c's.
 *
 * A write is cut into transactions of CHUNK records, each record behind a savepoint: a record
 * the server refuses as bad data is rolled back alone and rejected, the others commit. The
 * records of a transaction that did not commit (connection lost, a refusal that is not about
 * the record) are not done: the sink writes them again later, and the statements' idempotence
 * makes a replay of what did commit (its reply lost) change nothing: 0 rows, a duplicate.
 *
 * Nothing read from the server is kept but an error's first characters (into why) and the
 * count of rows a statement changed: the statements return no rows, and notices are dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "output/postgres.h"
#include "output/pq_lib.h"
#include "output/sink.h"
#include "output/sql_rows.h"

#define CHUNK 32	  /* records per transaction */
#define PASSWORD_MAX 1024 /* the most read of a password file */

/* The backend: set at open, then the sink thread's alone. */
struct pg_be {
	const struct vigil_pq *pq; /* libpq, opened at the sink's open */
	char *url, *password, *password_file, *node;
	unsigned int timeout_ms;
	PGconn *c;
};

/* What a statement came to. */
enum outcome {
	DONE,  /* rows changed: in *rows */
	BAD,   /* the server refused the record's data: why written */
	RETRY, /* the server cannot take it now: why written; the connection is still good */
	LOST,  /* the connection failed or did not answer in time: why written */
};

/* One line of text from libpq (its messages end in "\n"), into why after prefix. */
static void set_why(char *why, size_t len, const char *prefix, const char *msg)
{
	size_t n;

	snprintf(why, len, "%s%s", prefix, msg ? msg : "");
	n = strlen(why);
	while (n && (why[n - 1] == '\n' || why[n - 1] == ' '))
		why[--n] = '\0';
	for (char *p = why; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
}

/* --- connection ---------------------------------------------------------------------------- */

/* The first line of the password file into buf. Returns 0 or -errno. */
static int read_password(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

/* Notices (a server's warnings) are not vigil's to print: libpq's default writes each to
 * stderr, which a server could flood. */
static void ignore_notice(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* ops->connect. Returns 0 (up) or -EIO with why (down). */
static int pg_connect(void *be, char *why, size_t len)
{
	struct pg_be *p = be;
	const struct vigil_pq *pq = p->pq;
	const char *keys[8], *vals[8];
	char pass[PASSWORD_MAX], tmo[16];
	int k = 0, err;

	keys[k] = "dbname", vals[k++] = p->url;
	if (p->password) {
		keys[k] = "password", vals[k++] = p->password;
	} else if (p->password_file) {
		err = read_password(p->password_file, pass, sizeof(pass));
		if (err) {
			snprintf(why, len, "password_file %s: %s", p->password_file,
				 strerror(-err));
			return -EIO;
		}
		keys[k] = "password", vals[k++] = pass;
	}
	/* libpq counts whole seconds, at least 2. */
	snprintf(tmo, sizeof(tmo), "%u",
		 (p->timeout_ms + 999) / 1000 < 2 ? 2 : (p->timeout_ms + 999) / 1000);
	keys[k] = "connect_timeout", vals[k++] = tmo;
	keys[k] = "application_name", vals[k++] = "vigil";
	keys[k] = "client_encoding", vals[k++] = "UTF8";
	keys[k] = NULL, vals[k] = NULL;
	p->c = pq->connectdbParams(keys, vals, 1);
	explicit_bzero(pass, sizeof(pass));
	if (!p->c) {
		snprintf(why, len, "connect: %s", strerror(ENOMEM));
		return -EIO;
	}
	if (pq->status(p->c) != CONNECTION_OK) {
		set_why(why, len, "connect: ", pq->errorMessage(p->c));
		pq->finish(p->c);
		p->c = NULL;
		return -EIO;
	}
	pq->setNoticeProcessor(p->c, ignore_notice, NULL);
	return 0;
}

/* ops->disconnect */
static void pg_disconnect(void *be)
{
	struct pg_be *p = be;

	p->pq->finish(p->c);
	p->c = NULL;
}

/* --- statements ---------------------------------------------------------------------------- */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Whether a refusal is about the record's data (never worth retrying): data exceptions (22),
 * integrity constraints (23), program limits such as an index row too large (54). */
static bool bad_data(const char *state)
{
	return state &&
	       (!strncmp(state, "22", 2) || !strncmp(state, "23", 2) || !strncmp(state, "54", 2));
}

/*
 * Run one statement (params NULL: text of our own, no parameters) and wait for its answer,
 * timeout_ms at most. Returns DONE with *rows, or BAD, RETRY, LOST with why written.
 */
static enum outcome run(struct pg_be *p, const char *stmt, const struct vigil_sql_row *r,
			long *rows, char *why, size_t len)
{
	const struct vigil_pq *pq = p->pq;
	long long deadline = now_ms() + p->timeout_ms;
	enum outcome o = DONE;
	PGresult *res, *more;
	int ok;

	ok = r ? pq->sendQueryParams(p->c, stmt, r->n, NULL, (const char *const *)r->v, NULL, NULL,
				     0)
	       : pq->sendQuery(p->c, stmt);
	if (!ok) {
		set_why(why, len, "write: ", pq->errorMessage(p->c));
		return LOST;
	}
	while (pq->isBusy(p->c)) {
		struct pollfd pfd = {.fd = pq->socket(p->c), .events = POLLIN};
		long long left = deadline - now_ms();
		int n;

		if (left <= 0 || (n = poll(&pfd, 1, (int)left)) == 0) {
			snprintf(why, len, "write: no answer in %u ms", p->timeout_ms);
			return LOST;
		}
		if ((n < 0 && errno != EINTR) || (n > 0 && !pq->consumeInput(p->c))) {
			set_why(why, len, "write: ", pq->errorMessage(p->c));
			return LOST;
		}
	}
	res = pq->getResult(p->c);
	if (!res || pq->resultStatus(res) != PGRES_COMMAND_OK) {
		const char *state = pq->resultErrorField(res, PG_DIAG_SQLSTATE);
		char prefix[32];

		if (pq->status(p->c) != CONNECTION_OK || !state) {
			set_why(why, len, "write: ", pq->errorMessage(p->c));
			o = LOST;
		} else {
			o = bad_data(state) ? BAD : RETRY;
			snprintf(prefix, sizeof(prefix),
				 "%s: %s: ", o == BAD ? "rejected" : "refused", state);
			set_why(why, len, prefix,
				pq->resultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
		}
	} else if (rows) {
		*rows = strtol(pq->cmdTuples(res), NULL, 10);
	}
	/* PGRES_TUPLES_OK: the doctor's probe, whose rows are none (limit 0). */
	if (o != DONE && res && pq->resultStatus(res) == PGRES_TUPLES_OK)
		o = DONE;
	pq->clear(res);
	/* The end of the answer (a NULL result); anything else is not ours to read. */
	while ((more = pq->getResult(p->c)))
		pq->clear(more);
	return o;
}

/* A statement of our own (begin, savepoints, commit): any refusal is not the record's. */
static enum outcome control(struct pg_be *p, const char *stmt, char *why, size_t len)
{
	enum outcome o = run(p, stmt, NULL, NULL, why, len);

	return o == BAD ? RETRY : o;
}

/* One row's statement; the row freed. Returns what it came to; *rows when DONE. */
static enum outcome run_row(struct pg_be *p, struct vigil_sql_row *r, long *rows, char *why,
			    size_t len)
{
	enum outcome o = run(p, r->stmt, r, rows, why, len);

	vigil_sql_row_free(r);
	return o;
}

/*
 * One record's statements. Returns DONE with *res (written, a duplicate, or rejected as not a
 * record of these tables: why written), BAD (refused as bad data), RETRY or LOST.
 */
static enum outcome write_record(struct pg_be *p, const char *json, size_t jlen,
				 enum vigil_sink_result *res, char *why, size_t len)
{
	const char *type, *bad = NULL;
	struct vigil_sql_row r = {0};
	struct vigil_sql_know k;
	enum outcome o = DONE;
	long rows = 0;
	json_t *rec;
	int err;

	/* JSON_ALLOW_NUL: a \u0000 in a name is data to carry (as U+FFFD), not garbage. */
	rec = json_loadb(json, jlen, JSON_ALLOW_NUL, NULL);
	type = json_string_value(json_object_get(rec, "type"));
	if (!type) {
		err = -EINVAL;
		bad = "not a JSON record";
	} else if (!strcmp(type, "incident")) {
		err = vigil_sql_incident(&r, rec, NULL, &bad);
		if (!err)
			o = run_row(p, &r, &rows, why, len);
	} else if (!strcmp(type, "action")) {
		/* The incident row it references, made if missing (its record may have been
		 * rejected, or lost to a full queue). */
		err = vigil_sql_stub(&r, rec, &bad);
		if (!err)
			o = run_row(p, &r, NULL, why, len);
		if (!err && o == DONE)
			err = vigil_sql_action(&r, rec, &bad);
		if (!err && o == DONE)
			o = run_row(p, &r, &rows, why, len);
	} else if (!strcmp(type, "knowledge")) {
		err = vigil_sql_know_from_record(&k, rec, &bad);
		err = err ?: vigil_sql_knowledge(&r, &k, &bad);
		if (!err)
			o = run_row(p, &r, &rows, why, len);
	} else {
		err = -EINVAL;
		bad = "a record type the tables do not hold";
	}
	vigil_sql_row_free(&r);
	json_decref(rec);
	if (err) {
		/* -ENOMEM: retried later, like a refusal for now. */
		snprintf(why, len, err == -EINVAL ? "rejected: %s" : "write: %s",
			 err == -EINVAL ? bad : strerror(-err));
		if (err != -EINVAL)
			return RETRY;
		*res = VIGIL_SINK_REJECTED;
		return DONE;
	}
	if (o == DONE)
		*res = rows ? VIGIL_SINK_WRITTEN : VIGIL_SINK_DUPLICATE;
	return o;
}

/* One transaction of records [from, to). Returns DONE (committed, res set), RETRY or LOST
 * (nothing of it committed). */
static enum outcome write_chunk(struct pg_be *p, const char *const *recs, const size_t *lens,
				unsigned int from, unsigned int to, enum vigil_sink_result *res,
				char *why, size_t len)
{
	enum outcome o = control(p, "begin", why, len);

	for (unsigned int i = from; o == DONE && i < to; i++) {
		o = control(p, "savepoint rec", why, len);
		if (o == DONE)
			o = write_record(p, recs[i], lens[i], &res[i], why, len);
		if (o == BAD) {
			/* Rejected alone; the others of the transaction stay. */
			res[i] = VIGIL_SINK_REJECTED;
			o = control(p, "rollback to savepoint rec", why, len);
		}
	}
	if (o == DONE)
		return control(p, "commit", why, len);
	if (o == RETRY) {
		char ignored[8];

		control(p, "rollback", ignored, sizeof(ignored));
	}
	return o;
}

/* write_chunk() as the sink's chunk function: whether the transaction committed. */
static bool chunk_done(void *be, const char *const *recs, const size_t *lens, unsigned int from,
		       unsigned int to, enum vigil_sink_result *res, char *why, size_t len)
{
	return write_chunk(be, recs, lens, from, to, res, why, len) == DONE;
}

/*
 * ops->write: n records, CHUNK to a transaction. Returns the number done from the start (all
 * n unless a transaction did not commit), res[i] saying what became of each.
 */
static unsigned int pg_write(void *be, const char *const *recs, const size_t *lens, unsigned int n,
			     enum vigil_sink_result *res, char *why, size_t len)
{
	return vigil_sink_write_chunked(be, CHUNK, chunk_done, recs, lens, n, res, why, len);
}

/* ops->free */
static void pg_free(void *be)
{
	struct pg_be *p = be;

	if (!p)
		return;
	pg_disconnect(p);
	free(p->url);
	if (p->password)
		explicit_bzero(p->password, strlen(p->password));
	free(p->password);
	free(p->password_file);
	free(p->node);
	free(p);
}

static const struct vigil_sink_backend_ops pg_ops = {
    .name = "postgres",
    .title = "PostgreSQL",
    .connect = pg_connect,
    .disconnect = pg_disconnect,
    .write = pg_write,
    .free = pg_free,
};

int vigil_pg_sink_open(const struct vigil_pg_opts *o, struct vigil_sink **out, char *err,
		       size_t errlen)
{
	const struct vigil_sink_opts so = {
	    .spool = o->spool,
	    .spool_max_bytes = o->spool_max_bytes,
	    .spool_sync = o->spool_sync,
	    .queue_max = o->queue_max,
	};
	const struct vigil_pq *pq;
	struct pg_be *p;
	int ret;

	/* libpq is opened here, on the sink's first open. */
	ret = vigil_pq_load(&pq, err, errlen);
	if (ret)
		return ret;
	p = calloc(1, sizeof(*p));
	if (p)
		p->pq = pq; /* first: pg_free() needs it */
	if (!p || !(p->url = strdup(o->url)) ||
	    (o->password && !(p->password = strdup(o->password))) ||
	    (o->password_file && !(p->password_file = strdup(o->password_file))) ||
	    (o->node && !(p->node = strdup(o->node)))) {
		pg_free(p);
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	p->timeout_ms = o->timeout_ms ? o->timeout_ms : 5000;
	/* From here the backend is the sink's, whatever it returns. */
	return vigil_sink_open(&so, &pg_ops, p, out, err, errlen);
}

int vigil_pg_ping(const struct vigil_pg_opts *o, char *msg, size_t len)
{
	struct pg_be p = {
	    .url = (char *)o->url,
	    .password = (char *)o->password,
	    .password_file = (char *)o->password_file,
	    .timeout_ms = o->timeout_ms ? o->timeout_ms : 5000,
	};
	char safe[256], why[256];
	enum outcome out;

	if (vigil_pq_load(&p.pq, msg, len))
		return -EIO;
	if (pg_connect(&p, why, sizeof(why))) {
		snprintf(msg, len, "%s", why);
		return -EIO;
	}
	/* The columns of sql/ through 004, readable by this role. */
	out = run(&p,
		  "select created_by_agent, incident_type from public.incident_knowledge, "
		  "public.incidents, public.healing_actions limit 0",
		  NULL, NULL, why, sizeof(why));
	pg_disconnect(&p);
	vigil_pg_url_safe(o->url, safe, sizeof(safe));
	if (out == DONE)
		snprintf(msg, len, "%s answers, sql/ applied", safe);
	else
		snprintf(msg, len, "%s: %s (sql/ applied, through 004?)", safe, why);
	return out == DONE ? 0 : -EIO;
}

bool vigil_pg_wants(const char *json, size_t len)
{
	static const char *const types[] = {"{\"type\":\"incident\"", "{\"type\":\"action\"",
					    "{\"type\":\"knowledge\""};

	/* Every record begins with its type (records.c). */
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (len >= strlen(types[i]) && !memcmp(json, types[i], strlen(types[i])))
			return true;
	return false;
}

const char *vigil_pg_url_safe(const char *url, char *buf, size_t len)
{
	const char *auth = strstr(url, "://"), *end, *at, *colon, *q;
	size_t n = 0;

	if (!auth) {
		snprintf(buf, len, "%s", strstr(url, "password") ? "(a connection string)" : url);
		return buf;
	}
	auth += 3;
	end = auth + strcspn(auth, "/?");
	at = memrchr(auth, '@', end - auth);
	colon = at ? memchr(auth, ':', at - auth) : NULL;
	if (colon)
		n = snprintf(buf, len, "%.*s***%.*s", (int)(colon + 1 - url), url, (int)(end - at),
			     at);
	else
		n = snprintf(buf, len, "%.*s", (int)(end - url), url);
	/* The rest, with the value of any password= parameter masked. */
	for (q = end; *q && n < len;) {
		size_t seg = strcspn(q + 1, "?&") + 1;

		if (!strncmp(q + 1, "password=", 9))
			n += snprintf(buf + n, len - n, "%c%s", *q, "password=***");
		else
			n += snprintf(buf + n, len - n, "%.*s", (int)seg, q);
		q += seg;
	}
	return buf;
}
