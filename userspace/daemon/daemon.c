// SPDX-License-Identifier: Apache-2.0
/*
 * daemon: the pipeline's wiring, and nothing else.
 *
 *   ring buffer -> collector -> workloads (name) -> detector -> output (event)
 *                                                -> derived (crash loops, rates, SLOs, drops)
 *                                                -> incidents -> output (incident)
 *                                                             -> healer -> actions
 *
 * One thread: everything runs from vigil_loop_run(), driven by the ring buffer's fd, a signalfd
 * (SIGINT, SIGTERM: stop; SIGCHLD: reap what the healer started; SIGHUP: reopen the journal),
 * the control socket and two
 * timers (the derived stage's 25 ms sample and 1 s tick). Each stage keeps its own state; this
 * file only hands one stage's output to the next and adapts the kernel's maps to the stages
 * that read them.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "daemon/daemon.h"
#include "control/endpoint.h"
#include "daemon/daemon_int.h"
#include "output/redis_watch.h"
#include "heal/knowledge.h"

/* The smallest block malloc puts in a mapping of its own (glibc's default starting value). */
#define DAEMON_MMAP_MIN (128 * 1024)

/* What the derived stage found. */
static void on_derived(const struct vigil_derived_out *o, void *arg)
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
static void on_event(const struct vigil_event_hdr *h, void *arg)
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

/* --- the loop's callbacks ----------------------------------------------------------------- */

/* SIGCHLD: reap what the healer started; SIGHUP: reopen the journal; SIGINT, SIGTERM: stop. */
static void on_signal(struct vigil_loop *loop, int signo, void *arg)
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

static void on_sample(struct vigil_loop *loop, void *arg)
{
	struct daemon *d = arg;

	vigil_derived_sample(d->derived, vigil_loop_now(loop));
	vigil_timer_arm(loop, &d->sample, VIGIL_RETRANS_SAMPLE_MS);
}

static void on_tick(struct vigil_loop *loop, void *arg)
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

/* --- start and stop ----------------------------------------------------------------------- */

static void teardown(struct daemon *d)
{
	vigil_http_close(d->http);
	vigil_daemon_alerts_close(d);
	vigil_ctl_close(d->ctl);
	/* No decision from Redis reaches the healer after this. */
	vigil_redis_watch_close(d->watch);
	/* The healer records its pending work, so it goes before the output. */
	vigil_healer_free(d->healer);
	vigil_daemon_state_close(d);
	vigil_knowledge_close(d->know);
	vigil_collector_free(d->coll);
	/* Every live incident's last record, with its true count, while the output is open. */
	if (d->incidents)
		vigil_incidents_finish(d->incidents);
	vigil_incidents_free(d->incidents);
	vigil_derived_free(d->derived);
	vigil_workloads_free(d->wl);
	vigil_pods_free(d->pods);
	vigil_tracer_free(d->tracer);
	vigil_probes_close(d->probes);
	/* Everything has been recorded: what the sinks have not written yet goes to their
	 * spools. */
	vigil_daemon_sinks_close(d);
	vigil_output_close(d->out);
	vigil_tally_free(&d->tally);
	vigil_loop_free(d->loop);
	vigil_config_free(d->cfg);
	free(d);
}

/* Steps 1 and 2: the config, then the output, Redis, the knowledge store and the healer's
 * state, so that everything after can be recorded. */
static int open_config_and_output(struct daemon *d, const struct vigil_run_opts *o, char *err,
				  size_t errlen)
{
	struct vigil_output_opts so = {.json_stdout = o->json, .quiet = o->quiet};
	int ret;

	if (o->config)
		ret = vigil_config_load(o->config, &d->cfg, err, errlen);
	else
		ret = vigil_config_parse(vigil_default_config, strlen(vigil_default_config),
					 "<embedded>", &d->cfg, err, errlen);
	if (ret)
		return ret;
	so.node = d->cfg->node;
	so.journal = d->journal = o->journal ? o->journal : d->cfg->journal;
	so.journal_max_bytes = d->cfg->journal_max_mb << 20;
	so.journal_keep = d->cfg->journal_keep;
	so.journal_fsync = d->cfg->journal_fsync;
	ret = vigil_output_open(&so, &d->out, err, errlen);
	if (!ret)
		vigil_output_set_tally(d->out, &d->tally);
	if (!ret)
		ret = vigil_daemon_sinks_open(d, err, errlen);
	/* A malformed knowledge store is set aside (PATH.bad), said, and vigil starts with an
	 * empty store rather than not at all. */
	if (!ret)
		ret = vigil_knowledge_open(d->cfg->knowledge, 0, VIGIL_KNOW_SET_ASIDE, &d->know,
					   err, errlen);
	if (!ret && err[0]) {
		fprintf(stderr, "vigil: warning: %s\n", err);
		err[0] = '\0';
	}
	if (!ret)
		ret = vigil_daemon_state_open(d, err, errlen);
	return ret;
}

