/* Restart policy with exponential backoff and a cap per window (pure). */
#ifndef SHIM_RESTART_H
#define SHIM_RESTART_H

#include "config.h"

#include <stdint.h>

struct shim_restart_state {
    int64_t window_start_ms; /* first restart of the current window */
    unsigned in_window;      /* restarts in the current window */
    unsigned total;          /* restarts since the shim started */
};

enum shim_after_exit {
    SHIM_AFTER_DONE,    /* the policy says the child is gone for good */
    SHIM_AFTER_RESTART, /* start it again after *ret_delay_ms */
    SHIM_AFTER_GIVE_UP, /* the policy wanted a restart but the cap is reached */
};

/* Decides what follows a child's exit.  `stopping` is true after SIGTERM or
 * SIGINT (never restart then).  `ran_ms` is how long the child lived: a child
 * that stayed up for a whole window starts a fresh window (and backoff), so a
 * service that crashes once a day is not treated like a crash loop. */
enum shim_after_exit shim_restart_decide(const struct shim_config *cfg,
                                         struct shim_restart_state *st, int wstatus, bool stopping,
                                         int64_t now_ms, int64_t ran_ms, int64_t *ret_delay_ms);

const char *shim_restart_name(enum shim_restart r);

#endif
