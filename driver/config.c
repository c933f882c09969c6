/* openshell-driver-substrate configuration (see config.h for the layering).
 *
 * One table describes every key: its type, where it lives in the struct, its
 * default and its help text.  The JSON file, the environment, the flags and
 * --help all walk that table, so a key cannot exist in one place and be
 * missing in another. */
#include "config.h"

#include "buf.h"
#include "cleanup.h"
#include "drv_json.h"
#include "fs.h"
#include "log.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum key_type { K_STR, K_I64MS, K_I64, K_UINT, K_INT, K_BOOL, K_BACKEND, K_JSON };

struct key {
    const char *name;
    enum key_type type;
    size_t off;
    const char *def; /* default in its string form; NULL = unset */
    const char *help;
};

#define F(field) offsetof(struct drv_config, field)

static const struct key keys[] = {
    /* server */
    {"socket", K_STR, F(socket), "/run/openshell/substrate.sock",
     "Unix socket the gateway dials (also env OPENSHELL_COMPUTE_DRIVER_SOCKET)"},
    {"config_file", K_STR, F(config_file), NULL, "JSON config file (flag --config)"},
    {"backend", K_BACKEND, F(backend), "auto",
     "auto|substrate|runsc; auto = substrate when api_endpoint is set, else runsc"},
    {"log_level", K_STR, F(log_level), "info", "error|warn|info|debug|trace"},
    {"watch_interval_ms", K_I64MS, F(watch_interval_ms), "1000",
     "how often the shared watch poller lists actors (ms, or 1s/500ms)"},
    {"watch_queue_max", K_UINT, F(watch_queue_max), "256",
     "events a watch stream may lag behind before it is cut with RESOURCE_EXHAUSTED"},
    /* ateapi */
    {"api_endpoint", K_STR, F(api_endpoint), NULL,
     "ate-api-server host:port; empty = no Substrate"},
    {"api_tls_ca_path", K_STR, F(api_tls_ca_path), NULL, "CA bundle for the ate-api-server"},
    {"api_tls_server_name", K_STR, F(api_tls_server_name), "api.ate-system.svc",
     "TLS server name (SNI and certificate check)"},
    {"api_tls_cert_path", K_STR, F(api_tls_cert_path), NULL, "client certificate (optional)"},
    {"api_tls_key_path", K_STR, F(api_tls_key_path), NULL, "client key (optional)"},
    {"api_plaintext", K_BOOL, F(api_plaintext), "false",
     "talk to the ate-api-server without TLS (tests only)"},
    {"api_bearer_token_path", K_STR, F(api_bearer_token_path), NULL,
     "file holding the bearer token, re-read on every RPC"},
    {"atespace", K_STR, F(atespace), "openshell", "atespace holding every actor of this driver"},
    {"api_timeout_ms", K_I64MS, F(api_timeout_ms), "10000", "deadline of a unary ateapi call"},
    {"api_long_timeout_ms", K_I64MS, F(api_long_timeout_ms), "60000",
     "deadline of Resume/Suspend/Pause (Substrate's own budget is 28 s)"},
    /* Kubernetes */
    {"kube_api_url", K_STR, F(kube_api_url), "https://kubernetes.default.svc",
     "Kubernetes API server"},
    {"kube_ca_path", K_STR, F(kube_ca_path), "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
     "CA of the Kubernetes API server"},
    {"kube_token_path", K_STR, F(kube_token_path),
     "/var/run/secrets/kubernetes.io/serviceaccount/token", "token for the Kubernetes API"},
    {"default_namespace", K_STR, F(default_namespace), "openshell",
     "namespace of templates and Secrets (the gateway sends none)"},
    {"template_ready_timeout_secs", K_I64, F(template_ready_timeout_secs), "300",
     "how long to wait for an ActorTemplate to reach phase Ready"},
    /* template synthesis */
    {"pause_image", K_STR, F(pause_image), NULL, "ActorTemplate pauseImage (digest-pinned)"},
    {"snapshots_location", K_STR, F(snapshots_location), NULL,
     "ActorTemplate snapshotsConfig.location"},
    {"sandbox_class", K_STR, F(sandbox_class), "gvisor", "gvisor|microvm"},
    {"worker_selector", K_JSON, F(worker_selector), NULL,
     "JSON object of worker labels (ActorTemplate workerSelector)"},
    {"gateway_endpoint", K_STR, F(gateway_endpoint), NULL,
     "OPENSHELL_ENDPOINT the supervisor connects back to"},
    {"ssh_socket_path", K_STR, F(ssh_socket_path), NULL,
     "OPENSHELL_SSH_SOCKET_PATH inside the sandbox"},
    {"shim_path", K_STR, F(shim_path), "/usr/local/bin/openshell-shim",
     "openshell-shim inside the image"},
    {"supervisor_path", K_STR, F(supervisor_path), "/usr/local/bin/openshell-sandbox",
     "openshell-sandbox inside the image"},
    {"shim_degrade", K_STR, F(shim_degrade), "none", "the shim's --degrade list"},
    {"shim_readyz_port", K_INT, F(shim_readyz_port), "8080", "the shim's readyz port"},
    {"shim_stay_alive", K_BOOL, F(shim_stay_alive), "true",
     "keep PID 1 alive after the supervisor exits"},
    {"shim_restart", K_STR, F(shim_restart), "never", "never|on-failure|always"},
    {"default_workload", K_JSON, F(default_workload), NULL,
     "JSON array: workload argv when spec.command is empty"},
    {"default_image", K_STR, F(default_image), NULL,
     "image GetCapabilities offers the gateway for sandboxes that name none (digest-pinned "
     "for Substrate)"},
    {"gateway_tls_secret", K_STR, F(gateway_tls_secret), NULL,
     "Secret (in default_namespace) with ca.crt, tls.crt, tls.key: the supervisor's client TLS "
     "for an https:// gateway_endpoint"},
    /* runsc */
    {"state_dir", K_STR, F(state_dir), "/var/lib/openshell-driver-substrate",
     "state directory of the local runsc backend"},
    {"rootfs_dir", K_STR, F(rootfs_dir), NULL, "image -> rootfs directory (runsc backend)"},
    {"runsc_path", K_STR, F(runsc_path), "runsc", "runsc binary (runsc backend)"},
    {"runsc_user", K_STR, F(runsc_user), "0:0",
     "UID:GID of the container process (runsc backend): 0:0 as Substrate runs it today; the "
     "sandbox identity is the runAsUser shape of Substrate's securityContext, in which a "
     "supervisor from OpenShell pull request 1549 or 1548 finds its privilege drop done"},
    {"runsc_subnet", K_STR, F(runsc_subnet), "10.243.0.0/16",
     "IPv4 pool of the runsc backend: one /30 per sandbox network namespace"},
    {"runsc_host_rootfs", K_BOOL, F(runsc_host_rootfs), "false",
     "allow image local/host (the host's / read-only) in every sandbox: for trusted "
     "single-user machines only"},
    {"runsc_shim_actor", K_BOOL, F(runsc_shim_actor), "true",
     "runsc backend: pass the shim --actor=<actor name>, as templates do (false for a shim "
     "that predates the flag)"},
    {"runsc_golden_boot", K_BOOL, F(runsc_golden_boot), "false",
     "runsc backend: create boots with a fresh UUID in /run/ate/actor-id, checkpoints, and "
     "restores under the actor's name, as a Substrate template's golden boot and first resume"},
};

