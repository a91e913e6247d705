// SPDX-License-Identifier: Apache-2.0
/*
 * Unit: `vigil export --sql` reads every whole record of a journal: a record glued to a torn
 * one (what a journal written before the whole-line writer holds after an ENOSPC) is read and
 * the torn line counted; a rotated journal's files are read in turn, oldest first; garbage is
 * counted and skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "output/export.h"

#define INC(id, state)                                                                             \
	"{\"type\":\"incident\",\"rid\":\"1-1\",\"ts\":\"2026-11-29T12:00:00.000Z\",\"node\":"     \
	"\"n\","                                                                                   \
	"\"workload\":\"svc\",\"id\":\"" id "\",\"signature\":\"s\",\"class\":\"crash\","          \
	"\"state\":\"" state "\",\"count\":1,\"title\":\"t\"}"

static FILE *file_of(const char *text)
{
	FILE *f = tmpfile();

	assert_non_null(f);
	fputs(text, f);
	rewind(f);
	return f;
}

/* How many times needle is in hay. */
static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void test_glued_and_rotated(void **state)
{
	FILE *f[2], *out;
	struct vigil_export_stats st;
	char *sql = NULL;
	size_t len = 0;

	(void)state;
	/* The rotated file: one whole incident, then a torn one a newer record is glued to. */
	f[0] = file_of(INC("019ac0000000a001",
			   "open") "\n"
				   "{\"type\":\"incident\",\"rid\":\"1-2\",\"ts\":\"2026-11" INC(
				       "019ac0000000b002", "open") "\n"
								   "garbage\n");
	/* The current file: a later state of the first. */
	f[1] = file_of(INC("019ac0000000a001", "resolved") "\n");
	out = open_memstream(&sql, &len);
	assert_non_null(out);
	assert_int_equal(vigil_export_sql(f, 2, NULL, "n1", out, &st), 0);
	fclose(out);
	assert_int_equal(st.incidents, 2);
	assert_int_equal(st.torn, 1);
	assert_int_equal(st.bad_lines, 1);
	assert_int_equal(count(sql, "'019ac0000000b002'"), 1);
	assert_int_equal(count(sql, "'resolved'"), 1);
	free(sql);
	fclose(f[0]);
	fclose(f[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_glued_and_rotated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
