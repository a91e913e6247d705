// SPDX-License-Identifier: Apache-2.0
/*
 * Integration: the journal and the human outputs of the real vigil on the real kernel.
 *
 *   - A journal on a 64 KiB tmpfs that fills: the failures are counted in `vigil status`, no
 *     line is torn or glued to the next, `vigil incidents` and `vigil export --sql` see every
 *     incident of the whole lines, and a "health" record says so once there is room again.
 *   - journal_max_mb / journal_keep: a journal past 1 MiB is rotated to PATH.1, PATH.1 to
 *     PATH.2, the oldest removed; the readers read the rotated files too.
 *   - SIGHUP after an outside mv: the next records go to a new file at the path.
 *   - A process named with a C1 CSI (U+009B): `vigil incidents` and `vigil incident` never
 *     print it raw.
 *   - stdout a pipe nobody reads, full: detection goes on, the journal gets every record, the
 *     dropped lines are counted.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

/* Run build/vigil with args; stdout into out, stderr into err (each may be NULL). Returns
 * the exit status. */
static int run_vigil(struct vt *v, const char *const *args, char *out, size_t len, char *err,
		     size_t errlen)
{
	char opath[256], epath[256], cmd[2048];
	int off, st;
	FILE *f;

	snprintf(opath, sizeof(opath), "%s/cmd.out", v->dir);
	snprintf(epath, sizeof(epath), "%s/cmd.err", v->dir);
	off = snprintf(cmd, sizeof(cmd), "%s", v->vigil_bin);
	for (int i = 0; args[i]; i++)
		off += snprintf(cmd + off, sizeof(cmd) - (size_t)off, " '%s'", args[i]);
	snprintf(cmd + off, sizeof(cmd) - (size_t)off, " >%s 2>%s", opath, epath);
	st = system(cmd);
	for (int k = 0; k < 2; k++) {
		char *buf = k ? err : out;
		size_t n = k ? errlen : len;

		if (!buf)
			continue;
		buf[0] = '\0';
		f = fopen(k ? epath : opath, "r");
		if (f) {
			buf[fread(buf, 1, n - 1, f)] = '\0';
			fclose(f);
		}
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Whole-line check of a journal file: each line a JSON object. Returns the number of lines
 * that are not; *ids gets the distinct incident ids (a JSON object used as a set). */
static int bad_lines(const char *path, json_t *ids)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int bad = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while ((n = getline(&line, &cap, f)) > 0) {
		json_t *r = json_loadb(line, (size_t)n, 0, NULL);
		const char *type = json_string_value(json_object_get(r, "type"));

		if (!json_is_object(r))
			bad++;
		else if (ids && type && !strcmp(type, "incident"))
			json_object_set_new(ids, json_string_value(json_object_get(r, "id")),
					    json_true());
		json_decref(r);
	}
	free(line);
	fclose(f);
	return bad;
}

/* Occurrences of needle in hay. */
static int occurrences(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* The journal object of vigil's status, or NULL. */
static long long journal_status(struct vt *v, const char *key)
{
	json_t *st = vt_ctl(v, "status", NULL);
	long long n = vt_int(json_object_get(st, "journal"), key);

	json_decref(st);
	return n;
}

/* The tmpfs test_full_filesystem mounts, unmounted here even when the test failed. */
static char fs[96];

static int unmount_fs(void **state)
{
	(void)state;
	if (fs[0])
		umount2(fs, MNT_DETACH);
	fs[0] = '\0';
	return 0;
}

static void test_full_filesystem(void **state)
{
	static const char *const args[] = {"exit", "3", NULL};
	char filler[112], journal[112], buf[4096];
	const char *extra[] = {"--journal", journal, NULL};
	static char out[1 << 20], err[4096];
	json_t *ids = json_object();
	int fd, runs;
	struct vt v;

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	snprintf(fs, sizeof(fs), "%s/fs", v.dir);
	assert_int_equal(mkdir(fs, 0700), 0);
	assert_int_equal(mount("none", fs, "tmpfs", 0, "size=64k"), 0);
	snprintf(filler, sizeof(filler), "%s/filler", fs);
	snprintf(journal, sizeof(journal), "%s/journal.jsonl", fs);
	fd = open(filler, O_WRONLY | O_CREAT, 0600);
	memset(buf, 'f', sizeof(buf));
	for (int i = 0; i < 12; i++)
		assert_int_equal(write(fd, buf, sizeof(buf)), sizeof(buf));
	close(fd);
	/* No new key: the same config shows what an older vigil does on a full disk. */
	assert_int_equal(vt_start(&v, "observe_all: true\n", extra), 0);
	snprintf(v.journal, sizeof(v.journal), "%s", journal);
	/* Distinct names: an incident each, until the 16 KiB left are full. */
	for (runs = 0; runs < 400 && journal_status(&v, "errors") < 3; runs++) {
		char name[16];

		snprintf(name, sizeof(name), "jfull%d", runs);
		waitpid(vt_run(&v, name, args), NULL, 0);
		usleep(runs % 10 ? 2000 : 50000);
	}
	/* Every line whole; what the readers see is every incident of those lines. */
	assert_int_equal(bad_lines(journal, ids), 0);
	assert_true(journal_status(&v, "enospc") >= 3);
	assert_int_equal(journal_status(&v, "torn"), 0);
	assert_true(json_object_size(ids) >= 2);
	{
		const char *a[] = {"incidents", "--journal", journal, "--json", NULL};

		assert_int_equal(run_vigil(&v, a, out, sizeof(out), err, sizeof(err)), 0);
		assert_int_equal(occurrences(out, "\"id\":"), (int)json_object_size(ids));
		assert_null(strstr(err, "skipped"));
	}
	{
		const char *a[] = {"export",	  "--sql", "--journal", journal,
				   "--knowledge", "",	   NULL};

		assert_int_equal(run_vigil(&v, a, out, sizeof(out), err, sizeof(err)), 0);
		assert_int_equal(occurrences(out, "insert into public.incidents (id, node, "
						  "workload, signature, class"),
				 (int)json_object_size(ids));
		assert_non_null(strstr(err, "0 lines not JSON"));
		assert_non_null(strstr(err, " 0 torn lines"));
	}
	/* Room again: the next tick's health record says how many were lost. */
	assert_int_equal(unlink(filler), 0);
	assert_non_null(vt_wait(&v, 5000, "health", "family", "journal", NULL));
	assert_int_equal(vt_stop(&v), 0);
	assert_int_equal(bad_lines(journal, NULL), 0);
	json_decref(ids);
	unmount_fs(NULL);
	vt_fini(&v);
}

/* Lines of pad records, about bytes long in all, to path. */
static void prefill(const char *path, const char *mark, size_t bytes)
{
	FILE *f = fopen(path, "w");
	size_t done = 0;

	assert_non_null(f);
	for (unsigned int i = 0; done < bytes; i++)
		done += (size_t)fprintf(
		    f, "{\"type\":\"pad\",\"mark\":\"%s\",\"n\":%u,\"x\":\"%0200u\"}\n", mark, i,
		    i);
	fclose(f);
}

static void test_rotation(void **state)
{
	static const char *const args[] = {"segv", NULL};
	char journal[112], name[224], pid[16];
	const char *extra[] = {"--journal", journal, NULL};
	static char out[1 << 16], err[4096];
	struct stat sb;
	struct vt v;
	pid_t p;

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	snprintf(journal, sizeof(journal), "%s/rot/journal.jsonl", v.dir);
	snprintf(name, sizeof(name), "%s/rot", v.dir);
	assert_int_equal(mkdir(name, 0700), 0);
	prefill(journal, "current", (1 << 20) - 100);
	snprintf(name, sizeof(name), "%s.1", journal);
	prefill(name, "old1", 1000);
	snprintf(name, sizeof(name), "%s.2", journal);
	prefill(name, "old2", 1000);
	assert_int_equal(
	    vt_start(&v, "observe_all: true\njournal_max_mb: 1\njournal_keep: 2\n", extra), 0);
	p = vt_run(&v, "jrot", args);
	waitpid(p, NULL, 0);
	snprintf(pid, sizeof(pid), "%d", p);
	/* The crash's record is the first past the limit: the file rotates before it is written.
	 * Read PATH only once it has: read before, the old 1 MiB file would leave the reader past
	 * the end of the new one (a failure under ASan's slower vigil). */
	for (int i = 0; i < 200 && journal_status(&v, "rotations") < 1; i++)
		usleep(50000);
	snprintf(v.journal, sizeof(v.journal), "%s", journal);
	v.journal_off = 0;
	assert_non_null(vt_wait(&v, 5000, "event", "pid", pid, NULL));
	assert_non_null(vt_wait(&v, 5000, "incident", NULL));
	assert_int_equal(journal_status(&v, "rotations"), 1);
	/* PATH.1 is what PATH was, PATH.2 what PATH.1 was; what PATH.2 was is gone. */
	snprintf(name, sizeof(name), "%s.1", journal);
	assert_int_equal(stat(name, &sb), 0);
	assert_true(sb.st_size >= (1 << 20) - 100);
	assert_int_equal(vt_count(&v, "pad", NULL), 0);
	snprintf(name, sizeof(name), "%s.2", journal);
	assert_int_equal(stat(name, &sb), 0);
	assert_true(sb.st_size < 2000);
	snprintf(name, sizeof(name), "%s.3", journal);
	assert_int_equal(stat(name, &sb), -1);
	assert_int_equal(vt_stop(&v), 0);
	/* The readers take the rotated files too. */
	{
		const char *a[] = {"incidents", "--journal", journal, NULL};

		assert_int_equal(run_vigil(&v, a, out, sizeof(out), err, sizeof(err)), 0);
		assert_non_null(strstr(out, "jrot"));
		assert_non_null(strstr(err, "rotated"));
	}
	vt_fini(&v);
}

static void test_sighup_reopen(void **state)
{
	static const char *const args[] = {"segv", NULL};
	char moved[192], pid[16];
	struct stat sb;
	struct vt v;
	pid_t a, b;

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	assert_int_equal(vt_start(&v, "observe_all: true\n", NULL), 0);
	a = vt_run(&v, "jhupa", args);
	waitpid(a, NULL, 0);
	snprintf(pid, sizeof(pid), "%d", a);
	assert_non_null(vt_wait(&v, 5000, "event", "pid", pid, NULL));
	/* logrotate's create: mv, then SIGHUP. */
	snprintf(moved, sizeof(moved), "%s.moved", v.journal);
	assert_int_equal(rename(v.journal, moved), 0);
	assert_int_equal(kill(v.vigil, SIGHUP), 0);
	for (int i = 0; i < 100 && stat(v.journal, &sb); i++)
		usleep(20000);
	assert_int_equal(stat(v.journal, &sb), 0);
	json_array_clear(v.records);
	v.journal_off = 0;
	b = vt_run(&v, "jhupb", args);
	waitpid(b, NULL, 0);
	snprintf(pid, sizeof(pid), "%d", b);
	assert_non_null(vt_wait(&v, 5000, "event", "pid", pid, NULL));
	snprintf(pid, sizeof(pid), "%d", a);
	assert_int_equal(vt_count(&v, "event", "pid", pid, NULL), 0);
	assert_int_equal(journal_status(&v, "reopens"), 1);
	assert_int_equal(vt_stop(&v), 0);
	vt_fini(&v);
}

static void test_c1_in_process_name(void **state)
{
	static const char name[] = "jc1\xc2\x9b"
				   "31m";
	static const char *const args[] = {"segv", NULL};
	static char out[1 << 16], err[4096];
	char pid[16], id[32];
	json_t *inc;
	struct vt v;
	pid_t p;

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	assert_int_equal(vt_start(&v, "observe_all: true\n", NULL), 0);
	p = vt_run(&v, name, args);
	waitpid(p, NULL, 0);
	snprintf(pid, sizeof(pid), "%d", p);
	assert_non_null(vt_wait(&v, 5000, "event", "pid", pid, NULL));
	inc = vt_wait(&v, 5000, "incident", NULL);
	assert_non_null(inc);
	/* The journal keeps the exact bytes. */
	assert_non_null(strstr(vt_str(inc, "title"), "\xc2\x9b"));
	snprintf(id, sizeof(id), "%s", vt_str(inc, "id"));
	{
		const char *a[] = {"incidents", "--ctl", v.ctl, NULL};

		assert_int_equal(run_vigil(&v, a, out, sizeof(out), err, sizeof(err)), 0);
		assert_null(strstr(out, "\xc2\x9b"));
		assert_null(strchr(out, '\x9b'));
		assert_non_null(strstr(out, "jc1\\xc2\\x9b31m"));
	}
	{
		const char *a[] = {"incident", id, "--ctl", v.ctl, NULL};

		assert_int_equal(run_vigil(&v, a, out, sizeof(out), err, sizeof(err)), 0);
		assert_null(strchr(out, '\x9b'));
		assert_non_null(strstr(out, "jc1\\xc2\\x9b31m"));
	}
	assert_int_equal(vt_stop(&v), 0);
	{
		const char *a[] = {"incidents", "--journal", v.journal, NULL};

		assert_int_equal(run_vigil(&v, a, out, sizeof(out), err, sizeof(err)), 0);
		assert_null(strchr(out, '\x9b'));
		assert_non_null(strstr(out, "jc1\\xc2\\x9b31m"));
	}
	vt_fini(&v);
}

/* vigil with --json on the stdout given (vt_start makes it --quiet), its stderr read until
 * its ready line; then v works with vt_wait, vt_ctl and vt_stop. Returns 0 or -1. */
static int start_with_stdout(struct vt *v, const char *yaml, int out)
{
	const char *argv[] = {v->vigil_bin, "run",    "--config", v->config, "--journal",
			      v->journal,   "--json", "--ctl",	  v->ctl,    NULL};
	int errp[2];
	FILE *f = fopen(v->config, "w");

	if (!f || fputs(yaml, f) < 0 || fclose(f) || pipe2(errp, O_CLOEXEC))
		return -1;
	v->vigil = fork();
	if (v->vigil == 0) {
		vt_child_signals();
		dup2(out, STDOUT_FILENO);
		dup2(errp[1], STDERR_FILENO);
		execv(argv[0], (char **)argv);
		_exit(127);
	}
	close(errp[1]);
	v->err_fd = errp[0];
	for (int waited = 0; waited < 20000 && !strstr(v->errbuf, "vigil: ready"); waited += 10) {
		struct pollfd p = {.fd = v->err_fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, 10) <= 0)
			continue;
		n = read(v->err_fd, v->errbuf + v->errlen, sizeof(v->errbuf) - 1 - v->errlen);
		if (n <= 0)
			return -1;
		v->errlen += (size_t)n;
		v->errbuf[v->errlen] = '\0';
	}
	return strstr(v->errbuf, "vigil: ready") ? 0 : -1;
}

static void test_stalled_stdout(void **state)
{
	static const char *const args[] = {"exit", "3", NULL};
	char buf[4096], pid[16];
	int fds[2], got = 0;
	long long dropped;
	struct vt v;
	json_t *st;

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	assert_int_equal(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
	/* Full before vigil starts: nobody will ever read it. */
	memset(buf, 'p', sizeof(buf));
	while (write(fds[1], buf, sizeof(buf)) > 0)
		;
	assert_int_equal(errno, EAGAIN);
	fcntl(fds[1], F_SETFL, 0); /* the blocking pipe a supervisor would hand over */
	assert_int_equal(start_with_stdout(&v, "observe_all: true\n", fds[1]), 0);
	for (int i = 0; i < 5; i++) {
		char name[16];
		pid_t p;

		snprintf(name, sizeof(name), "jstall%d", i);
		p = vt_run(&v, name, args);
		waitpid(p, NULL, 0);
		snprintf(pid, sizeof(pid), "%d", p);
		got += vt_wait(&v, 3000, "event", "pid", pid, NULL) != NULL;
	}
	/* Before any assertion: a vigil stuck on the pipe (the bug) must not hang the test. */
	st = got == 5 ? vt_ctl(&v, "status", NULL) : NULL;
	dropped = vt_int(json_object_get(st, "stdout"), "dropped");
	json_decref(st);
	close(fds[0]);
	close(fds[1]);
	assert_int_equal(got, 5);
	assert_true(dropped >= 5);
	assert_int_equal(vt_stop(&v), 0);
	vt_fini(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_full_filesystem, unmount_fs),
	    cmocka_unit_test(test_rotation),
	    cmocka_unit_test(test_sighup_reopen),
	    cmocka_unit_test(test_c1_in_process_name),
	    cmocka_unit_test(test_stalled_stdout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
