// SPDX-License-Identifier: Apache-2.0
/* redis_step: the Redis action kinds' shared connection handling (redis_step.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/redis_conn.h"
#include "heal/action.h"
#include "heal/redis_step.h"

int vigil_redis_step_open(struct vigil_redis_step *s, const char *url)
{
	if (s->c)
		return 0;
	s->c = vigil_redis_open_url(url, VIGIL_REDIS_STEP_TIMEOUT_MS, s->err, sizeof(s->err));
	return s->c ? 0 : -EIO;
}

redisReply *vigil_redis_step_cmd(struct vigil_redis_step *s, int argc, const char **argv,
				 const size_t *lens)
{
	redisReply *r;

	if (!s->c) {
		snprintf(s->err, sizeof(s->err), "%s: not connected", argv[0]);
		return NULL;
	}
	r = vigil_redis_command(s->c, argc, argv, lens);
	if (!r) {
		snprintf(s->err, sizeof(s->err), "%s: %s", argv[0],
			 s->c->errstr[0] ? s->c->errstr : "no reply");
		vigil_redis_step_close(s);
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(s->err, sizeof(s->err), "%s: %s", argv[0], r->str);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

void vigil_redis_step_close(struct vigil_redis_step *s)
{
	if (s->c)
		redisFree(s->c);
	s->c = NULL;
}

void vigil_redis_step_vdone(struct vigil_action_run *run, struct vigil_redis_step *s, bool ok,
			    bool known, const char *fmt, va_list ap)
{
	char detail[768];

	vsnprintf(detail, sizeof(detail), fmt, ap);
	vigil_redis_step_close(s);
	vigil_action_done(run, ok, known, detail, 0);
}

void vigil_redis_step_done(struct vigil_action_run *run, struct vigil_redis_step *s, bool ok,
			   bool known, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vigil_redis_step_vdone(run, s, ok, known, fmt, ap);
	va_end(ap);
}

int vigil_redis_step_go(struct vigil_action_run *run, struct vigil_redis_step *s,
			void (*fn)(void *arg), void *arg)
{
	int err = vigil_action_work(run, fn, arg);

	if (err)
		vigil_redis_step_done(run, s, false, false, "could not start its work: %s",
				      strerror(-err));
	return err;
}

uint64_t vigil_redis_step_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *vigil_redis_step_show(const char *s, size_t n, size_t max, char *buf, size_t len)
{
	size_t off = 0, i;
	unsigned char ch;

	if (!s) {
		snprintf(buf, len, "(none)");
		return buf;
	}
	if (len < 8) {
		if (len)
			buf[0] = '\0';
		return buf;
	}
	buf[off++] = '\'';
	for (i = 0; i < n && i < max && off + 8 < len; i++) {
		ch = (unsigned char)s[i];
		if (ch >= 0x20 && ch < 0x7f && ch != '\'' && ch != '\\')
			buf[off++] = (char)ch;
		else
			off += (size_t)snprintf(buf + off, len - off, "\\x%02x", ch);
	}
	buf[off++] = '\'';
	if (i < n)
		off += (size_t)snprintf(buf + off, len - off, "...");
	buf[off] = '\0';
	return buf;
}
