/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the healer's state as vigil reads it back (heal/state.c): the state
 * file, or the copy in Redis, both written by a vigil but read after a crash, a disk error or
 * another tool's hand. Built and run by tests/fuzz/run.sh with ASan, UBSan and LeakSanitizer.
 *
 * The contract: vigil_state_parse returns 0, -EBADMSG with a reason, or -ENOMEM, and leaves
 * the state empty on error. What it accepts, written back (vigil_state_to_json), reads again
 * to the same text: nothing it takes is lost or changed on the next save.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "heal/state.h"

#define CHECK(cond, what)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_state: %s (%s:%d)\n", what, __FILE__, __LINE__);     \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The state's text as vigil would save it; the caller frees j.buf. */
static void save(const struct vigil_heal_state *s, struct vigil_json *j)
{
	memset(j, 0, sizeof(*j));
	CHECK(vigil_state_to_json(j, s, "fuzz") == 0, "a state read could not be written");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vigil_heal_state s = {}, again = {};
	struct vigil_json j1, j2;
	char why[256] = "";
	int ret;

	ret = vigil_state_parse((const char *)data, size, &s, why, sizeof(why));
	CHECK(ret == 0 || ret == -EBADMSG || ret == -ENOMEM, "an unexpected error");
	if (ret) {
		CHECK(!s.n_wl && !s.n_items && !s.wl && !s.items, "a refused state is not empty");
		CHECK(ret == -ENOMEM || why[0], "a refusal without a reason");
		return 0;
	}
	save(&s, &j1);
	ret = vigil_state_parse(j1.buf, j1.len, &again, why, sizeof(why));
	if (ret)
		fprintf(stderr, "fuzz_state: %s\n%.*s\n", why, (int)j1.len, j1.buf);
	CHECK(ret == 0, "what vigil wrote it does not read back");
	save(&again, &j2);
	CHECK(j1.len == j2.len && !memcmp(j1.buf, j2.buf, j1.len),
	      "a round trip changed the state");
	free(j1.buf);
	free(j2.buf);
	vigil_state_clear(&s);
	vigil_state_clear(&again);
	return 0;
}
