// SPDX-License-Identifier: Apache-2.0
/*
 * doctor: each check says OK, or what is missing and how to fix it. Required checks decide
 * the exit status; optional ones name the feature that degrades without them.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "config/config.h"
#include "cli/doctor.h"
#include "control/mhd_lib.h"
#include "control/table.h"
#include "core/curl_lib.h"
#include "detect/pods.h"
#include "kernel/loader.h"
#include "output/otlp.h"
#include "output/postgres.h"
#include "output/pq_lib.h"
#include "output/redis.h"

#define CAP_SYS_ADMIN_BIT 21
#define CAP_PERFMON_BIT 38
#define CAP_BPF_BIT 39

struct report {
	FILE *out;
	int missing; /* required checks that failed */
};

/* The report is a table printed a row at a time, as each check finishes (loading the probes
 * takes a while): its widths are fixed, wide enough for every status, need and check name. */
static const size_t width[] = {8, 9, 30, 0};
#define NCOLS (sizeof(width) / sizeof(width[0]))

static void row(struct report *r, bool required, bool ok, const char *what, const char *detail)
{
	const char *st = ok ? "OK" : required ? "MISSING" : "WARN";
	const char *text[NCOLS] = {st, required ? "required" : "optional", what, detail};

	if (!ok && required)
		r->missing++;
	vigil_table_line(r->out, width, NCOLS, 0, 1, text);
}

static unsigned long long effective_caps(void)
{
	char line[256];
	unsigned long long caps = 0;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return caps;
}

static bool path_exists(const char *p)
{
	struct stat st;

	return !stat(p, &st);
}

static bool mounted(const char *fstype, char *where, size_t len)
{
	char line[1024], mnt[512], type[64];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *dash = strstr(line, " - ");

		if (dash && sscanf(dash, " - %63s", type) == 1 && !strcmp(type, fstype) &&
		    sscanf(line, "%*s %*s %*s %*s %511s", mnt) == 1) {
			snprintf(where, len, "%s", mnt);
			found = true;
		}
	}
	fclose(f);
	return found;
}

/* Really load and attach the exits programs in one mode, then detach. */
/* Rows for the optional families of an open probe set: attached, or why not. */
static void family_rows(struct report *r, const struct vigil_probes *p)
{
	static const char *const what[VIGIL_FAM_MAX] = {
	    [VIGIL_FAM_SOCKETS] = "socket errors, resets, retransmits, connection counts",
	    [VIGIL_FAM_LATENCY] = "syscall latency histograms and slow-syscall events",
	    [VIGIL_FAM_TRACE] = "traceparent of inbound HTTP requests (trace.http)",
	};
	char progs[256], detail[640], check[64];

	for (enum vigil_family f = VIGIL_FAM_SOCKETS; f < VIGIL_FAM_MAX; f++) {
		bool ok = vigil_probes_has(p, f);

		vigil_probes_attached(p, f, progs, sizeof(progs));
		snprintf(check, sizeof(check), "tp_btf programs (%s)", vigil_family_name(f));
		snprintf(detail, sizeof(detail), ok ? "%s: %s" : "%s unavailable: %s", what[f],
			 ok ? progs : vigil_probes_error(p, f));
		row(r, false, ok, check, detail);
	}
}

/* Really load and attach the programs in one mode, then detach. */
static void probe_mode(struct report *r, bool classic)
{
	struct vigil_probe_opts o = {.force_classic = classic,
				     .ringbuf_bytes = 4096 * 16,
				     .sockets = !classic,
				     .latency = !classic,
				     .trace = !classic,
				     .trace_env = !classic};
	struct vigil_probes *p = NULL;
	char err[512] = "", detail[640], progs[256];
	int ret;

	ret = vigil_probes_open(&o, &p, err, sizeof(err));
	if (!ret) {
		unsigned int n = vigil_probes_attached(p, VIGIL_FAM_EXITS, progs, sizeof(progs));

		snprintf(detail, sizeof(detail), "loaded and attached %u programs: %s", n, progs);
		if (!classic && strcmp(vigil_probes_mode(p), "tp_btf"))
			snprintf(detail, sizeof(detail),
				 "tp_btf refused; the classic fallback attached instead");
	} else {
		snprintf(detail, sizeof(detail), "%s", err);
	}
	if (classic) {
		row(r, false, !ret, "classic tracepoints",
		    ret ? detail : "exits fallback works (vigil mounts tracefs when it needs it)");
	} else {
		row(r, true, !ret && !strcmp(vigil_probes_mode(p), "tp_btf"),
		    "tp_btf programs (exits)", detail);
		if (!ret)
			family_rows(r, p);
	}
	vigil_probes_close(p);
}

