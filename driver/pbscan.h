/* A pre-scan of a protobuf message's wire bytes for string fields that
 * carry a NUL byte.
 *
 * protobuf-c hands string fields to C as NUL-terminated copies, so a value
 * such as "x\0/../etc" arrives as "x": validation would then pass a string
 * the caller never sent.  The scan walks the wire with the message's
 * descriptor and finds the first string field (at any depth, map entries
 * and google.protobuf.Struct values included) whose bytes contain a NUL,
 * before anything is unpacked.  Pure: no allocation, no I/O; fuzzed by
 * tests/fuzz/fuzz_pbscan.c. */
#ifndef DRV_PBSCAN_H
#define DRV_PBSCAN_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

/* Deeper nesting than this is refused: no request the gateway sends comes
 * near it, and the scan recurses once per level. */
#define DRV_PBSCAN_DEPTH_MAX 32

enum drv_pbscan_result {
    DRV_PBSCAN_CLEAN = 0, /* no string field holds a NUL */
    DRV_PBSCAN_NUL,       /* `path` names the field */
    DRV_PBSCAN_TOO_DEEP,  /* `path` names the field where the limit was hit */
    DRV_PBSCAN_MALFORMED, /* not a valid wire encoding; unpacking will refuse it too */
};

/* Scans buf[0..len) as a `d` message.  On NUL or TOO_DEEP, `path` gets the
 * dotted field names from the top message ("sandbox.spec.environment.value"),
 * with whole names only, as many as fit `pathlen` (at least 1).  Unknown fields are skipped as
 * protobuf-c skips them. */
enum drv_pbscan_result drv_pbscan_nul(const ProtobufCMessageDescriptor *d, const uint8_t *buf,
                                      size_t len, char *path, size_t pathlen);

#endif
