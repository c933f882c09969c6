/* driver/runsc/tcpconn.c: which endpoints in a sandbox's /proc/net/tcp{,6}
 * block a checkpoint, and the reason read from runsc's whole output.  The
 * listings are what gVisor printed here (runsc 0.0~20221219.0). */
#include "internal.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define HDR4 "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n"
#define HDR6                                                                                       \
    "  sl  local_address                         remote_address                        st\n"
#define TAIL " 00000000:00000000 00:00000000 00000000     0        0        6 2\n"

static void test_listening_and_loopback_do_not_block(void **state)
{
    (void)state;
    const char *t = HDR4
        "   5: 0100007F:0C38 00000000:0000 0A" TAIL "   8: 00000000:2382 00000000:0000 0A" TAIL
        /* loopback connections: saved by the loopback NIC */
        "   9: 0100007F:2382 0100007F:C000 01" TAIL "  10: 0100007F:C000 0100007F:2382 06" TAIL HDR6
        "   0: 00000000000000000000000001000000:1F90 "
        "00000000000000000000000001000000:A000 01" TAIL;
    struct drv_runsc_tcp_verdict v;
    assert_int_equal(drv_runsc_tcp_verdict(t, strlen(t), &v), 0);
    assert_int_equal(v.blocking, 0);
}

static void test_established_blocks_and_is_named(void **state)
{
    (void)state;
    /* measured: oss-counter on 10.246.7.14:9090, a client from .13 */
    const char *t = HDR4 "   8: 00000000:2382 00000000:0000 0A" TAIL
                         "  18: 0E07F60A:2382 0D07F60A:EAA4 01" TAIL;
    struct drv_runsc_tcp_verdict v;
    assert_int_equal(drv_runsc_tcp_verdict(t, strlen(t), &v), 0);
    assert_int_equal(v.blocking, 1);
    assert_int_equal(v.closing, 0);
    assert_string_equal(v.first, "local 10.246.7.14:9090, remote 10.246.7.13:60068 (established)");
}

static void test_closing_states_end_by_themselves(void **state)
{
    (void)state;
    const char *t = HDR4 "  18: 0E07F60A:2382 0D07F60A:EAA4 06" TAIL
                         "  19: 0E07F60A:1F90 0D07F60A:EAA5 05" TAIL HDR6
                         "   1: 0000000000000000FFFF00000E07F60A:1F90 "
                         "0000000000000000FFFF00000D07F60A:A001 09" TAIL;
    struct drv_runsc_tcp_verdict v;
    assert_int_equal(drv_runsc_tcp_verdict(t, strlen(t), &v), 0);
    assert_int_equal(v.blocking, 3);
    assert_int_equal(v.closing, 3);
    assert_non_null(strstr(v.first, "(time-wait)"));
    /* CLOSE_WAIT waits for the workload's close(): not transient */
    const char *cw = HDR4 "  18: 0E07F60A:2382 0D07F60A:EAA4 08" TAIL;
    assert_int_equal(drv_runsc_tcp_verdict(cw, strlen(cw), &v), 0);
    assert_int_equal(v.blocking, 1);
    assert_int_equal(v.closing, 0);
}

static void test_not_a_listing(void **state)
{
    (void)state;
    struct drv_runsc_tcp_verdict v;
    const char *t = "exec: no such file or directory\n";
    assert_int_equal(drv_runsc_tcp_verdict(t, strlen(t), &v), -1);
    assert_int_equal(drv_runsc_tcp_verdict("", 0, &v), -1);
    /* garbage rows under a header are skipped, not guessed at */
    const char *g = HDR4 "  1: zz:zz 00:00 01\n  2: 0E07F60A:2382\n";
    assert_int_equal(drv_runsc_tcp_verdict(g, strlen(g), &v), 0);
    assert_int_equal(v.blocking, 0);
}

static void test_checkpoint_reason_from_the_whole_output(void **state)
{
    (void)state;
    /* the reason sits far before the end, which is a Go stack trace */
    char out[8192];
    int n = snprintf(out, sizeof out,
                     "checkpoint failed: checkpointing container \"c\": encoding error at object "
                     "tcp.endpoint{state:1}: save rejected due to unsupported networking state: "
                     "endpoint cannot be saved in connected state: local 10.246.7.10:9090, "
                     "remote 10.246.7.9:38536: \ngoroutine 102 [running]:\n");
    while (n < 7000)
        n += snprintf(out + n, sizeof out - (size_t)n, "\tgvisor.dev/gvisor/pkg/urpc.go:338\n");
    char why[300];
    assert_true(drv_runsc_checkpoint_reason(out, (size_t)n, why, sizeof why));
    assert_string_equal(why, "an open TCP connection blocks the checkpoint: local "
                             "10.246.7.10:9090, remote 10.246.7.9:38536");
    /* CONTROL: another failure gives runsc's first line, not a TCP reason */
    const char *o = "checkpoint failed: no space left on device\ngoroutine 1\n";
    assert_false(drv_runsc_checkpoint_reason(o, strlen(o), why, sizeof why));
    assert_string_equal(why, "checkpoint failed: no space left on device");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listening_and_loopback_do_not_block),
        cmocka_unit_test(test_established_blocks_and_is_named),
        cmocka_unit_test(test_closing_states_end_by_themselves),
        cmocka_unit_test(test_not_a_listing),
        cmocka_unit_test(test_checkpoint_reason_from_the_whole_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
