// SPDX-License-Identifier: Apache-2.0
/*
 * Unit: the fleet's knowledge — the cache the healer reads (usable or not, an outcome counted
 * at once, the refresh list and its overflow); the healer's choice by the fleet's numbers
 * while the cache is usable and by the local store's otherwise, said in the "chosen" record;
 * and, against a real redis-server with vigil's user allowed only the README's commands, the
 * fleet's increment written exactly once: the same record written twice (as a replay after a
 * partial write does) counts once, another record counts, a record of another node or with a
 * reused rid counts; then the reader loads what the increments made, on its own thread.
 */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "heal/fleet.h"
#include "heal/healer.h"
#include "output/redis.h"
#include "output/redis_reader.h"
#include "records.h"
#include "redis_server.h"

#define SIG_A "01a22736f8b60001"
#define SIG_B "01a22736f8b60002"

static struct vigil_fleet_entry fe(const char *sig, const char *action, uint64_t attempts,
				   uint64_t successes)
{
	struct vigil_fleet_entry e = {.attempts = attempts, .successes = successes};

	snprintf(e.signature, sizeof(e.signature), "%s", sig);
	snprintf(e.action, sizeof(e.action), "%s", action);
	return e;
}

static int wakes;
static void count_wake(void *arg)
{
	(void)arg;
	wakes++;
}

/* The cache alone. */
static void test_cache(void **state)
{
	struct vigil_fleet_entry *e = calloc(2, sizeof(*e)), one = fe(SIG_A, "b", 9, 9);
	struct vigil_know_entry k;
	struct vigil_fleet *f;
	char sigs[VIGIL_FLEET_REFRESH][17];
	bool all;

	(void)state;
	assert_non_null(e);
	assert_int_equal(vigil_fleet_new(&f), 0);
	assert_false(vigil_fleet_usable(f));
	assert_int_equal(vigil_fleet_get(f, SIG_A, "a", &k), -EAGAIN);
	e[0] = fe(SIG_A, "a", 4, 3);
	e[1] = fe(SIG_B, "a", 2, 0);
	vigil_fleet_replace(f, e, 2, 1);
	assert_true(vigil_fleet_usable(f));
	assert_int_equal(vigil_fleet_get(f, SIG_A, "a", &k), 1);
	assert_int_equal(k.attempts, 4);
	assert_int_equal(k.successes, 3);
	assert_int_equal(vigil_fleet_get(f, SIG_A, "b", &k), 0);
	assert_int_equal(k.attempts, 0);

	/* An outcome learned here: counted at once, its signature to be read again. */
	vigil_fleet_set_wake(f, count_wake, NULL);
	wakes = 0;
	vigil_fleet_learned(f, SIG_A, "a", false);
	vigil_fleet_learned(f, SIG_A, "b", true);
	assert_int_equal(wakes, 1); /* once: the reader reads the list when it comes */
	assert_int_equal(vigil_fleet_get(f, SIG_A, "a", &k), 1);
	assert_int_equal(k.attempts, 5);
	assert_int_equal(k.successes, 3);
	assert_int_equal(vigil_fleet_get(f, SIG_A, "b", &k), 1);
	assert_int_equal(k.successes, 1);
	assert_int_equal(vigil_fleet_take_refresh(f, sigs, VIGIL_FLEET_REFRESH, &all), 1);
	assert_false(all);
	assert_string_equal(sigs[0], SIG_A);
	/* The refresh: the fleet's true numbers replace the guess, the rest stays. */
	vigil_fleet_replace_signature(f, SIG_A, &one, 1);
	assert_int_equal(vigil_fleet_get(f, SIG_A, "a", &k), 0);
	assert_int_equal(vigil_fleet_get(f, SIG_A, "b", &k), 1);
	assert_int_equal(k.attempts, 9);
	assert_int_equal(vigil_fleet_get(f, SIG_B, "a", &k), 1);
	/* More signatures waiting than the list holds: a full load instead. */
	for (int i = 0; i <= VIGIL_FLEET_REFRESH; i++) {
		char sig[17];

		snprintf(sig, sizeof(sig), "%016x", i);
		vigil_fleet_learned(f, sig, "a", true);
	}
	vigil_fleet_take_refresh(f, sigs, VIGIL_FLEET_REFRESH, &all);
	assert_true(all);
	/* Redis stops answering: not usable, the local store decides. */
	vigil_fleet_failed(f, "connect: refused");
	assert_false(vigil_fleet_usable(f));
	assert_int_equal(vigil_fleet_get(f, SIG_B, "a", &k), -EAGAIN);
	vigil_fleet_free(f);
	vigil_fleet_free(NULL);
}

