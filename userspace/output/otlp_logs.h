/* SPDX-License-Identifier: Apache-2.0 */
/*
 * otlp_logs: vigil's incident and action records as OpenTelemetry log records, in the OTLP/HTTP
 * JSON encoding (an ExportLogsServiceRequest for POST /v1/logs), and the reading of the
 * receiver's ExportLogsServiceResponse. Pure functions: the sending is otlp.c's.
 *
 * One log record per record: EventName "vigil.incident" or "vigil.action"; the record's "ts"
 * as timeUnixNano (a decimal string, as OTLP JSON writes 64-bit integers); traceId/spanId
 * from the record's trace_ids[0] and span_id (hex, as OTLP JSON writes them; absent when the
 * record has no trace context); severityNumber an integer (the enum as a number):
 *
 *   incident   FATAL (21) for crash and oom_kill, ERROR (17) for every other class
 *   action     ERROR (17) failed, denied, escalated, expired, open (the breaker)
 *              WARN (13)  skipped, deferred, waiting
 *              INFO (9)   every other outcome (chosen, intent, started, success, ...)
 *
 * The resource carries service.name (the workload) and host.name (the node), and, for a record
 * whose process ran in a Kubernetes pod (its "k8s" member), the semantic conventions' k8s.*
 * resource attributes: k8s.namespace.name, k8s.pod.name, k8s.pod.uid, k8s.container.name (each
 * one known). Records are grouped into one resourceLogs per resource (workload, node, pod,
 * container). Attributes follow the semantic
 * conventions where one fits (process.pid, process.executable.name, process.exit.code,
 * exception.type, network.peer.address, network.peer.port, error.type); the rest is vigil's
 * own, under vigil.* (see README, "OTLP").
 */
#ifndef VIGIL_OTLP_LOGS_H
#define VIGIL_OTLP_LOGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* The severities used (OTLP's SeverityNumber). */
#define VIGIL_OTLP_SEV_INFO 9
#define VIGIL_OTLP_SEV_WARN 13
#define VIGIL_OTLP_SEV_ERROR 17
#define VIGIL_OTLP_SEV_FATAL 21

/* Whether a record is one the OTLP sink sends (an incident or an action): others are not
 * queued. */
bool vigil_otlp_wants(const char *json, size_t len);

/*
 * Add one vigil record (JSON text) to the request req (an object, {} at first) as a log
 * record. Returns 0, -EINVAL (not an incident or action record, or a field of the wrong type:
 * why written; req unchanged) or -ENOMEM.
 */
int vigil_otlp_add(json_t *req, const char *rec, size_t len, char *why, size_t whylen);

/*
 * What a receiver's reply body says (an ExportLogsServiceResponse in JSON; an empty body is a
 * full success): *rejected the log records it refused (partialSuccess.rejectedLogRecords, a
 * string or a number; snake_case accepted too), msg its errorMessage (may be ""). Returns 0,
 * or -EINVAL for a body that is not such a response (then *rejected is 0, msg says why).
 */
int vigil_otlp_parse_reply(const char *body, size_t len, uint64_t *rejected, char *msg,
			   size_t msglen);

#endif /* VIGIL_OTLP_LOGS_H */
