/* Fallback seccomp filter: the plan (pure), the program (built with the
 * shim, gen/seccomp_bpfgen.c) and the installer (child, async-signal-safe). */
#include "fallback.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

const char *shim_fallback_mode_name(enum shim_fallback_seccomp m)
{
    switch (m) {
    case SHIM_FALLBACK_AUTO:
        return "auto";
    case SHIM_FALLBACK_PRELUDE:
        return "prelude";
    case SHIM_FALLBACK_WORKLOAD:
        return "workload";
    case SHIM_FALLBACK_OFF:
        return "off";
    }
    return "?";
}

void shim_fallback_plan(enum shim_fallback_seccomp mode, bool probed,
                        const struct shim_probe_result *p, struct shim_fallback_plan *ret)
{
    struct shim_fallback_plan plan = {.mode = mode};
    bool plain_ok = probed && p->status != SHIM_PROBE_ERROR &&
                    (p->u.seccomp.flags_ok & (1u << SHIM_SECFLAG_NONE));
    bool supervisor_ok = probed && p->status == SHIM_PROBE_SUPPORTED;

    switch (mode) {
    case SHIM_FALLBACK_OFF:
        plan.reason = "disabled by --fallback-seccomp=off";
        break;
    case SHIM_FALLBACK_AUTO:
        if (!probed)
            plan.reason = "seccomp not probed: the supervisor's own filter is assumed to load";
        else if (supervisor_ok)
            plan.reason = "not needed: the supervisor's own filter loads";
        else if (!plain_ok)
            plan.reason = "the runtime refuses even a plain filter";
        else {
            plan.active = true;
            plan.reason = "the supervisor's filter fails but a plain filter loads";
        }
        break;
    case SHIM_FALLBACK_PRELUDE:
    case SHIM_FALLBACK_WORKLOAD:
        plan.active = true;
        plan.workload = mode == SHIM_FALLBACK_WORKLOAD;
        plan.reason = "requested by --fallback-seccomp";
        break;
    }
    /* Only flags the runtime was seen to accept.  LOG makes the kernel audit
     * denials, which is worth having when it loads; TSYNC is pointless (the
     * child is single-threaded) and NEW_LISTENER would need a supervisor. */
    if (plan.active && probed && (p->u.seccomp.flags_ok & (1u << SHIM_SECFLAG_LOG)))
        plan.flags |= SECCOMP_FILTER_FLAG_LOG;
    *ret = plan;
}

const struct shim_fallback_prog *shim_fallback_program(bool workload)
{
    return workload ? &shim_fallback_workload_prog : &shim_fallback_prelude_prog;
}

int shim_fallback_install(const struct shim_fallback_prog *p, unsigned long flags)
{
    /* Only raw syscalls here: this runs between fork and execve. */
    if (!p->insns || p->len == 0)
        return -EINVAL;
    struct sock_fprog prog = shim_fallback_fprog(p);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return -errno;
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog) < 0)
        return -errno;
    return 0;
}
