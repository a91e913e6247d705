// SPDX-License-Identifier: Apache-2.0
/* trace: a fault's trace context, from the trace family's maps or the environment (trace.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "detect/trace.h"
#include "kernel/loader.h"
#include "vigil/traceparent.h"

#define ENV_SLOTS 256	/* processes with a TRACEPARENT remembered at once (the oldest goes) */
#define ENV_BYTES 65536 /* of /proc/PID/environ read at most */

struct env_slot {
	uint32_t tgid; /* 0: free */
	uint64_t seq;  /* when it was written: the oldest is replaced */
	struct vigil_trace_ctx ctx;
};

struct vigil_tracer {
	const struct vigil_config *cfg;
	const struct vigil_probes *probes;
	struct env_slot env[ENV_SLOTS];
	uint64_t seq;
};

int vigil_tracer_new(const struct vigil_config *cfg, const struct vigil_probes *probes,
		     struct vigil_tracer **out)
{
	struct vigil_tracer *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->cfg = cfg;
	t->probes = probes;
	*out = t;
	return 0;
}

void vigil_tracer_free(struct vigil_tracer *t)
{
	free(t);
}

void vigil_trace_hex(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

const char *vigil_trace_source_name(enum vigil_trace_source s)
{
	switch (s) {
	case VIGIL_TRACE_HTTP:
		return "http";
	case VIGIL_TRACE_ENV:
		return "env";
	default:
		return "none";
	}
}

/* Add c's trace id unless listed already or full; the first one added gives the span. */
static void add(struct vigil_trace *out, const struct vigil_trace_ctx *c)
{
	for (unsigned int i = 0; i < out->n; i++)
		if (!memcmp(out->ids[i], c->trace_id, 16))
			return;
	if (out->n >= VIGIL_TRACE_IDS_MAX)
		return;
	if (!out->n)
		memcpy(out->span_id, c->span_id, sizeof(out->span_id));
	memcpy(out->ids[out->n++], c->trace_id, 16);
}

/* Was c in flight at fault_ns: read before it, not answered before it, not stale? */
static bool in_flight(const struct vigil_trace_ctx *c, uint64_t fault_ns)
{
	return c->ts_ns && c->ts_ns <= fault_ns && fault_ns - c->ts_ns <= VIGIL_TRACE_MAX_AGE_NS &&
	       (!c->done_ns || c->done_ns > fault_ns);
}

void vigil_trace_assemble(const struct vigil_trace_thread *th, const struct vigil_trace_ring *r,
			  uint32_t tgid, uint32_t tid, uint64_t fault_ns, struct vigil_trace *out)
{
	const struct vigil_trace_slot *pick;
	const struct vigil_trace_ctx *c;
	uint64_t after = UINT64_MAX;

	memset(out, 0, sizeof(*out));
	/* The faulting thread's requests first, oldest (the one it serves) first. */
	if (th && tid && th->tgid == tgid)
		for (uint32_t i = th->head - VIGIL_TRACE_QUEUE; i != th->head; i++) {
			c = &th->q[i % VIGIL_TRACE_QUEUE];
			if (in_flight(c, fault_ns))
				add(out, c);
		}
	/* Then the process's other in-flight ones, newest first. */
	while (r) {
		pick = NULL;
		for (unsigned int i = 0; i < VIGIL_TRACE_RING; i++) {
			const struct vigil_trace_slot *s = &r->slots[i];

			if (!s->tid || !in_flight(&s->ctx, fault_ns) || s->ctx.ts_ns >= after)
				continue;
			if (!pick || s->ctx.ts_ns > pick->ctx.ts_ns)
				pick = s;
		}
		if (!pick)
			break;
		after = pick->ctx.ts_ns;
		add(out, &pick->ctx);
	}
	if (out->n)
		out->source = VIGIL_TRACE_HTTP;
}

int vigil_trace_from_environ(const char *env, size_t len, struct vigil_trace_ctx *out)
{
	static const char name[] = "TRACEPARENT=";
	uint8_t buf[VIGIL_TRACE_SCRATCH];
	size_t i = 0, n;

	while (i < len) {
		n = strnlen(env + i, len - i);
		if (n > sizeof(name) - 1 && !memcmp(env + i, name, sizeof(name) - 1)) {
			n -= sizeof(name) - 1;
			if (n != VIGIL_TP_VALUE_LEN)
				return -ENOENT;
			memcpy(buf, env + i + sizeof(name) - 1, n);
			return vigil_tp_value(buf, (__u32)n, 0, out) ? -ENOENT : 0;
		}
		i += n + 1;
	}
	return -ENOENT;
}

static struct env_slot *env_find(struct vigil_tracer *t, uint32_t tgid)
{
	for (unsigned int i = 0; i < ENV_SLOTS; i++)
		if (t->env[i].tgid == tgid)
			return &t->env[i];
	return NULL;
}

void vigil_tracer_exec(struct vigil_tracer *t, unsigned int workload, uint32_t tgid)
{
	struct vigil_trace_ctx ctx = {};
	struct env_slot *s, *old;
	char path[64], *env;
	ssize_t n;
	int fd;

	if (!t || !workload || workload > t->cfg->n_workloads ||
	    !t->cfg->workloads[workload - 1].trace_env)
		return;
	snprintf(path, sizeof(path), "/proc/%u/environ", tgid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return; /* gone already: a fallback is best effort */
	env = malloc(ENV_BYTES);
	n = env ? read(fd, env, ENV_BYTES) : -1;
	close(fd);
	if (n > 0 && !vigil_trace_from_environ(env, (size_t)n, &ctx)) {
		s = env_find(t, tgid);
		if (!s) {
			/* The free or the oldest slot: a free one's seq is 0. */
			s = &t->env[0];
			for (unsigned int i = 1; i < ENV_SLOTS; i++) {
				old = &t->env[i];
				if (old->seq < s->seq)
					s = old;
			}
		}
		s->tgid = tgid;
		s->seq = ++t->seq;
		s->ctx = ctx;
	}
	free(env);
}

void vigil_tracer_exit(struct vigil_tracer *t, uint32_t tgid)
{
	struct env_slot *s;

	if (!t)
		return;
	s = env_find(t, tgid);
	if (s)
		memset(s, 0, sizeof(*s));
	if (t->probes)
		vigil_probes_trace_forget(t->probes, tgid);
}

/* The thread a fault is about, when the kernel knows it; 0: the process's ring alone. */
static uint32_t fault_thread(const struct vigil_event_hdr *h)
{
	const struct vigil_exit *e = (const void *)h;

	switch (h->kind) {
	case VIGIL_EV_EXIT:
		/* A fault's signal (SIGSEGV...) is generated by the faulting thread itself. */
		if (h->size >= sizeof(*e) && (e->exit_flags & VIGIL_EXIT_SENDER) &&
		    e->sender_tgid == h->tgid)
			return e->sender_pid;
		return 0;
	case VIGIL_EV_SOCK:
	case VIGIL_EV_SLOW:
	case VIGIL_EV_HANG:
		return h->pid;
	default:
		return 0;
	}
}

void vigil_tracer_lookup(struct vigil_tracer *t, const struct vigil_event_hdr *h,
			 struct vigil_trace *out)
{
	struct vigil_trace_thread th;
	struct vigil_trace_ring ring;
	const struct vigil_workload *w;
	uint32_t tid = fault_thread(h);
	struct env_slot *s;
	bool have_th, have_ring;

	memset(out, 0, sizeof(*out));
	if (!t || !h->workload || h->workload > t->cfg->n_workloads)
		return;
	w = &t->cfg->workloads[h->workload - 1];
	if (w->trace_http && t->probes) {
		have_th = tid && !vigil_probes_trace_thread(t->probes, tid, &th);
		have_ring = !vigil_probes_trace_ring(t->probes, h->tgid, &ring);
		vigil_trace_assemble(have_th ? &th : NULL, have_ring ? &ring : NULL, h->tgid, tid,
				     h->ts_ns, out);
	}
	if (out->n || !w->trace_env)
		return;
	s = env_find(t, h->tgid);
	if (!s)
		return;
	memcpy(out->ids[0], s->ctx.trace_id, 16);
	memcpy(out->span_id, s->ctx.span_id, sizeof(out->span_id));
	out->n = 1;
	out->source = VIGIL_TRACE_ENV;
}
