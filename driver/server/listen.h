/* The driver's Unix socket: the only trust boundary between the gateway
 * and the driver (no TLS, no token: docs/platform/gateway.md,
 * "Connecting to a driver").  The driver owns the
 * listening socket itself instead of letting gRPC bind it, because gRPC
 * core cannot show a handler the peer's credentials: each connection is
 * accepted here, its SO_PEERCRED checked, and only then handed to gRPC. */
#ifndef DRV_LISTEN_H
#define DRV_LISTEN_H

#include "error.h"

#include <stdbool.h>
#include <sys/types.h>

/* Creates the parent directory (0700) when missing, refuses a live socket
 * (another driver answers on it), replaces a stale one, binds and listens
 * with the socket at 0600.  Returns a non-blocking, close-on-exec fd. */
int drv_listen_open(const char *path, int *ret_fd, oss_error *err);

/* The peer policy, pure: the driver's own uid, or root. */
bool drv_peer_uid_allowed(uid_t peer, uid_t self);

/* Reads SO_PEERCRED of a connected socket. */
int drv_peer_uid(int fd, uid_t *ret_uid, pid_t *ret_pid, oss_error *err);

#endif
