/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for what the OTLP sink reads from a receiver (output/otlp_logs.c): any
 * bytes as the body of a 2xx reply, read by vigil_otlp_parse_reply for its partialSuccess.
 * The same bytes are also given to vigil_otlp_add as a record (a spool replayed from disk
 * holds what was written, but the encoder must not trust that). Built and run by
 * tests/fuzz/run.sh with ASan, UBSan and LeakSanitizer.
 *
 * The contract: parse returns 0 or -EINVAL; on -EINVAL, no count and a reason; the message is
 * a NUL-terminated string within its buffer; a count comes from a digit in the body. add
 * returns 0 or -EINVAL (no allocation fails here); refused, the request is unchanged; taken,
 * the request writes as JSON that reads back.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "output/otlp_logs.h"

#define CHECK(cond, what)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_otlp_reply: %s (%s:%d)\n", what, __FILE__,           \
				__LINE__);                                                         \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = malloc(size ? size : 1), msg[64], why[128];
	uint64_t rejected = 7;
	json_t *req;
	char *text;
	int ret;

	CHECK(body, "out of memory");
	memcpy(body, data, size);
	memset(msg, 'x', sizeof(msg));
	ret = vigil_otlp_parse_reply(body, size, &rejected, msg, sizeof(msg));
	CHECK(ret == 0 || ret == -EINVAL, "an unexpected error");
	CHECK(memchr(msg, '\0', sizeof(msg)), "a message without its NUL");
	if (ret) {
		CHECK(rejected == 0, "a count with a refusal");
		CHECK(msg[0], "a refusal without a reason");
	}
	if (rejected)
		CHECK(memchr(data, '1', size) || memchr(data, '2', size) ||
			  memchr(data, '3', size) || memchr(data, '4', size) ||
			  memchr(data, '5', size) || memchr(data, '6', size) ||
			  memchr(data, '7', size) || memchr(data, '8', size) ||
			  memchr(data, '9', size),
		      "a count from a body without a digit");

	req = json_object();
	CHECK(req, "out of memory");
	why[0] = '\0';
	ret = vigil_otlp_add(req, body, size, why, sizeof(why));
	CHECK(ret == 0 || ret == -EINVAL, "an unexpected error from add");
	if (ret) {
		CHECK(json_object_size(req) == 0, "a refused record changed the request");
		CHECK(why[0], "a refused record without a reason");
	} else {
		json_t *back;

		text = json_dumps(req, JSON_COMPACT);
		CHECK(text, "a request that does not write");
		back = json_loads(text, 0, NULL);
		CHECK(json_is_object(back), "a request that does not read back");
		json_decref(back);
		free(text);
	}
	json_decref(req);
	free(body);
	return 0;
}
