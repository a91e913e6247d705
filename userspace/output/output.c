// SPDX-License-Identifier: Apache-2.0
/* output: the journal (JSON lines) and stdout, and the hand-off of every record to the queued sinks. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "core/files.h"
#include "core/loop.h"
#include "output/output.h"

struct vigil_output {
	char *node;
	int journal_fd;
	bool json_stdout;
	bool quiet;
	uint64_t errors;
	struct vigil_rid rid;
	vigil_forward_fn forward;
	void *forward_arg;
	struct vigil_json j; /* reused for every record: no allocation on the hot path */
};

void vigil_rfc3339(uint64_t wall_ns, char *buf, size_t len)
{
	time_t sec = wall_ns / 1000000000ull;
	struct tm tm;

	gmtime_r(&sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned int)(wall_ns / 1000000ull % 1000));
}

static void common(struct vigil_json *j, const char *type, const char *node, uint64_t wall_ns,
		   const char *workload)
{
	char ts[32];

	vigil_rfc3339(wall_ns, ts, sizeof(ts));
	vigil_json_begin(j);
	vigil_json_str(j, "type", type);
	vigil_json_str(j, "ts", ts);
	vigil_json_str(j, "node", node);
	vigil_json_str(j, "workload", workload);
}

int vigil_record_event(struct vigil_json *j, const char *node, uint64_t wall_ns,
		       const struct vigil_event_hdr *h, const char *workload,
		       const struct vigil_detection *d)
{
	common(j, "event", node, wall_ns, workload);
	vigil_json_str(j, "class", d->label);
	vigil_json_u64(j, "pid", h->tgid);
	vigil_json_u64(j, "tid", h->pid);
	vigil_json_strn(j, "comm", h->comm, sizeof(h->comm));
	vigil_json_u64(j, "cgroup_id", h->cgroup_id);
	vigil_json_u64(j, "kernel_ts_ns", h->ts_ns);
	if (h->kind == VIGIL_EV_EXIT) {
		const struct vigil_exit *e = (const void *)h;

		vigil_json_i64(j, "exit_code", d->status);
		vigil_json_i64(j, "signal", d->signal);
		vigil_json_bool(j, "core_dumped", d->core_dumped);
		vigil_json_u64(j, "ppid", e->ppid);
		if (d->signature[0])
			vigil_json_str(j, "signature", d->signature);
		if (e->exit_flags & VIGIL_EXIT_SENDER) {
			vigil_json_u64(j, "sender_pid", e->sender_tgid);
			vigil_json_strn(j, "sender_comm", e->sender_comm, sizeof(e->sender_comm));
		}
	} else if (h->kind == VIGIL_EV_OOM) {
		const struct vigil_oom *o = (const void *)h;
		long page = sysconf(_SC_PAGESIZE);

		vigil_json_u64(j, "total_vm_kib", o->total_vm_pages * page / 1024);
		vigil_json_u64(j, "rss_kib", o->rss_pages * page / 1024);
		vigil_json_u64(j, "trigger_pid", o->trigger_tgid);
		vigil_json_strn(j, "trigger_comm", o->trigger_comm, sizeof(o->trigger_comm));
	} else if (h->kind == VIGIL_EV_EXEC) {
		vigil_json_u64(j, "ppid", ((const struct vigil_exec *)h)->ppid);
	} else if (h->kind == VIGIL_EV_SOCK) {
		const struct vigil_sock *k = (const void *)h;
		char ep[64];

		vigil_endpoint(k->family, k->laddr, k->lport, ep, sizeof(ep));
		vigil_json_str(j, "local", ep);
		vigil_endpoint(k->family, k->raddr, k->rport, ep, sizeof(ep));
		vigil_json_str(j, "remote", ep);
		vigil_json_i64(j, "errno", k->err);
		vigil_json_u64(j, "tcp_state", k->state);
		vigil_json_bool(j, "accepted", h->flags & VIGIL_F_PASSIVE);
	} else if (h->kind == VIGIL_EV_SLOW) {
		const struct vigil_slow *w = (const void *)h;

		vigil_json_str(j, "syscall", d->detail);
		vigil_json_u64(j, "latency_us", w->latency_ns / 1000);
		vigil_json_u64(j, "budget_ms", w->budget_ms);
		vigil_json_i64(j, "ret", w->ret);
	} else if (h->kind == VIGIL_EV_HANG) {
		const struct vigil_hang *g = (const void *)h;

		vigil_json_u64(j, "task_state", g->state);
		vigil_json_u64(j, "switches", g->switches);
	}
	if (h->kind != VIGIL_EV_EXIT && d->signature[0])
		vigil_json_str(j, "signature", d->signature);
	return vigil_json_end(j);
}

