/* A small ateapi.Control client over gRPC's C core (docs/platform/substrate.md,
 * "ateapi.Control", "Transport and authentication"):
 * TLS by default (CA file, server-name override, optional client
 * certificate; grpc offers ALPN h2 itself, which grpc-go servers require),
 * `authorization: Bearer` read from a file on every RPC (projected tokens
 * rotate), a deadline on every call and retries of ABORTED/UNAVAILABLE
 * within it.  Thread-safe: every call has its own completion queue. */
#ifndef DRV_SUBSTRATE_ATEAPI_H
#define DRV_SUBSTRATE_ATEAPI_H

#include "backend.h"
#include "config.h"
#include "error.h"

#include <stddef.h>

struct drv_ateapi;

int drv_ateapi_open(const struct drv_config *c, struct drv_ateapi **ret, oss_error *err);
void drv_ateapi_close(struct drv_ateapi *a);

/* ALREADY_EXISTS counts as success. */
int drv_ateapi_create_atespace(struct drv_ateapi *a, const char *name, oss_error *err);

/* *ret_attempts tells the caller whether an ALREADY_EXISTS may be the echo of
 * its own earlier attempt whose answer was lost. */
int drv_ateapi_create_actor(struct drv_ateapi *a, const char *atespace, const char *name,
                            const char *tmpl_ns, const char *tmpl_name, struct drv_actor *ret,
                            unsigned *ret_attempts, oss_error *err);
int drv_ateapi_get_actor(struct drv_ateapi *a, const char *atespace, const char *name,
                         struct drv_actor *ret, oss_error *err);

enum drv_ateapi_op {
    DRV_ATEAPI_RESUME,
    DRV_ATEAPI_SUSPEND,
    DRV_ATEAPI_PAUSE,
};
/* Resume, Suspend or Pause (the long deadline); ret may be NULL. */
int drv_ateapi_transition(struct drv_ateapi *a, enum drv_ateapi_op op, const char *atespace,
                          const char *name, struct drv_actor *ret, oss_error *err);
int drv_ateapi_delete_actor(struct drv_ateapi *a, const char *atespace, const char *name,
                            oss_error *err);

/* Every actor of the atespace, all pages. */
int drv_ateapi_list_actors(struct drv_ateapi *a, const char *atespace, struct drv_actor **ret,
                           size_t *ret_n, oss_error *err);

#endif
