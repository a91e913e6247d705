// SPDX-License-Identifier: Apache-2.0
/*
 * daemon_state: the daemon's side of the healer's durable state — the state file opened at
 * start (and, when there is none, the state Redis holds for this node: a new pod of the
 * DaemonSet on the same node), handed to the healer, resumed, said on stderr, and shown in
 * `vigil status` — and of the fleet's knowledge: the cache the healer chooses by, and the
 * thread that fills it from Redis.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon_int.h"
#include "heal/fleet.h"
#include "heal/state.h"
#include "output/records.h"
#include "output/redis_reader.h"

struct vigil_redis_opts vigil_daemon_redis_opts(const struct vigil_config *c)
{
	return (struct vigil_redis_opts){
	    .url = c->redis_url,
	    .username = c->redis_username,
	    .password = c->redis_password,
	    .prefix = c->redis_prefix,
	    .node = c->node,
	};
}

/* No state file: the state Redis holds for this node, into d->loaded. Never fatal: Redis
 * down or a malformed value is said, and the start goes on with no state. */
static void from_redis(struct daemon *d)
{
	const struct vigil_config *c = d->cfg;
	const struct vigil_redis_opts ro = vigil_daemon_redis_opts(c);
	char msg[400], why[256], *text = NULL;
	size_t len = 0;
	int err;

	err = vigil_redis_get_state(&ro, &text, &len, msg, sizeof(msg));
	if (err) {
		fprintf(stderr,
			"vigil: warning: state: no state file, and Redis did not answer (%s): "
			"starting with every breaker closed and nothing pending\n",
			msg);
		return;
	}
	if (!text)
		return; /* a node vigil never ran on */
	err = vigil_state_parse(text, len, &d->loaded, why, sizeof(why));
	free(text);
	if (err) {
		fprintf(
		    stderr,
		    "vigil: warning: state: the state in Redis (%s:%s:state) is malformed (%s): "
		    "ignored\n",
		    c->redis_prefix, c->node, why);
		return;
	}
	d->state_from = "redis";
}

int vigil_daemon_state_open(struct daemon *d, char *err, size_t errlen)
{
	bool found = false;
	int ret;

	ret = vigil_state_file_open(d->cfg->state, &d->state, &d->loaded, &found, err, errlen);
	if (ret)
		return ret;
	if (err[0]) {
		/* Malformed, set aside: said loudly, and Redis may hold a good copy. */
		fprintf(stderr, "vigil: warning: %s\n", err);
		err[0] = '\0';
	}
	if (found)
		d->state_from = "file";
	else if (d->cfg->redis_url)
		from_redis(d);
	if (!d->cfg->redis_url)
		return 0;
	/* The fleet's knowledge: loaded now by its own thread, then every 30 s. */
	{
		const struct vigil_redis_opts ro = vigil_daemon_redis_opts(d->cfg);

		ret = vigil_fleet_new(&d->fleet);
		if (ret) {
			snprintf(err, errlen, "fleet knowledge: %s", strerror(-ret));
			return ret;
		}
		ret = vigil_fleet_reader_open(&ro, d->fleet, 0, &d->fleet_reader, err, errlen);
	}
	return ret;
}

void vigil_daemon_state_restore(struct daemon *d)
{
	struct vigil_healer_restored *r = &d->restored;
	char ts[32];

	vigil_healer_set_state(d->healer, d->state);
	vigil_healer_set_fleet(d->healer, d->fleet);
	vigil_healer_restore(d->healer, &d->loaded, r);
	if (d->state_from) {
		vigil_rfc3339(d->loaded.saved_wall_ns, ts, sizeof(ts));
		fprintf(stderr,
			"vigil: state: resumed from %s (saved %s): %u breakers open, %u backoffs, "
			"%u pending heals, %u awaiting approval\n",
			strcmp(d->state_from, "file") ? "Redis" : d->cfg->state, ts,
			r->breakers_open, r->backoffs, r->pending, r->awaiting);
	}
	if (r->dropped)
		fprintf(stderr,
			"vigil: warning: state: %u entries not resumed, the config changed (%s)\n",
			r->dropped, r->dropped_why);
	vigil_state_clear(&d->loaded);
}

void vigil_daemon_state_close(struct daemon *d)
{
	vigil_fleet_reader_close(d->fleet_reader);
	d->fleet_reader = NULL;
	vigil_fleet_free(d->fleet);
	d->fleet = NULL;
	vigil_state_clear(&d->loaded);
	vigil_state_file_close(d->state);
	d->state = NULL;
}

void vigil_daemon_state_status_json(const struct daemon *d, struct vigil_json *j)
{
	const struct vigil_healer_restored *r = &d->restored;

	/* "fleet": the cache of the fleet's knowledge (null without Redis). */
	vigil_fleet_status_json(d->fleet, j);
	/* "state": the file, and what this run resumed and from where. */
	if (!d->state) {
		vigil_json_null(j, "state");
		return;
	}
	vigil_json_object_begin(j, "state");
	vigil_state_file_status_members(d->state, j);
	if (d->state_from)
		vigil_json_str(j, "resumed_from", d->state_from);
	else
		vigil_json_null(j, "resumed_from");
	vigil_json_u64(j, "resumed_breakers_open", r->breakers_open);
	vigil_json_u64(j, "resumed_pending", r->pending);
	vigil_json_u64(j, "resumed_awaiting", r->awaiting);
	vigil_json_u64(j, "not_resumed", r->dropped);
	vigil_json_object_end(j);
}