#define ENV_PREFIX      "OPENSHELL_SUBSTRATE_"
#define CONFIG_FILE_MAX (1024 * 1024)

static const struct key *find_key(const char *name)
{
    for (size_t i = 0; i < OSS_ARRAY_SIZE(keys); i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    /* an accepted alias: the key without its unit */
    if (strcmp(name, "watch_interval") == 0)
        return find_key("watch_interval_ms");
    return NULL;
}

static void *field(struct drv_config *c, const struct key *k)
{
    return (char *)c + k->off;
}

static int parse_bool(const char *s, bool *ret)
{
    if (!strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "yes") || !strcmp(s, "on"))
        *ret = true;
    else if (!strcmp(s, "false") || !strcmp(s, "0") || !strcmp(s, "no") || !strcmp(s, "off"))
        *ret = false;
    else
        return -1;
    return 0;
}

/* Sets one key from its string form.  `where` names the source for errors. */
static int set_str(struct drv_config *c, const struct key *k, const char *v, const char *where,
                   oss_error *err)
{
    void *p = field(c, k);
    long l;
    switch (k->type) {
    case K_STR:
    case K_JSON: {
        char **s = p;
        free(*s);
        *s = NULL;
        if (v[0] != '\0' && (*s = strdup(v)) == NULL)
            return oss_err_errno(err, "strdup");
        return 0;
    }
    case K_I64MS: {
        /* a bare number is milliseconds here (the key says so); a suffix
         * ("2s", "500ms", "1m") is read as a duration */
        long long ms;
        if (oss_parse_long(v, 0, 86400000L, &l) == 0)
            ms = l;
        else if (oss_parse_duration_ms(v, 86400000LL, &ms) < 0 ||
                 !isalpha((unsigned char)v[strlen(v) - 1]))
            return oss_err(err, OSS_ERR_INVALID, EINVAL,
                           "%s: %s: \"%s\" is not a duration (milliseconds, or 2s/500ms/1m)", where,
                           k->name, v);
        *(int64_t *)p = ms;
        return 0;
    }
    case K_I64:
        if (oss_parse_long(v, 0, 1L << 40, &l) < 0)
            return oss_err(err, OSS_ERR_INVALID, EINVAL, "%s: %s: \"%s\" is not a number >= 0",
                           where, k->name, v);
        *(int64_t *)p = l;
        return 0;
    case K_UINT:
        if (oss_parse_long(v, 0, 1L << 30, &l) < 0)
            return oss_err(err, OSS_ERR_INVALID, EINVAL, "%s: %s: \"%s\" is not a number >= 0",
                           where, k->name, v);
        *(unsigned *)p = (unsigned)l;
        return 0;
    case K_INT:
        if (oss_parse_long(v, 0, 1L << 30, &l) < 0)
            return oss_err(err, OSS_ERR_INVALID, EINVAL, "%s: %s: \"%s\" is not a number >= 0",
                           where, k->name, v);
        *(int *)p = (int)l;
        return 0;
    case K_BOOL:
        if (parse_bool(v, p) < 0)
            return oss_err(err, OSS_ERR_INVALID, EINVAL, "%s: %s: \"%s\" is not true or false",
                           where, k->name, v);
        return 0;
    case K_BACKEND: {
        enum drv_backend_kind *b = p;
        if (!strcmp(v, "auto"))
            *b = DRV_BACKEND_AUTO;
        else if (!strcmp(v, "substrate"))
            *b = DRV_BACKEND_SUBSTRATE;
        else if (!strcmp(v, "runsc"))
            *b = DRV_BACKEND_RUNSC;
        else
            return oss_err(err, OSS_ERR_INVALID, EINVAL,
                           "%s: backend: \"%s\" is not auto, substrate or runsc", where, v);
        return 0;
    }
    }
    return oss_err(err, OSS_ERR_INVALID, EINVAL, "%s: %s: bad key type", where, k->name);
}

