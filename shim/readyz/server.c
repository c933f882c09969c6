#include "readyz/server.h"
#include "readyz/http.h"
#include "net/connsrv.h"
#include "cleanup.h"
#include "util.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

struct shim_readyz {
    struct shim_readyz_hooks hooks;
    struct shim_connsrv *srv;
    int port;
};

/* The per-connection state the connection server keeps for readyz. */
struct conn {
    struct shim_readyz *rz;
    struct shim_http_req req;
    oss_buf *out;
};

static const struct shim_connsrv_limits readyz_limits = {
    .max_conns = SHIM_READYZ_MAX_CONNS,
    .accept_batch = SHIM_READYZ_ACCEPT_BATCH,
    .head_timeout_ms = SHIM_READYZ_HEAD_TIMEOUT_MS,
    .conn_timeout_ms = SHIM_READYZ_CONN_TIMEOUT_MS,
    .sweep_ms = SHIM_READYZ_SWEEP_MS,
    .wait_fin = true,
    .drain_limit = 64 * 1024, /* a client still talking after this is reset */
};

static void respond(struct conn *c, int status, const char *ctype, const char *body, size_t blen)
{
    oss_buf_printf(c->out,
                   "HTTP/1.1 %d %s\r\n"
                   "Content-Type: %s\r\n"
                   "Content-Length: %zu\r\n"
                   "Cache-Control: no-store\r\n"
                   "Connection: close\r\n\r\n",
                   status, shim_http_status_text(status), ctype, blen);
    if (c->req.method != SHIM_HTTP_HEAD || c->req.result != SHIM_HTTP_DONE)
        oss_buf_put(c->out, body, blen);
}

static void respond_text(struct conn *c, int status, const char *line)
{
    _cleanup_buf_ oss_buf b = OSS_BUF_INIT;
    oss_buf_printf(&b, "%s\n", line);
    respond(c, status, "text/plain; charset=utf-8", b.data, b.len);
}

static void build_response(struct conn *c)
{
    const struct shim_readyz_hooks *h = &c->rz->hooks;
    if (c->req.result == SHIM_HTTP_ERROR)
        return respond_text(c, c->req.status, c->req.reason);
    switch (shim_http_route_of(c->req.path)) {
    case SHIM_ROUTE_READYZ: {
        if (h->before_readyz)
            h->before_readyz(h->ctx);
        const char *why = h->not_ready_reason ? h->not_ready_reason(h->ctx) : NULL;
        return why ? respond_text(c, 503, why) : respond_text(c, 200, "ok");
    }
    case SHIM_ROUTE_HEALTHZ:
        return respond_text(c, 200, "ok");
    case SHIM_ROUTE_STATUS: {
        _cleanup_buf_ oss_buf b = OSS_BUF_INIT;
        if (h->status_json)
            h->status_json(h->ctx, &b);
        if (b.len == 0)
            oss_buf_puts(&b, "{}");
        oss_buf_putc(&b, '\n');
        return respond(c, 200, "application/json", b.data, b.len);
    }
    case SHIM_ROUTE_UNKNOWN:
        break;
    }
    respond_text(c, 404, "not found");
}

static void readyz_accepted(void *ctx, int fd, void *state)
{
    struct conn *c = state;
    c->rz = ctx;
    shim_http_init(&c->req);
}

static bool readyz_feed(void *ctx, void *state, const char *data, size_t n, oss_buf *out)
{
    struct conn *c = state;
    shim_http_feed(&c->req, data, n);
    if (c->req.result == SHIM_HTTP_MORE)
        return false;
    c->out = out;
    build_response(c);
    return true;
}

static const struct shim_connsrv_proto readyz_proto = {
    .state_size = sizeof(struct conn),
    .accepted = readyz_accepted,
    .feed = readyz_feed,
};

int shim_readyz_start(struct shim_loop *loop, int port, const struct shim_readyz_hooks *hooks,
                      struct shim_readyz **ret, oss_error *err)
{
    if (port < 0 || port > 65535)
        return oss_err(err, OSS_ERR_INVALID, EINVAL, "readyz port %d out of range", port);
    _cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return oss_err_errno(err, "readyz: socket");
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
        return oss_err_errno(err, "readyz: SO_REUSEADDR");
    /* 0.0.0.0, not loopback: Substrate probes 169.254.17.2 from outside. */
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_ANY)};
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        return oss_err_errno(err, "readyz: binding 0.0.0.0:%d", port);
    /* No TCP_DEFER_ACCEPT: gVisor keeps a connection that has sent nothing
     * in the listener's queue with no file, where no /proc/net/tcp shows it,
     * and such an endpoint fails a checkpoint in Debian's runsc, which then
     * ends the sandbox (docs/platform/gvisor.md, "Checkpoint and restore").
     * An accepted silent client is visible, and the head deadline closes it
     * with RST. */
    if (listen(fd, SHIM_READYZ_BACKLOG) < 0)
        return oss_err_errno(err, "readyz: listen");
    socklen_t sl = sizeof sa;
    if (getsockname(fd, (struct sockaddr *)&sa, &sl) < 0)
        return oss_err_errno(err, "readyz: getsockname");

    _cleanup_free_ struct shim_readyz *s = calloc(1, sizeof *s);
    if (s == NULL)
        return oss_err_errno(err, "allocating readyz server");
    s->hooks = *hooks;
    s->port = ntohs(sa.sin_port);
    if (shim_connsrv_start(loop, TAKE_FD(fd), &readyz_limits, &readyz_proto, s, &s->srv, err) < 0) {
        oss_err_prefix(err, "readyz");
        return -1;
    }
    *ret = TAKE_PTR(s);
    return 0;
}

void shim_readyz_stop(struct shim_readyz *s)
{
    if (s == NULL)
        return;
    shim_connsrv_stop(s->srv);
    free(s);
}

void shim_readyz_get_stats(const struct shim_readyz *s, struct shim_readyz_stats *ret)
{
    struct shim_connsrv_stats cs;
    shim_connsrv_get_stats(s->srv, &cs);
    *ret = (struct shim_readyz_stats){
        .accepted = cs.accepted,
        .rejected_over_cap = cs.rejected_over_cap,
        .evicted = cs.evicted,
        .timed_out = cs.timed_out,
        .responses = cs.responses,
        .active = cs.active,
        .port = s->port,
    };
}
