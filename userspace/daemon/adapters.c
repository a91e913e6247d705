// SPDX-License-Identifier: Apache-2.0
/*
 * adapters: the kernel's maps and the workloads, as the stages that read them expect — the
 * derived stage's counters, the incidents' lost hook, the healer's probe and its watch
 * callback. The stages take these as callbacks, so that their tests give them fakes.
 */
#include <errno.h>

#include "daemon/daemon_int.h"

/* The retransmit alarm's count (one atomic counter): the domain the alarm is armed in. */
static int src_retransmits(void *arg, unsigned int workload, uint64_t *total)
{
	return vigil_probes_retrans(((struct daemon *)arg)->probes, workload, total);
}

static int src_retrans_first(void *arg, unsigned int workload, bool take, uint64_t *first_ns)
{
	return vigil_probes_retrans_first(((struct daemon *)arg)->probes, workload, take, first_ns);
}

static int src_retrans_arm(void *arg, unsigned int workload, uint64_t at, uint64_t *now)
{
	return vigil_probes_retrans_arm(((struct daemon *)arg)->probes, workload, at, now);
}

static int src_workload_drops(void *arg, unsigned int workload, uint64_t *total)
{
	return vigil_probes_workload_drops(((struct daemon *)arg)->probes, workload, total);
}

static int src_family_drops(void *arg, unsigned int f, uint64_t *total, const char **name)
{
	uint64_t st[VIGIL_STAT_MAX];
	int err = vigil_probes_stats(((struct daemon *)arg)->probes, f, st);

	*total = st[VIGIL_STAT_DROPS];
	*name = vigil_family_name(f);
	return err;
}

/*
 * The maps that can fill: the kernel's watched set and socket owners (an entry refused), and
 * the incident table (an incident evicted at the cap, or a fault dropped).
 */
static int src_map_full(void *arg, unsigned int m, uint64_t *total, const char **family,
			const char **map)
{
	struct daemon *d = arg;
	struct vigil_incidents_stats is;
	uint64_t st[VIGIL_STAT_MAX];
	int err = 0;

	switch (m) {
	case 0:
		err = vigil_probes_stats(d->probes, VIGIL_FAM_EXITS, st);
		*total = st[VIGIL_STAT_WATCH_FULL];
		*family = "exits";
		*map = "watched";
		break;
	case 1:
		err = vigil_probes_stats(d->probes, VIGIL_FAM_SOCKETS, st);
		*total = st[VIGIL_STAT_OWNER_FULL];
		*family = "sockets";
		*map = "sock_owner";
		break;
	default:
		/* The daemon's own table: the derived stage is made before it, and asks first. */
		if (!d->incidents)
			return -ENOENT;
		vigil_incidents_stats(d->incidents, &is);
		*total = is.evicted + is.dropped;
		*family = "daemon";
		*map = "incidents";
		break;
	}
	return err;
}

static int src_latency(void *arg, unsigned int workload, unsigned int k, struct vigil_lat_hist *h)
{
	return vigil_workloads_latency(((struct daemon *)arg)->wl, workload, k, h);
}

static uint64_t lost_since(void *arg, unsigned int workload, uint64_t since_ns)
{
	return vigil_derived_lost_since(((struct daemon *)arg)->derived, workload, since_ns);
}

/* The healer's probe: the workload's inbound conversations, from the kernel's counters... */
static uint64_t conversations(unsigned int workload, const uint16_t *ports, unsigned int n,
			      void *arg)
{
	uint64_t open = 0;

	vigil_probes_inbound(((struct daemon *)arg)->probes, workload, ports, n, &open);
	return open;
}

/* ... and whether pid is still one of the workload's processes (the kernel's set). */
static bool owns(unsigned int workload, pid_t pid, void *arg)
{
	return vigil_workloads_owns(((struct daemon *)arg)->wl, workload, pid);
}

/* ... and the workload's live processes, from the kernel's watched set. */
static size_t pids(unsigned int workload, pid_t *out, size_t max, void *arg)
{
	int n = vigil_probes_watched_pids(((struct daemon *)arg)->probes, workload, out, max);

	return n > 0 ? (size_t)n : 0;
}

int vigil_daemon_watch_new(unsigned int workload, pid_t pid, void *arg)
{
	return vigil_workloads_watch(((struct daemon *)arg)->wl, workload, pid);
}

void vigil_daemon_adapters(struct daemon *d, struct vigil_derived_source *src,
			   struct vigil_incidents_opts *io, struct vigil_healer_probe *probe)
{
	*src = (struct vigil_derived_source){
	    .retransmits = src_retransmits,
	    .retrans_arm = src_retrans_arm,
	    .retrans_first = src_retrans_first,
	    .workload_drops = src_workload_drops,
	    .family_drops = src_family_drops,
	    .n_families = VIGIL_FAM_MAX,
	    .latency = src_latency,
	    .map_full = src_map_full,
	    .n_maps = 3,
	    .arg = d,
	};
	io->lost = lost_since;
	io->lost_arg = d;
	*probe = (struct vigil_healer_probe){
	    .conversations = conversations,
	    .busy = vigil_daemon_busy,
	    .owns = owns,
	    .pids = pids,
	    .arg = d,
	};
}