void drv_config_defaults(struct drv_config *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < OSS_ARRAY_SIZE(keys); i++)
        if (keys[i].def != NULL && set_str(c, &keys[i], keys[i].def, "default", NULL) < 0)
            abort(); /* a bad default is a bug in the table above */
}

void drv_config_free(struct drv_config *c)
{
    for (size_t i = 0; i < OSS_ARRAY_SIZE(keys); i++)
        if (keys[i].type == K_STR || keys[i].type == K_JSON) {
            char **s = field(c, &keys[i]);
            free(*s);
            *s = NULL;
        }
}

/* One JSON value -> its string form for set_str(), type-checked against
 * the key so "socket": 5 or "watch_interval_ms": "fast" fail clearly. */
static int set_json(struct drv_config *c, const struct key *k, struct json_object *v,
                    const char *where, oss_error *err)
{
    enum json_type t = json_object_get_type(v);
    char tmp[64];
    switch (k->type) {
    case K_STR:
        if (t == json_type_null)
            return set_str(c, k, "", where, err);
        if (t != json_type_string)
            return oss_err(err, OSS_ERR_INVALID, EINVAL, "%s: %s must be a string", where, k->name);
        return set_str(c, k, json_object_get_string(v), where, err);
    case K_JSON:
        if (t == json_type_null)
            return set_str(c, k, "", where, err);
        /* accept the object/array itself or its JSON text in a string */
        if (t == json_type_string)
            return set_str(c, k, json_object_get_string(v), where, err);
        return set_str(c, k, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), where, err);
    case K_BOOL:
        if (t != json_type_boolean)
            return oss_err(err, OSS_ERR_INVALID, EINVAL, "%s: %s must be true or false", where,
                           k->name);
        return set_str(c, k, json_object_get_boolean(v) ? "true" : "false", where, err);
    case K_BACKEND:
        if (t != json_type_string)
            return oss_err(err, OSS_ERR_INVALID, EINVAL, "%s: %s must be a string", where, k->name);
        return set_str(c, k, json_object_get_string(v), where, err);
    case K_I64MS:
        if (t == json_type_string)
            return set_str(c, k, json_object_get_string(v), where, err);
        /* fall through */
    case K_I64:
    case K_UINT:
    case K_INT:
        if (t != json_type_int)
            return oss_err(err, OSS_ERR_INVALID, EINVAL, "%s: %s must be an integer", where,
                           k->name);
        snprintf(tmp, sizeof tmp, "%" PRId64, json_object_get_int64(v));
        return set_str(c, k, tmp, where, err);
    }
    return oss_err(err, OSS_ERR_INVALID, EINVAL, "%s: %s: bad key type", where, k->name);
}

