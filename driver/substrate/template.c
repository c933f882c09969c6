/* ActorTemplate / Secret synthesis (see template.h).
 *
 * The container's command is the exact argv Substrate runs (the image's
 * ENTRYPOINT and CMD are ignored, docs/platform/substrate.md,
 * "The container's command"), so the whole chain is spelled
 * out here:
 *
 *   <shim> <shim flags> --actor=ID -- <supervisor> --sandbox-id ID
 *          --openshell-endpoint URL [-i] [-- <workload argv>]
 *
 * Secrets never enter the template: OPENSHELL_SANDBOX_TOKEN is a
 * secretKeyRef to a Secret the driver owns, the gateway client TLS material
 * secretKeyRefs to the Secret the operator names (gateway_tls_secret). */
#include "template.h"

#include "cleanup.h"
#include "drv_json.h"
#include "json.h"
#include "util.h"
#include "validate.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_SHIM_PATH       "/usr/local/bin/openshell-shim"
#define DEFAULT_SUPERVISOR_PATH "/usr/local/bin/openshell-sandbox"
#define DEFAULT_SSH_SOCKET_PATH "/run/openshell/ssh.sock"
#define DEFAULT_NAMESPACE       "default"
#define DEFAULT_READYZ_PORT     8080
#define CONTAINER_NAME          "supervisor"
#define NAME_PREFIX             "osb-"

/* The supervisor reads its gateway client TLS material from files
 * (OPENSHELL_TLS_CA/CERT/KEY), but an ActorTemplate can mount no Secret
 * (its only volume type is durableDir): the PEM texts travel as
 * secretKeyRef env values and the shim writes each to the path the
 * matching OPENSHELL_TLS_* names before it starts the supervisor.  See
 * docs/substrate-backend.md, "Gateway TLS".  The keys are those of a
 * kubernetes.io/tls Secret plus ca.crt, as upstream's client TLS Secret. */
static const struct tls_file {
    const char *path_env, *path, *pem_env, *key;
} tls_files[] = {
    {"OPENSHELL_TLS_CA", DRV_TLS_DIR "/ca.crt", "OPENSHELL_SHIM_TLS_CA_PEM", "ca.crt"},
    {"OPENSHELL_TLS_CERT", DRV_TLS_DIR "/tls.crt", "OPENSHELL_SHIM_TLS_CERT_PEM", "tls.crt"},
    {"OPENSHELL_TLS_KEY", DRV_TLS_DIR "/tls.key", "OPENSHELL_SHIM_TLS_KEY_PEM", "tls.key"},
};
#define NTLS (sizeof tls_files / sizeof tls_files[0])

static bool endpoint_is_https(const struct drv_config *c)
{
    return c != NULL && c->gateway_endpoint != NULL &&
           strncmp(c->gateway_endpoint, "https://", 8) == 0;
}

static bool tls_on(const struct drv_config *c)
{
    return endpoint_is_https(c) && c->gateway_tls_secret != NULL &&
           c->gateway_tls_secret[0] != '\0';
}

static bool user_sets(const struct drv_sandbox_spec *spec, const char *name)
{
    for (size_t i = 0; i < spec->nenv; i++)
        if (spec->env[i].key != NULL && strcmp(spec->env[i].key, name) == 0)
            return true;
    return false;
}

/* OPENSHELL_LOG_LEVEL from spec.log_level, unless the caller's environment
 * sets it: upstream drivers let the caller's value win (docker driver,
 * build_environment_for_oci_user; see docs/platform/supervisor.md, "Log level"). */
static bool own_log_level(const struct drv_sandbox_spec *spec)
{
    return spec->log_level != NULL && spec->log_level[0] != '\0' &&
           !user_sets(spec, "OPENSHELL_LOG_LEVEL");
}

static const char *or_default(const char *v, const char *d)
{
    return (v != NULL && v[0] != '\0') ? v : d;
}

const char *drv_template_namespace(const struct drv_config *c)
{
    return or_default(c->default_namespace, DEFAULT_NAMESPACE);
}

