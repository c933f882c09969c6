/* substrate_backend_it: creates that answer at once and finish in the
 * background (docs/substrate-backend.md, "Lifecycle"). */
#include "it_common.h"

#include "substrate.h"

#include "util.h"

#include <grpc/status.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* test fixtures point config fields at string literals and env strings */
#pragma GCC diagnostic ignored "-Wcast-qual"

static void golden_boot(int ms)
{
    char body[64];
    snprintf(body, sizeof body, "{\"golden_boot_ms\":%d}", ms);
    ctl_do("OSS_IT_KUBE_CTL", "faults", body);
}

/* Where a step sits in a create's life: a List taken after a Get may show the
 * same step or a later one, never an earlier one. */
static int step_rank(int step)
{
    switch (step) {
    case DRV_CREATE_DEPENDENCIES:
        return 1;
    case DRV_CREATE_STARTING:
        return 2;
    default: /* DONE, FAILED: the end */
        return 3;
    }
}

/* Steps seen while a create goes on, from Get and List, in order; never a
 * Suspended sandbox before the first successful resume. */
void it_async(void)
{
    reset_fakes();
    golden_boot(1500);
    ctl_do("OSS_IT_ATE_CTL", "faults", "{\"latency_ms\":{\"ResumeActor\":600}}");
    struct drv_config c;
    base_config(&c);
    struct drv_backend *b = open_backend(&c);
    struct drv_sandbox_spec s;
    make_spec(&s, "it-async");
    s.name = (char *)"async-name";
    oss_error err = {0};
    struct drv_actor a = {0};
    CHECK(b->ops->create(b, &s, &a, &err) == 0, "create: %s", err.msg);
    CHECK(a.create_step == DRV_CREATE_DEPENDENCIES, "answer step %d", a.create_step);
    drv_actor_clear(&a);
    /* a repeated create of an id in flight */
    int r = b->ops->create(b, &s, &a, &err);
    CHECK(r < 0 && err.code == GRPC_STATUS_ALREADY_EXISTS, "repeat in flight: %d %s", r, err.msg);
    /* Start/Stop before it is done: refused, not queued */
    r = b->ops->suspend(b, "it-async", &err);
    CHECK(r < 0 && err.code == GRPC_STATUS_FAILED_PRECONDITION, "stop in flight: %s", err.msg);

    bool seen_deps = false, seen_start = false, bad = false;
    int64_t end = oss_mono_ms() + 20000;
    int last = -1;
    while (oss_mono_ms() < end) {
        CHECK(b->ops->get(b, "it-async", &a, &err) == 0, "get: %s", err.msg);
        int step = a.create_step, st = a.raw_status;
        bool named = a.name && strcmp(a.name, "async-name") == 0;
        drv_actor_clear(&a);
        CHECK(named, "a Get in flight lost the name");
        struct drv_actor *v = NULL;
        size_t n = 0;
        bool listed_right = false;
        if (b->ops->list(b, &v, &n, &err) == 0) {
            for (size_t i = 0; i < n; i++)
                if (strcmp(v[i].id, "it-async") == 0)
                    /* the List runs after the Get, so the create may
                     * have moved on between the two; going back is wrong */
                    listed_right = step_rank((int)v[i].create_step) >= step_rank(step);
            drv_actor_list_free(v, n);
        }
        CHECK(listed_right, "List does not show the create in flight (step %d)", step);
        if (step != last)
            printf("async: step %d status %d\n", step, st);
        last = step;
        seen_deps |= step == DRV_CREATE_DEPENDENCIES;
        seen_start |= step == DRV_CREATE_STARTING;
        /* Suspended shown before the first resume would make a gateway
         * call the sandbox Stopped for good */
        if (step == DRV_CREATE_DONE && st != DRV_ACTOR_RUNNING)
            bad = true;
        if (step == DRV_CREATE_DONE || step == DRV_CREATE_FAILED)
            break;
        usleep(30000);
    }
    CHECK(seen_deps && seen_start, "steps seen: dependencies %d, starting %d", seen_deps,
          seen_start);
    CHECK(last == DRV_CREATE_DONE && !bad, "ended at step %d (suspended shown: %d)", last, bad);
    CHECK(b->ops->delete_(b, "it-async", &err) == 0, "delete: %s", err.msg);
    CHECK(ATE_ACTORS() == 0 && KUBE_OBJECTS() == 0, "left %d actors, %d objects", ATE_ACTORS(),
          KUBE_OBJECTS());
    ctl_do("OSS_IT_ATE_CTL", "faults", "{}");
    golden_boot(0);
    b->ops->destroy(b);
}

/* Delete while the template boots and while the actor resumes: answered
 * normally, nothing left, the id free again. */
