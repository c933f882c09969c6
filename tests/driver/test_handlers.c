/* driver/server/handlers.c without gRPC: request bytes in, reply out, over a
 * scripted fake backend.  The gateway-facing rules that do not need a
 * socket: error pass-through, deleted=true/false, the Deleted promise,
 * malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "handlers.h"

#include "compute_driver.pb-c.h"

#include <grpc/status.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SVC   "/openshell.compute.v1.ComputeDriver/"
#define PB(x) openshell__compute__v1__##x

static int next_status; /* what the fake backend's next call fails with; 0 = ok */
static char created_token[64];
static char created_env[256]; /* the env names the backend got, ' '-separated */

static int scripted(oss_error *err)
{
    int st = next_status;
    next_status = 0;
    if (st == 0)
        return 0;
    return oss_err(err, OSS_ERR_GRPC, st, "scripted failure %d", st);
}

static int f_create(struct drv_backend *b, const struct drv_sandbox_spec *s, struct drv_actor *ret,
                    oss_error *err)
{
    if (scripted(err) < 0)
        return -1;
    snprintf(created_token, sizeof created_token, "%s", s->sandbox_token ? s->sandbox_token : "");
    created_env[0] = '\0';
    for (size_t i = 0; i < s->nenv; i++)
        snprintf(created_env + strlen(created_env), sizeof created_env - strlen(created_env), "%s ",
                 s->env[i].key);
    struct drv_actor a = {
        .id = s->id, .name = s->name, .namespace_ = s->namespace_, .raw_status = DRV_ACTOR_RUNNING};
    drv_actor_copy(ret, &a);
    return 0;
}

static int f_id(struct drv_backend *b, const char *id, oss_error *err)
{
    return scripted(err);
}

static int f_get(struct drv_backend *b, const char *id, struct drv_actor *ret, oss_error *err)
{
    if (scripted(err) < 0)
        return -1;
    struct drv_actor a = {.id = (char *)(uintptr_t)id, .raw_status = DRV_ACTOR_SUSPENDED};
    drv_actor_copy(ret, &a);
    return 0;
}

static int f_list(struct drv_backend *b, struct drv_actor **ret, size_t *n, oss_error *err)
{
    *ret = calloc(1, sizeof **ret);
    *n = 0;
    return 0;
}

static const struct drv_backend_ops ops = {.name = "fake",
                                           .create = f_create,
                                           .resume = f_id,
                                           .suspend = f_id,
                                           .delete_ = f_id,
                                           .get = f_get,
                                           .list = f_list};
static struct drv_backend backend = {.ops = &ops};
static struct drv_config cfg = {.default_namespace = "def-ns",
                                .default_image = "reg.example/base@sha256:00"};

/* records Deleted events */
static char deleted[8][32];
static size_t ndeleted;
static void on_ev(struct drv_watch_sub *s, struct drv_blob *b, uint64_t batch)
{
    Openshell__Compute__V1__WatchSandboxesEvent *e =
        PB(watch_sandboxes_event__unpack)(NULL, b->len, b->data);
    if (e->payload_case == OPENSHELL__COMPUTE__V1__WATCH_SANDBOXES_EVENT__PAYLOAD_DELETED)
        snprintf(deleted[ndeleted++], 32, "%s", e->deleted->sandbox_id);
    PB(watch_sandboxes_event__free_unpacked)(e, NULL);
}

static struct drv_ctx ctx;
static struct drv_watch_sub sub = {.push = on_ev};

static int setup(void **state)
{
    ctx.cfg = &cfg;
    ctx.backend = &backend;
    assert_int_equal(drv_watch_new(&backend, 1000, &ctx.watch, NULL), 0);
    drv_watch_subscribe(ctx.watch, &sub);
    ndeleted = 0;
    next_status = 0;
    return 0;
}

static int teardown(void **state)
{
    drv_watch_unsubscribe(ctx.watch, &sub);
    drv_watch_free(ctx.watch);
    return 0;
}

static struct drv_reply call(const char *method, const ProtobufCMessage *req)
{
    const struct drv_method *m = drv_method_find(method, strlen(method));
    assert_non_null(m);
    uint8_t buf[4096];
    size_t n = req != NULL ? protobuf_c_message_pack(req, buf) : 0;
    struct drv_reply rep = {0};
    m->fn(&ctx, buf, n, &rep);
    return rep;
}

static void test_table(void **state)
{
    const char *all[] = {"GetCapabilities",       "GetGatewayListenerRequirements",
                         "ValidateSandboxCreate", "GetSandbox",
                         "ListSandboxes",         "CreateSandbox",
                         "StopSandbox",           "StartSandbox",
                         "DeleteSandbox",         "WatchSandboxes",
                         "EnsureWorkspace",       "DeleteWorkspace"};
    char path[128];
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        snprintf(path, sizeof path, SVC "%s", all[i]);
        assert_non_null(drv_method_find(path, strlen(path)));
    }
    assert_null(drv_method_find(SVC "Nope", strlen(SVC "Nope")));
    struct drv_reply r = call(SVC "EnsureWorkspace", NULL);
    assert_int_equal(r.status, GRPC_STATUS_UNIMPLEMENTED);
    r = call(SVC "GetCapabilities", NULL);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    Openshell__Compute__V1__GetCapabilitiesResponse *c =
        PB(get_capabilities_response__unpack)(NULL, r.len, r.body);
    assert_string_equal(c->driver_name, "substrate");
    assert_string_equal(c->driver_version, OSS_VERSION);
    /* the gateway fills an empty image from it */
    assert_string_equal(c->default_image, "reg.example/base@sha256:00");
    PB(get_capabilities_response__free_unpacked)(c, NULL);
    drv_reply_free(&r);
}

