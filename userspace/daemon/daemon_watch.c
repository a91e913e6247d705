// SPDX-License-Identifier: Apache-2.0
/*
 * daemon_watch: the daemon's side of output/redis_watch.h — the approvals an approver tool
 * writes to the stream P:N:approvals, handed to the healer as `vigil approve` and `vigil deny`
 * are (attributed to the entry's `by`), and the applications' busy keys the healer's quiet
 * window reads.
 */
#include <stdio.h>
#include <string.h>

#include "daemon/daemon_int.h"
#include "output/redis_watch.h"

/* A decision from the stream: to the healer, as the control socket's are. One about an
 * incident that is not (or no longer) waiting for a person is counted, not an error. */
static void on_approval(const struct vigil_approval_msg *m, void *arg)
{
	struct daemon *d = arg;
	struct vigil_incident *inc = vigil_incidents_lookup(d->incidents, m->incident);
	char who[224];
	int err;

	snprintf(who, sizeof(who), "%s via Redis (%s:%s:approvals %s)", m->by, d->cfg->redis_prefix,
		 d->cfg->node, m->entry);
	if (!inc) {
		d->approvals_ignored++;
		return;
	}
	err = m->deny ? vigil_healer_deny(d->healer, inc, who, m->reason)
		      : vigil_healer_approve(d->healer, inc, who, m->reason);
	if (err)
		d->approvals_ignored++;
}

int vigil_daemon_watch_open(struct daemon *d, char *err, size_t errlen)
{
	const struct vigil_config *c = d->cfg;
	const struct vigil_redis_opts ro = vigil_daemon_redis_opts(c);
	const char *keys[VIGIL_MAX_WORKLOADS];
	uint64_t longest = 0;
	unsigned int n = 0;

	d->busy_index[0] = -1; /* no workload */
	if (!c->redis_url)
		return 0;
	for (unsigned int i = 0; i < c->n_workloads; i++) {
		const struct vigil_workload *w = &c->workloads[i];

		if (w->approval_timeout_ms > longest)
			longest = w->approval_timeout_ms;
		d->busy_index[i + 1] = -1;
		if (!w->quiet_busy_key)
			continue;
		d->busy_index[i + 1] = (int)n;
		keys[n++] = w->quiet_busy_key;
	}
	/* An entry older than the longest approval_timeout cannot be about an incident still
	 * waiting (a restored one included): the stream is read from there on. */
	return vigil_redis_watch_open(&ro, keys, n, (vigil_wall_ns() / 1000000) - longest, d->loop,
				      on_approval, d, &d->watch, err, errlen);
}

int vigil_daemon_busy(unsigned int workload, void *arg)
{
	const struct daemon *d = arg;

	if (!d->watch || workload > d->cfg->n_workloads || d->busy_index[workload] < 0)
		return -1;
	return vigil_redis_watch_busy(d->watch, (unsigned int)d->busy_index[workload]);
}

void vigil_daemon_watch_status_json(const struct daemon *d, struct vigil_json *j)
{
	if (!d->watch) {
		vigil_json_null(j, "redis_watch");
		return;
	}
	vigil_json_object_begin(j, "redis_watch");
	vigil_redis_watch_status_json(d->watch, j);
	vigil_json_u64(j, "approvals_ignored", d->approvals_ignored);
	vigil_json_object_end(j);
}
