/* Privilege-drop probe: the capability sets (libcap-ng, read in the shim:
 * reading changes nothing) and whether the supervisor's switch to the
 * workload identity works, performed for real in a light child.  Under
 * Substrate the process is uid 0 with only AUDIT_WRITE, KILL and
 * NET_BIND_SERVICE, so setgroups/setresgid/setresuid fail with EPERM
 * (docs/platform/supervisor.md, privilege drop). */
#include "probe.h"

#include <cap-ng.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static uint64_t cap_mask(capng_type_t type)
{
    uint64_t m = 0;
    for (int c = 0; c <= (int)CAP_LAST_CAP && c < 64; c++)
        if (capng_have_capability(type, (unsigned)c))
            m |= (uint64_t)1 << c;
    return m;
}

/* Raw system calls: glibc's wrappers would broadcast the change to every
 * thread glibc knows of, and in a light child those are the shim's. */
static void privdrop_child(const void *arg, struct shim_probe_result *res)
{
    const struct shim_privdrop_probe_arg *a = arg;
    /* The order a correct drop uses: groups first (needs CAP_SETGID), gid
     * while still privileged, uid last. */
    if (syscall(SYS_setgroups, 1, &a->gid) < 0) {
        shim_probe_mark(res, SHIM_PROBE_UNSUPPORTED, "setgroups", errno);
        return;
    }
    if (syscall(SYS_setresgid, a->gid, a->gid, a->gid) < 0) {
        shim_probe_mark(res, SHIM_PROBE_UNSUPPORTED, "setresgid", errno);
        return;
    }
    if (syscall(SYS_setresuid, a->uid, a->uid, a->uid) < 0) {
        shim_probe_mark(res, SHIM_PROBE_UNSUPPORTED, "setresuid", errno);
        return;
    }
    shim_probe_mark(res, SHIM_PROBE_SUPPORTED, NULL, 0);
}

int shim_probe_privdrop(struct shim_probe_light_session *ls,
                        const struct shim_privdrop_probe_arg *a, int64_t timeout_ms,
                        struct shim_probe_result *res, oss_error *err)
{
    struct shim_probe_privdrop p = {.uid = a->uid, .gid = a->gid};
    if (capng_get_caps_process() == 0) {
        p.cap_effective = cap_mask(CAPNG_EFFECTIVE);
        p.cap_permitted = cap_mask(CAPNG_PERMITTED);
        p.cap_bounding = cap_mask(CAPNG_BOUNDING_SET);
    }

    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    if (getresuid(&ru, &eu, &su) == 0 && getresgid(&rg, &eg, &sg) == 0 && ru == a->uid &&
        eu == a->uid && su == a->uid && rg == a->gid && eg == a->gid && sg == a->gid) {
        /* The supervisor skips the drop when it already is that identity. */
        p.already = true;
        *res = (struct shim_probe_result){0};
        shim_probe_set(res, SHIM_PROBE_SUPPORTED, NULL, 0, "already running as %u:%u",
                       (unsigned)a->uid, (unsigned)a->gid);
        res->usec = 1;
        res->u.privdrop = p;
        return 0;
    }

    if (shim_probe_light_in(ls, privdrop_child, a, timeout_ms, res, err) < 0)
        return -1;
    res->u.privdrop = p;
    if (res->status == SHIM_PROBE_SUPPORTED)
        snprintf(res->detail, sizeof res->detail, "switched to %u:%u", (unsigned)a->uid,
                 (unsigned)a->gid);
    else if (res->status == SHIM_PROBE_UNSUPPORTED && strcmp(res->step, "setgroups") == 0)
        snprintf(res->detail, sizeof res->detail, "setgroups([%u])", (unsigned)a->gid);
    else if (res->status == SHIM_PROBE_UNSUPPORTED)
        snprintf(res->detail, sizeof res->detail, "%s(%u)", res->step,
                 strcmp(res->step, "setresgid") == 0 ? (unsigned)a->gid : (unsigned)a->uid);
    return 0;
}
