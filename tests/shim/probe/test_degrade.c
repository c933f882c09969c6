/* The degrade policy, exhaustively: every subsystem x {available,
 * unavailable, probe error} x {allowed, not} x {probed, not}, and every
 * combination of the four subsystems at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "policy/degrade.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void test_single_table(void **state)
{
    static const struct {
        bool probed;
        enum shim_probe_status st;
        bool allowed;
        enum shim_verdict want;
    } rows[] = {
        {true, SHIM_PROBE_SUPPORTED, false, SHIM_VERDICT_OK},
        {true, SHIM_PROBE_SUPPORTED, true, SHIM_VERDICT_OK},
        {true, SHIM_PROBE_UNSUPPORTED, false, SHIM_VERDICT_FATAL},
        {true, SHIM_PROBE_UNSUPPORTED, true, SHIM_VERDICT_DEGRADED},
        /* a probe that failed to answer proves nothing works: unavailable */
        {true, SHIM_PROBE_ERROR, false, SHIM_VERDICT_FATAL},
        {true, SHIM_PROBE_ERROR, true, SHIM_VERDICT_DEGRADED},
        {true, SHIM_PROBE_NOT_RUN, false, SHIM_VERDICT_FATAL},
        {true, SHIM_PROBE_NOT_RUN, true, SHIM_VERDICT_DEGRADED},
        /* not in --probes: not known, treated as ok whatever else */
        {false, SHIM_PROBE_NOT_RUN, false, SHIM_VERDICT_NOT_PROBED},
        {false, SHIM_PROBE_NOT_RUN, true, SHIM_VERDICT_NOT_PROBED},
        {false, SHIM_PROBE_UNSUPPORTED, false, SHIM_VERDICT_NOT_PROBED},
        {false, SHIM_PROBE_SUPPORTED, true, SHIM_VERDICT_NOT_PROBED},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        assert_int_equal(shim_degrade_decide(rows[i].probed, rows[i].st, rows[i].allowed),
                         rows[i].want);
}

/* All 4 subsystems x {available, unavailable} x {allowed, not} x {probed,
 * not}: 16^3 combinations, each checked subsystem by subsystem. */
static void test_all_combinations(void **state)
{
    for (unsigned probe = 0; probe <= SHIM_SUB_ALL; probe++)
        for (unsigned allow = 0; allow <= SHIM_SUB_ALL; allow++)
            for (unsigned avail = 0; avail <= SHIM_SUB_ALL; avail++) {
                struct shim_probe_result p[SHIM_SUB_COUNT];
                memset(p, 0, sizeof p);
                for (int s = 0; s < SHIM_SUB_COUNT; s++)
                    p[s].status =
                        (avail & SHIM_SUB_BIT(s)) ? SHIM_PROBE_SUPPORTED : SHIM_PROBE_UNSUPPORTED;
                enum shim_verdict v[SHIM_SUB_COUNT];
                shim_degrade_decide_all(probe, allow, p, v);
                unsigned fatal = 0, degraded = 0;
                for (int s = 0; s < SHIM_SUB_COUNT; s++) {
                    unsigned bit = SHIM_SUB_BIT(s);
                    enum shim_verdict want = !(probe & bit)  ? SHIM_VERDICT_NOT_PROBED
                                             : (avail & bit) ? SHIM_VERDICT_OK
                                             : (allow & bit) ? SHIM_VERDICT_DEGRADED
                                                             : SHIM_VERDICT_FATAL;
                    assert_int_equal(v[s], want);
                    if (want == SHIM_VERDICT_FATAL)
                        fatal |= bit;
                    if (want == SHIM_VERDICT_DEGRADED)
                        degraded |= bit;
                }
                assert_int_equal(shim_verdict_mask(v, SHIM_VERDICT_FATAL), fatal);
                assert_int_equal(shim_verdict_mask(v, SHIM_VERDICT_DEGRADED), degraded);
                oss_buf line = OSS_BUF_INIT;
                bool refused = shim_refusal_line(v, p, allow, &line);
                assert_int_equal(refused, fatal != 0);
                if (!refused)
                    assert_int_equal(line.len, 0);
                for (int s = 0; s < SHIM_SUB_COUNT && refused; s++) {
                    char head[64];
                    snprintf(head, sizeof head, "%s unavailable", shim_subsys_name(s));
                    assert_int_equal(strstr(line.data, head) != NULL,
                                     (fatal & SHIM_SUB_BIT(s)) != 0);
                }
                oss_buf_free(&line);
            }
}

static void test_refusal_line(void **state)
{
    struct shim_probe_result p[SHIM_SUB_COUNT];
    memset(p, 0, sizeof p);
    p[SHIM_SUB_NETNS].status = SHIM_PROBE_UNSUPPORTED;
    strcpy(p[SHIM_SUB_NETNS].step, "veth");
    p[SHIM_SUB_NETNS].err = EOPNOTSUPP;
    p[SHIM_SUB_SECCOMP].status = SHIM_PROBE_SUPPORTED;
    p[SHIM_SUB_LANDLOCK].status = SHIM_PROBE_UNSUPPORTED;
    strcpy(p[SHIM_SUB_LANDLOCK].step, "abi_version");
    p[SHIM_SUB_LANDLOCK].err = ENOSYS;
    p[SHIM_SUB_PRIVDROP].status = SHIM_PROBE_ERROR;
    strcpy(p[SHIM_SUB_PRIVDROP].step, "timeout");
    p[SHIM_SUB_PRIVDROP].err = ETIMEDOUT;
    enum shim_verdict v[SHIM_SUB_COUNT];
    unsigned allow = SHIM_SUB_BIT(SHIM_SUB_LANDLOCK);
    shim_degrade_decide_all(SHIM_SUB_ALL, allow, p, v);
    oss_buf line = OSS_BUF_INIT;
    assert_true(shim_refusal_line(v, p, allow, &line));
    assert_string_equal(line.data,
                        "netns unavailable (step veth: EOPNOTSUPP, Operation not supported); "
                        "privdrop probe failed (step timeout: ETIMEDOUT, Connection timed out); "
                        "the supervisor was not started: allow with "
                        "--degrade=netns,landlock,privdrop");
    assert_null(strchr(line.data, '\n')); /* one line */
    oss_buf_free(&line);
}

static void test_names(void **state)
{
    assert_string_equal(shim_verdict_name(SHIM_VERDICT_OK), "ok");
    assert_string_equal(shim_verdict_name(SHIM_VERDICT_DEGRADED), "degraded");
    assert_string_equal(shim_verdict_name(SHIM_VERDICT_FATAL), "fatal");
    assert_string_equal(shim_verdict_name(SHIM_VERDICT_NOT_PROBED), "not_probed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_table),
        cmocka_unit_test(test_all_combinations),
        cmocka_unit_test(test_refusal_line),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
