/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Allocation-failure sweep of the config parser over a corpus (run by tests/fuzz/run.sh oom):
 * for each file, each allocation of a parse is made to fail in turn, libyaml's and libcyaml's
 * included, until a parse meets no failure. Each failing parse must return -ENOMEM (or what the
 * text gives anyway), leave no config and no block allocated, and end within 2 seconds.
 *
 * libFuzzer cannot do this: ASan owns malloc there. So this is a plain program linked with
 * tests/lib/failalloc.c, whose malloc, calloc, realloc and free take the place of libc's, as
 * for tests/unit/test_config.c.
 *
 *   oom_config SECONDS FILE...     exits 1 if any file fails, 0 when all pass or time is up
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "failalloc.h"

#define MAX_INPUT (1 << 16)

static volatile const char *current; /* for the alarm handler */

/* A parse that has not ended in 2 s: say which and stop (stdio is not safe here). */
static void on_alarm(int sig)
{
	static const char msg[] = "oom_config: parse did not end within 2s: ";
	const char *f = (const char *)current;

	(void)sig;
	(void)!write(2, msg, sizeof(msg) - 1);
	(void)!write(2, f, strlen(f));
	(void)!write(2, "\n", 1);
	_exit(2);
}

/* Sweeps one file. Returns 0, or -EINVAL after printing what went wrong. */
static int sweep(const char *path, const char *text, size_t len)
{
	struct vigil_config *cfg = NULL;
	char err[512], base_err[512];
	int ret, base;
	long n, in_use;

	base = vigil_config_parse(text, len, "t", &cfg, base_err, sizeof(base_err));
	vigil_config_free(cfg);
	for (n = 0;; n++) {
		in_use = failalloc_live();
		failalloc_at(n);
		alarm(2);
		ret = vigil_config_parse(text, len, "t", &cfg, err, sizeof(err));
		alarm(0);
		failalloc_at(-1);
		if (!failalloc_failed())
			break;
		if ((ret != -ENOMEM && ret != base) || (ret && cfg)) {
			fprintf(stderr,
				"oom_config: %s: allocation %ld failing: %d \"%s\" (else %d)\n",
				path, n, ret, err, base);
			return -EINVAL;
		}
		vigil_config_free(cfg);
		if (failalloc_live() != in_use) {
			fprintf(stderr,
				"oom_config: %s: allocation %ld failing: %ld blocks leaked\n", path,
				n, failalloc_live() - in_use);
			return -EINVAL;
		}
	}
	vigil_config_free(cfg);
	return 0;
}

int main(int argc, char **argv)
{
	static char text[MAX_INPUT];
	time_t end = time(NULL) + (argc > 1 ? atol(argv[1]) : 60);
	int i, failed = 0, done = 0;
	size_t len;
	FILE *f;

	setenv("NODE_NAME", "fuzz-node", 1);
	signal(SIGALRM, on_alarm);
	for (i = 2; i < argc && time(NULL) < end; i++) {
		f = fopen(argv[i], "rb");
		if (!f)
			continue;
		len = fread(text, 1, sizeof(text), f);
		fclose(f);
		current = argv[i];
		failed += !!sweep(argv[i], text, len);
		done++;
	}
	printf("oom_config: %d of %d files swept, %d failed\n", done, argc - 2, failed);
	return failed ? 1 : 0;
}
