/* --ready-tcp HOST:PORT parsing: numeric only, strict ports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "readyz/condition.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static void test_good(void **state)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    oss_error err = {0};
    assert_int_equal(shim_hostport_parse("127.0.0.1:3128", &ss, &len, &err), 0);
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    assert_int_equal(a4->sin_family, AF_INET);
    assert_int_equal(ntohs(a4->sin_port), 3128);
    assert_int_equal(ntohl(a4->sin_addr.s_addr), 0x7f000001);
    assert_int_equal(len, sizeof(struct sockaddr_in));

    assert_int_equal(shim_hostport_parse("[::1]:65535", &ss, &len, &err), 0);
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    assert_int_equal(a6->sin6_family, AF_INET6);
    assert_int_equal(ntohs(a6->sin6_port), 65535);
    assert_true(IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr));
    assert_int_equal(len, sizeof(struct sockaddr_in6));

    assert_int_equal(shim_hostport_parse("10.200.0.1:1", &ss, &len, &err), 0);
    assert_int_equal(shim_hostport_parse("[fe80::1]:80", &ss, &len, &err), 0);
}

static void test_bad(void **state)
{
    static const char *const bad[] = {
        "",
        "127.0.0.1",
        "127.0.0.1:",
        "127.0.0.1:0",
        "127.0.0.1:65536",
        "127.0.0.1:-1",
        "127.0.0.1:+80",
        "127.0.0.1:80x",
        "127.0.0.1: 80",
        "localhost:3128",
        "::1:3128",
        "[::1]",
        "[::1]3128",
        "[::1:3128",
        "[127.0.0.1]:80",
        "1.2.3:80",
        "1.2.3.4.5:80",
        "01.2.3.4:80",
        "[fe80::1%eth0]:80",
        ":80",
        "127.0.0.1:000080",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:80",
    };
    struct sockaddr_storage ss;
    memset(&ss, 0x5a, sizeof ss);
    socklen_t len = 77;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        oss_error err = {0};
        if (shim_hostport_parse(bad[i], &ss, &len, &err) == 0)
            fail_msg("'%s' was accepted", bad[i]);
        assert_int_equal(err.domain, OSS_ERR_INVALID);
        assert_true(err.msg[0] != '\0');
        assert_int_equal(len, 77); /* out-params untouched on failure */
    }
    oss_error err = {0};
    assert_int_equal(shim_hostport_parse(NULL, &ss, &len, &err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
