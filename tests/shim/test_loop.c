/* The shim's event loop (shim/loop.c): registration, dispatch, deletion and
 * slot reuse from inside callbacks, timers, the prepare hook. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

struct pipe_ {
    int r, w;
};

static struct pipe_ mkpipe(void)
{
    int p[2];
    assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    return (struct pipe_){p[0], p[1]};
}

static int hits[8];

static void count_cb(struct shim_loop *l, int fd, uint32_t ev, void *data)
{
    hits[(intptr_t)data]++;
    char b[64];
    (void)!read(fd, b, sizeof b);
}

static void test_add_dispatch_del(void **state)
{
    memset(hits, 0, sizeof hits);
    struct shim_loop *l;
    oss_error err = {0};
    assert_int_equal(shim_loop_new(&l, &err), 0);
    struct pipe_ a = mkpipe(), b = mkpipe();
    assert_int_equal(shim_loop_add(l, a.r, EPOLLIN, count_cb, (void *)0, &err), 0);
    assert_int_equal(shim_loop_add(l, b.r, EPOLLIN, count_cb, (void *)1, &err), 0);
    assert_int_equal(shim_loop_add(l, a.r, EPOLLIN, count_cb, (void *)0, &err), -1);
    assert_int_equal(err.code, EEXIST);
    assert_int_equal(shim_loop_add(l, -1, EPOLLIN, count_cb, NULL, &err), -1);

    assert_int_equal(shim_loop_run_once(l, 0, &err), 0); /* nothing ready */
    assert_int_equal(write(b.w, "x", 1), 1);
    assert_int_equal(shim_loop_run_once(l, 1000, &err), 1);
    assert_int_equal(hits[0], 0);
    assert_int_equal(hits[1], 1);

    /* mod to 0 events: readable but not watched */
    assert_int_equal(shim_loop_mod(l, a.r, 0, &err), 0);
    assert_int_equal(write(a.w, "x", 1), 1);
    assert_int_equal(shim_loop_run_once(l, 0, &err), 0);
    assert_int_equal(shim_loop_mod(l, a.r, EPOLLIN, &err), 0);
    assert_int_equal(shim_loop_run_once(l, 0, &err), 1);
    assert_int_equal(hits[0], 1);

    shim_loop_del(l, b.r);
    assert_int_equal(shim_loop_mod(l, b.r, EPOLLIN, &err), -1);
    assert_int_equal(write(b.w, "x", 1), 1);
    assert_int_equal(shim_loop_run_once(l, 0, &err), 0);
    assert_int_equal(hits[1], 1);
    shim_loop_free(l);
    close(a.r), close(a.w), close(b.r), close(b.w);
}

/* A callback deletes another fd that is ready in the same round and adds a
 * new one into its slot: the stale event must not reach the new handler. */
static struct {
    struct shim_loop *l;
    int victim, newcomer;
    int victim_hits, newcomer_hits, first_hits;
} st;

static void victim_cb(struct shim_loop *l, int fd, uint32_t ev, void *d)
{
    st.victim_hits++;
}
static void newcomer_cb(struct shim_loop *l, int fd, uint32_t ev, void *d)
{
    st.newcomer_hits++;
}
static void first_cb(struct shim_loop *l, int fd, uint32_t ev, void *d)
{
    char b[8];
    (void)!read(fd, b, sizeof b);
    st.first_hits++;
    shim_loop_del(l, st.victim);
    assert_int_equal(shim_loop_add(l, st.newcomer, EPOLLIN, newcomer_cb, NULL, NULL), 0);
}

