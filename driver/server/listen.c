#include "listen.h"

#include "cleanup.h"
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

bool drv_peer_uid_allowed(uid_t peer, uid_t self)
{
    return peer == self || peer == 0;
}

int drv_peer_uid(int fd, uid_t *ret_uid, pid_t *ret_pid, oss_error *err)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
        return oss_err_errno(err, "SO_PEERCRED");
    *ret_uid = cred.uid;
    if (ret_pid != NULL)
        *ret_pid = cred.pid;
    return 0;
}

static int fill_addr(const char *path, struct sockaddr_un *sa, oss_error *err)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa->sun_path)
        return oss_err(err, OSS_ERR_INVALID, ENAMETOOLONG, "socket path %s is too long", path);
    strcpy(sa->sun_path, path);
    return 0;
}

/* A socket file exists: is a driver answering on it? */
static int check_stale(const char *path, const struct sockaddr_un *sa, oss_error *err)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        return oss_err_errno(err, "stat %s", path);
    }
    if (!S_ISSOCK(st.st_mode))
        return oss_err(err, OSS_ERR_ERRNO, EEXIST,
                       "%s exists and is not a socket: refusing to replace it", path);
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return oss_err_errno(err, "socket");
    if (OSS_RETRY_EINTR(connect(fd, (const struct sockaddr *)sa, sizeof *sa)) == 0)
        return oss_err(err, OSS_ERR_ERRNO, EADDRINUSE,
                       "another process is serving on %s: stop it first", path);
    if (errno != ECONNREFUSED && errno != ENOENT)
        return oss_err_errno(err, "probing %s", path);
    /* nobody listens: a leftover from a driver that died */
    if (unlink(path) < 0 && errno != ENOENT)
        return oss_err_errno(err, "removing stale socket %s", path);
    return 0;
}

int drv_listen_open(const char *path, int *ret_fd, oss_error *err)
{
    struct sockaddr_un sa;
    if (fill_addr(path, &sa, err) < 0)
        return -1;

    _cleanup_free_ char *dcopy = strdup(path);
    if (dcopy == NULL)
        return oss_err_errno(err, "strdup");
    const char *dir = dirname(dcopy);
    struct stat st;
    if (stat(dir, &st) < 0) {
        if (errno != ENOENT)
            return oss_err_errno(err, "stat %s", dir);
        if (oss_mkdir_p(dir, 0700, err) < 0)
            return -1;
    } else if (!S_ISDIR(st.st_mode)) {
        return oss_err(err, OSS_ERR_ERRNO, ENOTDIR, "%s is not a directory", dir);
    } else if (st.st_uid == geteuid() && (st.st_mode & 0077) != 0) {
        /* Ours but open to others: tighten it, since anyone who can write
         * there could swap the socket under the gateway. */
        if (chmod(dir, 0700) < 0)
            return oss_err_errno(err, "chmod 0700 %s", dir);
    } else if (st.st_uid != geteuid() && (st.st_mode & 0022) != 0 && !(st.st_mode & S_ISVTX)) {
        return oss_err(err, OSS_ERR_ERRNO, EPERM,
                       "%s is writable by others and not ours: pick a private directory", dir);
    }

    if (check_stale(path, &sa, err) < 0)
        return -1;

    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return oss_err_errno(err, "socket");
    /* umask closes the window between bind() and chmod() */
    mode_t old = umask(0177);
    int r = bind(fd, (const struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (r < 0)
        return oss_err_errno(err, "bind %s", path);
    if (chmod(path, 0600) < 0)
        return oss_err_errno(err, "chmod 0600 %s", path);
    if (listen(fd, 64) < 0)
        return oss_err_errno(err, "listen %s", path);
    *ret_fd = TAKE_FD(fd);
    return 0;
}
