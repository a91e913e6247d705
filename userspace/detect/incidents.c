// SPDX-License-Identifier: Apache-2.0
/* incidents: aggregation by signature inside a window, and the lifecycle. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/incidents.h"

#define NOTES 256 /* recent events of configured workloads, for causal chains */

struct note {
	unsigned int workload;
	struct vigil_chain_entry e;
};

/* Two links, for a list where any member leaves in O(1). */
struct link {
	struct link *prev, *next;
};

/*
 * A live incident and its places: the public list (newest opened first, through inc.next;
 * pprev points at the pointer to it), its hash bucket, and the recency list (most recently
 * seen first) that eviction takes from the far end of.
 */
struct entry {
	struct vigil_incident inc; /* first: an incident is its entry */
	struct vigil_incident **pprev;
	struct entry *hnext, **hpprev;
	struct link lru;
};

struct vigil_incidents {
	struct vigil_incidents_opts o;
	struct vigil_incidents_stats st;
	uint64_t window_ns;
	uint32_t seq;
	unsigned int n;
	struct vigil_incident *head; /* newest first */
	struct entry **buckets;	     /* signature -> entries with that signature */
	unsigned int mask;	     /* buckets - 1: grown with n, up to the cap (link_in) */
	struct link lru;	     /* lru.next: the most recently seen; lru.prev: the least */
	struct note notes[NOTES];    /* a ring: notes[next] is the oldest */
	unsigned int next_note;
};

static struct entry *entry_of(struct vigil_incident *i)
{
	return (struct entry *)i;
}

static struct entry *entry_of_lru(struct link *l)
{
	return (struct entry *)((char *)l - offsetof(struct entry, lru));
}

/* FNV-1a of a signature: 16 hex digits, already a hash, but never trusted to be one. */
static unsigned int bucket(const struct vigil_incidents *t, const char *sig)
{
	uint32_t h = 2166136261u;

	for (; *sig; sig++)
		h = (h ^ (unsigned char)*sig) * 16777619u;
	return h & t->mask;
}

static void lru_unlink(struct entry *e)
{
	e->lru.prev->next = e->lru.next;
	e->lru.next->prev = e->lru.prev;
}

/* e is the most recently seen now. */
static void lru_front(struct vigil_incidents *t, struct entry *e)
{
	e->lru.prev = &t->lru;
	e->lru.next = t->lru.next;
	t->lru.next->prev = &e->lru;
	t->lru.next = &e->lru;
}

/* Into its hash bucket, first: a bucket holds the newest first. */
static void hash_in(struct vigil_incidents *t, struct entry *e)
{
	struct entry **b = &t->buckets[bucket(t, e->inc.signature)];

	e->hnext = *b;
	if (*b)
		(*b)->hpprev = &e->hnext;
	*b = e;
	e->hpprev = b;
}

/*
 * Twice as many buckets, every live incident hashed again: the index grows with the table
 * (about one incident a bucket) instead of being sized for max_incidents at start. Each is
 * appended in the public list's order, so that a bucket still holds the newest first, as
 * hash_in() keeps it. Returns 0, or -ENOMEM with the index as it was (longer chains, still
 * right).
 */
static int grow(struct vigil_incidents *t)
{
	unsigned int nb = (t->mask + 1) * 2;
	struct entry **b = calloc(nb, sizeof(*b)), **tail;

	if (!b)
		return -ENOMEM;
	free(t->buckets);
	t->buckets = b;
	t->mask = nb - 1;
	for (struct vigil_incident *i = t->head; i; i = i->next) {
		struct entry *e = entry_of(i);

		for (tail = &t->buckets[bucket(t, i->signature)]; *tail; tail = &(*tail)->hnext)
			;
		e->hnext = NULL;
		e->hpprev = tail;
		*tail = e;
	}
	return 0;
}

/* Into the public list (newest first), the hash index and the recency list. */
static void link_in(struct vigil_incidents *t, struct entry *e)
{
	/* One bucket per incident, up to the cap's power of two. */
	if (t->n >= t->mask + 1 && t->mask + 1 < t->o.max)
		grow(t);
	e->inc.next = t->head;
	if (t->head)
		entry_of(t->head)->pprev = &e->inc.next;
	t->head = &e->inc;
	e->pprev = &t->head;
	hash_in(t, e);
	lru_front(t, e);
	t->n++;
	if (t->n > t->st.peak)
		t->st.peak = t->n;
}

