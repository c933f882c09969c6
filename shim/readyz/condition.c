#include "readyz/condition.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct shim_ready_cond {
    bool has_tcp;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char *file;
    bool cached;
    int64_t cached_at;
    const char *cached_reason;
};

int shim_ready_cond_new(const char *ready_tcp, const char *ready_file, struct shim_ready_cond **ret,
                        oss_error *err)
{
    _cleanup_free_ struct shim_ready_cond *c = calloc(1, sizeof *c);
    if (c == NULL)
        return oss_err_errno(err, "allocating ready condition");
    if (ready_tcp) {
        if (shim_hostport_parse(ready_tcp, &c->addr, &c->addrlen, err) < 0) {
            oss_err_prefix(err, "--ready-tcp");
            return -1;
        }
        c->has_tcp = true;
    }
    if (ready_file) {
        c->file = strdup(ready_file);
        if (c->file == NULL)
            return oss_err_errno(err, "allocating ready condition");
    }
    *ret = TAKE_PTR(c);
    return 0;
}

void shim_ready_cond_free(struct shim_ready_cond *c)
{
    if (c == NULL)
        return;
    free(c->file);
    free(c);
}

/* Closes with RST: a socket the shim closed first would sit in TIME_WAIT,
 * and runsc refuses to checkpoint while one exists (docs/platform/gvisor.md,
 * "Checkpoint and restore"). */
static void close_abortive(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

/* True when a TCP connect to addr succeeds within SHIM_READY_TCP_WAIT_MS.
 * The wait blocks the loop, but for at most a few ms per cache period. */
static bool tcp_accepts(const struct shim_ready_cond *c)
{
    int fd = socket(c->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    bool ok = false;
    if (connect(fd, (const struct sockaddr *)&c->addr, c->addrlen) == 0) {
        ok = true;
    } else if (errno == EINPROGRESS || errno == EINTR) {
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int n = (int)OSS_RETRY_EINTR(poll(&pfd, 1, SHIM_READY_TCP_WAIT_MS));
        if (n == 1) {
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            ok = getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0;
        }
    }
    close_abortive(fd);
    return ok;
}

static const char *evaluate(const struct shim_ready_cond *c)
{
    if (c->file) {
        struct stat st;
        if (stat(c->file, &st) == 0)
            return NULL;
        if (!c->has_tcp)
            return "waiting for ready file";
    }
    if (c->has_tcp)
        return tcp_accepts(c) ? NULL : "waiting for ready-tcp endpoint";
    return NULL;
}

const char *shim_ready_cond_check(struct shim_ready_cond *c, int64_t now_ms)
{
    if (c->cached && now_ms >= c->cached_at && now_ms - c->cached_at < SHIM_READY_CACHE_MS)
        return c->cached_reason;
    c->cached_reason = evaluate(c);
    c->cached_at = now_ms;
    c->cached = true;
    return c->cached_reason;
}

void shim_ready_cond_invalidate(struct shim_ready_cond *c)
{
    c->cached = false;
}
