/* Small helpers every part of the driver uses, in one place. */
#ifndef DRV_DRV_UTIL_H
#define DRV_DRV_UTIL_H

#include <stdint.h>
#include <time.h>

/* strdup that never returns NULL: NULL copies as "", and ENOMEM aborts (the
 * driver's policy for allocation failure, as oss_buf's). */
char *drv_strdup(const char *s);

/* The same, except that NULL stays NULL. */
char *drv_strdup_or_null(const char *s);

/* Sleeps ms milliseconds (nothing for ms <= 0), resuming after EINTR, so a
 * signal delivered to this thread does not cut a backoff short. */
void drv_sleep_ms(int64_t ms);

/* CLOCK_MONOTONIC now + ms, for pthread_cond_timedwait on a condition
 * variable set to that clock. */
struct timespec drv_mono_deadline_ms(int64_t ms);

#endif
