/* libFuzzer target: the proto3 JSON DriverSandbox parser of `render`
 * (driver/spec_json.c).  Links drv_core.  A parsed message must pack (the
 * tree is well formed) and no string in it may be cut by a NUL. */
#include "spec_json.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Openshell__Compute__V1__DriverSandbox *sb = NULL;
    oss_error err = {0};
    if (drv_spec_json_parse((const char *)data, size, &sb, &err) == 0) {
        size_t n = protobuf_c_message_get_packed_size(&sb->base);
        uint8_t *buf = malloc(n ? n : 1);
        if (buf == NULL || protobuf_c_message_pack(&sb->base, buf) != n)
            __builtin_trap();
        Openshell__Compute__V1__DriverSandbox *back =
            openshell__compute__v1__driver_sandbox__unpack(NULL, n, buf);
        if (back == NULL || strcmp(back->id, sb->id) != 0 || strcmp(back->name, sb->name) != 0)
            __builtin_trap();
        openshell__compute__v1__driver_sandbox__free_unpacked(back, NULL);
        free(buf);
        drv_spec_json_free(sb);
    } else if (err.msg[0] == '\0') {
        __builtin_trap(); /* a refusal always says why */
    }
    return 0;
}
