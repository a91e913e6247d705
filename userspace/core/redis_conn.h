/* SPDX-License-Identifier: Apache-2.0 */
/*
 * redis_conn: a connection to a Redis server as every part of vigil opens one (see
 * redis_conn.c): its URL, the connection, and the bounded reply objects it reads into.
 */
#ifndef VIGIL_CORE_REDIS_CONN_H
#define VIGIL_CORE_REDIS_CONN_H

#include <stdbool.h>
#include <stddef.h>

struct vigil_redis_url {
	bool is_unix;
	char host[256];		   /* host name or address, or the socket path */
	int port;		   /* 6379 */
	int db;			   /* 0 */
	char user[128], pass[256]; /* "" if not in the URL; %XX decoded */
};

/* url with the password in it, if any, replaced by "***", for logs and status. Returns buf. */
const char *vigil_redis_url_safe(const char *url, char *buf, size_t len);

/* Parse a redis:// or unix:// URL. Returns 0, or -EINVAL with err naming what was wrong. */
int vigil_redis_parse_url(const char *url, struct vigil_redis_url *u, char *err, size_t errlen);

/*
 * The reply objects vigil's connections build (hiredis's redisReply, freed with
 * freeReplyObject), except that an array claiming more than VIGIL_REDIS_MAX_ELEMENTS is
 * refused: the reader fails (the connection is dropped and said) instead of allocating what a
 * hostile or broken server claims before it sends a byte of it. Every other object is paid for
 * by the bytes that make it, so what a reply costs grows with what was sent.
 */
#define VIGIL_REDIS_MAX_ELEMENTS (1u << 20)
/* And no reply costs more than this (its objects, strings and arrays), nor is more than this
 * of one buffered while it arrives: the reader fails, the connection is dropped and said. */
#define VIGIL_REDIS_MAX_REPLY_BYTES (16u << 20)
struct redisReplyObjectFunctions;
struct redisReplyObjectFunctions *vigil_redis_reply_functions(void);

struct redisContext;
/*
 * Connect to u, authenticate (user, or the default user when user is ""; nothing when pass is
 * ""), select u's database; timeout_ms for the connect and each reply. Replies are read into
 * the bounded objects above. Returns the connection (redisFree it), or NULL with why saying
 * what failed.
 */
struct redisContext *vigil_redis_open(const struct vigil_redis_url *u, const char *user,
				      const char *pass, unsigned int timeout_ms, char *why,
				      size_t len);
/* The same from a URL, with the URL's own user and password (timeout_ms 0: 2000). */
struct redisContext *vigil_redis_open_url(const char *url, unsigned int timeout_ms, char *why,
					  size_t len);
struct redisReply;
/*
 * redisGetReply() and redisCommandArgv() with the bound above on what is buffered: every reply
 * vigil reads goes through these. On an error c->err and c->errstr say it (the connection is
 * then unusable); vigil_redis_command returns NULL.
 */
int vigil_redis_get_reply(struct redisContext *c, struct redisReply **out);
struct redisReply *vigil_redis_command(struct redisContext *c, int argc, const char **argv,
				       const size_t *argl);
/* One command whose reply is only checked: returns 0, or -EIO with why ("CMD: error" or the
 * connection's error). */
int vigil_redis_setup_cmd(struct redisContext *c, int argc, const char **argv, char *why,
			  size_t len);

#endif /* VIGIL_CORE_REDIS_CONN_H */