/* The directory of path exists or can be made, and is writable. */
static bool dir_writable(const char *path, char *buf, size_t len)
{
	char dir[512];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	if (mkdir(dir, 0755) && errno != EEXIST) {
		snprintf(buf, len, "cannot create %.300s: %s", dir, strerror(errno));
		return false;
	}
	if (access(dir, W_OK)) {
		snprintf(buf, len, "%.300s is not writable: %s", dir, strerror(errno));
		return false;
	}
	snprintf(buf, len, "%.300s writable", dir);
	return true;
}

/* What the config names: its Redis (reachable now?), and where it keeps its files. */
static void config_rows(struct report *r, const struct vigil_config *c)
{
	char buf[512];
	bool ok;

	ok = dir_writable(c->knowledge, buf, sizeof(buf));
	row(r, false, ok, "knowledge store", buf);
	ok = dir_writable(c->state, buf, sizeof(buf));
	row(r, false, ok, "healer state", buf);
	if (!c->redis_url) {
		row(r, false, true, "redis", "not configured (no redis.url): journal only");
		return;
	}
	{
		const struct vigil_redis_opts o = {
		    .url = c->redis_url,
		    .username = c->redis_username,
		    .password = c->redis_password,
		    .timeout_ms = 2000,
		};
		char msg[256];

		ok = !vigil_redis_ping(&o, msg, sizeof(msg));
		snprintf(buf, sizeof(buf),
			 ok ? "%s" : "%s: vigil still runs, and spools records until Redis answers",
			 msg);
		row(r, false, ok, "redis", buf);
	}
	ok = dir_writable(c->redis_spool, buf, sizeof(buf));
	row(r, false, ok, "redis spool", buf);
}

/*
 * The client libraries vigil opens at run time (core/dynlib.h), each only when the config uses
 * what needs it: whether each can be opened with every function vigil calls. Required when the
 * config uses it (vigil would not start); an http heal action needs libcurl at config load
 * already, so such a config does not get this far without it.
 */
static void library_rows(struct report *r, const struct vigil_config *c)
{
	const struct {
		const char *name, *pkg, *what;
		bool used;
	} libs[] = {
	    {VIGIL_CURL_SONAME, "libcurl4", "the otlp sink and the http heal action",
	     c && c->otlp_endpoint},
	    {VIGIL_PQ_SONAME, "libpq5", "the postgres sink", c && c->pg_url},
	    {VIGIL_MHD_SONAME, "libmicrohttpd12", "metrics.listen (/metrics, alerts)",
	     c && c->metrics_listen},
	};
	const struct vigil_curl *cu;
	const struct vigil_pq *pq;
	const struct vigil_mhd *mhd;
	char why[3][256], buf[512];
	int err[3];

	err[0] = vigil_curl_load(&cu, why[0], sizeof(why[0]));
	err[1] = vigil_pq_load(&pq, why[1], sizeof(why[1]));
	err[2] = vigil_mhd_load(&mhd, why[2], sizeof(why[2]));
	for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
		if (!err[i])
			snprintf(buf, sizeof(buf), "loadable: %s%s", libs[i].what,
				 libs[i].used ? " (this config uses it)" : "");
		else
			snprintf(buf, sizeof(buf), "%.255s: %s %s (install %s)", why[i],
				 libs[i].used ? "this config needs it for" : "without it, no",
				 libs[i].what, libs[i].pkg);
		row(r, libs[i].used, !err[i], libs[i].name, buf);
	}
}

/* Its PostgreSQL: reachable now, sql/ applied; and the spool's directory. */
static void postgres_rows(struct report *r, const struct vigil_config *c)
{
	const struct vigil_pg_opts o = {
	    .url = c->pg_url,
	    .password = c->pg_password,
	    .password_file = c->pg_password_file,
	};
	const struct vigil_pq *pq;
	char msg[400], buf[512];
	bool ok;

	if (!c->pg_url)
		return;
	if (vigil_pq_load(&pq, msg, sizeof(msg))) {
		row(r, false, false, "postgres",
		    "not tried: libpq cannot be opened (its row above)");
		return;
	}
	ok = !vigil_pg_ping(&o, msg, sizeof(msg));
	snprintf(buf, sizeof(buf),
		 ok ? "%s" : "%s: vigil still runs, and spools records until PostgreSQL takes them",
		 msg);
	row(r, false, ok, "postgres", buf);
	ok = dir_writable(c->pg_spool, buf, sizeof(buf));
	row(r, false, ok, "postgres spool", buf);
}

/* The release against the README's kernel table: a hint only (distributions backport BPF
 * features), so optional; the rows below check the features themselves. */
