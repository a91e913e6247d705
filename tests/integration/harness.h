/* SPDX-License-Identifier: Apache-2.0 */
/*
 * harness: run the real build/vigil against the real kernel, cause faults with the
 * tests/helpers/faulty program, and read what vigil wrote to its journal.
 */
#ifndef VIGIL_TEST_HARNESS_H
#define VIGIL_TEST_HARNESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct vt {
	pid_t vigil;
	int err_fd;
	char dir[64]; /* private scratch directory */
	char journal[128];
	char config[128];
	char ctl[96];	  /* control socket */
	char faulty[512]; /* a copy of build/tests/helpers/faulty in dir */
	/* argv that runs vigil (setpriv ..., which execs it under the same pid); NULL: none */
	const char *const *wrap;
	char vigil_bin[512];
	char errbuf[16384]; /* vigil's stderr so far */
	size_t errlen;
	json_t *records;   /* journal lines parsed so far, in order */
	off_t journal_off; /* bytes of the journal already parsed */
};

/* Make the scratch directory and find the binaries. Returns 0 or -errno. */
int vt_init(struct vt *v);
/* Copy a file, mode 0755. 0 or -1 (said on stderr). */
int vt_copy_file(const char *from, const char *to);
/* Stop vigil if it runs, remove the scratch directory, free. */
void vt_fini(struct vt *v);

/* Write yaml as the config ("@FAULTY@" becomes the faulty path, "@DIR@" the scratch dir,
 * "@LINK:name@" the path of vt_link(v, name), made now: a path a heal policy can trust), start
 * `vigil run --config ... --journal ... --quiet` plus extra (NULL-terminated, may be NULL),
 * and wait for its "ready" line. Returns 0, or -1 with vigil's stderr printed.
 * With VIGIL_TEST_WRAPPER="valgrind --leak-check=full ..." in the environment, vigil runs under
 * that command (its words split at spaces, the first found on PATH), with deadlines to start
 * and stop (vt_stop) six times as long. */
int vt_start(struct vt *v, const char *yaml, const char *const *extra);
/* SIGTERM vigil and wait. Returns its exit status (0 on a clean stop), -1 on a timeout. */
int vt_stop(struct vt *v);
/* SIGKILL vigil and reap it: nothing of its own stop runs (no final records, no last write). */
void vt_kill9(struct vt *v);
/* Wait (timeout_ms at most) until the file at path holds text: vigil writes its state file
 * once a change is done, after the record that says so. Fails the test otherwise. */
void vt_wait_file_has(const char *path, int timeout_ms, const char *text);

/* In a child between fork and exec: restore the default action of the signals cmocka
 * catches, so that a signal that arrives before the exec ends the child instead of running
 * the test runner's handler in it. */
void vt_child_signals(void);

/* A fixture's end: stop vigil if it runs (saying how it exited, if not cleanly), vt_fini.
 * Returns 0, or -1 when vigil did not stop cleanly. */
int vt_finish(struct vt *v);

/* Path of a symlink to faulty named `name` (its comm when exec'd). */
const char *vt_link(struct vt *v, const char *name);
/* Start faulty under `name` with args (NULL-terminated). Returns the pid. */
pid_t vt_run(struct vt *v, const char *name, const char *const *args);
/* Run faulty under `name` once for each exit code from..to, one after the other, each reaped:
 * a burst of exit_nonzero faults with distinct signatures. */
void vt_run_exits(struct vt *v, const char *name, int from, int to);
/* Start path with args, first moving the child into the cgroup whose cgroup.procs file is
 * given (NULL: stay). Output to /dev/null. Returns the pid; the child exits 120 if it could
 * not join the cgroup, 127 if the exec failed. */
pid_t vt_exec_in(const char *cgroup_procs, const char *path, const char *const *args);
/* Make a v1 memory cgroup /sys/fs/cgroup/memory/TAG-PID with a memory limit; its path into
 * dir. Returns 0, or -1 when there is no v1 memory controller (or it could not be made). The
 * caller rmdir()s it. */
int vt_memcg(char *dir, size_t len, const char *tag, long limit_bytes);

/*
 * Wait up to timeout_ms for a journal record of `type` whose fields equal the given
 * key/value string pairs (NULL-terminated; integers compare numerically). Returns the record
 * (owned by v) or NULL on a timeout.
 */
json_t *vt_wait(struct vt *v, int timeout_ms, const char *type, ...);
/* How many records seen so far match (same arguments, no waiting). */
int vt_count(struct vt *v, const char *type, ...);

/* Print (stderr) every record read so far whose key is value (a string or an integer field):
 * what a test saw, when what it waited for did not come. */
void vt_dump(struct vt *v, const char *key, const char *value);

/* Ask the running vigil (its control socket in the scratch dir) "cmd arg"; returns the
 * parsed answer (caller json_decref) or NULL. */
json_t *vt_ctl(struct vt *v, const char *cmd, const char *arg);

/* Wait for a child of the test; returns its wait status. */
int vt_reap(pid_t pid);

/* Does the running vigil map a file whose name holds lib (say "libcurl.so")? The optional
 * client libraries are opened only when the config uses them. Returns 1, 0, or -errno. */
int vt_maps_lib(struct vt *v, const char *lib);

/* cmocka group setup/teardown for a test file with one vigil on one config: *state is a
 * struct vt. vt_group_setup returns 0 or -1; vt_group_teardown fails if vigil did not stop
 * cleanly. */
int vt_group_setup(void **state, const char *yaml, const char *const *extra);
int vt_group_teardown(void **state);

/* Loopback TCP for the socket tests. A port nothing listens on (bound, then closed); a
 * listener on an ephemeral port (*port set); a connect retried for up to 2 s while the peer
 * comes up (the fd, or -1); a close that sends RST rather than FIN. */
int vt_tcp_closed_port(void);
int vt_tcp_listener(int *port);
int vt_tcp_connect_retry(int port);
void vt_tcp_abort_close(int fd);

/* Integer field of a record, or -1. */
long long vt_int(json_t *rec, const char *key);
const char *vt_str(json_t *rec, const char *key);

uint64_t vt_mono_ns(void);
uint64_t vt_wall_ms(void);
/* Milliseconds since the epoch of an RFC 3339 "ts" field with ms. */
uint64_t vt_ts_ms(const char *ts);

/* A queued sink's status object ("redis", "postgres") from `vigil status` (caller
 * json_decref), or fails the test; and the same once the sink is up with nothing queued or
 * spooled, waiting timeout_ms at most. */
json_t *vt_sink_status(struct vt *v, const char *name);
json_t *vt_sink_settled(struct vt *v, const char *name, int timeout_ms);

#endif /* VIGIL_TEST_HARNESS_H */
