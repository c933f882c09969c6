/* seccomp probe (runs in the throw-away child).
 *
 * First which filter flags the runtime accepts, each with a trivial
 * allow-all program through raw seccomp(2) so the answer is the kernel's
 * (libseccomp would translate or pre-check flags).  gVisor accepts 0 and
 * TSYNC but answers EINVAL to LOG and NEW_LISTENER (FACTS.md §2).  Then the
 * verdict: the supervisor's prelude itself, NO_NEW_PRIVS + TSYNC, through
 * libseccomp as the supervisor's own library would build it. */
#include "probe.h"

#include "policy/fallback.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

const char *shim_secflag_name(enum shim_seccomp_flag_probe f)
{
    switch (f) {
    case SHIM_SECFLAG_NONE:
        return "none";
    case SHIM_SECFLAG_TSYNC:
        return "tsync";
    case SHIM_SECFLAG_LOG:
        return "log";
    case SHIM_SECFLAG_NEW_LISTENER:
        return "new_listener";
    case SHIM_SECFLAG_COUNT:
        break;
    }
    return "?";
}

unsigned long shim_secflag_value(enum shim_seccomp_flag_probe f)
{
    switch (f) {
    case SHIM_SECFLAG_TSYNC:
        return SECCOMP_FILTER_FLAG_TSYNC;
    case SHIM_SECFLAG_LOG:
        return SECCOMP_FILTER_FLAG_LOG;
    case SHIM_SECFLAG_NEW_LISTENER:
        return SECCOMP_FILTER_FLAG_NEW_LISTENER;
    default:
        return 0;
    }
}

static int load_allow_all(unsigned long flags)
{
    struct sock_filter insn = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog prog = {.len = 1, .filter = &insn};
    long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
    if (r < 0)
        return -errno;
    if (flags & SECCOMP_FILTER_FLAG_NEW_LISTENER)
        close((int)r); /* the listener fd */
    return 0;
}

void shim_probe_seccomp(const void *arg, struct shim_probe_result *res)
{
    struct shim_probe_seccomp *s = &res->u.seccomp;
    const char *step = "no_new_privs";

    s->api_level = (int)seccomp_api_get();
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        shim_probe_set(res, SHIM_PROBE_UNSUPPORTED, step, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
        return;
    }
    for (int f = 0; f < SHIM_SECFLAG_COUNT; f++) {
        int r = load_allow_all(shim_secflag_value((enum shim_seccomp_flag_probe)f));
        if (r == 0)
            s->flags_ok |= 1u << f;
        s->flag_errno[f] = -r;
    }

    step = "prelude_build";
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) {
        shim_probe_set(res, SHIM_PROBE_ERROR, step, ENOMEM, "seccomp_init");
        return;
    }
    oss_error e = {0};
    if (shim_deny_rules_add(ctx, shim_prelude_rules, shim_prelude_rules_len, NULL, &e) < 0) {
        shim_probe_set(res, SHIM_PROBE_ERROR, step, e.code, "%s", e.msg);
        seccomp_release(ctx);
        return;
    }
    /* The kernel's errno, not libseccomp's catch-all ECANCELED. */
    seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
    int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    if (r < 0) {
        /* libseccomp refuses TSYNC when its own check says the kernel
         * lacks it: that is the runtime's answer too. */
        shim_probe_set(res, SHIM_PROBE_UNSUPPORTED, "tsync", -r,
                       "libseccomp refused the TSYNC attribute");
        seccomp_release(ctx);
        return;
    }
    r = seccomp_load(ctx);
    seccomp_release(ctx);
    if (r < 0) {
        shim_probe_set(res, SHIM_PROBE_UNSUPPORTED, "load_tsync", -r,
                       "the supervisor's prelude filter (NO_NEW_PRIVS + TSYNC) did not load");
        return;
    }
    shim_probe_set(res, SHIM_PROBE_SUPPORTED, NULL, 0,
                   "prelude filter loads with NO_NEW_PRIVS + TSYNC");
}
