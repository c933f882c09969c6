/* Internals of the runsc backend, split by concern:
 *   bundle.c  pure: image -> rootfs rule, slot -> addresses, the actor's argv
 *             and environment, the OCI spec (golden-tested)
 *   state.c   per-sandbox records as JSON, written atomically, reloaded
 *   runsc.c   running runsc (argv arrays, the /proc/sys workaround, timeouts)
 *   net.c     per-sandbox network namespaces (netns/ library), readyz probe
 *   settle.c  pure: how a record found at start-up is settled
 *   backend.c drv_backend_ops, locking, the lifecycle
 *   reconcile.c crash recovery at start-up (applies settle.c) */
#ifndef DRV_RUNSC_INTERNAL_H
#define DRV_RUNSC_INTERNAL_H

#include "backend.h"
#include "buf.h"
#include "config.h"
#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where /run/ate (the identity) and the token directory appear inside. */
#define DRV_RUNSC_IDENTITY_DIR  "/run/ate"
#define DRV_RUNSC_IDENTITY_FILE "/run/ate/actor-id"
#define DRV_RUNSC_IDENTITY_NAME "actor-id"
#define DRV_RUNSC_TOKEN_DIR     "/run/openshell-secrets"
#define DRV_RUNSC_TOKEN_FILE    "/run/openshell-secrets/sandbox-token"
#define DRV_RUNSC_HOST_IMAGE    "local/host"
#define DRV_RUNSC_PATH_ENV      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define DRV_RUNSC_SLOT_MAX      0x3fff

/* ---- bundle.c (pure) ---- */

/* The image -> root filesystem rule (docs/runsc-backend.md): "local/host"
 * is the host's / (read-only), only when the operator allowed it
 * (allow_host, --runsc-host-rootfs), else FAILED_PRECONDITION; any other
 * reference is the directory
 * <rootfs_dir>/<name> where <name> is the reference with every byte outside
 * [A-Za-z0-9._-] replaced by '_'.  Writes the path (not checked for
 * existence) to ret (size n).  FAILED_PRECONDITION when no rootfs_dir is
 * configured or the name would be empty, too long or start with '.'. */
int drv_runsc_rootfs_path(const char *rootfs_dir, bool allow_host, const char *image, char *ret,
                          size_t n, oss_error *err);

/* A fresh actor id as Substrate's controller makes one for a golden boot
 * (uuid.NewString(): lowercase, hyphenated, 36 characters) from 16 random
 * bytes. */
#define DRV_RUNSC_UUID_LEN 36
void drv_runsc_uuid_format(const unsigned char raw[16], char out[DRV_RUNSC_UUID_LEN + 1]);

/* A /30 per slot in the pool: slot s is base + 4 s; gateway .1, sandbox .2. */
struct drv_runsc_pool {
    uint32_t base; /* host order */
    unsigned nslots;
};
int drv_runsc_pool_parse(const char *cidr, struct drv_runsc_pool *ret, oss_error *err);
struct drv_runsc_net_names {
    char ns[40];      /* ossr-<tag>-<slot> */
    char host_if[16]; /* orh<tag><slot> */
    char peer_if[16]; /* ors<tag><slot> */
    char gateway[16]; /* a.b.c.d */
    char address[16]; /* a.b.c.d */
    char host_cidr[20];
    char peer_cidr[20];
};
/* tag: 5 hex digits naming this state directory, so two drivers on one
 * machine never share interface or namespace names. */
void drv_runsc_net_names(const struct drv_runsc_pool *p, const char *tag, unsigned slot,
                         struct drv_runsc_net_names *ret);
void drv_runsc_state_tag(const char *state_dir, char ret[6]);

/* The actor's argv: openshell-shim <flags> -- <supervisor> <args> --
 * <workload>; workload from spec->command, else config default_workload.
 * Returns a NULL-terminated strv (free with drv_runsc_strv_free). */
int drv_runsc_argv(const struct drv_config *c, const struct drv_sandbox_spec *s, char ***ret,
                   oss_error *err);
/* "K=V" entries: PATH, the identity variables, then the caller's. */
int drv_runsc_env(const struct drv_config *c, const struct drv_sandbox_spec *s, char ***ret,
                  oss_error *err);
void drv_runsc_strv_free(char **v);
size_t drv_runsc_strv_len(char *const *v);

struct drv_runsc_bundle_in {
    const char *rootfs;       /* absolute, resolved */
    char *const *argv;        /* NULL-terminated */
    char *const *env;         /* NULL-terminated */
    const char *identity_dir; /* host dir bound read-only at /run/ate */
    const char *token_dir;    /* host dir bound read-only at DRV_RUNSC_TOKEN_DIR, or NULL */
    const char *netns_path;   /* the network namespace runsc joins */
    unsigned uid, gid;        /* process.user */
    /* rootfs "/" only: the configured shim and supervisor (bound back when a
     * tmpfs would hide them) and the driver's state dir (hidden) */
    const char *const *host_executables; /* NULL-terminated, or NULL */
    const char *hide_dir;
};
/* The OCI runtime spec (config.json), compact JSON. */
void drv_runsc_bundle_json(const struct drv_runsc_bundle_in *in, oss_buf *out);

