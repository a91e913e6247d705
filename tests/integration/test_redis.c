// SPDX-License-Identifier: Apache-2.0
/*
 * Integration: the Redis sink against a real redis-server that this test starts on loopback
 * (with a password, an append-only file fsynced on every write, and the DEBUG command on),
 * fed by the real build/vigil seeing real faults.
 *
 * What is checked is what other tools read: every journal record of a stream's types is in
 * that stream under its rid, once, in journal order, with the journal's fields and values.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "harness.h"
#include "output/redis.h"

#define WAIT_MS 5000
#define PASSWORD "vt-secret" /* the default user's, for the test itself */
#define WRITER "vt-writer"   /* vigil's user: only the commands the sink needs */
#define WRITER_PW "vt-writer-pw"

struct server {
	pid_t pid;
	int port;
	char dir[128];
};

static struct server srv; /* the one redis-server of this file */

/* Start redis-server on s->port (its data in s->dir). Returns 0, or -1 with why printed. */
static int redis_start(struct server *s)
{
	char port[16], logf[192];
	redisContext *c;

	snprintf(port, sizeof(port), "%d", s->port);
	snprintf(logf, sizeof(logf), "%s/redis.log", s->dir);
	s->pid = fork();
	if (s->pid < 0)
		return -1;
	if (!s->pid) {
		const char *argv[] = {"redis-server",
				      "--port",
				      port,
				      "--bind",
				      "127.0.0.1",
				      "--dir",
				      s->dir,
				      "--save",
				      "",
				      "--appendonly",
				      "yes",
				      "--appendfsync",
				      "always",
				      "--requirepass",
				      PASSWORD,
				      "--enable-debug-command",
				      "yes",
				      "--stream-node-max-entries",
				      "10",
				      "--logfile",
				      logf,
				      NULL};

		vt_child_signals();
		execvp(argv[0], (char **)argv);
		_exit(127);
	}
	/* Up when it answers PING. */
	for (int i = 0; i < 100; i++) {
		struct timeval tv = {1, 0};
		redisReply *r = NULL;

		usleep(50000);
		c = redisConnectWithTimeout("127.0.0.1", s->port, tv);
		if (c && !c->err)
			r = redisCommand(c, "AUTH %s", PASSWORD);
		if (r)
			freeReplyObject(r);
		r = c && !c->err ? redisCommand(c, "PING") : NULL;
		if (r && r->type == REDIS_REPLY_STATUS) {
			freeReplyObject(r);
			/* ACL users are not in the append-only file: made at every start. */
			/* Exactly the commands the README lists. */
			r = redisCommand(c, "ACL SETUSER " WRITER " on >" WRITER_PW
					    " ~vigil:* " VIGIL_REDIS_ACL);
			if (!r || r->type != REDIS_REPLY_STATUS) {
				fprintf(stderr, "ACL SETUSER failed: %s\n",
					r && r->str ? r->str : c->errstr);
				if (r)
					freeReplyObject(r);
				redisFree(c);
				return -1;
			}
			freeReplyObject(r);
			redisFree(c);
			return 0;
		}
		if (c)
			redisFree(c);
		if (r)
			freeReplyObject(r);
		if (waitpid(s->pid, NULL, WNOHANG) == s->pid)
			break;
	}
	fprintf(stderr,
		"redis-server did not come up on port %d (is it installed? `make deps`); "
		"see %s\n",
		s->port, logf);
	return -1;
}

/* SIGKILL: no shutdown save, no goodbye to the clients. */
static void redis_kill(struct server *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
	}
	s->pid = 0;
}

static redisContext *rconn(void)
{
	struct timeval tv = {5, 0};
	redisContext *c = redisConnectWithTimeout("127.0.0.1", srv.port, tv);
	redisReply *r;

	assert_non_null(c);
	assert_int_equal(c->err, 0);
	redisSetTimeout(c, tv);
	r = redisCommand(c, "AUTH %s", PASSWORD);
	assert_non_null(r);
	freeReplyObject(r);
	return c;
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(srv.dir, sizeof(srv.dir), "/tmp/vigil-redis-XXXXXX");
	if (!mkdtemp(srv.dir))
		return -1;
	srv.port = vt_tcp_closed_port();
	return srv.port > 0 ? redis_start(&srv) : -1;
}

