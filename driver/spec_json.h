/* A DriverSandbox (openshell.compute.v1) from its proto3 JSON form, for
 * `openshell-driver-substrate render --spec FILE`: what the gateway would
 * send in CreateSandbox, written by hand or exported from a test.
 *
 * The form is the proto3 JSON mapping of the fields this driver reads:
 *
 *   {"id": "...", "name": "...", "namespace": "",
 *    "spec": {"logLevel": "info", "environment": {"K": "V"},
 *             "template": {"image": "...", "labels": {...},
 *                          "environment": {...},
 *                          "platformConfig": {...any JSON object...},
 *                          "driverConfig": {...any JSON object...}},
 *             "resourceRequirements": {"gpu": {"count": 1}},
 *             "sandboxToken": "...", "command": ["..."], "tty": true}}
 *
 * Field names are accepted in lowerCamelCase or as written in the proto
 * (snake_case), as proto3 JSON parsers do; maps are JSON objects of strings;
 * google.protobuf.Struct fields take any JSON object.  Unknown fields, wrong
 * types and strings holding a NUL byte are refused with a message naming
 * the field (a NUL would cut the string where C reads it).  Pure: no I/O. */
#ifndef DRV_SPEC_JSON_H
#define DRV_SPEC_JSON_H

#include "error.h"

#include "compute_driver.pb-c.h"

#include <stddef.h>

/* On success *ret is a message the caller frees with drv_spec_json_free. */
int drv_spec_json_parse(const char *text, size_t len, Openshell__Compute__V1__DriverSandbox **ret,
                        oss_error *err);

/* Frees what drv_spec_json_parse made (the token is wiped first). */
void drv_spec_json_free(Openshell__Compute__V1__DriverSandbox *sb);

#endif
