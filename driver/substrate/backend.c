/* The Substrate backend's lifecycle (drv_backend_ops), FACTS.md §3-4:
 *
 *   create   validate -> Secret (when there is a token) -> template -> wait
 *            Ready -> atespace -> CreateActor -> ResumeActor, undoing what it
 *            made when a later step fails;
 *   suspend  SuspendActor;  resume  ResumeActor;
 *   delete   resume if PAUSED (a paused actor cannot be suspended), suspend
 *            (FAILED_PRECONDITION tolerated), DeleteActor, then the
 *            template's golden actor, the template and the Secret the
 *            driver owns (remove_template).
 *
 * A pre-provisioned template (spec.template_override) is used as is: never
 * applied, waited for or deleted, so a driver using only such templates
 * needs no Kubernetes access at all. */
#include "substrate.h"

#include "actor_map.h"
#include "ateapi.h"
#include "buf.h"
#include "cleanup.h"
#include "kube.h"
#include "template.h"
#include "util.h"

#include <errno.h>
#include <grpc/status.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_ATESPACE        "openshell"
#define DEFAULT_READY_TIMEOUT_S 300
#define READY_POLL_MS           250

struct substrate {
    const struct drv_config *c;
    struct drv_ateapi *api;
    struct drv_kube *kube;
    const char *atespace;
    pthread_mutex_t lock; /* guards what follows */
    bool atespace_ready;
    char **busy; /* ids with a create or delete in flight */
    size_t nbusy, capbusy;
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

/* Appends a rollback failure to the error being returned: the caller must
 * learn that something may be left behind, and library code cannot log. */
static void note_leftover(oss_error *err, const char *what, const oss_error *re)
{
    _cleanup_buf_ oss_buf b = OSS_BUF_INIT;
    oss_buf_printf(&b, "%s (rollback of %s failed: %s)", err->msg, what, re->msg);
    size_t n = b.len < sizeof err->msg - 1 ? b.len : sizeof err->msg - 1;
    memcpy(err->msg, b.data, n);
    err->msg[n] = '\0';
}

/* Create and delete of one id never overlap in this process: a second
 * create would otherwise roll back (delete) the template the first one's
 * actor runs from. */
static int claim(struct substrate *s, const char *id, oss_error *err)
{
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->nbusy; i++)
        if (strcmp(s->busy[i], id) == 0) {
            pthread_mutex_unlock(&s->lock);
            return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_ABORTED,
                           "another create or delete of sandbox %s is in progress", id);
        }
    if (s->nbusy == s->capbusy) {
        s->capbusy = s->capbusy ? s->capbusy * 2 : 16;
        s->busy = realloc(s->busy, s->capbusy * sizeof *s->busy);
        if (s->busy == NULL)
            abort();
    }
    s->busy[s->nbusy] = strdup(id);
    if (s->busy[s->nbusy] == NULL)
        abort();
    s->nbusy++;
    pthread_mutex_unlock(&s->lock);
    return 0;
}

static void release(struct substrate *s, const char *id)
{
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->nbusy; i++)
        if (strcmp(s->busy[i], id) == 0) {
            free(s->busy[i]);
            s->busy[i] = s->busy[--s->nbusy];
            break;
        }
    pthread_mutex_unlock(&s->lock);
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

/* The CRD never reports Failed (FACTS.md §3), so the only way to notice a
 * template that cannot boot its golden actor is our own deadline. */
