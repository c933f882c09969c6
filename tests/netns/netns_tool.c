/* Test driver for netns/: exposes the library's operations to the
 * integration scripts, which check the results independently with `ip`.
 *
 *   netns_tool ensure|teardown|check NS HOST PEER HOSTCIDR PEERCIDR GW
 *   netns_tool snapdiff NS CMD      snapshot NS, run CMD (sh -c), snapshot, diff
 *   netns_tool snapshot             JSON snapshot of the current namespace
 *   netns_tool nscycle NS           create, check, delete, check (a control)
 *
 * ensure prints one JSON line {"ok":..,"step":..,"errno":..,"msg":..}.
 * NETNS_TOOL_INJECT=step:ERRNO makes that step fail (netns_inject_failure). */
#include "netns.h"

#include "cleanup.h"
#include "json.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int errno_parse(const char *s)
{
    static const struct {
        const char *n;
        int e;
    } t[] = {{"EPERM", EPERM},   {"EOPNOTSUPP", EOPNOTSUPP}, {"ENOSYS", ENOSYS},
             {"EINVAL", EINVAL}, {"EACCES", EACCES},         {"ENOMEM", ENOMEM}};
    for (size_t i = 0; i < OSS_ARRAY_SIZE(t); i++)
        if (strcmp(t[i].n, s) == 0)
            return t[i].e;
    return 0;
}

static int inject_from_env(void)
{
    const char *v = getenv("NETNS_TOOL_INJECT");
    if (v == NULL || *v == '\0')
        return 0;
    char step[32];
    const char *colon = strchr(v, ':');
    if (colon == NULL || (size_t)(colon - v) >= sizeof step)
        return -1;
    memcpy(step, v, (size_t)(colon - v));
    step[colon - v] = '\0';
    int e = errno_parse(colon + 1);
    for (int s = NETNS_STEP_NONE + 1; s < NETNS_STEP_COUNT; s++)
        if (strcmp(netns_step_name((enum netns_step)s), step) == 0 && e) {
            netns_inject_failure((enum netns_step)s, e);
            return 0;
        }
    return -1;
}

/* After a failure: is anything of the spec still there?  (The runsc test
 * cannot look from outside the sandbox, so the tool looks from inside.) */
static bool host_link_exists(const char *ifname)
{
    struct netns_snapshot s = {0};
    oss_error err = {0};
    bool found = false;
    if (netns_snapshot_take(-1, &s, &err) < 0)
        return true; /* cannot tell: do not claim "clean" */
    for (size_t i = 0; i < s.nlinks; i++)
        found |= strcmp(s.links[i].name, ifname) == 0;
    netns_snapshot_free(&s);
    return found;
}

static void print_result(int r, enum netns_step step, const oss_error *err,
                         const struct netns_pair_spec *spec)
{
    oss_buf b = OSS_BUF_INIT;
    oss_json j;
    oss_json_init(&j, &b);
    oss_json_obj_begin(&j);
    oss_json_kv_bool(&j, "ok", r == 0);
    oss_json_kv_str(&j, "step", netns_step_name(step));
    oss_json_kv_str(&j, "domain", oss_err_domain_name(err->domain));
    oss_json_kv_str(&j, "errno", err->domain == OSS_ERR_ERRNO ? oss_errno_name(err->code) : "");
    oss_json_kv_str(&j, "msg", err->msg);
    if (r < 0 && spec) {
        oss_json_kv_bool(&j, "left_ns", netns_exists(spec->ns_name));
        oss_json_kv_bool(&j, "left_host_if", host_link_exists(spec->host_if));
        oss_json_kv_bool(&j, "left_peer_if", host_link_exists(spec->peer_if));
    }
    oss_json_obj_end(&j);
    printf("%s\n", b.data);
    oss_buf_free(&b);
}

/* Library-side verification of what ensure promised. */
static int check(const struct netns_pair_spec *s)
{
    oss_error err = {0};
    _cleanup_close_ int nsfd = -1;
    if (netns_open(s->ns_name, &nsfd, &err) < 0) {
        fprintf(stderr, "check: %s\n", err.msg);
        return 1;
    }
    struct netns_snapshot in = {0}, out = {0};
    if (netns_snapshot_take(nsfd, &in, &err) < 0 || netns_snapshot_take(-1, &out, &err) < 0) {
        fprintf(stderr, "check: %s\n", err.msg);
        return 1;
    }
    int bad = 0;
    bool lo_up = false, peer_up = false, host_up = false, peer_addr = false, host_addr = false,
         route = false;
    for (size_t i = 0; i < in.nlinks; i++) {
        if (strcmp(in.links[i].name, "lo") == 0)
            lo_up = in.links[i].flags & IFF_UP;
        if (strcmp(in.links[i].name, s->peer_if) == 0)
            peer_up = in.links[i].flags & IFF_UP;
    }
    for (size_t i = 0; i < out.nlinks; i++)
        if (strcmp(out.links[i].name, s->host_if) == 0)
            host_up = out.links[i].flags & IFF_UP;
    for (size_t i = 0; i < in.naddrs; i++)
        if (strcmp(in.addrs[i].ifname, s->peer_if) == 0 &&
            strcmp(in.addrs[i].cidr, s->peer_cidr) == 0)
            peer_addr = true;
    for (size_t i = 0; i < out.naddrs; i++)
        if (strcmp(out.addrs[i].ifname, s->host_if) == 0 &&
            strcmp(out.addrs[i].cidr, s->host_cidr) == 0)
            host_addr = true;
    for (size_t i = 0; i < in.nroutes; i++)
        if (strcmp(in.routes[i].dst, "default") == 0 &&
            strcmp(in.routes[i].gateway, s->gateway) == 0 &&
            strcmp(in.routes[i].ifname, s->peer_if) == 0)
            route = true;
    const struct {
        const char *what;
        bool ok;
    } c[] = {{"lo up", lo_up},         {"peer up", peer_up},     {"host up", host_up},
             {"peer addr", peer_addr}, {"host addr", host_addr}, {"default route", route}};
    for (size_t i = 0; i < OSS_ARRAY_SIZE(c); i++) {
        printf("check %-13s %s\n", c[i].what, c[i].ok ? "ok" : "MISSING");
        bad |= !c[i].ok;
    }
    netns_snapshot_free(&in);
    netns_snapshot_free(&out);
    return bad;
}

