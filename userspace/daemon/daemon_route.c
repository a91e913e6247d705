// SPDX-License-Identifier: Apache-2.0
/*
 * daemon_route: the loop's callbacks, each handing what arrived to the stages in the order of
 * the pipeline — a record from the ring buffer (workloads, detector, pods, trace, healer,
 * output, incidents, derived), a finding of the derived stage, a signal, the derived stage's
 * 25 ms sample and the 1 s tick. daemon.c builds the stages and registers these.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "daemon/daemon_int.h"

/* What the derived stage found. */
void vigil_daemon_on_derived(const struct vigil_derived_out *o, void *arg)
{
	struct vigil_detection fault;
	struct vigil_event_hdr hdr;
	struct daemon *d = arg;
	char detail[64];

	switch (o->kind) {
	case VIGIL_DERIVED_FAULT:
		/* Its processes may be long gone: their pod only as kept. The header alone (not
		 * its record's body) says which process. */
		fault = o->det;
		hdr = o->hdr;
		hdr.size = sizeof(hdr);
		vigil_pods_lookup(d->pods, &hdr, false, &fault.pod);
		vigil_daemon_record(d, &o->hdr, &fault, o->workload);
		break;
	case VIGIL_DERIVED_RATE:
		vigil_out_rate(d->out, o->workload, &o->det, o->count, o->interval_ms);
		snprintf(detail, sizeof(detail), "%llu in %llu ms", (unsigned long long)o->count,
			 (unsigned long long)o->interval_ms);
		vigil_incidents_note(d->incidents, o->hdr.workload, vigil_loop_now(d->loop), 0,
				     o->det.label, detail);
		break;
	case VIGIL_DERIVED_HEALTH:
		vigil_out_health(d->out, o->workload, o->count, o->total);
		break;
	case VIGIL_DERIVED_FULL:
		vigil_out_health_full(d->out, o->workload, o->map, o->count, o->total);
		break;
	}
}

/* An exec or exit of a configured workload's process, for the healer. */
static void heal_hears(struct daemon *d, const struct vigil_event_hdr *h)
{
	struct vigil_action_event ev = {
	    .type =
		h->kind == VIGIL_EV_EXEC ? VIGIL_ACTION_WORKLOAD_EXEC : VIGIL_ACTION_WORKLOAD_EXIT,
	    .pid = (pid_t)h->tgid,
	    .ts_ns = h->ts_ns,
	};

	if (h->kind == VIGIL_EV_EXIT && h->size >= sizeof(struct vigil_exit))
		ev.wstatus = (int)((const struct vigil_exit *)h)->exit_code;
	vigil_healer_workload_event(d->healer, h->workload, &ev);
}

/* A valid record from the ring buffer. */
void vigil_daemon_on_event(const struct vigil_event_hdr *h, void *arg)
{
	struct daemon *d = arg;
	struct vigil_detection det;
	char namebuf[VIGIL_COMM_LEN + 1];
	const char *name;

	/* A retransmit alarm: the derived stage judges the workload's last second now. */
	if (h->kind == VIGIL_EV_RETRANS) {
		vigil_derived_retrans(d->derived, h->workload, h->ts_ns);
		return;
	}
	name = vigil_workloads_name(d->wl, h->workload, h->comm, namebuf, sizeof(namebuf));
	if (vigil_detect(h, name, &det))
		return;
	if (det.cls != VIGIL_CLASS_NONE)
		vigil_tracer_lookup(d->tracer, h, &det.trace);
	/* The pod of a process is learnt while it lives: at its exec, or the first event vigil
	 * hears of it (a workload's, or a fault); its incidents read it when it is gone. */
	if (h->kind == VIGIL_EV_EXEC || h->workload || det.cls != VIGIL_CLASS_NONE)
		vigil_pods_lookup(d->pods, h, true, &det.pod);
	if (h->kind == VIGIL_EV_EXEC) {
		vigil_workloads_seen(d->wl, h->workload, h->tgid);
	} else if (h->kind == VIGIL_EV_EXIT) {
		vigil_workloads_gone(d->wl, h->workload, h->tgid);
		if (h->workload)
			vigil_tracer_exit(d->tracer, h->tgid);
	}
	/* A heal of the workload under way hears of its processes starting and ending (a
	 * restart awaits its replacement) before this record opens an incident of its own. */
	if (h->workload && (h->kind == VIGIL_EV_EXEC || h->kind == VIGIL_EV_EXIT))
		heal_hears(d, h);
	vigil_out_event(d->out, h, name, &det);
	if (det.cls != VIGIL_CLASS_NONE)
		vigil_daemon_record(d, h, &det, name);
	vigil_incidents_note(d->incidents, h->workload, h->ts_ns, h->tgid, det.label, det.detail);
	vigil_derived_event(d->derived, h, &det, name);
	if (h->kind == VIGIL_EV_EXIT)
		vigil_pods_exit(d->pods, h->cgroup_id, h->tgid);
}

/* SIGCHLD: reap what the healer started; SIGHUP: reopen the journal; SIGINT, SIGTERM: stop. */
void vigil_daemon_on_signal(struct vigil_loop *loop, int signo, void *arg)
{
	struct daemon *d = arg;
	int status;
	pid_t pid;

	if (signo == SIGCHLD) {
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			vigil_healer_reaped(d->healer, pid, status);
		return;
	}
	if (signo == SIGHUP) {
		/* An outside rotation (logrotate) moved or cut the journal: open its path again. */
		if (vigil_output_reopen(d->out))
			fprintf(stderr, "vigil: SIGHUP: reopening the journal %s failed\n",
				d->journal);
		return;
	}
	fprintf(stderr, "vigil: %s, stopping\n", strsignal(signo));
	vigil_loop_stop(loop);
}

void vigil_daemon_on_sample(struct vigil_loop *loop, void *arg)
{
	struct daemon *d = arg;

	vigil_derived_sample(d->derived, vigil_loop_now(loop));
	vigil_timer_arm(loop, &d->sample, VIGIL_RETRANS_SAMPLE_MS);
}

void vigil_daemon_on_tick(struct vigil_loop *loop, void *arg)
{
	struct daemon *d = arg;

	d->last_tick_ns = vigil_loop_now(loop);
	vigil_derived_tick(d->derived, d->last_tick_ns);
	vigil_daemon_sinks_tick(d);
	vigil_output_tick(d->out);
	vigil_incidents_expire(d->incidents);
	if (++d->ticks % REFRESH_TICKS == 0)
		vigil_workloads_refresh(d->wl);
	vigil_timer_arm(loop, &d->tick, TICK_MS);
}