/* FNV-1a: stable across builds and hosts, which a name derivation needs. */
static uint32_t fnv1a32(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

int drv_template_name(const char *sandbox_id, char *ret, size_t size, oss_error *err)
{
    if (sandbox_id == NULL || !oss_dns1123_label_valid(sandbox_id))
        return oss_err(err, OSS_ERR_INVALID, 0,
                       "sandbox id '%s' is not a DNS-1123 label (lower-case letters, digits and "
                       "'-', at most 63 characters)",
                       sandbox_id ? sandbox_id : "");
    char name[DRV_TEMPLATE_NAME_MAX];
    size_t idlen = strlen(sandbox_id);
    if (strlen(NAME_PREFIX) + idlen <= 63) {
        snprintf(name, sizeof name, NAME_PREFIX "%s", sandbox_id);
    } else {
        /* 4 + 50 + 1 + 8 = 63 */
        snprintf(name, sizeof name, NAME_PREFIX "%.50s-%08x", sandbox_id, fnv1a32(sandbox_id));
    }
    if (strlen(name) + 1 > size)
        return oss_err(err, OSS_ERR_ERRNO, ENAMETOOLONG, "template name buffer too small");
    memcpy(ret, name, strlen(name) + 1);
    return 0;
}

int drv_secret_name(const char *sandbox_id, char *ret, size_t size, oss_error *err)
{
    char t[DRV_TEMPLATE_NAME_MAX];
    if (drv_template_name(sandbox_id, t, sizeof t, err) < 0)
        return -1;
    int n = snprintf(ret, size, "%s-token", t);
    if (n < 0 || (size_t)n >= size)
        return oss_err(err, OSS_ERR_ERRNO, ENAMETOOLONG, "secret name buffer too small");
    return 0;
}

/* The CRD's pattern for env names: ^[ -<>-~]+$ (printable ASCII but '='). */
static bool env_name_valid(const char *s)
{
    if (s == NULL || *s == '\0')
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e || *s == '=')
            return false;
    return true;
}

/* The driver's own entries: id, name, endpoint, ssh socket, log level,
 * the token ref, and the gateway TLS paths and refs. */
static size_t own_env_count(const struct drv_sandbox_spec *spec, const struct drv_config *c)
{
    return 3 + (spec->name != NULL && spec->name[0] != '\0') + own_log_level(spec) +
           (spec->sandbox_token != NULL && spec->sandbox_token[0] != '\0') +
           (tls_on(c) ? 2 * NTLS : 0);
}

int drv_template_check_env(const struct drv_sandbox_spec *spec, const struct drv_config *c,
                           oss_error *err)
{
    size_t reserved = 0;
    for (size_t i = 0; i < spec->nenv; i++) {
        const char *k = spec->env[i].key;
        if (!env_name_valid(k))
            return oss_err(err, OSS_ERR_INVALID, 0,
                           "environment variable name '%s' is invalid (printable ASCII without "
                           "'=', not empty)",
                           k ? k : "");
        /* The server drops these before a backend sees them
         * (drv_env_drop_reserved); should one arrive anyway, the driver's
         * value wins here too. */
        if (drv_env_reserved(k)) {
            reserved++;
            continue;
        }
        if (spec->env[i].value == NULL)
            return oss_err(err, OSS_ERR_INVALID, 0, "environment variable %s has no value", k);
        /* the shim's TLS hand-over: only the operator's Secret may feed it */
        if (strncmp(k, "OPENSHELL_SHIM_TLS_", 19) == 0)
            return oss_err(err, OSS_ERR_INVALID, 0,
                           "environment variable %s is the driver's (it carries the gateway TLS "
                           "material from config gateway_tls_secret)",
                           k);
        for (size_t j = 0; j < i; j++)
            if (strcmp(spec->env[j].key, k) == 0)
                return oss_err(err, OSS_ERR_INVALID, 0, "environment variable %s is set twice", k);
    }
    size_t own = own_env_count(spec, c);
    size_t total = own + spec->nenv - reserved;
    if (total > DRV_TEMPLATE_MAX_ENV)
        return oss_err(err, OSS_ERR_INVALID, 0,
                       "too many environment variables: %zu given, at most %zu allowed (the "
                       "template holds %d, of which the driver uses %zu)",
                       spec->nenv - reserved, (size_t)DRV_TEMPLATE_MAX_ENV - own,
                       DRV_TEMPLATE_MAX_ENV, own);
    return 0;
}

/* default_workload: a JSON array of strings.  Returns NULL with err set
 * when it is malformed, NULL without error when unset. */
