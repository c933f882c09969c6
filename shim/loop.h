/* The shim's single-threaded event loop: poll(2) over a signalfd and whatever
 * fds the modules register (timerfds, the readyz listener and its
 * connections, the control socket).  Nothing in the loop blocks; a handler
 * that has more work than it should do at once re-arms itself.
 *
 * Handlers never exit the process: they record state and the supervisor
 * (init/supervise.c) decides when the shim ends. */
#ifndef SHIM_LOOP_H
#define SHIM_LOOP_H

#include "error.h"

#include <stdbool.h>
#include <stdint.h>

struct shim_loop;
typedef void (*shim_loop_cb)(struct shim_loop *loop, int fd, uint32_t events, void *data);

int shim_loop_new(struct shim_loop **ret, oss_error *err);
void shim_loop_free(struct shim_loop *loop);

/* Registers fd (level-triggered EPOLLIN etc.).  The loop does not own fd. */
int shim_loop_add(struct shim_loop *loop, int fd, uint32_t events, shim_loop_cb cb, void *data,
                  oss_error *err);
int shim_loop_mod(struct shim_loop *loop, int fd, uint32_t events, oss_error *err);
/* Safe to call from inside any callback, including for the fd being handled. */
void shim_loop_del(struct shim_loop *loop, int fd);

/* cb runs at the start of every round, before poll(): a module whose work
 * is not tied to an fd of its own (the log backlog) adds or removes fds
 * there.  One per loop; NULL removes it. */
void shim_loop_set_prepare(struct shim_loop *loop, void (*cb)(struct shim_loop *, void *),
                           void *data);

/* Runs one round: waits up to timeout_ms (-1 = forever) and dispatches.
 * Returns the number of events handled, or -1 on a fatal epoll error. */
int shim_loop_run_once(struct shim_loop *loop, int timeout_ms, oss_error *err);

/* A one-shot or periodic CLOCK_MONOTONIC timer on a timerfd registered with
 * the loop.  Disarmed timers cost nothing: no wake-ups while idle. */
struct shim_timer;
int shim_timer_new(struct shim_loop *loop, shim_loop_cb cb, void *data, struct shim_timer **ret,
                   oss_error *err);
void shim_timer_free(struct shim_loop *loop, struct shim_timer *t);
/* after_ms > 0; interval_ms 0 = one-shot. */
int shim_timer_arm(struct shim_timer *t, int64_t after_ms, int64_t interval_ms);
void shim_timer_disarm(struct shim_timer *t);
bool shim_timer_armed(const struct shim_timer *t);
/* Reads the expiration count (call from the callback); 0 if spurious. */
uint64_t shim_timer_consume(struct shim_timer *t);

#endif