void it_delete_during_create(void)
{
    reset_fakes();
    struct drv_config c;
    base_config(&c);
    struct drv_backend *b = open_backend(&c);
    oss_error err = {0};
    struct drv_actor a = {0};
    struct drv_sandbox_spec s;
    make_spec(&s, "it-ddc");

    /* During the golden boot: answered at once, the sandbox gone for every
     * caller; the template (and its record, "deleting") stay until the
     * golden actor is SUSPENDED, which only then can be deleted, also across
     * a driver restart */
    golden_boot(2500);
    CHECK(b->ops->create(b, &s, &a, &err) == 0, "create: %s", err.msg);
    drv_actor_clear(&a);
    CHECK(KUBE_OBJECTS() == 2, "record + template: %d", KUBE_OBJECTS());
    int64_t end = oss_mono_ms() + 10000;
    while (oss_mono_ms() < end && GOLDEN_ACTORS() < 1)
        usleep(20000); /* the controller has started the golden actor */
    int64_t t0 = oss_mono_ms();
    CHECK(b->ops->delete_(b, "it-ddc", &err) == 0, "delete while the template boots: %s", err.msg);
    printf("delete during the golden boot answered in %lld ms\n", (long long)(oss_mono_ms() - t0));
    int r = b->ops->get(b, "it-ddc", &a, &err);
    CHECK(r < 0 && err.code == GRPC_STATUS_NOT_FOUND, "get after delete: %d", r);
    CHECK(!listed(b, "it-ddc", NULL), "listed after delete");
    r = b->ops->delete_(b, "it-ddc", &err);
    CHECK(r < 0 && err.code == GRPC_STATUS_NOT_FOUND, "a second delete: %d %s", r, err.msg);
    CHECK(ate_actors_in("openshell", -1) == 0, "the sandbox's actor is gone");
    b->ops->destroy(b); /* a restart before the boot ended */
    b = open_backend(&c);
    r = b->ops->get(b, "it-ddc", &a, &err); /* the first call takes the records up */
    CHECK(r < 0 && err.code == GRPC_STATUS_NOT_FOUND, "get after the restart: %d", r);
    end = oss_mono_ms() + 20000;
    while (oss_mono_ms() < end && (ATE_ACTORS() != 0 || KUBE_OBJECTS() != 0))
        usleep(50000);
    CHECK(ATE_ACTORS() == 0 && KUBE_OBJECTS() == 0,
          "after the boot: left %d actors (%d golden), %d objects", ATE_ACTORS(), GOLDEN_ACTORS(),
          KUBE_OBJECTS());

    /* during ResumeActor: the delete waits for that call, then removes the actor */
    golden_boot(0);
    ctl_do("OSS_IT_ATE_CTL", "faults", "{\"latency_ms\":{\"ResumeActor\":1500}}");
    /* the finisher lets go of the id just after its last delete */
    end = oss_mono_ms() + 5000;
    while ((r = b->ops->create(b, &s, &a, &err)) < 0 && strstr(err.msg, "still being removed") &&
           oss_mono_ms() < end)
        usleep(20000);
    CHECK(r == 0, "create again: %s", err.msg);
    drv_actor_clear(&a);
    end = oss_mono_ms() + 15000;
    while (oss_mono_ms() < end && counter("calls.ResumeActor") == 0)
        usleep(20000);
    CHECK(counter("calls.ResumeActor") > 0, "never reached ResumeActor");
    CHECK(b->ops->delete_(b, "it-ddc", &err) == 0, "delete during resume: %s", err.msg);
    CHECK(ATE_ACTORS() == 0 && KUBE_OBJECTS() == 0, "left %d actors, %d objects", ATE_ACTORS(),
          KUBE_OBJECTS());
    ctl_do("OSS_IT_ATE_CTL", "faults", "{}");
    /* control: the id can be created again and finishes */
    CHECK(create_wait(b, &s, 15000, NULL, &err) == 0, "create after delete: %s", err.msg);
    CHECK(b->ops->delete_(b, "it-ddc", &err) == 0, "delete: %s", err.msg);
    b->ops->destroy(b);
}

/* Ready means free: Stop sent on the first Ready succeeds, 50 times. */
void it_stop_on_ready(void)
{
    reset_fakes();
    struct drv_config c;
    base_config(&c);
    struct drv_backend *b = open_backend(&c);
    int ok = 0, n = atoi(env_or("OSS_IT_STOP_ON_READY_N", "50"));
    for (int i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "it-sor-%d", i);
        struct drv_sandbox_spec s;
        make_spec(&s, id);
        oss_error err = {0};
        struct drv_actor a = {0};
        if (b->ops->create(b, &s, &a, &err) < 0) {
            log_err("create", &err);
            continue;
        }
        drv_actor_clear(&a);
        /* the first Get that shows Ready (as a gateway's first Ready event) */
        int64_t end = oss_mono_ms() + 15000;
        bool ready = false;
        while (!ready && oss_mono_ms() < end) {
            if (b->ops->get(b, id, &a, &err) == 0) {
                ready = a.create_step == DRV_CREATE_DONE && a.raw_status == DRV_ACTOR_RUNNING;
                drv_actor_clear(&a);
            }
            if (!ready)
                usleep(5000);
        }
        if (ready && b->ops->suspend(b, id, &err) == 0)
            ok++;
        else
            log_err("stop on the first Ready", &err);
        if (b->ops->delete_(b, id, &err) < 0)
            log_err("delete", &err);
    }
    printf("stop-on-ready: %d of %d Stops on the first Ready succeeded\n", ok, n);
    CHECK(ok == n, "%d of %d", ok, n);
    b->ops->destroy(b);
}

