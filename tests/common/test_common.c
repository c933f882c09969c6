/* common/: the JSON writer's escaping, the error type, small parsers. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "error.h"
#include "fs.h"
#include "json.h"
#include "redact.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_json_structure(void **state)
{
    oss_buf b = OSS_BUF_INIT;
    oss_json j;
    oss_json_init(&j, &b);
    oss_json_obj_begin(&j);
    oss_json_kv_str(&j, "a", "x");
    oss_json_key(&j, "arr");
    oss_json_arr_begin(&j);
    oss_json_int(&j, -1);
    oss_json_bool(&j, true);
    oss_json_null(&j);
    oss_json_obj_begin(&j);
    oss_json_obj_end(&j);
    oss_json_arr_end(&j);
    oss_json_kv_str(&j, "n", NULL);
    oss_json_kv_double(&j, "d", 1.0 / 0.0);
    oss_json_obj_end(&j);
    assert_string_equal(b.data, "{\"a\":\"x\",\"arr\":[-1,true,null,{}],\"n\":null,\"d\":null}");
    oss_buf_free(&b);
}

static void test_json_escaping(void **state)
{
    oss_buf b = OSS_BUF_INIT;
    const char in[] = "q\"b\\n\n\t\x01\x7f"
                      "\xc3\xa9"     /* valid 2-byte */
                      "\xff"         /* invalid */
                      "\xe2\x82"     /* truncated 3-byte */
                      "\xed\xa0\x80" /* surrogate: invalid */
                      "\xc0\xaf";    /* overlong: invalid */
    oss_json_escape(&b, in, sizeof in - 1);
    assert_string_equal(b.data, "q\\\"b\\\\n\\n\\t\\u0001\\u007f\xc3\xa9\\ufffd\\ufffd\\ufffd"
                                "\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd");
    oss_buf_free(&b);
}

static void test_error_prefix_keeps_code(void **state)
{
    oss_error e = {0};
    errno = EPERM;
    assert_int_equal(oss_err_errno(&e, "unshare"), -1);
    oss_err_prefix(&e, "probing %s", "netns");
    assert_int_equal(e.domain, OSS_ERR_ERRNO);
    assert_int_equal(e.code, EPERM);
    assert_string_equal(e.msg, "probing netns: unshare: Operation not permitted");
    assert_string_equal(oss_errno_name(EOPNOTSUPP), "EOPNOTSUPP");
    assert_string_equal(oss_errno_name(9999), "E9999");
    /* overly long context truncates instead of overflowing */
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    oss_err_prefix(&e, "%s", big);
    assert_int_equal(strlen(e.msg), OSS_ERR_MSG_MAX - 1);
}

