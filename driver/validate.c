#include "validate.h"

#include "util.h"

#include <grpc/status.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Set by the driver from its own knowledge; a caller cannot redirect the
 * supervisor to another gateway or impersonate another sandbox. */
const char *const drv_identity_env[DRV_ENV_RESERVED] = {
    "OPENSHELL_SANDBOX_ID",
    "OPENSHELL_ENDPOINT",
    "OPENSHELL_SSH_SOCKET_PATH",
    "OPENSHELL_SANDBOX_TOKEN_FILE",
};

/* Further names the driver owns, as upstream drivers treat them (see
 * docs/platform/supervisor.md, variables the driver owns): the sandbox
 * name (policy sync), the main-process transport (a caller could otherwise
 * replace the command), and everything that decides whom the supervisor
 * trusts as its gateway (a caller who moves the CA or the server name can
 * intercept the sandbox token). */
static const char *const owned_env[] = {
    "OPENSHELL_SANDBOX",
    "OPENSHELL_MAIN_PROCESS_SPEC",
    "OPENSHELL_TLS_CA",
    "OPENSHELL_TLS_CERT",
    "OPENSHELL_TLS_KEY",
    "OPENSHELL_GATEWAY_TLS_SERVER_NAME",
    /* the token itself never travels as a plain env value */
    "OPENSHELL_SANDBOX_TOKEN",
};

bool drv_env_reserved(const char *k)
{
    for (size_t i = 0; i < DRV_ENV_RESERVED; i++)
        if (strcmp(k, drv_identity_env[i]) == 0)
            return true;
    for (size_t i = 0; i < sizeof owned_env / sizeof owned_env[0]; i++)
        if (strcmp(k, owned_env[i]) == 0)
            return true;
    return false;
}

size_t drv_env_drop_reserved(struct drv_sandbox_spec *s, void (*note)(const char *name, void *ctx),
                             void *ctx)
{
    size_t kept = 0, dropped = 0;
    for (size_t i = 0; i < s->nenv; i++) {
        struct drv_kv kv = s->env[i];
        if (kv.key != NULL && drv_env_reserved(kv.key)) {
            if (note)
                note(kv.key, ctx);
            free(kv.key);
            free(kv.value);
            dropped++;
            continue;
        }
        s->env[kept++] = kv;
    }
    s->nenv = kept;
    return dropped;
}

/* POSIX portable name: what Kubernetes and a shell both accept. */
static bool env_name_valid(const char *k)
{
    if (k == NULL || k[0] == '\0' || strlen(k) > 255)
        return false;
    if (!((k[0] >= 'A' && k[0] <= 'Z') || (k[0] >= 'a' && k[0] <= 'z') || k[0] == '_'))
        return false;
    for (const char *p = k + 1; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            return false;
    return true;
}

static bool printable_no_space(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f)
            return false;
    return true;
}

int drv_validate_id(const char *id, oss_error *err)
{
    if (id == NULL || id[0] == '\0')
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_INVALID_ARGUMENT, "sandbox id is empty");
    if (!oss_dns1123_label_valid(id))
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_INVALID_ARGUMENT,
                       "sandbox id \"%.80s\" is not a DNS-1123 label (lower-case letters, digits "
                       "and '-', starting and ending with a letter or digit, at most 63 "
                       "characters)",
                       id);
    return 0;
}

int drv_validate_request(const drv_pb_sandbox_t *sb, oss_error *err)
{
    if (sb == NULL)
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_INVALID_ARGUMENT, "request has no sandbox");
    if (sb->spec == NULL)
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_INVALID_ARGUMENT,
                       "sandbox has no spec: the gateway must send spec.template.image");
    if (sb->spec->template_ == NULL)
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_INVALID_ARGUMENT,
                       "sandbox spec has no template: set an image for the sandbox");
    if (sb->spec->resource_requirements != NULL && sb->spec->resource_requirements->gpu != NULL)
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_FAILED_PRECONDITION,
                       "GPUs were requested but the substrate driver cannot attach GPUs to "
                       "actors: drop the GPU request or pick a GPU-capable driver");
    return 0;
}

int drv_validate_spec(const struct drv_sandbox_spec *s, oss_error *err)
{
    if (drv_validate_id(s->id, err) < 0)
        return -1;
    if (s->name != NULL && (strlen(s->name) > DRV_NAME_MAX || !printable_no_space(s->name)))
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_INVALID_ARGUMENT,
                       "sandbox name must be at most %d printable characters without spaces",
                       DRV_NAME_MAX);
    if (s->namespace_ == NULL || !oss_dns1123_label_valid(s->namespace_))
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_INVALID_ARGUMENT,
                       "namespace \"%.80s\" is not a DNS-1123 label",
                       s->namespace_ != NULL ? s->namespace_ : "");
    if (s->image != NULL && s->image[0] != '\0' && !printable_no_space(s->image))
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_INVALID_ARGUMENT,
                       "image reference contains spaces or control characters");
    if ((s->image == NULL || s->image[0] == '\0') && s->template_override == NULL)
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_INVALID_ARGUMENT,
                       "sandbox has no image: set spec.template.image, or name a "
                       "pre-provisioned ActorTemplate in platform_config.substrate_actor_template");

    size_t counted = 0;
    for (size_t i = 0; i < s->nenv; i++) {
        if (!env_name_valid(s->env[i].key))
            return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_INVALID_ARGUMENT,
                           "environment variable name \"%.64s\" is invalid (letters, digits "
                           "and '_', not starting with a digit)",
                           s->env[i].key != NULL ? s->env[i].key : "");
        if (!drv_env_reserved(s->env[i].key))
            counted++;
    }
    if (counted > DRV_ENV_MAX - DRV_ENV_RESERVED)
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_INVALID_ARGUMENT,
                       "%zu environment variables requested; Substrate allows %d per container "
                       "and the driver needs %d for the sandbox identity, so at most %d remain",
                       counted, DRV_ENV_MAX, DRV_ENV_RESERVED, DRV_ENV_MAX - DRV_ENV_RESERVED);

    size_t ncmd = 0;
    for (char **c = s->command; c != NULL && *c != NULL; c++)
        ncmd++;
    if (ncmd > DRV_COMMAND_MAX)
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_INVALID_ARGUMENT,
                       "command has %zu arguments; Substrate allows at most %d in total", ncmd,
                       DRV_COMMAND_MAX);
    return 0;
}
