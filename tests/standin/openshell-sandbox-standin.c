/* openshell-sandbox-standin: a TEST DOUBLE of NVIDIA OpenShell's sandbox
 * supervisor.  It is not a sandbox.  It takes the upstream bootstrap steps in
 * the upstream order, with the upstream failure handling, in one of three
 * modes (--variant, OPENSHELL_STANDIN_VARIANT):
 *
 *   main    NVIDIA/OpenShell main @2f7fb65: every failure is fatal.
 *   pr1549  refs/pull/1549/head @5112fca71: OPENSHELL_SKIP_BOOTSTRAP /
 *           --skip-bootstrap: a skipped step is not attempted (a warning),
 *           a step not skipped that fails is fatal.
 *   pr1548  refs/pull/1548/head @835f1f92a: OPENSHELL_BEST_EFFORT_FAILURES
 *           (any value): netns and both seccomp steps fail with a warning.
 *
 * Every step cites the upstream lines it mirrors; path prefixes: S =
 * crates/openshell-sandbox/src, P = crates/openshell-supervisor-process/src,
 * N = crates/openshell-supervisor-network/src, C = crates/openshell-core/src
 * (docs/platform/supervisor.md has the same map).  Not emulated: the gRPC
 * gateway (a connect test stands in for it), policy parsing (the files are
 * read, not evaluated), the SSH server, OCSF logs, the CA.
 *
 * Each step's outcome is one JSON line on stderr:
 *   {"standin":"step","step":"netns","result":"ok|degraded|fatal|skipped","errno":..}
 * and OPENSHELL_STANDIN_STATUS_FILE gets a JSON status (atomically). */
#include "netns.h"
#include "standin.h"
#include "standin_privdrop.h"
#include "standin_report.h"
#include "standin_seccomp.h"

#include "cleanup.h"
#include "error.h"
#include "fs.h"
#include "log.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROXY_PORT 3128

static struct standin_report rep = {.phase = "starting"};
static struct netns_pair_spec pair;

static void janitor_finish(void);

/* Bootstrap errors propagate to main() -> "Error: ..." and exit 1
 * (S/main.rs@2f7fb65 537-702), after the namespace is gone. */
static _Noreturn void die_fatal(void)
{
    janitor_finish();
    rep.phase = "fatal";
    rep.exit_code = 1;
    standin_report_write(&rep);
    exit(1);
}

static void step_fatal(const char *name, int e, const char *msg)
{
    standin_step(&rep, name, "fatal", e, msg);
    log_error("%s: %s", name, msg);
    die_fatal();
}

/* What a variant does with a skippable step that failed: pull request 1548
 * warns under OPENSHELL_BEST_EFFORT_FAILURES (S/lib.rs@835f1f92a 128-140);
 * everything else is fatal. */
static void step_failed(const struct standin_config *c, const char *name, const oss_error *err)
{
    int e = err->domain == OSS_ERR_ERRNO || err->domain == OSS_ERR_SECCOMP ? err->code : 0;
    if (c->variant == STANDIN_PR1548 && c->best_effort) {
        standin_step(&rep, name, "degraded", e, err->msg);
        log_warn("%s failed, continuing (OPENSHELL_BEST_EFFORT_FAILURES): %s", name, err->msg);
        return;
    }
    step_fatal(name, e, err->msg);
}

/* Pull request 1549: a skipped step is not attempted and logs a warning
 * (P/lib.rs@5112fca71 42-137). */
static bool step_skipped(const struct standin_config *c, const char *name, unsigned bit)
{
    if (c->variant != STANDIN_PR1549 || !(c->skip & bit))
        return false;
    standin_step(&rep, name, "skipped", 0, "OPENSHELL_SKIP_BOOTSTRAP");
    log_warn("skipping %s: OPENSHELL_SKIP_BOOTSTRAP", name);
    return true;
}

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

