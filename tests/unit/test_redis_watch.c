// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of what vigil reads from the approvals stream (output/redis_watch.h): an XREAD
 * reply, made by hiredis's own reader from RESP bytes as a server would send them, walked into
 * decisions; every malformed entry named, counted, and never taken; a reply that is not a
 * stream's entries refused whole; and the bound on what a server may claim.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "output/redis.h"
#include "output/redis_watch.h"

/* What the walk handed over, in order. */
struct seen {
	struct vigil_approval_msg m[8];
	char why[8][128];
	int n;
};

static void each(const struct vigil_approval_msg *m, const char *why, void *arg)
{
	struct seen *s = arg;

	assert_true(s->n < 8);
	s->m[s->n] = *m;
	snprintf(s->why[s->n], sizeof(s->why[0]), "%s", why ? why : "");
	s->n++;
}

/* The reply hiredis makes of resp (one whole reply), walked. Returns the walk's answer. */
static int walk(const char *resp, struct seen *s)
{
	redisReader *r = redisReaderCreateWithFunctions(vigil_redis_reply_functions());
	void *rep = NULL;
	int n;

	memset(s, 0, sizeof(*s));
	assert_non_null(r);
	assert_int_equal(redisReaderFeed(r, resp, strlen(resp)), REDIS_OK);
	assert_int_equal(redisReaderGetReply(r, &rep), REDIS_OK);
	assert_non_null(rep);
	n = vigil_approvals_walk(rep, each, s);
	freeReplyObject(rep);
	redisReaderFree(r);
	return n;
}

/* "*1\r\n*2\r\n$STREAM...\r\n*N\r\n" + entries: an XREAD reply of one stream. */
#define XREAD(n_entries, entries)                                                                  \
	"*1\r\n*2\r\n$18\r\nvigil:n1:approvals\r\n*" n_entries "\r\n" entries
#define ENTRY(id_len, id, n_fields, fields)                                                        \
	"*2\r\n$" id_len "\r\n" id "\r\n*" n_fields "\r\n" fields
#define BULK(len, s) "$" len "\r\n" s "\r\n"

static void test_approve_and_deny(void **state)
{
	struct seen s;

	(void)state;
	assert_int_equal(
	    walk(XREAD("2",
		       ENTRY("3", "1-0", "6",
			     BULK("8", "incident") BULK("6", "a1b2c3") BULK("2", "by")
				 BULK("5", "alice") BULK("6", "reason") BULK("9", "ticket 42"))
			   ENTRY("3", "2-0", "6",
				 BULK("8", "incident") BULK("6", "d4e5f6") BULK("2", "by")
				     BULK("3", "bob") BULK("8", "decision") BULK("4", "deny"))),
		 &s),
	    2);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.why[0], "");
	assert_string_equal(s.m[0].entry, "1-0");
	assert_string_equal(s.m[0].incident, "a1b2c3");
	assert_string_equal(s.m[0].by, "alice");
	assert_string_equal(s.m[0].reason, "ticket 42");
	assert_false(s.m[0].deny);
	assert_string_equal(s.why[1], "");
	assert_string_equal(s.m[1].incident, "d4e5f6");
	assert_string_equal(s.m[1].by, "bob");
	assert_string_equal(s.m[1].reason, "");
	assert_true(s.m[1].deny);
}

/* Nothing came within the block: nil, no entry. */
static void test_nothing_came(void **state)
{
	struct seen s;

	(void)state;
	assert_int_equal(walk("*-1\r\n", &s), 0);
	assert_int_equal(s.n, 0);
}

/* Each malformed entry is handed with why (and its id, so the stream is read past it); the
 * good one after it is still taken. */
static void test_malformed_entries_named(void **state)
{
	struct seen s;

	(void)state;
	assert_int_equal(
	    walk(XREAD("6",
		       /* no by: who decided is the point */
		       ENTRY("3", "1-1", "2", BULK("8", "incident") BULK("2", "i1"))
		       /* an unknown decision */
		       ENTRY("3", "1-2", "6",
			     BULK("8", "incident") BULK("2", "i2") BULK("2", "by") BULK("1", "x")
				 BULK("8", "decision") BULK("5", "maybe"))
		       /* fields not in pairs */
		       ENTRY("3", "1-3", "3", BULK("8", "incident") BULK("2", "i3") BULK("2", "by"))
		       /* a field that is a number */
		       ENTRY("3", "1-4", "2", BULK("8", "incident") ":7\r\n")
		       /* no incident: an incident id longer than any vigil makes */
		       ENTRY("3", "1-5", "4",
			     BULK("8", "incident")
				 BULK("40", "0123456789012345678901234567890123456789")
				     BULK("2", "by") BULK("1", "x"))
		       /* good */
		       ENTRY("3", "1-6", "4",
			     BULK("2", "by") BULK("5", "carol") BULK("8", "incident")
				 BULK("2", "i6"))),
		 &s),
	    6);
	assert_int_equal(s.n, 6);
	assert_string_equal(s.why[0], "no 'by': who decided");
	assert_string_equal(s.m[0].entry, "1-1");
	assert_string_equal(s.why[1], "decision 'maybe' is neither approve nor deny");
	assert_string_equal(s.why[2], "fields are not pairs");
	assert_string_equal(s.why[3], "a field that is not a string");
	assert_string_equal(s.why[4], "no incident id");
	assert_string_equal(s.m[4].entry, "1-5");
	assert_string_equal(s.why[5], "");
	assert_string_equal(s.m[5].incident, "i6");
	assert_string_equal(s.m[5].by, "carol");
}

