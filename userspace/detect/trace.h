/* SPDX-License-Identifier: Apache-2.0 */
/*
 * trace: the OpenTelemetry trace context of a fault, for workloads with a trace block.
 *
 * The kernel (bpf/trace.bpf.c) keeps, per thread, the traceparent of the requests it read and
 * has not answered, and per process a ring of recent ones. When a fault arrives, this module
 * reads them for the thread the fault is about (the faulting thread of a crash, the owner of a
 * socket, the thread of a slow syscall) and the process's ring, and assembles the incident's
 * trace ids: the thread's first, then the process's other in-flight ones, at most
 * VIGIL_TRACE_IDS_MAX. With none, the TRACEPARENT environment variable the process had at exec
 * (found by the kernel's exec program) is the fallback.
 */
#ifndef VIGIL_TRACE_H
#define VIGIL_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "vigil/events.h"

#define VIGIL_TRACE_IDS_MAX 8

/* An incident's trace context; n == 0: none. */
struct vigil_trace {
	uint8_t ids[VIGIL_TRACE_IDS_MAX][16];
	unsigned int n;
	uint8_t span_id[8]; /* the first context's parent-id */
	enum vigil_trace_source source;
};

struct vigil_config;
struct vigil_probes;
struct vigil_tracer;

/* Returns 0 and *out, or -ENOMEM. probes may be NULL (tests: the environment fallback only). */
int vigil_tracer_new(const struct vigil_config *cfg, const struct vigil_probes *probes,
		     struct vigil_tracer **out);
/* Accepts NULL. */
void vigil_tracer_free(struct vigil_tracer *t);

/* The trace context of the fault h is about into *out (out->n 0: none). */
void vigil_tracer_lookup(struct vigil_tracer *t, const struct vigil_event_hdr *h,
			 struct vigil_trace *out);
/* Process tgid ended (after its exit was looked up): forget what is kept of it. */
void vigil_tracer_exit(struct vigil_tracer *t, uint32_t tgid);

/*
 * The pure part of the lookup: from thread tid's queue (NULL: none, or not known) and process
 * tgid's ring (NULL: none), the contexts of a fault at fault_ns (CLOCK_MONOTONIC): none read
 * after it, none older than VIGIL_TRACE_MAX_AGE_NS before it, no trace id twice.
 */
void vigil_trace_assemble(const struct vigil_trace_thread *th, const struct vigil_trace_ring *r,
			  uint32_t tgid, uint32_t tid, uint64_t fault_ns, struct vigil_trace *out);

/* TRACEPARENT=... in an environ block (NUL-separated, len bytes) into *out, as the kernel
 * finds it (the same parser, the same chunks). Returns 0, or -ENOENT (none valid). */
int vigil_trace_from_environ(const char *env, size_t len, struct vigil_trace_ctx *out);

/* Add from's trace ids that into does not list, while it has room; into takes from's span
 * and source when it had none. */
void vigil_trace_merge(struct vigil_trace *into, const struct vigil_trace *from);

/* n bytes as 2n lowercase hex digits and a NUL into out. */
void vigil_trace_hex(const uint8_t *b, size_t n, char *out);
const char *vigil_trace_source_name(enum vigil_trace_source s);

#endif /* VIGIL_TRACE_H */
