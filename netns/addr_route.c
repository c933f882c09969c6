/* Addresses and the default route. */
#include "internal.h"

#include "cleanup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

/* IPv4 only: the supervisor's addresses are IPv4, and rejecting the rest
 * keeps "identical" meaning one thing.  The prefix is required. */
static int parse_v4(const char *s, bool need_prefix, struct nl_addr **ret, oss_error *err)
{
    if (s == NULL || (need_prefix && strchr(s, '/') == NULL))
        return oss_err(err, OSS_ERR_INVALID, EINVAL, "address %s needs a /prefix",
                       s ? s : "(null)");
    struct nl_addr *a = NULL;
    int r = nl_addr_parse(s, AF_INET, &a);
    if (r < 0)
        return oss_err(err, OSS_ERR_INVALID, EINVAL, "invalid IPv4 address %s", s);
    *ret = a;
    return 0;
}

static int build_addr(struct nl_sock *sk, const char *ifname, const char *cidr,
                      struct rtnl_addr **ret, oss_error *err)
{
    _cleanup_nladdr_ struct nl_addr *local = NULL;
    if (parse_v4(cidr, true, &local, err) < 0)
        return -1;
    _cleanup_link_ struct rtnl_link *link = NULL;
    if (netns__link_find(sk, ifname, &link, err) < 0)
        return -1;
    if (link == NULL)
        return oss_err(err, OSS_ERR_ERRNO, ENODEV, "address %s on %s: no such interface", cidr,
                       ifname);
    struct rtnl_addr *a = rtnl_addr_alloc();
    if (a == NULL)
        return oss_err(err, OSS_ERR_ERRNO, ENOMEM, "rtnl_addr_alloc");
    rtnl_addr_set_ifindex(a, rtnl_link_get_ifindex(link));
    rtnl_addr_set_family(a, AF_INET);
    int r = rtnl_addr_set_local(a, local); /* also sets the prefix length */
    if (r < 0) {
        rtnl_addr_put(a);
        return netns__nl_err(err, r, "address %s", cidr);
    }
    *ret = a;
    return 0;
}

int netns__addr_ensure(struct nl_sock *sk, const char *ifname, const char *cidr, bool *ret_created,
                       oss_error *err)
{
    int e = netns__injected(NETNS_STEP_ADDR);
    if (e)
        return oss_err(err, OSS_ERR_ERRNO, e, "adding %s to %s (injected): %s", cidr, ifname,
                       strerror(e));
    _cleanup_addr_ struct rtnl_addr *a = NULL;
    if (build_addr(sk, ifname, cidr, &a, err) < 0)
        return -1;
    netns__nl_reset();
    /* The kernel answers EEXIST only for the same local address and prefix
     * on the same interface: exactly "an identical thing". */
    int r = rtnl_addr_add(sk, a, NLM_F_EXCL);
    if (r < 0) {
        oss_error e2;
        netns__nl_err(&e2, r, "adding %s to %s", cidr, ifname);
        if (e2.domain == OSS_ERR_ERRNO && e2.code == EEXIST) {
            if (ret_created)
                *ret_created = false;
            return 0;
        }
        if (err)
            *err = e2;
        return -1;
    }
    if (ret_created)
        *ret_created = true;
    return 0;
}

int netns_addr_ensure(struct nl_sock *sk, const char *ifname, const char *cidr, oss_error *err)
{
    return netns__addr_ensure(sk, ifname, cidr, NULL, err);
}

int netns__addr_delete(struct nl_sock *sk, const char *ifname, const char *cidr, oss_error *err)
{
    _cleanup_addr_ struct rtnl_addr *a = NULL;
    if (build_addr(sk, ifname, cidr, &a, err) < 0)
        return -1;
    netns__nl_reset();
    int r = rtnl_addr_delete(sk, a, 0);
    if (r < 0) {
        oss_error e2;
        netns__nl_err(&e2, r, "removing %s from %s", cidr, ifname);
        if (e2.domain == OSS_ERR_ERRNO && e2.code == EADDRNOTAVAIL)
            return 0;
        if (err)
            *err = e2;
        return -1;
    }
    return 0;
}

