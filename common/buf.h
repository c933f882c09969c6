/* A growable byte buffer, always NUL-terminated when non-empty.
 *
 * Allocation failure does not abort: the buffer becomes failed, keeps what
 * it held, and drops every later write, so a long chain of appends (a JSON
 * document) needs one check at the end, oss_buf_failed().  A process that
 * must not die of a failed malloc (the shim, PID 1, after its child
 * started) checks it wherever a buffer's content is handed on, and drops
 * that event or reply instead.  oss_buf_steal() aborts on a failed buffer:
 * its callers (the driver) would only propagate ENOMEM. */
#ifndef OSS_BUF_H
#define OSS_BUF_H

#include <stddef.h>

typedef struct oss_buf {
    char *data;
    size_t len;
    size_t cap;
    int failed; /* an allocation failed: later writes were dropped */
} oss_buf;

#define OSS_BUF_INIT                                                                               \
    {                                                                                              \
        NULL, 0, 0, 0                                                                              \
    }

/* 0, or -1 (and the buffer failed) when the memory cannot be had. */
int oss_buf_reserve(oss_buf *b, size_t extra);
void oss_buf_put(oss_buf *b, const void *p, size_t n);
void oss_buf_puts(oss_buf *b, const char *s);
void oss_buf_putc(oss_buf *b, char c);
void oss_buf_printf(oss_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Empties the buffer and clears the failure. */
void oss_buf_reset(oss_buf *b);
static inline int oss_buf_failed(const oss_buf *b)
{
    return b->failed;
}
void oss_buf_free(oss_buf *b);
/* Hands the data to the caller (never NULL: an empty buffer yields ""). */
char *oss_buf_steal(oss_buf *b);

static inline void oss_buf_freep(oss_buf *b)
{
    oss_buf_free(b);
}
#define _cleanup_buf_ __attribute__((cleanup(oss_buf_freep)))

#endif
