/* driver/convert.c: proto <-> internal, through real pack/unpack. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "convert.h"

/* protobuf-c's aggregate INIT macros cast away const; arrays of them read
 * best here, so the warning is off for this test file only. */
#pragma GCC diagnostic ignored "-Wcast-qual"

#include <errno.h>
#include <grpc/status.h>
#include <stdlib.h>
#include <string.h>

#define PB(x) openshell__compute__v1__##x

static const char *kv_get(const struct drv_kv *kv, size_t n, const char *k)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(kv[i].key, k))
            return kv[i].value;
    return NULL;
}

/* Builds a CreateSandboxRequest, packs it, and unpacks it again, so the
 * conversion sees what the wire carries. */
static Openshell__Compute__V1__CreateSandboxRequest *roundtrip(bool with_override_top)
{
    Openshell__Compute__V1__DriverSandboxSpec__EnvironmentEntry se[2] = {
        OPENSHELL__COMPUTE__V1__DRIVER_SANDBOX_SPEC__ENVIRONMENT_ENTRY__INIT,
        OPENSHELL__COMPUTE__V1__DRIVER_SANDBOX_SPEC__ENVIRONMENT_ENTRY__INIT};
    se[0].key = "A";
    se[0].value = "spec";
    se[1].key = "B";
    se[1].value = "b";
    Openshell__Compute__V1__DriverSandboxSpec__EnvironmentEntry *sep[2] = {&se[0], &se[1]};
    Openshell__Compute__V1__DriverSandboxTemplate__EnvironmentEntry te;
    openshell__compute__v1__driver_sandbox_template__environment_entry__init(&te);
    te.key = "A";
    te.value = "template";
    Openshell__Compute__V1__DriverSandboxTemplate__EnvironmentEntry *tep[1] = {&te};

    /* platform_config = {"annotations": {"k": "v", "substrate_actor_template": "ann-tpl",
     *                    "n": 5}, "substrate_actor_template": "top-tpl"} */
    Google__Protobuf__Value vk = GOOGLE__PROTOBUF__VALUE__INIT, vt = GOOGLE__PROTOBUF__VALUE__INIT,
                            vn = GOOGLE__PROTOBUF__VALUE__INIT,
                            vann = GOOGLE__PROTOBUF__VALUE__INIT,
                            vtop = GOOGLE__PROTOBUF__VALUE__INIT;
    vk.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE;
    vk.string_value = "v";
    vt.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE;
    vt.string_value = "ann-tpl";
    vn.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE;
    vn.number_value = 5;
    Google__Protobuf__Struct__FieldsEntry ae[3] = {GOOGLE__PROTOBUF__STRUCT__FIELDS_ENTRY__INIT,
                                                   GOOGLE__PROTOBUF__STRUCT__FIELDS_ENTRY__INIT,
                                                   GOOGLE__PROTOBUF__STRUCT__FIELDS_ENTRY__INIT};
    ae[0].key = "k";
    ae[0].value = &vk;
    ae[1].key = "substrate_actor_template";
    ae[1].value = &vt;
    ae[2].key = "n";
    ae[2].value = &vn;
    Google__Protobuf__Struct__FieldsEntry *aep[3] = {&ae[0], &ae[1], &ae[2]};
    Google__Protobuf__Struct as;
    google__protobuf__struct__init(&as);
    as.n_fields = 3;
    as.fields = aep;
    vann.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE;
    vann.struct_value = &as;
    vtop.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE;
    vtop.string_value = "top-tpl";
    Google__Protobuf__Struct__FieldsEntry pe[2] = {GOOGLE__PROTOBUF__STRUCT__FIELDS_ENTRY__INIT,
                                                   GOOGLE__PROTOBUF__STRUCT__FIELDS_ENTRY__INIT};
    pe[0].key = "annotations";
    pe[0].value = &vann;
    pe[1].key = "substrate_actor_template";
    pe[1].value = &vtop;
    Google__Protobuf__Struct__FieldsEntry *pep[2] = {&pe[0], &pe[1]};
    Google__Protobuf__Struct pc;
    google__protobuf__struct__init(&pc);
    pc.n_fields = with_override_top ? 2 : 1;
    pc.fields = pep;

    Openshell__Compute__V1__DriverSandboxTemplate tpl;
    openshell__compute__v1__driver_sandbox_template__init(&tpl);
    tpl.image = "reg/img@sha256:1";
    tpl.n_environment = 1;
    tpl.environment = tep;
    tpl.platform_config = &pc;
    char *cmd[] = {"python3", "-c", "print(1)"};
    Openshell__Compute__V1__DriverSandboxSpec spec;
    openshell__compute__v1__driver_sandbox_spec__init(&spec);
    spec.template_ = &tpl;
    spec.n_environment = 2;
    spec.environment = sep;
    spec.sandbox_token = "jwt-secret";
    spec.n_command = 3;
    spec.command = cmd;
    Openshell__Compute__V1__DriverSandbox sb;
    openshell__compute__v1__driver_sandbox__init(&sb);
    sb.id = "sb-1";
    sb.name = "one";
    sb.spec = &spec;
    Openshell__Compute__V1__CreateSandboxRequest req;
    openshell__compute__v1__create_sandbox_request__init(&req);
    req.sandbox = &sb;

    size_t n = PB(create_sandbox_request__get_packed_size)(&req);
    uint8_t *buf = malloc(n);
    PB(create_sandbox_request__pack)(&req, buf);
    Openshell__Compute__V1__CreateSandboxRequest *r =
        PB(create_sandbox_request__unpack)(NULL, n, buf);
    free(buf);
    assert_non_null(r);
    return r;
}

