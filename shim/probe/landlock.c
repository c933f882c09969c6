/* Landlock probe: the ABI version, as the supervisor asks it first.  gVisor
 * answers ENOSYS (FACTS.md §2). */
#include "probe.h"

#include <errno.h>
#include <linux/landlock.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444 /* the same number on every architecture */
#endif

void shim_probe_landlock(const void *arg, struct shim_probe_result *res)
{
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi < 0) {
        /* ENOSYS: not in this kernel/runtime; EOPNOTSUPP: built but
         * disabled at boot.  Both mean no Landlock for the workload. */
        shim_probe_set(res, SHIM_PROBE_UNSUPPORTED, "abi_version", errno,
                       "landlock_create_ruleset(LANDLOCK_CREATE_RULESET_VERSION)");
        return;
    }
    res->u.landlock.abi = (int)abi;
    shim_probe_set(res, SHIM_PROBE_SUPPORTED, NULL, 0, "Landlock ABI %ld", abi);
}
