#include "readyz/server.h"
#include "readyz/http.h"
#include "cleanup.h"
#include "util.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_CHUNK  1024
#define DRAIN_LIMIT (64 * 1024) /* a client still talking after this is reset */

enum conn_state {
    CONN_READ = 0, /* parsing the request head */
    CONN_WRITE,    /* response queued */
    CONN_DRAIN,    /* response sent; waiting for the client's FIN */
};

struct conn {
    struct shim_readyz *srv;
    struct conn *prev, *next;
    int fd;
    enum conn_state st;
    int64_t deadline_ms;
    size_t drained;
    oss_buf out;
    size_t off;
    struct shim_http_req req;
};

struct shim_readyz {
    struct shim_loop *loop;
    int lfd;
    bool listening; /* false while paused after EMFILE */
    struct shim_readyz_hooks hooks;
    struct shim_timer *sweep;
    struct conn *conns;
    struct shim_readyz_stats stats;
};

static void close_abortive(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

static void conn_free(struct conn *c, bool abortive)
{
    struct shim_readyz *s = c->srv;
    shim_loop_del(s->loop, c->fd);
    if (abortive)
        close_abortive(c->fd);
    else
        close(c->fd); /* the client closed first: no TIME_WAIT on our side */
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->stats.active--;
    oss_buf_free(&c->out);
    free(c);
}

static void respond(struct conn *c, int status, const char *ctype, const char *body, size_t blen)
{
    oss_buf_printf(&c->out,
                   "HTTP/1.1 %d %s\r\n"
                   "Content-Type: %s\r\n"
                   "Content-Length: %zu\r\n"
                   "Cache-Control: no-store\r\n"
                   "Connection: close\r\n\r\n",
                   status, shim_http_status_text(status), ctype, blen);
    if (c->req.method != SHIM_HTTP_HEAD || c->req.result != SHIM_HTTP_DONE)
        oss_buf_put(&c->out, body, blen);
}

static void respond_text(struct conn *c, int status, const char *line)
{
    _cleanup_buf_ oss_buf b = OSS_BUF_INIT;
    oss_buf_printf(&b, "%s\n", line);
    respond(c, status, "text/plain; charset=utf-8", b.data, b.len);
}

static void build_response(struct conn *c)
{
    struct shim_readyz *s = c->srv;
    const struct shim_readyz_hooks *h = &s->hooks;
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

/* One write per call: the loop comes back while more is pending. */
static void conn_write(struct conn *c)
{
    ssize_t n = send(c->fd, c->out.data + c->off, c->out.len - c->off, MSG_NOSIGNAL);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return;
        return conn_free(c, true);
    }
    c->off += (size_t)n;
    if (c->off < c->out.len)
        return;
    c->srv->stats.responses++;
    c->st = CONN_DRAIN;
    oss_buf_free(&c->out);
    if (shim_loop_mod(c->srv->loop, c->fd, EPOLLIN, NULL) < 0)
        conn_free(c, true);
}

static void conn_cb(struct shim_loop *loop, int fd, uint32_t events, void *data)
{
    struct conn *c = data;
    char buf[READ_CHUNK];

    if (c->st == CONN_WRITE) {
        if (events & EPOLLERR)
            return conn_free(c, true);
        return conn_write(c);
    }

    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return;
        return conn_free(c, true);
    }
    if (n == 0)
        return conn_free(c, false); /* the client closed first */

    if (c->st == CONN_DRAIN) {
        c->drained += (size_t)n;
        if (c->drained > DRAIN_LIMIT)
            conn_free(c, true);
        return;
    }

    shim_http_feed(&c->req, buf, (size_t)n);
    if (c->req.result == SHIM_HTTP_MORE)
        return;
    build_response(c);
    c->st = CONN_WRITE;
    if (shim_loop_mod(loop, fd, EPOLLOUT, NULL) < 0)
        return conn_free(c, true);
}

