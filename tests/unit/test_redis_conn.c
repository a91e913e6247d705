// SPDX-License-Identifier: Apache-2.0
/*
 * redis_conn against a hostile server: replies that claim or carry more than vigil reads are
 * refused with the connection dropped and said, and what vigil held meanwhile stays bounded
 * (peak RSS measured, before and after). The server is a thread on a loopback port that reads
 * one command and answers with what the test gives it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "core/redis_conn.h"

/* Under AddressSanitizer (make SAN=1) the process's memory is not the reader's: shadow memory
 * and the quarantine of freed blocks come on top. The refusals are checked, not the RSS. */
#include "vt_asan.h"

/* What the server answers: head once, then body repeated n times (or until vigil hangs up). */
struct hostile {
	int lfd, port;
	const char *head, *body;
	size_t n;
	pthread_t thread;
};

static void send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		p += w;
		len -= (size_t)w;
	}
}

static void *serve(void *arg)
{
	struct hostile *h = arg;
	char buf[4096], *chunk;
	size_t blen = strlen(h->body), per = blen ? 65536 / blen + 1 : 0, sent = 0;
	int fd = accept(h->lfd, NULL, NULL);

	if (fd < 0)
		return NULL;
	if (recv(fd, buf, sizeof(buf), 0) > 0) {
		send_all(fd, h->head, strlen(h->head));
		/* The body in 64 KiB chunks: a peer that stops reading ends it (EPIPE). */
		chunk = malloc(per * blen + 1);
		for (size_t i = 0; chunk && i < per; i++)
			memcpy(chunk + i * blen, h->body, blen);
		while (chunk && sent < h->n) {
			size_t k = h->n - sent < per ? h->n - sent : per;
			ssize_t w = send(fd, chunk, k * blen, MSG_NOSIGNAL);

			if (w < (ssize_t)(k * blen))
				break;
			sent += k;
		}
		free(chunk);
	}
	close(fd);
	return NULL;
}

static void hostile_start(struct hostile *h, const char *head, const char *body, size_t n)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);

	h->head = head;
	h->body = body;
	h->n = n;
	h->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(h->lfd >= 0);
	assert_int_equal(bind(h->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(h->lfd, 1), 0);
	assert_int_equal(getsockname(h->lfd, (struct sockaddr *)&a, &len), 0);
	h->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&h->thread, NULL, serve, h), 0);
}

static void hostile_stop(struct hostile *h)
{
	pthread_join(h->thread, NULL);
	close(h->lfd);
}

/* A VmHWM or VmRSS line of /proc/self/status, in KiB. */
static long status_kib(const char *field)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)))
			v = atol(line + strlen(field) + 1);
	fclose(f);
	return v;
}

/* The peak RSS from now on: the kernel's high-water mark reset ("5" to clear_refs). */
static void peak_reset(void)
{
	FILE *f = fopen("/proc/self/clear_refs", "w");

	assert_non_null(f);
	fputs("5", f);
	fclose(f);
}

/*
 * PING to the hostile server; the reply must be refused with c->errstr containing want, and
 * the process's peak RSS may grow by at most max_kib meanwhile. Prints what it measured.
 */
static void refused(const char *what, const char *head, const char *body, size_t n,
		    const char *want, long max_kib)
{
	const char *argv[] = {"PING"};
	struct hostile h;
	redisContext *c;
	redisReply *rep;
	char url[64], why[256];
	long before, peak, after;

	hostile_start(&h, head, body, n);
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d", h.port);
	c = vigil_redis_open_url(url, 10000, why, sizeof(why));
	assert_non_null(c);
	before = status_kib("VmRSS:");
	peak_reset();
	rep = vigil_redis_command(c, 1, argv, NULL);
	peak = status_kib("VmHWM:");
	assert_null(rep);
	assert_true(c->err != 0);
	if (!strstr(c->errstr, want))
		fail_msg("%s: errstr '%s', wanted '%s'", what, c->errstr, want);
	redisFree(c);
	hostile_stop(&h);
	after = status_kib("VmRSS:");
	print_message("%s: refused; RSS %ld KiB before, peak %ld KiB, %ld KiB after\n", what,
		      before, peak, after);
	if (VT_ASAN)
		return;
	assert_true(peak - before <= max_kib);
	assert_true(after - before <= 4096);
}

/* An array claiming 6 000 000 elements (then small ones): refused at the claim. */
static void test_claimed_array(void **state)
{
	(void)state;
	refused("*6000000 then :1 each", "*6000000\r\n", ":1\r\n", 6000000,
		"reply over 16 MiB or 1048576 elements: connection dropped", 8192);
}

/* An array of 1 000 000 one-byte strings (7 MB sent) within the element bound, but its
 * objects would cost ~60 MB: refused once the reply passes 16 MiB. */
static void test_costly_array(void **state)
{
	(void)state;
	refused("*1000000 of $1", "*1000000\r\n", "$1\r\nx\r\n", 1000000,
		"reply over 16 MiB or 1048576 elements: connection dropped", 16384 + 8192);
}

/* A bulk string claiming 100 MB, sent as it claims: not buffered past 16 MiB. */
static void test_huge_bulk(void **state)
{
	(void)state;
	refused("$100000000", "$100000000\r\n", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 100000000 / 32,
		"reply over 16 MiB or 1048576 elements: connection dropped", 2 * 16384 + 8192);
}

/* A reply within the bounds is read whole. */
static void test_normal_reply(void **state)
{
	const char *argv[] = {"PING"};
	struct hostile h;
	redisContext *c;
	redisReply *rep;
	char url[64], why[256];

	(void)state;
	hostile_start(&h, "*3\r\n$1\r\na\r\n:7\r\n$-1\r\n", "", 0);
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d", h.port);
	c = vigil_redis_open_url(url, 2000, why, sizeof(why));
	assert_non_null(c);
	rep = vigil_redis_command(c, 1, argv, NULL);
	assert_non_null(rep);
	assert_int_equal(rep->type, REDIS_REPLY_ARRAY);
	assert_int_equal(rep->elements, 3);
	assert_string_equal(rep->element[0]->str, "a");
	assert_int_equal(rep->element[1]->integer, 7);
	assert_int_equal(rep->element[2]->type, REDIS_REPLY_NIL);
	freeReplyObject(rep);
	redisFree(c);
	hostile_stop(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_normal_reply),
	    cmocka_unit_test(test_claimed_array),
	    cmocka_unit_test(test_costly_array),
	    cmocka_unit_test(test_huge_bulk),
	};

	return cmocka_run_group_tests_name("redis_conn against a hostile server", tests, NULL,
					   NULL);
}
