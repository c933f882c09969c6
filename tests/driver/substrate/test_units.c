/* Units of the Substrate backend's pure parts: retry policy, name
 * derivation, env rules, status mapping, base64, Kubernetes JSON parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "actor_map.h"
#include "kube_json.h"
#include "retry.h"
#include "template.h"
#include "validate.h"
#include "util.h"

#include <grpc/status.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* test data: protobuf-c and drv_kv want char *, the literals are const */
#pragma GCC diagnostic ignored "-Wcast-qual"

static void retry_codes(void **state)
{
    assert_true(drv_retry_code_retryable(GRPC_STATUS_ABORTED));
    assert_true(drv_retry_code_retryable(GRPC_STATUS_UNAVAILABLE));
    /* control: codes that must reach the caller at once */
    assert_false(drv_retry_code_retryable(GRPC_STATUS_OK));
    assert_false(drv_retry_code_retryable(GRPC_STATUS_NOT_FOUND));
    assert_false(drv_retry_code_retryable(GRPC_STATUS_FAILED_PRECONDITION));
    assert_false(drv_retry_code_retryable(GRPC_STATUS_DEADLINE_EXCEEDED));
    assert_false(drv_retry_code_retryable(GRPC_STATUS_UNAUTHENTICATED));
}

static void retry_backoff_grows_and_caps(void **state)
{
    struct drv_retry_policy p = {.base_ms = 100, .max_ms = 1000};
    /* rnd = 0: the fixed half only */
    assert_int_equal(drv_retry_delay_ms(&p, 0, 0, 100000), 50);
    assert_int_equal(drv_retry_delay_ms(&p, 1, 0, 100000), 100);
    assert_int_equal(drv_retry_delay_ms(&p, 2, 0, 100000), 200);
    assert_int_equal(drv_retry_delay_ms(&p, 3, 0, 100000), 400);
    assert_int_equal(drv_retry_delay_ms(&p, 4, 0, 100000), 500);  /* capped at 1000 */
    assert_int_equal(drv_retry_delay_ms(&p, 60, 0, 100000), 500); /* no overflow */
    assert_int_equal(drv_retry_delay_ms(&p, 4000000000u, 0, 100000), 500);
}

static void retry_jitter_bounds(void **state)
{
    struct drv_retry_policy p = {.base_ms = 100, .max_ms = 1000};
    int64_t lo = INT64_MAX, hi = 0;
    for (uint32_t r = 0; r < 5000; r++) {
        int64_t d = drv_retry_delay_ms(&p, 3, r * 2654435761u, 100000);
        assert_true(d >= 400 && d <= 800);
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }
    /* the jitter really spreads the delays */
    assert_true(hi - lo > 300);
}

static void retry_respects_deadline(void **state)
{
    struct drv_retry_policy p = {.base_ms = 100, .max_ms = 1000};
    assert_int_equal(drv_retry_delay_ms(&p, 0, 0, 51), 50);
    assert_int_equal(drv_retry_delay_ms(&p, 0, 0, 50), -1);
    assert_int_equal(drv_retry_delay_ms(&p, 0, 0, 0), -1);
    assert_int_equal(drv_retry_delay_ms(&p, 0, 0, -5), -1);
    /* degenerate policies still terminate */
    struct drv_retry_policy z = {0};
    assert_true(drv_retry_delay_ms(&z, 10, 7, 1000) >= 1);
}

