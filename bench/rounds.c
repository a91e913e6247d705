// SPDX-License-Identifier: Apache-2.0
/* rounds: medians and paired ratios of per-round figures. */
#include <stdlib.h>
#include <string.h>

#include "rounds.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double rounds_median(const double *v, unsigned int n, double *min, double *max)
{
	double s[ROUNDS_MAX];

	if (n > ROUNDS_MAX)
		n = ROUNDS_MAX;
	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	if (min)
		*min = s[0];
	if (max)
		*max = s[n - 1];
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

void series_add(struct series *s, unsigned int r, double v, double base)
{
	if (s->n >= ROUNDS_MAX)
		return;
	s->v[s->n] = v;
	s->added[s->n] = v - base;
	s->round[s->n++] = r;
}

bool series_ratio(const struct series *num, const struct series *den, bool added, double *med,
		  double *min, double *max)
{
	double r[ROUNDS_MAX];
	unsigned int i, j, k = 0;

	for (i = 0; i < num->n; i++) {
		for (j = 0; j < den->n && den->round[j] != num->round[i]; j++)
			;
		if (j == den->n)
			continue;
		if (added && den->added[j] > 0)
			r[k++] = num->added[i] / den->added[j];
		else if (!added && den->v[j] > 0)
			r[k++] = num->v[i] / den->v[j];
	}
	if (!k)
		return false;
	*med = rounds_median(r, k, min, max);
	return true;
}
