/* Ownership helpers for the backend interface's plain structs.  Shared by
 * every backend and by the server, so they live beside backend.h. */
#include "backend.h"

#include <stdlib.h>
#include <string.h>

static char *dup_or_null(const char *s)
{
    if (s == NULL)
        return NULL;
    char *d = strdup(s);
    if (d == NULL)
        abort(); /* same policy as oss_buf: ENOMEM is not recoverable here */
    return d;
}

void drv_actor_clear(struct drv_actor *a)
{
    if (a == NULL)
        return;
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
    struct drv_actor tmp = {
        .id = dup_or_null(src->id),
        .name = dup_or_null(src->name),
        .namespace_ = dup_or_null(src->namespace_),
        .status = src->status,
        .raw_status = src->raw_status,
        .version = src->version,
        .template_name = dup_or_null(src->template_name),
        .failure = dup_or_null(src->failure),
        .address = dup_or_null(src->address),
    };
    *dst = tmp;
}

static void kv_free(struct drv_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

void drv_sandbox_spec_clear(struct drv_sandbox_spec *s)
{
    if (s == NULL)
        return;
    free(s->id);
    free(s->name);
    free(s->namespace_);
    free(s->image);
    if (s->command != NULL) {
        for (char **p = s->command; *p != NULL; p++)
            free(*p);
        free(s->command);
    }
    kv_free(s->env, s->nenv);
    if (s->sandbox_token != NULL) {
        /* the token is a credential: do not leave it in freed heap memory */
        explicit_bzero(s->sandbox_token, strlen(s->sandbox_token));
        free(s->sandbox_token);
    }
    free(s->template_override);
    kv_free(s->annotations, s->nannotations);
    memset(s, 0, sizeof *s);
}

void drv_actor_list_free(struct drv_actor *a, size_t n)
{
    if (a == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        drv_actor_clear(&a[i]);
    free(a);
}
