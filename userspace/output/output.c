// SPDX-License-Identifier: Apache-2.0
/* output: the journal (JSON lines) and stdout, and the hand-off of every record to the queued
 * sinks; the records themselves are built in records.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/text.h"
#include "output/tally.h"
#include "output/journal.h"
#include "output/output.h"

/* stdout, which a reader that stalls must never make the loop wait for (output.h). */
struct out_stream {
	bool nonblock;	 /* a pipe or socket: O_NONBLOCK set by us, restored at close */
	int saved_flags; /* its flags before */
	char *pend;	 /* the rest of a line a pipe took only part of */
	size_t pend_len, pend_off, pend_cap;
	uint64_t lines;	  /* lines written whole */
	uint64_t dropped; /* lines not written: the reader is behind (EAGAIN) */
	uint64_t errors;  /* lines not written: another error (EPIPE, EIO) */
	int last_errno;
};

struct vigil_output {
	char *node;
	struct vigil_journal *journal; /* NULL: none */
	bool json_stdout;
	bool quiet;
	uint64_t errors;       /* records that could not be built */
	uint64_t journal_said; /* journal errors already told in a health record */
	uint64_t stdout_said;  /* stdout drops already told in a health record */
	struct out_stream out;
	struct vigil_rid rid;
	vigil_forward_fn forward;
	void *forward_arg;
	struct vigil_tally *tally; /* counts the action records; NULL: none */
	struct vigil_json j;	   /* reused for every record: no allocation on the hot path */
};

/* stdout a pipe or a socket: non-blocking, so that a full pipe answers EAGAIN instead of
 * stopping the loop. A terminal or a file is left as it is (a write to either does not wait
 * on a reader). */
static void stdout_setup(struct out_stream *o)
{
	struct stat sb;
	int fl;

	if (fstat(STDOUT_FILENO, &sb) || !(S_ISFIFO(sb.st_mode) || S_ISSOCK(sb.st_mode)))
		return;
	fl = fcntl(STDOUT_FILENO, F_GETFL);
	if (fl < 0 || (fl & O_NONBLOCK) || fcntl(STDOUT_FILENO, F_SETFL, fl | O_NONBLOCK))
		return;
	o->nonblock = true;
	o->saved_flags = fl;
}

/* Try once more to write what a pipe left of a line. Returns true when nothing is left. */
static bool stdout_drain(struct out_stream *o)
{
	ssize_t n;

	while (o->pend_off < o->pend_len) {
		n = write(STDOUT_FILENO, o->pend + o->pend_off, o->pend_len - o->pend_off);
		if (n <= 0)
			return false;
		o->pend_off += (size_t)n;
	}
	o->pend_off = o->pend_len = 0;
	return true;
}

/* One whole line (len bytes, '\n' included) to stdout with one write(2), never waiting: when
 * the reader is behind, the line is dropped and counted; when a pipe takes part of a long
 * line, the rest is written before any other line, so lines are never interleaved. */
static void stdout_line(struct out_stream *o, const char *buf, size_t len)
{
	ssize_t n;

	if (!stdout_drain(o)) {
		o->dropped++;
		return;
	}
	n = write(STDOUT_FILENO, buf, len);
	if (n == (ssize_t)len) {
		o->lines++;
		return;
	}
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			o->dropped++;
		} else {
			o->errors++;
			o->last_errno = errno;
		}
		return;
	}
	/* Part of it went: the rest is owed to the reader before anything else. */
	if (o->pend_cap < len - (size_t)n) {
		char *p = realloc(o->pend, len - (size_t)n);

		if (!p) {
			o->errors++; /* the line stays torn: nothing better to do */
			o->last_errno = ENOMEM;
			return;
		}
		o->pend = p;
		o->pend_cap = len - (size_t)n;
	}
	memcpy(o->pend, buf + n, len - (size_t)n);
	o->pend_len = len - (size_t)n;
	o->pend_off = 0;
	o->lines++;
}

static void stdout_close(struct out_stream *o)
{
	stdout_drain(o);
	if (o->nonblock)
		fcntl(STDOUT_FILENO, F_SETFL, o->saved_flags);
	free(o->pend);
}

