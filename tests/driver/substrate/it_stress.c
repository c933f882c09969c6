/* substrate_backend_it: concurrency, a driver killed mid-create, the
 * benchmark and the live suite. */
#include "it_common.h"

#include "substrate.h"

#include "buf.h"
#include "cleanup.h"
#include "error.h"
#include "fs.h"
#include "util.h"

#include <curl/curl.h>
#include <grpc/status.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* test fixtures point config fields at string literals and env strings */
#pragma GCC diagnostic ignored "-Wcast-qual"

/* ---- concurrency: the server calls the backend from worker threads ---- */

struct worker {
    struct drv_backend *b;
    char id[32];
    int fails;
};

static void *own_lifecycle(void *arg)
{
    struct worker *w = arg;
    struct drv_sandbox_spec s;
    make_spec(&s, w->id);
    oss_error err = {0};
    struct drv_actor a = {0};
    if (create_wait(w->b, &s, 30000, &a, &err) < 0) {
        log_err(w->id, &err);
        w->fails++;
        return NULL;
    }
    drv_actor_clear(&a);
    for (int i = 0; i < 2; i++) {
        if (w->b->ops->suspend(w->b, w->id, &err) < 0 || w->b->ops->resume(w->b, w->id, &err) < 0) {
            log_err(w->id, &err);
            w->fails++;
        }
    }
    if (w->b->ops->delete_(w->b, w->id, &err) < 0) {
        log_err(w->id, &err);
        w->fails++;
    }
    return NULL;
}

/* Two threads want the same thing of one shared actor at the same moment:
 * their calls overlap in the fake, which answers ABORTED; the retries and
 * the "already there" rule must make both succeed. */
static pthread_barrier_t flip_barrier;

static void *flip_shared(void *arg)
{
    struct worker *w = arg;
    oss_error err = {0};
    for (int i = 0; i < 3; i++) {
        pthread_barrier_wait(&flip_barrier);
        if (w->b->ops->suspend(w->b, "it-shared", &err) < 0) {
            log_err("shared actor suspend", &err);
            w->fails++;
        }
        pthread_barrier_wait(&flip_barrier);
        if (w->b->ops->resume(w->b, "it-shared", &err) < 0) {
            log_err("shared actor resume", &err);
            w->fails++;
        }
    }
    return NULL;
}

/* Two creates of one id at once: one wins; the loser (ALREADY_EXISTS: the
 * id is in flight) must not roll back the template the winner runs from. */
static void *dup_create(void *arg)
{
    struct worker *w = arg;
    struct drv_sandbox_spec s;
    make_spec(&s, "it-dup");
    oss_error err = {0};
    struct drv_actor a = {0};
    if (w->b->ops->create(w->b, &s, &a, &err) == 0) {
        drv_actor_clear(&a);
        return NULL;
    }
    if (err.code != GRPC_STATUS_ALREADY_EXISTS) {
        log_err("duplicate create", &err);
        w->fails++;
    }
    w->fails += 100; /* marks the loser */
    return NULL;
}

