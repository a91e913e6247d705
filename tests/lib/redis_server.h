/* SPDX-License-Identifier: Apache-2.0 */
/*
 * redis_server: a real redis-server for a test, on a free loopback port, its data in a scratch
 * directory: a password for the default user (the test's own connection), and an ACL user
 * for vigil allowed only the commands the README lists (VIGIL_REDIS_ACL) on its keys.
 */
#ifndef VIGIL_TEST_REDIS_SERVER_H
#define VIGIL_TEST_REDIS_SERVER_H

#include <sys/types.h>

#include <hiredis/hiredis.h>

#define VT_REDIS_PASSWORD "vt-admin-pw" /* the default user's */
#define VT_REDIS_USER "vt-vigil"	/* vigil's */
#define VT_REDIS_USER_PW "vt-vigil-pw"

/* The head of a vigil config on this server, as a printf format taking the node name and the
 * port: node, a 2 s window, and redis: as vigil's user, its spool in the test's directory. */
#define VT_REDIS_YAML                                                                              \
	"node: %s\n"                                                                               \
	"window: 2s\n"                                                                             \
	"redis:\n"                                                                                 \
	"  url: redis://127.0.0.1:%d/0\n"                                                          \
	"  username: " VT_REDIS_USER "\n"                                                          \
	"  password: " VT_REDIS_USER_PW "\n"                                                       \
	"  spool: \"@DIR@/redis.spool\"\n"

struct vt_redis {
	pid_t pid;
	int port;
	char dir[64];
};

/* Start it, with vigil's user allowed acl on keys prefix:*. Returns 0, or -1 with why on
 * stderr (is redis-server installed? `make deps`). */
int vt_redis_start(struct vt_redis *r, const char *prefix, const char *acl);
/* SIGKILL it and remove its directory. */
void vt_redis_stop(struct vt_redis *r);
/* A connection as the default user (redisFree it), or NULL. */
redisContext *vt_redis_admin(const struct vt_redis *r);
/* One command as the default user on a connection of its own: the reply (freeReplyObject it;
 * it may be an error reply), or NULL (no connection, no answer). */
redisReply *vt_redis_cmd(const struct vt_redis *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* VIGIL_TEST_REDIS_SERVER_H */
