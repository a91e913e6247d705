// SPDX-License-Identifier: Apache-2.0
/* workloads: match keys in the kernel, /proc scan, pidfiles, cgroup globs, pid lists. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "core/files.h"
#include "kernel/syscalls.h"
#include "detect/workloads.h"

struct wl_state {
	const struct vigil_workload *cfg;
	pid_t *pids; /* live main processes */
	size_t n_pids, cap_pids;
	struct vigil_exe_key exe; /* last key put in the kernel, ino 0 if none */
	uint8_t *hist;		  /* histogram slot of each latency syscall, config order */
	bool pidfile_refused;	  /* said once: its pidfile is not one root alone writes */
};

struct vigil_workloads {
	const struct vigil_config *cfg;
	struct vigil_probes *probes;
	struct wl_state *w; /* cfg->n_workloads */
	char cgroot[512];   /* cgroup v2 mount point */
	unsigned int hists; /* latency histogram slots handed out (slot 0 is "none") */
};

unsigned int vigil_kernel_dev(dev_t dev)
{
	return (major(dev) << 20) | minor(dev);
}

/* Where cgroup v2 is mounted (hybrid hosts: /sys/fs/cgroup/unified). Returns 0 or -ENOENT. */
static int find_cgroup2(char *buf, size_t len)
{
	char line[1024], mnt[512], fstype[64];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		/* "36 25 0:30 / /sys/fs/cgroup/unified rw,... - cgroup2 cgroup2 rw" */
		char *dash = strstr(line, " - ");

		if (!dash || sscanf(dash, " - %63s", fstype) != 1 || strcmp(fstype, "cgroup2"))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %511s", mnt) == 1) {
			snprintf(buf, len, "%s", mnt);
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

static bool has_pid(const struct wl_state *s, pid_t pid)
{
	for (size_t i = 0; i < s->n_pids; i++)
		if (s->pids[i] == pid)
			return true;
	return false;
}

static int add_pid(struct wl_state *s, pid_t pid)
{
	if (has_pid(s, pid))
		return 0;
	if (s->n_pids == s->cap_pids) {
		size_t cap = s->cap_pids ? 2 * s->cap_pids : 8;
		pid_t *np = realloc(s->pids, cap * sizeof(*np));

		if (!np)
			return -ENOMEM;
		s->pids = np;
		s->cap_pids = cap;
	}
	s->pids[s->n_pids++] = pid;
	return 1;
}

int vigil_workloads_watch(struct vigil_workloads *wl, unsigned int workload, pid_t pid)
{
	int ret;

	if (!workload || workload > wl->cfg->n_workloads)
		return -EINVAL;
	ret = vigil_probes_watch(wl->probes, pid, workload);
	if (ret)
		return ret;
	return add_pid(&wl->w[workload - 1], pid) < 0 ? -ENOMEM : 0;
}

void vigil_workloads_seen(struct vigil_workloads *wl, unsigned int workload, pid_t pid)
{
	if (workload && workload <= wl->cfg->n_workloads)
		add_pid(&wl->w[workload - 1], pid);
}

void vigil_workloads_gone(struct vigil_workloads *wl, unsigned int workload, pid_t pid)
{
	struct wl_state *s;

	if (!workload || workload > wl->cfg->n_workloads)
		return;
	s = &wl->w[workload - 1];
	for (size_t i = 0; i < s->n_pids; i++) {
		if (s->pids[i] == pid) {
			s->pids[i] = s->pids[--s->n_pids];
			return;
		}
	}
}

size_t vigil_workloads_pids(const struct vigil_workloads *wl, unsigned int workload, pid_t *out,
			    size_t max)
{
	const struct wl_state *s;

	if (!workload || workload > wl->cfg->n_workloads)
		return 0;
	s = &wl->w[workload - 1];
	for (size_t i = 0; i < s->n_pids && i < max; i++)
		out[i] = s->pids[i];
	return s->n_pids;
}

const char *vigil_workloads_name(const struct vigil_workloads *wl, unsigned int workload,
				 const char *comm, char *buf, size_t len)
{
	size_t i;

	if (workload && workload <= wl->cfg->n_workloads)
		return wl->cfg->workloads[workload - 1].name;
	/* Observe-all: the comm is the name. Bytes stay as they are (the JSON writer escapes
	 * them); only the length is bounded, since a comm need not be NUL-terminated. */
	for (i = 0; i + 1 < len && i < VIGIL_COMM_LEN && comm[i]; i++)
		buf[i] = comm[i];
	buf[i] = '\0';
	return buf;
}

/* Read a whole small file into buf (NUL-terminated, trailing newline dropped). */
static int read_small(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return 0;
}

static bool comm_matches(const struct vigil_match *m, pid_t pid)
{
	char path[64], buf[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	return !read_small(path, buf, sizeof(buf)) && !strcmp(buf, m->comm);
}

static bool exe_matches(const struct wl_state *s, pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	return s->exe.ino && !stat(path, &st) && st.st_ino == s->exe.ino &&
	       vigil_kernel_dev(st.st_dev) == s->exe.dev;
}

static bool cgroup_matches(const struct vigil_workloads *wl, const struct vigil_match *m, pid_t pid)
{
	char path[64], buf[512], *line, *save = NULL;

	if (!wl->cgroot[0])
		return false;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	if (read_small(path, buf, sizeof(buf)))
		return false;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, "0::", 3) && !fnmatch(m->cgroup, line + 3, 0))
			return true;
	return false;
}

