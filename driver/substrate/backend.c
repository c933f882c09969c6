/* The Substrate backend's lifecycle (drv_backend_ops): see
 * docs/platform/substrate.md and docs/platform/gateway.md.
 *
 *   create   (answered at once) validate -> existing actor? -> the record
 *            Secret (record.h: the gateway's name, state "pending", the token
 *            when our template needs it) -> our ActorTemplate; then in the
 *            background (one job per sandbox): atespace -> wait template
 *            Ready (DependenciesNotReady) -> CreateActor -> ResumeActor
 *            (Starting) -> record "done".  A failed job removes the actor and
 *            our template and leaves the record "failed" (no token), which
 *            Get/List/watch show as Ready=False CreateFailed until Delete.
 *   suspend  SuspendActor;  resume  ResumeActor;
 *   delete   cancels a job in flight (it stops at its next step), then:
 *            resume if PAUSED (a paused actor cannot be suspended), suspend
 *            (FAILED_PRECONDITION tolerated), DeleteActor, then the
 *            template's golden actor, the template (remove_template) and the
 *            record the driver owns.
 *
 * Records are listed once, lazily, at the first call (a driver restart):
 * names come back, and pending creates are taken up again by new jobs.
 * A pre-provisioned template (spec.template_override) is used as is: never
 * applied, waited for or deleted; its sandbox still gets a record. */
#include "substrate.h"

#include "actor_map.h"
#include "ateapi.h"
#include "buf.h"
#include "cleanup.h"
#include "kube.h"
#include "log.h"
#include "record.h"
#include "template.h"
#include "drv_util.h"
#include "util.h"

#include <errno.h>
#include <grpc/status.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_READY_TIMEOUT_S 300
#define READY_POLL_MS           250

/* One sandbox this driver holds a record of. */
struct sbx {
    char *id;
    char *name;
    char tmpl[DRV_TEMPLATE_NAME_MAX];
    bool ours; /* the template is ours: deleted with the sandbox */
    enum drv_record_state state;
    enum drv_create_step step; /* while pending */
    char *failure;             /* while failed */
    uint64_t version;          /* bumped on every change shown while not done */
    bool admitting;            /* CreateSandbox is still writing the record */
    bool deleting;
    bool hidden;  /* deleted (answered); waiting for the golden boot to end to clean up */
    bool cancel;  /* the job stops at its next step */
    bool has_job; /* a job thread exists (joined by whoever removes it) */
    pthread_t job;
    struct substrate *owner;
};

struct substrate {
    struct drv_backend *be;
    const struct drv_config *c;
    struct drv_ateapi *api;
    struct drv_kube *kube;
    const char *atespace;
    pthread_mutex_t lock; /* guards what follows */
    pthread_cond_t cond;  /* admitting ended, a job ended, cancel was set */
    bool atespace_ready;
    bool loaded; /* the records have been listed */
    bool shutting_down;
    struct sbx **v;
    size_t n;
    pthread_mutex_t load_lock; /* one listing of the records at a time */
};

/* For buffers that held a credential (the Secret carries the token). */
static void secret_buf_freep(oss_buf *b)
{
    if (b->data)
        explicit_bzero(b->data, b->cap);
    oss_buf_free(b);
}
#define _cleanup_secret_buf_ __attribute__((cleanup(secret_buf_freep)))

static struct substrate *S(struct drv_backend *b)
{
    return b->impl;
}

static bool is_grpc(const oss_error *e, int code)
{
    return e->domain == OSS_ERR_GRPC && e->code == code;
}

/* ---- the table of records (s->lock held) ---- */

static struct sbx *find(struct substrate *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i]->id, id) == 0)
            return s->v[i];
    return NULL;
}

static struct sbx *add(struct substrate *s, const char *id, const char *name, const char *tmpl,
                       bool ours, enum drv_record_state st)
{
    struct sbx *x = calloc(1, sizeof *x);
    struct sbx **nv = realloc(s->v, (s->n + 1) * sizeof *nv);
    if (x == NULL || nv == NULL)
        abort();
    x->id = drv_strdup(id);
    x->name = drv_strdup(name);
    snprintf(x->tmpl, sizeof x->tmpl, "%s", tmpl);
    x->ours = ours;
    x->state = st;
    x->step = st == DRV_RECORD_PENDING ? DRV_CREATE_DEPENDENCIES : DRV_CREATE_DONE;
    x->version = 1;
    s->v = nv;
    s->v[s->n++] = x;
    return x;
}

static void drop(struct substrate *s, struct sbx *x)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i] == x) {
            s->v[i] = s->v[--s->n];
            break;
        }
    free(x->id);
    free(x->name);
    free(x->failure);
    free(x);
}

/* What Get answers for a sandbox whose create has not finished (or
 * failed): the actor, if any, is not shown (SUSPENDED before its first
 * resume must not read as Stopped). */
static void synth(struct substrate *s, const struct sbx *x, struct drv_actor *a)
{
    memset(a, 0, sizeof *a);
    a->id = drv_strdup(x->id);
    a->name = drv_strdup(x->name);
    a->namespace_ = drv_strdup(drv_template_namespace(s->c));
    a->template_name = drv_strdup(x->tmpl);
    a->version = x->version;
    if (x->state == DRV_RECORD_FAILED) {
        a->create_step = DRV_CREATE_FAILED;
        a->failure = drv_strdup(x->failure != NULL ? x->failure : "create failed");
        a->status = a->raw_status = DRV_ACTOR_CRASHED;
    } else {
        a->create_step = x->step;
        a->status = a->raw_status = DRV_ACTOR_RESUMING;
    }
}

