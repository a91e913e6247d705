// SPDX-License-Identifier: Apache-2.0
/*
 * redis_sink: how many records a second vigil's Redis sink writes, against what Redis itself
 * takes from `redis-benchmark -P 16` sending the same XADD, to the same server, in the same
 * run.
 *
 * A redis-server is started on a free loopback port (no persistence: the disk is not what is
 * measured). The record is a typical event record as the sinks write it (a segfault: 15
 * fields); its fields, flattened exactly as the sink flattens them, are the fields of the
 * baseline's XADD, with the same MAXLEN ~ cap:
 *
 *   baseline  redis-benchmark -P 16 -n N XADD KEY MAXLEN ~ 100000 * f1 v1 ... (50 clients,
 *             its default: the most the server takes)
 *   sink      one thread pushes N records (each with its own rid) into vigil_sink_push as
 *             fast as it can; the sink's thread writes them (one connection, pipelined); the
 *             time is from the first push to the last record acknowledged (vigil_sink_flush)
 *
 * Rounds alternate the two; the ratio is the median of the per-round ratios (target >= 0.9, issue
 * 15). Not a timed test: it prints PASS or MISS and exits 0 whenever it could run.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"
#include "output/redis.h"

#define N_RECORDS 200000
#define ROUNDS 5
#define TARGET 0.9
#define MAXLEN "100000"

static const char record_fmt[] =
    "{\"type\":\"event\",\"rid\":\"%llu-%u\",\"ts\":\"2026-11-29T12:34:56.789Z\","
    "\"node\":\"bench-node\",\"workload\":\"storyteller\",\"class\":\"crash\",\"pid\":41234,"
    "\"tid\":41234,\"comm\":\"storyteller\",\"cgroup_id\":8412,"
    "\"kernel_ts_ns\":1795955696789000000,\"exit_code\":0,\"signal\":11,"
    "\"core_dumped\":false,\"ppid\":1,\"signature\":\"851ca451ff50881d\"}";

/* redis-benchmark's XADD rate (requests/s), or a negative number. */
static double baseline(int port, const char *key, char **fields, int nf)
{
	char ports[16], n[16], cmd[16384], line[512];
	size_t off;
	double rps = -1;
	FILE *p;

	snprintf(ports, sizeof(ports), "%d", port);
	snprintf(n, sizeof(n), "%d", N_RECORDS);
	off = (size_t)snprintf(cmd, sizeof(cmd),
			       "redis-benchmark -p %s -P 16 -n %s --csv XADD %s MAXLEN '~' " MAXLEN
			       " '*'",
			       ports, n, key);
	for (int i = 0; i < nf && off < sizeof(cmd); i++)
		off += (size_t)snprintf(cmd + off, sizeof(cmd) - off, " '%s'", fields[i]);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	/* "test","rps",...  then  "XADD ...","123456.78",... */
	while (fgets(line, sizeof(line), p)) {
		char *q = strstr(line, "\",\"");

		if (q && strncmp(line, "\"test\"", 6))
			rps = strtod(q + 3, NULL);
	}
	pclose(p);
	return rps;
}