/* --- the healer's choice ------------------------------------------------------------------ */

#define CHOICE_CFG                                                                                 \
	"workloads:\n"                                                                             \
	"  - name: svc\n"                                                                          \
	"    match: { comm: svc }\n"                                                               \
	"    heal:\n"                                                                              \
	"      - { name: restart-a, on: [crash], level: 3, action: { restart: { exec: "            \
	"[/bin/true] } } "                                                                         \
	"}\n"                                                                                      \
	"      - { name: restart-b, on: [crash], level: 3, action: { restart: { exec: "            \
	"[/bin/false] } } "                                                                        \
	"}\n"                                                                                      \
	"    policy: { allow_comm_only: true, allowed_exec: [/bin/true, /bin/false] }\n"

struct choice {
	struct vigil_manual_clock mc;
	struct vigil_config *cfg;
	struct vigil_loop *loop;
	struct vigil_output *out;
	struct vigil_incidents *incs;
	struct vigil_healer *h;
	struct vigil_knowledge *know;
	struct vigil_fleet *fleet;
	char journal[64];
};

/* The "chosen" detail of a crash by signal sig (level 3: nothing runs). */
static void chosen(struct choice *c, int sig, char *buf, size_t len)
{
	struct vigil_exit x = tr_exit(1000 + sig, vigil_clock_mono(&c->mc.clock), 1, sig);
	struct vigil_detection d;
	struct vigil_incident *i;
	char line[4096];
	bool opened;
	FILE *f;

	vigil_detect(&x.hdr, "svc", &d);
	i = vigil_incidents_record(c->incs, &x.hdr, &d, "svc", &opened);
	assert_non_null(i);
	vigil_healer_incident(c->h, i, opened);
	buf[0] = '\0';
	f = fopen(c->journal, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		json_t *o = json_loads(line, 0, NULL);
		const char *outcome = json_string_value(json_object_get(o, "outcome"));

		if (outcome && !strcmp(outcome, "chosen") &&
		    !strcmp(json_string_value(json_object_get(o, "incident")), i->id))
			snprintf(buf, len, "%s", json_string_value(json_object_get(o, "detail")));
		json_decref(o);
	}
	fclose(f);
}

/*
 * This node's store says restart-a works (3/3) and restart-b never did (0/2); the fleet says
 * the opposite (b 5/5, a 0/5). While the fleet's cache is usable the choice goes by it; when
 * Redis stops answering, by the local store; each time the record says whose numbers.
 */
