/* libFuzzer: the number parsers of common/util.c (oss_parse_long,
 * oss_parse_duration_ms) and oss_dns1123_label_valid.  The input is one
 * string; the bounds come from its first byte, including the extreme ones
 * (LONG_MIN..LONG_MAX, LLONG_MAX ms) where conversions overflow. */
#include "util.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    static const long long dmax[] = {0, 1000, 24LL * 3600 * 1000, LLONG_MAX / 2, LLONG_MAX};
    static const long lmin[] = {0, -1, LONG_MIN, 1};
    static const long lmax[] = {65535, LONG_MAX, 0, 255};
    uint8_t sel = data[0];
    char *s = malloc(size);
    if (s == NULL)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';

    long long max_ms = dmax[sel % 5], ms = -7;
    if (oss_parse_duration_ms(s, max_ms, &ms) == 0) {
        if (ms < 0 || ms > max_ms)
            abort();
    } else if (ms != -7) {
        abort(); /* out-param untouched on failure */
    }

    long mn = lmin[(sel >> 3) % 4], mx = lmax[(sel >> 3) % 4], v = 12345;
    if (oss_parse_long(s, mn, mx, &v) == 0) {
        if (v < mn || v > mx)
            abort();
    } else if (v != 12345) {
        abort();
    }

    if (oss_dns1123_label_valid(s)) {
        size_t n = strlen(s);
        if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-' ||
            strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") != n)
            abort();
    }
    free(s);
    return 0;
}
