/* oss-sigdump: report the signal state this process was started with, then
 * (optionally) record every signal it receives.  Proves that an init restores
 * the mask and dispositions before exec and forwards signals to its child and,
 * with -g, to the child's process group.
 *
 *   oss-sigdump [--out FILE] [--wait] [--exit-on SIGNAL:CODE]...
 *               [--fork-grandchild] [--timeout SECS]
 *
 * Start state, one key=value per line (to FILE, appended, or stdout):
 *   role=main pid= ppid= pgid= sid=
 *   SigBlk= SigIgn= SigCgt= SigPnd=   16 hex digits, bit N-1 = signal N, the
 *                                      format of /proc/self/status.  Read with
 *                                      syscalls, because gVisor's status file
 *                                      has no Sig* lines.
 *   NoNewPrivs=0|1 Seccomp=0|1|2       prctl(PR_GET_NO_NEW_PRIVS/PR_GET_SECCOMP)
 *   ready role=main pid=P pgid=G       all set up, signals are being recorded
 * With --wait it blocks every catchable signal, waits in sigtimedwait() and
 * appends, per signal received:
 *   signal=NAME pid=P pgid=G role=main|grandchild sender=PID
 * and exits with CODE when the signal matches --exit-on (else keeps waiting).
 * With --fork-grandchild a child in the same process group does the same with
 * its own pid (it is the grandchild of whoever started oss-sigdump) and writes
 * `ready role=grandchild ...` before the main process writes its ready line.
 * SIGCHLD from the grandchild's exit is reaped, not recorded; a SIGCHLD sent
 * with kill() is recorded (an init must not forward SIGCHLD).
 * --timeout (default 600 s, 0 = none) bounds the wait: exit 124 with
 * `timeout=1 pid=P`.  Exit 125 on bad usage. */
#include "helper.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_EXIT_ON 16

struct exit_on {
    int sig;
    int code;
};

static struct {
    int fd;
    bool wait;
    bool grandchild;
    long timeout_s;
    size_t n_exit_on;
    struct exit_on exit_on[MAX_EXIT_ON];
} opt = {.fd = STDOUT_FILENO, .timeout_s = 600};

static void usage(FILE *f)
{
    fprintf(f, "usage: oss-sigdump [--out FILE] [--wait] [--exit-on SIGNAL:CODE]...\n"
               "                   [--fork-grandchild] [--timeout SECS]\n");
}

/* One write() per record: O_APPEND makes records from the main process and
 * the grandchild interleave whole. */
static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emit(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line)
        n = sizeof line - 1;
    for (size_t off = 0; off < (size_t)n;) {
        ssize_t w = write(opt.fd, line + off, (size_t)n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            _exit(1);
        off += (size_t)w;
    }
}

/* The kernel's 64-bit sigset, raw: glibc hides its two internal signals. */
static uint64_t raw_mask(void)
{
    uint64_t set = 0;
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &set, sizeof set);
    return set;
}

static uint64_t raw_pending(void)
{
    uint64_t set = 0;
    syscall(SYS_rt_sigpending, &set, sizeof set);
    return set;
}

static void dispositions(uint64_t *ret_ign, uint64_t *ret_cgt)
{
    uint64_t ign = 0, cgt = 0;
    for (int sig = 1; sig <= 64; sig++) {
        struct sigaction sa;
        if (sigaction(sig, NULL, &sa) < 0)
            continue; /* SIGKILL/SIGSTOP are fine; glibc refuses 32 and 33 */
        if (sa.sa_handler == SIG_IGN)
            ign |= 1ull << (sig - 1);
        else if (sa.sa_handler != SIG_DFL)
            cgt |= 1ull << (sig - 1);
    }
    *ret_ign = ign;
    *ret_cgt = cgt;
}

