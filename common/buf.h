/* A growable byte buffer, always NUL-terminated when non-empty.  Allocation
 * failure aborts: every caller would only propagate ENOMEM, and under a
 * memory cgroup the OOM killer acts before malloc fails anyway. */
#ifndef OSS_BUF_H
#define OSS_BUF_H

#include <stddef.h>

typedef struct oss_buf {
    char *data;
    size_t len;
    size_t cap;
} oss_buf;

#define OSS_BUF_INIT                                                                               \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void oss_buf_reserve(oss_buf *b, size_t extra);
void oss_buf_put(oss_buf *b, const void *p, size_t n);
void oss_buf_puts(oss_buf *b, const char *s);
void oss_buf_putc(oss_buf *b, char c);
void oss_buf_printf(oss_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void oss_buf_reset(oss_buf *b);
void oss_buf_free(oss_buf *b);
/* Hands the data to the caller (never NULL: an empty buffer yields ""). */
char *oss_buf_steal(oss_buf *b);

static inline void oss_buf_freep(oss_buf *b)
{
    oss_buf_free(b);
}
#define _cleanup_buf_ __attribute__((cleanup(oss_buf_freep)))

#endif