static void test_choice_fleet_or_local(void **state)
{
	struct vigil_output_opts so = {.node = "t", .quiet = true};
	struct vigil_fleet_entry *e = calloc(4, sizeof(*e));
	char sig11[17], sig6[17], err[512], detail[512];
	struct choice c = {};
	int fd;

	(void)state;
	assert_non_null(e);
	vigil_signature("svc", VIGIL_CLASS_CRASH, "SIGSEGV", sig11);
	vigil_signature("svc", VIGIL_CLASS_CRASH, "SIGABRT", sig6);
	strcpy(c.journal, "/tmp/vigil-fleet-XXXXXX");
	fd = mkstemp(c.journal);
	assert_true(fd >= 0);
	close(fd);
	so.journal = c.journal;
	assert_int_equal(
	    vigil_config_parse(CHOICE_CFG, strlen(CHOICE_CFG), "t.yaml", &c.cfg, err, sizeof(err)),
	    0);
	vigil_manual_clock_init(&c.mc);
	assert_int_equal(vigil_loop_new(&c.mc.clock, &c.loop), 0);
	assert_int_equal(vigil_output_open(&so, &c.out, err, sizeof(err)), 0);
	{
		const struct vigil_incidents_opts io = {.window_ms = 60000, .clock = &c.mc.clock};

		assert_int_equal(vigil_incidents_new(&io, &c.incs), 0);
	}
	assert_int_equal(vigil_healer_new(c.cfg, c.loop, c.out, c.incs, NULL, NULL, &c.h), 0);
	assert_int_equal(vigil_knowledge_open(NULL, 0, 0, &c.know, err, sizeof(err)), 0);
	for (int i = 0; i < 3; i++) {
		vigil_knowledge_record(c.know, "svc", sig11, "crash", "restart-a", true, 1, NULL);
		vigil_knowledge_record(c.know, "svc", sig6, "crash", "restart-a", true, 1, NULL);
	}
	for (int i = 0; i < 2; i++) {
		vigil_knowledge_record(c.know, "svc", sig11, "crash", "restart-b", false, 1, NULL);
		vigil_knowledge_record(c.know, "svc", sig6, "crash", "restart-b", false, 1, NULL);
	}
	assert_int_equal(vigil_fleet_new(&c.fleet), 0);
	e[0] = fe(sig11, "restart-a", 5, 0);
	e[1] = fe(sig11, "restart-b", 5, 5);
	e[2] = fe(sig6, "restart-a", 5, 0);
	e[3] = fe(sig6, "restart-b", 5, 5);
	vigil_fleet_replace(c.fleet, e, 4, 1);
	vigil_healer_set_knowledge(c.h, c.know);
	vigil_healer_set_fleet(c.h, c.fleet);

	chosen(&c, 11, detail, sizeof(detail));
	assert_string_equal(detail, "chosen: restart-b, 5/5 worked before (0.86); other: "
				    "restart-a 0/5 worked before (0.14); numbers: fleet");
	vigil_fleet_failed(c.fleet, "connect: refused");
	chosen(&c, 6, detail, sizeof(detail));
	assert_string_equal(detail, "chosen: restart-a, 3/3 worked before (0.80); other: "
				    "restart-b 0/2 worked before (0.25); numbers: local");

	vigil_healer_free(c.h);
	vigil_fleet_free(c.fleet);
	vigil_knowledge_close(c.know);
	vigil_incidents_free(c.incs);
	vigil_output_close(c.out);
	vigil_loop_free(c.loop);
	vigil_config_free(c.cfg);
	unlink(c.journal);
}

/* --- exactly once, against redis-server ---------------------------------------------------- */

struct srv {
	struct vt_redis r;
	char dir[64];
};

static int srv_setup(void **state)
{
	struct srv *s = calloc(1, sizeof(*s));

	if (!s || vt_redis_start(&s->r, "vt", VIGIL_REDIS_ACL))
		return -1;
	snprintf(s->dir, sizeof(s->dir), "/tmp/vigil-fleet-XXXXXX");
	if (!mkdtemp(s->dir))
		return -1;
	*state = s;
	return 0;
}

static int srv_teardown(void **state)
{
	struct srv *s = *state;
	char cmd[128];

	vt_redis_stop(&s->r);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
	free(s);
	return system(cmd) ? -1 : 0;
}

/* A Redis sink of node, as vigil's ACL user. */
static struct vigil_sink *sink(struct srv *s, const char *node, struct vigil_redis_opts *ro)
{
	static char url[64], spool[128];
	struct vigil_sink *out;
	char err[512];

	snprintf(url, sizeof(url), "redis://127.0.0.1:%d/0", s->r.port);
	snprintf(spool, sizeof(spool), "%s/%s.spool", s->dir, node);
	*ro = (struct vigil_redis_opts){
	    .url = url,
	    .username = VT_REDIS_USER,
	    .password = VT_REDIS_USER_PW,
	    .prefix = "vt",
	    .node = node,
	    .spool = spool,
	    .spool_max_bytes = 1 << 20,
	    .maxlen = 1000,
	};
	if (vigil_redis_sink_open(ro, &out, err, sizeof(err)))
		fail_msg("sink: %s", err);
	return out;
}

/* A knowledge record of node, under rid ms-0: attempts of restart so far, the last outcome. */
static void know_rec(struct vigil_json *j, const char *node, uint64_t ms, uint64_t attempts,
		     uint64_t successes, bool ok)
{
	const struct vigil_rid rid = {.ms = ms};
	const struct vigil_know_rec k = {
	    .workload = "svc",
	    .signature = SIG_A,
	    .cls = "crash",
	    .action = "restart",
	    .attempts = attempts,
	    .successes = successes,
	    .last_applied_wall_ns = ms * 1000000ull,
	    .outcome = ok ? "success" : "failed",
	};

	assert_int_equal(vigil_record_knowledge(j, node, ms * 1000000ull, &rid, &k), 0);
}

