/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts: Alertmanager's webhook payload (POST /v1/alerts) -> the alerts it carries, and an
 * alert -> the workload it names and its incident's signature. Pure: no state, no I/O, the
 * same answer for the same bytes on any node.
 *
 * The payload is Alertmanager's webhook format, version 4:
 *
 *   {"version": "4", "status": "firing", "receiver": "vigil", "groupLabels": {...},
 *    "alerts": [{"status": "firing"|"resolved", "labels": {"alertname": "...", ...},
 *                "annotations": {...}, "startsAt": "...", "endsAt": "...",
 *                "fingerprint": "..."}, ...], ...}
 *
 * Everything else in it is not read. Bounded: at most VIGIL_ALERTS_MAX alerts of at most
 * VIGIL_ALERT_MAX_LABELS labels each, names and values of bounded length, alertname at most
 * VIGIL_ALERT_NAME_MAX bytes (it is the incident's detail). One malformed alert refuses the
 * whole payload, with a reason naming where ("alerts[3].labels: not an object").
 */
#ifndef VIGIL_ALERTS_H
#define VIGIL_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "detect/detector.h"

struct vigil_config;

#define VIGIL_ALERTS_MAX_BODY (1u << 20) /* bytes of one payload */
#define VIGIL_ALERTS_MAX 1000		 /* alerts in one payload */
#define VIGIL_ALERT_MAX_LABELS 64
#define VIGIL_ALERT_LABEL_NAME_MAX 128
#define VIGIL_ALERT_LABEL_VALUE_MAX 1024
#define VIGIL_ALERT_NAME_MAX 63 /* alertname: an incident's detail holds 63 bytes */

struct vigil_alert_label {
	const char *name, *value;
};

/* One alert of a payload. The strings live in the batch (vigil_alerts_free). */
struct vigil_alert {
	bool firing;		 /* status "firing"; false: "resolved" */
	const char *name;	 /* the alertname label */
	const char *starts;	 /* startsAt as sent, or "" */
	const char *fingerprint; /* Alertmanager's, or "" */
	struct vigil_alert_label labels[VIGIL_ALERT_MAX_LABELS]; /* sorted by name */
	unsigned int n_labels;
};

/* What POST /v1/alerts did, since start (the daemon keeps it; /metrics and status read it). */
struct vigil_alerts_stats {
	uint64_t payloads;	   /* accepted (200) */
	uint64_t rejected;	   /* malformed: 400 */
	uint64_t unauthorized;	   /* no or a wrong bearer token: 401 */
	uint64_t forbidden;	   /* a peer beyond loopback without alerts.allow_remote: 403 */
	uint64_t firing;	   /* firing alerts that named a workload */
	uint64_t resolved_alerts;  /* resolved alerts that named a workload */
	uint64_t ignored;	   /* alerts that named no configured workload */
	uint64_t opened;	   /* incidents recorded (a new firing alert) */
	uint64_t repeats;	   /* firing notifications of an alert already firing */
	uint64_t resolved;	   /* incidents the alert's resolution resolved */
	uint64_t resolved_after;   /* resolutions of an incident that was healed, failed or
				      escalated already, or whose heal had begun */
	uint64_t resolved_unknown; /* resolutions of an alert not known to be firing */
	uint64_t resolved_partial; /* resolutions while another alert of the signature fires */
	uint64_t untracked;	   /* firing alerts past the remembered maximum */
	uint64_t firing_now;	   /* alerts remembered as firing now */
};

struct vigil_alert_batch {
	struct vigil_alert *alerts;
	unsigned int n;
	void *root; /* the decoded document (json_t) the strings point into */
};

/*
 * Decode a webhook payload of len bytes (need not be NUL-terminated). Returns 0 and *b (free it
 * with vigil_alerts_free), or -EINVAL with why written (the payload is refused: JSON error with
 * line and column, or which member is wrong), or -ENOMEM.
 */
int vigil_alerts_parse(const char *body, size_t len, struct vigil_alert_batch *b, char *why,
		       size_t whylen);
/* Accepts a zeroed or freed batch. */
void vigil_alerts_free(struct vigil_alert_batch *b);

/* The value of label name, or NULL. */
const char *vigil_alert_label(const struct vigil_alert *a, const char *name);

/*
 * The configured workload an alert names: the one whose name its `workload` label holds, else
 * the first (config order) whose alerts.match_labels ("name=value") the alert all carries.
 * Returns its index + 1, or 0: none.
 */
unsigned int vigil_alert_workload(const struct vigil_config *cfg, const struct vigil_alert *a);

/* Is this label left out of an alert's signature: it changes when nothing else does (which
 * replica, pod or scrape target fired), so the same alert after a restart or on another node
 * keeps its signature. */
bool vigil_alert_label_volatile(const char *name);

/* One alert's identity among those of a signature: a hash of all its labels, the volatile ones
 * too (which replica fires). Alertmanager's fingerprint is not trusted to be sent. */
uint64_t vigil_alert_identity(const struct vigil_alert *a);

/*
 * The incident an alert of workload is: class alert, detail its alertname, title "alert NAME
 * firing", signature a hash of the workload, the class, the alertname and its identifying
 * labels (every label but the volatile ones), each as name and value, in name order. Returns 0
 * or -ENOMEM.
 */
int vigil_alert_detect(const char *workload, const struct vigil_alert *a,
		       struct vigil_detection *out);

#endif /* VIGIL_ALERTS_H */