static void test_delete_and_reuse_inside_callback(void **state)
{
    memset(&st, 0, sizeof st);
    oss_error err = {0};
    assert_int_equal(shim_loop_new(&st.l, &err), 0);
    struct pipe_ a = mkpipe(), v = mkpipe(), n = mkpipe();
    st.victim = v.r;
    st.newcomer = n.r;
    assert_int_equal(shim_loop_add(st.l, a.r, EPOLLIN, first_cb, NULL, &err), 0);
    assert_int_equal(shim_loop_add(st.l, v.r, EPOLLIN, victim_cb, NULL, &err), 0);
    assert_int_equal(write(a.w, "x", 1), 1);
    assert_int_equal(write(v.w, "x", 1), 1);
    assert_int_equal(write(n.w, "x", 1), 1);
    shim_loop_run_once(st.l, 1000, &err);
    assert_int_equal(st.first_hits, 1);
    assert_int_equal(st.victim_hits, 0);   /* deleted before its turn */
    assert_int_equal(st.newcomer_hits, 0); /* not polled this round */
    shim_loop_run_once(st.l, 1000, &err);
    assert_int_equal(st.newcomer_hits, 1);
    shim_loop_free(st.l);
    close(a.r), close(a.w), close(v.r), close(v.w), close(n.r), close(n.w);
}

static int timer_hits;
static struct shim_timer *the_timer;
static void timer_cb(struct shim_loop *l, int fd, uint32_t ev, void *d)
{
    if (shim_timer_consume(the_timer) > 0)
        timer_hits++;
}

static void test_timers(void **state)
{
    timer_hits = 0;
    struct shim_loop *l;
    oss_error err = {0};
    assert_int_equal(shim_loop_new(&l, &err), 0);
    assert_int_equal(shim_timer_new(l, timer_cb, NULL, &the_timer, &err), 0);
    assert_false(shim_timer_armed(the_timer));
    assert_int_equal(shim_loop_run_once(l, 20, &err), 0); /* disarmed: no wake-up */

    assert_int_equal(shim_timer_arm(the_timer, 5, 0), 0); /* one-shot */
    assert_true(shim_timer_armed(the_timer));
    for (int i = 0; i < 100 && timer_hits == 0; i++)
        shim_loop_run_once(l, 100, &err);
    assert_int_equal(timer_hits, 1);
    assert_false(shim_timer_armed(the_timer)); /* a fired one-shot is disarmed */

    assert_int_equal(shim_timer_arm(the_timer, 2, 2), 0); /* periodic */
    for (int i = 0; i < 100 && timer_hits < 3; i++)
        shim_loop_run_once(l, 100, &err);
    assert_true(timer_hits >= 3);
    assert_true(shim_timer_armed(the_timer));

    shim_timer_disarm(the_timer); /* also drops a pending expiration */
    usleep(10000);
    int before = timer_hits;
    assert_int_equal(shim_loop_run_once(l, 20, &err), 0);
    assert_int_equal(timer_hits, before);
    shim_timer_free(l, the_timer);
    shim_loop_free(l);
}

static int prepared;
static void prep(struct shim_loop *l, void *d)
{
    prepared++;
}

static void test_prepare_and_nval(void **state)
{
    prepared = 0;
    struct shim_loop *l;
    oss_error err = {0};
    assert_int_equal(shim_loop_new(&l, &err), 0);
    shim_loop_set_prepare(l, prep, NULL);
    shim_loop_run_once(l, 0, &err);
    shim_loop_run_once(l, 0, &err);
    assert_int_equal(prepared, 2);
    shim_loop_set_prepare(l, NULL, NULL);
    shim_loop_run_once(l, 0, &err);
    assert_int_equal(prepared, 2);

    /* an fd closed behind the loop's back: POLLNVAL, no callback, no error */
    memset(hits, 0, sizeof hits);
    struct pipe_ a = mkpipe();
    assert_int_equal(shim_loop_add(l, a.r, EPOLLIN, count_cb, (void *)2, &err), 0);
    close(a.r);
    assert_true(shim_loop_run_once(l, 0, &err) >= 0);
    assert_int_equal(hits[2], 0);
    shim_loop_del(l, a.r);
    close(a.w);
    shim_loop_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_dispatch_del),
        cmocka_unit_test(test_delete_and_reuse_inside_callback),
        cmocka_unit_test(test_timers),
        cmocka_unit_test(test_prepare_and_nval),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
