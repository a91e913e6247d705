/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config_schema: the shape of vigil's YAML file as libcyaml loads it (internal to config*.c).
 *
 * Everything is optional to libcyaml: a NULL pointer means "absent", so required keys and
 * defaults are decided in config.c, with messages that name the key. Scalars are all strings:
 * libcyaml reads "-3" as a huge unsigned number and any unknown word as true.
 */
#ifndef VIGIL_CONFIG_SCHEMA_H
#define VIGIL_CONFIG_SCHEMA_H

#include <cyaml/cyaml.h>

struct raw_match {
	char *comm, *exe, *cgroup, *pidfile;
};

struct raw_latency {
	char **syscalls;
	unsigned int syscalls_count;
	char *budget_ms;
};

struct raw_trace {
	char *http, *env, *bytes;
};

struct raw_restart {
	char **exec;
	unsigned int exec_count;
	char *signal;
	char **command;
	unsigned int command_count;
	char **env;
	unsigned int env_count;
	char *kill_after, *timeout, *await;
};

struct raw_cache_clear {
	char *redis, *match, *max_keys;
};

struct raw_set_flag {
	char *redis, *key, *value, *ttl, *revert_after;
};

/* fields: a list of NAME=value (libcyaml maps only known keys into a struct). */
struct raw_publish {
	char *redis, *stream;
	char **fields;
	unsigned int fields_count;
	char *ack_timeout, *group;
};

struct raw_http {
	char *url, *method, *body, *bearer_token_file, *timeout;
};

struct raw_rollback {
	char **command;
	unsigned int command_count;
	char **env;
	unsigned int env_count;
	char *timeout;
};

struct raw_action {
	struct raw_restart *restart;
	struct raw_cache_clear *cache_clear;
	struct raw_set_flag *set_flag;
	struct raw_publish *publish;
	struct raw_http *http;
	struct raw_rollback *rollback;
};

struct raw_retry {
	char *attempts, *backoff, *max;
};

struct raw_rule {
	char *name;
	char **on;
	unsigned int on_count;
	char *level;
	char *delay;
	struct raw_retry *retry;
	struct raw_action *action;
	char *alert;
};

struct raw_policy {
	char **allowed_exec;
	unsigned int allowed_exec_count;
	char **redis_keys;
	unsigned int redis_keys_count;
	char **forbidden;
	unsigned int forbidden_count;
	char *allow_comm_only;
};

struct raw_breaker {
	char *failures;
	char *window, *cooldown;
};

struct raw_quiet {
	char *max_defer;
	char **ports;
	unsigned int ports_count;
	char *on_timeout;
	char *busy_key;
};

struct raw_detect {
	char *crash_loop_exits, *crash_loop_window;
	char *retransmits_per_s, *conn_errors_per_s;
	char *slo_intervals;
};

struct raw_walerts {
	char **match_labels;
	unsigned int match_labels_count;
};

struct raw_workload {
	char *name;
	struct raw_match *match;
	struct raw_latency *latency;
	struct raw_trace *trace;
	struct raw_rule *heal;
	unsigned int heal_count;
	struct raw_breaker *breaker;
	struct raw_quiet *quiet;
	struct raw_detect *detect;
	char *verify;
	char *approval_timeout;
	char *supervisor;
	struct raw_policy *policy;
	struct raw_walerts *alerts;
};

struct raw_redis {
	char *url, *prefix, *username, *password;
	char *spool, *spool_max_mb, *maxlen;
};

struct raw_postgres {
	char *url, *password, *password_file, *spool, *spool_max_mb;
};

struct raw_otlp {
	char *endpoint, *timeout, *spool, *spool_max_mb; /* headers: see schema.c */
};

struct raw_metrics {
	char *listen;
};

struct raw_alerts {
	char *token_file, *allow_remote;
};

struct raw_k8s {
	char *enabled, *containerd, *crio, *proc_fallback;
};

struct raw_config {
	char *node, *journal, *window, *knowledge, *state;
	char *observe_all;
	struct raw_redis *redis;
	struct raw_postgres *postgres;
	struct raw_otlp *otlp;
	struct raw_metrics *metrics;
	struct raw_alerts *alerts;
	struct raw_k8s *k8s;
	struct raw_workload *workloads;
	unsigned int workloads_count;
	char *max_incidents, *observe_all_rate;
	char *journal_max_mb, *journal_keep, *journal_fsync;
};

/* The top level: loads a struct raw_config (NULL for a text of comments only). */
extern const cyaml_schema_value_t cfg_schema;

#endif /* VIGIL_CONFIG_SCHEMA_H */
