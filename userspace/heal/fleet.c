// SPDX-License-Identifier: Apache-2.0
/*
 * fleet: the cache of the fleet's knowledge (see fleet.h). A plain array under one mutex: the
 * healer looks up a few pairs per incident, the reader swaps the whole array every 30 s.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "heal/fleet.h"
#include "output/records.h"

struct vigil_fleet {
	pthread_mutex_t mu; /* everything below */
	struct vigil_fleet_entry *e;
	size_t n;
	bool usable;
	uint64_t loaded_wall_ns; /* the last load that worked */
	uint64_t loads, load_errors, refreshes, learned;
	char last_error[256];
	char refresh[VIGIL_FLEET_REFRESH][17]; /* signatures to read again */
	size_t n_refresh;
	bool refresh_all; /* the list overflowed */
	void (*wake)(void *arg);
	void *wake_arg;
};

/* The lock of a cache the healer only reads: taking it is not a change of what it holds. */
static void lock(const struct vigil_fleet *f)
{
	pthread_mutex_lock((pthread_mutex_t *)&f->mu);
}

static void unlock(const struct vigil_fleet *f)
{
	pthread_mutex_unlock((pthread_mutex_t *)&f->mu);
}

int vigil_fleet_new(struct vigil_fleet **out)
{
	struct vigil_fleet *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	pthread_mutex_init(&f->mu, NULL);
	*out = f;
	return 0;
}

void vigil_fleet_free(struct vigil_fleet *f)
{
	if (!f)
		return;
	pthread_mutex_destroy(&f->mu);
	free(f->e);
	free(f);
}

/* The index of (signature, action), or -1. With the lock held. */
static ssize_t find(const struct vigil_fleet *f, const char *signature, const char *action)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->e[i].signature, signature) && !strcmp(f->e[i].action, action))
			return (ssize_t)i;
	return -1;
}

bool vigil_fleet_usable(const struct vigil_fleet *f)
{
	bool usable;

	lock(f);
	usable = f->usable;
	unlock(f);
	return usable;
}

int vigil_fleet_get(const struct vigil_fleet *f, const char *signature, const char *action,
		    struct vigil_know_entry *out)
{
	ssize_t i;
	int ret;

	memset(out, 0, sizeof(*out));
	lock(f);
	i = f->usable ? find(f, signature, action) : -1;
	ret = !f->usable ? -EAGAIN : i >= 0;
	if (i >= 0) {
		snprintf(out->signature, sizeof(out->signature), "%s", f->e[i].signature);
		snprintf(out->action, sizeof(out->action), "%s", f->e[i].action);
		out->attempts = f->e[i].attempts;
		out->successes = f->e[i].successes;
	}
	unlock(f);
	return ret;
}

/* Put signature on the refresh list (with the lock held). Returns whether the reader must be
 * woken (the list was empty). */
static bool want_refresh(struct vigil_fleet *f, const char *signature)
{
	bool first = !f->n_refresh && !f->refresh_all;

	for (size_t i = 0; i < f->n_refresh; i++)
		if (!strcmp(f->refresh[i], signature))
			return false;
	if (f->n_refresh == VIGIL_FLEET_REFRESH)
		f->refresh_all = true;
	else
		snprintf(f->refresh[f->n_refresh++], sizeof(f->refresh[0]), "%s", signature);
	return first;
}

void vigil_fleet_learned(struct vigil_fleet *f, const char *signature, const char *action,
			 bool success)
{
	struct vigil_fleet_entry *ne;
	bool wake;
	ssize_t i;

	if (!f || !signature || !action || strlen(signature) >= sizeof(f->e[0].signature) ||
	    strlen(action) >= sizeof(f->e[0].action))
		return;
	lock(f);
	f->learned++;
	i = find(f, signature, action);
	if (i < 0 && f->n < VIGIL_FLEET_MAX) {
		ne = realloc(f->e, (f->n + 1) * sizeof(*ne));
		if (ne) {
			f->e = ne;
			i = (ssize_t)f->n++;
			memset(&f->e[i], 0, sizeof(f->e[i]));
			snprintf(f->e[i].signature, sizeof(f->e[i].signature), "%s", signature);
			snprintf(f->e[i].action, sizeof(f->e[i].action), "%s", action);
		}
	}
	if (i >= 0) {
		f->e[i].attempts++;
		f->e[i].successes += success;
	}
	wake = want_refresh(f, signature) && f->wake;
	unlock(f);
	if (wake)
		f->wake(f->wake_arg);
}

void vigil_fleet_set_wake(struct vigil_fleet *f, void (*fn)(void *arg), void *arg)
{
	lock(f);
	f->wake = fn;
	f->wake_arg = arg;
	unlock(f);
}

void vigil_fleet_replace(struct vigil_fleet *f, struct vigil_fleet_entry *e, size_t n,
			 uint64_t wall_ns)
{
	struct vigil_fleet_entry *old;

	lock(f);
	old = f->e;
	f->e = e;
	f->n = n;
	f->usable = true;
	f->loaded_wall_ns = wall_ns;
	f->loads++;
	f->last_error[0] = '\0';
	unlock(f);
	free(old);
}

void vigil_fleet_replace_signature(struct vigil_fleet *f, const char *signature,
				   const struct vigil_fleet_entry *e, size_t n)
{
	struct vigil_fleet_entry *ne;
	size_t keep = 0;

	lock(f);
	/* Out with the signature's old entries, in with its new ones. */
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->e[i].signature, signature))
			f->e[keep++] = f->e[i];
	f->n = keep;
	if (n && f->n + n <= VIGIL_FLEET_MAX) {
		ne = realloc(f->e, (f->n + n) * sizeof(*ne));
		if (ne) {
			f->e = ne;
			memcpy(f->e + f->n, e, n * sizeof(*e));
			f->n += n;
		}
	}
	f->refreshes++;
	unlock(f);
}

void vigil_fleet_failed(struct vigil_fleet *f, const char *why)
{
	lock(f);
	f->usable = false;
	f->load_errors++;
	snprintf(f->last_error, sizeof(f->last_error), "%s", why);
	unlock(f);
}

size_t vigil_fleet_take_refresh(struct vigil_fleet *f, char (*out)[17], size_t max, bool *all)
{
	size_t n;

	lock(f);
	n = f->n_refresh < max ? f->n_refresh : max;
	memcpy(out, f->refresh, n * sizeof(f->refresh[0]));
	memmove(f->refresh, f->refresh + n, (f->n_refresh - n) * sizeof(f->refresh[0]));
	f->n_refresh -= n;
	*all = f->refresh_all;
	f->refresh_all = false;
	unlock(f);
	return n;
}

void vigil_fleet_status_json(const struct vigil_fleet *f, struct vigil_json *j)
{
	char ts[32];

	if (!f) {
		vigil_json_null(j, "fleet");
		return;
	}
	lock(f);
	vigil_json_object_begin(j, "fleet");
	vigil_json_bool(j, "usable", f->usable);
	vigil_json_u64(j, "entries", f->n);
	vigil_json_u64(j, "loads", f->loads);
	vigil_json_u64(j, "load_errors", f->load_errors);
	if (f->loaded_wall_ns) {
		vigil_rfc3339(f->loaded_wall_ns, ts, sizeof(ts));
		vigil_json_str(j, "last_load", ts);
	} else {
		vigil_json_null(j, "last_load");
	}
	vigil_json_u64(j, "refreshes", f->refreshes);
	vigil_json_u64(j, "learned", f->learned);
	vigil_json_str(j, "last_error", f->last_error);
	vigil_json_object_end(j);
	unlock(f);
}
