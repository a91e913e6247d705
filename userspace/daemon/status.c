// SPDX-License-Identifier: Apache-2.0
/*
 * status: what the daemon says of itself. The control socket's "status" is composed of each
 * stage's own account (probes, collector, journal, knowledge, sinks, incidents, loop,
 * workloads), and every other request is answered by the module that owns its data: latency
 * by the workloads, incidents by the history, approve by the healer. Also the "ready" line.
 * Queries only read; approve and deny are the commands.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include "control/endpoint.h"
#include "control/history.h"
#include "daemon/daemon_int.h"
#include "heal/knowledge.h"
#include "output/redis.h"

/* "status": takes no argument. Reads only. */
static int status_query(const char *arg, struct vigil_json *j, const void *ctx)
{
	const struct daemon *d = ctx;

	if (arg)
		return -ENOENT;
	vigil_json_begin(j);
	vigil_json_str(j, "version", VIGIL_VERSION);
	vigil_json_str(j, "node", d->cfg->node);
	vigil_json_u64(j, "uptime_s", (vigil_mono_ns() - d->started_mono_ns) / 1000000000ull);
	vigil_json_str(j, "config", d->cfg->source);
	vigil_probes_status_json(d->probes, j);
	vigil_collector_status_json(d->coll, j);
	vigil_output_status_json(d->out, j);
	vigil_knowledge_status_json(d->know, d->cfg->knowledge, j);
	vigil_daemon_state_status_json(d, j);
	vigil_daemon_sinks_status_json(d, j);
	vigil_daemon_watch_status_json(d, j);
	vigil_http_status_json(d->http, d->cfg->metrics_listen, j);
	vigil_daemon_alerts_status_json(d, j);
	vigil_incidents_status_json(d->incidents, j);
	vigil_loop_status_json(d->loop, j);
	vigil_workloads_status_json(d->wl, j);
	vigil_pods_status_json(d->pods, j);
	vigil_privileges_status_json(&d->privs, j);
	return vigil_json_end(j);
}

/*
 * Who asked, for the audit trail: "alice (uid 1000, pid 4242)", from the connection's
 * SO_PEERCRED — the kernel's word, not the client's.
 */
static void peer_name(const struct vigil_ctl_peer *peer, char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	char pwbuf[1024];

	if (peer->uid == (uid_t)-1) {
		snprintf(buf, len, "an unknown peer");
		return;
	}
	getpwuid_r(peer->uid, &pw, pwbuf, sizeof(pwbuf), &res);
	snprintf(buf, len, "%s (uid %u, pid %d)", res ? res->pw_name : "?", (unsigned int)peer->uid,
		 (int)peer->pid);
}

/* "approve ID [REASON]" and "deny ID [REASON]": the healer answers; the control socket says
 * who asked. */
static int decide(bool approve, const char *arg, const struct vigil_ctl_peer *peer,
		  struct vigil_json *out, struct vigil_healer *h)
{
	char id[64], who[160];
	const char *reason = NULL;
	size_t n;

	if (!arg)
		return -ENOENT;
	n = strcspn(arg, " ");
	if (n >= sizeof(id))
		return -ENOENT;
	memcpy(id, arg, n);
	id[n] = '\0';
	if (arg[n])
		reason = arg + n + strspn(arg + n, " ");
	peer_name(peer, who, sizeof(who));
	return approve ? vigil_healer_approve_answer(h, id, who, reason, out)
		       : vigil_healer_deny_answer(h, id, who, reason, out);
}

static int approve(const char *arg, const struct vigil_ctl_peer *peer, struct vigil_json *out,
		   void *ctx)
{
	return decide(true, arg, peer, out, ctx);
}

static int deny(const char *arg, const struct vigil_ctl_peer *peer, struct vigil_json *out,
		void *ctx)
{
	return decide(false, arg, peer, out, ctx);
}

int vigil_daemon_handlers(struct daemon *d)
{
	int err;

	d->history = (struct vigil_history_live){d->incidents, d->cfg->node};
	err = vigil_ctl_query(d->ctl, "status", status_query, d);
	if (!err)
		err = vigil_ctl_query(d->ctl, "latency", vigil_workloads_latency_answer, d->wl);
	if (!err)
		err = vigil_ctl_query(d->ctl, "incidents", vigil_history_incidents_query,
				      &d->history);
	if (!err)
		err =
		    vigil_ctl_query(d->ctl, "incident", vigil_history_incident_query, &d->history);
	if (!err)
		err = vigil_ctl_command(d->ctl, "approve", approve, d->healer);
	if (!err)
		err = vigil_ctl_command(d->ctl, "deny", deny, d->healer);
	return err;
}

/* The one line on stderr that says vigil runs, and how: "vigil: ready: ...". */
void vigil_daemon_say_ready(const struct daemon *d, const char *ctl_path)
{
	char progs[512], safe[256], caps[64];
	unsigned int nprogs;

	for (enum vigil_family f = VIGIL_FAM_SOCKETS; f < VIGIL_FAM_MAX; f++)
		if (vigil_probes_error(d->probes, f))
			fprintf(stderr, "vigil: %s probes not attached, running without them: %s\n",
				vigil_family_name(f), vigil_probes_error(d->probes, f));
	nprogs = vigil_probes_attached(d->probes, VIGIL_FAM_MAX, progs, sizeof(progs));
	fprintf(
	    stderr,
	    "vigil: ready: node %s, config %s, %s probes (%u: %s), %u workloads, "
	    "observe_all %s, journal %s, redis %s, control %s, http %s, capabilities %s%s\n",
	    d->cfg->node, d->cfg->source, vigil_probes_mode(d->probes), nprogs, progs,
	    d->cfg->n_workloads, d->cfg->observe_all ? "on" : "off",
	    d->journal && d->journal[0] ? d->journal : "off",
	    d->cfg->redis_url ? vigil_redis_url_safe(d->cfg->redis_url, safe, sizeof(safe)) : "off",
	    ctl_path[0] ? ctl_path : "off", d->cfg->metrics_listen ? d->cfg->metrics_listen : "off",
	    vigil_privileges_names(d->privs.effective, caps, sizeof(caps)),
	    d->privs.permitted != d->privs.effective ? " (root's kept for the programs rules run)"
						     : "");
}