/* The sink's rate (records/s), or a negative number. */
static double sink(int port, const char *dir, int round, uint64_t *written)
{
	char url[64], spool[256], err[256], rec[1024];
	struct vigil_redis_opts o = {
	    .url = url,
	    .prefix = "vb",
	    .spool = spool,
	    .spool_max_bytes = 1ull << 30,
	    .maxlen = 100000,
	    .queue_max = N_RECORDS,
	};
	struct vigil_sink_stats st;
	struct vigil_sink *r;
	char node[32];
	double t0, t;
	int len;

	snprintf(url, sizeof(url), "redis://127.0.0.1:%d/0", port);
	snprintf(spool, sizeof(spool), "%s/spool-%d", dir, round);
	snprintf(node, sizeof(node), "sink%d", round);
	o.node = node;
	if (vigil_redis_sink_open(&o, &r, err, sizeof(err))) {
		fprintf(stderr, "redis_sink: %s\n", err);
		return -1;
	}
	/* Connected before the clock starts: a round measures writing, not connecting. */
	len = snprintf(rec, sizeof(rec), record_fmt, 1ull, 0u);
	vigil_sink_push(r, rec, (size_t)len);
	vigil_sink_flush(r, 5000);
	t0 = clock_s(CLOCK_MONOTONIC);
	for (unsigned int i = 0; i < N_RECORDS; i++) {
		len = snprintf(rec, sizeof(rec), record_fmt, 2ull + i / 1000, i % 1000);
		vigil_sink_push(r, rec, (size_t)len);
	}
	if (vigil_sink_flush(r, 60000)) {
		fprintf(stderr, "redis_sink: the sink did not finish in 60 s\n");
		vigil_sink_close(r);
		return -1;
	}
	t = clock_s(CLOCK_MONOTONIC) - t0;
	vigil_sink_stats(r, &st);
	vigil_sink_close(r);
	*written = st.written - 1;
	if (st.queue_drops || st.spooled || st.rejected || *written != N_RECORDS) {
		fprintf(stderr,
			"redis_sink: %llu written of %u (%llu queue drops, %llu spooled, %llu "
			"rejected: %s)\n",
			(unsigned long long)*written, N_RECORDS, (unsigned long long)st.queue_drops,
			(unsigned long long)st.spooled, (unsigned long long)st.rejected,
			st.last_error);
		return -1;
	}
	return N_RECORDS / t;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(void)
{
	char dir[] = "/tmp/vigil-bench-redis-XXXXXX", portstr[16], line[256], buf[2048],
	     *fields[128], rec[1024];
	const char *keys[64], *vals[64];
	size_t klens[64], vlens[64];
	double base[ROUNDS], mine[ROUNDS], ratio[ROUNDS];
	struct child srv = {0};
	uint64_t written;
	int port, nf, len, rc = 1;

	if (!mkdtemp(dir)) {
		perror("redis_sink: mkdtemp");
		return 1;
	}
	port = proc_free_port();
	snprintf(portstr, sizeof(portstr), "%d", port);
	snprintf(srv.log, sizeof(srv.log), "%s/redis.log", dir);
	{
		char *argv[] = {"redis-server", "--port", portstr, "--bind",
				"127.0.0.1",	"--save", "",	   "--appendonly",
				"no",		"--dir",  dir,	   NULL};

		if (child_start(argv, &srv, "Ready to accept connections", 10, line,
				sizeof(line))) {
			fprintf(stderr, "redis_sink: redis-server did not start: %s\n", line);
			goto out;
		}
	}
	/* The baseline's fields: the record's, flattened as the sink does it. */
	len = snprintf(rec, sizeof(rec), record_fmt, 1ull, 0u);
	nf = vigil_redis_fields(rec, (size_t)len, buf, keys, klens, vals, vlens, 64);
	if (nf <= 0) {
		fprintf(stderr, "redis_sink: the record does not flatten (%d)\n", nf);
		goto out;
	}
	for (int i = 0; i < nf; i++) {
		fields[2 * i] = strndup(keys[i], klens[i]);
		fields[2 * i + 1] = strndup(vals[i], vlens[i]);
	}

	printf("Redis sink throughput: %d records a round, %d fields each, %d rounds, redis-server "
	       "on 127.0.0.1:%d\n\n",
	       N_RECORDS, nf, ROUNDS, port);
	printf("round  redis-benchmark -P 16 XADD   vigil sink          ratio\n");
	for (int i = 0; i < ROUNDS; i++) {
		char key[32];

		snprintf(key, sizeof(key), "vb:base%d", i);
		base[i] = baseline(port, key, fields, 2 * nf);
		mine[i] = sink(port, dir, i, &written);
		if (base[i] <= 0 || mine[i] <= 0) {
			fprintf(stderr,
				"redis_sink: round %d could not run (redis-benchmark: %.0f)\n",
				i + 1, base[i]);
			goto out;
		}
		ratio[i] = mine[i] / base[i];
		printf("%5d  %15.0f rec/s          %9.0f rec/s     %.2f\n", i + 1, base[i], mine[i],
		       ratio[i]);
	}
	qsort(ratio, ROUNDS, sizeof(ratio[0]), cmp);
	printf("\nsink / redis-benchmark  %.2f (median of %d rounds, %.2f..%.2f)  target >= %.1f  "
	       "%s\n",
	       ratio[ROUNDS / 2], ROUNDS, ratio[0], ratio[ROUNDS - 1], TARGET,
	       ratio[ROUNDS / 2] >= TARGET ? "PASS" : "MISS");
	rc = 0;
out:
	child_stop(&srv, SIGTERM);
	snprintf(line, sizeof(line), "rm -rf '%s'", dir);
	if (system(line))
		rc = 1;
	return rc;
}
