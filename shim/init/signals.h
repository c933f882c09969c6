/* Signal names and the forwarding policy, as pure functions. */
#ifndef SHIM_SIGNALS_H
#define SHIM_SIGNALS_H

#include <stdbool.h>

/* "SIGTERM", "TERM", "term", "15", "SIGRTMIN+2", "RTMAX-1".  Rejects 0,
 * SIGKILL and SIGSTOP when catchable_only (they can be neither caught nor
 * meaningfully forwarded: the kernel acts on them before any process can). */
int shim_signal_parse(const char *s, bool catchable_only, int *ret_sig);
/* "SIGTERM", "SIGRTMIN+2"; a static or thread-local string. */
const char *shim_signal_name(int sig);

/* Fault signals: raised synchronously by the CPU for the faulting thread.
 * They stay unblocked so a shim bug crashes loudly instead of spinning. */
bool shim_signal_is_fault(int sig);

enum shim_sig_action {
    SHIM_SIG_FORWARD, /* pass to the child (or its group with -g) */
    SHIM_SIG_REAP,    /* SIGCHLD: drain waitpid, never forwarded */
    SHIM_SIG_STOP,    /* SIGTERM/SIGINT: forward, then graceful stop */
    SHIM_SIG_RESTORE, /* the configured restore signal: handled, not forwarded */
    SHIM_SIG_IGNORE,  /* nothing to do (e.g. no child and not a stop signal) */
};

struct shim_sig_ctx {
    bool child_running;
    int restore_signal; /* 0 = none */
};

enum shim_sig_action shim_signal_action(int sig, const struct shim_sig_ctx *ctx);

#endif
