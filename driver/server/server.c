/* The gRPC server: the completion-queue thread, the call acceptors, unary
 * calls (received here, run on a worker pool, answered from the worker),
 * and shutdown.  Watch streams live in stream.c. */
#include "server.h"
#include "server_int.h"

#include "drv_util.h"
#include "handlers.h"
#include "log.h"
#include "pool.h"
#include "util.h"

#include <errno.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_posix.h>
#include <grpc/grpc_security.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ACCEPTORS    8
#define FAST_THREADS 4
#define SLOW_THREADS 12
#define POOL_QUEUE   1024

/* ---- unary calls ---------------------------------------------------- */

struct ucall {
    struct tag t;
    struct drv_server *s;
    grpc_call *call;
    const struct drv_method *m;
    bool replied;
    grpc_byte_buffer *recv_bb;
    uint8_t *req;
    size_t req_len;
    struct drv_reply rep;
    grpc_byte_buffer *send_bb;
    grpc_slice details;
    int cancelled;
};

static void ucall_done(struct tag *t, bool ok)
{
    struct ucall *u = container_of(t, struct ucall, t);
    if (u->send_bb != NULL)
        grpc_byte_buffer_destroy(u->send_bb);
    grpc_slice_unref(u->details);
    grpc_call_unref(u->call);
    drv_reply_free(&u->rep);
    free(u->req);
    free(u);
}

/* Runs on a worker or the CQ thread; grpc_call_start_batch is thread-safe
 * across calls and this call has no other batch in flight. */
static void ucall_reply(struct ucall *u)
{
    grpc_op ops[4];
    size_t n = 0;
    memset(ops, 0, sizeof ops);
    ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
    if (u->rep.status == GRPC_STATUS_OK) {
        grpc_slice sl = grpc_slice_from_copied_buffer((const char *)u->rep.body, u->rep.len);
        u->send_bb = grpc_raw_byte_buffer_create(&sl, 1);
        grpc_slice_unref(sl);
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n++].data.send_message.send_message = u->send_bb;
    }
    u->details = grpc_slice_from_copied_string(u->rep.status == GRPC_STATUS_OK ? "" : u->rep.msg);
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.status = (grpc_status_code)u->rep.status;
    ops[n++].data.send_status_from_server.status_details = &u->details;
    ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[n++].data.recv_close_on_server.cancelled = &u->cancelled;
    u->replied = true;
    grpc_call_error e = grpc_call_start_batch(u->call, ops, n, &u->t, NULL);
    if (e != GRPC_CALL_OK) {
        log_error("grpc: starting reply batch failed (%d)", (int)e);
        ucall_done(&u->t, false);
    }
}

static void ucall_job(void *arg)
{
    struct ucall *u = arg;
    u->m->fn(&u->s->ctx, u->req, u->req_len, &u->rep);
    ucall_reply(u);
}

static void reply_now(struct ucall *u, int status, const char *msg)
{
    u->rep.status = status;
    snprintf(u->rep.msg, sizeof u->rep.msg, "%s", msg);
    ucall_reply(u);
}

static void ucall_recv(struct tag *t, bool ok)
{
    struct ucall *u = container_of(t, struct ucall, t);
    u->t.fn = ucall_done;
    if (!ok || u->recv_bb == NULL) {
        if (u->recv_bb != NULL)
            grpc_byte_buffer_destroy(u->recv_bb);
        reply_now(u, GRPC_STATUS_INVALID_ARGUMENT, "request carried no message");
        return;
    }
    grpc_byte_buffer_reader r;
    if (!grpc_byte_buffer_reader_init(&r, u->recv_bb)) {
        grpc_byte_buffer_destroy(u->recv_bb);
        reply_now(u, GRPC_STATUS_INTERNAL, "cannot read request");
        return;
    }
    grpc_slice sl = grpc_byte_buffer_reader_readall(&r);
    grpc_byte_buffer_reader_destroy(&r);
    grpc_byte_buffer_destroy(u->recv_bb);
    u->recv_bb = NULL;
    u->req_len = GRPC_SLICE_LENGTH(sl);
    u->req = malloc(u->req_len > 0 ? u->req_len : 1);
    if (u->req == NULL)
        abort();
    memcpy(u->req, GRPC_SLICE_START_PTR(sl), u->req_len);
    grpc_slice_unref(sl);

    switch (u->m->run) {
    case DRV_RUN_INLINE:
        ucall_job(u);
        return;
    case DRV_RUN_FAST:
    case DRV_RUN_SLOW:
        if (!drv_pool_submit(u->m->run == DRV_RUN_FAST ? u->s->fast : u->s->slow, ucall_job, u))
            reply_now(u, GRPC_STATUS_RESOURCE_EXHAUSTED,
                      "driver is saturated with calls; retry later");
        return;
    default:
        reply_now(u, GRPC_STATUS_INTERNAL, "bad method table");
    }
}

