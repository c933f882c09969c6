/* driver/watch.c: the shared poller's diff, snapshot-on-subscribe, and the
 * rule that a listing taken before a handler's change cannot undo it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "watch.h"

#include "compute_driver.pb-c.h"

#include <grpc/status.h>
#include <stdlib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* fake backend: list returns `cur`; a hook may run inside list() */
static struct drv_actor cur[8];
static size_t ncur;
static void (*during_list)(void);
static struct drv_watch *W;

static int fake_list(struct drv_backend *b, struct drv_actor **ret, size_t *ret_n, oss_error *err)
{
    if (during_list != NULL)
        during_list();
    struct drv_actor *l = calloc(ncur + 1, sizeof *l);
    for (size_t i = 0; i < ncur; i++)
        drv_actor_copy(&l[i], &cur[i]);
    *ret = l;
    *ret_n = ncur;
    return 0;
}

static int fake_list_fail(struct drv_backend *b, struct drv_actor **ret, size_t *ret_n,
                          oss_error *err)
{
    return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_UNAVAILABLE, "down");
}

static struct drv_backend_ops ops = {.name = "fake", .list = fake_list};
static struct drv_backend backend = {.ops = &ops};

/* a subscriber that records "S:id:status" / "D:id" */
struct rec {
    struct drv_watch_sub sub;
    char ev[64][48];
    uint64_t batch[64];
    size_t n;
};

static void rec_push(struct drv_watch_sub *s, struct drv_blob *b, uint64_t batch)
{
    struct rec *r = (struct rec *)s;
    r->batch[r->n] = batch;
    Openshell__Compute__V1__WatchSandboxesEvent *e =
        openshell__compute__v1__watch_sandboxes_event__unpack(NULL, b->len, b->data);
    assert_non_null(e);
    assert_true(r->n < 64);
    if (e->payload_case == OPENSHELL__COMPUTE__V1__WATCH_SANDBOXES_EVENT__PAYLOAD_SANDBOX)
        snprintf(r->ev[r->n++], 48, "S:%s:%s", e->sandbox->sandbox->id,
                 e->sandbox->sandbox->status->conditions[0]->status);
    else
        snprintf(r->ev[r->n++], 48, "D:%s", e->deleted->sandbox_id);
    openshell__compute__v1__watch_sandboxes_event__free_unpacked(e, NULL);
}

static struct drv_actor *big_list;
static size_t nbig;
static int counted_sandbox, counted_deleted;

static int big_fake_list(struct drv_backend *b, struct drv_actor **ret, size_t *ret_n,
                         oss_error *err)
{
    struct drv_actor *l = calloc(nbig + 1, sizeof *l);
    for (size_t i = 0; i < nbig; i++)
        drv_actor_copy(&l[i], &big_list[i]);
    *ret = l;
    *ret_n = nbig;
    return 0;
}

static void count_push(struct drv_watch_sub *s, struct drv_blob *b, uint64_t batch)
{
    Openshell__Compute__V1__WatchSandboxesEvent *e =
        openshell__compute__v1__watch_sandboxes_event__unpack(NULL, b->len, b->data);
    assert_non_null(e);
    if (e->payload_case == OPENSHELL__COMPUTE__V1__WATCH_SANDBOXES_EVENT__PAYLOAD_SANDBOX)
        counted_sandbox++;
    else
        counted_deleted++;
    openshell__compute__v1__watch_sandboxes_event__free_unpacked(e, NULL);
}

static void set_actor(size_t i, const char *id, int st)
{
    cur[i] = (struct drv_actor){
        .id = (char *)(uintptr_t)id, .name = (char *)(uintptr_t)id, .raw_status = st};
}

static int setup(void **state)
{
    ncur = 0;
    during_list = NULL;
    ops.list = fake_list;
    assert_int_equal(drv_watch_new(&backend, 1000, &W, NULL), 0);
    return 0;
}

static int teardown(void **state)
{
    drv_watch_free(W);
    return 0;
}

static void poll_ok(void)
{
    oss_error err = {0};
    assert_int_equal(drv_watch_poll_once(W, &err), 0);
}

