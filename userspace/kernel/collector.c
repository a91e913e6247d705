// SPDX-License-Identifier: Apache-2.0
/* collector: ring buffer -> validated records. */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include <bpf/libbpf.h>

#include "kernel/collector.h"

/* Recent exits remembered, one per slot chosen by the tgid: a repeat arrives right after the
 * first, so one compare finds it (a flood of exits costs a load each, not a scan). */
#define DEDUP_SLOTS 256

struct vigil_collector {
	struct vigil_loop *loop;
	struct {
		uint32_t tgid;
		uint64_t start_ns;
	} dedup[DEDUP_SLOTS];
	struct ring_buffer *rb;
	struct vigil_timer drain_timer; /* armed after a drain that found records */
	int epfd;
	vigil_event_fn fn;
	void *arg;
	struct vigil_collector_stats st;
};

/* Expected record size of each kind, or 0 for a kind this build does not know. */
static size_t kind_size(unsigned int kind)
{
	switch (kind) {
	case VIGIL_EV_EXIT:
		return sizeof(struct vigil_exit);
	case VIGIL_EV_OOM:
		return sizeof(struct vigil_oom);
	case VIGIL_EV_EXEC:
		return sizeof(struct vigil_exec);
	case VIGIL_EV_SOCK:
		return sizeof(struct vigil_sock);
	case VIGIL_EV_SLOW:
		return sizeof(struct vigil_slow);
	case VIGIL_EV_HANG:
		return sizeof(struct vigil_hang);
	case VIGIL_EV_RETRANS:
		return sizeof(struct vigil_retrans);
	default:
		return 0;
	}
}

int vigil_decode(const void *data, size_t len, const struct vigil_event_hdr **out)
{
	const struct vigil_event_hdr *h = data;
	size_t want;

	if (!data || len < sizeof(*h))
		return -EBADMSG;
	if (h->version != VIGIL_ABI_VERSION)
		return -EPROTO;
	want = kind_size(h->kind);
	if (!want)
		return -ENOMSG;
	if (h->size > len)
		return -EBADMSG;
	if (h->size != want)
		return -EMSGSIZE;
	*out = h;
	return 0;
}

/* Has this exit been delivered already? Remembers it if not. */
static bool seen_exit(struct vigil_collector *c, const struct vigil_exit *e)
{
	unsigned int slot = (e->hdr.tgid * 2654435761u) >> 24; /* Fibonacci hash: 8 bits */

	if (c->dedup[slot].tgid == e->hdr.tgid && c->dedup[slot].start_ns == e->start_ns)
		return true;
	c->dedup[slot].tgid = e->hdr.tgid;
	c->dedup[slot].start_ns = e->start_ns;
	return false;
}

static int on_record(void *ctx, void *data, size_t len)
{
	struct vigil_collector *c = ctx;
	const struct vigil_event_hdr *h;

	switch (vigil_decode(data, len, &h)) {
	case 0:
		if (h->kind == VIGIL_EV_EXIT && seen_exit(c, (const struct vigil_exit *)h)) {
			c->st.dup_exits++;
			break;
		}
		c->st.records++;
		c->fn(h, c->arg);
		break;
	case -EBADMSG:
		c->st.short_recs++;
		break;
	case -EPROTO:
		c->st.bad_version++;
		break;
	case -ENOMSG:
		c->st.unknown++;
		break;
	default:
		c->st.bad_size++;
		break;
	}
	/* Never stop the drain for one bad record. */
	return 0;
}

static void on_readable(struct vigil_loop *loop, int fd, uint32_t events, void *arg)
{
	struct vigil_collector *c = arg;

	(void)loop;
	(void)fd;
	(void)events;
	c->st.wakeups++;
	vigil_collector_drain(c);
}

static void on_drain_timer(struct vigil_loop *loop, void *arg)
{
	struct vigil_collector *c = arg;

	(void)loop;
	c->st.timed_drains++;
	vigil_collector_drain(c);
}

int vigil_collector_drain(struct vigil_collector *c)
{
	int n = ring_buffer__consume(c->rb);

	/* Records came: routine ones may follow without a wake-up (wake.bpf.h). */
	if (n > 0)
		vigil_timer_arm(c->loop, &c->drain_timer, VIGIL_DRAIN_AFTER_MS);
	return n;
}

int vigil_collector_new(struct vigil_loop *loop, int ringbuf_fd, vigil_event_fn fn, void *arg,
			struct vigil_collector **out)
{
	struct vigil_collector *c;
	int err;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->loop = loop;
	c->fn = fn;
	c->arg = arg;
	c->epfd = -1;
	vigil_timer_init(&c->drain_timer, on_drain_timer, c);
	c->rb = ring_buffer__new(ringbuf_fd, on_record, c, NULL);
	if (!c->rb) {
		err = -errno;
		goto fail;
	}
	c->epfd = ring_buffer__epoll_fd(c->rb);
	err = vigil_loop_add_fd(loop, c->epfd, EPOLLIN, on_readable, c);
	if (err) {
		c->epfd = -1;
		goto fail;
	}
	*out = c;
	return 0;
fail:
	vigil_collector_free(c);
	return err;
}

void vigil_collector_free(struct vigil_collector *c)
{
	if (!c)
		return;
	vigil_timer_cancel(c->loop, &c->drain_timer);
	if (c->epfd >= 0)
		vigil_loop_del_fd(c->loop, c->epfd);
	ring_buffer__free(c->rb);
	free(c);
}

const struct vigil_collector_stats *vigil_collector_stats(const struct vigil_collector *c)
{
	return &c->st;
}

void vigil_collector_status_json(const struct vigil_collector *c, struct vigil_json *j)
{
	vigil_json_object_begin(j, "collector");
	vigil_json_u64(j, "records", c->st.records);
	vigil_json_u64(j, "short", c->st.short_recs);
	vigil_json_u64(j, "bad_version", c->st.bad_version);
	vigil_json_u64(j, "unknown", c->st.unknown);
	vigil_json_u64(j, "bad_size", c->st.bad_size);
	vigil_json_u64(j, "dup_exits", c->st.dup_exits);
	vigil_json_u64(j, "wakeups", c->st.wakeups);
	vigil_json_u64(j, "timed_drains", c->st.timed_drains);
	vigil_json_object_end(j);
}
