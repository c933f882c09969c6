#include "handlers.h"

#include "cleanup.h"
#include "convert.h"
#include "log.h"
#include "pbscan.h"
#include "validate.h"

#include "compute_driver.pb-c.h"

#include <grpc/status.h>
#include <stdlib.h>
#include <string.h>

#define PB(name) openshell__compute__v1__##name

static void reply_err(struct drv_reply *rep, int status, const char *msg)
{
    rep->status = status;
    snprintf(rep->msg, sizeof rep->msg, "%s", msg);
}

static void reply_from_error(struct drv_reply *rep, const oss_error *e, const char *what)
{
    rep->status = drv_grpc_status_of(e);
    /* the message may be cut: it is for a human, and bounded on purpose */
    int n = snprintf(rep->msg, sizeof rep->msg, "%s: ", what);
    if (n > 0 && (size_t)n < sizeof rep->msg)
        snprintf(rep->msg + n, sizeof rep->msg - (size_t)n, "%.*s",
                 (int)(sizeof rep->msg - (size_t)n - 1), e->msg);
}

static void reply_pack(struct drv_reply *rep, const ProtobufCMessage *m)
{
    rep->len = protobuf_c_message_get_packed_size(m);
    rep->body = malloc(rep->len > 0 ? rep->len : 1);
    if (rep->body == NULL)
        abort();
    protobuf_c_message_pack(m, rep->body);
    rep->status = GRPC_STATUS_OK;
}

void drv_reply_free(struct drv_reply *rep)
{
    free(rep->body);
    rep->body = NULL;
}

/* protobuf-c would cut a string at an embedded NUL and hand validation a
 * shorter value than the caller sent ("x\0/../etc" as "x"): refuse such a
 * request from its wire bytes, naming the field, before it is unpacked. */
static bool refuse_nul_strings(const ProtobufCMessageDescriptor *d, const uint8_t *req, size_t len,
                               struct drv_reply *rep)
{
    char path[128];
    switch (drv_pbscan_nul(d, req, len, path, sizeof path)) {
    case DRV_PBSCAN_NUL:
        snprintf(rep->msg, sizeof rep->msg, "field %s contains a NUL byte", path);
        break;
    case DRV_PBSCAN_TOO_DEEP:
        snprintf(rep->msg, sizeof rep->msg, "field %s is nested more than %d levels deep", path,
                 DRV_PBSCAN_DEPTH_MAX);
        break;
    case DRV_PBSCAN_MALFORMED:
        snprintf(rep->msg, sizeof rep->msg, "malformed request message");
        break;
    case DRV_PBSCAN_CLEAN:
        return false;
    }
    rep->status = GRPC_STATUS_INVALID_ARGUMENT;
    return true;
}

