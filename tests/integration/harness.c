// SPDX-License-Identifier: Apache-2.0
/* harness: vigil as a child process, faults on demand, journal records parsed with jansson. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <libgen.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

uint64_t vt_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

uint64_t vt_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

uint64_t vt_ts_ms(const char *ts)
{
	struct tm tm = {};
	unsigned int ms = 0;

	if (!ts || sscanf(ts, "%d-%d-%dT%d:%d:%d.%uZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (uint64_t)timegm(&tm) * 1000ull + ms;
}

int vt_copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	ssize_t n = 0;
	int ret = 0;

	if (in < 0 || out < 0)
		ret = -1;
	while (!ret && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			ret = -1;
	if (n < 0 || (out >= 0 && fchmod(out, 0755)))
		ret = -1;
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out))
		ret = -1;
	if (ret)
		fprintf(stderr, "harness: copy %s to %s: %s\n", from, to, strerror(errno));
	return ret;
}

int vt_init(struct vt *v)
{
	char self[400];
	ssize_t n;

	memset(v, 0, sizeof(*v));
	v->vigil = -1;
	v->err_fd = -1;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return -errno;
	self[n] = '\0';
	/* build/tests/integration/test_x -> build/ */
	dirname(dirname(dirname(self)));
	snprintf(v->vigil_bin, sizeof(v->vigil_bin), "%s/vigil", self);
	snprintf(v->dir, sizeof(v->dir), "/tmp/vigil-test-XXXXXX");
	if (!mkdtemp(v->dir))
		return -errno;
	/* A copy in the (root's, 0700) scratch dir: a heal policy runs only executables that
	 * root alone can change, which a checkout in a user's home is not. */
	snprintf(self + strlen(self), sizeof(self) - strlen(self), "/tests/helpers/faulty");
	snprintf(v->faulty, sizeof(v->faulty), "%s/faulty", v->dir);
	if (vt_copy_file(self, v->faulty))
		return -EIO;
	snprintf(v->journal, sizeof(v->journal), "%s/journal.jsonl", v->dir);
	snprintf(v->config, sizeof(v->config), "%s/vigil.yaml", v->dir);
	snprintf(v->ctl, sizeof(v->ctl), "%s/vigil.sock", v->dir);
	v->records = json_array();
	return 0;
}

/*
 * SIGKILL every process still running a program of the scratch directory (its faulty links):
 * the services a heal restarted are vigil's children, and outlive it by design. Their exe
 * reads "DIR/name" (or "DIR/name (deleted)" once the directory is gone).
 */
static void kill_leftovers(const struct vt *v)
{
	size_t n = strlen(v->dir);
	struct dirent *e;
	DIR *proc;

	proc = opendir("/proc");
	if (!proc)
		return;
	while ((e = readdir(proc))) {
		char path[64], exe[PATH_MAX];
		ssize_t len;
		pid_t pid = (pid_t)atoi(e->d_name);

		if (pid <= 0 || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%d/exe", pid);
		len = readlink(path, exe, sizeof(exe) - 1);
		if (len <= (ssize_t)n || strncmp(exe, v->dir, n) || exe[n] != '/')
			continue;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, WNOHANG);
	}
	closedir(proc);
}

void vt_fini(struct vt *v)
{
	char cmd[128];

	if (v->vigil > 0)
		vt_stop(v);
	if (v->dir[0])
		kill_leftovers(v);
	if (v->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", v->dir);
		if (system(cmd))
			fprintf(stderr, "harness: could not remove %s\n", v->dir);
	}
	json_decref(v->records);
	v->records = NULL;
}

/* Append what vigil wrote to stderr, waiting up to ms. Returns bytes read, 0 on EOF/timeout. */
static ssize_t read_stderr(struct vt *v, int ms)
{
	struct pollfd p = {.fd = v->err_fd, .events = POLLIN};
	ssize_t n;

	if (v->err_fd < 0 || poll(&p, 1, ms) <= 0)
		return 0;
	n = read(v->err_fd, v->errbuf + v->errlen, sizeof(v->errbuf) - 1 - v->errlen);
	if (n <= 0)
		return 0;
	v->errlen += n;
	v->errbuf[v->errlen] = '\0';
	return n;
}

