/* The readyz HTTP server, driven entirely by the shim's event loop.
 *
 * Bounded everywhere so that a flood of connections cannot stall PID 1's
 * signal handling and reaping: at most SHIM_READYZ_MAX_CONNS connections
 * (more are accepted and reset at once), at most SHIM_READYZ_ACCEPT_BATCH
 * accepts and one read or write per connection per loop round, and every
 * connection is gone SHIM_READYZ_CONN_TIMEOUT_MS after it was accepted (one
 * sweeping timer, armed only while connections exist: an idle shim has no
 * wake-ups).
 *
 * Every response carries `Connection: close`.  The server then waits for the
 * client to close first and only then closes: a socket the sandbox closed
 * first stays in TIME_WAIT for 60 s, and runsc refuses to checkpoint while
 * one exists (docs/platform/gvisor.md,
 * "Checkpoint and restore"), which would break the golden snapshot Substrate
 * cuts right after readyz passes.  A client that does not close in time is
 * reset (SO_LINGER {1,0}), which leaves no TIME_WAIT either. */
#ifndef SHIM_READYZ_SERVER_H
#define SHIM_READYZ_SERVER_H

#include "buf.h"
#include "error.h"
#include "loop.h"

#define SHIM_READYZ_MAX_CONNS       64
#define SHIM_READYZ_ACCEPT_BATCH    16
#define SHIM_READYZ_CONN_TIMEOUT_MS 2000
#define SHIM_READYZ_SWEEP_MS        250

struct shim_readyz_hooks {
    void *ctx;
    const char *(*not_ready_reason)(void *ctx); /* NULL = ready */
    void (*status_json)(void *ctx, oss_buf *out);
    void (*before_readyz)(void *ctx); /* lets restore detection run before answering */
};

struct shim_readyz_stats {
    unsigned long long accepted;
    unsigned long long rejected_over_cap;
    unsigned long long timed_out;
    unsigned long long responses; /* responses written in full */
    unsigned active;
    int port; /* the bound port (useful with port 0 in tests) */
};

struct shim_readyz;

/* Listens on 0.0.0.0:port (port 0 picks one, see stats.port). */
int shim_readyz_start(struct shim_loop *loop, int port, const struct shim_readyz_hooks *hooks,
                      struct shim_readyz **ret, oss_error *err);
void shim_readyz_stop(struct shim_readyz *r);
void shim_readyz_get_stats(const struct shim_readyz *r, struct shim_readyz_stats *ret);

#endif
