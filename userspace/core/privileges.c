// SPDX-License-Identifier: Apache-2.0
/*
 * privileges: what vigil keeps of root once its programs are loaded (see privileges.h).
 *
 * Capabilities are per thread: the loop's thread drops to the set the config needs before it
 * runs (the threads it starts later inherit that), and the threads started before it (the
 * sinks', the approvals watch's, the fleet reader's: network and files of root's, nothing
 * more) drop everything when they start. The raw capget/capset syscalls: libcap is not a
 * dependency for two calls.
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/json.h"
#include "core/privileges.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static const struct {
	unsigned int cap;
	const char *name;
} names[] = {
    {CAP_KILL, "kill"},
    {CAP_SYS_PTRACE, "sys_ptrace"},
    {CAP_SYS_ADMIN, "sys_admin"},
    {CAP_BPF, "bpf"},
};

/* The highest capability this kernel knows (/proc/sys/kernel/cap_last_cap), or -1. */
static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int n = -1;

	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

uint64_t vigil_privileges_needed(const struct vigil_priv_needs *n)
{
	uint64_t keep = 0;

	/* The watched set and the match maps change while vigil runs: bpf() on their fds. A
	 * kernel without CAP_BPF (before 5.8) asks CAP_SYS_ADMIN for it. */
	keep |= last_cap() >= CAP_BPF ? 1ull << CAP_BPF : 1ull << CAP_SYS_ADMIN;
	if (n->exe_match || n->proc_roots)
		keep |= 1ull << CAP_SYS_PTRACE; /* /proc/PID/exe, /proc/PID/root of anyone's */
	if (n->stops_processes)
		keep |= 1ull << CAP_KILL; /* SIGTERM, SIGKILL to another user's process */
	return keep;
}

const char *vigil_privileges_names(uint64_t caps, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && off < len; i++)
		if (caps & (1ull << names[i].cap))
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "," : "",
						names[i].name);
	if (!off)
		snprintf(buf, len, "none");
	return buf;
}

/* This thread's permitted set, or 0 when the kernel does not say. */
static uint64_t permitted_now(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {};

	if (syscall(SYS_capget, &h, d))
		return 0;
	return d[0].permitted | (uint64_t)d[1].permitted << 32;
}

/* This thread's capability sets: effective, permitted (inheritable none). */
static int set_caps(uint64_t effective, uint64_t permitted)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {};

	for (int i = 0; i < 2; i++) {
		d[i].effective = (uint32_t)(effective >> (32 * i));
		d[i].permitted = (uint32_t)(permitted >> (32 * i));
	}
	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

int vigil_privileges_drop(const struct vigil_priv_needs *n, struct vigil_privs *out, char *err,
			  size_t errlen)
{
	/* What vigil was not given it cannot keep (run with fewer capabilities, it goes on
	 * without: a heal then fails with EPERM, said in its record). */
	uint64_t have = permitted_now(), keep = vigil_privileges_needed(n) & have, all;
	int last = last_cap(), ret = 0;

	memset(out, 0, sizeof(*out));
	if (last < 0 || last > 63) {
		snprintf(err, errlen, "privileges: cannot read /proc/sys/kernel/cap_last_cap");
		return -EIO;
	}
	all = last == 63 ? ~0ull : (1ull << (last + 1)) - 1;
	/* Programs the rules run (a service restarted by exec, systemctl, a rollback tool) need
	 * their own privileges, which vigil cannot know: they keep root's bounding and permitted
	 * sets (their exec as root makes them effective). vigil's own effective set is cut all
	 * the same. Without such rules, nothing beyond keep is left anywhere. */
	/* Dropping from the bounding set takes CAP_SETPCAP; started without it, vigil leaves the
	 * set as it was given (no_new_privs below still keeps an exec from gaining anything). */
	if (!n->runs_programs && (have & (1ull << CAP_SETPCAP)))
		for (int c = 0; c <= last; c++)
			if (!(keep & (1ull << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) &&
			    errno != EINVAL) {
				ret = -errno;
				snprintf(err, errlen, "privileges: dropping capability %d: %s", c,
					 strerror(errno));
				return ret;
			}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	ret = set_caps(keep, n->runs_programs ? all & have : keep);
	if (ret) {
		snprintf(err, errlen, "privileges: capset: %s", strerror(-ret));
		return ret;
	}
	/* Nothing vigil runs gains a privilege by a setuid bit or file capabilities — unless
	 * its rules run programs: no_new_privs survives execve and cannot be cleared, so every
	 * service vigil restarts would carry it, and its setuid helpers and file capabilities
	 * would silently stop working (deploy/vigil.service says the same). */
	if (!n->runs_programs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		ret = -errno;
		snprintf(err, errlen, "privileges: no_new_privs: %s", strerror(errno));
		return ret;
	}
	out->effective = keep;
	out->permitted = n->runs_programs ? all & have : keep;
	out->no_new_privs = !n->runs_programs;
	out->dropped = true;
	return 0;
}

void vigil_privileges_status_json(const struct vigil_privs *p, struct vigil_json *j)
{
	char buf[64];

	vigil_json_object_begin(j, "privileges");
	vigil_json_bool(j, "dropped", p->dropped);
	vigil_json_str(j, "effective", vigil_privileges_names(p->effective, buf, sizeof(buf)));
	vigil_json_str(j, "permitted",
		       p->permitted != p->effective
			   ? "all of root's (rules run programs)"
			   : vigil_privileges_names(p->permitted, buf, sizeof(buf)));
	vigil_json_bool(j, "no_new_privs", p->no_new_privs);
	vigil_json_object_end(j);
}

void vigil_privileges_drop_thread(void)
{
	/* Best effort: a thread that cannot drop keeps what the process had, as before. */
	set_caps(0, 0);
}
