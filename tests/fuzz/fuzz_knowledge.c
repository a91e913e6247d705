/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the knowledge file as vigil loads it at start (heal/knowledge.c): the
 * input is the whole file, written into a tmpfs directory and opened read-only, once with the
 * daemon's cap and once with a cap of 3 entries (a file with more keeps the most recently
 * applied). Built and run by tests/fuzz/run.sh with ASan, UBSan and LeakSanitizer.
 *
 * The contract: 0, or -EBADMSG (-ENOMEM) with a message that is printable ASCII whatever the
 * file held. What is loaded is within the cap, every string 1..63 bytes of printable ASCII,
 * successes <= attempts, no (signature, action) twice, and each entry found by its pair.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heal/knowledge.h"
#include "scratch.h"

#define CHECK(cond, what)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_knowledge: %s (%s:%d)\n", what, __FILE__, __LINE__); \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static bool printable(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n == cap)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

static bool good(const char *s)
{
	return s[0] && printable(s, VIGIL_KNOW_STR);
}

static void load(const char *path, unsigned int max)
{
	struct vigil_knowledge *k;
	char msg[1024];
	size_t n;
	int ret;

	ret = vigil_knowledge_open(path, max, VIGIL_KNOW_READONLY, &k, msg, sizeof(msg));
	CHECK(printable(msg, sizeof(msg)), "a message that is not printable ASCII");
	if (ret) {
		CHECK(ret == -EBADMSG || ret == -ENOMEM, "an unexpected error");
		CHECK(msg[0], "a refusal without a reason");
		return;
	}
	n = vigil_knowledge_count(k);
	CHECK(n <= (max ? max : VIGIL_KNOW_MAX), "more entries than the cap");
	for (size_t i = 0; i < n; i++) {
		const struct vigil_know_entry *e = vigil_knowledge_at(k, i);

		CHECK(good(e->signature) && good(e->action) && good(e->workload) && good(e->cls),
		      "a string that is empty, too long or not printable");
		CHECK(e->successes <= e->attempts, "more successes than attempts");
		CHECK(vigil_knowledge_get(k, e->signature, e->action) == e,
		      "an entry not found by its pair, or a pair twice");
	}
	vigil_knowledge_close(k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[128];

	scratch_file("knowledge.json", data, size, path, sizeof(path));
	load(path, 0);
	load(path, 3);
	return 0;
}
