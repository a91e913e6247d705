// SPDX-License-Identifier: Apache-2.0
/*
 * vigil: an eBPF-assisted host agent that notices low-level faults in the services on a node
 * and heals them. This file is the command line only; exit codes are decided here.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <jansson.h>

#include "cli/commands.h"
#include "control/ctl.h"
#include "daemon/daemon.h"
#include "control/history.h"
#include "core/loop.h"
#include "vigil/events.h"

#ifndef VIGIL_VERSION
#define VIGIL_VERSION "unknown"
#endif

/* How long `vigil status` waits for the daemon: it answers from memory, on its loop. */
#define CTL_TIMEOUT_MS 5000

static const char usage[] =
    "usage: vigil COMMAND [OPTIONS]\n"
    "\n"
    "commands:\n"
    "  run      run the agent (default config: observe every process, heal nothing)\n"
    "           --config FILE   YAML config (default: the embedded one)\n"
    "           --journal FILE  journal of JSON lines (default from the config:\n"
    "                           /var/lib/vigil/journal.jsonl); --journal '' disables it\n"
    "           --json          JSON lines on stdout instead of short human lines\n"
    "           --quiet         nothing on stdout\n"
    "           --probes MODE   tp_btf (default, falls back to tracepoint) or tracepoint\n"
    "           --ringbuf-kib N kernel ring buffer size (power of two; default 1024)\n"
    "           --ctl PATH      control socket (default: " VIGIL_CTL_PATH ");\n"
    "                           --ctl '' disables it\n"
    "           -v, --verbose   libbpf's own messages on stderr\n"
    "  status   what the running daemon does: probes, counters, incidents, workloads\n"
    "           --ctl PATH      the daemon's control socket (default: " VIGIL_CTL_PATH ")\n"
    "           --json          the daemon's answer as it is, one JSON object\n"
    "  latency  [WORKLOAD]: syscall latency histograms of every workload, or of one\n"
    "           --ctl PATH, --json: as for status\n"
    "  incidents  the incidents of the running daemon, newest first\n"
    "           --ctl PATH      the daemon's control socket (default: " VIGIL_CTL_PATH ")\n"
    "           --journal FILE  read them from a journal instead (an incident's last\n"
    "                           record is its state); with neither option and no daemon\n"
    "                           at the default socket: " VIGIL_HISTORY_JOURNAL "\n"
    "           --json          the answer as it is, one JSON object\n"
    "  incident ID: one incident in full, with its causal chain (an id the daemon no\n"
    "           longer holds is looked up in its journal); --ctl, --journal, --json as above\n"
    "  export   --sql: the journal as SQL for sql/*.sql (PostgreSQL / Supabase), one\n"
    "           transaction on stdout: vigil export --sql | psql -v ON_ERROR_STOP=1 -f -\n"
    "           -c, --config FILE  take the journal and knowledge store it names\n"
    "                           (default: the embedded config's)\n"
    "           --journal FILE  the journal to read (default: " VIGIL_HISTORY_JOURNAL ")\n"
    "           --knowledge FILE  the knowledge store, whose numbers beat the journal's\n"
    "                           (default: the config's, if it exists; '' for none)\n"
    "  knowledge  what the healer learned: per (signature, action) attempts, successes,\n"
    "           success rate and last use, from the store the config names\n"
    "           -c, --config FILE  the config (default: the embedded one)\n"
    "           --json          a JSON array\n"
    "  approve  ID: run the action of a level-3 incident awaiting approval\n"
    "           --ctl PATH, --json: as for status\n"
    "  check    FILE: validate a config file and print what it defines\n"
    "  doctor   check the kernel features, mounts and capabilities vigil needs\n"
    "           -c, --config FILE  also check what it names: Redis (reachable now?), the\n"
    "                           knowledge store's and spool's directories\n"
    "  version  print the version\n"
    "  help     this text\n";

static bool verbose;