static int wait_template_ready(struct substrate *s, const char *ns, const char *name,
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
        int64_t d = left < READY_POLL_MS ? left : READY_POLL_MS;
        struct timespec ts = {.tv_sec = d / 1000, .tv_nsec = (d % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
    }
}

static int sub_validate(struct drv_backend *b, const struct drv_sandbox_spec *spec, oss_error *err)
{
    struct drv_template_plan p;
    return drv_template_plan(spec, S(b)->c, &p, err);
}

/* Brings an actor down to SUSPENDED and deletes it; used by delete and by
 * the rollback of create. */
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

/* Deletes an object only when it carries our ownership annotation, so a
 * template someone else made under a colliding name is never touched. */
static int delete_owned(struct substrate *s, enum drv_kube_kind kind, const char *name,
                        oss_error *err)
{
    const char *ns = drv_template_namespace(s->c);
    struct drv_kube_obj o;
    oss_error e = {0};
    if (drv_kube_get(s->kube, kind, ns, name, &o, &e) < 0) {
        if (e.domain == OSS_ERR_HTTP && e.code == 404)
            return 0;
        *err = e;
        return -1;
    }
    if (!o.owned)
        return 0;
    return drv_kube_delete(s->kube, kind, ns, name, err);
}

/* Removes a template the driver owns together with its golden actor.
 * Substrate's controller does nothing when a template goes, so without this
 * every deleted sandbox leaves a SUSPENDED actor in ate-golden (and its
 * snapshot, which no Substrate call removes: docs/substrate.md, "What a
 * delete leaves behind").  Order (docs/platform/substrate.md, "What ends
 * with a template, and what does not"): the golden actor before its
 * template, and only once the template is Ready: by then the controller has
 * suspended it and is done with it; before that, deleting it would break
 * the controller's next ResumeActor, so a template that never got Ready is
 * deleted alone and its golden actor stays (a rolled-back create says so in
 * its error).  *ret_golden_left is set when a golden actor had to be left. */
static int remove_template(struct substrate *s, const char *name, bool *ret_golden_left,
                           oss_error *err)
{
    const char *ns = drv_template_namespace(s->c);
    struct drv_kube_obj o;
    oss_error e = {0};
    *ret_golden_left = false;
    if (drv_kube_get(s->kube, DRV_KUBE_ACTOR_TEMPLATE, ns, name, &o, &e) < 0) {
        if (e.domain == OSS_ERR_HTTP && e.code == 404)
            return 0;
        *err = e;
        return -1;
    }
    if (!o.owned)
        return 0; /* someone else's template under a colliding name */
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
    return drv_kube_delete(s->kube, DRV_KUBE_ACTOR_TEMPLATE, ns, name, err);
}

static int do_create(struct substrate *s, const struct drv_sandbox_spec *spec,
                     struct drv_actor *ret, oss_error *err)
{
    const char *ns = drv_template_namespace(s->c);
    _cleanup_buf_ oss_buf tmpl = OSS_BUF_INIT;
    _cleanup_secret_buf_ oss_buf secret = OSS_BUF_INIT;
    struct drv_template_plan plan;

    /* Everything that can be refused is refused before anything exists. */
    if (drv_template_plan(spec, s->c, &plan, err) < 0)
        return -1;
    const char *tname = plan.template_name;
    const char *sname = plan.secret_name;
    if (plan.apply_template && drv_template_build(spec, s->c, &tmpl, err) < 0)
        return -1;
    if (plan.apply_secret && drv_secret_build(spec, s->c, &secret, err) < 0)
        return -1;

    /* First, because what GetActor answers for an actor in a missing
     * atespace is not specified; creating it is idempotent. */
    if (ensure_atespace(s, err) < 0)
        return -1;
    /* An existing actor is the caller's ALREADY_EXISTS, and must not see
     * its template re-applied (the spec is immutable). */
    struct drv_actor existing = {0};
    oss_error ge = {0};
    if (drv_ateapi_get_actor(s->api, s->atespace, spec->id, &existing, &ge) == 0) {
        drv_actor_clear(&existing);
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_ALREADY_EXISTS, "sandbox %s already exists",
                       spec->id);
    }
    if (!is_grpc(&ge, GRPC_STATUS_NOT_FOUND)) {
        *err = ge;
        oss_err_prefix(err, "checking for an existing actor %s", spec->id);
        return -1;
    }

    bool made_secret = false, made_template = false, made_actor = false;
    struct drv_actor actor = {0};
    oss_error re = {0};

    if (plan.apply_secret) {
        if (drv_kube_apply(s->kube, DRV_KUBE_SECRET, ns, sname, secret.data, err) < 0) {
            oss_err_prefix(err, "applying Secret %s/%s", ns, sname);
            goto fail;
        }
        made_secret = true;
    }
    if (plan.apply_template) {
        if (drv_kube_apply(s->kube, DRV_KUBE_ACTOR_TEMPLATE, ns, tname, tmpl.data, err) < 0) {
            oss_err_prefix(err, "applying ActorTemplate %s/%s", ns, tname);
            goto fail;
        }
        made_template = true;
    }
    /* A pre-provisioned template is used as is: its readiness is its
     * owner's business (and reading it would need Kubernetes access a
     * driver using only such templates does not have). */
    if (plan.apply_template && wait_template_ready(s, ns, tname, err) < 0)
        goto fail;

    unsigned attempts = 0;
    if (drv_ateapi_create_actor(s->api, s->atespace, spec->id, ns, tname, &actor, &attempts, err) <
        0) {
        /* After a retry, ALREADY_EXISTS is most likely our own first attempt
         * whose reply was lost; the pre-check above saw no actor. */
        if (!(attempts > 1 && is_grpc(err, GRPC_STATUS_ALREADY_EXISTS))) {
            oss_err_prefix(err, "creating actor %s", spec->id);
            /* someone else's actor of this id runs from these objects */
            if (is_grpc(err, GRPC_STATUS_ALREADY_EXISTS))
                made_template = made_secret = false;
            goto fail;
        }
    }
    made_actor = true;
    drv_actor_clear(&actor);
    if (drv_ateapi_transition(s->api, DRV_ATEAPI_RESUME, s->atespace, spec->id, &actor, err) < 0) {
        oss_err_prefix(err, "resuming actor %s", spec->id);
        goto fail;
    }
    *ret = actor;
    return 0;

fail:
    drv_actor_clear(&actor);
    if (made_actor && remove_actor(s, spec->id, &re) < 0)
        note_leftover(err, "the actor", &re);
    bool golden_left = false;
    if (made_template && remove_template(s, tname, &golden_left, &re) < 0)
        note_leftover(err, "the ActorTemplate", &re);
    else if (golden_left)
        note_leftover(err, "the golden actor",
                      &(oss_error){.msg = "the template was not Ready yet: its golden actor stays "
                                          "in " DRV_GOLDEN_ATESPACE});
    if (made_secret && drv_kube_delete(s->kube, DRV_KUBE_SECRET, ns, sname, &re) < 0)
        note_leftover(err, "the Secret", &re);
    return -1;
}

