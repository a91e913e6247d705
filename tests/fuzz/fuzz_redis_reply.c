/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for what vigil makes of Redis's replies to XREAD on the approvals stream
 * (output/redis_watch.c): the input is RESP bytes as a server (or something pretending to be
 * one) sends them, turned into replies by hiredis's own reader, as on vigil's connection, and
 * each reply walked. Built and run by tests/fuzz/run.sh with ASan, UBSan and LeakSanitizer.
 *
 * The contract: a reply that is not a stream's entries is refused whole (-EPROTO, nothing
 * handed); otherwise every entry is handed exactly once, as a decision with an incident and
 * who made it (NUL-terminated, within their fields), or with a reason it was not taken.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "output/redis.h"
#include "output/redis_watch.h"

#define CHECK(cond, what)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_redis_reply: %s (%s:%d)\n", what, __FILE__,          \
				__LINE__);                                                         \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static void each(const struct vigil_approval_msg *m, const char *why, void *arg)
{
	int *n = arg;

	(*n)++;
	CHECK(memchr(m->entry, '\0', sizeof(m->entry)), "entry id not terminated");
	CHECK(memchr(m->incident, '\0', sizeof(m->incident)), "incident not terminated");
	CHECK(memchr(m->by, '\0', sizeof(m->by)), "by not terminated");
	CHECK(memchr(m->reason, '\0', sizeof(m->reason)), "reason not terminated");
	if (why) {
		CHECK(why[0], "a refusal without a reason");
		return;
	}
	CHECK(m->entry[0] && m->incident[0] && m->by[0],
	      "a decision without its id, incident or by");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	redisReader *r = redisReaderCreateWithFunctions(vigil_redis_reply_functions());
	void *rep;

	CHECK(r, "no reader");
	if (redisReaderFeed(r, (const char *)data, size) != REDIS_OK)
		goto out;
	while (rep = NULL, redisReaderGetReply(r, &rep) == REDIS_OK && rep) {
		const redisReply *x = rep;
		int n = 0, ret = vigil_approvals_walk(x, each, &n);

		CHECK(ret == -EPROTO ? n == 0 : ret == n, "entries handed and counted differ");
		freeReplyObject(rep);
	}
out:
	redisReaderFree(r);
	return 0;
}