/* Step 3b: the pods of processes (k8s.enabled; auto: when this node runs pods), and the pods of
 * the workloads' processes that already run. Returns 0 or -ENOMEM. */
static int open_pods(struct daemon *d)
{
	const struct vigil_config *c = d->cfg;
	struct vigil_pods_opts o = {
	    .containerd = c->k8s_containerd,
	    .crio = c->k8s_crio,
	    .proc_fallback = c->k8s_proc_fallback,
	    .node = c->node,
	};
	pid_t pids[64];
	int ret;

	if (c->k8s == VIGIL_K8S_OFF || (c->k8s == VIGIL_K8S_AUTO && !vigil_pods_node_runs_pods(&o)))
		return 0;
	ret = vigil_pods_new(&o, &d->pods);
	for (unsigned int w = 1; !ret && w <= c->n_workloads; w++) {
		size_t n = vigil_workloads_pids(d->wl, w, pids, 64);

		for (size_t i = 0; i < n && i < 64; i++)
			vigil_pods_learn(d->pods, pids[i], vigil_mono_ns());
	}
	return ret;
}

/* Step 4: the stages the loop drives. Returns 0 or -errno. */
static int build_stages(struct daemon *d)
{
	struct vigil_incidents_opts io = {
	    .window_ms = d->cfg->window_ms,
	    .max = (unsigned int)d->cfg->max_incidents,
	    .notify = vigil_daemon_record_incident,
	    .notify_arg = d,
	};
	struct vigil_healer_probe probe;
	int ret;

	vigil_daemon_adapters(d, &d->src, &io, &probe);
	ret = vigil_loop_new(NULL, &d->loop);
	if (!ret)
		ret = vigil_derived_new(d->cfg, &d->src, on_derived, d, vigil_loop_now(d->loop),
					&d->derived);
	if (!ret)
		ret = vigil_incidents_new(&io, &d->incidents);
	if (!ret)
		ret = vigil_healer_new(d->cfg, d->loop, d->out, d->incidents,
				       vigil_daemon_watch_new, d, &d->healer);
	if (ret)
		return ret;
	vigil_healer_set_probe(d->healer, &probe);
	vigil_healer_set_knowledge(d->healer, d->know);
	/* Before the loop runs: breakers, backoff, pending heals and approvals resumed. */
	vigil_daemon_state_restore(d);
	return vigil_collector_new(d->loop, vigil_probes_ringbuf_fd(d->probes), on_event, d,
				   &d->coll);
}

/* Step 5: signals, timers, the control socket. */
static int start_loop(struct daemon *d, const char *ctl_path, bool sockets, char *err,
		      size_t errlen)
{
	static const int signals[] = {SIGINT, SIGTERM, SIGCHLD, SIGHUP};
	int ret = vigil_loop_signals(d->loop, signals, 4, on_signal, d);

	if (ret) {
		snprintf(err, errlen, "signals: %s", strerror(-ret));
		return ret;
	}
	vigil_timer_init(&d->tick, on_tick, d);
	vigil_timer_init(&d->sample, on_sample, d);
	vigil_timer_arm(d->loop, &d->tick, TICK_MS);
	d->last_tick_ns = vigil_loop_now(d->loop);
	if (sockets)
		vigil_timer_arm(d->loop, &d->sample, VIGIL_RETRANS_SAMPLE_MS);
	/* Approvals from Redis and the busy keys: decisions queued until the loop runs. */
	ret = vigil_daemon_watch_open(d, err, errlen);
	if (!ret)
		ret = vigil_daemon_http_open(d, err, errlen);
	if (ret)
		return ret;
	if (!ctl_path[0])
		return 0;
	ret = vigil_ctl_listen(d->loop, ctl_path, &d->ctl);
	if (!ret)
		ret = vigil_daemon_handlers(d);
	if (ret)
		snprintf(err, errlen, "control socket %s: %s", ctl_path, strerror(-ret));
	return ret;
}

