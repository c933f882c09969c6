/* libFuzzer target: everything the gateway can send the driver.  The first
 * byte picks the request type; the rest is unpacked with the project's
 * protobuf-c code and, for sandbox-carrying requests, run through the same
 * validation and conversion CreateSandbox uses. */
#include "convert.h"
#include "validate.h"

#include "compute_driver.pb-c.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define D(x) &openshell__compute__v1__##x##__descriptor

static const ProtobufCMessageDescriptor *const requests[] = {
    D(get_capabilities_request),
    D(get_gateway_listener_requirements_request),
    D(validate_sandbox_create_request),
    D(get_sandbox_request),
    D(list_sandboxes_request),
    D(create_sandbox_request),
    D(stop_sandbox_request),
    D(start_sandbox_request),
    D(delete_sandbox_request),
    D(watch_sandboxes_request),
    D(ensure_workspace_request),
    D(delete_workspace_request),
    D(watch_sandboxes_event),
};

static void sandbox_path(const Openshell__Compute__V1__DriverSandbox *sb)
{
    oss_error err = {0};
    struct drv_sandbox_spec s;
    if (drv_validate_request(sb, &err) < 0)
        return;
    if (drv_spec_from_proto(sb, "openshell", &s, &err) < 0)
        return;
    (void)drv_validate_spec(&s, &err);
    drv_sandbox_spec_clear(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const ProtobufCMessageDescriptor *d =
        requests[data[0] % (sizeof requests / sizeof requests[0])];
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, size - 1, data + 1);
    if (m == NULL)
        return 0;
    if (d == D(validate_sandbox_create_request))
        sandbox_path(((Openshell__Compute__V1__ValidateSandboxCreateRequest *)m)->sandbox);
    else if (d == D(create_sandbox_request))
        sandbox_path(((Openshell__Compute__V1__CreateSandboxRequest *)m)->sandbox);
    else if (d == D(get_sandbox_request)) {
        oss_error err = {0};
        (void)drv_validate_id(((Openshell__Compute__V1__GetSandboxRequest *)m)->sandbox_id, &err);
    }
    /* packing exercises the unknown-field path the driver never takes
     * itself; no round-trip assertion: protobuf-c 1.4 accepts a field
     * number 0 it then refuses to read back, which is not ours to fix */
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n + 1);
    if (buf != NULL) {
        protobuf_c_message_pack(m, buf);
        free(buf);
    }
    protobuf_c_message_free_unpacked(m, NULL);
    return 0;
}
