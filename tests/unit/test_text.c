// SPDX-License-Identifier: Apache-2.0
/*
 * Unit: what reaches a person's terminal. vigil_term_safe() lets printable ASCII and valid
 * UTF-8 through and writes every C0, DEL, C1 (CSI U+009B, as UTF-8 or as a raw byte) and
 * invalid byte as a visible \xNN, never cut inside a character or an escape; and every
 * renderer of incidents, of the status and of tables goes through it (a process name with a
 * CSI in a journal record never comes out raw).
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "control/ctl.h"
#include "control/table.h"
#include "core/text.h"

/* The bytes a terminal would obey in s: C0 but '\n' (the renderers' own line ends), DEL, C1
 * as UTF-8 (0xc2 0x80..0x9f) or as a raw byte (0x80..0x9f after an ASCII byte). */
static int raw_controls(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int n = 0;

	for (size_t i = 0; p[i]; i++) {
		bool c1 = p[i] >= 0x80 && p[i] < 0xa0;

		if ((p[i] < 0x20 && p[i] != '\n') || p[i] == 0x7f)
			n++;
		else if (c1 && (!i || p[i - 1] < 0x80 || p[i - 1] == 0xc2))
			n++;
	}
	return n;
}

static void test_term_safe(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(vigil_term_safe("plain text", buf, sizeof(buf)), "plain text");
	assert_string_equal(vigil_term_safe(NULL, buf, sizeof(buf)), "-");
	/* UTF-8 letters go through; C1 CSI as UTF-8 and as a raw byte do not. */
	assert_string_equal(vigil_term_safe("caf\xc3\xa9 \xe2\x82\xac", buf, sizeof(buf)),
			    "caf\xc3\xa9 \xe2\x82\xac");
	assert_string_equal(vigil_term_safe("a\xc2\x9b"
					    "31mb",
					    buf, sizeof(buf)),
			    "a\\xc2\\x9b31mb");
	assert_string_equal(vigil_term_safe("a\x9b"
					    "2J",
					    buf, sizeof(buf)),
			    "a\\x9b2J");
	assert_string_equal(vigil_term_safe("\x1b[2J\r\n\x7f\t", buf, sizeof(buf)),
			    "\\x1b[2J\\x0d\\x0a\\x7f\\x09");
	/* U+00A0 (no-break space) is the first code point after C1: printable. */
	assert_string_equal(vigil_term_safe("\xc2\xa0", buf, sizeof(buf)), "\xc2\xa0");
	/* Invalid: a lone continuation, an overlong '/', a truncated sequence, a surrogate. */
	assert_string_equal(vigil_term_safe("\x80\xc0\xaf\xe2\x82\xed\xa0\x80", buf, sizeof(buf)),
			    "\\x80\\xc0\\xaf\\xe2\\x82\\xed\\xa0\\x80");
	/* Cut before what does not fit whole: an escape, a character. */
	assert_string_equal(vigil_term_safe("ab\x1b", buf, 6), "ab");
	assert_string_equal(vigil_term_safe("ab\xe2\x82\xac", buf, 5), "ab");
	assert_string_equal(vigil_term_safe("ab\xe2\x82\xac", buf, 6), "ab\xe2\x82\xac");
	assert_string_equal(vigil_term_safe("abc", buf, 1), "");
}

/* What a renderer prints of json, as a string (caller frees). */
static char *render(int (*fn)(const char *, FILE *), const char *json, int want)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(fn(json, f), want);
	fclose(f);
	return text;
}

/* A process named "svc<CSI>31m" (comm via PR_SET_NAME can hold any byte), in the incident
 * list, one incident and the status: shown escaped, never raw. */
static void test_renderers(void **state)
{
	static const char list[] =
	    "{\"incidents\":[{\"id\":\"019ac0000000a001\",\"state\":\"open\",\"class\":\"crash\","
	    "\"workload\":\"svc\\u009b31m\",\"count\":1,\"age_s\":5,"
	    "\"title\":\"svc\\u009b31m killed by SIGSEGV \\u001b]0;pwned\\u0007\","
	    "\"lossy\":false}]}";
	static const char one[] =
	    "{\"type\":\"incident\",\"id\":\"019ac0000000a001\",\"signature\":\"s\\u009b1\","
	    "\"class\":\"crash\",\"state\":\"open\",\"workload\":\"svc\\u009b31m\",\"count\":1,"
	    "\"title\":\"svc\\u009b31m\",\"node\":\"n\\u0085\",\"ts\":\"x\","
	    "\"chain\":[{\"class\":\"exit\\u009b\",\"detail\":\"comm svc\\u009b31m\","
	    "\"pid\":4,\"before_ms\":1}]}";
	static const char status[] =
	    "{\"version\":\"1\\u009b\",\"node\":\"n\\u009b\",\"config\":\"c\\u001b\","
	    "\"journal\":{\"path\":\"/j\\u009b\",\"errors\":0,\"records\":1,"
	    "\"last_error\":\"x\\u009by\"},"
	    "\"stdout\":{\"mode\":\"human\\u009b\",\"lines\":1},"
	    "\"workloads\":[{\"name\":\"svc\\u009b31m\",\"pids\":[1]}]}";
	char *t;

	(void)state;
	t = render(vigil_ctl_print_incidents, list, 0);
	assert_int_equal(raw_controls(t), 0);
	assert_non_null(strstr(t, "svc\\xc2\\x9b31m killed"));
	free(t);
	t = render(vigil_ctl_print_incident, one, 0);
	assert_int_equal(raw_controls(t), 0);
	assert_non_null(strstr(t, "comm svc\\xc2\\x9b31m"));
	free(t);
	t = render(vigil_ctl_print_status, status, 0);
	assert_int_equal(raw_controls(t), 0);
	assert_non_null(strstr(t, "svc\\xc2\\x9b31m"));
	free(t);
}

/* A table cell (doctor, knowledge, status tables) is escaped, and its width is the escaped
 * text's. */
static void test_table_cells(void **state)
{
	static const char *const head[] = {"A", "B"};
	struct vigil_table t;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_int_equal(vigil_table_init(&t, head, 2, 0, 1), 0);
	snprintf(vigil_table_cell(&t, 0, 0), VIGIL_TABLE_CELL, "x\xc2\x9b");
	snprintf(vigil_table_cell(&t, 0, 1), VIGIL_TABLE_CELL, "y");
	vigil_table_print(&t, f);
	vigil_table_line(f, (const size_t[]){1, 1}, 2, 0, 1, (const char *const[]){"\x9b", "\x1b"});
	fclose(f);
	assert_string_equal(text, "A          B\nx\\xc2\\x9b  y\n\\x9b \\x1b\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_term_safe),
	    cmocka_unit_test(test_renderers),
	    cmocka_unit_test(test_table_cells),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
