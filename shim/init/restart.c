#include "restart.h"
#include "exitstatus.h"

enum shim_after_exit shim_restart_decide(const struct shim_config *cfg,
                                         struct shim_restart_state *st, int wstatus, bool stopping,
                                         int64_t now_ms, int64_t ran_ms, int64_t *ret_delay_ms)
{
    if (stopping || cfg->restart == SHIM_RESTART_NEVER)
        return SHIM_AFTER_DONE;
    if (cfg->restart == SHIM_RESTART_ON_FAILURE && !shim_exit_is_failure(wstatus))
        return SHIM_AFTER_DONE;

    if (st->in_window == 0 || now_ms - st->window_start_ms >= cfg->restart_window_ms ||
        ran_ms >= cfg->restart_window_ms) {
        st->window_start_ms = now_ms;
        st->in_window = 0;
    }
    if (st->in_window >= cfg->restart_max)
        return SHIM_AFTER_GIVE_UP;

    int64_t delay = cfg->backoff_initial_ms;
    for (unsigned i = 0; i < st->in_window && delay < cfg->backoff_max_ms; i++)
        delay *= 2;
    if (delay > cfg->backoff_max_ms)
        delay = cfg->backoff_max_ms;

    st->in_window++;
    st->total++;
    *ret_delay_ms = delay;
    return SHIM_AFTER_RESTART;
}

const char *shim_restart_name(enum shim_restart r)
{
    switch (r) {
    case SHIM_RESTART_NEVER:
        return "never";
    case SHIM_RESTART_ON_FAILURE:
        return "on-failure";
    case SHIM_RESTART_ALWAYS:
        return "always";
    }
    return "?";
}
