/* SPDX-License-Identifier: Apache-2.0 */
/*
 * records: kernel records as the ring buffer delivers them, built for unit tests — each a
 * valid record of the current ABI (kind, version, size), the rest zero unless given.
 */
#ifndef VIGIL_TEST_RECORDS_H
#define VIGIL_TEST_RECORDS_H

#include <stdint.h>

#include "detect/incidents.h"
#include "vigil/events.h"

/* An exit of tgid at kernel time ts_ns: exit_code is the raw wait status ((status << 8), or
 * the signal, | 0x80 for a core dump). workload: index + 1, 0 for none. */
struct vigil_exit tr_exit(uint32_t tgid, uint64_t ts_ns, uint32_t workload, uint32_t exit_code);
/* A socket record: what (enum vigil_sock_what), errno, remote port (IPv4 10.0.0.5), flags. */
struct vigil_sock tr_sock(uint32_t tgid, uint32_t workload, uint32_t what, int err, uint16_t rport,
			  uint32_t flags);
/* A slow syscall of latency_ns. */
struct vigil_slow tr_slow(uint32_t tgid, uint32_t workload, uint32_t syscall, uint64_t latency_ns);
/* A hung task. */
struct vigil_hang tr_hang(uint32_t tgid, uint32_t workload);

/* An incident as the record builders and renderers see it: storyteller's SIGSEGV crash,
 * resolved, count 3, first event at 5 s (kernel time), the given id; the rest zero. */
void tr_incident(struct vigil_incident *i, const char *id);

#endif /* VIGIL_TEST_RECORDS_H */
