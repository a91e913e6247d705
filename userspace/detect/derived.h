/* SPDX-License-Identifier: Apache-2.0 */
/*
 * derived: the detections that need state across events and time, as a stage of their own.
 *
 *   crash_loop      detect.crash_loop_exits failed exits of a workload within the window
 *   conn_* "rate"   a workload's connection errors of one class over a sliding second, over
 *                   the floor and over 4x the class's moving baseline (judged at each error)
 *   retransmits     a workload's retransmits over the last second, sampled every
 *                   VIGIL_RETRANS_SAMPLE_MS, judged like the rates; each second with any is
 *                   also a rate event. Between samples the kernel's alarm (the source's
 *                   retrans_arm) wakes the stage at the count where the class would be
 *                   reached (vigil_derived_retrans): the fault is found at the crossing.
 *                   Each sample keeps the time of its first retransmit: a fault is timed
 *                   from the first retransmit of its window.
 *   latency_slo     a timed syscall's p99 over budget for detect.slo_intervals seconds in a row
 *   drops           a probe family's records lost to a full ring buffer, per second (health),
 *                   and each workload's losses kept for 16 s, to tell whether an incident's
 *                   window lost events (vigil_derived_lost_since)
 *   full            a map that filled (the kernel's watched set or socket owners, the
 *                   incident table at its cap): one health finding per episode, when it
 *                   starts refusing (or evicting) after a tick that did not
 *
 * Nothing here reads the kernel or a clock: the counters come from a source the caller gives
 * (the daemon's reads the kernel's maps; a test's is a table), and every entry point takes the
 * time. What the stage finds is handed to one callback, in order.
 */
#ifndef VIGIL_DETECT_DERIVED_H
#define VIGIL_DETECT_DERIVED_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "detect/detector.h"
#include "vigil/events.h"

#define VIGIL_RETRANS_SAMPLE_MS 25 /* bounds the retransmits class's detection time */
#define VIGIL_DERIVED_TICK_MS 1000 /* vigil_derived_tick()'s period */
#define VIGIL_SLO_MIN_CALLS 20	   /* fewer calls in an interval say nothing about a p99 */

/* The kernel's monotonic counters, as the stage reads them. Each returns 0, or -errno when
 * the counter is not there (that workload or family is skipped this time). */
struct vigil_derived_source {
	/* Retransmitted segments of workload (index + 1), in all. */
	int (*retransmits)(void *arg, unsigned int workload, uint64_t *total);
	/* Arm the kernel's retransmit alarm of workload at count at (0: disarm), then read the
	 * count into *now (a count already past at: the alarm will not go off). May be NULL. */
	int (*retrans_arm)(void *arg, unsigned int workload, uint64_t at, uint64_t *now);
	/* The kernel time of workload's first retransmit since the last take (0: none), taken
	 * (reset) at each sample or only read. May be NULL: samples are timed from their start. */
	int (*retrans_first)(void *arg, unsigned int workload, bool take, uint64_t *first_ns);
	/* Records about workload (0: unattributed) lost to a full ring buffer, all families. */
	int (*workload_drops)(void *arg, unsigned int workload, uint64_t *total);
	/* Records of probe family f (0 .. n_families-1) lost to a full ring buffer; *name: its
	 * name for the health record. */
	int (*family_drops)(void *arg, unsigned int f, uint64_t *total, const char **name);
	unsigned int n_families;
	/* The histogram of the k-th of workload's latency.syscalls. -EEXIST when the workload
	 * names that syscall twice and k is not the first: one histogram, judged once. */
	int (*latency)(void *arg, unsigned int workload, unsigned int k, struct vigil_lat_hist *h);
	/* Entries map m (0 .. n_maps-1) refused, or pushed out, for being full, in all; *family
	 * and *map: whose map, and its name, for the health record. May be NULL. */
	int (*map_full)(void *arg, unsigned int m, uint64_t *total, const char **family,
			const char **map);
	unsigned int n_maps;
	void *arg;
};

enum vigil_derived_kind {
	VIGIL_DERIVED_FAULT,  /* an incident's fault: det.cls is set */
	VIGIL_DERIVED_RATE,   /* a rate over one interval (retransmits): an event, no fault */
	VIGIL_DERIVED_HEALTH, /* a family's records lost to a full ring buffer */
	VIGIL_DERIVED_FULL,   /* a map began to refuse entries: the start of an episode */
};

/* One finding. */
struct vigil_derived_out {
	enum vigil_derived_kind kind;
	/* FAULT: the header the incident is counted from. ts_ns is the earliest its cause can
	 * have happened (the first error of the window, the start of the first sample or
	 * interval), so that the detection time is never flattering; workload and tgid set. */
	struct vigil_event_hdr hdr;
	struct vigil_detection det; /* FAULT and RATE */
	const char *workload;	    /* name (FAULT, RATE) or family (HEALTH, FULL) */
	const char *map;	    /* FULL: the map's name */
	uint64_t count;		    /* RATE: in the interval; HEALTH: lost since the last;
				     * FULL: refused in the last tick */
	uint64_t interval_ms;	    /* RATE */
	uint64_t total;		    /* HEALTH: lost in all; FULL: refused in all */
};

typedef void (*vigil_derived_fn)(const struct vigil_derived_out *o, void *arg);

struct vigil_derived;

/* For cfg's workloads; now_ns (monotonic) starts the first interval. Returns 0 and *out, or
 * -ENOMEM. cfg and src must outlive the stage. */
int vigil_derived_new(const struct vigil_config *cfg, const struct vigil_derived_source *src,
		      vigil_derived_fn fn, void *arg, uint64_t now_ns, struct vigil_derived **out);
/* Accepts NULL. */
void vigil_derived_free(struct vigil_derived *d);

/* A classified kernel event of a configured workload (or any: others are ignored). Returns
 * how many findings it handed on. */
unsigned int vigil_derived_event(struct vigil_derived *d, const struct vigil_event_hdr *h,
				 const struct vigil_detection *det, const char *name);
/* Every VIGIL_RETRANS_SAMPLE_MS: sample the retransmit counters. Returns findings handed on. */
unsigned int vigil_derived_sample(struct vigil_derived *d, uint64_t now_ns);
/* The kernel's retransmit alarm of workload went off at kernel_ns (a VIGIL_EV_RETRANS
 * record): judge its last second now. Returns findings handed on. */
unsigned int vigil_derived_retrans(struct vigil_derived *d, unsigned int workload,
				   uint64_t kernel_ns);
/* Alarms taken in all, and those that found less than the class (armed again). */
void vigil_derived_retrans_stats(const struct vigil_derived *d, uint64_t *alarms, uint64_t *early);
/* Every second: baselines, retransmit rate events, latency_slo, drops. Returns findings. */
unsigned int vigil_derived_tick(struct vigil_derived *d, uint64_t now_ns);

/* Records about workload lost to a full ring buffer since since_ns (monotonic): its total now
 * less its total at the last tick at or before since_ns (or at start). */
uint64_t vigil_derived_lost_since(const struct vigil_derived *d, unsigned int workload,
				  uint64_t since_ns);

#endif /* VIGIL_DETECT_DERIVED_H */
