/* Pure conversion between the compute-driver protos and the driver's own
 * structs (backend.h).  No I/O, no gRPC calls: cmocka tests it directly and
 * the decode fuzzer runs it on every request it unpacks. */
#ifndef DRV_CONVERT_H
#define DRV_CONVERT_H

#include "backend.h"
#include "conditions.h"
#include "error.h"

#include "compute_driver.pb-c.h"

typedef Openshell__Compute__V1__DriverSandbox drv_pb_sandbox_t;

/* A DriverSandbox built from an actor.  Strings point into the actor, so
 * the actor must outlive the packed message; nothing here is heap-owned. */
struct drv_pb_sandbox {
    Openshell__Compute__V1__DriverSandbox sb;
    Openshell__Compute__V1__DriverSandboxStatus st;
    Openshell__Compute__V1__DriverCondition cond[DRV_CONDITIONS_MAX];
    Openshell__Compute__V1__DriverCondition *condp[DRV_CONDITIONS_MAX];
    struct drv_condition c[DRV_CONDITIONS_MAX];
};

/* Request -> spec.  Copies every string; a namespace of "" (what the
 * gateway sends) becomes default_ns.  Caller clears with
 * drv_sandbox_spec_clear().  Fails only on a missing spec/template. */
int drv_spec_from_proto(const drv_pb_sandbox_t *sb, const char *default_ns,
                        struct drv_sandbox_spec *ret, oss_error *err);

/* The key of template.driver_config (the block the gateway selects for
 * this driver) naming a pre-provisioned ActorTemplate. */
#define DRV_DRIVER_CONFIG_TEMPLATE "actor_template"

/* Applies template.driver_config to s: actor_template overrides what
 * platform_config said.  Unknown keys and wrong types are INVALID_ARGUMENT. */
int drv_driver_config_apply(const Google__Protobuf__Struct *dc, struct drv_sandbox_spec *s,
                            oss_error *err);

void drv_pb_sandbox_from_actor(const struct drv_actor *a, struct drv_pb_sandbox *out);

/* The gRPC status an error becomes on the wire (grpc_status_code value). */
int drv_grpc_status_of(const oss_error *e);

#endif