/* Unpacks `type` or answers INVALID_ARGUMENT. */
#define UNPACK(type, desc, var)                                                                    \
    if (refuse_nul_strings(&PB(desc##__descriptor), req, len, rep))                                \
        return;                                                                                    \
    type *var = (type *)protobuf_c_message_unpack(&PB(desc##__descriptor), NULL, len, req);        \
    if (var == NULL) {                                                                             \
        reply_err(rep, GRPC_STATUS_INVALID_ARGUMENT, "malformed request message");                 \
        return;                                                                                    \
    }
#define FREE_UNPACKED(var) protobuf_c_message_free_unpacked(&(var)->base, NULL)

static void h_capabilities(struct drv_ctx *ctx, const uint8_t *req, size_t len,
                           struct drv_reply *rep)
{
    Openshell__Compute__V1__GetCapabilitiesResponse r;
    openshell__compute__v1__get_capabilities_response__init(&r);
    r.driver_name = (char *)"substrate";
    r.driver_version = (char *)OSS_VERSION;
    /* the gateway fills an empty image from it */
    r.default_image = ctx->cfg->default_image != NULL ? ctx->cfg->default_image : (char *)"";
    /* actors are restored from snapshots: the driver, not the gateway,
     * owns what runs across a gateway restart */
    r.gateway_manages_lifecycle = false;
    reply_pack(rep, &r.base);
}

static void h_unimplemented(struct drv_ctx *ctx, const uint8_t *req, size_t len,
                            struct drv_reply *rep)
{
    reply_err(rep, GRPC_STATUS_UNIMPLEMENTED,
              "not implemented by the substrate driver (no listener or workspace resources)");
}

/* The unpacked request holds the sandbox token too: wipe it before the
 * memory goes back to the allocator. */
static void wipe_token(Openshell__Compute__V1__DriverSandbox *sb)
{
    if (sb != NULL && sb->spec != NULL && sb->spec->sandbox_token != NULL)
        explicit_bzero(sb->spec->sandbox_token, strlen(sb->spec->sandbox_token));
}

static void note_dropped(const char *name, void *ctx)
{
    log_warn("sandbox %s: environment variable %s is set by the driver; the caller's value is "
             "ignored",
             (const char *)ctx, name);
}

/* Shared by Validate and Create: request shape, conversion, pure checks,
 * then the backend's own rules. */
static int check_create(struct drv_ctx *ctx, const Openshell__Compute__V1__DriverSandbox *sb,
                        struct drv_sandbox_spec *ret, oss_error *err)
{
    struct drv_sandbox_spec s = {0};
    if (drv_validate_request(sb, err) < 0)
        return -1;
    if (drv_spec_from_proto(sb, ctx->cfg->default_namespace, &s, err) < 0)
        return -1;
    drv_env_drop_reserved(&s, note_dropped, s.id);
    if (drv_validate_spec(&s, err) < 0 ||
        (ctx->backend->ops->validate != NULL &&
         ctx->backend->ops->validate(ctx->backend, &s, err) < 0)) {
        drv_sandbox_spec_clear(&s);
        return -1;
    }
    *ret = s;
    return 0;
}

static void h_validate(struct drv_ctx *ctx, const uint8_t *req, size_t len, struct drv_reply *rep)
{
    UNPACK(Openshell__Compute__V1__ValidateSandboxCreateRequest, validate_sandbox_create_request,
           m);
    oss_error err = {0};
    struct drv_sandbox_spec s;
    if (check_create(ctx, m->sandbox, &s, &err) < 0) {
        reply_from_error(rep, &err, "invalid sandbox");
    } else {
        drv_sandbox_spec_clear(&s);
        Openshell__Compute__V1__ValidateSandboxCreateResponse r;
        openshell__compute__v1__validate_sandbox_create_response__init(&r);
        reply_pack(rep, &r.base);
    }
    wipe_token(m->sandbox);
    FREE_UNPACKED(m);
}

static void h_get(struct drv_ctx *ctx, const uint8_t *req, size_t len, struct drv_reply *rep)
{
    UNPACK(Openshell__Compute__V1__GetSandboxRequest, get_sandbox_request, m);
    oss_error err = {0};
    struct drv_actor a = {0};
    if (drv_validate_id(m->sandbox_id, &err) < 0) {
        reply_from_error(rep, &err, "get sandbox");
    } else if (ctx->backend->ops->get(ctx->backend, m->sandbox_id, &a, &err) < 0) {
        reply_from_error(rep, &err, "get sandbox");
    } else {
        struct drv_pb_sandbox pb;
        drv_pb_sandbox_from_actor(&a, &pb);
        Openshell__Compute__V1__GetSandboxResponse r;
        openshell__compute__v1__get_sandbox_response__init(&r);
        r.sandbox = &pb.sb;
        reply_pack(rep, &r.base);
        drv_actor_clear(&a);
    }
    FREE_UNPACKED(m);
}

static void h_list(struct drv_ctx *ctx, const uint8_t *req, size_t len, struct drv_reply *rep)
{
    UNPACK(Openshell__Compute__V1__ListSandboxesRequest, list_sandboxes_request, m);
    FREE_UNPACKED(m);
    oss_error err = {0};
    struct drv_actor *list = NULL;
    size_t n = 0;
    if (ctx->backend->ops->list(ctx->backend, &list, &n, &err) < 0) {
        reply_from_error(rep, &err, "list sandboxes");
        return;
    }
    _cleanup_free_ struct drv_pb_sandbox *pb = calloc(n ? n : 1, sizeof *pb);
    _cleanup_free_ Openshell__Compute__V1__DriverSandbox **pp = calloc(n ? n : 1, sizeof *pp);
    if (pb == NULL || pp == NULL)
        abort();
    for (size_t i = 0; i < n; i++) {
        drv_pb_sandbox_from_actor(&list[i], &pb[i]);
        pp[i] = &pb[i].sb;
    }
    Openshell__Compute__V1__ListSandboxesResponse r;
    openshell__compute__v1__list_sandboxes_response__init(&r);
    r.n_sandboxes = n;
    r.sandboxes = pp;
    reply_pack(rep, &r.base);
    drv_actor_list_free(list, n);
}

/* After a mutation: tell watchers now rather than at the next poll.  No
 * extra poll is triggered: a burst of creates would otherwise turn into
 * back-to-back full listings of the atespace. */
static void publish(struct drv_ctx *ctx, const char *id)
{
    struct drv_actor a = {0};
    oss_error err = {0};
    if (ctx->backend->ops->get(ctx->backend, id, &a, &err) == 0) {
        drv_watch_upsert(ctx->watch, &a);
        drv_actor_clear(&a);
    }
}

static void h_create(struct drv_ctx *ctx, const uint8_t *req, size_t len, struct drv_reply *rep)
{
    UNPACK(Openshell__Compute__V1__CreateSandboxRequest, create_sandbox_request, m);
    oss_error err = {0};
    struct drv_sandbox_spec s;
    if (check_create(ctx, m->sandbox, &s, &err) < 0) {
        reply_from_error(rep, &err, "invalid sandbox");
        wipe_token(m->sandbox);
        FREE_UNPACKED(m);
        return;
    }
    /* the request held the token too: drop it now */
    wipe_token(m->sandbox);
    FREE_UNPACKED(m);

    log_info("create sandbox %s (name %s, namespace %s, image %s, %zu env, token %s)", s.id, s.name,
             s.namespace_, s.image, s.nenv, s.sandbox_token != NULL ? "set" : "unset");
    struct drv_actor a = {0};
    if (ctx->backend->ops->create(ctx->backend, &s, &a, &err) < 0) {
        log_warn("create sandbox %s failed: %s", s.id, err.msg);
        /* ALREADY_EXISTS and FAILED_PRECONDITION reach the user verbatim
         * through the gateway; anything else becomes "create sandbox failed" */
        reply_from_error(rep, &err, "create sandbox");
    } else {
        /* the create goes on in the background and reports its steps
         * itself; what watchers get now is read fresh, so it is never older
         * than a step the background has already reported */
        drv_actor_clear(&a);
        publish(ctx, s.id);
        Openshell__Compute__V1__CreateSandboxResponse r;
        openshell__compute__v1__create_sandbox_response__init(&r);
        reply_pack(rep, &r.base);
    }
    drv_sandbox_spec_clear(&s);
}

enum lifecycle { STOP, START };

static void lifecycle(struct drv_ctx *ctx, const char *id, enum lifecycle op,
                      const ProtobufCMessage *ok, struct drv_reply *rep)
{
    oss_error err = {0};
    const char *what = op == STOP ? "stop sandbox" : "start sandbox";
    int r = drv_validate_id(id, &err);
    if (r == 0)
        r = op == STOP ? ctx->backend->ops->suspend(ctx->backend, id, &err)
                       : ctx->backend->ops->resume(ctx->backend, id, &err);
    if (r < 0) {
        log_warn("%s %s failed: %s", what, id, err.msg);
        reply_from_error(rep, &err, what);
        return;
    }
    publish(ctx, id);
    reply_pack(rep, ok);
}

static void h_stop(struct drv_ctx *ctx, const uint8_t *req, size_t len, struct drv_reply *rep)
{
    UNPACK(Openshell__Compute__V1__StopSandboxRequest, stop_sandbox_request, m);
    Openshell__Compute__V1__StopSandboxResponse r;
    openshell__compute__v1__stop_sandbox_response__init(&r);
    lifecycle(ctx, m->sandbox_id, STOP, &r.base, rep);
    FREE_UNPACKED(m);
}

static void h_start(struct drv_ctx *ctx, const uint8_t *req, size_t len, struct drv_reply *rep)
{
    UNPACK(Openshell__Compute__V1__StartSandboxRequest, start_sandbox_request, m);
    Openshell__Compute__V1__StartSandboxResponse r;
    openshell__compute__v1__start_sandbox_response__init(&r);
    lifecycle(ctx, m->sandbox_id, START, &r.base, rep);
    FREE_UNPACKED(m);
}

static void h_delete(struct drv_ctx *ctx, const uint8_t *req, size_t len, struct drv_reply *rep)
{
    UNPACK(Openshell__Compute__V1__DeleteSandboxRequest, delete_sandbox_request, m);
    oss_error err = {0};
    Openshell__Compute__V1__DeleteSandboxResponse r;
    openshell__compute__v1__delete_sandbox_response__init(&r);
    if (drv_validate_id(m->sandbox_id, &err) < 0) {
        reply_from_error(rep, &err, "delete sandbox");
    } else if (ctx->backend->ops->delete_(ctx->backend, m->sandbox_id, &err) < 0) {
        if (drv_grpc_status_of(&err) == GRPC_STATUS_NOT_FOUND) {
            /* nothing to delete: deleted=false makes the gateway drop the
             * row at once instead of waiting for a Deleted event */
            r.deleted = false;
            reply_pack(rep, &r.base);
        } else {
            log_warn("delete sandbox %s failed: %s", m->sandbox_id, err.msg);
            reply_from_error(rep, &err, "delete sandbox");
        }
    } else {
        log_info("deleted sandbox %s", m->sandbox_id);
        /* deleted=true obliges us to send a Deleted event: do it now */
        drv_watch_forget(ctx->watch, m->sandbox_id);
        r.deleted = true;
        reply_pack(rep, &r.base);
    }
    FREE_UNPACKED(m);
}

#define SVC "/openshell.compute.v1.ComputeDriver/"

static const struct drv_method methods[] = {
    {SVC "GetCapabilities", h_capabilities, DRV_RUN_INLINE},
    {SVC "GetGatewayListenerRequirements", h_unimplemented, DRV_RUN_INLINE},
    {SVC "ValidateSandboxCreate", h_validate, DRV_RUN_FAST},
    {SVC "GetSandbox", h_get, DRV_RUN_FAST},
    {SVC "ListSandboxes", h_list, DRV_RUN_FAST},
    {SVC "CreateSandbox", h_create, DRV_RUN_SLOW},
    {SVC "StopSandbox", h_stop, DRV_RUN_SLOW},
    {SVC "StartSandbox", h_start, DRV_RUN_SLOW},
    {SVC "DeleteSandbox", h_delete, DRV_RUN_SLOW},
    {SVC "WatchSandboxes", NULL, DRV_RUN_STREAM},
    {SVC "EnsureWorkspace", h_unimplemented, DRV_RUN_INLINE},
    {SVC "DeleteWorkspace", h_unimplemented, DRV_RUN_INLINE},
};

const struct drv_method *drv_method_find(const char *path, size_t len)
{
    for (size_t i = 0; i < OSS_ARRAY_SIZE(methods); i++)
        if (strlen(methods[i].path) == len && memcmp(methods[i].path, path, len) == 0)
            return &methods[i];
    return NULL;
}
