/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config_schema: libcyaml's schema tables for the raw structures in config_schema.h. Every key
 * is optional and every scalar a string; config.c decides what is required and what it means.
 */
#include "config/schema.h"

#define OPT (CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL)
#define F_STR(key, type, member) CYAML_FIELD_STRING_PTR(key, OPT, type, member, 0, CYAML_UNLIMITED)
#define F_STRV(key, type, member)                                                                  \
	CYAML_FIELD_SEQUENCE(key, OPT, type, member, &string_entry, 0, CYAML_UNLIMITED)
#define F_MAP(key, type, member, fields) CYAML_FIELD_MAPPING_PTR(key, OPT, type, member, fields)

static const cyaml_schema_value_t string_entry = {
    CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, CYAML_UNLIMITED),
};

static const cyaml_schema_field_t match_fields[] = {
    F_STR("comm", struct raw_match, comm),
    F_STR("exe", struct raw_match, exe),
    F_STR("cgroup", struct raw_match, cgroup),
    F_STR("pidfile", struct raw_match, pidfile),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t latency_fields[] = {
    F_STRV("syscalls", struct raw_latency, syscalls),
    F_STR("budget_ms", struct raw_latency, budget_ms),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t trace_fields[] = {
    F_STR("http", struct raw_trace, http),
    F_STR("env", struct raw_trace, env),
    F_STR("bytes", struct raw_trace, bytes),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t restart_fields[] = {
    F_STRV("exec", struct raw_restart, exec),
    F_STR("signal", struct raw_restart, signal),
    F_STRV("command", struct raw_restart, command),
    F_STRV("env", struct raw_restart, env),
    F_STR("kill_after", struct raw_restart, kill_after),
    F_STR("timeout", struct raw_restart, timeout),
    F_STR("await", struct raw_restart, await),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t cache_clear_fields[] = {
    F_STR("redis", struct raw_cache_clear, redis),
    F_STR("match", struct raw_cache_clear, match),
    F_STR("max_keys", struct raw_cache_clear, max_keys),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t set_flag_fields[] = {
    F_STR("redis", struct raw_set_flag, redis),
    F_STR("key", struct raw_set_flag, key),
    F_STR("value", struct raw_set_flag, value),
    F_STR("ttl", struct raw_set_flag, ttl),
    F_STR("revert_after", struct raw_set_flag, revert_after),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t publish_fields[] = {
    F_STR("redis", struct raw_publish, redis),
    F_STR("stream", struct raw_publish, stream),
    F_STRV("fields", struct raw_publish, fields),
    F_STR("ack_timeout", struct raw_publish, ack_timeout),
    F_STR("group", struct raw_publish, group),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t http_fields[] = {
    F_STR("url", struct raw_http, url),
    F_STR("method", struct raw_http, method),
    F_STR("body", struct raw_http, body),
    F_STR("bearer_token_file", struct raw_http, bearer_token_file),
    F_STR("timeout", struct raw_http, timeout),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t rollback_fields[] = {
    F_STRV("command", struct raw_rollback, command),
    F_STRV("env", struct raw_rollback, env),
    F_STR("timeout", struct raw_rollback, timeout),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t action_fields[] = {
    F_MAP("restart", struct raw_action, restart, restart_fields),
    F_MAP("cache_clear", struct raw_action, cache_clear, cache_clear_fields),
    F_MAP("set_flag", struct raw_action, set_flag, set_flag_fields),
    F_MAP("publish", struct raw_action, publish, publish_fields),
    F_MAP("http", struct raw_action, http, http_fields),
    F_MAP("rollback", struct raw_action, rollback, rollback_fields),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t retry_fields[] = {
    F_STR("attempts", struct raw_retry, attempts),
    F_STR("backoff", struct raw_retry, backoff),
    F_STR("max", struct raw_retry, max),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t rule_fields[] = {
    F_STR("name", struct raw_rule, name),
    F_STRV("on", struct raw_rule, on),
    F_STR("level", struct raw_rule, level),
    F_STR("delay", struct raw_rule, delay),
    F_MAP("retry", struct raw_rule, retry, retry_fields),
    F_MAP("action", struct raw_rule, action, action_fields),
    F_STR("alert", struct raw_rule, alert),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t rule_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_rule, rule_fields),
};

static const cyaml_schema_field_t breaker_fields[] = {
    F_STR("failures", struct raw_breaker, failures),
    F_STR("window", struct raw_breaker, window),
    F_STR("cooldown", struct raw_breaker, cooldown),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t quiet_fields[] = {
    F_STR("max_defer", struct raw_quiet, max_defer),
    F_STRV("ports", struct raw_quiet, ports),
    F_STR("on_timeout", struct raw_quiet, on_timeout),
    F_STR("busy_key", struct raw_quiet, busy_key),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t detect_fields[] = {
    F_STR("crash_loop_exits", struct raw_detect, crash_loop_exits),
    F_STR("crash_loop_window", struct raw_detect, crash_loop_window),
    F_STR("retransmits_per_s", struct raw_detect, retransmits_per_s),
    F_STR("conn_errors_per_s", struct raw_detect, conn_errors_per_s),
    F_STR("slo_intervals", struct raw_detect, slo_intervals),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t policy_fields[] = {
    F_STRV("allowed_exec", struct raw_policy, allowed_exec),
    F_STRV("redis_keys", struct raw_policy, redis_keys),
    F_STRV("forbidden", struct raw_policy, forbidden),
    F_STR("allow_comm_only", struct raw_policy, allow_comm_only),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t walerts_fields[] = {
    F_STRV("match_labels", struct raw_walerts, match_labels),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t workload_fields[] = {
    F_STR("name", struct raw_workload, name),
    F_MAP("match", struct raw_workload, match, match_fields),
    F_MAP("latency", struct raw_workload, latency, latency_fields),
    F_MAP("trace", struct raw_workload, trace, trace_fields),
    CYAML_FIELD_SEQUENCE("heal", OPT, struct raw_workload, heal, &rule_entry, 0, CYAML_UNLIMITED),
    F_MAP("breaker", struct raw_workload, breaker, breaker_fields),
    F_MAP("quiet", struct raw_workload, quiet, quiet_fields),
    F_MAP("detect", struct raw_workload, detect, detect_fields),
    F_STR("verify", struct raw_workload, verify),
    F_STR("approval_timeout", struct raw_workload, approval_timeout),
    F_STR("supervisor", struct raw_workload, supervisor),
    F_MAP("policy", struct raw_workload, policy, policy_fields),
    F_MAP("alerts", struct raw_workload, alerts, walerts_fields),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t workload_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_workload, workload_fields),
};

static const cyaml_schema_field_t redis_fields[] = {
    F_STR("url", struct raw_redis, url),
    F_STR("prefix", struct raw_redis, prefix),
    F_STR("username", struct raw_redis, username),
    F_STR("password", struct raw_redis, password),
    F_STR("spool", struct raw_redis, spool),
    F_STR("spool_max_mb", struct raw_redis, spool_max_mb),
    F_STR("maxlen", struct raw_redis, maxlen),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t postgres_fields[] = {
    F_STR("url", struct raw_postgres, url),
    F_STR("password", struct raw_postgres, password),
    F_STR("password_file", struct raw_postgres, password_file),
    F_STR("spool", struct raw_postgres, spool),
    F_STR("spool_max_mb", struct raw_postgres, spool_max_mb),
    CYAML_FIELD_END,
};

/* headers: a mapping of free names, which libcyaml cannot read: build.c reads it with
 * cfg_string_map(). */
static const cyaml_schema_field_t otlp_fields[] = {
    F_STR("endpoint", struct raw_otlp, endpoint),
    CYAML_FIELD_IGNORE("headers", CYAML_FLAG_OPTIONAL),
    F_STR("timeout", struct raw_otlp, timeout),
    F_STR("spool", struct raw_otlp, spool),
    F_STR("spool_max_mb", struct raw_otlp, spool_max_mb),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t metrics_fields[] = {
    F_STR("listen", struct raw_metrics, listen),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t alerts_fields[] = {
    F_STR("token_file", struct raw_alerts, token_file),
    F_STR("allow_remote", struct raw_alerts, allow_remote),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t k8s_fields[] = {
    F_STR("enabled", struct raw_k8s, enabled),
    F_STR("containerd", struct raw_k8s, containerd),
    F_STR("crio", struct raw_k8s, crio),
    F_STR("proc_fallback", struct raw_k8s, proc_fallback),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t config_fields[] = {
    F_STR("node", struct raw_config, node),
    F_STR("journal", struct raw_config, journal),
    F_STR("knowledge", struct raw_config, knowledge),
    F_STR("state", struct raw_config, state),
    F_STR("observe_all", struct raw_config, observe_all),
    F_STR("window", struct raw_config, window),
    F_MAP("redis", struct raw_config, redis, redis_fields),
    F_MAP("postgres", struct raw_config, postgres, postgres_fields),
    F_MAP("otlp", struct raw_config, otlp, otlp_fields),
    F_MAP("metrics", struct raw_config, metrics, metrics_fields),
    F_MAP("alerts", struct raw_config, alerts, alerts_fields),
    F_MAP("k8s", struct raw_config, k8s, k8s_fields),
    CYAML_FIELD_SEQUENCE("workloads", OPT, struct raw_config, workloads, &workload_entry, 0,
			 CYAML_UNLIMITED),
    F_STR("max_incidents", struct raw_config, max_incidents),
    F_STR("observe_all_rate", struct raw_config, observe_all_rate),
    F_STR("journal_max_mb", struct raw_config, journal_max_mb),
    F_STR("journal_keep", struct raw_config, journal_keep),
    F_STR("journal_fsync", struct raw_config, journal_fsync),
    CYAML_FIELD_END,
};

const cyaml_schema_value_t cfg_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct raw_config, config_fields),
};
