/* driver/drv_json.c: exactly one JSON object, bounded depth, the same words
 * for the same faults, whoever reads (config, spec, Kubernetes answers,
 * records). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "drv_json.h"

#include <stdlib.h>
#include <string.h>

static int parse(const char *text, size_t len, oss_error *err)
{
    json_object *o = (json_object *)1; /* must come back NULL on a refusal */
    int r = drv_json_parse_object(text, len, "doc", &o, err);
    if (r == 0) {
        assert_non_null(o);
        assert_true(json_object_is_type(o, json_type_object));
        json_object_put(o);
    } else {
        assert_null(o);
    }
    return r;
}

static void expect_refused(const char *text, size_t len, const char *words)
{
    oss_error err = {0};
    assert_int_equal(parse(text, len, &err), -1);
    assert_int_equal(err.domain, OSS_ERR_INVALID);
    if (strstr(err.msg, words) == NULL || strncmp(err.msg, "doc: ", 5) != 0)
        fail_msg("\"%.*s\": got \"%s\", want \"doc: ...%s...\"", (int)len, text, err.msg, words);
}

static void test_accepts_one_object(void **state)
{
    (void)state;
    oss_error err = {0};
    assert_int_equal(parse("{}", 2, &err), 0);
    assert_int_equal(parse(" {\"a\":[1,{\"b\":null}]} \n\t\r ", 24, &err), 0);
    /* len, not the terminator, bounds the text */
    assert_int_equal(parse("{\"a\":1}garbage", 7, &err), 0);
}

static void test_refuses_what_is_not_one_object(void **state)
{
    (void)state;
    expect_refused("", 0, "not valid JSON (unexpected end)");
    expect_refused("{\"a\":", 5, "not valid JSON (unexpected end)");
    expect_refused("{a}", 3, "not valid JSON");
    expect_refused("{} {}", 5, "trailing data");
    expect_refused("{}x", 3, "trailing data");
    /* one document cut at an embedded NUL never reads as its first part */
    expect_refused("{}\0{\"evil\":1}", 13, "trailing data");
    expect_refused("{}\0", 3, "trailing data");
    expect_refused("[1,2]", 5, "must be a JSON object");
    expect_refused("null", 4, "must be a JSON object");
    expect_refused("\"s\"", 3, "must be a JSON object");
    expect_refused(" 12", 3, "must be a JSON object");
}

/* Nesting: DRV_JSON_MAX_DEPTH levels pass, one more is refused (json-c
 * recurses per level; a hostile answer must not choose how deep). */
static char *nested(int depth, size_t *len)
{
    size_t n = 2 + (size_t)(depth - 1) * 6;
    char *s = malloc(n + 1), *p = s;
    assert_non_null(s);
    *p++ = '{';
    for (int i = 1; i < depth; i++) {
        memcpy(p, "\"a\":{", 5);
        p += 5;
    }
    for (int i = 1; i < depth; i++)
        *p++ = '}';
    *p++ = '}';
    *p = '\0';
    *len = (size_t)(p - s);
    return s;
}

static void test_depth(void **state)
{
    (void)state;
    size_t len;
    oss_error err = {0};
    char *ok = nested(DRV_JSON_MAX_DEPTH, &len);
    assert_int_equal(parse(ok, len, &err), 0);
    free(ok);
    char *deep = nested(DRV_JSON_MAX_DEPTH + 1, &len);
    expect_refused(deep, len, "not valid JSON");
    free(deep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts_one_object),
        cmocka_unit_test(test_refuses_what_is_not_one_object),
        cmocka_unit_test(test_depth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
