/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the pod parsers (userspace/detect/pod_id.c), whose input is outside
 * vigil's control: /proc/PID/cgroup (any process may sit in a cgroup of any name a delegated
 * subtree allows) and a container's config.json (its annotations come from the pod spec).
 * Built and run by tests/fuzz/run.sh with ASan, UBSan and LeakSanitizer.
 *
 * The input, not NUL-terminated, is read as /proc/PID/cgroup's text, each of its lines' paths
 * on its own, and as a config.json of each runtime. What is found must keep the contract: a
 * uid of the pod uid form, a container id of 64 lowercase hex digits or none, names that pass
 * the Kubernetes rules and fit their buffers, nothing at all on a refusal; the same answer
 * twice; and a text of one v2 line answers as its path does.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/pod_id.h"

#define CHECK(cond, what)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_pods: %s (%s:%d)\n", what, __FILE__, __LINE__);      \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#define UID "0c1a2b3c-1111-2222-3333-444455556666"

static bool hex64(const char *s)
{
	if (strnlen(s, VIGIL_CONTAINER_ID_LEN + 1) != VIGIL_CONTAINER_ID_LEN)
		return false;
	for (size_t i = 0; i < VIGIL_CONTAINER_ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static void check_cgroup(int err, const struct vigil_pod_cgroup *pc)
{
	CHECK(err == 0 || err == -ENOENT || err == -EINVAL, "an error outside the contract");
	if (err) {
		CHECK(!pc->uid[0] && !pc->container_id[0], "a refusal that names a pod");
		return;
	}
	CHECK(vigil_pod_uid_valid(pc->uid), "a pod uid that is not one");
	CHECK(!pc->container_id[0] || hex64(pc->container_id), "a container id that is not one");
	CHECK(pc->runtime <= VIGIL_RUNTIME_DOCKER, "a runtime out of range");
	CHECK(pc->container_id[0] || pc->runtime == VIGIL_RUNTIME_UNKNOWN,
	      "a runtime without a container");
}

static void check_pod(int err, const struct vigil_pod *p)
{
	CHECK(err == 0 || err == -ENOENT || err == -EINVAL || err == -ESTALE || err == -EFBIG ||
		  err == -ENOMEM,
	      "an error outside the contract");
	if (err) {
		CHECK(!p->name[0] && !p->ns[0] && !p->container[0], "a refusal that names a pod");
		return;
	}
	CHECK(p->name[0] || p->ns[0] || p->container[0], "success without a name");
	CHECK(!p->name[0] || vigil_pod_dns_subdomain(p->name), "a pod name that is not one");
	CHECK(!p->ns[0] || vigil_pod_dns_label(p->ns, VIGIL_POD_LABEL_MAX),
	      "a namespace that is not one");
	CHECK(!p->container[0] || vigil_pod_dns_label(p->container, VIGIL_POD_LABEL_MAX),
	      "a container name that is not one");
	CHECK(!strcmp(p->uid, "keep"), "the uid was changed");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct vigil_pod_cgroup a, b;
	struct vigil_pod p;
	size_t at = 0;
	char *line;
	int err;

	/* As /proc/PID/cgroup, twice. */
	err = vigil_pod_parse_proc_cgroup(text, size, &a);
	check_cgroup(err, &a);
	CHECK(vigil_pod_parse_proc_cgroup(text, size, &b) == err && !memcmp(&a, &b, sizeof(a)),
	      "two answers to one text");
	/* Each line's path (after its second colon) on its own; as the only line of a v2 host. */
	while (at < size) {
		const char *l = text + at, *nl = memchr(l, '\n', size - at), *c;
		size_t ll = nl ? (size_t)(nl - l) : size - at;

		at += ll + 1;
		c = memchr(l, ':', ll);
		c = c ? memchr(c + 1, ':', ll - (size_t)(c + 1 - l)) : NULL;
		if (!c)
			continue;
		c++;
		err = vigil_pod_parse_path(c, ll - (size_t)(c - l), &a);
		check_cgroup(err, &a);
		CHECK(!err || err == -ENOENT, "a path's error outside the contract");
		line = malloc(ll - (size_t)(c - l) + 3);
		if (!line)
			return 0;
		memcpy(line, "0::", 3);
		memcpy(line + 3, c, ll - (size_t)(c - l));
		CHECK(vigil_pod_parse_proc_cgroup(line, ll - (size_t)(c - l) + 3, &b) == err,
		      "a v2 line and its path disagree");
		CHECK(err || (b.from_v2 && b.v2_only && !strcmp(a.uid, b.uid) &&
			      !strcmp(a.container_id, b.container_id)),
		      "a v2 line and its path name different pods");
		free(line);
	}
	/* As a config.json of each runtime. */
	for (enum vigil_runtime rt = VIGIL_RUNTIME_UNKNOWN; rt <= VIGIL_RUNTIME_DOCKER; rt++) {
		memset(&p, 'x', sizeof(p));
		snprintf(p.uid, sizeof(p.uid), "keep");
		err = vigil_pod_parse_oci(text, size, rt, UID, &p);
		check_pod(err, &p);
	}
	return 0;
}
