// SPDX-License-Identifier: Apache-2.0
/*
 * daemon_record: one fault, from wherever it was found — the kernel (daemon.c), the derived
 * stage, or an Alertmanager webhook (daemon_alerts.c) — counted into its incident, tallied
 * for /metrics and handed to the healer; and each incident record as it changes.
 */
#include <errno.h>
#include <stdio.h>

#include "daemon/daemon_int.h"

/* Count a fault: join or open its incident (recorded by the incidents' notify), let the
 * healer decide. Kernel faults, derived ones and alerts (daemon_alerts.c) all come here. */
struct vigil_incident *vigil_daemon_record(struct daemon *d, const struct vigil_event_hdr *h,
					   const struct vigil_detection *det, const char *name)
{
	struct vigil_incident *inc;
	bool opened;

	inc = vigil_incidents_record(d->incidents, h, det, name, &opened);
	if (!inc) {
		/* ENOSPC: the table is full of held incidents; counted, and a health record. */
		if (errno == ENOMEM)
			fprintf(stderr, "vigil: out of memory recording an incident of %s\n", name);
		return NULL;
	}
	if (opened)
		vigil_tally_opened(&d->tally, inc);
	vigil_healer_incident(d->healer, inc, opened);
	return inc;
}

void vigil_daemon_record_incident(const struct vigil_incident *i, void *arg)
{
	struct daemon *d = arg;

	/* A state change is recorded once: the resolved one is the heal's recovery. */
	if (i->state == VIGIL_INC_RESOLVED && !i->final && !i->restored)
		vigil_tally_resolved(&d->tally, i);
	vigil_out_incident(d->out, i);
}