static void step_netns(const struct standin_config *c, int *ret_nsfd)
{
    if (!c->network)
        return;
    if (step_skipped(c, "netns", STANDIN_SKIP_NETNS))
        return; /* P/netns/mod.rs@5112fca71 403-410: no namespace, no nft */
    uint32_t rnd = 0;
    if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
        rnd = (uint32_t)getpid() * 2654435761u;
    /* sandbox-<8 hex>, veth-h-/veth-s-, 10.200.0.1/24 and .2 (P/netns/mod.rs@2f7fb65
     * 68-193); the peer is moved into the namespace, not created inside. */
    snprintf(rep.ns_name, sizeof rep.ns_name, "sandbox-%08x", rnd);
    snprintf(rep.host_if, sizeof rep.host_if, "veth-h-%08x", rnd);
    snprintf(rep.peer_if, sizeof rep.peer_if, "veth-s-%08x", rnd);
    pair = (struct netns_pair_spec){
        rep.ns_name,     rep.host_if,  rep.peer_if, "10.200.0.1/24",
        "10.200.0.2/24", "10.200.0.1", false /* the supervisor moves the peer */};
    oss_error err = {0};
    enum netns_step failed = NETNS_STEP_NONE;
    if (netns_pair_ensure(&pair, &failed, &err) < 0) {
        /* main: exit 1 (S/lib.rs@2f7fb65 390-395); 1549: exit 1 unless
         * skipped (S/lib.rs@5112fca71 223-228); 1548: best effort
         * (S/lib.rs@835f1f92a 577-587). */
        step_failed(c, "netns", &err);
        return;
    }
    janitor_start();
    int nsfd = -1;
    if (netns_open(rep.ns_name, &nsfd, &err) < 0) {
        /* Opening the namespace is a warning only: the workload then runs
         * without setns and without proxy variables (P/netns/mod.rs@2f7fb65
         * 162-172). */
        standin_step(&rep, "netns", "degraded", err.code, "namespace fd: warning only");
        return;
    }
    rep.has_netns = true;
    *ret_nsfd = nsfd;
    char d[96];
    snprintf(d, sizeof d, "%s %s/%s", rep.ns_name, rep.host_if, rep.peer_if);
    standin_step(&rep, "netns", "ok", 0, d);
}

/* With a namespace the proxy binds the host side (10.200.0.1:3128); without
 * one 127.0.0.1:3128, which must be loopback (N/proxy.rs@2f7fb65 242-252;
 * N/proxy.rs@5112fca71 179-206; S/proxy.rs@835f1f92a 178-204).
 * OPENSHELL_STANDIN_PROXY_ADDR (":PORT" or "HOST:PORT") moves it so tests
 * can run side by side; the loopback rule still applies. */
static void step_proxy(const struct standin_config *c, int *ret_fd)
{
    if (!c->network)
        return;
    const char *def_host = rep.has_netns ? "10.200.0.1" : "127.0.0.1";
    char def[32];
    snprintf(def, sizeof def, "%s:%d", def_host, PROXY_PORT);
    const char *want = getenv("OPENSHELL_STANDIN_PROXY_ADDR");
    if (want == NULL || *want == '\0')
        want = def;
    oss_error err = {0};
    struct sockaddr_in sa;
    if (!rep.has_netns && parse_addr(want, def_host, &sa, &err) == 0 &&
        (ntohl(sa.sin_addr.s_addr) >> 24) != 127)
        step_fatal("proxy", 0, "Proxy http_addr must be loopback-only");
    if (listen_on(want, def_host, ret_fd, &err) == 0) {
        standin_step(&rep, "proxy", "ok", 0, rep.proxy);
        return;
    }
    step_fatal("proxy", err.domain == OSS_ERR_ERRNO ? err.code : 0, err.msg);
}

/* ---- policy -------------------------------------------------------------- */

