/* A namespace's links, addresses and routes, read through dumps (the only
 * queries gVisor's netlink answers reliably). */
#include "internal.h"

#include "cleanup.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

static void *array_for(struct nl_cache *c, size_t elem, size_t *ret_n)
{
    size_t n = (size_t)nl_cache_nitems(c);
    *ret_n = 0;
    void *p = calloc(n ? n : 1, elem);
    if (p == NULL)
        abort(); /* as oss_buf: ENOMEM is not worth a code path */
    return p;
}

static void ifname_of(struct nl_cache *links, int ifindex, char *buf, size_t size)
{
    if (rtnl_link_i2name(links, ifindex, buf, size) == NULL)
        snprintf(buf, size, "if%d", ifindex);
}

static void read_links(struct nl_cache *links, struct netns_snapshot *s)
{
    s->links = array_for(links, sizeof *s->links, &s->nlinks);
    for (struct nl_object *o = nl_cache_get_first(links); o; o = nl_cache_get_next(o)) {
        struct rtnl_link *l = (struct rtnl_link *)o;
        struct netns_link *d = &s->links[s->nlinks++];
        snprintf(d->name, sizeof d->name, "%s", rtnl_link_get_name(l) ? rtnl_link_get_name(l) : "");
        d->ifindex = rtnl_link_get_ifindex(l);
        d->flags = rtnl_link_get_flags(l);
        d->mtu = rtnl_link_get_mtu(l);
        struct nl_addr *mac = rtnl_link_get_addr(l);
        d->mac[0] = '\0';
        if (mac && nl_addr_get_len(mac) == 6)
            nl_addr2str(mac, d->mac, sizeof d->mac);
    }
}

static void read_addrs(struct nl_cache *addrs, struct nl_cache *links, struct netns_snapshot *s)
{
    s->addrs = array_for(addrs, sizeof *s->addrs, &s->naddrs);
    for (struct nl_object *o = nl_cache_get_first(addrs); o; o = nl_cache_get_next(o)) {
        struct rtnl_addr *a = (struct rtnl_addr *)o;
        struct nl_addr *local = rtnl_addr_get_local(a);
        if (local == NULL)
            continue;
        struct netns_addr *d = &s->addrs[s->naddrs++];
        ifname_of(links, rtnl_addr_get_ifindex(a), d->ifname, sizeof d->ifname);
        d->family = rtnl_addr_get_family(a);
        char tmp[48];
        nl_addr2str(local, tmp, sizeof tmp);
        /* nl_addr2str omits a full-length prefix; always write one. */
        char *slash = strchr(tmp, '/');
        if (slash)
            *slash = '\0';
        snprintf(d->cidr, sizeof d->cidr, "%s/%d", tmp, rtnl_addr_get_prefixlen(a));
    }
}

static void read_routes(struct nl_cache *routes, struct nl_cache *links, struct netns_snapshot *s)
{
    s->routes = array_for(routes, sizeof *s->routes, &s->nroutes);
    for (struct nl_object *o = nl_cache_get_first(routes); o; o = nl_cache_get_next(o)) {
        struct rtnl_route *r = (struct rtnl_route *)o;
        /* The main table is what configuration changes; the local table
         * only mirrors the addresses. */
        if (rtnl_route_get_table(r) != RT_TABLE_MAIN)
            continue;
        struct netns_route *d = &s->routes[s->nroutes++];
        d->family = rtnl_route_get_family(r);
        struct nl_addr *dst = rtnl_route_get_dst(r);
        if (dst == NULL || nl_addr_get_prefixlen(dst) == 0) {
            snprintf(d->dst, sizeof d->dst, "default");
        } else {
            char tmp[48];
            nl_addr2str(dst, tmp, sizeof tmp);
            char *slash = strchr(tmp, '/');
            if (slash)
                *slash = '\0';
            snprintf(d->dst, sizeof d->dst, "%s/%u", tmp, nl_addr_get_prefixlen(dst));
        }
        d->gateway[0] = '\0';
        d->ifname[0] = '\0';
        if (rtnl_route_get_nnexthops(r) > 0) {
            struct rtnl_nexthop *nh = rtnl_route_nexthop_n(r, 0);
            struct nl_addr *gw = rtnl_route_nh_get_gateway(nh);
            if (gw)
                nl_addr2str(gw, d->gateway, sizeof d->gateway);
            ifname_of(links, rtnl_route_nh_get_ifindex(nh), d->ifname, sizeof d->ifname);
        }
    }
}

int netns_snapshot_take(int nsfd, struct netns_snapshot *ret, oss_error *err)
{
    _cleanup_nl_sock_ struct nl_sock *sk = NULL;
    if (netns_nl_open(nsfd, &sk, err) < 0)
        return -1;
    _cleanup_cache_ struct nl_cache *links = NULL;
    _cleanup_cache_ struct nl_cache *addrs = NULL;
    _cleanup_cache_ struct nl_cache *routes = NULL;
    int r;
    netns__nl_reset();
    if ((r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &links)) < 0)
        return netns__nl_err(err, r, "dumping links");
    netns__nl_reset();
    if ((r = rtnl_addr_alloc_cache(sk, &addrs)) < 0)
        return netns__nl_err(err, r, "dumping addresses");
    netns__nl_reset();
    if ((r = rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &routes)) < 0)
        return netns__nl_err(err, r, "dumping routes");

    struct netns_snapshot s = {0};
    read_links(links, &s);
    read_addrs(addrs, links, &s);
    read_routes(routes, links, &s);
    *ret = s;
    return 0;
}