static void names(void **state)
{
    char n[DRV_TEMPLATE_NAME_MAX];
    oss_error err = {0};
    assert_int_equal(drv_template_name("abc", n, sizeof n, &err), 0);
    assert_string_equal(n, "osb-abc");
    /* 59 characters still fit with the prefix */
    char id59[60];
    memset(id59, 'a', 59);
    id59[59] = '\0';
    assert_int_equal(drv_template_name(id59, n, sizeof n, &err), 0);
    assert_int_equal(strlen(n), 63);
    assert_memory_equal(n + 4, id59, 59);

    /* longer: cut and hashed, deterministic, distinct for shared prefixes */
    const char *a = "a23456789-b23456789-c23456789-d23456789-e23456789-f23456789-g23";
    const char *b = "a23456789-b23456789-c23456789-d23456789-e23456789-f23456789-g24";
    char na[DRV_TEMPLATE_NAME_MAX], na2[DRV_TEMPLATE_NAME_MAX], nb[DRV_TEMPLATE_NAME_MAX];
    assert_int_equal(drv_template_name(a, na, sizeof na, &err), 0);
    assert_int_equal(drv_template_name(a, na2, sizeof na2, &err), 0);
    assert_int_equal(drv_template_name(b, nb, sizeof nb, &err), 0);
    assert_string_equal(na, na2);
    assert_string_not_equal(na, nb);
    assert_int_equal(strlen(na), 63);
    assert_true(oss_dns1123_label_valid(na));
    assert_true(oss_dns1123_label_valid(nb));

    /* ids that are not labels never become names */
    assert_int_equal(drv_template_name("Bad_Id", n, sizeof n, &err), -1);
    assert_int_equal(err.domain, OSS_ERR_INVALID);
    assert_int_equal(drv_template_name("../x", n, sizeof n, &err), -1);
    assert_int_equal(drv_template_name("", n, sizeof n, &err), -1);
    assert_int_equal(drv_template_name(NULL, n, sizeof n, &err), -1);

    char s[DRV_SECRET_NAME_MAX];
    assert_int_equal(drv_secret_name("abc", s, sizeof s, &err), 0);
    assert_string_equal(s, "osb-abc-token");
    /* a too small buffer is an error, not a truncation */
    char tiny[5];
    assert_int_equal(drv_template_name("abc", tiny, sizeof tiny, &err), -1);
}

static void env_rules(void **state)
{
    oss_error err = {0};
    struct drv_kv ok[] = {{(char *)"A", (char *)"1"}, {(char *)"PATH", (char *)"/bin"}};
    struct drv_sandbox_spec s = {.id = (char *)"x", .env = ok, .nenv = 2};
    assert_int_equal(drv_template_check_env(&s, NULL, &err), 0);

    /* The driver's names pass the check (the driver's values win in the
     * template, template_golden "reserved-env") and are not counted. */
    const char *reserved[] = {"OPENSHELL_SANDBOX_ID",
                              "OPENSHELL_ENDPOINT",
                              "OPENSHELL_SSH_SOCKET_PATH",
                              "OPENSHELL_SANDBOX_TOKEN",
                              "OPENSHELL_SANDBOX_TOKEN_FILE",
                              "OPENSHELL_SANDBOX",
                              "OPENSHELL_MAIN_PROCESS_SPEC",
                              "OPENSHELL_TLS_CA",
                              "OPENSHELL_TLS_CERT",
                              "OPENSHELL_TLS_KEY",
                              "OPENSHELL_GATEWAY_TLS_SERVER_NAME"};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
        struct drv_kv kv = {(char *)reserved[i], (char *)"evil"};
        s.env = &kv;
        s.nenv = 1;
        assert_true(drv_env_reserved(reserved[i]));
        assert_int_equal(drv_template_check_env(&s, NULL, &err), 0);
    }
    /* control: a near miss is the caller's own */
    assert_false(drv_env_reserved("OPENSHELL_SANDBOXES"));
    assert_false(drv_env_reserved("OPENSHELL_LOG_LEVEL")); /* the caller's value wins */

    struct drv_kv bad[] = {{(char *)"A=B", (char *)"1"}};
    s.env = bad;
    s.nenv = 1;
    assert_int_equal(drv_template_check_env(&s, NULL, &err), -1);
    struct drv_kv empty[] = {{(char *)"", (char *)"1"}};
    s.env = empty;
    assert_int_equal(drv_template_check_env(&s, NULL, &err), -1);
    struct drv_kv ctl[] = {{(char *)"A\nB", (char *)"1"}};
    s.env = ctl;
    assert_int_equal(drv_template_check_env(&s, NULL, &err), -1);
    struct drv_kv dup[] = {{(char *)"A", (char *)"1"}, {(char *)"A", (char *)"2"}};
    s.env = dup;
    s.nenv = 2;
    assert_int_equal(drv_template_check_env(&s, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "twice"));

    /* limit: 3 own entries without a token, 4 with one */
    struct drv_kv many[40];
    char names[40][8];
    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof names[i], "V%d", i);
        many[i].key = names[i];
        many[i].value = (char *)"v";
    }
    s.env = many;
    s.nenv = 29;
    assert_int_equal(drv_template_check_env(&s, NULL, &err), 0);
    s.nenv = 30;
    assert_int_equal(drv_template_check_env(&s, NULL, &err), -1);
    s.sandbox_token = (char *)"t";
    s.nenv = 28;
    assert_int_equal(drv_template_check_env(&s, NULL, &err), 0);
    s.nenv = 29;
    assert_int_equal(drv_template_check_env(&s, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "too many"));
}

