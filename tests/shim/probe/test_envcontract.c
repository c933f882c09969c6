/* The environment contract: when BEST_EFFORT is set, the proxy variables,
 * the report path, and that nothing the operator set is overridden. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "policy/envcontract.h"

#include <stdlib.h>
#include <string.h>

static const char *const proxy_names[] = {"ALL_PROXY",  "HTTP_PROXY",  "HTTPS_PROXY",
                                          "http_proxy", "https_proxy", "grpc_proxy"};

static void verdicts(enum shim_verdict v[SHIM_SUB_COUNT], enum shim_verdict a, enum shim_verdict b,
                     enum shim_verdict c, enum shim_verdict d)
{
    v[0] = a, v[1] = b, v[2] = c, v[3] = d;
}

static const struct shim_env_entry *find(const struct shim_env_contract *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->e[i].name, name))
            return &c->e[i];
    return NULL;
}

/* BEST_EFFORT=1 exactly when >= 1 degraded and none fatal: checked over
 * every combination of the four verdicts. */
static void test_best_effort_all_combinations(void **state)
{
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++)
            for (int c = 0; c < 4; c++)
                for (int d = 0; d < 4; d++) {
                    enum shim_verdict v[SHIM_SUB_COUNT];
                    verdicts(v, a, b, c, d);
                    bool any_deg = a == 2 || b == 2 || c == 2 || d == 2;
                    bool any_fatal = a == 3 || b == 3 || c == 3 || d == 3;
                    struct shim_env_contract ct;
                    shim_env_contract_compute(v, NULL, "/r.json", NULL, &ct);
                    const struct shim_env_entry *e = find(&ct, "OPENSHELL_BEST_EFFORT_FAILURES");
                    assert_int_equal(e != NULL, any_deg && !any_fatal);
                    if (e) {
                        assert_string_equal(e->value, "1");
                        assert_int_equal(e->action, SHIM_ENV_SET);
                    }
                    /* proxies iff netns degraded */
                    assert_int_equal(find(&ct, "HTTP_PROXY") != NULL, a == SHIM_VERDICT_DEGRADED);
                    /* the report path always */
                    assert_non_null(find(&ct, "OPENSHELL_SHIM_REPORT"));
                    shim_env_contract_free(&ct);
                }
}

static void test_netns_degraded_proxies(void **state)
{
    enum shim_verdict v[SHIM_SUB_COUNT];
    verdicts(v, SHIM_VERDICT_DEGRADED, SHIM_VERDICT_OK, SHIM_VERDICT_OK, SHIM_VERDICT_OK);
    char *base[] = {"PATH=/bin", NULL};
    struct shim_env_contract c;
    shim_env_contract_compute(v, "http://10.0.0.1:3128", "/run/x.json", base, &c);
    char **env = shim_env_build(&c, base);
    assert_non_null(env);
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(shim_env_get(env, proxy_names[i]), "http://10.0.0.1:3128");
    assert_string_equal(shim_env_get(env, "NO_PROXY"), "127.0.0.1,localhost,::1");
    assert_string_equal(shim_env_get(env, "no_proxy"), "127.0.0.1,localhost,::1");
    assert_string_equal(shim_env_get(env, "NODE_USE_ENV_PROXY"), "1");
    assert_string_equal(shim_env_get(env, "OPENSHELL_BEST_EFFORT_FAILURES"), "1");
    assert_string_equal(shim_env_get(env, "OPENSHELL_SKIP_BOOTSTRAP"), "netns");
    assert_string_equal(shim_env_get(env, "OPENSHELL_SHIM_REPORT"), "/run/x.json");
    assert_string_equal(shim_env_get(env, "PATH"), "/bin");
    size_t n = 0;
    while (env[n])
        n++;
    assert_int_equal(n, 1 + 6 + 2 + 1 + 1 + 1 + 1);
    shim_env_free(env);
    shim_env_contract_free(&c);

    /* default proxy URL */
    shim_env_contract_compute(v, NULL, "/r", NULL, &c);
    assert_string_equal(find(&c, "ALL_PROXY")->value, "http://127.0.0.1:3128");
    shim_env_contract_free(&c);
}

