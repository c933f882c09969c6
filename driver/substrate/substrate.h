/* The Substrate backend: sandboxes as actors of Agent Substrate, driven
 * through ateapi.Control, with per-sandbox ActorTemplates and token Secrets
 * applied through the Kubernetes API (docs/substrate-backend.md). */
#ifndef DRV_SUBSTRATE_H
#define DRV_SUBSTRATE_H

#include "backend.h"
#include "config.h"
#include "error.h"

/* c must outlive the backend (the server keeps its config for its lifetime). */
int drv_substrate_backend_open(const struct drv_config *c, struct drv_backend **ret,
                               oss_error *err);

#endif