int drv_config_parse_json(struct drv_config *c, const char *text, size_t len, const char *where,
                          oss_error *err)
{
    _cleanup_json_ struct json_object *root = NULL;
    if (drv_json_parse_object(text, len, where, &root, err) < 0)
        return -1;

    json_object_object_foreach(root, name, val)
    {
        const struct key *k = find_key(name);
        if (k == NULL || k->off == F(config_file))
            return oss_err(err, OSS_ERR_INVALID, EINVAL,
                           "%s: unknown key \"%.64s\" (see --help for the keys)", where, name);
        if (set_json(c, k, val, where, err) < 0)
            return -1;
    }
    return 0;
}

static const char *env_get(char *const *envp, const char *name)
{
    size_t n = strlen(name);
    for (char *const *e = envp; e != NULL && *e != NULL; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

static void env_name(const struct key *k, char *buf, size_t size)
{
    snprintf(buf, size, ENV_PREFIX "%s", k->name);
    for (char *p = buf + strlen(ENV_PREFIX); *p; p++)
        *p = (char)toupper((unsigned char)*p);
}

static void flag_name(const struct key *k, char *buf, size_t size)
{
    snprintf(buf, size, "--%s", strcmp(k->name, "config_file") == 0 ? "config" : k->name);
    for (char *p = buf + 2; *p; p++)
        if (*p == '_')
            *p = '-';
}

/* "--api-endpoint" / "--api-endpoint=x" -> key; NULL when unknown. */
static const struct key *flag_key(const char *arg, const char **ret_value)
{
    char name[96];
    const char *eq = strchr(arg, '=');
    size_t n = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
    if (n < 3 || n - 2 >= sizeof name)
        return NULL;
    memcpy(name, arg + 2, n - 2);
    name[n - 2] = '\0';
    for (char *p = name; *p; p++) {
        if (*p == '_')
            return NULL; /* flags use dashes only */
        if (*p == '-')
            *p = '_';
    }
    *ret_value = eq != NULL ? eq + 1 : NULL;
    if (strcmp(name, "config") == 0)
        return find_key("config_file");
    if (strcmp(name, "config_file") == 0)
        return NULL;
    return find_key(name);
}

int drv_config_load(struct drv_config *c, int argc, char **argv, char *const *envp, oss_error *err)
{
    /* 1. where the file is: flag beats env */
    const char *file = env_get(envp, ENV_PREFIX "CONFIG_FILE");
    if (file == NULL)
        file = env_get(envp, ENV_PREFIX "CONFIG");
    for (int i = 1; i < argc; i++) {
        const char *v;
        const struct key *k = flag_key(argv[i], &v);
        if (k != NULL && k->off == F(config_file))
            file = v != NULL ? v : (i + 1 < argc ? argv[i + 1] : NULL);
    }
    if (file != NULL && file[0] != '\0') {
        _cleanup_buf_ oss_buf text = OSS_BUF_INIT;
        if (oss_read_file(file, CONFIG_FILE_MAX, &text, err) < 0) {
            oss_err_prefix(err, "config file %s", file);
            return -1;
        }
        if (drv_config_parse_json(c, text.data != NULL ? text.data : "", text.len, file, err) < 0)
            return -1;
        if (set_str(c, find_key("config_file"), file, "--config", err) < 0)
            return -1;
    }

    /* 2. environment; the gateway-wide socket variable is the weaker one */
    const char *v = env_get(envp, "OPENSHELL_COMPUTE_DRIVER_SOCKET");
    if (v != NULL && set_str(c, find_key("socket"), v, "OPENSHELL_COMPUTE_DRIVER_SOCKET", err) < 0)
        return -1;
    for (size_t i = 0; i < OSS_ARRAY_SIZE(keys); i++) {
        char name[96];
        if (keys[i].off == F(config_file))
            continue;
        env_name(&keys[i], name, sizeof name);
        v = env_get(envp, name);
        if (v != NULL && set_str(c, &keys[i], v, name, err) < 0)
            return -1;
    }

    /* 3. flags */
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0)
            return oss_err(err, OSS_ERR_INVALID, EINVAL,
                           "unexpected argument \"%.64s\" (flags are --key value or --key=value)",
                           arg);
        const struct key *k = flag_key(arg, &v);
        if (k == NULL)
            return oss_err(err, OSS_ERR_INVALID, EINVAL, "unknown flag %.64s (see --help)", arg);
        if (v == NULL) {
            if (k->type == K_BOOL)
                v = "true";
            else if (i + 1 < argc)
                v = argv[++i];
            else
                return oss_err(err, OSS_ERR_INVALID, EINVAL, "flag %.64s needs a value", arg);
        }
        if (k->off == F(config_file))
            continue; /* read above */
        if (set_str(c, k, v, arg, err) < 0)
            return -1;
    }
    return 0;
}

