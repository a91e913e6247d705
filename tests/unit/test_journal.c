// SPDX-License-Identifier: Apache-2.0
/*
 * Unit: the journal file (output/journal.h). Rotation at max_bytes keeps `keep` files and
 * removes the oldest; a file system that fills (a tmpfs of 16 KiB, mounted here when root)
 * cuts a write short: it is cut back, counted, and no line is ever glued to the next; a file
 * that ends mid-line gets a newline before the next record; reopen after an outside mv; and
 * the reader's side: a torn line's record after the tear is found, garbage is not.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "output/journal.h"

static char dir[64], path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vigil-tj.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/journal.jsonl", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	umount2(dir, MNT_DETACH);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A record line of exactly len bytes ('\n' included), numbered n. */
static size_t line(char *buf, size_t len, unsigned int n)
{
	int k = snprintf(buf, len, "{\"type\":\"event\",\"n\":%u,\"pad\":\"", n);

	memset(buf + k, 'x', len - (size_t)k - 3);
	memcpy(buf + len - 3, "\"}\n", 3);
	return len;
}

static off_t size_of(const char *p)
{
	struct stat sb;

	return stat(p, &sb) ? -1 : sb.st_size;
}

/* Every line of the file at p parses whole: no torn or glued line. Returns the count. */
static int whole_lines(const char *p)
{
	char *l = NULL;
	size_t cap = 0, at;
	ssize_t n;
	int count = 0;
	bool torn;
	FILE *f = fopen(p, "r");

	assert_non_null(f);
	while ((n = getline(&l, &cap, f)) > 0) {
		json_t *r = vigil_journal_parse_line(l, (size_t)n, 0, &at, &torn);

		assert_non_null(r);
		assert_false(torn);
		json_decref(r);
		count++;
	}
	free(l);
	fclose(f);
	return count;
}

static void test_rotation(void **state)
{
	struct vigil_journal_opts o = {.path = path, .max_bytes = 300, .keep = 2};
	struct vigil_journal *j;
	char buf[128], name[160], err[256];

	(void)state;
	assert_int_equal(vigil_journal_open(&o, &j, err, sizeof(err)), 0);
	for (unsigned int i = 0; i < 10; i++)
		assert_int_equal(vigil_journal_append(j, buf, line(buf, 100, i)), 0);
	/* 3 lines a file: 10 lines made 3 rotations; PATH.3 would be the 4th file: removed. */
	assert_int_equal(vigil_journal_counts(j)->rotations, 3);
	assert_int_equal(vigil_journal_counts(j)->records, 10);
	vigil_journal_close(j);
	assert_int_equal(size_of(path), 100);
	snprintf(name, sizeof(name), "%s.1", path);
	assert_int_equal(size_of(name), 300);
	assert_int_equal(whole_lines(name), 3);
	snprintf(name, sizeof(name), "%s.2", path);
	assert_int_equal(size_of(name), 300);
	snprintf(name, sizeof(name), "%s.3", path);
	assert_int_equal(size_of(name), -1);

	/* The readers' list: oldest first, then PATH. */
	{
		char **v;
		int n = vigil_journal_files(path, VIGIL_JOURNAL_KEEP_MAX, &v);

		assert_int_equal(n, 3);
		assert_non_null(strstr(v[0], ".jsonl.2"));
		assert_non_null(strstr(v[1], ".jsonl.1"));
		assert_string_equal(v[2], path);
		vigil_journal_files_free(v, n);
	}

	/* keep 0: PATH is started anew. */
	o.keep = 0;
	assert_int_equal(vigil_journal_open(&o, &j, err, sizeof(err)), 0);
	for (unsigned int i = 0; i < 4; i++)
		assert_int_equal(vigil_journal_append(j, buf, line(buf, 100, i)), 0);
	vigil_journal_close(j);
	assert_true(size_of(path) <= 300);
}

