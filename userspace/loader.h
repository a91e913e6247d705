/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loader: opens, loads and attaches the kernel programs, choosing at runtime between tp_btf
 * programs (preferred) and their classic-tracepoint twins, and exposes the maps the other
 * stages need.
 */
#ifndef VIGIL_LOADER_H
#define VIGIL_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/events.h"

struct vigil_probes;

struct vigil_probe_opts {
	bool observe_all;      /* report failing exits of every process */
	bool force_classic;    /* skip tp_btf (tests of the fallback, old kernels) */
	size_t ringbuf_bytes;  /* 0: VIGIL_RINGBUF_BYTES */
};

/*
 * Open, load and attach. Tries tp_btf first and falls back to classic tracepoints (mounting
 * tracefs when it is missing). Returns 0 and *out, or -errno with err saying what failed.
 */
int vigil_probes_open(const struct vigil_probe_opts *opts, struct vigil_probes **out, char *err,
		      size_t errlen);
/* Detach and free everything; accepts NULL. */
void vigil_probes_close(struct vigil_probes *p);

/* "tp_btf" or "tracepoint": which program family was attached. */
const char *vigil_probes_mode(const struct vigil_probes *p);
/* How many programs are attached; their names, comma-separated, into buf. */
unsigned int vigil_probes_attached(const struct vigil_probes *p, char *buf, size_t len);

/* Map fds for the other stages. */
int vigil_probes_ringbuf_fd(const struct vigil_probes *p);
int vigil_probes_watched_fd(const struct vigil_probes *p);
int vigil_probes_match_comm_fd(const struct vigil_probes *p);
int vigil_probes_match_exe_fd(const struct vigil_probes *p);
int vigil_probes_match_cgroup_fd(const struct vigil_probes *p);

/* Sum the per-CPU counters into out[VIGIL_STAT_MAX]. Returns 0 or -errno. */
int vigil_probes_stats(const struct vigil_probes *p, uint64_t out[VIGIL_STAT_MAX]);

/* Does this kernel's sched_process_exit carry group_dead (6.16+)? Used by doctor too. */
bool vigil_kernel_exit_has_group_dead(void);
/* Mount tracefs at /sys/kernel/tracing unless some tracefs is already reachable.
 * Returns 0 (mounted or already there) or -errno. */
int vigil_ensure_tracefs(void);

#endif /* VIGIL_LOADER_H */
