/* The 12 ComputeDriver RPCs as functions from request bytes to a reply.
 * No gRPC call objects here: server.c moves bytes, this file decides. */
#ifndef DRV_HANDLERS_H
#define DRV_HANDLERS_H

#include "backend.h"
#include "config.h"
#include "error.h"
#include "watch.h"

#include <stddef.h>
#include <stdint.h>

struct drv_ctx {
    const struct drv_config *cfg;
    struct drv_backend *backend;
    struct drv_watch *watch;
};

struct drv_reply {
    int status; /* grpc_status_code */
    char msg[OSS_ERR_MSG_MAX];
    uint8_t *body; /* packed response when status is OK; malloc'd */
    size_t len;
};

enum drv_run {
    DRV_RUN_INLINE, /* cheap and never blocks: answered on the CQ thread */
    DRV_RUN_FAST,   /* reads: Get, List, Validate */
    DRV_RUN_SLOW,   /* mutations that may take minutes */
    DRV_RUN_STREAM, /* WatchSandboxes */
};

typedef void (*drv_handler_fn)(struct drv_ctx *ctx, const uint8_t *req, size_t len,
                               struct drv_reply *rep);

struct drv_method {
    const char *path; /* "/openshell.compute.v1.ComputeDriver/GetSandbox" */
    drv_handler_fn fn;
    enum drv_run run;
};

const struct drv_method *drv_method_find(const char *path, size_t len);

void drv_reply_free(struct drv_reply *rep);

#endif
