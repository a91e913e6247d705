// SPDX-License-Identifier: Apache-2.0
/*
 * client: the commands that ask a running daemon through its control socket — status,
 * latency, incidents, incident, approve — and print its answer raw (--json) or rendered.
 * incidents and incident fall back to the journal when no daemon answers.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/commands.h"
#include "control/ctl.h"
#include "control/history.h"
#include "output/journal.h"
#include "core/clock.h"

/* How long `vigil status` waits for the daemon: it answers from memory, on its loop. */
#define CTL_TIMEOUT_MS 5000

/* Whether the daemon's answer is an error: an object with an "error" member (ctl.c), or text
 * that is not a JSON object at all. With --json the answer is printed as it is, and still
 * decides the exit. */
static bool error_answer(const char *answer)
{
	json_t *root = json_loads(answer, 0, NULL);
	bool err = !json_is_object(root) || json_object_get(root, "error");

	json_decref(root);
	return err;
}

/* Whether an "approve" or "deny" answer says it was taken: {"approved": true} or
 * {"denied": true}. */
static bool decided(const char *answer, const char *verb)
{
	json_t *root = json_loads(answer, 0, NULL);
	bool ok = json_is_true(json_object_get(root, verb)) && !json_object_get(root, "error");

	json_decref(root);
	return ok;
}

/* Options of the client commands (status, latency, incidents, incident). */
struct client_opts {
	const char *path;    /* control socket */
	const char *journal; /* --journal, where the command takes it */
	bool json;
	bool ctl_given;
	const char *arg;    /* the one positional argument, where the command takes one */
	const char *reason; /* --reason, where the command takes it */
};

/*
 * Parse a client command's options. Returns 0, 1 after printing the usage for --help (exit 0),
 * or -1 after saying what was wrong (exit 2). need_arg: the positional argument is required.
 */
static int parse_client(int argc, char **argv, const char *cmd, bool journal, bool take_arg,
			bool need_arg, struct client_opts *o)
{
	static const struct option opts[] = {
	    {"ctl", required_argument, NULL, 'C'}, {"journal", required_argument, NULL, 'j'},
	    {"json", no_argument, NULL, 'J'},	   {"reason", required_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},	   {},
	};
	bool decision = !strcmp(cmd, "approve") || !strcmp(cmd, "deny");
	int c;

	memset(o, 0, sizeof(*o));
	o->path = VIGIL_CTL_PATH;
	while ((c = getopt_long(argc, argv, "Jh", opts, NULL)) != -1) {
		switch (c) {
		case 'C':
			o->path = optarg;
			o->ctl_given = true;
			break;
		case 'j':
			if (!journal) {
				fprintf(stderr, "vigil %s: --journal is not an option here\n", cmd);
				return -1;
			}
			o->journal = optarg;
			break;
		case 'J':
			o->json = true;
			break;
		case 'r':
			if (!decision) {
				fprintf(stderr, "vigil %s: --reason is not an option here\n", cmd);
				return -1;
			}
			o->reason = optarg;
			break;
		case 'h':
			fputs(vigil_usage, stdout);
			return 1;
		default:
			fputs(vigil_usage, stderr);
			return -1;
		}
	}
	if (take_arg && optind < argc)
		o->arg = argv[optind++];
	if (need_arg && !o->arg) {
		fprintf(stderr, "vigil %s: which one? (see vigil help)\n", cmd);
		return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "vigil %s: unexpected argument '%s'\n", cmd, argv[optind]);
		return -1;
	}
	return 0;
}

/*
 * `vigil status` and `vigil latency [WORKLOAD]`: one request to the running daemon, its answer
 * printed raw (--json) or rendered. Exit status: 0, 1 when there is no daemon or it answered
 * with an error, 2 for a usage error.
 */
int vigil_cmd_query(int argc, char **argv)
{
	const char *cmd = argv[0];
	bool latency = !strcmp(cmd, "latency"), json;
	const char *path, *arg;
	struct client_opts o;
	char *answer = NULL;
	int err;

	err = parse_client(argc, argv, cmd, false, latency, false, &o);
	if (err)
		return err > 0 ? 0 : 2;
	path = o.path;
	arg = o.arg;
	json = o.json;
	err = vigil_ctl_request(path, cmd, arg, &answer, CTL_TIMEOUT_MS);
	if (err == -ENOENT || err == -ECONNREFUSED) {
		fprintf(stderr, "vigil: no daemon at %s (is vigil run going?)\n", path);
		return 1;
	}
	if (err == -EINVAL && arg) {
		fprintf(stderr, "vigil %s: '%s' cannot be sent as an argument\n", cmd, arg);
		return 2;
	}
	if (err) {
		fprintf(stderr, "vigil: %s: %s\n", path, strerror(-err));
		return 1;
	}
	if (json) {
		puts(answer);
		err = error_answer(answer) ? -ENOENT : 0;
	} else if (latency) {
		err = vigil_ctl_print_latency(answer, stdout);
	} else {
		err = vigil_ctl_print_status(answer, stdout);
	}
	if (err == -EINVAL)
		fprintf(stderr, "vigil: %s: the daemon's answer is not a %s answer\n", path, cmd);
	else if (err && err != -ENOENT)
		fprintf(stderr, "vigil %s: %s\n", cmd, strerror(-err));
	free(answer);
	return err ? 1 : 0;
}

