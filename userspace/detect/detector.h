/* SPDX-License-Identifier: Apache-2.0 */
/*
 * detector: one kernel record -> a fault class, a normalised detail and a stable signature.
 *
 * Pure functions, no state: the same input gives the same answer on any node, at any time.
 * A signature hashes the workload, the class and the normalised detail (signal name, exit
 * status) and never a pid or a time, so the same fault after a restart, or on another node,
 * has the same signature.
 */
#ifndef VIGIL_DETECTOR_H
#define VIGIL_DETECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "detect/pod_id.h"
#include "detect/trace.h"
#include "vigil/classes.h"
#include "vigil/events.h"

#define VIGIL_SIG_LEN 17 /* 16 hex digits + NUL */

struct vigil_detection {
	enum vigil_class cls; /* VIGIL_CLASS_NONE: not a fault */
	const char *label;    /* what the event was: a class name, or "exit", "killed",
				 "exec", "oom_victim" */
	char detail[64];      /* normalised: "SIGSEGV", "status=3", "10.0.0.5:5432", "read" */
	char signature[VIGIL_SIG_LEN]; /* set when cls != NONE */
	char title[128];	       /* "storyteller crash SIGSEGV" */
	int signal;		       /* exits: fatal signal or 0 */
	int status;		       /* exits: exit status when no signal */
	bool core_dumped;
	/* The requests the fault broke: filled by the caller (vigil_tracer_lookup), never by
	 * vigil_detect(), which leaves it empty. */
	struct vigil_trace trace;
	/* The pod of the process (uid "": none): filled by the caller (vigil_pods_lookup). */
	struct vigil_pod pod;
};

/*
 * Classify a valid record about @workload (a configured name, or the comm in observe-all
 * mode). Returns 0; -EINVAL for a kind the detector does not handle.
 */
int vigil_detect(const struct vigil_event_hdr *hdr, const char *workload,
		 struct vigil_detection *out);

/* 16-hex-digit signature of (workload, class, detail) into out[VIGIL_SIG_LEN]. */
void vigil_signature(const char *workload, enum vigil_class cls, const char *detail, char *out);

/* "SIGSEGV" for 11; "SIG42" for one without a name. Never NULL. buf needs 8 bytes. */
const char *vigil_signal_name(int sig, char *buf);

/* "10.0.0.5:5432" or "[2001:db8::1]:443" into buf (64 bytes). */
void vigil_endpoint(unsigned int family, const unsigned char addr[16], unsigned int port, char *buf,
		    size_t len);

/* A workload whose processes failed `exits` times within window_ms: a crash_loop. */
void vigil_detect_crash_loop(const char *workload, unsigned int exits, uint64_t window_ms,
			     struct vigil_detection *out);

/* The lower bound of the log2 bucket holding the 99th percentile of a histogram of `count`
 * calls (slot i counts [2^i, 2^(i+1)) ns): the p99 is at least this. 0 for no calls. */
uint64_t vigil_hist_p99_floor(const __u64 *slots, unsigned int n, uint64_t count);

/* A timed syscall whose p99 stayed over budget: a latency_slo detection. */
void vigil_detect_slo(const char *workload, const char *syscall, uint64_t p99_ns,
		      uint64_t budget_ms, struct vigil_detection *out);

/* A workload's retransmits over one interval, judged against a floor (threshold per second)
 * and the workload's moving baseline. Fills out (class retransmits when over) like
 * vigil_detect(). */
void vigil_detect_retransmits(const char *workload, uint64_t count, uint64_t interval_ms,
			      uint64_t threshold_per_s, double baseline_per_s,
			      struct vigil_detection *out);

/* A workload's connection errors of class cls over one interval, judged like retransmits: a
 * fault (detail "rate") when over the floor and over the baseline's factor. */
void vigil_detect_conn_rate(const char *workload, enum vigil_class cls, uint64_t count,
			    uint64_t interval_ms, uint64_t threshold_per_s, double baseline_per_s,
			    struct vigil_detection *out);

/* A rate is anomalous at this many times its moving baseline (and over the fixed floor). */
#define VIGIL_ANOMALY_FACTOR 4.0
/* Weight of one interval in the moving baseline (an exponentially weighted mean). */
#define VIGIL_EWMA_ALPHA 0.1
/* The baseline after one more interval's rate. */
double vigil_ewma(double baseline, double sample);

#endif /* VIGIL_DETECTOR_H */