static void test_malformed(void **state)
{
    const struct drv_method *m = drv_method_find(SVC "GetSandbox", strlen(SVC "GetSandbox"));
    uint8_t junk[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}; /* length past the end */
    struct drv_reply rep = {0};
    m->fn(&ctx, junk, sizeof junk, &rep);
    assert_int_equal(rep.status, GRPC_STATUS_INVALID_ARGUMENT);
}

static void test_delete(void **state)
{
    Openshell__Compute__V1__DeleteSandboxRequest req;
    PB(delete_sandbox_request__init)(&req);
    req.sandbox_id = "sb-1";
    struct drv_reply r = call(SVC "DeleteSandbox", &req.base);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    Openshell__Compute__V1__DeleteSandboxResponse *d =
        PB(delete_sandbox_response__unpack)(NULL, r.len, r.body);
    assert_true(d->deleted);
    PB(delete_sandbox_response__free_unpacked)(d, NULL);
    drv_reply_free(&r);
    /* deleted=true came with a Deleted event, before the reply */
    assert_int_equal(ndeleted, 1);
    assert_string_equal(deleted[0], "sb-1");

    next_status = GRPC_STATUS_NOT_FOUND; /* already gone */
    r = call(SVC "DeleteSandbox", &req.base);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    d = PB(delete_sandbox_response__unpack)(NULL, r.len, r.body);
    assert_false(d->deleted);
    PB(delete_sandbox_response__free_unpacked)(d, NULL);
    drv_reply_free(&r);
    assert_int_equal(ndeleted, 1); /* no event promised, none sent */

    next_status = GRPC_STATUS_UNAVAILABLE;
    r = call(SVC "DeleteSandbox", &req.base);
    assert_int_equal(r.status, GRPC_STATUS_UNAVAILABLE);
    assert_int_equal(ndeleted, 1);

    req.sandbox_id = "../etc";
    r = call(SVC "DeleteSandbox", &req.base);
    assert_int_equal(r.status, GRPC_STATUS_INVALID_ARGUMENT);
}

static void test_create(void **state)
{
    Openshell__Compute__V1__DriverSandboxTemplate tpl;
    PB(driver_sandbox_template__init)(&tpl);
    tpl.image = "img@sha256:1";
    Openshell__Compute__V1__DriverSandboxSpec spec;
    PB(driver_sandbox_spec__init)(&spec);
    spec.template_ = &tpl;
    spec.sandbox_token = "tok";
    Openshell__Compute__V1__DriverSandbox sb;
    PB(driver_sandbox__init)(&sb);
    sb.id = "sb-2";
    sb.spec = &spec;
    Openshell__Compute__V1__CreateSandboxRequest req;
    PB(create_sandbox_request__init)(&req);
    req.sandbox = &sb;

    struct drv_reply r = call(SVC "CreateSandbox", &req.base);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    assert_string_equal(created_token, "tok"); /* the backend got the token */
    assert_string_equal(created_env, "");
    drv_reply_free(&r);

    /* The caller's identity variables never reach a backend (the driver's
     * own values win); its other variables do. */
    Openshell__Compute__V1__DriverSandboxSpec__EnvironmentEntry e1, e2;
    PB(driver_sandbox_spec__environment_entry__init)(&e1);
    PB(driver_sandbox_spec__environment_entry__init)(&e2);
    e1.key = "OPENSHELL_ENDPOINT";
    e1.value = "https://evil.example";
    e2.key = "MY_VAR";
    e2.value = "1";
    Openshell__Compute__V1__DriverSandboxSpec__EnvironmentEntry *envs[] = {&e1, &e2};
    spec.environment = envs;
    spec.n_environment = 2;
    r = call(SVC "CreateSandbox", &req.base);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    assert_string_equal(created_env, "MY_VAR ");
    drv_reply_free(&r);
    spec.environment = NULL;
    spec.n_environment = 0;

    int passthrough[] = {GRPC_STATUS_ALREADY_EXISTS, GRPC_STATUS_FAILED_PRECONDITION};
    for (int i = 0; i < 2; i++) {
        next_status = passthrough[i];
        r = call(SVC "CreateSandbox", &req.base);
        assert_int_equal(r.status, passthrough[i]);
        assert_non_null(strstr(r.msg, "scripted failure"));
    }
    sb.id = "Bad_Id";
    r = call(SVC "CreateSandbox", &req.base);
    assert_int_equal(r.status, GRPC_STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr(r.msg, "DNS-1123"));
}

static void test_get_and_stop(void **state)
{
    Openshell__Compute__V1__GetSandboxRequest req;
    PB(get_sandbox_request__init)(&req);
    req.sandbox_id = "sb-3";
    struct drv_reply r = call(SVC "GetSandbox", &req.base);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    Openshell__Compute__V1__GetSandboxResponse *g =
        PB(get_sandbox_response__unpack)(NULL, r.len, r.body);
    assert_string_equal(g->sandbox->id, "sb-3");
    assert_int_equal(g->sandbox->status->n_conditions, 2); /* suspended */
    PB(get_sandbox_response__free_unpacked)(g, NULL);
    drv_reply_free(&r);
    next_status = GRPC_STATUS_NOT_FOUND;
    r = call(SVC "GetSandbox", &req.base);
    assert_int_equal(r.status, GRPC_STATUS_NOT_FOUND);

    Openshell__Compute__V1__StopSandboxRequest st;
    PB(stop_sandbox_request__init)(&st);
    st.sandbox_id = "sb-3";
    next_status = GRPC_STATUS_NOT_FOUND;
    r = call(SVC "StopSandbox", &st.base);
    assert_int_equal(r.status, GRPC_STATUS_NOT_FOUND);
    r = call(SVC "StopSandbox", &st.base);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    drv_reply_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_and_stop, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
