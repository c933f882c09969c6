/* `openshell-driver-substrate check-config` (see check_config.h).
 *
 * The checks mirror what the backends do later, so a finding here is a
 * failure that would otherwise surface at start or at the first
 * CreateSandbox: substrate/ateapi.c reads the CA and client key at open and
 * the bearer token on every RPC; substrate/kube.c requires the Kubernetes
 * token and CA files it is configured with; substrate/template.c refuses a
 * CreateSandbox without a digest-pinned pause_image, snapshots_location or
 * gateway_endpoint; server/listen.c refuses a shared socket directory. */
#include "check_config.h"

#include "cleanup.h"
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PEM_CERT "-----BEGIN CERTIFICATE-----"
#define FILE_MAX (1024 * 1024)

bool drv_image_digest_pinned(const char *ref)
{
    if (ref == NULL)
        return false;
    const char *at = strchr(ref, '@');
    if (at == NULL || at == ref || strchr(at + 1, '@') != NULL)
        return false;
    if (strncmp(at + 1, "sha256:", 7) != 0)
        return false;
    const char *hex = at + 8;
    size_t n = 0;
    for (; hex[n] != '\0'; n++)
        if (!isxdigit((unsigned char)hex[n]) || isupper((unsigned char)hex[n]))
            return false;
    return n == 64;
}

enum drv_finding drv_sockdir_finding(const struct stat *st, uid_t self, const char **why)
{
    if (st == NULL) {
        *why = "does not exist yet: the driver creates it 0700 at start";
        return DRV_FINDING_OK;
    }
    if (!S_ISDIR(st->st_mode)) {
        *why = "is not a directory";
        return DRV_FINDING_ERROR;
    }
    if (st->st_uid == self) {
        if ((st->st_mode & 0077) != 0) {
            *why = "is ours but open to others: the driver tightens it to 0700 at start";
            return DRV_FINDING_WARN;
        }
        *why = "is ours and 0700";
        return DRV_FINDING_OK;
    }
    if ((st->st_mode & 0022) != 0 && !(st->st_mode & S_ISVTX)) {
        *why = "is writable by others and not ours: the driver refuses it";
        return DRV_FINDING_ERROR;
    }
    /* Allowed by listen.c (a root-owned 0755 /run, say), but the gateway
     * then trusts whoever owns the directory as well. */
    *why = "is not ours (the driver accepts it; its owner could replace the socket)";
    return DRV_FINDING_WARN;
}

struct report {
    FILE *out;
    unsigned errors, warnings;
};

__attribute__((format(printf, 3, 4))) static void finding(struct report *r, enum drv_finding f,
                                                          const char *fmt, ...)
{
    static const char *const tag[] = {"ok", "warn", "error"};
    if (f == DRV_FINDING_ERROR)
        r->errors++;
    else if (f == DRV_FINDING_WARN)
        r->warnings++;
    fprintf(r->out, "%-5s ", tag[f]);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(r->out, fmt, ap);
    va_end(ap);
    fputc('\n', r->out);
}

