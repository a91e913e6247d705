// SPDX-License-Identifier: Apache-2.0
/* Unit: the collector's record check rejects every malformed record with its own reason. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/collector.h"
#include "records.h"

static struct vigil_exit valid_exit(void)
{
	return tr_exit(42, 0, 0, 11);
}

static void test_valid(void **state)
{
	struct vigil_exit e = valid_exit();
	const struct vigil_event_hdr *h = NULL;

	(void)state;
	assert_int_equal(vigil_decode(&e, sizeof(e), &h), 0);
	assert_ptr_equal(h, &e.hdr);
}

static void test_short(void **state)
{
	struct vigil_exit e = valid_exit();
	const struct vigil_event_hdr *h;

	(void)state;
	assert_int_equal(vigil_decode(NULL, 0, &h), -EBADMSG);
	assert_int_equal(vigil_decode(&e, 0, &h), -EBADMSG);
	assert_int_equal(vigil_decode(&e, sizeof(e.hdr) - 1, &h), -EBADMSG);
	/* A header that claims more than the record holds: truncated. */
	assert_int_equal(vigil_decode(&e, sizeof(e) - 1, &h), -EBADMSG);
}

static void test_unknown_kind(void **state)
{
	struct vigil_exit e = valid_exit();
	const struct vigil_event_hdr *h;

	(void)state;
	e.hdr.kind = 0;
	assert_int_equal(vigil_decode(&e, sizeof(e), &h), -ENOMSG);
	e.hdr.kind = VIGIL_EV_KIND_MAX;
	assert_int_equal(vigil_decode(&e, sizeof(e), &h), -ENOMSG);
	e.hdr.kind = 0xffff;
	assert_int_equal(vigil_decode(&e, sizeof(e), &h), -ENOMSG);
}

static void test_bad_version(void **state)
{
	struct vigil_exit e = valid_exit();
	const struct vigil_event_hdr *h;

	(void)state;
	e.hdr.version = VIGIL_ABI_VERSION + 1;
	assert_int_equal(vigil_decode(&e, sizeof(e), &h), -EPROTO);
}

static void test_size_mismatch(void **state)
{
	struct vigil_exit e = valid_exit();
	const struct vigil_event_hdr *h;

	(void)state;
	/* An exit record that says it is an oom record's size. */
	e.hdr.size = sizeof(struct vigil_oom);
	assert_int_equal(vigil_decode(&e, sizeof(e), &h), -EMSGSIZE);
	e.hdr.size = sizeof(e.hdr);
	assert_int_equal(vigil_decode(&e, sizeof(e), &h), -EMSGSIZE);
}

static void test_every_kind_has_a_size(void **state)
{
	union {
		struct vigil_exit exit;
		struct vigil_oom oom;
		struct vigil_exec exec;
		struct vigil_sock sock;
		struct vigil_slow slow;
		struct vigil_hang hang;
	} u;
	const size_t sizes[] = {
	    [VIGIL_EV_EXIT] = sizeof(struct vigil_exit),
	    [VIGIL_EV_OOM] = sizeof(struct vigil_oom),
	    [VIGIL_EV_EXEC] = sizeof(struct vigil_exec),
	    [VIGIL_EV_SOCK] = sizeof(struct vigil_sock),
	    [VIGIL_EV_SLOW] = sizeof(struct vigil_slow),
	    [VIGIL_EV_HANG] = sizeof(struct vigil_hang),
	    [VIGIL_EV_RETRANS] = sizeof(struct vigil_retrans),
	};
	const struct vigil_event_hdr *h;

	(void)state;
	/* A new kind without a size here fails the build: the array must grow with the enum. */
	_Static_assert(sizeof(sizes) / sizeof(sizes[0]) == VIGIL_EV_KIND_MAX, "sizes[] per kind");
	for (unsigned int k = 1; k < VIGIL_EV_KIND_MAX; k++) {
		memset(&u, 0, sizeof(u));
		u.exit.hdr.kind = k;
		u.exit.hdr.version = VIGIL_ABI_VERSION;
		u.exit.hdr.size = sizes[k];
		assert_int_equal(vigil_decode(&u, sizes[k], &h), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),	  cmocka_unit_test(test_short),
	    cmocka_unit_test(test_unknown_kind),  cmocka_unit_test(test_bad_version),
	    cmocka_unit_test(test_size_mismatch), cmocka_unit_test(test_every_kind_has_a_size),
	};

	return cmocka_run_group_tests_name("decode", tests, NULL, NULL);
}
