/* Pure: the restore record appended to the report, and the OCSF event line
 * that describes the same restore to log shippers. */
#ifndef SHIM_RESTORE_EVENT_H
#define SHIM_RESTORE_EVENT_H

#include "buf.h"
#include "restore/detect.h"

#include <stdbool.h>
#include <stdint.h>

struct shim_restore_event {
    unsigned generation;
    enum shim_restore_reason reason;
    int64_t frozen_ms;   /* -1 when not measured (identity, notify, signal) */
    int64_t time_ms;     /* CLOCK_REALTIME when detected */
    int64_t duration_ms; /* detection to end of handling */
    struct shim_identity before, after;
    const char *actor_id_error; /* writing <state_dir>/actor-id failed */
    const char *net_delta;      /* JSON object from netns_snapshot_diff, or NULL */
    unsigned net_changes;
    const char *net_error; /* why there is no delta */
    const char *reprobe;   /* JSON from the reprobe hook, or NULL */
    int signal;            /* delivered to the supervisor's group, 0 = none */
    const char *signal_error;
    bool hook_ran;
    bool hook_timed_out;
    int hook_exit; /* exit code, 128+signal, or -1 when it did not run/finish */
    const char *hook_error;
};

/* {"generation":N,"reason":"timer",...}: the record_event() payload. */
void shim_restore_event_json(const struct shim_restore_event *ev, oss_buf *out);

/* One OCSF 1.8.0 Application Lifecycle event (class 6002), one line, no
 * trailing newline.  product_version may be NULL. */
void shim_restore_event_ocsf(const struct shim_restore_event *ev, const char *product_version,
                             oss_buf *out);

#endif
