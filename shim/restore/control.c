#include "restore/control.h"
#include "restore/restore.h"
#include "net/connsrv.h"
#include "cleanup.h"
#include "fs.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct shim_control {
    struct shim_restore *restore;
    void (*status_json)(void *ctx, oss_buf *out);
    void *ctx;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct shim_connsrv *srv;
};

/* Per connection, kept by the connection server. */
struct cconn {
    bool refused; /* SO_PEERCRED said no: answer "error permission denied" */
    size_t len;
    char in[SHIM_CONTROL_LINE_MAX];
};

static const struct shim_connsrv_limits control_limits = {
    .max_conns = SHIM_CONTROL_MAX_CONNS,
    .accept_batch = SHIM_CONTROL_MAX_CONNS / 2,
    .head_timeout_ms = SHIM_CONTROL_TIMEOUT_MS,
    .conn_timeout_ms = SHIM_CONTROL_TIMEOUT_MS,
    .sweep_ms = 500,
    .wait_fin = false, /* Unix sockets have no TIME_WAIT: closing first is fine */
};

static void reply(struct shim_control *s, struct cconn *c, enum shim_control_cmd cmd, int parsed,
                  oss_buf *out)
{
    if (c->refused) {
        oss_buf_puts(out, "error permission denied\n");
    } else if (parsed < 0) {
        oss_buf_puts(out, "error malformed request\n");
    } else if (cmd == SHIM_CTL_RESTORE) {
        unsigned gen = shim_restore_trigger(s->restore, "notify");
        oss_buf_printf(out, "ok generation=%u\n", gen);
    } else if (cmd == SHIM_CTL_STATUS) {
        if (s->status_json)
            s->status_json(s->ctx, out);
        if (out->len == 0)
            oss_buf_puts(out, "{}");
        oss_buf_putc(out, '\n');
    } else {
        oss_buf_puts(out, "error unknown command\n");
    }
}

static bool peer_allowed(int fd)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
        return false;
    return cred.uid == 0 || cred.uid == geteuid();
}

/* A refused peer still gets its line read before the answer: closing with
 * unread data would reset the connection and lose the reason. */
static void control_accepted(void *ctx, int fd, void *state)
{
    struct cconn *c = state;
    c->refused = !peer_allowed(fd);
}

static bool control_feed(void *ctx, void *state, const char *data, size_t n, oss_buf *out)
{
    struct cconn *c = state;
    size_t room = sizeof c->in - c->len;
    size_t take = n < room ? n : room;
    memcpy(c->in + c->len, data, take);
    c->len += take;
    enum shim_control_cmd cmd = SHIM_CTL_UNKNOWN;
    int rc = shim_control_parse(c->in, c->len, &cmd);
    if (rc == 0 && take < n)
        rc = -1; /* more than a line can hold */
    if (rc == 0)
        return false;
    reply(ctx, c, cmd, rc, out);
    return true;
}

static const struct shim_connsrv_proto control_proto = {
    .state_size = sizeof(struct cconn),
    .accepted = control_accepted,
    .feed = control_feed,
};

static int sock_path(const char *state_dir, char *out, size_t size, oss_error *err)
{
    if ((size_t)snprintf(out, size, "%s/%s", state_dir, SHIM_CONTROL_SOCK) >= size)
        return oss_err(err, OSS_ERR_INVALID, ENAMETOOLONG,
                       "state dir %s is too long for a socket path", state_dir);
    return 0;
}

/* The directory is the first barrier: ours, a real directory, 0700. */
static int private_dir(const char *dir, oss_error *err)
{
    if (oss_mkdir_p(dir, 0700, err) < 0)
        return -1;
    struct stat st;
    if (lstat(dir, &st) < 0)
        return oss_err_errno(err, "stat %s", dir);
    if (!S_ISDIR(st.st_mode))
        return oss_err(err, OSS_ERR_INVALID, ENOTDIR, "%s is not a directory", dir);
    if (st.st_uid != geteuid())
        return oss_err(err, OSS_ERR_INVALID, EPERM, "%s belongs to uid %u, not to us", dir,
                       (unsigned)st.st_uid);
    if ((st.st_mode & 07777) != 0700 && chmod(dir, 0700) < 0)
        return oss_err_errno(err, "chmod 0700 %s", dir);
    return 0;
}