/* ---- state.c ---- */

enum drv_runsc_intent {
    DRV_RUNSC_NONE = 0,
    DRV_RUNSC_CREATING,
    DRV_RUNSC_STOPPING,
    DRV_RUNSC_STARTING,
    DRV_RUNSC_DELETING,
    /* a create whose CreateSandbox has not answered yet: a gateway whose
     * call failed keeps no row for it, so a restart removes it (creating,
     * written just before the answer, is kept as a failed create) */
    DRV_RUNSC_ADMITTING,
};
const char *drv_runsc_intent_name(enum drv_runsc_intent i);

struct drv_runsc_record {
    char *id;
    char *name;
    char *namespace_;
    char *image;
    char *rootfs;
    char **argv;
    char **env;
    bool has_token;
    enum drv_runsc_intent intent;
    enum drv_actor_status status; /* settled status (with intent NONE) */
    uint64_t version;
    uint64_t generation; /* +1 on every create and start: identity suffix */
    unsigned slot;       /* current network slot, 0 = none */
    unsigned prev_slot;  /* the slot before the last start (never reused at once) */
    int pid;             /* the runsc sandbox process while running */
    char *failure;
    bool create_failed;  /* failure is a create that answered OK and then failed */
    int64_t image_bytes; /* size of the last checkpoint */
};
void drv_runsc_record_clear(struct drv_runsc_record *r);
void drv_runsc_record_json(const struct drv_runsc_record *r, oss_buf *out);
int drv_runsc_record_parse(const char *text, size_t len, struct drv_runsc_record *ret,
                           oss_error *err);

/* ---- settle.c (pure) ---- */

/* What reconcile does with one record found at start-up. */
struct drv_runsc_settlement {
    bool remove;         /* the sandbox goes away entirely (record last) */
    bool destroy;        /* remove the runsc container */
    bool net_down;       /* remove the network namespace; slot = 0 */
    bool slot_to_prev;   /* the stop finished: prev_slot = slot first */
    bool adopt_pid;      /* it runs: take the pid runsc reports */
    bool drop_image;     /* remove image/ (spent by a restore) */
    bool publish_image;  /* rename the whole image.tmp/ to image/ */
    bool link_up;        /* set the host end of the veth up again */
    bool drop_image_tmp; /* remove a half-written image.tmp/ */
    bool measure_image;
    enum drv_actor_status status;
    const char *failure; /* non-NULL: a terminal failure with this reason */
    bool create_failed;  /* ... of a create that had answered OK */
    bool drop_token;     /* remove the token file (a failed create keeps no secret) */
};
/* container: what `runsc state` says ("running", "stopped", "created",
 * ...) or "missing"; image: <sandbox>/image exists; checkpoint_done: the
 * op file of the sandbox's last checkpoint says runsc exited 0 and
 * image.tmp/ exists. */
void drv_runsc_settle(enum drv_runsc_intent intent, enum drv_actor_status status,
                      const char *container, bool image, bool checkpoint_done,
                      struct drv_runsc_settlement *ret);

/* ---- runsc.c ---- */

struct drv_runsc_cmd {
    const char *runsc;   /* binary */
    const char *root;    /* --root */
    const char *procsys; /* the /proc/sys copy bound over /proc/sys for runsc */
    const char *prefix;  /* container id = prefix + sandbox id (below) */
    const char *ops_dir; /* op files of running runsc children (NULL: none) */
};
/* The runsc container id of a sandbox.  Debian's runsc names each
 * sandbox's control socket after the container id in the abstract socket
 * namespace, which is machine-wide whatever --root says: two drivers (or a
 * test and a driver) with the same sandbox id would collide, so the id is
 * prefixed with "ossr<tag>-". */
#define DRV_RUNSC_CID_MAX 96
void drv_runsc_cid(const struct drv_runsc_cmd *c, const char *id, char out[DRV_RUNSC_CID_MAX]);
/* Builds the /proc/sys copy without net/core/rmem_default (docs/platform/gvisor.md,
 * "Networking under Debian's runsc"). */
int drv_runsc_procsys_copy(const char *dst, oss_error *err);
/* Runs `runsc --root R --network=sandbox ARGS...` in a private mount
 * namespace whose /proc/sys is the copy.  out_fd >= 0: the child's stdout
 * and stderr go there (a console for run/restore); otherwise they are
 * captured into *output (if not NULL).  Fails on a non-zero exit with the
 * output's tail in the message, or on timeout (the child is killed). */
int drv_runsc_run(const struct drv_runsc_cmd *c, const char *const *args, int out_fd,
                  int64_t timeout_ms, oss_buf *output, oss_error *err);