static bool is_set(const char *s)
{
    return s != NULL && s[0] != '\0';
}

static int check_json(const char *key, const char *text, enum json_type want, oss_error *err)
{
    _cleanup_json_ struct json_object *o = json_tokener_parse(text);
    if (o == NULL || !json_object_is_type(o, want))
        return oss_err(err, OSS_ERR_INVALID, EINVAL, "%s must be a JSON %s of strings", key,
                       want == json_type_object ? "object" : "array");
    if (want == json_type_object) {
        json_object_object_foreach(o, name, val)
        {
            (void)name;
            if (!json_object_is_type(val, json_type_string))
                return oss_err(err, OSS_ERR_INVALID, EINVAL,
                               "%s: value of \"%.64s\" must be a string", key, name);
        }
    } else {
        size_t n = json_object_array_length(o);
        if (n == 0)
            return oss_err(err, OSS_ERR_INVALID, EINVAL, "%s must not be empty", key);
        for (size_t i = 0; i < n; i++)
            if (!json_object_is_type(json_object_array_get_idx(o, i), json_type_string))
                return oss_err(err, OSS_ERR_INVALID, EINVAL, "%s[%zu] must be a string", key, i);
    }
    return 0;
}

/* Kubernetes object names: dot-separated DNS-1123 labels, at most 253. */
static bool dns_subdomain_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253)
        return false;
    char buf[254];
    memcpy(buf, s, n + 1);
    char *save = NULL;
    if (buf[0] == '.' || buf[n - 1] == '.' || strstr(buf, "..") != NULL)
        return false;
    for (char *l = strtok_r(buf, ".", &save); l != NULL; l = strtok_r(NULL, ".", &save))
        if (!oss_dns1123_label_valid(l))
            return false;
    return true;
}

