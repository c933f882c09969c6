/* Small pure helpers shared by the shim and the driver. */
#ifndef OSS_UTIL_H
#define OSS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parses a whole decimal integer in [min, max]; no sign games, no trailing junk. */
int oss_parse_long(const char *s, long min, long max, long *ret);

/* Parses a duration: "1500ms", "2s", "1m", or a bare number of seconds
 * ("2", "0.5").  Result in milliseconds, in [0, max_ms]. */
int oss_parse_duration_ms(const char *s, long long max_ms, long long *ret_ms);

/* RFC 1123 label as Kubernetes validates it: [a-z0-9]([-a-z0-9]*[a-z0-9])?, 1..63. */
bool oss_dns1123_label_valid(const char *s);

/* CLOCK_MONOTONIC and CLOCK_REALTIME in milliseconds / nanoseconds. */
int64_t oss_mono_ms(void);
int64_t oss_mono_ns(void);
int64_t oss_real_ms(void);

#endif