/* host:port of an http(s)://host:port endpoint. */
static int endpoint_connect(const char *url)
{
    const char *h = strstr(url, "://");
    h = h ? h + 3 : url;
    char host[256], port[8] = "80";
    size_t hl = strcspn(h, ":/");
    if (hl == 0 || hl >= sizeof host)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    if (h[hl] == ':')
        snprintf(port, sizeof port, "%.*s", (int)strcspn(h + hl + 1, "/"), h + hl + 1);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    if (getaddrinfo(host, port, &hints, &ai) != 0)
        return -1;
    int ok = -1;
    for (struct addrinfo *a = ai; a && ok < 0; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            ok = 0;
        if (fd >= 0)
            close(fd);
    }
    freeaddrinfo(ai);
    return ok;
}

/* The gateway client TLS material of an https:// endpoint, as upstream
 * builds its channel (C/grpc_client.rs@2f7fb65 155-173): each of
 * OPENSHELL_TLS_CA, _CERT, _KEY must be set (an empty value is set: the
 * read of "" then fails), then the three files are read whole, in that
 * order, each failure naming its path.  Upstream hands the bytes to
 * Certificate::from_pem / Identity::from_pem (187-188), which the TLS
 * handshake parses: a file with no PEM block fails there, which the
 * stand-in, having no TLS, reports as the connection failure it is. */
static void tls_files_read(void)
{
    static const char *const var[] = {"OPENSHELL_TLS_CA", "OPENSHELL_TLS_CERT",
                                      "OPENSHELL_TLS_KEY"};
    static const char *const what[] = {"CA cert", "client cert", "client key"};
    const char *path[3];
    for (size_t i = 0; i < OSS_ARRAY_SIZE(var); i++) {
        path[i] = getenv(var[i]);
        if (path[i] == NULL) {
            char m[96];
            snprintf(m, sizeof m, "%s is required (after 5 attempts)", var[i]);
            step_fatal("policy", 0, m);
        }
    }
    for (size_t i = 0; i < OSS_ARRAY_SIZE(var); i++) {
        oss_buf b = OSS_BUF_INIT;
        oss_error err = {0};
        int r = oss_read_file(path[i], 1 << 20, &b, &err);
        bool pem = r == 0 && b.len > 0 && memmem(b.data, b.len, "-----BEGIN ", 11) != NULL;
        oss_buf_free(&b);
        char m[OSS_ERR_MSG_MAX];
        if (r < 0) {
            snprintf(m, sizeof m, "failed to read %s from %s (after 5 attempts)", what[i], path[i]);
            step_fatal("policy", err.code, m);
        }
        if (!pem) {
            snprintf(m, sizeof m, "TLS handshake: no PEM block in %s (after 5 attempts)", path[i]);
            step_fatal("policy", EPROTO, m);
        }
    }
}

/* Policy sources, in upstream's order:
 * - rules and data files: local policy, no gateway sync (S/lib.rs@2f7fb65
 *   2119-2168; S/lib.rs@5112fca71 1198-1226; S/lib.rs@835f1f92a 1901-1929);
 * - sandbox id + endpoint: the gateway.  https:// needs OPENSHELL_TLS_CA,
 *   _CERT and _KEY and their files (tls_files_read); connection errors are
 *   retried 5 times, then exit 1 (C/grpc_client.rs@2f7fb65 711-732; the
 *   stand-in does not sleep the 11 s of backoff).  A gateway without a policy
 *   makes the supervisor discover one on disk and sync it, which needs the
 *   sandbox name (S/lib.rs@2f7fb65 2182-2224, 2201-2206; S/lib.rs@5112fca71
 *   1240-1276): the stand-in has no gRPC, OPENSHELL_STANDIN_GATEWAY_POLICY=
 *   absent says the test's gateway has none;
 * - neither: exit 1 (S/lib.rs@2f7fb65 2401-2406). */
