/* SPDX-License-Identifier: Apache-2.0 */
/* commands: check, doctor, knowledge and export (they read files, not the daemon). */
#ifndef VIGIL_COMMANDS_H
#define VIGIL_COMMANDS_H

/* argv[0] is the command's name. Each returns the exit status. */
int vigil_cmd_check(int argc, char **argv);
int vigil_cmd_doctor(int argc, char **argv);
int vigil_cmd_knowledge(int argc, char **argv);
int vigil_cmd_export(int argc, char **argv);

#endif /* VIGIL_COMMANDS_H */
