/* driver/runsc/runsc.c's op files: a runsc started by a driver that is then
 * SIGKILLed keeps running under its monitor, which holds the op file's lock
 * until runsc has exited and records its exit code; the next driver's drain
 * waits for that lock.  runsc is played by a shell script (it ignores the
 * runsc arguments).  Needs root (the child makes a mount namespace). */
#include "internal.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[64];
static char ops[128], procsys[128], script[128];

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void write_script(const char *body)
{
    FILE *f = fopen(script, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\n%s\n", body);
    fclose(f);
    chmod(script, 0755);
}

static struct drv_runsc_cmd cmd(void)
{
    struct drv_runsc_cmd c = {
        .runsc = script, .root = dir, .procsys = procsys, .prefix = "t-", .ops_dir = ops};
    return c;
}

static int setup(void **state)
{
    (void)state;
    if (geteuid() != 0)
        return 0;
    snprintf(dir, sizeof dir, "/tmp/oss-test-ops.XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(ops, sizeof ops, "%s/ops", dir);
    snprintf(procsys, sizeof procsys, "%s/procsys", dir);
    snprintf(script, sizeof script, "%s/runsc", dir);
    assert_int_equal(mkdir(ops, 0700), 0);
    assert_int_equal(mkdir(procsys, 0755), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (dir[0] != '\0') {
        char rm[256];
        snprintf(rm, sizeof rm, "rm -rf -- '%s'", dir);
        (void)!system(rm);
    }
    return 0;
}

/* A "driver" (a forked child) starts runsc under op file NAME and is
 * SIGKILLed after kill_ms. */
static void driver_dies_during(const char *name, int kill_ms)
{
    pid_t drv = fork();
    assert_true(drv >= 0);
    if (drv == 0) {
        struct drv_runsc_cmd c = cmd();
        const char *args[] = {"checkpoint", "x", NULL};
        oss_error e = {0};
        (void)drv_runsc_run_op(&c, name, args, -1, 60000, NULL, &e);
        _exit(0);
    }
    usleep((useconds_t)kill_ms * 1000);
    kill(drv, SIGKILL);
    waitpid(drv, NULL, 0);
}

static void test_drain_waits_for_a_dead_drivers_runsc(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    write_script("sleep 0.8; exit 0");
    int64_t t0 = now_ms();
    driver_dies_during("sb.checkpoint", 150);
    char p[256];
    snprintf(p, sizeof p, "%s/sb.checkpoint", ops);
    assert_int_equal(drv_runsc_op_status(p), -1); /* still running: no outcome yet */
    unsigned waited = 0;
    oss_error e = {0};
    assert_int_equal(drv_runsc_ops_drain(ops, 30000, &waited, &e), 0);
    assert_int_equal(waited, 1);
    /* the drain returned only after runsc was done */
    assert_true(now_ms() - t0 >= 750);
    assert_int_equal(drv_runsc_op_status(p), 0); /* the checkpoint's outcome stays */
    unlink(p);

    /* CONTROL: a runsc that fails is recorded as failing, never as whole */
    write_script("sleep 0.3; exit 3");
    driver_dies_during("sb.checkpoint", 100);
    assert_int_equal(drv_runsc_ops_drain(ops, 30000, &waited, &e), 0);
    assert_int_equal(drv_runsc_op_status(p), 3);
    unlink(p);
}

static void test_other_ops_are_removed(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    write_script("sleep 0.3; exit 0");
    driver_dies_during(NULL, 100); /* a unique name, e.g. runsc state */
    unsigned waited = 0;
    oss_error e = {0};
    assert_int_equal(drv_runsc_ops_drain(ops, 30000, &waited, &e), 0);
    assert_int_equal(waited, 1);
    char cmdline[256];
    snprintf(cmdline, sizeof cmdline, "test -z \"$(ls -A '%s')\"", ops);
    assert_int_equal(system(cmdline), 0); /* nothing left in ops/ */

    /* a driver that lives removes its own op file when runsc is done */
    struct drv_runsc_cmd c = cmd();
    const char *args[] = {"state", "x", NULL};
    assert_int_equal(drv_runsc_run(&c, args, -1, 60000, NULL, &e), 0);
    assert_int_equal(system(cmdline), 0);
}

static void test_a_wedged_runsc_is_killed_at_the_bound(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    /* a duration unique to this test, so only its own sleep matches */
    char body[64];
    snprintf(body, sizeof body, "exec sleep 600.%d", (int)getpid());
    write_script(body);
    driver_dies_during(NULL, 100);
    int64_t t0 = now_ms();
    unsigned waited = 0;
    oss_error e = {0};
    assert_int_equal(drv_runsc_ops_drain(ops, 300, &waited, &e), 0);
    int64_t took = now_ms() - t0;
    assert_true(took >= 300 && took < 10000);
    /* and the sleep (runsc) went with its monitor's session */
    char cmdline[256];
    snprintf(cmdline, sizeof cmdline,
             "for i in 1 2 3 4 5 6 7 8 9 10; do pgrep -x -f '%s' >/dev/null || exit 0; "
             "sleep 0.1; done; exit 1",
             body + 5);
    assert_int_equal(system(cmdline), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drain_waits_for_a_dead_drivers_runsc),
        cmocka_unit_test(test_other_ops_are_removed),
        cmocka_unit_test(test_a_wedged_runsc_is_killed_at_the_bound),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
