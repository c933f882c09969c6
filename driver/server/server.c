#include "server.h"

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

/* ---- watch streams -------------------------------------------------- */

struct wstream {
    struct drv_watch_sub sub;
    struct tag t_recv, t_send, t_close;
    struct drv_server *s;
    grpc_call *call;
    pthread_mutex_t lock;
    int refs;
    /* FIFO of events not yet handed to gRPC; grows for the initial
     * snapshot, while lag beyond it is bounded by lag_max */
    struct drv_blob **q;
    size_t qhead, qlen, qcap, lag_max, snap_pending;
    bool md_sent, sending, status_started, overflow, finishing, subscribed;
    int final_status;
    char final_msg[128];
    grpc_byte_buffer *recv_bb, *send_bb;
    grpc_slice details;
    int cancelled;
    struct wstream *next; /* server list */
};

static void ws_free(struct wstream *w)
{
    for (size_t i = 0; i < w->qlen; i++)
        drv_blob_unref(w->q[(w->qhead + i) % w->qcap]);
    free(w->q);
    if (w->send_bb != NULL)
        grpc_byte_buffer_destroy(w->send_bb);
    grpc_slice_unref(w->details);
    grpc_call_unref(w->call);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

/* Drops one reference; called without the lock. */
static void ws_unref(struct wstream *w)
{
    pthread_mutex_lock(&w->lock);
    int left = --w->refs;
    pthread_mutex_unlock(&w->lock);
    if (left == 0)
        ws_free(w);
}

static void ws_batch(struct wstream *w, grpc_op *ops, size_t n)
{
    /* lock held; one send-side batch at a time per stream */
    w->sending = true;
    w->refs++;
    grpc_call_error e = grpc_call_start_batch(w->call, ops, n, &w->t_send, NULL);
    if (e != GRPC_CALL_OK) {
        log_error("grpc: watch batch failed (%d)", (int)e);
        w->sending = false;
        w->refs--;
    }
}

static void ws_send_status(struct wstream *w)
{
    grpc_op ops[2];
    size_t n = 0;
    memset(ops, 0, sizeof ops);
    if (!w->md_sent) {
        ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
        w->md_sent = true;
    }
    w->status_started = true;
    grpc_slice_unref(w->details);
    w->details = grpc_slice_from_copied_string(w->final_msg);
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.status = (grpc_status_code)w->final_status;
    ops[n++].data.send_status_from_server.status_details = &w->details;
    ws_batch(w, ops, n);
}

/* lock held: start the next send if nothing is in flight */
static void ws_pump(struct wstream *w)
{
    if (w->sending || w->status_started)
        return;
    if (w->overflow || w->finishing) {
        ws_send_status(w);
        return;
    }
    grpc_op ops[2];
    size_t n = 0;
    memset(ops, 0, sizeof ops);
    if (!w->md_sent) {
        ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
        w->md_sent = true;
    }
    if (w->qlen > 0) {
        struct drv_blob *b = w->q[w->qhead];
        w->qhead = (w->qhead + 1) % w->qcap;
        w->qlen--;
        if (w->snap_pending > 0)
            w->snap_pending--;
        grpc_slice sl = grpc_slice_from_copied_buffer((const char *)b->data, b->len);
        drv_blob_unref(b);
        w->send_bb = grpc_raw_byte_buffer_create(&sl, 1);
        grpc_slice_unref(sl);
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n++].data.send_message.send_message = w->send_bb;
    }
    if (n > 0)
        ws_batch(w, ops, n);
}

static void ws_grow(struct wstream *w)
{
    size_t ncap = w->qcap * 2;
    struct drv_blob **nq = calloc(ncap, sizeof *nq);
    if (nq == NULL)
        abort();
    for (size_t i = 0; i < w->qlen; i++)
        nq[i] = w->q[(w->qhead + i) % w->qcap];
    free(w->q);
    w->q = nq;
    w->qcap = ncap;
    w->qhead = 0;
}

/* The hub calls this with its lock held. */
static void ws_push(struct drv_watch_sub *sub, struct drv_blob *ev, bool initial)
{
    struct wstream *w = container_of(sub, struct wstream, sub);
    pthread_mutex_lock(&w->lock);
    if (!w->status_started && !w->overflow && !w->finishing) {
        if (!initial && w->qlen - w->snap_pending >= w->lag_max) {
            /* A reader this far behind would make us buffer without bound.
             * Cut it: the gateway re-opens the watch 2 s later and gets a
             * fresh snapshot, which loses nothing. */
            w->overflow = true;
            log_warn("watch stream cut: fell more than %zu events behind", w->lag_max);
            w->final_status = GRPC_STATUS_RESOURCE_EXHAUSTED;
            snprintf(w->final_msg, sizeof w->final_msg,
                     "watch stream fell more than %zu events behind; re-open it", w->lag_max);
        } else {
            if (w->qlen == w->qcap)
                ws_grow(w);
            w->q[(w->qhead + w->qlen) % w->qcap] = drv_blob_ref(ev);
            w->qlen++;
            if (initial)
                w->snap_pending++;
        }
        ws_pump(w);
    }
    pthread_mutex_unlock(&w->lock);
}