/* Push j's record to sk, and wait until it is written. */
static void push(struct vigil_sink *sk, const struct vigil_json *j)
{
	struct vigil_sink_stats st;

	assert_int_equal(vigil_sink_push(sk, j->buf, j->len), 0);
	assert_int_equal(vigil_sink_flush(sk, 5000), 0);
	vigil_sink_stats(sk, &st);
	if (st.rejected || st.state != VIGIL_SINK_UP)
		fail_msg("sink %s, %llu rejected: %s", vigil_sink_state_name(st.state),
			 (unsigned long long)st.rejected, st.last_error);
}

/* A field of the fleet's hash, as a number (-1: missing). */
static long long fleet_field(struct srv *s, const char *field)
{
	redisContext *c = vt_redis_admin(&s->r);
	redisReply *r;
	long long v = -1;

	assert_non_null(c);
	r = redisCommand(c, "HGET vt:knowledge:%s %s", SIG_A, field);
	assert_non_null(r);
	if (r->type == REDIS_REPLY_STRING)
		v = strtoll(r->str, NULL, 10);
	freeReplyObject(r);
	redisFree(c);
	return v;
}

static void test_increment_exactly_once(void **state)
{
	struct srv *s = *state;
	struct vigil_redis_opts ro1, ro2;
	struct vigil_sink *n1 = sink(s, "n1", &ro1), *n2 = sink(s, "n2", &ro2);
	struct vigil_json j = {};
	redisContext *c;
	redisReply *r;

	/* n1's first outcome, written twice: the second is a replay, counted once. */
	know_rec(&j, "n1", 1764420000000, 1, 1, true);
	push(n1, &j);
	push(n1, &j);
	printf("exactly once: the same record written twice: attempts %lld, successes %lld\n",
	       fleet_field(s, "restart.attempts"), fleet_field(s, "restart.successes"));
	assert_int_equal(fleet_field(s, "restart.attempts"), 1);
	assert_int_equal(fleet_field(s, "restart.successes"), 1);
	/* Its next outcome (another rid): counted. */
	know_rec(&j, "n1", 1764420000001, 2, 1, false);
	push(n1, &j);
	push(n1, &j);
	assert_int_equal(fleet_field(s, "restart.attempts"), 2);
	assert_int_equal(fleet_field(s, "restart.successes"), 1);
	/* Another node's record under the same rid: its own outcome, counted. */
	know_rec(&j, "n2", 1764420000001, 1, 1, true);
	push(n2, &j);
	assert_int_equal(fleet_field(s, "restart.attempts"), 3);
	assert_int_equal(fleet_field(s, "restart.successes"), 2);
	/* n1 again under a rid it used before (its clock stepped back across a restart), but
	 * another outcome: counted, not taken for a replay. */
	know_rec(&j, "n1", 1764420000000, 3, 2, true);
	push(n1, &j);
	assert_int_equal(fleet_field(s, "restart.attempts"), 4);
	assert_int_equal(fleet_field(s, "restart.successes"), 3);

	/* The node's own hash holds its absolute numbers; the index names the signature. */
	c = vt_redis_admin(&s->r);
	assert_non_null(c);
	r = redisCommand(c, "HGET vt:n1:knowledge:%s restart.attempts", SIG_A);
	assert_true(r && r->type == REDIS_REPLY_STRING);
	assert_string_equal(r->str, "3");
	freeReplyObject(r);
	r = redisCommand(c, "SISMEMBER vt:knowledge:index %s", SIG_A);
	assert_true(r && r->type == REDIS_REPLY_INTEGER && r->integer == 1);
	freeReplyObject(r);
	redisFree(c);
	vigil_json_free(&j);
	vigil_sink_close(n1);
	vigil_sink_close(n2);
}

/* The reader, as vigil's ACL user: a load has the fleet's numbers; on its own thread, the cache
 * becomes usable with them; an outcome learned is read again from Redis. */