/* Out of all three, and freed. */
static void unlink_free(struct vigil_incidents *t, struct entry *e)
{
	*e->pprev = e->inc.next;
	if (e->inc.next)
		entry_of(e->inc.next)->pprev = e->pprev;
	*e->hpprev = e->hnext;
	if (e->hnext)
		e->hnext->hpprev = e->hpprev;
	lru_unlink(e);
	free(e);
	t->n--;
}

void vigil_incidents_note(struct vigil_incidents *t, unsigned int workload, uint64_t kernel_ns,
			  uint32_t pid, const char *label, const char *detail)
{
	struct note *n = &t->notes[t->next_note];

	if (!workload)
		return; /* observe-all: unrelated processes share workload 0 */
	n->workload = workload;
	n->e.kernel_ns = kernel_ns;
	n->e.pid = pid;
	snprintf(n->e.label, sizeof(n->e.label), "%s", label ? label : "");
	snprintf(n->e.detail, sizeof(n->e.detail), "%s", detail ? detail : "");
	t->next_note = (t->next_note + 1) % NOTES;
}

/*
 * The causal chain: the workload's notes from the VIGIL_CHAIN_NS before first_ns, not
 * counting the event that opened the incident, at most VIGIL_CHAIN_MAX, the latest kept.
 */
static void fill_chain(const struct vigil_incidents *t, struct vigil_incident *i)
{
	unsigned int k = t->next_note;

	for (unsigned int n = 0; n < NOTES; n++, k = (k + 1) % NOTES) {
		const struct note *e = &t->notes[k];

		if (e->workload != i->workload || !e->e.kernel_ns ||
		    e->e.kernel_ns >= i->first_kernel_ns ||
		    i->first_kernel_ns - e->e.kernel_ns > VIGIL_CHAIN_NS)
			continue;
		if (i->n_chain == VIGIL_CHAIN_MAX) {
			memmove(&i->chain[0], &i->chain[1],
				(VIGIL_CHAIN_MAX - 1) * sizeof(i->chain[0]));
			i->n_chain--;
		}
		i->chain[i->n_chain++] = e->e;
	}
}

const struct vigil_incident *vigil_incidents_first(const struct vigil_incidents *t)
{
	return t->head;
}

struct vigil_incident *vigil_incidents_lookup(struct vigil_incidents *t, const char *id)
{
	for (struct vigil_incident *i = t->head; i; i = i->next)
		if (!strcmp(i->id, id))
			return i;
	return NULL;
}

const struct vigil_incident *vigil_incidents_find(const struct vigil_incidents *t, const char *id)
{
	return vigil_incidents_lookup((struct vigil_incidents *)t, id);
}

const char *vigil_incident_state_name(enum vigil_incident_state s)
{
	static const char *const names[] = {
	    [VIGIL_INC_OPEN] = "open",
	    [VIGIL_INC_HEALING] = "healing",
	    [VIGIL_INC_VERIFYING] = "verifying",
	    [VIGIL_INC_RESOLVED] = "resolved",
	    [VIGIL_INC_AWAITING_APPROVAL] = "awaiting_approval",
	    [VIGIL_INC_ESCALATED] = "escalated",
	    [VIGIL_INC_FAILED] = "failed",
	    [VIGIL_INC_EXPIRED] = "expired",
	};

	if ((unsigned int)s < sizeof(names) / sizeof(names[0]))
		return names[s];
	return "unknown";
}

int vigil_incidents_new(const struct vigil_incidents_opts *o, struct vigil_incidents **out)
{
	struct vigil_incidents *t = calloc(1, sizeof(*t));
	unsigned int nb = 16; /* to start with: link_in() grows them */

	if (!t)
		return -ENOMEM;
	t->o = *o;
	if (!t->o.clock)
		t->o.clock = &vigil_clock_host;
	if (!t->o.max)
		t->o.max = VIGIL_INCIDENTS_MAX_DEFAULT;
	t->st.max = t->o.max;
	t->window_ns = o->window_ms * 1000000ull;
	t->buckets = calloc(nb, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return -ENOMEM;
	}
	t->mask = nb - 1;
	t->lru.prev = t->lru.next = &t->lru;
	*out = t;
	return 0;
}

