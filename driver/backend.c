/* Ownership helpers for the backend-neutral structs of backend.h. */
#include "backend.h"
#include "backends.h"

#include <stdlib.h>
#include <string.h>

static char *dup_or_null(const char *s)
{
    if (s == NULL)
        return NULL;
    char *r = strdup(s);
    if (r == NULL)
        abort(); /* the project's policy for ENOMEM, as oss_buf */
    return r;
}

void drv_actor_clear(struct drv_actor *a)
{
    free(a->id);
    free(a->name);
    free(a->namespace_);
    free(a->template_name);
    free(a->failure);
    free(a->address);
    memset(a, 0, sizeof *a);
}

void drv_actor_copy(struct drv_actor *dst, const struct drv_actor *src)
{
    *dst = *src;
    dst->id = dup_or_null(src->id);
    dst->name = dup_or_null(src->name);
    dst->namespace_ = dup_or_null(src->namespace_);
    dst->template_name = dup_or_null(src->template_name);
    dst->failure = dup_or_null(src->failure);
    dst->address = dup_or_null(src->address);
}

void drv_actor_list_free(struct drv_actor *a, size_t n)
{
    for (size_t i = 0; a != NULL && i < n; i++)
        drv_actor_clear(&a[i]);
    free(a);
}

static void kv_free(struct drv_kv *kv, size_t n)
{
    for (size_t i = 0; kv != NULL && i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

void drv_sandbox_spec_clear(struct drv_sandbox_spec *s)
{
    free(s->id);
    free(s->name);
    free(s->namespace_);
    free(s->image);
    for (char **c = s->command; c != NULL && *c != NULL; c++)
        free(*c);
    free(s->command);
    kv_free(s->env, s->nenv);
    if (s->sandbox_token != NULL) {
        /* a secret: do not leave it in freed heap for a core dump to find */
        explicit_bzero(s->sandbox_token, strlen(s->sandbox_token));
        free(s->sandbox_token);
    }
    free(s->template_override);
    kv_free(s->annotations, s->nannotations);
    free(s->log_level);
    memset(s, 0, sizeof *s);
}

void drv_backend_init(struct drv_backend *b, const struct drv_backend_ops *ops, void *impl)
{
    b->ops = ops;
    b->impl = impl;
    pthread_mutex_init(&b->notify_lock, NULL);
    b->notify = NULL;
    b->notify_ctx = NULL;
}

void drv_backend_set_notify(struct drv_backend *b, drv_notify_fn fn, void *ctx)
{
    pthread_mutex_lock(&b->notify_lock);
    b->notify = fn;
    b->notify_ctx = ctx;
    pthread_mutex_unlock(&b->notify_lock);
}

void drv_backend_notify(struct drv_backend *b, const char *id)
{
    /* held across the call, so a hub being freed waits for it */
    pthread_mutex_lock(&b->notify_lock);
    if (b->notify != NULL)
        b->notify(b->notify_ctx, id);
    pthread_mutex_unlock(&b->notify_lock);
}

void drv_backend_close(struct drv_backend *b)
{
    if (b != NULL && b->ops != NULL && b->ops->destroy != NULL)
        b->ops->destroy(b);
}
