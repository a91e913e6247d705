/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the journal's readers: the input is a journal (any bytes), read as
 * `vigil incidents`, `vigil incident ID` (control/history.c) and `vigil export --sql`
 * (output/export.c) read it, split in two files at its middle line as a rotated journal is.
 * Built and run by tests/fuzz/run.sh with ASan, UBSan and LeakSanitizer.
 *
 * Contracts checked on every line: vigil_journal_parse_line() returns a record at 0 exactly
 * when the line parses whole, and a record after a tear is an object that parses from there
 * to the end of the line; vigil_term_safe() of the line holds no byte a terminal obeys (C0,
 * DEL, C1 as UTF-8 or raw), only valid UTF-8, and is its own fixed point. The readers must
 * not fail on any input but for -ENOENT (no such incident).
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/history.h"
#include "core/json.h"
#include "core/text.h"
#include "output/export.h"
#include "output/journal.h"

#define CHECK(cond, what)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_journal: %s (%s:%d)\n", what, __FILE__, __LINE__);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* Nothing a terminal obeys, only valid UTF-8. */
static void check_safe(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), k;
	char again[4096];

	for (size_t i = 0; i < n; i += k) {
		k = p[i] < 0x80 ? 1 : vigil_utf8_len(p + i, n - i);
		CHECK(k, "invalid UTF-8 in a terminal-safe copy");
		CHECK(!(k == 1 && (p[i] < 0x20 || p[i] == 0x7f)), "C0 or DEL in a safe copy");
		CHECK(!(k == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0), "C1 in a safe copy");
	}
	CHECK(!strcmp(vigil_term_safe(s, again, sizeof(again)), s), "safe copy not a fixed point");
}

static void check_line(const char *line, size_t len)
{
	char safe[4096], *z;
	size_t at;
	bool torn;
	json_t *r = vigil_journal_parse_line(line, len, 0, &at, &torn), *again;

	if (r) {
		CHECK(json_is_object(r), "a record that is not an object");
		CHECK(torn == (at != 0), "torn and offset disagree");
		again = json_loadb(line + at, len - at, 0, NULL);
		CHECK(json_is_object(again), "the record's text does not parse from its offset");
		json_decref(again);
	} else {
		CHECK(torn, "no record, yet not torn");
	}
	json_decref(r);
	z = strndup(line, len);
	if (z) {
		check_safe(vigil_term_safe(z, safe, sizeof(safe)));
		free(z);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *nl;
	struct vigil_journal_stats hst;
	struct vigil_export_stats est;
	char *answer = NULL, *sql = NULL;
	size_t mid = size / 2, sqllen = 0;
	FILE *f[2], *out;
	int err;

	for (size_t off = 0; off < size; off = nl ? (size_t)(nl - text) + 1 : size) {
		nl = memchr(text + off, '\n', size - off);
		check_line(text + off, (nl ? (size_t)(nl - text) : size) - off);
	}
	/* Two files, cut after the line that holds the middle byte. */
	nl = size ? memchr(text + mid, '\n', size - mid) : NULL;
	mid = nl ? (size_t)(nl - text) + 1 : size;
	f[0] = fmemopen((void *)data, mid ? mid : 1, "r");
	f[1] = fmemopen((void *)(data + mid), size - mid ? size - mid : 1, "r");
	if (!f[0] || !f[1])
		goto out;
	err = vigil_history_journals(f, mid && size - mid ? 2 : 1, "incidents", NULL, 8, 0, &answer,
				     &hst);
	CHECK(!err || err == -ENOMEM, "incidents failed");
	free(answer);
	answer = NULL;
	rewind(f[0]);
	rewind(f[1]);
	err = vigil_history_journals(f, mid && size - mid ? 2 : 1, "incident", "019ac0000000a001",
				     0, 0, &answer, &hst);
	CHECK(!err || err == -ENOENT || err == -ENOMEM, "incident failed");
	free(answer);
	rewind(f[0]);
	rewind(f[1]);
	out = open_memstream(&sql, &sqllen);
	if (out) {
		err = vigil_export_sql(f, mid && size - mid ? 2 : 1, NULL, "fuzz", out, &est);
		CHECK(!err || err == -ENOMEM, "export failed");
		fclose(out);
		free(sql);
	}
out:
	if (f[0])
		fclose(f[0]);
	if (f[1])
		fclose(f[1]);
	return 0;
}
