/* Per-variant outcomes (policy/variants.c) and the skip list the shim sets
 * (policy/envcontract.c): each rule with the case that would catch it
 * broken. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "policy/envcontract.h"
#include "policy/variants.h"
#include "probe/passwd.h"

#include <string.h>

/* Substrate under gVisor: netns refused, both seccomp programs load,
 * Landlock ENOSYS, the privilege drop refused, uid 0 without SETPCAP. */
static struct shim_variant_inputs substrate(void)
{
    return (struct shim_variant_inputs){.netns = 0,
                                        .prelude = 1,
                                        .workload_filter = 1,
                                        .landlock = 0,
                                        .privdrop = 0,
                                        .euid = 0,
                                        .target_uid = 65534};
}

static void test_parse(void **state)
{
    (void)state;
    unsigned m = 0;
    assert_int_equal(shim_skip_bootstrap_parse("netns", &m), 0);
    assert_int_equal(m, 1u << SHIM_STEP_NETNS);
    assert_int_equal(shim_skip_bootstrap_parse(" Network-Namespace ,, supervisor_seccomp", &m), 0);
    assert_int_equal(m, (1u << SHIM_STEP_NETNS) | (1u << SHIM_STEP_SUPERVISOR_SECCOMP));
    assert_int_equal(shim_skip_bootstrap_parse("ALL", &m), 0);
    assert_int_equal(m, (1u << SHIM_STEP_NETNS) | (1u << SHIM_STEP_SUPERVISOR_SECCOMP) |
                            (1u << SHIM_STEP_WORKLOAD_SECCOMP));
    assert_int_equal(shim_skip_bootstrap_parse("", &m), 0);
    assert_int_equal(m, 0);
    m = 7;
    assert_int_equal(shim_skip_bootstrap_parse("netns,landlock", &m), -1); /* no such token */
    assert_int_equal(m, 7);
    assert_int_equal(shim_skip_bootstrap_parse("privdrop", &m), -1);
}

/* Without any switch every variant dies at netns; the skip list saves only
 * pull request 1549, BEST_EFFORT only 1548, and neither the privilege drop. */
static void test_substrate_switches(void **state)
{
    (void)state;
    struct shim_variant_inputs in = substrate();
    struct shim_variant_outcome o[SHIM_VARIANT_COUNT];
    shim_variants_decide(&in, o);
    for (int v = 0; v < SHIM_VARIANT_COUNT; v++) {
        assert_false(o[v].starts);
        assert_int_equal(o[v].stops_at, SHIM_STEP_NETNS); /* control for the next two */
        assert_int_equal(o[v].step[SHIM_STEP_LANDLOCK], SHIM_OUTCOME_DEGRADE);
    }
    in.skip_bootstrap = "netns";
    shim_variants_decide(&in, o);
    assert_int_equal(o[SHIM_VARIANT_MAIN].stops_at, SHIM_STEP_NETNS);
    assert_int_equal(o[SHIM_VARIANT_PR1548].stops_at, SHIM_STEP_NETNS);
    assert_int_equal(o[SHIM_VARIANT_PR1549].step[SHIM_STEP_NETNS], SHIM_OUTCOME_SKIP);
    assert_int_equal(o[SHIM_VARIANT_PR1549].stops_at, SHIM_STEP_PRIVDROP);
    in.best_effort = "0"; /* any value enables it, as upstream's var_os */
    shim_variants_decide(&in, o);
    assert_int_equal(o[SHIM_VARIANT_PR1548].step[SHIM_STEP_NETNS], SHIM_OUTCOME_DEGRADE);
    assert_int_equal(o[SHIM_VARIANT_PR1548].stops_at, SHIM_STEP_PRIVDROP);
    assert_int_equal(o[SHIM_VARIANT_MAIN].stops_at, SHIM_STEP_NETNS);
}

/* A skipped step is not attempted even when it would work. */
static void test_skip_means_not_attempted(void **state)
{
    (void)state;
    struct shim_variant_inputs in = substrate();
    in.skip_bootstrap = "all";
    struct shim_variant_outcome o[SHIM_VARIANT_COUNT];
    shim_variants_decide(&in, o);
    assert_int_equal(o[SHIM_VARIANT_PR1549].step[SHIM_STEP_SUPERVISOR_SECCOMP], SHIM_OUTCOME_SKIP);
    assert_int_equal(o[SHIM_VARIANT_PR1548].step[SHIM_STEP_SUPERVISOR_SECCOMP],
                     SHIM_OUTCOME_ATTEMPT);
    in.skip_bootstrap = "netns,bogus";
    shim_variants_decide(&in, o);
    assert_true(o[SHIM_VARIANT_PR1549].skip_parse_err);
    assert_false(o[SHIM_VARIANT_PR1549].starts);
}

/* The drop already done: pull requests 1549 and 1548 start; main too only
 * when the target is not uid 0 (MIN_SANDBOX_UID). */
static void test_privdrop_rules(void **state)
{
    (void)state;
    struct shim_variant_inputs in = substrate();
    in.netns = 1;
    in.privdrop = 1;
    in.privdrop_already = true;
    in.euid = 1000;
    in.target_uid = 1000;
    struct shim_variant_outcome o[SHIM_VARIANT_COUNT];
    shim_variants_decide(&in, o);
    for (int v = 0; v < SHIM_VARIANT_COUNT; v++)
        assert_true(o[v].starts);
    in.euid = in.target_uid = 0;
    shim_variants_decide(&in, o);
    assert_false(o[SHIM_VARIANT_MAIN].starts);
    assert_true(o[SHIM_VARIANT_PR1549].starts);
    /* root with SETUID/SETGID but without SETPCAP: only main fails */
    in = substrate();
    in.netns = 1;
    in.privdrop = 1;
    shim_variants_decide(&in, o);
    assert_int_equal(o[SHIM_VARIANT_MAIN].stops_at, SHIM_STEP_PRIVDROP);
    assert_true(o[SHIM_VARIANT_PR1549].starts);
    in.cap_setpcap = true;
    shim_variants_decide(&in, o);
    assert_true(o[SHIM_VARIANT_MAIN].starts);
}

