// SPDX-License-Identifier: Apache-2.0
/* records: valid kernel records for unit tests (see records.h). */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "records.h"

static void hdr(struct vigil_event_hdr *h, uint16_t kind, uint32_t size, uint32_t tgid,
		uint32_t workload)
{
	h->kind = kind;
	h->version = VIGIL_ABI_VERSION;
	h->size = size;
	h->tgid = tgid;
	h->pid = tgid;
	h->workload = workload;
	h->flags = workload ? VIGIL_F_WATCHED : 0;
	memcpy(h->comm, "svc", 4);
}

struct vigil_exit tr_exit(uint32_t tgid, uint64_t ts_ns, uint32_t workload, uint32_t exit_code)
{
	struct vigil_exit e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, VIGIL_EV_EXIT, sizeof(e), tgid, workload);
	e.hdr.ts_ns = ts_ns;
	e.exit_code = exit_code;
	return e;
}

struct vigil_sock tr_sock(uint32_t tgid, uint32_t workload, uint32_t what, int err, uint16_t rport,
			  uint32_t flags)
{
	static const unsigned char remote[4] = {10, 0, 0, 5}, local[4] = {10, 0, 0, 1};
	struct vigil_sock k;

	memset(&k, 0, sizeof(k));
	hdr(&k.hdr, VIGIL_EV_SOCK, sizeof(k), tgid, workload);
	k.hdr.flags |= flags;
	k.what = what;
	k.err = err;
	k.family = AF_INET;
	k.lport = 8080;
	k.rport = rport;
	memcpy(k.laddr, local, sizeof(local));
	memcpy(k.raddr, remote, sizeof(remote));
	return k;
}

struct vigil_slow tr_slow(uint32_t tgid, uint32_t workload, uint32_t syscall, uint64_t latency_ns)
{
	struct vigil_slow w;

	memset(&w, 0, sizeof(w));
	hdr(&w.hdr, VIGIL_EV_SLOW, sizeof(w), tgid, workload);
	w.syscall = syscall;
	w.latency_ns = latency_ns;
	return w;
}

struct vigil_hang tr_hang(uint32_t tgid, uint32_t workload)
{
	struct vigil_hang g;

	memset(&g, 0, sizeof(g));
	hdr(&g.hdr, VIGIL_EV_HANG, sizeof(g), tgid, workload);
	g.state = 2; /* TASK_UNINTERRUPTIBLE */
	return g;
}

void tr_incident(struct vigil_incident *i, const char *id)
{
	memset(i, 0, sizeof(*i));
	snprintf(i->id, sizeof(i->id), "%s", id);
	strcpy(i->signature, "0c14ea5ca28149e2");
	i->cls = VIGIL_CLASS_CRASH;
	i->state = VIGIL_INC_RESOLVED;
	strcpy(i->workload_name, "storyteller");
	strcpy(i->title, "storyteller crash SIGSEGV");
	i->count = 3;
	i->first_kernel_ns = 5000000000ull;
}
