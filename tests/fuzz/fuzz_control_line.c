/* libFuzzer: the control socket's line parser, fed the way the server feeds
 * it (a growing buffer of at most SHIM_CONTROL_LINE_MAX bytes). */
#include "restore/control.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char buf[SHIM_CONTROL_LINE_MAX];
    size_t len = 0;
    int rc = 0;
    enum shim_control_cmd cmd = SHIM_CTL_UNKNOWN;
    for (size_t i = 0; i < size && len < sizeof buf && rc == 0; i++) {
        buf[len++] = (char)data[i];
        rc = shim_control_parse(buf, len, &cmd);
    }
    if (rc < -1 || rc > 1)
        abort();
    if (rc == 1 && cmd == SHIM_CTL_RESTORE && memcmp(buf, "restore", 7) != 0)
        abort();
    if (rc == 0 && len >= sizeof buf)
        abort(); /* a full buffer must be a verdict, or the server would wait forever */
    return 0;
}