static void kernel_row(struct report *r, const char *release)
{
	unsigned int major = 0, minor = 0;
	char buf[256];
	bool ok;

	ok = sscanf(release, "%u.%u", &major, &minor) == 2 &&
	     (major > VIGIL_MIN_KERNEL_MAJOR ||
	      (major == VIGIL_MIN_KERNEL_MAJOR && minor >= VIGIL_MIN_KERNEL_MINOR));
	snprintf(buf, sizeof(buf),
		 ok ? "%u.%u: at least %d.%d (README: Kernels)"
		    : "%u.%u: older than %d.%d, whose BPF atomics the exits programs need (unless "
		      "backported: the tp_btf row below tells)",
		 major, minor, VIGIL_MIN_KERNEL_MAJOR, VIGIL_MIN_KERNEL_MINOR);
	row(r, false, ok, "kernel version", buf);
}

/* Containers in a runtime's state directory: how many, or -1 when it cannot be read. */
static int containers_in(const char *dir)
{
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* k8s: on or not on this node, and which runtime's state names the pods. */
static void k8s_rows(struct report *r, const struct vigil_config *c)
{
	struct vigil_pods_opts o = {.containerd = c->k8s_containerd, .crio = c->k8s_crio};
	int cd = containers_in(c->k8s_containerd), crio = containers_in(c->k8s_crio);
	char buf[1200];

	if (c->k8s == VIGIL_K8S_OFF ||
	    (c->k8s == VIGIL_K8S_AUTO && !vigil_pods_node_runs_pods(&o))) {
		row(r, false, true, "k8s",
		    c->k8s == VIGIL_K8S_OFF ? "off" : "auto: no pods on this node, off");
		return;
	}
	if (cd >= 0 || crio >= 0)
		snprintf(buf, sizeof(buf), "pods named from %s state at %.400s (%d containers)",
			 cd >= 0 ? "containerd's" : "CRI-O's",
			 cd >= 0 ? c->k8s_containerd : c->k8s_crio, cd >= 0 ? cd : crio);
	else
		snprintf(buf, sizeof(buf),
			 "no runtime state at %.400s or %.400s: pods named %s (mount the runtime's "
			 "state directory read-only)",
			 c->k8s_containerd, c->k8s_crio,
			 c->k8s_proc_fallback ? "from their own files only, no container names"
					      : "by uid only");
	row(r, false, cd >= 0 || crio >= 0, "k8s", buf);
}

/* Its OTLP receiver: an empty export request answered with a 2xx; and the spool's
 * directory. */
static void otlp_rows(struct report *r, const struct vigil_config *c)
{
	const struct vigil_otlp_opts o = {
	    .endpoint = c->otlp_endpoint,
	    .headers = (const char *const *)c->otlp_headers,
	    .n_headers = c->otlp_n_headers,
	    .timeout_ms = (unsigned int)c->otlp_timeout_ms,
	};
	const struct vigil_curl *cu;
	char msg[400], buf[512];
	bool ok;

	if (!c->otlp_endpoint)
		return;
	if (vigil_curl_load(&cu, msg, sizeof(msg))) {
		row(r, false, false, "otlp", "not tried: libcurl cannot be opened (its row above)");
		return;
	}
	ok = !vigil_otlp_ping(&o, msg, sizeof(msg));
	snprintf(buf, sizeof(buf),
		 ok ? "%s"
		    : "%s: vigil still runs, and spools records until the receiver takes them",
		 msg);
	row(r, false, ok, "otlp", buf);
	ok = dir_writable(c->otlp_spool, buf, sizeof(buf));
	row(r, false, ok, "otlp spool", buf);
}

int vigil_doctor(FILE *out, const struct vigil_config *cfg)
{
	struct report r = {.out = out};
	unsigned long long caps = effective_caps();
	char buf[768], where[512], tracefs_at[512] = "";
	struct utsname u;
	bool ok, tracefs;

	uname(&u);
	fprintf(out, "vigil doctor: kernel %s %s\n\n", u.release, u.machine);
	vigil_table_line(out, width, NCOLS, 0, 1,
			 (const char *const[NCOLS]){"STATUS", "NEED", "CHECK", "DETAIL"});
	kernel_row(&r, u.release);

	ok = (caps >> CAP_SYS_ADMIN_BIT & 1) ||
	     ((caps >> CAP_BPF_BIT & 1) && (caps >> CAP_PERFMON_BIT & 1));
	snprintf(buf, sizeof(buf),
		 ok ? "CapEff %llx"
		    : "CapEff %llx: run as root (sudo), or grant CAP_BPF + CAP_PERFMON "
		      "(privileged: true in the DaemonSet)",
		 caps);
	row(&r, true, ok, "capabilities", buf);

	ok = path_exists("/sys/kernel/btf/vmlinux");
	row(&r, true, ok, "kernel BTF",
	    ok ? "/sys/kernel/btf/vmlinux"
	       : "no /sys/kernel/btf/vmlinux: needs a kernel built with CONFIG_DEBUG_INFO_BTF=y");

	ok = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 1;
	row(&r, true, ok, "BPF ring buffer",
	    ok ? "BPF_MAP_TYPE_RINGBUF" : "no ring buffer maps: needs Linux 5.8 or later");

	/* Before the probes: the classic one mounts tracefs when it is missing. */
	tracefs = mounted("tracefs", tracefs_at, sizeof(tracefs_at));
	if (r.missing == 0) {
		probe_mode(&r, false);
		probe_mode(&r, true);
	} else {
		row(&r, true, false, "tp_btf programs (exits)", "not tried: fix the rows above");
	}

	ok = vigil_kernel_exit_has_group_dead();
	row(&r, false, ok, "sched_process_exit group_dead",
	    ok ? "exact end-of-process detection (6.16+)"
	       : "older kernel: the last thread is found from signal->live (a rare double "
		 "report is filtered in userspace)");

	ok = vigil_kernel_has_hang_tracepoint();
	row(&r, false, ok, "sched_process_hang",
	    ok ? "hung tasks of watched workloads are reported (class hang)"
	       : "no hung-task detector in this kernel (CONFIG_DETECT_HUNG_TASK): no hang class");

	ok = vigil_kernel_has_sk_error_report();
	row(&r, false, ok, "inet_sk_error_report",
	    ok ? "errors on live sockets are reported (socket_error)"
	       : "older than 5.14: no socket_error on a live socket (the rest of the sockets "
		 "family runs)");

	ok = vigil_kernel_oom_tp_has_sizes();
	row(&r, false, ok, "oom/mark_victim sizes",
	    ok ? "the classic fallback reports an OOM victim's sizes too"
	       : "older than 6.8: the classic fallback's oom_victim records have no "
		 "total_vm_kib/rss_kib (tp_btf reads them from the victim's mm)");

	ok = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, NULL) == 1;
	row(&r, false, ok, "task storage maps",
	    ok ? "for syscall latency tracking (from tracing programs: 5.13)"
	       : "syscall latency tracking unavailable");

	snprintf(
	    buf, sizeof(buf),
	    tracefs ? "mounted at %s"
		    : "was not mounted: only the classic fallback needs it, and vigil mounts it at "
		      "/sys/kernel/tracing then (or: mount -t tracefs tracefs /sys/kernel/tracing)",
	    tracefs_at);
	row(&r, false, tracefs, "tracefs", buf);

	ok = mounted("bpf", where, sizeof(where));
	snprintf(buf, sizeof(buf),
		 ok ? "mounted at %s" : "not mounted: not needed (vigil pins nothing)", where);
	row(&r, false, true, "bpffs", buf);

	ok = mounted("cgroup2", where, sizeof(where));
	snprintf(buf, sizeof(buf),
		 ok ? "cgroup v2 at %s" : "no cgroup v2 mount: workloads cannot match by cgroup",
		 where);
	row(&r, false, ok, "cgroup v2", buf);

	ok = path_exists("/sys/fs/cgroup/memory/memory.limit_in_bytes") ||
	     path_exists("/sys/fs/cgroup/memory.max") ||
	     path_exists("/sys/fs/cgroup/unified/cgroup.controllers");
	row(&r, false, ok, "memory cgroup",
	    ok ? "memory limits can be set (OOM kill tests)" : "no memory controller found");

	ok = access("/proc/1/comm", R_OK) == 0;
	row(&r, true, ok, "/proc",
	    ok ? "readable (run with hostPID in Kubernetes)"
	       : "cannot read /proc/1: mount the host's /proc");

	ok = mkdir("/var/lib/vigil", 0755) == 0 || errno == EEXIST;
	row(&r, false, ok && access("/var/lib/vigil", W_OK) == 0, "journal directory",
	    ok ? "/var/lib/vigil writable" : "cannot create /var/lib/vigil: use --journal");

	if (cfg)
		config_rows(&r, cfg);
	library_rows(&r, cfg);
	postgres_rows(&r, cfg);
	otlp_rows(&r, cfg);
	if (cfg)
		k8s_rows(&r, cfg);
	row(&r, false, true, "kprobes / fentry", "not used: vigil attaches tracepoints only");
	row(&r, false, true, "RLIMIT_MEMLOCK",
	    "not needed: BPF memory is charged to the memory "
	    "cgroup (5.11+)");
	fprintf(out, "\n%s\n",
		r.missing ? "vigil cannot run here: fix the MISSING rows." : "vigil can run here.");
	return r.missing ? -ENOTSUP : 0;
}
