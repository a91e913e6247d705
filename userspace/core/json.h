/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json: the one JSON writer of vigil: an append-only writer of objects with nested objects and
 * arrays, for the records, the control-socket answers and the files vigil writes. Nothing else
 * in vigil writes JSON text (no printf'd braces, no text spliced into a finished object).
 *
 * A writer holds one top-level object at a time: vigil_json_begin() opens it, each call adds a
 * member ("key":value), vigil_json_object_begin()/vigil_json_array_begin() open a nested
 * container under a key (in an array: key NULL, as for every value written into an array), and
 * vigil_json_end() closes the top-level object. vigil_json_begin_array() starts a top-level
 * array instead. Commas are the writer's business.
 *
 * Errors stick: the first one (-ENOMEM, or -EINVAL for a misuse: a key missing in an object or
 * given in an array, a container closed that is not the innermost open one, nesting deeper than
 * VIGIL_JSON_DEPTH, a value after the end) makes every later call a no-op, and
 * vigil_json_end() returns it. The buffer is NUL-terminated at len after every call.
 *
 * Output is always valid JSON and valid UTF-8 whatever bytes the input holds: a process may
 * put anything in its comm or argv, so strings are escaped (", \, control characters as
 * \uXXXX) and bytes that are not well-formed UTF-8 are written as \u00XX (their Latin-1
 * reading), never passed through.
 */
#ifndef VIGIL_JSON_H
#define VIGIL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Containers open at once, the top-level object included. */
#define VIGIL_JSON_DEPTH 32

/* Zero-initialise; the buffer is kept from object to object (no allocation once grown). */
struct vigil_json {
	char *buf;
	size_t len;
	size_t cap;
	uint32_t depth;	   /* containers open; 0 before begin and after end */
	uint32_t has_item; /* bit d: the container at depth d + 1 has a member already */
	uint32_t is_array; /* bit d: the container at depth d + 1 is an array */
	int err;	   /* first error; later calls do nothing once set */
};

/* Start an object: "{". Resets the writer (its error too), keeps its buffer. */
void vigil_json_begin(struct vigil_json *j);
/* The same for a top-level array: "[", whose values take no key. */
void vigil_json_begin_array(struct vigil_json *j);
/* Close the top-level object ("}") or array ("]"). Returns 0 or the first error met since the
 * begin (-EINVAL too when a nested container is still open). */
int vigil_json_end(struct vigil_json *j);

/* Open an object or an array as the value of key (NULL inside an array), and close it. */
void vigil_json_object_begin(struct vigil_json *j, const char *key);
void vigil_json_object_end(struct vigil_json *j);
void vigil_json_array_begin(struct vigil_json *j, const char *key);
void vigil_json_array_end(struct vigil_json *j);

/* Append "key":value, or the value alone inside an array (key NULL). vigil_json_strn takes
 * the bytes of s up to n or up to the first NUL, whichever comes first, as a kernel buffer
 * means: s need not be NUL-terminated (a comm of 16 bytes is not). A NULL string is written
 * as null. */
void vigil_json_str(struct vigil_json *j, const char *key, const char *s);
void vigil_json_strn(struct vigil_json *j, const char *key, const char *s, size_t n);
void vigil_json_u64(struct vigil_json *j, const char *key, uint64_t v);
void vigil_json_i64(struct vigil_json *j, const char *key, int64_t v);
void vigil_json_bool(struct vigil_json *j, const char *key, bool v);
void vigil_json_null(struct vigil_json *j, const char *key);
/* A number with exactly decimals digits after the point ("%.*f", at most 9): 0.50, not 0.5.
 * A value that is not finite has no JSON number and is written as null. */
void vigil_json_fixed(struct vigil_json *j, const char *key, double v, unsigned int decimals);
/* A JSON array of strings. */
void vigil_json_strv(struct vigil_json *j, const char *key, char *const *v, size_t n);
/* Frees the buffer; accepts NULL. */
void vigil_json_free(struct vigil_json *j);

/* Escape n bytes of s as a JSON string body (no quotes) into out. Returns the length that
 * was needed, like snprintf; out is NUL-terminated when outlen > 0. */
size_t vigil_json_escape(char *out, size_t outlen, const char *s, size_t n);

/* Length of the well-formed UTF-8 sequence at s (n bytes there, n > 0), or 0 when s[0] does not
 * start one: no overlong form, no surrogate, nothing above U+10FFFF. */
size_t vigil_utf8_len(const unsigned char *s, size_t n);

#endif /* VIGIL_JSON_H */
