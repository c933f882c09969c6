/* The readyz request parser: a table of requests, each fed whole, byte by
 * byte, and split in two at every boundary; the verdict must not depend on
 * how the bytes arrived. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "readyz/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tcase {
    const char *name;
    const char *in;
    enum shim_http_result result;
    int status;
    const char *path;
    enum shim_http_method method;
};

#define H "Host: x\r\n"
static const struct tcase cases[] = {
    {"get readyz", "GET /readyz HTTP/1.1\r\n" H "\r\n", SHIM_HTTP_DONE, 0, "/readyz",
     SHIM_HTTP_GET},
    {"head healthz", "HEAD /healthz HTTP/1.1\r\n" H "\r\n", SHIM_HTTP_DONE, 0, "/healthz",
     SHIM_HTTP_HEAD},
    {"query stripped", "GET /status?x=1 HTTP/1.1\r\n" H "\r\n", SHIM_HTTP_DONE, 0, "/status",
     SHIM_HTTP_GET},
    {"http/1.0 no host", "GET /readyz HTTP/1.0\r\n\r\n", SHIM_HTTP_DONE, 0, "/readyz",
     SHIM_HTTP_GET},
    {"bare LF",
     "GET /readyz HTTP/1.1\n"
     "Host: x\n\n",
     SHIM_HTTP_DONE, 0, "/readyz", SHIM_HTTP_GET},
    {"go prober",
     "GET /readyz HTTP/1.1\r\nHost: 169.254.17.2:8080\r\nUser-Agent: Go-http-client/1.1\r\n"
     "Accept-Encoding: gzip\r\n\r\n",
     SHIM_HTTP_DONE, 0, "/readyz", SHIM_HTTP_GET},
    {"content-length 0", "GET /readyz HTTP/1.1\r\n" H "Content-Length: 0\r\n\r\n", SHIM_HTTP_DONE,
     0, "/readyz", SHIM_HTTP_GET},
    {"ows around value", "GET / HTTP/1.1\r\nHost:   x  \t\r\n\r\n", SHIM_HTTP_DONE, 0, "/",
     SHIM_HTTP_GET},
    {"unknown path parses", "GET /nope HTTP/1.1\r\n" H "\r\n", SHIM_HTTP_DONE, 0, "/nope",
     SHIM_HTTP_GET},
    {"incomplete", "GET /readyz HTTP/1.1\r\n" H, SHIM_HTTP_MORE, 0, NULL, 0},

    {"post", "POST /readyz HTTP/1.1\r\n" H "\r\n", SHIM_HTTP_ERROR, 405, NULL, 0},
    {"lowercase get", "get /readyz HTTP/1.1\r\n" H "\r\n", SHIM_HTTP_ERROR, 405, NULL, 0},
    {"post with body", "POST /readyz HTTP/1.1\r\n" H "Content-Length: 5\r\n\r\nhello",
     SHIM_HTTP_ERROR, 413, NULL, 0},
    {"get with body", "GET /readyz HTTP/1.1\r\n" H "Content-Length: 10\r\n\r\n", SHIM_HTTP_ERROR,
     413, NULL, 0},
    {"chunked", "GET /readyz HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n", SHIM_HTTP_ERROR,
     413, NULL, 0},
    {"bad content-length", "GET / HTTP/1.1\r\n" H "Content-Length: -1\r\n\r\n", SHIM_HTTP_ERROR,
     400, NULL, 0},
    {"missing host", "GET /readyz HTTP/1.1\r\n\r\n", SHIM_HTTP_ERROR, 400, NULL, 0},
    {"two hosts", "GET /readyz HTTP/1.1\r\n" H H "\r\n", SHIM_HTTP_ERROR, 400, NULL, 0},
    {"no version", "GET /readyz\r\n" H "\r\n", SHIM_HTTP_ERROR, 400, NULL, 0},
    {"http/2", "GET /readyz HTTP/2.0\r\n" H "\r\n", SHIM_HTTP_ERROR, 400, NULL, 0},
    {"absolute form", "GET http://x/readyz HTTP/1.1\r\n" H "\r\n", SHIM_HTTP_ERROR, 400, NULL, 0},
    {"double space", "GET  /readyz HTTP/1.1\r\n" H "\r\n", SHIM_HTTP_ERROR, 400, NULL, 0},
    {"empty request line", "\r\nGET /readyz HTTP/1.1\r\n" H "\r\n", SHIM_HTTP_ERROR, 400, NULL, 0},
    {"space before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", SHIM_HTTP_ERROR, 400, NULL, 0},
    {"obs-fold", "GET / HTTP/1.1\r\n" H " folded\r\n\r\n", SHIM_HTTP_ERROR, 400, NULL, 0},
    {"bare CR", "GET / HTTP/1.1\r" H "\r\n", SHIM_HTTP_ERROR, 400, NULL, 0},
    {"ctl in value",
     "GET / HTTP/1.1\r\n" H "X: a\x01"
     "b\r\n\r\n",
     SHIM_HTTP_ERROR, 400, NULL, 0},
    {"tls hello", "\x16\x03\x01\x02\x01\x01\xfc\x03\x03", SHIM_HTTP_ERROR, 400, NULL, 0},
    {"binary in target", "GET /\x80 HTTP/1.1\r\n" H "\r\n", SHIM_HTTP_ERROR, 400, NULL, 0},
};

static void check(const struct tcase *tc, const struct shim_http_req *r, size_t consumed,
                  const char *how)
{
    if (r->result != tc->result || (tc->status && r->status != tc->status)) {
        fail_msg("%s (%s): result %d status %d (%s), want %d/%d", tc->name, how, r->result,
                 r->status, r->reason ? r->reason : "", tc->result, tc->status);
    }
    if (tc->result == SHIM_HTTP_DONE) {
        assert_string_equal(r->path, tc->path);
        assert_int_equal(r->method, tc->method);
        /* the head ends at the blank line: nothing after it is consumed */
        const char *end = strstr(tc->in, "\r\n\r\n");
        size_t head = end ? (size_t)(end - tc->in) + 4 : strlen(tc->in);
        if (strstr(tc->in, "\n\n") && (!end || strstr(tc->in, "\n\n") < end))
            head = (size_t)(strstr(tc->in, "\n\n") - tc->in) + 2;
        assert_int_equal(consumed, head);
    }
}