static bool set(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* A regular file we can open and read, not empty; `want` (optional) must
 * appear in its first FILE_MAX bytes.  Never prints the contents: a token
 * file is a secret. */
static void check_file(struct report *r, const char *key, const char *path, const char *want,
                       const char *what)
{
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    if (f == NULL) {
        finding(r, DRV_FINDING_ERROR, "%s: %s %s: %s", key, what, path, strerror(errno));
        return;
    }
    _cleanup_free_ char *buf = malloc(FILE_MAX + 1);
    if (buf == NULL) {
        finding(r, DRV_FINDING_ERROR, "%s: out of memory", key);
        return;
    }
    size_t n = fread(buf, 1, FILE_MAX, f);
    bool failed = ferror(f);
    buf[n] = '\0';
    bool found = want == NULL || strstr(buf, want) != NULL;
    explicit_bzero(buf, n);
    if (failed)
        finding(r, DRV_FINDING_ERROR, "%s: %s %s: read error", key, what, path);
    else if (n == 0)
        finding(r, DRV_FINDING_ERROR, "%s: %s %s is empty", key, what, path);
    else if (!found)
        finding(r, DRV_FINDING_ERROR, "%s: %s %s holds no PEM certificate", key, what, path);
    else
        finding(r, DRV_FINDING_OK, "%s: %s %s readable", key, what, path);
}

static void check_socket(struct report *r, const char *socket)
{
    _cleanup_free_ char *copy = strdup(socket);
    if (copy == NULL) {
        finding(r, DRV_FINDING_ERROR, "socket: out of memory");
        return;
    }
    const char *dir = dirname(copy);
    struct stat st;
    const char *why = "";
    if (stat(dir, &st) < 0) {
        if (errno != ENOENT) {
            finding(r, DRV_FINDING_ERROR, "socket: directory %s: %s", dir, strerror(errno));
            return;
        }
        enum drv_finding f = drv_sockdir_finding(NULL, geteuid(), &why);
        finding(r, f, "socket: directory %s %s", dir, why);
        return;
    }
    /* sequenced: `why` is only set by the call */
    enum drv_finding f = drv_sockdir_finding(&st, geteuid(), &why);
    finding(r, f, "socket: directory %s %s", dir, why);
    if (lstat(socket, &st) == 0 && !S_ISSOCK(st.st_mode))
        finding(r, DRV_FINDING_ERROR, "socket: %s exists and is not a socket", socket);
}

static void check_substrate(struct report *r, const struct drv_config *c)
{
    finding(r, DRV_FINDING_OK, "api_endpoint: %s (atespace %s, server name %s)", c->api_endpoint,
            set(c->atespace) ? c->atespace : "openshell",
            set(c->api_tls_server_name) ? c->api_tls_server_name : "(none)");
    if (c->api_plaintext) {
        finding(r, DRV_FINDING_WARN,
                "api_plaintext: TLS to the ate-api-server is off (tests only)");
    } else {
        if (set(c->api_tls_ca_path))
            check_file(r, "api_tls_ca_path", c->api_tls_ca_path, PEM_CERT, "CA bundle");
        else
            finding(r, DRV_FINDING_WARN,
                    "api_tls_ca_path: unset, the system trust store must know the "
                    "ate-api-server's certificate");
        if (set(c->api_tls_cert_path) != set(c->api_tls_key_path))
            finding(r, DRV_FINDING_ERROR,
                    "api_tls_cert_path and api_tls_key_path must be set together");
        if (set(c->api_tls_cert_path))
            check_file(r, "api_tls_cert_path", c->api_tls_cert_path, PEM_CERT,
                       "client certificate");
        if (set(c->api_tls_key_path))
            check_file(r, "api_tls_key_path", c->api_tls_key_path, NULL, "client key");
    }
    if (set(c->api_bearer_token_path))
        check_file(r, "api_bearer_token_path", c->api_bearer_token_path, NULL, "token file");
    else
        finding(r, DRV_FINDING_WARN,
                "api_bearer_token_path: unset, only an ate-api-server without JWT mode "
                "accepts the driver");

    /* kube.c requires both files once they are configured, and the table's
     * defaults configure the service account's. */
    finding(r, DRV_FINDING_OK, "kube_api_url: %s, namespace %s", c->kube_api_url,
            c->default_namespace);
    if (set(c->kube_token_path))
        check_file(r, "kube_token_path", c->kube_token_path, NULL, "token file");
    if (set(c->kube_ca_path))
        check_file(r, "kube_ca_path", c->kube_ca_path, PEM_CERT, "CA bundle");

    if (!set(c->pause_image))
        finding(r, DRV_FINDING_ERROR, "pause_image: unset, every CreateSandbox would fail");
    else if (!drv_image_digest_pinned(c->pause_image))
        finding(r, DRV_FINDING_ERROR, "pause_image: %s is not pinned by a sha256 digest",
                c->pause_image);
    else
        finding(r, DRV_FINDING_OK, "pause_image: pinned by digest");
    if (!set(c->snapshots_location))
        finding(r, DRV_FINDING_ERROR, "snapshots_location: unset, every CreateSandbox would fail");
    else
        finding(r, DRV_FINDING_OK, "snapshots_location: %s", c->snapshots_location);
    if (!set(c->gateway_endpoint))
        finding(r, DRV_FINDING_ERROR,
                "gateway_endpoint: unset, supervisors would have no gateway to connect to");
    else
        finding(r, DRV_FINDING_OK, "gateway_endpoint: %s", c->gateway_endpoint);
}

static bool executable_on_path(const char *name)
{
    if (strchr(name, '/') != NULL)
        return access(name, X_OK) == 0;
    const char *path = getenv("PATH");
    _cleanup_free_ char *copy = strdup(path != NULL ? path : "/usr/bin:/bin");
    if (copy == NULL)
        return false;
    char *save = NULL;
    for (char *d = strtok_r(copy, ":", &save); d != NULL; d = strtok_r(NULL, ":", &save)) {
        _cleanup_free_ char *p = NULL;
        if (asprintf(&p, "%s/%s", d, name) >= 0 && access(p, X_OK) == 0)
            return true;
    }
    return false;
}

static void check_runsc(struct report *r, const struct drv_config *c)
{
    struct stat st;
    if (stat(c->state_dir, &st) < 0)
        finding(r, errno == ENOENT ? DRV_FINDING_OK : DRV_FINDING_ERROR, "state_dir: %s %s",
                c->state_dir,
                errno == ENOENT ? "does not exist yet: created at start" : strerror(errno));
    else if (!S_ISDIR(st.st_mode))
        finding(r, DRV_FINDING_ERROR, "state_dir: %s is not a directory", c->state_dir);
    else
        finding(r, DRV_FINDING_OK, "state_dir: %s", c->state_dir);
    if (!set(c->rootfs_dir))
        finding(r, DRV_FINDING_WARN, "rootfs_dir: unset, no image can be run");
    else if (stat(c->rootfs_dir, &st) < 0 || !S_ISDIR(st.st_mode))
        finding(r, DRV_FINDING_ERROR, "rootfs_dir: %s is not a directory", c->rootfs_dir);
    else
        finding(r, DRV_FINDING_OK, "rootfs_dir: %s", c->rootfs_dir);
    if (executable_on_path(c->runsc_path))
        finding(r, DRV_FINDING_OK, "runsc_path: %s found", c->runsc_path);
    else
        finding(r, DRV_FINDING_ERROR, "runsc_path: %s not found or not executable", c->runsc_path);
}

int drv_check_config_main(int argc, char **argv, char *const *envp, FILE *out)
{
    struct report r = {.out = out};
    struct drv_config cfg;
    drv_config_defaults(&cfg);
    oss_error err = {0};
    /* drv_config_load skips argv[0], which is "check-config" here */
    if (drv_config_load(&cfg, argc, argv, envp, &err) < 0 || drv_config_validate(&cfg, &err) < 0) {
        finding(&r, DRV_FINDING_ERROR, "configuration: %s", err.msg);
        drv_config_free(&cfg);
        fprintf(out, "check-config: the configuration does not load; a start would exit 2\n");
        return 2;
    }
    enum drv_backend_kind kind = cfg.backend;
    if (kind == DRV_BACKEND_AUTO)
        kind = set(cfg.api_endpoint) ? DRV_BACKEND_SUBSTRATE : DRV_BACKEND_RUNSC;
    finding(&r, DRV_FINDING_OK, "configuration: loaded%s%s, backend %s",
            set(cfg.config_file) ? " from " : "", set(cfg.config_file) ? cfg.config_file : "",
            kind == DRV_BACKEND_SUBSTRATE ? "substrate" : "runsc");
    check_socket(&r, cfg.socket);
    if (kind == DRV_BACKEND_SUBSTRATE)
        check_substrate(&r, &cfg);
    else
        check_runsc(&r, &cfg);
    drv_config_free(&cfg);
    fprintf(out, "check-config: %u error%s, %u warning%s\n", r.errors, r.errors == 1 ? "" : "s",
            r.warnings, r.warnings == 1 ? "" : "s");
    return r.errors ? 1 : 0;
}