static struct rtnl_route *build_default(struct nl_addr *gw)
{
    struct rtnl_route *rt = rtnl_route_alloc();
    struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
    struct nl_addr *dst = nl_addr_build(AF_INET, NULL, 0);
    if (rt == NULL || nh == NULL || dst == NULL) {
        if (rt)
            rtnl_route_put(rt);
        if (nh)
            rtnl_route_nh_free(nh);
        if (dst)
            nl_addr_put(dst);
        return NULL;
    }
    nl_addr_set_prefixlen(dst, 0);
    rtnl_route_set_family(rt, AF_INET);
    rtnl_route_set_dst(rt, dst);
    nl_addr_put(dst);
    rtnl_route_set_table(rt, RT_TABLE_MAIN);
    rtnl_route_set_protocol(rt, RTPROT_BOOT);
    rtnl_route_set_scope(rt, RT_SCOPE_UNIVERSE);
    rtnl_route_set_type(rt, RTN_UNICAST);
    rtnl_route_nh_set_gateway(nh, gw);
    rtnl_route_add_nexthop(rt, nh); /* the route owns nh now */
    return rt;
}

/* The gateway of the main table's IPv4 default route ("" when none). */
static int default_gateway(struct nl_sock *sk, char *buf, size_t size, bool *ret_found,
                           oss_error *err)
{
    _cleanup_cache_ struct nl_cache *cache = NULL;
    netns__nl_reset();
    int r = rtnl_route_alloc_cache(sk, AF_INET, 0, &cache);
    if (r < 0)
        return netns__nl_err(err, r, "dumping routes");
    *ret_found = false;
    buf[0] = '\0';
    for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
        struct rtnl_route *rt = (struct rtnl_route *)o;
        struct nl_addr *dst = rtnl_route_get_dst(rt);
        if (rtnl_route_get_table(rt) != RT_TABLE_MAIN || dst == NULL ||
            nl_addr_get_prefixlen(dst) != 0)
            continue;
        *ret_found = true;
        if (rtnl_route_get_nnexthops(rt) > 0) {
            struct nl_addr *gw = rtnl_route_nh_get_gateway(rtnl_route_nexthop_n(rt, 0));
            if (gw)
                nl_addr2str(gw, buf, size);
        }
        break;
    }
    return 0;
}

int netns__route_default_ensure(struct nl_sock *sk, const char *gateway, bool *ret_created,
                                oss_error *err)
{
    int e = netns__injected(NETNS_STEP_ROUTE);
    if (e)
        return oss_err(err, OSS_ERR_ERRNO, e, "adding the default route via %s (injected): %s",
                       gateway, strerror(e));
    _cleanup_nladdr_ struct nl_addr *gw = NULL;
    if (parse_v4(gateway, false, &gw, err) < 0)
        return -1;
    _cleanup_route_ struct rtnl_route *rt = build_default(gw);
    if (rt == NULL)
        return oss_err(err, OSS_ERR_ERRNO, ENOMEM, "allocating a route");
    netns__nl_reset();
    int r = rtnl_route_add(sk, rt, NLM_F_EXCL);
    if (r >= 0) {
        if (ret_created)
            *ret_created = true;
        return 0;
    }
    oss_error e2;
    netns__nl_err(&e2, r, "adding the default route via %s", gateway);
    if (!(e2.domain == OSS_ERR_ERRNO && e2.code == EEXIST)) {
        if (err)
            *err = e2;
        return -1;
    }
    /* A default route exists: fine only if it uses the same gateway. */
    char have[64];
    bool found = false;
    if (default_gateway(sk, have, sizeof have, &found, err) < 0)
        return -1;
    char want[64];
    nl_addr2str(gw, want, sizeof want);
    if (!found || strcmp(have, want) != 0)
        return oss_err(err, OSS_ERR_ERRNO, EEXIST, "a default route via %s exists (wanted %s)",
                       have[0] ? have : "no gateway", want);
    if (ret_created)
        *ret_created = false;
    return 0;
}

int netns_route_default_ensure(struct nl_sock *sk, const char *gateway, oss_error *err)
{
    return netns__route_default_ensure(sk, gateway, NULL, err);
}

int netns__route_default_delete(struct nl_sock *sk, const char *gateway, oss_error *err)
{
    _cleanup_nladdr_ struct nl_addr *gw = NULL;
    if (parse_v4(gateway, false, &gw, err) < 0)
        return -1;
    _cleanup_route_ struct rtnl_route *rt = build_default(gw);
    if (rt == NULL)
        return oss_err(err, OSS_ERR_ERRNO, ENOMEM, "allocating a route");
    netns__nl_reset();
    int r = rtnl_route_delete(sk, rt, 0);
    if (r < 0) {
        oss_error e2;
        netns__nl_err(&e2, r, "removing the default route via %s", gateway);
        if (e2.domain == OSS_ERR_ERRNO && e2.code == ESRCH)
            return 0;
        if (err)
            *err = e2;
        return -1;
    }
    return 0;
}
