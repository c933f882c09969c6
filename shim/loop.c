#include "loop.h"
#include "cleanup.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

/* Why poll(2) and not epoll: an epoll set keeps a waiter registered on every
 * socket it watches, also while the shim sleeps.  gVisor (runsc 20221219,
 * Debian's) refuses to checkpoint a TCP endpoint that has waiters ("endpoint
 * still has waiters upon save") and the whole checkpoint fails, so the readyz
 * listener would make every actor unsuspendable.  poll(2) registers waiters
 * only for the duration of the call, and a checkpoint interrupts the call.
 * The loop watches a few dozen fds at most (signalfd, timers, one listener,
 * <= 64 readyz and <= 8 control connections), where poll costs nothing.
 *
 * The event bits are epoll's names with poll's values (EPOLLIN == POLLIN,
 * EPOLLOUT == POLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDHUP likewise on Linux), so
 * callers keep using EPOLL* constants. */
_Static_assert(EPOLLIN == POLLIN && EPOLLOUT == POLLOUT && EPOLLERR == POLLERR &&
                   EPOLLHUP == POLLHUP && EPOLLRDHUP == POLLRDHUP,
               "epoll and poll event bits differ");

struct handler {
    int fd;
    uint32_t events;
    shim_loop_cb cb;
    void *data;
    uint32_t gen; /* bumped on every add, so stale dispatches are dropped */
    bool used;
};

struct shim_loop {
    struct handler *h;
    size_t nh;
    struct pollfd *pfd; /* scratch for one poll() round */
    size_t *slot_of;    /* pfd index -> handler slot */
    uint32_t *gen_of;   /* pfd index -> handler generation at poll time */
    size_t cap;
    void (*prepare)(struct shim_loop *, void *);
    void *prepare_data;
};

struct shim_timer {
    struct shim_loop *loop;
    int fd;
    bool armed;
};

int shim_loop_new(struct shim_loop **ret, oss_error *err)
{
    struct shim_loop *l = calloc(1, sizeof *l);
    if (l == NULL)
        return oss_err_errno(err, "allocating event loop");
    *ret = l;
    return 0;
}

void shim_loop_free(struct shim_loop *loop)
{
    if (loop == NULL)
        return;
    free(loop->h);
    free(loop->pfd);
    free(loop->slot_of);
    free(loop->gen_of);
    free(loop);
}

static int find_slot(struct shim_loop *l, int fd)
{
    for (size_t i = 0; i < l->nh; i++)
        if (l->h[i].used && l->h[i].fd == fd)
            return (int)i;
    return -1;
}

static int grow(struct shim_loop *l, size_t n, oss_error *err)
{
    if (n <= l->cap)
        return 0;
    size_t cap = l->cap ? l->cap * 2 : 16;
    while (cap < n)
        cap *= 2;
    struct handler *h = realloc(l->h, cap * sizeof *h);
    if (h == NULL)
        return oss_err_errno(err, "allocating loop handlers");
    l->h = h;
    struct pollfd *p = realloc(l->pfd, cap * sizeof *p);
    if (p == NULL)
        return oss_err_errno(err, "allocating poll set");
    l->pfd = p;
    size_t *s = realloc(l->slot_of, cap * sizeof *s);
    if (s == NULL)
        return oss_err_errno(err, "allocating poll set");
    l->slot_of = s;
    uint32_t *g = realloc(l->gen_of, cap * sizeof *g);
    if (g == NULL)
        return oss_err_errno(err, "allocating poll set");
    l->gen_of = g;
    l->cap = cap;
    return 0;
}

int shim_loop_add(struct shim_loop *loop, int fd, uint32_t events, shim_loop_cb cb, void *data,
                  oss_error *err)
{
    if (fd < 0)
        return oss_err(err, OSS_ERR_ERRNO, EBADF, "adding fd %d to the loop", fd);
    if (find_slot(loop, fd) >= 0)
        return oss_err(err, OSS_ERR_ERRNO, EEXIST, "fd %d is already in the loop", fd);
    size_t slot = loop->nh;
    for (size_t i = 0; i < loop->nh; i++) {
        if (!loop->h[i].used) {
            slot = i;
            break;
        }
    }
    if (slot == loop->nh) {
        if (grow(loop, loop->nh + 1, err) < 0)
            return -1;
        memset(&loop->h[loop->nh], 0, sizeof loop->h[0]);
        loop->nh++;
    }
    struct handler *h = &loop->h[slot];
    uint32_t gen = h->gen + 1;
    *h = (struct handler){
        .fd = fd, .events = events, .cb = cb, .data = data, .gen = gen, .used = true};
    return 0;
}

