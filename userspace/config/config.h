/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config: the daemon's one YAML file (or the embedded default), parsed and validated.
 *
 * Loading either yields a complete, validated struct vigil_config or fails with a message
 * that names the file, line, column and key that was wrong; nothing is half-applied.
 */
#ifndef VIGIL_CONFIG_H
#define VIGIL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/classes.h"
#include "heal/action.h" /* struct vigil_action: a kind (its ops) and its params */

struct vigil_heal_rule {
	char *name;	    /* the action's name in the audit trail and the knowledge store;
			     * default: the action kind ("restart") */
	uint32_t on_mask;   /* bit (1u << enum vigil_class) per class named in `on:` */
	unsigned int level; /* 1 at once, 2 after delay_ms, 3 only with approval */
	uint64_t delay_ms;  /* level 2 only; default 300000 (5m) */
	/* retry: a failed attempt is tried again, up to retry_attempts in all (1: no retry),
	 * after retry_backoff_ms doubling each time up to retry_max_ms, with jitter; the
	 * attempts are one heal for the breaker and the knowledge store. */
	unsigned int retry_attempts; /* 1..10; default 1 */
	uint64_t retry_backoff_ms;   /* default 10000 */
	uint64_t retry_max_ms;	     /* default 300000 */
	/* alert: the rule applies only to alert incidents of this alertname (on: [alert]);
	 * NULL: to every incident of its classes */
	char *alert;
	/* what to do: a kind of the action table, its params validated at load by the kind */
	struct vigil_action action;
};

struct vigil_match {
	char *comm;    /* exact comm (at most 15 bytes) */
	char *exe;     /* absolute path of the executable */
	char *cgroup;  /* glob on cgroup v2 paths, relative to the v2 mount, e.g. /kubepods/x* */
	char *pidfile; /* path of a file holding the main pid */
};

#define VIGIL_QUIET_MAX_PORTS 16
#define VIGIL_RETRY_MAX_ATTEMPTS 10

/*
 * What a workload's heal rules may touch, enforced at load: each executable an action runs is
 * listed in allowed_exec (and is root-owned, not writable by others, nor is any directory on
 * its way); each Redis key or pattern it touches lies inside one of redis_keys (globs); no
 * rule is named in forbidden, nor in the names vigil always refuses (vigil_forbidden_names).
 */
struct vigil_policy {
	char **allowed_exec;
	unsigned int n_allowed_exec;
	char **redis_keys;
	unsigned int n_redis_keys;
	char **forbidden;
	unsigned int n_forbidden;
	/* Heal rules on a workload matched by comm alone, which any user can take (a process
	 * may name itself anything): refused unless this says the risk is accepted. */
	bool allow_comm_only;
};

/* The rule names no config may use, whatever its policy.forbidden says: NULL-terminated. */
extern const char *const vigil_forbidden_names[];

enum vigil_quiet_timeout {
	VIGIL_QUIET_ESCALATE = 0, /* leave it to a person: the incident is escalated */
	VIGIL_QUIET_RESTART,	  /* opt-in: stop the process anyway */
};

struct vigil_workload {
	char *name;		  /* [A-Za-z0-9_.-]{1,63}, unique */
	struct vigil_match match; /* at least one of the four set */
	char **latency_syscalls;  /* names; parsed now, used by the latency probes */
	unsigned int n_latency_syscalls;
	uint64_t latency_budget_ms;
	/* trace: which trace context an incident of it carries (both off by default) */
	bool trace_http;	  /* traceparent of inbound HTTP/1.x requests, read in the kernel */
	bool trace_env;		  /* TRACEPARENT in the environment at exec: the fallback */
	unsigned int trace_bytes; /* bytes of each inbound read searched (1024), 80..4096 */
	struct vigil_heal_rule *heal;
	unsigned int n_heal;
	unsigned int breaker_failures; /* default 3 */
	uint64_t breaker_window_ms;    /* default 600000 (10m) */
	uint64_t breaker_cooldown_ms;  /* default 300000 (5m) */
	uint64_t quiet_max_defer_ms;   /* default 60000 */
	/* quiet.ports: the listening ports whose inbound connections are conversations (none
	 * listed: all of the workload's); quiet.on_timeout: what a heal does when max_defer
	 * passes with one still open. */
	uint16_t quiet_ports[VIGIL_QUIET_MAX_PORTS];
	unsigned int n_quiet_ports;
	enum vigil_quiet_timeout quiet_on_timeout; /* default VIGIL_QUIET_ESCALATE */
	char *quiet_busy_key;	      /* a Redis key the application sets while busy; NULL: none */
	uint64_t verify_ms;	      /* how long a restarted process must live; default 2000 */
	uint64_t approval_timeout_ms; /* a level-3 incident waits this long for a person; 1h */
	/* supervisor: external — something else (kubelet, systemd, runit) starts the replacement
	 * of a process that ended: a restart awaits it, never starts it too. Default: vigil. */
	bool supervisor_external;
	struct vigil_policy policy;
	/* detect: the derived classes' thresholds (defaults in parentheses) */
	unsigned int crash_loop_exits;	/* failed exits that make a crash_loop (3), 2..16 */
	uint64_t crash_loop_window_ms;	/* ... within this window (60s) */
	unsigned int retransmits_per_s; /* retransmits floor (10) */
	unsigned int conn_errors_per_s; /* connection errors floor, per class (5) */
	unsigned int slo_intervals;	/* intervals over budget for latency_slo (3), 1..60 */
	/* alerts.match_labels: "name=value" each; an alert carrying all of them is this
	 * workload's (as one whose `workload` label is its name) */
	char **alert_labels;
	unsigned int n_alert_labels;
};