int vigil_output_open(const struct vigil_output_opts *o, struct vigil_output **out, char *err,
		      size_t errlen)
{
	struct vigil_journal_opts jo = {
	    .path = o->journal,
	    .max_bytes = o->journal_max_bytes,
	    .keep = o->journal_keep,
	    .fsync = o->journal_fsync,
	};
	struct vigil_output *s;
	int ret;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->json_stdout = o->json_stdout;
	s->quiet = o->quiet;
	s->node = strdup(o->node ? o->node : "");
	if (!s->node) {
		ret = -ENOMEM;
		goto fail;
	}
	if (o->journal && o->journal[0]) {
		ret = vigil_journal_open(&jo, &s->journal, err, errlen);
		if (ret)
			goto fail;
	}
	if (!s->quiet)
		stdout_setup(&s->out);
	*out = s;
	return 0;
fail:
	vigil_output_close(s);
	return ret;
}

void vigil_output_close(struct vigil_output *s)
{
	if (!s)
		return;
	vigil_journal_close(s->journal);
	stdout_close(&s->out);
	vigil_json_free(&s->j);
	free(s->node);
	free(s);
}

/* Take the next record id, before the record is built with it. Returns the wall clock the
 * record is stamped with: one reading for its ts and its rid. */
static uint64_t next_rid(struct vigil_output *s)
{
	uint64_t now = vigil_wall_ns();

	vigil_rid_next(&s->rid, now);
	return now;
}

/* Write the record built in s->j (built: what its builder returned) to the journal, to the
 * forward hook and, as JSON, to stdout. */
static void emit(struct vigil_output *s, int built)
{
	if (built) {
		s->errors++;
		return;
	}
	if (s->forward)
		s->forward(s->forward_arg, s->j.buf, s->j.len);
	s->j.buf[s->j.len] = '\n';
	/* One write() per record with O_APPEND: concurrent readers never see half a line. */
	if (s->journal)
		vigil_journal_append(s->journal, s->j.buf, s->j.len + 1);
	if (!s->quiet && s->json_stdout)
		stdout_line(&s->out, s->j.buf, s->j.len + 1);
	s->j.buf[s->j.len] = '\0';
}

/* Human line on stdout: "12:34:56.789 <what>", terminal-safe (core/text.h: a process name
 * must not be able to move the cursor or forge a line; the journal keeps the exact bytes). */
