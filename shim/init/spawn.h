/* Starting the child: fork, new process group, restored signal state, exec.
 * An exec failure is reported back over a close-on-exec pipe so the shim can
 * say why (and the child still exits 127/126 as tini's does). */
#ifndef SHIM_SPAWN_H
#define SHIM_SPAWN_H

#include "error.h"

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

struct shim_spawn {
    char *const *argv;
    char *const *envp;    /* NULL = the shim's environ */
    const sigset_t *mask; /* the mask the shim inherited, restored in the child */
    bool tty_foreground;  /* make the child's group the terminal's foreground */
    /* Above 2: becomes the child's stdin (--hold-stdin's pipe); 0, the
     * default, keeps the inherited one. */
    int stdin_fd;
    /* A helper rather than the supervisor (the restore hook): its own
     * session instead of a process group (so a timeout kills all it
     * started), every disposition reset to SIG_DFL (PID 1 may ignore some),
     * stdin from /dev/null and stdout to stderr (stdout is the child's). */
    bool helper;
    /* Runs in the child after fork, before exec: async-signal-safe only.
     * Returns 0 or -errno (then the child exits 126 and the shim reports). */
    int (*pre_exec)(void *ctx);
    void *pre_exec_ctx;
};

/* --hold-stdin: a pipe for the child's stdin whose write end the shim keeps
 * and never writes.  Both ends are close-on-exec and above 2 (a shim started
 * with fd 0 closed would otherwise get the pipe as its own stdin). */
int shim_stdin_pipe(int *ret_rd, int *ret_wr, oss_error *err);

/* On success *ret_pid is the child (also its process group).  An exec
 * failure is not a spawn failure: *ret_exec_errno is set (0 when exec
 * succeeded) and the child has exited; the reaper will see it. */
int shim_spawn_child(const struct shim_spawn *sp, pid_t *ret_pid, int *ret_exec_errno,
                     oss_error *err);

#endif
