/* SPDX-License-Identifier: Apache-2.0 */
/*
 * otlp_server: tests/lib/otlp_receiver.js, an OTLP/HTTP logs receiver that decodes every
 * request with the official OpenTelemetry protobuf definitions (npm, build/npm: `make
 * npm-deps`), run by node for a test, on loopback, in a scratch directory of its own. What it
 * decoded is read back as JSON lines; how it answers is set with vt_otlp_mode().
 */
#ifndef VIGIL_TEST_OTLP_SERVER_H
#define VIGIL_TEST_OTLP_SERVER_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

struct vt_otlp {
	char dir[64];	   /* its files: port, mode, logs.jsonl, requests.jsonl, errors.jsonl */
	char script[512];  /* tests/lib/otlp_receiver.js */
	char modules[512]; /* build/npm/node_modules */
	int port;
	pid_t pid; /* -1: not running */
};

/* Find node and the npm packages, make the directory, and start. Returns 0; 1 when this host
 * cannot run it (why written: the test skips, saying so); -1 on a failure (said on stderr). */
int vt_otlp_init(struct vt_otlp *r, char *why, size_t len);
/* Start again (after vt_otlp_stop), on the same port. Returns 0 or -1. */
int vt_otlp_start(struct vt_otlp *r);
/* SIGTERM and reap it. */
void vt_otlp_stop(struct vt_otlp *r);
/* Stop it if running and remove its directory. */
void vt_otlp_fini(struct vt_otlp *r);
/* How it answers from the next request on ("ok", "status 500", "slow 3000", "partial 2",
 * "garbage", "huge": see otlp_receiver.js). Returns 0 or -1. */
int vt_otlp_mode(struct vt_otlp *r, const char *mode);
/* The lines of one of its files ("logs.jsonl": a line per log record decoded), parsed; an
 * array, empty if the file is absent (caller json_decref). */
json_t *vt_otlp_lines(const struct vt_otlp *r, const char *file);
/* Remove what it has written so far (logs, requests, errors). */
void vt_otlp_clear(const struct vt_otlp *r);

#endif /* VIGIL_TEST_OTLP_SERVER_H */