static int ensure_atespace(struct substrate *s, oss_error *err)
{
    pthread_mutex_lock(&s->lock);
    bool ready = s->atespace_ready;
    pthread_mutex_unlock(&s->lock);
    if (ready)
        return 0;
    if (drv_ateapi_create_atespace(s->api, s->atespace, err) < 0) {
        oss_err_prefix(err, "creating atespace %s", s->atespace);
        return -1;
    }
    pthread_mutex_lock(&s->lock);
    s->atespace_ready = true;
    pthread_mutex_unlock(&s->lock);
    return 0;
}

static int64_t ready_timeout_ms(const struct drv_config *c)
{
    return (c->template_ready_timeout_secs > 0 ? c->template_ready_timeout_secs
                                               : DEFAULT_READY_TIMEOUT_S) *
           1000;
}

/* Sleeps up to ms unless the job is cancelled; true when cancelled. */
static bool job_sleep(struct substrate *s, struct sbx *x, int64_t ms)
{
    struct timespec until = drv_mono_deadline_ms(ms);
    pthread_mutex_lock(&s->lock);
    while (!x->cancel)
        if (pthread_cond_timedwait(&s->cond, &s->lock, &until) == ETIMEDOUT)
            break;
    bool c = x->cancel;
    pthread_mutex_unlock(&s->lock);
    return c;
}

static bool cancelled(struct substrate *s, struct sbx *x)
{
    pthread_mutex_lock(&s->lock);
    bool c = x->cancel;
    pthread_mutex_unlock(&s->lock);
    return c;
}

/* The CRD never reports Failed (docs/platform/substrate.md, "Golden actors"),
 * so the only way to notice a
 * template that cannot boot its golden actor is our own deadline.  1 =
 * cancelled. */
static int wait_template_ready(struct substrate *s, struct sbx *x, const char *ns, const char *name,
                               oss_error *err)
{
    int64_t end = oss_mono_ms() + ready_timeout_ms(s->c);
    char last[64] = "";
    for (;;) {
        struct drv_kube_obj o;
        if (drv_kube_get(s->kube, DRV_KUBE_ACTOR_TEMPLATE, ns, name, &o, err) < 0) {
            oss_err_prefix(err, "waiting for ActorTemplate %s/%s", ns, name);
            return -1;
        }
        if (strcmp(o.phase, "Ready") == 0)
            return 0;
        snprintf(last, sizeof last, "%s", o.phase);
        int64_t left = end - oss_mono_ms();
        if (left <= 0)
            return oss_err(err, OSS_ERR_TIMEOUT, 0,
                           "ActorTemplate %s/%s not Ready after %lld s (phase \"%s\"): its "
                           "golden actor did not boot",
                           ns, name, (long long)(ready_timeout_ms(s->c) / 1000), last);
        if (job_sleep(s, x, left < READY_POLL_MS ? left : READY_POLL_MS))
            return 1;
    }
}

static int sub_validate(struct drv_backend *b, const struct drv_sandbox_spec *spec, oss_error *err)
{
    struct drv_template_plan p;
    return drv_template_plan(spec, S(b)->c, &p, err);
}

/* Brings an actor down to SUSPENDED and deletes it; used by delete and by
 * a failed create. */
static int remove_actor(struct substrate *s, const char *id, oss_error *err)
{
    struct drv_actor a = {0};
    if (drv_ateapi_get_actor(s->api, s->atespace, id, &a, err) < 0)
        return -1;
    int st = a.raw_status;
    drv_actor_clear(&a);
    if (st == DRV_ACTOR_PAUSED || st == DRV_ACTOR_PAUSING) {
        /* a paused actor keeps its snapshot on one node: resume it so the
         * suspend below can cut a normal one and free the worker */
        oss_error e = {0};
        if (drv_ateapi_transition(s->api, DRV_ATEAPI_RESUME, s->atespace, id, NULL, &e) < 0 &&
            !is_grpc(&e, GRPC_STATUS_FAILED_PRECONDITION)) {
            *err = e;
            oss_err_prefix(err, "resuming paused actor %s before deleting it", id);
            return -1;
        }
    }
    if (st != DRV_ACTOR_SUSPENDED) {
        oss_error e = {0};
        if (drv_ateapi_transition(s->api, DRV_ATEAPI_SUSPEND, s->atespace, id, NULL, &e) < 0 &&
            !is_grpc(&e, GRPC_STATUS_FAILED_PRECONDITION)) {
            *err = e;
            oss_err_prefix(err, "suspending actor %s before deleting it", id);
            return -1;
        }
    }
    if (drv_ateapi_delete_actor(s->api, s->atespace, id, err) < 0) {
        oss_err_prefix(err, "deleting actor %s", id);
        return -1;
    }
    return 0;
}

/* Reads an object the driver may delete: 1 with *o filled when it exists
 * and carries our ownership annotation, 0 when it is absent or someone
 * else's (a template made under a colliding name is never touched), -1 on
 * an error. */
static int get_owned(struct substrate *s, enum drv_kube_kind kind, const char *name,
                     struct drv_kube_obj *o, oss_error *err)
{
    oss_error e = {0};
    if (drv_kube_get(s->kube, kind, drv_template_namespace(s->c), name, o, &e) < 0) {
        if (e.domain == OSS_ERR_HTTP && e.code == 404)
            return 0;
        *err = e;
        return -1;
    }
    return o->owned ? 1 : 0;
}

