// SPDX-License-Identifier: Apache-2.0
/* pod_id: a process's pod from its cgroup path and its container's OCI spec (see pod_id.h). */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "detect/pod_id.h"

/* --- names ----------------------------------------------------------------------------------- */

static bool lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool hex_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* n bytes of s form one DNS label. */
static bool label(const char *s, size_t n)
{
	if (!n || n > VIGIL_POD_LABEL_MAX || !lower_alnum(s[0]) || !lower_alnum(s[n - 1]))
		return false;
	for (size_t i = 1; i + 1 < n; i++)
		if (!lower_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

bool vigil_pod_dns_label(const char *s, size_t max)
{
	size_t n = s ? strnlen(s, max + 1) : 0;

	return n <= max && label(s, n);
}

bool vigil_pod_dns_subdomain(const char *s)
{
	size_t n = s ? strnlen(s, VIGIL_POD_NAME_MAX + 1) : 0, start = 0;

	if (!n || n > VIGIL_POD_NAME_MAX)
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		if (!label(s + start, i - start))
			return false;
		start = i + 1;
	}
	return true;
}

/* The uid text (n bytes, its groups separated by sep: '-', or '_' in a systemd slice's name)
 * into out, dashed. Returns true if it is one. */
static bool take_uid(const char *s, size_t n, char sep, char *out)
{
	if (n == 32) {
		if (!hex_digits(s, n))
			return false;
	} else if (n == VIGIL_POD_UID_LEN) {
		for (size_t i = 0; i < n; i++) {
			bool dash = i == 8 || i == 13 || i == 18 || i == 23;

			if (dash ? s[i] != sep : !hex_digits(s + i, 1))
				return false;
		}
	} else {
		return false;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = s[i] == sep ? '-' : s[i];
	out[n] = '\0';
	return true;
}

bool vigil_pod_uid_valid(const char *s)
{
	char buf[VIGIL_POD_UID_LEN + 1];
	size_t n = s ? strnlen(s, sizeof(buf)) : 0;

	return n < sizeof(buf) && take_uid(s, n, '-', buf);
}

/* --- cgroup paths ---------------------------------------------------------------------------- */

static bool starts(const char *c, size_t n, const char *prefix)
{
	size_t pl = strlen(prefix);

	return n >= pl && !memcmp(c, prefix, pl);
}

static bool is(const char *c, size_t n, const char *word)
{
	return n == strlen(word) && !memcmp(c, word, n);
}

/* A directory kubelet makes above its pods' (or "..": above the reader's cgroup namespace). */
static bool kubelet_dir(const char *c, size_t n)
{
	return is(c, n, "..") || starts(c, n, "kubepods") || starts(c, n, "kubelet") ||
	       is(c, n, "burstable") || is(c, n, "besteffort");
}

/* Component c (n bytes) is a pod's directory: its uid into uid. cgroupfs: "pod" UID; systemd:
 * "kubepods[-QOS]-pod" UID_ ".slice" (or kind's "kubelet-kubepods-..."). */
static bool pod_dir(const char *c, size_t n, char *uid)
{
	static const char slice[] = ".slice";
	size_t sl = sizeof(slice) - 1;

	if (starts(c, n, "pod"))
		return take_uid(c + 3, n - 3, '-', uid);
	if (n < sl || memcmp(c + n - sl, slice, sl))
		return false;
	n -= sl;
	/* The last "-pod": the uid has no "-pod" of its own (underscores, hex). */
	for (size_t i = n; i >= 4; i--) {
		if (memcmp(c + i - 4, "-pod", 4))
			continue;
		return (starts(c, i - 4, "kubepods") || starts(c, i - 4, "kubelet-kubepods")) &&
		       take_uid(c + i, n - i, '_', uid);
	}
	return false;
}

/* Component c (n bytes) names a container: its id and runtime into out. */
static void container_dir(const char *c, size_t n, struct vigil_pod_cgroup *out)
{
	static const struct {
		const char *prefix;
		enum vigil_runtime rt;
	} scopes[] = {
	    {"cri-containerd-", VIGIL_RUNTIME_CONTAINERD},
	    {"crio-", VIGIL_RUNTIME_CRIO},
	    {"docker-", VIGIL_RUNTIME_DOCKER},
	};
	const size_t idl = VIGIL_CONTAINER_ID_LEN, scl = strlen(".scope");

	if (n == idl && hex_digits(c, n)) {
		memcpy(out->container_id, c, idl);
		out->container_id[idl] = '\0';
		out->runtime = VIGIL_RUNTIME_UNKNOWN;
		return;
	}
	for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
		size_t pl = strlen(scopes[i].prefix);

		if (n != pl + idl + scl || !starts(c, n, scopes[i].prefix) ||
		    memcmp(c + pl + idl, ".scope", scl) || !hex_digits(c + pl, idl))
			continue;
		memcpy(out->container_id, c + pl, idl);
		out->container_id[idl] = '\0';
		out->runtime = scopes[i].rt;
		return;
	}
}

/* The next non-empty component of path[*at..len): *c, *n; false at the end. */
static bool next_dir(const char *path, size_t len, size_t *at, const char **c, size_t *n)
{
	while (*at < len && path[*at] == '/')
		(*at)++;
	if (*at >= len)
		return false;
	*c = path + *at;
	*n = 0;
	while (*at < len && path[*at] != '/')
		(*at)++, (*n)++;
	return true;
}

int vigil_pod_parse_path(const char *path, size_t len, struct vigil_pod_cgroup *out)
{
	size_t at = 0, n;
	const char *c;

	memset(out, 0, sizeof(*out));
	if (!len || path[0] != '/')
		return -ENOENT;
	while (next_dir(path, len, &at, &c, &n)) {
		if (pod_dir(c, n, out->uid)) {
			if (next_dir(path, len, &at, &c, &n))
				container_dir(c, n, out);
			return 0;
		}
		/* A pod directory under anything but kubelet's own is not one: a user's
		 * delegated subtree may use any name. */
		if (!kubelet_dir(c, n))
			break;
	}
	memset(out, 0, sizeof(*out));
	return -ENOENT;
}

static bool same_pod(const struct vigil_pod_cgroup *a, const struct vigil_pod_cgroup *b)
{
	return !strcmp(a->uid, b->uid) && !strcmp(a->container_id, b->container_id);
}

int vigil_pod_parse_proc_cgroup(const char *text, size_t len, struct vigil_pod_cgroup *out)
{
	struct vigil_pod_cgroup v2 = {0}, v1 = {0}, cur;
	bool lines = false, has_v1 = false, pod_v2 = false, pod_v1 = false, differ = false;
	size_t at = 0;

	memset(out, 0, sizeof(*out));
	while (at < len) {
		const char *line = text + at, *nl = memchr(line, '\n', len - at);
		size_t ll = nl ? (size_t)(nl - line) : len - at;
		const char *c1 = memchr(line, ':', ll), *c2;

		at += ll + 1;
		c2 = c1 ? memchr(c1 + 1, ':', ll - (size_t)(c1 + 1 - line)) : NULL;
		if (!c2)
			continue;
		lines = true;
		if (is(line, (size_t)(c1 - line), "0") && c2 == c1 + 1) {
			pod_v2 = !vigil_pod_parse_path(c2 + 1, ll - (size_t)(c2 + 1 - line), &v2);
			continue;
		}
		has_v1 = true;
		if (vigil_pod_parse_path(c2 + 1, ll - (size_t)(c2 + 1 - line), &cur))
			continue;
		differ |= pod_v1 && !same_pod(&cur, &v1);
		if (!pod_v1)
			v1 = cur;
		pod_v1 = true;
	}
	if (!lines)
		return -EINVAL;
	if (pod_v2) {
		*out = v2;
		out->from_v2 = true;
	} else if (pod_v1 && !differ) {
		*out = v1;
	}
	out->v2_only = !has_v1;
	if (pod_v2 || (pod_v1 && !differ))
		return 0;
	return differ ? -EINVAL : -ENOENT;
}

/* --- the runtime's spec ---------------------------------------------------------------------- */

struct oci_keys {
	const char *name, *ns, *container, *uid;
};

static const struct oci_keys containerd_keys = {
    "io.kubernetes.cri.sandbox-name",
    "io.kubernetes.cri.sandbox-namespace",
    "io.kubernetes.cri.container-name",
    "io.kubernetes.cri.sandbox-uid",
};

static const struct oci_keys crio_keys = {
    "io.kubernetes.pod.name",
    "io.kubernetes.pod.namespace",
    "io.kubernetes.container.name",
    "io.kubernetes.pod.uid",
};

/* The annotation key of ann, if it is a string. */
static const char *ann_str(const json_t *ann, const char *key)
{
	return json_string_value(json_object_get(ann, key));
}

/* Names from ann under keys k. Returns 0 (one at least), -ENOENT (none of the keys is there,
 * or no value passes), -ESTALE (the uid annotation names another pod). */
static int take_names(const json_t *ann, const struct oci_keys *k, const char *uid,
		      struct vigil_pod *out)
{
	const char *name = ann_str(ann, k->name), *ns = ann_str(ann, k->ns);
	const char *container = ann_str(ann, k->container), *u = ann_str(ann, k->uid);
	bool any = false;

	if (u && uid && strcmp(u, uid))
		return -ESTALE;
	if (vigil_pod_dns_subdomain(name)) {
		strcpy(out->name, name);
		any = true;
	}
	if (vigil_pod_dns_label(ns, VIGIL_POD_LABEL_MAX)) {
		strcpy(out->ns, ns);
		any = true;
	}
	if (vigil_pod_dns_label(container, VIGIL_POD_LABEL_MAX)) {
		strcpy(out->container, container);
		any = true;
	}
	return any ? 0 : -ENOENT;
}

static bool has_any(const json_t *ann, const struct oci_keys *k)
{
	return json_object_get(ann, k->name) || json_object_get(ann, k->ns) ||
	       json_object_get(ann, k->container) || json_object_get(ann, k->uid);
}

int vigil_pod_parse_oci(const char *json, size_t len, enum vigil_runtime rt, const char *uid,
			struct vigil_pod *out)
{
	const json_t *ann;
	json_error_t e;
	json_t *spec;
	int err;

	out->name[0] = out->ns[0] = out->container[0] = '\0';
	if (len > VIGIL_POD_OCI_MAX)
		return -EFBIG;
	spec = json_loadb(json, len, JSON_REJECT_DUPLICATES, &e);
	if (!json_is_object(spec)) {
		err = spec || json_error_code(&e) != json_error_out_of_memory ? -EINVAL : -ENOMEM;
		json_decref(spec);
		return err;
	}
	ann = json_object_get(spec, "annotations");
	if (!json_is_object(ann))
		err = -ENOENT;
	else if (rt == VIGIL_RUNTIME_CONTAINERD ||
		 (rt == VIGIL_RUNTIME_UNKNOWN && has_any(ann, &containerd_keys)))
		err = take_names(ann, &containerd_keys, uid, out);
	else if (rt == VIGIL_RUNTIME_CRIO || rt == VIGIL_RUNTIME_UNKNOWN)
		err = take_names(ann, &crio_keys, uid, out);
	else
		err = -ENOENT;
	if (err)
		out->name[0] = out->ns[0] = out->container[0] = '\0';
	json_decref(spec);
	return err;
}
