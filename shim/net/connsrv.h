/* The one connection server of the shim: readyz (TCP) and the control
 * socket (Unix) both run on it.  It owns a listening socket and a bounded
 * table of connections, all driven by the shim's event loop; the protocol
 * (an HTTP head parser, a command line) only sees bytes and writes a reply.
 *
 * Each connection reads one request, writes one reply, then either closes
 * or, with wait_fin, waits for the client to close first (a TCP socket the
 * sandbox closed first would sit in TIME_WAIT, which runsc refuses to
 * checkpoint: see docs/platform/gvisor.md).
 *
 * Bounded so that no client can stall PID 1 or lock others out:
 *  - at most accept_batch accepts and one read or write per connection per
 *    loop round;
 *  - a request head must be complete head_timeout_ms after accept, and a
 *    connection is gone conn_timeout_ms after accept (one sweeping timer,
 *    armed only while connections exist);
 *  - when the table is full, a newcomer takes the slot of the oldest
 *    connection still reading its request (a slow client holds a slot only
 *    until newer ones need it), else of the oldest one waiting for the
 *    client's close; only a table of connections being written to resets
 *    the newcomer.  A newcomer's request is read at accept if it is there
 *    (readyz defers accept until the first bytes arrive), else within two
 *    loop rounds, and it is never the oldest reader by then, because
 *    2 * accept_batch < max_conns;
 *  - out of fds (EMFILE, ENFILE) or memory the listener pauses until the
 *    next sweep instead of spinning the loop on a readable listener. */
#ifndef SHIM_NET_CONNSRV_H
#define SHIM_NET_CONNSRV_H

#include "buf.h"
#include "error.h"
#include "loop.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct shim_connsrv_limits {
    unsigned max_conns;
    unsigned accept_batch;
    int64_t head_timeout_ms; /* the request must be complete by then */
    int64_t conn_timeout_ms; /* the whole connection, reply and close included */
    int64_t sweep_ms;
    bool wait_fin;      /* after the reply, wait for the client to close first */
    size_t drain_limit; /* bytes a client may send after its request (wait_fin) */
};

struct shim_connsrv_proto {
    size_t state_size; /* per-connection protocol state, zeroed at accept */
    /* At accept (optional): e.g. the peer's credentials. */
    void (*accepted)(void *ctx, int fd, void *state);
    /* Bytes of the request.  Returns false while more are needed; true when
     * the reply is in `out` (which may stay empty: close at once). */
    bool (*feed)(void *ctx, void *state, const char *data, size_t n, oss_buf *out);
};

struct shim_connsrv_stats {
    unsigned long long accepted;
    unsigned long long rejected_over_cap; /* reset at once: the table was all writers */
    unsigned long long evicted;           /* reset to make room for a newcomer */
    unsigned long long timed_out;
    unsigned long long responses; /* replies written in full */
    unsigned long long nomem;     /* connections dropped for want of memory */
    unsigned long long paused;    /* times the listener paused (EMFILE...) */
    unsigned active;
    bool listening; /* false while paused */
};

struct shim_connsrv;

/* Takes ownership of lfd, a listening, non-blocking socket. */
int shim_connsrv_start(struct shim_loop *loop, int lfd, const struct shim_connsrv_limits *lim,
                       const struct shim_connsrv_proto *proto, void *ctx, struct shim_connsrv **ret,
                       oss_error *err);
/* Resets every connection, closes the listener. */
void shim_connsrv_stop(struct shim_connsrv *s);
void shim_connsrv_get_stats(const struct shim_connsrv *s, struct shim_connsrv_stats *ret);

#endif
