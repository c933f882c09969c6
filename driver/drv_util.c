#include "drv_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

char *drv_strdup(const char *s)
{
    char *r = strdup(s != NULL ? s : "");
    if (r == NULL)
        abort();
    return r;
}

char *drv_strdup_or_null(const char *s)
{
    return s != NULL ? drv_strdup(s) : NULL;
}

void drv_sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

struct timespec drv_mono_deadline_ms(int64_t ms)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}
