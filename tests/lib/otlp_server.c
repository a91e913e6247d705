// SPDX-License-Identifier: Apache-2.0
/* otlp_server: an OTLP receiver decoding with the official definitions, for tests (see
 * otlp_server.h). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "otlp_server.h"

static const char *const files[] = {"port",	      "mode",	      "logs.jsonl",
				    "requests.jsonl", "errors.jsonl", "out.log"};

static void file_path(const struct vt_otlp *r, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", r->dir, name);
}

/* The port it listens on, once DIR/port exists (5 s at most). Returns it, or -1. */
static int wait_port(struct vt_otlp *r)
{
	char path[128], buf[16] = "";

	file_path(r, "port", path, sizeof(path));
	for (int i = 0; i < 500; i++) {
		FILE *f = fopen(path, "r");

		if (f) {
			if (fgets(buf, sizeof(buf), f))
				buf[strcspn(buf, "\n")] = '\0';
			fclose(f);
			return atoi(buf);
		}
		if (waitpid(r->pid, NULL, WNOHANG) == r->pid) {
			r->pid = -1;
			return -1;
		}
		usleep(10000);
	}
	return -1;
}

int vt_otlp_start(struct vt_otlp *r)
{
	char path[128], port[16], env[600];
	pid_t pid;
	int fd;

	file_path(r, "port", path, sizeof(path));
	unlink(path);
	snprintf(port, sizeof(port), "%d", r->port);
	snprintf(env, sizeof(env), "NODE_PATH=%s", r->modules);
	file_path(r, "out.log", path, sizeof(path));
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char *const argv[] = {"node", r->script, r->dir, port, NULL};
		char *const envp[] = {env, "PATH=/usr/local/bin:/usr/bin:/bin", NULL};

		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		signal(SIGSEGV, SIG_DFL);
		signal(SIGABRT, SIG_DFL);
		execvpe("node", argv, envp);
		_exit(127);
	}
	r->pid = pid;
	r->port = wait_port(r);
	if (r->port <= 0) {
		fprintf(stderr, "otlp_server: the receiver did not start (see %s)\n", path);
		vt_otlp_stop(r);
		return -1;
	}
	return 0;
}

int vt_otlp_init(struct vt_otlp *r, char *why, size_t len)
{
	char self[400], root[400], pkg[600];
	ssize_t n;

	memset(r, 0, sizeof(*r));
	r->pid = -1;
	if (system("command -v node >/dev/null 2>&1")) {
		snprintf(why, len, "no node on PATH (make deps installs nodejs)");
		return 1;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return -1;
	self[n] = '\0';
	/* ROOT/build/tests/integration/test_x -> ROOT */
	snprintf(root, sizeof(root), "%s", dirname(dirname(dirname(dirname(self)))));
	snprintf(r->script, sizeof(r->script), "%s/tests/lib/otlp_receiver.js", root);
	snprintf(r->modules, sizeof(r->modules), "%s/build/npm/node_modules", root);
	snprintf(pkg, sizeof(pkg), "%s/@opentelemetry/otlp-transformer/package.json", r->modules);
	if (access(pkg, R_OK)) {
		snprintf(why, len, "no %s (make npm-deps installs it)", pkg);
		return 1;
	}
	snprintf(r->dir, sizeof(r->dir), "/tmp/vt-otlp-XXXXXX");
	if (!mkdtemp(r->dir))
		return -1;
	return vt_otlp_start(r);
}

void vt_otlp_stop(struct vt_otlp *r)
{
	if (r->pid <= 0)
		return;
	kill(r->pid, SIGTERM);
	waitpid(r->pid, NULL, 0);
	r->pid = -1;
}

void vt_otlp_clear(const struct vt_otlp *r)
{
	char path[128];

	for (size_t i = 2; i < 5; i++) {
		file_path(r, files[i], path, sizeof(path));
		unlink(path);
	}
}

void vt_otlp_fini(struct vt_otlp *r)
{
	char path[128];

	vt_otlp_stop(r);
	if (!r->dir[0])
		return;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		file_path(r, files[i], path, sizeof(path));
		unlink(path);
	}
	file_path(r, "port.tmp", path, sizeof(path));
	unlink(path);
	rmdir(r->dir);
}

int vt_otlp_mode(struct vt_otlp *r, const char *mode)
{
	char path[128], tmp[140];
	FILE *f;

	file_path(r, "mode", path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "%s\n", mode);
	if (fclose(f))
		return -1;
	return rename(tmp, path) ? -1 : 0;
}

json_t *vt_otlp_lines(const struct vt_otlp *r, const char *file)
{
	json_t *out = json_array();
	char path[128], *line = NULL;
	size_t cap = 0;
	FILE *f;

	file_path(r, file, path, sizeof(path));
	f = fopen(path, "r");
	if (!f)
		return out;
	while (getline(&line, &cap, f) > 0) {
		json_t *j = json_loads(line, 0, NULL);

		if (j)
			json_array_append_new(out, j);
	}
	free(line);
	fclose(f);
	return out;
}
