#include "watch.h"

#include "cleanup.h"
#include "convert.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <grpc/status.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct touched {
    char *id;
    uint64_t gen;
};

struct drv_watch {
    struct drv_backend *backend;
    int64_t interval_ms;

    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    bool running, stop, kicked;
    bool primed;    /* a listing has succeeded: state is the backend's */
    uint64_t batch; /* the last batch number handed out */

    /* what subscribers have been told, sorted by id */
    struct drv_actor *state;
    size_t nstate;
    struct drv_watch_sub *subs;

    /* ids a handler changed after generation N: a listing that started at
     * or before N must not override them */
    uint64_t gen;
    struct touched *touched;
    size_t ntouched;
};

struct drv_blob *drv_blob_ref(struct drv_blob *b)
{
    atomic_fetch_add(&b->refs, 1);
    return b;
}

void drv_blob_unref(struct drv_blob *b)
{
    if (b != NULL && atomic_fetch_sub(&b->refs, 1) == 1)
        free(b);
}

static struct drv_blob *pack_event(const Openshell__Compute__V1__WatchSandboxesEvent *ev)
{
    size_t n = openshell__compute__v1__watch_sandboxes_event__get_packed_size(ev);
    struct drv_blob *b = malloc(sizeof *b + n);
    if (b == NULL)
        abort();
    atomic_init(&b->refs, 1);
    b->len = openshell__compute__v1__watch_sandboxes_event__pack(ev, b->data);
    return b;
}

struct drv_blob *drv_watch_event_sandbox(const struct drv_actor *a)
{
    struct drv_pb_sandbox pb;
    drv_pb_sandbox_from_actor(a, &pb);
    Openshell__Compute__V1__WatchSandboxesSandboxEvent se;
    openshell__compute__v1__watch_sandboxes_sandbox_event__init(&se);
    se.sandbox = &pb.sb;
    Openshell__Compute__V1__WatchSandboxesEvent ev;
    openshell__compute__v1__watch_sandboxes_event__init(&ev);
    ev.payload_case = OPENSHELL__COMPUTE__V1__WATCH_SANDBOXES_EVENT__PAYLOAD_SANDBOX;
    ev.sandbox = &se;
    return pack_event(&ev);
}

struct drv_blob *drv_watch_event_deleted(const char *id)
{
    Openshell__Compute__V1__WatchSandboxesDeletedEvent de;
    openshell__compute__v1__watch_sandboxes_deleted_event__init(&de);
    de.sandbox_id = (char *)(uintptr_t)id;
    Openshell__Compute__V1__WatchSandboxesEvent ev;
    openshell__compute__v1__watch_sandboxes_event__init(&ev);
    ev.payload_case = OPENSHELL__COMPUTE__V1__WATCH_SANDBOXES_EVENT__PAYLOAD_DELETED;
    ev.deleted = &de;
    return pack_event(&ev);
}

static void broadcast(struct drv_watch *w, struct drv_blob *ev, uint64_t batch)
{
    for (struct drv_watch_sub *s = w->subs; s != NULL; s = s->next)
        s->push(s, ev, batch);
    drv_blob_unref(ev);
}