/* An entry without a usable id is named too: the walk goes on past it. */
static void test_entry_without_id(void **state)
{
	struct seen s;

	(void)state;
	assert_int_equal(walk(XREAD("2", ":5\r\n" ENTRY("3", "2-1", "4",
							BULK("8", "incident") BULK("2", "i7")
							    BULK("2", "by") BULK("1", "d"))),
			      &s),
			 2);
	assert_string_equal(s.why[0], "an entry without an id");
	assert_string_equal(s.m[0].entry, "");
	assert_string_equal(s.why[1], "");
	assert_string_equal(s.m[1].entry, "2-1");
}

/* Replies that are not a stream's entries (an error, a string, two streams, a map of the wrong
 * shape): refused whole, nothing handed. */
static void test_not_xread(void **state)
{
	static const char *const bad[] = {
	    "-NOPERM this user has no permissions to run the 'xread' command\r\n",
	    "+OK\r\n",
	    ":1\r\n",
	    "*0\r\n",
	    "*2\r\n*2\r\n$1\r\na\r\n*0\r\n*2\r\n$1\r\nb\r\n*0\r\n",
	    "*1\r\n*1\r\n$1\r\na\r\n",
	    "*1\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n",
	};
	struct seen s;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(walk(bad[i], &s), -EPROTO);
		assert_int_equal(s.n, 0);
	}
}

/* The parse alone: the default decision is approve, a long 'by' or reason is cut, not
 * refused. */
static void test_parse(void **state)
{
	char by[200], why[128];
	const char *keys[] = {"incident", "by", "extra"};
	const char *vals[] = {"abc", by, "ignored"};
	struct vigil_approval_msg m;

	(void)state;
	memset(by, 'b', sizeof(by) - 1);
	by[sizeof(by) - 1] = '\0';
	assert_int_equal(vigil_approval_parse(keys, vals, 3, &m, why, sizeof(why)), 0);
	assert_false(m.deny);
	assert_int_equal(strlen(m.by), sizeof(m.by) - 1);
	vals[0] = "";
	assert_int_equal(vigil_approval_parse(keys, vals, 3, &m, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "no incident id");
}

/* A server that claims an array of more elements than vigil takes is refused before anything is
 * allocated for it: the reader fails (vigil's connection is dropped and said). One at the bound
 * is read as it comes. */
static void test_claimed_array_refused(void **state)
{
	redisReader *r = redisReaderCreateWithFunctions(vigil_redis_reply_functions());
	void *rep = NULL;
	char claim[64];

	(void)state;
	snprintf(claim, sizeof(claim), "*%u\r\n", VIGIL_REDIS_MAX_ELEMENTS);
	assert_int_equal(redisReaderFeed(r, claim, strlen(claim)), REDIS_OK);
	assert_int_equal(redisReaderGetReply(r, &rep), REDIS_OK);
	assert_null(rep); /* waiting for its elements */
	redisReaderFree(r);

	r = redisReaderCreateWithFunctions(vigil_redis_reply_functions());
	snprintf(claim, sizeof(claim), "*1\r\n*%u\r\n", VIGIL_REDIS_MAX_ELEMENTS + 1);
	assert_int_equal(redisReaderFeed(r, claim, strlen(claim)), REDIS_OK);
	assert_int_equal(redisReaderGetReply(r, &rep), REDIS_ERR);
	assert_null(rep);
	redisReaderFree(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_approve_and_deny),
	    cmocka_unit_test(test_nothing_came),
	    cmocka_unit_test(test_malformed_entries_named),
	    cmocka_unit_test(test_entry_without_id),
	    cmocka_unit_test(test_not_xread),
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_claimed_array_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