static void test_never_overrides(void **state)
{
    enum shim_verdict v[SHIM_SUB_COUNT];
    verdicts(v, SHIM_VERDICT_DEGRADED, SHIM_VERDICT_OK, SHIM_VERDICT_OK, SHIM_VERDICT_OK);
    char *base[] = {"HTTP_PROXY=http://operator:9",
                    "no_proxy=corp.example",
                    "OPENSHELL_BEST_EFFORT_FAILURES=0",
                    "OPENSHELL_SHIM_REPORT=/mine.json",
                    "HTTP_PROXYX=unrelated",
                    NULL};
    struct shim_env_contract c;
    shim_env_contract_compute(v, "http://127.0.0.1:3128", "/r.json", base, &c);
    assert_int_equal(find(&c, "HTTP_PROXY")->action, SHIM_ENV_OPERATOR);
    assert_int_equal(find(&c, "no_proxy")->action, SHIM_ENV_OPERATOR);
    assert_int_equal(find(&c, "OPENSHELL_BEST_EFFORT_FAILURES")->action, SHIM_ENV_OPERATOR);
    assert_int_equal(find(&c, "OPENSHELL_SHIM_REPORT")->action, SHIM_ENV_OPERATOR);
    assert_int_equal(find(&c, "HTTPS_PROXY")->action, SHIM_ENV_SET);
    char **env = shim_env_build(&c, base);
    assert_string_equal(shim_env_get(env, "HTTP_PROXY"), "http://operator:9");
    assert_string_equal(shim_env_get(env, "no_proxy"), "corp.example");
    assert_string_equal(shim_env_get(env, "OPENSHELL_BEST_EFFORT_FAILURES"), "0");
    assert_string_equal(shim_env_get(env, "OPENSHELL_SHIM_REPORT"), "/mine.json");
    assert_string_equal(shim_env_get(env, "HTTPS_PROXY"), "http://127.0.0.1:3128");
    /* each name exactly once */
    int count = 0;
    for (size_t i = 0; env[i]; i++)
        if (!strncmp(env[i], "HTTP_PROXY=", 11))
            count++;
    assert_int_equal(count, 1);
    shim_env_free(env);

    /* A contract computed against another environment still cannot
     * override what the environment passed to build holds. */
    char *other[] = {"HTTPS_PROXY=http://late:1", NULL};
    env = shim_env_build(&c, other);
    assert_string_equal(shim_env_get(env, "HTTPS_PROXY"), "http://late:1");
    shim_env_free(env);
    shim_env_contract_free(&c);
}

static void test_operator_best_effort_reported_not_set(void **state)
{
    /* Nothing degraded: the shim never sets BEST_EFFORT, but an operator's
     * value is reported (and kept). */
    enum shim_verdict v[SHIM_SUB_COUNT];
    verdicts(v, SHIM_VERDICT_OK, SHIM_VERDICT_OK, SHIM_VERDICT_OK, SHIM_VERDICT_OK);
    char *base[] = {"OPENSHELL_BEST_EFFORT_FAILURES=1", NULL};
    struct shim_env_contract c;
    shim_env_contract_compute(v, NULL, "/r", base, &c);
    const struct shim_env_entry *e = find(&c, "OPENSHELL_BEST_EFFORT_FAILURES");
    assert_non_null(e);
    assert_int_equal(e->action, SHIM_ENV_OPERATOR);
    shim_env_contract_free(&c);
    /* and without the operator's value: absent */
    shim_env_contract_compute(v, NULL, "/r", NULL, &c);
    assert_null(find(&c, "OPENSHELL_BEST_EFFORT_FAILURES"));
    char **env = shim_env_build(&c, NULL);
    assert_null(shim_env_get(env, "OPENSHELL_BEST_EFFORT_FAILURES"));
    assert_string_equal(shim_env_get(env, "OPENSHELL_SHIM_REPORT"), "/r");
    shim_env_free(env);
    shim_env_contract_free(&c);
}

static void test_url_redact(void **state)
{
    char *r = shim_url_redact("http://user:secret@proxy:3128/x@y");
    assert_string_equal(r, "http://REDACTED@proxy:3128/x@y");
    free(r);
    r = shim_url_redact("http://127.0.0.1:3128");
    assert_string_equal(r, "http://127.0.0.1:3128");
    free(r);
    r = shim_url_redact("a:b@c");
    assert_string_equal(r, "REDACTED@c");
    free(r);
}

/* The token: moved only when the shim wrote the file, never over an
 * operator's file variable; the built environment has no token value. */
