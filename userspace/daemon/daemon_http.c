// SPDX-License-Identifier: Apache-2.0
/*
 * daemon_http: the HTTP endpoint's routes (metrics.listen): /healthz (the loop turns),
 * /readyz (probes attached, sinks delivering), /metrics (daemon_metrics.c) and POST /v1/alerts
 * (daemon_alerts.c). Every handler
 * runs on the loop's thread (control/endpoint.h) and only reads.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "control/endpoint.h"
#include "daemon/daemon_int.h"

/* The loop is stuck when its 1 s tick is this late: /healthz answers 503. A loop stuck for
 * good answers nothing at all, which a liveness probe's timeout counts as a failure too. */
#define HEALTH_LATE_MS (5 * TICK_MS)

/* /healthz: the tick ran lately. */
static void healthz(const struct vigil_http_req *req, struct vigil_http_resp *r, void *ctx)
{
	const struct daemon *d = ctx;
	uint64_t late_ms = (vigil_loop_now(d->loop) - d->last_tick_ns) / 1000000;

	(void)req;
	if (late_ms > HEALTH_LATE_MS) {
		r->status = 503;
		vigil_http_printf(r, "stuck: the event loop's last tick was %llu ms ago\n",
				  (unsigned long long)late_ms);
		return;
	}
	vigil_http_printf(r, "ok: the event loop ticked %llu ms ago\n",
			  (unsigned long long)late_ms);
}

/* /readyz: every requested probe family attached, and no sink down (spooling). Each reason
 * it is not ready is a line of the answer. */
static void readyz(const struct vigil_http_req *req, struct vigil_http_resp *r, void *ctx)
{
	const struct daemon *d = ctx;
	unsigned int bad = 0;

	(void)req;
	for (enum vigil_family f = 0; f < VIGIL_FAM_MAX; f++) {
		const char *why = vigil_probes_error(d->probes, f);

		if (f == VIGIL_FAM_EXITS && !vigil_probes_has(d->probes, f) && !why)
			why = "not attached";
		if (why) {
			vigil_http_printf(r, "not ready: %s probes: %s\n", vigil_family_name(f),
					  why);
			bad++;
		}
	}
	for (unsigned int i = 0; i < DAEMON_SINKS; i++) {
		struct vigil_sink_stats st;

		if (!d->sinks[i].sink)
			continue;
		vigil_sink_stats(d->sinks[i].sink, &st);
		if (st.state != VIGIL_SINK_DOWN)
			continue;
		vigil_http_printf(r, "not ready: the %s sink is down (%llu records spooled): %s\n",
				  vigil_sink_name(d->sinks[i].sink),
				  (unsigned long long)st.spool_pending, st.last_error);
		bad++;
	}
	if (bad) {
		r->status = 503;
		return;
	}
	vigil_http_printf(r, "ready: %s probes attached, sinks up\n", vigil_probes_mode(d->probes));
}

int vigil_daemon_http_open(struct daemon *d, char *err, size_t errlen)
{
	int ret;

	if (!d->cfg->metrics_listen)
		return 0;
	ret = vigil_http_listen(d->loop, d->cfg->metrics_listen, &d->http, err, errlen);
	if (ret)
		return ret;
	ret = vigil_http_route(d->http, "GET", "/healthz", 0, healthz, d);
	if (!ret)
		ret = vigil_http_route(d->http, "GET", "/readyz", 0, readyz, d);
	if (!ret)
		ret = vigil_http_route(d->http, "GET", "/metrics", 0, vigil_daemon_metrics, d);
	if (ret) {
		snprintf(err, errlen, "metrics.listen: routes: %s", strerror(-ret));
		return ret;
	}
	return vigil_daemon_alerts_open(d, err, errlen);
}