static int group_teardown(void **state)
{
	char cmd[192];

	(void)state;
	redis_kill(&srv);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", srv.dir);
	return system(cmd) ? -1 : 0;
}

/* A vigil config for this test: its own node (so its keys are its own) and spool. */
static void config(char *buf, size_t len, const char *node, int port, const char *extra)
{
	snprintf(buf, len,
		 "node: %s\n"
		 "window: 2s\n"
		 "redis:\n"
		 "  url: redis://127.0.0.1:%d/0\n"
		 "  username: " WRITER "\n"
		 "  password: " WRITER_PW "\n"
		 "  spool: \"@DIR@/redis.spool\"\n"
		 "%s"
		 "workloads:\n"
		 "  - name: crasher\n"
		 "    match: { comm: vt-crasher }\n",
		 node, port, extra ? extra : "");
}

static void crash_exit(struct vt *v, int code)
{
	char want[16];
	const char *args[] = {"exit", want, NULL};

	snprintf(want, sizeof(want), "%d", code);
	vt_reap(vt_run(v, "vt-crasher", args));
}

static json_t *sink_status(struct vt *v)
{
	return vt_sink_status(v, "redis");
}

static json_t *sink_settled(struct vt *v, int timeout_ms)
{
	return vt_sink_settled(v, "redis", timeout_ms);
}

/* The stream a record type goes to, or NULL (hashes only). */
static const char *stream_of(const char *type)
{
	if (!strcmp(type, "event") || !strcmp(type, "health"))
		return "events";
	if (!strcmp(type, "incident"))
		return "incidents";
	if (!strcmp(type, "action"))
		return "audit";
	return NULL;
}

/* Whether the Redis value (vlen bytes) is the journal's value jv, as the sink writes it. */
static bool same_value(const json_t *jv, const char *v, size_t vlen)
{
	json_t *parsed;
	bool eq;

	if (json_is_string(jv))
		return vlen == json_string_length(jv) && !memcmp(v, json_string_value(jv), vlen);
	if (json_is_null(jv))
		return vlen == 0;
	parsed = json_loadb(v, vlen, JSON_DECODE_ANY, NULL);
	eq = parsed && json_equal(parsed, (json_t *)jv);
	json_decref(parsed);
	return eq;
}

/* Fields of a Redis entry (array k, v, ...) equal the journal record's, all of them. */
static void assert_fields(const redisReply *fv, json_t *rec)
{
	const char *key;
	json_t *val;

	assert_int_equal(fv->type, REDIS_REPLY_ARRAY);
	assert_int_equal(fv->elements, 2 * json_object_size(rec));
	json_object_foreach(rec, key, val)
	{
		bool found = false;

		for (size_t i = 0; i + 1 < fv->elements; i += 2) {
			if (strcmp(fv->element[i]->str, key))
				continue;
			found = true;
			if (!same_value(val, fv->element[i + 1]->str,
					(size_t)fv->element[i + 1]->len))
				fail_msg("field %s: Redis has '%s'", key, fv->element[i + 1]->str);
		}
		if (!found)
			fail_msg("field %s of the journal record is not in Redis", key);
	}
}

struct compare {
	unsigned int produced, in_redis, duplicates, missing, out_of_order;
};

/*
 * Compare the journal with the node's streams: every record of a stream's types is there,
 * under its rid, once, in the journal's order, with the same fields.
 */
