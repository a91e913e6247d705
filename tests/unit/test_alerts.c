/* SPDX-License-Identifier: Apache-2.0 */
/*
 * detect/alerts: Alertmanager's webhook payload decoded (a real 0.25 payload), every refusal
 * with its reason, the bounds, the workload an alert names, and its signature: stable, blind
 * to the volatile labels and to label order, and different for another alertname, another
 * identifying label or another workload.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "detect/alerts.h"

/* As Alertmanager 0.25 sent it (tests/fuzz/corpus_alerts/am-one-resolved-one-firing.json). */
static const char real[] =
    "{\"receiver\":\"cap\",\"status\":\"firing\",\"alerts\":[{\"status\":\"resolved\",\"labels\":"
    "{\"alertname\":\"ModelApiErrors\",\"instance\":\"10.0.0.5:8080\",\"job\":\"model-api\","
    "\"severity\":\"page\",\"workload\":\"storyteller\"},\"annotations\":{},\"startsAt\":"
    "\"2026-12-01T11:28:14Z\",\"endsAt\":\"2026-12-01T11:28:14Z\",\"generatorURL\":\"\","
    "\"fingerprint\":\"fe3446aca211576a\"},{\"status\":\"firing\",\"labels\":{\"alertname\":"
    "\"ModelApiErrors\",\"instance\":\"10.0.0.6:8080\",\"job\":\"model-api\",\"severity\":"
    "\"page\",\"workload\":\"storyteller\"},\"annotations\":{\"summary\":\"second replica\"},"
    "\"startsAt\":\"2026-12-01T11:28:14.605455076Z\",\"endsAt\":\"0001-01-01T00:00:00Z\","
    "\"generatorURL\":\"\",\"fingerprint\":\"fd454a22243bfc09\"}],\"groupLabels\":{"
    "\"alertname\":\"ModelApiErrors\",\"workload\":\"storyteller\"},\"commonLabels\":{},"
    "\"commonAnnotations\":{},\"externalURL\":\"http://vm:18998\",\"version\":\"4\","
    "\"groupKey\":\"{}:{alertname=\\\"ModelApiErrors\\\", workload=\\\"storyteller\\\"}\","
    "\"truncatedAlerts\":0}";

static char *tts_labels[] = {"team=voice", "service=tts", NULL};
static struct vigil_workload workloads[] = {
    {.name = "storyteller"},
    {.name = "tts", .alert_labels = tts_labels, .n_alert_labels = 2},
};
static const struct vigil_config cfg = {.workloads = workloads, .n_workloads = 2};

static void test_real_payload(void **state)
{
	struct vigil_alert_batch b;
	struct vigil_detection d0, d1;
	char why[256];

	(void)state;
	assert_int_equal(vigil_alerts_parse(real, strlen(real), &b, why, sizeof(why)), 0);
	assert_int_equal(b.n, 2);
	assert_false(b.alerts[0].firing);
	assert_true(b.alerts[1].firing);
	assert_string_equal(b.alerts[0].name, "ModelApiErrors");
	assert_string_equal(b.alerts[1].fingerprint, "fd454a22243bfc09");
	assert_string_equal(b.alerts[1].starts, "2026-12-01T11:28:14.605455076Z");
	assert_int_equal(b.alerts[0].n_labels, 5);
	/* sorted by name */
	assert_string_equal(b.alerts[0].labels[0].name, "alertname");
	assert_string_equal(b.alerts[0].labels[1].name, "instance");
	assert_string_equal(b.alerts[0].labels[4].name, "workload");
	assert_int_equal(vigil_alert_workload(&cfg, &b.alerts[0]), 1);
	/* Two replicas (instance differs): one signature, two identities. */
	assert_int_equal(vigil_alert_detect("storyteller", &b.alerts[0], &d0), 0);
	assert_int_equal(vigil_alert_detect("storyteller", &b.alerts[1], &d1), 0);
	assert_string_equal(d0.signature, d1.signature);
	assert_int_not_equal(vigil_alert_identity(&b.alerts[0]),
			     vigil_alert_identity(&b.alerts[1]));
	assert_int_equal(d0.cls, VIGIL_CLASS_ALERT);
	assert_string_equal(d0.detail, "ModelApiErrors");
	assert_string_equal(d0.title, "alert ModelApiErrors firing");
	assert_string_equal(d0.label, "alert");
	vigil_alerts_free(&b);
	vigil_alerts_free(&b); /* a freed batch is empty */
}

