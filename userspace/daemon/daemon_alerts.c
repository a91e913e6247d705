// SPDX-License-Identifier: Apache-2.0
/*
 * daemon_alerts: POST /v1/alerts on the HTTP endpoint (metrics.listen) — Alertmanager's
 * webhook -> incidents of class alert, through the same record() as kernel faults, so the
 * same rules, levels, breaker, backoff, quiet window, audit and tally apply.
 *
 * Who may post: loopback peers, or any peer with alerts.allow_remote (403 otherwise); with
 * alerts.token_file, only with "Authorization: Bearer TOKEN" (401 otherwise; compared in
 * constant time). The token is read once, at start, from a file that only root can have
 * written and no one else can read.
 *
 * Which alerts are firing is remembered by signature (at most FIRING_MAX), and under each
 * signature which alerts fire (their identity: all their labels, so two replicas of one alert
 * are two members of one incident). The first firing notification opens the incident; the
 * ones Alertmanager repeats (group_interval, repeat_interval) and other members firing are
 * counted and change nothing; when the last member is resolved, the incident is resolved if
 * no heal has begun (vigil_healer_fault_gone) and forgotten, so the next firing is a new
 * incident. Everything runs on the loop's thread: no lock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "control/endpoint.h"
#include "core/files.h"
#include "daemon/daemon_int.h"
#include "detect/alerts.h"

#define TOKEN_MAX 4096
#define FIRING_MAX 1024 /* signatures remembered as firing; past it, counted as untracked */
#define MEMBERS_MAX 16	/* alerts of one signature remembered; past it, untracked */

struct firing {
	char signature[VIGIL_SIG_LEN];
	char incident[17];
	uint64_t members[MEMBERS_MAX]; /* vigil_alert_identity() of each alert firing */
	unsigned int n_members;
};

struct daemon_alerts {
	char token[TOKEN_MAX]; /* "" when no token_file */
	struct firing firing[FIRING_MAX];
	unsigned int n_firing;
	struct vigil_alerts_stats st;
};

/* Equal in a time that depends on neither where they differ nor the token's length. */
static bool token_equal(const char *got, size_t got_len, const char *want)
{
	size_t want_len = strlen(want);
	unsigned char diff = got_len != want_len;

	for (size_t i = 0; i < want_len; i++)
		diff |= (unsigned char)(i < got_len ? got[i] : 0) ^ (unsigned char)want[i];
	return !diff;
}

/* May this request post alerts? Answers 403 or 401 itself when not. */
static bool allowed(struct daemon *d, const struct vigil_http_req *req, struct vigil_http_resp *r)
{
	struct daemon_alerts *a = d->alerts;
	const char *auth;

	if (!req->loopback && !d->cfg->alerts_allow_remote) {
		a->st.forbidden++;
		r->status = 403;
		vigil_http_printf(r, "forbidden: %s is not a loopback peer (alerts.allow_remote)\n",
				  req->peer);
		return false;
	}
	if (!a->token[0])
		return true;
	auth = vigil_http_header(req, "Authorization");
	if (!auth || strncasecmp(auth, "Bearer ", 7) ||
	    !token_equal(auth + 7, strlen(auth + 7), a->token)) {
		a->st.unauthorized++;
		r->status = 401;
		vigil_http_printf(r, "unauthorized: %s\n",
				  auth ? "wrong bearer token" : "no Authorization: Bearer header");
		return false;
	}
	return true;
}

static struct firing *find_firing(struct daemon_alerts *a, const char *sig)
{
	for (unsigned int i = 0; i < a->n_firing; i++)
		if (!strcmp(a->firing[i].signature, sig))
			return &a->firing[i];
	return NULL;
}

static void forget(struct daemon_alerts *a, struct firing *f)
{
	*f = a->firing[--a->n_firing];
}

/* Remember alert id as firing under f. */
static void add_member(struct daemon_alerts *a, struct firing *f, uint64_t id)
{
	for (unsigned int i = 0; i < f->n_members; i++)
		if (f->members[i] == id)
			return;
	if (f->n_members == MEMBERS_MAX) {
		a->st.untracked++;
		return;
	}
	f->members[f->n_members++] = id;
}

/* A firing alert (identity id) of workload wl: a new incident, or a repeat of a known one. */
static void firing(struct daemon *d, unsigned int wl, const struct vigil_detection *det,
		   uint64_t id)
{
	struct daemon_alerts *a = d->alerts;
	struct vigil_event_hdr hdr = {.workload = wl, .ts_ns = vigil_mono_ns()};
	const char *name = d->cfg->workloads[wl - 1].name;
	struct vigil_incident *inc;
	struct firing *f = find_firing(a, det->signature);

	if (f) {
		a->st.repeats++;
		add_member(a, f, id);
		return;
	}
	/* Detection time is ~0: the alert is a fault from the moment vigil receives it (its
	 * startsAt is another host's wall clock; README). */
	vigil_incidents_note(d->incidents, wl, hdr.ts_ns, 0, "alert", det->detail);
	inc = vigil_daemon_record(d, &hdr, det, name);
	if (!inc)
		return;
	a->st.opened++;
	if (a->n_firing == FIRING_MAX) {
		a->st.untracked++;
		return;
	}
	f = &a->firing[a->n_firing++];
	memset(f, 0, sizeof(*f));
	snprintf(f->signature, VIGIL_SIG_LEN, "%s", det->signature);
	snprintf(f->incident, sizeof(f->incident), "%s", inc->id);
	add_member(a, f, id);
}

/* A resolved alert (identity id): when it was the last of its signature to fire, its incident
 * resolved if no heal has begun, and forgotten. */