static int streq(const char *a, const char *b)
{
    return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

/* Everything the emitted DriverSandbox depends on. */
static bool actor_same(const struct drv_actor *a, const struct drv_actor *b)
{
    return a->status == b->status && a->raw_status == b->raw_status && a->version == b->version &&
           streq(a->name, b->name) && streq(a->namespace_, b->namespace_) &&
           streq(a->failure, b->failure) && streq(a->template_name, b->template_name) &&
           streq(a->address, b->address) && a->create_step == b->create_step;
}

static int cmp_actor(const void *x, const void *y)
{
    const struct drv_actor *a = x, *b = y;
    return strcmp(a->id != NULL ? a->id : "", b->id != NULL ? b->id : "");
}

static struct drv_actor *state_find(struct drv_watch *w, const char *id)
{
    struct drv_actor key = {.id = (char *)(uintptr_t)id};
    if (w->nstate == 0) /* bsearch() wants a non-NULL base even for 0 */
        return NULL;
    return bsearch(&key, w->state, w->nstate, sizeof *w->state, cmp_actor);
}

static void state_remove(struct drv_watch *w, struct drv_actor *a)
{
    size_t i = (size_t)(a - w->state);
    drv_actor_clear(a);
    memmove(&w->state[i], &w->state[i + 1], (w->nstate - i - 1) * sizeof *w->state);
    w->nstate--;
}

/* Keeps the state sorted: binary search for the slot, then one memmove. */
static void state_insert(struct drv_watch *w, const struct drv_actor *a)
{
    struct drv_actor *n = realloc(w->state, (w->nstate + 1) * sizeof *n);
    if (n == NULL)
        abort();
    w->state = n;
    size_t lo = 0, hi = w->nstate;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_actor(&w->state[mid], a) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(&w->state[lo + 1], &w->state[lo], (w->nstate - lo) * sizeof *w->state);
    drv_actor_copy(&w->state[lo], a);
    w->nstate++;
}

static void touch(struct drv_watch *w, const char *id)
{
    w->gen++;
    for (size_t i = 0; i < w->ntouched; i++)
        if (strcmp(w->touched[i].id, id) == 0) {
            w->touched[i].gen = w->gen;
            return;
        }
    struct touched *n = realloc(w->touched, (w->ntouched + 1) * sizeof *n);
    if (n == NULL)
        abort();
    w->touched = n;
    n[w->ntouched].id = strdup(id);
    if (n[w->ntouched].id == NULL)
        abort();
    n[w->ntouched++].gen = w->gen;
}

static bool touched_after(struct drv_watch *w, const char *id, uint64_t gen)
{
    for (size_t i = 0; i < w->ntouched; i++)
        if (w->touched[i].gen > gen && strcmp(w->touched[i].id, id) == 0)
            return true;
    return false;
}

static void prune_touched(struct drv_watch *w, uint64_t gen)
{
    size_t j = 0;
    for (size_t i = 0; i < w->ntouched; i++) {
        if (w->touched[i].gen <= gen)
            free(w->touched[i].id);
        else
            w->touched[j++] = w->touched[i];
    }
    w->ntouched = j;
}

static void on_notify(void *ctx, const char *id);

int drv_watch_new(struct drv_backend *b, int64_t interval_ms, struct drv_watch **ret,
                  oss_error *err)
{
    struct drv_watch *w = calloc(1, sizeof *w);
    if (w == NULL)
        return oss_err_errno(err, "calloc");
    w->backend = b;
    w->interval_ms = interval_ms;
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cond, &ca);
    pthread_condattr_destroy(&ca);
    drv_backend_set_notify(b, on_notify, w);
    *ret = w;
    return 0;
}

/* Applies a listing that started at generation `gen`.  Both the state and
 * the (now sorted) listing are walked once, side by side, and the new state
 * is built from them: O(n log n) for the sort, O(n) for the rest, so a first
 * listing of 10,000 actors costs no more than a later one. */
static void apply(struct drv_watch *w, struct drv_actor *list, size_t n, uint64_t gen)
{
    if (n > 0)
        qsort(list, n, sizeof *list, cmp_actor);
    /* one batch for the whole diff; the first listing is the state itself */
    uint64_t batch = w->primed ? ++w->batch : DRV_WATCH_INITIAL;
    w->primed = true;
    struct drv_actor *next = calloc(w->nstate + n + 1, sizeof *next);
    if (next == NULL)
        abort();
    size_t k = 0, i = 0, j = 0;
    const char *prev = NULL; /* id of the last listed actor taken up */
    while (i < w->nstate || j < n) {
        if (j < n && (list[j].id == NULL || (prev != NULL && strcmp(prev, list[j].id) == 0))) {
            j++; /* no id, or the same actor listed twice */
            continue;
        }
        int c = i == w->nstate ? 1 : j == n ? -1 : strcmp(w->state[i].id, list[j].id);
        if (c < 0) { /* in state only: vanished */
            struct drv_actor *old = &w->state[i++];
            if (touched_after(w, old->id, gen)) {
                next[k++] = *old; /* a handler changed it after the listing began */
            } else {
                broadcast(w, drv_watch_event_deleted(old->id), batch);
                drv_actor_clear(old);
            }
            continue;
        }
        struct drv_actor *cur = &list[j++];
        prev = cur->id; /* stays valid: moved strings are not freed */
        if (c > 0) {    /* listed only: new */
            if (touched_after(w, cur->id, gen))
                continue;
            broadcast(w, drv_watch_event_sandbox(cur), batch);
        } else {
            struct drv_actor *old = &w->state[i++];
            if (touched_after(w, old->id, gen) || actor_same(old, cur)) {
                next[k++] = *old;
                continue;
            }
            broadcast(w, drv_watch_event_sandbox(cur), batch);
            drv_actor_clear(old);
        }
        next[k++] = *cur;
        memset(cur, 0, sizeof *cur); /* moved */
    }
    free(w->state);
    w->state = next;
    w->nstate = k;
    prune_touched(w, gen);
}

int drv_watch_poll_once(struct drv_watch *w, oss_error *err)
{
    pthread_mutex_lock(&w->lock);
    uint64_t gen = w->gen;
    pthread_mutex_unlock(&w->lock);

    struct drv_actor *list = NULL;
    size_t n = 0;
    /* the listing runs without the lock: it may take long and handlers
     * must keep reporting their changes meanwhile */
    if (w->backend->ops->list(w->backend, &list, &n, err) < 0)
        return -1; /* keep the old state: a failed list must not look like deletions */

    pthread_mutex_lock(&w->lock);
    apply(w, list, n, gen);
    pthread_mutex_unlock(&w->lock);
    drv_actor_list_free(list, n);
    return 0;
}

