/* driver/runsc/settle.c: every (intent, status, container, image) case of
 * crash recovery, as the table in docs/runsc-backend.md states it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "internal.h"

#include <string.h>

enum { REMOVE = 1, RUN, SUSP, FAIL };

struct row {
    enum drv_runsc_intent intent;
    enum drv_actor_status status;
    const char *container;
    bool image;
    bool ckpt_done; /* the checkpoint's op file says exit 0 (image.tmp whole) */
    int want;
    bool destroy, net_down, pid, drop_image;
};

static const struct row rows[] = {
    /* creating: the create had answered OK: undone, kept as a failed create */
    {DRV_RUNSC_CREATING, DRV_ACTOR_RESUMING, "missing", false, false, FAIL, true, true, false,
     false},
    {DRV_RUNSC_CREATING, DRV_ACTOR_RESUMING, "running", false, false, FAIL, true, true, false,
     false},
    /* admitting (the create never answered) and deleting: always removed */
    {DRV_RUNSC_ADMITTING, DRV_ACTOR_RESUMING, "missing", false, false, REMOVE, true, true, false,
     false},
    {DRV_RUNSC_ADMITTING, DRV_ACTOR_RESUMING, "running", false, false, REMOVE, true, true, false,
     false},
    {DRV_RUNSC_DELETING, DRV_ACTOR_SUSPENDED, "missing", true, false, REMOVE, true, true, false,
     false},
    {DRV_RUNSC_DELETING, DRV_ACTOR_RUNNING, "running", false, false, REMOVE, true, true, false,
     false},
    /* stopping */
    {DRV_RUNSC_STOPPING, DRV_ACTOR_RUNNING, "stopped", true, false, SUSP, true, true, false, false},
    {DRV_RUNSC_STOPPING, DRV_ACTOR_RUNNING, "missing", true, false, SUSP, false, true, false,
     false},
    {DRV_RUNSC_STOPPING, DRV_ACTOR_RUNNING, "running", false, false, RUN, false, false, true,
     false},
    {DRV_RUNSC_STOPPING, DRV_ACTOR_RUNNING, "missing", false, false, FAIL, false, true, false,
     false},
    {DRV_RUNSC_STOPPING, DRV_ACTOR_RUNNING, "stopped", false, false, FAIL, true, true, false,
     false},
    /* the driver died while runsc checkpointed; runsc finished with exit 0
     * (op file): the image.tmp is the sandbox's memory, the stop happened */
    {DRV_RUNSC_STOPPING, DRV_ACTOR_RUNNING, "stopped", false, true, SUSP, true, true, false, false},
    {DRV_RUNSC_STOPPING, DRV_ACTOR_RUNNING, "missing", false, true, SUSP, false, true, false,
     false},
    /* starting */
    /* a restored sandbox not yet proved ready keeps its image */
    {DRV_RUNSC_STARTING, DRV_ACTOR_SUSPENDED, "running", true, false, RUN, false, false, true,
     false},
    {DRV_RUNSC_STARTING, DRV_ACTOR_SUSPENDED, "created", true, false, SUSP, true, true, false,
     false},
    {DRV_RUNSC_STARTING, DRV_ACTOR_SUSPENDED, "missing", true, false, SUSP, false, true, false,
     false},
    {DRV_RUNSC_STARTING, DRV_ACTOR_SUSPENDED, "missing", false, false, FAIL, false, true, false,
     false},
    /* settled records */
    {DRV_RUNSC_NONE, DRV_ACTOR_RUNNING, "running", false, false, RUN, false, false, true, false},
    {DRV_RUNSC_NONE, DRV_ACTOR_RUNNING, "missing", false, false, FAIL, false, true, false, false},
    {DRV_RUNSC_NONE, DRV_ACTOR_RUNNING, "stopped", false, false, FAIL, true, true, false, false},
    {DRV_RUNSC_NONE, DRV_ACTOR_SUSPENDED, "missing", true, false, SUSP, false, true, false, false},
    {DRV_RUNSC_NONE, DRV_ACTOR_SUSPENDED, "stopped", true, false, SUSP, true, true, false, false},
    {DRV_RUNSC_NONE, DRV_ACTOR_SUSPENDED, "missing", false, false, FAIL, false, true, false, false},
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct row *r = &rows[i];
        struct drv_runsc_settlement s;
        drv_runsc_settle(r->intent, r->status, r->container, r->image, r->ckpt_done, &s);
        int got = s.remove                          ? REMOVE
                  : s.failure != NULL               ? FAIL
                  : s.status == DRV_ACTOR_RUNNING   ? RUN
                  : s.status == DRV_ACTOR_SUSPENDED ? SUSP
                                                    : 0;
        if (got != r->want || s.destroy != r->destroy || s.net_down != r->net_down ||
            s.adopt_pid != r->pid || s.drop_image != r->drop_image)
            fail_msg("row %zu (%s, status %d, %s, image %d): got %d destroy %d net %d pid %d "
                     "drop %d",
                     i, drv_runsc_intent_name(r->intent), r->status, r->container, r->image, got,
                     s.destroy, s.net_down, s.adopt_pid, s.drop_image);
        /* a failure is always terminal and explained */
        if (s.failure != NULL)
            assert_int_equal(s.status, DRV_ACTOR_CRASHED);
        /* nothing that can still be resumed loses its image */
        if (s.status == DRV_ACTOR_SUSPENDED)
            assert_false(s.drop_image);
        /* a checkpoint runsc finished is never thrown away */
        if (r->ckpt_done) {
            assert_false(s.drop_image_tmp);
            assert_true(s.publish_image);
        }
    }
}

