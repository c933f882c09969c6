/* The light probe runner: a child that shares the shim's memory.
 *
 * fork() is what the bootstrap probes cost under gVisor: the Sentry copies
 * the whole address space for it, 0.9-1.5 ms a fork measured here under
 * runsc's ptrace platform, against 0.07-0.1 ms for a child made with
 * CLONE_VM|CLONE_VFORK (docs/probes.md).  Probes whose body is a few
 * system calls (seccomp, Landlock, privilege drop) therefore run the way
 * posix_spawn runs its child: clone(CLONE_VM|CLONE_VFORK) on a stack of
 * their own, the shim suspended until the child is gone.  What the child
 * changes is still its own: credentials, NO_NEW_PRIVS, seccomp filters,
 * signal dispositions and the file table are per task (no CLONE_THREAD,
 * CLONE_SIGHAND or CLONE_FILES).  What it shares is memory, so the body
 * may only make system calls and write its result: no allocation, no
 * stdio, nothing that takes a libc lock.  libnl allocates, which is why the
 * netns probe keeps the forking runner (runner.c).
 *
 * The result and the stack live in one MAP_SHARED mapping rather than in
 * the shim's own memory: valgrind runs CLONE_VM|CLONE_VFORK as a plain
 * fork, and a shared mapping reaches the parent either way.  The result
 * sits above the stack; below it is a PROT_NONE guard page, so an overflow
 * kills the child (an ERROR) instead of writing into whatever the shim has
 * mapped there.
 *
 * The shim cannot watch a deadline while it is suspended, so the child
 * bounds itself: an ITIMER_REAL of the probe timeout, SIGALRM at its
 * default action.  Itimers belong to the thread group, and the child is a
 * thread group of its own.
 *
 * Under gVisor every system call and every first touch of a page costs
 * tens of microseconds, so a session (the bootstrap's three probes in a
 * row) maps the stack once and looks at the signal dispositions once. */
#include "probe.h"

#include "cleanup.h"
#include "util.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OSS_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define OSS_ASAN 1
#endif
#ifdef OSS_ASAN
#include <sanitizer/asan_interface.h>
#endif

#define LIGHT_STACK (128 * 1024)

/* The top of the shared mapping, above the stack. */
struct light_shared {
    struct shim_probe_result res;
    volatile int done; /* the body returned: res is the probe's answer */
};

struct light_call {
    shim_probe_fn fn;
    const void *arg;
    int64_t timeout_ms;
    struct light_shared *sh;
    const sigset_t *reset; /* dispositions the child sets back to SIG_DFL */
};

/* SIGALRM (the deadline) and the fault signals: a probe that faults (or
 * hits a seccomp kill: SIGSYS) must die of it, not run a handler of the
 * caller's (a test framework's, a sanitizer's) on memory it shares with
 * the caller. */
static const int light_sigs[] = {SIGALRM, SIGSEGV, SIGBUS, SIGILL,
                                 SIGFPE,  SIGABRT, SIGSYS, SIGTRAP};

void shim_probe_mark(struct shim_probe_result *res, enum shim_probe_status st, const char *step,
                     int e)
{
    res->status = st;
    size_t i = 0;
    for (; step && step[i] && i + 1 < sizeof res->step; i++)
        res->step[i] = step[i];
    res->step[i] = '\0';
    res->err = e;
    res->detail[0] = '\0';
}

static int light_child(void *p)
{
    const struct light_call *c = p;
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < OSS_ARRAY_SIZE(light_sigs); i++) {
        if (sigismember(c->reset, light_sigs[i]) == 1)
            signal(light_sigs[i], SIG_DFL);
        sigaddset(&set, light_sigs[i]);
    }
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    struct itimerval it = {.it_value = {.tv_sec = (time_t)(c->timeout_ms / 1000),
                                        .tv_usec = (suseconds_t)(c->timeout_ms % 1000) * 1000}};
    setitimer(ITIMER_REAL, &it, NULL);
    c->fn(c->arg, &c->sh->res);
    c->sh->done = 1;
    return 0; /* the clone wrapper calls exit(2) with it */
}

