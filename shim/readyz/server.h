/* The readyz HTTP server: /readyz, /healthz and /status over HTTP/1.1 on
 * the shim's connection server (net/connsrv.h), which bounds it and keeps
 * a flood from locking a prober out.
 *
 * Sizing against a flood: Substrate's prober gives each request 250 ms
 * (docs/platform/substrate.md).  A slow client holds a slot only until a
 * newcomer needs it (the oldest connection still reading its head is reset),
 * and any head incomplete after SHIM_READYZ_HEAD_TIMEOUT_MS is reset anyway;
 * the listen backlog takes a burst of SHIM_READYZ_BACKLOG connections, so
 * the kernel does not drop a prober's SYN (a retransmitted SYN waits 1 s).
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
#define SHIM_READYZ_ACCEPT_BATCH    16 /* 2 * batch < max: see net/connsrv.h */
#define SHIM_READYZ_BACKLOG         1024
#define SHIM_READYZ_HEAD_TIMEOUT_MS 500
#define SHIM_READYZ_CONN_TIMEOUT_MS 2000
#define SHIM_READYZ_SWEEP_MS        100

struct shim_readyz_hooks {
    void *ctx;
    const char *(*not_ready_reason)(void *ctx); /* NULL = ready */
    void (*status_json)(void *ctx, oss_buf *out);
    void (*before_readyz)(void *ctx); /* lets restore detection run before answering */
};

struct shim_readyz_stats {
    unsigned long long accepted;
    unsigned long long rejected_over_cap;
    unsigned long long evicted; /* reset to make room for a newcomer */
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