static int parse_default_workload(const char *s, json_object **ret, oss_error *err)
{
    *ret = NULL;
    if (s == NULL || s[0] == '\0')
        return 0;
    _cleanup_json_ json_object *o = json_tokener_parse(s);
    if (o == NULL || !json_object_is_type(o, json_type_array))
        return oss_err(err, OSS_ERR_GRPC, 9 /* FAILED_PRECONDITION */,
                       "config default_workload must be a JSON array of strings");
    size_t n = json_object_array_length(o);
    for (size_t i = 0; i < n; i++)
        if (!json_object_is_type(json_object_array_get_idx(o, i), json_type_string))
            return oss_err(err, OSS_ERR_GRPC, 9,
                           "config default_workload must be a JSON array of strings");
    *ret = TAKE_PTR(o);
    return 0;
}

static int parse_worker_selector(const char *s, json_object **ret, oss_error *err)
{
    *ret = NULL;
    if (s == NULL || s[0] == '\0')
        return 0;
    _cleanup_json_ json_object *o = json_tokener_parse(s);
    if (o == NULL || !json_object_is_type(o, json_type_object))
        return oss_err(err, OSS_ERR_GRPC, 9,
                       "config worker_selector must be a JSON object of label: value strings");
    json_object_object_foreach(o, k, v)
    {
        (void)k;
        if (!json_object_is_type(v, json_type_string))
            return oss_err(err, OSS_ERR_GRPC, 9,
                           "config worker_selector must be a JSON object of label: value strings");
    }
    if (json_object_object_length(o) == 0)
        return 0;
    *ret = TAKE_PTR(o);
    return 0;
}

struct argv_builder {
    const char *v[DRV_TEMPLATE_MAX_COMMAND];
    size_t n;
    size_t wanted; /* counts past the limit, for the message */
};

static void argv_add(struct argv_builder *a, const char *s)
{
    if (a->n < DRV_TEMPLATE_MAX_COMMAND)
        a->v[a->n++] = s;
    a->wanted++;
}

/* Flag strings need storage that outlives the builder's pointers. */
struct shim_flags {
    char degrade[256];
    char readyz[32];
    char restart[64];
    char actor[80];
};

static int readyz_port(const struct drv_config *c)
{
    return c->shim_readyz_port > 0 ? c->shim_readyz_port : DEFAULT_READYZ_PORT;
}

static int build_command(const struct drv_sandbox_spec *spec, const struct drv_config *c,
                         json_object *dflt, struct shim_flags *fl, struct argv_builder *a,
                         oss_error *err)
{
    memset(a, 0, sizeof *a);
    argv_add(a, or_default(c->shim_path, DEFAULT_SHIM_PATH));
    if (c->shim_degrade != NULL && c->shim_degrade[0] != '\0') {
        if ((size_t)snprintf(fl->degrade, sizeof fl->degrade, "--degrade=%s", c->shim_degrade) >=
            sizeof fl->degrade)
            return oss_err(err, OSS_ERR_GRPC, 9, "config shim_degrade is too long");
        argv_add(a, fl->degrade);
    }
    snprintf(fl->readyz, sizeof fl->readyz, "--readyz-port=%d", readyz_port(c));
    argv_add(a, fl->readyz);
    argv_add(a, "--state-dir=" DRV_SHIM_STATE_DIR);
    if (c->shim_stay_alive)
        argv_add(a, "--stay-alive");
    if (c->shim_restart != NULL && c->shim_restart[0] != '\0') {
        if ((size_t)snprintf(fl->restart, sizeof fl->restart, "--restart=%s", c->shim_restart) >=
            sizeof fl->restart)
            return oss_err(err, OSS_ERR_GRPC, 9, "config shim_restart is too long");
        argv_add(a, fl->restart);
    }
    /* A terminal was asked for: the actor's stdin is /dev/null, where the
     * gateway's default "/bin/bash -l" reads EOF and ends the sandbox; the
     * shim gives the supervisor a stdin that stays open (docs/shim.md,
     * "As init"). */
    if (spec->tty)
        argv_add(a, "--hold-stdin");
    /* The actor's name as Substrate writes it to /run/ate/actor-id (the raw
     * ActorRef.name, which is the sandbox id): during the golden boot the
     * file holds the golden actor's UUID instead, so the shim can tell the
     * two apart (docs/platform/substrate.md, "The actor identity file"). */
    snprintf(fl->actor, sizeof fl->actor, "--actor=%s", spec->id);
    argv_add(a, fl->actor);
    argv_add(a, "--");
    argv_add(a, or_default(c->supervisor_path, DEFAULT_SUPERVISOR_PATH));
    argv_add(a, "--sandbox-id");
    argv_add(a, spec->id);
    argv_add(a, "--openshell-endpoint");
    argv_add(a, c->gateway_endpoint);
    /* With the command as argv the supervisor takes the tty flag as -i
     * (docs/platform/supervisor.md, "Main process and tty"). */
    if (spec->tty)
        argv_add(a, "-i");

    bool have_cmd = spec->command != NULL && spec->command[0] != NULL;
    size_t ndflt = dflt ? json_object_array_length(dflt) : 0;
    if (have_cmd || ndflt > 0)
        argv_add(a, "--");
    size_t before = a->wanted;
    if (have_cmd) {
        for (char **p = spec->command; *p != NULL; p++)
            argv_add(a, *p);
    } else {
        for (size_t i = 0; i < ndflt; i++)
            argv_add(a, json_object_get_string(json_object_array_get_idx(dflt, i)));
    }
    if (a->wanted > DRV_TEMPLATE_MAX_COMMAND)
        return oss_err(err, OSS_ERR_INVALID, 0,
                       "command too long: %zu workload arguments given, at most %zu allowed (the "
                       "template's command holds %d entries, the shim and supervisor use %zu)",
                       a->wanted - before, (size_t)DRV_TEMPLATE_MAX_COMMAND - before,
                       DRV_TEMPLATE_MAX_COMMAND, before);
    return 0;
}

