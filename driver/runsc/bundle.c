/* Pure decisions of the runsc backend: which root filesystem an image is,
 * which addresses a network slot has, what the actor runs, and the OCI spec
 * runsc gets.  No I/O here: tests/driver/runsc/test_bundle.c compares the
 * output with golden files. */
#include "internal.h"

#include "cleanup.h"
#include "json.h"
#include "validate.h"
#include "drv_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grpc/status.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>

int drv_runsc_rootfs_path(const char *rootfs_dir, bool allow_host, const char *image, char *ret,
                          size_t n, oss_error *err)
{
    if (image == NULL || image[0] == '\0')
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_INVALID_ARGUMENT, "sandbox has no image");
    if (strcmp(image, DRV_RUNSC_HOST_IMAGE) == 0) {
        /* the host's / is the operator's choice, never a caller's */
        if (!allow_host)
            return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_FAILED_PRECONDITION,
                           "image \"" DRV_RUNSC_HOST_IMAGE "\" (the host's /) is off: give the "
                           "sandbox an image under rootfs_dir, or start the driver with "
                           "--runsc-host-rootfs (trusted single-user machines only)");
        snprintf(ret, n, "/");
        return 0;
    }
    if (rootfs_dir == NULL || rootfs_dir[0] == '\0')
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_FAILED_PRECONDITION,
                       "image \"%.200s\" needs a root filesystem but the driver has no "
                       "rootfs_dir configured (--rootfs-dir DIR)",
                       image);
    char name[256];
    size_t len = strlen(image);
    if (len >= sizeof name)
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_INVALID_ARGUMENT,
                       "image reference is longer than %zu bytes", sizeof name - 1);
    for (size_t i = 0; i < len; i++) {
        char ch = image[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
        name[i] = ok ? ch : '_';
    }
    name[len] = '\0';
    /* "." and ".." and hidden names would escape or confuse the directory */
    if (name[0] == '.')
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_INVALID_ARGUMENT,
                       "image reference \"%.200s\" maps to a hidden directory name", image);
    int w = snprintf(ret, n, "%s/%s", rootfs_dir, name);
    if (w < 0 || (size_t)w >= n)
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_INVALID_ARGUMENT,
                       "root filesystem path for \"%.200s\" is too long", image);
    return 0;
}

int drv_runsc_pool_parse(const char *cidr, struct drv_runsc_pool *ret, oss_error *err)
{
    char ip[32];
    const char *slash = cidr != NULL ? strchr(cidr, '/') : NULL;
    if (slash == NULL || (size_t)(slash - cidr) >= sizeof ip)
        return oss_err(err, OSS_ERR_INVALID, EINVAL, "runsc_subnet \"%s\" is not a.b.c.d/len",
                       cidr != NULL ? cidr : "");
    memcpy(ip, cidr, (size_t)(slash - cidr));
    ip[slash - cidr] = '\0';
    char *end = NULL;
    errno = 0;
    long plen = strtol(slash + 1, &end, 10);
    struct in_addr a;
    if (errno != 0 || end == slash + 1 || *end != '\0' || plen < 8 || plen > 28 ||
        inet_pton(AF_INET, ip, &a) != 1)
        return oss_err(err, OSS_ERR_INVALID, EINVAL,
                       "runsc_subnet \"%s\" must be an IPv4 a.b.c.d/len with len 8..28", cidr);
    uint32_t base = ntohl(a.s_addr);
    uint32_t mask = plen == 0 ? 0 : 0xffffffffu << (32 - plen);
    if ((base & ~mask) != 0)
        return oss_err(err, OSS_ERR_INVALID, EINVAL, "runsc_subnet \"%s\" has host bits set", cidr);
    unsigned slots = 1u << (30 - plen);
    struct drv_runsc_pool p = {.base = base,
                               .nslots = slots > DRV_RUNSC_SLOT_MAX ? DRV_RUNSC_SLOT_MAX : slots};
    *ret = p;
    return 0;
}

static void ip_str(uint32_t host, char *out, size_t n)
{
    snprintf(out, n, "%u.%u.%u.%u", host >> 24, (host >> 16) & 255, (host >> 8) & 255, host & 255);
}

void drv_runsc_net_names(const struct drv_runsc_pool *p, const char *tag, unsigned slot,
                         struct drv_runsc_net_names *ret)
{
    struct drv_runsc_net_names n;
    memset(&n, 0, sizeof n);
    uint32_t b = p->base + 4u * slot;
    snprintf(n.ns, sizeof n.ns, "ossr-%s-%u", tag, slot);
    snprintf(n.host_if, sizeof n.host_if, "orh%s%04x", tag, slot & 0xffff);
    snprintf(n.peer_if, sizeof n.peer_if, "ors%s%04x", tag, slot & 0xffff);
    ip_str(b + 1, n.gateway, sizeof n.gateway);
    ip_str(b + 2, n.address, sizeof n.address);
    snprintf(n.host_cidr, sizeof n.host_cidr, "%s/30", n.gateway);
    snprintf(n.peer_cidr, sizeof n.peer_cidr, "%s/30", n.address);
    *ret = n;
}