/* Makes the driver a child subreaper, so the sandbox processes a `runsc
 * run`/`restore` leaves are the driver's children and are reaped as soon as
 * they exit (drv_runsc_run reaps them while it waits): `runsc delete` waits
 * until the sandbox's pid is gone, and an init that reaps late made every
 * delete take seconds (docs/runsc-backend.md, "Lifecycle and statuses"). */
int drv_runsc_subreaper(oss_error *err);
/* The same with an op file <ops_dir>/<op_name> (op_name NULL: a unique
 * name, removed when runsc has exited).  The file is locked from before the
 * fork until runsc has exited, by a monitor process that survives the
 * driver, and ends "exit <code>" (docs/runsc-backend.md, "Crash safety"). */
int drv_runsc_run_op(const struct drv_runsc_cmd *c, const char *op_name, const char *const *args,
                     int out_fd, int64_t timeout_ms, oss_buf *output, oss_error *err);
/* runsc's exit code recorded in an op file, or -1 (unfinished, signalled,
 * missing). */
int drv_runsc_op_status(const char *path);
/* At start-up: waits (up to wait_ms each, then kills) until no monitor of a
 * previous driver holds an op file; removes every op file except
 * "<id>.checkpoint" ones, whose outcome reconcile reads. */
int drv_runsc_ops_drain(const char *ops_dir, int64_t wait_ms, unsigned *ret_waited, oss_error *err);

/* These take the SANDBOX id.  `runsc state`: ret_status "running"/"stopped"/"created"/... or
 * "missing"; ret_pid the sandbox pid (0 if none). */
int drv_runsc_state(const struct drv_runsc_cmd *c, const char *id, char *ret_status, size_t n,
                    int *ret_pid, oss_error *err);
/* kill -9 + delete -force, tolerating a missing container. */
int drv_runsc_destroy(const struct drv_runsc_cmd *c, const char *id, oss_error *err);
/* Sandbox ids of the containers in this root (runsc list -quiet, prefix
 * stripped; containers without the prefix are not ours and not listed). */
int drv_runsc_list(const struct drv_runsc_cmd *c, char ***ret, oss_error *err);

/* ---- net.c ---- */

int drv_runsc_net_up(const struct drv_runsc_net_names *n, oss_error *err);
int drv_runsc_net_down(const struct drv_runsc_net_names *n, oss_error *err);
bool drv_runsc_net_exists(const struct drv_runsc_net_names *n);
/* The host end of the sandbox's veth up or down: down, nothing from outside
 * reaches the sandbox (a stop takes it down before checking connections). */
int drv_runsc_net_host_link(const struct drv_runsc_net_names *n, bool up, oss_error *err);

/* ---- tcpconn.c (pure) ---- */

/* What the sandbox's /proc/net/tcp and /proc/net/tcp6 (concatenated, as
 * `openshell-shim netstat` prints them inside) say about the checkpoint:
 * Debian's runsc cannot save a TCP endpoint connected (or in a handshake)
 * over the sandbox's NIC; loopback ones are saved (docs/platform/gvisor.md). */
struct drv_runsc_tcp_verdict {
    unsigned blocking; /* endpoints that would make the checkpoint fail */
    unsigned closing;  /* of those, in a state that ends by itself */
    char first[160];   /* "local A:p, remote B:q (established)" of the first */
};
/* -1: not a /proc/net/tcp listing (no header line). */
int drv_runsc_tcp_verdict(const char *text, size_t len, struct drv_runsc_tcp_verdict *ret);
/* The reason a `runsc checkpoint` failed, from its whole output: true and
 * "an open TCP connection blocks the checkpoint: local A:p, remote B:q"
 * when that is it, else false and runsc's first error line. */
bool drv_runsc_checkpoint_reason(const char *text, size_t len, char *out, size_t size);
/* GET http://addr:port/readyz until 200 (250 ms per try, like Substrate's
 * prober); the client closes first so the sandbox keeps no TIME_WAIT.  A 503
 * whose body starts "bootstrap refused" ends the wait at once with
 * FAILED_PRECONDITION and the shim's reason (it will not become ready).
 * stop (may be NULL) is asked between tries; true ends the wait with
 * CANCELLED. */
int drv_runsc_readyz_wait(const char *addr, int port, int64_t timeout_ms, bool (*stop)(void *ctx),
                          void *ctx, oss_error *err);

/* ---- readyz_answer.c (pure) ---- */

/* An HTTP/1.x answer in buf[0..len): 1 when the status line, the headers
 * and a Content-Length body (whole or up to the buffer's end) are in, with
 * *code and the body's offset and length; 0 when more bytes are needed; -1
 * when it is not an HTTP answer.  full: the buffer cannot grow. */
int drv_runsc_http_answer(const char *buf, size_t len, bool full, int *code, size_t *body_off,
                          size_t *body_len);
/* Namespaces under /run/netns named ossr-<tag>-*. */
int drv_runsc_net_list(const char *tag, char ***ret, oss_error *err);

#endif
