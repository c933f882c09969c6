/* libFuzzer target: Kubernetes API response parsing (driver/substrate/kube_json.c).
 * Links drv_substrate_pure (json-c, oss_common). */
#include "kube_json.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct drv_kube_obj o;
    oss_error err = {0};
    if (drv_kube_parse((const char *)data, size, &o, &err) == 0) {
        /* every field is a terminated string inside its buffer */
        if (strnlen(o.kind, sizeof o.kind) == sizeof o.kind ||
            strnlen(o.phase, sizeof o.phase) == sizeof o.phase ||
            strnlen(o.name, sizeof o.name) == sizeof o.name ||
            strnlen(o.message, sizeof o.message) == sizeof o.message ||
            strnlen(o.reason, sizeof o.reason) == sizeof o.reason)
            __builtin_trap();
    }
    return 0;
}
