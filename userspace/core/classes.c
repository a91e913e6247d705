// SPDX-License-Identifier: Apache-2.0
/* classes: the fault classes' names, as the journal, Redis and a heal rule's `on:` write them. */
#include <string.h>

#include "core/classes.h"

static const char *const class_names[VIGIL_CLASS_MAX] = {
    [VIGIL_CLASS_NONE] = "none",
    [VIGIL_CLASS_CRASH] = "crash",
    [VIGIL_CLASS_OOM_KILL] = "oom_kill",
    [VIGIL_CLASS_EXIT_NONZERO] = "exit_nonzero",
    [VIGIL_CLASS_CRASH_LOOP] = "crash_loop",
    [VIGIL_CLASS_CONN_REFUSED] = "conn_refused",
    [VIGIL_CLASS_CONN_TIMEOUT] = "conn_timeout",
    [VIGIL_CLASS_CONN_UNREACHABLE] = "conn_unreachable",
    [VIGIL_CLASS_CONN_RESET] = "conn_reset",
    [VIGIL_CLASS_RETRANSMITS] = "retransmits",
    [VIGIL_CLASS_SYSCALL_SLOW] = "syscall_slow",
    [VIGIL_CLASS_LATENCY_SLO] = "latency_slo",
    [VIGIL_CLASS_HANG] = "hang",
    [VIGIL_CLASS_ALERT] = "alert",
};

const char *vigil_class_name(enum vigil_class c)
{
	return (unsigned int)c < VIGIL_CLASS_MAX ? class_names[c] : NULL;
}

enum vigil_class vigil_class_parse(const char *name)
{
	for (unsigned int c = VIGIL_CLASS_NONE + 1; name && c < VIGIL_CLASS_MAX; c++)
		if (!strcmp(name, class_names[c]))
			return c;
	return VIGIL_CLASS_NONE;
}