/* libbpf's messages only with --verbose: vigil's own errors already say what failed, and a
 * refused tp_btf load before the fallback is expected, not alarming. */
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return verbose ? vfprintf(stderr, fmt, ap) : 0;
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"journal", required_argument, NULL, 'j'},
	    {"json", no_argument, NULL, 'J'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"probes", required_argument, NULL, 'p'},
	    {"ctl", required_argument, NULL, 'C'},
	    {"ringbuf-kib", required_argument, NULL, 'R'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct vigil_run_opts o = {};
	int c;

	while ((c = getopt_long(argc, argv, "c:j:Jqp:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o.config = optarg;
			break;
		case 'j':
			o.journal = optarg;
			break;
		case 'J':
			o.json = true;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'p':
			if (!strcmp(optarg, "tracepoint")) {
				o.force_classic = true;
			} else if (strcmp(optarg, "tp_btf")) {
				fprintf(
				    stderr,
				    "vigil run: --probes takes tp_btf or tracepoint, not '%s'\n",
				    optarg);
				return 2;
			}
			break;
		case 'C':
			o.ctl = optarg;
			break;
		case 'R': {
			char *end;
			unsigned long kib = strtoul(optarg, &end, 10);
			long page_kib = sysconf(_SC_PAGESIZE) / 1024;

			/* The kernel wants a power of two, a whole number of pages. */
			if (*end || !kib || (kib & (kib - 1)) || kib < (unsigned long)page_kib ||
			    kib > 1024 * 1024) {
				fprintf(stderr,
					"vigil run: --ringbuf-kib takes a power of two from %ld to "
					"1048576, not '%s'\n",
					page_kib, optarg);
				return 2;
			}
			o.ringbuf_kib = kib;
			break;
		}
		case 'v':
			verbose = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vigil run: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	return vigil_daemon_run(&o) ? 1 : 0;
}

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

/* Whether an "approve" answer says the action was let run: {"approved": true}. */
static bool approved(const char *answer)
{
	json_t *root = json_loads(answer, 0, NULL);
	bool ok =
	    json_is_true(json_object_get(root, "approved")) && !json_object_get(root, "error");

	json_decref(root);
	return ok;
}

/* Options of the client commands (status, latency, incidents, incident). */
struct client_opts {
	const char *path;    /* control socket */
	const char *journal; /* --journal, where the command takes it */
	bool json;
	bool ctl_given;
	const char *arg; /* the one positional argument, where the command takes one */
};

/*
 * Parse a client command's options. Returns 0, 1 after printing the usage for --help (exit 0),
 * or -1 after saying what was wrong (exit 2). need_arg: the positional argument is required.
 */
static int parse_client(int argc, char **argv, const char *cmd, bool journal, bool take_arg,
			bool need_arg, struct client_opts *o)
{
	static const struct option opts[] = {
	    {"ctl", required_argument, NULL, 'C'},
	    {"journal", required_argument, NULL, 'j'},
	    {"json", no_argument, NULL, 'J'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
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
		case 'h':
			fputs(usage, stdout);
			return 1;
		default:
			fputs(usage, stderr);
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
static int cmd_query(int argc, char **argv, const char *cmd)
{
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

/* Answer cmd from the journal at path, saying on stderr what could not be read, and why there
 * is no answer. Returns 0 and *answer, or -errno (-ENOENT: the id is not in it). */
static int journal_answer(const char *path, const char *cmd, const char *id, char **answer)
{
	struct vigil_journal_stats st;
	FILE *f = fopen(path, "re");
	int err;

	if (!f) {
		err = -errno;
		fprintf(stderr, "vigil: journal %s: %s\n", path, strerror(-err));
		return err;
	}
	err = vigil_history_journal(f, cmd, id, 0, vigil_wall_ns(), answer, &st);
	fclose(f);
	if (st.skipped)
		fprintf(stderr, "vigil: journal %s: %llu line%s skipped: not JSON\n", path,
			(unsigned long long)st.skipped, st.skipped == 1 ? "" : "s");
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
	return err;
}

/*
 * `vigil incidents` and `vigil incident ID`: from the daemon at --ctl (default VIGIL_CTL_PATH)
 * or from a journal: --journal, or the default journal when no --ctl was given and no daemon
 * answers at the default socket. An id the daemon no longer holds (an incident leaves its
 * table a window after its last event) is looked up in the daemon's journal. Exit status: 0;
 * 1 for an unknown id, no daemon or nothing to read; 2 for a usage error.
 */
static int cmd_history(int argc, char **argv, const char *cmd)
{
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
 * `vigil approve ID`: let a level-3 incident's action run. Exit status: 0 when it was
 * approved, 1 when the daemon refused (unknown id, not awaiting approval) or is not there,
 * 2 for a usage error.
 */
static int cmd_approve(int argc, char **argv)
{
	struct client_opts o;
	char *answer = NULL;
	int err;

	err = parse_client(argc, argv, "approve", false, true, true, &o);
	if (err)
		return err > 0 ? 0 : 2;
	err = vigil_ctl_request(o.path, "approve", o.arg, &answer, CTL_TIMEOUT_MS);
	if (err == -ENOENT || err == -ECONNREFUSED) {
		fprintf(stderr, "vigil: no daemon at %s (is vigil run going?)\n", o.path);
		return 1;
	}
	if (err) {
		fprintf(stderr, "vigil: %s: %s\n", o.path, strerror(-err));
		return 1;
	}
	if (o.json)
		puts(answer);
	err = !approved(answer);
	if (!o.json)
		printf("%s: %s\n", o.arg, err ? answer : "approved; its action runs now");
	free(answer);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "help";

	libbpf_set_print(libbpf_log);
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "doctor"))
		return vigil_cmd_doctor(argc - 1, argv + 1);
	if (!strcmp(cmd, "check"))
		return vigil_cmd_check(argc - 1, argv + 1);
	if (!strcmp(cmd, "export"))
		return vigil_cmd_export(argc - 1, argv + 1);
	if (!strcmp(cmd, "knowledge"))
		return vigil_cmd_knowledge(argc - 1, argv + 1);
	if (!strcmp(cmd, "status") || !strcmp(cmd, "latency"))
		return cmd_query(argc - 1, argv + 1, cmd);
	if (!strcmp(cmd, "incidents") || !strcmp(cmd, "incident"))
		return cmd_history(argc - 1, argv + 1, cmd);
	if (!strcmp(cmd, "approve"))
		return cmd_approve(argc - 1, argv + 1);
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("vigil %s (event ABI %d)\n", VIGIL_VERSION, VIGIL_ABI_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		fputs(usage, stdout);
		return 0;
	}
	fprintf(stderr, "vigil: unknown command '%s'\n\n%s", cmd, usage);
	return 2;
}
