// SPDX-License-Identifier: Apache-2.0
/* pods: a process's Kubernetes pod, learnt while it lives, kept for its incidents (pods.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/files.h"
#include "detect/pods.h"

#define BUCKETS 1024u
#define HOST_FILE_MAX 512 /* /etc/hostname, the namespace file: a name and a newline */

struct entry {
	uint64_t cg;
	uint32_t tgid;		   /* 0: the cgroup tells, whoever's process it is */
	uint64_t start_ns;	   /* with tgid: that process's start (CLOCK_MONOTONIC, a tick) */
	struct vigil_pod *pod;	   /* NULL: not in a pod */
	struct entry *hnext;	   /* bucket chain */
	struct entry *prev, *next; /* least recently used last */
};

struct vigil_pods {
	struct vigil_pods_opts o;
	char proc[256];
	char cgroup2[512]; /* "": not known */
	struct stat host_root;
	bool host_root_known; /* <proc>/1/root: a process whose root it is lives in no container */
	uint64_t tick_ns;     /* /proc/PID/stat's clock tick */
	struct entry *buckets[BUCKETS];
	struct entry lru; /* sentinel: lru.next the most recent */
	char *buf;	  /* /proc/PID/cgroup, VIGIL_POD_CGROUP_MAX + 1 */
	struct vigil_pods_stats st;
};

/* --- the table ------------------------------------------------------------------------------- */

static unsigned int bucket(uint64_t cg, uint32_t tgid)
{
	uint64_t h = (cg ^ ((uint64_t)tgid << 32 | tgid)) * 0x9e3779b97f4a7c15ull;

	return (unsigned int)(h >> 40) % BUCKETS;
}

static void lru_unlink(struct entry *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
}

static void lru_front(struct vigil_pods *p, struct entry *e)
{
	e->next = p->lru.next;
	e->prev = &p->lru;
	p->lru.next->prev = e;
	p->lru.next = e;
}

/* The entry of (cg, tgid), made the most recent; or NULL. */
static struct entry *find(struct vigil_pods *p, uint64_t cg, uint32_t tgid)
{
	for (struct entry *e = p->buckets[bucket(cg, tgid)]; e; e = e->hnext) {
		if (e->cg != cg || e->tgid != tgid)
			continue;
		lru_unlink(e);
		lru_front(p, e);
		return e;
	}
	return NULL;
}