int shim_loop_mod(struct shim_loop *loop, int fd, uint32_t events, oss_error *err)
{
    int slot = find_slot(loop, fd);
    if (slot < 0)
        return oss_err(err, OSS_ERR_ERRNO, ENOENT, "fd %d is not in the loop", fd);
    loop->h[slot].events = events;
    return 0;
}

void shim_loop_del(struct shim_loop *loop, int fd)
{
    int slot = find_slot(loop, fd);
    if (slot < 0)
        return;
    loop->h[slot].used = false;
    loop->h[slot].fd = -1;
}

void shim_loop_set_prepare(struct shim_loop *loop, void (*cb)(struct shim_loop *, void *),
                           void *data)
{
    loop->prepare = cb;
    loop->prepare_data = data;
}

int shim_loop_run_once(struct shim_loop *loop, int timeout_ms, oss_error *err)
{
    if (loop->prepare)
        loop->prepare(loop, loop->prepare_data);
    nfds_t n = 0;
    for (size_t i = 0; i < loop->nh; i++) {
        const struct handler *h = &loop->h[i];
        if (!h->used)
            continue;
        loop->pfd[n] = (struct pollfd){.fd = h->fd, .events = (short)h->events};
        loop->slot_of[n] = i;
        loop->gen_of[n] = h->gen;
        n++;
    }
    int r = poll(loop->pfd, n, timeout_ms);
    if (r < 0) {
        if (errno == EINTR)
            return 0;
        return oss_err_errno(err, "poll");
    }
    int handled = 0;
    for (nfds_t i = 0; i < n && handled < r; i++) {
        short rev = loop->pfd[i].revents;
        if (rev == 0)
            continue;
        handled++;
        size_t slot = loop->slot_of[i];
        if (slot >= loop->nh)
            continue;
        struct handler h = loop->h[slot];
        /* deleted, or deleted and its slot reused, by an earlier callback */
        if (!h.used || h.gen != loop->gen_of[i])
            continue;
        if (rev & POLLNVAL)
            continue; /* fd closed behind the loop's back: the owner will del it */
        h.cb(loop, h.fd, (uint32_t)(unsigned short)rev, h.data);
    }
    return handled;
}

static void timer_noop(struct shim_loop *l, int fd, uint32_t ev, void *d)
{
}

int shim_timer_new(struct shim_loop *loop, shim_loop_cb cb, void *data, struct shim_timer **ret,
                   oss_error *err)
{
    struct shim_timer *t = calloc(1, sizeof *t);
    if (t == NULL)
        return oss_err_errno(err, "allocating timer");
    t->loop = loop;
    t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (t->fd < 0) {
        oss_err_errno(err, "timerfd_create");
        free(t);
        return -1;
    }
    if (shim_loop_add(loop, t->fd, EPOLLIN, cb ? cb : timer_noop, data, err) < 0) {
        close(t->fd);
        free(t);
        return -1;
    }
    *ret = t;
    return 0;
}

void shim_timer_free(struct shim_loop *loop, struct shim_timer *t)
{
    if (t == NULL)
        return;
    shim_loop_del(loop, t->fd);
    close(t->fd);
    free(t);
}

static struct timespec ms_ts(int64_t ms)
{
    return (struct timespec){.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
}

int shim_timer_arm(struct shim_timer *t, int64_t after_ms, int64_t interval_ms)
{
    if (after_ms <= 0)
        after_ms = 1; /* 0 would disarm */
    struct itimerspec its = {.it_value = ms_ts(after_ms), .it_interval = ms_ts(interval_ms)};
    if (timerfd_settime(t->fd, 0, &its, NULL) < 0)
        return -1;
    t->armed = true;
    return 0;
}

void shim_timer_disarm(struct shim_timer *t)
{
    struct itimerspec its = {0};
    (void)timerfd_settime(t->fd, 0, &its, NULL);
    uint64_t junk;
    (void)!read(t->fd, &junk, sizeof junk); /* drop a pending expiration */
    t->armed = false;
}

bool shim_timer_armed(const struct shim_timer *t)
{
    return t->armed;
}

uint64_t shim_timer_consume(struct shim_timer *t)
{
    uint64_t n = 0;
    if (read(t->fd, &n, sizeof n) != (ssize_t)sizeof n)
        return 0;
    struct itimerspec cur;
    if (timerfd_gettime(t->fd, &cur) == 0 && cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0)
        t->armed = false;
    return n;
}
