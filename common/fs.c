#include "fs.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int oss_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int write_replace(const char *path, const void *data, size_t len, mode_t mode, bool durable,
                         oss_error *err)
{
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp)
        return oss_err(err, OSS_ERR_ERRNO, ENAMETOOLONG, "path too long: %s", path);

    _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        return oss_err_errno(err, "creating %s", tmp);
    if (oss_write_all(fd, data, len) < 0 || (durable && fsync(fd) < 0)) {
        oss_err_errno(err, "writing %s", tmp);
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) < 0) {
        oss_err_errno(err, "renaming %s to %s", tmp, path);
        unlink(tmp);
        return -1;
    }
    if (!durable)
        return 0;
    /* Make the rename itself durable; best effort, some filesystems refuse. */
    char dirbuf[PATH_MAX];
    snprintf(dirbuf, sizeof dirbuf, "%s", path);
    _cleanup_close_ int dfd = open(dirname(dirbuf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0)
        (void)fsync(dfd);
    return 0;
}

int oss_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                          oss_error *err)
{
    return write_replace(path, data, len, mode, true, err);
}

int oss_write_file_replace(const char *path, const void *data, size_t len, mode_t mode,
                           oss_error *err)
{
    return write_replace(path, data, len, mode, false, err);
}

int oss_read_file(const char *path, size_t max, oss_buf *out, oss_error *err)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return oss_err_errno(err, "opening %s", path);
    size_t total = 0;
    char chunk[4096];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return oss_err_errno(err, "reading %s", path);
        }
        if (n == 0)
            break;
        if (total + (size_t)n > max)
            return oss_err(err, OSS_ERR_ERRNO, E2BIG, "%s is larger than %zu bytes", path, max);
        oss_buf_put(out, chunk, (size_t)n);
        total += (size_t)n;
    }
    if (oss_buf_failed(out))
        return oss_err(err, OSS_ERR_ERRNO, ENOMEM, "reading %s: out of memory", path);
    return 0;
}

int oss_mkdir_p(const char *path, mode_t mode, oss_error *err)
{
    char p[PATH_MAX];
    if ((size_t)snprintf(p, sizeof p, "%s", path) >= sizeof p)
        return oss_err(err, OSS_ERR_ERRNO, ENAMETOOLONG, "path too long: %s", path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, mode) < 0 && errno != EEXIST)
            return oss_err_errno(err, "creating directory %s", p);
        *s = '/';
    }
    if (mkdir(p, mode) < 0 && errno != EEXIST)
        return oss_err_errno(err, "creating directory %s", p);
    return 0;
}