static void compare_streams(struct vt *v, const char *node, struct compare *c)
{
	static const char *const streams[] = {"events", "incidents", "audit"};
	redisContext *rc = rconn();

	vt_count(v, "none", NULL); /* read the journal to its end */
	memset(c, 0, sizeof(*c));
	for (size_t s = 0; s < 3; s++) {
		redisReply *r = redisCommand(rc, "XRANGE vigil:%s:%s - +", node, streams[s]);
		size_t at = 0;

		assert_non_null(r);
		assert_int_equal(r->type, REDIS_REPLY_ARRAY);
		c->in_redis += r->elements;
		/* The ids must be unique: a duplicate would show as the same rid field twice. */
		for (size_t i = 1; i < r->elements; i++)
			if (!strcmp(r->element[i]->element[0]->str,
				    r->element[i - 1]->element[0]->str))
				c->duplicates++;
		for (size_t i = 0; i < json_array_size(v->records); i++) {
			json_t *rec = json_array_get(v->records, i);
			const char *type = vt_str(rec, "type"), *st = stream_of(type ? type : "");
			const char *rid = vt_str(rec, "rid");

			if (!st || strcmp(st, streams[s]))
				continue;
			c->produced++;
			assert_non_null(rid);
			/* In order: the next entry not yet matched must be this one. */
			if (at < r->elements && !strcmp(r->element[at]->element[0]->str, rid)) {
				assert_fields(r->element[at]->element[1], rec);
				at++;
				continue;
			}
			c->missing++;
			printf("  %s: record %s (%s) is not the next entry (%s)\n", streams[s], rid,
			       type, at < r->elements ? r->element[at]->element[0]->str : "end");
			for (size_t k = 0; k < r->elements; k++)
				if (!strcmp(r->element[k]->element[0]->str, rid))
					c->out_of_order++;
		}
		c->duplicates += r->elements - at; /* entries no journal record accounts for */
		freeReplyObject(r);
	}
	redisFree(rc);
}

/* Records arrive in the right keys with the journal's fields; the incident hash is the
 * incident's last record; the password is used. */
static void test_records_and_fields(void **state)
{
	struct vt v;
	char yaml[1024];
	struct compare c;
	redisContext *rc;
	redisReply *r;
	json_t *inc, *st;
	const char *last_state = NULL;

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	config(yaml, sizeof(yaml), "t-fields", srv.port, NULL);
	assert_int_equal(vt_start(&v, yaml, NULL), 0);
	crash_exit(&v, 7);
	inc = vt_wait(&v, WAIT_MS, "incident", "class", "exit_nonzero", "exit_code", "7", NULL);
	assert_non_null(inc);
	/* The incident's window closes after 2 s: its final record is the hash's last state. */
	assert_non_null(vt_wait(&v, WAIT_MS, "incident", "exit_code", "7", "final", "true", NULL));
	st = sink_settled(&v, WAIT_MS);
	json_decref(st);
	assert_int_equal(vt_stop(&v), 0);

	compare_streams(&v, "t-fields", &c);
	printf("fields: %u journal records, %u stream entries, %u duplicates, %u missing\n",
	       c.produced, c.in_redis, c.duplicates, c.missing);
	assert_true(c.produced >= 3); /* event, incident open, incident final */
	assert_int_equal(c.missing, 0);
	assert_int_equal(c.duplicates, 0);
	assert_int_equal(c.in_redis, c.produced);

	rc = rconn();
	r = redisCommand(rc, "HGETALL vigil:t-fields:incident:%s", vt_str(inc, "id"));
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_ARRAY);
	for (size_t i = 0; i + 1 < r->elements; i += 2)
		if (!strcmp(r->element[i]->str, "final"))
			last_state = r->element[i + 1]->str;
	assert_non_null(last_state);
	assert_string_equal(last_state, "true");
	freeReplyObject(r);
	r = redisCommand(rc, "TTL vigil:t-fields:incident:%s", vt_str(inc, "id"));
	assert_true(r && r->type == REDIS_REPLY_INTEGER && r->integer > 0);
	freeReplyObject(r);
	redisFree(rc);
	vt_fini(&v);
}

