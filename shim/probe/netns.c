/* netns probe: the supervisor's real sequence (new namespace, veth pair,
 * move, addresses, links up, default route) through the netns library,
 * under names nothing else uses, then torn down.  On a Linux kernel the
 * peer is created inside the namespace instead of moved there: the kernel
 * asks the same of both and only the move waits for RCU (netns.h,
 * peer_at_create); under gVisor the probe moves, as the supervisor does.
 *
 * It runs in a forked child (libnl allocates): if the child is killed
 * mid-way, the names are unique and the namespace's bind mount is the only
 * thing a crash can leave; the teardown at the next probe of the same pid
 * removes it (ensure/teardown are idempotent). */
#include "probe.h"

#include "netns.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

struct names {
    char ns[32], hif[16], pif[16], hcidr[32], pcidr[32], gw[32];
};

static void spec_for(const struct shim_netns_probe_arg *a, struct names *n,
                     struct netns_pair_spec *spec)
{
    unsigned tag = a->tag & 0xffffffu;
    /* 10.201.0.0/16 stays clear of the supervisor's 10.200.0.0/24; the
     * third octet varies with the tag so two shims probing at once on one
     * host do not collide (1..254). */
    unsigned octet = 1 + tag % 254;
    snprintf(n->ns, sizeof n->ns, "osp-%x", tag);
    snprintf(n->hif, sizeof n->hif, "osph%x", tag);
    snprintf(n->pif, sizeof n->pif, "osps%x", tag);
    snprintf(n->hcidr, sizeof n->hcidr, "10.201.%u.1/30", octet);
    snprintf(n->pcidr, sizeof n->pcidr, "10.201.%u.2/30", octet);
    snprintf(n->gw, sizeof n->gw, "10.201.%u.1", octet);
    *spec = (struct netns_pair_spec){
        .ns_name = n->ns,
        .host_if = n->hif,
        .peer_if = n->pif,
        .host_cidr = n->hcidr,
        .peer_cidr = n->pcidr,
        .gateway = n->gw,
        .peer_at_create = a->peer_at_create,
    };
}

bool shim_netns_probe_creates(enum shim_netns_probe mode, bool gvisor)
{
    switch (mode) {
    case SHIM_NETNS_PROBE_MOVE:
        return false;
    case SHIM_NETNS_PROBE_CREATE:
        return true;
    case SHIM_NETNS_PROBE_AUTO:
        break;
    }
    return !gvisor;
}

void shim_probe_netns_cleanup(const void *arg)
{
    const struct shim_netns_probe_arg *a = arg;
    struct names n;
    struct netns_pair_spec spec;
    spec_for(a, &n, &spec);
    (void)netns_pair_teardown(&spec, NULL); /* idempotent: missing is fine */
}

void shim_probe_netns(const void *arg, struct shim_probe_result *res)
{
    const struct shim_netns_probe_arg *a = arg;
    struct names n;
    struct netns_pair_spec spec;
    spec_for(a, &n, &spec);

    enum netns_step failed = NETNS_STEP_NONE;
    oss_error e = {0};
    if (netns_pair_ensure(&spec, &failed, &e) < 0) {
        /* A libnl code without an errno is the probe failing, not a
         * refusal we can name. */
        enum shim_probe_status st =
            e.domain == OSS_ERR_ERRNO ? SHIM_PROBE_UNSUPPORTED : SHIM_PROBE_ERROR;
        shim_probe_set(res, st, netns_step_name(failed), e.domain == OSS_ERR_ERRNO ? e.code : 0,
                       "%s", e.msg);
        return;
    }
    res->u.netns.peer_at_create = a->peer_at_create;
    shim_probe_set(res, SHIM_PROBE_SUPPORTED, NULL, 0,
                   a->peer_at_create ? "namespace, veth with its peer created inside, addresses, "
                                       "links up and default route all worked"
                                     : "namespace, veth, move, addresses, links up and default "
                                       "route all worked");
    /* The verdict is known: answer now and tear down afterwards.  Deleting
     * the veth waits for an RCU grace period in the kernel (~16-50 ms here,
     * docs/probes.md), which the shim need not spend before starting
     * the supervisor; the parent still reaps this child, and a failed
     * teardown (exit 3) makes the parent run the cleanup. */
    bool early = shim_probe_answer_early(res) == 0;
    if (netns_pair_teardown(&spec, &e) < 0) {
        if (early)
            _exit(3);
        shim_probe_set(res, SHIM_PROBE_ERROR, "teardown", e.domain == OSS_ERR_ERRNO ? e.code : 0,
                       "the sequence worked but cleaning it up failed: %s", e.msg);
    }
}
