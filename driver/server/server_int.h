/* Private to driver/server/: the server object shared by the unary-call
 * code (server.c) and the watch-stream code (stream.c). */
#ifndef DRV_SERVER_INT_H
#define DRV_SERVER_INT_H

#include "handlers.h"
#include "pool.h"

#include <grpc/grpc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* Every completion-queue tag starts with this: the CQ thread just calls it. */
struct tag {
    void (*fn)(struct tag *t, bool ok);
};

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

struct wstream;

struct drv_server {
    grpc_server *srv;
    grpc_completion_queue *cq;
    grpc_server_credentials *creds;
    pthread_t cq_thread;
    bool cq_running;
    struct drv_ctx ctx;
    struct drv_pool *fast, *slow;
    unsigned queue_max;

    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct wstream *streams;
    bool shutting_down, shutdown_done;
    struct tag shutdown_tag;
};

/* Starts a WatchSandboxes call (stream.c). */
void drv_stream_start(struct drv_server *s, grpc_call *call);

/* Ends every open stream with UNAVAILABLE; s->lock held by the caller. */
void drv_streams_finish_locked(struct drv_server *s);

#endif