int shim_control_start(struct shim_loop *loop, const char *state_dir, struct shim_restore *restore,
                       void (*status_json)(void *ctx, oss_buf *out), void *ctx,
                       struct shim_control **ret, oss_error *err)
{
    _cleanup_close_ int fd = -1;
    _cleanup_free_ struct shim_control *s = calloc(1, sizeof *s);
    if (s == NULL)
        return oss_err_errno(err, "allocating control socket");
    if (sock_path(state_dir, s->path, sizeof s->path, err) < 0 || private_dir(state_dir, err) < 0)
        goto fail;

    /* A socket left by an earlier shim (this is PID 1: there is no other
     * live one) is replaced; anything else at that path is not ours. */
    struct stat st;
    if (lstat(s->path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            oss_err(err, OSS_ERR_INVALID, EEXIST, "%s exists and is not a socket", s->path);
            goto fail;
        }
        if (unlink(s->path) < 0) {
            oss_err_errno(err, "removing stale %s", s->path);
            goto fail;
        }
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        oss_err_errno(err, "socket(AF_UNIX)");
        goto fail;
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, s->path, strlen(s->path) + 1);
    /* umask makes the socket 0600 from birth; the chmod is belt and braces. */
    mode_t old = umask(0177);
    int brc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (brc < 0) {
        oss_err_errno(err, "binding %s", s->path);
        goto fail;
    }
    if (chmod(s->path, 0600) < 0 || listen(fd, SHIM_CONTROL_MAX_CONNS) < 0) {
        oss_err_errno(err, "setting up %s", s->path);
        unlink(s->path);
        goto fail;
    }
    s->restore = restore;
    s->status_json = status_json;
    s->ctx = ctx;
    if (shim_connsrv_start(loop, TAKE_FD(fd), &control_limits, &control_proto, s, &s->srv, err) <
        0) {
        unlink(s->path);
        goto fail;
    }
    *ret = TAKE_PTR(s);
    return 0;
fail:
    oss_err_prefix(err, "control socket");
    return -1;
}

void shim_control_stop(struct shim_control *s)
{
    if (s == NULL)
        return;
    shim_connsrv_stop(s->srv);
    unlink(s->path);
    free(s);
}

int shim_notify_main(const struct shim_config *cfg)
{
    const char *what = cfg->notify_what ? cfg->notify_what : "restore";
    if (strcmp(what, "restore") != 0 && strcmp(what, "status") != 0) {
        log_error("notify: unknown event '%s' (expected 'restore' or 'status')", what);
        return SHIM_EXIT_USAGE;
    }
    const char *dir = cfg->state_dir ? cfg->state_dir : "/run/openshell";
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    oss_error err = {0};
    if (sock_path(dir, path, sizeof path, &err) < 0) {
        log_error("notify: %s", err.msg);
        return SHIM_EXIT_USAGE;
    }
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        log_error("notify: socket: %s", strerror(errno));
        return 1;
    }
    struct timeval tv = {.tv_sec = 5};
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, path, strlen(path) + 1);
    if (OSS_RETRY_EINTR(connect(fd, (struct sockaddr *)&sa, sizeof sa)) < 0) {
        if (errno == ENOENT || errno == ECONNREFUSED) {
            log_error("notify: openshell-shim is not running (no control socket at %s)", path);
            return 2;
        }
        log_error("notify: connecting to %s: %s%s", path, strerror(errno),
                  errno == EACCES ? " (the control socket is root-only)" : "");
        return 1;
    }
    char line[16];
    int ll = snprintf(line, sizeof line, "%s\n", what);
    /* EPIPE means the shim closed early; an answer may still be waiting. */
    if (OSS_RETRY_EINTR(send(fd, line, (size_t)ll, MSG_NOSIGNAL)) < 0 && errno != EPIPE) {
        log_error("notify: writing to %s: %s", path, strerror(errno));
        return 1;
    }
    _cleanup_buf_ oss_buf b = OSS_BUF_INIT;
    char chunk[4096];
    for (;;) {
        ssize_t n = OSS_RETRY_EINTR(read(fd, chunk, sizeof chunk));
        if (n < 0) {
            log_error("notify: reading reply from %s: %s", path, strerror(errno));
            return 1;
        }
        if (n == 0 || b.len > (1u << 20))
            break;
        oss_buf_put(&b, chunk, (size_t)n);
    }
    if (b.len == 0) {
        log_error("notify: no reply from %s", path);
        return 1;
    }
    if (strncmp(b.data, "error", 5) == 0) {
        log_error("notify: the shim refused: %.*s", (int)strcspn(b.data, "\n"), b.data);
        return 1;
    }
    (void)oss_write_all(STDOUT_FILENO, b.data, b.len);
    return 0;
}
