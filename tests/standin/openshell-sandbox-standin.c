/* openshell-sandbox-standin: a TEST DOUBLE of NVIDIA OpenShell's sandbox
 * supervisor.  It is not a sandbox.  It performs the upstream bootstrap
 * sequence of docs/platform/supervisor.md
 * ("Bootstrap order") in order, with the same failure handling (hard
 * error, exit 1; or warnings under OPENSHELL_BEST_EFFORT_FAILURES=1 as the
 * patched supervisor does), so tests can prove the shim's decisions end to
 * end without the Rust supervisor:
 *
 *   netns (netns_pair_ensure) -> proxy listen -> supervisor seccomp prelude
 *   -> Landlock probe -> spawn workload (setns, proxy env, privilege drop,
 *   workload seccomp) -> forward signals, reap, exit with the workload's code.
 *
 * Each step's outcome is one JSON line on stderr:
 *   {"standin":"step","step":"netns","result":"ok|degraded|fatal|skipped","errno":..}
 * and OPENSHELL_STANDIN_STATUS_FILE gets a JSON status (atomically). */
#include "netns.h"
#include "standin.h"
#include "standin_report.h"
#include "standin_seccomp.h"

#include "cleanup.h"
#include "error.h"
#include "fs.h"
#include "log.h"
#include "util.h"

#include <arpa/inet.h>
#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROXY_PORT 3128

static struct standin_report rep = {.phase = "starting"};
static struct netns_pair_spec pair;

/* ---- step helpers ------------------------------------------------------ */

/* A failed step: fatal (exit 1) unless this step may degrade and
 * OPENSHELL_BEST_EFFORT_FAILURES is on. Returns true when it is fatal. */
static bool step_failed(const struct standin_config *c, const char *name, bool may_degrade,
                        const oss_error *err)
{
    int e = err->domain == OSS_ERR_ERRNO || err->domain == OSS_ERR_SECCOMP ? err->code : 0;
    bool fatal = !(may_degrade && c->best_effort);
    standin_step(&rep, name, fatal ? "fatal" : "degraded", e, err->msg);
    if (fatal)
        log_error("%s: %s", name, err->msg);
    else
        log_warn("%s failed, continuing (OPENSHELL_BEST_EFFORT_FAILURES=1): %s", name, err->msg);
    return fatal;
}

static void janitor_finish(void);

/* Bootstrap errors exit 1 (docs/platform/supervisor.md,
 * "Bootstrap order"), after the namespace is gone. */
static _Noreturn void die_fatal(void)
{
    janitor_finish();
    rep.phase = "fatal";
    rep.exit_code = 1;
    standin_report_write(&rep);
    exit(1);
}

/* ---- netns and its janitor ------------------------------------------- */

/* The prelude filter denies umount2, so the standin could not remove its
 * own namespace later.  A janitor forked before the filter does it when the
 * standin's end of a pipe closes, on any exit, crashes included. */
static int janitor_fd = -1;
static pid_t janitor_pid = -1;

static void janitor_start(void)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return;
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return;
    }
    if (pid == 0) {
        close(p[1]);
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        char c;
        while (read(p[0], &c, 1) < 0 && errno == EINTR)
            ;
        oss_error err = {0};
        _exit(netns_pair_teardown(&pair, &err) < 0 ? 1 : 0);
    }
    close(p[0]);
    janitor_fd = p[1];
    janitor_pid = pid;
}

static void janitor_finish(void)
{
    if (janitor_pid < 0)
        return;
    close(janitor_fd);
    int st;
    while (waitpid(janitor_pid, &st, 0) < 0 && errno == EINTR)
        ;
    janitor_pid = -1;
}