static size_t feed_split(struct shim_http_req *r, const char *in, size_t n, size_t at)
{
    shim_http_init(r);
    size_t c = shim_http_feed(r, in, at);
    if (r->result == SHIM_HTTP_MORE)
        c += shim_http_feed(r, in + at, n - at);
    return c;
}

static void test_table(void **state)
{
    struct shim_http_req *r = malloc(sizeof *r);
    assert_non_null(r);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct tcase *tc = &cases[i];
        size_t n = strlen(tc->in);
        for (size_t at = 0; at <= n; at++) {
            char how[32];
            snprintf(how, sizeof how, "split at %zu", at);
            size_t c = feed_split(r, tc->in, n, at);
            check(tc, r, c, how);
        }
        shim_http_init(r);
        size_t c = 0;
        for (size_t k = 0; k < n && r->result == SHIM_HTTP_MORE; k++)
            c += shim_http_feed(r, tc->in + k, 1);
        check(tc, r, c, "byte by byte");
    }
    free(r);
}

/* The limits: 8 KiB of head and 32 header fields. */
static void test_limits(void **state)
{
    struct shim_http_req *r = malloc(sizeof *r);
    char *big = malloc(SHIM_HTTP_HEAD_MAX + 64);
    assert_non_null(r);
    assert_non_null(big);

    /* exactly at the limit passes, one byte more is 431 */
    const char *pre = "GET /readyz HTTP/1.1\r\nHost: x\r\nX: ";
    size_t lp = strlen(pre);
    for (int extra = 0; extra <= 1; extra++) {
        size_t fill = SHIM_HTTP_HEAD_MAX - lp - 4 + (size_t)extra;
        memcpy(big, pre, lp);
        memset(big + lp, 'a', fill);
        memcpy(big + lp + fill, "\r\n\r\n", 4);
        shim_http_init(r);
        shim_http_feed(r, big, lp + fill + 4);
        if (extra == 0) {
            assert_int_equal(r->result, SHIM_HTTP_DONE);
        } else {
            assert_int_equal(r->result, SHIM_HTTP_ERROR);
            assert_int_equal(r->status, 431);
        }
    }

    /* an endless line is rejected as soon as it passes the limit */
    shim_http_init(r);
    memset(big, 'A', SHIM_HTTP_HEAD_MAX + 64);
    memcpy(big, "GET /", 5);
    size_t c = shim_http_feed(r, big, SHIM_HTTP_HEAD_MAX + 64);
    assert_int_equal(r->status, 431);
    assert_int_equal(c, SHIM_HTTP_HEAD_MAX + 1);

    /* 32 header fields pass, 33 are 431 */
    for (int nh = 32; nh <= 33; nh++) {
        char *p = big;
        p += sprintf(p, "GET /readyz HTTP/1.1\r\nHost: x\r\n");
        for (int k = 1; k < nh; k++)
            p += sprintf(p, "X-%d: v\r\n", k);
        p += sprintf(p, "\r\n");
        shim_http_init(r);
        shim_http_feed(r, big, (size_t)(p - big));
        if (nh == 32) {
            assert_int_equal(r->result, SHIM_HTTP_DONE);
        } else {
            assert_int_equal(r->result, SHIM_HTTP_ERROR);
            assert_int_equal(r->status, 431);
        }
    }

    /* a long path parses but maps to no route */
    shim_http_init(r);
    char *q = big;
    q += sprintf(q, "GET /");
    memset(q, 'p', 200);
    q += 200;
    q += sprintf(q, " HTTP/1.1\r\nHost: x\r\n\r\n");
    shim_http_feed(r, big, (size_t)(q - big));
    assert_int_equal(r->result, SHIM_HTTP_DONE);
    assert_true(r->path_too_long);
    assert_int_equal(shim_http_route_of(r->path), SHIM_ROUTE_UNKNOWN);
    free(big);
    free(r);
}

static void test_routes(void **state)
{
    assert_int_equal(shim_http_route_of("/readyz"), SHIM_ROUTE_READYZ);
    assert_int_equal(shim_http_route_of("/healthz"), SHIM_ROUTE_HEALTHZ);
    assert_int_equal(shim_http_route_of("/status"), SHIM_ROUTE_STATUS);
    assert_int_equal(shim_http_route_of("/readyz/"), SHIM_ROUTE_UNKNOWN);
    assert_int_equal(shim_http_route_of("/"), SHIM_ROUTE_UNKNOWN);
    assert_string_equal(shim_http_status_text(431), "Request Header Fields Too Large");
}

/* After a verdict nothing more is consumed (pipelined bytes are ignored). */
static void test_after_done(void **state)
{
    struct shim_http_req r;
    const char *in = "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\nGET /x HTTP/1.1\r\n";
    shim_http_init(&r);
    size_t c = shim_http_feed(&r, in, strlen(in));
    assert_int_equal(r.result, SHIM_HTTP_DONE);
    assert_int_equal(c, strlen("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n"));
    assert_int_equal(shim_http_feed(&r, "more", 4), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_after_done),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