static int sub_create(struct drv_backend *b, const struct drv_sandbox_spec *spec,
                      struct drv_actor *ret, oss_error *err)
{
    struct substrate *s = S(b);
    struct drv_template_plan plan;
    if (drv_template_plan(spec, s->c, &plan, err) < 0 || claim(s, spec->id, err) < 0)
        return -1;
    int r = do_create(s, spec, ret, err);
    release(s, spec->id);
    return r;
}

static int transition(struct drv_backend *b, enum drv_ateapi_op op, const char *id, int done_status,
                      oss_error *err)
{
    struct substrate *s = S(b);
    if (!oss_dns1123_label_valid(id))
        return oss_err(err, OSS_ERR_INVALID, 0, "sandbox id '%s' is not a DNS-1123 label", id);
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

static int do_delete(struct substrate *s, const char *id, oss_error *err)
{
    char tname[DRV_TEMPLATE_NAME_MAX];
    char sname[DRV_SECRET_NAME_MAX];
    if (drv_template_name(id, tname, sizeof tname, err) < 0 ||
        drv_secret_name(id, sname, sizeof sname, err) < 0)
        return -1;
    /* Which template does the actor run from?  A pre-provisioned one means
     * the driver made nothing in Kubernetes for it. */
    struct drv_actor a = {0};
    oss_error ae = {0};
    bool gone = false, ours = true;
    if (drv_ateapi_get_actor(s->api, s->atespace, id, &a, &ae) < 0) {
        if (!is_grpc(&ae, GRPC_STATUS_NOT_FOUND)) {
            *err = ae;
            return -1;
        }
        gone = true; /* maybe a create cut short: clean up below anyway */
    } else {
        ours = a.template_name == NULL || strcmp(a.template_name, tname) == 0;
        drv_actor_clear(&a);
    }
    if (!gone && remove_actor(s, id, &ae) < 0) {
        if (!is_grpc(&ae, GRPC_STATUS_NOT_FOUND)) {
            *err = ae;
            return -1; /* the actor still exists: keep its template */
        }
        gone = true;
    }
    if (ours) {
        /* both check the ownership annotation */
        bool golden_left = false; /* a template never Ready: nothing to wait for here */
        if (remove_template(s, tname, &golden_left, err) < 0) {
            oss_err_prefix(err, "deleting ActorTemplate %s", tname);
            return -1;
        }
        if (delete_owned(s, DRV_KUBE_SECRET, sname, err) < 0) {
            oss_err_prefix(err, "deleting Secret %s", sname);
            return -1;
        }
    }
    if (gone) {
        *err = ae; /* NOT_FOUND: the caller answers deleted=false */
        return -1;
    }
    return 0;
}

static int sub_delete(struct drv_backend *b, const char *id, oss_error *err)
{
    struct substrate *s = S(b);
    if (!oss_dns1123_label_valid(id))
        return oss_err(err, OSS_ERR_INVALID, 0, "sandbox id '%s' is not a DNS-1123 label", id);
    if (claim(s, id, err) < 0)
        return -1;
    int r = do_delete(s, id, err);
    release(s, id);
    return r;
}

static int sub_get(struct drv_backend *b, const char *id, struct drv_actor *ret, oss_error *err)
{
    struct substrate *s = S(b);
    if (!oss_dns1123_label_valid(id))
        return oss_err(err, OSS_ERR_INVALID, 0, "sandbox id '%s' is not a DNS-1123 label", id);
    return drv_ateapi_get_actor(s->api, s->atespace, id, ret, err);
}

static int sub_list(struct drv_backend *b, struct drv_actor **ret, size_t *ret_n, oss_error *err)
{
    struct substrate *s = S(b);
    return drv_ateapi_list_actors(s->api, s->atespace, ret, ret_n, err);
}

static void sub_destroy(struct drv_backend *b)
{
    if (b == NULL)
        return;
    struct substrate *s = S(b);
    drv_ateapi_close(s->api);
    drv_kube_close(s->kube);
    pthread_mutex_destroy(&s->lock);
    for (size_t i = 0; i < s->nbusy; i++)
        free(s->busy[i]);
    free(s->busy);
    free(s);
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
    const char *as = (c->atespace && c->atespace[0]) ? c->atespace : DEFAULT_ATESPACE;
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
    s->c = c;
    s->api = api;
    s->kube = kube;
    s->atespace = as;
    pthread_mutex_init(&s->lock, NULL);
    b->ops = &substrate_ops;
    b->impl = s;
    *ret = b;
    return 0;
}