static void drop(struct vigil_pods *p, struct entry *e)
{
	struct entry **pp = &p->buckets[bucket(e->cg, e->tgid)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(e);
	p->st.entries--;
	free(e->pod);
	free(e);
}

/* Keep pod (NULL: not in a pod) under (cg, tgid) — process tgid started at start_ns — in
 * place of what was; the least recently used entry leaves a full table. Returns 0 or
 * -ENOMEM. */
static int keep(struct vigil_pods *p, uint64_t cg, uint32_t tgid, uint64_t start_ns,
		const struct vigil_pod *pod)
{
	struct entry *e = find(p, cg, tgid);
	struct vigil_pod *copy = NULL;
	unsigned int b;

	if (pod) {
		copy = malloc(sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		*copy = *pod;
	}
	if (e) {
		free(e->pod);
		e->pod = copy;
		e->start_ns = start_ns;
		return 0;
	}
	if (p->st.entries >= p->st.max) {
		drop(p, p->lru.prev);
		p->st.evicted++;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		free(copy);
		return -ENOMEM;
	}
	e->cg = cg;
	e->tgid = tgid;
	e->start_ns = start_ns;
	e->pod = copy;
	b = bucket(cg, tgid);
	e->hnext = p->buckets[b];
	p->buckets[b] = e;
	lru_front(p, e);
	p->st.entries++;
	return 0;
}

/* --- reading ------------------------------------------------------------------------------- */

/* <proc>/<pid>/<name> (a /proc file: no size to trust) into buf, NUL-terminated. Returns its
 * length, or -errno: -EFBIG when it holds len bytes or more. */
static ssize_t read_proc(const struct vigil_pods *p, uint32_t pid, const char *name, char *buf,
			 size_t len)
{
	char path[320];
	size_t n = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%u/%s", p->proc, pid, name);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (n < len) {
		ssize_t r = read(fd, buf + n, len - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			close(fd);
			if (r < 0)
				return -errno;
			buf[n] = '\0';
			return (ssize_t)n;
		}
		n += (size_t)r;
	}
	close(fd);
	return -EFBIG;
}

/* CLOCK_BOOTTIME - CLOCK_MONOTONIC now: the time the host has been suspended (and the few ns
 * between the two reads). */
static uint64_t suspended_ns(void)
{
	struct timespec b, m;
	int64_t d;

	clock_gettime(CLOCK_MONOTONIC, &m);
	clock_gettime(CLOCK_BOOTTIME, &b);
	d = (int64_t)(b.tv_sec - m.tv_sec) * 1000000000ll + (b.tv_nsec - m.tv_nsec);
	return d > 0 ? (uint64_t)d : 0;
}

/*
 * When process pid started, as CLOCK_MONOTONIC ns, into *start_ns. /proc/PID/stat says
 * CLOCK_BOOTTIME in clock ticks: the time suspended until now is taken off (at most what it was
 * when it started: never later than true). Returns 0 or -errno.
 */
static int proc_start(const struct vigil_pods *p, uint32_t pid, uint64_t *start_ns)
{
	char buf[1024], *s;
	unsigned long long ticks;
	uint64_t off;
	ssize_t n = read_proc(p, pid, "stat", buf, sizeof(buf));

	if (n < 0)
		return (int)n;
	/* "PID (COMM) S PPID ...": the comm may hold anything, ")" included; starttime is the
	 * 20th field after it. */
	s = strrchr(buf, ')');
	for (int field = 0; s && field < 20; field++)
		s = strchr(s + 1, ' ');
	if (!s || sscanf(s + 1, "%llu", &ticks) != 1)
		return -EINVAL;
	*start_ns = (uint64_t)ticks * p->tick_ns;
	off = suspended_ns();
	*start_ns = *start_ns > off ? *start_ns - off : 0;
	return 0;
}

/*
 * Is pid still the process an event at ts_ns (CLOCK_MONOTONIC) was about? It is if it started
 * before then: a pid is given to a new process only after its last one is gone, which is after
 * any event about that one. Its start into *start_ns.
 */
static bool same_process(const struct vigil_pods *p, uint32_t pid, uint64_t ts_ns,
			 uint64_t *start_ns)
{
	return !proc_start(p, pid, start_ns) && *start_ns <= ts_ns;
}

/* Is the process of event h the one entry e (kept under its pid) was learnt from? The same
 * start, within the ticks /proc counts in: the event's own (exec, exit), or /proc's now. */
static bool still_same(const struct vigil_pods *p, const struct entry *e,
		       const struct vigil_event_hdr *h)
{
	uint64_t start;

	if (h->kind == VIGIL_EV_EXEC && h->size >= sizeof(struct vigil_exec))
		start = ((const struct vigil_exec *)h)->start_ns;
	else if (h->kind == VIGIL_EV_EXIT && h->size >= sizeof(struct vigil_exit))
		start = ((const struct vigil_exit *)h)->start_ns;
	else if (proc_start(p, h->tgid, &start))
		return false;
	return start + 2 * p->tick_ns >= e->start_ns && e->start_ns + 2 * p->tick_ns >= start;
}

/* The path of the v2 line of /proc/PID/cgroup's text, or NULL. */
static const char *v2_path(const char *text, size_t *len)
{
	const char *l = text;

	while (l) {
		if (!strncmp(l, "0::", 3)) {
			*len = strcspn(l + 3, "\n");
			return l + 3;
		}
		l = strchr(l, '\n');
		l = l ? l + 1 : NULL;
	}
	return NULL;
}

/*
 * The cgroup id of a v2 path (its directory's inode under the mount) into *id. Returns 0, or
 * -ENOENT when it cannot be told: no mount known, a path outside vigil's cgroup namespace
 * ("/.."), or the cgroup is gone.
 */
static int v2_id(const struct vigil_pods *p, const char *path, size_t len, uint64_t *id)
{
	char full[1024];
	struct stat st;

	if (!p->cgroup2[0] || len >= sizeof(full) - strlen(p->cgroup2) ||
	    memmem(path, len, "/..", 3))
		return -ENOENT;
	snprintf(full, sizeof(full), "%s%.*s", p->cgroup2, (int)len, path);
	if (stat(full, &st) || !S_ISDIR(st.st_mode))
		return -ENOENT;
	*id = st.st_ino;
	return 0;
}

/* The names of container id in runtime directory dir (fmt: where its config.json is under it).
 * Returns as vigil_pod_parse_oci(), or the -errno of reading. */
static int from_runtime(const char *dir, const char *fmt, const struct vigil_pod_cgroup *pc,
			enum vigil_runtime rt, struct vigil_pod *pod)
{
	char path[1024], *text;
	size_t len;
	int fd, err;

	if (!dir)
		return -ENOENT;
	snprintf(path, sizeof(path), fmt, dir, pc->container_id);
	/* The runtime's own file: never a link, never a FIFO to block on. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = vigil_read_small_fd(fd, VIGIL_POD_OCI_MAX, &text, &len);
	close(fd);
	if (err)
		return err;
	err = vigil_pod_parse_oci(text, len, rt, pc->uid, pod);
	free(text);
	return err;
}

/* The file at rel inside the root directory root (its links resolved as if it were "/", so
 * that a container cannot point vigil at the host's files), its first line into buf. Returns 0
 * or -errno. */
static int read_in_root(int root, const char *rel, char *buf, size_t len)
{
	struct open_how how = {
	    .flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	size_t n = 0;
	int fd = (int)syscall(SYS_openat2, root, rel, &how, sizeof(how));
	struct stat st;
	ssize_t r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	while (n < len && (r = read(fd, buf + n, len - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (r < 0 || n >= len)
		return r < 0 ? -EIO : -EFBIG;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

/* The pod's name and namespace from the process's own files, when it runs in a filesystem of
 * its own: kubelet's /etc/hostname (the pod's name, unless the pod sets spec.hostname) and the
 * service account's namespace file. Returns 0 (one at least), or -errno. */
static int from_root(const struct vigil_pods *p, uint32_t pid, struct vigil_pod *pod)
{
	char path[320], buf[HOST_FILE_MAX];
	struct stat st;
	bool any = false;
	int root;

	if (!p->host_root_known)
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/%u/root", p->proc, pid);
	root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -errno;
	/* The host's own root: its hostname is the node's. */
	if (fstat(root, &st) ||
	    (st.st_dev == p->host_root.st_dev && st.st_ino == p->host_root.st_ino)) {
		close(root);
		return -ENOENT;
	}
	if (!read_in_root(root, "etc/hostname", buf, sizeof(buf)) && vigil_pod_dns_subdomain(buf) &&
	    (!p->o.node || strcmp(buf, p->o.node))) {
		strcpy(pod->name, buf);
		any = true;
	}
	if (!read_in_root(root, "var/run/secrets/kubernetes.io/serviceaccount/namespace", buf,
			  sizeof(buf)) &&
	    vigil_pod_dns_label(buf, VIGIL_POD_LABEL_MAX)) {
		strcpy(pod->ns, buf);
		any = true;
	}
	close(root);
	return any ? 0 : -ENOENT;
}

enum source { NAMED_NOT, NAMED_BY_RUNTIME, NAMED_BY_PROC };

/* The names of pc's pod into pod: from the runtime's state, or else the process's files.
 * Returns where they came from. */
static enum source names(const struct vigil_pods *p, uint32_t pid,
			 const struct vigil_pod_cgroup *pc, struct vigil_pod *pod)
{
	int err = -ENOENT;

	if (pc->container_id[0] &&
	    (pc->runtime == VIGIL_RUNTIME_CONTAINERD || pc->runtime == VIGIL_RUNTIME_UNKNOWN))
		err = from_runtime(p->o.containerd, "%s/%s/config.json", pc,
				   VIGIL_RUNTIME_CONTAINERD, pod);
	if (err && err != -ESTALE && pc->container_id[0] &&
	    (pc->runtime == VIGIL_RUNTIME_CRIO || pc->runtime == VIGIL_RUNTIME_UNKNOWN))
		err = from_runtime(p->o.crio, "%s/%s/userdata/config.json", pc, VIGIL_RUNTIME_CRIO,
				   pod);
	if (!err)
		return NAMED_BY_RUNTIME;
	/* The runtime said the container is another pod's: nothing is believed. */
	if (err == -ESTALE || !p->o.proc_fallback || from_root(p, pid, pod))
		return NAMED_NOT;
	return NAMED_BY_PROC;
}

/*
 * Learn process pid's pod from its /proc, for an event about it at ts_ns in v2 cgroup cg (0:
 * not known — the inode of its v2 directory when that can be told, or else kept under its pid).
 * Returns 0 with *out (uid "": not in a pod), or -errno: gone or unreadable (-ENOENT,
 * -EINVAL...), refused (-ESTALE: it left the cgroup; -ESRCH: the pid is another process's).
 */
static int learn(struct vigil_pods *p, uint32_t pid, uint64_t cg, uint64_t ts_ns,
		 struct vigil_pod *out)
{
	enum source src = NAMED_NOT;
	struct vigil_pod_cgroup pc;
	struct vigil_pod pod = {0};
	uint64_t id, start;
	const char *path;
	size_t plen = 0;
	ssize_t n;
	int err;

	memset(out, 0, sizeof(*out));
	n = read_proc(p, pid, "cgroup", p->buf, VIGIL_POD_CGROUP_MAX + 1);
	err = n < 0 ? (int)n : vigil_pod_parse_proc_cgroup(p->buf, (size_t)n, &pc);
	if (n < 0 || (err && err != -ENOENT)) {
		p->st.unreadable++;
		return n < 0 ? (int)n : err;
	}
	/* The v2 directory is the event's cgroup, when it can be told. */
	path = v2_path(p->buf, &plen);
	if (path && !v2_id(p, path, plen, &id)) {
		if (cg && id != cg) {
			p->st.refused++;
			return -ESTALE;
		}
		cg = id;
	}
	if (!err) {
		memcpy(pod.uid, pc.uid, sizeof(pod.uid));
		src = names(p, pid, &pc, &pod);
	}
	/* Last: everything read so far was pid's while it was the event's process. */
	if (!same_process(p, pid, ts_ns, &start)) {
		p->st.refused++;
		return -ESRCH;
	}
	p->st.learned++;
	p->st.in_pods += !err;
	p->st.from_runtime += !err && src == NAMED_BY_RUNTIME;
	p->st.from_proc += !err && src == NAMED_BY_PROC;
	p->st.unnamed += !err && src == NAMED_NOT;
	/* Under the cgroup when the v2 cgroup alone tells (the pod was on its line; no pod on a
	 * host with nothing but v2), or else under the pid. */
	if (keep(p, cg, cg && (err ? pc.v2_only : pc.from_v2) ? 0 : pid, start, err ? NULL : &pod))
		return -ENOMEM;
	*out = pod;
	return 0;
}

/* --- the interface --------------------------------------------------------------------------- */

/* Where cgroup v2 is mounted (hybrid hosts: /sys/fs/cgroup/unified), into buf; "" if not. */
static void find_cgroup2(char *buf, size_t len)
{
	char line[1024], mnt[512], fstype[64];
	FILE *f = fopen("/proc/self/mountinfo", "re");

	buf[0] = '\0';
	while (f && fgets(line, sizeof(line), f)) {
		/* "36 25 0:30 / /sys/fs/cgroup/unified rw,... - cgroup2 cgroup2 rw" */
		char *dash = strstr(line, " - ");

		if (!dash || sscanf(dash, " - %63s", fstype) != 1 || strcmp(fstype, "cgroup2"))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %511s", mnt) == 1) {
			snprintf(buf, len, "%s", mnt);
			break;
		}
	}
	if (f)
		fclose(f);
}

int vigil_pods_new(const struct vigil_pods_opts *o, struct vigil_pods **out)
{
	struct vigil_pods *p = calloc(1, sizeof(*p));
	char path[320];
	long hz = sysconf(_SC_CLK_TCK);

	*out = NULL;
	if (!p)
		return -ENOMEM;
	p->buf = malloc(VIGIL_POD_CGROUP_MAX + 2);
	if (!p->buf) {
		free(p);
		return -ENOMEM;
	}
	p->o = *o;
	snprintf(p->proc, sizeof(p->proc), "%s", o->proc ? o->proc : "/proc");
	if (o->cgroup2)
		snprintf(p->cgroup2, sizeof(p->cgroup2), "%s", o->cgroup2);
	else
		find_cgroup2(p->cgroup2, sizeof(p->cgroup2));
	snprintf(path, sizeof(path), "%s/1/root", p->proc);
	p->host_root_known = !stat(path, &p->host_root);
	p->tick_ns = 1000000000ull / (uint64_t)(hz > 0 ? hz : 100);
	p->st.max = o->max ? o->max : VIGIL_PODS_MAX;
	p->lru.next = p->lru.prev = &p->lru;
	*out = p;
	return 0;
}

void vigil_pods_free(struct vigil_pods *p)
{
	if (!p)
		return;
	while (p->lru.next != &p->lru)
		drop(p, p->lru.next);
	free(p->buf);
	free(p);
}

/* Does dir hold a kubelet's cgroup? */
static bool kubelet_cgroup_in(const char *dir)
{
	static const char *const names[] = {"kubepods", "kubepods.slice", "kubelet.slice"};
	char path[1024];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) < (int)sizeof(path) &&
		    !access(path, F_OK))
			return true;
	}
	return false;
}

bool vigil_pods_node_runs_pods(const struct vigil_pods_opts *o)
{
	const char *root = o->cgroup_root ? o->cgroup_root : "/sys/fs/cgroup";
	char cg2[512], path[1024];
	struct dirent *de;
	bool found = false;
	DIR *d;

	if ((o->containerd && !access(o->containerd, F_OK)) || (o->crio && !access(o->crio, F_OK)))
		return true;
	if (o->cgroup2)
		snprintf(cg2, sizeof(cg2), "%s", o->cgroup2);
	else
		find_cgroup2(cg2, sizeof(cg2));
	if ((cg2[0] && kubelet_cgroup_in(cg2)) || kubelet_cgroup_in(root))
		return true;
	/* v1: /sys/fs/cgroup/memory/kubepods, ... */
	d = opendir(root);
	while (d && !found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", root, de->d_name);
		found = kubelet_cgroup_in(path);
	}
	if (d)
		closedir(d);
	return found;
}

void vigil_pods_lookup(struct vigil_pods *p, const struct vigil_event_hdr *h, bool learn_now,
		       struct vigil_pod *out)
{
	struct entry *e = NULL;

	memset(out, 0, sizeof(*out));
	if (!p)
		return;
	if (h->cgroup_id)
		e = find(p, h->cgroup_id, 0);
	/* Kept under its pid (or learnt at start, before its cgroup id was known): while that
	 * pid is still the same process. */
	if (!e && h->tgid && h->cgroup_id)
		e = find(p, h->cgroup_id, h->tgid);
	if (!e && h->tgid)
		e = find(p, 0, h->tgid);
	if (e && e->tgid && !still_same(p, e, h)) {
		drop(p, e);
		e = NULL;
	}
	if (e) {
		if (e->pod)
			*out = *e->pod;
		return;
	}
	if (learn_now && h->cgroup_id && h->tgid)
		learn(p, h->tgid, h->cgroup_id, h->ts_ns, out);
}

int vigil_pods_learn(struct vigil_pods *p, pid_t pid, uint64_t now_ns)
{
	struct vigil_pod pod;

	if (!p || pid <= 0)
		return -EINVAL;
	return learn(p, (uint32_t)pid, 0, now_ns, &pod);
}

void vigil_pods_exit(struct vigil_pods *p, uint64_t cgroup_id, uint32_t tgid)
{
	struct entry *e;

	if (!p || !tgid)
		return;
	if (cgroup_id && (e = find(p, cgroup_id, tgid)))
		drop(p, e);
	if ((e = find(p, 0, tgid)))
		drop(p, e);
}

void vigil_pods_stats(const struct vigil_pods *p, struct vigil_pods_stats *st)
{
	if (p)
		*st = p->st;
	else
		memset(st, 0, sizeof(*st));
}

void vigil_pods_status_json(const struct vigil_pods *p, struct vigil_json *j)
{
	vigil_json_object_begin(j, "k8s");
	vigil_json_bool(j, "enabled", p != NULL);
	if (p) {
		vigil_json_str(j, "containerd", p->o.containerd ? p->o.containerd : "");
		vigil_json_str(j, "crio", p->o.crio ? p->o.crio : "");
		vigil_json_bool(j, "proc_fallback", p->o.proc_fallback);
		vigil_json_u64(j, "entries", p->st.entries);
		vigil_json_u64(j, "max", p->st.max);
		vigil_json_u64(j, "learned", p->st.learned);
		vigil_json_u64(j, "in_pods", p->st.in_pods);
		vigil_json_u64(j, "from_runtime", p->st.from_runtime);
		vigil_json_u64(j, "from_proc", p->st.from_proc);
		vigil_json_u64(j, "unnamed", p->st.unnamed);
		vigil_json_u64(j, "unreadable", p->st.unreadable);
		vigil_json_u64(j, "refused", p->st.refused);
		vigil_json_u64(j, "evicted", p->st.evicted);
	}
	vigil_json_object_end(j);
}