/* The signature of a one-alert payload whose labels are the JSON members given. */
static void sig_of(const char *workload, const char *labels, char *out)
{
	struct vigil_alert_batch b;
	struct vigil_detection d;
	char body[1024], why[256];

	snprintf(body, sizeof(body), "{\"alerts\":[{\"status\":\"firing\",\"labels\":{%s}}]}",
		 labels);
	assert_int_equal(vigil_alerts_parse(body, strlen(body), &b, why, sizeof(why)), 0);
	assert_int_equal(vigil_alert_detect(workload, &b.alerts[0], &d), 0);
	memcpy(out, d.signature, VIGIL_SIG_LEN);
	vigil_alerts_free(&b);
}

static void test_signature(void **state)
{
	char a[VIGIL_SIG_LEN], b[VIGIL_SIG_LEN];

	(void)state;
	sig_of("w", "\"alertname\":\"A\",\"job\":\"x\",\"severity\":\"page\"", a);
	/* label order, and volatile labels: no difference */
	sig_of("w", "\"severity\":\"page\",\"job\":\"x\",\"alertname\":\"A\"", b);
	assert_string_equal(a, b);
	sig_of("w",
	       "\"alertname\":\"A\",\"job\":\"x\",\"severity\":\"page\",\"instance\":\"h:1\","
	       "\"pod\":\"p-1\",\"node\":\"n1\",\"prometheus_replica\":\"r0\"",
	       b);
	assert_string_equal(a, b);
	/* another alertname, identifying label value, workload: different */
	sig_of("w", "\"alertname\":\"B\",\"job\":\"x\",\"severity\":\"page\"", b);
	assert_string_not_equal(a, b);
	sig_of("w", "\"alertname\":\"A\",\"job\":\"y\",\"severity\":\"page\"", b);
	assert_string_not_equal(a, b);
	sig_of("v", "\"alertname\":\"A\",\"job\":\"x\",\"severity\":\"page\"", b);
	assert_string_not_equal(a, b);
	/* no two label sets give one text: "a=b" + "c" vs "a" + "b=c" */
	sig_of("w", "\"alertname\":\"A\",\"j\":\"x;1:k=1:y\"", a);
	sig_of("w", "\"alertname\":\"A\",\"j\":\"x\",\"k\":\"y\"", b);
	assert_string_not_equal(a, b);
	assert_true(vigil_alert_label_volatile("instance"));
	assert_false(vigil_alert_label_volatile("job"));
}

static void test_workload(void **state)
{
	struct vigil_alert_batch b;
	char why[256];
	static const char body[] =
	    "{\"alerts\":["
	    "{\"status\":\"firing\",\"labels\":{\"alertname\":\"A\",\"team\":\"voice\","
	    "\"service\":\"tts\",\"x\":\"y\"}},"
	    "{\"status\":\"firing\",\"labels\":{\"alertname\":\"A\",\"team\":\"voice\"}},"
	    "{\"status\":\"firing\",\"labels\":{\"alertname\":\"A\",\"team\":\"voice\","
	    "\"service\":\"tts\",\"workload\":\"storyteller\"}},"
	    "{\"status\":\"firing\",\"labels\":{\"alertname\":\"A\",\"workload\":\"other\"}},"
	    "{\"status\":\"firing\",\"labels\":{\"alertname\":\"A\",\"team\":\"voice\","
	    "\"service\":\"tts2\"}}]}";

	(void)state;
	assert_int_equal(vigil_alerts_parse(body, strlen(body), &b, why, sizeof(why)), 0);
	assert_int_equal(vigil_alert_workload(&cfg, &b.alerts[0]), 2); /* match_labels, all */
	assert_int_equal(vigil_alert_workload(&cfg, &b.alerts[1]), 0); /* only some */
	assert_int_equal(vigil_alert_workload(&cfg, &b.alerts[2]), 1); /* workload label first */
	assert_int_equal(vigil_alert_workload(&cfg, &b.alerts[3]), 0); /* no such workload */
	assert_int_equal(vigil_alert_workload(&cfg, &b.alerts[4]), 0); /* another value */
	vigil_alerts_free(&b);
}

/* Refused with a reason holding what. */
static void refused(const char *body, const char *what)
{
	struct vigil_alert_batch b;
	char why[256] = "";

	assert_int_equal(vigil_alerts_parse(body, strlen(body), &b, why, sizeof(why)), -EINVAL);
	if (!strstr(why, what))
		fail_msg("for %.200s: got \"%s\", wanted \"%s\"", body, why, what);
	assert_null(b.alerts);
	assert_null(b.root);
}

