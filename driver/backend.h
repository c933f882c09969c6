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
};

void drv_actor_clear(struct drv_actor *a);
void drv_actor_copy(struct drv_actor *dst, const struct drv_actor *src);
void drv_sandbox_spec_clear(struct drv_sandbox_spec *s);

struct drv_backend;
struct drv_backend_ops {
    const char *name;
    /* Validation that needs the backend (image resolvable, template known). */
    int (*validate)(struct drv_backend *b, const struct drv_sandbox_spec *spec, oss_error *err);
    /* Create and start; rolls back on failure; returns the actor. */
    int (*create)(struct drv_backend *b, const struct drv_sandbox_spec *spec, struct drv_actor *ret,
                  oss_error *err);
    int (*resume)(struct drv_backend *b, const char *id, oss_error *err);
    int (*suspend)(struct drv_backend *b, const char *id, oss_error *err);
    /* Removes the actor and everything the driver created for it. */
    int (*delete_)(struct drv_backend *b, const char *id, oss_error *err);
    /* err->domain GRPC with GRPC_STATUS_NOT_FOUND when missing. */
    int (*get)(struct drv_backend *b, const char *id, struct drv_actor *ret, oss_error *err);
    /* All actors of this driver; caller frees with drv_actor_list_free. */
    int (*list)(struct drv_backend *b, struct drv_actor **ret, size_t *ret_n, oss_error *err);
    void (*destroy)(struct drv_backend *b);
};

struct drv_backend {
    const struct drv_backend_ops *ops;
    void *impl;
};

void drv_actor_list_free(struct drv_actor *a, size_t n);

#endif