static void status_mapping(void **state)
{
    Ateapi__Actor p = ATEAPI__ACTOR__INIT;
    p.actor_id = (char *)"sbx-1";
    p.version = 3;
    p.actor_template_namespace = (char *)"openshell";
    p.actor_template_name = (char *)"osb-sbx-1";
    p.ateom_pod_ip = (char *)"10.0.0.7";
    p.atespace = (char *)"openshell";
    for (int st = 0; st <= 9; st++) {
        p.status = (Ateapi__Actor__Status)st;
        struct drv_actor a;
        drv_actor_from_proto(&p, &a);
        assert_int_equal(a.raw_status, st);
        assert_int_equal((int)a.status, st); /* unknown values pass through */
        assert_string_equal(a.id, "sbx-1");
        assert_string_equal(a.template_name, "osb-sbx-1");
        assert_string_equal(a.namespace_, "openshell");
        assert_string_equal(a.address, "10.0.0.7");
        assert_int_equal(a.version, 3);
        assert_null(a.failure);
        struct drv_actor copy;
        drv_actor_copy(&copy, &a);
        assert_string_equal(copy.id, a.id);
        assert_ptr_not_equal(copy.id, a.id);
        drv_actor_clear(&copy);
        drv_actor_clear(&a);
        assert_null(a.id);
    }
    assert_string_equal(drv_actor_status_name(2), "RUNNING");
    assert_string_equal(drv_actor_status_name(6), "PAUSED");
    assert_string_equal(drv_actor_status_name(7), "CRASHED");
    assert_string_equal(drv_actor_status_name(42), "UNKNOWN");
    /* empty strings become NULL, not "" */
    Ateapi__Actor e = ATEAPI__ACTOR__INIT;
    struct drv_actor a;
    drv_actor_from_proto(&e, &a);
    assert_null(a.address);
    assert_null(a.id);
    drv_actor_clear(&a);
}

static void base64(void **state)
{
    const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        oss_buf b = OSS_BUF_INIT;
        drv_base64_encode(in[i], strlen(in[i]), &b);
        assert_string_equal(b.data ? b.data : "", out[i]);
        oss_buf_free(&b);
    }
}

