/* The driver's backend interface: what the gRPC server needs from a place
 * that runs sandboxes as actors (FACTS.md §3's actor model).  The Substrate
 * backend (ateapi + Kubernetes) and the local runsc backend implement it;
 * the server (server/) never knows which one it talks to.
 *
 * All calls may block (they are called from worker threads, never from the
 * gRPC completion-queue thread) and must be thread-safe. */
#ifndef DRV_BACKEND_H
#define DRV_BACKEND_H

#include "error.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Actor status values as ateapi numbers them; unknown values pass through. */
enum drv_actor_status {
    DRV_ACTOR_UNSPECIFIED = 0,
    DRV_ACTOR_RESUMING = 1,
    DRV_ACTOR_RUNNING = 2,
    DRV_ACTOR_SUSPENDING = 3,
    DRV_ACTOR_SUSPENDED = 4,
    DRV_ACTOR_PAUSING = 5,
    DRV_ACTOR_PAUSED = 6,
    DRV_ACTOR_CRASHED = 7,
};

struct drv_kv {
    char *key;
    char *value;
};

/* What the driver knows of one sandbox, independent of the backend. */
struct drv_sandbox_spec {
    char *id;         /* DriverSandbox.id, validated as a DNS-1123 label */
    char *name;       /* DriverSandbox.name */
    char *namespace_; /* chosen by the driver */
    char *image;      /* digest-pinned for substrate; a rootfs key for runsc */
    char **command;   /* workload argv (NULL-terminated), may be NULL */
    struct drv_kv *env;
    size_t nenv;
    char *sandbox_token;     /* secret: never logged, never in a template */
    char *template_override; /* pre-provisioned ActorTemplate name, or NULL */
    struct drv_kv *annotations;
    size_t nannotations;
    char *log_level; /* DriverSandboxSpec.log_level, "" when unset */
    bool tty;        /* DriverSandboxSpec.tty: the main process gets a terminal */
};

/* Where a create that answered OK but has not finished stands.  CreateSandbox
 * records the sandbox and answers at once (the gateway holds its global lock
 * across the call: docs/platform/gateway.md, "Create, names and the lock");
 * the rest happens in the background and shows through Get, List and the
 * watch as these steps. */
enum drv_create_step {
    DRV_CREATE_DONE = 0,     /* not creating (any more): the status speaks */
    DRV_CREATE_DEPENDENCIES, /* the template boots its golden actor */
    DRV_CREATE_STARTING,     /* the actor is created and resumed the first time */
    DRV_CREATE_FAILED,       /* the background create failed: failure says where */
};

struct drv_actor {
    char *id;
    char *name;
    char *namespace_;
    enum drv_actor_status status; /* raw value, may be unknown */
    int raw_status;
    uint64_t version;
    char *template_name;
    char *failure; /* non-NULL only for a real failure (terminal) */
    char *address; /* where the sandbox can be reached, if known */
    enum drv_create_step create_step;
};

void drv_actor_clear(struct drv_actor *a);
void drv_actor_copy(struct drv_actor *dst, const struct drv_actor *src);
void drv_sandbox_spec_clear(struct drv_sandbox_spec *s);

struct drv_backend;
struct drv_backend_ops {
    const char *name;
    /* Validation that needs the backend (image resolvable, template known). */
    int (*validate)(struct drv_backend *b, const struct drv_sandbox_spec *spec, oss_error *err);
    /* Records the sandbox durably and returns at once with what Get would
     * answer (create_step set); the rest runs in the background, reports
     * each step through drv_backend_notify and, on failure, undoes what it
     * made and leaves the sandbox with create_step FAILED.  ALREADY_EXISTS
     * for an id that exists or is being created. */
    int (*create)(struct drv_backend *b, const struct drv_sandbox_spec *spec, struct drv_actor *ret,
                  oss_error *err);
    int (*resume)(struct drv_backend *b, const char *id, oss_error *err);
    int (*suspend)(struct drv_backend *b, const char *id, oss_error *err);
    /* Removes the actor and everything the driver created for it.  A create
     * in flight is cancelled first (its background work stops and removes
     * what it made); then this answers as for any existing sandbox. */
    int (*delete_)(struct drv_backend *b, const char *id, oss_error *err);
    /* err->domain GRPC with GRPC_STATUS_NOT_FOUND when missing. */
    int (*get)(struct drv_backend *b, const char *id, struct drv_actor *ret, oss_error *err);
    /* All actors of this driver; caller frees with drv_actor_list_free. */
    int (*list)(struct drv_backend *b, struct drv_actor **ret, size_t *ret_n, oss_error *err);
    void (*destroy)(struct drv_backend *b);
};

/* Called by a backend's background work when a sandbox changed (a create
 * step passed, a create failed): the watch hub reads the sandbox again and
 * tells its subscribers.  Never called with a backend lock held. */
typedef void (*drv_notify_fn)(void *ctx, const char *id);

struct drv_backend {
    const struct drv_backend_ops *ops;
    void *impl;
    pthread_mutex_t notify_lock; /* guards notify: the hub may go first */
    drv_notify_fn notify;
    void *notify_ctx;
};

/* Sets ops and impl and prepares the notify hook (every backend's open). */
void drv_backend_init(struct drv_backend *b, const struct drv_backend_ops *ops, void *impl);
/* Installs (fn != NULL) or removes the hook; removal waits for a running call. */
void drv_backend_set_notify(struct drv_backend *b, drv_notify_fn fn, void *ctx);
void drv_backend_notify(struct drv_backend *b, const char *id);

void drv_actor_list_free(struct drv_actor *a, size_t n);

#endif
