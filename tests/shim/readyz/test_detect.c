/* Pure restore decisions: freeze lateness, identity normalisation and
 * change, the restore record and its OCSF event (validated with json-c),
 * and the control line protocol. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "restore/control.h"
#include "restore/detect.h"
#include "restore/event.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

static void test_freeze(void **state)
{
    int64_t f = -7;
    assert_false(shim_freeze_detect(1000, 1000, 2000, &f));
    assert_false(shim_freeze_detect(1000, 2999, 2000, &f)); /* 1999 ms late */
    assert_int_equal(f, -7);                                /* untouched when no freeze */
    assert_true(shim_freeze_detect(1000, 3000, 2000, &f));  /* exactly the threshold */
    assert_int_equal(f, 2000);
    assert_true(shim_freeze_detect(1000, 1000 + 3600000, 2000, &f));
    assert_int_equal(f, 3600000);
    /* threshold 0 disables; a clock that went backwards is no freeze */
    assert_false(shim_freeze_detect(1000, 999999, 0, &f));
    assert_false(shim_freeze_detect(5000, 1000, 2000, &f));
    assert_false(shim_freeze_detect(0, 5000, -1, &f));
}

static void test_identity(void **state)
{
    struct shim_identity a, b;
    shim_identity_from_bytes("  ate-golden/0b6f-11\n", 21, true, &a);
    assert_true(a.valid);
    assert_string_equal(a.id, "ate-golden/0b6f-11");
    shim_identity_from_bytes("ate-golden/0b6f-11", 18, true, &b);
    assert_false(shim_identity_changed(&a, &b)); /* whitespace is not a change */

    shim_identity_from_bytes("actor-2\n", 8, true, &b);
    assert_true(shim_identity_changed(&a, &b));

    /* missing file vs. empty file: both "", but presence changed */
    struct shim_identity none, empty;
    shim_identity_from_bytes("", 0, false, &none);
    shim_identity_from_bytes("\n", 1, true, &empty);
    assert_true(none.valid && empty.valid);
    assert_string_equal(none.id, "");
    assert_true(shim_identity_changed(&none, &empty));

    /* invalid content is never kept raw, but changes are still seen */
    struct shim_identity i1, i2, i3;
    shim_identity_from_bytes("a\"b", 3, true, &i1);
    shim_identity_from_bytes("../../etc/x;rm", 14, true, &i2);
    shim_identity_from_bytes("a\"b", 3, true, &i3);
    assert_false(i1.valid);
    assert_string_equal(i1.id, "");
    assert_string_equal(shim_identity_display(&i1), "<invalid>");
    assert_false(i2.valid); /* ';' */
    assert_true(shim_identity_changed(&i1, &i2));
    assert_false(shim_identity_changed(&i1, &i3));
    assert_true(shim_identity_changed(&a, &i1));

    /* 253 bytes pass, 254 do not */
    char big[300];
    memset(big, 'a', sizeof big);
    shim_identity_from_bytes(big, 253, true, &i1);
    assert_true(i1.valid);
    assert_int_equal(strlen(i1.id), 253);
    shim_identity_from_bytes(big, 254, true, &i1);
    assert_false(i1.valid);
    /* embedded NUL and newline inside are invalid */
    shim_identity_from_bytes("ab\0cd", 5, true, &i1);
    assert_false(i1.valid);
    shim_identity_from_bytes("ab\ncd", 5, true, &i1);
    assert_false(i1.valid);
}

static struct json_object *get(struct json_object *o, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
        struct json_object *n = NULL;
        if (!json_object_object_get_ex(o, k, &n))
            fail_msg("missing key %s in %s", k, path);
        o = n;
    }
    return o;
}