int drv_config_validate(const struct drv_config *c, oss_error *err)
{
    enum oss_log_level lvl;
    if (!is_set(c->socket) || c->socket[0] != '/')
        return oss_err(err, OSS_ERR_INVALID, EINVAL, "socket must be an absolute path");
    if (strlen(c->socket) >= 108) /* sizeof sun_path */
        return oss_err(err, OSS_ERR_INVALID, ENAMETOOLONG,
                       "socket path is longer than a Unix socket address allows (107 bytes)");
    if (!is_set(c->log_level) || oss_log_level_parse(c->log_level, &lvl) < 0)
        return oss_err(err, OSS_ERR_INVALID, EINVAL,
                       "log_level must be error, warn, info, debug or trace");
    if (c->watch_interval_ms < 50 || c->watch_interval_ms > 3600000)
        return oss_err(err, OSS_ERR_INVALID, ERANGE,
                       "watch_interval_ms must be between 50 ms and one hour");
    if (c->watch_queue_max < 1 || c->watch_queue_max > 1000000)
        return oss_err(err, OSS_ERR_INVALID, ERANGE, "watch_queue_max must be 1..1000000");
    if (c->backend == DRV_BACKEND_SUBSTRATE && !is_set(c->api_endpoint))
        return oss_err(err, OSS_ERR_INVALID, EINVAL,
                       "backend substrate needs api_endpoint (host:port of the ate-api-server)");
    if (c->api_timeout_ms < 100)
        return oss_err(err, OSS_ERR_INVALID, ERANGE, "api_timeout_ms must be at least 100");
    if (c->api_long_timeout_ms <= 28000)
        return oss_err(err, OSS_ERR_INVALID, ERANGE,
                       "api_long_timeout_ms must exceed Substrate's 28 s resume/suspend budget");
    if (c->template_ready_timeout_secs < 1)
        return oss_err(err, OSS_ERR_INVALID, ERANGE,
                       "template_ready_timeout_secs must be at least 1 (the CRD never reports "
                       "Failed, so this is the only bound)");
    if (is_set(c->atespace) &&
        (!oss_dns1123_label_valid(c->atespace) || strcmp(c->atespace, "ate-golden") == 0))
        return oss_err(err, OSS_ERR_INVALID, EINVAL,
                       "atespace must be a DNS-1123 label other than the reserved ate-golden");
    if (!is_set(c->default_namespace) || !oss_dns1123_label_valid(c->default_namespace))
        return oss_err(err, OSS_ERR_INVALID, EINVAL, "default_namespace must be a DNS-1123 label");
    if (is_set(c->pause_image) && strstr(c->pause_image, "@sha256:") == NULL)
        return oss_err(err, OSS_ERR_INVALID, EINVAL,
                       "pause_image must be pinned by digest (name@sha256:...)");
    if (!is_set(c->sandbox_class) ||
        (strcmp(c->sandbox_class, "gvisor") != 0 && strcmp(c->sandbox_class, "microvm") != 0))
        return oss_err(err, OSS_ERR_INVALID, EINVAL, "sandbox_class must be gvisor or microvm");
    if (!is_set(c->shim_restart) ||
        (strcmp(c->shim_restart, "never") != 0 && strcmp(c->shim_restart, "on-failure") != 0 &&
         strcmp(c->shim_restart, "always") != 0))
        return oss_err(err, OSS_ERR_INVALID, EINVAL,
                       "shim_restart must be never, on-failure or always");
    if (c->shim_readyz_port < 1 || c->shim_readyz_port > 65535)
        return oss_err(err, OSS_ERR_INVALID, ERANGE, "shim_readyz_port must be 1..65535");
    if (is_set(c->worker_selector) &&
        check_json("worker_selector", c->worker_selector, json_type_object, err) < 0)
        return -1;
    if (is_set(c->default_workload) &&
        check_json("default_workload", c->default_workload, json_type_array, err) < 0)
        return -1;
    unsigned ru, rg;
    char tail;
    if (is_set(c->runsc_user) && (sscanf(c->runsc_user, "%u:%u%c", &ru, &rg, &tail) != 2 ||
                                  ru > 0x7fffffffu || rg > 0x7fffffffu))
        return oss_err(err, OSS_ERR_INVALID, EINVAL, "runsc_user must be UID:GID");
    if (is_set(c->default_image)) {
        for (const char *p = c->default_image; *p; p++)
            if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
                return oss_err(err, OSS_ERR_INVALID, EINVAL,
                               "default_image contains spaces or control characters");
    }
    /* it becomes a secretKeyRef name: a DNS subdomain, at most 253 */
    if (is_set(c->gateway_tls_secret) && !dns_subdomain_valid(c->gateway_tls_secret))
        return oss_err(err, OSS_ERR_INVALID, EINVAL,
                       "gateway_tls_secret must be a Secret name (a DNS-1123 subdomain)");
    if (is_set(c->shim_path) && c->shim_path[0] != '/')
        return oss_err(err, OSS_ERR_INVALID, EINVAL, "shim_path must be absolute");
    if (is_set(c->supervisor_path) && c->supervisor_path[0] != '/')
        return oss_err(err, OSS_ERR_INVALID, EINVAL, "supervisor_path must be absolute");
    return 0;
}

