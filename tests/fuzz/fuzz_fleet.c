/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the fleet's knowledge as vigil reads it from Redis
 * (output/redis_reader.c, vigil_fleet_load): the input is what the server answers — RESP bytes
 * for SMEMBERS of the index, then one HGETALL per signature — put in a socketpair ahead of the
 * commands, on a hiredis connection built as vigil's (its bounded reply objects). What vigil
 * writes goes unread into the other end. Built and run by tests/fuzz/run.sh with ASan, UBSan
 * and LeakSanitizer.
 *
 * The contract: 0 with entries, or -EIO with a reason (the answers end, a reply that is no
 * reply, an error). Every entry has a signature of 16 lowercase hex digits, an action of
 * [A-Za-z0-9_.-]{1,63}, successes <= attempts <= INT64_MAX, and no (signature, action) twice.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "core/redis_conn.h"
#include "heal/fleet.h"
#include "output/redis_reader.h"

#define CHECK(cond, what)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_fleet: %s (%s:%d)\n", what, __FILE__, __LINE__);     \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The input ends the answers; a socket buffer holds it whole (run.sh caps inputs at 16 KiB). */
#define MAX_INPUT (16u << 10)

static bool all_of(const char *s, size_t n, const char *set)
{
	for (size_t i = 0; i < n; i++)
		if (!s[i] || !strchr(set, s[i]))
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vigil_fleet_entry *e;
	redisContext *c;
	char why[256] = "";
	size_t n;
	int sv[2], ret;

	if (size > MAX_INPUT)
		return 0;
	CHECK(!socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), "no socketpair");
	CHECK(write(sv[1], data, size) == (ssize_t)size, "the answers could not be written");
	CHECK(!shutdown(sv[1], SHUT_WR), "shutdown");
	c = redisConnectFd(sv[0]);
	CHECK(c && !c->err, "no hiredis context");
	c->reader->fn = vigil_redis_reply_functions();

	ret = vigil_fleet_load(c, "vigil", &e, &n, why, sizeof(why));
	CHECK(ret == 0 || ret == -EIO || ret == -ENOMEM, "an unexpected error");
	if (ret) {
		CHECK(why[0] && !e && !n, "a refusal without a reason, or with entries");
		goto out;
	}
	CHECK(n <= VIGIL_FLEET_MAX, "more entries than the cache holds");
	for (size_t i = 0; i < n; i++) {
		CHECK(strlen(e[i].signature) == 16 &&
			  all_of(e[i].signature, 16, "0123456789abcdef"),
		      "a signature vigil does not write");
		CHECK(
		    memchr(e[i].action, '\0', sizeof(e[i].action)) && e[i].action[0] &&
			all_of(e[i].action, strlen(e[i].action),
			       "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"),
		    "an action no config names");
		CHECK(e[i].successes <= e[i].attempts && e[i].attempts <= INT64_MAX,
		      "counts out of bounds");
		for (size_t k = 0; k < i; k++)
			CHECK(strcmp(e[k].signature, e[i].signature) ||
				  strcmp(e[k].action, e[i].action),
			      "a (signature, action) twice");
	}
	free(e);
out:
	redisFree(c); /* closes sv[0] */
	close(sv[1]);
	return 0;
}
