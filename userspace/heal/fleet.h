/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fleet: what every node has learned, as the healer reads it. The (signature, action) counts
 * of the whole fleet live in Redis (P:knowledge:SIGNATURE, fields ACTION.attempts and
 * ACTION.successes, incremented once per outcome by each node's sink); this is a cache of
 * them in memory, filled by a thread of its own (output/redis_reader.h: all of it at start and
 * every 30 s, one signature again shortly after this node learned something about it), so the
 * healer, on the event loop, reads it without ever waiting for Redis.
 *
 * The cache is usable while its last load from Redis worked: then the healer's choice goes by
 * the fleet's numbers; otherwise by the local knowledge store's. Thread-safe: one mutex, held
 * for a copy or a swap only.
 */
#ifndef VIGIL_HEAL_FLEET_H
#define VIGIL_HEAL_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heal/knowledge.h"

#define VIGIL_FLEET_MAX 16384  /* entries kept: a fleet with more keeps the first loaded */
#define VIGIL_FLEET_REFRESH 64 /* signatures waiting for a refresh; more: a full load */

struct vigil_fleet_entry {
	char signature[17];
	char action[VIGIL_KNOW_STR];
	uint64_t attempts, successes; /* successes <= attempts */
};

struct vigil_fleet;

/* Returns 0 and *out (empty, not usable), or -ENOMEM. */
int vigil_fleet_new(struct vigil_fleet **out);
/* Frees; accepts NULL. The reader must be stopped first. */
void vigil_fleet_free(struct vigil_fleet *f);

/* --- the healer's side (the event loop): never waits for Redis ---------------------------- */

/* Whether the last load from Redis worked (the choice then goes by the fleet's numbers). */
bool vigil_fleet_usable(const struct vigil_fleet *f);
/*
 * The fleet's numbers for (signature, action), copied into *out as a knowledge entry (its
 * signature, action, attempts and successes). Returns 1, 0 (the fleet never tried it), or
 * -EAGAIN when the cache is not usable.
 */
int vigil_fleet_get(const struct vigil_fleet *f, const char *signature, const char *action,
		    struct vigil_know_entry *out);
/*
 * This node learned an outcome of (signature, action), which its sink is adding to Redis:
 * counted in the cache at once (so the next choice knows it), and the signature is read again
 * from Redis shortly (the refresh replaces the guess with the fleet's true numbers).
 */
void vigil_fleet_learned(struct vigil_fleet *f, const char *signature, const char *action,
			 bool success);

/* --- the reader's side -------------------------------------------------------------------- */

/* Call fn(arg) (never with the cache's lock held) when a signature waits for a refresh. */
void vigil_fleet_set_wake(struct vigil_fleet *f, void (*fn)(void *arg), void *arg);
/* A full load worked: the n entries of e (malloc'd; the cache takes them) are the fleet's
 * knowledge as of wall_ns; the cache is usable. */
void vigil_fleet_replace(struct vigil_fleet *f, struct vigil_fleet_entry *e, size_t n,
			 uint64_t wall_ns);
/* A refresh of one signature worked: its entries are the n of e (copied). */
void vigil_fleet_replace_signature(struct vigil_fleet *f, const char *signature,
				   const struct vigil_fleet_entry *e, size_t n);
/* Redis did not answer (why): the cache is not usable until a load works again. */
void vigil_fleet_failed(struct vigil_fleet *f, const char *why);
/* The signatures waiting for a refresh (at most max, into out), taken off the list. *all: the
 * list overflowed, a full load is wanted instead. Returns how many. */
size_t vigil_fleet_take_refresh(struct vigil_fleet *f, char (*out)[17], size_t max, bool *all);

struct vigil_json;
/* "fleet": usable, entries, loads and failed loads, the last load's time, refreshes, the last
 * error (null for f NULL), into j. */
void vigil_fleet_status_json(const struct vigil_fleet *f, struct vigil_json *j);

#endif /* VIGIL_HEAL_FLEET_H */
