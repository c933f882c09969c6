/* The probe runners.  Forking (runner.c): results cross the pipe whole, a
 * hanging probe is killed and reaped at the deadline, a crashing one
 * becomes an ERROR, and nothing a probe does reaches the parent.  Light
 * (runner_light.c): the same, for a child that shares the shim's memory,
 * plus its stack guard and that it leaves no mapping behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "probe/probe.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
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

/* Both runners take the same arguments: the shared cases run with each. */
typedef int (*runner_fn)(shim_probe_fn fn, const void *arg, int64_t timeout_ms,
                         struct shim_probe_result *ret, oss_error *err);

static void check_timeout(runner_fn run)
{
    struct shim_probe_result r;
    oss_error e = {0};
    int64_t t0 = oss_mono_ms();
    assert_int_equal(run(fn_hang, NULL, 150, &r, &e), 0);
    int64_t dt = oss_mono_ms() - t0;
    assert_true(dt >= 150 && dt < 2000);
    assert_int_equal(r.status, SHIM_PROBE_ERROR);
    assert_string_equal(r.step, "timeout");
    assert_int_equal(r.err, ETIMEDOUT);
    assert_no_children();
}

static void check_crash_and_exit(runner_fn run)
{
    struct shim_probe_result r;
    oss_error e = {0};
    assert_int_equal(run(fn_crash, NULL, 2000, &r, &e), 0);
    assert_int_equal(r.status, SHIM_PROBE_ERROR);
    assert_non_null(strstr(r.detail, "signal 11"));
    assert_int_equal(run(fn_silent, NULL, 2000, &r, &e), 0);
    assert_int_equal(r.status, SHIM_PROBE_ERROR);
    assert_non_null(strstr(r.detail, "status 3"));
    assert_no_children();
}

static void test_timeout_kills_and_reaps(void **state)
{
    check_timeout(shim_probe_isolated);
}

static void test_crash(void **state)
{
    check_crash_and_exit(shim_probe_isolated);
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
    /* The seccomp probe sets NO_NEW_PRIVS and loads filters, the privdrop
     * probe switches identity: none of it may reach the caller. */
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1)
        skip();
    struct shim_runtime_facts before, after;
    shim_runtime_facts_collect(&before);
    struct shim_probe_result r;
    oss_error e = {0};
    struct shim_probe_light_session ls;
    assert_int_equal(shim_probe_light_begin(&ls, &e), 0);
    assert_int_equal(shim_probe_seccomp(&ls, 2000, &r, &e), 0);
    assert_int_not_equal(r.status, SHIM_PROBE_NOT_RUN);
    assert_int_not_equal(r.status, SHIM_PROBE_ERROR);
    assert_true(r.detail[0] != '\0'); /* written by the parent afterwards */
    uid_t uid = getuid();
    struct shim_privdrop_probe_arg pa = {.uid = uid == 0 ? 65534 : uid + 1, .gid = 65534};
    assert_int_equal(shim_probe_privdrop(&ls, &pa, 2000, &r, &e), 0);
    shim_probe_light_end(&ls);
    if (uid == 0) /* root really switched, in the child only */
        assert_int_equal(r.status, SHIM_PROBE_SUPPORTED);
    else
        assert_int_equal(r.status, SHIM_PROBE_UNSUPPORTED);
    assert_int_equal(getuid(), uid);
    assert_int_equal(geteuid(), uid);
    shim_runtime_facts_collect(&after);
    assert_int_equal(before.seccomp_mode, after.seccomp_mode);
    assert_int_equal(after.no_new_privs, 0);
    assert_no_children();
}

/* ---- the light runner ---- */

static void lfn_ok(const void *arg, struct shim_probe_result *r)
{
    shim_probe_mark(r, SHIM_PROBE_UNSUPPORTED, "step_light_with_a_name_longer_than_the_field",
                    *(const int *)arg);
    r->u.landlock.abi = 42;
}

static void lfn_side_effects(const void *arg, struct shim_probe_result *r)
{
    /* NO_NEW_PRIVS and a filter that makes getppid fail: both per task. */
    struct sock_filter insns[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0), /* seccomp_data.nr */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = 4, .filter = insns};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
        shim_probe_mark(r, SHIM_PROBE_ERROR, "setup", errno);
        return;
    }
    /* Control inside: the filter works here. */
    if (syscall(SYS_getppid) != -1 || errno != EPERM) {
        shim_probe_mark(r, SHIM_PROBE_ERROR, "filter_inert", 0);
        return;
    }
    shim_probe_mark(r, SHIM_PROBE_SUPPORTED, NULL, 0);
}

/* Frames well below a page, every byte written, so the overflow meets the
 * guard page rather than jumping it. */
static int recurse(int depth)
{
    volatile char frame[256];
    for (size_t i = 0; i < sizeof frame; i++)
        frame[i] = (char)depth;
    if (depth == 0)
        return frame[0];
    return recurse(depth - 1) + frame[sizeof frame - 1];
}

static void lfn_overflow(const void *arg, struct shim_probe_result *r)
{
    /* Over 2 MiB of frames against a 128 KiB stack. */
    volatile int sink = recurse(8192);
    (void)sink;
    shim_probe_mark(r, SHIM_PROBE_SUPPORTED, NULL, 0);
}

