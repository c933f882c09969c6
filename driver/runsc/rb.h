/* The runsc backend's state shared by backend.c (the operations) and
 * reconcile.c (crash recovery at start-up). */
#ifndef DRV_RUNSC_RB_H
#define DRV_RUNSC_RB_H

#include "internal.h"

#include <pthread.h>

/* test hook marker, <state_dir>/runsc/<this> (OSS_RUNSC_TEST_PAUSE) */
#define RB_PAUSE_MARKER "test-paused"

struct rb;
struct rb_sbx {
    struct drv_runsc_record r;
    bool busy; /* an operation owns the sandbox: others get ABORTED */
    /* After a checkpoint the spent container is removed on a thread of its
     * own (`runsc delete` takes over a second here); the next owner of the
     * sandbox (start, delete, shutdown) joins it first. */
    bool reaping;
    pthread_t reaper;
    struct rb *owner;
    /* A create answers once the record is written; the rest runs on a
     * thread of its own (busy meanwhile).  Delete sets cancel and joins it. */
    bool creating;
    bool cancel;
    pthread_t creator;
};

struct rb {
    pthread_mutex_t lock;
    const struct drv_config *cfg; /* lives as long as the backend (main owns it) */
    char *dir;                    /* <state_dir>/runsc */
    char *sbdir;                  /* <dir>/sandboxes */
    char *root;                   /* runsc --root */
    char *procsys;
    char *ops; /* <dir>/ops: op files of running runsc children (runsc.c) */
    struct drv_runsc_cmd cmd;
    struct drv_runsc_pool pool;
    char tag[6];
    char cid_prefix[16]; /* "ossr<tag>-" */
    unsigned cursor;     /* last slot handed out: slots rotate so a start gets a new address */
    struct rb_sbx **v;
    size_t n;
    char *pause;            /* OSS_RUNSC_TEST_PAUSE: a step name where the backend stops (tests) */
    struct drv_backend *be; /* for drv_backend_notify */
};

/* <sbdir>/<id>/<rel> */
void drv_runsc_sbx_path(const struct rb *b, const char *id, const char *rel, char *out, size_t n);
int drv_runsc_save(struct rb *b, const struct drv_runsc_record *r, oss_error *err);
void drv_runsc_slot_names(const struct rb *b, unsigned slot, struct drv_runsc_net_names *ret);
int drv_runsc_rm_rf(const char *path, oss_error *err);
int64_t drv_runsc_du(const char *path);
/* Frees the sandbox's whole directory (record last). */
int drv_runsc_remove_dir(struct rb *b, const char *id, oss_error *err);
/* files.c */
int drv_runsc_write_identity(struct rb *b, const struct drv_runsc_record *r, const char *value,
                             oss_error *err);
/* A fresh UUID (drv_runsc_uuid_format over getrandom). */
int drv_runsc_new_uuid(char out[DRV_RUNSC_UUID_LEN + 1], oss_error *err);
int drv_runsc_write_bundle(struct rb *b, const struct drv_runsc_record *r, oss_error *err);
int drv_runsc_write_token(struct rb *b, const char *id, const char *token, oss_error *err);
int drv_runsc_open_console(struct rb *b, const char *id, oss_error *err); /* O_APPEND fd */

/* backend.c */
/* A backend over b whose operations are this file's (the table is static). */
struct drv_backend *drv_runsc_backend_new(struct rb *b);
void drv_runsc_backend_destroy(struct drv_backend *be);

/* Crash recovery: loads every record and settles it (reconcile.c). */
int drv_runsc_reconcile(struct rb *b, oss_error *err);

#endif
