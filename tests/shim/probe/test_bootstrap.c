/* The facade's contract as the lead's main() uses it, without root: no
 * probes -> nothing refused, only the report path in the environment; an
 * explicit fallback filter compiles and installs in a child; the report
 * path default; a report without a bootstrap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "bootstrap.h"
#include "policy/degrade.h"
#include "policy/envcontract.h"

#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void base_cfg(struct shim_config *c)
{
    memset(c, 0, sizeof *c);
    c->report_path = "/tmp/osp-test/bootstrap.json";
}

static void test_no_probes(void **state)
{
    struct shim_config cfg;
    base_cfg(&cfg);
    struct shim_bootstrap *b = NULL;
    oss_error e = {0};
    assert_int_equal(shim_bootstrap_prepare(&cfg, &b, &e), 0);
    for (int s = 0; s < SHIM_SUB_COUNT; s++)
        assert_int_equal(shim_bootstrap_verdict(b, s), SHIM_VERDICT_NOT_PROBED);
    assert_false(shim_bootstrap_refused(b, &e));
    assert_false(shim_bootstrap_fallback_active(b));
    assert_int_equal(shim_bootstrap_child_apply(b), 0); /* nothing planned */
    char *base[] = {"PATH=/usr/bin", NULL};
    char **env = shim_bootstrap_child_env(b, base);
    assert_non_null(env);
    assert_string_equal(shim_env_get(env, "OPENSHELL_SHIM_REPORT"), "/tmp/osp-test/bootstrap.json");
    assert_null(shim_env_get(env, "OPENSHELL_BEST_EFFORT_FAILURES"));
    assert_null(shim_env_get(env, "HTTP_PROXY"));
    shim_env_free(env);
    /* no degraded subsystem: no finding at all */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    shim_bootstrap_emit_findings(b, fds[1]);
    close(fds[1]);
    char c;
    assert_int_equal(read(fds[0], &c, 1), 0);
    close(fds[0]);
    shim_bootstrap_free(b);
}

static void test_explicit_fallback_applies(void **state)
{
    struct shim_config cfg;
    base_cfg(&cfg);
    cfg.fallback_seccomp = SHIM_FALLBACK_PRELUDE;
    struct shim_bootstrap *b = NULL;
    oss_error e = {0};
    assert_int_equal(shim_bootstrap_prepare(&cfg, &b, &e), 0);
    assert_true(shim_bootstrap_fallback_active(b));
    /* no lasting effect on this process */
    assert_int_equal(prctl(PR_GET_SECCOMP, 0, 0, 0, 0), 0);
    pid_t pid = fork();
    if (pid == 0) {
        if (shim_bootstrap_child_apply(b) < 0)
            _exit(2);
        long r = syscall(SYS_umount2, "/nonexistent-osp", 0);
        _exit(r < 0 && errno == EPERM ? 0 : 3);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    oss_buf j = OSS_BUF_INIT;
    shim_bootstrap_json(b, &j);
    assert_non_null(strstr(j.data, "\"active\":true,\"list\":\"prelude\""));
    oss_buf_free(&j);
    shim_bootstrap_free(b);
}

static void test_defaults(void **state)
{
    struct shim_config cfg;
    memset(&cfg, 0, sizeof cfg); /* no report path, no proxy url */
    struct shim_bootstrap *b = NULL;
    oss_error e = {0};
    assert_int_equal(shim_bootstrap_prepare(&cfg, &b, &e), 0);
    char **env = shim_bootstrap_child_env(b, NULL);
    assert_string_equal(shim_env_get(env, "OPENSHELL_SHIM_REPORT"),
                        "/run/openshell/bootstrap.json");
    shim_env_free(env);
    oss_buf j = OSS_BUF_INIT;
    shim_bootstrap_json(b, &j);
    assert_non_null(strstr(j.data, "\"run_as\":\"65534:65534\""));
    oss_buf_free(&j);
    shim_bootstrap_free(b);

    struct shim_report *r = NULL;
    cfg.report_path = "/tmp/x.json";
    assert_int_equal(shim_report_new(&cfg, NULL, &r, &e), 0);
    j = (oss_buf)OSS_BUF_INIT;
    shim_report_json(r, &j);
    assert_non_null(strstr(j.data, "\"bootstrap\":null"));
    oss_buf_free(&j);
    shim_report_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_probes),
        cmocka_unit_test(test_explicit_fallback_applies),
        cmocka_unit_test(test_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
