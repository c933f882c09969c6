/* Named network namespaces under the run dir, the way `ip netns` keeps
 * them: a file per namespace with the namespace's nsfs file bind-mounted on
 * it, in a directory that is a shared mount point so that the bind mounts
 * propagate into mount namespaces created later (and their removal too). */
#include "internal.h"

#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/socket.h>

static char run_dir[PATH_MAX] = NETNS_RUN_DIR;

void netns_set_run_dir(const char *dir)
{
    snprintf(run_dir, sizeof run_dir, "%s", dir ? dir : NETNS_RUN_DIR);
}

/* Names become path components: refuse anything that could walk out of the
 * run dir or collide with "." and "..". */
static int ns_path(const char *name, char *buf, size_t size, oss_error *err)
{
    if (name == NULL || name[0] == '\0' || strchr(name, '/') || strcmp(name, ".") == 0 ||
        strcmp(name, "..") == 0 || strlen(name) > NAME_MAX)
        return oss_err(err, OSS_ERR_INVALID, EINVAL, "invalid namespace name");
    int n = snprintf(buf, size, "%s/%s", run_dir, name);
    if (n < 0 || (size_t)n >= size)
        return oss_err(err, OSS_ERR_INVALID, ENAMETOOLONG, "namespace path too long");
    return 0;
}

/* iproute2's order: make the directory, try to make it shared; if it is not
 * a mount point yet (EINVAL), bind-mount it onto itself and try again. */
static int run_dir_prepare(oss_error *err)
{
    if (mkdir(run_dir, 0755) < 0 && errno != EEXIST)
        return oss_err_errno(err, "mkdir %s", run_dir);
    bool bound = false;
    for (;;) {
        /* gVisor (runsc 20221219) refuses MS_REC with EINVAL in both mounts
         * below; without it the result is the same for a directory that
         * holds nothing but namespace files. */
        if (mount("", run_dir, "none", MS_SHARED | MS_REC, NULL) == 0 ||
            (errno == EINVAL && mount("", run_dir, "none", MS_SHARED, NULL) == 0))
            return 0;
        if (errno != EINVAL || bound)
            return oss_err_errno(err, "making %s a shared mount", run_dir);
        if (mount(run_dir, run_dir, "none", MS_BIND | MS_REC, NULL) < 0 &&
            (errno != EINVAL || mount(run_dir, run_dir, "none", MS_BIND, NULL) < 0))
            return oss_err_errno(err, "bind-mounting %s onto itself", run_dir);
        bound = true;
    }
}

/* Something is mounted on path when its device differs from the run dir's.
 * lstat, not stat: gVisor's runsc (20221219) keeps a bind-mounted nsfs file
 * as a proc symlink that open() then refuses with ELOOP. */
static bool is_mounted(const char *path)
{
    struct stat dir, st;
    if (lstat(run_dir, &dir) < 0 || lstat(path, &st) < 0)
        return false;
    return st.st_dev != dir.st_dev;
}

bool netns_exists(const char *name)
{
    char path[PATH_MAX];
    if (ns_path(name, path, sizeof path, NULL) < 0)
        return false;
    return is_mounted(path);
}

/* The child: a new network namespace, bound onto path.  Only
 * async-signal-safe calls, since the caller may have threads. */
static _Noreturn void ns_child(const char *path, int report_fd)
{
    int e = 0;
    if (unshare(CLONE_NEWNET) < 0)
        e = errno;
    else if (mount("/proc/self/ns/net", path, "none", MS_BIND, NULL) < 0)
        e = errno + 1000; /* tell the parent which call failed */
    (void)!write(report_fd, &e, sizeof e);
    _exit(e ? 1 : 0);
}