/* Deletes an object only when it is ours (get_owned). */
static int delete_owned(struct substrate *s, enum drv_kube_kind kind, const char *name,
                        oss_error *err)
{
    struct drv_kube_obj o;
    int r = get_owned(s, kind, name, &o, err);
    if (r <= 0)
        return r;
    return drv_kube_delete(s->kube, kind, drv_template_namespace(s->c), name, err);
}

/* Removes a template the driver owns together with its golden actor.
 * Substrate's controller does nothing when a template goes, so without this
 * every deleted sandbox leaves a SUSPENDED actor in ate-golden (and its
 * snapshot, which no Substrate call removes: docs/substrate-backend.md, "What a
 * delete leaves behind").  Order (docs/platform/substrate.md, "Deleting
 * actors, templates and snapshots"): the golden actor before its
 * template, and only once the template is Ready: by then the controller has
 * suspended it and is done with it; before that, deleting it would break
 * the controller's next ResumeActor, so a template that never got Ready is
 * deleted alone and its golden actor stays.  *ret_golden_left is set when a
 * golden actor had to be left. */
static int remove_template(struct substrate *s, const char *name, bool *ret_golden_left,
                           oss_error *err)
{
    struct drv_kube_obj o;
    oss_error e = {0};
    *ret_golden_left = false;
    int r = get_owned(s, DRV_KUBE_ACTOR_TEMPLATE, name, &o, err);
    if (r <= 0)
        return r;
    if (o.golden_actor_id[0] != '\0') {
        if (strcmp(o.phase, "Ready") == 0) {
            if (drv_ateapi_delete_actor(s->api, DRV_GOLDEN_ATESPACE, o.golden_actor_id, &e) < 0 &&
                !is_grpc(&e, GRPC_STATUS_NOT_FOUND)) {
                *err = e;
                oss_err_prefix(err, "deleting golden actor %s/%s of ActorTemplate %s",
                               DRV_GOLDEN_ATESPACE, o.golden_actor_id, name);
                return -1; /* keep the template: it is how the actor is found again */
            }
        } else {
            *ret_golden_left = true;
        }
    }
    return drv_kube_delete(s->kube, DRV_KUBE_ACTOR_TEMPLATE, drv_template_namespace(s->c), name,
                           err);
}

static int record_patch(struct substrate *s, const char *id, enum drv_record_state st,
                        const char *failure, oss_error *err)
{
    char sname[DRV_SECRET_NAME_MAX];
    if (drv_secret_name(id, sname, sizeof sname, err) < 0)
        return -1;
    _cleanup_buf_ oss_buf body = OSS_BUF_INIT;
    drv_record_state_patch(st, failure, &body);
    if (drv_kube_merge_patch(s->kube, DRV_KUBE_SECRET, drv_template_namespace(s->c), sname,
                             body.data, err) < 0) {
        oss_err_prefix(err, "recording the create as %s", drv_record_state_name(st));
        return -1;
    }
    return 0;
}

/* ---- the background part of a create ---- */

static void set_step(struct substrate *s, struct sbx *x, enum drv_create_step step)
{
    pthread_mutex_lock(&s->lock);
    bool changed = x->step != step;
    x->step = step;
    if (changed)
        x->version++;
    pthread_mutex_unlock(&s->lock);
    if (changed)
        drv_backend_notify(s->be, x->id);
}

/* CreateActor, tolerating the actor an earlier attempt (or an earlier
 * driver, for a record taken up after a restart) made from this
 * template. */
static int create_actor(struct substrate *s, struct sbx *x, oss_error *err)
{
    const char *ns = drv_template_namespace(s->c);
    struct drv_actor actor = {0};
    unsigned attempts = 0;
    if (drv_ateapi_create_actor(s->api, s->atespace, x->id, ns, x->tmpl, &actor, &attempts, err) ==
        0) {
        drv_actor_clear(&actor);
        return 0;
    }
    if (!is_grpc(err, GRPC_STATUS_ALREADY_EXISTS))
        return -1;
    /* the record says this create is ours and pending: an actor of this id
     * from the same template is its own earlier attempt */
    oss_error ge = {0};
    if (drv_ateapi_get_actor(s->api, s->atespace, x->id, &actor, &ge) == 0) {
        bool same = actor.template_name != NULL && strcmp(actor.template_name, x->tmpl) == 0;
        drv_actor_clear(&actor);
        if (same) {
            oss_err_clear(err);
            return 0;
        }
    }
    return -1;
}

static int resume_first(struct substrate *s, struct sbx *x, oss_error *err)
{
    if (drv_ateapi_transition(s->api, DRV_ATEAPI_RESUME, s->atespace, x->id, NULL, err) == 0)
        return 0;
    /* taken up after a restart: an earlier driver's resume may have run */
    if (is_grpc(err, GRPC_STATUS_FAILED_PRECONDITION)) {
        struct drv_actor a = {0};
        oss_error e = {0};
        if (drv_ateapi_get_actor(s->api, s->atespace, x->id, &a, &e) == 0) {
            bool running = a.raw_status == DRV_ACTOR_RUNNING;
            drv_actor_clear(&a);
            if (running) {
                oss_err_clear(err);
                return 0;
            }
        }
    }
    return -1;
}

/* A failed create: undo what it made (the record stays, as the failure the
 * gateway shows until Delete). */
