/* Links: the veth pair, moving an end into a namespace, up, delete. */
#include "internal.h"

#include "cleanup.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>

#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>

static int check_ifname(const char *ifname, oss_error *err)
{
    if (ifname == NULL || ifname[0] == '\0' || strlen(ifname) >= IFNAMSIZ || strchr(ifname, '/') ||
        strchr(ifname, ' '))
        return oss_err(err, OSS_ERR_INVALID, EINVAL, "invalid interface name");
    return 0;
}

static int inject(enum netns_step s, const char *what, const char *ifname, oss_error *err)
{
    int e = netns__injected(s);
    if (e == 0)
        return 0;
    return oss_err(err, OSS_ERR_ERRNO, e, "%s %s (injected): %s", what, ifname, strerror(e));
}

int netns__link_find(struct nl_sock *sk, const char *ifname, struct rtnl_link **ret, oss_error *err)
{
    _cleanup_cache_ struct nl_cache *cache = NULL;
    netns__nl_reset();
    int r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
    if (r < 0)
        return netns__nl_err(err, r, "dumping links");
    *ret = rtnl_link_get_by_name(cache, ifname); /* takes a reference */
    return 0;
}

int netns_veth_ensure(struct nl_sock *sk, const char *host_if, const char *peer_if,
                      bool *ret_created, oss_error *err)
{
    return netns_veth_ensure_in(sk, host_if, peer_if, -1, ret_created, err);
}

int netns_veth_ensure_in(struct nl_sock *sk, const char *host_if, const char *peer_if,
                         int peer_nsfd, bool *ret_created, oss_error *err)
{
    if (check_ifname(host_if, err) < 0 || check_ifname(peer_if, err) < 0)
        return -1;
    if (inject(NETNS_STEP_VETH, "creating veth", host_if, err) < 0)
        return -1;

    _cleanup_link_ struct rtnl_link *old = NULL;
    if (netns__link_find(sk, host_if, &old, err) < 0)
        return -1;
    if (old) {
        /* Only an identical thing is fine: a veth of that name.  Its peer
         * may already sit in the namespace, so it is not looked up here. */
        const char *type = rtnl_link_get_type(old);
        if (type == NULL || strcmp(type, "veth") != 0)
            return oss_err(err, OSS_ERR_ERRNO, EEXIST, "%s exists and is not a veth (%s)", host_if,
                           type ? type : "no type");
        if (ret_created)
            *ret_created = false;
        return 0;
    }

    _cleanup_link_ struct rtnl_link *veth = rtnl_link_veth_alloc();
    if (veth == NULL)
        return oss_err(err, OSS_ERR_ERRNO, ENOMEM, "rtnl_link_veth_alloc");
    rtnl_link_set_name(veth, host_if);
    struct rtnl_link *peer = rtnl_link_veth_get_peer(veth);
    rtnl_link_set_name(peer, peer_if);
    if (peer_nsfd >= 0)
        rtnl_link_set_ns_fd(peer, peer_nsfd); /* the peer's own IFLA_NET_NS_FD */
    rtnl_link_put(peer);

    netns__nl_reset();
    /* NLM_F_EXCL: a racing creator gets EEXIST instead of a silent merge. */
    int r = rtnl_link_add(sk, veth, NLM_F_CREATE | NLM_F_EXCL);
    if (r < 0)
        return netns__nl_err(err, r, "creating veth %s/%s", host_if, peer_if);
    if (ret_created)
        *ret_created = true;
    return 0;
}

/* Is ifname in namespace nsfd already? */
static int link_in_ns(int nsfd, const char *ifname, bool *ret, oss_error *err)
{
    _cleanup_nl_sock_ struct nl_sock *sk = NULL;
    if (netns_nl_open(nsfd, &sk, err) < 0)
        return -1;
    _cleanup_link_ struct rtnl_link *l = NULL;
    if (netns__link_find(sk, ifname, &l, err) < 0)
        return -1;
    *ret = l != NULL;
    return 0;
}

int netns_link_move(struct nl_sock *sk, const char *ifname, int nsfd, oss_error *err)
{
    if (check_ifname(ifname, err) < 0)
        return -1;
    if (inject(NETNS_STEP_MOVE, "moving", ifname, err) < 0)
        return -1;

    _cleanup_link_ struct rtnl_link *old = NULL;
    if (netns__link_find(sk, ifname, &old, err) < 0)
        return -1;
    if (old == NULL) {
        bool there = false;
        if (link_in_ns(nsfd, ifname, &there, err) < 0)
            return -1;
        if (there)
            return 0; /* moved by an earlier run */
        return oss_err(err, OSS_ERR_ERRNO, ENODEV, "moving %s: no such interface", ifname);
    }

    _cleanup_link_ struct rtnl_link *change = rtnl_link_alloc();
    if (change == NULL)
        return oss_err(err, OSS_ERR_ERRNO, ENOMEM, "rtnl_link_alloc");
    rtnl_link_set_ns_fd(change, nsfd); /* IFLA_NET_NS_FD */
    netns__nl_reset();
    int r = rtnl_link_change(sk, old, change, 0);
    if (r < 0)
        return netns__nl_err(err, r, "moving %s into the namespace", ifname);
    return 0;
}

int netns_link_up(struct nl_sock *sk, const char *ifname, oss_error *err)
{
    if (check_ifname(ifname, err) < 0)
        return -1;
    if (inject(NETNS_STEP_LINK_UP, "setting up", ifname, err) < 0)
        return -1;
    _cleanup_link_ struct rtnl_link *old = NULL;
    if (netns__link_find(sk, ifname, &old, err) < 0)
        return -1;
    if (old == NULL)
        return oss_err(err, OSS_ERR_ERRNO, ENODEV, "setting %s up: no such interface", ifname);
    if (rtnl_link_get_flags(old) & IFF_UP)
        return 0;
    _cleanup_link_ struct rtnl_link *change = rtnl_link_alloc();
    if (change == NULL)
        return oss_err(err, OSS_ERR_ERRNO, ENOMEM, "rtnl_link_alloc");
    rtnl_link_set_flags(change, IFF_UP);
    netns__nl_reset();
    int r = rtnl_link_change(sk, old, change, 0);
    if (r < 0)
        return netns__nl_err(err, r, "setting %s up", ifname);
    return 0;
}

int netns_link_delete(struct nl_sock *sk, const char *ifname, oss_error *err)
{
    if (check_ifname(ifname, err) < 0)
        return -1;
    _cleanup_link_ struct rtnl_link *old = NULL;
    if (netns__link_find(sk, ifname, &old, err) < 0)
        return -1;
    if (old == NULL)
        return 0;
    netns__nl_reset();
    int r = rtnl_link_delete(sk, old);
    if (r < 0) {
        oss_error e2;
        netns__nl_err(&e2, r, "deleting %s", ifname);
        /* Gone in between (deleting one veth end removes the other). */
        if (e2.domain == OSS_ERR_ERRNO && (e2.code == ENODEV || e2.code == ENOENT))
            return 0;
        if (err)
            *err = e2;
        return -1;
    }
    return 0;
}
