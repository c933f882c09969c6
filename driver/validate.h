/* Create-time validation that needs no backend: runs in
 * ValidateSandboxCreate and again in CreateSandbox (the gateway may skip
 * the former).  Errors are OSS_ERR_GRPC with INVALID_ARGUMENT or
 * FAILED_PRECONDITION and a message that tells the user what to change.
 * Backend-specific rules (an image pinned by digest for Substrate) live in
 * the backend's validate hook. */
#ifndef DRV_VALIDATE_H
#define DRV_VALIDATE_H

#include "backend.h"
#include "convert.h"
#include "error.h"

#include <stdbool.h>
#include <stddef.h>

/* Substrate takes at most 32 env entries per container (docs/platform/substrate.md,
 * "Environment"); the
 * driver itself adds the identity variables below, so the caller gets the
 * rest.  Caller entries with these names are dropped (the driver's own
 * values win) and not counted. */
#define DRV_ENV_MAX      32
#define DRV_ENV_RESERVED 4
#define DRV_COMMAND_MAX  64
#define DRV_NAME_MAX     253

extern const char *const drv_identity_env[DRV_ENV_RESERVED];

/* The names only the driver sets: the identity variables above, and
 * OPENSHELL_SANDBOX_TOKEN (the token never travels as a plain value). */
bool drv_env_reserved(const char *name);

/* Drops the caller's entries with reserved names from s->env, as upstream
 * OpenShell drivers do ("driver-controlled entries overwrite template
 * environment variables to prevent spoofing"): a sandbox cannot pose as
 * another or point its supervisor at another gateway.  Calls note(name)
 * for each before freeing it, so the server can say so.  Returns how many
 * were dropped.  Every backend then sees only the caller's own names. */
size_t drv_env_drop_reserved(struct drv_sandbox_spec *s, void (*note)(const char *name, void *ctx),
                             void *ctx);

/* The request shape: sandbox, spec and template present, no GPU asked for. */
int drv_validate_request(const drv_pb_sandbox_t *sb, oss_error *err);

/* The converted spec: id a DNS-1123 label, sane name, env names and count,
 * command length, image reference shape. */
int drv_validate_spec(const struct drv_sandbox_spec *s, oss_error *err);

/* An id from Get/Stop/Start/Delete. */
int drv_validate_id(const char *id, oss_error *err);

#endif