static void ucall_start(struct drv_server *s, grpc_call *call, const struct drv_method *m)
{
    struct ucall *u = calloc(1, sizeof *u);
    if (u == NULL)
        abort();
    u->s = s;
    u->call = call;
    u->m = m;
    u->details = grpc_empty_slice();
    if (m == NULL) {
        u->t.fn = ucall_done;
        reply_now(u, GRPC_STATUS_UNIMPLEMENTED, "unknown method");
        return;
    }
    u->t.fn = ucall_recv;
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &u->recv_bb;
    if (grpc_call_start_batch(call, &op, 1, &u->t, NULL) != GRPC_CALL_OK) {
        u->t.fn = ucall_done;
        ucall_done(&u->t, false);
    }
}

/* ---- accepting calls ------------------------------------------------ */

struct acceptor {
    struct tag t;
    struct drv_server *s;
    grpc_call *call;
    grpc_call_details details;
    grpc_metadata_array md;
};

static void acceptor_arm(struct acceptor *a)
{
    a->call = NULL;
    grpc_call_details_init(&a->details);
    grpc_metadata_array_init(&a->md);
    if (grpc_server_request_call(a->s->srv, &a->call, &a->details, &a->md, a->s->cq, a->s->cq,
                                 &a->t) != GRPC_CALL_OK) {
        grpc_call_details_destroy(&a->details);
        grpc_metadata_array_destroy(&a->md);
        free(a);
    }
}

static void acceptor_done(struct tag *t, bool ok)
{
    struct acceptor *a = container_of(t, struct acceptor, t);
    if (!ok) { /* server shutting down */
        grpc_call_details_destroy(&a->details);
        grpc_metadata_array_destroy(&a->md);
        free(a);
        return;
    }
    grpc_call *call = a->call;
    const struct drv_method *m =
        drv_method_find((const char *)GRPC_SLICE_START_PTR(a->details.method),
                        GRPC_SLICE_LENGTH(a->details.method));
    if (oss_log_get_level() >= OSS_LOG_DEBUG)
        log_debug("call %.*s", (int)GRPC_SLICE_LENGTH(a->details.method),
                  (const char *)GRPC_SLICE_START_PTR(a->details.method));
    grpc_call_details_destroy(&a->details);
    grpc_metadata_array_destroy(&a->md);
    acceptor_arm(a);
    if (m != NULL && m->run == DRV_RUN_STREAM)
        drv_stream_start(a->s, call);
    else
        ucall_start(a->s, call, m);
}

static void *cq_loop(void *arg)
{
    struct drv_server *s = arg;
    for (;;) {
        grpc_event ev =
            grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            return NULL;
        if (ev.type == GRPC_OP_COMPLETE)
            ((struct tag *)ev.tag)->fn(ev.tag, ev.success != 0);
    }
}

