/* Retry policy for ateapi calls: which codes are retried and how long to
 * wait.  Pure so the policy is unit tested apart from the transport. */
#ifndef DRV_SUBSTRATE_RETRY_H
#define DRV_SUBSTRATE_RETRY_H

#include <stdbool.h>
#include <stdint.h>

struct drv_retry_policy {
    int64_t base_ms; /* first backoff step */
    int64_t max_ms;  /* cap of one step */
};

#define DRV_RETRY_POLICY_DEFAULT                                                                   \
    {                                                                                              \
        .base_ms = 50, .max_ms = 2000                                                              \
    }

/* ABORTED (a concurrent operation on the actor, docs/platform/substrate.md,
 * "ateapi.Control") and
 * UNAVAILABLE (server restarting, connection lost) are transient. */
bool drv_retry_code_retryable(int grpc_code);

/* Delay before attempt number `attempt` + 1 (attempt counts from 0 for the
 * first try): exponential from base_ms, capped at max_ms, with "equal
 * jitter" (half fixed, half drawn from `rnd`) so clients that failed
 * together do not retry together.  Returns -1 when the delay would not fit
 * in remaining_ms, i.e. the caller should give up now. */
int64_t drv_retry_delay_ms(const struct drv_retry_policy *p, unsigned attempt, uint32_t rnd,
                           int64_t remaining_ms);

#endif