static void test_stop_keeps_the_old_slot_as_prev(void **state)
{
    (void)state;
    struct drv_runsc_settlement s;
    drv_runsc_settle(DRV_RUNSC_STOPPING, DRV_ACTOR_RUNNING, "stopped", true, false, &s);
    assert_true(s.slot_to_prev); /* the next start must get another address */
    assert_true(s.measure_image);
    assert_true(s.drop_image_tmp);
    assert_false(s.publish_image);
}

static void test_stop_left_running_gets_its_link_back(void **state)
{
    (void)state;
    struct drv_runsc_settlement s;
    drv_runsc_settle(DRV_RUNSC_STOPPING, DRV_ACTOR_RUNNING, "running", false, false, &s);
    assert_int_equal(s.status, DRV_ACTOR_RUNNING);
    assert_true(s.link_up); /* the stop took the host link down first */
    assert_true(s.drop_image_tmp);
}

static void test_interrupted_create_is_a_failed_create(void **state)
{
    (void)state;
    struct drv_runsc_settlement s;
    drv_runsc_settle(DRV_RUNSC_CREATING, DRV_ACTOR_RESUMING, "running", false, false, &s);
    assert_false(s.remove); /* the gateway knows it: it must not vanish */
    assert_true(s.create_failed);
    assert_true(s.drop_token);
    assert_non_null(strstr(s.failure, "create failed while"));
    /* control: an interrupted stop is not a failed create */
    drv_runsc_settle(DRV_RUNSC_STOPPING, DRV_ACTOR_RUNNING, "missing", false, false, &s);
    assert_false(s.create_failed);
}

static void test_failed_stays(void **state)
{
    (void)state;
    struct drv_runsc_settlement s;
    drv_runsc_settle(DRV_RUNSC_NONE, DRV_ACTOR_CRASHED, "missing", false, false, &s);
    assert_false(s.remove);
    assert_int_equal(s.status, DRV_ACTOR_CRASHED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_stop_keeps_the_old_slot_as_prev),
        cmocka_unit_test(test_stop_left_running_gets_its_link_back),
        cmocka_unit_test(test_failed_stays),
        cmocka_unit_test(test_interrupted_create_is_a_failed_create),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
