/* The pure decisions of the init: exit-status mapping, signal policy,
 * restart/backoff. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "config.h"
#include "error.h"
#include "init/exitstatus.h"
#include "init/restart.h"
#include "init/signals.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#define W_EXIT(c) ((c) << 8)
#define W_SIG(s)  (s)

static void test_exit_codes(void **state)
{
    struct shim_config c = {0};
    for (int code = 0; code < 256; code++)
        assert_int_equal(shim_exit_code(&c, W_EXIT(code)), code);
    for (int sig = 1; sig < 32; sig++)
        assert_int_equal(shim_exit_code(&c, W_SIG(sig)), 128 + sig);
    c.remap_exit[143 >> 3] |= 1u << (143 & 7);
    assert_int_equal(shim_exit_code(&c, W_EXIT(143)), 0);
    assert_int_equal(shim_exit_code(&c, W_SIG(SIGTERM)), 0); /* 128+15 remapped too */
    assert_int_equal(shim_exit_code(&c, W_EXIT(142)), 142);
    assert_int_equal(shim_exec_errno_code(ENOENT), 127);
    assert_int_equal(shim_exec_errno_code(EACCES), 126);
    assert_int_equal(shim_exec_errno_code(ENOEXEC), 126);
    assert_false(shim_exit_is_failure(W_EXIT(0)));
    assert_true(shim_exit_is_failure(W_EXIT(1)));
    assert_true(shim_exit_is_failure(W_SIG(SIGKILL)));
    char d[64];
    shim_exit_describe(W_SIG(SIGKILL), d, sizeof d);
    assert_string_equal(d, "killed by SIGKILL");
}

static void test_signal_names(void **state)
{
    int s;
    assert_int_equal(shim_signal_parse("SIGTERM", true, &s), 0);
    assert_int_equal(s, SIGTERM);
    assert_int_equal(shim_signal_parse("term", true, &s), 0);
    assert_int_equal(s, SIGTERM);
    assert_int_equal(shim_signal_parse("10", true, &s), 0);
    assert_int_equal(s, 10);
    assert_int_equal(shim_signal_parse("SIGRTMIN+3", true, &s), 0);
    assert_int_equal(s, SIGRTMIN + 3);
    assert_int_equal(shim_signal_parse("RTMAX-1", true, &s), 0);
    assert_int_equal(s, SIGRTMAX - 1);
    assert_int_equal(shim_signal_parse("SIGKILL", true, &s), -1);
    assert_int_equal(shim_signal_parse("STOP", true, &s), -1);
    assert_int_equal(shim_signal_parse("SIGKILL", false, &s), 0);
    assert_int_equal(shim_signal_parse("0", true, &s), -1);
    assert_int_equal(shim_signal_parse("65", true, &s), -1);
    assert_int_equal(shim_signal_parse("RTMIN+99", true, &s), -1);
    assert_int_equal(shim_signal_parse("", true, &s), -1);
    assert_int_equal(shim_signal_parse("SIG", true, &s), -1);
    assert_string_equal(shim_signal_name(SIGUSR1), "SIGUSR1");
    assert_string_equal(shim_signal_name(SIGRTMIN + 1), "SIGRTMIN+1");
    /* round trip for every standard signal */
    for (int sig = 1; sig < 32; sig++) {
        int back;
        assert_int_equal(shim_signal_parse(shim_signal_name(sig), false, &back), 0);
        assert_int_equal(back, sig);
    }
}

static void test_signal_policy(void **state)
{
    struct shim_sig_ctx run = {.child_running = true};
    struct shim_sig_ctx idle = {.child_running = false};
    assert_int_equal(shim_signal_action(SIGCHLD, &run), SHIM_SIG_REAP);
    assert_int_equal(shim_signal_action(SIGCHLD, &idle), SHIM_SIG_REAP);
    assert_int_equal(shim_signal_action(SIGTERM, &run), SHIM_SIG_STOP);
    assert_int_equal(shim_signal_action(SIGINT, &idle), SHIM_SIG_STOP);
    int fwd[] = {SIGHUP, SIGUSR1, SIGUSR2, SIGWINCH, SIGQUIT, SIGALRM, SIGCONT, SIGTSTP};
    for (size_t i = 0; i < sizeof fwd / sizeof fwd[0]; i++) {
        assert_int_equal(shim_signal_action(fwd[i], &run), SHIM_SIG_FORWARD);
        assert_int_equal(shim_signal_action(fwd[i], &idle), SHIM_SIG_IGNORE);
    }
    struct shim_sig_ctx rs = {.child_running = true, .restore_signal = SIGUSR2};
    assert_int_equal(shim_signal_action(SIGUSR2, &rs), SHIM_SIG_RESTORE);
    assert_int_equal(shim_signal_action(SIGUSR1, &rs), SHIM_SIG_FORWARD);
    assert_true(shim_signal_is_fault(SIGSEGV));
    assert_false(shim_signal_is_fault(SIGTERM));
}

