/* The gRPC C-core side of the driver: one completion-queue thread moves
 * bytes, worker pools run handlers (handlers.c), and WatchSandboxes streams
 * are fed by the shared poller (watch.c) with per-stream bounded queues.
 * The listening socket is not gRPC's: listen.c accepts and vets each
 * connection, then drv_server_add_fd() hands it over. */
#ifndef DRV_SERVER_H
#define DRV_SERVER_H

#include "backend.h"
#include "config.h"
#include "error.h"
#include "watch.h"

struct drv_server;

int drv_server_new(const struct drv_config *cfg, struct drv_backend *backend,
                   struct drv_watch *watch, struct drv_server **ret, oss_error *err);

/* Takes ownership of a connected socket. */
void drv_server_add_fd(struct drv_server *s, int fd);

/* Stops admitting calls, ends watch streams with UNAVAILABLE, waits up to
 * grace_ms for in-flight calls, then cancels what is left. */
void drv_server_shutdown(struct drv_server *s, int64_t grace_ms);

void drv_server_free(struct drv_server *s);

#endif
