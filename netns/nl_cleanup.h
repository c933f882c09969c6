/* Cleanup attributes for libnl objects, for every netns/ file (the
 * common/cleanup.h pattern: each helper takes a pointer to the variable and
 * accepts NULL, so a steal is `x = NULL`). */
#ifndef OSS_NETNS_NL_CLEANUP_H
#define OSS_NETNS_NL_CLEANUP_H

#include "netns.h"

#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

static inline void netns__nl_closep(struct nl_sock **sk)
{
    if (*sk)
        netns_nl_close(*sk);
}
static inline void netns__link_putp(struct rtnl_link **l)
{
    if (*l)
        rtnl_link_put(*l);
}
static inline void netns__addr_putp(struct rtnl_addr **a)
{
    if (*a)
        rtnl_addr_put(*a);
}
static inline void netns__route_putp(struct rtnl_route **r)
{
    if (*r)
        rtnl_route_put(*r);
}
static inline void netns__nladdr_putp(struct nl_addr **a)
{
    if (*a)
        nl_addr_put(*a);
}
static inline void netns__cache_freep(struct nl_cache **c)
{
    if (*c)
        nl_cache_free(*c);
}

#define _cleanup_nl_sock_ __attribute__((cleanup(netns__nl_closep)))
#define _cleanup_link_    __attribute__((cleanup(netns__link_putp)))
#define _cleanup_addr_    __attribute__((cleanup(netns__addr_putp)))
#define _cleanup_route_   __attribute__((cleanup(netns__route_putp)))
#define _cleanup_nladdr_  __attribute__((cleanup(netns__nladdr_putp)))
#define _cleanup_cache_   __attribute__((cleanup(netns__cache_freep)))

#endif
