/* Restore detection and handling: notices that the sandbox was frozen and
 * thawed (checkpoint/restore, pause) or resumed as another actor, and then
 * brings the shim and the supervisor up to date, in order and bounded in
 * time.  Everything runs on the shim's loop; the hook command is a child
 * that PID 1's reaper hands back through shim_children_watch().
 *
 * Detection (detect.h has the pure decisions):
 *  - a 1 s CLOCK_MONOTONIC timer that fires >= freeze_threshold_ms late
 *    (threshold 0: no timer at all, no wake-ups);
 *  - the identity file's content changed (checked on each tick, cheaply by
 *    stat first, and on every readyz request);
 *  - shim_restore_check_now() from the readyz server, so a restore is
 *    handled before Substrate's ResumeActor (which waits for readyz) returns;
 *  - shim_restore_trigger(): the control socket ("notify restore") or the
 *    configured restore signal. */
#ifndef SHIM_RESTORE_H
#define SHIM_RESTORE_H

#include "buf.h"
#include "restore/detect.h"
#include "config.h"
#include "error.h"
#include "json.h"
#include "loop.h"

#include <stdbool.h>
#include <sys/types.h>

#define SHIM_RESTORE_TICK_MS           1000
#define SHIM_RESTORE_HOOK_TIMEOUT_DFLT 10000 /* when cfg gives <= 0 */
#define SHIM_RESTORE_KILL_GRACE_MS     2000  /* waiting for the exit after SIGKILL */
#define SHIM_RESTORE_IDENTITY_READ_MAX 4096

struct shim_restore_hooks {
    void *ctx;
    pid_t (*supervisor_pgid)(void *ctx);          /* 0 when not running */
    int (*reprobe)(void *ctx, oss_buf *json_out); /* re-run cheap probes; may be NULL */
    void (*record_event)(void *ctx, const char *kind, const char *json_object);
};

struct shim_restore;

/* Uses cfg->identity_file, state_dir, freeze_threshold_ms, on_restore_signal,
 * on_restore_exec, on_restore_timeout_ms (copied: cfg may go away). */
int shim_restore_start(struct shim_loop *loop, const struct shim_config *cfg,
                       const struct shim_restore_hooks *hooks, struct shim_restore **ret,
                       oss_error *err);
void shim_restore_stop(struct shim_restore *r);

/* Re-checks timer lateness and the identity now (readyz calls this). */
void shim_restore_check_now(struct shim_restore *r);

/* An explicit restore; why is "notify", "signal", "readyz", "identity" or
 * "timer".  Returns the generation this restore gets (a trigger during a
 * restore in progress is coalesced into one more restore after it). */
unsigned shim_restore_trigger(struct shim_restore *r, const char *why);

bool shim_restore_busy(const struct shim_restore *r);
/* The identity as of the last restore (or the start). */
const struct shim_identity *shim_restore_identity(const struct shim_restore *r);
unsigned shim_restore_generation(const struct shim_restore *r);

/* {"generation":N,"busy":b,"identity":...,"last":{...}|null} for reports. */
void shim_restore_status_json(const struct shim_restore *r, oss_json *j);

#endif
