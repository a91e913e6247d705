/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clock: where vigil reads the time. The daemon uses the host's clocks; a test hands the loop
 * (and, through it, every stage that keeps time) a manual clock it moves itself, so that a
 * window of minutes is crossed without waiting for it.
 */
#ifndef VIGIL_CORE_CLOCK_H
#define VIGIL_CORE_CLOCK_H

#include <stdint.h>

struct vigil_clock {
	/* CLOCK_MONOTONIC in ns: the clock of the kernel's bpf_ktime_get_ns(). */
	uint64_t (*mono_ns)(const struct vigil_clock *c);
	/* CLOCK_REALTIME in ns. */
	uint64_t (*wall_ns)(const struct vigil_clock *c);
};

/* The host's clocks. */
extern const struct vigil_clock vigil_clock_host;

/* CLOCK_MONOTONIC and CLOCK_REALTIME in ns, read from the host. */
uint64_t vigil_mono_ns(void);
uint64_t vigil_wall_ns(void);

/* A clock that only moves when told to (tests). Initialise with vigil_manual_clock_init(). */
struct vigil_manual_clock {
	struct vigil_clock clock;
	uint64_t mono, wall;
};

/* Start it at the host's present, so that kernel timestamps and its readings compare. */
void vigil_manual_clock_init(struct vigil_manual_clock *m);
void vigil_manual_clock_advance(struct vigil_manual_clock *m, uint64_t ms);

static inline uint64_t vigil_clock_mono(const struct vigil_clock *c)
{
	return c->mono_ns(c);
}

static inline uint64_t vigil_clock_wall(const struct vigil_clock *c)
{
	return c->wall_ns(c);
}

#endif /* VIGIL_CORE_CLOCK_H */
