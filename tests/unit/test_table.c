// SPDX-License-Identifier: Apache-2.0
/* Unit: the CLI's table printer: widths from the widest cell, numbers on the right, two blanks
 * between columns, no blank at the end of a line; and a line of fixed widths. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "control/table.h"

static void test_table(void **state)
{
	static const char *const head[] = {"ID", "COUNT", "TITLE"};
	struct vigil_table t;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(f);
	assert_int_equal(vigil_table_init(&t, head, 3, 0x2, 2), 0);
	snprintf(vigil_table_cell(&t, 0, 0), VIGIL_TABLE_CELL, "a");
	snprintf(vigil_table_cell(&t, 0, 1), VIGIL_TABLE_CELL, "1234567");
	snprintf(vigil_table_cell(&t, 0, 2), VIGIL_TABLE_CELL, "short");
	snprintf(vigil_table_cell(&t, 1, 0), VIGIL_TABLE_CELL, "bcd");
	snprintf(vigil_table_cell(&t, 1, 1), VIGIL_TABLE_CELL, "5");
	snprintf(vigil_table_cell(&t, 1, 2), VIGIL_TABLE_CELL, "a longer title");
	vigil_table_print(&t, f);
	assert_null(t.cell);
	fclose(f);
	assert_string_equal(text, "ID     COUNT  TITLE\n"
				  "a    1234567  short\n"
				  "bcd        5  a longer title\n");
	free(text);

	/* Too many columns; freeing a failed or printed table is harmless. */
	assert_int_equal(vigil_table_init(&t, head, VIGIL_TABLE_MAX_COLS + 1, 0, 1), -EINVAL);
	vigil_table_free(&t);
	vigil_table_free(&t);
}

/* Fixed widths and gap, as doctor prints its rows: a cell wider than its column pushes the
 * rest right, and the last column is never padded. */
static void test_line(void **state)
{
	static const size_t width[] = {8, 9, 6, 0};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(f);
	vigil_table_line(f, width, 4, 0, 1, (const char *const[]){"OK", "required", "ab", "x y"});
	vigil_table_line(f, width, 4, 0, 1,
			 (const char *const[]){"MISSING", "optional", "too wide", ""});
	vigil_table_line(f, width, 2, 0x2, 2, (const char *const[]){"n", "42"});
	fclose(f);
	assert_string_equal(text, "OK       required  ab     x y\n"
				  "MISSING  optional  too wide \n"
				  "n                42\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_line),
	};

	return cmocka_run_group_tests_name("table", tests, NULL, NULL);
}