/*
 * The pid in workload s's pidfile, or 0: when it holds none, that process is gone, the file is
 * one a user other than root could have written (said once on stderr: a writable pidfile would
 * let anyone name a process for a heal to stop), or the process fails one of the workload's
 * other keys (comm, exe, cgroup: each one given must hold too).
 */
static pid_t read_pidfile(const struct vigil_workloads *wl, struct wl_state *s)
{
	const struct vigil_match *m = &s->cfg->match;
	char buf[32], why[256], *end;
	int err = vigil_file_trusted(m->pidfile, why, sizeof(why));
	long v;

	if (err) {
		if (!s->pidfile_refused && err != -ENOENT)
			fprintf(stderr, "vigil: workload %s: pidfile not taken: %s\n", s->cfg->name,
				why);
		s->pidfile_refused = true;
		return 0;
	}
	s->pidfile_refused = false;
	if (read_small(m->pidfile, buf, sizeof(buf)))
		return 0;
	v = strtol(buf, &end, 10);
	if (end == buf || v <= 0 || v > 4194304 || (*end && !isspace((unsigned char)*end)))
		return 0;
	if (kill((pid_t)v, 0) && errno == ESRCH)
		return 0;
	if ((m->comm && !comm_matches(m, (pid_t)v)) || (m->exe && !exe_matches(s, (pid_t)v)) ||
	    (m->cgroup && !cgroup_matches(wl, m, (pid_t)v)))
		return 0;
	return (pid_t)v;
}

/* Does process pid match workload s? Any one key (the pidfile's pid: see read_pidfile). */
static bool proc_matches(const struct vigil_workloads *wl, struct wl_state *s, pid_t pid)
{
	const struct vigil_match *m = &s->cfg->match;

	if (m->comm && comm_matches(m, pid))
		return true;
	if (m->exe && exe_matches(s, pid))
		return true;
	if (m->cgroup && cgroup_matches(wl, m, pid))
		return true;
	return m->pidfile && read_pidfile(wl, s) == pid;
}

/* Executable inode of workload i into the kernel (again when the file was replaced). */
static void refresh_exe(struct vigil_workloads *wl, unsigned int i)
{
	struct wl_state *s = &wl->w[i];
	struct vigil_exe_key key = {};
	struct stat st;

	if (!s->cfg->match.exe || stat(s->cfg->match.exe, &st))
		return;
	key.ino = st.st_ino;
	key.dev = vigil_kernel_dev(st.st_dev);
	if (key.ino == s->exe.ino && key.dev == s->exe.dev)
		return;
	/* The old inode may still run (an upgrade in place): keep its key too. */
	if (!vigil_probes_match_exe(wl->probes, &key, i + 1))
		s->exe = key;
}

