// SPDX-License-Identifier: Apache-2.0
/* redis_server: a redis-server child for a test (see redis_server.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ports.h"
#include "redis_server.h"

redisContext *vt_redis_admin(const struct vt_redis *r)
{
	struct timeval tv = {2, 0};
	redisContext *c = redisConnectWithTimeout("127.0.0.1", r->port, tv);
	redisReply *rep;

	if (!c || c->err) {
		if (c)
			redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, tv);
	rep = redisCommand(c, "AUTH %s", VT_REDIS_PASSWORD);
	if (!rep || rep->type == REDIS_REPLY_ERROR) {
		if (rep)
			freeReplyObject(rep);
		redisFree(c);
		return NULL;
	}
	freeReplyObject(rep);
	return c;
}

int vt_redis_start(struct vt_redis *r, const char *prefix, const char *acl)
{
	char port[16], logf[128], rule[1024];
	redisContext *c = NULL;
	redisReply *rep;
	pid_t parent;

	memset(r, 0, sizeof(*r));
	snprintf(r->dir, sizeof(r->dir), "/tmp/vigil-vtredis-XXXXXX");
	if (!mkdtemp(r->dir))
		return -1;
	r->port = vt_free_port();
	snprintf(port, sizeof(port), "%d", r->port);
	snprintf(logf, sizeof(logf), "%s/redis.log", r->dir);
	parent = getpid();
	r->pid = fork();
	if (r->pid < 0)
		return -1;
	if (!r->pid) {
		const char *argv[] = {"redis-server",
				      "--port",
				      port,
				      "--bind",
				      "127.0.0.1",
				      "--dir",
				      r->dir,
				      "--save",
				      "",
				      "--appendonly",
				      "no",
				      "--requirepass",
				      VT_REDIS_PASSWORD,
				      "--logfile",
				      logf,
				      NULL};

		/* Gone with its test, however the test ends. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			_exit(126);
		execvp(argv[0], (char **)argv);
		_exit(127);
	}
	for (int i = 0; i < 100 && !c; i++) {
		usleep(50000);
		c = vt_redis_admin(r);
		if (!c && waitpid(r->pid, NULL, WNOHANG) == r->pid)
			break;
	}
	if (!c) {
		fprintf(stderr,
			"redis-server did not come up on port %d (is it installed? `make "
			"deps`); see %s\n",
			r->port, logf);
		vt_redis_stop(r);
		return -1;
	}
	snprintf(rule, sizeof(rule), "ACL SETUSER %s on >%s ~%s:* %s", VT_REDIS_USER,
		 VT_REDIS_USER_PW, prefix, acl);
	rep = redisCommand(c, rule);
	if (!rep || rep->type == REDIS_REPLY_ERROR) {
		fprintf(stderr, "%s: %s\n", rule, rep ? rep->str : c->errstr);
		if (rep)
			freeReplyObject(rep);
		redisFree(c);
		vt_redis_stop(r);
		return -1;
	}
	freeReplyObject(rep);
	redisFree(c);
	return 0;
}

void vt_redis_stop(struct vt_redis *r)
{
	char cmd[128];

	if (r->pid > 0) {
		kill(r->pid, SIGKILL);
		waitpid(r->pid, NULL, 0);
	}
	r->pid = 0;
	if (r->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", r->dir);
		if (system(cmd))
			fprintf(stderr, "could not remove %s\n", r->dir);
		r->dir[0] = '\0';
	}
}

redisReply *vt_redis_cmd(const struct vt_redis *r, const char *fmt, ...)
{
	redisContext *c = vt_redis_admin(r);
	redisReply *rep;
	va_list ap;

	if (!c)
		return NULL;
	va_start(ap, fmt);
	rep = redisvCommand(c, fmt, ap);
	va_end(ap);
	redisFree(c);
	return rep;
}