static void kube_parse(void **state)
{
    struct drv_kube_obj o;
    oss_error err = {0};
    const char *t = "{\"kind\":\"ActorTemplate\",\"metadata\":{\"name\":\"osb-x\",\"annotations\":"
                    "{\"openshell.nvidia.com/owned-by\":\"openshell-driver-substrate\"}},"
                    "\"status\":{\"phase\":\"WaitGoldenActor\"}}  \n";
    assert_int_equal(drv_kube_parse(t, strlen(t), &o, &err), 0);
    assert_string_equal(o.kind, "ActorTemplate");
    assert_string_equal(o.name, "osb-x");
    assert_string_equal(o.phase, "WaitGoldenActor");
    assert_true(o.owned);

    const char *st = "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"nope\","
                     "\"reason\":\"Invalid\",\"code\":422}";
    assert_int_equal(drv_kube_parse(st, strlen(st), &o, &err), 0);
    assert_string_equal(o.message, "nope");
    assert_string_equal(o.reason, "Invalid");
    assert_int_equal(o.code, 422);
    assert_string_equal(o.phase, "");
    assert_false(o.owned);

    /* someone else's object */
    const char *other = "{\"metadata\":{\"annotations\":{\"openshell.nvidia.com/owned-by\":1}}}";
    assert_int_equal(drv_kube_parse(other, strlen(other), &o, &err), 0);
    assert_false(o.owned);

    /* refused */
    const char *bad[] = {"", "{", "[]", "{} x", "nul", "{\"a\":1}\0{}"};
    size_t lens[] = {0, 1, 2, 4, 3, 10};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(drv_kube_parse(bad[i], lens[i], &o, &err), -1);
    /* not NUL-terminated input is fine */
    char nt[2] = {'{', '}'};
    assert_int_equal(drv_kube_parse(nt, 2, &o, &err), 0);
    assert_string_equal(o.golden_actor_id, "");

    /* status.goldenActorID: kept when it can name an actor, never cut short */
    const char *g = "{\"status\":{\"phase\":\"Ready\","
                    "\"goldenActorID\":\"1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633c\"}}";
    assert_int_equal(drv_kube_parse(g, strlen(g), &o, &err), 0);
    assert_string_equal(o.golden_actor_id, "1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633c");
    const char *gbad[] = {
        "{\"status\":{\"goldenActorID\":\"../openshell/x\"}}",
        "{\"status\":{\"goldenActorID\":7}}",
        "{\"status\":{\"goldenActorID\":\"a\\u0000b\"}}",
        /* 64 characters: longer than a label, would be cut into another name */
        ("{\"status\":{\"goldenActorID\":"
         "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}}"),
    };
    for (size_t i = 0; i < sizeof gbad / sizeof gbad[0]; i++) {
        assert_int_equal(drv_kube_parse(gbad[i], strlen(gbad[i]), &o, &err), 0);
        assert_string_equal(o.golden_actor_id, "");
    }
}

static void kube_url(void **state)
{
    oss_error err = {0};
    char *u = NULL;
    assert_int_equal(drv_kube_base_url("https://k8s.example:6443//", NULL, NULL, &u, &err), 0);
    assert_string_equal(u, "https://k8s.example:6443");
    free(u);
    /* configured wins over the in-cluster variables */
    assert_int_equal(drv_kube_base_url("http://127.0.0.1:8001", "10.0.0.1", "443", &u, &err), 0);
    assert_string_equal(u, "http://127.0.0.1:8001");
    free(u);
    assert_int_equal(drv_kube_base_url(NULL, "10.96.0.1", "443", &u, &err), 0);
    assert_string_equal(u, "https://10.96.0.1:443");
    free(u);
    assert_int_equal(drv_kube_base_url("", "fd00::1", NULL, &u, &err), 0);
    assert_string_equal(u, "https://[fd00::1]:443");
    free(u);
    assert_int_equal(drv_kube_base_url(NULL, NULL, NULL, &u, &err), 0);
    assert_string_equal(u, "https://kubernetes.default.svc");
    free(u);
    u = NULL;
    assert_int_equal(drv_kube_base_url("file:///etc/passwd", NULL, NULL, &u, &err), -1);
    assert_null(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(retry_codes),
        cmocka_unit_test(retry_backoff_grows_and_caps),
        cmocka_unit_test(retry_jitter_bounds),
        cmocka_unit_test(retry_respects_deadline),
        cmocka_unit_test(names),
        cmocka_unit_test(env_rules),
        cmocka_unit_test(status_mapping),
        cmocka_unit_test(base64),
        cmocka_unit_test(kube_parse),
        cmocka_unit_test(kube_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
