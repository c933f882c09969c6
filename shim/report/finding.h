/* OCSF 1.8 Detection Findings (class 2004) in the supervisor's shape
 * (docs/platform/supervisor.md, "OCSF findings"), one per degraded subsystem. */
#ifndef SHIM_FINDING_H
#define SHIM_FINDING_H

#include "buf.h"
#include "config.h"

#include <stdint.h>

struct shim_bootstrap;

/* Where the finding comes from.  Filled from the environment and uname()
 * by shim_finding_ctx_init(); tests fill it by hand. */
struct shim_finding_ctx {
    int64_t time_ms;
    char hostname[65];
    char sandbox_id[128];
    char sandbox_name[128];
    char image[256];
};
/* OPENSHELL_SANDBOX_ID (else "unknown"), OPENSHELL_SANDBOX_NAME (else the
 * id), OPENSHELL_SANDBOX_IMAGE (else "unknown"), hostname from uname():
 * nothing that needs NSS, the shim is linked statically. */
void shim_finding_ctx_init(struct shim_finding_ctx *ctx, int64_t time_ms);

/* Pure: one finding as a JSON object (no newline). */
void shim_finding_json(const struct shim_finding_ctx *ctx, const char *uid, const char *title,
                       const char *message, const char *desc, oss_buf *out);

/* Pure: the finding for subsystem s of b, with the message naming what is
 * lost and what replaces it. */
void shim_finding_for(const struct shim_bootstrap *b, enum shim_subsys s,
                      const struct shim_finding_ctx *ctx, oss_buf *out);

#endif
