#include "buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int oss_buf_reserve(oss_buf *b, size_t extra)
{
    if (b->failed)
        return -1;
    if (extra > SIZE_MAX / 4 - b->len) {
        b->failed = 1;
        return -1;
    }
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *q = realloc(b->data, cap);
    if (q == NULL) {
        b->failed = 1;
        return -1;
    }
    b->data = q;
    b->cap = cap;
    return 0;
}

void oss_buf_put(oss_buf *b, const void *p, size_t n)
{
    if (oss_buf_reserve(b, n) < 0)
        return;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void oss_buf_puts(oss_buf *b, const char *s)
{
    oss_buf_put(b, s, strlen(s));
}

void oss_buf_putc(oss_buf *b, char c)
{
    oss_buf_put(b, &c, 1);
}

void oss_buf_printf(oss_buf *b, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    if (oss_buf_reserve(b, (size_t)n) < 0) {
        va_end(ap2);
        return;
    }
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    b->len += (size_t)n;
}

void oss_buf_reset(oss_buf *b)
{
    b->len = 0;
    b->failed = 0;
    if (b->data)
        b->data[0] = '\0';
}

void oss_buf_free(oss_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}

char *oss_buf_steal(oss_buf *b)
{
    if (b->failed)
        abort(); /* see buf.h: only callers that would propagate ENOMEM steal */
    char *p = b->data;
    if (p == NULL) {
        p = malloc(1);
        if (p == NULL)
            abort();
        p[0] = '\0';
    }
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
