// SPDX-License-Identifier: Apache-2.0
/*
 * faulty: a process that fails on demand, for the integration tests. Its comm is the name it
 * was exec'd under, so the tests run it through symlinks named for the workload they need.
 *
 *   faulty segv | abort | exit N | serve [PIDFILE] | alloc MIB | fork-exec PATH ARGS...
 *          | threads-segv N   (N threads running, then one of them faults)
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void *spin(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void *fault(void *arg)
{
	volatile int *p = arg;

	usleep(50000);
	*p = 1;
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	if (!strcmp(mode, "segv")) {
		volatile int *p = NULL;

		*p = 1;
	} else if (!strcmp(mode, "abort")) {
		abort();
	} else if (!strcmp(mode, "exit") && argc > 2) {
		return atoi(argv[2]);
	} else if (!strcmp(mode, "serve")) {
		if (argc > 2) {
			FILE *f = fopen(argv[2], "w");

			if (!f)
				return 2;
			fprintf(f, "%d\n", getpid());
			fclose(f);
		}
		for (;;)
			pause();
	} else if (!strcmp(mode, "alloc") && argc > 2) {
		size_t mib = strtoul(argv[2], NULL, 10);

		for (size_t i = 0; i < mib; i++) {
			char *p = malloc(1 << 20);

			if (!p)
				return 3;
			memset(p, 0xa5, 1 << 20);
		}
		return 4; /* should have been OOM-killed */
	} else if (!strcmp(mode, "threads-segv") && argc > 2) {
		int n = atoi(argv[2]);
		pthread_t t;

		for (int i = 0; i < n; i++)
			pthread_create(&t, NULL, spin, NULL);
		pthread_create(&t, NULL, fault, NULL);
		for (;;)
			pause();
	} else if (!strcmp(mode, "fork-exec") && argc > 2) {
		pid_t pid = fork();
		int status;

		if (pid == 0) {
			execv(argv[2], argv + 2);
			_exit(126);
		}
		waitpid(pid, &status, 0);
		return 0;
	}
	fprintf(stderr, "usage: faulty segv|abort|exit N|serve [PIDFILE]|alloc MIB|fork-exec PATH...\n");
	return 64;
}
