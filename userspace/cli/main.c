// SPDX-License-Identifier: Apache-2.0
/*
 * vigil: an eBPF-assisted host agent that notices low-level faults in the services on a node
 * and heals them. This file is the command table: each command is a function of cli/ that
 * returns the exit status (0; 1 when it could not do its work; 2 for a usage error), and the
 * exit code is decided here, by returning it.
 *
 *   run.c      run (the daemon)
 *   client.c   status, latency, incidents, incident, approve, deny (ask the daemon)
 *   offline.c  knowledge, export, report, check, doctor (read files and the host)
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "control/ctl.h"
#include "control/history.h"
#include "vigil/events.h"

#ifndef VIGIL_VERSION
#define VIGIL_VERSION "unknown"
#endif

const char vigil_usage[] =
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
    "  report   the success metrics of a journal: detection and recovery p50/p99 with\n"
    "           their distributions, the share of level-1 incidents resolved without a\n"
    "           person (target 80 %), escalations, failed heals, incidents per workload\n"
    "           and per class; each incident counted once, at its last record\n"
    "           -c, --config FILE  take the journal it names (default: the embedded config's)\n"
    "           --journal FILE  the journal to read (default: " VIGIL_HISTORY_JOURNAL ")\n"
    "           --since D       only incidents whose last record is newer than D (30m, 2h)\n"
    "           --json          the numbers as one JSON object\n"
    "  knowledge  what the healer learned: per (signature, action) attempts, successes,\n"
    "           success rate and last use, from the store the config names\n"
    "           -c, --config FILE  the config (default: the embedded one)\n"
    "           --json          a JSON array\n"
    "  approve  ID: run the action of a level-3 incident awaiting approval (now, or when the\n"
    "           heal of its workload already running ends); who you are is recorded\n"
    "           --reason TEXT   why, for the audit trail\n"
    "           --ctl PATH, --json: as for status\n"
    "  deny     ID: do not run it (the incident is left to people); --reason, --ctl, --json\n"
    "  check    FILE: validate a config file and print what it defines\n"
    "  doctor   check the kernel features, mounts and capabilities vigil needs\n"
    "           -c, --config FILE  also check what it names: Redis (reachable now?), the\n"
    "                           knowledge store's and spool's directories\n"
    "  version  print the version\n"
    "  help     this text\n";

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("vigil %s (event ABI %d)\n", VIGIL_VERSION, VIGIL_ABI_VERSION);
	return 0;
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs(vigil_usage, stdout);
	return 0;
}

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv); /* argv[0]: the command's name */
} commands[] = {
    {"run", vigil_cmd_run},
    {"status", vigil_cmd_query},
    {"latency", vigil_cmd_query},
    {"incidents", vigil_cmd_history},
    {"incident", vigil_cmd_history},
    {"approve", vigil_cmd_decide},
    {"deny", vigil_cmd_decide},
    {"knowledge", vigil_cmd_knowledge},
    {"export", vigil_cmd_export},
    {"report", vigil_cmd_report},
    {"check", vigil_cmd_check},
    {"doctor", vigil_cmd_doctor},
    {"version", cmd_version},
    {"--version", cmd_version},
    {"help", cmd_help},
    {"--help", cmd_help},
    {"-h", cmd_help},
};

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "help";

	/* libbpf's own messages only with run --verbose: vigil's errors say what failed. */
	vigil_cli_libbpf_log(false);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].fn(argc > 1 ? argc - 1 : 1,
					      argc > 1 ? argv + 1 : &argv[0]);
	fprintf(stderr, "vigil: unknown command '%s'\n\n%s", cmd, vigil_usage);
	return 2;
}
