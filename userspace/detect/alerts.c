// SPDX-License-Identifier: Apache-2.0
/* alerts: Alertmanager's webhook payload decoded, bounded, and an alert's incident. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "detect/alerts.h"

/* Labels that name where an alert fired rather than what fired: left out of its signature. */
static const char *const volatile_labels[] = {
    "instance", "pod",	   "pod_name", "pod_ip",  "container_id",	"node",
    "nodename", "host",	   "hostname", "replica", "prometheus_replica", "prometheus",
    "endpoint", "receive", NULL,
};

bool vigil_alert_label_volatile(const char *name)
{
	for (unsigned int i = 0; volatile_labels[i]; i++)
		if (!strcmp(name, volatile_labels[i]))
			return true;
	return false;
}

void vigil_alerts_free(struct vigil_alert_batch *b)
{
	free(b->alerts);
	json_decref(b->root);
	memset(b, 0, sizeof(*b));
}

static int label_cmp(const void *a, const void *b)
{
	return strcmp(((const struct vigil_alert_label *)a)->name,
		      ((const struct vigil_alert_label *)b)->name);
}

/* A string member of o, or "" when absent; -EINVAL when present and not a string. */
static int opt_str(const json_t *o, const char *key, const char **out)
{
	const json_t *v = json_object_get(o, key);

	*out = "";
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -EINVAL;
	*out = json_string_value(v);
	return 0;
}

/* alerts[i]'s labels, bounded, sorted, into a. Returns 0 or -EINVAL (why written). */
static int parse_labels(const json_t *labels, unsigned int i, struct vigil_alert *a, char *why,
			size_t whylen)
{
	const char *name;
	json_t *v;

	if (!json_is_object(labels)) {
		snprintf(why, whylen, "alerts[%u].labels: %s", i,
			 labels ? "not an object" : "missing");
		return -EINVAL;
	}
	if (json_object_size(labels) > VIGIL_ALERT_MAX_LABELS) {
		snprintf(why, whylen, "alerts[%u].labels: %zu labels, at most %d", i,
			 json_object_size(labels), VIGIL_ALERT_MAX_LABELS);
		return -EINVAL;
	}
	json_object_foreach((json_t *)labels, name, v)
	{
		if (!name[0] || strlen(name) > VIGIL_ALERT_LABEL_NAME_MAX) {
			snprintf(why, whylen,
				 "alerts[%u].labels: a label name of %zu bytes (1..%d)", i,
				 strlen(name), VIGIL_ALERT_LABEL_NAME_MAX);
			return -EINVAL;
		}
		if (!json_is_string(v)) {
			snprintf(why, whylen, "alerts[%u].labels.%.64s: not a string", i, name);
			return -EINVAL;
		}
		if (json_string_length(v) > VIGIL_ALERT_LABEL_VALUE_MAX) {
			snprintf(why, whylen, "alerts[%u].labels.%.64s: %zu bytes, at most %d", i,
				 name, json_string_length(v), VIGIL_ALERT_LABEL_VALUE_MAX);
			return -EINVAL;
		}
		a->labels[a->n_labels].name = name;
		a->labels[a->n_labels].value = json_string_value(v);
		a->n_labels++;
	}
	qsort(a->labels, a->n_labels, sizeof(a->labels[0]), label_cmp);
	a->name = vigil_alert_label(a, "alertname");
	if (!a->name || !a->name[0] || strlen(a->name) > VIGIL_ALERT_NAME_MAX) {
		snprintf(why, whylen, "alerts[%u].labels.alertname: %s", i,
			 !a->name      ? "missing"
			 : !a->name[0] ? "empty"
				       : "longer than 63 bytes");
		return -EINVAL;
	}
	return 0;
}

/* alerts[i] into a. Returns 0 or -EINVAL (why written). */
static int parse_alert(const json_t *o, unsigned int i, struct vigil_alert *a, char *why,
		       size_t whylen)
{
	const json_t *st;

	if (!json_is_object(o)) {
		snprintf(why, whylen, "alerts[%u]: not an object", i);
		return -EINVAL;
	}
	st = json_object_get(o, "status");
	if (!json_is_string(st) || (strcmp(json_string_value(st), "firing") &&
				    strcmp(json_string_value(st), "resolved"))) {
		snprintf(why, whylen, "alerts[%u].status: %s", i,
			 !st ? "missing" : "not \"firing\" or \"resolved\"");
		return -EINVAL;
	}
	a->firing = !strcmp(json_string_value(st), "firing");
	if (opt_str(o, "startsAt", &a->starts)) {
		snprintf(why, whylen, "alerts[%u].startsAt: not a string", i);
		return -EINVAL;
	}
	if (opt_str(o, "fingerprint", &a->fingerprint)) {
		snprintf(why, whylen, "alerts[%u].fingerprint: not a string", i);
		return -EINVAL;
	}
	return parse_labels(json_object_get(o, "labels"), i, a, why, whylen);
}

