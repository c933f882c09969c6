/* One way to read a JSON document the driver did not write itself (a
 * configuration file, a caller's spec, a Kubernetes API answer, a record on
 * disk): strict, bounded, and with the same words for the same faults. */
#ifndef DRV_DRV_JSON_H
#define DRV_DRV_JSON_H

#include "error.h"

#include <json-c/json.h>
#include <stddef.h>

/* Nesting deeper than this is refused: json-c recurses per level. */
#define DRV_JSON_MAX_DEPTH 64

/* Parses text[0..len) as exactly one JSON object: anything after it but
 * whitespace (an embedded NUL included) is refused, so two documents glued
 * together, or one cut at a NUL, never read as the first.  `what` starts
 * every message ("spec: not valid JSON (...)").  On success *ret owns the
 * object; on failure it is NULL. */
int drv_json_parse_object(const char *text, size_t len, const char *what, json_object **ret,
                          oss_error *err);

static inline void drv_json_putp(json_object **o)
{
    if (*o != NULL)
        json_object_put(*o);
}
#define _cleanup_json_ __attribute__((cleanup(drv_json_putp)))

#endif