/* A tmpfs of 16 KiB: an 8 KiB filler, then 1000-byte records until the space runs out. */
static void test_full_filesystem(void **state)
{
	struct vigil_journal_opts o = {.path = path, .fsync = VIGIL_FSYNC_ALWAYS};
	const struct vigil_journal_counts *c;
	struct vigil_journal *j;
	char buf[1000], filler[160], err[256];
	int fd, ok = 0, failed = 0;

	(void)state;
	if (geteuid() || mount("none", dir, "tmpfs", 0, "size=16k")) {
		skip();
		return;
	}
	snprintf(filler, sizeof(filler), "%s/filler", dir);
	fd = open(filler, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	memset(buf, 'f', sizeof(buf));
	for (int i = 0; i < 8; i++)
		assert_int_equal(write(fd, buf, sizeof(buf)), sizeof(buf));
	close(fd);
	assert_int_equal(vigil_journal_open(&o, &j, err, sizeof(err)), 0);
	for (unsigned int i = 0; i < 20; i++) {
		if (vigil_journal_append(j, buf, line(buf, sizeof(buf), i)))
			failed++;
		else
			ok++;
	}
	c = vigil_journal_counts(j);
	assert_true(ok >= 1 && failed >= 1);
	assert_int_equal(c->errors, failed);
	assert_int_equal(c->records, ok);
	assert_true(c->enospc >= 1);
	/* The page the last record half filled: cut back, never left torn. */
	assert_true(c->short_writes >= 1);
	assert_int_equal(c->short_writes, c->cut_back);
	assert_int_equal(c->torn, 0);
	assert_int_equal(c->last_errno, ENOSPC);
	assert_int_equal(size_of(path), ok * (off_t)sizeof(buf));
	/* Room again: the next record is whole, on a line of its own. */
	assert_int_equal(unlink(filler), 0);
	assert_int_equal(vigil_journal_append(j, buf, line(buf, sizeof(buf), 99)), 0);
	vigil_journal_close(j);
	assert_int_equal(whole_lines(path), ok + 1);
}

/* A file ending mid-line (a crash, an older vigil): the next record starts a line. */
static void test_torn_tail(void **state)
{
	struct vigil_journal_opts o = {.path = path};
	struct vigil_journal *j;
	char buf[128], err[256], *text;
	size_t len;
	FILE *f = fopen(path, "w");

	(void)state;
	assert_non_null(f);
	fputs("{\"type\":\"event\",\"n\":1}\n{\"type\":\"incid", f);
	fclose(f);
	assert_int_equal(vigil_journal_open(&o, &j, err, sizeof(err)), 0);
	assert_int_equal(vigil_journal_append(j, buf, line(buf, 60, 2)), 0);
	vigil_journal_close(j);
	f = fopen(path, "r");
	text = calloc(1, 4096);
	len = fread(text, 1, 4095, f);
	fclose(f);
	assert_true(len > 0);
	assert_non_null(strstr(text, "{\"type\":\"incid\n{\"type\":\"event\",\"n\":2,"));
	free(text);
}

/* logrotate's create: PATH moved away, SIGHUP, the next records go to a new PATH. */
static void test_reopen(void **state)
{
	struct vigil_journal_opts o = {.path = path};
	struct vigil_journal *j;
	char buf[128], moved[160], err[256];

	(void)state;
	unlink(path);
	snprintf(moved, sizeof(moved), "%s.moved", path);
	assert_int_equal(vigil_journal_open(&o, &j, err, sizeof(err)), 0);
	assert_int_equal(vigil_journal_append(j, buf, line(buf, 50, 1)), 0);
	assert_int_equal(rename(path, moved), 0);
	assert_int_equal(vigil_journal_append(j, buf, line(buf, 50, 2)), 0); /* still the old */
	assert_int_equal(vigil_journal_reopen(j), 0);
	assert_int_equal(vigil_journal_append(j, buf, line(buf, 50, 3)), 0);
	assert_int_equal(vigil_journal_counts(j)->reopens, 1);
	vigil_journal_close(j);
	assert_int_equal(size_of(moved), 100);
	assert_int_equal(size_of(path), 50);
}

static void test_parse_line(void **state)
{
	static const char glued[] = "{\"type\":\"incident\",\"id\":\"a\",\"ti"
				    "{\"type\":\"incident\",\"id\":\"b\",\"chain\":[]}";
	static const char nested[] = "{\"type\":\"x\",\"o\":{\"type\":\"y\"},\"cut"
				     "{\"type\":\"z\",\"o\":{\"type\":\"w\"}}";
	size_t at;
	bool torn;
	json_t *r;

	(void)state;
	r = vigil_journal_parse_line("{\"type\":\"event\"}", 16, 0, &at, &torn);
	assert_non_null(r);
	assert_false(torn);
	assert_int_equal(at, 0);
	json_decref(r);
	r = vigil_journal_parse_line(glued, strlen(glued), 0, &at, &torn);
	assert_non_null(r);
	assert_true(torn);
	assert_string_equal(json_string_value(json_object_get(r, "id")), "b");
	json_decref(r);
	/* The first start from which the rest parses: not the nested object of the torn one. */
	r = vigil_journal_parse_line(nested, strlen(nested), 0, &at, &torn);
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "type")), "z");
	json_decref(r);
	r = vigil_journal_parse_line("garbage", 7, 0, &at, &torn);
	assert_null(r);
	assert_true(torn);
	r = vigil_journal_parse_line("", 0, 0, &at, &torn);
	assert_null(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_full_filesystem, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
	    cmocka_unit_test(test_parse_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
