/* The supervisor state machine around the child, driven by the event loop:
 * start, reap, forward, restart with backoff, stay alive, stop gracefully.
 *
 *   RUNNING --exit--> (policy) --restart--> BACKOFF --timer--> RUNNING
 *                              --done-----> exit, or GONE with --stay-alive
 *   any --SIGTERM/SIGINT--> STOPPING --child tree gone / stop timeout--> exit
 */
#ifndef SHIM_SUPERVISE_H
#define SHIM_SUPERVISE_H

#include "config.h"
#include "error.h"
#include "loop.h"
#include "restart.h"

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

enum shim_child_state {
    SHIM_CHILD_NONE = 0, /* not started yet */
    SHIM_CHILD_RUNNING,
    SHIM_CHILD_BACKOFF,  /* exited, waiting to restart */
    SHIM_CHILD_GONE,     /* gone for good; the shim stays alive */
    SHIM_CHILD_STOPPING, /* SIGTERM/SIGINT received */
};

/* After the stop timeout's SIGKILL, how long the group may take to be
 * reaped before the shim exits regardless. */
#define SHIM_STOP_DRAIN_MS 2000

struct shim_super;

struct shim_super_hooks {
    void *ctx;
    /* Child environment (NULL = environ) and pre-exec step (fallback seccomp). */
    char *const *child_env;
    int (*pre_exec)(void *ctx);
    /* Above 2: every start's stdin (see struct shim_spawn); 0: inherited. */
    int child_stdin;
    /* Called for each lifecycle event: kind = "start", "exit", "restart",
     * "give-up", "gone", "stop"; json = an object with the details, or NULL
     * when it could not be built (out of memory: count it, drop it). */
    void (*on_event)(void *ctx, const char *kind, const char *json);
    /* The configured restore signal arrived. */
    void (*on_restore_signal)(void *ctx);
};

int shim_super_new(const struct shim_config *cfg, struct shim_loop *loop, const sigset_t *orig_mask,
                   int sigfd, const struct shim_super_hooks *hooks, struct shim_super **ret,
                   oss_error *err);
void shim_super_free(struct shim_super *s);

/* Starts the child for the first time. */
int shim_super_start(struct shim_super *s, oss_error *err);
/* Enters GONE without ever starting the child (bootstrap refused, stay-alive). */
void shim_super_hold(struct shim_super *s, int exit_code, const char *why);

/* Runs the loop until the shim should exit; returns the exit code. */
int shim_super_run(struct shim_super *s);

enum shim_child_state shim_super_state(const struct shim_super *s);
pid_t shim_super_child_pgid(const struct shim_super *s); /* 0 when none */
const char *shim_super_gone_reason(const struct shim_super *s);
unsigned long shim_super_reaped_orphans(const struct shim_super *s);
unsigned shim_super_starts(const struct shim_super *s);

#endif
