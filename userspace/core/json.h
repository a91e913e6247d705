/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json: a small append-only JSON object writer for the sinks.
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

struct vigil_json {
	char *buf;
	size_t len;
	size_t cap;
	bool need_comma;
	int err; /* first error (-ENOMEM); later calls do nothing once set */
};

/* Start an object: "{". Resets the writer, keeps its buffer. */
void vigil_json_begin(struct vigil_json *j);
/* Close the object: "}". Returns 0 or the first error met while writing. */
int vigil_json_end(struct vigil_json *j);
/* Append "key":value. vigil_json_strn takes the bytes of s up to n or up to the first NUL,
 * whichever comes first, as a kernel buffer means: s need not be NUL-terminated (a comm of 16
 * bytes is not). A NULL string is written as null. */
void vigil_json_str(struct vigil_json *j, const char *key, const char *s);
void vigil_json_strn(struct vigil_json *j, const char *key, const char *s, size_t n);
void vigil_json_u64(struct vigil_json *j, const char *key, uint64_t v);
void vigil_json_i64(struct vigil_json *j, const char *key, int64_t v);
void vigil_json_bool(struct vigil_json *j, const char *key, bool v);
void vigil_json_null(struct vigil_json *j, const char *key);
/* A JSON array of strings. */
void vigil_json_strv(struct vigil_json *j, const char *key, char *const *v, size_t n);
/* Append an already-encoded JSON value (object/array) verbatim under key. */
void vigil_json_raw(struct vigil_json *j, const char *key, const char *raw);
/* Frees the buffer; accepts NULL. */
void vigil_json_free(struct vigil_json *j);

/* An array of objects built one at a time: add each finished object (vigil_json_end done),
 * then put the array under a key of another object. Zero-initialise before use. */
struct vigil_json_list {
	char *buf;
	size_t len, cap, n;
	int err; /* first error; the put then fails the outer object */
};

void vigil_json_list_add(struct vigil_json_list *l, const struct vigil_json *item);
/* Append "key":[...] to j and free the list's memory (the list is empty again after). */
void vigil_json_put_list(struct vigil_json *j, const char *key, struct vigil_json_list *l);

/* Escape n bytes of s as a JSON string body (no quotes) into out. Returns the length that
 * was needed, like snprintf; out is NUL-terminated when outlen > 0. */
size_t vigil_json_escape(char *out, size_t outlen, const char *s, size_t n);

#endif /* VIGIL_JSON_H */
