/* driver/validate.c: what a user gets told when a sandbox cannot be made. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "validate.h"

#include <grpc/status.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct drv_kv env[64];
static char names[64][16];

static struct drv_sandbox_spec good(void)
{
    static char *cmd[] = {"sleep", "1", NULL};
    struct drv_sandbox_spec s = {.id = "sb-1",
                                 .name = "my-sandbox",
                                 .namespace_ = "openshell",
                                 .image = "reg/img@sha256:abc",
                                 .command = cmd};
    return s;
}

static void expect(const struct drv_sandbox_spec *s, int code, const char *needle)
{
    oss_error err = {0};
    assert_int_equal(drv_validate_spec(s, &err), -1);
    assert_int_equal(err.domain, OSS_ERR_GRPC);
    assert_int_equal(err.code, code);
    if (strstr(err.msg, needle) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, needle);
}

static void test_good(void **state)
{
    struct drv_sandbox_spec s = good();
    oss_error err = {0};
    assert_int_equal(drv_validate_spec(&s, &err), 0);
}

static void test_ids(void **state)
{
    const char *bad[] = {"",
                         "Upper",
                         "under_score",
                         "-lead",
                         "trail-",
                         "a.b",
                         "0123456789012345678901234567890123456789012345678901234567890123"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct drv_sandbox_spec s = good();
        s.id = (char *)(uintptr_t)bad[i];
        expect(&s, GRPC_STATUS_INVALID_ARGUMENT, "sandbox id");
    }
    oss_error err = {0};
    assert_int_equal(drv_validate_id("ok-1", &err), 0);
    assert_int_equal(drv_validate_id(NULL, &err), -1);
}

static void test_env_limit(void **state)
{
    for (int i = 0; i < 64; i++) {
        snprintf(names[i], sizeof names[i], "V%d", i);
        env[i].key = names[i];
        env[i].value = "x";
    }
    struct drv_sandbox_spec s = good();
    s.env = env;
    s.nenv = DRV_ENV_MAX - DRV_ENV_RESERVED; /* exactly the limit: fine */
    oss_error err = {0};
    assert_int_equal(drv_validate_spec(&s, &err), 0);
    s.nenv++;
    expect(&s, GRPC_STATUS_INVALID_ARGUMENT, "at most 28 remain");

    /* identity variables are replaced by the driver, so they do not count */
    struct drv_kv ident[DRV_ENV_MAX - DRV_ENV_RESERVED + 2];
    for (size_t i = 0; i < DRV_ENV_MAX - DRV_ENV_RESERVED; i++)
        ident[i] = env[i];
    ident[DRV_ENV_MAX - DRV_ENV_RESERVED] = (struct drv_kv){"OPENSHELL_SANDBOX_ID", "evil"};
    ident[DRV_ENV_MAX - DRV_ENV_RESERVED + 1] = (struct drv_kv){"OPENSHELL_ENDPOINT", "evil"};
    s.env = ident;
    s.nenv = DRV_ENV_MAX - DRV_ENV_RESERVED + 2;
    assert_int_equal(drv_validate_spec(&s, &err), 0);
}

struct dropped {
    char names[4][64];
    size_t n;
};

static void note(const char *name, void *ctx)
{
    struct dropped *d = ctx;
    if (d->n < 4)
        snprintf(d->names[d->n++], sizeof d->names[0], "%s", name);
}

static struct drv_kv kv_dup(const char *k, const char *v)
{
    return (struct drv_kv){strdup(k), strdup(v)};
}