static void test_token_file(void **state)
{
    (void)state;
    enum shim_verdict v[SHIM_SUB_COUNT] = {SHIM_VERDICT_OK, SHIM_VERDICT_OK, SHIM_VERDICT_OK,
                                           SHIM_VERDICT_OK};
    char *base[] = {"PATH=/bin", "OPENSHELL_SANDBOX_TOKEN=s3cr3t", NULL};
    struct shim_env_contract c;
    shim_env_contract_compute(v, NULL, "/r", base, &c);
    shim_env_contract_token(&c, base, "/run/openshell/token/sandbox-token");
    char **env = shim_env_build(&c, base);
    assert_null(shim_env_get(env, "OPENSHELL_SANDBOX_TOKEN"));
    assert_string_equal(shim_env_get(env, "OPENSHELL_SANDBOX_TOKEN_FILE"),
                        "/run/openshell/token/sandbox-token");
    assert_string_equal(shim_env_get(env, "PATH"), "/bin");
    for (size_t i = 0; env[i]; i++)
        assert_null(strstr(env[i], "s3cr3t"));
    const struct shim_env_entry *e = find(&c, "OPENSHELL_SANDBOX_TOKEN");
    assert_int_equal(e->action, SHIM_ENV_REMOVED);
    assert_false(e->secret_free);
    shim_env_free(env);
    shim_env_contract_free(&c);
    /* control: without a written file nothing moves */
    shim_env_contract_compute(v, NULL, "/r", base, &c);
    shim_env_contract_token(&c, base, NULL);
    env = shim_env_build(&c, base);
    assert_string_equal(shim_env_get(env, "OPENSHELL_SANDBOX_TOKEN"), "s3cr3t");
    shim_env_free(env);
    shim_env_contract_free(&c);
    /* an operator's file variable wins: nothing moves */
    char *op[] = {"OPENSHELL_SANDBOX_TOKEN=s3cr3t", "OPENSHELL_SANDBOX_TOKEN_FILE=/x", NULL};
    assert_false(shim_env_token_movable(op));
    shim_env_contract_compute(v, NULL, "/r", op, &c);
    shim_env_contract_token(&c, op, "/run/t");
    env = shim_env_build(&c, op);
    assert_string_equal(shim_env_get(env, "OPENSHELL_SANDBOX_TOKEN_FILE"), "/x");
    assert_string_equal(shim_env_get(env, "OPENSHELL_SANDBOX_TOKEN"), "s3cr3t");
    shim_env_free(env);
    shim_env_contract_free(&c);
    char *empty[] = {"OPENSHELL_SANDBOX_TOKEN=", NULL};
    assert_false(shim_env_token_movable(empty));
}

/* Proxy variables on the workload only: left out of the supervisor's
 * environment, put on the workload's command through exec-env. */
static void test_proxy_to_workload(void **state)
{
    (void)state;
    enum shim_verdict v[SHIM_SUB_COUNT] = {SHIM_VERDICT_DEGRADED, SHIM_VERDICT_OK, SHIM_VERDICT_OK,
                                           SHIM_VERDICT_OK};
    char *base[] = {"PATH=/bin", "no_proxy=mine", NULL};
    struct shim_env_contract c;
    shim_env_contract_compute(v, "http://127.0.0.1:3128", "/r", base, &c);
    shim_env_contract_proxy_to_workload(&c);
    char **env = shim_env_build(&c, base);
    assert_null(shim_env_get(env, "HTTP_PROXY"));
    assert_null(shim_env_get(env, "NODE_USE_ENV_PROXY"));
    assert_string_equal(shim_env_get(env, "no_proxy"), "mine"); /* the operator's, untouched */
    assert_string_equal(shim_env_get(env, "OPENSHELL_SKIP_BOOTSTRAP"), "netns");
    shim_env_free(env);

    char *argv[] = {"/sup", "--sandbox-id", "x", "--", "wl", "-a", NULL};
    assert_true(shim_workload_argv_wrappable(argv));
    char **w = shim_workload_argv_wrap(argv, "/shim", &c);
    assert_non_null(w);
    assert_string_equal(w[3], "--");
    assert_string_equal(w[4], "/shim");
    assert_string_equal(w[5], "exec-env");
    size_t n = 0, nv = 0;
    while (w[n]) {
        if (strchr(w[n], '=') && n > 5)
            nv++;
        n++;
    }
    assert_int_equal(
        nv, 6 + 1 + 1); /* six URLs, NO_PROXY, NODE_USE_ENV_PROXY (no_proxy is the operator's) */
    assert_string_equal(w[n - 3], "--");
    assert_string_equal(w[n - 2], "wl");
    assert_string_equal(w[n - 1], "-a");
    bool http = false;
    for (size_t i = 0; w[i]; i++)
        http |= !strcmp(w[i], "HTTP_PROXY=http://127.0.0.1:3128");
    assert_true(http);
    shim_env_free(w);
    /* no "--", or nothing after it: not wrappable */
    char *no[] = {"/sup", "wl", NULL};
    char *empty[] = {"/sup", "--", NULL};
    assert_false(shim_workload_argv_wrappable(no));
    assert_false(shim_workload_argv_wrappable(empty));
    assert_null(shim_workload_argv_wrap(no, "/shim", &c));
    shim_env_contract_free(&c);
    /* control: netns ok, nothing for the workload alone: no wrapper */
    v[SHIM_SUB_NETNS] = SHIM_VERDICT_OK;
    shim_env_contract_compute(v, "http://127.0.0.1:3128", "/r", base, &c);
    shim_env_contract_proxy_to_workload(&c);
    assert_null(shim_workload_argv_wrap(argv, "/shim", &c));
    shim_env_contract_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_file),
        cmocka_unit_test(test_proxy_to_workload),
        cmocka_unit_test(test_best_effort_all_combinations),
        cmocka_unit_test(test_netns_degraded_proxies),
        cmocka_unit_test(test_never_overrides),
        cmocka_unit_test(test_operator_best_effort_reported_not_set),
        cmocka_unit_test(test_url_redact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