static void notify(struct vigil_incidents *t, const struct vigil_incident *i)
{
	if (t->o.notify)
		t->o.notify(i, t->o.notify_arg);
}

/* Power of two: an incident's count is re-recorded at 2, 4, 8... so a storm costs log(n). */
static bool pow2(uint64_t n)
{
	return n && !(n & (n - 1));
}

/* The lifecycle's edges (incidents.h): from each state, the states it may move to. */
static bool allowed(enum vigil_incident_state from, enum vigil_incident_state to)
{
	switch (from) {
	case VIGIL_INC_OPEN:
		/* resolved: the fault went away before any heal began (an alert resolved) */
		return to == VIGIL_INC_HEALING || to == VIGIL_INC_AWAITING_APPROVAL ||
		       to == VIGIL_INC_ESCALATED || to == VIGIL_INC_FAILED ||
		       to == VIGIL_INC_RESOLVED;
	case VIGIL_INC_HEALING:
		return to == VIGIL_INC_VERIFYING || to == VIGIL_INC_RESOLVED ||
		       to == VIGIL_INC_FAILED || to == VIGIL_INC_ESCALATED;
	case VIGIL_INC_VERIFYING:
		/* healing again: a rule's retry, after its attempt failed its verify */
		return to == VIGIL_INC_RESOLVED || to == VIGIL_INC_FAILED ||
		       to == VIGIL_INC_HEALING;
	case VIGIL_INC_AWAITING_APPROVAL:
		return to == VIGIL_INC_OPEN || to == VIGIL_INC_EXPIRED;
	default:
		return false; /* resolved, failed, escalated: nothing follows */
	}
}

int vigil_incident_set_state(struct vigil_incidents *t, struct vigil_incident *i,
			     enum vigil_incident_state s)
{
	if (!allowed(i->state, s)) {
		t->st.bad_transitions++;
		/* A bug in vigil, not in what it watches: said where an operator looks. */
		fprintf(stderr, "vigil: bug: incident %s: no transition %s -> %s; state kept\n",
			i->id, vigil_incident_state_name(i->state), vigil_incident_state_name(s));
		return -EINVAL;
	}
	i->state = s;
	if (s == VIGIL_INC_RESOLVED)
		i->resolved_mono_ns = vigil_clock_mono(t->o.clock);
	notify(t, i);
	return 0;
}

void vigil_incident_set_replaced(struct vigil_incidents *t, struct vigil_incident *i,
				 uint64_t exec_ns)
{
	(void)t; /* written in the next record, the verifying or final one */
	i->replaced_kernel_ns = exec_ns > i->first_kernel_ns ? exec_ns : i->first_kernel_ns;
}

void vigil_incident_hold(struct vigil_incident *i, bool held)
{
	i->busy = held;
}

void vigil_incidents_stats(const struct vigil_incidents *t, struct vigil_incidents_stats *st)
{
	*st = t->st;
}

void vigil_incidents_free(struct vigil_incidents *t)
{
	struct vigil_incident *i, *next;

	if (!t)
		return;
	for (i = t->head; i; i = next) {
		next = i->next;
		free(entry_of(i));
	}
	free(t->buckets);
	free(t);
}

static bool over(const struct vigil_incident *i)
{
	return i->state == VIGIL_INC_RESOLVED || i->state == VIGIL_INC_FAILED ||
	       i->state == VIGIL_INC_EXPIRED;
}

/* May i leave the table for a newer incident? Not while anyone acts on it or waits for it. */
static bool evictable(const struct vigil_incident *i)
{
	return !i->busy && i->state != VIGIL_INC_HEALING && i->state != VIGIL_INC_VERIFYING &&
	       i->state != VIGIL_INC_AWAITING_APPROVAL;
}

/*
 * Room for one more: below the cap already, or the least recently seen evictable incident
 * leaves (its final record, marked evicted). Held ones met on the way go to the front: they
 * are not candidates, and the next search need not walk over them again. Returns 0, or
 * -ENOSPC when every live incident is held.
 */
static int make_room(struct vigil_incidents *t)
{
	unsigned int n = t->n;

	if (t->n < t->o.max)
		return 0;
	while (n--) {
		struct entry *e = entry_of_lru(t->lru.prev);

		if (!evictable(&e->inc)) {
			lru_unlink(e);
			lru_front(t, e);
			continue;
		}
		e->inc.final = true;
		e->inc.evicted = true;
		notify(t, &e->inc);
		unlink_free(t, e);
		t->st.evicted++;
		return 0;
	}
	return -ENOSPC;
}

