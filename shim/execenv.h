/* `openshell-shim exec-env NAME=VALUE... -- ARGV...`: sets the variables and
 * execs ARGV.  The shim puts it in front of the workload's command on the
 * supervisor's command line, so variables meant for the workload (the proxy
 * variables without a namespace) never enter the supervisor's own
 * environment (docs/probes.md, proxy variables on the workload only). */
#ifndef SHIM_EXECENV_H
#define SHIM_EXECENV_H

#include <stdbool.h>

/* Pure: argv[0] is the program, argv[1] "exec-env".  Checks every word up
 * to "--" is NAME=VALUE with a portable name, and that a command follows.
 * Returns the index of the command's first word, or -1. */
int shim_exec_env_parse(int argc, char *const *argv);

/* True when argv[1] is "exec-env". */
bool shim_is_exec_env(int argc, char *const *argv);

/* Sets the variables and execs; returns only on failure (127 / 126, or
 * 125 for a usage error), with a message on stderr. */
int shim_exec_env_main(int argc, char **argv);

#endif
