/* oss-bench: the timing parts of tests/bench/bench.sh that a shell cannot
 * measure precisely.
 *
 *   oss-bench sigwait
 *       the child under an init: reports each SIGUSR1 it takes as the
 *       CLOCK_MONOTONIC nanoseconds it saw it (8 bytes on stdout); SIGTERM
 *       ends it.  Writes 8 zero bytes first, once it is ready.
 *   oss-bench siglat N INIT [ARG...]
 *       runs INIT ARG... (whose child is `oss-bench sigwait`) with its stdout
 *       on a pipe, sends SIGUSR1 to INIT N times, one at a time, and prints
 *       the latency from kill() to the child seeing it:
 *       "n=N median_us=.. p10_us=.. p90_us=.. max_us=.."
 *   oss-bench orphans N [TIMEOUT_S]
 *       under an init that is PID 1 (or a subreaper above us): makes N
 *       orphans that wait on a pipe, releases them all at once and prints
 *       how long until the last one was reaped by the init:
 *       "orphans=N reap_ms=.." (or reap_ms=timeout, exit 1).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "oss-bench: %s: %s\n", what, strerror(errno));
    exit(2);
}

static int read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int sigwait_main(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int64_t zero = 0;
    if (write_all(1, &zero, sizeof zero) < 0)
        return 1;
    for (;;) {
        int sig = sigwaitinfo(&set, NULL);
        int64_t t = now_ns();
        if (sig < 0) {
            if (errno == EINTR)
                continue;
            return 1;
        }
        if (sig != SIGUSR1)
            return 0;
        if (write_all(1, &t, sizeof t) < 0)
            return 1;
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int siglat_main(long n, char **init_argv)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        die("pipe2");
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        if (dup2(p[1], 1) < 0)
            _exit(127);
        execvp(init_argv[0], init_argv);
        _exit(127);
    }
    close(p[1]);
    int64_t t, *lat = calloc((size_t)n, sizeof *lat);
    if (lat == NULL)
        die("calloc");
    if (read_all(p[0], &t, sizeof t) < 0 || t != 0) {
        fprintf(stderr, "oss-bench: the child did not start under %s\n", init_argv[0]);
        kill(pid, SIGKILL);
        return 1;
    }
    for (long i = 0; i < n; i++) {
        int64_t t0 = now_ns();
        if (kill(pid, SIGUSR1) < 0)
            die("kill");
        if (read_all(p[0], &t, sizeof t) < 0) {
            fprintf(stderr, "oss-bench: child gone after %ld signals\n", i);
            return 1;
        }
        lat[i] = t - t0;
        /* one signal at a time: standard signals do not queue */
        struct timespec gap = {0, 200000};
        nanosleep(&gap, NULL);
    }
    kill(pid, SIGTERM);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    qsort(lat, (size_t)n, sizeof *lat, cmp_i64);
    printf("n=%ld median_us=%.1f p10_us=%.1f p90_us=%.1f max_us=%.1f\n", n, lat[n / 2] / 1e3,
           lat[n / 10] / 1e3, lat[(n * 9) / 10] / 1e3, lat[n - 1] / 1e3);
    free(lat);
    return 0;
}

static int orphans_main(long n, long timeout_s)
{
    int release[2], pids[2];
    if (pipe2(release, O_CLOEXEC) < 0 || pipe2(pids, O_CLOEXEC) < 0)
        die("pipe2");
    pid_t *orphan = calloc((size_t)n, sizeof *orphan);
    if (orphan == NULL)
        die("calloc");
    for (long i = 0; i < n; i++) {
        pid_t mid = fork();
        if (mid < 0)
            die("fork");
        if (mid == 0) {
            pid_t o = fork();
            if (o == 0) {
                char c;
                close(release[1]);
                close(pids[1]);
                while (read(release[0], &c, 1) < 0 && errno == EINTR)
                    ;
                _exit(0); /* EOF: released, becomes the init's zombie */
            }
            _exit(o < 0 || write_all(pids[1], &o, sizeof o) < 0 ? 1 : 0);
        }
        int st;
        while (waitpid(mid, &st, 0) < 0 && errno == EINTR)
            ;
        if (read_all(pids[0], &orphan[i], sizeof orphan[i]) < 0 || !WIFEXITED(st) ||
            WEXITSTATUS(st) != 0) {
            fprintf(stderr, "oss-bench: orphan %ld was not created\n", i);
            return 2;
        }
    }
    /* All orphans exist and block on release[0]: let them go at once. */
    int64_t t0 = now_ns(), deadline = t0 + timeout_s * 1000000000LL;
    close(release[1]);
    long next = 0;
    while (next < n) {
        /* a zombie still answers kill(pid, 0); a reaped pid is ESRCH (the
         * namespace does not cycle through 10^5 pids in this window) */
        while (next < n && kill(orphan[next], 0) < 0 && errno == ESRCH)
            next++;
        if (next == n)
            break;
        if (now_ns() > deadline) {
            printf("orphans=%ld reap_ms=timeout unreaped=%ld\n", n, n - next);
            return 1;
        }
        struct timespec gap = {0, 100000};
        nanosleep(&gap, NULL);
    }
    printf("orphans=%ld reap_ms=%.1f\n", n, (now_ns() - t0) / 1e6);
    free(orphan);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "sigwait") == 0)
        return sigwait_main();
    if (argc >= 4 && strcmp(argv[1], "siglat") == 0)
        return siglat_main(strtol(argv[2], NULL, 10) > 0 ? strtol(argv[2], NULL, 10) : 1, argv + 3);
    if (argc >= 3 && strcmp(argv[1], "orphans") == 0)
        return orphans_main(strtol(argv[2], NULL, 10) > 0 ? strtol(argv[2], NULL, 10) : 1,
                            argc >= 4 ? strtol(argv[3], NULL, 10) : 60);
    fprintf(stderr, "usage: oss-bench sigwait | siglat N INIT [ARG...] | orphans N [TIMEOUT_S]\n");
    return 2;
}