static void test_refused(void **state)
{
	char *big;
	size_t off;

	(void)state;
	refused("", "not JSON");
	refused("{\"alerts\": [", "not JSON");
	refused("[1]", "not a JSON object");
	refused("{}", "alerts: missing");
	refused("{\"alerts\": {}}", "alerts: not an array");
	refused("{\"alerts\": [1]}", "alerts[0]: not an object");
	refused("{\"alerts\": [{\"labels\": {\"alertname\": \"A\"}}]}",
		"alerts[0].status: missing");
	refused("{\"alerts\": [{\"status\": \"ok\", \"labels\": {\"alertname\": \"A\"}}]}",
		"alerts[0].status: not \"firing\" or \"resolved\"");
	refused("{\"alerts\": [{\"status\": \"firing\"}]}", "alerts[0].labels: missing");
	refused("{\"alerts\": [{\"status\": \"firing\", \"labels\": []}]}",
		"alerts[0].labels: not an object");
	refused("{\"alerts\": [{\"status\": \"firing\", \"labels\": {}}]}",
		"alerts[0].labels.alertname: missing");
	refused("{\"alerts\": [{\"status\": \"firing\", \"labels\": {\"alertname\": \"\"}}]}",
		"alerts[0].labels.alertname: empty");
	refused("{\"alerts\": [{\"status\": \"firing\", \"labels\": {\"alertname\": "
		"\"A234567890123456789012345678901234567890123456789012345678901234\"}}]}",
		"longer than 63 bytes");
	refused("{\"alerts\": [{\"status\": \"firing\", \"labels\": {\"alertname\": 5}}]}",
		"alerts[0].labels.alertname: not a string");
	refused("{\"alerts\": [{\"status\": \"firing\", \"labels\": {\"alertname\": \"A\", "
		"\"\": \"x\"}}]}",
		"a label name of 0 bytes");
	refused("{\"alerts\": [{\"status\": \"firing\", \"labels\": {\"alertname\": \"A\"}, "
		"\"startsAt\": 5}]}",
		"alerts[0].startsAt: not a string");
	refused("{\"alerts\": [{\"status\": \"firing\", \"labels\": {\"alertname\": \"A\"}, "
		"\"fingerprint\": {}}]}",
		"alerts[0].fingerprint: not a string");
	refused("{\"alerts\": [{\"status\": \"firing\", \"status\": \"resolved\", \"labels\": "
		"{\"alertname\": \"A\"}}]}",
		"duplicate");
	refused(
	    "{\"alerts\": [{\"status\": \"firing\", \"labels\": {\"alertname\": \"A\\u0000B\"}}]}",
	    "not JSON");
	/* bounds: labels per alert, a value's length, alerts per payload */
	big = malloc(VIGIL_ALERTS_MAX_BODY + 2);
	assert_non_null(big);
	off = (size_t)sprintf(
	    big, "{\"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":\"A\"");
	for (int i = 0; i < VIGIL_ALERT_MAX_LABELS; i++)
		off += (size_t)sprintf(big + off, ",\"l%d\":\"v\"", i);
	strcpy(big + off, "}}]}");
	refused(big, "65 labels, at most 64");
	off = (size_t)sprintf(big, "{\"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":"
				   "\"A\",\"x\":\"");
	memset(big + off, 'v', VIGIL_ALERT_LABEL_VALUE_MAX + 1);
	strcpy(big + off + VIGIL_ALERT_LABEL_VALUE_MAX + 1, "\"}}]}");
	refused(big, "alerts[0].labels.x: 1025 bytes, at most 1024");
	off = (size_t)sprintf(big, "{\"alerts\":[");
	for (int i = 0; i <= VIGIL_ALERTS_MAX; i++)
		off += (size_t)sprintf(big + off, "%s{}", i ? "," : "");
	strcpy(big + off, "]}");
	refused(big, "1001 alerts, at most 1000");
	memset(big, ' ', VIGIL_ALERTS_MAX_BODY + 1);
	big[VIGIL_ALERTS_MAX_BODY + 1] = '\0';
	refused(big, "payload of 1048577 bytes, at most 1048576");
	free(big);
}

static void test_empty(void **state)
{
	struct vigil_alert_batch b;
	char why[64];
	static const char body[] = "{\"alerts\": [], \"version\": \"4\"}";

	(void)state;
	/* No alerts: accepted, nothing to do. And a body not NUL-terminated is read to len. */
	assert_int_equal(vigil_alerts_parse(body, strlen(body), &b, why, sizeof(why)), 0);
	assert_int_equal(b.n, 0);
	vigil_alerts_free(&b);
	assert_int_equal(vigil_alerts_parse("{\"alerts\": []}garbage", 14, &b, why, sizeof(why)),
			 0);
	vigil_alerts_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_real_payload), cmocka_unit_test(test_signature),
	    cmocka_unit_test(test_workload),	 cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
