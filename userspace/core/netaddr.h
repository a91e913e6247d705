/* SPDX-License-Identifier: Apache-2.0 */
/*
 * netaddr: a numeric listen address, "HOST:PORT" or "[V6]:PORT" (HOST an IPv4 or IPv6 address,
 * never a name: nothing is resolved), as the config's metrics.listen takes it.
 */
#ifndef VIGIL_NETADDR_H
#define VIGIL_NETADDR_H

#include <sys/socket.h>

/* Parse addr into *ss (a sockaddr_in or sockaddr_in6). Returns 0, or -EINVAL with *why saying
 * what is wrong. */
int vigil_parse_hostport(const char *addr, struct sockaddr_storage *ss, const char **why);

#endif /* VIGIL_NETADDR_H */
