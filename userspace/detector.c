// SPDX-License-Identifier: Apache-2.0
/* detector: classification and signatures. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "detector.h"

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
		[SIGHUP] = "SIGHUP",   [SIGINT] = "SIGINT",	[SIGQUIT] = "SIGQUIT",
		[SIGILL] = "SIGILL",   [SIGTRAP] = "SIGTRAP",	[SIGABRT] = "SIGABRT",
		[SIGBUS] = "SIGBUS",   [SIGFPE] = "SIGFPE",	[SIGKILL] = "SIGKILL",
		[SIGUSR1] = "SIGUSR1", [SIGSEGV] = "SIGSEGV",	[SIGUSR2] = "SIGUSR2",
		[SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM",	[SIGTERM] = "SIGTERM",
		[SIGSTKFLT] = "SIGSTKFLT", [SIGXCPU] = "SIGXCPU", [SIGXFSZ] = "SIGXFSZ",
		[SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF", [SIGIO] = "SIGIO",
		[SIGPWR] = "SIGPWR",   [SIGSYS] = "SIGSYS",
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
	default:
		return -EINVAL;
	}
	if (d->cls == VIGIL_CLASS_NONE)
		return 0;
	d->label = vigil_class_name(d->cls);
	vigil_signature(workload, d->cls, d->detail, d->signature);
	snprintf(d->title, sizeof(d->title), "%s %s%s%s", workload, d->label,
		 d->detail[0] ? " " : "", d->detail);
	return 0;
}
