#include "net/connsrv.h"
#include "cleanup.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_CHUNK 1024

enum conn_state {
    CONN_READ = 0, /* reading the request */
    CONN_WRITE,    /* reply queued */
    CONN_DRAIN,    /* reply sent; waiting for the client's close */
};

/* Connections are kept in accept order (oldest first), so eviction and the
 * sweep walk from the head. */
struct conn {
    struct shim_connsrv *srv;
    struct conn *prev, *next;
    int fd;
    enum conn_state st;
    int64_t accepted_ms;
    size_t drained;
    oss_buf out;
    size_t off;
    max_align_t state[]; /* the protocol's, proto.state_size bytes */
};

struct shim_connsrv {
    struct shim_loop *loop;
    int lfd;
    struct shim_connsrv_limits lim;
    struct shim_connsrv_proto proto;
    void *ctx;
    struct shim_timer *sweep;
    struct conn *head, *tail;
    struct shim_connsrv_stats stats;
};

static void close_abortive(int fd)
{
    /* RST instead of FIN: no TIME_WAIT on the shim's side (see connsrv.h). */
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

static void conn_free(struct conn *c, bool abortive)
{
    struct shim_connsrv *s = c->srv;
    shim_loop_del(s->loop, c->fd);
    if (abortive)
        close_abortive(c->fd);
    else
        close(c->fd);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        s->tail = c->prev;
    s->stats.active--;
    oss_buf_free(&c->out);
    free(c);
}

static void arm_sweep(struct shim_connsrv *s)
{
    if (!shim_timer_armed(s->sweep))
        (void)shim_timer_arm(s->sweep, s->lim.sweep_ms, s->lim.sweep_ms);
}

static void reply_sent(struct conn *c)
{
    struct shim_connsrv *s = c->srv;
    s->stats.responses++;
    oss_buf_free(&c->out);
    if (!s->lim.wait_fin)
        return conn_free(c, false);
    c->st = CONN_DRAIN;
    if (shim_loop_mod(s->loop, c->fd, EPOLLIN, NULL) < 0)
        conn_free(c, true);
}

/* One write per call: the loop comes back while more is pending. */
static void conn_write(struct conn *c)
{
    if (c->out.len == 0)
        return reply_sent(c);
    ssize_t n = send(c->fd, c->out.data + c->off, c->out.len - c->off, MSG_NOSIGNAL);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return;
        return conn_free(c, true);
    }
    c->off += (size_t)n;
    if (c->off >= c->out.len)
        reply_sent(c);
}

static void conn_cb(struct shim_loop *loop, int fd, uint32_t events, void *data)
{
    struct conn *c = data;
    struct shim_connsrv *s = c->srv;
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
        if (c->drained > s->lim.drain_limit)
            conn_free(c, true);
        return;
    }
    if (!s->proto.feed(s->ctx, c->state, buf, (size_t)n, &c->out))
        return;
    if (oss_buf_failed(&c->out)) { /* no memory for the reply: drop, count */
        s->stats.nomem++;
        return conn_free(c, true);
    }
    c->st = CONN_WRITE;
    c->off = 0;
    if (shim_loop_mod(loop, fd, EPOLLOUT, NULL) < 0)
        return conn_free(c, true);
    conn_write(c); /* usually the whole reply fits the socket buffer now */
}

static void sweep_cb(struct shim_loop *loop, int fd, uint32_t events, void *data)
{
    struct shim_connsrv *s = data;
    shim_timer_consume(s->sweep);
    int64_t now = oss_mono_ms();
    struct conn *next;
    for (struct conn *c = s->head; c; c = next) {
        next = c->next;
        int64_t age = now - c->accepted_ms;
        if (age >= s->lim.conn_timeout_ms ||
            (c->st == CONN_READ && age >= s->lim.head_timeout_ms)) {
            s->stats.timed_out++;
            conn_free(c, true);
        }
    }
    if (!s->stats.listening && shim_loop_mod(loop, s->lfd, EPOLLIN, NULL) == 0)
        s->stats.listening = true;
    if (s->head == NULL && s->stats.listening)
        shim_timer_disarm(s->sweep); /* idle: no wake-ups */
}