void drv_runsc_state_tag(const char *state_dir, char ret[6])
{
    /* FNV-1a: stable across runs, which is all a name needs */
    uint32_t h = 2166136261u;
    for (const unsigned char *s = (const unsigned char *)state_dir; *s; s++)
        h = (h ^ *s) * 16777619u;
    snprintf(ret, 6, "%05x", h & 0xfffff);
}

void drv_runsc_uuid_format(const unsigned char raw[16], char out[DRV_RUNSC_UUID_LEN + 1])
{
    /* RFC 9562 version 4: the version nibble 4, the variant bits 10 */
    unsigned char b[16];
    memcpy(b, raw, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[k++] = '-';
        out[k++] = hex[b[i] >> 4];
        out[k++] = hex[b[i] & 15];
    }
    out[k] = '\0';
}

/* ---- argv and environment ---- */

struct strv {
    char **v;
    size_t n;
};

static void sv_add(struct strv *s, const char *x)
{
    char **nv = realloc(s->v, (s->n + 2) * sizeof *nv);
    if (nv == NULL)
        abort();
    s->v = nv;
    s->v[s->n++] = drv_strdup(x);
    s->v[s->n] = NULL;
}

/* prefix + value, e.g. "--degrade=" + "all" */
static void sv_addf(struct strv *s, const char *prefix, const char *a)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s%s", prefix, a);
    sv_add(s, buf);
}

void drv_runsc_strv_free(char **v)
{
    for (char **p = v; p != NULL && *p != NULL; p++)
        free(*p);
    free(v);
}

size_t drv_runsc_strv_len(char *const *v)
{
    size_t n = 0;
    while (v != NULL && v[n] != NULL)
        n++;
    return n;
}

int drv_runsc_argv(const struct drv_config *c, const struct drv_sandbox_spec *s, char ***ret,
                   oss_error *err)
{
    struct strv a = {0};
    char num[32];
    sv_add(&a, c->shim_path);
    sv_addf(&a, "--degrade=", c->shim_degrade != NULL ? c->shim_degrade : "none");
    snprintf(num, sizeof num, "%d", c->shim_readyz_port);
    sv_addf(&a, "--readyz-port=", num);
    sv_add(&a, "--identity-file=" DRV_RUNSC_IDENTITY_FILE);
    sv_addf(&a, "--restart=", c->shim_restart != NULL ? c->shim_restart : "never");
    if (c->shim_stay_alive)
        sv_add(&a, "--stay-alive");
    /* a terminal was asked for: as the Substrate template does, a stdin that
     * stays open for the shell, and -i for the supervisor (docs/shim.md,
     * "As init"; docs/platform/supervisor.md, "Main process and tty") */
    if (s->tty)
        sv_add(&a, "--hold-stdin");
    /* the actor's name, as a template passes it: the shim compares it with
     * /run/ate/actor-id to tell a golden boot from the actor's own
     * (opt-in until every shim in use knows the flag) */
    if (c->runsc_shim_actor)
        sv_addf(&a, "--actor=", s->id);
    sv_add(&a, "--");
    sv_add(&a, c->supervisor_path);
    sv_add(&a, "--sandbox-id");
    sv_add(&a, s->id);
    if (c->gateway_endpoint != NULL && c->gateway_endpoint[0] != '\0') {
        sv_add(&a, "--openshell-endpoint");
        sv_add(&a, c->gateway_endpoint);
    }
    if (s->tty)
        sv_add(&a, "-i");
    sv_add(&a, "--");
    size_t before = a.n;
    for (char **p = s->command; p != NULL && *p != NULL; p++)
        sv_add(&a, *p);
    if (a.n == before && c->default_workload != NULL && c->default_workload[0] != '\0') {
        json_object *o = json_tokener_parse(c->default_workload);
        if (o != NULL && json_object_is_type(o, json_type_array))
            for (size_t i = 0; i < json_object_array_length(o); i++)
                sv_add(&a, json_object_get_string(json_object_array_get_idx(o, i)));
        json_object_put(o);
    }
    if (a.n == before) {
        drv_runsc_strv_free(a.v);
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_FAILED_PRECONDITION,
                       "sandbox has no command and the driver has no default_workload");
    }
    *ret = a.v;
    return 0;
}

/* The driver's names (drv_env_reserved), and PATH, which the runsc
 * backend sets for the sandbox's tools. */