static int check_config(const struct drv_config *c, oss_error *err)
{
    if (c->pause_image == NULL || strchr(c->pause_image, '@') == NULL)
        return oss_err(err, OSS_ERR_GRPC, 9,
                       "config pause_image must be set and pinned by digest (name@sha256:...)");
    if (c->snapshots_location == NULL || c->snapshots_location[0] == '\0')
        return oss_err(err, OSS_ERR_GRPC, 9, "config snapshots_location must be set");
    if (c->gateway_endpoint == NULL || c->gateway_endpoint[0] == '\0')
        return oss_err(err, OSS_ERR_GRPC, 9,
                       "config gateway_endpoint must be set (the supervisor connects back to it)");
    const char *cls = or_default(c->sandbox_class, "gvisor");
    if (strcmp(cls, "gvisor") != 0 && strcmp(cls, "microvm") != 0)
        return oss_err(err, OSS_ERR_GRPC, 9, "config sandbox_class must be gvisor or microvm");
    int port = readyz_port(c);
    if (port < 1 || port > 65535)
        return oss_err(err, OSS_ERR_GRPC, 9, "config shim_readyz_port must be in 1..65535");
    if (!oss_dns1123_label_valid(drv_template_namespace(c)))
        return oss_err(err, OSS_ERR_GRPC, 9, "config default_namespace is not a DNS-1123 label");
    /* the supervisor aborts on an https endpoint without its TLS files */
    if (endpoint_is_https(c) && !tls_on(c))
        return oss_err(err, OSS_ERR_GRPC, 9,
                       "config gateway_endpoint is https:// but gateway_tls_secret is unset: the "
                       "supervisor needs the client CA, certificate and key to connect");
    return 0;
}

static int check_spec(const struct drv_sandbox_spec *spec, oss_error *err)
{
    char name[DRV_TEMPLATE_NAME_MAX];
    if (drv_template_name(spec->id, name, sizeof name, err) < 0)
        return -1;
    if (spec->image == NULL || spec->image[0] == '\0')
        return oss_err(err, OSS_ERR_INVALID, 0, "sandbox image is missing");
    /* FAILED_PRECONDITION, not INVALID_ARGUMENT: the gateway passes only
     * FAILED_PRECONDITION and ALREADY_EXISTS through to the user and turns
     * every other code into "create sandbox failed" (docs/platform/gateway.md,
     * "Creating and deleting"), so
     * this actionable message would never reach the person who can fix it. */
    if (strchr(spec->image, '@') == NULL)
        return oss_err(err, OSS_ERR_GRPC, 9,
                       "image '%s' is not pinned by digest: Substrate needs name@sha256:... "
                       "(a changed image would invalidate the golden snapshot)",
                       spec->image);
    return 0;
}

int drv_template_validate(const struct drv_sandbox_spec *spec, const struct drv_config *c,
                          oss_error *err)
{
    oss_buf scratch = OSS_BUF_INIT;
    int r = drv_template_build(spec, c, &scratch, err);
    oss_buf_free(&scratch);
    return r;
}

