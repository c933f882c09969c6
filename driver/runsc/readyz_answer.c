/* Pure: reading the shim's answer to GET /readyz far enough to act on it.
 * A 200 needs only its status line; a 503 carries the reason in its body
 * ("bootstrap refused: ..." when the shim will never become ready, see
 * docs/runsc-backend.md, "Lifecycle and statuses"), so the body is read as far as its
 * Content-Length and the buffer allow. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *find(const char *buf, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(buf + i, needle, n) == 0)
            return buf + i;
    return NULL;
}

int drv_runsc_http_answer(const char *buf, size_t len, bool full, int *code, size_t *body_off,
                          size_t *body_len)
{
    const char *eol = find(buf, len, "\r\n");
    if (eol == NULL)
        return full ? -1 : 0;
    /* "HTTP/1.x NNN" */
    size_t line = (size_t)(eol - buf);
    if (line < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[7] < '0' || buf[7] > '9' ||
        buf[8] != ' ')
        return -1;
    int c = 0;
    for (int i = 9; i < 12; i++) {
        if (buf[i] < '0' || buf[i] > '9')
            return -1;
        c = c * 10 + (buf[i] - '0');
    }
    if (line > 12 && buf[12] != ' ')
        return -1;
    *code = c;
    if (c == 200) { /* ready: nothing else matters */
        *body_off = *body_len = 0;
        return 1;
    }
    const char *end = find(buf, len, "\r\n\r\n");
    if (end == NULL) {
        if (full) { /* headers larger than the buffer: the status is enough */
            *body_off = *body_len = 0;
            return 1;
        }
        return 0;
    }
    size_t off = (size_t)(end - buf) + 4;
    /* Content-Length, case-insensitively, among the header lines */
    size_t want = 0;
    for (const char *p = eol + 2; p < end;) {
        const char *nl = find(p, (size_t)(end + 2 - p), "\r\n");
        if (nl == NULL)
            break;
        static const char cl[] = "content-length:";
        size_t l = (size_t)(nl - p);
        if (l > sizeof cl - 1 && strncasecmp(p, cl, sizeof cl - 1) == 0) {
            size_t v = 0;
            const char *q = p + sizeof cl - 1;
            while (q < nl && (*q == ' ' || *q == '\t'))
                q++;
            if (q == nl)
                return -1;
            for (; q < nl && *q >= '0' && *q <= '9'; q++) {
                if (v > 1000000)
                    return -1;
                v = v * 10 + (size_t)(*q - '0');
            }
            while (q < nl && (*q == ' ' || *q == '\t'))
                q++;
            if (q != nl)
                return -1;
            want = v;
        }
        p = nl + 2;
    }
    size_t have = len - off;
    if (have < want && !full)
        return 0;
    *body_off = off;
    *body_len = have < want ? have : want;
    return 1;
}
