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
#include <time.h>
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

/* In a probe child: the answer pipe, until the answer is sent. */
static int child_wfd = -1;
static bool child_answered;
static int64_t child_start_ns;
static int64_t child_timeout_ms;

int shim_probe_answer_early(struct shim_probe_result *res)
{
    if (child_wfd < 0 || child_answered)
        return -1;
    res->lingering = true;
    res->usec = (oss_mono_ns() - child_start_ns) / 1000;
    if (oss_write_all(child_wfd, res, sizeof *res) < 0) {
        res->lingering = false;
        return -1;
    }
    child_answered = true;
    close(child_wfd);
    child_wfd = -1;
    /* The rest is bounded too: nobody waits for this child any more before
     * it exits, so a hung cleanup must end itself (the shim's blocked mask
     * was inherited: unblock SIGALRM).  The parent sees the signal and
     * cleans up after it. */
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    signal(SIGALRM, SIG_DFL);
    sigprocmask(SIG_UNBLOCK, &alrm, NULL);
    alarm((unsigned)((child_timeout_ms + 999) / 1000));
    return 0;
}

int shim_probe_start(shim_probe_fn fn, const void *arg, int64_t timeout_ms,
                     struct shim_probe_child *ret, oss_error *err)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return oss_err_errno(err, "probe pipe");
    _cleanup_close_ int rfd = fds[0];
    _cleanup_close_ int wfd = fds[1];

    int64_t start = oss_mono_ns();
    pid_t pid = fork();
    if (pid < 0)
        return oss_err_errno(err, "probe fork");
    if (pid == 0) {
        /* The child: a probe may leave seccomp filters, dropped ids or a
         * half-built namespace behind; all of it dies with this process. */
        struct shim_probe_result res;
        memset(&res, 0, sizeof res);
        close(rfd);
        reset_fault_signals();
        child_wfd = wfd;
        child_answered = false;
        child_start_ns = start;
        child_timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
        fn(arg, &res);
        if (child_answered)
            _exit(0);
        res.usec = (oss_mono_ns() - start) / 1000;
        _exit(oss_write_all(wfd, &res, sizeof res) < 0 ? 1 : 0);
    }
    close(TAKE_FD(wfd)); /* so a dead child gives EOF rather than a hang */
    *ret = (struct shim_probe_child){
        .pid = pid, .rfd = TAKE_FD(rfd), .start_ns = start, .timeout_ms = timeout_ms};
    return 0;
}

static void reap(pid_t pid, int *ret_status)
{
    int st = 0;
    pid_t w;
    while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
        ;
    if (ret_status)
        *ret_status = w > 0 ? st : -1;
}

void shim_probe_abandon(struct shim_probe_child *c)
{
    if (c->pid > 0) {
        kill(c->pid, SIGKILL);
        reap(c->pid, NULL);
    }
    c->pid = 0;
    if (c->rfd >= 0)
        close(c->rfd);
    c->rfd = -1;
}

void shim_probe_collect(struct shim_probe_child *c, struct shim_probe_result *ret,
                        pid_t *ret_lingering)
{
    struct shim_probe_result res;
    memset(&res, 0, sizeof res);
    pid_t lingering = 0;
    int r = read_deadline(c->rfd, &res, sizeof res, c->start_ns / 1000000 + c->timeout_ms);
    close(c->rfd);
    c->rfd = -1;
    if (r == 0 && res.lingering) {
        lingering = c->pid; /* still cleaning up: the caller reaps it */
    } else if (r == 0) {
        reap(c->pid, NULL);
    } else if (r == -ETIMEDOUT) {
        kill(c->pid, SIGKILL);
        reap(c->pid, NULL);
        memset(&res, 0, sizeof res);
        shim_probe_set(&res, SHIM_PROBE_ERROR, "timeout", ETIMEDOUT,
                       "probe did not answer within %lld ms", (long long)c->timeout_ms);
    } else {
        /* Died before answering (crash, a seccomp kill...): say how. */
        int st;
        reap(c->pid, &st);
        memset(&res, 0, sizeof res);
        if (st != -1 && WIFSIGNALED(st))
            shim_probe_set(&res, SHIM_PROBE_ERROR, "child", 0, "probe child killed by signal %d",
                           WTERMSIG(st));
        else
            shim_probe_set(&res, SHIM_PROBE_ERROR, "child", -r,
                           "probe child exited (status %d) without a result",
                           st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
    c->pid = 0;
    res.detail[sizeof res.detail - 1] = '\0';
    res.step[sizeof res.step - 1] = '\0';
    if (res.status > SHIM_PROBE_ERROR)
        shim_probe_set(&res, SHIM_PROBE_ERROR, "child", 0, "probe child sent a bad status");
    /* The child's own fork-to-answer time (the monotonic clock is shared):
     * collected in a fixed order, a fast probe would otherwise be charged
     * for the slow one before it. */
    if (r != 0 || res.usec <= 0)
        res.usec = (oss_mono_ns() - c->start_ns) / 1000;
    *ret = res;
    *ret_lingering = lingering;
}

int shim_probe_reap(pid_t pid, int64_t timeout_ms)
{
    if (pid <= 0)
        return -1;
    int64_t deadline = oss_mono_ms() + timeout_ms;
    for (;;) {
        int st;
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid)
            return st;
        if (w < 0 && errno != EINTR)
            return -1; /* not our child (any more) */
        if (w == 0 && oss_mono_ms() >= deadline) {
            kill(pid, SIGKILL);
            reap(pid, NULL);
            return -1;
        }
        if (w == 0) /* a rare, bounded wait (doctor's exit, refusal): no pidfd in old gVisor */
            nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
}

int shim_probe_isolated(shim_probe_fn fn, const void *arg, int64_t timeout_ms,
                        struct shim_probe_result *ret, oss_error *err)
{
    struct shim_probe_child c;
    if (shim_probe_start(fn, arg, timeout_ms, &c, err) < 0)
        return -1;
    pid_t lingering;
    shim_probe_collect(&c, ret, &lingering);
    /* Nothing outlives this call: wait for the rest of an early answer. */
    if (lingering > 0 && shim_probe_reap(lingering, timeout_ms) != 0)
        ret->lingering = true; /* the rest failed or timed out: callers clean up */
    else
        ret->lingering = false;
    return 0;
}
