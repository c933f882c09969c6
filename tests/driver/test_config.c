/* driver/config.c: layering, every error path, and --help coverage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *const no_env[] = {NULL};

static int load(struct drv_config *c, char *const *env, oss_error *err, ...)
{
    char *argv[32] = {"drv"};
    int argc = 1;
    va_list ap;
    va_start(ap, err);
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 31;)
        argv[argc++] = a;
    va_end(ap);
    drv_config_defaults(c);
    return drv_config_load(c, argc, argv, env, err);
}

static void test_defaults_valid(void **state)
{
    struct drv_config c;
    oss_error err = {0};
    assert_int_equal(load(&c, no_env, &err, NULL), 0);
    assert_string_equal(c.socket, "/run/openshell/substrate.sock");
    assert_int_equal(c.watch_interval_ms, 1000);
    assert_int_equal(c.backend, DRV_BACKEND_AUTO);
    assert_string_equal(c.api_tls_server_name, "api.ate-system.svc");
    assert_true(c.api_long_timeout_ms > 28000);
    assert_null(c.api_endpoint);
    assert_int_equal(drv_config_validate(&c, &err), 0);
    drv_config_free(&c);
}

static void test_layering(void **state)
{
    char path[] = "/tmp/drvcfgXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *json = "{\"api_endpoint\": \"file:443\", \"atespace\": \"from-file\",\n"
                       " \"watch_interval_ms\": 500, \"api_plaintext\": true,\n"
                       " \"worker_selector\": {\"pool\": \"a\"}, \"default_workload\": [\"sh\"]}";
    assert_int_equal(write(fd, json, strlen(json)), (ssize_t)strlen(json));
    close(fd);
    char *env[] = {"OPENSHELL_SUBSTRATE_ATESPACE=from-env",
                   "OPENSHELL_COMPUTE_DRIVER_SOCKET=/tmp/x/gw.sock",
                   "OPENSHELL_SUBSTRATE_WATCH_INTERVAL_MS=2s", "UNRELATED=1", NULL};
    struct drv_config c;
    oss_error err = {0};
    assert_int_equal(load(&c, env, &err, "--config", path, "--watch-interval-ms=250",
                          "--api-plaintext=false", "--backend", "substrate", NULL),
                     0);
    assert_string_equal(c.api_endpoint, "file:443"); /* file */
    assert_string_equal(c.atespace, "from-env");     /* env over file */
    assert_string_equal(c.socket, "/tmp/x/gw.sock"); /* gateway-wide env */
    assert_int_equal(c.watch_interval_ms, 250);      /* flag over env over file */
    assert_false(c.api_plaintext);                   /* flag over file */
    assert_int_equal(c.backend, DRV_BACKEND_SUBSTRATE);
    assert_string_equal(c.worker_selector, "{\"pool\":\"a\"}");
    assert_string_equal(c.config_file, path);
    assert_int_equal(drv_config_validate(&c, &err), 0);
    drv_config_free(&c);

    /* the driver-specific socket variable beats the gateway-wide one */
    char *env2[] = {"OPENSHELL_COMPUTE_DRIVER_SOCKET=/a.sock", "OPENSHELL_SUBSTRATE_SOCKET=/b.sock",
                    NULL};
    assert_int_equal(load(&c, env2, &err, "--watch-interval", "3s", "--api-plaintext", NULL), 0);
    assert_string_equal(c.socket, "/b.sock");
    assert_int_equal(c.watch_interval_ms, 3000);
    assert_true(c.api_plaintext);
    drv_config_free(&c);
    unlink(path);
}

static void expect_load_error(const char *needle, ...)
{
    char *argv[16] = {"drv"};
    int argc = 1;
    va_list ap;
    va_start(ap, needle);
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 15;)
        argv[argc++] = a;
    va_end(ap);
    struct drv_config c;
    oss_error err = {0};
    drv_config_defaults(&c);
    assert_int_equal(drv_config_load(&c, argc, argv, no_env, &err), -1);
    if (strstr(err.msg, needle) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", err.msg, needle);
    drv_config_free(&c);
}

static void test_bad_flags(void **state)
{
    expect_load_error("unknown flag --no-such-key", "--no-such-key", "1", NULL);
    expect_load_error("unknown flag", "--api_endpoint=x", NULL); /* dashes only */
    expect_load_error("unexpected argument", "positional", NULL);
    expect_load_error("needs a value", "--socket", NULL);
    expect_load_error("not a duration", "--watch-interval-ms", "fast", NULL);
    expect_load_error("not a number", "--shim-readyz-port", "-1", NULL);
    expect_load_error("not true or false", "--api-plaintext=maybe", NULL);
    expect_load_error("not auto, substrate or runsc", "--backend", "docker", NULL);
    expect_load_error("config file /nonexistent", "--config", "/nonexistent/x.json", NULL);
}