int netns_ensure(const char *name, bool *ret_created, oss_error *err)
{
    char path[PATH_MAX];
    if (ns_path(name, path, sizeof path, err) < 0)
        return -1;
    int inj = netns__injected(NETNS_STEP_NS_CREATE);
    if (inj) {
        errno = inj;
        return oss_err_errno(err, "creating namespace %s (injected)", name);
    }
    if (run_dir_prepare(err) < 0)
        return -1;
    if (is_mounted(path)) {
        if (ret_created)
            *ret_created = false;
        return 0;
    }

    /* O_EXCL: a placeholder nobody mounted on is a stale leftover of a crash
     * or a concurrent creator; refuse rather than guess (netns_delete
     * removes it). */
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
    if (fd < 0)
        return oss_err_errno(err, "creating %s", path);

    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        oss_err_errno(err, "pipe");
        goto fail;
    }
    pid_t pid = fork();
    if (pid < 0) {
        oss_err_errno(err, "fork");
        close(pfd[0]);
        close(pfd[1]);
        goto fail;
    }
    if (pid == 0) {
        close(pfd[0]);
        ns_child(path, pfd[1]);
    }
    close(pfd[1]);
    int e = -1;
    ssize_t n = OSS_RETRY_EINTR(read(pfd[0], &e, sizeof e));
    close(pfd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (n != (ssize_t)sizeof e) {
        oss_err(err, OSS_ERR_ERRNO, ECHILD, "namespace helper died without a report");
        goto fail;
    }
    if (e >= 1000) {
        errno = e - 1000;
        oss_err_errno(err, "bind-mounting the new namespace onto %s", path);
        goto fail;
    }
    if (e != 0) {
        errno = e;
        oss_err_errno(err, "unshare(CLONE_NEWNET)");
        goto fail;
    }
    if (ret_created)
        *ret_created = true;
    return 0;

fail:
    unlink(path);
    return -1;
}

int netns_create(const char *name, oss_error *err)
{
    return netns_ensure(name, NULL, err);
}

int netns_open(const char *name, int *ret_fd, oss_error *err)
{
    char path[PATH_MAX];
    if (ns_path(name, path, sizeof path, err) < 0)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return oss_err_errno(err, "opening namespace %s", path);
    *ret_fd = fd;
    return 0;
}

int netns_delete(const char *name, oss_error *err)
{
    char path[PATH_MAX];
    if (ns_path(name, path, sizeof path, err) < 0)
        return -1;
    /* MNT_DETACH as `ip netns del`: a process still inside keeps the
     * namespace alive, the name goes away now. EINVAL = not mounted (a
     * stale placeholder), ENOENT = already gone. */
    if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
        return oss_err_errno(err, "unmounting %s", path);
    if (unlink(path) < 0 && errno != ENOENT)
        return oss_err_errno(err, "removing %s", path);
    return 0;
}

int netns__enter(int nsfd, int *ret_saved, oss_error *err)
{
    /* thread-self: setns() changes only the calling thread. */
    _cleanup_close_ int saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (saved < 0)
        return oss_err_errno(err, "opening the current network namespace");
    if (setns(nsfd, CLONE_NEWNET) < 0)
        return oss_err_errno(err, "setns into the target network namespace");
    *ret_saved = TAKE_FD(saved);
    return 0;
}

int netns__leave(int saved, oss_error *err)
{
    int r = setns(saved, CLONE_NEWNET);
    int e = errno;
    close(saved);
    if (r < 0) {
        errno = e;
        return oss_err_errno(err, "setns back into the original network namespace");
    }
    return 0;
}

int netns_nl_open(int nsfd, struct nl_sock **ret, oss_error *err)
{
    int inj = netns__injected(NETNS_STEP_NL_SOCKET);
    if (inj) {
        errno = inj;
        return oss_err_errno(err, "opening a route netlink socket (injected)");
    }
    struct nl_sock *sk = nl_socket_alloc();
    if (sk == NULL)
        return oss_err(err, OSS_ERR_ERRNO, ENOMEM, "nl_socket_alloc");
    /* gVisor answers with sequence numbers libnl does not expect. */
    nl_socket_disable_seq_check(sk);
    nl_socket_modify_err_cb(sk, NL_CB_CUSTOM, netns__ack_err_cb, NULL);

    int saved = -1;
    if (nsfd >= 0 && netns__enter(nsfd, &saved, err) < 0) {
        nl_socket_free(sk);
        return -1;
    }
    /* The socket belongs to the namespace it is created in, for good. */
    netns__nl_reset();
    int r = nl_connect(sk, NETLINK_ROUTE);
    if (r < 0)
        netns__nl_err(err, r, "connecting a route netlink socket");
    if (saved >= 0) {
        oss_error leave_err;
        if (netns__leave(saved, &leave_err) < 0) {
            /* Staying in the wrong namespace would be worse than failing. */
            nl_socket_free(sk);
            if (err)
                *err = leave_err;
            return -1;
        }
    }
    if (r < 0) {
        nl_socket_free(sk);
        return -1;
    }
    *ret = sk;
    return 0;
}

void netns_nl_close(struct nl_sock *sk)
{
    if (sk)
        nl_socket_free(sk);
}