/*
 * Walk the cgroup v2 tree below dir (path relative to the mount: rel) and put the id of each
 * cgroup whose path matches pattern into the kernel. Depth-bounded; returns nothing: a cgroup
 * that vanishes mid-walk is simply not there.
 */
static void walk_cgroups(int fd, const char *rel, const char *pattern, unsigned int workload,
			 int depth, struct vigil_workloads *wl)
{
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (fstat(fd, &st)) {
		close(fd);
		return;
	}
	if (!fnmatch(pattern, rel, 0)) {
		/* cgroup v2 id == kernfs inode number */
		vigil_probes_match_cgroup(wl->probes, st.st_ino, workload);
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while (depth < 32 && (de = readdir(d))) {
		char sub[4096];
		int cfd;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[1] ? "/" : "", de->d_name) >=
		    (int)sizeof(sub))
			continue;
		cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cfd >= 0)
			walk_cgroups(cfd, sub, pattern, workload, depth + 1, wl);
	}
	closedir(d);
}

static void refresh_cgroups(struct vigil_workloads *wl, unsigned int i)
{
	int fd;

	if (!wl->w[i].cfg->match.cgroup || !wl->cgroot[0])
		return;
	fd = open(wl->cgroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		walk_cgroups(fd, "/", wl->w[i].cfg->match.cgroup, i + 1, 0, wl);
}

/* Scan /proc for processes of any workload. Returns how many were added. */
static int scan_proc(struct vigil_workloads *wl)
{
	struct dirent *de;
	DIR *d = opendir("/proc");
	int added = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		for (unsigned int i = 0; i < wl->cfg->n_workloads; i++) {
			if (has_pid(&wl->w[i], pid) || !proc_matches(wl, &wl->w[i], pid))
				continue;
			if (!vigil_workloads_watch(wl, i + 1, pid))
				added++;
			break;
		}
	}
	closedir(d);
	return added;
}

int vigil_workloads_refresh(struct vigil_workloads *wl)
{
	int added = 0;

	for (unsigned int i = 0; i < wl->cfg->n_workloads; i++) {
		struct wl_state *s = &wl->w[i];
		pid_t pid;

		refresh_exe(wl, i);
		refresh_cgroups(wl, i);
		if (s->cfg->match.pidfile && (pid = read_pidfile(wl, s)) && !has_pid(s, pid) &&
		    !vigil_workloads_watch(wl, i + 1, pid))
			added++;
	}
	return added;
}

/*
 * Put workload i's latency settings in the kernel: its budget and a bit per syscall to time.
 * Returns 0, or -ENOENT with err naming a syscall this architecture does not have.
 */
static int put_latency(struct vigil_workloads *wl, unsigned int i, char *err, size_t errlen)
{
	const struct vigil_workload *w = &wl->cfg->workloads[i];
	struct vigil_lat_cfg lc = {};
	int ret;

	if (!w->n_latency_syscalls)
		return 0;
	wl->w[i].hist = calloc(w->n_latency_syscalls, 1);
	if (!wl->w[i].hist)
		return -ENOMEM;
	for (unsigned int k = 0; k < w->n_latency_syscalls; k++) {
		int nr = vigil_syscall_nr(w->latency_syscalls[k]);

		if (nr < 0 || nr >= VIGIL_MAX_SYSCALLS) {
			snprintf(err, errlen,
				 "workload %s: latency.syscalls: '%s' is not a syscall "
				 "on this architecture",
				 w->name, w->latency_syscalls[k]);
			return -ENOENT;
		}
		if (lc.hist[nr]) {
			wl->w[i].hist[k] = lc.hist[nr]; /* named twice: one histogram */
			continue;
		}
		if (wl->hists + 1 >= VIGIL_LAT_HISTS) {
			snprintf(err, errlen,
				 "workload %s: latency.syscalls: more than %d timed "
				 "(workload, syscall) pairs in all",
				 w->name, VIGIL_LAT_HISTS - 1);
			return -E2BIG;
		}
		lc.hist[nr] = wl->w[i].hist[k] = ++wl->hists;
	}
	lc.budget_ns = w->latency_budget_ms * 1000000ull;
	ret = vigil_probes_set_latency(wl->probes, i + 1, &lc);
	/* No latency family (refused by the kernel): status says why; nothing to fill. */
	if (ret && ret != -ENOENT) {
		snprintf(err, errlen, "workload %s: kernel map lat_cfg: %s", w->name,
			 strerror(-ret));
		return ret;
	}
	return 0;
}

