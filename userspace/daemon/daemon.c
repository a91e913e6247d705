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
 * timers (the derived stage's 25 ms sample and 1 s tick). Each stage keeps its own state. This
 * file builds the stages in order, registers the loop's callbacks (daemon_route.c, which hands
 * one stage's output to the next) and tears everything down in reverse.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon.h"
#include "control/endpoint.h"
#include "daemon/daemon_int.h"
#include "output/redis_watch.h"
#include "heal/knowledge.h"

/* The smallest block malloc puts in a mapping of its own (glibc's default starting value). */
#define DAEMON_MMAP_MIN (128 * 1024)

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
		ret = vigil_derived_new(d->cfg, &d->src, vigil_daemon_on_derived, d,
					vigil_loop_now(d->loop), &d->derived);
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
	return vigil_collector_new(d->loop, vigil_probes_ringbuf_fd(d->probes),
				   vigil_daemon_on_event, d, &d->coll);
}

/* Step 5: signals, timers, the control socket. */
static int start_loop(struct daemon *d, const char *ctl_path, bool sockets, char *err,
		      size_t errlen)
{
	static const int signals[] = {SIGINT, SIGTERM, SIGCHLD, SIGHUP};
	int ret = vigil_loop_signals(d->loop, signals, 4, vigil_daemon_on_signal, d);

	if (ret) {
		snprintf(err, errlen, "signals: %s", strerror(-ret));
		return ret;
	}
	vigil_timer_init(&d->tick, vigil_daemon_on_tick, d);
	vigil_timer_init(&d->sample, vigil_daemon_on_sample, d);
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