static void test_reader_loads(void **state)
{
	struct srv *s = *state;
	struct vigil_redis_opts ro;
	struct vigil_sink *n3 = sink(s, "n3", &ro);
	struct vigil_fleet_entry *e;
	struct vigil_fleet_reader *rd;
	struct vigil_know_entry k;
	struct vigil_fleet *f;
	struct vigil_json j = {};
	redisContext *c;
	char why[256];
	size_t n;

	c = vigil_redis_connect(&ro, why, sizeof(why));
	assert_non_null(c);
	assert_int_equal(vigil_fleet_load(c, "vt", &e, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 1);
	assert_string_equal(e[0].signature, SIG_A);
	assert_string_equal(e[0].action, "restart");
	assert_int_equal(e[0].attempts, 4);
	assert_int_equal(e[0].successes, 3);
	free(e);
	redisFree(c);

	assert_int_equal(vigil_fleet_new(&f), 0);
	assert_int_equal(vigil_fleet_reader_open(&ro, f, 0, &rd, why, sizeof(why)), 0);
	for (int i = 0; i < 200 && !vigil_fleet_usable(f); i++)
		usleep(10000);
	assert_true(vigil_fleet_usable(f));
	assert_int_equal(vigil_fleet_get(f, SIG_A, "restart", &k), 1);
	assert_int_equal(k.attempts, 4);
	/* n3 learns a success: the cache counts it, the sink adds it, the refresh reads the
	 * fleet's 5 back (which a second guess would have made 6). */
	know_rec(&j, "n3", 1764420000005, 1, 1, true);
	push(n3, &j);
	vigil_fleet_learned(f, SIG_A, "restart", true);
	vigil_fleet_learned(f, SIG_A, "restart", true);
	assert_int_equal(vigil_fleet_get(f, SIG_A, "restart", &k), 1);
	assert_int_equal(k.attempts, 6);
	for (int i = 0; i < 500 && k.attempts != 5; i++) {
		usleep(10000);
		vigil_fleet_get(f, SIG_A, "restart", &k);
	}
	assert_int_equal(k.attempts, 5);
	assert_int_equal(k.successes, 4);
	vigil_fleet_reader_close(rd);
	vigil_fleet_free(f);
	vigil_json_free(&j);
	vigil_sink_close(n3);
}

/* What a broken or hostile server answers, in a socketpair ahead of the commands: a signature
 * the index lists twice is read once, and a field whose action holds a NUL byte is no action
 * (strchr() took "restart\0x" for "restart"). Both were found by tests/fuzz's fleet target. */
static void test_reader_hostile_answers(void **state)
{
	static const char answers[] = "*2\r\n$16\r\n" SIG_A "\r\n$16\r\n" SIG_A "\r\n"
				      "*6\r\n$16\r\nrestart.attempts\r\n$1\r\n4\r\n"
				      "$18\r\nrestart\0x.attempts\r\n$1\r\n9\r\n"
				      "$12\r\n\0\0\0.attempts\r\n$1\r\n7\r\n";
	struct vigil_fleet_entry *e;
	redisContext *c;
	char why[256];
	size_t n;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(write(sv[1], answers, sizeof(answers) - 1), sizeof(answers) - 1);
	shutdown(sv[1], SHUT_WR);
	c = redisConnectFd(sv[0]);
	assert_non_null(c);
	/* One HGETALL answered, so one asked for: a second would find the answers ended. */
	assert_int_equal(vigil_fleet_load(c, "vt", &e, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 1);
	assert_string_equal(e[0].signature, SIG_A);
	assert_string_equal(e[0].action, "restart");
	assert_int_equal(e[0].attempts, 4);
	free(e);
	redisFree(c);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest local[] = {
	    cmocka_unit_test(test_cache),
	    cmocka_unit_test(test_choice_fleet_or_local),
	    cmocka_unit_test(test_reader_hostile_answers),
	};
	const struct CMUnitTest redis[] = {
	    cmocka_unit_test(test_increment_exactly_once),
	    cmocka_unit_test(test_reader_loads),
	};
	int failed = cmocka_run_group_tests_name("fleet", local, NULL, NULL);

	return failed + cmocka_run_group_tests_name("fleet against redis-server", redis, srv_setup,
						    srv_teardown);
}