/* The journal of the daemon at ctl, from its status answer, into buf. Returns 0, -ENOENT
 * when it writes none (or did not say), or the -errno of the request. */
static int daemon_journal(const char *ctl, char *buf, size_t len)
{
	char *answer = NULL;
	const char *path;
	json_t *root;
	int err;

	err = vigil_ctl_request(ctl, "status", NULL, &answer, CTL_TIMEOUT_MS);
	if (err)
		return err;
	root = json_loads(answer, 0, NULL);
	path = json_string_value(json_object_get(json_object_get(root, "journal"), "path"));
	err = path && path[0] ? 0 : -ENOENT;
	if (!err)
		snprintf(buf, len, "%s", path);
	json_decref(root);
	free(answer);
	return err;
}

/* Answer cmd from the journal at path and its rotated files (PATH.N .. PATH.1, oldest first,
 * those that exist), saying on stderr what could not be read, and why there is no answer.
 * Returns 0 and *answer, or -errno (-ENOENT: the id is not in it). */
static int journal_answer(const char *path, const char *cmd, const char *id, char **answer)
{
	struct vigil_journal_stats st = {};
	FILE *f[VIGIL_JOURNAL_KEEP_MAX + 1];
	char **paths = NULL;
	int n, nf = 0, err = 0;

	n = vigil_journal_files(path, VIGIL_JOURNAL_KEEP_MAX, &paths);
	if (n < 0) {
		fprintf(stderr, "vigil: journal %s: %s\n", path, strerror(-n));
		return n;
	}
	for (int i = 0; i < n && !err; i++) {
		f[nf] = fopen(paths[i], "re");
		if (f[nf])
			nf++;
		else if (errno != ENOENT || i == n - 1)
			err = -errno; /* a rotated file gone meanwhile is no error */
	}
	if (err) {
		fprintf(stderr, "vigil: journal %s: %s\n", paths[nf], strerror(-err));
		goto out;
	}
	err = vigil_history_journals(f, (unsigned int)nf, cmd, id, 0, vigil_wall_ns(), answer, &st);
	if (nf > 1)
		fprintf(stderr, "vigil: journal %s: read with its %d rotated file%s\n", path,
			nf - 1, nf == 2 ? "" : "s");
	if (st.skipped)
		fprintf(stderr, "vigil: journal %s: %llu line%s skipped: not JSON\n", path,
			(unsigned long long)st.skipped, st.skipped == 1 ? "" : "s");
	if (st.torn)
		fprintf(stderr,
			"vigil: journal %s: %llu torn line%s: the whole record after the tear "
			"read\n",
			path, (unsigned long long)st.torn, st.torn == 1 ? "" : "s");
	if (st.malformed)
		fprintf(stderr, "vigil: journal %s: %llu incident record%s without an id ignored\n",
			path, (unsigned long long)st.malformed, st.malformed == 1 ? "" : "s");
	if (st.forgotten)
		fprintf(stderr, "vigil: journal %s: only the %d newest incidents are listed\n",
			path, VIGIL_HISTORY_MAX);
	if (err == -ENOENT)
		fprintf(stderr, "vigil: no incident %s in the journal %s\n", id, path);
	else if (err)
		fprintf(stderr, "vigil: journal %s: %s\n", path, strerror(-err));
out:
	while (nf > 0)
		fclose(f[--nf]);
	vigil_journal_files_free(paths, n);
	return err;
}

/*
 * `vigil incidents` and `vigil incident ID`: from the daemon at --ctl (default VIGIL_CTL_PATH)
 * or from a journal: --journal, or the default journal when no --ctl was given and no daemon
 * answers at the default socket. An id the daemon no longer holds (an incident leaves its
 * table a window after its last event) is looked up in the daemon's journal. Exit status: 0;
 * 1 for an unknown id, no daemon or nothing to read; 2 for a usage error.
 */
