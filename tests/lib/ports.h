/* SPDX-License-Identifier: Apache-2.0 */
/* ports: a free loopback TCP port for a server a test starts. */
#ifndef VIGIL_TEST_PORTS_H
#define VIGIL_TEST_PORTS_H

/* A loopback TCP port nothing listens on now (bound, then closed), or -1. */
int vt_free_port(void);

#endif /* VIGIL_TEST_PORTS_H */
