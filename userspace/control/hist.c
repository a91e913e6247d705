// SPDX-License-Identifier: Apache-2.0
/* hist: log2 histograms as terminal bars (see hist.h). */
#include "control/hist.h"

#define BAR_WIDTH 40 /* as bcc's print_log2_hist */

unsigned int vigil_hist_slot(uint64_t ns)
{
	return ns ? 63 - (unsigned int)__builtin_clzll(ns) : 0;
}

void vigil_hist_draw(FILE *out, const unsigned long long *slot, size_t n)
{
	unsigned long long max = 0, scale;
	size_t first = n, last = 0, i;
	const char *unit;

	if (n > VIGIL_HIST_SLOTS)
		n = VIGIL_HIST_SLOTS;
	for (i = 0; i < n; i++) {
		if (!slot[i])
			continue;
		if (first == n)
			first = i;
		last = i;
		if (slot[i] > max)
			max = slot[i];
	}
	if (!max)
		return;
	scale = first >= 20 ? 1000000 : first >= 10 ? 1000 : 1;
	unit = first >= 20 ? "msecs" : first >= 10 ? "usecs" : "nsecs";
	fprintf(out, "%*s%-*s : count    distribution\n", 5, "", 19, unit);
	for (i = first; i <= last; i++) {
		unsigned long long lo = i ? (1ull << i) / scale : 0;
		int stars = (int)(slot[i] * BAR_WIDTH / max);
		char hi[24];

		if (i == n - 1)
			snprintf(hi, sizeof(hi), "inf");
		else
			snprintf(hi, sizeof(hi), "%llu", ((2ull << i) - 1) / scale);
		fprintf(out, "%10llu -> %-10s : %-8llu |%.*s%*s|\n", lo, hi, slot[i], stars,
			"****************************************", BAR_WIDTH - stars, "");
	}
}