/* MAXLEN ~ holds: with maxlen 100, a burst of 300 events leaves the stream near 100 (the
 * server trims by whole nodes of 10 entries), the newest entries kept. */
static void test_stream_cap(void **state)
{
	static const char *const burst[] = {"burst", "150", "3", NULL};
	struct vt v;
	char yaml[1024];
	redisContext *rc;
	redisReply *r;
	json_t *st;
	long long written;

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	config(yaml, sizeof(yaml), "t-cap", srv.port, "  maxlen: 100\n");
	assert_int_equal(vt_start(&v, yaml, NULL), 0);
	vt_reap(vt_run(&v, "vt-crasher", burst));
	vt_reap(vt_run(&v, "vt-crasher", burst));
	for (int waited = 0; vt_count(&v, "event", "class", "exit_nonzero", NULL) < 300;
	     waited += 50) {
		assert_true(waited < WAIT_MS);
		usleep(50000);
	}
	st = sink_settled(&v, WAIT_MS);
	written = vt_int(st, "written");
	json_decref(st);
	rc = rconn();
	r = redisCommand(rc, "XLEN vigil:t-cap:events");
	assert_true(r && r->type == REDIS_REPLY_INTEGER);
	printf("cap: %lld records written, events stream holds %lld (maxlen ~100)\n", written,
	       r->integer);
	assert_true(written >= 300);
	assert_true(r->integer >= 100 && r->integer <= 110);
	freeReplyObject(r);
	redisFree(rc);
	assert_int_equal(vt_stop(&v), 0);
	vt_fini(&v);
}

/*
 * The outage: redis-server is SIGKILLed in the middle of a burst of incidents, faults keep
 * coming, then it starts again (from its append-only file). Every record is in Redis once, in
 * order, and the spool is empty.
 */
static void test_outage_exactly_once_in_order(void **state)
{
	struct vt v;
	char yaml[1024];
	struct compare c;
	json_t *st;
	long long dups, spooled;
	const int n = 60;

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	config(yaml, sizeof(yaml), "t-outage", srv.port, NULL);
	assert_int_equal(vt_start(&v, yaml, NULL), 0);
	for (int i = 1; i <= n; i++) {
		crash_exit(&v, i);
		if (i == n / 3)
			redis_kill(&srv);
		if (i == 2 * n / 3)
			assert_int_equal(redis_start(&srv), 0);
	}
	for (int i = 1; i <= n; i++) {
		char code[16];

		snprintf(code, sizeof(code), "%d", i);
		assert_non_null(vt_wait(&v, WAIT_MS, "incident", "exit_code", code, NULL));
	}
	st = sink_settled(&v, 15000);
	dups = vt_int(st, "duplicates");
	spooled = vt_int(st, "spooled");
	assert_int_equal(vt_int(st, "queue_drops"), 0);
	assert_int_equal(vt_int(st, "spool_drops"), 0);
	assert_int_equal(vt_int(st, "reordered"), 0);
	json_decref(st);
	assert_int_equal(vt_stop(&v), 0);

	compare_streams(&v, "t-outage", &c);
	printf("outage: %u records produced, %u records in Redis, %u duplicates, %u missing, "
	       "%u out of order; %lld spooled during the outage, %lld replays recognised as "
	       "already written\n",
	       c.produced, c.in_redis, c.duplicates, c.missing, c.out_of_order, spooled, dups);
	assert_true(c.produced >= 2 * (unsigned int)n);
	assert_true(spooled > 0); /* the outage was real: records went through the spool */
	assert_int_equal(c.missing, 0);
	assert_int_equal(c.out_of_order, 0);
	assert_int_equal(c.duplicates, 0);
	assert_int_equal(c.in_redis, c.produced);
	vt_fini(&v);
}

/* A heal, seen from Redis: the audit stream has its intent and outcome, the knowledge hash
 * what the store learned, per action, with the journal's numbers. */