static void test_spec_from_proto(void **state)
{
    Openshell__Compute__V1__CreateSandboxRequest *r = roundtrip(true);
    struct drv_sandbox_spec s;
    oss_error err = {0};
    assert_int_equal(drv_spec_from_proto(r->sandbox, "def-ns", &s, &err), 0);
    assert_string_equal(s.id, "sb-1");
    assert_string_equal(s.name, "one");
    assert_string_equal(s.namespace_, "def-ns"); /* the gateway sends "" */
    assert_string_equal(s.image, "reg/img@sha256:1");
    assert_string_equal(s.sandbox_token, "jwt-secret");
    assert_string_equal(s.command[0], "python3");
    assert_string_equal(s.command[2], "print(1)");
    assert_null(s.command[3]);
    assert_int_equal(s.nenv, 2);
    assert_string_equal(kv_get(s.env, s.nenv, "A"), "spec"); /* spec env wins */
    assert_string_equal(kv_get(s.env, s.nenv, "B"), "b");
    assert_int_equal(s.nannotations, 2); /* the number is not a string: skipped */
    assert_string_equal(kv_get(s.annotations, s.nannotations, "k"), "v");
    assert_string_equal(s.template_override, "top-tpl"); /* top level first */
    drv_sandbox_spec_clear(&s);
    PB(create_sandbox_request__free_unpacked)(r, NULL);

    r = roundtrip(false);
    assert_int_equal(drv_spec_from_proto(r->sandbox, "def-ns", &s, &err), 0);
    assert_string_equal(s.template_override, "ann-tpl"); /* else from annotations */
    drv_sandbox_spec_clear(&s);
    /* an explicit namespace is kept */
    r->sandbox->namespace_ = "given";
    assert_int_equal(drv_spec_from_proto(r->sandbox, "def-ns", &s, &err), 0);
    assert_string_equal(s.namespace_, "given");
    r->sandbox->namespace_ = NULL; /* not owned by the unpacked message now */
    drv_sandbox_spec_clear(&s);
    PB(create_sandbox_request__free_unpacked)(r, NULL);
}

/* A string Value for a Struct field. */
static Google__Protobuf__Value str_value(const char *v)
{
    Google__Protobuf__Value x = GOOGLE__PROTOBUF__VALUE__INIT;
    x.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE;
    x.string_value = (char *)v;
    return x;
}

/* tty and log_level pass through; template.driver_config (the gateway's
 * block for this driver) names the template and wins over platform_config;
 * an unknown key or a non-string is refused, naming the key. */
static void test_spec_fields_and_driver_config(void **state)
{
    Openshell__Compute__V1__CreateSandboxRequest *r = roundtrip(true);
    r->sandbox->spec->tty = true;
    r->sandbox->spec->log_level = "debug";
    struct drv_sandbox_spec s;
    oss_error err = {0};
    assert_int_equal(drv_spec_from_proto(r->sandbox, "def-ns", &s, &err), 0);
    assert_true(s.tty);
    assert_string_equal(s.log_level, "debug");
    assert_string_equal(s.template_override, "top-tpl"); /* control: no driver_config */
    drv_sandbox_spec_clear(&s);

    Google__Protobuf__Value v = str_value("dc-tpl");
    Google__Protobuf__Struct__FieldsEntry e = GOOGLE__PROTOBUF__STRUCT__FIELDS_ENTRY__INIT;
    e.key = "actor_template";
    e.value = &v;
    Google__Protobuf__Struct__FieldsEntry *ep[1] = {&e};
    Google__Protobuf__Struct dc;
    google__protobuf__struct__init(&dc);
    dc.n_fields = 1;
    dc.fields = ep;
    Google__Protobuf__Struct *saved = r->sandbox->spec->template_->driver_config;
    r->sandbox->spec->template_->driver_config = &dc;
    assert_int_equal(drv_spec_from_proto(r->sandbox, "def-ns", &s, &err), 0);
    assert_string_equal(s.template_override, "dc-tpl");
    drv_sandbox_spec_clear(&s);

    e.key = "actor_templat";
    assert_int_equal(drv_spec_from_proto(r->sandbox, "def-ns", &s, &err), -1);
    assert_int_equal(err.code, GRPC_STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "actor_templat"));
    e.key = "actor_template";
    Google__Protobuf__Value num = GOOGLE__PROTOBUF__VALUE__INIT;
    num.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE;
    num.number_value = 1;
    e.value = &num;
    assert_int_equal(drv_spec_from_proto(r->sandbox, "def-ns", &s, &err), -1);
    assert_int_equal(err.code, GRPC_STATUS_INVALID_ARGUMENT);
    /* an empty driver_config changes nothing */
    dc.n_fields = 0;
    assert_int_equal(drv_spec_from_proto(r->sandbox, "def-ns", &s, &err), 0);
    assert_string_equal(s.template_override, "top-tpl");
    drv_sandbox_spec_clear(&s);
    r->sandbox->spec->template_->driver_config = saved;
    r->sandbox->spec->log_level = NULL; /* not owned by the unpacked message */
    PB(create_sandbox_request__free_unpacked)(r, NULL);
}

