// SPDX-License-Identifier: Apache-2.0
/* daemon_sinks: the daemon's side of the queued sinks (output/sink.h; Redis, PostgreSQL, OTLP) —
 * opening them behind the journal, handing them every record, and what it says each second about
 * records lost and about a sink going down and coming back. */
#include <stdio.h>

#include "daemon/daemon_int.h"
#include "output/otlp.h"
#include "output/otlp_logs.h"
#include "output/postgres.h"
#include "output/redis.h"
#include "output/sink.h"

/* The journal's forward: a copy of the record to every sink. Never waits. Returns 0, or the
 * last error of a push (a full queue: counted by that sink). */
static int sinks_push(void *arg, const char *json, size_t len)
{
	struct daemon *d = arg;
	int ret = 0;

	for (int i = 0; i < DAEMON_SINKS; i++) {
		int err = 0;

		/* PostgreSQL holds incidents, actions and knowledge only, OTLP gets incidents and
		 * actions: no queue for the rest. */
		if (!d->sinks[i].sink ||
		    (i == DAEMON_SINK_POSTGRES && !vigil_pg_wants(json, len)) ||
		    (i == DAEMON_SINK_OTLP && !vigil_otlp_wants(json, len)))
			continue;
		err = vigil_sink_push(d->sinks[i].sink, json, len);

		if (err)
			ret = err;
	}
	return ret;
}

/* The Redis sink, on its own thread; Redis itself need not be up. Returns 0 or -errno. */
static int redis_open(struct daemon *d, struct vigil_sink **out, char *err, size_t errlen)
{
	const struct vigil_config *c = d->cfg;
	struct vigil_redis_opts ro = vigil_daemon_redis_opts(c);
	char why[400], safe[256];
	int ret;

	ro.spool = c->redis_spool;
	ro.spool_max_bytes = c->redis_spool_max_mb << 20;
	ro.spool_sync = true;
	ro.maxlen = c->redis_maxlen;
	ret = vigil_redis_sink_open(&ro, out, why, sizeof(why));

	if (ret)
		snprintf(err, errlen, "redis sink (%s): %s",
			 vigil_redis_url_safe(c->redis_url, safe, sizeof(safe)), why);
	return ret;
}

/* The PostgreSQL sink, on its own thread; the server need not be up. Returns 0 or -errno. */
static int pg_open(struct daemon *d, struct vigil_sink **out, char *err, size_t errlen)
{
	const struct vigil_config *c = d->cfg;
	const struct vigil_pg_opts po = {
	    .url = c->pg_url,
	    .password = c->pg_password,
	    .password_file = c->pg_password_file,
	    .node = c->node,
	    .spool = c->pg_spool,
	    .spool_max_bytes = c->pg_spool_max_mb << 20,
	    .spool_sync = true,
	};
	char why[400], safe[256];
	int ret = vigil_pg_sink_open(&po, out, why, sizeof(why));

	if (ret)
		snprintf(err, errlen, "postgres sink (%s): %s",
			 vigil_pg_url_safe(c->pg_url, safe, sizeof(safe)), why);
	return ret;
}

/* The OTLP sink, on its own thread; the receiver need not be up. Returns 0 or -errno. */
static int otlp_open(struct daemon *d, struct vigil_sink **out, char *err, size_t errlen)
{
	const struct vigil_config *c = d->cfg;
	const struct vigil_otlp_opts oo = {
	    .endpoint = c->otlp_endpoint,
	    .headers = (const char *const *)c->otlp_headers,
	    .n_headers = c->otlp_n_headers,
	    .timeout_ms = (unsigned int)c->otlp_timeout_ms,
	    .spool = c->otlp_spool,
	    .spool_max_bytes = c->otlp_spool_max_mb << 20,
	    .spool_sync = true,
	};
	char why[400], url[1024];
	int ret = vigil_otlp_sink_open(&oo, out, why, sizeof(why));

	if (ret)
		snprintf(err, errlen, "otlp sink (%s): %s",
			 vigil_otlp_url(c->otlp_endpoint, url, sizeof(url)), why);
	return ret;
}