int vigil_alerts_parse(const char *body, size_t len, struct vigil_alert_batch *b, char *why,
		       size_t whylen)
{
	json_error_t jerr;
	const json_t *alerts;
	json_t *root;
	int ret;

	memset(b, 0, sizeof(*b));
	if (len > VIGIL_ALERTS_MAX_BODY) {
		snprintf(why, whylen, "payload of %zu bytes, at most %u", len,
			 VIGIL_ALERTS_MAX_BODY);
		return -EINVAL;
	}
	/* Duplicate keys are refused: two "status" members would mean whatever a reader chose. */
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (json_error_code(&jerr) == json_error_out_of_memory)
			return -ENOMEM;
		snprintf(why, whylen, "not JSON: %s (line %d, column %d)", jerr.text, jerr.line,
			 jerr.column);
		return -EINVAL;
	}
	b->root = root;
	ret = -EINVAL;
	alerts = json_object_get(root, "alerts");
	if (!json_is_object(root)) {
		snprintf(why, whylen, "not a JSON object");
		goto fail;
	}
	if (!json_is_array(alerts)) {
		snprintf(why, whylen, "alerts: %s", alerts ? "not an array" : "missing");
		goto fail;
	}
	if (json_array_size(alerts) > VIGIL_ALERTS_MAX) {
		snprintf(why, whylen, "alerts: %zu alerts, at most %d", json_array_size(alerts),
			 VIGIL_ALERTS_MAX);
		goto fail;
	}
	if (json_array_size(alerts)) {
		b->alerts = calloc(json_array_size(alerts), sizeof(*b->alerts));
		if (!b->alerts) {
			ret = -ENOMEM;
			goto fail;
		}
	}
	for (b->n = 0; b->n < json_array_size(alerts); b->n++)
		if (parse_alert(json_array_get(alerts, b->n), b->n, &b->alerts[b->n], why, whylen))
			goto fail;
	return 0;
fail:
	vigil_alerts_free(b);
	return ret;
}

const char *vigil_alert_label(const struct vigil_alert *a, const char *name)
{
	for (unsigned int i = 0; i < a->n_labels; i++)
		if (!strcmp(a->labels[i].name, name))
			return a->labels[i].value;
	return NULL;
}

/* Does a carry every "name=value" of the workload's alerts.match_labels (at least one)? */
static bool labels_match(const struct vigil_workload *w, const struct vigil_alert *a)
{
	if (!w->n_alert_labels)
		return false;
	for (unsigned int i = 0; i < w->n_alert_labels; i++) {
		const char *eq = strchr(w->alert_labels[i], '=');
		const char *v;
		char name[VIGIL_ALERT_LABEL_NAME_MAX + 1];

		if (!eq || (size_t)(eq - w->alert_labels[i]) >= sizeof(name))
			return false;
		memcpy(name, w->alert_labels[i], (size_t)(eq - w->alert_labels[i]));
		name[eq - w->alert_labels[i]] = '\0';
		v = vigil_alert_label(a, name);
		if (!v || strcmp(v, eq + 1))
			return false;
	}
	return true;
}

unsigned int vigil_alert_workload(const struct vigil_config *cfg, const struct vigil_alert *a)
{
	const char *named = vigil_alert_label(a, "workload");

	if (named)
		for (unsigned int i = 0; i < cfg->n_workloads; i++)
			if (!strcmp(cfg->workloads[i].name, named))
				return i + 1;
	for (unsigned int i = 0; i < cfg->n_workloads; i++)
		if (labels_match(&cfg->workloads[i], a))
			return i + 1;
	return 0;
}

int vigil_alert_detect(const char *workload, const struct vigil_alert *a,
		       struct vigil_detection *out)
{
	size_t len = 1, off = 0;
	char *key;

	memset(out, 0, sizeof(*out));
	out->cls = VIGIL_CLASS_ALERT;
	out->label = "alert";
	snprintf(out->detail, sizeof(out->detail), "%s", a->name);
	snprintf(out->title, sizeof(out->title), "alert %s firing", a->name);
	/* Each identifying label as "LEN:name=LEN:value;": no two label sets give one text. */
	for (unsigned int i = 0; i < a->n_labels; i++)
		len += strlen(a->labels[i].name) + strlen(a->labels[i].value) + 48;
	key = malloc(len);
	if (!key)
		return -ENOMEM;
	key[0] = '\0';
	for (unsigned int i = 0; i < a->n_labels; i++) {
		const struct vigil_alert_label *l = &a->labels[i];

		if (vigil_alert_label_volatile(l->name))
			continue;
		off += (size_t)snprintf(key + off, len - off, "%zu:%s=%zu:%s;", strlen(l->name),
					l->name, strlen(l->value), l->value);
	}
	vigil_signature(workload, VIGIL_CLASS_ALERT, key, out->signature);
	free(key);
	return 0;
}

uint64_t vigil_alert_identity(const struct vigil_alert *a)
{
	uint64_t h = 14695981039346656037ull;

	/* FNV-1a over name NUL value NUL, in name order. */
	for (unsigned int i = 0; i < a->n_labels; i++) {
		for (const char *p = a->labels[i].name;; p++) {
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
			if (!*p)
				break;
		}
		for (const char *p = a->labels[i].value;; p++) {
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
			if (!*p)
				break;
		}
	}
	return h;
}