static void test_heal_reaches_redis(void **state)
{
	static const char *const serve[] = {"serve", NULL};
	struct vt v;
	char yaml[1536], key[256];
	json_t *inc, *ok, *know;
	redisContext *rc;
	redisReply *r;
	long long newpid;
	pid_t svc;
	int found = 0;

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	config(yaml, sizeof(yaml), "t-heal", srv.port, NULL);
	strncat(yaml,
		"  - name: svc\n"
		"    match: { comm: vt-svc }\n"
		"    verify: 300ms\n"
		"    heal:\n"
		"      - on: [crash]\n"
		"        level: 1\n"
		"        action: { restart: { exec: [\"@LINK:vt-svc@\", serve] } }\n"
		"    policy: { allow_comm_only: true, allowed_exec: [\"@LINK:vt-svc@\"] }\n",
		sizeof(yaml) - strlen(yaml) - 1);
	assert_int_equal(vt_start(&v, yaml, NULL), 0);
	svc = vt_run(&v, "vt-svc", serve);
	usleep(200000); /* exec'd under its name, in the watched set */
	kill(svc, SIGSEGV);
	vt_reap(svc);
	inc = vt_wait(&v, WAIT_MS, "incident", "class", "crash", "workload", "svc", NULL);
	assert_non_null(inc);
	ok = vt_wait(&v, WAIT_MS, "action", "incident", vt_str(inc, "id"), "outcome", "success",
		     NULL);
	assert_non_null(ok);
	newpid = vt_int(ok, "pid");
	know = vt_wait(&v, WAIT_MS, "knowledge", "signature", vt_str(inc, "signature"), NULL);
	assert_non_null(know);
	json_decref(sink_settled(&v, WAIT_MS));

	rc = rconn();
	snprintf(key, sizeof(key), "vigil:t-heal:knowledge:%s", vt_str(inc, "signature"));
	r = redisCommand(rc, "HGETALL %s", key);
	assert_true(r && r->type == REDIS_REPLY_ARRAY);
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		const char *k = r->element[i]->str, *val = r->element[i + 1]->str;

		if (!strcmp(k, "restart.attempts"))
			found += !strcmp(val, "1");
		if (!strcmp(k, "restart.successes"))
			found += !strcmp(val, "1");
		if (!strcmp(k, "restart.success_rate"))
			found += !strcmp(val, "1.00");
		if (!strcmp(k, "workload"))
			found += !strcmp(val, "svc");
	}
	printf("heal: knowledge hash %s has %zu fields, %d of 4 checked ones right\n", key,
	       r->elements / 2, found);
	assert_int_equal(found, 4);
	freeReplyObject(r);
	redisFree(rc);
	if (newpid > 0)
		kill((pid_t)newpid, SIGKILL);
	assert_int_equal(vt_stop(&v), 0);
	{
		struct compare c;

		compare_streams(&v, "t-heal", &c);
		assert_int_equal(c.missing, 0);
		assert_int_equal(c.duplicates, 0);
		assert_true(vt_count(&v, "action", "outcome", "intent", NULL) >= 1);
	}
	vt_fini(&v);
}

/* A stream whose last id is ahead of vigil's clock (another writer, or a clock stepped back
 * across a restart): vigil's records cannot go under their rids, and are written under ids
 * Redis picks, each once, their rid field still naming them. */
