#include "restore/control.h"

#include <string.h>

int shim_control_parse(const char *data, size_t n, enum shim_control_cmd *ret_cmd)
{
    size_t lim = n < SHIM_CONTROL_LINE_MAX ? n : SHIM_CONTROL_LINE_MAX;
    const char *nl = memchr(data, '\n', lim);
    if (memchr(data, '\0', nl ? (size_t)(nl - data) : lim))
        return -1;
    if (nl == NULL)
        return n >= SHIM_CONTROL_LINE_MAX ? -1 : 0;
    size_t len = (size_t)(nl - data);
    if (len > 0 && data[len - 1] == '\r')
        len--;
    enum shim_control_cmd cmd = SHIM_CTL_UNKNOWN;
    if (len == 7 && memcmp(data, "restore", 7) == 0)
        cmd = SHIM_CTL_RESTORE;
    else if (len == 6 && memcmp(data, "status", 6) == 0)
        cmd = SHIM_CTL_STATUS;
    *ret_cmd = cmd;
    return 1;
}
