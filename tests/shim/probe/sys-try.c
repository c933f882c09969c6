/* Test helper: calls syscalls with arguments the kernel itself rejects with
 * a known errno, and prints which errno came back, so a test can tell "the
 * seccomp filter denied it" (EPERM/ENOSYS) from "the kernel ran it"
 * (bubblewrap's probing trick).  Usage: sys-try NAME...; prints NAME=ERRNO. */
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

static int try(const char *n)
{
    errno = 0;
    long r = -1;
    if (!strcmp(n, "umount2")) /* kernel: ENOENT (prelude list) */
        r = syscall(SYS_umount2, "/nonexistent-osp-test", 0);
    else if (!strcmp(n, "ptrace")) /* kernel: ESRCH (workload list) */
        r = syscall(SYS_ptrace, PTRACE_PEEKDATA, 0x7ffffffe, 0, 0);
    else if (!strcmp(n, "unshare-user")) /* kernel: EINVAL thanks to the bogus bit 0x1 */
        r = syscall(SYS_unshare, CLONE_NEWUSER | 0x1);
    else if (!strcmp(n, "unshare-plain")) /* not in any list: EINVAL from the kernel */
        r = syscall(SYS_unshare, 0x1);
    else if (!strcmp(n, "execveat-empty")) /* kernel: EBADF */
        r = syscall(SYS_execveat, -1, "", NULL, NULL, AT_EMPTY_PATH);
    else if (!strcmp(n, "getpid"))
        r = syscall(SYS_getpid);
    else
        return -1;
    printf("%s=%s\n", n, r >= 0 ? "OK" : oss_errno_name(errno));
    return 0;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (try(argv[i]) < 0) {
            fprintf(stderr, "sys-try: unknown %s\n", argv[i]);
            return 2;
        }
    return 0;
}
