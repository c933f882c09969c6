/* The fallback filter: the plan (pure, every mode x probe outcome), the
 * compiled lists, and the installed filter denying what it should (with a
 * control: the same call without the filter reaches the kernel). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "policy/fallback.h"
#include "policy/seccomp_compile.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static struct shim_probe_result probe(enum shim_probe_status st, unsigned flags_ok)
{
    struct shim_probe_result r;
    memset(&r, 0, sizeof r);
    r.status = st;
    r.u.seccomp.flags_ok = flags_ok;
    return r;
}

#define PLAIN (1u << SHIM_SECFLAG_NONE)
#define TSYNC (1u << SHIM_SECFLAG_TSYNC)
#define LOG   (1u << SHIM_SECFLAG_LOG)

static void test_plan_table(void **state)
{
    static const struct {
        enum shim_fallback_seccomp mode;
        bool probed;
        enum shim_probe_status st;
        unsigned flags_ok;
        bool active, workload;
        unsigned long flags;
    } rows[] = {
        /* auto: only when the supervisor's filter fails and a plain one loads */
        {SHIM_FALLBACK_AUTO, true, SHIM_PROBE_SUPPORTED, PLAIN | TSYNC | LOG, false, false, 0},
        {SHIM_FALLBACK_AUTO, true, SHIM_PROBE_UNSUPPORTED, PLAIN, true, false, 0},
        {SHIM_FALLBACK_AUTO, true, SHIM_PROBE_UNSUPPORTED, PLAIN | LOG, true, false,
         SECCOMP_FILTER_FLAG_LOG},
        {SHIM_FALLBACK_AUTO, true, SHIM_PROBE_UNSUPPORTED, 0, false, false, 0},
        {SHIM_FALLBACK_AUTO, true, SHIM_PROBE_ERROR, PLAIN, false, false, 0},
        {SHIM_FALLBACK_AUTO, false, SHIM_PROBE_NOT_RUN, 0, false, false, 0},
        /* prelude/workload: whatever the probe says, only accepted flags */
        {SHIM_FALLBACK_PRELUDE, true, SHIM_PROBE_SUPPORTED, PLAIN | TSYNC | LOG, true, false,
         SECCOMP_FILTER_FLAG_LOG},
        {SHIM_FALLBACK_PRELUDE, true, SHIM_PROBE_UNSUPPORTED, PLAIN, true, false, 0},
        {SHIM_FALLBACK_PRELUDE, false, SHIM_PROBE_NOT_RUN, 0, true, false, 0},
        {SHIM_FALLBACK_WORKLOAD, true, SHIM_PROBE_SUPPORTED, PLAIN | LOG, true, true,
         SECCOMP_FILTER_FLAG_LOG},
        {SHIM_FALLBACK_WORKLOAD, true, SHIM_PROBE_UNSUPPORTED, PLAIN, true, true, 0},
        /* off: never */
        {SHIM_FALLBACK_OFF, true, SHIM_PROBE_UNSUPPORTED, PLAIN | LOG, false, false, 0},
        {SHIM_FALLBACK_OFF, true, SHIM_PROBE_SUPPORTED, PLAIN, false, false, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct shim_probe_result p = probe(rows[i].st, rows[i].flags_ok);
        struct shim_fallback_plan plan;
        shim_fallback_plan(rows[i].mode, rows[i].probed, &p, &plan);
        assert_int_equal(plan.active, rows[i].active);
        assert_int_equal(plan.workload, rows[i].workload);
        assert_int_equal(plan.flags, rows[i].flags);
        assert_non_null(plan.reason);
        assert_int_equal(plan.mode, rows[i].mode);
    }
}