static void test_ids_behind_the_stream(void **state)
{
	struct vt v;
	char yaml[1024];
	redisContext *rc;
	redisReply *r;
	json_t *st;
	size_t n_journal = 0, n_found = 0;

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	rc = rconn();
	r = redisCommand(rc, "XADD vigil:t-skew:events 99999999999999-0 planted yes");
	assert_true(r && r->type == REDIS_REPLY_STRING);
	freeReplyObject(r);
	config(yaml, sizeof(yaml), "t-skew", srv.port, NULL);
	assert_int_equal(vt_start(&v, yaml, NULL), 0);
	crash_exit(&v, 9);
	assert_non_null(vt_wait(&v, WAIT_MS, "incident", "exit_code", "9", NULL));
	st = sink_settled(&v, WAIT_MS);
	printf("skew: %lld written, %lld reordered, %lld duplicates\n", vt_int(st, "written"),
	       vt_int(st, "reordered"), vt_int(st, "duplicates"));
	assert_true(vt_int(st, "reordered") >= 1);
	assert_int_equal(vt_int(st, "duplicates"), 0);
	json_decref(st);
	assert_int_equal(vt_stop(&v), 0);
	vt_count(&v, "none", NULL);
	r = redisCommand(rc, "XRANGE vigil:t-skew:events - +");
	assert_true(r && r->type == REDIS_REPLY_ARRAY);
	for (size_t i = 0; i < json_array_size(v.records); i++) {
		json_t *rec = json_array_get(v.records, i);
		const char *rid = vt_str(rec, "rid");
		int seen = 0;

		if (strcmp(vt_str(rec, "type"), "event"))
			continue;
		n_journal++;
		for (size_t e = 0; e < r->elements; e++) {
			const redisReply *kv = r->element[e]->element[1];

			for (size_t k = 0; k + 1 < kv->elements; k += 2)
				seen += !strcmp(kv->element[k]->str, "rid") &&
					!strcmp(kv->element[k + 1]->str, rid);
		}
		assert_int_equal(seen, 1);
		n_found++;
	}
	assert_true(n_journal >= 1);
	assert_int_equal(n_found, n_journal);
	freeReplyObject(r);
	redisFree(rc);
	vt_fini(&v);
}

/* A record Redis refuses for good (its stream key is someone else's string: WRONGTYPE) is
 * counted, said in a health record, and the sink goes on with the next. */
static void test_rejected_is_counted(void **state)
{
	struct vt v;
	char yaml[1024];
	redisContext *rc;
	redisReply *r;
	json_t *st, *h;

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	rc = rconn();
	r = redisCommand(rc, "SET vigil:t-rej:incidents not-a-stream");
	assert_true(r && r->type == REDIS_REPLY_STATUS);
	freeReplyObject(r);
	config(yaml, sizeof(yaml), "t-rej", srv.port, NULL);
	assert_int_equal(vt_start(&v, yaml, NULL), 0);
	crash_exit(&v, 11);
	assert_non_null(vt_wait(&v, WAIT_MS, "incident", "exit_code", "11", NULL));
	h = vt_wait(&v, WAIT_MS, "health", "family", "redis", NULL);
	assert_non_null(h);
	st = sink_settled(&v, WAIT_MS);
	printf("rejected: %lld rejected (\"%s\"), health record drops %lld, %lld written\n",
	       vt_int(st, "rejected"), vt_str(st, "last_error"), vt_int(h, "drops"),
	       vt_int(st, "written"));
	assert_true(vt_int(st, "rejected") >= 1);
	assert_true(vt_int(h, "drops") >= 1);
	assert_non_null(strstr(vt_str(st, "last_error"), "WRONGTYPE"));
	assert_true(vt_int(st, "written") >= 1); /* the event went on to its stream */
	json_decref(st);
	r = redisCommand(rc, "XLEN vigil:t-rej:events");
	assert_true(r && r->type == REDIS_REPLY_INTEGER && r->integer >= 1);
	freeReplyObject(r);
	redisFree(rc);
	assert_int_equal(vt_stop(&v), 0);
	vt_fini(&v);
}

/* Redis up but refusing writes (OOM under maxmemory): records wait in the spool, then arrive
 * once it takes writes again. */