static void test_diff(void **state)
{
    struct rec r = {.sub.push = rec_push};
    drv_watch_subscribe(W, &r.sub);
    set_actor(0, "a", DRV_ACTOR_RUNNING);
    set_actor(1, "b", DRV_ACTOR_SUSPENDED);
    ncur = 2;
    poll_ok();
    assert_int_equal(r.n, 2);
    assert_string_equal(r.ev[0], "S:a:True");
    assert_string_equal(r.ev[1], "S:b:False");
    poll_ok(); /* nothing changed: nothing sent */
    assert_int_equal(r.n, 2);
    cur[1].raw_status = DRV_ACTOR_RUNNING;
    poll_ok();
    assert_int_equal(r.n, 3);
    assert_string_equal(r.ev[2], "S:b:True");
    ncur = 1; /* b vanished */
    poll_ok();
    assert_int_equal(r.n, 4);
    assert_string_equal(r.ev[3], "D:b");

    /* a late subscriber first gets the current state */
    struct rec late = {.sub.push = rec_push};
    drv_watch_subscribe(W, &late.sub);
    assert_int_equal(late.n, 1);
    assert_string_equal(late.ev[0], "S:a:True");
    drv_watch_unsubscribe(W, &late.sub);
    drv_watch_unsubscribe(W, &r.sub);
}

static void test_duplicates_and_many(void **state)
{
    struct rec r = {.sub.push = rec_push};
    drv_watch_subscribe(W, &r.sub);
    /* the same actor twice (a paginated listing that shifted) counts once */
    set_actor(0, "b", DRV_ACTOR_RUNNING);
    set_actor(1, "a", DRV_ACTOR_RUNNING);
    set_actor(2, "b", DRV_ACTOR_RUNNING);
    set_actor(3, "a", DRV_ACTOR_SUSPENDED);
    ncur = 4;
    poll_ok();
    assert_int_equal(r.n, 2);
    assert_string_equal(r.ev[0], "S:a:True");
    assert_string_equal(r.ev[1], "S:b:True");
    ncur = 2; /* "b", "a": same as before, so nothing */
    poll_ok();
    assert_int_equal(r.n, 2);
    drv_watch_unsubscribe(W, &r.sub);

    /* many: a first listing of 5000, then every other one removed */
    static char ids[5000][8];
    static struct drv_actor big[5000];
    for (int i = 0; i < 5000; i++) {
        snprintf(ids[i], sizeof ids[i], "x%04d", 4999 - i);
        big[i] = (struct drv_actor){.id = ids[i], .raw_status = DRV_ACTOR_RUNNING};
    }
    big_list = big;
    nbig = 5000;
    ops.list = big_fake_list;
    struct rec *many = calloc(1, sizeof *many);
    many->sub.push = count_push;
    drv_watch_subscribe(W, &many->sub);
    poll_ok();
    assert_int_equal(counted_sandbox, 2 + 5000); /* snapshot of a, b; then 5000 new */
    /* a and b are not in the big listing: 2 Deleted */
    assert_int_equal(counted_deleted, 2);
    nbig = 2500;
    poll_ok();
    assert_int_equal(counted_deleted, 2 + 2500);
    drv_watch_unsubscribe(W, &many->sub);
    free(many);
    ops.list = fake_list;
}

static void test_failed_list_is_not_deletion(void **state)
{
    struct rec r = {.sub.push = rec_push};
    set_actor(0, "a", DRV_ACTOR_RUNNING);
    ncur = 1;
    poll_ok();
    drv_watch_subscribe(W, &r.sub);
    assert_int_equal(r.n, 1);
    ops.list = fake_list_fail;
    oss_error err = {0};
    assert_int_equal(drv_watch_poll_once(W, &err), -1);
    assert_int_equal(r.n, 1); /* no Deleted for a backend outage */
    ops.list = fake_list;
    drv_watch_unsubscribe(W, &r.sub);
}

static void forget_a(void)
{
    drv_watch_forget(W, "a");
}

static void test_forget_beats_stale_listing(void **state)
{
    struct rec r = {.sub.push = rec_push};
    set_actor(0, "a", DRV_ACTOR_RUNNING);
    ncur = 1;
    poll_ok();
    drv_watch_subscribe(W, &r.sub);
    /* Delete completes while a listing (which still shows "a") is running */
    during_list = forget_a;
    poll_ok();
    during_list = NULL;
    assert_int_equal(r.n, 2);
    assert_string_equal(r.ev[1], "D:a");
    /* CONTROL: the next listing no longer shows it and nothing re-appears;
     * had the stale listing been applied, "S:a" would follow the Deleted */
    ncur = 0;
    poll_ok();
    assert_int_equal(r.n, 2);

    /* forget of an id never seen still emits Deleted (deleted=true promise) */
    drv_watch_forget(W, "never-seen");
    assert_int_equal(r.n, 3);
    assert_string_equal(r.ev[2], "D:never-seen");
    drv_watch_unsubscribe(W, &r.sub);
}

static void test_upsert(void **state)
{
    struct rec r = {.sub.push = rec_push};
    drv_watch_subscribe(W, &r.sub);
    struct drv_actor a = {.id = "n", .name = "n", .raw_status = DRV_ACTOR_RUNNING};
    drv_watch_upsert(W, &a);
    drv_watch_upsert(W, &a); /* same: no second event */
    assert_int_equal(r.n, 1);
    assert_string_equal(r.ev[0], "S:n:True");
    ncur = 1;
    set_actor(0, "n", DRV_ACTOR_RUNNING);
    poll_ok();
    assert_int_equal(r.n, 1);
    drv_watch_unsubscribe(W, &r.sub);
}

