// SPDX-License-Identifier: Apache-2.0
/*
 * Unit: the incident knowledge store — its file round trip and atomic writes, a malformed file
 * refused or kept aside, hostile strings, the bound and its eviction, and the score the healer
 * chooses by. Each test works in its own scratch directory.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "heal/knowledge.h"
#include "output/output.h"

#define SIG_A "01a22736f8b60001"
#define SIG_B "9f00aa11bb22cc33"

struct scratch {
	char dir[64];
	char path[128]; /* dir/sub/knowledge.json: sub does not exist at first */
};

static void scratch_init(struct scratch *s)
{
	strcpy(s->dir, "/tmp/vigil-know-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/sub/knowledge.json", s->dir);
}

static void scratch_fini(struct scratch *s)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
	assert_int_equal(system(cmd), 0);
}

static bool exists(const char *fmt, const char *path)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof(p), fmt, path);
	return stat(p, &st) == 0;
}

/* Write text (n bytes) as the store file, making its directory. */
static void write_file(struct scratch *s, const char *text, size_t n)
{
	char sub[128];
	FILE *f;

	snprintf(sub, sizeof(sub), "%s/sub", s->dir);
	mkdir(sub, 0755);
	f = fopen(s->path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, n, f), n);
	fclose(f);
}

static void read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static void test_missing_file_is_empty(void **state)
{
	struct vigil_knowledge *k = NULL;
	struct scratch s;
	char msg[512];

	(void)state;
	scratch_init(&s);
	assert_int_equal(vigil_knowledge_open(s.path, 0, 0, &k, msg, sizeof(msg)), 0);
	assert_string_equal(msg, "");
	assert_int_equal(vigil_knowledge_count(k), 0);
	assert_null(vigil_knowledge_get(k, SIG_A, "restart"));
	/* Opening made nothing: the directory and file come with the first write. */
	assert_false(exists("%s", s.path));
	vigil_knowledge_close(k);
	vigil_knowledge_close(NULL);
	scratch_fini(&s);
}