static int write_config(struct vt *v, const char *yaml)
{
	FILE *f = fopen(v->config, "w");
	const char *p = yaml, *hit;

	if (!f)
		return -errno;
	/* The knowledge store is the test's own, never the host's: what an earlier run learned
	 * must not change which action a test's healer chooses. */
	if (strncmp(yaml, "knowledge:", 10) && !strstr(yaml, "\nknowledge:"))
		fprintf(f, "knowledge: %s/knowledge.json\n", v->dir);
	/* So is the healer's state: a breaker an earlier test opened must not hold this one. */
	if (strncmp(yaml, "state:", 6) && !strstr(yaml, "\nstate:"))
		fprintf(f, "state: %s/state.json\n", v->dir);
	while ((hit = strstr(p, "@"))) {
		fwrite(p, 1, hit - p, f);
		if (!strncmp(hit, "@FAULTY@", 8)) {
			fputs(v->faulty, f);
			p = hit + 8;
		} else if (!strncmp(hit, "@DIR@", 5)) {
			fputs(v->dir, f);
			p = hit + 5;
		} else if (!strncmp(hit, "@LINK:", 6) && strchr(hit + 6, '@')) {
			char name[64];
			size_t len = strchr(hit + 6, '@') - (hit + 6);

			snprintf(name, sizeof(name), "%.*s", (int)len, hit + 6);
			fputs(vt_link(v, name), f);
			p = hit + 6 + len + 1;
		} else {
			fputc('@', f);
			p = hit + 1;
		}
	}
	fputs(p, f);
	return fclose(f) ? -errno : 0;
}

/* VIGIL_TEST_WRAPPER's words into argv (a command vigil runs under, such as valgrind and its
 * options: see README.md), at most max of them. Returns how many. */
static int wrapper_words(const char **argv, int max)
{
	static char buf[1024];
	const char *env = getenv("VIGIL_TEST_WRAPPER");
	char *save = NULL, *w;
	int n = 0;

	if (!env || !env[0])
		return 0;
	snprintf(buf, sizeof(buf), "%s", env);
	for (w = strtok_r(buf, " \t", &save); w && n < max; w = strtok_r(NULL, " \t", &save))
		argv[n++] = w;
	return n;
}

/* How much longer than alone vigil takes under VIGIL_TEST_WRAPPER to start and stop (valgrind
 * runs it some 20 times slower, and checks every block at exit). */
static uint64_t wrapper_slowdown(void)
{
	const char *env = getenv("VIGIL_TEST_WRAPPER");

	return env && env[0] ? 6 : 1;
}

int vt_start(struct vt *v, const char *yaml, const char *const *extra)
{
	const char *argv[48];
	int pipefd[2], n = wrapper_words(argv, 16);
	const char *const own[] = {v->vigil_bin, "run",	    "--config", v->config, "--journal",
				   v->journal,	 "--quiet", "--ctl",	v->ctl};
	uint64_t deadline;
	pid_t parent;

	if (write_config(v, yaml))
		return -1;
	for (int i = 0; v->wrap && v->wrap[i] && n < 24; i++)
		argv[n++] = v->wrap[i];
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		argv[n++] = own[i];
	for (int i = 0; extra && extra[i] && n < 46; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	unlink(v->journal);
	json_array_clear(v->records);
	v->journal_off = 0;
	v->errlen = 0;
	v->errbuf[0] = '\0';
	if (pipe2(pipefd, O_CLOEXEC))
		return -1;
	parent = getpid();
	v->vigil = fork();
	if (v->vigil == 0) {
		int null = open("/dev/null", O_WRONLY);

		/* A vigil never outlives its test, even one that failed before vt_stop: it would
		 * go on healing the next test's processes and hold the test's output (and the
		 * integration lock) open, and the run would wait for it for ever. */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) || getppid() != parent)
			_exit(126);
		dup2(null, STDOUT_FILENO);
		dup2(pipefd[1], STDERR_FILENO);
		execvp(argv[0], (char **)argv); /* the wrapper's first word is found on PATH */
		_exit(127);
	}
	close(pipefd[1]);
	v->err_fd = pipefd[0];
	deadline = vt_mono_ns() + 20000000000ull * wrapper_slowdown();
	while (vt_mono_ns() < deadline) {
		if (strstr(v->errbuf, "vigil: ready"))
			return 0;
		if (waitpid(v->vigil, NULL, WNOHANG) == v->vigil) {
			while (read_stderr(v, 100) > 0)
				;
			fprintf(stderr, "harness: vigil exited before ready:\n%s\n", v->errbuf);
			v->vigil = -1;
			return -1;
		}
		read_stderr(v, 50);
	}
	fprintf(stderr, "harness: vigil not ready after %d s:\n%s\n", 20 * (int)wrapper_slowdown(),
		v->errbuf);
	return -1;
}

