/* /proc/self/status and /proc/version parsing (pure). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "probe/probe.h"

#include <string.h>

static void parse(const char *t, struct shim_proc_status *s)
{
    shim_proc_status_parse(t, strlen(t), s);
}

static void test_host_sample(void **state)
{
    const char *t = "Name:\tcat\nUmask:\t0022\nState:\tR (running)\nUid:\t0\t1000\t0\t0\n"
                    "CapInh:\t0000000000000000\nCapPrm:\t000001fffeffffff\n"
                    "CapEff:\t000001fffeffffff\nCapBnd:\t000001ffffffffff\n"
                    "CapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\n"
                    "Seccomp_filters:\t3\nSpeculation_Store_Bypass:\tthread vulnerable\n";
    struct shim_proc_status s;
    parse(t, &s);
    assert_int_equal(s.no_new_privs, 1);
    assert_int_equal(s.seccomp, 2);
    assert_int_equal(s.seccomp_filters, 3);
    assert_true(s.have_cap_eff && s.have_cap_bnd && s.have_cap_prm);
    assert_true(s.cap_eff == 0x000001fffeffffffULL);
    assert_true(s.cap_bnd == 0x000001ffffffffffULL);
    assert_int_equal(s.uid_real, 0);
    assert_int_equal(s.uid_eff, 1000);
}

static void test_gvisor_sample(void **state)
{
    /* Substrate's shape: three caps, no seccomp line order guarantees,
     * no Seccomp_filters line (older kernels and gVisor). */
    const char *t = "Seccomp:\t0\nNoNewPrivs:\t0\nCapEff:\t0000000020000420\n"
                    "CapBnd:\t0000000020000420";
    struct shim_proc_status s;
    parse(t, &s);
    assert_int_equal(s.no_new_privs, 0);
    assert_int_equal(s.seccomp, 0);
    assert_int_equal(s.seccomp_filters, -1);
    assert_true(s.cap_eff == 0x20000420ULL); /* KILL, NET_BIND_SERVICE, AUDIT_WRITE */
    assert_true(s.cap_bnd == 0x20000420ULL);
    assert_false(s.have_cap_prm);
    assert_int_equal(s.uid_real, -1);
}

static void test_garbage(void **state)
{
    struct shim_proc_status s;
    parse("", &s);
    assert_int_equal(s.no_new_privs, -1);
    assert_int_equal(s.seccomp, -1);
    parse("NoNewPrivs:\tx\nSeccomp:\n:\n\n\nSeccompX:\t2\nCapEff:\tzz\n"
          "CapBnd:\t12345678901234567\nNoNewPrivs 1\n",
          &s);
    assert_int_equal(s.no_new_privs, -1);
    assert_int_equal(s.seccomp, -1);
    assert_false(s.have_cap_eff);
    assert_false(s.have_cap_bnd); /* 17 hex digits overflow 64 bits */
    parse("Seccomp:\t99999999999999999999999\n", &s);
    assert_int_equal(s.seccomp, -1);
    parse("Seccomp:\t99999999999\n", &s); /* found by the fuzzer: must not wrap negative */
    assert_int_equal(s.seccomp, -1);
    parse("Seccomp:\t2147483647\n", &s);
    assert_int_equal(s.seccomp, 2147483647);
    /* not NUL-terminated: the length is respected */
    char buf[12];
    memcpy(buf, "Seccomp:\t2\nX", 12);
    shim_proc_status_parse(buf, 10, &s);
    assert_int_equal(s.seccomp, 2);
    shim_proc_status_parse(buf, 9, &s);
    assert_int_equal(s.seccomp, -1);
}

static void test_gvisor_version(void **state)
{
    assert_true(
        shim_is_gvisor_version("Linux version 4.4.0 #1 SMP Sun Jan 10 15:06:54 PST 2016\n"));
    assert_false(shim_is_gvisor_version(
        "Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org) (gcc-12) #1 SMP "
        "PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)\n"));
    assert_false(shim_is_gvisor_version("Linux version 4.4.0 #1 SMP Mon Jan 11 2016"));
    assert_false(shim_is_gvisor_version(NULL));
}

static void test_live(void **state)
{
    /* The real file parses, and agrees with what this process knows. */
    struct shim_runtime_facts f;
    shim_runtime_facts_collect(&f);
    assert_true(f.no_new_privs == 0 || f.no_new_privs == 1);
    assert_true(f.seccomp_mode >= 0 && f.seccomp_mode <= 2);
    assert_true(f.caps_known);
    assert_true(f.nofile_soft > 0);
    assert_true(f.kernel[0] != '\0');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_sample), cmocka_unit_test(test_gvisor_sample),
        cmocka_unit_test(test_garbage),     cmocka_unit_test(test_gvisor_version),
        cmocka_unit_test(test_live),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