void it_concurrent(void)
{
    reset_fakes();
    struct drv_config c;
    base_config(&c);
    struct drv_backend *b = open_backend(&c);
    ctl_do("OSS_IT_ATE_CTL", "faults", "{\"latency_ms\":{\"ResumeActor\":80,\"SuspendActor\":80}}");
    struct drv_sandbox_spec s;
    make_spec(&s, "it-shared");
    oss_error err = {0};
    struct drv_actor a = {0};
    CHECK(create_wait(b, &s, 15000, &a, &err) == 0, "create shared: %s", err.msg);
    drv_actor_clear(&a);

    enum { NOWN = 6, NFLIP = 2 };
    pthread_barrier_init(&flip_barrier, NULL, NFLIP);
    struct worker w[NOWN + NFLIP];
    pthread_t th[NOWN + NFLIP];
    for (int i = 0; i < NOWN + NFLIP; i++) {
        w[i] = (struct worker){.b = b};
        snprintf(w[i].id, sizeof w[i].id, "it-conc-%d", i);
        pthread_create(&th[i], NULL, i < NOWN ? own_lifecycle : flip_shared, &w[i]);
    }
    int fails = 0;
    for (int i = 0; i < NOWN + NFLIP; i++) {
        pthread_join(th[i], NULL);
        fails += w[i].fails;
    }
    CHECK(fails == 0, "%d concurrent operations failed", fails);
    CHECK(counter("aborted.busy") > 0, "the shared actor never saw overlapping calls");
    printf("concurrent: %d ABORTED answers absorbed by retries\n", counter("aborted.busy"));

    pthread_t d[2];
    struct worker dw[2] = {{.b = b}, {.b = b}};
    for (int i = 0; i < 2; i++)
        pthread_create(&d[i], NULL, dup_create, &dw[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(d[i], NULL);
    CHECK(dw[0].fails + dw[1].fails == 100, "duplicate creates: %d/%d", dw[0].fails, dw[1].fails);
    CHECK(wait_create_done(b, "it-dup", 15000, NULL, &err) == DRV_CREATE_DONE, "dup: %s", err.msg);
    CHECK(get_status(b, "it-dup", &err) == DRV_ACTOR_RUNNING, "the winner's actor: %s", err.msg);
    CHECK(KUBE_OBJECTS() == 4, "the winner's template and Secret must stay (%d objects)",
          KUBE_OBJECTS());
    CHECK(b->ops->delete_(b, "it-dup", &err) == 0, "delete dup: %s", err.msg);
    CHECK(b->ops->delete_(b, "it-shared", &err) == 0, "delete shared: %s", err.msg);
    CHECK(ATE_ACTORS() == 0 && KUBE_OBJECTS() == 0, "left %d actors, %d objects", ATE_ACTORS(),
          KUBE_OBJECTS());
    b->ops->destroy(b);
}

/* ---- driver killed mid-create (run_fakes.sh kills this with SIGKILL) ---- */

void it_crash_create(void)
{
    const char *stage = env_or("OSS_IT_CRASH_STAGE", "template");
    bool tmpl = strcmp(stage, "template") == 0;
    struct drv_config c;
    base_config(&c);
    c.template_ready_timeout_secs = 120;
    struct drv_backend *b = open_backend(&c);
    if (tmpl)
        ctl_do("OSS_IT_KUBE_CTL", "faults", "{\"never_ready\":true}");
    else {
        ctl_do("OSS_IT_KUBE_CTL", "faults", "{}");
        ctl_do("OSS_IT_ATE_CTL", "faults", "{\"latency_ms\":{\"ResumeActor\":4000}}");
    }
    struct drv_sandbox_spec s;
    make_spec(&s, tmpl ? "it-crash-t" : "it-crash-r");
    s.name = (char *)(tmpl ? "crash-name-t" : "crash-name-r");
    oss_error err = {0};
    struct drv_actor a = {0};
    CHECK(b->ops->create(b, &s, &a, &err) == 0, "create: %s", err.msg);
    drv_actor_clear(&a);
    sleep(60); /* the background create goes on until the kill */
    fprintf(stderr, "crash-create: was not killed in time\n");
    exit(3);
}

/* The restarted driver takes both creates up from their records: each
 * finishes (the one cut in ResumeActor finds its actor and goes on), keeps
 * the name the gateway sent, a repeated create is ALREADY_EXISTS, and
 * deleting them removes everything. */
void it_after_crash(void)
{
    ctl_do("OSS_IT_KUBE_CTL", "faults", "{}");
    ctl_do("OSS_IT_ATE_CTL", "faults", "{}");
    struct drv_config c;
    base_config(&c);
    struct drv_backend *b = open_backend(&c);
    oss_error err = {0};
    struct drv_actor a = {0};
    CHECK(KUBE_OBJECTS() == 4, "expected the two half-made sandboxes' objects, got %d",
          KUBE_OBJECTS());

    static const char *const ids[] = {"it-crash-t", "it-crash-r"};
    static const char *const names[] = {"crash-name-t", "crash-name-r"};
    for (int i = 0; i < 2; i++) {
        int step = wait_create_done(b, ids[i], 20000, &a, &err);
        CHECK(step == DRV_CREATE_DONE, "%s after the restart: step %d %s %s", ids[i], step, err.msg,
              a.failure ? a.failure : "");
        CHECK(a.raw_status == DRV_ACTOR_RUNNING, "%s is %d", ids[i], a.raw_status);
        CHECK(a.name && strcmp(a.name, names[i]) == 0, "%s name after restart: %s", ids[i], a.name);
        drv_actor_clear(&a);
        struct drv_sandbox_spec s;
        make_spec(&s, ids[i]);
        int r = b->ops->create(b, &s, &a, &err);
        CHECK(r < 0 && err.code == GRPC_STATUS_ALREADY_EXISTS, "re-create must be ALREADY_EXISTS");
    }
    CHECK(b->ops->delete_(b, "it-crash-t", &err) == 0, "delete: %s", err.msg);
    CHECK(b->ops->delete_(b, "it-crash-r", &err) == 0, "delete: %s", err.msg);
    CHECK(ATE_ACTORS() == 0, "left an actor");
    CHECK(KUBE_OBJECTS() == 0, "left %d objects", KUBE_OBJECTS());
    b->ops->destroy(b);
}

/* api_plaintext: h2c only when asked for; TLS against it fails (control). */
static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static long status_kb(const char *key)
{
    _cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
    char line[256];
    size_t kl = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, kl) == 0)
            return strtol(line + kl + 1, NULL, 10);
    return -1;
}

struct getter {
    struct drv_backend *b;
    char id[32];
    int ok;
};

static void *one_get(void *arg)
{
    struct getter *g = arg;
    oss_error err = {0};
    g->ok = get_status(g->b, g->id, &err) == DRV_ACTOR_SUSPENDED;
    return NULL;
}