static void test_env_drop_reserved(void **state)
{
    /* The caller's identity entries go, in order, the rest stays in order. */
    struct drv_sandbox_spec s = {0};
    s.env = calloc(5, sizeof *s.env);
    assert_non_null(s.env);
    s.env[0] = kv_dup("FOO", "1");
    s.env[1] = kv_dup("OPENSHELL_SANDBOX_ID", "someone-else");
    s.env[2] = kv_dup("BAR", "2");
    s.env[3] = kv_dup("OPENSHELL_SANDBOX_TOKEN", "leak");
    s.env[4] = kv_dup("OPENSHELL_SANDBOXES", "near miss"); /* control: not reserved */
    s.nenv = 5;
    struct dropped d = {0};
    assert_int_equal(drv_env_drop_reserved(&s, note, &d), 2);
    assert_int_equal(s.nenv, 3);
    assert_string_equal(s.env[0].key, "FOO");
    assert_string_equal(s.env[1].key, "BAR");
    assert_string_equal(s.env[2].key, "OPENSHELL_SANDBOXES");
    assert_int_equal(d.n, 2);
    assert_string_equal(d.names[0], "OPENSHELL_SANDBOX_ID");
    assert_string_equal(d.names[1], "OPENSHELL_SANDBOX_TOKEN");
    /* Nothing reserved: nothing changes, no note. */
    d.n = 0;
    assert_int_equal(drv_env_drop_reserved(&s, note, &d), 0);
    assert_int_equal(s.nenv, 3);
    assert_int_equal(d.n, 0);
    drv_sandbox_spec_clear(&s); /* LSan: the dropped ones were freed, the rest is here */

    /* The names upstream drivers own beyond the identity: the sandbox name,
     * the main-process transport, and the gateway trust. */
    const char *owned[] = {"OPENSHELL_SANDBOX", "OPENSHELL_MAIN_PROCESS_SPEC",
                           "OPENSHELL_TLS_CA",  "OPENSHELL_TLS_CERT",
                           "OPENSHELL_TLS_KEY", "OPENSHELL_GATEWAY_TLS_SERVER_NAME"};
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
        assert_true(drv_env_reserved(owned[i]));
    /* the caller's log level wins, as upstream drivers let it */
    assert_false(drv_env_reserved("OPENSHELL_LOG_LEVEL"));
}

static void test_env_names(void **state)
{
    const char *bad[] = {"", "1ABC", "A-B", "A B", "A=B"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct drv_kv kv = {(char *)(uintptr_t)bad[i], "v"};
        struct drv_sandbox_spec s = good();
        s.env = &kv;
        s.nenv = 1;
        expect(&s, GRPC_STATUS_INVALID_ARGUMENT, "environment variable name");
    }
}

static void test_command_and_image(void **state)
{
    static char *many[DRV_COMMAND_MAX + 2];
    for (int i = 0; i <= DRV_COMMAND_MAX; i++)
        many[i] = "x";
    struct drv_sandbox_spec s = good();
    s.command = many;
    expect(&s, GRPC_STATUS_INVALID_ARGUMENT, "at most 64");

    s = good();
    s.image = "";
    expect(&s, GRPC_STATUS_INVALID_ARGUMENT, "no image");
    s.template_override = "pre-made";
    oss_error err = {0};
    assert_int_equal(drv_validate_spec(&s, &err), 0);

    s = good();
    s.image = "reg/img @sha256:x";
    expect(&s, GRPC_STATUS_INVALID_ARGUMENT, "spaces");
    s = good();
    s.namespace_ = "Bad_NS";
    expect(&s, GRPC_STATUS_INVALID_ARGUMENT, "namespace");
}

static void test_request_shape(void **state)
{
    oss_error err = {0};
    Openshell__Compute__V1__DriverSandbox sb;
    openshell__compute__v1__driver_sandbox__init(&sb);
    assert_int_equal(drv_validate_request(NULL, &err), -1);
    assert_int_equal(drv_validate_request(&sb, &err), -1);
    assert_int_equal(err.code, GRPC_STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "no spec"));
    Openshell__Compute__V1__DriverSandboxSpec spec;
    openshell__compute__v1__driver_sandbox_spec__init(&spec);
    sb.spec = &spec;
    assert_int_equal(drv_validate_request(&sb, &err), -1);
    assert_non_null(strstr(err.msg, "no template"));
    Openshell__Compute__V1__DriverSandboxTemplate tpl;
    openshell__compute__v1__driver_sandbox_template__init(&tpl);
    spec.template_ = &tpl;
    assert_int_equal(drv_validate_request(&sb, &err), 0);
    Openshell__Compute__V1__ResourceRequirements rr;
    openshell__compute__v1__resource_requirements__init(&rr);
    Openshell__Compute__V1__GpuResourceRequirements gpu;
    openshell__compute__v1__gpu_resource_requirements__init(&gpu);
    spec.resource_requirements = &rr;
    assert_int_equal(drv_validate_request(&sb, &err), 0); /* empty requirements: fine */
    rr.gpu = &gpu;
    assert_int_equal(drv_validate_request(&sb, &err), -1);
    assert_int_equal(err.code, GRPC_STATUS_FAILED_PRECONDITION);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_env_limit),
        cmocka_unit_test(test_env_names),
        cmocka_unit_test(test_env_drop_reserved),
        cmocka_unit_test(test_command_and_image),
        cmocka_unit_test(test_request_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
