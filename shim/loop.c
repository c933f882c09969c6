#include "loop.h"
#include "cleanup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

/* Handlers are kept in a small table indexed by slot; epoll's data carries
 * the slot and a generation so an event for an fd deleted earlier in the same
 * round (and perhaps reused) is recognised and dropped. */
struct handler {
    int fd;
    uint32_t gen;
    shim_loop_cb cb;
    void *data;
    bool used;
};

struct shim_loop {
    int epfd;
    struct handler *h;
    size_t nh;
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
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        oss_err_errno(err, "epoll_create1");
        free(l);
        return -1;
    }
    *ret = l;
    return 0;
}

void shim_loop_free(struct shim_loop *loop)
{
    if (loop == NULL)
        return;
    close(loop->epfd);
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
    struct handler *h = &loop->h[slot];
    uint32_t gen = h->gen + 1;
    struct epoll_event ev = {.events = events, .data.u64 = ((uint64_t)gen << 32) | slot};
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return oss_err_errno(err, "epoll_ctl(ADD, fd %d)", fd);
    *h = (struct handler){.fd = fd, .gen = gen, .cb = cb, .data = data, .used = true};
    return 0;
}

int shim_loop_mod(struct shim_loop *loop, int fd, uint32_t events, oss_error *err)
{
    int slot = find_slot(loop, fd);
    if (slot < 0)
        return oss_err(err, OSS_ERR_ERRNO, ENOENT, "fd %d is not in the loop", fd);
    struct epoll_event ev = {.events = events,
                             .data.u64 = ((uint64_t)loop->h[slot].gen << 32) | (uint32_t)slot};
    if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
        return oss_err_errno(err, "epoll_ctl(MOD, fd %d)", fd);
    return 0;
}

void shim_loop_del(struct shim_loop *loop, int fd)
{
    int slot = find_slot(loop, fd);
    if (slot < 0)
        return;
    (void)epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
    loop->h[slot].used = false;
    loop->h[slot].fd = -1;
}

int shim_loop_run_once(struct shim_loop *loop, int timeout_ms, oss_error *err)
{
    struct epoll_event evs[32];
    int n = epoll_wait(loop->epfd, evs, (int)OSS_ARRAY_SIZE(evs), timeout_ms);
    if (n < 0) {
        if (errno == EINTR)
            return 0;
        return oss_err_errno(err, "epoll_wait");
    }
    for (int i = 0; i < n; i++) {
        uint32_t slot = (uint32_t)evs[i].data.u64;
        uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
        if (slot >= loop->nh)
            continue;
        struct handler h = loop->h[slot];
        if (!h.used || h.gen != gen)
            continue; /* deleted (or replaced) by an earlier handler this round */
        h.cb(loop, h.fd, evs[i].events, h.data);
    }
    return n;
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
