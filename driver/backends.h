/* The backend factory: config -> an opened backend.  The real factory
 * (driver/backends.c) knows the backends this build contains; the test
 * build of the driver links a test double's factory instead. */
#ifndef DRV_BACKENDS_H
#define DRV_BACKENDS_H

#include "backend.h"
#include "config.h"
#include "error.h"

int drv_backend_open(const struct drv_config *c, struct drv_backend **ret, oss_error *err);

/* backend->destroy() and NULL-safe, for _cleanup_backend_. */
void drv_backend_close(struct drv_backend *b);

#endif