unsigned int vigil_workloads_lat_hist(const struct vigil_workloads *wl, unsigned int workload,
				      unsigned int k)
{
	const struct wl_state *s;

	if (!workload || workload > wl->cfg->n_workloads)
		return 0;
	s = &wl->w[workload - 1];
	return s->hist && k < s->cfg->n_latency_syscalls ? s->hist[k] : 0;
}

int vigil_workloads_latency(const struct vigil_workloads *wl, unsigned int workload, unsigned int k,
			    struct vigil_lat_hist *h)
{
	unsigned int slot = vigil_workloads_lat_hist(wl, workload, k);

	if (!slot)
		return -ENOENT;
	for (unsigned int j = 0; j < k; j++)
		if (vigil_workloads_lat_hist(wl, workload, j) == slot)
			return -EEXIST; /* named twice: the first k holds it */
	return vigil_probes_lat_hist(wl->probes, slot, h);
}

bool vigil_workloads_owns(const struct vigil_workloads *wl, unsigned int workload, pid_t pid)
{
	uint32_t w;

	return !vigil_probes_watched(wl->probes, (uint32_t)pid, &w) && w == workload;
}

int vigil_workloads_new(const struct vigil_config *cfg, struct vigil_probes *probes,
			struct vigil_workloads **out, char *err, size_t errlen)
{
	struct vigil_workloads *wl;
	int ret;

	wl = calloc(1, sizeof(*wl));
	if (!wl)
		return -ENOMEM;
	wl->cfg = cfg;
	wl->probes = probes;
	wl->w = calloc(cfg->n_workloads ? cfg->n_workloads : 1, sizeof(*wl->w));
	if (!wl->w) {
		ret = -ENOMEM;
		goto fail;
	}
	if (find_cgroup2(wl->cgroot, sizeof(wl->cgroot)))
		wl->cgroot[0] = '\0';
	for (unsigned int i = 0; i < cfg->n_workloads; i++) {
		const struct vigil_workload *w = &cfg->workloads[i];
		char comm[VIGIL_COMM_LEN] = {};

		wl->w[i].cfg = w;
		ret = put_latency(wl, i, err, errlen);
		if (ret)
			goto fail;
		/* No trace family (refused by the kernel): status says why. */
		ret = w->trace_http || w->trace_env
			  ? vigil_probes_set_trace(probes, i + 1,
						   w->trace_http ? w->trace_bytes : 0, w->trace_env)
			  : 0;
		if (ret && ret != -ENOENT) {
			snprintf(err, errlen, "workload %s: kernel map trace_cfg: %s", w->name,
				 strerror(-ret));
			goto fail;
		}
		if (w->match.cgroup && !wl->cgroot[0]) {
			snprintf(err, errlen,
				 "workload %s: match.cgroup needs cgroup v2, not mounted", w->name);
			ret = -ENOENT;
			goto fail;
		}
		if (!w->match.comm)
			continue;
		strncpy(comm, w->match.comm, sizeof(comm) - 1);
		ret = vigil_probes_match_comm(probes, comm, i + 1);
		if (ret) {
			snprintf(err, errlen, "workload %s: kernel map match_comm: %s", w->name,
				 strerror(-ret));
			goto fail;
		}
	}
	/* Keys first, then the scan: a process exec'd in between is caught by the kernel. */
	vigil_workloads_refresh(wl);
	ret = scan_proc(wl);
	if (ret < 0) {
		snprintf(err, errlen, "scanning /proc: %s", strerror(-ret));
		goto fail;
	}
	*out = wl;
	return 0;
fail:
	vigil_workloads_free(wl);
	return ret;
}