static void test_lists(void **state)
{
    /* The prelude list is exactly the supervisor's (docs/platform/supervisor.md,
     * "Seccomp prelude"). */
    static const char *const want[] = {
        "mount",           "fsopen",         "fsconfig",    "fsmount",      "fspick",
        "move_mount",      "open_tree",      "pivot_root",  "umount2",      "bpf",
        "perf_event_open", "userfaultfd",    "init_module", "finit_module", "delete_module",
        "kexec_load",      "kexec_file_load"};
    assert_int_equal(shim_prelude_rules_len, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < shim_prelude_rules_len; i++) {
        assert_string_equal(shim_prelude_rules[i].name, want[i]);
        assert_int_equal(shim_prelude_rules[i].err, EPERM);
        assert_int_equal(shim_prelude_rules[i].arg, -1);
    }
}

static void test_compile(void **state)
{
    struct shim_seccomp_bpf p = {0}, w = {0};
    oss_error e = {0};
    assert_int_equal(shim_seccomp_compile(false, &p, &e), 0);
    assert_int_equal(p.rules, shim_prelude_rules_len);
    assert_true(p.len > p.rules);
    assert_int_equal(shim_seccomp_compile(true, &w, &e), 0);
    assert_int_equal(w.rules, shim_prelude_rules_len + shim_workload_rules_len);
    assert_true(w.len > p.len);

    /* What the shim carries is exactly what libseccomp compiles now: the
     * build regenerated it after every change to the lists. */
    const struct shim_fallback_prog *cp = shim_fallback_program(false);
    const struct shim_fallback_prog *cw = shim_fallback_program(true);
    assert_int_equal(cp->len, p.len);
    assert_int_equal(cp->rules, p.rules);
    assert_memory_equal(cp->insns, p.insns, p.len * sizeof *p.insns);
    assert_int_equal(cw->len, w.len);
    assert_int_equal(cw->rules, w.rules);
    assert_memory_equal(cw->insns, w.insns, w.len * sizeof *w.insns);
    /* Control: the two programs differ, so the comparison can tell. */
    assert_true(cp->len != cw->len ||
                memcmp(cp->insns, cw->insns, cp->len * sizeof *cp->insns) != 0);

    shim_seccomp_bpf_free(&p);
    shim_seccomp_bpf_free(&w);
    assert_null(p.insns);
}

/* Forks, optionally installs, then reports the errno of each call. */
struct outcome {
    int umount2, ptrace, unshare_user, unshare_other, execveat_empty, getpid_ok;
};

static struct outcome run(const struct shim_fallback_prog *p)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct outcome o = {0};
        if (p && shim_fallback_install(p, 0) < 0)
            _exit(9);
        o.umount2 = syscall(SYS_umount2, "/nonexistent-osp", 0) < 0 ? errno : 0;
        o.ptrace = syscall(SYS_ptrace, PTRACE_PEEKDATA, 0x7ffffffe, 0, 0) < 0 ? errno : 0;
        /* bogus bit 0x1 makes the kernel answer EINVAL, the filter EPERM */
        o.unshare_user = syscall(SYS_unshare, CLONE_NEWUSER | 0x1) < 0 ? errno : 0;
        o.unshare_other = syscall(SYS_unshare, CLONE_NEWUTS | 0x1) < 0 ? errno : 0;
        o.execveat_empty = syscall(SYS_execveat, -1, "", NULL, NULL, AT_EMPTY_PATH) < 0 ? errno : 0;
        o.getpid_ok = syscall(SYS_getpid) > 0;
        (void)!write(fds[1], &o, sizeof o);
        _exit(0);
    }
    close(fds[1]);
    struct outcome o;
    assert_int_equal(read(fds[0], &o, sizeof o), sizeof o);
    close(fds[0]);
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    return o;
}