static int count_maps(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    assert_non_null(f);
    int n = 0, c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

static void test_light_result_passes(void **state)
{
    int v = EACCES;
    struct shim_probe_result r;
    oss_error e = {0};
    assert_int_equal(shim_probe_light(lfn_ok, &v, 2000, &r, &e), 0);
    assert_int_equal(r.status, SHIM_PROBE_UNSUPPORTED);
    assert_int_equal(r.err, EACCES);
    assert_int_equal(strlen(r.step), sizeof r.step - 1); /* cut, terminated */
    assert_memory_equal(r.step, "step_light_with_a_name_longer", 29);
    assert_string_equal(r.detail, "");
    assert_int_equal(r.u.landlock.abi, 42);
    assert_true(r.usec > 0);
    assert_false(r.lingering);
    assert_no_children();
}

static void test_light_timeout(void **state)
{
    check_timeout(shim_probe_light);
    /* The timer was the child's own (a thread group of its own). */
    struct itimerval it;
    assert_int_equal(getitimer(ITIMER_REAL, &it), 0);
    assert_int_equal(it.it_value.tv_sec, 0);
    assert_int_equal(it.it_value.tv_usec, 0);
}

static void test_light_crash_and_exit(void **state)
{
    check_crash_and_exit(shim_probe_light);
    struct shim_probe_result r;
    oss_error e = {0};
    assert_int_equal(shim_probe_light(lfn_overflow, NULL, 2000, &r, &e), 0);
    assert_int_equal(r.status, SHIM_PROBE_ERROR);
    assert_non_null(strstr(r.detail, "signal 11"));
    assert_no_children();
}

static void test_light_isolation(void **state)
{
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1)
        skip();
    /* valgrind does not implement seccomp(2): nothing to install there. */
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 1, NULL) < 0 && errno == ENOSYS) {
        print_message("seccomp(2) is ENOSYS here (valgrind?): skipped\n");
        skip();
    }
    /* Control: getppid works here before. */
    assert_true(syscall(SYS_getppid) > 0);
    struct shim_probe_result r;
    oss_error e = {0};
    assert_int_equal(shim_probe_light(lfn_side_effects, NULL, 2000, &r, &e), 0);
    assert_int_equal(r.status, SHIM_PROBE_SUPPORTED);
    assert_int_equal(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 0);
    assert_int_equal(prctl(PR_GET_SECCOMP, 0, 0, 0, 0), 0);
    assert_true(syscall(SYS_getppid) > 0);
    assert_no_children();
}

static void test_light_session(void **state)
{
    /* One stack for several probes: each answer is its own, a crash in
     * between leaves no stale answer behind (nor does an answer hide a
     * later crash), and cmocka's own SIGSEGV handler is set back to the
     * default in the child (the session saw it was not). */
    struct shim_probe_light_session ls;
    oss_error e = {0};
    assert_int_equal(shim_probe_light_begin(&ls, &e), 0);
    assert_int_equal(sigismember(&ls.reset, SIGSEGV), 1); /* cmocka's handler */
    struct shim_probe_result r;
    int v = EPERM;
    assert_int_equal(shim_probe_light_in(&ls, lfn_ok, &v, 2000, &r, &e), 0);
    assert_int_equal(r.status, SHIM_PROBE_UNSUPPORTED);
    assert_int_equal(r.err, EPERM);
    assert_int_equal(shim_probe_light_in(&ls, fn_crash, NULL, 2000, &r, &e), 0);
    assert_int_equal(r.status, SHIM_PROBE_ERROR);
    assert_non_null(strstr(r.detail, "signal 11"));
    v = EACCES;
    assert_int_equal(shim_probe_light_in(&ls, lfn_ok, &v, 2000, &r, &e), 0);
    assert_int_equal(r.status, SHIM_PROBE_UNSUPPORTED);
    assert_int_equal(r.err, EACCES);
    assert_int_equal(shim_probe_light_in(&ls, fn_silent, NULL, 2000, &r, &e), 0);
    assert_int_equal(r.status, SHIM_PROBE_ERROR);
    assert_non_null(strstr(r.detail, "status 3"));
    shim_probe_light_end(&ls);
    assert_null(ls.map);
    shim_probe_light_end(&ls); /* idempotent */
    assert_no_children();
}

static void test_light_leaves_no_mapping(void **state)
{
    int v = 0;
    struct shim_probe_result r;
    oss_error e = {0};
    assert_int_equal(shim_probe_light(lfn_ok, &v, 2000, &r, &e), 0); /* warm-up */
    int before = count_maps();
    for (int i = 0; i < 20; i++) {
        assert_int_equal(shim_probe_light(lfn_ok, &v, 2000, &r, &e), 0);
        assert_int_equal(shim_probe_light(fn_crash, NULL, 2000, &r, &e), 0);
    }
    assert_int_equal(count_maps(), before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_result_passes),
        cmocka_unit_test(test_timeout_kills_and_reaps),
        cmocka_unit_test(test_crash),
        cmocka_unit_test(test_isolation),
        cmocka_unit_test(test_real_probes_are_isolated),
        cmocka_unit_test(test_light_result_passes),
        cmocka_unit_test(test_light_timeout),
        cmocka_unit_test(test_light_crash_and_exit),
        cmocka_unit_test(test_light_isolation),
        cmocka_unit_test(test_light_session),
        cmocka_unit_test(test_light_leaves_no_mapping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