static void arm_sweep(struct shim_readyz *s)
{
    if (!shim_timer_armed(s->sweep))
        (void)shim_timer_arm(s->sweep, SHIM_READYZ_SWEEP_MS, SHIM_READYZ_SWEEP_MS);
}

static void listener_cb(struct shim_loop *loop, int fd, uint32_t events, void *data);

static void sweep_cb(struct shim_loop *loop, int fd, uint32_t events, void *data)
{
    struct shim_readyz *s = data;
    shim_timer_consume(s->sweep);
    int64_t now = oss_mono_ms();
    struct conn *next;
    for (struct conn *c = s->conns; c; c = next) {
        next = c->next;
        if (now >= c->deadline_ms) {
            s->stats.timed_out++;
            conn_free(c, true);
        }
    }
    if (!s->listening && shim_loop_mod(loop, s->lfd, EPOLLIN, NULL) == 0)
        s->listening = true;
    if (s->conns == NULL && s->listening)
        shim_timer_disarm(s->sweep); /* idle: no wake-ups */
}

static void listener_cb(struct shim_loop *loop, int fd, uint32_t events, void *data)
{
    struct shim_readyz *s = data;
    for (int i = 0; i < SHIM_READYZ_ACCEPT_BATCH; i++) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* The listener would stay readable and spin the loop: pause
                 * it until the next sweep frees something. */
                if (shim_loop_mod(loop, fd, 0, NULL) == 0)
                    s->listening = false;
                arm_sweep(s);
            }
            return; /* EAGAIN, ECONNABORTED, ... */
        }
        s->stats.accepted++;
        if (s->stats.active >= SHIM_READYZ_MAX_CONNS) {
            s->stats.rejected_over_cap++;
            close_abortive(cfd);
            continue;
        }
        struct conn *c = calloc(1, sizeof *c);
        if (c == NULL) {
            close_abortive(cfd);
            continue;
        }
        c->srv = s;
        c->fd = cfd;
        c->deadline_ms = oss_mono_ms() + SHIM_READYZ_CONN_TIMEOUT_MS;
        shim_http_init(&c->req);
        if (shim_loop_add(loop, cfd, EPOLLIN, conn_cb, c, NULL) < 0) {
            close_abortive(cfd);
            free(c);
            continue;
        }
        c->next = s->conns;
        if (s->conns)
            s->conns->prev = c;
        s->conns = c;
        s->stats.active++;
        arm_sweep(s);
    }
}

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
    if (listen(fd, SHIM_READYZ_MAX_CONNS) < 0)
        return oss_err_errno(err, "readyz: listen");
    socklen_t sl = sizeof sa;
    if (getsockname(fd, (struct sockaddr *)&sa, &sl) < 0)
        return oss_err_errno(err, "readyz: getsockname");

    _cleanup_free_ struct shim_readyz *s = calloc(1, sizeof *s);
    if (s == NULL)
        return oss_err_errno(err, "allocating readyz server");
    s->loop = loop;
    s->hooks = *hooks;
    s->stats.port = ntohs(sa.sin_port);
    if (shim_timer_new(loop, sweep_cb, s, &s->sweep, err) < 0) {
        oss_err_prefix(err, "readyz");
        return -1;
    }
    if (shim_loop_add(loop, fd, EPOLLIN, listener_cb, s, err) < 0) {
        shim_timer_free(loop, s->sweep);
        oss_err_prefix(err, "readyz");
        return -1;
    }
    s->listening = true;
    s->lfd = TAKE_FD(fd);
    *ret = TAKE_PTR(s);
    return 0;
}

void shim_readyz_stop(struct shim_readyz *s)
{
    if (s == NULL)
        return;
    while (s->conns)
        conn_free(s->conns, true);
    shim_loop_del(s->loop, s->lfd);
    close(s->lfd);
    shim_timer_free(s->loop, s->sweep);
    free(s);
}

void shim_readyz_get_stats(const struct shim_readyz *s, struct shim_readyz_stats *ret)
{
    *ret = s->stats;
}
