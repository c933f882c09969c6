/* libFuzzer target: the --degrade/--probes list parser. */
#include "config.h"
#include "error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    unsigned mask = 0xdeadbeef;
    oss_error err = {0};
    if (shim_subsys_list_parse(s, &mask, &err) == 0) {
        if (mask & ~SHIM_SUB_ALL)
            abort(); /* only known bits */
    } else if (mask != 0xdeadbeef || err.msg[0] == '\0') {
        abort(); /* out-param untouched, message set */
    }
    free(s);
    return 0;
}