static void ws_on_send(struct tag *t, bool ok)
{
    struct wstream *w = container_of(t, struct wstream, t_send);
    pthread_mutex_lock(&w->lock);
    w->sending = false;
    if (w->send_bb != NULL) {
        grpc_byte_buffer_destroy(w->send_bb);
        w->send_bb = NULL;
    }
    if (ok)
        ws_pump(w);
    else
        w->status_started = true; /* the client is gone: nothing more to send */
    int left = --w->refs;
    pthread_mutex_unlock(&w->lock);
    if (left == 0)
        ws_free(w);
}

static void ws_on_close(struct tag *t, bool ok)
{
    struct wstream *w = container_of(t, struct wstream, t_close);
    struct drv_server *s = w->s;
    pthread_mutex_lock(&w->lock);
    bool sub = w->subscribed;
    w->subscribed = false;
    w->status_started = true;
    pthread_mutex_unlock(&w->lock);
    if (sub) {
        drv_watch_unsubscribe(s->ctx.watch, &w->sub);
        ws_unref(w); /* the hub's reference */
    }
    pthread_mutex_lock(&s->lock);
    for (struct wstream **p = &s->streams; *p != NULL; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            break;
        }
    pthread_mutex_unlock(&s->lock);
    ws_unref(w); /* the server list's reference */
    ws_unref(w); /* the close batch's reference */
}

static void ws_on_recv(struct tag *t, bool ok)
{
    struct wstream *w = container_of(t, struct wstream, t_recv);
    struct drv_server *s = w->s;
    if (w->recv_bb != NULL) {
        grpc_byte_buffer_destroy(w->recv_bb); /* WatchSandboxesRequest is empty */
        w->recv_bb = NULL;
    }
    /* the recv reference becomes the close batch's reference */
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    op.data.recv_close_on_server.cancelled = &w->cancelled;
    if (grpc_call_start_batch(w->call, &op, 1, &w->t_close, NULL) != GRPC_CALL_OK) {
        ws_unref(w);
        return;
    }
    pthread_mutex_lock(&s->lock);
    bool closing = s->shutting_down;
    w->refs++; /* the server list */
    w->next = s->streams;
    s->streams = w;
    pthread_mutex_unlock(&s->lock);

    if (closing || !ok) {
        pthread_mutex_lock(&w->lock);
        w->finishing = true;
        w->final_status = GRPC_STATUS_UNAVAILABLE;
        snprintf(w->final_msg, sizeof w->final_msg, "driver is shutting down");
        ws_pump(w);
        pthread_mutex_unlock(&w->lock);
        return;
    }
    pthread_mutex_lock(&w->lock);
    w->refs++; /* the hub */
    w->subscribed = true;
    pthread_mutex_unlock(&w->lock);
    /* pushes the current state first, then every later event */
    drv_watch_subscribe(s->ctx.watch, &w->sub);
    pthread_mutex_lock(&w->lock);
    ws_pump(w); /* initial metadata even when there is no state yet */
    pthread_mutex_unlock(&w->lock);
}

static void ws_start(struct drv_server *s, grpc_call *call)
{
    struct wstream *w = calloc(1, sizeof *w);
    if (w == NULL)
        abort();
    w->s = s;
    w->call = call;
    w->lag_max = s->queue_max;
    w->qcap = s->queue_max;
    w->q = calloc(w->qcap, sizeof *w->q);
    if (w->q == NULL)
        abort();
    w->details = grpc_empty_slice();
    pthread_mutex_init(&w->lock, NULL);
    w->sub.push = ws_push;
    w->t_recv.fn = ws_on_recv;
    w->t_send.fn = ws_on_send;
    w->t_close.fn = ws_on_close;
    w->refs = 1;
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &w->recv_bb;
    if (grpc_call_start_batch(call, &op, 1, &w->t_recv, NULL) != GRPC_CALL_OK)
        ws_free(w);
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
        ws_start(a->s, call);
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
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
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
    for (struct wstream *w = s->streams; w != NULL; w = w->next) {
        pthread_mutex_lock(&w->lock);
        if (!w->finishing && !w->overflow) {
            w->finishing = true;
            w->final_status = GRPC_STATUS_UNAVAILABLE;
            snprintf(w->final_msg, sizeof w->final_msg, "driver is shutting down");
        }
        ws_pump(w);
        pthread_mutex_unlock(&w->lock);
    }
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
