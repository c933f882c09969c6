#include "loop.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

/* poll(), not epoll: an epoll registration is a waiter that stays on the
 * watched file for as long as it is registered, and gVisor's checkpoint
 * (Debian's runsc 20221219, measured) refuses to save a TCP endpoint that
 * has a waiter: "endpoint still has waiters upon save".  The shim's readyz
 * listener would make every sandbox with --readyz-port impossible to
 * checkpoint.  poll() waiters exist only during the call, and a task blocked
 * in poll() is interrupted for the save and restarted after it.  The loop
 * watches a few dozen fds at most, so the O(n) scan costs nothing.  The
 * EPOLL* event bits are the POLL* bits on Linux, so callers keep using them.
 *
 * Handlers are kept in a small table indexed by slot; each pollfd of a round
 * remembers its slot and the slot's generation so an event for an fd deleted
 * earlier in the same round (and perhaps reused) is recognised and dropped. */
struct handler {
    int fd;
    uint32_t gen;
    uint32_t events;
    shim_loop_cb cb;
    void *data;
    bool used;
};

struct shim_loop {
    struct handler *h;
    size_t nh;
    struct pollfd *pfd; /* per round, sized to nh */
    uint32_t *pgen;
    size_t npfd_cap;
};

_Static_assert(EPOLLIN == POLLIN && EPOLLOUT == POLLOUT && EPOLLERR == POLLERR &&
                   EPOLLHUP == POLLHUP && EPOLLRDHUP == POLLRDHUP && EPOLLPRI == POLLPRI,
               "epoll and poll event bits differ");

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
    free(loop->pfd);
    free(loop->pgen);
    free(loop->h);
    free(loop);
}

static int find_slot(struct shim_loop *l, int fd)
{
    for (size_t i = 0; i < l->nh; i++)
        if (l->h[i].used && l->h[i].fd == fd)
            return (int)i;
    return -1;
}

int shim_loop_add(struct shim_loop *loop, int fd, uint32_t events, shim_loop_cb cb, void *data,
                  oss_error *err)
{
    size_t slot = loop->nh;
    for (size_t i = 0; i < loop->nh; i++) {
        if (!loop->h[i].used) {
            slot = i;
            break;
        }
    }
    if (slot == loop->nh) {
        struct handler *nh = realloc(loop->h, (loop->nh + 1) * sizeof *nh);
        if (nh == NULL)
            return oss_err_errno(err, "allocating loop handler");
        loop->h = nh;
        memset(&loop->h[loop->nh], 0, sizeof *nh);
        loop->nh++;
    }
    if (fd < 0 || fcntl(fd, F_GETFD) < 0)
        return oss_err(err, OSS_ERR_ERRNO, EBADF, "adding fd %d to the loop: bad fd", fd);
    if (find_slot(loop, fd) >= 0)
        return oss_err(err, OSS_ERR_ERRNO, EEXIST, "fd %d is already in the loop", fd);
    struct handler *h = &loop->h[slot];
    uint32_t gen = h->gen + 1;
    *h = (struct handler){
        .fd = fd, .gen = gen, .events = events, .cb = cb, .data = data, .used = true};
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

int shim_loop_run_once(struct shim_loop *loop, int timeout_ms, oss_error *err)
{
    if (loop->npfd_cap < loop->nh) {
        struct pollfd *p = realloc(loop->pfd, loop->nh * sizeof *p);
        if (p == NULL)
            return oss_err_errno(err, "allocating poll set");
        loop->pfd = p;
        uint32_t *g = realloc(loop->pgen, loop->nh * sizeof *g);
        if (g == NULL)
            return oss_err_errno(err, "allocating poll set");
        loop->pgen = g;
        loop->npfd_cap = loop->nh;
    }
    /* pollfd i <-> slot i; unused slots get fd -1, which poll() skips */
    size_t n = loop->nh;
    for (size_t i = 0; i < n; i++) {
        const struct handler *h = &loop->h[i];
        loop->pfd[i] =
            (struct pollfd){.fd = h->used ? h->fd : -1, .events = (short)(h->used ? h->events : 0)};
        loop->pgen[i] = h->gen;
    }
    int r = poll(loop->pfd, n, timeout_ms);
    if (r < 0) {
        if (errno == EINTR)
            return 0;
        return oss_err_errno(err, "poll");
    }
    int handled = 0;
    for (size_t i = 0; i < n && r > 0; i++) {
        short rev = loop->pfd[i].revents;
        if (rev == 0)
            continue;
        struct handler h = loop->h[i];
        if (!h.used || h.gen != loop->pgen[i])
            continue; /* deleted (or replaced) by an earlier handler this round */
        if (rev & POLLNVAL)
            rev = POLLERR; /* closed without shim_loop_del: let the owner see an error */
        h.cb(loop, h.fd, (uint32_t)(unsigned short)rev, h.data);
        handled++;
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

int shim_timer_fd(const struct shim_timer *t)
{
    return t->fd;
}