static void light_verdict(int st, bool done, int64_t timeout_ms, struct shim_probe_result *res)
{
    if (done && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        res->detail[sizeof res->detail - 1] = '\0';
        res->step[sizeof res->step - 1] = '\0';
        if (res->status > SHIM_PROBE_ERROR)
            shim_probe_set(res, SHIM_PROBE_ERROR, "child", 0, "probe child sent a bad status");
        return;
    }
    memset(res, 0, sizeof *res);
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)
        shim_probe_set(res, SHIM_PROBE_ERROR, "timeout", ETIMEDOUT,
                       "probe did not answer within %lld ms", (long long)timeout_ms);
    else if (WIFSIGNALED(st))
        shim_probe_set(res, SHIM_PROBE_ERROR, "child", 0, "probe child killed by signal %d",
                       WTERMSIG(st));
    else
        shim_probe_set(res, SHIM_PROBE_ERROR, "child", 0,
                       "probe child exited (status %d) without a result",
                       WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

int shim_probe_light_begin(struct shim_probe_light_session *ls, oss_error *err)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t top = ((sizeof(struct light_shared) + (size_t)page - 1) / (size_t)page) * (size_t)page;
    size_t len = (size_t)page + LIGHT_STACK + top;
    char *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED)
        return oss_err_errno(err, "probe stack");
    if (mprotect(map, (size_t)page, PROT_NONE) < 0) {
        int e = errno;
        munmap(map, len);
        return oss_err(err, OSS_ERR_ERRNO, e, "probe stack guard: %s", strerror(e));
    }
    *ls = (struct shim_probe_light_session){.map = map, .len = len, .guard = (size_t)page};
    /* Only what is not at its default needs a system call in each child:
     * usually nothing. */
    sigemptyset(&ls->reset);
    for (size_t i = 0; i < OSS_ARRAY_SIZE(light_sigs); i++) {
        struct sigaction sa;
        if (sigaction(light_sigs[i], NULL, &sa) < 0 || sa.sa_handler != SIG_DFL)
            sigaddset(&ls->reset, light_sigs[i]);
    }
    return 0;
}

void shim_probe_light_end(struct shim_probe_light_session *ls)
{
    if (ls->map == NULL)
        return;
#ifdef OSS_ASAN
    ASAN_UNPOISON_MEMORY_REGION(ls->map + ls->guard, LIGHT_STACK);
#endif
    munmap(ls->map, ls->len);
    ls->map = NULL;
}

int shim_probe_light_in(struct shim_probe_light_session *ls, shim_probe_fn fn, const void *arg,
                        int64_t timeout_ms, struct shim_probe_result *ret, oss_error *err)
{
    char *stack_top = ls->map + ls->guard + LIGHT_STACK;
    struct light_shared *sh = (struct light_shared *)stack_top;
    memset(sh, 0, sizeof *sh);
#ifdef OSS_ASAN
    /* A child killed mid-call leaves its frames' redzones poisoned. */
    ASAN_UNPOISON_MEMORY_REGION(ls->map + ls->guard, LIGHT_STACK);
#endif
    struct light_call call = {.fn = fn,
                              .arg = arg,
                              .timeout_ms = timeout_ms > 0 ? timeout_ms : 1,
                              .sh = sh,
                              .reset = &ls->reset};

    int64_t start = oss_mono_ns();
    pid_t pid = clone(light_child, stack_top, CLONE_VM | CLONE_VFORK | SIGCHLD, &call);
    if (pid < 0)
        return oss_err_errno(err, "probe clone");
    int st = 0;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) {
            st = -1;
            break;
        }
    }
    int64_t usec = (oss_mono_ns() - start) / 1000;

    struct shim_probe_result res = sh->res;
    light_verdict(st, sh->done != 0, call.timeout_ms, &res);
    res.usec = usec > 0 ? usec : 1;
    res.lingering = false;
    *ret = res;
    return 0;
}

int shim_probe_light(shim_probe_fn fn, const void *arg, int64_t timeout_ms,
                     struct shim_probe_result *ret, oss_error *err)
{
    struct shim_probe_light_session ls;
    if (shim_probe_light_begin(&ls, err) < 0)
        return -1;
    int r = shim_probe_light_in(&ls, fn, arg, timeout_ms, ret, err);
    shim_probe_light_end(&ls);
    return r;
}