void vt_kill9(struct vt *v)
{
	kill(v->vigil, SIGKILL);
	waitpid(v->vigil, NULL, 0);
	close(v->err_fd);
	v->err_fd = -1;
	v->vigil = -1;
}

void vt_wait_file_has(const char *path, int timeout_ms, const char *text)
{
	for (int waited = 0; waited < timeout_ms; waited += 20) {
		char buf[65536] = "";
		FILE *f = fopen(path, "r");

		if (f) {
			buf[fread(buf, 1, sizeof(buf) - 1, f)] = '\0';
			fclose(f);
			if (strstr(buf, text))
				return;
		}
		usleep(20000);
	}
	fail_msg("%s never held %s", path, text);
}

int vt_stop(struct vt *v)
{
	uint64_t deadline = vt_mono_ns() + 10000000000ull * wrapper_slowdown();
	int status;

	if (v->vigil <= 0)
		return -1;
	kill(v->vigil, SIGTERM);
	while (vt_mono_ns() < deadline) {
		if (waitpid(v->vigil, &status, WNOHANG) == v->vigil) {
			while (read_stderr(v, 10) > 0)
				;
			close(v->err_fd);
			v->err_fd = -1;
			v->vigil = -1;
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		read_stderr(v, 20);
	}
	kill(v->vigil, SIGKILL);
	waitpid(v->vigil, NULL, 0);
	v->vigil = -1;
	return -1;
}

void vt_child_signals(void)
{
	static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGSYS, SIGABRT};

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
}

int vt_finish(struct vt *v)
{
	int rc = v->vigil > 0 ? vt_stop(v) : 0;

	if (rc)
		fprintf(stderr, "vigil exited with %d:\n%s\n", rc, v->errbuf);
	vt_fini(v);
	return rc ? -1 : 0;
}

const char *vt_link(struct vt *v, const char *name)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", v->dir, name);
	if (symlink(v->faulty, path) && errno != EEXIST)
		fprintf(stderr, "harness: symlink %s: %s\n", path, strerror(errno));
	return path;
}

pid_t vt_exec_in(const char *cgroup_procs, const char *path, const char *const *args)
{
	const char *argv[16] = {path};
	int n = 1;
	pid_t pid;

	for (int i = 0; args && args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		vt_child_signals();
		if (cgroup_procs) {
			FILE *cg = fopen(cgroup_procs, "w");

			if (!cg || fprintf(cg, "%d\n", getpid()) < 0 || fclose(cg))
				_exit(120);
		}
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		execv(argv[0], (char **)argv);
		_exit(127);
	}
	return pid;
}

pid_t vt_run(struct vt *v, const char *name, const char *const *args)
{
	return vt_exec_in(NULL, vt_link(v, name), args);
}