static void resolved(struct daemon *d, const struct vigil_detection *det, uint64_t id)
{
	struct daemon_alerts *a = d->alerts;
	struct firing *f = find_firing(a, det->signature);
	struct vigil_incident *inc;
	char why[128];
	unsigned int i;

	if (!f) {
		a->st.resolved_unknown++;
		return;
	}
	for (i = 0; i < f->n_members && f->members[i] != id; i++)
		;
	if (i < f->n_members)
		f->members[i] = f->members[--f->n_members];
	if (f->n_members) {
		a->st.resolved_partial++; /* another alert of the signature still fires */
		return;
	}
	inc = vigil_incidents_lookup(d->incidents, f->incident);
	snprintf(why, sizeof(why), "alert %s resolved", det->detail);
	if (inc && !vigil_healer_fault_gone(d->healer, inc, why))
		a->st.resolved++;
	else
		a->st.resolved_after++; /* healed, failed, escalated, or its heal decides */
	forget(a, f);
}

/* POST /v1/alerts. */
static void post_alerts(const struct vigil_http_req *req, struct vigil_http_resp *r, void *ctx)
{
	struct daemon *d = ctx;
	struct daemon_alerts *a = d->alerts;
	struct vigil_alert_batch b;
	struct vigil_detection det;
	unsigned int ignored = 0, n_firing = 0;
	char why[256];
	int ret;

	if (!allowed(d, req, r))
		return;
	ret = vigil_alerts_parse(req->body, req->body_len, &b, why, sizeof(why));
	if (ret == -EINVAL) {
		a->st.rejected++;
		r->status = 400;
		vigil_http_printf(r, "bad payload: %s\n", why);
		return;
	}
	if (ret) {
		r->status = 503; /* out of memory: Alertmanager retries a 5xx */
		vigil_http_printf(r, "cannot take the payload now: %s\n", strerror(-ret));
		return;
	}
	a->st.payloads++;
	/* The firing ones first: a payload that resolves one replica while another starts to
	 * fire keeps the incident open. */
	for (unsigned int pass = 0; pass < 2 && !r->err; pass++) {
		for (unsigned int i = 0; i < b.n; i++) {
			const struct vigil_alert *al = &b.alerts[i];
			unsigned int wl;

			if (al->firing != !pass)
				continue;
			wl = vigil_alert_workload(d->cfg, al);
			if (!wl) {
				ignored++;
				continue;
			}
			if (vigil_alert_detect(d->cfg->workloads[wl - 1].name, al, &det)) {
				r->err = -ENOMEM;
				break;
			}
			if (al->firing) {
				a->st.firing++;
				n_firing++;
				firing(d, wl, &det, vigil_alert_identity(al));
			} else {
				a->st.resolved_alerts++;
				resolved(d, &det, vigil_alert_identity(al));
			}
		}
	}
	a->st.ignored += ignored;
	vigil_http_printf(r, "accepted %u alerts: %u firing, %u resolved, %u naming no workload\n",
			  b.n, n_firing, b.n - n_firing - ignored, ignored);
	vigil_alerts_free(&b);
}

int vigil_daemon_alerts_open(struct daemon *d, char *err, size_t errlen)
{
	const char *path = d->cfg->alerts_token_file;
	char why[320];
	int ret;

	d->alerts = calloc(1, sizeof(*d->alerts));
	if (!d->alerts)
		return -ENOMEM;
	if (path) {
		/* Only root can have written it (nor replaced it), and no one else reads it. */
		ret = vigil_file_trusted(path, why, sizeof(why));
		if (!ret)
			ret = vigil_read_token(path, d->alerts->token, TOKEN_MAX, why, sizeof(why));
		if (ret) {
			snprintf(err, errlen, "alerts.token_file: %s", why);
			return ret;
		}
	}
	ret =
	    vigil_http_route(d->http, "POST", "/v1/alerts", VIGIL_ALERTS_MAX_BODY, post_alerts, d);
	if (ret)
		snprintf(err, errlen, "metrics.listen: route /v1/alerts: %s", strerror(-ret));
	return ret;
}

void vigil_daemon_alerts_close(struct daemon *d)
{
	if (!d->alerts)
		return;
	explicit_bzero(d->alerts->token, sizeof(d->alerts->token));
	free(d->alerts);
	d->alerts = NULL;
}

void vigil_daemon_alerts_stats(const struct daemon *d, struct vigil_alerts_stats *st)
{
	if (d->alerts) {
		*st = d->alerts->st;
		st->firing_now = d->alerts->n_firing;
	} else {
		memset(st, 0, sizeof(*st));
	}
}

void vigil_daemon_alerts_status_json(const struct daemon *d, struct vigil_json *j)
{
	struct vigil_alerts_stats st;

	if (!d->alerts)
		return;
	vigil_daemon_alerts_stats(d, &st);
	vigil_json_object_begin(j, "alerts");
	vigil_json_u64(j, "payloads", st.payloads);
	vigil_json_u64(j, "rejected", st.rejected);
	vigil_json_u64(j, "unauthorized", st.unauthorized);
	vigil_json_u64(j, "forbidden", st.forbidden);
	vigil_json_u64(j, "firing", st.firing);
	vigil_json_u64(j, "resolved_alerts", st.resolved_alerts);
	vigil_json_u64(j, "ignored", st.ignored);
	vigil_json_u64(j, "opened", st.opened);
	vigil_json_u64(j, "repeats", st.repeats);
	vigil_json_u64(j, "resolved", st.resolved);
	vigil_json_u64(j, "resolved_after", st.resolved_after);
	vigil_json_u64(j, "resolved_unknown", st.resolved_unknown);
	vigil_json_u64(j, "resolved_partial", st.resolved_partial);
	vigil_json_u64(j, "untracked", st.untracked);
	vigil_json_u64(j, "firing_now", st.firing_now);
	vigil_json_object_end(j);
}