/* What a rule may touch tells what it needs of root: a signal (CAP_KILL), a program. */
static int rule_needs(enum vigil_touch_type type, const char *key, const char *value, void *arg)
{
	struct vigil_priv_needs *n = arg;

	(void)key;
	(void)value;
	n->stops_processes |= type == VIGIL_TOUCH_SIGNAL;
	n->runs_programs |= type == VIGIL_TOUCH_EXEC;
	return 0;
}

/* 5b. Everything loaded and listening: keep of root only what the config needs. */
static int drop_privileges(struct daemon *d, char *err, size_t errlen)
{
	struct vigil_priv_needs n = {};

	for (unsigned int i = 0; i < d->cfg->n_workloads; i++) {
		const struct vigil_workload *w = &d->cfg->workloads[i];

		n.exe_match |= w->match.exe != NULL;
		for (unsigned int k = 0; k < w->n_heal; k++)
			if (w->heal[k].action.ops->touches)
				w->heal[k].action.ops->touches(&w->heal[k].action, rule_needs, &n);
	}
	n.proc_roots = d->pods && d->cfg->k8s_proc_fallback;
	return vigil_privileges_drop(&n, &d->privs, err, errlen);
}

int vigil_daemon_run(const struct vigil_run_opts *o)
{
	const char *ctl_path = o->ctl ? o->ctl : VIGIL_CTL_PATH;
	struct vigil_probe_opts po = {};
	struct daemon *d;
	char err[512] = "";
	int ret;

	/* Every block of DAEMON_MMAP_MIN or more in a mapping of its own, unmapped when freed.
	 * glibc's default raises that threshold to the largest block freed so far: after the
	 * kernel's BTF (5.5 MB, freed after each BPF object's load, vmlinux_btf.c) the next such
	 * block came from the heap, which is not trimmed while less than twice as much is free at
	 * its top, and vigil kept megabytes it no longer used. */
	mallopt(M_MMAP_THRESHOLD, DAEMON_MMAP_MIN);
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->started_mono_ns = vigil_mono_ns();
	/* A peer gone (a child that died before reading its go byte, a client that left) is an
	 * error to handle where it happens (-EPIPE), never the end of vigil. */
	signal(SIGPIPE, SIG_IGN);
	/* 1, 2. Config (refused with file, line and key), output, Redis, knowledge. */
	ret = open_config_and_output(d, o, err, sizeof(err));
	if (ret)
		goto fail;
	/* 3. Kernel programs: tp_btf or classic tracepoints. Sockets and latency serve
	 * workloads only; latency attaches nothing unless a workload asks. */
	po.observe_all = d->cfg->observe_all;
	po.unwatched_rate = (unsigned int)d->cfg->observe_all_rate;
	po.force_classic = o->force_classic;
	po.ringbuf_bytes = o->ringbuf_kib * 1024;
	po.sockets = d->cfg->n_workloads > 0;
	for (unsigned int i = 0; i < d->cfg->n_workloads; i++) {
		po.latency |= d->cfg->workloads[i].n_latency_syscalls > 0;
		po.trace |= d->cfg->workloads[i].trace_http;
		po.trace_env |= d->cfg->workloads[i].trace_env;
	}
	ret = vigil_probes_open(&po, &d->probes, err, sizeof(err));
	/* What loading freed (libbpf's objects, their ELF and BTF) back to the kernel. */
	malloc_trim(0);
	/* Workloads: match keys into the kernel, then what already runs. */
	if (!ret)
		ret = vigil_workloads_new(d->cfg, d->probes, &d->wl, err, sizeof(err));
	if (!ret && vigil_tracer_new(d->cfg, d->probes, &d->tracer)) {
		ret = -ENOMEM;
		snprintf(err, sizeof(err), "out of memory");
	}
	if (!ret && open_pods(d)) {
		ret = -ENOMEM;
		snprintf(err, sizeof(err), "out of memory");
	}
	if (ret)
		goto fail;
	/* 4, 5. The stages, the loop's sources, the control socket. */
	ret = build_stages(d);
	if (ret) {
		snprintf(err, sizeof(err), "setting up the event loop: %s", strerror(-ret));
		goto fail;
	}
	ret = start_loop(d, ctl_path, po.sockets, err, sizeof(err));
	if (!ret)
		ret = drop_privileges(d, err, sizeof(err));
	if (ret)
		goto fail;
	vigil_daemon_say_ready(d, ctl_path);
	/* 6. Run until SIGINT/SIGTERM; then detach everything. */
	ret = vigil_loop_run(d->loop);
	teardown(d);
	return ret;
fail:
	if (err[0])
		fprintf(stderr, "vigil: %s\n", err);
	teardown(d);
	return ret;
}
