/* seccomp probe.
 *
 * First which filter flags the runtime accepts, each with a trivial
 * allow-all program through raw seccomp(2) so the answer is the kernel's
 * (libseccomp would translate or pre-check flags).  gVisor accepts 0 and
 * TSYNC but answers EINVAL to LOG and NEW_LISTENER (docs/platform/gvisor.md).  Then
 * what makes up libseccomp's API level, asked as libseccomp asks it: the
 * shim does not link libseccomp, whose first call alone cost 1-2 ms under
 * gVisor.  Then the verdict: the supervisor's prelude list as libseccomp
 * builds it (the very program `--fallback-seccomp=prelude` installs,
 * compiled with the shim), loaded with NO_NEW_PRIVS + TSYNC as the
 * supervisor loads its own, then the workload program with flags 0 as the
 * supervisor's child loads it.  The loads change the process, so all of it
 * happens in a light child. */
#include "probe.h"

#include "policy/fallback.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
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

int shim_seccomp_api_level(bool (*has)(enum shim_seccomp_feature f, void *ctx), void *ctx)
{
#define HAS(x) has(SHIM_SECFEAT_##x, ctx)
    if (!(HAS(SYSCALL) && HAS(FLAG_TSYNC)))
        return 1;
    if (!(HAS(FLAG_LOG) && HAS(ACT_LOG) && HAS(ACT_KILL_PROCESS)))
        return 2;
    if (!HAS(FLAG_SPEC_ALLOW))
        return 3;
    if (!(HAS(FLAG_NEW_LISTENER) && HAS(ACT_NOTIFY)))
        return 4;
    if (!HAS(FLAG_TSYNC_ESRCH))
        return 5;
    return 6;
#undef HAS
}

/* One of libseccomp's questions, as it asks it (src/system.c). */
static bool seccomp_feature(enum shim_seccomp_feature f, void *ctx)
{
    (void)ctx;
    unsigned long flag = 0;
    uint32_t act;
    struct seccomp_notif_sizes sizes;
    switch (f) {
    case SHIM_SECFEAT_SYSCALL: /* invalid on purpose: EINVAL says it exists, ENOSYS not */
        return syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 1, NULL) < 0 && errno == EINVAL;
    case SHIM_SECFEAT_FLAG_TSYNC:
        flag = SECCOMP_FILTER_FLAG_TSYNC;
        break;
    case SHIM_SECFEAT_FLAG_LOG:
        flag = SECCOMP_FILTER_FLAG_LOG;
        break;
    case SHIM_SECFEAT_FLAG_SPEC_ALLOW:
        flag = SECCOMP_FILTER_FLAG_SPEC_ALLOW;
        break;
    case SHIM_SECFEAT_FLAG_NEW_LISTENER:
        flag = SECCOMP_FILTER_FLAG_NEW_LISTENER;
        break;
    case SHIM_SECFEAT_FLAG_TSYNC_ESRCH:
        flag = SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
        break;
    case SHIM_SECFEAT_ACT_LOG:
        act = SECCOMP_RET_LOG;
        return syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &act) == 0;
    case SHIM_SECFEAT_ACT_KILL_PROCESS:
        act = SECCOMP_RET_KILL_PROCESS;
        return syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &act) == 0;
    case SHIM_SECFEAT_ACT_NOTIFY:
        return syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) == 0;
    case SHIM_SECFEAT_COUNT:
        return false;
    }
    /* A NULL program: EFAULT says the flag is known, EINVAL not. */
    return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flag, NULL) < 0 && errno == EFAULT;
}

struct seccomp_progs {
    const struct shim_fallback_prog *prelude, *workload;
};

static void seccomp_child(const void *arg, struct shim_probe_result *res)
{
    const struct seccomp_progs *progs = arg;
    struct shim_probe_seccomp *s = &res->u.seccomp;
    s->prelude_err = s->workload_err = -1;

    s->api_level = shim_seccomp_api_level(seccomp_feature, NULL); /* loads nothing */

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        shim_probe_mark(res, SHIM_PROBE_UNSUPPORTED, "no_new_privs", errno);
        s->prelude_err = s->workload_err = errno;
        return;
    }
    for (int f = 0; f < SHIM_SECFLAG_COUNT; f++) {
        int r = load_allow_all(shim_secflag_value((enum shim_seccomp_flag_probe)f));
        if (r == 0)
            s->flags_ok |= 1u << f;
        s->flag_errno[f] = -r;
    }
    /* The prelude as the supervisor loads it on itself; then the workload
     * program with the flags the supervisor's child uses (none), on top of
     * it as in the supervisor's child.  Both are tried: the supervisor
     * contract names each refused one. */
    struct sock_fprog prog = shim_fallback_fprog(progs->prelude);
    s->prelude_err =
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) < 0 ? errno
                                                                                            : 0;
    prog = shim_fallback_fprog(progs->workload);
    s->workload_err = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0UL, &prog) < 0 ? errno : 0;
    if (s->prelude_err)
        shim_probe_mark(res, SHIM_PROBE_UNSUPPORTED, "load_tsync", s->prelude_err);
    else if (s->workload_err)
        shim_probe_mark(res, SHIM_PROBE_UNSUPPORTED, "load_workload", s->workload_err);
    else
        shim_probe_mark(res, SHIM_PROBE_SUPPORTED, NULL, 0);
}

int shim_probe_seccomp(struct shim_probe_light_session *ls, int64_t timeout_ms,
                       struct shim_probe_result *res, oss_error *err)
{
    static const struct seccomp_progs progs = {&shim_fallback_prelude_prog,
                                               &shim_fallback_workload_prog};
    if (shim_probe_light_in(ls, seccomp_child, &progs, timeout_ms, res, err) < 0)
        return -1;
    if (res->status == SHIM_PROBE_SUPPORTED)
        snprintf(res->detail, sizeof res->detail,
                 "prelude loads with NO_NEW_PRIVS + TSYNC, workload filter with flags 0");
    else if (res->status == SHIM_PROBE_UNSUPPORTED && strcmp(res->step, "no_new_privs") == 0)
        snprintf(res->detail, sizeof res->detail, "prctl(PR_SET_NO_NEW_PRIVS)");
    else if (res->status == SHIM_PROBE_UNSUPPORTED && strcmp(res->step, "load_tsync") == 0)
        snprintf(res->detail, sizeof res->detail,
                 "the supervisor's prelude filter (NO_NEW_PRIVS + TSYNC) did not load; "
                 "workload filter: %s",
                 res->u.seccomp.workload_err ? oss_errno_name(res->u.seccomp.workload_err)
                                             : "loads");
    else if (res->status == SHIM_PROBE_UNSUPPORTED)
        snprintf(res->detail, sizeof res->detail,
                 "the prelude loads; the workload filter (flags 0) did not load");
    return 0;
}
