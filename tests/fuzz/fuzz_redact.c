/* libFuzzer: oss_redact() (common/redact.c).  The input is a secret and a
 * line, split at the first NUL; the first byte picks the output size.  The
 * output must stay within it, be terminated, and never hold the secret when
 * the secret is made of token characters (what the driver lets a token be)
 * and 4 bytes or longer. */
#include "redact.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static bool token_chars(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr("-._~+/=", *s)))
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t cap = (size_t)data[0] * 4; /* 0 included: nothing written */
    char *buf = malloc(size);
    if (buf == NULL)
        return 0;
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    const char *secret = buf;
    size_t sl = strlen(secret);
    const char *line = sl + 1 < size - 1 ? buf + sl + 1 : "";
    char *out = malloc(cap + 1);
    if (out == NULL) {
        free(buf);
        return 0;
    }
    out[cap] = 'Z'; /* a canary one past the end */
    const char *secrets[] = {secret};
    size_t n = oss_redact(line, out, cap, secrets, 1);
    if (out[cap] != 'Z')
        abort();
    if (cap > 0 && (n >= cap || out[n] != '\0' || strlen(out) != n))
        abort();
    if (cap == 0 && n != 0)
        abort();
    if (cap > 0 && sl >= 4 && token_chars(secret) && strstr(out, secret) != NULL)
        abort();
    free(out);
    free(buf);
    return 0;
}
