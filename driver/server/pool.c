#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

struct job {
    drv_job_fn fn;
    void *arg;
};

struct drv_pool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct job *ring;
    size_t cap, head, len;
    bool stop;
    unsigned nthreads;
    pthread_t threads[];
};

static void *worker(void *arg)
{
    struct drv_pool *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (p->len == 0 && !p->stop)
            pthread_cond_wait(&p->cond, &p->lock);
        if (p->len == 0) /* stopping and drained */
            break;
        struct job j = p->ring[p->head];
        p->head = (p->head + 1) % p->cap;
        p->len--;
        pthread_mutex_unlock(&p->lock);
        j.fn(j.arg);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int drv_pool_new(const char *name, unsigned threads, size_t queue_max, struct drv_pool **ret,
                 oss_error *err)
{
    struct drv_pool *p = calloc(1, sizeof *p + threads * sizeof(pthread_t));
    if (p == NULL)
        return oss_err_errno(err, "calloc");
    p->ring = calloc(queue_max, sizeof *p->ring);
    if (p->ring == NULL) {
        free(p);
        return oss_err_errno(err, "calloc");
    }
    p->cap = queue_max;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    for (unsigned i = 0; i < threads; i++) {
        int r = pthread_create(&p->threads[i], NULL, worker, p);
        if (r != 0) {
            p->nthreads = i;
            drv_pool_free(p);
            errno = r;
            return oss_err_errno(err, "starting %s worker %u", name, i);
        }
        char tname[32]; /* the kernel keeps 15 bytes; longer is truncated below */
        snprintf(tname, sizeof tname, "%.10s-%u", name, i % 1000);
        tname[15] = '\0';
        pthread_setname_np(p->threads[i], tname);
    }
    p->nthreads = threads;
    *ret = p;
    return 0;
}

bool drv_pool_submit(struct drv_pool *p, drv_job_fn fn, void *arg)
{
    pthread_mutex_lock(&p->lock);
    if (p->stop || p->len == p->cap) {
        pthread_mutex_unlock(&p->lock);
        return false;
    }
    p->ring[(p->head + p->len) % p->cap] = (struct job){fn, arg};
    p->len++;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    return true;
}

void drv_pool_free(struct drv_pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    free(p->ring);
    free(p);
}
