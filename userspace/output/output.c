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

#include "core/files.h"
#include "core/loop.h"
#include "output/output.h"

struct vigil_output {
	char *node;
	char *journal; /* NULL: none */
	int journal_fd;
	bool json_stdout;
	bool quiet;
	uint64_t errors;
	struct vigil_rid rid;
	vigil_forward_fn forward;
	void *forward_arg;
	struct vigil_json j; /* reused for every record: no allocation on the hot path */
};

int vigil_output_open(const struct vigil_output_opts *o, struct vigil_output **out, char *err,
		      size_t errlen)
{
	struct vigil_output *s;
	int ret;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->journal_fd = -1;
	s->json_stdout = o->json_stdout;
	s->quiet = o->quiet;
	s->node = strdup(o->node ? o->node : "");
	if (!s->node) {
		ret = -ENOMEM;
		goto fail;
	}
	if (o->journal && o->journal[0]) {
		s->journal = strdup(o->journal);
		ret = s->journal ? vigil_mkdir_parent(o->journal) : -ENOMEM;
		if (!ret) {
			s->journal_fd =
			    open(o->journal, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
			ret = s->journal_fd < 0 ? -errno : 0;
		}
		if (ret) {
			snprintf(err, errlen, "journal %s: %s", o->journal, strerror(-ret));
			goto fail;
		}
	}
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
	if (s->journal_fd >= 0)
		close(s->journal_fd);
	vigil_json_free(&s->j);
	free(s->journal);
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
	if (s->journal_fd >= 0 &&
	    write(s->journal_fd, s->j.buf, s->j.len + 1) != (ssize_t)(s->j.len + 1))
		s->errors++;
	if (!s->quiet && s->json_stdout)
		fwrite(s->j.buf, 1, s->j.len + 1, stdout);
	s->j.buf[s->j.len] = '\0';
	if (!s->quiet && s->json_stdout)
		fflush(stdout);
}

/* Human line on stdout: "12:34:56.789 <what>" with control bytes replaced. */
static void human(struct vigil_output *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void human(struct vigil_output *s, const char *fmt, ...)
{
	char ts[32], line[512];
	va_list ap;

	if (s->quiet || s->json_stdout)
		return;
	vigil_rfc3339(vigil_wall_ns(), ts, sizeof(ts));
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* A process name must not be able to move the cursor or forge a line: only printable
	 * ASCII reaches the terminal (8-bit and UTF-8 C1 controls included; the journal keeps
	 * the exact bytes). */
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	printf("%s %s\n", ts + 11, line);
	fflush(stdout);
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

uint64_t vigil_output_errors(const struct vigil_output *s)
{
	return s->errors;
}

void vigil_output_status_json(const struct vigil_output *s, struct vigil_json *j)
{
	vigil_json_object_begin(j, "journal");
	if (s->journal)
		vigil_json_str(j, "path", s->journal);
	else
		vigil_json_null(j, "path");
	vigil_json_u64(j, "errors", s->errors);
	vigil_json_object_end(j);
}