static void step_policy(const struct standin_config *c)
{
    if (c->policy_rules && c->policy_data) {
        const char *files[] = {c->policy_rules, c->policy_data};
        for (size_t i = 0; i < 2; i++) {
            oss_buf b = OSS_BUF_INIT;
            oss_error err = {0};
            int r = oss_read_file(files[i], 1 << 20, &b, &err);
            oss_buf_free(&b);
            if (r < 0)
                step_fatal("policy", err.code, err.msg);
        }
        standin_step(&rep, "policy", "ok", 0, "local files");
        return;
    }
    if (c->sandbox_id && c->endpoint) {
        if (strncmp(c->endpoint, "https://", 8) == 0)
            tls_files_read();
        if (endpoint_connect(c->endpoint) < 0)
            step_fatal("policy", ECONNREFUSED, "gateway unreachable (after 5 attempts)");
        const char *gp = getenv("OPENSHELL_STANDIN_GATEWAY_POLICY");
        if (gp && strcmp(gp, "absent") == 0) {
            if (c->sandbox == NULL)
                step_fatal("policy", 0,
                           "Cannot sync discovered policy: sandbox not available. Set "
                           "OPENSHELL_SANDBOX or --sandbox to enable policy sync.");
            standin_step(&rep, "policy", "ok", 0, "discovered on disk, synced");
            return;
        }
        standin_step(&rep, "policy", "ok", 0, "gateway");
        return;
    }
    step_fatal("policy", 0,
               "Sandbox policy required: --policy-rules and --policy-data, or "
               "--sandbox-id and --openshell-endpoint");
}

/* ---- seccomp prelude, Landlock ----------------------------------------- */

/* NO_NEW_PRIVS + TSYNC prelude (P/run.rs@2f7fb65 124; P/run.rs@5112fca71
 * 92-99, skippable; S/lib.rs@835f1f92a 601-603, before the proxy). */
static void step_prelude(const struct standin_config *c)
{
    if (step_skipped(c, "supervisor_seccomp", STANDIN_SKIP_SUP_SECC))
        return;
    oss_error err = {0};
    if (standin_seccomp_prelude(&err) < 0) {
        step_failed(c, "supervisor_seccomp", &err);
        return;
    }
    standin_step(&rep, "supervisor_seccomp", "ok", 0, "NO_NEW_PRIVS + TSYNC");
}

/* Landlock is always best effort under the default policy: ENOSYS /
 * EOPNOTSUPP give finding landlock-unavailable and the workload runs
 * (P/sandbox/linux/landlock.rs@2f7fb65 56-87, 306-337).  The ruleset itself
 * is applied in the child (landlock_apply). */
static long landlock_abi;
static void step_landlock(void)
{
    landlock_abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (landlock_abi >= 1) {
        char d[32];
        snprintf(d, sizeof d, "ABI %ld", landlock_abi);
        standin_step(&rep, "landlock", "ok", 0, d);
        return;
    }
    int e = errno;
    standin_step(&rep, "landlock", "degraded", e, "Landlock filesystem sandbox unavailable");
    char line[160];
    snprintf(line, sizeof line,
             "{\"standin\":\"finding\",\"uid\":\"landlock-unavailable\",\"errno\":\"%s\"}\n",
             oss_errno_name(e));
    (void)oss_write_all(STDERR_FILENO, line, strlen(line));
}

/* The restrictive default policy's filesystem rules (openshell-policy
 * lib.rs@2f7fb65 1110-1133): read-only /usr /lib /proc /dev/urandom /app
 * /etc /var/log, read-write /tmp /dev/null and the working directory,
 * ABI V2 access, missing paths skipped (best effort). */
