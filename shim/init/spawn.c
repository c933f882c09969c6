#include "spawn.h"
#include "cleanup.h"
#include "exitstatus.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

extern char **environ;

/* In the child between fork and exec: only async-signal-safe calls, report
 * errno over the pipe and _exit (never return into the shim's code). */
static void __attribute__((noreturn)) child_fail(int pipefd, int e, int code)
{
    (void)!write(pipefd, &e, sizeof e);
    _exit(code);
}

static int above_stderr(int fd)
{
    if (fd > STDERR_FILENO)
        return fd;
    int n = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
    int e = errno;
    close(fd);
    errno = e;
    return n;
}

int shim_stdin_pipe(int *ret_rd, int *ret_wr, oss_error *err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return oss_err_errno(err, "creating the child's stdin pipe");
    _cleanup_close_ int rd = above_stderr(p[0]);
    _cleanup_close_ int wr = above_stderr(p[1]);
    if (rd < 0 || wr < 0)
        return oss_err_errno(err, "moving the child's stdin pipe above fd 2");
    *ret_rd = TAKE_FD(rd);
    *ret_wr = TAKE_FD(wr);
    return 0;
}

int shim_spawn_child(const struct shim_spawn *sp, pid_t *ret_pid, int *ret_exec_errno,
                     oss_error *err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return oss_err_errno(err, "creating exec status pipe");
    _cleanup_close_ int rd = p[0];
    _cleanup_close_ int wr = p[1];

    pid_t pid = fork();
    if (pid < 0)
        return oss_err_errno(err, "fork");
    if (pid == 0) {
        close(rd);
        /* Own process group, so -g and the stop timeout can address the
         * whole tree the child builds without touching the shim; a helper
         * gets a session of its own (which makes a group too). */
        if ((sp->helper ? setsid() : setpgid(0, 0)) < 0)
            child_fail(wr, errno, SHIM_EXIT_NOT_EXEC);
        if (sp->helper) {
            for (int s = 1; s < NSIG; s++)
                signal(s, SIG_DFL);
            int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0 ||
                dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
                child_fail(wr, errno, SHIM_EXIT_NOT_EXEC);
        }
        if (sp->stdin_fd > STDERR_FILENO && dup2(sp->stdin_fd, STDIN_FILENO) < 0)
            child_fail(wr, errno, SHIM_EXIT_NOT_EXEC);
        if (sp->tty_foreground && isatty(STDIN_FILENO)) {
            /* tcsetpgrp from a background group raises SIGTTOU; it is
             * blocked here (the shim's mask), so the call just succeeds. */
            (void)tcsetpgrp(STDIN_FILENO, getpgrp());
        }
        /* An inherited SIGCHLD=SIG_IGN would make the supervisor's own
         * waitpid() fail with ECHILD; everything else stays as inherited. */
        struct sigaction dfl = {.sa_handler = SIG_DFL};
        sigaction(SIGCHLD, &dfl, NULL);
        if (sp->pre_exec) {
            int r = sp->pre_exec(sp->pre_exec_ctx);
            if (r < 0)
                child_fail(wr, -r, SHIM_EXIT_NOT_EXEC);
        }
        sigprocmask(SIG_SETMASK, sp->mask, NULL);
        execvpe(sp->argv[0], sp->argv, sp->envp ? sp->envp : environ);
        int e = errno;
        child_fail(wr, e, shim_exec_errno_code(e));
    }

    /* Set the group from the parent too: whichever runs first wins, and the
     * shim may signal -pid right after this returns.  Not for a helper: its
     * setsid() fails once it leads a group. */
    if (!sp->helper)
        (void)setpgid(pid, pid);
    close(TAKE_FD(wr));
    int child_errno = 0;
    ssize_t n;
    do
        n = read(rd, &child_errno, sizeof child_errno);
    while (n < 0 && errno == EINTR);
    *ret_pid = pid;
    *ret_exec_errno = n == (ssize_t)sizeof child_errno ? child_errno : 0;
    return 0;
}