int vigil_daemon_sinks_open(struct daemon *d, char *err, size_t errlen)
{
	int ret;

	if (d->cfg->redis_url) {
		ret = redis_open(d, &d->sinks[DAEMON_SINK_REDIS].sink, err, errlen);
		if (ret)
			return ret;
	}
	if (d->cfg->pg_url) {
		ret = pg_open(d, &d->sinks[DAEMON_SINK_POSTGRES].sink, err, errlen);
		if (ret)
			return ret;
	}
	if (d->cfg->otlp_endpoint) {
		ret = otlp_open(d, &d->sinks[DAEMON_SINK_OTLP].sink, err, errlen);
		if (ret)
			return ret;
	}
	for (int i = 0; i < DAEMON_SINKS; i++)
		if (d->sinks[i].sink) {
			vigil_output_set_forward(d->out, sinks_push, d);
			break;
		}
	return 0;
}

/* One sink, once a second: records it lost (queue full, spool full, refused for good) become
 * a health record (family: the backend's name); going down and coming back, a line on
 * stderr. */
static void sink_tick(struct daemon *d, struct daemon_sink *ds)
{
	const char *name = vigil_sink_name(ds->sink);
	struct vigil_sink_stats st;
	uint64_t lost;

	vigil_sink_stats(ds->sink, &st);
	lost = st.queue_drops + st.spool_drops + st.rejected;
	if (lost > ds->lost) {
		vigil_out_health(d->out, name, lost - ds->lost, lost);
		fprintf(stderr,
			"vigil: %s: %llu records will not reach %s (%llu queue full, %llu spool "
			"full, %llu refused); the journal has them\n",
			name, (unsigned long long)(lost - ds->lost), vigil_sink_title(ds->sink),
			(unsigned long long)st.queue_drops, (unsigned long long)st.spool_drops,
			(unsigned long long)st.rejected);
		ds->lost = lost;
	}
	if ((int)st.state == ds->state)
		return;
	if (st.state == VIGIL_SINK_DOWN)
		fprintf(stderr, "vigil: %s: down (%s); records wait in %s\n", name, st.last_error,
			vigil_sink_spool_path(ds->sink));
	else if (st.state == VIGIL_SINK_UP && ds->state == VIGIL_SINK_DOWN)
		fprintf(stderr, "vigil: %s: up again; replaying %llu spooled records\n", name,
			(unsigned long long)st.spool_pending);
	ds->state = (int)st.state;
}

void vigil_daemon_sinks_tick(struct daemon *d)
{
	for (int i = 0; i < DAEMON_SINKS; i++)
		if (d->sinks[i].sink)
			sink_tick(d, &d->sinks[i]);
}

void vigil_daemon_sinks_close(struct daemon *d)
{
	if (d->out)
		vigil_output_set_forward(d->out, NULL, NULL);
	for (int i = 0; i < DAEMON_SINKS; i++) {
		vigil_sink_close(d->sinks[i].sink);
		d->sinks[i].sink = NULL;
	}
}

void vigil_daemon_sinks_status_json(const struct daemon *d, struct vigil_json *j)
{
	struct vigil_sink *redis = d->sinks[DAEMON_SINK_REDIS].sink;
	struct vigil_sink *pg = d->sinks[DAEMON_SINK_POSTGRES].sink;
	struct vigil_sink *otlp = d->sinks[DAEMON_SINK_OTLP].sink;
	char safe[1024];

	/* "redis", "postgres", "otlp": each one's state, queue and spool (null when not
	 * configured). */
	if (!redis) {
		vigil_json_null(j, "redis");
	} else {
		vigil_json_object_begin(j, "redis");
		vigil_sink_status_json(
		    redis, vigil_redis_url_safe(d->cfg->redis_url, safe, sizeof(safe)), j);
		vigil_json_object_end(j);
	}
	if (!pg) {
		vigil_json_null(j, "postgres");
	} else {
		vigil_json_object_begin(j, "postgres");
		vigil_sink_status_json(pg, vigil_pg_url_safe(d->cfg->pg_url, safe, sizeof(safe)),
				       j);
		vigil_json_object_end(j);
	}
	/* The URL the records go to; the headers (tokens, often) are not shown. */
	if (!otlp) {
		vigil_json_null(j, "otlp");
		return;
	}
	vigil_json_object_begin(j, "otlp");
	vigil_sink_status_json(otlp, vigil_otlp_url(d->cfg->otlp_endpoint, safe, sizeof(safe)), j);
	vigil_json_object_end(j);
}