static int landlock_apply(void)
{
    if (landlock_abi < 1)
        return 0;
    const __u64 rd =
        LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
    const __u64 all = rd | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |
                      LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
                      LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
                      LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
                      LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM |
                      (landlock_abi >= 2 ? LANDLOCK_ACCESS_FS_REFER : 0);
    struct landlock_ruleset_attr attr = {.handled_access_fs = all};
    int rs = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
    if (rs < 0)
        return -1;
    static const char *const ro[] = {"/usr", "/lib", "/proc",   "/dev/urandom",
                                     "/app", "/etc", "/var/log"};
    static const char *const rw[] = {"/tmp", "/dev/null", "."};
    for (size_t i = 0; i < OSS_ARRAY_SIZE(ro) + OSS_ARRAY_SIZE(rw); i++) {
        bool w = i >= OSS_ARRAY_SIZE(ro);
        const char *p = w ? rw[i - OSS_ARRAY_SIZE(ro)] : ro[i];
        int fd = open(p, O_PATH | O_CLOEXEC);
        if (fd < 0)
            continue;
        struct stat st;
        __u64 acc = w ? all : rd;
        if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
            acc &= LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE |
                   LANDLOCK_ACCESS_FS_WRITE_FILE; /* non-dirs: file rights only */
        struct landlock_path_beneath_attr pb = {.allowed_access = acc, .parent_fd = fd};
        (void)syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
        close(fd);
    }
    /* restrict_self also sets NO_NEW_PRIVS (landlock crate, ruleset.rs). */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || syscall(SYS_landlock_restrict_self, rs, 0))
        return -1;
    close(rs);
    return 0;
}

/* ---- workload ----------------------------------------------------------- */

/* The supervisor's own environment minus these reaches the workload
 * (main P/process.rs@2f7fb65 157-179; 1549 P/process.rs@5112fca71 31-46;
 * 1548 S/process.rs@835f1f92a 154-156). */
static const char *const strip_main[] = {"OPENSHELL_OCI_IMAGE_USER",
                                         "OPENSHELL_SANDBOX_UID",
                                         "OPENSHELL_SANDBOX_GID",
                                         "OPENSHELL_SANDBOX_TOKEN",
                                         "OPENSHELL_SANDBOX_TOKEN_FILE",
                                         "OPENSHELL_K8S_SA_TOKEN_FILE",
                                         "OPENSHELL_TLS_CA",
                                         "OPENSHELL_TLS_CERT",
                                         "OPENSHELL_TLS_KEY",
                                         "OPENSHELL_PROVIDER_SPIFFE_WORKLOAD_API_SOCKET",
                                         "OPENSHELL_NETWORK_RUNTIME_CAPABILITIES",
                                         NULL};
static const char *const strip_1549[] = {"OPENSHELL_SANDBOX_TOKEN", "OPENSHELL_SANDBOX_TOKEN_FILE",
                                         "OPENSHELL_K8S_SA_TOKEN_FILE",
                                         "OPENSHELL_PROVIDER_SPIFFE_WORKLOAD_API_SOCKET", NULL};
static const char *const strip_1548[] = {"OPENSHELL_SANDBOX_TOKEN", "OPENSHELL_SANDBOX_TOKEN_FILE",
                                         "OPENSHELL_K8S_SA_TOKEN_FILE", NULL};

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

/* Proxy variables only on the workload child and only with a namespace fd
 * (policy http_addr is always None outside the sidecar topology): the
 * supervisor never sets them in its own environment (P/process.rs@2f7fb65
 * 764-786, P/child_env.rs 6-22; P/process.rs@5112fca71 480-502;
 * S/process.rs@835f1f92a 164-193). */
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

/* pre_exec errors make spawn() fail: exit 1 (P/process.rs@2f7fb65 833-876). */
static _Noreturn void child_fatal(int fd, const char *name, int e, const char *detail)
{
    child_report(fd, name, "fatal", e, detail);
    _exit(1);
}

/* The pre_exec sequence (main P/process.rs@2f7fb65 833-876; 1549
 * P/process.rs@5112fca71 541-578; 1548 S/process.rs@835f1f92a 221-253). */
