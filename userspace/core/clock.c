// SPDX-License-Identifier: Apache-2.0
/* clock: the host's clocks, and a manual one for tests. */
#include <stddef.h>
#include <time.h>

#include "core/clock.h"

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t vigil_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t vigil_wall_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

static uint64_t host_mono(const struct vigil_clock *c)
{
	(void)c;
	return vigil_mono_ns();
}

static uint64_t host_wall(const struct vigil_clock *c)
{
	(void)c;
	return vigil_wall_ns();
}

const struct vigil_clock vigil_clock_host = {
    .mono_ns = host_mono,
    .wall_ns = host_wall,
};

/* The clock is the first member: a pointer to it is a pointer to the manual clock. */
static uint64_t manual_mono(const struct vigil_clock *c)
{
	return ((const struct vigil_manual_clock *)c)->mono;
}

static uint64_t manual_wall(const struct vigil_clock *c)
{
	return ((const struct vigil_manual_clock *)c)->wall;
}

void vigil_manual_clock_init(struct vigil_manual_clock *m)
{
	m->clock.mono_ns = manual_mono;
	m->clock.wall_ns = manual_wall;
	m->mono = vigil_mono_ns();
	m->wall = vigil_wall_ns();
}

void vigil_manual_clock_advance(struct vigil_manual_clock *m, uint64_t ms)
{
	m->mono += ms * 1000000ull;
	m->wall += ms * 1000000ull;
}
