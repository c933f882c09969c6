/* TEST DOUBLE, never shipped: an in-memory backend with injectable latency,
 * linked only into openshell-driver-substrate-testmem so the gRPC server,
 * the watch poller and the phase rules can be tested without Substrate.
 * It replaces driver/backends.c's factory, so whatever --backend says, this
 * binary serves from memory.
 *
 * Knobs (environment, test-only):
 *   OSS_TESTMEM_CREATE_DELAY_MS   create holds this long (status RESUMING)
 *   OSS_TESTMEM_RESUME_DELAY_MS   StartSandbox holds this long (RESUMING)
 *   OSS_TESTMEM_SUSPEND_DELAY_MS  StopSandbox holds this long (SUSPENDING)
 *   OSS_TESTMEM_REQUIRE_DIGEST=1  validate refuses images without @sha256:
 *   OSS_TESTMEM_SLOW_MS           create of an image containing "slow-create"
 *                                 holds this long (default 5000)
 *   OSS_TESTMEM_SEED=N            start with N running sandboxes seed-000000..
 *   OSS_TESTMEM_LIST_DELAY_MS     every listing holds this long (a slow API)
 * An image containing "fail-precondition" / "fail-internal" makes create
 * fail with that status after the delay. */
#include "backends.h"

#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <grpc/status.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct mem {
    pthread_mutex_t lock;
    struct drv_actor *a;
    size_t n;
    long create_ms, resume_ms, suspend_ms, slow_ms, list_ms;
    bool require_digest;
};

static long env_ms(const char *name)
{
    const char *v = getenv(name);
    long r = 0;
    if (v != NULL && oss_parse_long(v, 0, 600000, &r) < 0)
        r = 0;
    return r;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static struct drv_actor *find(struct mem *m, const char *id)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->a[i].id, id) == 0)
            return &m->a[i];
    return NULL;
}

static int not_found(const char *id, oss_error *err)
{
    return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_NOT_FOUND, "sandbox %s not found", id);
}

static void set_status(struct mem *m, const char *id, int st)
{
    pthread_mutex_lock(&m->lock);
    struct drv_actor *a = find(m, id);
    if (a != NULL) {
        a->status = (enum drv_actor_status)st;
        a->raw_status = st;
        a->version++;
    }
    pthread_mutex_unlock(&m->lock);
}

static int mem_validate(struct drv_backend *b, const struct drv_sandbox_spec *s, oss_error *err)
{
    struct mem *m = b->impl;
    if (m->require_digest && s->template_override == NULL &&
        (s->image == NULL || strstr(s->image, "@sha256:") == NULL))
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_FAILED_PRECONDITION,
                       "image \"%s\" is not pinned by digest: use name@sha256:<digest>",
                       s->image != NULL ? s->image : "");
    return 0;
}

static int mem_create(struct drv_backend *b, const struct drv_sandbox_spec *s,
                      struct drv_actor *ret, oss_error *err)
{
    struct mem *m = b->impl;
    pthread_mutex_lock(&m->lock);
    if (find(m, s->id) != NULL) {
        pthread_mutex_unlock(&m->lock);
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_ALREADY_EXISTS,
                       "sandbox %s already exists: delete it first or pick another id", s->id);
    }
    struct drv_actor *na = realloc(m->a, (m->n + 1) * sizeof *na);
    if (na == NULL)
        abort();
    m->a = na;
    struct drv_actor *a = &m->a[m->n++];
    memset(a, 0, sizeof *a);
    a->id = strdup(s->id);
    a->name = strdup(s->name != NULL ? s->name : s->id);
    a->namespace_ = strdup(s->namespace_);
    a->template_name = strdup(s->template_override != NULL ? s->template_override : s->id);
    a->status = DRV_ACTOR_RESUMING;
    a->raw_status = DRV_ACTOR_RESUMING;
    a->version = 1;
    pthread_mutex_unlock(&m->lock);

    const char *img = s->image != NULL ? s->image : "";
    sleep_ms(strstr(img, "slow-create") != NULL ? m->slow_ms : m->create_ms);

    int fail = strstr(img, "fail-precondition") != NULL ? GRPC_STATUS_FAILED_PRECONDITION
               : strstr(img, "fail-internal") != NULL   ? GRPC_STATUS_INTERNAL
                                                        : 0;
    pthread_mutex_lock(&m->lock);
    a = find(m, s->id);
    if (fail != 0 && a != NULL) { /* roll back, as a real backend must */
        size_t i = (size_t)(a - m->a);
        drv_actor_clear(a);
        memmove(&m->a[i], &m->a[i + 1], (m->n - i - 1) * sizeof *m->a);
        m->n--;
        pthread_mutex_unlock(&m->lock);
        return oss_err(err, OSS_ERR_GRPC, fail, "injected failure for image %s", img);
    }
    if (a == NULL) {
        pthread_mutex_unlock(&m->lock);
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_ABORTED, "sandbox deleted while creating");
    }
    a->status = DRV_ACTOR_RUNNING;
    a->raw_status = DRV_ACTOR_RUNNING;
    a->version++;
    drv_actor_copy(ret, a);
    pthread_mutex_unlock(&m->lock);
    return 0;
}

