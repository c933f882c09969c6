/* The isolated probe runner: results cross the pipe whole, a hanging probe
 * is killed and reaped at the deadline, a crashing one becomes an ERROR,
 * and nothing a probe does reaches the parent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "probe/probe.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void fn_ok(const void *arg, struct shim_probe_result *r)
{
    shim_probe_set(r, SHIM_PROBE_UNSUPPORTED, "step_x", EPERM, "detail %d", *(const int *)arg);
    r->u.landlock.abi = 42;
}

static void fn_hang(const void *arg, struct shim_probe_result *r)
{
    for (;;)
        pause();
}

static void fn_crash(const void *arg, struct shim_probe_result *r)
{
    raise(SIGSEGV);
}

static void fn_silent(const void *arg, struct shim_probe_result *r)
{
    _exit(3);
}

static void fn_side_effect(const void *arg, struct shim_probe_result *r)
{
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    shim_probe_set(r, SHIM_PROBE_SUPPORTED, NULL, 0, NULL);
}

static void assert_no_children(void)
{
    /* The cleanup reaped the child: nothing left to wait for. */
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

static void test_result_passes(void **state)
{
    int v = 7;
    struct shim_probe_result r;
    oss_error e = {0};
    assert_int_equal(shim_probe_isolated(fn_ok, &v, 2000, &r, &e), 0);
    assert_int_equal(r.status, SHIM_PROBE_UNSUPPORTED);
    assert_string_equal(r.step, "step_x");
    assert_int_equal(r.err, EPERM);
    assert_string_equal(r.detail, "detail 7");
    assert_int_equal(r.u.landlock.abi, 42);
    assert_true(r.usec > 0);
    assert_no_children();
}

static void test_timeout_kills_and_reaps(void **state)
{
    struct shim_probe_result r;
    oss_error e = {0};
    int64_t t0 = oss_mono_ms();
    assert_int_equal(shim_probe_isolated(fn_hang, NULL, 150, &r, &e), 0);
    int64_t dt = oss_mono_ms() - t0;
    assert_true(dt >= 150 && dt < 2000);
    assert_int_equal(r.status, SHIM_PROBE_ERROR);
    assert_string_equal(r.step, "timeout");
    assert_int_equal(r.err, ETIMEDOUT);
    assert_no_children();
}

static void test_crash(void **state)
{
    struct shim_probe_result r;
    oss_error e = {0};
    assert_int_equal(shim_probe_isolated(fn_crash, NULL, 2000, &r, &e), 0);
    assert_int_equal(r.status, SHIM_PROBE_ERROR);
    assert_non_null(strstr(r.detail, "signal 11"));
    assert_int_equal(shim_probe_isolated(fn_silent, NULL, 2000, &r, &e), 0);
    assert_int_equal(r.status, SHIM_PROBE_ERROR);
    assert_non_null(strstr(r.detail, "status 3"));
    assert_no_children();
}

static void test_isolation(void **state)
{
    /* Control first: this process has no NO_NEW_PRIVS, so the check below
     * can see a leak. */
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1)
        skip();
    struct shim_probe_result r;
    oss_error e = {0};
    assert_int_equal(shim_probe_isolated(fn_side_effect, NULL, 2000, &r, &e), 0);
    assert_int_equal(r.status, SHIM_PROBE_SUPPORTED);
    assert_int_equal(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 0);
}

static void test_real_probes_are_isolated(void **state)
{
    /* The seccomp probe sets NO_NEW_PRIVS and loads filters: none of it may
     * reach the caller. */
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1)
        skip();
    struct shim_runtime_facts before, after;
    shim_runtime_facts_collect(&before);
    struct shim_probe_result r;
    oss_error e = {0};
    assert_int_equal(shim_probe_isolated(shim_probe_seccomp, NULL, 2000, &r, &e), 0);
    assert_int_not_equal(r.status, SHIM_PROBE_NOT_RUN);
    shim_runtime_facts_collect(&after);
    assert_int_equal(before.seccomp_mode, after.seccomp_mode);
    assert_int_equal(after.no_new_privs, 0);
    assert_no_children();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_result_passes),
        cmocka_unit_test(test_timeout_kills_and_reaps),
        cmocka_unit_test(test_crash),
        cmocka_unit_test(test_isolation),
        cmocka_unit_test(test_real_probes_are_isolated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