void vt_run_exits(struct vt *v, const char *name, int from, int to)
{
	for (int i = from; i <= to; i++) {
		const char *args[] = {"exit", NULL, NULL};
		char code[16];

		snprintf(code, sizeof(code), "%d", i);
		args[1] = code;
		vt_reap(vt_run(v, name, args));
	}
}

int vt_memcg(char *dir, size_t len, const char *tag, long limit_bytes)
{
	char path[256];
	FILE *f;

	if (access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK))
		return -1;
	snprintf(dir, len, "/sys/fs/cgroup/memory/%s-%d", tag, getpid());
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -1;
	snprintf(path, sizeof(path), "%s/memory.limit_in_bytes", dir);
	f = fopen(path, "w");
	if (!f || fprintf(f, "%ld\n", limit_bytes) < 0 || fclose(f))
		return -1;
	return 0;
}

/* Read what the journal gained since last time: every complete line becomes a record. Records
 * are only ever appended, so a record returned earlier stays valid. */
static void load_journal(struct vt *v)
{
	FILE *f = fopen(v->journal, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return;
	if (fseeko(f, v->journal_off, SEEK_SET)) {
		fclose(f);
		return;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		json_error_t e;
		json_t *rec;

		if (line[n - 1] != '\n')
			break; /* half-written: next time */
		v->journal_off += n;
		rec = json_loads(line, 0, &e);
		if (!rec) {
			fprintf(stderr, "harness: journal line is not JSON (%s): %s", e.text, line);
			rec = json_pack("{s:s}", "type", "invalid-json");
		}
		json_array_append_new(v->records, rec);
	}
	free(line);
	fclose(f);
}

static bool field_equals(json_t *rec, const char *key, const char *want)
{
	json_t *f = json_object_get(rec, key);

	if (json_is_string(f))
		return !strcmp(json_string_value(f), want);
	if (json_is_integer(f))
		return json_integer_value(f) == strtoll(want, NULL, 10);
	if (json_is_boolean(f))
		return !strcmp(json_is_true(f) ? "true" : "false", want);
	return false;
}

static bool matches(json_t *rec, const char *type, va_list ap)
{
	const char *k, *val;

	if (!field_equals(rec, "type", type))
		return false;
	while ((k = va_arg(ap, const char *))) {
		val = va_arg(ap, const char *);
		if (!field_equals(rec, k, val))
			return false;
	}
	return true;
}

static json_t *find(struct vt *v, const char *type, va_list ap, int *count)
{
	json_t *rec, *first = NULL;
	size_t i;

	*count = 0;
	json_array_foreach(v->records, i, rec)
	{
		va_list aq;

		va_copy(aq, ap);
		if (matches(rec, type, aq)) {
			(*count)++;
			if (!first)
				first = rec;
		}
		va_end(aq);
	}
	return first;
}

json_t *vt_wait(struct vt *v, int timeout_ms, const char *type, ...)
{
	uint64_t deadline = vt_mono_ns() + (uint64_t)timeout_ms * 1000000ull;
	json_t *rec;
	va_list ap;
	int count;

	do {
		load_journal(v);
		va_start(ap, type);
		rec = find(v, type, ap, &count);
		va_end(ap);
		if (rec)
			return rec;
		read_stderr(v, 0);
		usleep(2000);
	} while (vt_mono_ns() < deadline);
	return NULL;
}

int vt_count(struct vt *v, const char *type, ...)
{
	va_list ap;
	int count;

	load_journal(v);
	va_start(ap, type);
	find(v, type, ap, &count);
	va_end(ap);
	return count;
}

json_t *vt_ctl(struct vt *v, const char *cmd, const char *arg)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	char req[256], *buf = NULL;
	size_t len = 0, cap = 0;
	json_t *answer = NULL;
	ssize_t n;
	int fd;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", v->ctl);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)))
		goto out;
	snprintf(req, sizeof(req), "%s%s%s\n", cmd, arg ? " " : "", arg ? arg : "");
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		goto out;
	for (;;) {
		if (len + 4096 > cap) {
			char *nb = realloc(buf, cap = cap * 2 + 8192);

			if (!nb)
				goto out;
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += n;
	}
	if (buf) {
		buf[len] = '\0';
		answer = json_loads(buf, 0, NULL);
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return answer;
}

long long vt_int(json_t *rec, const char *key)
{
	json_t *f = json_object_get(rec, key);

	return json_is_integer(f) ? json_integer_value(f) : -1;
}

const char *vt_str(json_t *rec, const char *key)
{
	json_t *f = json_object_get(rec, key);

	return json_is_string(f) ? json_string_value(f) : NULL;
}

int vt_maps_lib(struct vt *v, const char *lib)
{
	char path[64], line[1024];
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)v->vigil);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (!found && fgets(line, sizeof(line), f)) {
		const char *name = strchr(line, '/');

		found = name && strstr(name, lib);
	}
	fclose(f);
	return found;
}

