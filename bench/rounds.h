/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rounds: the arithmetic of a bench measured in rounds. Each configuration gets one figure a
 * round, and its added cost against the baseline of the same round (the host drifts on a scale
 * of seconds; a paired difference cancels most of that). Summaries are medians with their
 * min..max, and a ratio of two configurations is the median of their per-round ratios.
 */
#ifndef VIGIL_BENCH_ROUNDS_H
#define VIGIL_BENCH_ROUNDS_H

#include <stdbool.h>

#define ROUNDS_MAX 31

/* One configuration's figures, one per round where it ran. */
struct series {
	double v[ROUNDS_MAX];
	double added[ROUNDS_MAX]; /* v minus the baseline of the same round */
	unsigned int round[ROUNDS_MAX];
	unsigned int n;
};

/* Median of n > 0 values, with their min and max (any may be NULL). */
double rounds_median(const double *v, unsigned int n, double *min, double *max);

/* Add round r's figure v, against that round's baseline base. Ignored once the series is full. */
void series_add(struct series *s, unsigned int r, double v, double base);

/*
 * The ratio num / den round by round, over the rounds where both ran (of the added costs with
 * added, else of the figures themselves), and its median with min..max. Rounds whose
 * denominator is not positive are left out. Returns false when no round is left.
 */
bool series_ratio(const struct series *num, const struct series *den, bool added, double *med,
		  double *min, double *max);

#endif /* VIGIL_BENCH_ROUNDS_H */