static void job_fail(struct substrate *s, struct sbx *x, const char *step, const oss_error *why)
{
    oss_error e = {0};
    if (remove_actor(s, x->id, &e) < 0 && !is_grpc(&e, GRPC_STATUS_NOT_FOUND))
        log_warn("sandbox %s: removing the actor after a failed create: %s", x->id, e.msg);
    oss_err_clear(&e);
    bool golden_left = false;
    if (x->ours && remove_template(s, x->tmpl, &golden_left, &e) < 0)
        log_warn("sandbox %s: deleting ActorTemplate %s after a failed create: %s", x->id, x->tmpl,
                 e.msg);
    oss_err_clear(&e);
    char msg[1024]; /* record_patch cuts it to DRV_RECORD_FAILURE_MAX */
    snprintf(msg, sizeof msg, "create failed while %s: %.380s%s", step, why->msg,
             golden_left
                 ? " (the template was not Ready: its golden actor stays in " DRV_GOLDEN_ATESPACE
                   ")"
                 : "");
    msg[DRV_RECORD_FAILURE_MAX - 1] = '\0'; /* as the record keeps it, after a restart too */
    log_warn("sandbox %s: %s", x->id, msg);
    /* if this fails the record stays pending: a restarted driver takes it
     * up and fails it again */
    if (record_patch(s, x->id, DRV_RECORD_FAILED, msg, &e) < 0)
        log_warn("sandbox %s: %s", x->id, e.msg);
    pthread_mutex_lock(&s->lock);
    x->state = DRV_RECORD_FAILED;
    x->step = DRV_CREATE_FAILED;
    free(x->failure);
    x->failure = drv_strdup(msg);
    x->version++;
    pthread_mutex_unlock(&s->lock);
    drv_backend_notify(s->be, x->id);
}

static void *job_main(void *arg)
{
    struct sbx *x = arg;
    struct substrate *s = x->owner;
    const char *ns = drv_template_namespace(s->c);
    oss_error err = {0};
    int64_t t0 = oss_mono_ms();
    const char *step = "creating the atespace";
    int r;

    if (ensure_atespace(s, &err) < 0)
        goto fail;
    if (cancelled(s, x))
        return NULL;
    /* A pre-provisioned template is used as is: its readiness is its
     * owner's business. */
    if (x->ours) {
        step = "waiting for the ActorTemplate to become Ready";
        r = wait_template_ready(s, x, ns, x->tmpl, &err);
        if (r == 1)
            return NULL;
        if (r < 0)
            goto fail;
    }
    set_step(s, x, DRV_CREATE_STARTING);
    if (cancelled(s, x))
        return NULL;
    step = "creating the actor";
    if (create_actor(s, x, &err) < 0)
        goto fail;
    if (cancelled(s, x))
        return NULL;
    step = "resuming the actor";
    if (resume_first(s, x, &err) < 0)
        goto fail;
    step = "recording the create";
    if (record_patch(s, x->id, DRV_RECORD_DONE, NULL, &err) < 0)
        goto fail;
    pthread_mutex_lock(&s->lock);
    x->state = DRV_RECORD_DONE;
    x->step = DRV_CREATE_DONE;
    pthread_mutex_unlock(&s->lock);
    log_info("sandbox %s created (%lld ms in the background)", x->id,
             (long long)(oss_mono_ms() - t0));
    drv_backend_notify(s->be, x->id);
    return NULL;

fail:
    if (cancelled(s, x))
        return NULL; /* Delete removes everything */
    job_fail(s, x, step, &err);
    return NULL;
}

/* s->lock held. */
static int job_start(struct substrate *s, struct sbx *x, oss_error *err)
{
    x->owner = s;
    int r = pthread_create(&x->job, NULL, job_main, x);
    if (r != 0) {
        errno = r;
        return oss_err_errno(err, "starting the create of sandbox %s", x->id);
    }
    x->has_job = true;
    return 0;
}

/* Stops x's job (if any) and waits for it; s->lock held, dropped meanwhile. */
static void job_stop_locked(struct substrate *s, struct sbx *x)
{
    if (!x->has_job)
        return;
    x->cancel = true;
    pthread_cond_broadcast(&s->cond);
    pthread_t t = x->job;
    x->has_job = false;
    pthread_mutex_unlock(&s->lock);
    pthread_join(t, NULL);
    pthread_mutex_lock(&s->lock);
}

static int finisher_start(struct substrate *s, struct sbx *x, oss_error *err);

/* ---- the records at start-up ---- */

static void take_record(const struct drv_record *r, void *ctx)
{
    struct substrate *s = ctx;
    if (find(s, r->id) != NULL)
        return;
    struct sbx *x = add(s, r->id, r->name, r->tmpl, r->ours, r->state);
    if (r->state == DRV_RECORD_FAILED)
        x->failure = drv_strdup(r->failure[0] != '\0' ? r->failure : "create failed");
}

/* A pending record of our own template whose template does not exist: the
 * create stopped between applying the record and applying the template, so
 * CreateSandbox never answered OK and the gateway (which drops its row when
 * the call fails) knows nothing of it: remove it rather than create an actor
 * nobody would ever delete.  1 = removed. */
static int drop_unanswered(struct substrate *s, const char *id, const char *tmpl, oss_error *err)
{
    struct drv_kube_obj o;
    oss_error e = {0};
    if (drv_kube_get(s->kube, DRV_KUBE_ACTOR_TEMPLATE, drv_template_namespace(s->c), tmpl, &o,
                     &e) == 0)
        return 0;
    if (e.domain != OSS_ERR_HTTP || e.code != 404) {
        *err = e;
        return -1;
    }
    char sname[DRV_SECRET_NAME_MAX];
    if (drv_secret_name(id, sname, sizeof sname, err) < 0 ||
        delete_owned(s, DRV_KUBE_SECRET, sname, err) < 0)
        return -1;
    log_info("substrate: sandbox %s: its create never answered (no template): record removed", id);
    return 1;
}