int vt_reap(pid_t pid)
{
	int status = 0;

	waitpid(pid, &status, 0);
	return status;
}

int vt_group_setup(void **state, const char *yaml, const char *const *extra)
{
	struct vt *v = calloc(1, sizeof(*v));

	if (!v || vt_init(v) || vt_start(v, yaml, extra)) {
		free(v);
		return -1;
	}
	*state = v;
	return 0;
}

int vt_group_teardown(void **state)
{
	struct vt *v = *state;
	int rc;

	if (!v) /* its setup failed (and said why) */
		return -1;
	rc = vt_stop(v);

	if (rc)
		fprintf(stderr, "vigil exited with %d:\n%s\n", rc, v->errbuf);
	vt_fini(v);
	free(v);
	return rc ? -1 : 0;
}

/* Bind a loopback TCP socket to an ephemeral port; returns the fd (port in *port) or -1. */
static int bound(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &len)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

int vt_tcp_closed_port(void)
{
	int port = -1, fd = bound(&port);

	if (fd >= 0)
		close(fd);
	return port;
}

int vt_tcp_listener(int *port)
{
	int fd = bound(port);

	if (fd >= 0 && listen(fd, 8)) {
		close(fd);
		return -1;
	}
	return fd;
}

int vt_tcp_connect_retry(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

	for (int i = 0; i < 200; i++) {
		int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (c >= 0 && !connect(c, (struct sockaddr *)&a, sizeof(a)))
			return c;
		if (c >= 0)
			close(c);
		usleep(10000);
	}
	return -1;
}

void vt_tcp_abort_close(int fd)
{
	struct linger l = {.l_onoff = 1, .l_linger = 0};

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

void vt_dump(struct vt *v, const char *key, const char *value)
{
	json_t *rec;
	size_t i;

	json_array_foreach(v->records, i, rec)
	{
		json_t *f = json_object_get(rec, key);
		char num[32], *text;
		const char *have = json_is_string(f) ? json_string_value(f) : NULL;

		if (json_is_integer(f)) {
			snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(f));
			have = num;
		}
		if (!have || strcmp(have, value))
			continue;
		text = json_dumps(rec, JSON_COMPACT);
		fprintf(stderr, "    seen: %s\n", text ? text : "?");
		free(text);
	}
}

json_t *vt_sink_status(struct vt *v, const char *name)
{
	json_t *st = vt_ctl(v, "status", NULL), *r;

	assert_non_null(st);
	r = json_object_get(st, name);
	assert_true(json_is_object(r));
	json_incref(r);
	json_decref(st);
	return r;
}

json_t *vt_sink_settled(struct vt *v, const char *name, int timeout_ms)
{
	for (int waited = 0;; waited += 50) {
		json_t *r = vt_sink_status(v, name);

		if (!strcmp(vt_str(r, "state"), "up") && !vt_int(r, "queued") &&
		    !vt_int(r, "spool_pending"))
			return r;
		if (waited >= timeout_ms) {
			char *s = json_dumps(r, JSON_COMPACT);

			fail_msg("the %s sink did not settle: %s", name, s);
		}
		json_decref(r);
		usleep(50000);
	}
}
