/* SPDX-License-Identifier: Apache-2.0 */
/* doctor: what vigil needs from this host, checked one by one, with how to fix each gap. */
#ifndef VIGIL_DOCTOR_H
#define VIGIL_DOCTOR_H

#include <stdio.h>

/* Print the table to out. Returns 0 when every required check passed, else -ENOTSUP. */
int vigil_doctor(FILE *out);

#endif /* VIGIL_DOCTOR_H */
