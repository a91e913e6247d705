/* SPDX-License-Identifier: Apache-2.0 */
/* doctor: what vigil needs from this host, checked one by one, with how to fix each gap. */
#ifndef VIGIL_DOCTOR_H
#define VIGIL_DOCTOR_H

#include <stdio.h>

struct vigil_config;

/* Print the table to out. With a config (NULL: none), also what it names: its Redis, its
 * journal, knowledge and spool directories. Returns 0 when every required check passed, else
 * -ENOTSUP. */
int vigil_doctor(FILE *out, const struct vigil_config *cfg);

#endif /* VIGIL_DOCTOR_H */
