/* The shim's connection server (shim/net/connsrv.c), on a Unix listener
 * with a one-line protocol: the EMFILE pause (no busy loop while accept
 * fails), eviction of the oldest reader for a newcomer, the head deadline,
 * and the reply path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "loop.h"
#include "net/connsrv.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct line {
    size_t n;
};

static bool line_feed(void *ctx, void *state, const char *data, size_t n, oss_buf *out)
{
    if (memchr(data, '\n', n) == NULL)
        return false;
    oss_buf_puts(out, "pong\n");
    return true;
}

static const struct shim_connsrv_proto proto = {.state_size = sizeof(struct line),
                                                .feed = line_feed};

static struct sockaddr_un addr;

static int listener(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    /* abstract: nothing on disk to clean up */
    snprintf(addr.sun_path + 1, sizeof addr.sun_path - 1, "oss-connsrv-%d", (int)getpid());
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(listen(fd, 64), 0);
    return fd;
}

static int client(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    struct timeval tv = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static struct shim_connsrv_limits lim(unsigned max, unsigned batch)
{
    return (struct shim_connsrv_limits){.max_conns = max,
                                        .accept_batch = batch,
                                        .head_timeout_ms = 5000,
                                        .conn_timeout_ms = 5000,
                                        .sweep_ms = 50};
}

static struct shim_connsrv_stats stats(struct shim_connsrv *s)
{
    struct shim_connsrv_stats st;
    shim_connsrv_get_stats(s, &st);
    return st;
}

static void test_emfile_pauses_listener(void **state)
{
    struct shim_loop *l;
    struct shim_connsrv *s;
    oss_error err = {0};
    assert_int_equal(shim_loop_new(&l, &err), 0);
    struct shim_connsrv_limits lm = lim(8, 4);
    assert_int_equal(shim_connsrv_start(l, listener(), &lm, &proto, NULL, &s, &err), 0);
    int c1 = client(), c2 = client();

    struct rlimit old, low;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = 3; /* every free fd number is above: accept fails EMFILE */
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    assert_true(shim_loop_run_once(l, 0, &err) >= 1);
    assert_int_equal(stats(s).paused, 1);
    assert_false(stats(s).listening);
    assert_int_equal(stats(s).accepted, 0);
    /* paused: the readable listener is not polled, so no busy loop */
    for (int i = 0; i < 10; i++)
        assert_int_equal(shim_loop_run_once(l, 0, &err), 0);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    /* the sweep resumes it, and the waiting clients are served */
    for (int i = 0; i < 50 && stats(s).accepted < 2; i++)
        shim_loop_run_once(l, 100, &err);
    assert_true(stats(s).listening);
    assert_int_equal(stats(s).accepted, 2);
    assert_int_equal(write(c1, "ping\n", 5), 5);
    for (int i = 0; i < 10 && stats(s).responses < 1; i++)
        shim_loop_run_once(l, 100, &err);
    char b[16] = {0};
    assert_int_equal(read(c1, b, sizeof b - 1), 5);
    assert_string_equal(b, "pong\n");
    close(c1);
    close(c2);
    shim_connsrv_stop(s);
    shim_loop_free(l);
}

static void test_newcomer_evicts_oldest_reader(void **state)
{
    struct shim_loop *l;
    struct shim_connsrv *s;
    oss_error err = {0};
    assert_int_equal(shim_loop_new(&l, &err), 0);
    struct shim_connsrv_limits lm = lim(5, 2);
    assert_int_equal(shim_connsrv_start(l, listener(), &lm, &proto, NULL, &s, &err), 0);
    int idle[5];
    for (int i = 0; i < 5; i++) {
        idle[i] = client();
        for (int k = 0; k < 10 && stats(s).accepted < (unsigned)i + 1; k++)
            shim_loop_run_once(l, 50, &err);
    }
    assert_int_equal(stats(s).active, 5); /* the table is full of silent readers */
    int fresh = client();
    assert_int_equal(write(fresh, "ping\n", 5), 5);
    for (int i = 0; i < 10 && stats(s).responses < 1; i++)
        shim_loop_run_once(l, 50, &err);
    assert_int_equal(stats(s).evicted, 1);
    assert_int_equal(stats(s).rejected_over_cap, 0);
    char b[16] = {0};
    assert_int_equal(read(fresh, b, sizeof b - 1), 5);
    assert_string_equal(b, "pong\n");
    /* the oldest reader is the one that went */
    char x;
    assert_true(read(idle[0], &x, 1) <= 0);
    for (int i = 0; i < 5; i++)
        close(idle[i]);
    close(fresh);
    shim_connsrv_stop(s);
    shim_loop_free(l);
}

static void test_head_deadline(void **state)
{
    struct shim_loop *l;
    struct shim_connsrv *s;
    oss_error err = {0};
    assert_int_equal(shim_loop_new(&l, &err), 0);
    struct shim_connsrv_limits lm = lim(4, 2);
    lm.head_timeout_ms = 60;
    assert_int_equal(shim_connsrv_start(l, listener(), &lm, &proto, NULL, &s, &err), 0);
    int c = client();
    assert_int_equal(write(c, "pi", 2), 2); /* never finishes its line */
    for (int i = 0; i < 40 && stats(s).timed_out < 1; i++)
        shim_loop_run_once(l, 50, &err);
    assert_int_equal(stats(s).timed_out, 1);
    assert_int_equal(stats(s).active, 0);
    char x;
    assert_true(read(c, &x, 1) <= 0);
    close(c);
    shim_connsrv_stop(s);
    shim_loop_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_emfile_pauses_listener),
        cmocka_unit_test(test_newcomer_evicts_oldest_reader),
        cmocka_unit_test(test_head_deadline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