int vigil_record_rate(struct vigil_json *j, const char *node, uint64_t wall_ns, const char *workload,
		      const struct vigil_detection *d, uint64_t count, uint64_t interval_ms)
{
	common(j, "event", node, wall_ns, workload);
	vigil_json_str(j, "class", d->label);
	vigil_json_u64(j, "count", count);
	vigil_json_u64(j, "interval_ms", interval_ms);
	vigil_json_u64(j, "per_s", interval_ms ? count * 1000 / interval_ms : 0);
	if (d->signature[0])
		vigil_json_str(j, "signature", d->signature);
	return vigil_json_end(j);
}

int vigil_record_health(struct vigil_json *j, const char *node, uint64_t wall_ns,
			const char *family, uint64_t drops, uint64_t drops_total)
{
	common(j, "health", node, wall_ns, "-");
	vigil_json_str(j, "family", family);
	vigil_json_u64(j, "drops", drops);
	vigil_json_u64(j, "drops_total", drops_total);
	return vigil_json_end(j);
}

/* "chain": the workload's events before the incident, each with its offset before it. */
static void chain(struct vigil_json *j, const struct vigil_incident *i)
{
	struct vigil_json_list list = {};
	struct vigil_json e = {};

	for (unsigned int k = 0; k < i->n_chain; k++) {
		const struct vigil_chain_entry *c = &i->chain[k];

		vigil_json_begin(&e);
		vigil_json_str(&e, "class", c->label);
		vigil_json_str(&e, "detail", c->detail);
		vigil_json_u64(&e, "pid", c->pid);
		vigil_json_u64(&e, "before_ms", (i->first_kernel_ns - c->kernel_ns) / 1000000);
		vigil_json_end(&e);
		vigil_json_list_add(&list, &e);
	}
	vigil_json_put_list(j, "chain", &list);
	vigil_json_free(&e);
}

int vigil_record_incident(struct vigil_json *j, const char *node, uint64_t wall_ns,
			  const struct vigil_incident *i)
{
	common(j, "incident", node, wall_ns, i->workload_name);
	vigil_json_str(j, "id", i->id);
	vigil_json_str(j, "signature", i->signature);
	vigil_json_str(j, "class", vigil_class_name(i->cls));
	vigil_json_str(j, "state", vigil_incident_state_name(i->state));
	vigil_json_u64(j, "count", i->count);
	vigil_json_str(j, "title", i->title);
	vigil_json_str(j, "detail", i->detail);
	vigil_json_u64(j, "pid", i->tgid);
	vigil_json_i64(j, "signal", i->signal);
	vigil_json_i64(j, "exit_code", i->status);
	vigil_json_u64(j, "first_kernel_ts_ns", i->first_kernel_ns);
	/* Detection: kernel timestamp of the first event -> incident opened in userspace. */
	vigil_json_u64(j, "detect_us", (i->opened_mono_ns - i->first_kernel_ns) / 1000);
	if (i->resolved_mono_ns)
		vigil_json_u64(j, "recovery_ms", (i->resolved_mono_ns - i->opened_mono_ns) / 1000000);
	vigil_json_bool(j, "lossy", i->lossy);
	if (i->final)
		vigil_json_bool(j, "final", true);
	if (i->lossy)
		vigil_json_u64(j, "lost", i->lost);
	chain(j, i);
	return vigil_json_end(j);
}