/* The live incident of this signature whose window holds ts_ns, or NULL. */
static struct entry *find_live(const struct vigil_incidents *t, const char *sig, uint64_t ts_ns)
{
	for (struct entry *e = t->buckets[bucket(t, sig)]; e; e = e->hnext) {
		if (over(&e->inc) || strcmp(e->inc.signature, sig))
			continue;
		if (ts_ns - e->inc.last_kernel_ns > t->window_ns)
			continue;
		return e;
	}
	return NULL;
}

struct vigil_incident *vigil_incidents_record(struct vigil_incidents *t,
					      const struct vigil_event_hdr *hdr,
					      const struct vigil_detection *d, const char *workload,
					      bool *opened)
{
	struct vigil_incident *i;
	struct entry *e;

	e = find_live(t, d->signature, hdr->ts_ns);
	if (e) {
		i = &e->inc;
		i->count++;
		lru_unlink(e);
		lru_front(t, e);
		goto update;
	}
	*opened = false;
	if (make_room(t)) {
		t->st.dropped++;
		errno = ENOSPC;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		errno = ENOMEM;
		return NULL;
	}
	i = &e->inc;
	i->opened_mono_ns = vigil_clock_mono(t->o.clock);
	i->opened_wall_ns = vigil_clock_wall(t->o.clock);
	snprintf(i->id, sizeof(i->id), "%012llx%04x",
		 (unsigned long long)(i->opened_wall_ns / 1000000ull) & 0xffffffffffffull,
		 ++t->seq & 0xffff);
	memcpy(i->signature, d->signature, sizeof(i->signature));
	i->signature[sizeof(i->signature) - 1] = '\0';
	i->cls = d->cls;
	i->state = VIGIL_INC_OPEN;
	i->workload = hdr->workload;
	snprintf(i->workload_name, sizeof(i->workload_name), "%s", workload);
	snprintf(i->title, sizeof(i->title), "%s", d->title);
	snprintf(i->detail, sizeof(i->detail), "%s", d->detail);
	/* Captured now: the process may be gone when a sink sends the record. */
	snprintf(i->comm, sizeof(i->comm), "%.*s", (int)sizeof(hdr->comm), hdr->comm);
	i->count = 1;
	i->first_kernel_ns = hdr->ts_ns;
	fill_chain(t, i);
	/* Telemetry confidence: kernel events lost in the chain's window make it lossy. */
	if (t->o.lost && i->workload) {
		i->lost =
		    t->o.lost(t->o.lost_arg, i->workload, i->first_kernel_ns - VIGIL_CHAIN_NS);
		i->lossy = i->lost > 0;
	}
	link_in(t, e);
	t->st.opened++;
	*opened = true;
	goto fill;
update:
	*opened = false;
fill:
	i->last_kernel_ns = hdr->ts_ns;
	i->tgid = hdr->tgid;
	i->signal = d->signal;
	i->status = d->status;
	i->core_dumped = d->core_dumped;
	/* The requests its faults broke: the first fault's first (with its span). */
	vigil_trace_merge(&i->trace, &d->trace);
	/* The pod its processes run in: the first fault's that had one. */
	if (!i->pod.uid[0] && d->pod.uid[0])
		i->pod = d->pod;
	if (*opened || pow2(i->count))
		notify(t, i);
	return i;
}

void vigil_incident_save(const struct vigil_incident *i, struct vigil_incident_saved *s)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->id, i->id, sizeof(s->id));
	memcpy(s->signature, i->signature, sizeof(s->signature));
	s->cls = i->cls;
	memcpy(s->workload_name, i->workload_name, sizeof(s->workload_name));
	memcpy(s->title, i->title, sizeof(s->title));
	memcpy(s->detail, i->detail, sizeof(s->detail));
	s->count = i->count;
	s->opened_wall_ns = i->opened_wall_ns;
	s->detect_ns =
	    i->opened_mono_ns > i->first_kernel_ns ? i->opened_mono_ns - i->first_kernel_ns : 0;
	s->tgid = i->tgid;
	s->signal = i->signal;
	s->status = i->status;
	s->core_dumped = i->core_dumped;
	s->lossy = i->lossy;
	s->lost = i->lost;
}

