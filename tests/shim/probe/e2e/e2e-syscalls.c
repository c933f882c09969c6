/* Test helper for the end-to-end probe tests: run as the workload, it makes
 * the calls the shim's fallback seccomp filter denies and some ordinary
 * work, and prints one `key=RESULT` line each (RESULT is OK or the errno's
 * name).  Arguments are chosen so the kernel (or gVisor) answers with
 * something other than EPERM when no filter is in the way (bubblewrap's
 * probing trick): a bogus pid gives ESRCH, a bad fd EBADF, a NULL attr
 * EFAULT.  The calls that change the process run in a forked child. */
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define BOGUS_PID 0x7ffffffe

static const char *res(long r)
{
    return r >= 0 ? "OK" : oss_errno_name(errno);
}

/* Runs one call in a child (unshare would change this process) and
 * returns its errno (0 for success) through the exit status. */
static const char *in_child(int (*fn)(void))
{
    pid_t pid = fork();
    if (pid < 0)
        return oss_errno_name(errno);
    if (pid == 0)
        _exit(fn() < 0 ? (errno & 0xff) : 0);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return oss_errno_name(errno);
    if (!WIFEXITED(st))
        return "CRASH";
    if (WEXITSTATUS(st) == 0)
        return "OK";
    return oss_errno_name(WEXITSTATUS(st));
}

static int do_unshare_user(void)
{
    return unshare(CLONE_NEWUSER);
}

static int work_file(void)
{
    char path[] = "/tmp/e2e-syscalls.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    unlink(path);
    char buf[6] = {0};
    int ok = write(fd, "hello", 5) == 5 && pread(fd, buf, 5, 0) == 5 && !strcmp(buf, "hello");
    close(fd);
    if (!ok)
        errno = EIO;
    return ok ? 0 : -1;
}

static int work_fork_exec(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        execl("/bin/true", "true", (char *)NULL);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        errno = ECHILD;
        return -1;
    }
    return 0;
}

static int work_socket(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int r = bind(fd, (struct sockaddr *)&a, sizeof a);
    if (r == 0)
        r = listen(fd, 1);
    int e = errno;
    close(fd);
    errno = e;
    return r;
}

int main(void)
{
    struct iovec iov = {.iov_base = &iov, .iov_len = 1};
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* workload list */
    printf("deny.ptrace=%s\n", res(ptrace(PTRACE_PEEKDATA, BOGUS_PID, NULL, NULL)));
    printf("deny.process_vm_readv=%s\n",
           res(syscall(SYS_process_vm_readv, BOGUS_PID, &iov, 1, &iov, 1, 0)));
    printf("deny.unshare_user=%s\n", in_child(do_unshare_user));
    printf("deny.execveat_empty=%s\n",
           res(syscall(SYS_execveat, -1, "", (char *[]){NULL}, (char *[]){NULL}, AT_EMPTY_PATH)));
    /* prelude list */
    printf("deny.bpf=%s\n", res(syscall(SYS_bpf, 5 /* BPF_PROG_LOAD */, NULL, 0)));
    printf("deny.perf_event_open=%s\n", res(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0)));
    printf("deny.umount2=%s\n", res(syscall(SYS_umount2, "/nonexistent-e2e", 0)));
    printf("deny.mount=%s\n", res(mount("none", "/nonexistent-e2e", "tmpfs", 0, NULL)));
    printf("deny.userfaultfd=%s\n", res(syscall(SYS_userfaultfd, -1)));
    /* ordinary work must go on */
    printf("work.file=%s\n", res(work_file()));
    printf("work.fork_exec=%s\n", res(work_fork_exec()));
    printf("work.socket=%s\n", res(work_socket()));
    printf("work.getpid=%s\n", res(getpid()));
    return 0;
}
