/* oss-counter: a workload whose memory tells whether it survived a
 * checkpoint/restore.  It makes a random token at start and counts in memory;
 * after a restore the token is the same and the count continues.
 *
 *   oss-counter --file F [--period-ms P] [--port N] [--bind ADDR]
 *
 * Every P ms (default 100) it increments the count and atomically rewrites F
 * (write F.tmp, rename) with one line:
 *   token=<32 hex> count=<n> pid=<pid>
 * With --port it also serves that line (updated to the current count) to
 * every TCP connection on ADDR:N (default 127.0.0.1; --bind 0.0.0.0 to be
 * reachable from outside a sandbox).  The client closes first: the server
 * writes the line, waits up to 2 s for the client's FIN, then closes with
 * SO_LINGER {1, 0}.  So the sandbox side never holds a connection in
 * TIME_WAIT, which would make Debian's runsc refuse to checkpoint
 * ("endpoint cannot be saved in connected state", docs/platform/gvisor.md,
 * "Checkpoint and restore").  A client
 * that waits for EOF instead gets a reset after 2 s.
 * --client-hold-ms H makes that wait H ms instead of 2 s (a workload that
 * keeps its clients' connections open, as keep-alive servers do).
 * --connect ADDR:PORT opens one TCP connection out at start and keeps it
 * open (a workload holding a connection out; retried every period until it
 * connects).
 * --server-close-first 1 is the deliberate mistake, for controls: the server
 * closes each connection right after writing (an orderly FIN first), so the
 * sandbox side goes through TIME_WAIT.
 * SIGTERM/SIGINT end it with exit 0.  Exit 125 on bad usage. */
#include "helper.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS    16
#define CLIENT_WAIT_MS 2000