static void dump_state(void)
{
    uint64_t blk = raw_mask(), pnd = raw_pending(), ign, cgt;
    dispositions(&ign, &cgt);
    emit("role=main\npid=%d\nppid=%d\npgid=%d\nsid=%d\n"
         "SigBlk=%016llx\nSigIgn=%016llx\nSigCgt=%016llx\nSigPnd=%016llx\n"
         "NoNewPrivs=%d\nSeccomp=%d\n",
         getpid(), getppid(), getpgrp(), getsid(0), (unsigned long long)blk,
         (unsigned long long)ign, (unsigned long long)cgt, (unsigned long long)pnd,
         prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
}

static const char *role = "main";

static void reap(void)
{
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
}

static int wait_loop(const sigset_t *set)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += opt.timeout_s;
    for (;;) {
        siginfo_t si;
        int sig;
        if (opt.timeout_s > 0) {
            struct timespec now, left;
            clock_gettime(CLOCK_MONOTONIC, &now);
            left.tv_sec = deadline.tv_sec - now.tv_sec;
            left.tv_nsec = deadline.tv_nsec - now.tv_nsec;
            if (left.tv_nsec < 0) {
                left.tv_nsec += 1000000000L;
                left.tv_sec--;
            }
            if (left.tv_sec < 0) {
                emit("timeout=1 pid=%d role=%s\n", getpid(), role);
                return 124;
            }
            sig = sigtimedwait(set, &si, &left);
        } else {
            sig = sigwaitinfo(set, &si);
        }
        if (sig < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            fprintf(stderr, "oss-sigdump: sigwaitinfo: %s\n", strerror(errno));
            return 1;
        }
        if (sig == SIGCHLD && si.si_code > 0) { /* a child's state changed */
            reap();
            continue;
        }
        char name[32];
        emit("signal=%s pid=%d pgid=%d role=%s sender=%d\n",
             helper_signal_name(sig, name, sizeof name), getpid(), getpgrp(), role, (int)si.si_pid);
        for (size_t i = 0; i < opt.n_exit_on; i++)
            if (opt.exit_on[i].sig == sig)
                return opt.exit_on[i].code;
    }
}

static int parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(a, "--wait") == 0) {
            opt.wait = true;
        } else if (strcmp(a, "--fork-grandchild") == 0) {
            opt.grandchild = true;
        } else if (strcmp(a, "--out") == 0 && v) {
            opt.fd = open(v, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
            if (opt.fd < 0) {
                fprintf(stderr, "oss-sigdump: open %s: %s\n", v, strerror(errno));
                return -1;
            }
            i++;
        } else if (strcmp(a, "--timeout") == 0 && v) {
            if (!helper_parse_long(v, 0, 86400, &opt.timeout_s)) {
                fprintf(stderr, "oss-sigdump: bad --timeout '%s'\n", v);
                return -1;
            }
            i++;
        } else if (strcmp(a, "--exit-on") == 0 && v) {
            char buf[64];
            snprintf(buf, sizeof buf, "%s", v);
            char *colon = strrchr(buf, ':');
            long code;
            int sig;
            if (!colon || opt.n_exit_on == MAX_EXIT_ON)
                goto bad_exit_on;
            *colon = '\0';
            if (!helper_parse_signal(buf, &sig) || !helper_parse_long(colon + 1, 0, 255, &code))
                goto bad_exit_on;
            opt.exit_on[opt.n_exit_on++] = (struct exit_on){sig, (int)code};
            i++;
            continue;
        bad_exit_on:
            fprintf(stderr, "oss-sigdump: bad --exit-on '%s' (want SIGNAL:CODE)\n", v);
            return -1;
        } else {
            fprintf(stderr, "oss-sigdump: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return -1;
        }
    }
    if (opt.grandchild && !opt.wait) {
        fprintf(stderr, "oss-sigdump: --fork-grandchild needs --wait\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (parse_args(argc, argv) < 0)
        return HELPER_EXIT_USAGE;

    /* Read the inherited state before touching the mask. */
    dump_state();
    if (!opt.wait)
        return 0;

    sigset_t all;
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    sigprocmask(SIG_SETMASK, &all, NULL);

    if (opt.grandchild) {
        int sync[2];
        if (pipe2(sync, O_CLOEXEC) < 0) {
            fprintf(stderr, "oss-sigdump: pipe: %s\n", strerror(errno));
            return 1;
        }
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "oss-sigdump: fork: %s\n", strerror(errno));
            return 1;
        }
        if (pid == 0) {
            role = "grandchild";
            close(sync[0]);
            emit("ready role=grandchild pid=%d pgid=%d\n", getpid(), getpgrp());
            close(sync[1]); /* EOF tells the main process we are recording */
            _exit(wait_loop(&all));
        }
        close(sync[1]);
        char c;
        while (read(sync[0], &c, 1) < 0 && errno == EINTR)
            ;
        close(sync[0]);
    }
    emit("ready role=main pid=%d pgid=%d\n", getpid(), getpgrp());
    return wait_loop(&all);
}
