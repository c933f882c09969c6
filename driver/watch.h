/* The watch hub: ONE poller shared by every WatchSandboxes stream.
 *
 * ateapi has no watch (FACTS.md §3), so the poller lists actors every
 * watch_interval_ms, diffs the listing against what it saw last, and hands
 * each subscriber packed WatchSandboxesEvent messages: a Sandbox event for a
 * new or changed actor, a Deleted event for a vanished one.  A new
 * subscriber first gets the whole current state.  Handlers report their own
 * changes at once (drv_watch_upsert/forget) so Create or Delete is visible
 * without waiting for the next poll; a listing that started before such a
 * change is not allowed to undo it.  Until the first listing succeeds the
 * hub knows nothing: that listing's events are the current state, so a
 * stream opened before it gets them marked DRV_WATCH_INITIAL too.
 *
 * No gRPC here: subscribers are callbacks, so the diff can be unit-tested
 * and the stream code (server/stream.c) owns flow control. */
#ifndef DRV_WATCH_H
#define DRV_WATCH_H

#include "backend.h"
#include "error.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An immutable, refcounted packed event shared by every subscriber. */
struct drv_blob {
    atomic_int refs;
    size_t len;
    uint8_t data[];
};

struct drv_blob *drv_blob_ref(struct drv_blob *b);
void drv_blob_unref(struct drv_blob *b);

/* The batch number of the events a new subscriber gets as the current
 * state.  Later events carry batch numbers from 1 up: all the events of one
 * listing's diff share one, each handler change has its own. */
#define DRV_WATCH_INITIAL 0

struct drv_watch_sub {
    /* Called with the hub lock held, in event order; must not block and
     * must not call back into the hub.  Takes its own reference.
     * `batch` is DRV_WATCH_INITIAL for the current-state snapshot (its size
     * is the number of sandboxes, not a reader's lag) and otherwise
     * numbers the change that produced the event, so a lag limit can judge
     * a reader by what it left unread from earlier batches rather than by
     * the size of the batch in hand. */
    void (*push)(struct drv_watch_sub *s, struct drv_blob *ev, uint64_t batch);
    struct drv_watch_sub *next; /* hub-owned */
};

struct drv_watch;

int drv_watch_new(struct drv_backend *b, int64_t interval_ms, struct drv_watch **ret,
                  oss_error *err);
/* Starts the poller thread. */
int drv_watch_start(struct drv_watch *w, oss_error *err);
/* Stops the poller (joins it); subscribers stay registered. */
void drv_watch_stop(struct drv_watch *w);
void drv_watch_free(struct drv_watch *w);

/* Registers s and pushes it the current state, atomically with respect to
 * later events. */
void drv_watch_subscribe(struct drv_watch *w, struct drv_watch_sub *s);
void drv_watch_unsubscribe(struct drv_watch *w, struct drv_watch_sub *s);

/* A handler changed this actor: record it and notify if it differs. */
void drv_watch_upsert(struct drv_watch *w, const struct drv_actor *a);
/* A handler deleted this actor: emit Deleted (always) and forget it. */
void drv_watch_forget(struct drv_watch *w, const char *id);
/* Poll now instead of at the next tick. */
void drv_watch_kick(struct drv_watch *w);

/* One poll, synchronously (tests; the thread calls the same). */
int drv_watch_poll_once(struct drv_watch *w, oss_error *err);

/* Packs one event; exposed for tests and the fuzzer. */
struct drv_blob *drv_watch_event_sandbox(const struct drv_actor *a);
struct drv_blob *drv_watch_event_deleted(const char *id);

#endif
