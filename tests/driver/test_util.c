/* driver/drv_util.c: the copies never return NULL where the callers rely on
 * it, and a sleep is not cut short by a signal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "drv_util.h"
#include "util.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static void test_strdup(void **state)
{
    (void)state;
    char *a = drv_strdup("abc");
    assert_string_equal(a, "abc");
    char *e = drv_strdup(NULL); /* NULL copies as "" */
    assert_non_null(e);
    assert_string_equal(e, "");
    free(a);
    free(e);
}

static void test_strdup_or_null(void **state)
{
    (void)state;
    assert_null(drv_strdup_or_null(NULL));
    char *a = drv_strdup_or_null("");
    assert_non_null(a);
    assert_string_equal(a, "");
    free(a);
}

static volatile sig_atomic_t alarms;
static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static void test_sleep_resumes_after_eintr(void **state)
{
    (void)state;
    /* no SA_RESTART: nanosleep returns EINTR at each SIGALRM */
    struct sigaction sa = {.sa_handler = on_alarm}, old;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
    struct itimerval it = {.it_interval = {0, 20000}, .it_value = {0, 20000}};
    assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
    int64_t t0 = oss_mono_ms();
    drv_sleep_ms(200);
    int64_t took = oss_mono_ms() - t0;
    struct itimerval off = {0};
    setitimer(ITIMER_REAL, &off, NULL);
    sigaction(SIGALRM, &old, NULL);
    /* control: the signals did interrupt the sleep (else this proves nothing) */
    assert_true(alarms >= 2);
    assert_true(took >= 200);
}

static void test_sleep_nonpositive(void **state)
{
    (void)state;
    int64_t t0 = oss_mono_ms();
    drv_sleep_ms(0);
    drv_sleep_ms(-5);
    assert_true(oss_mono_ms() - t0 < 100);
}

/* The deadline is normalised (tv_nsec below a second) and lies ms ahead:
 * 1999 ms carries into tv_sec, which an unnormalised sum would not. */
static void test_mono_deadline(void **state)
{
    (void)state;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    struct timespec d = drv_mono_deadline_ms(1999);
    assert_true(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
    int64_t diff = (int64_t)(d.tv_sec - now.tv_sec) * 1000 + (d.tv_nsec - now.tv_nsec) / 1000000;
    assert_true(diff >= 1999 && diff < 2100);
    d = drv_mono_deadline_ms(0);
    assert_true(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strdup),
        cmocka_unit_test(test_strdup_or_null),
        cmocka_unit_test(test_sleep_resumes_after_eintr),
        cmocka_unit_test(test_sleep_nonpositive),
        cmocka_unit_test(test_mono_deadline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
