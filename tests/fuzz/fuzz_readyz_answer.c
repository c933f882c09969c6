/* libFuzzer target: the runsc backend's reading of the shim's readyz answer
 * (driver/runsc/readyz_answer.c).  The input is tried whole and at every
 * length below it as a growing buffer would see it: an answer judged
 * complete must stay complete with the same status as bytes arrive, and the
 * body must lie inside the buffer. */
#include "internal.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    /* a private copy without slack: reads past the end are caught */
    char *buf = malloc(size ? size : 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    int first_code = -1;
    for (size_t len = 0; len <= size; len++) {
        for (int full = 0; full <= 1; full++) {
            int code = 0;
            size_t off = 0, blen = 0;
            int r = drv_runsc_http_answer(buf, len, full, &code, &off, &blen);
            if (r < -1 || r > 1)
                __builtin_trap();
            if (r == 1) {
                if (off > len || blen > len - off || code < 0 || code > 999)
                    __builtin_trap();
                if (!full) {
                    if (first_code == -1)
                        first_code = code;
                    else if (code != first_code)
                        __builtin_trap();
                }
            }
        }
    }
    free(buf);
    return 0;
}