static bool reserved(const char *k)
{
    return drv_env_reserved(k) || strcmp(k, "PATH") == 0;
}

int drv_runsc_env(const struct drv_config *c, const struct drv_sandbox_spec *s, char ***ret,
                  oss_error *err)
{
    (void)err;
    struct strv e = {0};
    char buf[4096];
    sv_add(&e, DRV_RUNSC_PATH_ENV);
    sv_addf(&e, "OPENSHELL_SANDBOX_ID=", s->id);
    /* reserved (drv_env_reserved): the supervisor's policy sync needs it */
    if (s->name != NULL && s->name[0] != '\0')
        sv_addf(&e, "OPENSHELL_SANDBOX=", s->name);
    if (c->gateway_endpoint != NULL && c->gateway_endpoint[0] != '\0')
        sv_addf(&e, "OPENSHELL_ENDPOINT=", c->gateway_endpoint);
    if (c->ssh_socket_path != NULL && c->ssh_socket_path[0] != '\0')
        sv_addf(&e, "OPENSHELL_SSH_SOCKET_PATH=", c->ssh_socket_path);
    /* the token itself is a file, as a Secret would be: never an env value */
    if (s->sandbox_token != NULL && s->sandbox_token[0] != '\0')
        sv_add(&e, "OPENSHELL_SANDBOX_TOKEN_FILE=" DRV_RUNSC_TOKEN_FILE);
    for (size_t i = 0; i < s->nenv; i++) {
        if (reserved(s->env[i].key))
            continue; /* identity variables cannot be overridden by the caller */
        snprintf(buf, sizeof buf, "%s=%s", s->env[i].key, s->env[i].value);
        sv_add(&e, buf);
    }
    *ret = e.v;
    return 0;
}

/* ---- the OCI spec ---- */

static void str_list(oss_json *j, const char *key, const char *const *v)
{
    oss_json_key(j, key);
    oss_json_arr_begin(j);
    for (size_t i = 0; v[i] != NULL; i++)
        oss_json_str(j, v[i]);
    oss_json_arr_end(j);
}

static void str_array(oss_json *j, const char *key, char *const *v)
{
    oss_json_key(j, key);
    oss_json_arr_begin(j);
    for (size_t i = 0; v != NULL && v[i] != NULL; i++)
        oss_json_str(j, v[i]);
    oss_json_arr_end(j);
}

static void mount_tmpfs(oss_json *j, const char *dst, const char *const *opts)
{
    oss_json_obj_begin(j);
    oss_json_kv_str(j, "destination", dst);
    oss_json_kv_str(j, "type", "tmpfs");
    oss_json_kv_str(j, "source", "tmpfs");
    str_list(j, "options", opts);
    oss_json_obj_end(j);
}

static void mount_bind_ro(oss_json *j, const char *dst, const char *src)
{
    static const char *const opts[] = {"rbind", "ro", "nosuid", "nodev", NULL};
    oss_json_obj_begin(j);
    oss_json_kv_str(j, "destination", dst);
    oss_json_kv_str(j, "type", "bind");
    oss_json_kv_str(j, "source", src);
    str_list(j, "options", opts);
    oss_json_obj_end(j);
}

/* True when path lies under one of the tmpfs mounts of the spec. */
static bool under_tmpfs(const char *path)
{
    static const char *const dirs[] = {"/tmp/", "/run/", "/dev/"};
    for (size_t i = 0; i < OSS_ARRAY_SIZE(dirs); i++)
        if (strncmp(path, dirs[i], strlen(dirs[i])) == 0)
            return true;
    return false;
}

/* With the host's / as the root filesystem (image local/host, an operator's
 * flag) the shim and the supervisor named by the driver's configuration are
 * host paths; those under /tmp, /run or /dev would be hidden by the spec's
 * tmpfs mounts, so their directories are bound back read-only.  Only those
 * configured files: never a path from the caller's command, which would let
 * a caller bind any host directory (another sandbox's token) into its
 * sandbox. */
static void mount_configured_executables(oss_json *j, const struct drv_runsc_bundle_in *in)
{
    if (strcmp(in->rootfs, "/") != 0 || in->host_executables == NULL)
        return;
    char done[4][PATH_MAX];
    size_t ndone = 0;
    for (size_t i = 0; in->host_executables[i] != NULL; i++) {
        const char *a = in->host_executables[i];
        if (a[0] != '/' || !under_tmpfs(a) || strlen(a) >= PATH_MAX)
            continue;
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", a);
        char *slash = strrchr(dir, '/');
        if (slash == NULL || slash == dir)
            continue;
        *slash = '\0';
        bool seen = false;
        for (size_t k = 0; k < ndone; k++)
            seen = seen || strcmp(done[k], dir) == 0;
        if (seen || ndone == OSS_ARRAY_SIZE(done))
            continue;
        snprintf(done[ndone++], PATH_MAX, "%s", dir);
        mount_bind_ro(j, dir, dir);
    }
}

