/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json_scan: a validating scanner of one JSON object's top-level members, for the two places
 * where building a tree per record costs too much (bench/json_read.c measures it against
 * jansson): the Redis sink splitting every record into field/value pairs, and reading a journal
 * whose lines are mostly records of no interest. Everything else reads JSON with jansson.
 *
 * It accepts RFC 8259 JSON only, and nothing jansson refuses but for two things jansson cannot
 * hold: \u0000 in a key (a Redis field may hold any byte), and integers beyond 64 bits (a
 * record's u64; jansson takes those as reals with JSON_DECODE_INT_AS_REAL). Strings must be
 * well-formed UTF-8 with their surrogate escapes paired; a number whose value overflows a double
 * is refused, as jansson refuses it. Containers nest at most VIGIL_JSON_SCAN_DEPTH deep (the
 * top-level object included). Duplicate keys are each returned, in order (jansson keeps the
 * last one, as a Redis HSET of the pairs does). tests/fuzz/fuzz_json_scan.c checks all of this
 * against jansson.
 */
#ifndef VIGIL_JSON_SCAN_H
#define VIGIL_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#define VIGIL_JSON_SCAN_DEPTH 64

enum vigil_json_type {
	VIGIL_JSON_STRING,
	VIGIL_JSON_NUMBER,
	VIGIL_JSON_TRUE,
	VIGIL_JSON_FALSE,
	VIGIL_JSON_NULL,
	VIGIL_JSON_OBJECT,
	VIGIL_JSON_ARRAY,
};

/* One top-level member. key, and val of a string, are unescaped into the scan's buffer (or,
 * without one, point at the escaped text between the quotes); val of any other type is its
 * JSON text in the input (a number as written: 0.50 stays 0.50). */
struct vigil_json_member {
	const char *key, *val;
	size_t klen, vlen;
	enum vigil_json_type type;
};

/* Zero-initialise or vigil_json_scan_begin(); the fields are the scanner's. */
struct vigil_json_scan {
	const char *p, *end;
	char *out; /* where the next string is unescaped; NULL: strings are checked only */
	bool first;
	int done; /* 1: the object ended well, -EINVAL: it did not; 0: members to come */
};

/*
 * Start on the object in the len bytes at json. buf, when not NULL, must hold len bytes: keys
 * and string values are unescaped there (never longer than their input). Returns 0, or -EINVAL
 * when json does not start with an object.
 */
int vigil_json_scan_begin(struct vigil_json_scan *s, const char *json, size_t len, char *buf);

/*
 * The next top-level member into *m. Returns 1, 0 once the object has ended with nothing but
 * blanks after it, or -EINVAL (for good: later calls return it too). Members come as they are
 * read: the object is known to be valid JSON only when this has returned 0.
 */
int vigil_json_scan_next(struct vigil_json_scan *s, struct vigil_json_member *m);

/* Whether the len bytes at json are one valid JSON object, blanks around it allowed, by its
 * syntax alone (nothing is unescaped or built). Returns 0 or -EINVAL. */
int vigil_json_scan_object(const char *json, size_t len);

#endif /* VIGIL_JSON_SCAN_H */
