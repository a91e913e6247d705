/* SPDX-License-Identifier: Apache-2.0 */
/* know_render: the knowledge store as `vigil knowledge` prints it, a table or a JSON array. */
#ifndef VIGIL_KNOW_RENDER_H
#define VIGIL_KNOW_RENDER_H

#include <stdbool.h>
#include <stdio.h>

struct vigil_knowledge;

/* Every entry, ordered by workload, signature and action, as a table (SIGNATURE, WORKLOAD,
 * CLASS, ACTION, ATTEMPTS, SUCCESSES, SUCCESS_RATE, LAST_APPLIED) or, with json, a JSON array
 * that also has each entry's score. Returns 0 or -ENOMEM. */
int vigil_knowledge_print(struct vigil_knowledge *k, bool json, FILE *out);

#endif /* VIGIL_KNOW_RENDER_H */