void drv_runsc_bundle_json(const struct drv_runsc_bundle_in *in, oss_buf *out)
{
    /* Substrate's container (docs/platform/substrate.md,
     * "The container process"): uid 0, exactly three
     * capabilities in bounding = effective = permitted, none ambient or
     * inheritable, no NO_NEW_PRIVS, no seccomp, NOFILE 1024, cwd /, no
     * terminal, hostname runsc, its own PID namespace. */
    static const char *const caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL};
    static const char *const dev_opts[] = {"nosuid", "strictatime", "mode=755", "size=65536k",
                                           NULL};
    static const char *const tmp_opts[] = {"nosuid", "nodev", NULL};
    static const char *const hide_opts[] = {"nosuid", "nodev", "noexec", "ro", "size=4k", NULL};
    oss_json j;
    oss_json_init(&j, out);
    oss_json_obj_begin(&j);
    oss_json_kv_str(&j, "ociVersion", "1.0.2");

    oss_json_key(&j, "process");
    oss_json_obj_begin(&j);
    oss_json_kv_bool(&j, "terminal", false);
    oss_json_key(&j, "user");
    oss_json_obj_begin(&j);
    oss_json_kv_int(&j, "uid", in->uid);
    oss_json_kv_int(&j, "gid", in->gid);
    oss_json_obj_end(&j);
    str_array(&j, "args", in->argv);
    str_array(&j, "env", in->env);
    oss_json_kv_str(&j, "cwd", "/");
    oss_json_key(&j, "capabilities");
    oss_json_obj_begin(&j);
    str_list(&j, "bounding", caps);
    str_list(&j, "effective", caps);
    str_list(&j, "permitted", caps);
    oss_json_obj_end(&j);
    oss_json_key(&j, "rlimits");
    oss_json_arr_begin(&j);
    oss_json_obj_begin(&j);
    oss_json_kv_str(&j, "type", "RLIMIT_NOFILE");
    oss_json_kv_int(&j, "hard", 1024);
    oss_json_kv_int(&j, "soft", 1024);
    oss_json_obj_end(&j);
    oss_json_arr_end(&j);
    oss_json_kv_bool(&j, "noNewPrivileges", false);
    oss_json_obj_end(&j);

    oss_json_key(&j, "root");
    oss_json_obj_begin(&j);
    oss_json_kv_str(&j, "path", in->rootfs);
    oss_json_kv_bool(&j, "readonly", true);
    oss_json_obj_end(&j);
    oss_json_kv_str(&j, "hostname", "runsc");

    oss_json_key(&j, "mounts");
    oss_json_arr_begin(&j);
    oss_json_obj_begin(&j);
    oss_json_kv_str(&j, "destination", "/proc");
    oss_json_kv_str(&j, "type", "proc");
    oss_json_kv_str(&j, "source", "proc");
    oss_json_obj_end(&j);
    mount_tmpfs(&j, "/dev", dev_opts);
    mount_tmpfs(&j, "/tmp", tmp_opts);
    mount_tmpfs(&j, "/run", tmp_opts);
    mount_bind_ro(&j, DRV_RUNSC_IDENTITY_DIR, in->identity_dir);
    if (in->token_dir != NULL)
        mount_bind_ro(&j, DRV_RUNSC_TOKEN_DIR, in->token_dir);
    mount_configured_executables(&j, in);
    /* the host's /: the driver's own state (every sandbox's token) is
     * covered by an empty tmpfs, whatever the caller runs */
    if (strcmp(in->rootfs, "/") == 0 && in->hide_dir != NULL && in->hide_dir[0] == '/')
        mount_tmpfs(&j, in->hide_dir, hide_opts);
    oss_json_arr_end(&j);

    oss_json_key(&j, "linux");
    oss_json_obj_begin(&j);
    oss_json_key(&j, "namespaces");
    oss_json_arr_begin(&j);
    static const char *const ns[] = {"pid", "ipc", "uts", "mount"};
    for (size_t i = 0; i < OSS_ARRAY_SIZE(ns); i++) {
        oss_json_obj_begin(&j);
        oss_json_kv_str(&j, "type", ns[i]);
        oss_json_obj_end(&j);
    }
    oss_json_obj_begin(&j);
    oss_json_kv_str(&j, "type", "network");
    oss_json_kv_str(&j, "path", in->netns_path);
    oss_json_obj_end(&j);
    oss_json_arr_end(&j);
    oss_json_obj_end(&j);

    oss_json_obj_end(&j);
    oss_buf_putc(out, '\n');
}
