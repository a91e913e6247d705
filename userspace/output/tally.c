// SPDX-License-Identifier: Apache-2.0
/* tally: running counts of incidents and heal steps, for /metrics (see tally.h). */
#include <stdlib.h>
#include <string.h>

#include "output/tally.h"

const double vigil_tally_detect_le[VIGIL_TALLY_DETECT_BUCKETS] = {
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5,
};
const double vigil_tally_recover_le[VIGIL_TALLY_RECOVER_BUCKETS] = {
    0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600,
};

static void observe(struct vigil_tally_hist *h, const double *le, unsigned int n, uint64_t ns)
{
	double s = (double)ns / 1e9;
	unsigned int b = 0;

	while (b < n && s > le[b])
		b++;
	if (b < n)
		h->buckets[b]++;
	h->count++;
	h->sum_ns += ns;
}

static unsigned int wl_of(const struct vigil_incident *i)
{
	return i->workload <= VIGIL_MAX_WORKLOADS ? i->workload : 0;
}

void vigil_tally_opened(struct vigil_tally *t, const struct vigil_incident *i)
{
	if ((unsigned int)i->cls >= VIGIL_CLASS_MAX)
		return;
	t->opened[wl_of(i)][i->cls]++;
	if (i->opened_mono_ns >= i->first_kernel_ns)
		observe(&t->detect[i->cls], vigil_tally_detect_le, VIGIL_TALLY_DETECT_BUCKETS,
			i->opened_mono_ns - i->first_kernel_ns);
}

void vigil_tally_resolved(struct vigil_tally *t, const struct vigil_incident *i)
{
	if ((unsigned int)i->cls >= VIGIL_CLASS_MAX)
		return;
	t->resolved[wl_of(i)][i->cls]++;
	if (i->resolved_mono_ns >= i->opened_mono_ns)
		observe(&t->recover[i->cls], vigil_tally_recover_le, VIGIL_TALLY_RECOVER_BUCKETS,
			i->resolved_mono_ns - i->opened_mono_ns);
}

void vigil_tally_action(struct vigil_tally *t, const struct vigil_incident *i, const char *action,
			const char *outcome)
{
	unsigned int wl = wl_of(i);
	struct vigil_tally_action *a;

	for (unsigned int k = 0; k < t->n_actions; k++) {
		a = &t->actions[k];
		if (a->workload == wl && !strcmp(a->action, action) &&
		    !strcmp(a->outcome, outcome)) {
			a->n++;
			return;
		}
	}
	if (t->n_actions == t->cap_actions) {
		unsigned int cap = t->cap_actions ? t->cap_actions * 2 : 16;

		if (cap > VIGIL_TALLY_ACTIONS_MAX)
			cap = VIGIL_TALLY_ACTIONS_MAX;
		a = cap > t->cap_actions ? realloc(t->actions, cap * sizeof(*a)) : NULL;
		if (!a) {
			t->actions_unkept++;
			return;
		}
		t->actions = a;
		t->cap_actions = cap;
	}
	a = &t->actions[t->n_actions++];
	memset(a, 0, sizeof(*a));
	a->workload = wl;
	strncpy(a->action, action, sizeof(a->action) - 1);
	strncpy(a->outcome, outcome, sizeof(a->outcome) - 1);
	a->n = 1;
}

void vigil_tally_free(struct vigil_tally *t)
{
	free(t->actions);
	t->actions = NULL;
	t->n_actions = t->cap_actions = 0;
}
