/* WatchSandboxes streams: each stream subscribes to the shared watch hub
 * (watch.c) and owns a FIFO of packed events.  Exactly one send-side batch
 * is in flight per stream; its completion starts the next, so the stream's
 * HTTP/2 flow control paces it: a reader that reads slowly is sent slowly.
 *
 * The current state a new stream gets first is queued whole, however many
 * sandboxes there are, and is never counted as lag.  Later events come in
 * batches (one listing's diff, or one handler change).  When a new batch
 * arrives while more than watch_queue_max events of EARLIER batches are
 * still unsent, the reader has stayed behind for a whole batch interval:
 * the stream is ended with RESOURCE_EXHAUSTED (the gateway re-opens it and
 * gets a fresh state).  A batch itself may be large (thousands of actors
 * changing between two polls) without cutting anyone, so the queue holds at
 * most watch_queue_max events plus one batch beyond the initial state.
 * Lock order: hub -> stream, server -> stream; never the reverse. */
#include "server_int.h"

#include "log.h"

#include <grpc/byte_buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct qent {
    struct drv_blob *b;
    bool initial;
};

struct wstream {
    struct drv_watch_sub sub;
    struct tag t_recv, t_send, t_close;
    struct drv_server *s;
    grpc_call *call;
    pthread_mutex_t lock;
    int refs;
    /* FIFO of events not yet handed to gRPC; `live` counts those that are
     * not part of the initial state */
    struct qent *q;
    size_t qhead, qlen, qcap, lag_max, live;
    uint64_t last_batch;
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
        drv_blob_unref(w->q[(w->qhead + i) % w->qcap].b);
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
        struct qent e = w->q[w->qhead];
        struct drv_blob *b = e.b;
        w->qhead = (w->qhead + 1) % w->qcap;
        w->qlen--;
        if (!e.initial)
            w->live--;
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
    struct qent *nq = calloc(ncap, sizeof *nq);
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
static void ws_push(struct drv_watch_sub *sub, struct drv_blob *ev, uint64_t batch)
{
    struct wstream *w = container_of(sub, struct wstream, sub);
    bool initial = batch == DRV_WATCH_INITIAL;
    pthread_mutex_lock(&w->lock);
    if (!w->status_started && !w->overflow && !w->finishing) {
        bool new_batch = !initial && batch != w->last_batch;
        if (new_batch && w->live >= w->lag_max) {
            /* Earlier batches are still unread: buffering more would grow
             * without bound.  Cut it: the gateway re-opens the watch 2 s
             * later and gets a fresh state, which loses nothing. */
            w->overflow = true;
            log_warn("watch stream cut: %zu events of earlier changes still unread (limit %zu)",
                     w->live, w->lag_max);
            w->final_status = GRPC_STATUS_RESOURCE_EXHAUSTED;
            snprintf(w->final_msg, sizeof w->final_msg,
                     "watch stream fell more than %zu events behind; re-open it", w->lag_max);
        } else {
            if (!initial)
                w->last_batch = batch;
            if (w->qlen == w->qcap)
                ws_grow(w);
            w->q[(w->qhead + w->qlen) % w->qcap] = (struct qent){drv_blob_ref(ev), initial};
            w->qlen++;
            if (!initial)
                w->live++;
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

void drv_stream_start(struct drv_server *s, grpc_call *call)
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

void drv_streams_finish_locked(struct drv_server *s)
{
    /* Watch streams never end on their own: finish them so the gateway
     * reconnects (2 s later) to whatever driver comes next. */
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
}
