/* The token file: only on a tmpfs, so the secret never reaches a disk, a
 * checkpointed bind mount or an image layer. */
#include "tokenfile.h"

#include "cleanup.h"
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

int shim_token_write(const char *dir, const char *path, const char *value, oss_error *err)
{
    if (oss_mkdir_p(dir, 0700, err) < 0)
        return -1;
    struct stat st;
    if (lstat(dir, &st) < 0)
        return oss_err_errno(err, "lstat %s", dir);
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid())
        return oss_err(err, OSS_ERR_INVALID, EPERM, "%s is not a directory of ours", dir);
    if (chmod(dir, 0700) < 0)
        return oss_err_errno(err, "chmod %s", dir);
    struct statfs fs;
    if (statfs(dir, &fs) < 0)
        return oss_err_errno(err, "statfs %s", dir);
    if (fs.f_type != TMPFS_MAGIC)
        return oss_err(err, OSS_ERR_INVALID, EXDEV, "%s is not on a tmpfs", dir);
    if (unlink(path) < 0 && errno != ENOENT)
        return oss_err_errno(err, "unlink %s", path);
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0400);
    if (fd < 0)
        return oss_err_errno(err, "create %s", path);
    if (oss_write_all(fd, value, strlen(value)) < 0) {
        int e = errno;
        unlink(path);
        return oss_err(err, OSS_ERR_ERRNO, e, "write %s", path);
    }
    return 0;
}