static int snapdiff(const char *ns, const char *cmd)
{
    oss_error err = {0};
    _cleanup_close_ int nsfd = -1;
    struct netns_snapshot a = {0}, b = {0};
    if (netns_open(ns, &nsfd, &err) < 0 || netns_snapshot_take(nsfd, &a, &err) < 0) {
        fprintf(stderr, "snapdiff: %s\n", err.msg);
        return 2;
    }
    if (system(cmd) != 0) {
        fprintf(stderr, "snapdiff: command failed: %s\n", cmd);
        return 2;
    }
    if (netns_snapshot_take(nsfd, &b, &err) < 0) {
        fprintf(stderr, "snapdiff: %s\n", err.msg);
        return 2;
    }
    oss_buf out = OSS_BUF_INIT;
    size_t n = netns_snapshot_diff(&a, &b, &out);
    printf("%zu %s\n", n, out.data);
    oss_buf_free(&out);
    netns_snapshot_free(&a);
    netns_snapshot_free(&b);
    return 0;
}

/* Control for the leftovers checks: netns_exists() sees a namespace that
 * is there, and stops seeing it once deleted (also under gVisor, where
 * the namespace file is a proc symlink). */
static int nscycle(const char *ns)
{
    oss_error err = {0};
    bool before = netns_exists(ns);
    if (netns_create(ns, &err) < 0) {
        printf("nscycle create failed: %s\n", err.msg);
        return 1;
    }
    bool during = netns_exists(ns);
    if (netns_delete(ns, &err) < 0) {
        printf("nscycle delete failed: %s\n", err.msg);
        return 1;
    }
    bool after = netns_exists(ns);
    printf("nscycle before=%d during=%d after=%d\n", before, during, after);
    return !before && during && !after ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "snapdiff") == 0)
        return snapdiff(argv[2], argv[3]);
    if (argc == 3 && strcmp(argv[1], "nscycle") == 0)
        return nscycle(argv[2]);
    if (argc == 2 && strcmp(argv[1], "snapshot") == 0) {
        struct netns_snapshot s = {0};
        oss_error err = {0};
        if (netns_snapshot_take(-1, &s, &err) < 0) {
            printf("snapshot failed: %s\n", err.msg);
            return 1;
        }
        oss_buf out = OSS_BUF_INIT;
        netns_snapshot_json(&s, &out);
        printf("%s\n", out.data);
        oss_buf_free(&out);
        netns_snapshot_free(&s);
        return 0;
    }
    if (argc != 8) {
        fprintf(stderr,
                "usage: %s ensure|teardown|check NS HOST PEER HOSTCIDR PEERCIDR GW\n"
                "       %s snapdiff NS CMD\n",
                argv[0], argv[0]);
        return 2;
    }
    /* NETNS_TOOL_PEER_AT_CREATE=1: the peer is created inside, not moved. */
    const char *at_create = getenv("NETNS_TOOL_PEER_AT_CREATE");
    const struct netns_pair_spec spec = {argv[2],
                                         argv[3],
                                         argv[4],
                                         argv[5],
                                         argv[6],
                                         argv[7],
                                         at_create != NULL && strcmp(at_create, "1") == 0};
    if (inject_from_env() < 0) {
        fprintf(stderr, "bad NETNS_TOOL_INJECT\n");
        return 2;
    }
    oss_error err = {0};
    if (strcmp(argv[1], "ensure") == 0) {
        enum netns_step step = NETNS_STEP_NONE;
        int r = netns_pair_ensure(&spec, &step, &err);
        print_result(r, step, &err, &spec);
        return r < 0 ? 1 : 0;
    }
    if (strcmp(argv[1], "teardown") == 0) {
        int r = netns_pair_teardown(&spec, &err);
        print_result(r, NETNS_STEP_NONE, &err, NULL);
        return r < 0 ? 1 : 0;
    }
    if (strcmp(argv[1], "check") == 0)
        return check(&spec);
    fprintf(stderr, "unknown command %s\n", argv[1]);
    return 2;
}