static void *poller(void *arg)
{
    struct drv_watch *w = arg;
    int failures = 0;
    for (;;) {
        oss_error err = {0};
        if (drv_watch_poll_once(w, &err) < 0) {
            /* log the first failure and then every 60th, not every second */
            if (failures++ % 60 == 0)
                log_warn("watch: listing actors failed: %s", err.msg);
        } else if (failures > 0) {
            log_info("watch: listing actors works again after %d failures", failures);
            failures = 0;
        }

        pthread_mutex_lock(&w->lock);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += w->interval_ms / 1000;
        until.tv_nsec += (w->interval_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!w->stop && !w->kicked)
            if (pthread_cond_timedwait(&w->cond, &w->lock, &until) == ETIMEDOUT)
                break;
        bool stop = w->stop;
        w->kicked = false;
        pthread_mutex_unlock(&w->lock);
        if (stop)
            return NULL;
    }
}

int drv_watch_start(struct drv_watch *w, oss_error *err)
{
    int r = pthread_create(&w->thread, NULL, poller, w);
    if (r != 0) {
        errno = r;
        return oss_err_errno(err, "starting the watch poller");
    }
    w->running = true;
    return 0;
}

void drv_watch_stop(struct drv_watch *w)
{
    if (!w->running)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    w->running = false;
}

void drv_watch_free(struct drv_watch *w)
{
    if (w == NULL)
        return;
    drv_backend_set_notify(w->backend, NULL, NULL); /* waits for a running on_notify */
    drv_watch_stop(w);
    drv_actor_list_free(w->state, w->nstate);
    prune_touched(w, UINT64_MAX);
    free(w->touched);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
    free(w);
}

void drv_watch_subscribe(struct drv_watch *w, struct drv_watch_sub *s)
{
    pthread_mutex_lock(&w->lock);
    for (size_t i = 0; i < w->nstate; i++) {
        struct drv_blob *ev = drv_watch_event_sandbox(&w->state[i]);
        s->push(s, ev, DRV_WATCH_INITIAL);
        drv_blob_unref(ev);
    }
    s->next = w->subs;
    w->subs = s;
    pthread_mutex_unlock(&w->lock);
}

void drv_watch_unsubscribe(struct drv_watch *w, struct drv_watch_sub *s)
{
    pthread_mutex_lock(&w->lock);
    for (struct drv_watch_sub **p = &w->subs; *p != NULL; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            break;
        }
    s->next = NULL;
    pthread_mutex_unlock(&w->lock);
}

void drv_watch_upsert(struct drv_watch *w, const struct drv_actor *a)
{
    if (a->id == NULL)
        return;
    pthread_mutex_lock(&w->lock);
    touch(w, a->id);
    struct drv_actor *old = state_find(w, a->id);
    if (old == NULL || !actor_same(old, a)) {
        broadcast(w, drv_watch_event_sandbox(a), ++w->batch);
        if (old != NULL) {
            drv_actor_clear(old);
            drv_actor_copy(old, a);
        } else {
            state_insert(w, a);
        }
    }
    pthread_mutex_unlock(&w->lock);
}

void drv_watch_forget(struct drv_watch *w, const char *id)
{
    pthread_mutex_lock(&w->lock);
    touch(w, id);
    struct drv_actor *old = state_find(w, id);
    if (old != NULL)
        state_remove(w, old);
    /* always: the gateway keeps a deleted=true row until it sees this */
    broadcast(w, drv_watch_event_deleted(id), ++w->batch);
    pthread_mutex_unlock(&w->lock);
}

/* The backend's background work changed a sandbox: read it and tell. */
static void on_notify(void *ctx, const char *id)
{
    struct drv_watch *w = ctx;
    struct drv_actor a = {0};
    oss_error err = {0};
    if (w->backend->ops->get(w->backend, id, &a, &err) == 0) {
        drv_watch_upsert(w, &a);
        drv_actor_clear(&a);
        return;
    }
    if (err.domain != OSS_ERR_GRPC || err.code != GRPC_STATUS_NOT_FOUND)
        return; /* the next poll tells */
    /* gone (a cancelled create): Deleted once, only if it was shown */
    pthread_mutex_lock(&w->lock);
    bool shown = state_find(w, id) != NULL;
    pthread_mutex_unlock(&w->lock);
    if (shown)
        drv_watch_forget(w, id);
}

void drv_watch_kick(struct drv_watch *w)
{
    pthread_mutex_lock(&w->lock);
    w->kicked = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}