/* Names survive a driver restart, for the driver's own templates and for
 * pre-provisioned ones, in Get and List. */
void it_names_restart(void)
{
    reset_fakes();
    ctl_do("OSS_IT_KUBE_CTL", "put",
           "{\"kind\":\"actortemplates\",\"namespace\":\"openshell\",\"name\":\"team-golden\","
           "\"object\":{\"apiVersion\":\"ate.dev/v1alpha1\",\"kind\":\"ActorTemplate\","
           "\"metadata\":{\"name\":\"team-golden\",\"namespace\":\"openshell\"},"
           "\"status\":{\"phase\":\"Ready\"}}}");
    struct drv_config c;
    base_config(&c);
    struct drv_backend *b = open_backend(&c);
    oss_error err = {0};
    struct drv_sandbox_spec s1, s2;
    make_spec(&s1, "it-name-own");
    s1.name = (char *)"Own-Template:name/with?odd=chars";
    make_spec(&s2, "it-name-pre");
    s2.name = (char *)"pre-provisioned-name";
    s2.template_override = (char *)"team-golden";
    CHECK(create_wait(b, &s1, 15000, NULL, &err) == 0, "create own: %s", err.msg);
    CHECK(create_wait(b, &s2, 15000, NULL, &err) == 0, "create pre: %s", err.msg);
    b->ops->destroy(b);

    b = open_backend(&c); /* a restarted driver */
    const struct drv_sandbox_spec *sp[] = {&s1, &s2};
    for (int i = 0; i < 2; i++) {
        struct drv_actor a = {0};
        CHECK(b->ops->get(b, sp[i]->id, &a, &err) == 0, "get: %s", err.msg);
        CHECK(a.name && strcmp(a.name, sp[i]->name) == 0, "get name after restart: %s", a.name);
        drv_actor_clear(&a);
    }
    struct drv_actor *v = NULL;
    size_t n = 0;
    int named = 0;
    CHECK(b->ops->list(b, &v, &n, &err) == 0, "list: %s", err.msg);
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 2; k++)
            named += strcmp(v[i].id, sp[k]->id) == 0 && strcmp(v[i].name, sp[k]->name) == 0;
    drv_actor_list_free(v, n);
    CHECK(named == 2, "%d of 2 listed with their names after restart", named);
    CHECK(b->ops->delete_(b, s1.id, &err) == 0, "delete: %s", err.msg);
    CHECK(b->ops->delete_(b, s2.id, &err) == 0, "delete: %s", err.msg);
    CHECK(ATE_ACTORS() == 0 && KUBE_OBJECTS() == 1, "left %d actors, %d objects", ATE_ACTORS(),
          KUBE_OBJECTS());
    b->ops->destroy(b);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Benchmark: how long CreateSandbox holds its caller when the template's
 * golden boot takes a minute. */
void it_create_bench(void)
{
    int n = atoi(env_or("OSS_IT_BENCH_N", "21"));
    if (n < 1 || n > 1000)
        n = 21;
    reset_fakes();
    golden_boot(60000);
    struct drv_config c;
    base_config(&c);
    struct drv_backend *b = open_backend(&c);
    int64_t *t = calloc((size_t)n, sizeof *t);
    oss_error err = {0};
    /* the first call lists the records: not part of a create's cost */
    CHECK(b->ops->get(b, "warm-up", &(struct drv_actor){0}, &err) < 0, "warm-up");
    for (int i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "it-cb-%d", i);
        struct drv_sandbox_spec s;
        make_spec(&s, id);
        struct drv_actor a = {0};
        int64_t t0 = oss_mono_ns();
        int r = b->ops->create(b, &s, &a, &err);
        t[i] = oss_mono_ns() - t0;
        CHECK(r == 0 && a.create_step == DRV_CREATE_DEPENDENCIES, "create %d: %s", i, err.msg);
        drv_actor_clear(&a);
    }
    /* the boots end (not timed), so the deletes can remove the golden actors */
    golden_boot(0);
    for (int i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "it-cb-%d", i);
        CHECK(b->ops->delete_(b, id, &err) == 0, "delete: %s", err.msg);
    }
    int64_t end = oss_mono_ms() + 60000;
    while (oss_mono_ms() < end && (ATE_ACTORS() != 0 || KUBE_OBJECTS() != 0))
        usleep(100000);
    CHECK(ATE_ACTORS() == 0 && KUBE_OBJECTS() == 0, "left %d actors, %d objects", ATE_ACTORS(),
          KUBE_OBJECTS());
    qsort(t, (size_t)n, sizeof *t, cmp_i64);
    printf("bench: CreateSandbox return with a 60 s golden boot, %d creates: median %.1f ms "
           "(min %.1f, max %.1f)\n",
           n, t[n / 2] / 1e6, t[0] / 1e6, t[n - 1] / 1e6);
    free(t);
    golden_boot(0);
    b->ops->destroy(b);
}
