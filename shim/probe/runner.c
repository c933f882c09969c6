/* The probe runner: one forked child per probe, result back through a pipe
 * as a fixed struct, a deadline enforced with poll(), and a cleanup that
 * kills and reaps the child on every exit path (crun's cleanup_pid). */
#include "probe.h"

#include "cleanup.h"
#include "fs.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char *shim_probe_status_name(enum shim_probe_status s)
{
    switch (s) {
    case SHIM_PROBE_NOT_RUN:
        return "not_probed";
    case SHIM_PROBE_SUPPORTED:
        return "supported";
    case SHIM_PROBE_UNSUPPORTED:
        return "unsupported";
    case SHIM_PROBE_ERROR:
        return "error";
    }
    return "?";
}

void shim_probe_set(struct shim_probe_result *res, enum shim_probe_status st, const char *step,
                    int e, const char *fmt, ...)
{
    res->status = st;
    snprintf(res->step, sizeof res->step, "%s", step ? step : "");
    res->err = e;
    res->detail[0] = '\0';
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(res->detail, sizeof res->detail, fmt, ap);
        va_end(ap);
    }
}

/* Kills and reaps a probe child that is still ours when the scope ends. */
static void kill_reap_pidp(pid_t *pid)
{
    if (*pid <= 0)
        return;
    int saved = errno;
    kill(*pid, SIGKILL);
    while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
        ;
    errno = saved;
}
#define _cleanup_pid_ __attribute__((cleanup(kill_reap_pidp)))

/* A probe that faults (or hits a seccomp kill: SIGSYS) must die of it so
 * the parent can say so, whatever handlers or mask the shim inherited. */
static void reset_fault_signals(void)
{
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS, SIGTRAP};
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < OSS_ARRAY_SIZE(sigs); i++) {
        signal(sigs[i], SIG_DFL);
        sigaddset(&set, sigs[i]);
    }
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* Reads exactly n bytes before the deadline.  Returns 0, or -errno
 * (-ETIMEDOUT, -EPIPE when the child closed the pipe early). */
static int read_deadline(int fd, void *p, size_t n, int64_t deadline_ms)
{
    size_t got = 0;
    while (got < n) {
        int64_t left = deadline_ms - oss_mono_ms();
        if (left <= 0)
            return -ETIMEDOUT;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int r = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            continue; /* the loop re-checks the deadline */
        ssize_t k = read(fd, (char *)p + got, n - got);
        if (k < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -errno;
        }
        if (k == 0)
            return -EPIPE;
        got += (size_t)k;
    }
    return 0;
}

int shim_probe_isolated(shim_probe_fn fn, const void *arg, int64_t timeout_ms,
                        struct shim_probe_result *ret, oss_error *err)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return oss_err_errno(err, "probe pipe");
    _cleanup_close_ int rfd = fds[0];
    _cleanup_close_ int wfd = fds[1];

    int64_t start = oss_mono_ns();
    _cleanup_pid_ pid_t pid = fork();
    if (pid < 0)
        return oss_err_errno(err, "probe fork");
    if (pid == 0) {
        /* The child: a probe may leave seccomp filters, dropped ids or a
         * half-built namespace behind; all of it dies with this process. */
        struct shim_probe_result res;
        memset(&res, 0, sizeof res);
        close(rfd);
        reset_fault_signals();
        fn(arg, &res);
        _exit(oss_write_all(wfd, &res, sizeof res) < 0 ? 1 : 0);
    }
    close(TAKE_FD(wfd)); /* so a dead child gives EOF rather than a hang */

    struct shim_probe_result res;
    memset(&res, 0, sizeof res);
    int r = read_deadline(rfd, &res, sizeof res, oss_mono_ms() + timeout_ms);
    if (r == 0) {
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
        pid = 0;
    } else if (r == -ETIMEDOUT) {
        memset(&res, 0, sizeof res);
        shim_probe_set(&res, SHIM_PROBE_ERROR, "timeout", ETIMEDOUT,
                       "probe did not answer within %lld ms", (long long)timeout_ms);
    } else {
        /* Died before answering (crash, a seccomp kill...): say how. */
        int st = 0;
        pid_t w;
        while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
            ;
        pid = 0;
        memset(&res, 0, sizeof res);
        if (w > 0 && WIFSIGNALED(st))
            shim_probe_set(&res, SHIM_PROBE_ERROR, "child", 0, "probe child killed by signal %d",
                           WTERMSIG(st));
        else
            shim_probe_set(&res, SHIM_PROBE_ERROR, "child", -r,
                           "probe child exited (status %d) without a result",
                           w > 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
    res.detail[sizeof res.detail - 1] = '\0';
    res.step[sizeof res.step - 1] = '\0';
    if (res.status > SHIM_PROBE_ERROR)
        shim_probe_set(&res, SHIM_PROBE_ERROR, "child", 0, "probe child sent a bad status");
    res.usec = (oss_mono_ns() - start) / 1000;
    *ret = res;
    return 0;
}