static void shutdown_done(struct tag *t, bool ok)
{
    struct drv_server *s = container_of(t, struct drv_server, shutdown_tag);
    pthread_mutex_lock(&s->lock);
    s->shutdown_done = true;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

int drv_server_new(const struct drv_config *cfg, struct drv_backend *backend,
                   struct drv_watch *watch, struct drv_server **ret, oss_error *err)
{
    struct drv_server *s = calloc(1, sizeof *s);
    if (s == NULL)
        return oss_err_errno(err, "calloc");
    s->ctx = (struct drv_ctx){.cfg = cfg, .backend = backend, .watch = watch};
    s->queue_max = cfg->watch_queue_max;
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &ca);
    pthread_condattr_destroy(&ca);
    s->shutdown_tag.fn = shutdown_done;

    if (drv_pool_new("drv-fast", FAST_THREADS, POOL_QUEUE, &s->fast, err) < 0 ||
        drv_pool_new("drv-slow", SLOW_THREADS, POOL_QUEUE, &s->slow, err) < 0) {
        drv_server_free(s);
        return -1;
    }
    s->creds = grpc_insecure_server_credentials_create();
    s->cq = grpc_completion_queue_create_for_next(NULL);
    /* The gateway's HTTP/2 client may keep its one long-lived connection
     * alive with pings; gRPC's default answers pings more often than every
     * 5 minutes with GOAWAY ("too_many_pings"), which would drop the watch.
     * Accept them every 10 s, with or without calls in flight. */
    grpc_arg args[3];
    args[0].type = GRPC_ARG_INTEGER;
    args[0].key = (char *)GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS;
    args[0].value.integer = 10000;
    args[1].type = GRPC_ARG_INTEGER;
    args[1].key = (char *)GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS;
    args[1].value.integer = 1;
    args[2].type = GRPC_ARG_INTEGER;
    args[2].key = (char *)GRPC_ARG_HTTP2_MAX_PING_STRIKES;
    args[2].value.integer = 0; /* 0 = unlimited */
    grpc_channel_args cargs = {.num_args = 3, .args = args};
    s->srv = grpc_server_create(&cargs, NULL);
    grpc_server_register_completion_queue(s->srv, s->cq, NULL);
    grpc_server_start(s->srv);
    int r = pthread_create(&s->cq_thread, NULL, cq_loop, s);
    if (r != 0) {
        errno = r;
        oss_err_errno(err, "starting the completion-queue thread");
        drv_server_free(s);
        return -1;
    }
    s->cq_running = true;
    for (int i = 0; i < ACCEPTORS; i++) {
        struct acceptor *a = calloc(1, sizeof *a);
        if (a == NULL)
            abort();
        a->s = s;
        a->t.fn = acceptor_done;
        acceptor_arm(a);
    }
    *ret = s;
    return 0;
}

void drv_server_add_fd(struct drv_server *s, int fd)
{
    grpc_server_add_channel_from_fd(s->srv, fd, s->creds);
}

static bool wait_done(struct drv_server *s, int64_t ms)
{
    struct timespec until = drv_mono_deadline_ms(ms);
    pthread_mutex_lock(&s->lock);
    while (!s->shutdown_done)
        if (pthread_cond_timedwait(&s->cond, &s->lock, &until) == ETIMEDOUT)
            break;
    bool done = s->shutdown_done;
    pthread_mutex_unlock(&s->lock);
    return done;
}

void drv_server_shutdown(struct drv_server *s, int64_t grace_ms)
{
    pthread_mutex_lock(&s->lock);
    s->shutting_down = true;
    pthread_mutex_unlock(&s->lock);
    grpc_server_shutdown_and_notify(s->srv, s->cq, &s->shutdown_tag);

    /* Watch streams never end on their own: finish them so the gateway
     * reconnects (2 s later) to whatever driver comes next. */
    pthread_mutex_lock(&s->lock);
    drv_streams_finish_locked(s);
    pthread_mutex_unlock(&s->lock);

    if (!wait_done(s, grace_ms)) {
        log_warn("calls still running after %lld ms: cancelling them", (long long)grace_ms);
        grpc_server_cancel_all_calls(s->srv);
        wait_done(s, 5000);
    }
}

void drv_server_free(struct drv_server *s)
{
    if (s == NULL)
        return;
    /* workers may still hold calls whose reply needs the CQ: finish them
     * before the queue goes away */
    drv_pool_free(s->fast);
    drv_pool_free(s->slow);
    if (s->srv != NULL) {
        if (!s->shutting_down) {
            grpc_server_shutdown_and_notify(s->srv, s->cq, &s->shutdown_tag);
            grpc_server_cancel_all_calls(s->srv);
            wait_done(s, 5000);
        }
        grpc_server_destroy(s->srv);
    }
    if (s->cq != NULL) {
        grpc_completion_queue_shutdown(s->cq);
        if (s->cq_running)
            pthread_join(s->cq_thread, NULL);
        grpc_completion_queue_destroy(s->cq);
    }
    if (s->creds != NULL)
        grpc_server_credentials_release(s->creds);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s);
}
