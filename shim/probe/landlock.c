/* Landlock probe: the ABI version, as the supervisor asks it first.  gVisor
 * answers ENOSYS (docs/platform/gvisor.md,
 * "Refusals during the supervisor's bootstrap").  The call has no side effect, but it runs
 * in a light child all the same: a runtime's seccomp profile may kill an
 * unknown system call, and that must not be the shim's death. */
#include "probe.h"

#include <errno.h>
#include <linux/landlock.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444 /* the same number on every architecture */
#endif

static void landlock_child(const void *arg, struct shim_probe_result *res)
{
    (void)arg;
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi < 0) {
        /* ENOSYS: not in this kernel/runtime; EOPNOTSUPP: built but
         * disabled at boot.  Both mean no Landlock for the workload. */
        shim_probe_mark(res, SHIM_PROBE_UNSUPPORTED, "abi_version", errno);
        return;
    }
    res->u.landlock.abi = (int)abi;
    shim_probe_mark(res, SHIM_PROBE_SUPPORTED, NULL, 0);
}

int shim_probe_landlock(struct shim_probe_light_session *ls, int64_t timeout_ms,
                        struct shim_probe_result *res, oss_error *err)
{
    if (shim_probe_light_in(ls, landlock_child, NULL, timeout_ms, res, err) < 0)
        return -1;
    if (res->status == SHIM_PROBE_SUPPORTED)
        snprintf(res->detail, sizeof res->detail, "Landlock ABI %d", res->u.landlock.abi);
    else if (res->status == SHIM_PROBE_UNSUPPORTED)
        snprintf(res->detail, sizeof res->detail,
                 "landlock_create_ruleset(LANDLOCK_CREATE_RULESET_VERSION)");
    return 0;
}