static _Noreturn void child_main(const struct standin_config *c, const struct standin_identity *id,
                                 int nsfd, int rfd)
{
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    signal(SIGPIPE, SIG_DFL);
    /* Non-interactive: a process group of its own.  Interactive: main makes
     * the workload a session leader on a PTY (setsid + TIOCSCTTY; the
     * stand-in emulates no PTY, so only the session), the pull requests
     * leave it in the supervisor's group (main P/process.rs@2f7fb65 820-840,
     * 1549 P/process.rs@5112fca71 526-545). */
    if (!c->interactive)
        (void)setpgid(0, 0);
    else if (c->variant == STANDIN_MAIN)
        (void)setsid();

    if (nsfd >= 0) {
        if (setns(nsfd, CLONE_NEWNET) < 0)
            child_fatal(rfd, "setns", errno, "setns into the sandbox namespace");
        close(nsfd);
        child_report(rfd, "setns", "ok", 0, rep.ns_name);
    }

    const char *call = NULL;
    if (standin_privdrop(c->variant, id, &call) < 0) {
        char d[96];
        snprintf(d, sizeof d, "%s to %u:%u", call, (unsigned)id->uid, (unsigned)id->gid);
        child_fatal(rfd, "privdrop", errno, d); /* no switch skips it in any variant */
    }
    child_report(rfd, "privdrop", "ok", 0, geteuid() == id->uid ? "as the sandbox identity" : "");

    /* harden_child_process: no core dumps, not dumpable; 1548 also caps
     * RLIMIT_NPROC at 512 (P/process.rs@5112fca71 57-78;
     * S/process.rs@835f1f92a 31-64). */
    struct rlimit zero = {0, 0}, nproc = {512, 512};
    if (setrlimit(RLIMIT_CORE, &zero) < 0)
        child_fatal(rfd, "harden", errno, "RLIMIT_CORE");
    if (c->variant == STANDIN_PR1548 && setrlimit(RLIMIT_NPROC, &nproc) < 0)
        child_fatal(rfd, "harden", errno, "RLIMIT_NPROC");
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        child_fatal(rfd, "harden", errno, "PR_SET_DUMPABLE");

    if (landlock_apply() < 0)
        child_report(rfd, "landlock_enforce", "degraded", errno, "landlock-enforce-failed");

    oss_error err = {0};
    if (c->variant == STANDIN_PR1549 && (c->skip & STANDIN_SKIP_WL_SECC)) {
        child_report(rfd, "workload_seccomp", "skipped", 0, "OPENSHELL_SKIP_BOOTSTRAP");
    } else if (standin_seccomp_workload(c->variant == STANDIN_PR1548, &err) < 0) {
        if (c->variant != STANDIN_PR1548 || !c->best_effort)
            child_fatal(rfd, "workload_seccomp", err.code, err.msg);
        child_report(rfd, "workload_seccomp", "degraded", err.code, err.msg);
    } else {
        child_report(rfd, "workload_seccomp", "ok", 0, NULL);
    }

    execvp(c->argv[0], c->argv);
    int e = errno;
    child_report(rfd, "exec", "fatal", e, c->argv[0]);
    _exit(1); /* spawn() fails: the supervisor exits 1 */
}

static void child_env(const struct standin_config *c)
{
    const char *const *strip = c->variant == STANDIN_MAIN     ? strip_main
                               : c->variant == STANDIN_PR1549 ? strip_1549
                                                              : strip_1548;
    for (size_t i = 0; strip[i]; i++)
        unsetenv(strip[i]);
    setenv("OPENSHELL_SANDBOX", "1", 1); /* P/process.rs@2f7fb65 720 */
    for (size_t i = 0; i < rep.nenv; i++)
        setenv(rep.env_keys[i], rep.env_vals[i], 1);
}

/* Returns the pid; exits 1 when the child reported a fatal step. */
static pid_t spawn(const struct standin_config *c, const struct standin_identity *id, int nsfd)
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
        child_env(c);
        child_main(c, id, nsfd, p[1]);
    }
    close(p[1]);
    if (!c->interactive)
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
    return -1; /* P/process.rs@2f7fb65 2350-2354 */
}

