/* Exit-status mapping (pure), tini's conventions: the child's code, 128+N
 * when it died of signal N, 127 when the command was not found, 126 when it
 * could not be executed; codes named with -e are remapped to 0. */
#ifndef SHIM_EXITSTATUS_H
#define SHIM_EXITSTATUS_H

#include "config.h"

#include <stdbool.h>

#define SHIM_EXIT_NOT_FOUND 127
#define SHIM_EXIT_NOT_EXEC  126

/* Maps a waitpid() status to the shim's exit code. */
int shim_exit_code(const struct shim_config *cfg, int wstatus);
/* Maps an execve() errno to 127/126. */
int shim_exec_errno_code(int err);
/* True when the child's end counts as a failure for --restart=on-failure:
 * a non-zero code (before -e remapping: remapping changes what the shim
 * reports, not whether the child failed) or death by signal. */
bool shim_exit_is_failure(int wstatus);
/* "exited with 3", "killed by SIGKILL (core dumped)". */
void shim_exit_describe(int wstatus, char *buf, unsigned len);

#endif
