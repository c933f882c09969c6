#include "retry.h"

#include <grpc/status.h>

bool drv_retry_code_retryable(int grpc_code)
{
    return grpc_code == GRPC_STATUS_ABORTED || grpc_code == GRPC_STATUS_UNAVAILABLE;
}

int64_t drv_retry_delay_ms(const struct drv_retry_policy *p, unsigned attempt, uint32_t rnd,
                           int64_t remaining_ms)
{
    int64_t base = p->base_ms > 0 ? p->base_ms : 1;
    int64_t cap = p->max_ms >= base ? p->max_ms : base;
    int64_t step = base;
    /* doubling stops at the cap, so the shift can never overflow */
    for (unsigned i = 0; i < attempt && step < cap; i++)
        step *= 2;
    if (step > cap)
        step = cap;
    int64_t half = step / 2;
    int64_t delay = (step - half) + (int64_t)(rnd % (uint64_t)(half + 1));
    if (remaining_ms <= 0 || delay >= remaining_ms)
        return -1;
    return delay;
}
