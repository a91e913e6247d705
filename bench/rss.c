// SPDX-License-Identifier: Apache-2.0
/*
 * rss: the daemon's memory. Start vigil on its embedded default and on a config whose
 * workload uses latency tracking, let each run RSS_SETTLE_S after its ready line, and read
 * VmRSS (resident now: what the daemon holds while it runs) and VmHWM (the peak, reached while
 * libbpf holds the kernel's BTF to load a BPF object) from /proc/PID/status. Each has its
 * target (issue 15).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

#define RSS_SETTLE_S 2.0
#define RSS_TARGET_KIB (8 * 1024)
#define HWM_TARGET_KIB (12 * 1024)
#define START_TIMEOUT_S 20.0

/* One row: vigil on config (NULL: the embedded default). */
static void rss_row(const char *vigil, const char *out, const char *config, const char *tag,
		    const char *label)
{
	/* A control socket of its own: a daemon already running here holds the default one. */
	char ctl[512], *argv[10] = {(char *)vigil, "run", "--journal", "", "--quiet", "--ctl", ctl};
	struct child c = {};
	char line[512];
	long rss, hwm;
	int err;

	snprintf(ctl, sizeof(ctl), "%s/vigil-rss.sock", out);
	if (config) {
		argv[7] = "--config";
		argv[8] = (char *)config;
	}
	snprintf(c.log, sizeof(c.log), "%s/vigil-rss-%s.log", out, tag);
	err = child_start(argv, &c, "vigil: ready:", START_TIMEOUT_S, line, sizeof(line));
	if (err) {
		printf("  %-34s n/a  vigil did not start: %.100s\n", label, line);
		return;
	}
	sleep_s(RSS_SETTLE_S);
	err = proc_rss(c.pid, &rss, &hwm);
	child_stop(&c, SIGTERM);
	if (err) {
		printf("  %-34s n/a  reading /proc: %s\n", label, strerror(-err));
		return;
	}
	printf("  %-34s VmRSS %4.1f MiB (< %d: %s)  VmHWM %4.1f MiB (< %d: %s)\n", label,
	       rss / 1024.0, RSS_TARGET_KIB / 1024, rss < RSS_TARGET_KIB ? "PASS" : "MISS",
	       hwm / 1024.0, HWM_TARGET_KIB / 1024, hwm < HWM_TARGET_KIB ? "PASS" : "MISS");
}

int main(int argc, char **argv)
{
	char config[4096];
	FILE *f;

	if (argc != 3) {
		fprintf(stderr, "usage: rss VIGIL OUTDIR\n");
		return 2;
	}
	if (geteuid()) {
		fprintf(stderr, "rss: must run as root (vigil loads BPF programs)\n");
		return 1;
	}
	snprintf(config, sizeof(config), "%s/rss-latency.yaml", argv[2]);
	f = fopen(config, "w");
	if (!f ||
	    fprintf(f, "workloads:\n"
		       "  - name: vb-rss\n"
		       "    match: { comm: vb-rss }\n"
		       "    latency: { syscalls: [read, write, getppid], budget_ms: 100 }\n") < 0 ||
	    fclose(f)) {
		fprintf(stderr, "rss: writing %s: %s\n", config, strerror(errno));
		return 1;
	}
	printf("== daemon memory: VmRSS %.0f s after ready, VmHWM the peak ==\n", RSS_SETTLE_S);
	rss_row(argv[1], argv[2], NULL, "default", "vigil, embedded default");
	rss_row(argv[1], argv[2], config, "latency", "vigil, a workload with latency");
	return 0;
}
