/* SPDX-License-Identifier: Apache-2.0 */
/*
 * prom: the Prometheus text exposition format (version 0.0.4), written into an HTTP answer:
 * a family's # HELP and # TYPE lines, then its samples, each `name{k="v",...} value`. Label
 * values are escaped (\\, \", \n) whatever bytes they hold. Labels are given as a
 * NULL-terminated list of key, value pairs.
 */
#ifndef VIGIL_PROM_H
#define VIGIL_PROM_H

#include <stdint.h>

#include "control/endpoint.h"

#define VIGIL_PROM_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* # HELP name help \n # TYPE name type (counter, gauge, histogram). */
void vigil_prom_family(struct vigil_http_resp *r, const char *name, const char *type,
		       const char *help);
void vigil_prom_u64(struct vigil_http_resp *r, const char *name, const char *const *labels,
		    uint64_t v);
void vigil_prom_f64(struct vigil_http_resp *r, const char *name, const char *const *labels,
		    double v);
/*
 * A histogram's samples: name_bucket{labels..., le="B"} for each of the n upper bounds le[]
 * (seconds) with the counts below them (buckets[i]: the observations in (le[i-1], le[i]], not
 * cumulative: they are summed here), le="+Inf" (count), name_sum (seconds) and name_count.
 */
void vigil_prom_hist(struct vigil_http_resp *r, const char *name, const char *const *labels,
		     const double *le, const uint64_t *buckets, unsigned int n, uint64_t count,
		     double sum);

#endif /* VIGIL_PROM_H */