/* Lists the records once (the first call after start-up) and takes up the
 * creates a previous driver left pending. */
static int ensure_loaded(struct substrate *s, oss_error *err)
{
    pthread_mutex_lock(&s->lock);
    bool loaded = s->loaded;
    pthread_mutex_unlock(&s->lock);
    if (loaded)
        return 0;
    pthread_mutex_lock(&s->load_lock);
    int rc = 0;
    pthread_mutex_lock(&s->lock);
    loaded = s->loaded;
    pthread_mutex_unlock(&s->lock);
    if (!loaded) {
        _cleanup_buf_ oss_buf sel = OSS_BUF_INIT;
        _cleanup_secret_buf_ oss_buf body = OSS_BUF_INIT;
        drv_record_selector(s->atespace, &sel);
        rc = drv_kube_list_secrets(s->kube, drv_template_namespace(s->c), sel.data, &body, err);
        /* the records go into a table of their own first: the unanswered
         * ones are sorted out before anyone can see them */
        struct substrate tmp = {.c = s->c};
        if (rc == 0)
            rc = drv_record_parse_list(body.data != NULL ? body.data : "", body.len, take_record,
                                       &tmp, err);
        for (size_t i = 0; rc == 0 && i < tmp.n;) {
            struct sbx *x = tmp.v[i];
            int d = x->state == DRV_RECORD_PENDING && x->ours
                        ? drop_unanswered(s, x->id, x->tmpl, err)
                        : 0;
            if (d < 0)
                rc = -1;
            else if (d == 1)
                drop(&tmp, x);
            else
                i++;
        }
        pthread_mutex_lock(&s->lock);
        size_t pending = 0;
        for (size_t i = 0; rc == 0 && i < tmp.n; i++) {
            struct sbx *x = tmp.v[i];
            if (find(s, x->id) != NULL)
                continue; /* created by this driver meanwhile: that one is current */
            struct sbx *y = add(s, x->id, x->name, x->tmpl, x->ours, x->state);
            if (x->failure != NULL)
                y->failure = drv_strdup(x->failure);
            if (y->state == DRV_RECORD_PENDING) {
                pending++;
                if (job_start(s, y, err) < 0)
                    rc = -1;
            } else if (y->state == DRV_RECORD_DELETING && finisher_start(s, y, err) < 0) {
                rc = -1;
            }
        }
        if (rc == 0) {
            s->loaded = true;
            log_info("substrate: %zu sandbox records, %zu creates taken up", tmp.n, pending);
        }
        pthread_mutex_unlock(&s->lock);
        while (tmp.n > 0)
            drop(&tmp, tmp.v[0]);
        free(tmp.v);
        if (rc < 0)
            oss_err_prefix(err, "listing the sandbox records");
    }
    pthread_mutex_unlock(&s->load_lock);
    return rc;
}

/* ---- create (the part that answers) ---- */

static int sub_create(struct drv_backend *b, const struct drv_sandbox_spec *spec,
                      struct drv_actor *ret, oss_error *err)
{
    struct substrate *s = S(b);
    const char *ns = drv_template_namespace(s->c);
    _cleanup_buf_ oss_buf tmpl = OSS_BUF_INIT;
    _cleanup_secret_buf_ oss_buf secret = OSS_BUF_INIT;
    struct drv_template_plan plan;

    /* Everything that can be refused is refused before anything exists. */
    if (drv_template_plan(spec, s->c, &plan, err) < 0)
        return -1;
    if (plan.apply_template && drv_template_build(spec, s->c, &tmpl, err) < 0)
        return -1;
    if (ensure_loaded(s, err) < 0)
        return -1;
    drv_record_secret_build(spec, s->c, s->atespace, plan.secret_name, plan.template_name,
                            plan.apply_secret, &secret);

    pthread_mutex_lock(&s->lock);
    struct sbx *old = find(s, spec->id);
    if (old != NULL) {
        bool hidden = old->hidden;
        pthread_mutex_unlock(&s->lock);
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_ALREADY_EXISTS,
                       hidden ? "sandbox %s was deleted and its template is still being removed: "
                                "use another id"
                              : "sandbox %s already exists",
                       spec->id);
    }
    if (s->shutting_down) {
        pthread_mutex_unlock(&s->lock);
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_UNAVAILABLE, "the driver is stopping");
    }
    struct sbx *x =
        add(s, spec->id, spec->name, plan.template_name, plan.apply_template, DRV_RECORD_PENDING);
    x->admitting = true;
    pthread_mutex_unlock(&s->lock);

    /* An existing actor without a record (made by hand, or by a driver
     * before records) is the caller's ALREADY_EXISTS, and must not see its
     * template re-applied (the spec is immutable). */
    struct drv_actor existing = {0};
    oss_error ge = {0};
    bool made_secret = false, made_template = false;
    if (drv_ateapi_get_actor(s->api, s->atespace, spec->id, &existing, &ge) == 0) {
        drv_actor_clear(&existing);
        oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_ALREADY_EXISTS, "sandbox %s already exists",
                spec->id);
        goto fail;
    }
    if (!is_grpc(&ge, GRPC_STATUS_NOT_FOUND) && !is_grpc(&ge, GRPC_STATUS_FAILED_PRECONDITION)) {
        /* FAILED_PRECONDITION: the atespace does not exist yet */
        *err = ge;
        oss_err_prefix(err, "checking for an existing actor %s", spec->id);
        goto fail;
    }
    if (drv_kube_apply(s->kube, DRV_KUBE_SECRET, ns, plan.secret_name, secret.data, err) < 0) {
        oss_err_prefix(err, "applying Secret %s/%s", ns, plan.secret_name);
        goto fail;
    }
    made_secret = true;
    if (plan.apply_template && drv_kube_apply(s->kube, DRV_KUBE_ACTOR_TEMPLATE, ns,
                                              plan.template_name, tmpl.data, err) < 0) {
        oss_err_prefix(err, "applying ActorTemplate %s/%s", ns, plan.template_name);
        goto fail;
    }

    made_template = plan.apply_template;

    pthread_mutex_lock(&s->lock);
    int r = job_start(s, x, err);
    if (r == 0) {
        x->admitting = false;
        pthread_cond_broadcast(&s->cond);
        synth(s, x, ret);
    }
    pthread_mutex_unlock(&s->lock);
    if (r == 0)
        return 0;
    /* no thread, no answer: undo it all, or the record would outlive the
     * failed call and a restarted driver would create an actor nobody knows */

