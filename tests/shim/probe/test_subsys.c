#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "config.h"
#include "error.h"
#include "probe/probe.h"

#include <string.h>

static unsigned ok(const char *s)
{
    unsigned m = 0xdead;
    oss_error e = {0};
    assert_int_equal(shim_subsys_list_parse(s, &m, &e), 0);
    return m;
}

static void bad(const char *s, const char *needle)
{
    unsigned m = 0xdead;
    oss_error e = {0};
    assert_true(shim_subsys_list_parse(s, &m, &e) < 0);
    assert_int_equal(m, 0xdead); /* out-param untouched on failure */
    assert_non_null(strstr(e.msg, needle));
    assert_non_null(strstr(e.msg, "valid: netns, seccomp, landlock, privdrop, all, none"));
}

static void test_names(void **state)
{
    assert_string_equal(shim_subsys_name(SHIM_SUB_NETNS), "netns");
    assert_string_equal(shim_subsys_name(SHIM_SUB_SECCOMP), "seccomp");
    assert_string_equal(shim_subsys_name(SHIM_SUB_LANDLOCK), "landlock");
    assert_string_equal(shim_subsys_name(SHIM_SUB_PRIVDROP), "privdrop");
    assert_string_equal(shim_subsys_name(SHIM_SUB_COUNT), "?");
}

static void test_parse_ok(void **state)
{
    assert_int_equal(ok("netns"), SHIM_SUB_BIT(SHIM_SUB_NETNS));
    assert_int_equal(ok("netns,seccomp,landlock,privdrop"), SHIM_SUB_ALL);
    assert_int_equal(ok("all"), SHIM_SUB_ALL);
    assert_int_equal(ok("none"), 0);
    assert_int_equal(ok(" landlock , netns "),
                     SHIM_SUB_BIT(SHIM_SUB_LANDLOCK) | SHIM_SUB_BIT(SHIM_SUB_NETNS));
    assert_int_equal(ok("\tseccomp\n"), SHIM_SUB_BIT(SHIM_SUB_SECCOMP));
    assert_int_equal(ok("netns,netns"), SHIM_SUB_BIT(SHIM_SUB_NETNS)); /* duplicates fine */
    assert_int_equal(ok("none,privdrop"), SHIM_SUB_BIT(SHIM_SUB_PRIVDROP));
    assert_int_equal(ok("all,none"), SHIM_SUB_ALL);
}

static void test_parse_bad(void **state)
{
    bad("netns,bogus", "\"bogus\"");
    bad("NETNS", "\"NETNS\""); /* names are exact */
    bad("net ns", "\"net ns\"");
    bad("", "empty subsystem list");
    bad("   ", "empty subsystem list");
    bad("netns,", "empty name");
    bad(",netns", "empty name");
    bad("netns,,seccomp", "empty name");
    bad("netns;seccomp", "\"netns;seccomp\"");
    unsigned m;
    oss_error e = {0};
    assert_true(shim_subsys_list_parse(NULL, &m, &e) < 0);
}

static void test_netns_probe_mode(void **state)
{
    /* auto: created inside on a Linux kernel, moved under gVisor. */
    assert_true(shim_netns_probe_creates(SHIM_NETNS_PROBE_AUTO, false));
    assert_false(shim_netns_probe_creates(SHIM_NETNS_PROBE_AUTO, true));
    /* explicit modes win over the runtime */
    assert_false(shim_netns_probe_creates(SHIM_NETNS_PROBE_MOVE, false));
    assert_false(shim_netns_probe_creates(SHIM_NETNS_PROBE_MOVE, true));
    assert_true(shim_netns_probe_creates(SHIM_NETNS_PROBE_CREATE, false));
    assert_true(shim_netns_probe_creates(SHIM_NETNS_PROBE_CREATE, true));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_parse_ok),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_netns_probe_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