void it_bench(void)
{
    int n = atoi(env_or("OSS_IT_BENCH_N", "10000"));
    reset_fakes();
    char body[256];
    snprintf(body, sizeof body, "{\"atespace\":\"openshell\",\"count\":%d,\"other\":500}", n);
    ctl_do("OSS_IT_ATE_CTL", "seed", body);
    /* the worst case: the server sends the other atespace's actors too */
    ctl_do("OSS_IT_ATE_CTL", "faults", "{\"ignore_atespace\":true}");
    struct drv_config c;
    base_config(&c);
    c.api_timeout_ms = 60000;
    struct drv_backend *b = open_backend(&c);
    long rss0 = status_kb("VmRSS:");
    int64_t t[5];
    size_t got = 0;
    for (int i = 0; i < 5; i++) {
        struct drv_actor *v = NULL;
        oss_error err = {0};
        int64_t t0 = oss_mono_ns();
        int r = b->ops->list(b, &v, &got, &err);
        t[i] = oss_mono_ns() - t0;
        CHECK(r == 0, "list: %s", err.msg);
        CHECK(got == (size_t)n, "listed %zu of %d", got, n);
        drv_actor_list_free(v, got);
    }
    qsort(t, 5, sizeof t[0], cmp_i64);
    printf("bench: ListActors over %d actors (+500 of another atespace, filtered by the client), "
           "%d pages of <= 1000: "
           "median %.1f ms (min %.1f, max %.1f); VmRSS before %ld kB, VmHWM %ld kB\n",
           n, (n + 500 + 999) / 1000, t[2] / 1e6, t[0] / 1e6, t[4] / 1e6, rss0,
           status_kb("VmHWM:"));

    /* 100 concurrent GetActor calls, each on its own thread (the server's
     * worker threads do this), median of 5 rounds */
    enum { NG = 100 };
    static struct getter g[NG];
    pthread_t th[NG];
    for (int r = 0; r < 5; r++) {
        int64_t t0 = oss_mono_ns();
        for (int i = 0; i < NG; i++) {
            g[i] = (struct getter){.b = b};
            snprintf(g[i].id, sizeof g[i].id, "bench-%05d", (i * 97) % n);
            pthread_create(&th[i], NULL, one_get, &g[i]);
        }
        int ok = 0;
        for (int i = 0; i < NG; i++) {
            pthread_join(th[i], NULL);
            ok += g[i].ok;
        }
        t[r] = oss_mono_ns() - t0;
        CHECK(ok == NG, "%d of %d gets succeeded", ok, NG);
    }
    qsort(t, 5, sizeof t[0], cmp_i64);
    printf("bench: %d concurrent GetActor calls through the backend: median %.1f ms (min %.1f, "
           "max %.1f)\n",
           NG, t[2] / 1e6, t[0] / 1e6, t[4] / 1e6);
    b->ops->destroy(b);
}

/* The same lifecycle against a real cluster with a pre-provisioned template
 * (no Kubernetes access needed). */
void it_live(void)
{
    struct drv_config c;
    base_config(&c);
    c.api_endpoint = (char *)getenv("OSS_LIVE_ATEAPI_ENDPOINT");
    c.api_tls_ca_path = (char *)getenv("OSS_LIVE_ATEAPI_CA");
    c.api_bearer_token_path = (char *)getenv("OSS_LIVE_ATEAPI_TOKEN");
    c.atespace = (char *)getenv("OSS_LIVE_ATESPACE");
    c.default_namespace = (char *)getenv("OSS_LIVE_NAMESPACE");
    c.api_timeout_ms = 15000;
    c.api_long_timeout_ms = 60000;
    c.template_ready_timeout_secs = 600;
    struct drv_backend *b = open_backend(&c);
    char id[64];
    snprintf(id, sizeof id, "oss-live-%lx", (unsigned long)(oss_real_ms() & 0xffffffff));
    struct drv_sandbox_spec s;
    make_spec(&s, id);
    s.template_override = (char *)getenv("OSS_LIVE_TEMPLATE");
    oss_error err = {0};
    struct drv_actor a = {0};
    int r = create_wait(b, &s, 600000, &a, &err);
    CHECK(r == 0, "create: %s", err.msg);
    drv_actor_clear(&a);
    if (r == 0) {
        CHECK(get_status(b, id, &err) == DRV_ACTOR_RUNNING, "get: %s", err.msg);
        CHECK(listed(b, id, NULL), "not listed");
        CHECK(b->ops->suspend(b, id, &err) == 0, "suspend: %s", err.msg);
        CHECK(listed(b, id, NULL), "suspended actor not listed");
        CHECK(b->ops->resume(b, id, &err) == 0, "resume: %s", err.msg);
        CHECK(b->ops->delete_(b, id, &err) == 0, "delete: %s", err.msg);
        r = get_status(b, id, &err);
        CHECK(r < 0 && err.code == GRPC_STATUS_NOT_FOUND, "still there after delete");
    }
    b->ops->destroy(b);
}
