/* SPDX-License-Identifier: Apache-2.0 */
/*
 * privileges: least privilege once the kernel programs are loaded.
 *
 * To start, vigil needs CAP_BPF and CAP_PERFMON (load and attach), CAP_SYS_ADMIN (libbpf lists
 * the kernel's BTF objects for tp_btf; classic tracepoints mount tracefs), CAP_SYS_RESOURCE
 * only on kernels before 5.11 (they charge BPF maps to the memlock limit), and what it keeps
 * below. Then it keeps only, per feature of its config:
 *
 *   always                        CAP_BPF: the watched set and the match maps change at run
 *                                 time (CAP_SYS_ADMIN on a kernel without CAP_BPF)
 *   a workload matched by exe     CAP_SYS_PTRACE: reading /proc/PID/exe of any user's process
 *   k8s with proc_fallback        CAP_SYS_PTRACE: a pod's name in /proc/PID/root/etc/hostname
 *   heal rules                    CAP_KILL: stopping a process of any user
 *   rules that run programs       exec, command, rollback: the bounding and permitted sets stay
 *                                 (the service or tool started needs its own privileges), and
 *                                 no_new_privs is not set (it would outlive the exec into
 *                                 them); vigil's effective set is cut all the same
 *
 * and, without such rules, sets no_new_privs. Actions on Redis or HTTP need no capability.
 */
#ifndef VIGIL_CORE_PRIVILEGES_H
#define VIGIL_CORE_PRIVILEGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vigil_priv_needs {
	bool exe_match;	      /* a workload matches by exe */
	bool proc_roots;      /* k8s.proc_fallback: files under /proc/PID/root of any process */
	bool stops_processes; /* heal rules exist */
	bool runs_programs;   /* a rule runs a program (exec, command, rollback) */
};

struct vigil_privs {
	bool dropped;
	bool no_new_privs;
	uint64_t effective, permitted; /* bit per capability, after the drop */
};

/* The capabilities the loop's thread keeps for needs: a bit per capability. */
uint64_t vigil_privileges_needed(const struct vigil_priv_needs *n);
/* "bpf,kill" of a set (the ones vigil keeps; "none" when empty), into buf. */
const char *vigil_privileges_names(uint64_t caps, char *buf, size_t len);
/*
 * Drop, in the calling thread (call it from the loop's, before the loop runs), every capability
 * needs do not call for, and set no_new_privs. Returns 0 and *out, or -errno with err.
 */
int vigil_privileges_drop(const struct vigil_priv_needs *n, struct vigil_privs *out, char *err,
			  size_t errlen);
/* A thread that needs no privilege (a sink's, a watch's) drops all of its own. */
void vigil_privileges_drop_thread(void);

struct vigil_json;
/* The "privileges" status object: effective, permitted ("all" or the names), no_new_privs. */
void vigil_privileges_status_json(const struct vigil_privs *p, struct vigil_json *j);

#endif /* VIGIL_CORE_PRIVILEGES_H */
