/* Pure: snapshot comparison and serialisation (no netlink here, so the
 * unit tests and the fuzzer drive it directly). */
#include "netns.h"

#include "json.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const char *family_name(int f)
{
    switch (f) {
    case AF_INET:
        return "inet";
    case AF_INET6:
        return "inet6";
    default:
        return "other";
    }
}

/* Fixed-size char arrays from callers (or a fuzzer) may lack a NUL. */
static void kv_field(oss_json *j, const char *k, const char *v, size_t size)
{
    oss_json_key(j, k);
    oss_json_strn(j, v, strnlen(v, size));
}

#define KV_FIELD(j, k, arr) kv_field(j, k, arr, sizeof(arr))
#define FIELD_EQ(a, b, f)   (strncmp((a)->f, (b)->f, sizeof((a)->f)) == 0)

static void link_json(oss_json *j, const struct netns_link *l)
{
    oss_json_obj_begin(j);
    KV_FIELD(j, "name", l->name);
    oss_json_kv_int(j, "ifindex", l->ifindex);
    oss_json_kv_uint(j, "flags", l->flags);
    oss_json_kv_bool(j, "up", (l->flags & 0x1) != 0); /* IFF_UP */
    KV_FIELD(j, "mac", l->mac);
    oss_json_kv_uint(j, "mtu", l->mtu);
    oss_json_obj_end(j);
}

static void addr_json(oss_json *j, const struct netns_addr *a)
{
    oss_json_obj_begin(j);
    KV_FIELD(j, "ifname", a->ifname);
    KV_FIELD(j, "cidr", a->cidr);
    oss_json_kv_str(j, "family", family_name(a->family));
    oss_json_obj_end(j);
}

static void route_json(oss_json *j, const struct netns_route *r)
{
    oss_json_obj_begin(j);
    KV_FIELD(j, "dst", r->dst);
    KV_FIELD(j, "gateway", r->gateway);
    KV_FIELD(j, "ifname", r->ifname);
    oss_json_kv_str(j, "family", family_name(r->family));
    oss_json_obj_end(j);
}

/* A link that changed (flags, MTU, address, index) counts as removed and
 * added: a restore into another host shows up as exactly that. */
static bool link_eq(const struct netns_link *a, const struct netns_link *b)
{
    return FIELD_EQ(a, b, name) && FIELD_EQ(a, b, mac) && a->ifindex == b->ifindex &&
           a->flags == b->flags && a->mtu == b->mtu;
}

static bool addr_eq(const struct netns_addr *a, const struct netns_addr *b)
{
    return FIELD_EQ(a, b, ifname) && FIELD_EQ(a, b, cidr) && a->family == b->family;
}

static bool route_eq(const struct netns_route *a, const struct netns_route *b)
{
    return FIELD_EQ(a, b, dst) && FIELD_EQ(a, b, gateway) && FIELD_EQ(a, b, ifname) &&
           a->family == b->family;
}

/* Writes the key and the items of x missing from y; returns their count.
 * Quadratic, which is fine for the handful of entries a namespace holds. */
#define ONE_SIDE(j, key, x, nx, y, ny, eq, to_json)                                                \
    ({                                                                                             \
        size_t _cnt = 0;                                                                           \
        oss_json_key(j, key);                                                                      \
        oss_json_arr_begin(j);                                                                     \
        for (size_t _i = 0; _i < (nx); _i++) {                                                     \
            bool _found = false;                                                                   \
            for (size_t _k = 0; _k < (ny) && !_found; _k++)                                        \
                _found = eq(&(x)[_i], &(y)[_k]);                                                   \
            if (!_found) {                                                                         \
                to_json(j, &(x)[_i]);                                                              \
                _cnt++;                                                                            \
            }                                                                                      \
        }                                                                                          \
        oss_json_arr_end(j);                                                                       \
        _cnt;                                                                                      \
    })

size_t netns_snapshot_diff(const struct netns_snapshot *a, const struct netns_snapshot *b,
                           oss_buf *json_out)
{
    oss_buf scratch = OSS_BUF_INIT;
    oss_json j;
    oss_json_init(&j, json_out ? json_out : &scratch);
    size_t n = 0;
    oss_json_obj_begin(&j);
    n += ONE_SIDE(&j, "links_added", b->links, b->nlinks, a->links, a->nlinks, link_eq, link_json);
    n +=
        ONE_SIDE(&j, "links_removed", a->links, a->nlinks, b->links, b->nlinks, link_eq, link_json);
    n += ONE_SIDE(&j, "addrs_added", b->addrs, b->naddrs, a->addrs, a->naddrs, addr_eq, addr_json);
    n +=
        ONE_SIDE(&j, "addrs_removed", a->addrs, a->naddrs, b->addrs, b->naddrs, addr_eq, addr_json);
    n += ONE_SIDE(&j, "routes_added", b->routes, b->nroutes, a->routes, a->nroutes, route_eq,
                  route_json);
    n += ONE_SIDE(&j, "routes_removed", a->routes, a->nroutes, b->routes, b->nroutes, route_eq,
                  route_json);
    oss_json_obj_end(&j);
    oss_buf_free(&scratch);
    return n;
}

void netns_snapshot_json(const struct netns_snapshot *s, oss_buf *out)
{
    oss_json j;
    oss_json_init(&j, out);
    oss_json_obj_begin(&j);
    oss_json_key(&j, "links");
    oss_json_arr_begin(&j);
    for (size_t i = 0; i < s->nlinks; i++)
        link_json(&j, &s->links[i]);
    oss_json_arr_end(&j);
    oss_json_key(&j, "addrs");
    oss_json_arr_begin(&j);
    for (size_t i = 0; i < s->naddrs; i++)
        addr_json(&j, &s->addrs[i]);
    oss_json_arr_end(&j);
    oss_json_key(&j, "routes");
    oss_json_arr_begin(&j);
    for (size_t i = 0; i < s->nroutes; i++)
        route_json(&j, &s->routes[i]);
    oss_json_arr_end(&j);
    oss_json_obj_end(&j);
}

void netns_snapshot_free(struct netns_snapshot *s)
{
    if (s == NULL)
        return;
    free(s->links);
    free(s->addrs);
    free(s->routes);
    *s = (struct netns_snapshot){0};
}