int vigil_record_action(struct vigil_json *j, const char *node, uint64_t wall_ns,
			const struct vigil_incident *i, const char *action, const char *outcome,
			const char *detail, pid_t pid)
{
	common(j, "action", node, wall_ns, i->workload_name);
	vigil_json_str(j, "incident", i->id);
	vigil_json_str(j, "signature", i->signature);
	vigil_json_str(j, "action", action);
	vigil_json_str(j, "outcome", outcome);
	vigil_json_str(j, "detail", detail);
	if (pid > 0)
		vigil_json_u64(j, "pid", (uint64_t)pid);
	return vigil_json_end(j);
}

int vigil_record_breaker(struct vigil_json *j, const char *node, uint64_t wall_ns,
			 const char *workload, const char *state, uint64_t failures,
			 uint64_t opened_wall_ns)
{
	char ts[32];

	common(j, "breaker", node, wall_ns, workload);
	vigil_json_str(j, "state", state);
	vigil_json_u64(j, "failures", failures);
	if (opened_wall_ns) {
		vigil_rfc3339(opened_wall_ns, ts, sizeof(ts));
		vigil_json_str(j, "opened_at", ts);
	} else {
		vigil_json_null(j, "opened_at");
	}
	return vigil_json_end(j);
}

int vigil_record_knowledge(struct vigil_json *j, const char *node, uint64_t wall_ns,
			   const struct vigil_know_rec *k)
{
	char ts[32], rate[16];

	common(j, "knowledge", node, wall_ns, k->workload);
	vigil_json_str(j, "signature", k->signature);
	vigil_json_str(j, "class", k->cls);
	vigil_json_str(j, "action", k->action);
	vigil_json_u64(j, "attempts", k->attempts);
	vigil_json_u64(j, "successes", k->successes);
	/* Two decimals, as the SQL column numeric(3,2) holds it; written as a number. */
	snprintf(rate, sizeof(rate), "%.2f",
		 k->attempts ? (double)k->successes / (double)k->attempts : 0.0);
	vigil_json_raw(j, "success_rate", rate);
	if (k->last_applied_wall_ns) {
		vigil_rfc3339(k->last_applied_wall_ns, ts, sizeof(ts));
		vigil_json_str(j, "last_applied", ts);
	} else {
		vigil_json_null(j, "last_applied");
	}
	return vigil_json_end(j);
}

void vigil_rid_next(struct vigil_rid *r, uint64_t wall_ns)
{
	uint64_t ms = wall_ns / 1000000ull;

	if (ms > r->ms) {
		r->ms = ms;
		r->n = 0;
	} else {
		r->n++; /* the same millisecond, or the clock stepped back: stay increasing */
	}
}

int vigil_rid_stamp(struct vigil_json *j, const struct vigil_rid *r)
{
	static const char mark[] = "{\"type\":\"";
	char ins[64];
	const char *q;
	size_t at, n;

	if (j->len < sizeof(mark) || memcmp(j->buf, mark, sizeof(mark) - 1))
		return -EINVAL;
	q = memchr(j->buf + sizeof(mark) - 1, '"', j->len - (sizeof(mark) - 1));
	if (!q || q + 1 >= j->buf + j->len)
		return -EINVAL;
	at = (size_t)(q + 1 - j->buf); /* just after the type's closing quote */
	n = (size_t)snprintf(ins, sizeof(ins), ",\"rid\":\"%llu-%llu\"", (unsigned long long)r->ms,
			     (unsigned long long)r->n);
	if (j->len + n + 2 > j->cap) {
		char *b = realloc(j->buf, j->len + n + 2);

		if (!b)
			return -ENOMEM;
		j->buf = b;
		j->cap = j->len + n + 2;
	}
	memmove(j->buf + at + n, j->buf + at, j->len - at + 1);
	memcpy(j->buf + at, ins, n);
	j->len += n;
	return 0;
}

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
		ret = vigil_mkdir_parent(o->journal);
		if (!ret) {
			s->journal_fd = open(o->journal, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
					     0640);
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
	free(s->node);
	free(s);
}

