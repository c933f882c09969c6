/* oss-orphans: create N orphans for reaping tests.
 *
 *   oss-orphans N [--linger-ms M] [--timeout-ms T]
 *
 * Each orphan is made by a double fork: an intermediate child forks the
 * orphan and exits at once; oss-orphans reaps the intermediate, so the orphan
 * is re-parented to the nearest child subreaper or to PID 1 of the namespace.
 * Every orphan reports on a pipe that it is alive, then waits until all N
 * exist (the release pipe reaches EOF), lingers M ms (default 0) and exits:
 * it becomes a zombie of its new parent, which must reap it.
 * oss-orphans prints `orphans=N` once all N are alive and exits 0.
 * Bounded: creation must finish within T ms (default 30000), else exit 1
 * (the orphans still exit on their own).  Exit 125 on bad usage. */
#include "helper.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ORPHANS 100000

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* The orphan: say "alive", wait for the release, linger, exit. */
static void orphan(int ready_w, int release_r, long linger_ms)
{
    /* Do not hold the caller's stdout/stderr open (a `$(oss-orphans N)`
     * would wait for every orphan). */
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int fd = 0; fd <= 2; fd++) {
        if (null >= 0)
            dup2(null, fd);
        else
            close(fd);
    }
    char c = 'o';
    while (write(ready_w, &c, 1) < 0 && errno == EINTR)
        ;
    close(ready_w);
    while (read(release_r, &c, 1) != 0 && errno == EINTR)
        ;
    if (linger_ms > 0)
        sleep_ms(linger_ms);
    _exit(0);
}

int main(int argc, char **argv)
{
    long n = -1, linger_ms = 0, timeout_ms = 30000;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--linger-ms") == 0 && v &&
            helper_parse_long(v, 0, 3600000, &linger_ms)) {
            i++;
        } else if (strcmp(argv[i], "--timeout-ms") == 0 && v &&
                   helper_parse_long(v, 1, 3600000, &timeout_ms)) {
            i++;
        } else if (n < 0 && helper_parse_long(argv[i], 0, MAX_ORPHANS, &n)) {
            ;
        } else {
            fprintf(stderr, "usage: oss-orphans N [--linger-ms M] [--timeout-ms T] (N <= %d)\n",
                    MAX_ORPHANS);
            return HELPER_EXIT_USAGE;
        }
    }
    if (n < 0) {
        fprintf(stderr, "usage: oss-orphans N [--linger-ms M] [--timeout-ms T]\n");
        return HELPER_EXIT_USAGE;
    }

    int ready[2], release[2];
    if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(release, O_CLOEXEC) < 0) {
        fprintf(stderr, "oss-orphans: pipe: %s\n", strerror(errno));
        return 1;
    }
    long created = 0;
    for (; created < n; created++) {
        pid_t mid = fork();
        if (mid < 0) {
            fprintf(stderr, "oss-orphans: fork: %s\n", strerror(errno));
            break;
        }
        if (mid == 0) {
            close(ready[0]);
            close(release[1]);
            pid_t o = fork();
            if (o == 0)
                orphan(ready[1], release[0], linger_ms);
            _exit(o < 0 ? 1 : 0);
        }
        int status;
        while (waitpid(mid, &status, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "oss-orphans: intermediate child failed to fork\n");
            break;
        }
    }
    close(ready[1]);

    /* Count the "alive" bytes; EOF early means some orphan died first. */
    long alive = 0, deadline = now_ms() + timeout_ms;
    while (alive < created) {
        long left = deadline - now_ms();
        struct pollfd p = {ready[0], POLLIN, 0};
        if (left <= 0 || poll(&p, 1, (int)left) == 0) {
            fprintf(stderr, "oss-orphans: only %ld of %ld orphans alive in time\n", alive, created);
            return 1;
        }
        char buf[512];
        ssize_t r = read(ready[0], buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        alive += r;
    }
    close(release[1]); /* every orphan sees EOF and goes on */
    printf("orphans=%ld\n", alive);
    fflush(stdout);
    return alive == n ? 0 : 1;
}
