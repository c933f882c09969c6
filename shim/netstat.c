/* `openshell-shim netstat`: prints the sandbox's /proc/net/tcp and
 * /proc/net/tcp6 unchanged.  The local runsc backend runs it with
 * `runsc exec` before a checkpoint: Debian's runsc cannot save a TCP
 * connection over the sandbox's NIC and ends the sandbox when it tries, so
 * the driver looks first (driver/runsc/tcpconn.c decides; this only reads,
 * because the shim is the one binary every sandbox is sure to have). */
#include "netstat.h"

#include "cleanup.h"
#include "fs.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static int copy(const char *path)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1; /* no IPv6: nothing to list */
    char buf[8192];
    for (;;) {
        ssize_t n = OSS_RETRY_EINTR(read(fd, buf, sizeof buf));
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        if (oss_write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
            return -1;
    }
}

int shim_netstat_main(void)
{
    if (copy("/proc/net/tcp") < 0 || copy("/proc/net/tcp6") < 0)
        return 1;
    return 0;
}