/* While the workload runs: main forwards SIGTERM to the workload's group and
 * exits with its code (P/run.rs@2f7fb65 494-589); pull requests 1549/1548
 * have no SIGTERM handler in process mode: the default action kills the
 * supervisor (the workload is left to the shim).  Network-only main
 * (--mode network) exits 0 on SIGINT/SIGTERM (S/lib.rs@2f7fb65 942-966).
 * Orphans are reaped (P/run.rs@2f7fb65 159-217). */
static int serve(const struct standin_config *c, int sfd, int lfd, pid_t workload)
{
    struct pollfd pfd[2] = {{.fd = sfd, .events = POLLIN}, {.fd = lfd, .events = POLLIN}};
    for (;;) {
        if (poll(pfd, lfd >= 0 ? 2 : 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_error("poll: %s", strerror(errno));
            return 1;
        }
        if (lfd >= 0 && (pfd[1].revents & POLLIN))
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
        if (workload <= 0)
            return 0; /* network-only: SIGINT/SIGTERM -> 0 */
        if (c->variant == STANDIN_MAIN && si.ssi_signo == SIGTERM)
            kill(-workload, SIGTERM);
    }
}

int main(int argc, char **argv)
{
    struct standin_config c = {0};
    standin_parse_args(argc, argv, &c);
    rep.sandbox_id = c.sandbox_id;
    rep.variant = standin_variant_name(c.variant);
    rep.best_effort = c.best_effort;
    snprintf(rep.skip, sizeof rep.skip, "%s%s%s", c.skip & STANDIN_SKIP_NETNS ? "netns," : "",
             c.skip & STANDIN_SKIP_SUP_SECC ? "supervisor-seccomp," : "",
             c.skip & STANDIN_SKIP_WL_SECC ? "workload-seccomp," : "");
    if (rep.skip[0])
        rep.skip[strlen(rep.skip) - 1] = '\0';

    /* Signals: SIGCHLD always through a signalfd; SIGTERM/SIGINT only
     * where upstream handles them (main in process mode: SIGTERM; network-
     * only: both).  Everything else keeps its default action, as upstream. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    if (c.variant == STANDIN_MAIN)
        sigaddset(&mask, SIGTERM);
    if (c.variant == STANDIN_MAIN && !c.process)
        sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    _cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) {
        log_error("signalfd: %s", strerror(errno));
        return 1;
    }

    step_policy(&c);
    struct standin_identity id = {0};
    char why[160];
    bool id_ok = standin_identity_resolve(&c, &id, why, sizeof why) == 0;
    /* When the identity is checked: main's driver identity (numeric range)
     * before the network (S/lib.rs@2f7fb65 212-230), its user names after it
     * (P/run.rs@2f7fb65 95-99); 1548 before the network (S/lib.rs@835f1f92a
     * 378); 1549 after it (P/run.rs@5112fca71 74). */
    bool id_early = c.variant == STANDIN_PR1548 || (c.variant == STANDIN_MAIN && c.run_as);
    if (!id_ok && c.process && id_early)
        step_fatal("identity", 0, why);

    _cleanup_close_ int nsfd = -1;
    _cleanup_close_ int lfd = -1;
    if (c.variant == STANDIN_PR1548) {
        step_netns(&c, &nsfd);
        step_prelude(&c); /* S/lib.rs@835f1f92a 601-603: before the proxy */
        step_proxy(&c, &lfd);
    } else {
        step_netns(&c, &nsfd);
        step_proxy(&c, &lfd);
        if (!id_ok && c.process)
            step_fatal("identity", 0, why);
        if (c.process)
            step_prelude(&c);
    }

    pid_t pid = -1;
    if (c.process) {
        step_landlock();
        pid = spawn(&c, &id, nsfd);
        rep.phase = "running";
    } else {
        rep.phase = "serving";
    }
    close(TAKE_FD(nsfd));
    standin_report_write(&rep);

    int code = serve(&c, sfd, lfd, pid);
    janitor_finish();
    rep.phase = "exited";
    rep.exit_code = code;
    standin_report_write(&rep);
    return code;
}
