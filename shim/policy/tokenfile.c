/* Secret files: only on a tmpfs, so a secret never reaches a disk, a
 * checkpointed bind mount or an image layer. */
#include "tokenfile.h"

#include "cleanup.h"
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

int shim_secret_write(const char *dir, const char *path, const char *value, oss_error *err)
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
    /* The temporary name is in dir (0700, ours), so rename() stays on the
     * tmpfs and nobody else can create or swap it meanwhile. */
    _cleanup_free_ char *tmp = NULL;
    if (asprintf(&tmp, "%s/.secret.XXXXXX", dir) < 0)
        return oss_err(err, OSS_ERR_ERRNO, ENOMEM, "out of memory");
    _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return oss_err_errno(err, "create a file in %s", dir);
    if (fchmod(fd, 0400) < 0 || oss_write_all(fd, value, strlen(value)) < 0) {
        int e = errno;
        unlink(tmp);
        return oss_err(err, OSS_ERR_ERRNO, e, "write %s", path);
    }
    if (rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return oss_err(err, OSS_ERR_ERRNO, e, "rename into %s", path);
    }
    return 0;
}
