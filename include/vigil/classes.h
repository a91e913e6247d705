/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Fault classes: what the detector calls an event, what a heal rule's `on:` names.
 * The names are part of the exported contract (journal, Redis): never renumber-sensitive,
 * always written as the string from vigil_class_name().
 */
#ifndef VIGIL_CLASSES_H
#define VIGIL_CLASSES_H

enum vigil_class {
	VIGIL_CLASS_NONE = 0,	  /* not a fault (clean exit, intentional stop, exec) */
	VIGIL_CLASS_CRASH,	  /* fatal signal raised by the process itself or the kernel */
	VIGIL_CLASS_OOM_KILL,	  /* killed by the OOM killer */
	VIGIL_CLASS_EXIT_NONZERO, /* exit() with a non-zero status */
	VIGIL_CLASS_CRASH_LOOP,
	VIGIL_CLASS_CONN_REFUSED,
	VIGIL_CLASS_CONN_TIMEOUT,
	VIGIL_CLASS_CONN_UNREACHABLE,
	VIGIL_CLASS_CONN_RESET,
	VIGIL_CLASS_RETRANSMITS,
	VIGIL_CLASS_SYSCALL_SLOW,
	VIGIL_CLASS_LATENCY_SLO,
	VIGIL_CLASS_HANG,
	VIGIL_CLASS_ALERT, /* a firing Alertmanager alert that names a workload (POST /v1/alerts) */
	VIGIL_CLASS_MAX,
};

#endif /* VIGIL_CLASSES_H */
