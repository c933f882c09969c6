/* Per-sandbox networking: a network namespace with one veth pair, an
 * address on each end, loopback up and a default route with a gateway
 * (runsc refuses a gateway-less default route, docs/platform/gvisor.md,
 * "Networking under Debian's runsc"), all through
 * the project's netns/ library; and the readyz probe from the host. */
#include "internal.h"

#include "cleanup.h"
#include "netns.h"
#include "drv_util.h"
#include "util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct netns_pair_spec pair_of(const struct drv_runsc_net_names *n)
{
    struct netns_pair_spec s = {
        .ns_name = n->ns,
        .host_if = n->host_if,
        .peer_if = n->peer_if,
        .host_cidr = n->host_cidr,
        .peer_cidr = n->peer_cidr,
        .gateway = n->gateway,
    };
    return s;
}

int drv_runsc_net_up(const struct drv_runsc_net_names *n, oss_error *err)
{
    struct netns_pair_spec s = pair_of(n);
    enum netns_step step;
    if (netns_pair_ensure(&s, &step, err) < 0) {
        oss_err_prefix(err, "network namespace %s", n->ns);
        return -1;
    }
    return 0;
}

int drv_runsc_net_down(const struct drv_runsc_net_names *n, oss_error *err)
{
    struct netns_pair_spec s = pair_of(n);
    if (netns_pair_teardown(&s, err) < 0) {
        oss_err_prefix(err, "removing network namespace %s", n->ns);
        return -1;
    }
    return 0;
}

bool drv_runsc_net_exists(const struct drv_runsc_net_names *n)
{
    return netns_exists(n->ns) || if_nametoindex(n->host_if) != 0;
}

int drv_runsc_net_host_link(const struct drv_runsc_net_names *n, bool up, oss_error *err)
{
    _cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return oss_err_errno(err, "socket");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", n->host_if);
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
        return oss_err_errno(err, "SIOCGIFFLAGS %s", n->host_if);
    short want = up ? (short)(ifr.ifr_flags | IFF_UP) : (short)(ifr.ifr_flags & ~IFF_UP);
    if (want == ifr.ifr_flags)
        return 0;
    ifr.ifr_flags = want;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
        return oss_err_errno(err, "setting %s %s", n->host_if, up ? "up" : "down");
    return 0;
}

int drv_runsc_net_list(const char *tag, char ***ret, oss_error *err)
{
    char prefix[16];
    snprintf(prefix, sizeof prefix, "ossr-%s-", tag);
    size_t n = 0;
    char **v = calloc(1, sizeof *v);
    if (v == NULL)
        abort();
    _cleanup_closedir_ DIR *d = opendir(NETNS_RUN_DIR);
    if (d == NULL) {
        if (errno == ENOENT) {
            *ret = v;
            return 0;
        }
        free(v);
        return oss_err_errno(err, "opendir %s", NETNS_RUN_DIR);
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        char **nv = realloc(v, (n + 2) * sizeof *nv);
        if (nv == NULL)
            abort();
        v = nv;
        v[n] = strdup(e->d_name);
        if (v[n] == NULL)
            abort();
        v[++n] = NULL;
    }
    *ret = v;
    return 0;
}

/* ---- readyz ---- */

static bool body_starts(const char *body, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(body, prefix, n) == 0;
}

/* One GET /readyz within budget_ms; returns the HTTP status or -1.  why
 * gets "HTTP <code>: <body>" (or what went wrong), never_ready whether the
 * body says the shim will never be ready: it refused to start ("bootstrap
 * refused"), or its supervisor ended and will not be restarted
 * ("supervisor gone"; docs/readyz.md). */
