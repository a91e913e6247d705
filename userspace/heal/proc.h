/* SPDX-License-Identifier: Apache-2.0 */
/*
 * proc: processes held by pidfd, for the actions that stop or watch one (restart).
 *
 * A pidfd names one process for as long as it is held: a signal sent through it reaches that
 * process or fails with -ESRCH, never another process that was given the same pid after it
 * ended. Whether the process still runs is read from the pidfd too (it polls readable once the
 * process has exited, a zombie included), never with kill(pid, 0), which counts a zombie as
 * running. Each function returns what it says, or -errno.
 */
#ifndef VIGIL_HEAL_PROC_H
#define VIGIL_HEAL_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A pidfd for pid (close-on-exec). Returns it, or -ESRCH (no such process), -errno. */
int vigil_pidfd_open(pid_t pid);
/* Send sig to the process the pidfd holds. Returns 0, -ESRCH once it has exited, -errno. */
int vigil_pidfd_signal(int pidfd, int sig);
/* Returns 1 while the process runs, 0 once it has exited (a zombie not yet reaped, or gone),
 * -errno. Never blocks. */
int vigil_pidfd_running(int pidfd);
/*
 * The exit of a child of ours, through its pidfd: returns 1 with *wstatus (as waitpid() gives
 * it) once it has exited, reaped unless peek; 0 while it runs; -ECHILD when it is not our child
 * or was reaped already. Never blocks.
 */
int vigil_pidfd_exit(int pidfd, bool peek, int *wstatus);

/* When pid started, on CLOCK_MONOTONIC (the kernel's bpf_ktime_get_ns()), from
 * /proc/PID/stat: to the clock tick (VIGIL_PROC_START_RES_NS); and its parent (ppid may be
 * NULL). Returns 0, -ENOENT, -errno. */
#define VIGIL_PROC_START_RES_NS 10000000ull /* USER_HZ 100: the resolution of that field */
int vigil_proc_start_ns(pid_t pid, uint64_t *mono_ns, pid_t *ppid);

/* 15 for "TERM" or "SIGTERM" (the signals that stop or kill a service: HUP INT QUIT KILL USR1
 * USR2 TERM), or -EINVAL. */
int vigil_signal_parse(const char *s);

#endif /* VIGIL_HEAL_PROC_H */