static int step_netns(const struct standin_config *c, int *ret_nsfd)
{
    uint32_t rnd = 0;
    if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
        rnd = (uint32_t)getpid() * 2654435761u;
    snprintf(rep.ns_name, sizeof rep.ns_name, "sandbox-%08x", rnd);
    snprintf(rep.host_if, sizeof rep.host_if, "veth-h-%08x", rnd);
    snprintf(rep.peer_if, sizeof rep.peer_if, "veth-s-%08x", rnd);
    pair = (struct netns_pair_spec){
        rep.ns_name,     rep.host_if,  rep.peer_if, "10.200.0.1/24",
        "10.200.0.2/24", "10.200.0.1", false /* the supervisor moves the peer */};
    oss_error err = {0};
    enum netns_step failed = NETNS_STEP_NONE;
    int nsfd = -1;
    if (netns_pair_ensure(&pair, &failed, &err) < 0 || netns_open(rep.ns_name, &nsfd, &err) < 0) {
        if (step_failed(c, "netns", true, &err))
            die_fatal();
        return 0;
    }
    janitor_start();
    rep.has_netns = true;
    *ret_nsfd = nsfd;
    char d[96];
    snprintf(d, sizeof d, "%s %s/%s", rep.ns_name, rep.host_if, rep.peer_if);
    standin_step(&rep, "netns", "ok", 0, d);
    return 0;
}

/* ---- proxy -------------------------------------------------------------- */

/* "host:port", or ":port" for the default host. */
static int parse_addr(const char *s, const char *def_host, struct sockaddr_in *ret, oss_error *err)
{
    const char *colon = strrchr(s, ':');
    long port;
    if (colon == NULL || oss_parse_long(colon + 1, 0, 65535, &port) < 0)
        return oss_err(err, OSS_ERR_INVALID, EINVAL, "bad proxy address %s", s);
    char host[64];
    size_t hl = (size_t)(colon - s);
    if (hl == 0)
        snprintf(host, sizeof host, "%s", def_host);
    else if (hl < sizeof host)
        snprintf(host, sizeof host, "%.*s", (int)hl, s);
    else
        return oss_err(err, OSS_ERR_INVALID, EINVAL, "bad proxy address %s", s);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return oss_err(err, OSS_ERR_INVALID, EINVAL, "bad proxy host %s", host);
    *ret = sa;
    return 0;
}

static int listen_on(const char *want, const char *def_host, int *ret_fd, oss_error *err)
{
    struct sockaddr_in sa;
    if (parse_addr(want, def_host, &sa, err) < 0)
        return -1;
    _cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 64) < 0)
        return oss_err_errno(err, "proxy listen on %s", want);
    socklen_t sl = sizeof sa;
    if (getsockname(fd, (struct sockaddr *)&sa, &sl) < 0)
        return oss_err_errno(err, "getsockname");
    char host[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sa.sin_addr, host, sizeof host);
    snprintf(rep.proxy, sizeof rep.proxy, "%s:%u", host, ntohs(sa.sin_port));
    *ret_fd = TAKE_FD(fd);
    return 0;
}

static void step_proxy(int *ret_fd)
{
    const char *def_host = rep.has_netns ? "10.200.0.1" : "127.0.0.1";
    char def[32];
    snprintf(def, sizeof def, "%s:%d", def_host, PROXY_PORT);
    const char *want = getenv("OPENSHELL_STANDIN_PROXY_ADDR");
    if (want == NULL || *want == '\0')
        want = def;
    oss_error err = {0};
    if (listen_on(want, def_host, ret_fd, &err) == 0) {
        standin_step(&rep, "proxy", "ok", 0, rep.proxy);
        return;
    }
    /* The proxy has no degraded mode upstream: without it there is no
     * policy enforcement at all. */
    standin_step(&rep, "proxy", "fatal", err.domain == OSS_ERR_ERRNO ? err.code : 0, err.msg);
    log_error("proxy: %s", err.msg);
    die_fatal();
}

/* Readiness only: accept, answer, close. */
static void proxy_accept(int lfd)
{
    for (int i = 0; i < 64; i++) {
        int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (c < 0)
            return;
        static const char ok[] =
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        (void)!send(c, ok, sizeof ok - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        close(c);
    }
}

/* ---- seccomp prelude and Landlock probe -------------------------------- */

static void step_prelude(const struct standin_config *c)
{
    oss_error err = {0};
    if (standin_seccomp_prelude(&err) < 0) {
        if (step_failed(c, "supervisor_seccomp", true, &err))
            die_fatal();
        return;
    }
    standin_step(&rep, "supervisor_seccomp", "ok", 0, "NO_NEW_PRIVS + TSYNC");
}

static void step_landlock(void)
{
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi >= 1) {
        char d[32];
        snprintf(d, sizeof d, "ABI %ld", abi);
        standin_step(&rep, "landlock", "ok", 0, d);
        return;
    }
    int e = errno;
    /* Always best effort, as upstream's landlock.compatibility default. */
    standin_step(&rep, "landlock", "degraded", e, "Landlock filesystem sandbox unavailable");
    char line[160];
    snprintf(line, sizeof line,
             "{\"standin\":\"finding\",\"uid\":\"landlock-unavailable\",\"errno\":\"%s\"}\n",
             oss_errno_name(e));
    (void)oss_write_all(STDERR_FILENO, line, strlen(line));
}

