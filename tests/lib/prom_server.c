// SPDX-License-Identifier: Apache-2.0
/* prom_server: a real Prometheus or Alertmanager for a test (see prom_server.h). */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "http_client.h"
#include "prom_server.h"

#define READY_MS 60000

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* text with @DIR@ and @PORT@ replaced, into the file dir/name. */
static int write_conf(const struct vt_prom *p, const char *name, const char *text)
{
	char path[128], port[16];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", p->dir, name);
	snprintf(port, sizeof(port), "%d", p->port);
	f = fopen(path, "w");
	if (!f)
		return -1;
	for (const char *s = text; *s;) {
		if (!strncmp(s, "@DIR@", 5)) {
			fputs(p->dir, f);
			s += 5;
		} else if (!strncmp(s, "@PORT@", 6)) {
			fputs(port, f);
			s += 6;
		} else {
			fputc(*s++, f);
		}
	}
	return fclose(f) ? -1 : 0;
}

void vt_prom_log(const struct vt_prom *p)
{
	char path[128], line[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/log", p->dir);
	f = fopen(path, "r");
	if (!f)
		return;
	fprintf(stderr, "--- %s's log ---\n", p->what);
	while (fgets(line, sizeof(line), f))
		fputs(line, stderr);
	fclose(f);
}

static int start(struct vt_prom *p, const char *bin, char *const *argv, char *why, size_t len)
{
	char url[96], log[128];
	struct vt_http_answer a;
	int fd;

	if (access(bin, X_OK)) {
		snprintf(why, len, "%s is not installed (Debian package %s)", bin,
			 !strcmp(p->what, "prometheus") ? "prometheus" : "prometheus-alertmanager");
		return 1;
	}
	snprintf(log, sizeof(log), "%s/log", p->dir);
	p->pid = fork();
	if (p->pid < 0)
		return -1;
	if (p->pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		signal(SIGSEGV, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		execv(bin, argv);
		_exit(127);
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/-/ready", p->port);
	for (int waited = 0; waited < READY_MS; waited += 100) {
		int st;

		if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
			p->pid = 0;
			fprintf(stderr, "%s exited at start (status %#x)\n", p->what, st);
			vt_prom_log(p);
			return -1;
		}
		if (!vt_http("GET", url, NULL, NULL, 1000, &a) && a.status == 200) {
			vt_http_free(&a);
			return 0;
		}
		vt_http_free(&a);
		sleep_ms(100);
	}
	fprintf(stderr, "%s did not answer %s within %d ms\n", p->what, url, READY_MS);
	vt_prom_log(p);
	return -1;
}

static int setup(struct vt_prom *p, const char *what)
{
	memset(p, 0, sizeof(*p));
	p->what = what;
	snprintf(p->dir, sizeof(p->dir), "/tmp/vigil-%s-XXXXXX", what);
	if (!mkdtemp(p->dir))
		return -1;
	p->port = vt_free_port();
	return p->port > 0 ? 0 : -1;
}

int vt_prom_start(struct vt_prom *p, const char *config, const char *rules, char *why, size_t len)
{
	char cfg[128], data[128], listen[64];
	char *argv[] = {"prometheus", cfg, data, listen, "--log.level=warn", NULL};

	if (setup(p, "prometheus") || write_conf(p, "prometheus.yml", config) ||
	    (rules && write_conf(p, "rules.yml", rules)))
		return -1;
	snprintf(cfg, sizeof(cfg), "--config.file=%s/prometheus.yml", p->dir);
	snprintf(data, sizeof(data), "--storage.tsdb.path=%s/data", p->dir);
	snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%d", p->port);
	return start(p, "/usr/bin/prometheus", argv, why, len);
}

int vt_am_start(struct vt_prom *p, const char *config, char *why, size_t len)
{
	char cfg[128], data[128], listen[64];
	char *argv[] = {"alertmanager",	    cfg, data, listen, "--cluster.listen-address=",
			"--log.level=warn", NULL};

	if (setup(p, "alertmanager") || write_conf(p, "alertmanager.yml", config))
		return -1;
	snprintf(cfg, sizeof(cfg), "--config.file=%s/alertmanager.yml", p->dir);
	snprintf(data, sizeof(data), "--storage.path=%s/data", p->dir);
	snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%d", p->port);
	return start(p, "/usr/bin/prometheus-alertmanager", argv, why, len);
}

void vt_prom_stop(struct vt_prom *p)
{
	char cmd[128];

	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		for (int i = 0; i < 100 && waitpid(p->pid, NULL, WNOHANG) != p->pid; i++) {
			if (i == 99) {
				kill(p->pid, SIGKILL);
				waitpid(p->pid, NULL, 0);
			}
			sleep_ms(100);
		}
		p->pid = 0;
	}
	if (p->dir[0] && !strncmp(p->dir, "/tmp/vigil-", 11)) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p->dir);
		if (system(cmd))
			fprintf(stderr, "could not remove %s\n", p->dir);
		p->dir[0] = '\0';
	}
}

int vt_prom_query(const struct vt_prom *p, const char *expr, double *v)
{
	struct vt_http_answer a;
	json_t *root, *res, *val;
	char url[1024], *esc;
	CURL *c = curl_easy_init();
	int ret = -1;

	if (!c)
		return -1;
	esc = curl_easy_escape(c, expr, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/v1/query?query=%s", p->port, esc);
	curl_free(esc);
	curl_easy_cleanup(c);
	if (vt_http("GET", url, NULL, NULL, 5000, &a) || a.status != 200) {
		fprintf(stderr, "query %s: status %ld %s %s\n", expr, a.status, a.error,
			a.body ? a.body : "");
		vt_http_free(&a);
		return -1;
	}
	root = json_loads(a.body, 0, NULL);
	res = json_object_get(json_object_get(root, "data"), "result");
	if (json_is_array(res) && json_array_size(res) == 0) {
		ret = 1;
	} else {
		val = json_array_get(json_object_get(json_array_get(res, 0), "value"), 1);
		if (json_is_string(val)) {
			*v = strtod(json_string_value(val), NULL);
			ret = 0;
		} else {
			fprintf(stderr, "query %s: unexpected answer %s\n", expr, a.body);
		}
	}
	json_decref(root);
	vt_http_free(&a);
	return ret;
}