static void human(struct vigil_output *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void human(struct vigil_output *s, const char *fmt, ...)
{
	char ts[32], line[512], safe[2048], out[2100];
	va_list ap;
	int n;

	if (s->quiet || s->json_stdout)
		return;
	vigil_rfc3339(vigil_wall_ns(), ts, sizeof(ts));
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n = snprintf(out, sizeof(out), "%s %s\n", ts + 11,
		     vigil_term_safe(line, safe, sizeof(safe)));
	stdout_line(&s->out, out, (size_t)n);
}

void vigil_out_event(struct vigil_output *s, const struct vigil_event_hdr *h, const char *workload,
		     const struct vigil_detection *d)
{
	uint64_t now = next_rid(s);

	emit(s, vigil_record_event(&s->j, s->node, now, &s->rid, h, workload, d));
	human(s, "event    %-10s %s pid %u %s", d->label, workload, h->tgid, d->detail);
}

void vigil_out_incident(struct vigil_output *s, const struct vigil_incident *i)
{
	uint64_t now = next_rid(s);

	emit(s, vigil_record_incident(&s->j, s->node, now, &s->rid, i));
	human(s, "incident %s %-9s %s (count %llu, detected in %llu us)", i->id,
	      vigil_incident_state_name(i->state), i->title, (unsigned long long)i->count,
	      (unsigned long long)((i->opened_mono_ns - i->first_kernel_ns) / 1000));
}

void vigil_out_action(struct vigil_output *s, const struct vigil_incident *i, const char *action,
		      const char *outcome, const char *detail, pid_t pid)
{
	uint64_t now = next_rid(s);

	emit(s, vigil_record_action(&s->j, s->node, now, &s->rid, i, action, outcome, detail, pid));
	if (s->tally)
		vigil_tally_action(s->tally, i, action, outcome);
	human(s, "action   %s %s %s: %s", i->id, action, outcome, detail);
}

void vigil_out_rate(struct vigil_output *s, const char *workload, const struct vigil_detection *d,
		    uint64_t count, uint64_t interval_ms)
{
	uint64_t now = next_rid(s);

	emit(s, vigil_record_rate(&s->j, s->node, now, &s->rid, workload, d, count, interval_ms));
	human(s, "event    %-10s %s %llu in %llu ms", d->label, workload, (unsigned long long)count,
	      (unsigned long long)interval_ms);
}

void vigil_out_health(struct vigil_output *s, const char *family, uint64_t drops,
		      uint64_t drops_total)
{
	uint64_t now = next_rid(s);

	emit(s, vigil_record_health(&s->j, s->node, now, &s->rid, family, drops, drops_total));
	human(s, "health   %s: %llu events dropped (ring buffer full), %llu in all", family,
	      (unsigned long long)drops, (unsigned long long)drops_total);
}

void vigil_out_health_full(struct vigil_output *s, const char *family, const char *map,
			   uint64_t refused, uint64_t refused_total)
{
	uint64_t now = next_rid(s);

	emit(s, vigil_record_health_full(&s->j, s->node, now, &s->rid, family, map, refused,
					 refused_total));
	human(s, "health   %s: %s is full: %llu refused in the last second, %llu in all", family,
	      map, (unsigned long long)refused, (unsigned long long)refused_total);
}

void vigil_out_breaker(struct vigil_output *s, const char *workload, const char *state,
		       uint64_t failures, uint64_t opened_wall_ns)
{
	uint64_t now = next_rid(s);

	emit(s, vigil_record_breaker(&s->j, s->node, now, &s->rid, workload, state, failures,
				     opened_wall_ns));
	human(s, "breaker  %s %s (%llu failed heals)", workload, state,
	      (unsigned long long)failures);
}

void vigil_out_knowledge(struct vigil_output *s, const struct vigil_know_rec *k)
{
	uint64_t now = next_rid(s);

	emit(s, vigil_record_knowledge(&s->j, s->node, now, &s->rid, k));
}

void vigil_out_state(struct vigil_output *s, vigil_members_fn members, const void *arg)
{
	uint64_t now;

	if (!s->forward)
		return; /* no sink: nothing else takes it */
	now = next_rid(s);
	if (vigil_record_state(&s->j, s->node, now, &s->rid, members, arg))
		s->errors++;
	else
		s->forward(s->forward_arg, s->j.buf, s->j.len);
}

void vigil_output_set_forward(struct vigil_output *s, vigil_forward_fn fn, void *arg)
{
	s->forward = fn;
	s->forward_arg = arg;
}

void vigil_output_set_tally(struct vigil_output *s, struct vigil_tally *t)
{
	s->tally = t;
}

uint64_t vigil_output_errors(const struct vigil_output *s)
{
	return s->errors + (s->journal ? vigil_journal_counts(s->journal)->errors : 0);
}

int vigil_output_reopen(struct vigil_output *s)
{
	return s->journal ? vigil_journal_reopen(s->journal) : 0;
}

/* A "health" record of family when its count of losses grew since the last one told. */
static void tell(struct vigil_output *s, const char *family, uint64_t total, uint64_t *said,
		 int err)
{
	uint64_t now;

	if (total <= *said)
		return;
	now = next_rid(s);
	emit(s, vigil_record_health(&s->j, s->node, now, &s->rid, family, total - *said, total));
	if (!strcmp(family, "journal"))
		human(s, "health   journal: %llu records not written (%s), %llu in all",
		      (unsigned long long)(total - *said), err ? strerror(err) : "?",
		      (unsigned long long)total);
	*said = total;
}

void vigil_output_tick(struct vigil_output *s)
{
	if (s->journal) {
		const struct vigil_journal_counts *st = vigil_journal_counts(s->journal);

		vigil_journal_sync(s->journal);
		tell(s, "journal", st->errors, &s->journal_said, st->last_errno);
	}
	tell(s, "stdout", s->out.dropped + s->out.errors, &s->stdout_said, 0);
}

void vigil_output_status_json(const struct vigil_output *s, struct vigil_json *j)
{
	vigil_json_object_begin(j, "journal");
	if (s->journal)
		vigil_journal_status_json(s->journal, j);
	else
		vigil_json_null(j, "path");
	vigil_json_u64(j, "record_errors", s->errors);
	vigil_json_object_end(j);
	vigil_json_object_begin(j, "stdout");
	vigil_json_str(j, "mode", s->quiet ? "quiet" : s->json_stdout ? "json" : "human");
	vigil_json_bool(j, "nonblocking", s->out.nonblock);
	vigil_json_u64(j, "lines", s->out.lines);
	vigil_json_u64(j, "dropped", s->out.dropped);
	vigil_json_u64(j, "errors", s->out.errors);
	vigil_json_str(j, "last_error", s->out.last_errno ? strerror(s->out.last_errno) : "");
	vigil_json_object_end(j);
}