static int fake_get(struct drv_backend *b, const char *id, struct drv_actor *ret, oss_error *err)
{
    for (size_t i = 0; i < ncur; i++)
        if (strcmp(cur[i].id, id) == 0) {
            drv_actor_copy(ret, &cur[i]);
            return 0;
        }
    return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_NOT_FOUND, "no %s", id);
}

/* A backend's background work reports a change: the hub reads the sandbox
 * and tells; a sandbox gone is Deleted once, and only if it was shown. */
static void test_notify(void **state)
{
    ops.get = fake_get;
    struct rec r = {.sub.push = rec_push};
    drv_watch_subscribe(W, &r.sub);
    ncur = 1;
    set_actor(0, "bg", DRV_ACTOR_RESUMING);
    drv_backend_notify(&backend, "bg");
    set_actor(0, "bg", DRV_ACTOR_RUNNING);
    drv_backend_notify(&backend, "bg");
    drv_backend_notify(&backend, "bg"); /* unchanged: nothing */
    ncur = 0;
    drv_backend_notify(&backend, "bg");
    drv_backend_notify(&backend, "never-shown");
    assert_int_equal(r.n, 3);
    assert_string_equal(r.ev[0], "S:bg:False");
    assert_string_equal(r.ev[1], "S:bg:True");
    assert_string_equal(r.ev[2], "D:bg");
    drv_watch_unsubscribe(W, &r.sub);
    ops.get = NULL;
}

/* Once the hub is gone, a late notification reaches nobody. */
static void test_notify_after_free(void **state)
{
    assert_non_null(backend.notify);
    drv_watch_free(W);
    W = NULL;
    assert_null(backend.notify);
    drv_backend_notify(&backend, "late"); /* must not touch the freed hub */
    assert_int_equal(drv_watch_new(&backend, 1000, &W, NULL), 0);
}

/* The first listing is the state itself, for a stream opened before it
 * too; after it, one listing's diff is one batch and each handler change
 * its own. */
static void test_batches(void **state)
{
    struct rec r = {.sub.push = rec_push};
    drv_watch_subscribe(W, &r.sub); /* before anything was listed */
    assert_int_equal(r.n, 0);
    set_actor(0, "a", DRV_ACTOR_RUNNING);
    set_actor(1, "b", DRV_ACTOR_RUNNING);
    set_actor(2, "c", DRV_ACTOR_RUNNING);
    ncur = 3;
    poll_ok();
    assert_int_equal(r.n, 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(r.batch[i], DRV_WATCH_INITIAL);
    /* CONTROL: the same kind of change after the first listing is live */
    cur[0].raw_status = DRV_ACTOR_SUSPENDED;
    cur[1].raw_status = DRV_ACTOR_SUSPENDED;
    poll_ok();
    assert_int_equal(r.n, 5);
    assert_true(r.batch[3] != DRV_WATCH_INITIAL);
    assert_true(r.batch[3] == r.batch[4]); /* one listing, one batch */
    struct drv_actor d = {.id = "d", .name = "d", .raw_status = DRV_ACTOR_RUNNING};
    drv_watch_upsert(W, &d);
    drv_watch_forget(W, "d");
    assert_int_equal(r.n, 7);
    assert_true(r.batch[5] > r.batch[4] && r.batch[6] > r.batch[5]);
    cur[2].raw_status = DRV_ACTOR_SUSPENDED;
    poll_ok();
    assert_int_equal(r.n, 8);
    assert_true(r.batch[7] > r.batch[6]);
    /* a failed listing before the first success does not prime the hub */
    struct drv_watch *w2;
    assert_int_equal(drv_watch_new(&backend, 1000, &w2, NULL), 0);
    struct rec r2 = {.sub.push = rec_push};
    drv_watch_subscribe(w2, &r2.sub);
    ops.list = fake_list_fail;
    oss_error err = {0};
    assert_int_equal(drv_watch_poll_once(w2, &err), -1);
    ops.list = fake_list;
    assert_int_equal(drv_watch_poll_once(w2, &err), 0);
    assert_int_equal(r2.n, 3);
    assert_int_equal(r2.batch[2], DRV_WATCH_INITIAL);
    drv_watch_unsubscribe(w2, &r2.sub);
    drv_watch_free(w2);
    drv_watch_unsubscribe(W, &r.sub);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_diff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_and_many, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_list_is_not_deletion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forget_beats_stale_listing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upsert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notify_after_free, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batches, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