static int transition(struct mem *m, const char *id, int during, int after, long ms, oss_error *err)
{
    pthread_mutex_lock(&m->lock);
    bool ok = find(m, id) != NULL;
    pthread_mutex_unlock(&m->lock);
    if (!ok)
        return not_found(id, err);
    set_status(m, id, during);
    sleep_ms(ms);
    set_status(m, id, after);
    return 0;
}

static int mem_resume(struct drv_backend *b, const char *id, oss_error *err)
{
    struct mem *m = b->impl;
    return transition(m, id, DRV_ACTOR_RESUMING, DRV_ACTOR_RUNNING, m->resume_ms, err);
}

static int mem_suspend(struct drv_backend *b, const char *id, oss_error *err)
{
    struct mem *m = b->impl;
    return transition(m, id, DRV_ACTOR_SUSPENDING, DRV_ACTOR_SUSPENDED, m->suspend_ms, err);
}

static int mem_delete(struct drv_backend *b, const char *id, oss_error *err)
{
    struct mem *m = b->impl;
    pthread_mutex_lock(&m->lock);
    struct drv_actor *a = find(m, id);
    if (a == NULL) {
        pthread_mutex_unlock(&m->lock);
        return not_found(id, err);
    }
    size_t i = (size_t)(a - m->a);
    drv_actor_clear(a);
    memmove(&m->a[i], &m->a[i + 1], (m->n - i - 1) * sizeof *m->a);
    m->n--;
    pthread_mutex_unlock(&m->lock);
    return 0;
}

static int mem_get(struct drv_backend *b, const char *id, struct drv_actor *ret, oss_error *err)
{
    struct mem *m = b->impl;
    pthread_mutex_lock(&m->lock);
    struct drv_actor *a = find(m, id);
    if (a != NULL)
        drv_actor_copy(ret, a);
    pthread_mutex_unlock(&m->lock);
    return a != NULL ? 0 : not_found(id, err);
}

static int mem_list(struct drv_backend *b, struct drv_actor **ret, size_t *ret_n, oss_error *err)
{
    struct mem *m = b->impl;
    sleep_ms(m->list_ms);
    pthread_mutex_lock(&m->lock);
    struct drv_actor *l = calloc(m->n ? m->n : 1, sizeof *l);
    if (l == NULL)
        abort();
    for (size_t i = 0; i < m->n; i++)
        drv_actor_copy(&l[i], &m->a[i]);
    *ret_n = m->n;
    pthread_mutex_unlock(&m->lock);
    *ret = l;
    return 0;
}

static void mem_destroy(struct drv_backend *b)
{
    struct mem *m = b->impl;
    drv_actor_list_free(m->a, m->n);
    pthread_mutex_destroy(&m->lock);
    free(m);
    free(b);
}

static const struct drv_backend_ops mem_ops = {
    .name = "testmem",
    .validate = mem_validate,
    .create = mem_create,
    .resume = mem_resume,
    .suspend = mem_suspend,
    .delete_ = mem_delete,
    .get = mem_get,
    .list = mem_list,
    .destroy = mem_destroy,
};

static void seed(struct mem *m, long n)
{
    m->a = calloc((size_t)n + 1, sizeof *m->a);
    if (m->a == NULL)
        abort();
    for (long i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "seed-%06ld", i);
        struct drv_actor *a = &m->a[m->n++];
        a->id = strdup(id);
        a->name = strdup(id);
        a->namespace_ = strdup("openshell");
        a->template_name = strdup(id);
        a->status = DRV_ACTOR_RUNNING;
        a->raw_status = DRV_ACTOR_RUNNING;
        a->version = 1;
    }
}

int drv_backend_open(const struct drv_config *c, struct drv_backend **ret, oss_error *err)
{
    (void)c;
    struct mem *m = calloc(1, sizeof *m);
    struct drv_backend *b = calloc(1, sizeof *b);
    if (m == NULL || b == NULL) {
        free(m);
        free(b);
        return oss_err_errno(err, "calloc");
    }
    pthread_mutex_init(&m->lock, NULL);
    m->create_ms = env_ms("OSS_TESTMEM_CREATE_DELAY_MS");
    m->resume_ms = env_ms("OSS_TESTMEM_RESUME_DELAY_MS");
    m->suspend_ms = env_ms("OSS_TESTMEM_SUSPEND_DELAY_MS");
    m->slow_ms = getenv("OSS_TESTMEM_SLOW_MS") != NULL ? env_ms("OSS_TESTMEM_SLOW_MS") : 5000;
    const char *d = getenv("OSS_TESTMEM_REQUIRE_DIGEST");
    m->require_digest = d != NULL && strcmp(d, "1") == 0;
    m->list_ms = env_ms("OSS_TESTMEM_LIST_DELAY_MS");
    const char *sv = getenv("OSS_TESTMEM_SEED");
    long nseed = 0;
    if (sv != NULL && oss_parse_long(sv, 0, 1000000, &nseed) == 0)
        seed(m, nseed);
    b->ops = &mem_ops;
    b->impl = m;
    *ret = b;
    return 0;
}
