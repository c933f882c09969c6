/* libFuzzer target: the NUL pre-scan (driver/pbscan.c) over arbitrary wire
 * bytes for the request types, with every path buffer size.  Checks: the
 * path is always terminated inside its buffer, and a message protobuf-c
 * accepts packs back into bytes the scan calls clean. */
#include "pbscan.h"

#include "compute_driver.pb-c.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define D(x) &openshell__compute__v1__##x##__descriptor

static const ProtobufCMessageDescriptor *const requests[] = {
    D(validate_sandbox_create_request), D(get_sandbox_request),
    D(create_sandbox_request),          D(stop_sandbox_request),
    D(start_sandbox_request),           D(delete_sandbox_request),
    D(ensure_workspace_request),        D(watch_sandboxes_event),
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const ProtobufCMessageDescriptor *d =
        requests[data[0] % (sizeof requests / sizeof requests[0])];
    char path[96];
    size_t plen = 1 + data[0] % 96; /* every path buffer size, 1 included */
    enum drv_pbscan_result r = drv_pbscan_nul(d, data + 1, size - 1, path, plen);
    if (strlen(path) >= plen)
        abort();
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, size - 1, data + 1);
    if (m == NULL)
        return 0;
    (void)r;
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n + 1);
    if (buf != NULL) {
        protobuf_c_message_pack(m, buf);
        char p2[8];
        if (drv_pbscan_nul(d, buf, n, p2, sizeof p2) == DRV_PBSCAN_NUL)
            abort(); /* protobuf-c never writes a NUL into a string */
        free(buf);
    }
    protobuf_c_message_free_unpacked(m, NULL);
    return 0;
}
