/* SPDX-License-Identifier: Apache-2.0 */
/* daemon: `vigil run` — builds the pipeline of DESIGN.md and runs its one event loop. */
#ifndef VIGIL_DAEMON_H
#define VIGIL_DAEMON_H

#include <stdbool.h>

struct vigil_run_opts {
	const char *config;	   /* NULL: the embedded default */
	const char *journal;	   /* overrides the config's journal; "" disables it */
	bool json;		   /* JSON lines on stdout */
	bool quiet;		   /* nothing on stdout */
	bool force_classic;	   /* classic tracepoints instead of tp_btf */
	const char *ctl;	   /* control socket path; NULL: VIGIL_CTL_PATH; "": none */
	unsigned long ringbuf_kib; /* ring buffer size; 0: the default (1 MiB) */
};

/* Runs until SIGINT or SIGTERM. Returns 0, or -errno after printing why to stderr. */
int vigil_daemon_run(const struct vigil_run_opts *o);

#endif /* VIGIL_DAEMON_H */
