#include "conditions.h"

#include <strings.h>

/* Mirrors the gateway's allow-list (FACTS.md §4), compared case-insensitively
 * as the gateway does.  Every Ready=False this file emits for a healthy actor
 * must use one of these. */
static const char *const transient_reasons[] = {
    "Starting",
    "ContainerStarting",
    "ContainerCreated",
    "DependenciesNotReady",
    "SupervisorNotConnected",
    "ReconcilerError",
    "HealthCheckStarting",
    "InspectFailed",
};

bool drv_reason_is_transient(const char *reason)
{
    if (reason == NULL)
        return false;
    for (size_t i = 0; i < sizeof transient_reasons / sizeof transient_reasons[0]; i++)
        if (strcasecmp(reason, transient_reasons[i]) == 0)
            return true;
    return false;
}

static void set(struct drv_condition *c, const char *type, const char *status, const char *reason,
                const char *message)
{
    c->type = type;
    c->status = status;
    c->reason = reason;
    c->message = message;
}

size_t drv_conditions_for(const struct drv_actor *a, struct drv_condition out[DRV_CONDITIONS_MAX])
{
    /* A real failure (template never Ready, actor gone) is the only terminal
     * state: the gateway shows Error and the user deletes the sandbox. */
    if (a->failure != NULL && a->failure[0] != '\0') {
        set(&out[0], "Ready", "False",
            a->create_step == DRV_CREATE_FAILED ? "CreateFailed" : "Failed", a->failure);
        return 1;
    }
    /* A create that answered OK and goes on in the background: a transient
     * reason naming the step, and never Suspended (an actor between
     * CreateActor and its first ResumeActor is SUSPENDED, and a gateway
     * turns a Provisioning sandbox that shows Suspended=True into Stopped
     * for good: docs/platform/gateway.md, "Create, names and the lock"). */
    switch (a->create_step) {
    case DRV_CREATE_DEPENDENCIES:
        set(&out[0], "Ready", "False", "DependenciesNotReady",
            "the sandbox's ActorTemplate is booting its golden actor");
        return 1;
    case DRV_CREATE_STARTING:
        set(&out[0], "Ready", "False", "Starting", "the sandbox is starting for the first time");
        return 1;
    case DRV_CREATE_FAILED: /* without a message: still terminal */
        set(&out[0], "Ready", "False", "CreateFailed", "the sandbox could not be created");
        return 1;
    case DRV_CREATE_DONE:
        break;
    }

    /* raw_status keeps values newer than this driver; status is the enum
     * view of the same number.  Either may be what a backend filled in. */
    int st = a->raw_status != 0 ? a->raw_status : (int)a->status;
    switch (st) {
    case DRV_ACTOR_RUNNING:
        set(&out[0], "Ready", "True", "Running", "actor is running");
        return 1;
    case DRV_ACTOR_RESUMING:
        set(&out[0], "Ready", "False", "Starting", "actor is resuming from its snapshot");
        return 1;
    case DRV_ACTOR_SUSPENDING:
    case DRV_ACTOR_SUSPENDED:
    case DRV_ACTOR_PAUSING:
    case DRV_ACTOR_PAUSED:
        /* Ready first (the gateway takes the first Ready), with a reason
         * that stays non-terminal should a gateway look at Ready before
         * Suspended. */
        set(&out[0], "Ready", "False", "DependenciesNotReady",
            "actor is suspended; StartSandbox resumes it");
        set(&out[1], "Suspended", "True",
            st == DRV_ACTOR_PAUSING || st == DRV_ACTOR_PAUSED ? "Paused" : "Suspended",
            st == DRV_ACTOR_SUSPENDING || st == DRV_ACTOR_PAUSING ? "actor is being checkpointed"
                                                                  : "actor is checkpointed");
        return 2;
    default:
        /* UNSPECIFIED, CRASHED without a failure message, or a value newer
         * than this driver: say "don't know" rather than guess Error. */
        set(&out[0], "Ready", "Unknown", "UnknownStatus", "actor status not understood by driver");
        return 1;
    }
}
