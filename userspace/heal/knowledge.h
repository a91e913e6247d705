/* SPDX-License-Identifier: Apache-2.0 */
/*
 * knowledge: the incident knowledge store. For each (signature, action) it keeps how often the
 * action was tried on that fault and how often it worked, so that the healer can prefer, among
 * the actions a workload allows for an incident, the one that has worked (DESIGN.md, "knowledge").
 *
 * The table lives in memory and is persisted to one JSON file after every change, atomically
 * (PATH.tmp, fsync, rename, fsync of the directory), so a restart of vigil keeps it:
 *
 *   {"version": 1, "entries": [{"signature": "01a2...", "action": "restart",
 *     "workload": "storyteller", "class": "crash", "attempts": 5, "successes": 4,
 *     "last_applied_ns": 1764420000000000000}, ...]}
 *
 * Every string is 1..VIGIL_KNOW_STR-1 bytes of printable ASCII (what vigil writes: hex
 * signatures, class names, config names of [A-Za-z0-9_.-]), checked when recorded and when
 * loaded: whatever the file holds, what the store gives back is safe to print.
 *
 * The table is bounded (VIGIL_KNOW_MAX entries unless told otherwise): a new pair in a full
 * table evicts the entry applied least recently, and the eviction is counted.
 */
#ifndef VIGIL_KNOWLEDGE_H
#define VIGIL_KNOWLEDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VIGIL_KNOW_MAX 4096  /* entries kept by default */
#define VIGIL_KNOW_STR 64    /* bytes of a string field, NUL included */
#define VIGIL_KNOW_VERSION 1 /* of the file format */
/*
 * The most one entry takes in the file: its four strings (printable ASCII, so at most 2 bytes
 * a byte: \" and \\), the keys and punctuation, three 19-digit numbers. The file's cap is what
 * VIGIL_KNOW_MAX of them take (about 2.7 MiB): any file vigil writes fits, and a larger one is
 * refused as malformed before it is parsed (a 64 MiB cap once let 13.5 MB take 5 s and 143 MB).
 */
#define VIGIL_KNOW_ENTRY_MAX_JSON (4 * (VIGIL_KNOW_STR - 1) * 2 + 128 + 3 * 19)
#define VIGIL_KNOW_FILE_MAX (VIGIL_KNOW_MAX * VIGIL_KNOW_ENTRY_MAX_JSON + 64)

/* Open flags. */
#define VIGIL_KNOW_READONLY 0x1 /* never write the file (vigil knowledge, vigil export) */
#define VIGIL_KNOW_SET_ASIDE                                                                       \
	0x2 /* a malformed file is renamed PATH.bad and the store starts                           \
	     * empty (the daemon); without it a malformed file is an error */

struct vigil_know_entry {
	char signature[VIGIL_KNOW_STR];
	char action[VIGIL_KNOW_STR];
	char workload[VIGIL_KNOW_STR];
	char cls[VIGIL_KNOW_STR];
	uint64_t attempts, successes; /* successes <= attempts */
	uint64_t last_applied_ns;     /* wall clock; 0: never (or unknown) */
};

struct vigil_know_stats {
	uint64_t evicted;	 /* entries dropped to make room, since open */
	uint64_t persist_errors; /* writes of the file that failed, since open */
	int last_error;		 /* -errno of the last failed write, 0 if none */
};

struct vigil_knowledge;
struct vigil_know_rec; /* sinks.h: what the knowledge record of the journal and Redis holds */

/*
 * Open the store of the file at path (NULL or "": a store in memory only, never written).
 * max: entries kept (0: VIGIL_KNOW_MAX); a file with more keeps the most recently applied.
 * A missing file is an empty store (the file and its directory are made at the first write).
 *
 * A malformed file (not JSON, a version this vigil does not read, an entry of the wrong shape
 * or with a string that is empty, too long or not printable ASCII, a duplicate pair,
 * successes > attempts, larger than VIGIL_KNOW_FILE_MAX) is -EBADMSG with msg naming the path
 * and what was wrong, never the offending bytes raw. With VIGIL_KNOW_SET_ASIDE it is instead
 * renamed PATH.bad (or the first free PATH.bad.1 .. PATH.bad.9), never overwritten, and the
 * store starts empty: 0 is returned with msg saying so, which the caller must report loudly.
 *
 * Returns 0 and *out (msg is "" unless a file was set aside), -EBADMSG, -EEXIST (a malformed
 * file and no free .bad name), -ENOMEM, or the -errno of reading or renaming the file; msg
 * names the path and the reason on every error. msg is always NUL-terminated when msglen > 0.
 */
int vigil_knowledge_open(const char *path, unsigned int max, unsigned int flags,
			 struct vigil_knowledge **out, char *msg, size_t msglen);

/* Frees the table; accepts NULL. Nothing is written: the file is current after every change. */
void vigil_knowledge_close(struct vigil_knowledge *k);

/*
 * An action's outcome is known: attempts + 1, successes + success, last_applied = wall_ns,
 * workload and class refreshed; then the file is rewritten. out (may be NULL) receives what
 * the store now holds for the pair, and the outcome just learned; its strings point into the store
 * and stay valid until the next change. The table is updated even when the write fails (the next
 * change retries it). Returns 0, -EINVAL for a string that is not 1..VIGIL_KNOW_STR-1 bytes of
 * printable ASCII, -EROFS for a store opened VIGIL_KNOW_READONLY, or the -errno of writing the
 * file.
 */
int vigil_knowledge_record(struct vigil_knowledge *k, const char *workload, const char *signature,
			   const char *cls, const char *action, bool success, uint64_t wall_ns,
			   struct vigil_know_rec *out);

/* The entry of (signature, action), or NULL. Valid until the next change. */
const struct vigil_know_entry *vigil_knowledge_get(const struct vigil_knowledge *k,
						   const char *signature, const char *action);

/* Iteration: entries 0 .. count-1, in the order they were first recorded (an eviction moves
 * the last one into the hole). Valid until the next change. */
size_t vigil_knowledge_count(const struct vigil_knowledge *k);
const struct vigil_know_entry *vigil_knowledge_at(const struct vigil_knowledge *k, size_t i);

void vigil_knowledge_stats(const struct vigil_knowledge *k, struct vigil_know_stats *st);
/* "knowledge": the store's file, entries, evictions and failed writes (null for k NULL),
 * into j. */
struct vigil_json;
void vigil_knowledge_status_json(const struct vigil_knowledge *k, const char *path,
				 struct vigil_json *j);

/*
 * How much to expect of an action, from what the store holds for it (e may be NULL: never
 * tried): Laplace's rule of succession, (successes + 1) / (attempts + 2). An untried action
 * scores 0.5, so it is neither ignored (it beats one that failed more often than it worked)
 * nor blindly preferred (it loses to one that worked more often than it failed); each outcome
 * moves the score less as evidence piles up. The healer takes the highest score, ties broken
 * by config order.
 */
double vigil_knowledge_score(const struct vigil_know_entry *e);

#endif /* VIGIL_KNOWLEDGE_H */
