/* libFuzzer: the readyz request-head parser.  The input is fed whole and
 * again in chunks whose sizes come from the input itself; the verdicts must
 * agree (the parser's promise that splits do not matter), and nothing may
 * read or write out of bounds. */
#include "readyz/http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct shim_http_req a, b;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t step = (size_t)(data[0] % 17) + 1;
    const char *in = (const char *)data + 1;
    size_t n = size - 1;

    shim_http_init(&a);
    size_t ca = shim_http_feed(&a, in, n);

    shim_http_init(&b);
    size_t cb = 0;
    for (size_t off = 0; off < n && b.result == SHIM_HTTP_MORE; off += step) {
        size_t len = n - off < step ? n - off : step;
        cb += shim_http_feed(&b, in + off, len);
    }
    if (ca > n || a.result != b.result || a.status != b.status || ca != cb)
        abort();
    if (a.result == SHIM_HTTP_DONE) {
        if (strcmp(a.path, b.path) != 0 || a.method != b.method ||
            strlen(a.path) > SHIM_HTTP_PATH_MAX)
            abort();
        (void)shim_http_route_of(a.path);
    }
    if (a.result == SHIM_HTTP_ERROR &&
        (a.reason == NULL || shim_http_status_text(a.status) == NULL))
        abort();
    return 0;
}
