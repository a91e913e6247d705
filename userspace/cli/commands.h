/* SPDX-License-Identifier: Apache-2.0 */
/*
 * commands: vigil's commands, one function each (main.c's table dispatches). argv[0] is the
 * command's name. Each returns the exit status: 0; 1 when it could not do its work (the reason
 * on stderr); 2 for a usage error.
 */
#ifndef VIGIL_CLI_COMMANDS_H
#define VIGIL_CLI_COMMANDS_H

#include <stdbool.h>

/* `vigil help`. */
extern const char vigil_usage[];

/* run.c: the daemon. */
int vigil_cmd_run(int argc, char **argv);
/* libbpf's own messages on stderr (run --verbose) or not. */
void vigil_cli_libbpf_log(bool on);

/* client.c: ask the running daemon. status and latency; incidents and incident (or a
 * journal); approve and deny. */
int vigil_cmd_query(int argc, char **argv);
int vigil_cmd_history(int argc, char **argv);
int vigil_cmd_decide(int argc, char **argv); /* approve and deny */

/* offline.c: files and the host, no daemon needed. */
int vigil_cmd_check(int argc, char **argv);
int vigil_cmd_doctor(int argc, char **argv);
int vigil_cmd_knowledge(int argc, char **argv);
int vigil_cmd_export(int argc, char **argv);
int vigil_cmd_report(int argc, char **argv);

#endif /* VIGIL_CLI_COMMANDS_H */