static void test_parsers(void **state)
{
    long v;
    assert_int_equal(oss_parse_long("42", 0, 100, &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(oss_parse_long("101", 0, 100, &v), -1);
    assert_int_equal(oss_parse_long(" 1", 0, 100, &v), -1);
    assert_int_equal(oss_parse_long("1x", 0, 100, &v), -1);
    assert_int_equal(oss_parse_long("", 0, 100, &v), -1);
    long long ms;
    assert_int_equal(oss_parse_duration_ms("250ms", 100000, &ms), 0);
    assert_int_equal(ms, 250);
    assert_int_equal(oss_parse_duration_ms("0.5", 100000, &ms), 0);
    assert_int_equal(ms, 500);
    assert_int_equal(oss_parse_duration_ms("2m", 1000000, &ms), 0);
    assert_int_equal(ms, 120000);
    assert_int_equal(oss_parse_duration_ms("-1", 100000, &ms), -1);
    assert_int_equal(oss_parse_duration_ms("1h", 100000, &ms), -1);
    assert_int_equal(oss_parse_duration_ms("1e9", 100000, &ms), -1);
    /* regression (fuzz_util_parse): 2^63 ms with an LLONG_MAX bound */
    ms = -7;
    assert_int_equal(oss_parse_duration_ms("9223372036854775807ms", LLONG_MAX, &ms), -1);
    assert_int_equal(ms, -7);
    assert_int_equal(oss_parse_duration_ms("9223372036854774784ms", LLONG_MAX, &ms), 0);
    assert_true(ms == 9223372036854774784LL);
    assert_true(oss_dns1123_label_valid("a"));
    assert_true(oss_dns1123_label_valid("sb-1-x"));
    assert_false(oss_dns1123_label_valid("-a"));
    assert_false(oss_dns1123_label_valid("a-"));
    assert_false(oss_dns1123_label_valid("A"));
    assert_false(oss_dns1123_label_valid("a_b"));
    assert_false(oss_dns1123_label_valid("a/../b"));
    assert_false(oss_dns1123_label_valid(""));
    char l64[65];
    memset(l64, 'a', 64);
    l64[64] = '\0';
    assert_false(oss_dns1123_label_valid(l64));
    l64[63] = '\0';
    assert_true(oss_dns1123_label_valid(l64));
}

static void test_atomic_write(void **state)
{
    char dir[] = "/tmp/oss-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/a/b/report.json", dir);
    oss_error e = {0};
    char parent[128];
    snprintf(parent, sizeof parent, "%s/a/b", dir);
    assert_int_equal(oss_mkdir_p(parent, 0755, &e), 0);
    assert_int_equal(oss_write_file_atomic(path, "{}", 2, 0644, &e), 0);
    assert_int_equal(oss_write_file_atomic(path, "{\"x\":1}", 7, 0644, &e), 0);
    oss_buf b = OSS_BUF_INIT;
    assert_int_equal(oss_read_file(path, 100, &b, &e), 0);
    assert_string_equal(b.data, "{\"x\":1}");
    oss_buf_reset(&b);
    assert_int_equal(oss_read_file(path, 3, &b, &e), -1); /* larger than max: an error */
    assert_int_equal(e.code, E2BIG);
    oss_buf_free(&b);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void check_redact(const char *in, const char *want)
{
    static const char *const secrets[] = {"ate-token-1", "abc"}; /* "abc": too short */
    char out[256];
    size_t n = oss_redact(in, out, sizeof out, secrets, 2);
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
}

/* A buffer that cannot grow marks itself failed, keeps what it had, and
 * drops later writes (no abort: PID 1 drops the event instead). */
static void test_buf_failure_is_sticky(void **state)
{
    oss_buf b = OSS_BUF_INIT;
    oss_buf_puts(&b, "kept");
    assert_false(oss_buf_failed(&b));
    assert_int_equal(oss_buf_reserve(&b, SIZE_MAX / 2), -1); /* cannot be had */
    assert_true(oss_buf_failed(&b));
    oss_buf_puts(&b, " dropped");
    oss_buf_printf(&b, "%d", 42);
    assert_string_equal(b.data, "kept");
    assert_int_equal(b.len, 4);
    oss_json j;
    oss_json_init(&j, &b);
    oss_json_obj_begin(&j);
    oss_json_kv_str(&j, "k", "v");
    oss_json_obj_end(&j);
    assert_string_equal(b.data, "kept"); /* a JSON document needs one check, at the end */
    oss_buf_reset(&b);
    assert_false(oss_buf_failed(&b));
    oss_buf_puts(&b, "again");
    assert_string_equal(b.data, "again");
    oss_buf_free(&b);
}

static void test_redact(void **state)
{
    /* gRPC core's trace shapes (GRPC_TRACE=http). */
    check_redact("HTTP:1:HDR:CLI: authorization: Bearer ate-token-1",
                 "HTTP:1:HDR:CLI: authorization: Bearer ***");
    check_redact("Encode: 'authorization: Bearer xyz', elem_interned=0",
                 "Encode: 'authorization: Bearer ***', elem_interned=0");
    check_redact("{\"Authorization\":\"Basic dG9rMQ==\"}", "{\"Authorization\":\"Basic ***\"}");
    /* conservative: whatever follows the key on its line goes */
    check_redact("key=AUTHORIZATION value=opaque-123", "key=AUTHORIZATION ***");
    check_redact("authorization=opaque-123\nnext", "authorization=***\nnext");
    /* a free-standing bearer credential, and a known secret anywhere */
    check_redact("sent bearer zz9 to x", "sent bearer *** to x");
    check_redact("the token ate-token-1 twice ate-token-1.", "the token *** twice ***.");
    check_redact("raw: 61 74 65 ate-token-1ate-token-1", "raw: 61 74 65 ******");
    /* a secret inside a kept word still goes (found by fuzz_redact) */
    static const char *const in_word[] = {"eare"};
    char w[64];
    oss_redact("bearer xyz", w, sizeof w, in_word, 1);
    assert_string_equal(w, "b***r ***");
    /* controls: what is not a credential stays */
    check_redact("nothing secret here, abc", "nothing secret here, abc");
    check_redact("unbearer x", "unbearer x");
    check_redact("", "");

    /* Truncation keeps the terminator; cap 0 writes nothing. */
    static const char *const none[] = {NULL};
    char small[8];
    assert_int_equal(oss_redact("0123456789", small, sizeof small, none, 1), 7);
    assert_string_equal(small, "0123456");
    char untouched = 'x';
    assert_int_equal(oss_redact("abc", &untouched, 0, none, 0), 0);
    assert_int_equal(untouched, 'x');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_structure),
        cmocka_unit_test(test_json_escaping),
        cmocka_unit_test(test_error_prefix_keeps_code),
        cmocka_unit_test(test_parsers),
        cmocka_unit_test(test_atomic_write),
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_buf_failure_is_sticky),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