struct vigil_incident *vigil_incidents_restore(struct vigil_incidents *t,
					       const struct vigil_incident_saved *s,
					       unsigned int workload, enum vigil_incident_state st,
					       int *err)
{
	uint64_t mono = vigil_clock_mono(t->o.clock), wall = vigil_clock_wall(t->o.clock), age;
	struct vigil_incident *i;
	struct entry *e;

	if (st != VIGIL_INC_OPEN && st != VIGIL_INC_AWAITING_APPROVAL) {
		*err = -EINVAL;
		return NULL;
	}
	if (vigil_incidents_lookup(t, s->id)) {
		*err = -EEXIST;
		return NULL;
	}
	if (make_room(t)) {
		t->st.dropped++;
		*err = -ENOSPC;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		*err = -ENOMEM;
		return NULL;
	}
	i = &e->inc;
	memcpy(i->id, s->id, sizeof(i->id));
	i->id[sizeof(i->id) - 1] = '\0';
	memcpy(i->signature, s->signature, sizeof(i->signature));
	i->signature[sizeof(i->signature) - 1] = '\0';
	i->cls = s->cls;
	i->state = st;
	i->workload = workload;
	snprintf(i->workload_name, sizeof(i->workload_name), "%s", s->workload_name);
	snprintf(i->title, sizeof(i->title), "%s", s->title);
	snprintf(i->detail, sizeof(i->detail), "%s", s->detail);
	i->count = s->count ? s->count : 1;
	/* The same instant on this run's monotonic clock; before this boot, the boot. */
	age = wall > s->opened_wall_ns ? wall - s->opened_wall_ns : 0;
	i->opened_mono_ns = age < mono ? mono - age : 0;
	i->opened_wall_ns = s->opened_wall_ns;
	i->first_kernel_ns =
	    i->opened_mono_ns > s->detect_ns ? i->opened_mono_ns - s->detect_ns : 0;
	i->last_kernel_ns = mono;
	i->tgid = s->tgid;
	i->signal = s->signal;
	i->status = s->status;
	i->core_dumped = s->core_dumped;
	i->lossy = s->lossy;
	i->lost = s->lost;
	i->busy = true;
	i->restored = true;
	link_in(t, e);
	notify(t, i);
	return i;
}

unsigned int vigil_incidents_expire(struct vigil_incidents *t)
{
	uint64_t now = vigil_clock_mono(t->o.clock);
	struct vigil_incident *i, *next;
	unsigned int n = 0;

	for (i = t->head; i; i = next) {
		next = i->next;
		/* Kernel timestamps are CLOCK_MONOTONIC too, so they compare with now. */
		if (i->busy || now - i->last_kernel_ns <= t->window_ns)
			continue;
		i->final = true;
		notify(t, i);
		unlink_free(t, entry_of(i));
		n++;
	}
	return n;
}

int vigil_incidents_retire(struct vigil_incidents *t, struct vigil_incident *i)
{
	struct vigil_incident *p;

	if (i->busy)
		return -EBUSY;
	for (p = t->head; p && p != i; p = p->next)
		;
	if (!p)
		return -ENOENT;
	i->final = true;
	notify(t, i);
	unlink_free(t, entry_of(i));
	return 0;
}

void vigil_incidents_finish(struct vigil_incidents *t)
{
	struct vigil_incident *i;

	while ((i = t->head)) {
		i->final = true;
		notify(t, i);
		unlink_free(t, entry_of(i));
	}
}

unsigned int vigil_incidents_count(const struct vigil_incidents *t)
{
	return t->n;
}

void vigil_incidents_status_json(const struct vigil_incidents *t, struct vigil_json *j)
{
	vigil_json_object_begin(j, "incidents");
	vigil_json_u64(j, "live", t->n);
	vigil_json_u64(j, "max", t->st.max);
	vigil_json_u64(j, "peak", t->st.peak);
	vigil_json_u64(j, "opened", t->st.opened);
	vigil_json_u64(j, "evicted", t->st.evicted);
	vigil_json_u64(j, "dropped", t->st.dropped);
	vigil_json_u64(j, "bad_transitions", t->st.bad_transitions);
	vigil_json_object_end(j);
}