static void test_skip_tokens(void **state)
{
    (void)state;
    enum shim_verdict v[SHIM_SUB_COUNT] = {SHIM_VERDICT_DEGRADED, SHIM_VERDICT_DEGRADED,
                                           SHIM_VERDICT_DEGRADED, SHIM_VERDICT_DEGRADED};
    char s[96];
    struct shim_seccomp_split sp = {.known = true, .prelude_refused = true};
    shim_skip_bootstrap_tokens(v, &sp, s, sizeof s);
    assert_string_equal(s, "netns,supervisor-seccomp");
    sp = (struct shim_seccomp_split){.known = true, .workload_refused = true};
    shim_skip_bootstrap_tokens(v, &sp, s, sizeof s);
    assert_string_equal(s, "netns,workload-seccomp");
    shim_skip_bootstrap_tokens(v, NULL, s, sizeof s);
    assert_string_equal(s, "netns,supervisor-seccomp,workload-seccomp");
    v[SHIM_SUB_NETNS] = SHIM_VERDICT_OK;
    v[SHIM_SUB_SECCOMP] = SHIM_VERDICT_OK;
    shim_skip_bootstrap_tokens(v, NULL, s, sizeof s);
    assert_string_equal(s, ""); /* Landlock and privdrop have no token */
}

static const struct shim_env_entry *find(const struct shim_env_contract *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->e[i].name, name))
            return &c->e[i];
    return NULL;
}

/* Each contract mode sets exactly its switches; an operator value wins. */
static void test_contract_modes(void **state)
{
    (void)state;
    enum shim_verdict v[SHIM_SUB_COUNT] = {SHIM_VERDICT_DEGRADED, SHIM_VERDICT_OK, SHIM_VERDICT_OK,
                                           SHIM_VERDICT_OK};
    struct {
        enum shim_supervisor_contract c;
        bool skip, be;
    } t[] = {{SHIM_CONTRACT_BOTH, true, true},
             {SHIM_CONTRACT_SKIP_BOOTSTRAP, true, false},
             {SHIM_CONTRACT_BEST_EFFORT, false, true},
             {SHIM_CONTRACT_NONE, false, false}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct shim_env_contract c;
        shim_env_contract_compute_for(v, NULL, t[i].c, NULL, "/r", NULL, &c);
        const struct shim_env_entry *sk = find(&c, "OPENSHELL_SKIP_BOOTSTRAP");
        assert_int_equal(sk != NULL, t[i].skip);
        if (sk) {
            assert_string_equal(sk->value, "netns");
            assert_non_null(sk->why);
        }
        assert_int_equal(find(&c, "OPENSHELL_BEST_EFFORT_FAILURES") != NULL, t[i].be);
        shim_env_contract_free(&c);
    }
    char *base[] = {"OPENSHELL_SKIP_BOOTSTRAP=all", NULL};
    struct shim_env_contract c;
    shim_env_contract_compute_for(v, NULL, SHIM_CONTRACT_BOTH, NULL, "/r", base, &c);
    assert_int_equal(find(&c, "OPENSHELL_SKIP_BOOTSTRAP")->action, SHIM_ENV_OPERATOR);
    char **env = shim_env_build(&c, base);
    assert_string_equal(shim_env_get(env, "OPENSHELL_SKIP_BOOTSTRAP"), "all");
    shim_env_free(env);
    shim_env_contract_free(&c);
    /* a fatal verdict: nothing to skip, the supervisor is not started */
    v[SHIM_SUB_SECCOMP] = SHIM_VERDICT_FATAL;
    shim_env_contract_compute_for(v, NULL, SHIM_CONTRACT_BOTH, NULL, "/r", NULL, &c);
    assert_null(find(&c, "OPENSHELL_SKIP_BOOTSTRAP"));
    shim_env_contract_free(&c);
}

static void test_passwd(void **state)
{
    (void)state;
    static const char t[] = "root:x:0:0:root:/root:/bin/sh\n"
                            "sandboxer:x:5:5::/:/bin/sh\n"
                            "sandbox:x:1000:1001::/sandbox:/bin/sh";
    uid_t u = 9;
    gid_t g = 9;
    assert_int_equal(shim_passwd_find(t, sizeof t - 1, "sandbox", &u, &g), 0);
    assert_int_equal(u, 1000);
    assert_int_equal(g, 1001);
    u = g = 9;
    assert_int_equal(shim_passwd_find(t, sizeof t - 1, "nobody", &u, &g), -1);
    assert_int_equal(u, 9);
    static const char bad[] = "sandbox:x:10a:1\nsandbox:x:1\nsandbox:x::1:\n";
    assert_int_equal(shim_passwd_find(bad, sizeof bad - 1, "sandbox", &u, &g), -1);
    static const char big[] = "sandbox:x:4294967296:1::/:\n";
    assert_int_equal(shim_passwd_find(big, sizeof big - 1, "sandbox", &u, &g), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_substrate_switches),
        cmocka_unit_test(test_skip_means_not_attempted),
        cmocka_unit_test(test_privdrop_rules),
        cmocka_unit_test(test_skip_tokens),
        cmocka_unit_test(test_contract_modes),
        cmocka_unit_test(test_passwd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
