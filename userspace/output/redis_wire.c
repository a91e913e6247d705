// SPDX-License-Identifier: Apache-2.0
/*
 * redis_wire: how a JSON record becomes the field/value pairs the sink writes to Redis. No I/O
 * here, so it is tested alone. (The URL and the connection are core/redis_conn.c's.)
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_scan.h"
#include "output/redis.h"

/* --- JSON record -> fields -------------------------------------------------------------- */

/* The shared scanner (core/json_scan.h) does the JSON; a null is an empty value here. */
int vigil_redis_fields(const char *json, size_t len, char *buf, const char **keys, size_t *klens,
		       const char **vals, size_t *vlens, unsigned int max)
{
	struct vigil_json_member m;
	struct vigil_json_scan s;
	unsigned int n = 0;
	int ret;

	if (vigil_json_scan_begin(&s, json, len, buf))
		return -EINVAL;
	while ((ret = vigil_json_scan_next(&s, &m)) > 0) {
		if (n == max)
			return -E2BIG;
		keys[n] = m.key;
		klens[n] = m.klen;
		vals[n] = m.val;
		vlens[n] = m.type == VIGIL_JSON_NULL ? 0 : m.vlen;
		n++;
	}
	return ret ? ret : (int)n;
}
