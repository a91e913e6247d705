// SPDX-License-Identifier: Apache-2.0
/* netaddr: numeric listen addresses, HOST:PORT or [V6]:PORT (see netaddr.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "core/netaddr.h"

int vigil_parse_hostport(const char *addr, struct sockaddr_storage *ss, const char **why)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	char host[64];
	const char *colon, *h = addr;
	size_t hlen;
	unsigned long port;
	char *end;

	memset(ss, 0, sizeof(*ss));
	if (addr[0] == '[') {
		colon = strstr(addr, "]:");
		if (!colon) {
			*why = "an IPv6 address takes the form [ADDR]:PORT";
			return -EINVAL;
		}
		h = addr + 1;
		hlen = (size_t)(colon - h);
		colon++;
	} else {
		colon = strrchr(addr, ':');
		if (!colon) {
			*why = "no port: the form is HOST:PORT";
			return -EINVAL;
		}
		hlen = (size_t)(colon - addr);
	}
	if (hlen == 0 || hlen >= sizeof(host)) {
		*why = "no host (a numeric address, e.g. 127.0.0.1 or 0.0.0.0)";
		return -EINVAL;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port > 65535) {
		*why = "the port is not a number from 0 to 65535";
		return -EINVAL;
	}
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		return 0;
	}
	*why = "the host is not a numeric IPv4 or IPv6 address";
	return -EINVAL;
}