static void test_refused_writes(void **state)
{
	struct vt v;
	char yaml[1024];
	struct compare c;
	redisContext *rc;
	redisReply *r;
	json_t *st;

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	config(yaml, sizeof(yaml), "t-oom", srv.port, NULL);
	assert_int_equal(vt_start(&v, yaml, NULL), 0);
	rc = rconn();
	r = redisCommand(rc, "CONFIG SET maxmemory 1");
	assert_true(r && r->type == REDIS_REPLY_STATUS);
	freeReplyObject(r);
	crash_exit(&v, 5);
	assert_non_null(vt_wait(&v, WAIT_MS, "incident", "exit_code", "5", NULL));
	/* Spooled, and said why: between two refusals the sink reconnects, and is up with no
	 * error for a moment (a slow machine, such as the qemu VM of make test-kernel, sees it). */
	for (int waited = 0;; waited += 50) {
		const char *why;

		st = sink_status(&v);
		why = vt_str(st, "last_error");
		if (vt_int(st, "spool_pending") > 0 && why && strstr(why, "OOM"))
			break;
		assert_true(waited < WAIT_MS);
		json_decref(st);
		usleep(50000);
	}
	printf("refused: %s, %lld records spooled, last error \"%s\"\n", vt_str(st, "state"),
	       vt_int(st, "spool_pending"), vt_str(st, "last_error"));
	assert_non_null(strstr(vt_str(st, "last_error"), "OOM"));
	json_decref(st);
	r = redisCommand(rc, "CONFIG SET maxmemory 0");
	assert_true(r && r->type == REDIS_REPLY_STATUS);
	freeReplyObject(r);
	redisFree(rc);
	json_decref(sink_settled(&v, 10000));
	assert_int_equal(vt_stop(&v), 0);
	compare_streams(&v, "t-oom", &c);
	assert_int_equal(c.missing, 0);
	assert_int_equal(c.duplicates, 0);
	assert_int_equal(c.in_redis, c.produced);
	vt_fini(&v);
}

/*
 * A torn spool: records spooled while Redis is unreachable, vigil stopped, the spool cut in the
 * middle of its last frame. The next vigil starts, says what it cut, and replays the rest.
 */
static void test_torn_spool(void **state)
{
	struct vt v;
	char yaml[1024], spool[256], keep[256];
	struct stat sb;
	struct compare c;
	json_t *st;
	int dead = vt_tcp_closed_port(), fd;

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	/* Redis "down": nothing listens on that port. */
	config(yaml, sizeof(yaml), "t-torn", dead, NULL);
	assert_int_equal(vt_start(&v, yaml, NULL), 0);
	for (int i = 1; i <= 3; i++) {
		char code[16];

		crash_exit(&v, i);
		snprintf(code, sizeof(code), "%d", i);
		assert_non_null(vt_wait(&v, WAIT_MS, "incident", "exit_code", code, NULL));
		usleep(200000); /* a frame of its own for each */
	}
	assert_int_equal(vt_stop(&v), 0);
	snprintf(spool, sizeof(spool), "%s/redis.spool", v.dir);
	assert_int_equal(stat(spool, &sb), 0);
	assert_true(sb.st_size > 64);
	/* Cut into the last frame. */
	fd = open(spool, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, sb.st_size - 7), 0);
	close(fd);
	snprintf(keep, sizeof(keep), "%s.keep", v.journal);
	assert_int_equal(rename(v.journal, keep), 0);

	config(yaml, sizeof(yaml), "t-torn", srv.port, NULL);
	assert_int_equal(vt_start(&v, yaml, NULL), 0);
	st = sink_settled(&v, WAIT_MS);
	printf("torn spool: %lld bytes cut off at start, %lld records replayed\n",
	       vt_int(st, "spool_torn_bytes"), vt_int(st, "written"));
	assert_true(vt_int(st, "spool_torn_bytes") > 0);
	assert_int_equal(vt_int(st, "spool_torn_frames"), 1);
	json_decref(st);
	assert_int_equal(vt_stop(&v), 0);

	/* The first run's journal says what was produced; Redis holds, per stream, a prefix of
	 * it: everything before the tear, nothing of the torn frame. */
	vt_count(&v, "none", NULL);
	json_array_clear(v.records);
	v.journal_off = 0;
	{
		FILE *f = fopen(keep, "r");
		char line[65536];

		assert_non_null(f);
		while (fgets(line, sizeof(line), f))
			json_array_append_new(v.records, json_loads(line, 0, NULL));
		fclose(f);
	}
	compare_streams(&v, "t-torn", &c);
	printf("torn spool: %u records produced, %u replayed into Redis, %u missing (the torn "
	       "frame), %u duplicates, %u out of order\n",
	       c.produced, c.in_redis, c.missing, c.duplicates, c.out_of_order);
	assert_true(c.in_redis > 0);
	assert_true(c.missing > 0);
	assert_int_equal(c.in_redis + c.missing, c.produced);
	assert_int_equal(c.duplicates, 0);
	assert_int_equal(c.out_of_order, 0);
	vt_fini(&v);
}

