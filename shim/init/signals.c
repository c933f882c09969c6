#include "signals.h"
#include "util.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct {
    int sig;
    const char *name;
} sig_table[] = {
    {SIGHUP, "HUP"},   {SIGINT, "INT"},       {SIGQUIT, "QUIT"}, {SIGILL, "ILL"},
    {SIGTRAP, "TRAP"}, {SIGABRT, "ABRT"},     {SIGBUS, "BUS"},   {SIGFPE, "FPE"},
    {SIGKILL, "KILL"}, {SIGUSR1, "USR1"},     {SIGSEGV, "SEGV"}, {SIGUSR2, "USR2"},
    {SIGPIPE, "PIPE"}, {SIGALRM, "ALRM"},     {SIGTERM, "TERM"}, {SIGSTKFLT, "STKFLT"},
    {SIGCHLD, "CHLD"}, {SIGCONT, "CONT"},     {SIGSTOP, "STOP"}, {SIGTSTP, "TSTP"},
    {SIGTTIN, "TTIN"}, {SIGTTOU, "TTOU"},     {SIGURG, "URG"},   {SIGXCPU, "XCPU"},
    {SIGXFSZ, "XFSZ"}, {SIGVTALRM, "VTALRM"}, {SIGPROF, "PROF"}, {SIGWINCH, "WINCH"},
    {SIGIO, "IO"},     {SIGPWR, "PWR"},       {SIGSYS, "SYS"},
};

static int parse_rt(const char *s, int *ret)
{
    /* RTMIN, RTMIN+n, RTMAX, RTMAX-n */
    long off = 0;
    int base;
    const char *rest;
    if (strncasecmp(s, "RTMIN", 5) == 0) {
        base = SIGRTMIN;
        rest = s + 5;
        if (*rest == '+' && oss_parse_long(rest + 1, 0, 64, &off) < 0)
            return -1;
        if (*rest != '\0' && *rest != '+')
            return -1;
    } else if (strncasecmp(s, "RTMAX", 5) == 0) {
        base = SIGRTMAX;
        rest = s + 5;
        if (*rest == '-' && oss_parse_long(rest + 1, 0, 64, &off) < 0)
            return -1;
        if (*rest != '\0' && *rest != '-')
            return -1;
        off = -off;
    } else {
        return -1;
    }
    int sig = base + (int)off;
    if (sig < SIGRTMIN || sig > SIGRTMAX)
        return -1;
    *ret = sig;
    return 0;
}

int shim_signal_parse(const char *s, bool catchable_only, int *ret_sig)
{
    if (s == NULL || *s == '\0')
        return -1;
    int sig = -1;
    long num;
    if (oss_parse_long(s, 1, 64, &num) == 0) {
        sig = (int)num;
        if (sig > SIGRTMAX)
            return -1;
    } else {
        const char *n = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
        for (size_t i = 0; i < sizeof sig_table / sizeof sig_table[0]; i++) {
            if (strcasecmp(n, sig_table[i].name) == 0) {
                sig = sig_table[i].sig;
                break;
            }
        }
        if (sig < 0 && parse_rt(n, &sig) < 0)
            return -1;
    }
    if (catchable_only && (sig == SIGKILL || sig == SIGSTOP))
        return -1;
    *ret_sig = sig;
    return 0;
}

const char *shim_signal_name(int sig)
{
    static __thread char buf[24];
    for (size_t i = 0; i < sizeof sig_table / sizeof sig_table[0]; i++) {
        if (sig_table[i].sig == sig) {
            snprintf(buf, sizeof buf, "SIG%s", sig_table[i].name);
            return buf;
        }
    }
    if (sig >= SIGRTMIN && sig <= SIGRTMAX)
        snprintf(buf, sizeof buf, "SIGRTMIN+%d", sig - SIGRTMIN);
    else
        snprintf(buf, sizeof buf, "SIG%d", sig);
    return buf;
}

bool shim_signal_is_fault(int sig)
{
    switch (sig) {
    case SIGFPE:
    case SIGILL:
    case SIGSEGV:
    case SIGBUS:
    case SIGABRT:
    case SIGTRAP:
    case SIGSYS:
        return true;
    default:
        return false;
    }
}

enum shim_sig_action shim_signal_action(int sig, const struct shim_sig_ctx *ctx)
{
    if (sig == SIGCHLD)
        return SHIM_SIG_REAP;
    if (ctx->restore_signal != 0 && sig == ctx->restore_signal)
        return SHIM_SIG_RESTORE;
    if (sig == SIGTERM || sig == SIGINT)
        return SHIM_SIG_STOP; /* with no child this ends the shim (stay-alive, backoff) */
    return ctx->child_running ? SHIM_SIG_FORWARD : SHIM_SIG_IGNORE;
}