fail:;
    oss_error re = {0};
    bool golden_left = false;
    if (made_template && remove_template(s, plan.template_name, &golden_left, &re) < 0) {
        char m[OSS_ERR_MSG_MAX];
        snprintf(m, sizeof m, "%s", err->msg);
        oss_err(err, err->domain, err->code, "%.300s (rollback of the template failed: %.300s)", m,
                re.msg);
    }
    if (made_secret && drv_kube_delete(s->kube, DRV_KUBE_SECRET, ns, plan.secret_name, &re) < 0) {
        /* the caller must learn that something may be left behind */
        char m[OSS_ERR_MSG_MAX];
        snprintf(m, sizeof m, "%s", err->msg);
        oss_err(err, err->domain, err->code, "%.300s (rollback of the Secret failed: %.300s)", m,
                re.msg);
    }
    pthread_mutex_lock(&s->lock);
    drop(s, x);
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return -1;
}

/* ---- start / stop ---- */

/* FAILED_PRECONDITION while the create has not finished. */
static int check_done(struct substrate *s, const char *id, oss_error *err)
{
    if (ensure_loaded(s, err) < 0)
        return -1;
    pthread_mutex_lock(&s->lock);
    struct sbx *x = find(s, id);
    int r = 0;
    if (x != NULL && x->state == DRV_RECORD_PENDING)
        r = oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_FAILED_PRECONDITION,
                    "sandbox %s is still being created", id);
    else if (x != NULL && x->state == DRV_RECORD_FAILED)
        r = oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_FAILED_PRECONDITION,
                    "sandbox %s could not be created: %s", id, x->failure);
    pthread_mutex_unlock(&s->lock);
    return r;
}

static int transition(struct drv_backend *b, enum drv_ateapi_op op, const char *id, int done_status,
                      oss_error *err)
{
    struct substrate *s = S(b);
    if (!oss_dns1123_label_valid(id))
        return oss_err(err, OSS_ERR_INVALID, 0, "sandbox id '%s' is not a DNS-1123 label", id);
    if (check_done(s, id, err) < 0)
        return -1;
    if (drv_ateapi_transition(s->api, op, s->atespace, id, NULL, err) == 0)
        return 0;
    /* already where the caller wants it: not an error for Start/Stop */
    if (is_grpc(err, GRPC_STATUS_FAILED_PRECONDITION)) {
        struct drv_actor a = {0};
        oss_error e = {0};
        if (drv_ateapi_get_actor(s->api, s->atespace, id, &a, &e) == 0) {
            bool done = a.raw_status == done_status;
            drv_actor_clear(&a);
            if (done)
                return 0;
        }
    }
    return -1;
}

static int sub_resume(struct drv_backend *b, const char *id, oss_error *err)
{
    return transition(b, DRV_ATEAPI_RESUME, id, DRV_ACTOR_RUNNING, err);
}

static int sub_suspend(struct drv_backend *b, const char *id, oss_error *err)
{
    return transition(b, DRV_ATEAPI_SUSPEND, id, DRV_ACTOR_SUSPENDED, err);
}

/* ---- delete ---- */

/* True when the template's golden actor is booting: deleting the template
 * now would leave that actor RUNNING in ate-golden for good (the controller
 * stops at a deleted template, and only SUSPENDED actors can be deleted). */
static bool golden_booting(struct substrate *s, const char *tname)
{
    struct drv_kube_obj o;
    oss_error e = {0};
    if (drv_kube_get(s->kube, DRV_KUBE_ACTOR_TEMPLATE, drv_template_namespace(s->c), tname, &o,
                     &e) < 0)
        return false;
    return o.owned && o.golden_actor_id[0] != '\0' && strcmp(o.phase, "Ready") != 0;
}

/* The rest of a delete that had to wait for a golden boot: once the
 * template is Ready (or its deadline passed), the golden actor, the
 * template and the record go; the sandbox was gone for callers already. */
