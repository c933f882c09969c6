#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int oss_parse_long(const char *s, long min, long max, long *ret)
{
    if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
        return -1;
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return -1;
    *ret = v;
    return 0;
}

int oss_parse_duration_ms(const char *s, long long max_ms, long long *ret_ms)
{
    if (s == NULL || !isdigit((unsigned char)*s))
        return -1;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || v < 0)
        return -1;
    double mult;
    if (strcmp(end, "") == 0 || strcmp(end, "s") == 0)
        mult = 1000.0;
    else if (strcmp(end, "ms") == 0)
        mult = 1.0;
    else if (strcmp(end, "m") == 0)
        mult = 60000.0;
    else
        return -1;
    double ms = v * mult;
    /* (double)LLONG_MAX rounds up to 2^63, so "ms <= max_ms" alone lets 2^63
     * through to a conversion that overflows (found by fuzz_util_parse). */
    if (ms > (double)max_ms || ms >= 0x1p63)
        return -1;
    *ret_ms = (long long)ms;
    return 0;
}

bool oss_dns1123_label_valid(const char *s)
{
    if (s == NULL)
        return false;
    size_t n = strlen(s);
    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && !(c == '-' && i != 0 && i != n - 1))
            return false;
    }
    return true;
}

static int64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t oss_mono_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}
int64_t oss_mono_ms(void)
{
    return clock_ns(CLOCK_MONOTONIC) / 1000000LL;
}
int64_t oss_real_ms(void)
{
    return clock_ns(CLOCK_REALTIME) / 1000000LL;
}
