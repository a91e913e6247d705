/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for Alertmanager's webhook payload (detect/alerts.c), what any peer allowed
 * to POST /v1/alerts sends. Built and run by tests/fuzz/run.sh with ASan, UBSan and
 * LeakSanitizer; seeded with real Alertmanager 0.25 payloads (tests/fuzz/corpus_alerts).
 *
 * The input is copied into a buffer of exactly its length (no NUL after it: the endpoint's
 * body is length-delimited). The contract: 0, or -EINVAL with a reason, or -ENOMEM. On 0: at
 * most VIGIL_ALERTS_MAX alerts, as many as jansson finds in "alerts"; each with its alertname
 * (1..63 bytes) as name, at most VIGIL_ALERT_MAX_LABELS labels, strictly sorted by name, each
 * name and value within bounds; each alert's workload is one of the config's or none, and its
 * detection (class alert, detail the alertname, a 16-hex-digit signature) is the same twice.
 */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "detect/alerts.h"

#define CHECK(cond, what)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_alerts: %s (%s:%d)\n", what, __FILE__, __LINE__);    \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static char *tts_labels[] = {"team=voice", "service=tts", NULL};
static struct vigil_workload workloads[] = {
    {.name = "storyteller"},
    {.name = "tts", .alert_labels = tts_labels, .n_alert_labels = 2},
};
static const struct vigil_config cfg = {.workloads = workloads, .n_workloads = 2};

static void check_alert(const struct vigil_alert *a)
{
	struct vigil_detection d1, d2;
	unsigned int wl;

	CHECK(a->name && a->name[0] && strlen(a->name) <= VIGIL_ALERT_NAME_MAX, "bad alertname");
	CHECK(vigil_alert_label(a, "alertname") == a->name, "name is not the alertname label");
	CHECK(a->starts && a->fingerprint, "NULL startsAt or fingerprint");
	CHECK(a->n_labels >= 1 && a->n_labels <= VIGIL_ALERT_MAX_LABELS, "label count");
	for (unsigned int i = 0; i < a->n_labels; i++) {
		size_t n = strlen(a->labels[i].name);

		CHECK(n >= 1 && n <= VIGIL_ALERT_LABEL_NAME_MAX, "label name length");
		CHECK(strlen(a->labels[i].value) <= VIGIL_ALERT_LABEL_VALUE_MAX, "value length");
		CHECK(!i || strcmp(a->labels[i - 1].name, a->labels[i].name) < 0,
		      "labels not strictly sorted");
	}
	wl = vigil_alert_workload(&cfg, a);
	CHECK(wl <= cfg.n_workloads, "a workload beyond the config");
	if (vigil_alert_detect(wl ? workloads[wl - 1].name : "none", a, &d1) ||
	    vigil_alert_detect(wl ? workloads[wl - 1].name : "none", a, &d2))
		return; /* out of memory: allowed */
	CHECK(d1.cls == VIGIL_CLASS_ALERT, "class");
	CHECK(!strcmp(d1.detail, a->name), "detail is not the alertname");
	CHECK(strlen(d1.signature) == 16 && strspn(d1.signature, "0123456789abcdef") == 16,
	      "signature not 16 hex digits");
	CHECK(!strcmp(d1.signature, d2.signature), "signature not stable");
	CHECK(vigil_alert_identity(a) == vigil_alert_identity(a), "identity not stable");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vigil_alert_batch b;
	char *body = malloc(size ? size : 1), why[256] = "";
	json_t *root;
	int ret;

	CHECK(body, "out of memory");
	memcpy(body, data, size);
	ret = vigil_alerts_parse(body, size, &b, why, sizeof(why));
	CHECK(ret == 0 || ret == -EINVAL || ret == -ENOMEM, "an unexpected error");
	if (ret == -EINVAL)
		CHECK(why[0], "a refusal without a reason");
	if (ret) {
		CHECK(!b.alerts && !b.root && !b.n, "a refused batch not empty");
		goto out;
	}
	CHECK(b.n <= VIGIL_ALERTS_MAX, "too many alerts");
	root = json_loadb(body, size, JSON_REJECT_DUPLICATES, NULL);
	CHECK(root, "accepted what jansson refuses");
	CHECK(json_array_size(json_object_get(root, "alerts")) == b.n, "alerts lost or added");
	json_decref(root);
	for (unsigned int i = 0; i < b.n; i++)
		check_alert(&b.alerts[i]);
	vigil_alerts_free(&b);
out:
	free(body);
	return 0;
}
