/* libFuzzer target: the driver's JSON config file (driver/config.c), the
 * only parser that reads operator-supplied text. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct drv_config c;
    oss_error err = {0};
    drv_config_defaults(&c);
    if (drv_config_parse_json(&c, (const char *)data, size, "fuzz", &err) == 0)
        (void)drv_config_validate(&c, &err);
    drv_config_free(&c);
    return 0;
}