static int probe_once(const struct sockaddr_in *sa, int64_t budget_ms, char *why, size_t whyn,
                      bool *never_ready)
{
    int64_t deadline = oss_mono_ms() + budget_ms;
    *never_ready = false;
    _cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(why, whyn, "socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) < 0 && errno != EINPROGRESS) {
        snprintf(why, whyn, "connect: %s", strerror(errno));
        return -1;
    }
    static const char req[] = "GET /readyz HTTP/1.1\r\nHost: sandbox\r\nConnection: close\r\n\r\n";
    size_t sent = 0;
    char buf[1024];
    size_t got = 0;
    for (;;) {
        int64_t left = deadline - oss_mono_ms();
        if (left <= 0) {
            snprintf(why, whyn, "no answer within %lld ms", (long long)budget_ms);
            return -1;
        }
        struct pollfd p = {.fd = fd, .events = sent < sizeof req - 1 ? POLLOUT : POLLIN};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            continue;
        if (sent < sizeof req - 1) {
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
            if (soerr != 0) {
                snprintf(why, whyn, "connect: %s", strerror(soerr));
                return -1;
            }
            ssize_t w = send(fd, req + sent, sizeof req - 1 - sent, MSG_NOSIGNAL);
            if (w < 0) {
                if (errno == EAGAIN || errno == EINTR)
                    continue;
                snprintf(why, whyn, "send: %s", strerror(errno));
                return -1;
            }
            sent += (size_t)w;
            continue;
        }
        ssize_t n = recv(fd, buf + got, sizeof buf - got, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n <= 0 && got == 0) {
            snprintf(why, whyn, "connection closed without an answer");
            return -1;
        }
        if (n > 0)
            got += (size_t)n;
        int code = 0;
        size_t boff = 0, blen = 0;
        int a = drv_runsc_http_answer(buf, got, n <= 0 || got == sizeof buf, &code, &boff, &blen);
        if (a < 0) {
            snprintf(why, whyn, "not an HTTP answer");
            return -1;
        }
        if (a == 0)
            continue;
        /* we have what we need: close first (the shim waits for the
         * client's FIN, so no TIME_WAIT is left in the sandbox to block a
         * checkpoint) */
        *never_ready = code == 503 && (body_starts(buf + boff, blen, "bootstrap refused") ||
                                       body_starts(buf + boff, blen, "supervisor gone"));
        int k = snprintf(why, whyn, "HTTP %d%s%.*s", code, blen > 0 ? ": " : "",
                         (int)(blen < 400 ? blen : 400), buf + boff);
        size_t wl = k > 0 ? ((size_t)k < whyn ? (size_t)k : whyn - 1) : 0;
        for (size_t q = 0; q < wl; q++)
            if (why[q] == '\r' || why[q] == '\n' || why[q] == '\0')
                why[q] = ' ';
        while (wl > 0 && why[wl - 1] == ' ') /* the shim ends its reason with a newline */
            why[--wl] = '\0';
        return code;
    }
}

int drv_runsc_readyz_wait(const char *addr, int port, int64_t timeout_ms, bool (*stop)(void *ctx),
                          void *ctx, oss_error *err)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
        return oss_err(err, OSS_ERR_INVALID, EINVAL, "bad address %s", addr);
    int64_t deadline = oss_mono_ms() + timeout_ms;
    char why[512] = "never tried";
    for (;;) {
        bool never_ready = false;
        if (probe_once(&sa, 250, why, sizeof why, &never_ready) == 200)
            return 0;
        if (never_ready) /* the shim will not become ready: waiting longer changes nothing */
            return oss_err(err, OSS_ERR_GRPC, 9 /* FAILED_PRECONDITION */,
                           "the shim will never be ready (readyz at http://%s:%d/readyz: %s)", addr,
                           port, why);
        if (oss_mono_ms() >= deadline)
            return oss_err(err, OSS_ERR_TIMEOUT, ETIMEDOUT,
                           "readyz at http://%s:%d/readyz did not answer 200 within %lld s (last: "
                           "%s)",
                           addr, port, (long long)(timeout_ms / 1000), why);
        if (stop != NULL && stop(ctx))
            return oss_err(err, OSS_ERR_GRPC, 1 /* CANCELLED */, "cancelled");
        drv_sleep_ms(10);
    }
}
