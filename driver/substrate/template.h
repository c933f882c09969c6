/* ActorTemplate and Secret synthesis for the current ate.dev/v1alpha1 CRD
 * (docs/platform/substrate.md, "The ActorTemplate schema").  Pure functions: a sandbox spec and the
 * driver config in, JSON text out, no I/O, so the output can be compared byte for byte with golden
 * files (tests/driver/substrate/golden). */
#ifndef DRV_SUBSTRATE_TEMPLATE_H
#define DRV_SUBSTRATE_TEMPLATE_H

#include "backend.h"
#include "buf.h"
#include "config.h"
#include "error.h"

#include <stdbool.h>
#include <stddef.h>

/* The CRD's limits (containers[].env maxItems, containers[].command maxItems). */
#define DRV_TEMPLATE_MAX_ENV     32
#define DRV_TEMPLATE_MAX_COMMAND 64

/* Field manager for server-side apply and the value of the ownership marks. */
#define DRV_OWNER "openshell-driver-substrate"

#define DRV_LABEL_MANAGED_BY "app.kubernetes.io/managed-by"
#define DRV_ANN_OWNED_BY     "openshell.nvidia.com/owned-by"
#define DRV_LABEL_SANDBOX_ID "openshell.nvidia.com/sandbox-id"
#define DRV_ANN_SANDBOX_NAME "openshell.nvidia.com/sandbox-name"

/* Substrate's reserved atespace of golden actors (one per template, named
 * by the template's status.goldenActorID). */
#define DRV_GOLDEN_ATESPACE "ate-golden"

/* The shim's state directory inside the actor, where it writes the token
 * and the gateway client TLS files (OPENSHELL_TLS_CA/CERT/KEY point into
 * its tls/).  The shim writes secrets only to a tmpfs, and in an actor the
 * one tmpfs is /dev: /run is the image's own directory on the overlay root
 * (docs/platform/substrate.md, "Which paths of an actor are on a tmpfs"). */
#define DRV_SHIM_STATE_DIR "/dev/openshell"
#define DRV_TLS_DIR        DRV_SHIM_STATE_DIR "/tls"

/* Buffer sizes for the derived names (both include the NUL). */
#define DRV_TEMPLATE_NAME_MAX 64
#define DRV_SECRET_NAME_MAX   80

/* Template name for a sandbox id: "osb-<id>", or, when that exceeds 63
 * characters, the id cut short plus "-" and 8 hex digits of a hash of the
 * whole id, so two long ids sharing a prefix still get different names.
 * The id must be a DNS-1123 label. */
int drv_template_name(const char *sandbox_id, char *ret, size_t size, oss_error *err);

/* Secret holding the sandbox token: "<template name>-token". */
int drv_secret_name(const char *sandbox_id, char *ret, size_t size, oss_error *err);

/* Checks the caller's env: names valid for the CRD, no reserved name, no
 * duplicate, and the total (with the driver's own entries, which depend on
 * the config c: NULL counts none of the config-dependent ones) within 32. */
int drv_template_check_env(const struct drv_sandbox_spec *spec, const struct drv_config *c,
                           oss_error *err);

/* Checks everything the synthesis would refuse, without producing output. */
int drv_template_validate(const struct drv_sandbox_spec *spec, const struct drv_config *c,
                          oss_error *err);

/* Appends the ActorTemplate JSON to out.  Nothing is appended on failure. */
int drv_template_build(const struct drv_sandbox_spec *spec, const struct drv_config *c,
                       oss_buf *out, oss_error *err);

/* RFC 4648 base64 with padding. */
void drv_base64_encode(const void *data, size_t len, oss_buf *out);

/* What create does for a spec: which template the actor uses and which
 * objects the driver applies (and later deletes).  A pre-provisioned
 * template (spec->template_override, from platform_config annotation
 * substrate_actor_template) is used as is: nothing is applied, and the
 * token, which could only reach the actor through our own template, is not
 * stored either. */
struct drv_template_plan {
    char template_name[DRV_TEMPLATE_NAME_MAX];
    char secret_name[DRV_SECRET_NAME_MAX];
    bool apply_template;
    bool apply_secret;
};
int drv_template_plan(const struct drv_sandbox_spec *spec, const struct drv_config *c,
                      struct drv_template_plan *ret, oss_error *err);
void drv_template_plan_json(const struct drv_template_plan *p, const struct drv_config *c,
                            oss_buf *out);

/* The namespace templates and Secrets go into. */
const char *drv_template_namespace(const struct drv_config *c);

#endif