static void *finisher_main(void *arg)
{
    struct sbx *x = arg;
    struct substrate *s = x->owner;
    const char *ns = drv_template_namespace(s->c);
    int64_t end = oss_mono_ms() + ready_timeout_ms(s->c);
    for (;;) {
        struct drv_kube_obj o;
        oss_error e = {0};
        if (drv_kube_get(s->kube, DRV_KUBE_ACTOR_TEMPLATE, ns, x->tmpl, &o, &e) < 0) {
            if (e.domain == OSS_ERR_HTTP && e.code == 404)
                break;
        } else if (strcmp(o.phase, "Ready") == 0 || oss_mono_ms() >= end) {
            break;
        }
        if (job_sleep(s, x, READY_POLL_MS))
            return NULL; /* shutting down: the record says "deleting", the next driver finishes */
    }
    oss_error e = {0};
    bool golden_left = false;
    char sname[DRV_SECRET_NAME_MAX];
    if (remove_template(s, x->tmpl, &golden_left, &e) < 0 ||
        drv_secret_name(x->id, sname, sizeof sname, &e) < 0 ||
        delete_owned(s, DRV_KUBE_SECRET, sname, &e) < 0) {
        log_warn("sandbox %s: finishing the delete: %s (the next driver retries)", x->id, e.msg);
        return NULL;
    }
    if (golden_left)
        log_warn("sandbox %s: ActorTemplate %s never got Ready: its golden actor stays in %s",
                 x->id, x->tmpl, DRV_GOLDEN_ATESPACE);
    log_info("sandbox %s: delete finished after the golden boot", x->id);
    pthread_mutex_lock(&s->lock);
    if (x->has_job) { /* nobody is joining this thread: it removes itself */
        x->has_job = false;
        pthread_detach(pthread_self());
        drop(s, x);
    } /* else the driver is stopping and its destroy joins us and drops x */
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* s->lock held. */
static int finisher_start(struct substrate *s, struct sbx *x, oss_error *err)
{
    x->owner = s;
    x->hidden = true;
    x->deleting = true;
    x->cancel = false;
    int r = pthread_create(&x->job, NULL, finisher_main, x);
    if (r != 0) {
        errno = r;
        return oss_err_errno(err, "finishing the delete of sandbox %s", x->id);
    }
    x->has_job = true;
    return 0;
}

/* *ret_deferred: the template's golden boot is still going on; the actor is
 * gone and the record says "deleting"; the caller starts the finisher. */
static int do_delete(struct substrate *s, const char *id, bool have_record, bool ours,
                     bool *ret_deferred, oss_error *err)
{
    *ret_deferred = false;
    char tname[DRV_TEMPLATE_NAME_MAX];
    char sname[DRV_SECRET_NAME_MAX];
    if (drv_template_name(id, tname, sizeof tname, err) < 0 ||
        drv_secret_name(id, sname, sizeof sname, err) < 0)
        return -1;
    struct drv_actor a = {0};
    oss_error ae = {0};
    bool gone = false;
    if (!have_record)
        ours = true; /* until the actor says otherwise: leftovers of a create cut short */
    if (drv_ateapi_get_actor(s->api, s->atespace, id, &a, &ae) < 0) {
        if (!is_grpc(&ae, GRPC_STATUS_NOT_FOUND) &&
            !is_grpc(&ae, GRPC_STATUS_FAILED_PRECONDITION)) {
            *err = ae;
            return -1;
        }
        gone = true; /* a create cut short, or a failed one: clean up below */
    } else {
        /* without a record: which template does the actor run from? */
        if (!have_record)
            ours = a.template_name == NULL || strcmp(a.template_name, tname) == 0;
        drv_actor_clear(&a);
    }
    if (!gone && remove_actor(s, id, &ae) < 0) {
        if (!is_grpc(&ae, GRPC_STATUS_NOT_FOUND)) {
            *err = ae;
            return -1; /* the actor still exists: keep its template */
        }
    }
    if (ours && have_record && golden_booting(s, tname)) {
        if (record_patch(s, id, DRV_RECORD_DELETING, NULL, err) < 0)
            return -1;
        *ret_deferred = true;
        return 0;
    }
    /* both check the ownership annotation */
    bool golden_left = false; /* a template never Ready: nothing to wait for here */
    if (ours && remove_template(s, tname, &golden_left, err) < 0) {
        oss_err_prefix(err, "deleting ActorTemplate %s", tname);
        return -1;
    }
    /* the record goes last: until then a restarted driver knows the sandbox
     * (delete_owned leaves a Secret alone that is not ours) */
    if ((ours || have_record) && delete_owned(s, DRV_KUBE_SECRET, sname, err) < 0) {
        oss_err_prefix(err, "deleting Secret %s", sname);
        return -1;
    }
    if (gone && !have_record)
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_NOT_FOUND, "sandbox %s not found", id);
    return 0;
}

static int sub_delete(struct drv_backend *b, const char *id, oss_error *err)
{
    struct substrate *s = S(b);
    if (!oss_dns1123_label_valid(id))
        return oss_err(err, OSS_ERR_INVALID, 0, "sandbox id '%s' is not a DNS-1123 label", id);
    if (ensure_loaded(s, err) < 0)
        return -1;
    pthread_mutex_lock(&s->lock);
    struct sbx *x = find(s, id);
    while (x != NULL && x->admitting) { /* a CreateSandbox still answering */
        pthread_cond_wait(&s->cond, &s->lock);
        x = find(s, id);
    }
    if (x != NULL && x->hidden) {
        pthread_mutex_unlock(&s->lock);
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_NOT_FOUND, "sandbox %s not found", id);
    }
    if (x != NULL && x->deleting) {
        pthread_mutex_unlock(&s->lock);
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_ABORTED,
                       "a delete of sandbox %s is in progress", id);
    }
    bool have_record = x != NULL, ours = x != NULL && x->ours;
    if (x != NULL) {
        x->deleting = true;
        job_stop_locked(s, x); /* a create in flight stops here */
    }
    pthread_mutex_unlock(&s->lock);

    bool deferred = false;
    int r = do_delete(s, id, have_record, ours, &deferred, err);
    pthread_mutex_lock(&s->lock);
    if (x != NULL) {
        if (r == 0 && deferred) {
            x->state = DRV_RECORD_DELETING;
            if (finisher_start(s, x, err) < 0)
                log_warn("%s (the next driver finishes it)", err->msg);
            oss_err_clear(err);
        } else if (r == 0) {
            drop(s, x);
        } else {
            x->deleting = false; /* shown as it was; a retry finishes */
        }
    }
    pthread_mutex_unlock(&s->lock);
    return r;
}

