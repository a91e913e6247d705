/* SPDX-License-Identifier: Apache-2.0 */
/*
 * prom_server: a real Prometheus (Debian's prometheus) or Alertmanager
 * (prometheus-alertmanager) for a test, in a scratch directory of its own, on a free loopback
 * port: started from the test's config text ("@DIR@" in it becomes that directory, "@PORT@"
 * its port), ready once its /-/ready answers 200, stopped with SIGTERM.
 */
#ifndef VIGIL_TEST_PROM_SERVER_H
#define VIGIL_TEST_PROM_SERVER_H

#include <stddef.h>
#include <sys/types.h>

struct vt_prom {
	const char *what; /* "prometheus", "alertmanager" */
	char dir[64];	  /* config, data, log */
	int port;
	pid_t pid;
};

/*
 * Start Prometheus with config (prometheus.yml) and, when not NULL, rules (DIR/rules.yml, for
 * the config's rule_files); or Alertmanager with config (alertmanager.yml). Returns 0; 1 when
 * the binary is not installed (why written: the test skips); -1 when it did not come up (its
 * log on stderr).
 */
int vt_prom_start(struct vt_prom *p, const char *config, const char *rules, char *why, size_t len);
int vt_am_start(struct vt_prom *p, const char *config, char *why, size_t len);
/* Stop it (SIGTERM, then SIGKILL after 10 s) and remove its directory. Accepts a stopped one. */
void vt_prom_stop(struct vt_prom *p);
/* Prometheus' instant query: 0 with the first series' value in *v, 1 when the answer has no
 * series, -1 on an error (said on stderr). */
int vt_prom_query(const struct vt_prom *p, const char *expr, double *v);
/* Its log so far, on stderr: what a failed test shows. */
void vt_prom_log(const struct vt_prom *p);

#endif /* VIGIL_TEST_PROM_SERVER_H */