static void test_round_trip(void **state)
{
	const struct vigil_know_entry *e;
	struct vigil_knowledge *k;
	struct vigil_know_rec rec = {};
	struct scratch s;
	struct stat st;
	char msg[512];

	(void)state;
	scratch_init(&s);
	assert_int_equal(vigil_knowledge_open(s.path, 0, 0, &k, msg, sizeof(msg)), 0);
	assert_int_equal(
	    vigil_knowledge_record(k, "svc", SIG_A, "crash", "restart", false, 1000, NULL), 0);
	assert_int_equal(
	    vigil_knowledge_record(k, "svc", SIG_A, "crash", "restart", true, 2000, NULL), 0);
	assert_int_equal(
	    vigil_knowledge_record(k, "svc", SIG_A, "crash", "restart-clean", true, 3000, NULL), 0);
	assert_int_equal(vigil_knowledge_record(k, "db", SIG_B, "oom_kill", "restart", true,
						1764420000123456789ull, &rec),
			 0);
	/* What the record returns is what the store now holds. */
	assert_string_equal(rec.workload, "db");
	assert_string_equal(rec.signature, SIG_B);
	assert_string_equal(rec.cls, "oom_kill");
	assert_string_equal(rec.action, "restart");
	assert_int_equal(rec.attempts, 1);
	assert_int_equal(rec.successes, 1);
	assert_int_equal(rec.last_applied_wall_ns, 1764420000123456789ull);
	/* Atomic: the file is there, its temporary is not; not world-readable. */
	assert_int_equal(stat(s.path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_false(exists("%s.tmp", s.path));
	vigil_knowledge_close(k);

	assert_int_equal(vigil_knowledge_open(s.path, 0, 0, &k, msg, sizeof(msg)), 0);
	assert_string_equal(msg, "");
	assert_int_equal(vigil_knowledge_count(k), 3);
	e = vigil_knowledge_get(k, SIG_A, "restart");
	assert_non_null(e);
	assert_int_equal(e->attempts, 2);
	assert_int_equal(e->successes, 1);
	assert_int_equal(e->last_applied_ns, 2000);
	assert_string_equal(e->workload, "svc");
	assert_string_equal(e->cls, "crash");
	e = vigil_knowledge_get(k, SIG_A, "restart-clean");
	assert_non_null(e);
	assert_int_equal(e->attempts, 1);
	assert_int_equal(e->successes, 1);
	e = vigil_knowledge_get(k, SIG_B, "restart");
	assert_non_null(e);
	assert_int_equal(e->last_applied_ns, 1764420000123456789ull);
	/* Iteration: in the order first recorded. */
	assert_string_equal(vigil_knowledge_at(k, 0)->action, "restart");
	assert_string_equal(vigil_knowledge_at(k, 1)->action, "restart-clean");
	assert_string_equal(vigil_knowledge_at(k, 2)->signature, SIG_B);
	assert_null(vigil_knowledge_at(k, 3));
	vigil_knowledge_close(k);
	scratch_fini(&s);
}

/* A temporary left by a crash mid-write is replaced, never read, and gone after a write. */
static void test_stale_tmp_replaced(void **state)
{
	struct vigil_knowledge *k;
	struct scratch s;
	char tmp[160], msg[512], buf[4096];
	FILE *f;

	(void)state;
	scratch_init(&s);
	write_file(&s, "{\"version\":1,\"entries\":[]}\n", 27);
	snprintf(tmp, sizeof(tmp), "%s.tmp", s.path);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fputs("{\"version\":1,\"entries\":[{\"torn", f);
	fclose(f);
	assert_int_equal(vigil_knowledge_open(s.path, 0, 0, &k, msg, sizeof(msg)), 0);
	assert_int_equal(vigil_knowledge_count(k), 0);
	assert_int_equal(vigil_knowledge_record(k, "svc", SIG_A, "crash", "restart", true, 5, NULL),
			 0);
	assert_false(exists("%s.tmp", s.path));
	read_file(s.path, buf, sizeof(buf));
	assert_non_null(strstr(buf, "{\"version\":1,\"entries\":[{\"signature\":\"" SIG_A "\""));
	assert_non_null(strstr(buf, SIG_A));
	vigil_knowledge_close(k);
	scratch_fini(&s);
}

/* Without VIGIL_KNOW_SET_ASIDE (vigil knowledge, export): an error naming path and place. */
static void test_malformed_is_an_error(void **state)
{
	static const char text[] = "{\"version\":1,\"entries\":[{\"signature\":";
	struct vigil_knowledge *k = NULL;
	struct scratch s;
	char msg[512], buf[256];

	(void)state;
	scratch_init(&s);
	write_file(&s, text, sizeof(text) - 1);
	assert_int_equal(vigil_knowledge_open(s.path, 0, VIGIL_KNOW_READONLY, &k, msg, sizeof(msg)),
			 -EBADMSG);
	assert_null(k);
	assert_non_null(strstr(msg, s.path));
	assert_non_null(strstr(msg, "malformed"));
	assert_non_null(strstr(msg, "line 1"));
	/* Left as it was. */
	read_file(s.path, buf, sizeof(buf));
	assert_string_equal(buf, text);
	assert_false(exists("%s.bad", s.path));
	scratch_fini(&s);
}

/* With VIGIL_KNOW_SET_ASIDE (the daemon): start empty, loudly, the bad file kept, never
 * overwritten by a later one. */
static void test_malformed_set_aside(void **state)
{
	struct vigil_knowledge *k;
	struct scratch s;
	char msg[512], bad[160], buf[256];

	(void)state;
	scratch_init(&s);
	write_file(&s, "not json", 8);
	assert_int_equal(
	    vigil_knowledge_open(s.path, 0, VIGIL_KNOW_SET_ASIDE, &k, msg, sizeof(msg)), 0);
	printf("said: %s\n", msg);
	snprintf(bad, sizeof(bad), "%s.bad", s.path);
	assert_non_null(strstr(msg, s.path));
	assert_non_null(strstr(msg, bad));
	assert_non_null(strstr(msg, "empty"));
	assert_int_equal(vigil_knowledge_count(k), 0);
	assert_false(exists("%s", s.path));
	read_file(bad, buf, sizeof(buf));
	assert_string_equal(buf, "not json");
	/* The store works on, and writes a good file. */
	assert_int_equal(vigil_knowledge_record(k, "svc", SIG_A, "crash", "restart", true, 9, NULL),
			 0);
	vigil_knowledge_close(k);
	assert_int_equal(
	    vigil_knowledge_open(s.path, 0, VIGIL_KNOW_SET_ASIDE, &k, msg, sizeof(msg)), 0);
	assert_string_equal(msg, "");
	assert_int_equal(vigil_knowledge_count(k), 1);
	vigil_knowledge_close(k);

	/* A second bad file goes to .bad.1: the first one is still there as it was. */
	write_file(&s, "{\"version\":7,\"entries\":[]}", 26);
	assert_int_equal(
	    vigil_knowledge_open(s.path, 0, VIGIL_KNOW_SET_ASIDE, &k, msg, sizeof(msg)), 0);
	assert_non_null(strstr(msg, ".bad.1"));
	assert_non_null(strstr(msg, "'version'"));
	read_file(bad, buf, sizeof(buf));
	assert_string_equal(buf, "not json");
	assert_true(exists("%s.bad.1", s.path));
	vigil_knowledge_close(k);
	scratch_fini(&s);
}

/* Files of the wrong shape, each refused with where it was wrong, never the bytes raw. */
static void test_malformed_shapes(void **state)
{
	static const struct {
		const char *text;
		const char *says;
	} cases[] = {
	    {"[]", "not a JSON object"},
	    {"{\"entries\":[]}", "'version'"},
	    {"{\"version\":\"1\",\"entries\":[]}", "'version'"},
	    {"{\"version\":1}", "'entries'"},
	    {"{\"version\":1,\"entries\":{}}", "'entries'"},
	    {"{\"version\":1,\"entries\":[7]}", "entries[0] is not an object"},
	    {"{\"version\":1,\"entries\":[{\"signature\":\"a\",\"action\":\"b\",\"workload\":\"c\"}"
	     "]}",
	     "entries[0]: 'class' is missing"},
	    {"{\"version\":1,\"entries\":[{\"signature\":\"a\",\"action\":\"b\",\"workload\":\"c\","
	     "\"class\":\"crash\",\"attempts\":-1,\"successes\":0}]}",
	     "entries[0]: 'attempts'"},
	    {"{\"version\":1,\"entries\":[{\"signature\":\"a\",\"action\":\"b\",\"workload\":\"c\","
	     "\"class\":\"crash\",\"attempts\":1.5,\"successes\":0}]}",
	     "entries[0]: 'attempts'"},
	    {"{\"version\":1,\"entries\":[{\"signature\":\"a\",\"action\":\"b\",\"workload\":\"c\","
	     "\"class\":\"crash\",\"attempts\":1,\"successes\":2}]}",
	     "more successes than attempts"},
	    {"{\"version\":1,\"entries\":[{\"signature\":\"a\",\"action\":\"b\",\"workload\":\"c\","
	     "\"class\":\"crash\",\"attempts\":1,\"successes\":1,\"last_applied_ns\":\"x\"}]}",
	     "'last_applied_ns'"},
	    {"{\"version\":1,\"entries\":[{\"signature\":\"a\",\"action\":\"b\",\"workload\":\"c\","
	     "\"class\":\"crash\",\"attempts\":1,\"successes\":1},{\"signature\":\"a\",\"action\":"
	     "\"b\",\"workload\":\"c\",\"class\":\"crash\",\"attempts\":1,\"successes\":1}]}",
	     "entries[1]: a second entry"},
	    /* Hostile strings: a NUL, an escape sequence, a C1 control, UTF-8, empty, too long. */
	    {"{\"version\":1,\"entries\":[{\"signature\":\"a\\u0000b\",\"action\":\"b\","
	     "\"workload\":\"c\",\"class\":\"crash\",\"attempts\":1,\"successes\":1}]}",
	     "entries[0]: 'signature' has byte 0x00 at offset 1"},
	    {"{\"version\":1,\"entries\":[{\"signature\":\"a\",\"action\":\"\\u001b[2J\","
	     "\"workload\":\"c\",\"class\":\"crash\",\"attempts\":1,\"successes\":1}]}",
	     "entries[0]: 'action' has byte 0x1b at offset 0"},
	    {"{\"version\":1,\"entries\":[{\"signature\":\"a\",\"action\":\"x\\u009b\","
	     "\"workload\":\"c\",\"class\":\"crash\",\"attempts\":1,\"successes\":1}]}",
	     "entries[0]: 'action' has byte 0xc2 at offset 1"},
	    {"{\"version\":1,\"entries\":[{\"signature\":\"a\",\"action\":\"b\","
	     "\"workload\":\"\\u00e9\",\"class\":\"crash\",\"attempts\":1,\"successes\":1}]}",
	     "'workload' has byte 0xc3"},
	    {"{\"version\":1,\"entries\":[{\"signature\":\"\",\"action\":\"b\","
	     "\"workload\":\"c\",\"class\":\"crash\",\"attempts\":1,\"successes\":1}]}",
	     "'signature' is 0 bytes long"},
	    {"{\"version\":1,\"entries\":[{\"signature\":\"a\",\"action\":\"b\","
	     "\"workload\":\"c\",\"class\":\"0123456789012345678901234567890123456789012345678901"
	     "234567890123\",\"attempts\":1,\"successes\":1}]}",
	     "'class' is 64 bytes long"},
	    {"{\"version\":1,\"version\":1,\"entries\":[]}", "duplicate"},
	    {"", "line"},
	    /* Not JSON, with bytes that would drive a terminal: the message quotes none. */
	    {"{\"version\":1,\"entries\":[\x1b[2J\xc2\x9b\xff]}", "line 1, column"},
	};
	struct scratch s;
	char msg[512];

	(void)state;
	scratch_init(&s);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vigil_knowledge *k = NULL;

		write_file(&s, cases[i].text, strlen(cases[i].text));
		assert_int_equal(vigil_knowledge_open(s.path, 0, 0, &k, msg, sizeof(msg)),
				 -EBADMSG);
		assert_null(k);
		if (!strstr(msg, cases[i].says))
			fail_msg("case %zu: '%s' does not say '%s'", i, msg, cases[i].says);
		for (const char *p = msg; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
				fail_msg("case %zu: byte 0x%02x in the message", i,
					 (unsigned char)*p);
	}
	scratch_fini(&s);
}

/* Strings through the API: printable ASCII, quotes and backslashes included, round-trip
 * exactly; anything else is refused before it can reach the file. */
static void test_hostile_strings(void **state)
{
	static const char quoted[] = "re\"start\\ '; drop table x; --";
	char longest[VIGIL_KNOW_STR], too_long[VIGIL_KNOW_STR + 1];
	const struct vigil_know_entry *e;
	struct vigil_knowledge *k;
	struct scratch s;
	char msg[512];

	(void)state;
	scratch_init(&s);
	memset(longest, 'a', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	memset(too_long, 'a', sizeof(too_long) - 1);
	too_long[sizeof(too_long) - 1] = '\0';
	assert_int_equal(vigil_knowledge_open(s.path, 0, 0, &k, msg, sizeof(msg)), 0);
	assert_int_equal(vigil_knowledge_record(k, "svc", SIG_A, "crash", quoted, true, 1, NULL),
			 0);
	assert_int_equal(
	    vigil_knowledge_record(k, longest, longest, "crash", longest, false, 2, NULL), 0);
	assert_int_equal(
	    vigil_knowledge_record(k, "svc", too_long, "crash", "restart", true, 3, NULL), -EINVAL);
	assert_int_equal(
	    vigil_knowledge_record(k, "svc", SIG_A, "crash", "re\x1b[2Jstart", true, 3, NULL),
	    -EINVAL);
	assert_int_equal(
	    vigil_knowledge_record(k, "svc", SIG_A, "crash", "r\xc3\xa9start", true, 3, NULL),
	    -EINVAL);
	assert_int_equal(
	    vigil_knowledge_record(k, "svc\n", SIG_A, "crash", "restart", true, 3, NULL), -EINVAL);
	assert_int_equal(vigil_knowledge_record(k, "svc", "", "crash", "restart", true, 3, NULL),
			 -EINVAL);
	assert_int_equal(vigil_knowledge_record(k, "svc", SIG_A, NULL, "restart", true, 3, NULL),
			 -EINVAL);
	assert_int_equal(vigil_knowledge_count(k), 2);
	vigil_knowledge_close(k);

	assert_int_equal(vigil_knowledge_open(s.path, 0, 0, &k, msg, sizeof(msg)), 0);
	assert_int_equal(vigil_knowledge_count(k), 2);
	e = vigil_knowledge_get(k, SIG_A, quoted);
	assert_non_null(e);
	assert_int_equal(e->successes, 1);
	e = vigil_knowledge_get(k, longest, longest);
	assert_non_null(e);
	assert_string_equal(e->workload, longest);
	vigil_knowledge_close(k);
	scratch_fini(&s);
}

/* Full: the entry applied least recently goes, and is counted. */
static void test_bound_evicts_oldest(void **state)
{
	struct vigil_knowledge *k;
	struct vigil_know_stats st;
	struct scratch s;
	char msg[512];

	(void)state;
	scratch_init(&s);
	assert_int_equal(vigil_knowledge_open(s.path, 3, 0, &k, msg, sizeof(msg)), 0);
	assert_int_equal(
	    vigil_knowledge_record(k, "svc", "s1", "crash", "restart", true, 100, NULL), 0);
	assert_int_equal(
	    vigil_knowledge_record(k, "svc", "s2", "crash", "restart", true, 200, NULL), 0);
	assert_int_equal(
	    vigil_knowledge_record(k, "svc", "s3", "crash", "restart", true, 300, NULL), 0);
	/* s1 applied again: now s2 is the oldest. */
	assert_int_equal(
	    vigil_knowledge_record(k, "svc", "s1", "crash", "restart", true, 400, NULL), 0);
	assert_int_equal(
	    vigil_knowledge_record(k, "svc", "s4", "crash", "restart", true, 500, NULL), 0);
	assert_int_equal(vigil_knowledge_count(k), 3);
	assert_null(vigil_knowledge_get(k, "s2", "restart"));
	assert_non_null(vigil_knowledge_get(k, "s1", "restart"));
	assert_non_null(vigil_knowledge_get(k, "s3", "restart"));
	assert_non_null(vigil_knowledge_get(k, "s4", "restart"));
	vigil_knowledge_stats(k, &st);
	assert_int_equal(st.evicted, 1);
	assert_int_equal(st.persist_errors, 0);
	vigil_knowledge_close(k);

	/* A file with more entries than the bound keeps the most recently applied. */
	assert_int_equal(vigil_knowledge_open(s.path, 2, 0, &k, msg, sizeof(msg)), 0);
	assert_int_equal(vigil_knowledge_count(k), 2);
	assert_non_null(vigil_knowledge_get(k, "s1", "restart"));
	assert_non_null(vigil_knowledge_get(k, "s4", "restart"));
	vigil_knowledge_stats(k, &st);
	assert_int_equal(st.evicted, 1);
	vigil_knowledge_close(k);
	scratch_fini(&s);
}

/* The default bound, in memory (no file): VIGIL_KNOW_MAX entries, then eviction. */
static void test_default_bound(void **state)
{
	struct vigil_knowledge *k;
	struct vigil_know_stats st;
	char msg[512], sig[32];

	(void)state;
	assert_int_equal(vigil_knowledge_open(NULL, 0, 0, &k, msg, sizeof(msg)), 0);
	for (unsigned int i = 0; i <= VIGIL_KNOW_MAX; i++) {
		snprintf(sig, sizeof(sig), "%016x", i);
		assert_int_equal(vigil_knowledge_record(k, "svc", sig, "crash", "restart", i & 1,
							1000 + i, NULL),
				 0);
	}
	assert_int_equal(vigil_knowledge_count(k), VIGIL_KNOW_MAX);
	vigil_knowledge_stats(k, &st);
	assert_int_equal(st.evicted, 1);
	assert_null(vigil_knowledge_get(k, "0000000000000000", "restart"));
	assert_non_null(vigil_knowledge_get(k, "0000000000000001", "restart"));
	vigil_knowledge_close(k);
}

/* The file cap is sized to the store: one entry at its largest (every string 63 bytes, each
 * byte escaped, the counts at their largest) takes at most VIGIL_KNOW_ENTRY_MAX_JSON bytes, so
 * VIGIL_KNOW_MAX of them fit the cap; a file one byte over it is refused unparsed and kept
 * aside. */
static void test_file_cap_fits_the_store(void **state)
{
	struct vigil_knowledge *k;
	struct stat st0, st1;
	struct scratch s;
	char msg[512], big[VIGIL_KNOW_STR];
	char *text;

	(void)state;
	scratch_init(&s);
	memset(big, '"', sizeof(big) - 1); /* written \" */
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(vigil_knowledge_open(s.path, 0, 0, &k, msg, sizeof(msg)), 0);
	assert_int_equal(vigil_knowledge_record(k, big, big, big, big, true, UINT64_MAX / 2, NULL),
			 0);
	assert_int_equal(stat(s.path, &st0), 0);
	big[0] = '\\'; /* another signature, as long, as escaped */
	assert_int_equal(vigil_knowledge_record(k, big, big, big, big, true, UINT64_MAX / 2, NULL),
			 0);
	assert_int_equal(stat(s.path, &st1), 0);
	vigil_knowledge_close(k);
	print_message("one entry at its largest: %lld bytes (bound %d); cap %u bytes\n",
		      (long long)(st1.st_size - st0.st_size), VIGIL_KNOW_ENTRY_MAX_JSON,
		      VIGIL_KNOW_FILE_MAX);
	assert_true(st1.st_size - st0.st_size <= VIGIL_KNOW_ENTRY_MAX_JSON);
	assert_true(st0.st_size <= VIGIL_KNOW_ENTRY_MAX_JSON + 64);

	text = malloc(VIGIL_KNOW_FILE_MAX + 1);
	assert_non_null(text);
	memset(text, ' ', VIGIL_KNOW_FILE_MAX + 1);
	write_file(&s, text, VIGIL_KNOW_FILE_MAX + 1);
	free(text);
	assert_int_equal(
	    vigil_knowledge_open(s.path, 0, VIGIL_KNOW_SET_ASIDE, &k, msg, sizeof(msg)), 0);
	assert_non_null(strstr(msg, "larger than any store vigil writes"));
	assert_true(exists("%s.bad", s.path));
	vigil_knowledge_close(k);
	scratch_fini(&s);
}

/* A write that fails leaves the table updated, the error counted, and the old file whole. */
static void test_persist_failure(void **state)
{
	struct vigil_know_rec rec = {};
	struct vigil_knowledge *k;
	struct vigil_know_stats st;
	struct scratch s;
	char msg[512], path[160];
	FILE *f;

	(void)state;
	scratch_init(&s);
	/* The parent "directory" is a file: nothing can be written under it. */
	snprintf(path, sizeof(path), "%s/file", s.dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	strcat(path, "/knowledge.json");
	assert_int_equal(vigil_knowledge_open(path, 0, 0, &k, msg, sizeof(msg)), -ENOTDIR);
	assert_non_null(strstr(msg, path));
	assert_int_equal(vigil_knowledge_open(NULL, 0, 0, &k, msg, sizeof(msg)), 0);
	vigil_knowledge_close(k);

	snprintf(path, sizeof(path), "%s/ro/knowledge.json", s.dir);
	assert_int_equal(vigil_knowledge_open(path, 0, 0, &k, msg, sizeof(msg)), 0);
	snprintf(path, sizeof(path), "%s/ro", s.dir);
	/* A file where the directory should be made. */
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_not_equal(
	    vigil_knowledge_record(k, "svc", SIG_A, "crash", "restart", true, 7, &rec), 0);
	assert_string_equal(rec.signature, SIG_A);
	assert_int_equal(rec.attempts, 1);
	assert_int_equal(vigil_knowledge_get(k, SIG_A, "restart")->successes, 1);
	vigil_knowledge_stats(k, &st);
	assert_int_equal(st.persist_errors, 1);
	assert_true(st.last_error < 0);
	vigil_knowledge_close(k);
	scratch_fini(&s);
}

/* Read-only (the CLI): reads, never writes. */
static void test_readonly(void **state)
{
	struct vigil_knowledge *k;
	struct scratch s;
	char msg[512];

	(void)state;
	scratch_init(&s);
	assert_int_equal(vigil_knowledge_open(s.path, 0, VIGIL_KNOW_READONLY, &k, msg, sizeof(msg)),
			 0);
	assert_int_equal(vigil_knowledge_record(k, "svc", SIG_A, "crash", "restart", true, 1, NULL),
			 -EROFS);
	assert_int_equal(vigil_knowledge_count(k), 0);
	assert_false(exists("%s", s.path));
	vigil_knowledge_close(k);
	scratch_fini(&s);
}

static void test_score(void **state)
{
	struct vigil_know_entry never = {}, good = {.attempts = 5, .successes = 4},
				bad = {.attempts = 2, .successes = 0},
				one_ok = {.attempts = 1, .successes = 1},
				one_bad = {.attempts = 1, .successes = 0},
				even = {.attempts = 2, .successes = 1},
				many = {.attempts = 100, .successes = 90};

	(void)state;
	assert_true(vigil_knowledge_score(NULL) == 0.5);
	assert_true(vigil_knowledge_score(&never) == 0.5); /* 0/0 from a file: as untried */
	assert_true(vigil_knowledge_score(&good) == 5.0 / 7.0);
	assert_true(vigil_knowledge_score(&bad) == 0.25);
	/* An untried action beats one that failed, loses to one that worked, ties an even one. */
	assert_true(vigil_knowledge_score(&one_bad) < vigil_knowledge_score(NULL));
	assert_true(vigil_knowledge_score(&one_ok) > vigil_knowledge_score(NULL));
	assert_true(vigil_knowledge_score(&even) == vigil_knowledge_score(NULL));
	/* More evidence of the same rate is worth more. */
	assert_true(vigil_knowledge_score(&many) > vigil_knowledge_score(&good));
	assert_true(vigil_knowledge_score(&many) < 0.9 + 1e-9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_missing_file_is_empty),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_stale_tmp_replaced),
	    cmocka_unit_test(test_malformed_is_an_error),
	    cmocka_unit_test(test_malformed_set_aside),
	    cmocka_unit_test(test_malformed_shapes),
	    cmocka_unit_test(test_hostile_strings),
	    cmocka_unit_test(test_bound_evicts_oldest),
	    cmocka_unit_test(test_default_bound),
	    cmocka_unit_test(test_file_cap_fits_the_store),
	    cmocka_unit_test(test_persist_failure),
	    cmocka_unit_test(test_readonly),
	    cmocka_unit_test(test_score),
	};

	return cmocka_run_group_tests_name("knowledge", tests, NULL, NULL);
}
