// SPDX-License-Identifier: Apache-2.0
/* detector: classification and signatures. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>

#include "core/classes.h"
#include "detect/detector.h"
#include "kernel/syscalls.h"

/* FNV-1a 64: small, stable across builds and architectures, and good enough for this. */
#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
	const unsigned char *p = data;

	while (n--) {
		h ^= *p++;
		h *= FNV_PRIME;
	}
	return h;
}

void vigil_signature(const char *workload, enum vigil_class cls, const char *detail, char *out)
{
	const char *cname = vigil_class_name(cls);
	uint64_t h = FNV_OFFSET;

	/* Fields separated by NUL so "ab"+"c" and "a"+"bc" differ; "v1" names the scheme. */
	h = fnv1a(h, "v1", 3);
	h = fnv1a(h, workload, strlen(workload) + 1);
	h = fnv1a(h, cname ? cname : "", strlen(cname ? cname : "") + 1);
	h = fnv1a(h, detail, strlen(detail) + 1);
	snprintf(out, VIGIL_SIG_LEN, "%016llx", (unsigned long long)h);
}

const char *vigil_signal_name(int sig, char *buf)
{
	/* Fixed names, not strsignal(): the text must not depend on the libc or its locale. */
	static const char *const names[] = {
	    [SIGHUP] = "SIGHUP",       [SIGINT] = "SIGINT",   [SIGQUIT] = "SIGQUIT",
	    [SIGILL] = "SIGILL",       [SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT",
	    [SIGBUS] = "SIGBUS",       [SIGFPE] = "SIGFPE",   [SIGKILL] = "SIGKILL",
	    [SIGUSR1] = "SIGUSR1",     [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
	    [SIGPIPE] = "SIGPIPE",     [SIGALRM] = "SIGALRM", [SIGTERM] = "SIGTERM",
	    [SIGSTKFLT] = "SIGSTKFLT", [SIGXCPU] = "SIGXCPU", [SIGXFSZ] = "SIGXFSZ",
	    [SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF", [SIGIO] = "SIGIO",
	    [SIGPWR] = "SIGPWR",       [SIGSYS] = "SIGSYS",
	};

	if (sig > 0 && sig < (int)(sizeof(names) / sizeof(names[0])) && names[sig])
		return names[sig];
	snprintf(buf, 8, "SIG%d", sig & 0x7f);
	return buf;
}

/*
 * Signals another process sends to stop a service on purpose (kubelet, an operator, a
 * supervisor). Sent by someone else, they end a process without it having failed.
 */
static bool stop_signal(int sig)
{
	return sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGKILL ||
	       sig == SIGQUIT || sig == SIGUSR1 || sig == SIGUSR2;
}

static void classify_exit(const struct vigil_exit *e, struct vigil_detection *d)
{
	char buf[8];

	d->signal = e->exit_code & 0x7f;
	d->core_dumped = e->exit_code & 0x80;
	d->status = d->signal ? 0 : (e->exit_code >> 8) & 0xff;

	if (e->exit_flags & VIGIL_EXIT_OOM) {
		d->cls = VIGIL_CLASS_OOM_KILL;
		return;
	}
	if (d->signal) {
		snprintf(d->detail, sizeof(d->detail), "%s", vigil_signal_name(d->signal, buf));
		if ((e->exit_flags & VIGIL_EXIT_SENDER) && e->sender_tgid != e->hdr.tgid &&
		    !d->core_dumped && stop_signal(d->signal)) {
			d->label = "killed";
			return;
		}
		d->cls = VIGIL_CLASS_CRASH;
		return;
	}
	if (d->status) {
		snprintf(d->detail, sizeof(d->detail), "status=%d", d->status);
		d->cls = VIGIL_CLASS_EXIT_NONZERO;
		return;
	}
	d->label = "exit";
}

void vigil_endpoint(unsigned int family, const unsigned char addr[16], unsigned int port, char *buf,
		    size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (family == AF_INET6) {
		inet_ntop(AF_INET6, addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, port);
	} else {
		inet_ntop(AF_INET, addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, port);
	}
}

/*
 * A socket record: which class, and the endpoint that identifies the fault. For a connection
 * the workload opened, the remote endpoint; for one it accepted, its own listening port — the
 * clients' ephemeral ports would give every reset its own signature.
 */
static void classify_sock(const struct vigil_sock *s, struct vigil_detection *d)
{
	char ep[56];

	/* 10 is TCP_LISTEN: a listener's reset has no remote end either. */
	if ((s->hdr.flags & VIGIL_F_PASSIVE) || s->state == 10)
		snprintf(ep, sizeof(ep), "on :%u", s->lport);
	else
		vigil_endpoint(s->family, s->raddr, s->rport, ep, sizeof(ep));
	switch (s->what) {
	case VIGIL_SOCK_REFUSED:
		d->cls = VIGIL_CLASS_CONN_REFUSED;
		break;
	case VIGIL_SOCK_TIMEOUT:
		d->cls = VIGIL_CLASS_CONN_TIMEOUT;
		break;
	case VIGIL_SOCK_UNREACH:
		d->cls = VIGIL_CLASS_CONN_UNREACHABLE;
		break;
	case VIGIL_SOCK_RESET_RCVD:
		d->cls = VIGIL_CLASS_CONN_RESET;
		break;
	case VIGIL_SOCK_RESET_SENT:
		/* This host aborted the connection: the same class, told apart in the detail. */
		d->cls = VIGIL_CLASS_CONN_RESET;
		snprintf(d->detail, sizeof(d->detail), "sent %s", ep);
		return;
	case VIGIL_SOCK_ERROR:
		/* Errors on a connection past its connect: the ones that are a class. */
		if (s->err == ETIMEDOUT)
			d->cls = VIGIL_CLASS_CONN_TIMEOUT;
		else if (s->err == ECONNRESET)
			d->cls = VIGIL_CLASS_CONN_RESET;
		else if (s->err == EHOSTUNREACH || s->err == ENETUNREACH)
			d->cls = VIGIL_CLASS_CONN_UNREACHABLE;
		else
			d->label = "socket_error";
		break;
	default:
		d->label = "connect_error";
		break;
	}
	snprintf(d->detail, sizeof(d->detail), "%s", ep);
}

static void classify_slow(const struct vigil_slow *s, struct vigil_detection *d)
{
	const char *name = vigil_syscall_name((int)s->syscall);

	d->cls = VIGIL_CLASS_SYSCALL_SLOW;
	if (name)
		snprintf(d->detail, sizeof(d->detail), "%s", name);
	else
		snprintf(d->detail, sizeof(d->detail), "syscall_%u", s->syscall);
}

/* The signature and title of a detection whose class and detail are set. */
static void finish(const char *workload, struct vigil_detection *d)
{
	d->label = vigil_class_name(d->cls);
	vigil_signature(workload, d->cls, d->detail, d->signature);
	snprintf(d->title, sizeof(d->title), "%s %s%s%s", workload, d->label,
		 d->detail[0] ? " " : "", d->detail);
}

void vigil_detect_crash_loop(const char *workload, unsigned int exits, uint64_t window_ms,
			     struct vigil_detection *out)
{
	memset(out, 0, sizeof(*out));
	out->cls = VIGIL_CLASS_CRASH_LOOP;
	/* The count and window go in the title, not the detail: the signature stays one. */
	finish(workload, out);
	snprintf(out->title, sizeof(out->title), "%s crash_loop (%u failed exits in %llu s)",
		 workload, exits, (unsigned long long)window_ms / 1000);
}

uint64_t vigil_hist_p99_floor(const __u64 *slots, unsigned int n, uint64_t count)
{
	uint64_t need = count - count / 100, seen = 0; /* ceil(0.99 count) */

	for (unsigned int i = 0; i < n; i++) {
		seen += slots[i];
		if (seen >= need && seen)
			return i ? 1ull << i : 0;
	}
	return 0;
}

void vigil_detect_slo(const char *workload, const char *syscall, uint64_t p99_ns,
		      uint64_t budget_ms, struct vigil_detection *out)
{
	memset(out, 0, sizeof(*out));
	out->cls = VIGIL_CLASS_LATENCY_SLO;
	snprintf(out->detail, sizeof(out->detail), "%s", syscall);
	finish(workload, out);
	snprintf(out->title, sizeof(out->title),
		 "%s latency_slo %s p99 >= %llu ms (budget %llu ms)", workload, syscall,
		 (unsigned long long)(p99_ns / 1000000), (unsigned long long)budget_ms);
}

void vigil_detect_retransmits(const char *workload, uint64_t count, uint64_t interval_ms,
			      uint64_t threshold_per_s, double baseline_per_s,
			      struct vigil_detection *out)
{
	double rate;

	memset(out, 0, sizeof(*out));
	out->label = "retransmits";
	if (!interval_ms)
		return;
	rate = count * 1000.0 / interval_ms;
	/* Both: enough to matter, and well above what is usual for this workload — a link that
	 * always loses a little is not an incident every second. */
	if (rate < threshold_per_s || rate < VIGIL_ANOMALY_FACTOR * baseline_per_s)
		return;
	out->cls = VIGIL_CLASS_RETRANSMITS;
	finish(workload, out);
}

void vigil_detect_conn_rate(const char *workload, enum vigil_class cls, uint64_t count,
			    uint64_t interval_ms, uint64_t threshold_per_s, double baseline_per_s,
			    struct vigil_detection *out)
{
	double rate;

	memset(out, 0, sizeof(*out));
	out->label = vigil_class_name(cls);
	if (!interval_ms)
		return;
	rate = count * 1000.0 / interval_ms;
	if (rate < threshold_per_s || rate < VIGIL_ANOMALY_FACTOR * baseline_per_s)
		return;
	out->cls = cls;
	/* One signature per (workload, class): "rate", whatever the endpoints. */
	snprintf(out->detail, sizeof(out->detail), "rate");
	finish(workload, out);
	snprintf(out->title, sizeof(out->title), "%s %s rate %.0f/s (baseline %.1f/s)", workload,
		 vigil_class_name(cls), rate, baseline_per_s);
}

double vigil_ewma(double baseline, double sample)
{
	return baseline + VIGIL_EWMA_ALPHA * (sample - baseline);
}

int vigil_detect(const struct vigil_event_hdr *hdr, const char *workload,
		 struct vigil_detection *out)
{
	struct vigil_detection *d = out;

	memset(d, 0, sizeof(*d));
	switch (hdr->kind) {
	case VIGIL_EV_EXIT:
		classify_exit((const struct vigil_exit *)hdr, d);
		break;
	case VIGIL_EV_OOM:
		d->label = "oom_victim";
		return 0;
	case VIGIL_EV_EXEC:
		d->label = "exec";
		return 0;
	case VIGIL_EV_SOCK:
		classify_sock((const struct vigil_sock *)hdr, d);
		break;
	case VIGIL_EV_SLOW:
		classify_slow((const struct vigil_slow *)hdr, d);
		break;
	case VIGIL_EV_HANG:
		/* Which thread of it hung is not what the fault is: no detail. */
		d->cls = VIGIL_CLASS_HANG;
		break;
	default:
		return -EINVAL;
	}
	if (d->cls != VIGIL_CLASS_NONE)
		finish(workload, d);
	return 0;
}