void drv_config_usage(FILE *f)
{
    fprintf(f, "Usage: openshell-driver-substrate [--key value | --key=value]...\n"
               "       openshell-driver-substrate check-config [--key value | --key=value]...\n\n"
               "Serves openshell.compute.v1.ComputeDriver on a Unix socket.\n"
               "Precedence: defaults < JSON file (--config) < env < flags.\n"
               "check-config loads the same keys, checks offline what it can (files,\n"
               "digests, the socket directory), prints each finding and exits 1 on an\n"
               "error, 2 when the configuration does not load.\n\n");
    for (size_t i = 0; i < OSS_ARRAY_SIZE(keys); i++) {
        char fl[96], en[96];
        flag_name(&keys[i], fl, sizeof fl);
        env_name(&keys[i], en, sizeof en);
        fprintf(f, "  %-32s %s\n  %-32s env %s%s%s\n", fl, keys[i].help, "", en,
                keys[i].def != NULL ? ", default " : "", keys[i].def != NULL ? keys[i].def : "");
    }
    fprintf(f,
            "\nSubcommand:\n  %-32s print the Secret (redacted) and ActorTemplate a "
            "CreateSandbox\n  %-32s would apply for a DriverSandbox in proto3 JSON, "
            "contacting nothing\n\n",
            "render --spec FILE [--key v]...", "");
    fprintf(f, "  %-32s this text\n  %-32s print the version\n", "--help", "--version");
}