#define VIGIL_CRASH_LOOP_MAX 16 /* the largest crash_loop_exits */

/* k8s.enabled: learn the pods of processes (detect/pods.h) */
enum vigil_k8s_mode {
	VIGIL_K8S_AUTO = 0, /* when the node runs pods (a runtime directory, a kubelet cgroup) */
	VIGIL_K8S_ON,
	VIGIL_K8S_OFF,
};

struct vigil_config {
	char *source;		   /* file name, or "<embedded>" */
	char *node;		   /* after ${VAR} expansion; default: the hostname */
	char *journal;		   /* default /var/lib/vigil/journal.jsonl */
	uint64_t journal_max_mb;   /* rotate the journal past it; default 64, 0: never */
	unsigned int journal_keep; /* rotated journals kept; default 5, 0..100 */
	int journal_fsync;	   /* enum vigil_journal_fsync; default interval */
	bool observe_all;	   /* report failing exits of every process, not only workloads */
	uint64_t window_ms;	   /* incident aggregation window; default 60000 */
	char *knowledge;    /* the knowledge store's file; default /var/lib/vigil/knowledge.json */
	char *state;	    /* the healer's durable state; default /var/lib/vigil/state.json */
	char *redis_url;    /* may be NULL: no Redis sink */
	char *redis_prefix; /* default "vigil" */
	char *redis_username;	     /* NULL: from the URL, or none */
	char *redis_password;	     /* NULL: from the URL, or none; ${VAR} expanded */
	char *redis_spool;	     /* default /var/lib/vigil/redis.spool */
	uint64_t redis_spool_max_mb; /* the spool's cap; default 256 */
	uint64_t redis_maxlen;	     /* MAXLEN ~ of each stream; default 100000 */
	uint64_t max_incidents;	     /* live incidents at most; default 4096, 16..16384 */
	uint64_t observe_all_rate;   /* unwatched failing exits a second, per comm and per cgroup */
	char *pg_url;		     /* postgres.url; NULL: no PostgreSQL sink */
	char *pg_password;	     /* NULL: password_file, the URL's, or PGPASSWORD; ${VAR} */
	char *pg_password_file;	     /* absolute; read at each connection */
	char *pg_spool;		     /* default /var/lib/vigil/postgres.spool */
	uint64_t pg_spool_max_mb;    /* default 256 */
	char *otlp_endpoint;	     /* otlp.endpoint; NULL: no OTLP sink */
	char **otlp_headers;	     /* "Name: value" each (${VAR} expanded), NULL-terminated */
	unsigned int otlp_n_headers;
	uint64_t otlp_timeout_ms;   /* each request; default 10 s */
	char *otlp_spool;	    /* default /var/lib/vigil/otlp.spool */
	uint64_t otlp_spool_max_mb; /* default 256 */
	char *metrics_listen;	    /* metrics.listen, HOST:PORT; NULL: no HTTP endpoint */
	char *alerts_token_file;    /* alerts.token_file: POST /v1/alerts's bearer token; NULL */
	bool alerts_allow_remote;   /* alerts.allow_remote: peers beyond loopback (token needed) */
	enum vigil_k8s_mode k8s;    /* k8s.enabled; default auto */
	char *k8s_containerd;	    /* containerd's task bundles of namespace k8s.io */
	char *k8s_crio;		    /* CRI-O's containers */
	bool k8s_proc_fallback;	    /* names from /proc/PID/root when no runtime state says; true */
	struct vigil_workload *workloads;
	unsigned int n_workloads;
};

/* The YAML used when no file is given: observe every process, heal nothing. */
extern const char vigil_default_config[];

/*
 * Parse and validate YAML text. @name is used in messages (a path or "<embedded>").
 * Returns 0 and *out, or -EINVAL (bad content: err holds "NAME:LINE:COL: what was wrong"),
 * -ENOMEM. err is always NUL-terminated when errlen > 0.
 */
int vigil_config_parse(const char *text, size_t len, const char *name, struct vigil_config **out,
		       char *err, size_t errlen);

/* Read @path and parse it. Returns as vigil_config_parse(), or -errno if it cannot be read
 * (err then names the path and the reason). */
int vigil_config_load(const char *path, struct vigil_config **out, char *err, size_t errlen);

/* Frees everything; accepts NULL. */
void vigil_config_free(struct vigil_config *cfg);

/* Does every key the Redis glob pattern matches lie inside glob? A key (no wildcard): when glob
 * matches it; a pattern: when it is glob itself, or glob is PREFIX* and the pattern's fixed
 * start begins with PREFIX. Anything else is not shown to be inside: false. */
bool vigil_redis_glob_inside(const char *pattern, const char *glob);

/* "250ms", "30s", "5m", "2h" -> milliseconds. Returns 0 or -EINVAL. A bare number is seconds. */
int vigil_parse_duration(const char *s, uint64_t *ms);
/* The longest duration any key takes (30 days), and the largest latency budget (an hour):
 * beyond them a config is refused, so that no time overflows once in nanoseconds. */
#define VIGIL_DURATION_MAX_MS (30ull * 24 * 3600 * 1000)
#define VIGIL_BUDGET_MAX_MS 3600000ull

/* Is w matched by its comm alone (no exe, cgroup or pidfile)? Any user can take it. */
bool vigil_workload_comm_only(const struct vigil_workload *w);

#endif /* VIGIL_CONFIG_H */
