/* The local runsc backend: every sandbox is a gVisor container on this
 * machine, shaped like an Agent Substrate actor (docs/runsc-backend.md). */
#ifndef DRV_RUNSC_BACKEND_H
#define DRV_RUNSC_BACKEND_H

#include "backend.h"
#include "config.h"
#include "error.h"

int drv_runsc_backend_open(const struct drv_config *c, struct drv_backend **ret, oss_error *err);

#endif