/*
 * A stalled Redis (DEBUG SLEEP 3) must not delay detection: a crash during the stall is an
 * incident in its normal time, and reaches Redis once the stall ends.
 */
static void test_slow_redis(void **state)
{
	struct vt v;
	char yaml[1024];
	redisContext *slow;
	uint64_t t0, seen_ms;
	json_t *inc, *st;

	(void)state;
	assert_int_equal(vt_init(&v), 0);
	config(yaml, sizeof(yaml), "t-slow", srv.port, NULL);
	assert_int_equal(vt_start(&v, yaml, NULL), 0);
	crash_exit(&v, 3); /* the sink is connected and has written */
	assert_non_null(vt_wait(&v, WAIT_MS, "incident", "exit_code", "3", NULL));
	json_decref(sink_settled(&v, WAIT_MS));

	slow = rconn();
	assert_int_equal(redisAppendCommand(slow, "DEBUG SLEEP 3"), REDIS_OK);
	{
		int done = 0;

		assert_int_equal(redisBufferWrite(slow, &done), REDIS_OK);
		assert_true(done);
	}
	usleep(100000); /* the server is asleep now */
	t0 = vt_mono_ns();
	crash_exit(&v, 4);
	inc = vt_wait(&v, WAIT_MS, "incident", "exit_code", "4", NULL);
	seen_ms = (vt_mono_ns() - t0) / 1000000;
	assert_non_null(inc);
	printf("slow redis: during a 3 s DEBUG SLEEP, crash -> incident in the journal %llu ms "
	       "(test's clock), detect_us %lld\n",
	       (unsigned long long)seen_ms, vt_int(inc, "detect_us"));
	/* The normal bound: detection in well under 50 ms, the record long before the stall
	 * ends. */
	assert_true(vt_int(inc, "detect_us") < 50000);
	assert_true(seen_ms < 1000);
	redisFree(slow);
	/* And it gets there: once, whatever the stalled connection had taken before it timed
	 * out. */
	st = sink_settled(&v, 10000);
	printf("slow redis: %lld written, %lld replays recognised as already written, %lld "
	       "reconnects\n",
	       vt_int(st, "written"), vt_int(st, "duplicates"), vt_int(st, "reconnects"));
	json_decref(st);
	assert_int_equal(vt_stop(&v), 0);
	{
		struct compare c;

		compare_streams(&v, "t-slow", &c);
		printf("slow redis: %u records produced, %u in Redis, %u duplicates, %u missing\n",
		       c.produced, c.in_redis, c.duplicates, c.missing);
		assert_int_equal(c.missing, 0);
		assert_int_equal(c.duplicates, 0);
	}
	vt_fini(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_records_and_fields),
	    cmocka_unit_test(test_stream_cap),
	    cmocka_unit_test(test_outage_exactly_once_in_order),
	    cmocka_unit_test(test_heal_reaches_redis),
	    cmocka_unit_test(test_ids_behind_the_stream),
	    cmocka_unit_test(test_rejected_is_counted),
	    cmocka_unit_test(test_refused_writes),
	    cmocka_unit_test(test_torn_spool),
	    cmocka_unit_test(test_slow_redis),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