static void expect_json_error(const char *json, const char *needle)
{
    struct drv_config c;
    oss_error err = {0};
    drv_config_defaults(&c);
    assert_int_equal(drv_config_parse_json(&c, json, strlen(json), "f.json", &err), -1);
    if (strstr(err.msg, needle) == NULL)
        fail_msg("error \"%s\" lacks \"%s\" (input %s)", err.msg, needle, json);
    drv_config_free(&c);
}

static void test_bad_json(void **state)
{
    expect_json_error("{\"sokcet\": \"/x\"}", "unknown key \"sokcet\"");
    expect_json_error("{\"config_file\": \"/x\"}", "unknown key");
    expect_json_error("{\"socket\": 5}", "must be a string");
    expect_json_error("{\"watch_queue_max\": \"many\"}", "must be an integer");
    expect_json_error("{\"api_plaintext\": \"yes\"}", "must be true or false");
    expect_json_error("[1,2]", "must be a JSON object");
    expect_json_error("{\"socket\": ", "not valid JSON");
    expect_json_error("{} {}", "trailing data");
    expect_json_error("", "not valid JSON");
}

static void expect_invalid(const char *needle, ...)
{
    char *argv[16] = {"drv"};
    int argc = 1;
    va_list ap;
    va_start(ap, needle);
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 15;)
        argv[argc++] = a;
    va_end(ap);
    struct drv_config c;
    oss_error err = {0};
    drv_config_defaults(&c);
    assert_int_equal(drv_config_load(&c, argc, argv, no_env, &err), 0);
    assert_int_equal(drv_config_validate(&c, &err), -1);
    if (strstr(err.msg, needle) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", err.msg, needle);
    drv_config_free(&c);
}

static void test_validate(void **state)
{
    expect_invalid("absolute", "--socket", "rel.sock", NULL);
    expect_invalid("longer than a Unix socket", "--socket",
                   "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                   NULL);
    expect_invalid("needs api_endpoint", "--backend", "substrate", NULL);
    expect_invalid("28 s", "--api-long-timeout-ms", "20000", NULL);
    expect_invalid("watch_interval_ms", "--watch-interval-ms", "10", NULL);
    expect_invalid("watch_queue_max", "--watch-queue-max", "0", NULL);
    expect_invalid("log_level", "--log-level", "loud", NULL);
    expect_invalid("digest", "--pause-image", "registry/pause:3.9", NULL);
    expect_invalid("reserved", "--atespace", "ate-golden", NULL);
    expect_invalid("default_namespace", "--default-namespace", "Bad_NS", NULL);
    expect_invalid("sandbox_class", "--sandbox-class", "docker", NULL);
    expect_invalid("shim_restart", "--shim-restart", "sometimes", NULL);
    expect_invalid("shim_readyz_port", "--shim-readyz-port", "70000", NULL);
    expect_invalid("worker_selector", "--worker-selector", "[1]", NULL);
    expect_invalid("worker_selector", "--worker-selector", "{\"a\": 1}", NULL);
    expect_invalid("default_workload", "--default-workload", "{}", NULL);
    expect_invalid("default_workload", "--default-workload", "[]", NULL);
    expect_invalid("shim_path", "--shim-path", "openshell-shim", NULL);
}

static void test_usage_lists_every_key(void **state)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    drv_config_usage(f);
    fclose(f);
    const char *flags[] = {"--socket",
                           "--config",
                           "--backend",
                           "--log-level",
                           "--watch-interval-ms",
                           "--watch-queue-max",
                           "--api-endpoint",
                           "--api-tls-ca-path",
                           "--api-tls-server-name",
                           "--api-tls-cert-path",
                           "--api-tls-key-path",
                           "--api-plaintext",
                           "--api-bearer-token-path",
                           "--atespace",
                           "--api-timeout-ms",
                           "--api-long-timeout-ms",
                           "--kube-api-url",
                           "--kube-ca-path",
                           "--kube-token-path",
                           "--default-namespace",
                           "--template-ready-timeout-secs",
                           "--pause-image",
                           "--snapshots-location",
                           "--sandbox-class",
                           "--worker-selector",
                           "--gateway-endpoint",
                           "--ssh-socket-path",
                           "--shim-path",
                           "--supervisor-path",
                           "--shim-degrade",
                           "--shim-readyz-port",
                           "--shim-stay-alive",
                           "--shim-restart",
                           "--default-workload",
                           "--state-dir",
                           "--rootfs-dir",
                           "--runsc-path",
                           "OPENSHELL_SUBSTRATE_API_ENDPOINT"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (strstr(text, flags[i]) == NULL)
            fail_msg("--help lacks %s", flags[i]);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_valid), cmocka_unit_test(test_layering),
        cmocka_unit_test(test_bad_flags),      cmocka_unit_test(test_bad_json),
        cmocka_unit_test(test_validate),       cmocka_unit_test(test_usage_lists_every_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