/* ---- workload ----------------------------------------------------------- */

static const char *const proxy_url_keys[] = {"ALL_PROXY",  "HTTP_PROXY",  "HTTPS_PROXY",
                                             "http_proxy", "https_proxy", "grpc_proxy"};

static void env_add(const char *k, const char *v)
{
    if (rep.nenv >= STANDIN_MAX_ENV)
        return;
    rep.env_keys[rep.nenv] = k;
    snprintf(rep.env_vals[rep.nenv], sizeof rep.env_vals[0], "%s", v);
    rep.nenv++;
}

/* The proxy variables are set only with a network namespace
 * (docs/platform/supervisor.md, "Proxy environment"). */
static void plan_env(void)
{
    if (!rep.has_netns)
        return;
    char url[80];
    snprintf(url, sizeof url, "http://%s", rep.proxy);
    for (size_t i = 0; i < OSS_ARRAY_SIZE(proxy_url_keys); i++)
        env_add(proxy_url_keys[i], url);
    env_add("NO_PROXY", "127.0.0.1,localhost,::1");
    env_add("no_proxy", "127.0.0.1,localhost,::1");
    env_add("NODE_USE_ENV_PROXY", "1");
}

/* The child reports each of its steps over a pipe that exec closes. */
static void child_report(int fd, const char *name, const char *result, int e, const char *detail)
{
    struct standin_step s = {.err = e};
    snprintf(s.name, sizeof s.name, "%s", name);
    snprintf(s.result, sizeof s.result, "%s", result);
    snprintf(s.detail, sizeof s.detail, "%s", detail ? detail : "");
    (void)!write(fd, &s, sizeof s); /* < PIPE_BUF: atomic */
}

static _Noreturn void child_fatal(int fd, const char *name, int e, const char *detail, int code)
{
    child_report(fd, name, "fatal", e, detail);
    _exit(code);
}

static int privdrop(uid_t uid, gid_t gid, oss_error *err)
{
    capng_clear(CAPNG_SELECT_BOTH);
    errno = 0;
    int r = capng_change_id((int)uid, (int)gid, CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING);
    if (r < 0) {
        int e = errno ? errno : EPERM;
        return oss_err(err, OSS_ERR_ERRNO, e, "capng_change_id(%u, %u) failed (%d): %s", uid, gid,
                       r, strerror(e));
    }
    if (getuid() != uid || geteuid() != uid || getgid() != gid)
        return oss_err(err, OSS_ERR_ERRNO, EPERM, "identity did not change");
    return 0;
}

static _Noreturn void child_main(const struct standin_config *c, int nsfd, int rfd)
{
    setpgid(0, 0);
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    oss_error err = {0};

    if (nsfd >= 0) {
        if (setns(nsfd, CLONE_NEWNET) < 0)
            child_fatal(rfd, "setns", errno, "setns into the sandbox namespace", 1);
        close(nsfd);
        child_report(rfd, "setns", "ok", 0, rep.ns_name);
    }
    for (size_t i = 0; i < rep.nenv; i++)
        setenv(rep.env_keys[i], rep.env_vals[i], 1);

    if (c->run_as) {
        if (getuid() == c->uid && geteuid() == c->uid && getgid() == c->gid)
            child_report(rfd, "privdrop", "skipped", 0, "already that identity");
        else if (privdrop(c->uid, c->gid, &err) < 0)
            child_fatal(rfd, "privdrop", err.code, err.msg, 1); /* never degraded */
        else
            child_report(rfd, "privdrop", "ok", 0, NULL);
    }

    if (standin_seccomp_workload(&err) < 0) {
        if (!c->best_effort)
            child_fatal(rfd, "workload_seccomp", err.code, err.msg, 1);
        child_report(rfd, "workload_seccomp", "degraded", err.code, err.msg);
    } else {
        child_report(rfd, "workload_seccomp", "ok", 0, NULL);
    }

    execvp(c->argv[0], c->argv);
    int e = errno;
    child_fatal(rfd, "exec", e, c->argv[0], e == ENOENT ? 127 : 126);
}

