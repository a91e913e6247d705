/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervise: what the tests of restarts under a real supervisor share (test_supervisors with
 * runit, test_supervisord with supervisord): starting the supervisor, and vigil's side of each
 * restart mode, checked in its records.
 */
#ifndef VT_SUPERVISE_H
#define VT_SUPERVISE_H

#include "harness.h"

/* Start a supervisor (runsvdir, supervisord) for the test: argv run in a session of its own,
 * stdio on /dev/null, sent deathsig should the test die first (the signal on which it stops
 * its services). Returns the pid (-1 if fork failed); the child exits 127 if exec failed. */
pid_t vt_spawn_supervisor(int deathsig, const char *const *argv);

/* Restarts under a real supervisor (test_supervisors, test_supervisord), vigil's side of each
 * mode; the caller checks the supervisor's own word on the new pid. Each fails the test on a
 * record missing after wait_ms, prints the mode's times (fault -> the replacement's exec ->
 * verified) and returns the replacement's pid.
 *
 * vt_restart_resolved: the restart incident inc's "replaced" record (a new pid, not old, its
 * detail saying started_by: "(started by vigil)" or "(started by the supervisor)"), its
 * "success" for that pid, the incident resolved. Printed under mode. */
pid_t vt_restart_resolved(struct vt *v, int wait_ms, const char *mode, json_t *inc, pid_t old,
			  const char *started_by);
/* signal: workload's syscall_slow incident, vigil SIGTERMs its pid (into *old), awaits the
 * supervisor's replacement and starts nothing. */
pid_t vt_restart_signal(struct vt *v, int wait_ms, const char *workload, pid_t *old);
/* command: workload's syscall_slow incident (its pid into *old) healed by a command whose
 * record names cmd, exits 0, and no signal of vigil's. */
pid_t vt_restart_command(struct vt *v, int wait_ms, const char *workload, const char *cmd,
			 pid_t *old);
/* supervisor: external: once vigil watches old (a process of workload), SIGSEGV it; the crash
 * incident awaits the supervisor's replacement and runs no command. */
pid_t vt_restart_external(struct vt *v, int wait_ms, const char *workload, pid_t old);

#endif /* VT_SUPERVISE_H */