/* ---- get / list ---- */

static int sub_get(struct drv_backend *b, const char *id, struct drv_actor *ret, oss_error *err)
{
    struct substrate *s = S(b);
    if (!oss_dns1123_label_valid(id))
        return oss_err(err, OSS_ERR_INVALID, 0, "sandbox id '%s' is not a DNS-1123 label", id);
    if (ensure_loaded(s, err) < 0)
        return -1;
    pthread_mutex_lock(&s->lock);
    struct sbx *x = find(s, id);
    if (x != NULL && x->hidden) {
        pthread_mutex_unlock(&s->lock);
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_NOT_FOUND, "sandbox %s not found", id);
    }
    if (x != NULL && x->state != DRV_RECORD_DONE) {
        synth(s, x, ret);
        pthread_mutex_unlock(&s->lock);
        return 0;
    }
    pthread_mutex_unlock(&s->lock);
    if (drv_ateapi_get_actor(s->api, s->atespace, id, ret, err) < 0) {
        if (is_grpc(err, GRPC_STATUS_FAILED_PRECONDITION)) /* no atespace yet */
            err->code = GRPC_STATUS_NOT_FOUND;
        return -1;
    }
    pthread_mutex_lock(&s->lock);
    x = find(s, id);
    if (x != NULL) {
        free(ret->name);
        ret->name = drv_strdup(x->name);
    }
    pthread_mutex_unlock(&s->lock);
    return 0;
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(((const struct drv_actor *)a)->id, ((const struct drv_actor *)b)->id);
}

static int sub_list(struct drv_backend *b, struct drv_actor **ret, size_t *ret_n, oss_error *err)
{
    struct substrate *s = S(b);
    if (ensure_loaded(s, err) < 0)
        return -1;
    struct drv_actor *v = NULL;
    size_t n = 0;
    oss_error le = {0};
    if (drv_ateapi_list_actors(s->api, s->atespace, &v, &n, &le) < 0) {
        *err = le;
        return -1;
    }
    pthread_mutex_lock(&s->lock);
    /* the records not done replace or join the listing */
    struct drv_actor *out = realloc(v, (n + s->n + 1) * sizeof *out);
    if (out == NULL)
        abort();
    v = out;
    if (n > 0)
        qsort(v, n, sizeof *v, cmp_id);
    size_t m = n;
    for (size_t i = 0; i < s->n; i++) {
        struct sbx *x = s->v[i];
        if (x->hidden)
            continue; /* deleted: the actor is gone already */
        struct drv_actor key = {.id = x->id};
        struct drv_actor *a = n > 0 ? bsearch(&key, v, n, sizeof *v, cmp_id) : NULL;
        if (x->state != DRV_RECORD_DONE) {
            if (a != NULL) {
                drv_actor_clear(a);
                synth(s, x, a);
            } else {
                synth(s, x, &v[m++]);
            }
        } else if (a != NULL) {
            free(a->name);
            a->name = drv_strdup(x->name);
        }
    }
    pthread_mutex_unlock(&s->lock);
    *ret = v;
    *ret_n = m;
    return 0;
}

static void sub_destroy(struct drv_backend *b)
{
    if (b == NULL)
        return;
    struct substrate *s = S(b);
    /* jobs stop without undoing anything: their records stay pending and
     * the next driver takes them up */
    pthread_mutex_lock(&s->lock);
    s->shutting_down = true;
    for (size_t i = 0; i < s->n; i++)
        job_stop_locked(s, s->v[i]);
    while (s->n > 0)
        drop(s, s->v[0]);
    pthread_mutex_unlock(&s->lock);
    drv_ateapi_close(s->api);
    drv_kube_close(s->kube);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->load_lock);
    pthread_cond_destroy(&s->cond);
    free(s->v);
    free(s);
    pthread_mutex_destroy(&b->notify_lock);
    free(b);
}

static const struct drv_backend_ops substrate_ops = {
    .name = "substrate",
    .validate = sub_validate,
    .create = sub_create,
    .resume = sub_resume,
    .suspend = sub_suspend,
    .delete_ = sub_delete,
    .get = sub_get,
    .list = sub_list,
    .destroy = sub_destroy,
};

int drv_substrate_backend_open(const struct drv_config *c, struct drv_backend **ret, oss_error *err)
{
    const char *as = drv_record_atespace(c);
    if (!oss_dns1123_label_valid(as) || strcmp(as, "ate-golden") == 0)
        return oss_err(err, OSS_ERR_INVALID, 0,
                       "atespace '%s' is not usable (a DNS-1123 label other than ate-golden)", as);
    struct drv_ateapi *api = NULL;
    if (drv_ateapi_open(c, &api, err) < 0)
        return -1;
    struct drv_kube *kube = NULL;
    if (drv_kube_open(c, &kube, err) < 0) {
        drv_ateapi_close(api);
        return -1;
    }
    struct substrate *s = calloc(1, sizeof *s);
    struct drv_backend *b = calloc(1, sizeof *b);
    if (s == NULL || b == NULL)
        abort();
    s->be = b;
    s->c = c;
    s->api = api;
    s->kube = kube;
    s->atespace = as;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->load_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &ca);
    pthread_condattr_destroy(&ca);
    drv_backend_init(b, &substrate_ops, s);
    *ret = b;
    return 0;
}