int vigil_cmd_history(int argc, char **argv)
{
	const char *cmd = argv[0];
	bool one = !strcmp(cmd, "incident"), json, ctl_given;
	const char *path, *journal, *id;
	char *answer = NULL, jbuf[4096];
	struct client_opts o;
	int err;

	err = parse_client(argc, argv, cmd, true, one, one, &o);
	if (err) {
		if (err < 0 && one && !o.arg)
			fputs("usage: vigil incident ID [--ctl PATH | --journal FILE] [--json]\n",
			      stderr);
		return err > 0 ? 0 : 2;
	}
	path = o.path;
	journal = o.journal;
	id = o.arg;
	json = o.json;
	ctl_given = o.ctl_given;
	if (ctl_given && journal) {
		fprintf(stderr, "vigil %s: --ctl PATH or --journal FILE, not both\n", cmd);
		return 2;
	}
	if (journal && !journal[0]) {
		fprintf(stderr, "vigil %s: --journal needs a FILE\n", cmd);
		return 2;
	}
	if (!journal) {
		err = vigil_ctl_request(path, cmd, id, &answer, CTL_TIMEOUT_MS);
		if ((err == -ENOENT || err == -ECONNREFUSED) && !ctl_given) {
			journal = VIGIL_HISTORY_JOURNAL;
			fprintf(stderr, "vigil: no daemon at %s: reading the journal %s\n", path,
				journal);
		} else if (err == -ENOENT || err == -ECONNREFUSED) {
			fprintf(stderr, "vigil: no daemon at %s (is vigil run going?)\n", path);
			return 1;
		} else if (err == -EINVAL && id) {
			fprintf(stderr, "vigil %s: '%s' cannot be sent as an id\n", cmd, id);
			return 2;
		} else if (err) {
			fprintf(stderr, "vigil: %s: %s\n", path, strerror(-err));
			return 1;
		} else if (one && error_answer(answer)) {
			err = daemon_journal(path, jbuf, sizeof(jbuf));
			if (err) {
				fprintf(stderr, "vigil: no incident %s at the daemon at %s\n", id,
					path);
				free(answer);
				return 1;
			}
			free(answer);
			answer = NULL;
			journal = jbuf;
			fprintf(stderr,
				"vigil: %s is not a live incident: reading the journal %s\n", id,
				journal);
		}
	}
	if (journal) {
		if (journal_answer(journal, cmd, id, &answer))
			return 1;
	}
	if (json) {
		puts(answer);
		err = error_answer(answer) ? -ENOENT : 0;
	} else if (one) {
		err = vigil_ctl_print_incident(answer, stdout);
	} else {
		err = vigil_ctl_print_incidents(answer, stdout);
	}
	if (err == -EINVAL)
		fprintf(stderr, "vigil: the answer is not an %s answer\n", cmd);
	else if (err && err != -ENOENT)
		fprintf(stderr, "vigil %s: %s\n", cmd, strerror(-err));
	free(answer);
	return err ? 1 : 0;
}

/*
 * `vigil approve ID [--reason TEXT]` lets a level-3 incident's action run; `vigil deny ID
 * [--reason TEXT]` says no. The daemon records who (from the socket's peer credentials) and
 * the reason. Exit status: 0 when it was taken, 1 when the daemon refused (unknown id, not
 * awaiting approval) or is not there, 2 for a usage error.
 */
int vigil_cmd_decide(int argc, char **argv)
{
	const char *cmd = argv[0], *verb = strcmp(cmd, "deny") ? "approved" : "denied";
	char req[512];
	struct client_opts o;
	char *answer = NULL;
	int err;

	err = parse_client(argc, argv, cmd, false, true, true, &o);
	if (err)
		return err > 0 ? 0 : 2;
	if (o.reason && strpbrk(o.reason, "\r\n")) {
		fprintf(stderr, "vigil %s: --reason must be one line\n", cmd);
		return 2;
	}
	if (snprintf(req, sizeof(req), "%s%s%s", o.arg, o.reason ? " " : "",
		     o.reason ? o.reason : "") >= (int)sizeof(req)) {
		fprintf(stderr, "vigil %s: --reason is too long\n", cmd);
		return 2;
	}
	err = vigil_ctl_request(o.path, cmd, req, &answer, CTL_TIMEOUT_MS);
	if (err == -ENOENT || err == -ECONNREFUSED) {
		fprintf(stderr, "vigil: no daemon at %s (is vigil run going?)\n", o.path);
		return 1;
	}
	if (err == -EINVAL) {
		fprintf(stderr, "vigil %s: '%s' cannot be sent (one line, at most 256 bytes)\n",
			cmd, req);
		return 2;
	}
	if (err) {
		fprintf(stderr, "vigil: %s: %s\n", o.path, strerror(-err));
		return 1;
	}
	if (o.json)
		puts(answer);
	err = !decided(answer, verb);
	if (!o.json)
		printf("%s: %s\n", o.arg,
		       err		     ? answer
		       : strcmp(cmd, "deny") ? "approved; its action runs now (or when the heal "
					       "of its workload already running ends)"
					     : "denied; its action will not run");
	free(answer);
	return err ? 1 : 0;
}