static void write_meta(oss_json *j, const struct drv_sandbox_spec *spec, const char *name,
                       const char *ns)
{
    oss_json_key(j, "metadata");
    oss_json_obj_begin(j);
    oss_json_kv_str(j, "name", name);
    oss_json_kv_str(j, "namespace", ns);
    oss_json_key(j, "labels");
    oss_json_obj_begin(j);
    oss_json_kv_str(j, DRV_LABEL_MANAGED_BY, DRV_OWNER);
    oss_json_kv_str(j, DRV_LABEL_SANDBOX_ID, spec->id);
    oss_json_obj_end(j);
    oss_json_key(j, "annotations");
    oss_json_obj_begin(j);
    oss_json_kv_str(j, DRV_ANN_OWNED_BY, DRV_OWNER);
    if (spec->name != NULL && spec->name[0] != '\0')
        oss_json_kv_str(j, DRV_ANN_SANDBOX_NAME, spec->name);
    oss_json_obj_end(j);
    oss_json_obj_end(j);
}

static void env_value(oss_json *j, const char *k, const char *v)
{
    oss_json_obj_begin(j);
    oss_json_kv_str(j, "name", k);
    oss_json_kv_str(j, "value", v);
    oss_json_obj_end(j);
}

static void env_secret(oss_json *j, const char *k, const char *secret, const char *key)
{
    oss_json_obj_begin(j);
    oss_json_kv_str(j, "name", k);
    oss_json_key(j, "valueFrom");
    oss_json_obj_begin(j);
    oss_json_key(j, "secretKeyRef");
    oss_json_obj_begin(j);
    oss_json_kv_str(j, "name", secret);
    oss_json_kv_str(j, "key", key);
    oss_json_obj_end(j);
    oss_json_obj_end(j);
    oss_json_obj_end(j);
}

int drv_template_build(const struct drv_sandbox_spec *spec, const struct drv_config *c,
                       oss_buf *out, oss_error *err)
{
    if (check_config(c, err) < 0 || check_spec(spec, err) < 0 ||
        drv_template_check_env(spec, c, err) < 0)
        return -1;
    _cleanup_json_ json_object *dflt = NULL;
    _cleanup_json_ json_object *sel = NULL;
    if (parse_default_workload(c->default_workload, &dflt, err) < 0 ||
        parse_worker_selector(c->worker_selector, &sel, err) < 0)
        return -1;
    struct shim_flags fl;
    struct argv_builder argv;
    if (build_command(spec, c, dflt, &fl, &argv, err) < 0)
        return -1;
    char name[DRV_TEMPLATE_NAME_MAX];
    char secret[DRV_SECRET_NAME_MAX];
    if (drv_template_name(spec->id, name, sizeof name, err) < 0 ||
        drv_secret_name(spec->id, secret, sizeof secret, err) < 0)
        return -1;

    _cleanup_buf_ oss_buf b = OSS_BUF_INIT;
    oss_json j;
    oss_json_init(&j, &b);
    oss_json_obj_begin(&j);
    oss_json_kv_str(&j, "apiVersion", "ate.dev/v1alpha1");
    oss_json_kv_str(&j, "kind", "ActorTemplate");
    write_meta(&j, spec, name, drv_template_namespace(c));

    oss_json_key(&j, "spec");
    oss_json_obj_begin(&j);
    oss_json_kv_str(&j, "pauseImage", c->pause_image);
    oss_json_kv_str(&j, "sandboxClass", or_default(c->sandbox_class, "gvisor"));
    oss_json_key(&j, "snapshotsConfig");
    oss_json_obj_begin(&j);
    oss_json_kv_str(&j, "location", c->snapshots_location);
    oss_json_obj_end(&j);
    if (sel != NULL) {
        oss_json_key(&j, "workerSelector");
        oss_json_obj_begin(&j);
        oss_json_key(&j, "matchLabels");
        oss_json_obj_begin(&j);
        json_object_object_foreach(sel, k, v) oss_json_kv_str(&j, k, json_object_get_string(v));
        oss_json_obj_end(&j);
        oss_json_obj_end(&j);
    }

    oss_json_key(&j, "containers");
    oss_json_arr_begin(&j);
    oss_json_obj_begin(&j);
    oss_json_kv_str(&j, "name", CONTAINER_NAME);
    oss_json_kv_str(&j, "image", spec->image);
    oss_json_key(&j, "command");
    oss_json_arr_begin(&j);
    for (size_t i = 0; i < argv.n; i++)
        oss_json_str(&j, argv.v[i]);
    oss_json_arr_end(&j);

    oss_json_key(&j, "env");
    oss_json_arr_begin(&j);
    env_value(&j, "OPENSHELL_SANDBOX_ID", spec->id);
    /* the supervisor syncs a locally found policy under this name and exits
     * without it (docs/platform/supervisor.md, "The sandbox name") */
    if (spec->name != NULL && spec->name[0] != '\0')
        env_value(&j, "OPENSHELL_SANDBOX", spec->name);
    env_value(&j, "OPENSHELL_ENDPOINT", c->gateway_endpoint);
    env_value(&j, "OPENSHELL_SSH_SOCKET_PATH",
              or_default(c->ssh_socket_path, DEFAULT_SSH_SOCKET_PATH));
    if (own_log_level(spec))
        env_value(&j, "OPENSHELL_LOG_LEVEL", spec->log_level);
    if (spec->sandbox_token != NULL && spec->sandbox_token[0] != '\0')
        env_secret(&j, "OPENSHELL_SANDBOX_TOKEN", secret, "token");
    if (tls_on(c)) {
        for (size_t i = 0; i < NTLS; i++)
            env_value(&j, tls_files[i].path_env, tls_files[i].path);
        for (size_t i = 0; i < NTLS; i++)
            env_secret(&j, tls_files[i].pem_env, c->gateway_tls_secret, tls_files[i].key);
    }
    for (size_t i = 0; i < spec->nenv; i++)
        if (!drv_env_reserved(spec->env[i].key))
            env_value(&j, spec->env[i].key, spec->env[i].value);
    oss_json_arr_end(&j);

    oss_json_key(&j, "readyz");
    oss_json_obj_begin(&j);
    oss_json_key(&j, "httpGet");
    oss_json_obj_begin(&j);
    oss_json_kv_str(&j, "path", "/readyz");
    oss_json_kv_int(&j, "port", readyz_port(c));
    oss_json_obj_end(&j);
    oss_json_obj_end(&j);
    oss_json_obj_end(&j); /* container */
    oss_json_arr_end(&j);
    oss_json_obj_end(&j); /* spec */
    oss_json_obj_end(&j);

    oss_buf_put(out, b.data, b.len);
    return 0;
}