static void test_missing_parts(void **state)
{
    struct drv_sandbox_spec s = {0};
    oss_error err = {0};
    Openshell__Compute__V1__DriverSandbox sb;
    openshell__compute__v1__driver_sandbox__init(&sb);
    assert_int_equal(drv_spec_from_proto(&sb, "ns", &s, &err), -1);
    assert_int_equal(err.code, GRPC_STATUS_INVALID_ARGUMENT);
    assert_null(s.id); /* untouched on failure */
}

static void test_actor_to_proto(void **state)
{
    struct drv_actor a = {
        .id = "sb-1", .name = "one", .namespace_ = "ns", .raw_status = DRV_ACTOR_SUSPENDED};
    struct drv_pb_sandbox pb;
    drv_pb_sandbox_from_actor(&a, &pb);
    Openshell__Compute__V1__GetSandboxResponse resp;
    openshell__compute__v1__get_sandbox_response__init(&resp);
    resp.sandbox = &pb.sb;
    uint8_t buf[1024];
    size_t n = PB(get_sandbox_response__pack)(&resp, buf);
    Openshell__Compute__V1__GetSandboxResponse *r = PB(get_sandbox_response__unpack)(NULL, n, buf);
    assert_non_null(r);
    assert_string_equal(r->sandbox->id, "sb-1");
    assert_string_equal(r->sandbox->namespace_, "ns");
    assert_null(r->sandbox->spec); /* never echo the spec (it held the token) */
    assert_int_equal(r->sandbox->status->n_conditions, 2);
    assert_string_equal(r->sandbox->status->conditions[1]->type, "Suspended");
    assert_string_equal(r->sandbox->status->conditions[1]->status, "True");
    PB(get_sandbox_response__free_unpacked)(r, NULL);

    struct drv_actor empty = {0}; /* NULL strings must pack as "" */
    drv_pb_sandbox_from_actor(&empty, &pb);
    resp.sandbox = &pb.sb;
    n = PB(get_sandbox_response__pack)(&resp, buf);
    r = PB(get_sandbox_response__unpack)(NULL, n, buf);
    assert_non_null(r);
    assert_string_equal(r->sandbox->id, "");
    PB(get_sandbox_response__free_unpacked)(r, NULL);
}

static void test_status_mapping(void **state)
{
    struct {
        enum oss_err_domain d;
        int code;
        int want;
    } t[] = {
        {OSS_ERR_GRPC, GRPC_STATUS_ALREADY_EXISTS, GRPC_STATUS_ALREADY_EXISTS},
        {OSS_ERR_GRPC, GRPC_STATUS_FAILED_PRECONDITION, GRPC_STATUS_FAILED_PRECONDITION},
        {OSS_ERR_GRPC, 0, GRPC_STATUS_UNKNOWN},
        {OSS_ERR_GRPC, 99, GRPC_STATUS_UNKNOWN},
        {OSS_ERR_INVALID, 0, GRPC_STATUS_INVALID_ARGUMENT},
        {OSS_ERR_TIMEOUT, 0, GRPC_STATUS_DEADLINE_EXCEEDED},
        {OSS_ERR_ERRNO, ECONNREFUSED, GRPC_STATUS_UNAVAILABLE},
        {OSS_ERR_ERRNO, EIO, GRPC_STATUS_INTERNAL},
        {OSS_ERR_HTTP, 409, GRPC_STATUS_ALREADY_EXISTS},
        {OSS_ERR_HTTP, 503, GRPC_STATUS_UNAVAILABLE},
        {OSS_ERR_CURL, 7, GRPC_STATUS_UNAVAILABLE},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        oss_error e = {.domain = t[i].d, .code = t[i].code};
        assert_int_equal(drv_grpc_status_of(&e), t[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_from_proto),
        cmocka_unit_test(test_spec_fields_and_driver_config),
        cmocka_unit_test(test_missing_parts),
        cmocka_unit_test(test_actor_to_proto),
        cmocka_unit_test(test_status_mapping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
