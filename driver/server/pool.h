/* A fixed set of worker threads with a bounded FIFO: backend calls block
 * (a create can wait minutes for a template), so they never run on the
 * completion-queue thread.  The server keeps two pools, one for mutating
 * calls and one for reads, so a burst of slow creates cannot starve Get,
 * List or Validate. */
#ifndef DRV_POOL_H
#define DRV_POOL_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>

struct drv_pool;

typedef void (*drv_job_fn)(void *arg);

int drv_pool_new(const char *name, unsigned threads, size_t queue_max, struct drv_pool **ret,
                 oss_error *err);
/* false when the queue is full or the pool is stopping: the caller answers
 * RESOURCE_EXHAUSTED / UNAVAILABLE itself. */
bool drv_pool_submit(struct drv_pool *p, drv_job_fn fn, void *arg);
/* Runs every queued job, then joins the threads. */
void drv_pool_free(struct drv_pool *p);

#endif
