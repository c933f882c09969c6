/* Pure: how a record found at start-up is settled (docs/runsc-backend.md,
 * "Crash safety").  reconcile.c gathers the facts (runsc state, whether the
 * whole checkpoint image exists) and applies the result; this file only
 * decides, so tests/driver/runsc/test_settle.c can walk every case. */
#include "internal.h"

#include <string.h>

void drv_runsc_settle(enum drv_runsc_intent intent, enum drv_actor_status status,
                      const char *container, bool image, bool checkpoint_done,
                      struct drv_runsc_settlement *ret)
{
    struct drv_runsc_settlement s;
    memset(&s, 0, sizeof s);
    bool running = strcmp(container, "running") == 0;
    bool exists = strcmp(container, "missing") != 0;
    s.status = status;

    switch (intent) {
    case DRV_RUNSC_CREATING:
        /* The create answered OK (it finishes in the background), so the
         * gateway knows the sandbox: it must not vanish.  What it made is
         * undone and the sandbox shows a failed create until Delete. */
        s.destroy = true;
        s.net_down = true;
        s.drop_token = true;
        s.status = DRV_ACTOR_CRASHED;
        s.failure = "create failed while starting the sandbox: the driver restarted";
        s.create_failed = true;
        break;
    case DRV_RUNSC_ADMITTING: /* the create never answered: undo it all */
    case DRV_RUNSC_DELETING:  /* the caller wanted it gone: finish */
        s.remove = true;
        s.destroy = true;
        s.net_down = true;
        break;
    case DRV_RUNSC_STOPPING:
        /* reconcile runs only once no runsc of the dead driver runs
         * (drv_runsc_ops_drain), so the checkpoint's outcome is final */
        s.drop_image_tmp = !checkpoint_done || image;
        if (image || checkpoint_done) {
            /* renamed into place only when whole, or runsc said "exit 0"
             * for image.tmp: the stop happened, and the image is the
             * sandbox's memory, never to be dropped */
            s.publish_image = !image;
            s.destroy = exists;
            s.net_down = true;
            s.slot_to_prev = true;
            s.measure_image = true;
            s.status = DRV_ACTOR_SUSPENDED;
        } else if (running) { /* the checkpoint never ran or failed early */
            s.adopt_pid = true;
            s.link_up = true; /* the stop takes the host link down first */
            s.status = DRV_ACTOR_RUNNING;
        } else {
            s.destroy = exists;
            s.net_down = true;
            s.status = DRV_ACTOR_CRASHED;
            s.failure = "the sandbox was lost during a checkpoint (driver restarted)";
        }
        break;
    case DRV_RUNSC_STARTING:
        if (running) { /* the restore happened; readiness is the shim's business now */
            s.adopt_pid = true;
            /* the image stays until the next stop replaces it or a delete:
             * nothing proved the restored sandbox ready */
            s.status = DRV_ACTOR_RUNNING;
        } else {
            s.destroy = exists;
            s.net_down = true;
            if (image) {
                s.status = DRV_ACTOR_SUSPENDED;
            } else {
                s.status = DRV_ACTOR_CRASHED;
                s.failure = "the restore was interrupted and no checkpoint image is left";
            }
        }
        break;
    case DRV_RUNSC_NONE:
        if (status == DRV_ACTOR_RUNNING) {
            if (running) {
                s.adopt_pid = true;
                s.link_up = true;
            } else {
                s.destroy = exists;
                s.net_down = true;
                s.status = DRV_ACTOR_CRASHED;
                s.failure = "the sandbox's container is gone (driver or machine restarted)";
            }
        } else if (status == DRV_ACTOR_SUSPENDED) {
            s.destroy = exists; /* a stopped leftover would block the restore */
            s.net_down = true;
            if (!image) {
                s.status = DRV_ACTOR_CRASHED;
                s.failure = "the sandbox's checkpoint image is missing";
            }
        }
        /* a failed sandbox stays as it is: Delete cleans it up */
        break;
    }
    *ret = s;
}