void drv_base64_encode(const void *data, size_t len, oss_buf *out)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = data;
    size_t i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        char q[4] = {tbl[v >> 18], tbl[(v >> 12) & 63], tbl[(v >> 6) & 63], tbl[v & 63]};
        oss_buf_put(out, q, 4);
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        char q[4] = {tbl[v >> 18], tbl[(v >> 12) & 63], '=', '='};
        oss_buf_put(out, q, 4);
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        char q[4] = {tbl[v >> 18], tbl[(v >> 12) & 63], tbl[(v >> 6) & 63], '='};
        oss_buf_put(out, q, 4);
    }
}

int drv_template_plan(const struct drv_sandbox_spec *spec, const struct drv_config *c,
                      struct drv_template_plan *ret, oss_error *err)
{
    struct drv_template_plan p;
    memset(&p, 0, sizeof p);
    if (drv_secret_name(spec->id, p.secret_name, sizeof p.secret_name, err) < 0)
        return -1;
    bool override = spec->template_override != NULL && spec->template_override[0] != '\0';
    if (override) {
        if (!oss_dns1123_label_valid(spec->template_override))
            return oss_err(err, OSS_ERR_INVALID, 0,
                           "substrate_actor_template '%s' is not a valid ActorTemplate name",
                           spec->template_override);
        if (drv_template_check_env(spec, c, err) < 0)
            return -1;
        snprintf(p.template_name, sizeof p.template_name, "%s", spec->template_override);
    } else {
        if (drv_template_validate(spec, c, err) < 0 ||
            drv_template_name(spec->id, p.template_name, sizeof p.template_name, err) < 0)
            return -1;
        p.apply_template = true;
        p.apply_secret = spec->sandbox_token != NULL && spec->sandbox_token[0] != '\0';
    }
    *ret = p;
    return 0;
}

void drv_template_plan_json(const struct drv_template_plan *p, const struct drv_config *c,
                            oss_buf *out)
{
    oss_json j;
    oss_json_init(&j, out);
    oss_json_obj_begin(&j);
    oss_json_kv_str(&j, "namespace", drv_template_namespace(c));
    oss_json_kv_str(&j, "template", p->template_name);
    oss_json_kv_bool(&j, "applyTemplate", p->apply_template);
    oss_json_kv_str(&j, "secret", p->apply_secret ? p->secret_name : NULL);
    oss_json_kv_bool(&j, "applySecret", p->apply_secret);
    oss_json_obj_end(&j);
}
