// SPDX-License-Identifier: Apache-2.0
/* redis_reader: reading back from Redis, on connections of its own (see redis_reader.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "output/redis_cmd.h"
#include "output/redis_reader.h"

int vigil_redis_get_state(const struct vigil_redis_opts *o, char **text, size_t *len, char *msg,
			  size_t msglen)
{
	char key[VIGIL_REDIS_KEY_MAX];
	const char *argv[2] = {"GET", key};
	redisContext *c;
	redisReply *rep;
	int ret = 0;

	*text = NULL;
	*len = 0;
	if (snprintf(key, sizeof(key), "%s:%s:state", o->prefix, o->node) >= (int)sizeof(key)) {
		snprintf(msg, msglen, "GET: the key does not fit");
		return -EIO;
	}
	c = vigil_redis_connect(o, msg, msglen);
	if (!c)
		return -EIO;
	rep = redisCommandArgv(c, 2, argv, NULL);
	if (!rep) {
		snprintf(msg, msglen, "GET %.200s: %s", key, c->errstr);
		ret = -EIO;
	} else if (rep->type == REDIS_REPLY_ERROR) {
		snprintf(msg, msglen, "GET %.200s: %s", key, rep->str);
		ret = -EIO;
	} else if (rep->type == REDIS_REPLY_STRING) {
		*text = malloc(rep->len + 1);
		if (*text) {
			memcpy(*text, rep->str, rep->len);
			(*text)[rep->len] = '\0';
			*len = rep->len;
		} else {
			ret = -ENOMEM;
			snprintf(msg, msglen, "GET %.200s: %s", key, strerror(ENOMEM));
		}
	}
	if (rep)
		freeReplyObject(rep);
	redisFree(c);
	return ret;
}
