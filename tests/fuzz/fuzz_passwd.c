/* libFuzzer target: the passwd(5) reader the shim uses to find the image's
 * sandbox user. */
#include "probe/passwd.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uid_t u = 7;
    gid_t g = 7;
    if (shim_passwd_find((const char *)data, size, "sandbox", &u, &g) == 0) {
        if (u > 0x7fffffffu || g > 0x7fffffffu)
            abort(); /* only validated numbers come out */
    } else if (u != 7 || g != 7) {
        abort(); /* out-params untouched on failure */
    }
    return 0;
}