static void test_install(void **state)
{
    const struct shim_fallback_prog p = *shim_fallback_program(false);
    const struct shim_fallback_prog w = *shim_fallback_program(true);

    struct outcome none = run(NULL); /* control: the kernel's own answers */
    assert_int_equal(none.umount2, ENOENT);
    assert_int_equal(none.ptrace, ESRCH);
    assert_int_equal(none.unshare_user, EINVAL);
    assert_int_equal(none.execveat_empty, EBADF);

    struct outcome pre = run(&p);
    assert_int_equal(pre.umount2, EPERM); /* prelude list */
    assert_int_equal(pre.ptrace, ESRCH);  /* not in the prelude list */
    assert_int_equal(pre.unshare_user, EINVAL);
    assert_true(pre.getpid_ok);

    struct outcome wl = run(&w);
    assert_int_equal(wl.umount2, EPERM);
    assert_int_equal(wl.ptrace, EPERM);
    assert_int_equal(wl.unshare_user, EPERM);   /* CLONE_NEWUSER bit */
    assert_int_equal(wl.unshare_other, EINVAL); /* other flags pass to the kernel */
    assert_int_equal(wl.execveat_empty, EPERM);
    assert_true(wl.getpid_ok);

    struct shim_fallback_prog empty = {0};
    assert_int_equal(shim_fallback_install(&empty, 0), -EINVAL);
}

/* A fake runtime: the features it has, and the questions it was asked. */
struct fake_seccomp {
    unsigned has, asked;
};

static bool fake_has(enum shim_seccomp_feature f, void *ctx)
{
    struct fake_seccomp *k = ctx;
    k->asked |= 1u << f;
    return (k->has & (1u << f)) != 0;
}

static int level_of(unsigned has, unsigned *asked)
{
    struct fake_seccomp k = {.has = has};
    int l = shim_seccomp_api_level(fake_has, &k);
    if (asked)
        *asked = k.asked;
    return l;
}

static void test_api_level(void **state)
{
    /* libseccomp's rule, level by level; each level needs all below it. */
    unsigned all = (1u << SHIM_SECFEAT_COUNT) - 1, asked;
#define BIT(x) (1u << SHIM_SECFEAT_##x)
    assert_int_equal(level_of(0, &asked), 1);
    assert_int_equal(asked, BIT(SYSCALL)); /* nothing more is asked */
    assert_int_equal(level_of(all & ~BIT(SYSCALL), NULL), 1);
    assert_int_equal(level_of(BIT(SYSCALL) | BIT(FLAG_TSYNC), NULL), 2);
    /* gVisor's shape: TSYNC only; LOG is the last question asked. */
    assert_int_equal(level_of(all & ~BIT(FLAG_LOG) & ~BIT(ACT_LOG), &asked), 2);
    assert_int_equal(asked, BIT(SYSCALL) | BIT(FLAG_TSYNC) | BIT(FLAG_LOG));
    assert_int_equal(level_of(all & ~BIT(ACT_LOG), NULL), 2);
    assert_int_equal(level_of(all & ~BIT(FLAG_SPEC_ALLOW), NULL), 3);
    assert_int_equal(level_of(all & ~BIT(ACT_NOTIFY), NULL), 4);
    assert_int_equal(level_of(all & ~BIT(FLAG_TSYNC_ESRCH), NULL), 5);
    assert_int_equal(level_of(all, &asked), 6);
    assert_int_equal(asked, all);
    assert_int_equal(level_of(all & ~BIT(FLAG_TSYNC), NULL), 1);
#undef BIT

    /* The probe's answer is libseccomp's on this machine. */
    struct shim_probe_result r;
    oss_error e = {0};
    struct shim_probe_light_session ls;
    assert_int_equal(shim_probe_light_begin(&ls, &e), 0);
    assert_int_equal(shim_probe_seccomp(&ls, 2000, &r, &e), 0);
    shim_probe_light_end(&ls);
    assert_int_not_equal(r.status, SHIM_PROBE_ERROR);
    assert_int_equal(r.u.seccomp.api_level, (int)seccomp_api_get());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_table), cmocka_unit_test(test_lists),
        cmocka_unit_test(test_compile),    cmocka_unit_test(test_install),
        cmocka_unit_test(test_api_level),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
