/* The ready condition behind GET /readyz: the supervisor's proxy accepts a
 * TCP connection (--ready-tcp=HOST:PORT, default 127.0.0.1:3128), or a file
 * exists (--ready-file=PATH), or, with neither, "the supervisor started"
 * (decided by the caller). */
#ifndef SHIM_READYZ_CONDITION_H
#define SHIM_READYZ_CONDITION_H

#include "error.h"

#include <stdint.h>
#include <sys/socket.h>

#define SHIM_READY_TCP_DEFAULT "127.0.0.1:3128"
#define SHIM_READY_TCP_WAIT_MS 5   /* bounded wait for a connect in progress */
#define SHIM_READY_CACHE_MS    100 /* a flood of probes costs one connect per 100 ms */

/* Pure: parses a numeric "A.B.C.D:PORT" or "[v6]:PORT" (port 1..65535).  No
 * name resolution: the static shim must not reach glibc's NSS. */
int shim_hostport_parse(const char *s, struct sockaddr_storage *ret_addr, socklen_t *ret_len,
                        oss_error *err);

struct shim_ready_cond;

/* ready_tcp and ready_file may both be NULL ("supervisor started" only). */
int shim_ready_cond_new(const char *ready_tcp, const char *ready_file, struct shim_ready_cond **ret,
                        oss_error *err);
void shim_ready_cond_free(struct shim_ready_cond *c);

/* NULL when the condition holds, else a short static reason.  Results are
 * cached for SHIM_READY_CACHE_MS (now_ms is CLOCK_MONOTONIC). */
const char *shim_ready_cond_check(struct shim_ready_cond *c, int64_t now_ms);
/* Drops the cached answer (after a restore everything is re-checked). */
void shim_ready_cond_invalidate(struct shim_ready_cond *c);

#endif
