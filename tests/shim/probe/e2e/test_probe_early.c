/* The probe runner's two additions for start-up cost (docs/probes.md):
 * probes run side by side (start/collect), and a probe may answer before
 * it finishes its cleanup (shim_probe_answer_early) -- then its child is
 * handed to the caller, still running, and must be reaped, never leaked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "probe/probe.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Answers at once, then "cleans up" for 300 ms, then exits with *arg. */
static void fn_early(const void *arg, struct shim_probe_result *r)
{
    shim_probe_set(r, SHIM_PROBE_SUPPORTED, NULL, 0, "early");
    if (shim_probe_answer_early(r) < 0)
        _exit(9);
    sleep_ms(300);
    _exit(*(const int *)arg);
}

static void fn_early_hang(const void *arg, struct shim_probe_result *r)
{
    shim_probe_set(r, SHIM_PROBE_SUPPORTED, NULL, 0, "early");
    shim_probe_answer_early(r);
    for (;;)
        pause();
}

static void fn_sleep(const void *arg, struct shim_probe_result *r)
{
    sleep_ms(*(const int *)arg);
    shim_probe_set(r, SHIM_PROBE_SUPPORTED, NULL, 0, "slept");
}

static void assert_no_children(void)
{
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

static void test_early_answer_hands_over_the_child(void **state)
{
    int code = 0;
    struct shim_probe_child c;
    oss_error e = {0};
    int64_t t0 = oss_mono_ms();
    assert_int_equal(shim_probe_start(fn_early, &code, 2000, &c, &e), 0);
    struct shim_probe_result r;
    pid_t lingering = -1;
    shim_probe_collect(&c, &r, &lingering);
    int64_t dt = oss_mono_ms() - t0;
    assert_int_equal(r.status, SHIM_PROBE_SUPPORTED);
    assert_true(r.lingering);
    assert_true(lingering > 0);
    /* the answer came before the 300 ms of cleanup, and the child is
     * still at work (not a zombie: it was not reaped, it still runs) */
    assert_true(dt < 250);
    assert_int_equal(waitpid(lingering, NULL, WNOHANG), 0);
    int st = shim_probe_reap(lingering, 2000);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_no_children();
}

static void test_control_normal_probe_not_lingering(void **state)
{
    int ms = 10;
    struct shim_probe_child c;
    oss_error e = {0};
    assert_int_equal(shim_probe_start(fn_sleep, &ms, 2000, &c, &e), 0);
    struct shim_probe_result r;
    pid_t lingering = -1;
    shim_probe_collect(&c, &r, &lingering);
    assert_false(r.lingering);
    assert_int_equal(lingering, 0);
    assert_no_children();
}

static void test_isolated_waits_for_the_rest(void **state)
{
    /* The one-shot API keeps its promise: nothing outlives the call. */
    int code = 0;
    struct shim_probe_result r;
    oss_error e = {0};
    int64_t t0 = oss_mono_ms();
    assert_int_equal(shim_probe_isolated(fn_early, &code, 2000, &r, &e), 0);
    assert_true(oss_mono_ms() - t0 >= 300);
    assert_int_equal(r.status, SHIM_PROBE_SUPPORTED);
    assert_false(r.lingering);
    assert_no_children();
    /* a failed rest (exit 3) is reported as lingering: callers clean up */
    code = 3;
    assert_int_equal(shim_probe_isolated(fn_early, &code, 2000, &r, &e), 0);
    assert_true(r.lingering);
    assert_no_children();
}

static void test_reap_is_bounded(void **state)
{
    struct shim_probe_child c;
    oss_error e = {0};
    assert_int_equal(shim_probe_start(fn_early_hang, NULL, 2000, &c, &e), 0);
    struct shim_probe_result r;
    pid_t lingering;
    shim_probe_collect(&c, &r, &lingering);
    assert_true(lingering > 0);
    int64_t t0 = oss_mono_ms();
    assert_int_equal(shim_probe_reap(lingering, 100), -1); /* killed */
    int64_t dt = oss_mono_ms() - t0;
    assert_true(dt >= 100 && dt < 1500);
    assert_no_children();
}

static void test_rest_is_bounded_by_itself(void **state)
{
    /* Nobody may ever wait for a lingering child (the PID-1 loop only
     * reaps it): a hung rest ends itself at the probe's time limit. */
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old); /* as the shim: everything blocked */
    struct shim_probe_child c;
    oss_error e = {0};
    assert_int_equal(shim_probe_start(fn_early_hang, NULL, 500, &c, &e), 0);
    sigprocmask(SIG_SETMASK, &old, NULL);
    struct shim_probe_result r;
    pid_t lingering;
    shim_probe_collect(&c, &r, &lingering);
    assert_true(lingering > 0);
    int64_t t0 = oss_mono_ms();
    int st;
    assert_int_equal(waitpid(lingering, &st, 0), lingering);
    assert_true(oss_mono_ms() - t0 < 3000);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGALRM);
    assert_no_children();
}

static void test_side_by_side(void **state)
{
    /* Three 300 ms probes collected in about 300 ms, not 900 ms. */
    int ms = 300;
    struct shim_probe_child c[3];
    oss_error e = {0};
    int64_t t0 = oss_mono_ms();
    for (int i = 0; i < 3; i++)
        assert_int_equal(shim_probe_start(fn_sleep, &ms, 3000, &c[i], &e), 0);
    for (int i = 0; i < 3; i++) {
        struct shim_probe_result r;
        pid_t lingering;
        shim_probe_collect(&c[i], &r, &lingering);
        assert_int_equal(r.status, SHIM_PROBE_SUPPORTED);
        /* each keeps its own time, not the wait for the one before it */
        assert_true(r.usec >= 300000 && r.usec < 600000);
    }
    int64_t dt = oss_mono_ms() - t0;
    assert_true(dt >= 300 && dt < 800);
    assert_no_children();
}

static void test_abandon(void **state)
{
    struct shim_probe_child c;
    oss_error e = {0};
    assert_int_equal(shim_probe_start(fn_early_hang, NULL, 2000, &c, &e), 0);
    shim_probe_abandon(&c);
    assert_int_equal(c.pid, 0);
    assert_no_children();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_early_answer_hands_over_the_child),
        cmocka_unit_test(test_control_normal_probe_not_lingering),
        cmocka_unit_test(test_isolated_waits_for_the_rest),
        cmocka_unit_test(test_reap_is_bounded),
        cmocka_unit_test(test_rest_is_bounded_by_itself),
        cmocka_unit_test(test_side_by_side),
        cmocka_unit_test(test_abandon),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