/* Stamp the record in s->j with the next record id, then write it to the journal, to Redis
 * and, as JSON, to stdout. */
static void emit(struct vigil_output *s, int built)
{
	vigil_rid_next(&s->rid, vigil_wall_ns());
	if (built || vigil_rid_stamp(&s->j, &s->rid)) {
		s->errors++;
		return;
	}
	if (s->forward)
		s->forward(s->forward_arg, s->j.buf, s->j.len);
	s->j.buf[s->j.len] = '\n';
	/* One write() per record with O_APPEND: concurrent readers never see half a line. */
	if (s->journal_fd >= 0 && write(s->journal_fd, s->j.buf, s->j.len + 1) != (ssize_t)(s->j.len + 1))
		s->errors++;
	if (!s->quiet && s->json_stdout)
		fwrite(s->j.buf, 1, s->j.len + 1, stdout);
	s->j.buf[s->j.len] = '\0';
	if (!s->quiet && s->json_stdout)
		fflush(stdout);
}

/* Human line on stdout: "12:34:56.789 <what>" with control bytes replaced. */
static void human(struct vigil_output *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
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
	emit(s, vigil_record_event(&s->j, s->node, vigil_wall_ns(), h, workload, d));
	human(s, "event    %-10s %s pid %u %s", d->label, workload, h->tgid, d->detail);
}

void vigil_out_incident(struct vigil_output *s, const struct vigil_incident *i)
{
	emit(s, vigil_record_incident(&s->j, s->node, vigil_wall_ns(), i));
	human(s, "incident %s %-9s %s (count %llu, detected in %llu us)", i->id,
	      vigil_incident_state_name(i->state), i->title, (unsigned long long)i->count,
	      (unsigned long long)((i->opened_mono_ns - i->first_kernel_ns) / 1000));
}

void vigil_out_action(struct vigil_output *s, const struct vigil_incident *i, const char *action,
		       const char *outcome, const char *detail, pid_t pid)
{
	emit(s, vigil_record_action(&s->j, s->node, vigil_wall_ns(), i, action, outcome, detail, pid));
	human(s, "action   %s %s %s: %s", i->id, action, outcome, detail);
}

void vigil_out_rate(struct vigil_output *s, const char *workload, const struct vigil_detection *d,
		     uint64_t count, uint64_t interval_ms)
{
	emit(s, vigil_record_rate(&s->j, s->node, vigil_wall_ns(), workload, d, count, interval_ms));
	human(s, "event    %-10s %s %llu in %llu ms", d->label, workload, (unsigned long long)count,
	      (unsigned long long)interval_ms);
}

void vigil_out_health(struct vigil_output *s, const char *family, uint64_t drops,
		       uint64_t drops_total)
{
	emit(s, vigil_record_health(&s->j, s->node, vigil_wall_ns(), family, drops, drops_total));
	human(s, "health   %s: %llu events dropped (ring buffer full), %llu in all", family,
	      (unsigned long long)drops, (unsigned long long)drops_total);
}

void vigil_out_breaker(struct vigil_output *s, const char *workload, const char *state,
			uint64_t failures, uint64_t opened_wall_ns)
{
	emit(s, vigil_record_breaker(&s->j, s->node, vigil_wall_ns(), workload, state, failures,
				     opened_wall_ns));
	human(s, "breaker  %s %s (%llu failed heals)", workload, state,
	      (unsigned long long)failures);
}

void vigil_out_knowledge(struct vigil_output *s, const struct vigil_know_rec *k)
{
	emit(s, vigil_record_knowledge(&s->j, s->node, vigil_wall_ns(), k));
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
