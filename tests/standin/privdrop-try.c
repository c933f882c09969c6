/* Test helper: every way a process with Agent Substrate's three
 * capabilities (AUDIT_WRITE, KILL, NET_BIND_SERVICE) could reach the
 * supervisor's workload identity, each attempt's errno as one JSON line
 * (docs/platform/supervisor.md, privilege drop under Substrate).
 *
 *   privdrop-try UID:GID [-- PROGRAM ARGS...]
 *
 * Part 1, the supervisor's own path: setgroups, setgid, the bounding-set
 * clear (PR_CAPBSET_DROP), setuid, each in a fresh child so one refusal
 * does not hide the next.
 * Part 2, the user-namespace path: a child that stays outside (standing in
 * for the shim, outer uid 0) and a child that unshares a user namespace,
 * maps UID inside to its own uid outside (the single mapping allowed without
 * CAP_SETUID), and then tries what the supervisor and the workload would do
 * from there.  With PROGRAM, the namespaced child execs it at the end. */
#include "error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void line(const char *what, long r, int e)
{
    printf("{\"try\":\"%s\",\"result\":\"%s\",\"errno\":\"%s\"}\n", what, r < 0 ? "refused" : "ok",
           r < 0 ? oss_errno_name(e) : "");
    fflush(stdout);
}

/* Runs one call in a child: its effect must not leak into the next try. */
#define TRY(what, call)                                                                            \
    do {                                                                                           \
        pid_t p_ = fork();                                                                         \
        if (p_ == 0) {                                                                             \
            errno = 0;                                                                             \
            long r_ = (long)(call);                                                                \
            line(what, r_, errno);                                                                 \
            _exit(0);                                                                              \
        }                                                                                          \
        waitpid(p_, NULL, 0);                                                                      \
    } while (0)

static int write_file(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, s, strlen(s));
    int e = errno;
    close(fd);
    errno = e;
    return n == (ssize_t)strlen(s) ? 0 : -1;
}

static long bind_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    long r = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    int e = errno;
    close(fd);
    errno = e;
    return r;
}

static long write_tmp(void)
{
    int fd = open("/tmp/privdrop-try-inside", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    close(fd);
    return unlink("/tmp/privdrop-try-inside");
}

static long read_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char b[64];
    long r = read(fd, b, sizeof b);
    int e = errno;
    close(fd);
    errno = e;
    return r;
}

int main(int argc, char **argv)
{
    unsigned u, g;
    if (argc < 2 || sscanf(argv[1], "%u:%u", &u, &g) != 2) {
        fprintf(stderr, "usage: privdrop-try UID:GID [-- PROGRAM ARGS...]\n");
        return 2;
    }
    gid_t gid = g;
    /* Part 1: the supervisor's calls, as root with the runtime's caps. */
    TRY("setgroups", syscall(SYS_setgroups, 1, &gid));
    TRY("setgid", syscall(SYS_setresgid, g, g, g));
    TRY("capbset_drop", prctl(PR_CAPBSET_DROP, 0 /* CAP_CHOWN */, 0, 0, 0));
    TRY("setuid", syscall(SYS_setresuid, u, u, u));

    /* A root-owned 0400 file, as a token file on a tmpfs would be. */
    char secret[] = "/tmp/privdrop-try-secret.XXXXXX";
    int sfd = mkstemp(secret);
    if (sfd >= 0) {
        (void)!write(sfd, "x", 1);
        fchmod(sfd, 0400);
        close(sfd);
    }

    /* Part 2: "the shim", outside, waits; the namespaced child pokes at it. */
    pid_t shim = fork();
    if (shim == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        pause();
        _exit(0);
    }
    int ready[2];
    if (pipe(ready) < 0)
        return 1;
    pid_t kid = fork();
    if (kid == 0) {
        close(ready[1]);
        errno = 0;
        long r = unshare(CLONE_NEWUSER);
        line("unshare_user", r, errno);
        if (r < 0)
            _exit(1);
        char c;
        (void)!read(ready[0], &c, 1); /* the parent wrote our maps */
        char uidb[32];
        snprintf(uidb, sizeof uidb, "%u:%u", (unsigned)getuid(), (unsigned)getgid());
        printf("{\"inside\":\"%s\"}\n", uidb);
        fflush(stdout);
        TRY("in_setuid0", syscall(SYS_setresuid, 0, 0, 0));
        TRY("in_read_etc_passwd", read_file("/etc/passwd"));
        {
            struct stat sb;
            TRY("in_stat_etc_passwd", stat("/etc/passwd", &sb));
            TRY("in_stat_tmp", stat("/tmp", &sb));
        }
        TRY("in_write_tmp", write_tmp());
        TRY("in_read_root_0400", read_file(secret));
        TRY("in_bind_3128", bind_port(3128));
        TRY("in_bind_80", bind_port(80));
        TRY("in_kill_shim", kill(shim, SIGCONT));
        {
            char p[64];
            snprintf(p, sizeof p, "/proc/%d/environ", (int)shim);
            TRY("in_read_shim_environ", read_file(p));
        }
        TRY("in_unshare_net", unshare(CLONE_NEWNET));
        TRY("in_nnp", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
        /* For PROGRAM: what it may poke at after exec, without capabilities. */
        char pid_s[16];
        snprintf(pid_s, sizeof pid_s, "%d", (int)shim);
        setenv("PRIVDROP_TRY_SHIM_PID", pid_s, 1);
        setenv("PRIVDROP_TRY_SECRET", secret, 1);
        if (argc > 3 && strcmp(argv[2], "--") == 0) {
            execvp(argv[3], argv + 3);
            line("in_exec", -1, errno);
        }
        _exit(0);
    }
    close(ready[0]);
    /* The maps are written from outside by the parent, as a shim would for
     * its child; the child cannot gain CAP_SETUID over the parent ns. */
    char path[64], map[64];
    snprintf(path, sizeof path, "/proc/%d/setgroups", (int)kid);
    usleep(100000);
    errno = 0;
    line("setgroups_deny", write_file(path, "deny"), errno);
    snprintf(path, sizeof path, "/proc/%d/uid_map", (int)kid);
    snprintf(map, sizeof map, "%u %u 1\n", u, (unsigned)getuid());
    errno = 0;
    line("uid_map", write_file(path, map), errno);
    snprintf(path, sizeof path, "/proc/%d/gid_map", (int)kid);
    snprintf(map, sizeof map, "%u %u 1\n", g, (unsigned)getgid());
    errno = 0;
    line("gid_map", write_file(path, map), errno);
    (void)!write(ready[1], "x", 1);
    close(ready[1]);
    int st = 0;
    waitpid(kid, &st, 0);
    kill(shim, SIGKILL);
    waitpid(shim, NULL, 0);
    unlink(secret);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