static void test_event(void **state)
{
    struct shim_restore_event ev = {
        .generation = 3,
        .reason = SHIM_RESTORE_TIMER,
        .frozen_ms = 3012,
        .time_ms = 1767225600000,
        .duration_ms = 12,
        .net_delta = "{\"addrs_added\":[\"10.0.0.2/30\"]}",
        .net_changes = 1,
        .signal = 10,
        .hook_ran = true,
        .hook_exit = 0,
    };
    shim_identity_from_bytes("old-actor", 9, true, &ev.before);
    shim_identity_from_bytes("new\"actor", 9, true, &ev.after); /* invalid */

    oss_buf b = OSS_BUF_INIT;
    shim_restore_event_json(&ev, &b);
    struct json_object *o = json_tokener_parse(b.data);
    assert_non_null(o);
    assert_int_equal(json_object_get_int(get(o, "generation")), 3);
    assert_string_equal(json_object_get_string(get(o, "reason")), "timer");
    assert_int_equal(json_object_get_int(get(o, "frozen_ms")), 3012);
    assert_string_equal(json_object_get_string(get(o, "identity_before.id")), "old-actor");
    assert_true(json_object_is_type(get(o, "identity_after.id"), json_type_null));
    assert_false(json_object_get_boolean(get(o, "identity_after.valid")));
    assert_true(json_object_get_boolean(get(o, "identity_changed")));
    assert_string_equal(
        json_object_get_string(json_object_array_get_idx(get(o, "network.delta.addrs_added"), 0)),
        "10.0.0.2/30");
    assert_null(strstr(b.data, "new\\\"actor")); /* the invalid id never appears */
    json_object_put(o);

    oss_buf_reset(&b);
    shim_restore_event_ocsf(&ev, "0.1.0", &b);
    assert_null(strchr(b.data, '\n')); /* one line */
    o = json_tokener_parse(b.data);
    assert_non_null(o);
    assert_int_equal(json_object_get_int(get(o, "class_uid")), 6002);
    assert_int_equal(json_object_get_int(get(o, "category_uid")), 6);
    assert_int_equal(json_object_get_int(get(o, "type_uid")), 600299);
    assert_int_equal(json_object_get_int(get(o, "severity_id")), 1);
    assert_string_equal(json_object_get_string(get(o, "metadata.version")), "1.8.0");
    assert_int_equal(json_object_get_int(get(o, "unmapped.frozen_ms")), 3012);
    assert_string_equal(json_object_get_string(get(o, "unmapped.reason")), "timer");
    json_object_put(o);

    /* a hook that timed out makes it a failure, and frozen_ms unknown is null */
    ev.hook_timed_out = true;
    ev.hook_exit = 137;
    ev.frozen_ms = -1;
    ev.net_delta = NULL;
    ev.net_error = "network snapshot: not implemented";
    oss_buf_reset(&b);
    shim_restore_event_ocsf(&ev, NULL, &b);
    o = json_tokener_parse(b.data);
    assert_non_null(o);
    assert_int_equal(json_object_get_int(get(o, "severity_id")), 3);
    assert_string_equal(json_object_get_string(get(o, "status")), "Failure");
    assert_true(json_object_is_type(get(o, "unmapped.frozen_ms"), json_type_null));
    assert_true(json_object_is_type(get(o, "unmapped.network.delta"), json_type_null));
    json_object_put(o);
    oss_buf_free(&b);
}

static void test_control_parse(void **state)
{
    enum shim_control_cmd c = SHIM_CTL_STATUS;
    assert_int_equal(shim_control_parse("rest", 4, &c), 0);
    assert_int_equal(shim_control_parse("restore\n", 8, &c), 1);
    assert_int_equal(c, SHIM_CTL_RESTORE);
    assert_int_equal(shim_control_parse("status\r\n", 8, &c), 1);
    assert_int_equal(c, SHIM_CTL_STATUS);
    assert_int_equal(shim_control_parse("restorex\n", 9, &c), 1);
    assert_int_equal(c, SHIM_CTL_UNKNOWN);
    assert_int_equal(shim_control_parse("\n", 1, &c), 1);
    assert_int_equal(c, SHIM_CTL_UNKNOWN);
    assert_int_equal(shim_control_parse("res\0tore\n", 9, &c), -1);
    char longl[SHIM_CONTROL_LINE_MAX + 1];
    memset(longl, 'a', sizeof longl);
    assert_int_equal(shim_control_parse(longl, SHIM_CONTROL_LINE_MAX - 1, &c), 0);
    assert_int_equal(shim_control_parse(longl, SHIM_CONTROL_LINE_MAX, &c), -1);
    longl[SHIM_CONTROL_LINE_MAX] = '\n';
    assert_int_equal(shim_control_parse(longl, sizeof longl, &c), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_freeze),
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_event),
        cmocka_unit_test(test_control_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