/* The slot a newcomer may take in a full table: the oldest connection
 * still reading, else the oldest waiting for the client's close. */
static struct conn *victim(struct shim_connsrv *s)
{
    for (struct conn *c = s->head; c; c = c->next)
        if (c->st == CONN_READ)
            return c;
    for (struct conn *c = s->head; c; c = c->next)
        if (c->st == CONN_DRAIN)
            return c;
    return NULL;
}

static void listener_cb(struct shim_loop *loop, int fd, uint32_t events, void *data)
{
    struct shim_connsrv *s = data;
    for (unsigned i = 0; i < s->lim.accept_batch; i++) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* The listener would stay readable and spin the loop: pause
                 * it until the next sweep frees something. */
                if (shim_loop_mod(loop, fd, 0, NULL) == 0) {
                    s->stats.listening = false;
                    s->stats.paused++;
                }
                arm_sweep(s);
            }
            return; /* EAGAIN, ECONNABORTED, ... */
        }
        s->stats.accepted++;
        if (s->stats.active >= s->lim.max_conns) {
            struct conn *v = victim(s);
            if (v == NULL) {
                s->stats.rejected_over_cap++;
                close_abortive(cfd);
                continue;
            }
            s->stats.evicted++;
            conn_free(v, true);
        }
        struct conn *c = calloc(1, sizeof *c + s->proto.state_size);
        if (c == NULL) {
            s->stats.nomem++;
            close_abortive(cfd);
            continue;
        }
        c->srv = s;
        c->fd = cfd;
        c->accepted_ms = oss_mono_ms();
        if (shim_loop_add(loop, cfd, EPOLLIN, conn_cb, c, NULL) < 0) {
            s->stats.nomem++;
            close_abortive(cfd);
            free(c);
            continue;
        }
        c->prev = s->tail;
        if (s->tail)
            s->tail->next = c;
        else
            s->head = c;
        s->tail = c;
        s->stats.active++;
        arm_sweep(s);
        if (s->proto.accepted)
            s->proto.accepted(s->ctx, cfd, c->state);
        /* A request that is already there is read now: a prober is served
         * before later newcomers could make it the oldest reader. */
        conn_cb(loop, cfd, EPOLLIN, c);
    }
}

int shim_connsrv_start(struct shim_loop *loop, int lfd, const struct shim_connsrv_limits *lim,
                       const struct shim_connsrv_proto *proto, void *ctx, struct shim_connsrv **ret,
                       oss_error *err)
{
    _cleanup_close_ int fd = lfd;
    _cleanup_free_ struct shim_connsrv *s = calloc(1, sizeof *s);
    if (s == NULL)
        return oss_err_errno(err, "allocating a connection server");
    s->loop = loop;
    s->lim = *lim;
    s->proto = *proto;
    s->ctx = ctx;
    if (shim_timer_new(loop, sweep_cb, s, &s->sweep, err) < 0)
        return -1;
    if (shim_loop_add(loop, fd, EPOLLIN, listener_cb, s, err) < 0) {
        shim_timer_free(loop, s->sweep);
        return -1;
    }
    s->stats.listening = true;
    s->lfd = TAKE_FD(fd);
    *ret = TAKE_PTR(s);
    return 0;
}

void shim_connsrv_stop(struct shim_connsrv *s)
{
    if (s == NULL)
        return;
    while (s->head)
        conn_free(s->head, true);
    shim_loop_del(s->loop, s->lfd);
    close(s->lfd);
    shim_timer_free(s->loop, s->sweep);
    free(s);
}

void shim_connsrv_get_stats(const struct shim_connsrv *s, struct shim_connsrv_stats *ret)
{
    *ret = s->stats;
}
