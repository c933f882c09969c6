/* The supervisor's network sequence as one ensure with rollback. */
#include "internal.h"

#include "cleanup.h"

#include <errno.h>
#include <string.h>

#include <netlink/route/link.h>

/* What this call made, so a failure removes exactly that. */
struct made {
    bool ns;
    bool veth;
    bool host_addr;
    bool peer_addr;
    bool route;
};

static int spec_valid(const struct netns_pair_spec *s, oss_error *err)
{
    if (s == NULL || s->ns_name == NULL || s->host_if == NULL || s->peer_if == NULL ||
        s->host_cidr == NULL || s->peer_cidr == NULL || s->gateway == NULL)
        return oss_err(err, OSS_ERR_INVALID, EINVAL, "incomplete netns pair spec");
    if (strcmp(s->host_if, s->peer_if) == 0)
        return oss_err(err, OSS_ERR_INVALID, EINVAL, "veth ends need different names");
    return 0;
}

/* Best effort, in reverse order; errors here are not the caller's error
 * (that is the step that failed), so they are dropped. */
static void rollback(const struct netns_pair_spec *s, const struct made *m, struct nl_sock *host_sk,
                     struct nl_sock *ns_sk)
{
    if (ns_sk && m->route && !m->ns && !m->veth)
        netns__route_default_delete(ns_sk, s->gateway, NULL);
    if (ns_sk && m->peer_addr && !m->veth && !m->ns)
        netns__addr_delete(ns_sk, s->peer_if, s->peer_cidr, NULL);
    if (host_sk && m->host_addr && !m->veth)
        netns__addr_delete(host_sk, s->host_if, s->host_cidr, NULL);
    /* Deleting one end removes both, wherever the peer is.  Done before
     * the namespace goes: a namespace is torn down asynchronously by the
     * kernel, which would leave the host end visible for a while. */
    if (m->veth) {
        if (host_sk)
            netns_link_delete(host_sk, s->host_if, NULL);
        if (ns_sk)
            netns_link_delete(ns_sk, s->peer_if, NULL);
    }
    if (m->ns)
        netns_delete(s->ns_name, NULL);
}

int netns_pair_ensure(const struct netns_pair_spec *s, enum netns_step *ret_failed_step,
                      oss_error *err)
{
    if (spec_valid(s, err) < 0) {
        if (ret_failed_step)
            *ret_failed_step = NETNS_STEP_NONE;
        return -1;
    }
    struct made m = {0};
    _cleanup_nl_sock_ struct nl_sock *host_sk = NULL;
    _cleanup_nl_sock_ struct nl_sock *ns_sk = NULL;
    _cleanup_close_ int nsfd = -1;
    enum netns_step step;

    step = NETNS_STEP_NS_CREATE;
    if (netns_ensure(s->ns_name, &m.ns, err) < 0)
        goto fail;

    step = NETNS_STEP_NL_SOCKET;
    if (netns_nl_open(-1, &host_sk, err) < 0)
        goto fail;

    step = NETNS_STEP_VETH;
    if (s->peer_at_create) {
        if (netns_open(s->ns_name, &nsfd, err) < 0 ||
            netns_veth_ensure_in(host_sk, s->host_if, s->peer_if, nsfd, &m.veth, err) < 0)
            goto fail;
    } else {
        if (netns_veth_ensure(host_sk, s->host_if, s->peer_if, &m.veth, err) < 0)
            goto fail;

        /* The namespace is opened only here: under gVisor (runsc 20221219)
         * the bind-mounted namespace file cannot be opened (ELOOP), and the
         * veth step above is the one the supervisor meets first there. */
        step = NETNS_STEP_MOVE;
        if (netns_open(s->ns_name, &nsfd, err) < 0)
            goto fail;
        if (netns_link_move(host_sk, s->peer_if, nsfd, err) < 0)
            goto fail;
    }

    step = NETNS_STEP_NL_SOCKET;
    if (netns_nl_open(nsfd, &ns_sk, err) < 0)
        goto fail;

    step = NETNS_STEP_ADDR;
    if (netns__addr_ensure(host_sk, s->host_if, s->host_cidr, &m.host_addr, err) < 0)
        goto fail;
    if (netns__addr_ensure(ns_sk, s->peer_if, s->peer_cidr, &m.peer_addr, err) < 0)
        goto fail;

    step = NETNS_STEP_LINK_UP;
    if (netns_link_up(ns_sk, "lo", err) < 0 || netns_link_up(ns_sk, s->peer_if, err) < 0 ||
        netns_link_up(host_sk, s->host_if, err) < 0)
        goto fail;

    step = NETNS_STEP_ROUTE;
    if (netns__route_default_ensure(ns_sk, s->gateway, &m.route, err) < 0)
        goto fail;

    if (ret_failed_step)
        *ret_failed_step = NETNS_STEP_NONE;
    return 0;

fail:
    oss_err_prefix(err, "netns step %s", netns_step_name(step));
    rollback(s, &m, host_sk, ns_sk);
    if (ret_failed_step)
        *ret_failed_step = step;
    return -1;
}

int netns_pair_teardown(const struct netns_pair_spec *s, oss_error *err)
{
    if (spec_valid(s, err) < 0)
        return -1;
    _cleanup_nl_sock_ struct nl_sock *host_sk = NULL;
    if (netns_nl_open(-1, &host_sk, err) < 0)
        return -1;
    struct rtnl_link *l = NULL;
    if (netns__link_find(host_sk, s->host_if, &l, err) < 0)
        return -1;
    if (l) {
        const char *type = rtnl_link_get_type(l);
        bool veth = type && strcmp(type, "veth") == 0;
        rtnl_link_put(l);
        if (!veth)
            return oss_err(err, OSS_ERR_ERRNO, EEXIST, "%s is not a veth: not deleting it",
                           s->host_if);
        if (netns_link_delete(host_sk, s->host_if, err) < 0)
            return -1;
    }
    /* An unmoved peer is gone with its host end; one moved into the
     * namespace goes with it too. */
    if (netns_delete(s->ns_name, err) < 0)
        return -1;
    return 0;
}