static struct shim_config restart_cfg(enum shim_restart r)
{
    struct shim_config c = {0};
    c.restart = r;
    c.restart_max = 3;
    c.restart_window_ms = 10000;
    c.backoff_initial_ms = 100;
    c.backoff_max_ms = 350;
    return c;
}

static void test_restart_never_and_stopping(void **state)
{
    struct shim_config c = restart_cfg(SHIM_RESTART_NEVER);
    struct shim_restart_state st = {0};
    int64_t d = -1;
    assert_int_equal(shim_restart_decide(&c, &st, W_EXIT(1), false, 0, 0, &d), SHIM_AFTER_DONE);
    c = restart_cfg(SHIM_RESTART_ALWAYS);
    assert_int_equal(shim_restart_decide(&c, &st, W_EXIT(1), true, 0, 0, &d), SHIM_AFTER_DONE);
    assert_int_equal(d, -1); /* untouched when not restarting */
}

static void test_restart_on_failure(void **state)
{
    struct shim_config c = restart_cfg(SHIM_RESTART_ON_FAILURE);
    struct shim_restart_state st = {0};
    int64_t d;
    assert_int_equal(shim_restart_decide(&c, &st, W_EXIT(0), false, 0, 0, &d), SHIM_AFTER_DONE);
    assert_int_equal(shim_restart_decide(&c, &st, W_EXIT(2), false, 0, 0, &d), SHIM_AFTER_RESTART);
    assert_int_equal(shim_restart_decide(&c, &st, W_SIG(SIGSEGV), false, 1, 0, &d),
                     SHIM_AFTER_RESTART);
    /* -e remaps what the shim reports, not whether the child failed */
    c.remap_exit[0] |= 1u << 2;
    assert_int_equal(shim_restart_decide(&c, &st, W_EXIT(2), false, 2, 0, &d), SHIM_AFTER_RESTART);
}

static void test_backoff_and_cap(void **state)
{
    struct shim_config c = restart_cfg(SHIM_RESTART_ALWAYS);
    struct shim_restart_state st = {0};
    int64_t d;
    int64_t expect[] = {100, 200, 350};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(shim_restart_decide(&c, &st, W_EXIT(0), false, i * 10, 5, &d),
                         SHIM_AFTER_RESTART);
        assert_int_equal(d, expect[i]);
    }
    /* fourth exit inside the window: the cap holds */
    assert_int_equal(shim_restart_decide(&c, &st, W_EXIT(0), false, 50, 5, &d), SHIM_AFTER_GIVE_UP);
    assert_int_equal(st.total, 3);
    /* after the window the count and the backoff start over */
    assert_int_equal(shim_restart_decide(&c, &st, W_EXIT(0), false, 20000, 5, &d),
                     SHIM_AFTER_RESTART);
    assert_int_equal(d, 100);
    /* a child that ran a whole window also starts over */
    assert_int_equal(shim_restart_decide(&c, &st, W_EXIT(0), false, 20001, 5, &d),
                     SHIM_AFTER_RESTART);
    assert_int_equal(d, 200);
    assert_int_equal(shim_restart_decide(&c, &st, W_EXIT(0), false, 20002, 10000, &d),
                     SHIM_AFTER_RESTART);
    assert_int_equal(d, 100);
}

static void test_restart_max_zero(void **state)
{
    struct shim_config c = restart_cfg(SHIM_RESTART_ALWAYS);
    c.restart_max = 0;
    struct shim_restart_state st = {0};
    int64_t d;
    assert_int_equal(shim_restart_decide(&c, &st, W_EXIT(1), false, 0, 0, &d), SHIM_AFTER_GIVE_UP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_codes),
        cmocka_unit_test(test_signal_names),
        cmocka_unit_test(test_signal_policy),
        cmocka_unit_test(test_restart_never_and_stopping),
        cmocka_unit_test(test_restart_on_failure),
        cmocka_unit_test(test_backoff_and_cap),
        cmocka_unit_test(test_restart_max_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