void vigil_workloads_free(struct vigil_workloads *wl)
{
	if (!wl)
		return;
	for (unsigned int i = 0; wl->w && i < wl->cfg->n_workloads; i++) {
		free(wl->w[i].pids);
		free(wl->w[i].hist);
	}
	free(wl->w);
	free(wl);
}

/* --- what `vigil status` and `vigil latency` show ------------------------------------------ */

void vigil_workloads_status_json(const struct vigil_workloads *wl, struct vigil_json *j)
{
	vigil_json_array_begin(j, "workloads");
	for (unsigned int w = 1; w <= wl->cfg->n_workloads; w++) {
		const struct vigil_workload *cw = &wl->cfg->workloads[w - 1];
		const struct wl_state *s = &wl->w[w - 1];
		struct vigil_sock_counts c = {};
		char lat[256] = "";

		for (unsigned int k = 0, o = 0; k < cw->n_latency_syscalls && o < sizeof(lat); k++)
			o += snprintf(lat + o, sizeof(lat) - o, "%s%s", k ? "," : "",
				      cw->latency_syscalls[k]);
		vigil_probes_sock_counts(wl->probes, w, &c);
		vigil_json_object_begin(j, NULL);
		vigil_json_str(j, "name", cw->name);
		vigil_json_array_begin(j, "pids");
		for (size_t i = 0; i < s->n_pids && i < 32; i++)
			vigil_json_i64(j, NULL, s->pids[i]);
		vigil_json_array_end(j);
		vigil_json_u64(j, "established", c.established - c.closed);
		vigil_json_u64(j, "retransmits", c.retransmits);
		vigil_json_u64(j, "resets_received", c.resets_rcvd);
		vigil_json_str(j, "latency_syscalls", lat);
		vigil_json_u64(j, "budget_ms", cw->latency_budget_ms);
		vigil_json_object_end(j);
	}
	vigil_json_array_end(j);
}

/* One workload's histograms as {"name":..,"budget_ms":..,"histograms":[...]}, an element of
 * the array open in j. The counts are monotonic and never reset: a read loses nothing. */
static void latency_of(const struct vigil_workloads *wl, unsigned int w, struct vigil_json *j)
{
	const struct vigil_workload *cw = &wl->cfg->workloads[w - 1];
	struct vigil_lat_hist h;

	vigil_json_object_begin(j, NULL);
	vigil_json_str(j, "name", cw->name);
	vigil_json_u64(j, "budget_ms", cw->latency_budget_ms);
	vigil_json_array_begin(j, "histograms");
	for (unsigned int k = 0; k < cw->n_latency_syscalls; k++) {
		if (vigil_workloads_latency(wl, w, k, &h))
			continue; /* not timed, or named twice: shown once */
		vigil_json_object_begin(j, NULL);
		vigil_json_str(j, "syscall", cw->latency_syscalls[k]);
		vigil_json_i64(j, "nr", vigil_syscall_nr(cw->latency_syscalls[k]));
		vigil_json_u64(j, "count", h.count);
		vigil_json_u64(j, "sum_ns", h.sum_ns);
		vigil_json_array_begin(j, "slots");
		for (int i = 0; i < VIGIL_LAT_SLOTS; i++)
			vigil_json_u64(j, NULL, h.slots[i]);
		vigil_json_array_end(j);
		vigil_json_object_end(j);
	}
	vigil_json_array_end(j);
	vigil_json_object_end(j);
}

int vigil_workloads_latency_answer(const char *arg, struct vigil_json *out, const void *ctx)
{
	const struct vigil_workloads *wl = ctx;
	bool found = false;

	vigil_json_begin(out);
	vigil_json_array_begin(out, "workloads");
	for (unsigned int w = 1; w <= wl->cfg->n_workloads; w++) {
		if (arg && arg[0] && strcmp(arg, wl->cfg->workloads[w - 1].name))
			continue;
		if (!wl->cfg->workloads[w - 1].n_latency_syscalls)
			continue;
		latency_of(wl, w, out);
		found = true;
	}
	vigil_json_array_end(out);
	if (arg && arg[0] && !found)
		return -ENOENT;
	return vigil_json_end(out);
}
