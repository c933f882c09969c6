/* Privilege-drop probe: the capability sets (libcap-ng) and whether the
 * supervisor's switch to the workload identity works, performed for real in
 * the throw-away child.  Under Substrate the process is uid 0 with only
 * AUDIT_WRITE, KILL and NET_BIND_SERVICE, so setgroups/setresgid/setresuid
 * fail with EPERM (FACTS.md §2, §3). */
#include "probe.h"

#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <unistd.h>

static uint64_t cap_mask(capng_type_t type)
{
    uint64_t m = 0;
    int last = capng_get_caps_process() == 0 ? (int)CAP_LAST_CAP : -1;
    for (int c = 0; c <= last && c < 64; c++)
        if (capng_have_capability(type, (unsigned)c))
            m |= (uint64_t)1 << c;
    return m;
}

void shim_probe_privdrop(const void *arg, struct shim_probe_result *res)
{
    const struct shim_privdrop_probe_arg *a = arg;
    struct shim_probe_privdrop *p = &res->u.privdrop;

    p->uid = a->uid;
    p->gid = a->gid;
    p->cap_effective = cap_mask(CAPNG_EFFECTIVE);
    p->cap_permitted = cap_mask(CAPNG_PERMITTED);
    p->cap_bounding = cap_mask(CAPNG_BOUNDING_SET);

    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    if (getresuid(&ru, &eu, &su) == 0 && getresgid(&rg, &eg, &sg) == 0 && ru == a->uid &&
        eu == a->uid && su == a->uid && rg == a->gid && eg == a->gid && sg == a->gid) {
        /* The supervisor skips the drop when it already is that identity. */
        p->already = true;
        shim_probe_set(res, SHIM_PROBE_SUPPORTED, NULL, 0, "already running as %u:%u",
                       (unsigned)a->uid, (unsigned)a->gid);
        return;
    }
    /* The order a correct drop uses: groups first (needs CAP_SETGID), gid
     * while still privileged, uid last. */
    if (setgroups(1, &a->gid) < 0) {
        shim_probe_set(res, SHIM_PROBE_UNSUPPORTED, "setgroups", errno, "setgroups([%u])",
                       (unsigned)a->gid);
        return;
    }
    if (setresgid(a->gid, a->gid, a->gid) < 0) {
        shim_probe_set(res, SHIM_PROBE_UNSUPPORTED, "setresgid", errno, "setresgid(%u)",
                       (unsigned)a->gid);
        return;
    }
    if (setresuid(a->uid, a->uid, a->uid) < 0) {
        shim_probe_set(res, SHIM_PROBE_UNSUPPORTED, "setresuid", errno, "setresuid(%u)",
                       (unsigned)a->uid);
        return;
    }
    shim_probe_set(res, SHIM_PROBE_SUPPORTED, NULL, 0, "switched to %u:%u", (unsigned)a->uid,
                   (unsigned)a->gid);
}