/* Returns the pid; exits 1 when the child reported a fatal step. */
static pid_t spawn(const struct standin_config *c, int nsfd)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        log_error("pipe: %s", strerror(errno));
        die_fatal();
    }
    plan_env();
    pid_t pid = fork();
    if (pid < 0) {
        log_error("fork: %s", strerror(errno));
        die_fatal();
    }
    if (pid == 0) {
        close(p[0]);
        child_main(c, nsfd, p[1]);
    }
    close(p[1]);
    setpgid(pid, pid); /* both sides, so signals never miss the group */
    bool fatal = false;
    struct standin_step s;
    while (OSS_RETRY_EINTR(read(p[0], &s, sizeof s)) == (ssize_t)sizeof s) {
        s.name[sizeof s.name - 1] = s.result[sizeof s.result - 1] = '\0';
        s.detail[sizeof s.detail - 1] = '\0';
        standin_step_add(&rep, &s);
        fatal |= strcmp(s.result, "fatal") == 0;
    }
    close(p[0]);
    rep.workload_pid = pid;
    if (fatal) {
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
        janitor_finish();
        die_fatal();
    }
    return pid;
}

/* ---- main loop ---------------------------------------------------------- */

static int exit_code_of(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return 1;
}

static int serve(int sfd, int lfd, pid_t workload)
{
    struct pollfd pfd[2] = {{.fd = sfd, .events = POLLIN}, {.fd = lfd, .events = POLLIN}};
    for (;;) {
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_error("poll: %s", strerror(errno));
            return 1;
        }
        if (pfd[1].revents & POLLIN)
            proxy_accept(lfd);
        if (!(pfd[0].revents & POLLIN))
            continue;
        struct signalfd_siginfo si;
        if (read(sfd, &si, sizeof si) != (ssize_t)sizeof si)
            continue;
        if (si.ssi_signo == SIGCHLD) {
            int st;
            pid_t p;
            while ((p = waitpid(-1, &st, WNOHANG)) > 0)
                if (p == workload)
                    return exit_code_of(st);
            continue;
        }
        if (workload > 0) {
            kill(-workload, (int)si.ssi_signo);
        } else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
            return 0;
        }
    }
}

static void step_policy(const struct standin_config *c)
{
    if (c->policy_rules == NULL) {
        standin_step(&rep, "policy", "skipped", 0, "no policy files (gateway mode not emulated)");
        return;
    }
    const char *files[] = {c->policy_rules, c->policy_data};
    for (size_t i = 0; i < 2; i++) {
        oss_buf b = OSS_BUF_INIT;
        oss_error err = {0};
        int r = oss_read_file(files[i], 1 << 20, &b, &err);
        oss_buf_free(&b);
        if (r < 0) {
            standin_step(&rep, "policy", "fatal", err.code, err.msg);
            log_error("policy: %s", err.msg);
            die_fatal();
        }
    }
    standin_step(&rep, "policy", "ok", 0, NULL);
}

int main(int argc, char **argv)
{
    struct standin_config c = {0};
    standin_parse_args(argc, argv, &c);
    rep.sandbox_id = c.sandbox_id;
    rep.best_effort = c.best_effort;

    /* Signals are read from a signalfd; the child restores the mask. */
    sigset_t mask;
    sigemptyset(&mask);
    int sigs[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < OSS_ARRAY_SIZE(sigs); i++)
        sigaddset(&mask, sigs[i]);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    _cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) {
        log_error("signalfd: %s", strerror(errno));
        return 1;
    }

    step_policy(&c);
    _cleanup_close_ int nsfd = -1;
    step_netns(&c, &nsfd);
    _cleanup_close_ int lfd = -1;
    step_proxy(&lfd);
    step_prelude(&c);
    step_landlock();

    pid_t pid = -1;
    if (c.argv) {
        pid = spawn(&c, nsfd);
        rep.phase = "running";
    } else {
        rep.phase = "serving";
    }
    close(TAKE_FD(nsfd));
    standin_report_write(&rep);

    int code = serve(sfd, lfd, pid);
    janitor_finish();
    rep.phase = "exited";
    rep.exit_code = code;
    standin_report_write(&rep);
    return code;
}
