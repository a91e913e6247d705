// SPDX-License-Identifier: Apache-2.0
/* daemon_redis: the daemon's side of the Redis sink — opening it behind the sinks, and what it
 * says each second about records lost and about going down and coming back. */
#include <stdio.h>

#include "daemon/daemon_int.h"
#include "output/redis.h"

static int redis_push(void *arg, const char *json, size_t len)
{
	return vigil_redis_push(arg, json, len);
}

/* The Redis sink, on its own thread; Redis itself need not be up. Returns 0 or -errno. */
int vigil_daemon_redis_open(struct daemon *d, char *err, size_t errlen)
{
	const struct vigil_config *c = d->cfg;
	const struct vigil_redis_opts ro = {
		.url = c->redis_url,
		.username = c->redis_username,
		.password = c->redis_password,
		.prefix = c->redis_prefix,
		.node = c->node,
		.spool = c->redis_spool,
		.spool_max_bytes = c->redis_spool_max_mb << 20,
		.spool_sync = true,
		.maxlen = c->redis_maxlen,
	};
	char why[400], safe[256];
	int ret = vigil_redis_open(&ro, &d->redis, why, sizeof(why));

	if (ret) {
		snprintf(err, errlen, "redis sink (%s): %s",
			 vigil_redis_url_safe(c->redis_url, safe, sizeof(safe)), why);
		return ret;
	}
	vigil_output_set_forward(d->out, redis_push, d->redis);
	return 0;
}

/* The Redis sink, once a second: records it lost (queue full, spool full, refused for good)
 * become a health record (family "redis"); going down and coming back, a line on stderr. */
void vigil_daemon_redis_tick(struct daemon *d)
{
	struct vigil_redis_stats st;
	uint64_t lost;

	if (!d->redis)
		return;
	vigil_redis_stats(d->redis, &st);
	lost = st.queue_drops + st.spool_drops + st.rejected;
	if (lost > d->redis_lost) {
		vigil_out_health(d->out, "redis", lost - d->redis_lost, lost);
		fprintf(stderr,
			"vigil: redis: %llu records will not reach Redis (%llu queue full, %llu spool "
			"full, %llu refused); the journal has them\n",
			(unsigned long long)(lost - d->redis_lost),
			(unsigned long long)st.queue_drops, (unsigned long long)st.spool_drops,
			(unsigned long long)st.rejected);
		d->redis_lost = lost;
	}
	if ((int)st.state == d->redis_state)
		return;
	if (st.state == VIGIL_REDIS_DOWN)
		fprintf(stderr, "vigil: redis: down (%s); records wait in %s\n", st.last_error,
			d->cfg->redis_spool);
	else if (st.state == VIGIL_REDIS_UP && d->redis_state == VIGIL_REDIS_DOWN)
		fprintf(stderr, "vigil: redis: up again; replaying %llu spooled records\n",
			(unsigned long long)st.spool_pending);
	d->redis_state = (int)st.state;
}
