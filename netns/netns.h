/* Network-namespace operations over libnl-route (no `ip` subprocesses).
 *
 * Every multi-step operation is an "ensure": running it twice is the same as
 * running it once, and when a later step fails it removes what *it* created
 * in earlier steps (never what existed before), so a failure never strands an
 * interface.  Errors keep the kernel's errno (domain ERRNO, or NL for libnl
 * codes that have no errno) and name the step that failed.
 *
 * gVisor's netlink answers dumps with sequence numbers libnl does not expect;
 * every socket made here has sequence checks disabled for that reason. */
#ifndef OSS_NETNS_H
#define OSS_NETNS_H

#include "buf.h"
#include "error.h"

#include <stdbool.h>
#include <stddef.h>

struct nl_sock;

/* Steps of the supervisor's sequence, for errors, probes and reports. */
enum netns_step {
    NETNS_STEP_NONE = 0,
    NETNS_STEP_NS_CREATE, /* unshare(CLONE_NEWNET) + bind mount under /run/netns */
    NETNS_STEP_NL_SOCKET, /* netlink route socket */
    NETNS_STEP_VETH,      /* veth pair creation */
    NETNS_STEP_MOVE,      /* move the peer end into the namespace (by fd) */
    NETNS_STEP_ADDR,      /* addresses */
    NETNS_STEP_LINK_UP,   /* links up, loopback included */
    NETNS_STEP_ROUTE,     /* default route */
    NETNS_STEP_COUNT,
};
const char *netns_step_name(enum netns_step s);

/* Named namespaces live at NETNS_RUN_DIR/<name> (bind mounts of a namespace
 * file), like `ip netns`.  Tests may point this elsewhere with
 * netns_set_run_dir(). */
#define NETNS_RUN_DIR "/run/netns"
void netns_set_run_dir(const char *dir);

int netns_create(const char *name, oss_error *err); /* idempotent */
/* Same, saying whether this call made it (false: it was already there). */
int netns_ensure(const char *name, bool *ret_created, oss_error *err);
int netns_open(const char *name, int *ret_fd, oss_error *err); /* O_CLOEXEC fd */
int netns_delete(const char *name, oss_error *err);            /* missing is fine */
bool netns_exists(const char *name);

/* A route netlink socket inside the namespace nsfd (-1 = the caller's). */
int netns_nl_open(int nsfd, struct nl_sock **ret, oss_error *err);
void netns_nl_close(struct nl_sock *sk);

/* Single steps, each idempotent. */
int netns_veth_ensure(struct nl_sock *sk, const char *host_if, const char *peer_if,
                      bool *ret_created, oss_error *err);
/* The same, with the peer end created directly inside namespace peer_nsfd
 * (-1: here), as `ip link add ... peer name P netns N` does. */
int netns_veth_ensure_in(struct nl_sock *sk, const char *host_if, const char *peer_if,
                         int peer_nsfd, bool *ret_created, oss_error *err);
int netns_link_move(struct nl_sock *sk, const char *ifname, int nsfd, oss_error *err);
int netns_addr_ensure(struct nl_sock *sk, const char *ifname, const char *cidr, oss_error *err);
int netns_link_up(struct nl_sock *sk, const char *ifname, oss_error *err);
int netns_route_default_ensure(struct nl_sock *sk, const char *gateway, oss_error *err);
int netns_link_delete(struct nl_sock *sk, const char *ifname, oss_error *err); /* missing is fine */

/* The supervisor's whole sequence (docs/platform/supervisor.md,
 * "Network namespace"): namespace ns_name, veth
 * host_if (stays here) / peer_if (moved in), host_cidr on host_if, peer_cidr
 * on peer_if, lo and both ends up, default route in the namespace via
 * gateway.  On failure everything this call created is removed and
 * *ret_failed_step names the step.
 *
 * peer_at_create creates peer_if inside the namespace instead of moving it
 * there (no NETNS_STEP_MOVE), as `ip link add ... peer name P netns N`.
 * The supervisor moves.  On a Linux kernel the move asks nothing more of a
 * namespace this call created: it needs CAP_NET_ADMIN over the namespace
 * (rtnl_link_get_net_capable()), which belongs to the caller's user
 * namespace, over which creating the veth here already needed it.  But the
 * move waits for an RCU grace period in dev_change_net_namespace() (15-30
 * ms measured here) and the create does not.  gVisor differs: its releases
 * of June 2024 create a peer inside a namespace yet refuse the move, so a
 * prediction for gVisor must move. */
struct netns_pair_spec {
    const char *ns_name;
    const char *host_if;
    const char *peer_if;
    const char *host_cidr;
    const char *peer_cidr;
    const char *gateway;
    bool peer_at_create;
};
int netns_pair_ensure(const struct netns_pair_spec *spec, enum netns_step *ret_failed_step,
                      oss_error *err);
int netns_pair_teardown(const struct netns_pair_spec *spec, oss_error *err);

/* Fault injection for tests: make step `s` fail with errno `e` the next time
 * it runs (0 clears).  Compiled in always: it is one branch per step. */
void netns_inject_failure(enum netns_step s, int e);

/* A namespace's links, addresses and routes, for restore detection. */
struct netns_link {
    char name[16];
    int ifindex;
    unsigned flags; /* IFF_* */
    char mac[18];   /* "aa:bb:cc:dd:ee:ff" or "" */
    unsigned mtu;
};
struct netns_addr {
    char ifname[16];
    char cidr[64]; /* "169.254.17.2/30" */
    int family;
};
struct netns_route {
    char dst[64];     /* "default" or CIDR */
    char gateway[64]; /* "" when none */
    char ifname[16];
    int family;
};
struct netns_snapshot {
    struct netns_link *links;
    size_t nlinks;
    struct netns_addr *addrs;
    size_t naddrs;
    struct netns_route *routes;
    size_t nroutes;
};

/* Takes a snapshot of namespace nsfd (-1 = the caller's). */
int netns_snapshot_take(int nsfd, struct netns_snapshot *ret, oss_error *err);
void netns_snapshot_free(struct netns_snapshot *s);

/* Pure: what changed from a to b.  Writes a JSON object
 * {"links_added":[..],"links_removed":[..],"addrs_added":[..],
 *  "addrs_removed":[..],"routes_added":[..],"routes_removed":[..]}
 * and returns the number of differences (0 = identical). */
size_t netns_snapshot_diff(const struct netns_snapshot *a, const struct netns_snapshot *b,
                           oss_buf *json_out);

/* Serialises a snapshot as JSON (for reports). */
void netns_snapshot_json(const struct netns_snapshot *s, oss_buf *out);

#endif
