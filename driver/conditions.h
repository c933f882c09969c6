/* Actor status -> the conditions the gateway derives its phase from.
 *
 * The gateway (docs/platform/gateway.md, "Phase derivation") reads `Suspended=True` as Stopped and
 * the first `Ready` condition as: True = Ready, Unknown = still provisioning, False = terminal
 * Error unless the reason is on its short non-terminal list.  So a merely suspended or resuming
 * actor must never carry Ready=False with a reason outside that list (an older driver's "Resuming"
 * reason turned every resume into a dead sandbox).  Only a real failure uses a terminal reason. */
#ifndef DRV_CONDITIONS_H
#define DRV_CONDITIONS_H

#include "backend.h"

#include <stdbool.h>
#include <stddef.h>

#define DRV_CONDITIONS_MAX 2

struct drv_condition {
    const char *type;   /* "Ready" | "Suspended" */
    const char *status; /* "True" | "False" | "Unknown" */
    const char *reason;
    const char *message; /* static text or the actor's failure string */
};

/* Fills out[] (the Ready condition first) and returns how many were set. */
size_t drv_conditions_for(const struct drv_actor *a, struct drv_condition out[DRV_CONDITIONS_MAX]);

/* The gateway's list of Ready=False reasons that are not terminal. */
bool drv_reason_is_transient(const char *reason);

#endif