struct client {
    int fd;
    int64_t deadline_ms;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int format_line(char *buf, size_t len, const char *token, unsigned long long count)
{
    return snprintf(buf, len, "token=%s count=%llu pid=%d\n", token, count, getpid());
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int rewrite_file(const char *path, const char *line)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    int r = write_all(fd, line, strlen(line));
    if (close(fd) < 0 || r < 0)
        return -1;
    return rename(tmp, path);
}

static void close_abortive(int fd)
{
    struct linger l = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(fd);
}

static int listen_on(const char *addr, long port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
        fprintf(stderr, "oss-counter: bad --bind address '%s'\n", addr);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(fd, 64) < 0) {
        fprintf(stderr, "oss-counter: listen on %s:%ld: %s\n", addr, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* ADDR:PORT (IPv4), blocking connect; -1 when it fails (retried later) */
static int connect_out(const char *spec)
{
    char addr[64];
    const char *colon = strrchr(spec, ':');
    long port;
    if (colon == NULL || (size_t)(colon - spec) >= sizeof addr ||
        !helper_parse_long(colon + 1, 1, 65535, &port))
        return -1;
    memcpy(addr, spec, (size_t)(colon - spec));
    addr[colon - spec] = '\0';
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int main(int argc, char **argv)
{
    const char *file = NULL, *bind_addr = "127.0.0.1";
    long period_ms = 100, port = -1, server_close_first = 0, hold_ms = CLIENT_WAIT_MS;
    const char *connect_to = NULL;
    /* Every option takes a value. */
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            goto usage;
        if (strcmp(a, "--file") == 0)
            file = v;
        else if (strcmp(a, "--bind") == 0)
            bind_addr = v;
        else if (strcmp(a, "--period-ms") == 0 && helper_parse_long(v, 1, 3600000, &period_ms))
            ;
        else if (strcmp(a, "--port") == 0 && helper_parse_long(v, 1, 65535, &port))
            ;
        else if (strcmp(a, "--client-hold-ms") == 0 && helper_parse_long(v, 1, 3600000, &hold_ms))
            ;
        else if (strcmp(a, "--connect") == 0)
            connect_to = v;
        else if (strcmp(a, "--server-close-first") == 0 &&
                 helper_parse_long(v, 0, 1, &server_close_first))
            ;
        else
            goto usage;
    }
    if (!file)
        goto usage;

    unsigned char raw[16];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
        fprintf(stderr, "oss-counter: getrandom: %s\n", strerror(errno));
        return 1;
    }
    char token[33];
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(token + 2 * i, 3, "%02x", raw[i]);

    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigaddset(&term, SIGINT);
    sigprocmask(SIG_BLOCK, &term, NULL);
    int sfd = signalfd(-1, &term, SFD_CLOEXEC);
    int lfd = port > 0 ? listen_on(bind_addr, port) : -1;
    if (sfd < 0 || (port > 0 && lfd < 0))
        return 1;

    struct client clients[MAX_CLIENTS];
    size_t n_clients = 0;
    unsigned long long count = 0;
    char line[128];
    format_line(line, sizeof line, token, count);
    if (rewrite_file(file, line) < 0) {
        fprintf(stderr, "oss-counter: write %s: %s\n", file, strerror(errno));
        return 1;
    }
    int64_t next_tick = now_ms() + period_ms;
    int out_fd = connect_to != NULL ? connect_out(connect_to) : -1; /* held, never read */

    for (;;) {
        struct pollfd p[2 + MAX_CLIENTS];
        size_t np = 0;
        p[np++] = (struct pollfd){sfd, POLLIN, 0};
        /* Stop accepting while full; the backlog holds the rest. */
        p[np++] = (struct pollfd){n_clients < MAX_CLIENTS ? lfd : -1, POLLIN, 0};
        int64_t now = now_ms(), wake = next_tick;
        for (size_t i = 0; i < n_clients; i++) {
            p[np++] = (struct pollfd){clients[i].fd, POLLIN, 0};
            if (clients[i].deadline_ms < wake)
                wake = clients[i].deadline_ms;
        }
        int timeout = wake > now ? (int)(wake - now) : 0;
        if (poll(p, np, timeout) < 0 && errno != EINTR) {
            fprintf(stderr, "oss-counter: poll: %s\n", strerror(errno));
            return 1;
        }
        if (p[0].revents & POLLIN)
            return 0; /* SIGTERM or SIGINT */

        now = now_ms();
        if (connect_to != NULL && out_fd < 0 && now >= next_tick)
            out_fd = connect_out(connect_to);
        if (now >= next_tick) {
            count++;
            format_line(line, sizeof line, token, count);
            if (rewrite_file(file, line) < 0)
                fprintf(stderr, "oss-counter: write %s: %s\n", file, strerror(errno));
            /* After a freeze, continue from now instead of catching up. */
            next_tick = next_tick + period_ms > now ? next_tick + period_ms : now + period_ms;
        }

        /* Clients: anything readable is data (ignored) or the client's FIN. */
        for (size_t i = n_clients; i-- > 0;) {
            struct pollfd *cp = &p[2 + i];
            bool done = false;
            if (cp->revents & (POLLIN | POLLHUP | POLLERR)) {
                char buf[512];
                ssize_t r = read(clients[i].fd, buf, sizeof buf);
                done = r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR);
            }
            if (done || now >= clients[i].deadline_ms) {
                close_abortive(clients[i].fd);
                clients[i] = clients[--n_clients];
            }
        }

        if (lfd >= 0 && (p[1].revents & POLLIN)) {
            int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (c >= 0) {
                format_line(line, sizeof line, token, count);
                if (write_all(c, line, strlen(line)) < 0)
                    close_abortive(c);
                else if (server_close_first)
                    close(c);
                else
                    clients[n_clients++] = (struct client){c, now + hold_ms};
            }
        }
    }

usage:
    fprintf(stderr, "usage: oss-counter --file F [--period-ms P] [--port N] [--bind ADDR]\n"
                    "                   [--server-close-first 0|1] [--client-hold-ms H]\n"
                    "                   [--connect ADDR:PORT]\n");
    return HELPER_EXIT_USAGE;
}
