/* The runsc backend's operations (drv_backend_ops).
 *
 * Each sandbox is one runsc container named by the sandbox id under the
 * backend's own runsc root, in its own network namespace.  Every operation:
 *   1. under the lock: checks and marks the sandbox busy, sets the intent;
 *   2. writes the record (intent + any new resource names) BEFORE touching
 *      anything outside the driver;
 *   3. does the runsc / namespace steps;
 *   4. writes the settled record.
 * A driver killed between any two steps finds the intent at start-up and
 * finishes or undoes the operation (reconcile.c).  Get and List read the
 * records only (no runsc call), so the watch poller costs nothing. */
#include "rb.h"
#include "runsc_backend.h"

#include "cleanup.h"
#include "fs.h"
#include "log.h"
#include "drv_util.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grpc/status.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RUN_TIMEOUT_MS   120000
#define READY_TIMEOUT_MS 60000
/* how long a stop waits for connections that end by themselves: above the
 * shim's readyz connection lifetime (2 s, then RST) */
#define PREFLIGHT_MS 4000

/* Test hook: OSS_RUNSC_TEST_PAUSE=<op>:<step> makes the backend stop at
 * that point for good (the crash-recovery tests SIGKILL it there). */
static void pause_point(struct rb *b, const char *step)
{
    if (b->pause == NULL || strcmp(b->pause, step) != 0)
        return;
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/" RB_PAUSE_MARKER, b->dir);
    oss_write_file_atomic(p, step, strlen(step), 0600, &(oss_error){0});
    log_warn("test hook: paused at %s", step);
    for (;;)
        drv_sleep_ms(1000);
}

static struct rb_sbx *find(struct rb *b, const char *id)
{
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->v[i]->r.id, id) == 0)
            return b->v[i];
    return NULL;
}

static void drop(struct rb *b, struct rb_sbx *s)
{
    for (size_t i = 0; i < b->n; i++)
        if (b->v[i] == s) {
            memmove(&b->v[i], &b->v[i + 1], (b->n - i - 1) * sizeof *b->v);
            b->n--;
            break;
        }
    drv_runsc_record_clear(&s->r);
    free(s);
}

static bool slot_taken(struct rb *b, unsigned slot)
{
    for (size_t i = 0; i < b->n; i++)
        if (b->v[i]->r.slot == slot)
            return true;
    struct drv_runsc_net_names n;
    drv_runsc_slot_names(b, slot, &n);
    return drv_runsc_net_exists(&n); /* a leftover nobody owns yet */
}

/* Under the lock.  Round-robin from the cursor, so a start never gets the
 * slot (and address) the sandbox had before. */
static int slot_alloc(struct rb *b, unsigned avoid, unsigned *ret, oss_error *err)
{
    for (unsigned k = 1; k <= b->pool.nslots; k++) {
        unsigned s = (b->cursor + k) % b->pool.nslots;
        if (s == 0 || s == avoid || slot_taken(b, s))
            continue;
        b->cursor = s;
        *ret = s;
        return 0;
    }
    return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_RESOURCE_EXHAUSTED,
                   "no free network slot in runsc_subnet %s", b->cfg->runsc_subnet);
}

static int not_found(const char *id, oss_error *err)
{
    return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_NOT_FOUND, "sandbox %s not found", id);
}

static int busy_err(const struct rb_sbx *s, oss_error *err)
{
    return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_ABORTED,
                   "sandbox %s is busy (%s): retry when that operation has finished", s->r.id,
                   drv_runsc_intent_name(s->r.intent));
}

/* ---- removing a checkpointed container off the caller's path ---- */

static void *reaper_main(void *arg)
{
    struct rb_sbx *s = arg;
    oss_error e = {0};
    if (drv_runsc_destroy(&s->owner->cmd, s->r.id, &e) < 0)
        log_warn("removing the checkpointed container %s: %s (retried at the next start)", s->r.id,
                 e.msg);
    return NULL;
}

/* Only the sandbox's current owner (busy) or the destructor calls this. */
static void reaper_join(struct rb_sbx *s)
{
    if (s->reaping) {
        pthread_join(s->reaper, NULL);
        s->reaping = false;
    }
}

static void reaper_start(struct rb *b, struct rb_sbx *s)
{
    s->owner = b;
    if (pthread_create(&s->reaper, NULL, reaper_main, s) == 0) {
        s->reaping = true;
        return;
    }
    reaper_main(s); /* no thread: do it here */
}

static bool create_cancelled(void *arg)
{
    struct rb_sbx *s = arg;
    pthread_mutex_lock(&s->owner->lock);
    bool c = s->cancel;
    pthread_mutex_unlock(&s->owner->lock);
    return c;
}

/* Waits for readyz at the sandbox's current address and records the pid.
 * cancellable: a create's wait, which Delete may cancel (a Start's is not). */
static int await_ready(struct rb *b, struct rb_sbx *s, bool cancellable, oss_error *err)
{
    char st[32];
    int pid = 0;
    if (drv_runsc_state(&b->cmd, s->r.id, st, sizeof st, &pid, err) < 0)
        return -1;
    if (strcmp(st, "running") != 0)
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_INTERNAL,
                       "container %s is %s right after it was started", s->r.id, st);
    s->r.pid = pid;
    struct drv_runsc_net_names n;
    drv_runsc_slot_names(b, s->r.slot, &n);
    s->owner = b;
    return drv_runsc_readyz_wait(n.address, b->cfg->shim_readyz_port, READY_TIMEOUT_MS,
                                 cancellable ? create_cancelled : NULL, s, err);
}

/* ---- validation ---- */

static int resolve_rootfs(const struct rb *b, const char *image, char **ret, oss_error *err)
{
    char p[PATH_MAX];
    if (drv_runsc_rootfs_path(b->cfg->rootfs_dir, b->cfg->runsc_host_rootfs, image, p, sizeof p,
                              err) < 0)
        return -1;
    char *real = realpath(p, NULL);
    struct stat st;
    if (real == NULL || stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
        free(real);
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_FAILED_PRECONDITION,
                       "image \"%.200s\" is not available here: no root filesystem directory %s "
                       "(see docs/runsc-backend.md for the image -> rootfs rule)",
                       image, p);
    }
    *ret = real;
    return 0;
}

static int rb_validate(struct drv_backend *be, const struct drv_sandbox_spec *s, oss_error *err)
{
    struct rb *b = be->impl;
    if (s->template_override != NULL)
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_FAILED_PRECONDITION,
                       "the runsc backend has no pre-provisioned ActorTemplates (\"%.100s\")",
                       s->template_override);
    _cleanup_free_ char *rootfs = NULL;
    char **argv = NULL;
    if (resolve_rootfs(b, s->image, &rootfs, err) < 0 || drv_runsc_argv(b->cfg, s, &argv, err) < 0)
        return -1;
    drv_runsc_strv_free(argv);
    return 0;
}

/* ---- create ---- */

/* A create that failed in the background: undo what it made (container,
 * namespace, token) and keep the record as the failure the gateway shows
 * until Delete. */
static void create_fail(struct rb *b, struct rb_sbx *s, const char *step, const oss_error *why)
{
    char msg[OSS_ERR_MSG_MAX + 128];
    snprintf(msg, sizeof msg, "create failed while %s: %s", step, why->msg);
    log_warn("sandbox %s: %s", s->r.id, msg);
    oss_error e = {0};
    if (drv_runsc_destroy(&b->cmd, s->r.id, &e) < 0)
        log_warn("sandbox %s: after the failed create: %s", s->r.id, e.msg);
    if (s->r.slot != 0) {
        struct drv_runsc_net_names n;
        drv_runsc_slot_names(b, s->r.slot, &n);
        if (drv_runsc_net_down(&n, &e) < 0)
            log_warn("sandbox %s: after the failed create: %s", s->r.id, e.msg);
    }
    char sec[PATH_MAX];
    drv_runsc_sbx_path(b, s->r.id, "secrets", sec, sizeof sec);
    if (drv_runsc_rm_rf(sec, &e) < 0)
        log_warn("sandbox %s: after the failed create: %s", s->r.id, e.msg);
    pthread_mutex_lock(&b->lock);
    s->r.intent = DRV_RUNSC_NONE;
    s->r.status = DRV_ACTOR_CRASHED;
    s->r.slot = 0;
    s->r.pid = 0;
    s->r.version++;
    free(s->r.failure);
    s->r.failure = drv_strdup(msg);
    s->r.create_failed = true;
    pthread_mutex_unlock(&b->lock);
    if (drv_runsc_save(b, &s->r, &e) < 0)
        log_error("%s", e.msg); /* a restart finds "creating" and fails it again */
    pthread_mutex_lock(&b->lock);
    s->busy = false;
    pthread_mutex_unlock(&b->lock);
    drv_backend_notify(b->be, s->r.id);
}

static int golden_resume(struct rb *b, struct rb_sbx *s, const struct drv_runsc_net_names *n,
                         int console, oss_error *err);

/* The background part of a create: network, files, runsc run, readyz. */
static void *create_main(void *arg)
{
    struct rb_sbx *s = arg;
    struct rb *b = s->owner;
    oss_error e = {0};
    oss_error *err = &e;
    struct drv_runsc_net_names n;
    drv_runsc_slot_names(b, s->r.slot, &n);
    _cleanup_close_ int console = -1;
    int64_t t0 = oss_mono_ms();
    /* a golden-style boot runs as a fresh UUID, as a template's golden actor */
    char golden[DRV_RUNSC_UUID_LEN + 1] = "";
    const char *step = "setting up the network namespace";
    if (drv_runsc_net_up(&n, err) < 0)
        goto fail;
    pause_point(b, "create:after-netns");
    step = "writing the bundle";
    if (b->cfg->runsc_golden_boot && drv_runsc_new_uuid(golden, err) < 0)
        goto fail;
    if (create_cancelled(s) ||
        drv_runsc_write_identity(b, &s->r, golden[0] != '\0' ? golden : NULL, err) < 0 ||
        drv_runsc_write_bundle(b, &s->r, err) < 0)
        goto fail;
    console = drv_runsc_open_console(b, s->r.id, err);
    if (console < 0)
        goto fail;
    char bdir[PATH_MAX];
    drv_runsc_sbx_path(b, s->r.id, "bundle", bdir, sizeof bdir);
    char cid[DRV_RUNSC_CID_MAX];
    drv_runsc_cid(&b->cmd, s->r.id, cid);
    const char *run[] = {"run", "-detach", "-bundle", bdir, cid, NULL};
    step = "starting the container (runsc run)";
    if (create_cancelled(s) || drv_runsc_run(&b->cmd, run, console, RUN_TIMEOUT_MS, NULL, err) < 0)
        goto fail;
    pause_point(b, "create:after-run");
    step = "waiting for the shim's readyz";
    if (await_ready(b, s, true, err) < 0)
        goto fail;
    step = "the golden-style boot's checkpoint and restore";
    if (golden[0] != '\0' && (create_cancelled(s) || golden_resume(b, s, &n, console, err) < 0))
        goto fail;

    pthread_mutex_lock(&b->lock);
    s->r.intent = DRV_RUNSC_NONE;
    s->r.status = DRV_ACTOR_RUNNING;
    s->r.version++;
    pthread_mutex_unlock(&b->lock);
    step = "writing the record";
    if (drv_runsc_save(b, &s->r, err) < 0)
        goto fail;
    log_info("sandbox %s running at %s (create to ready %lld ms)", s->r.id, n.address,
             (long long)(oss_mono_ms() - t0));
    /* free before it is shown Ready: a Stop sent on that Ready must find
     * the sandbox idle (fill_actor shows a busy RUNNING one as resuming) */
    pthread_mutex_lock(&b->lock);
    s->busy = false;
    pthread_mutex_unlock(&b->lock);
    drv_backend_notify(b->be, s->r.id);
    return NULL;

fail:
    if (create_cancelled(s))
        return NULL; /* the Delete that cancelled it removes everything */
    create_fail(b, s, step, err);
    return NULL;
}

static void fill_actor(const struct rb *b, const struct rb_sbx *s, struct drv_actor *a);

static int rb_create(struct drv_backend *be, const struct drv_sandbox_spec *spec,
                     struct drv_actor *ret, oss_error *err)
{
    struct rb *b = be->impl;
    if (rb_validate(be, spec, err) < 0)
        return -1;
    struct rb_sbx *s = calloc(1, sizeof *s);
    if (s == NULL)
        abort();
    s->owner = b;
    s->r.id = drv_strdup(spec->id);
    s->r.name = drv_strdup(spec->name); /* as sent: the gateway refuses a changed name */
    s->r.namespace_ = drv_strdup(spec->namespace_);
    s->r.image = drv_strdup(spec->image);
    s->r.has_token = spec->sandbox_token != NULL && spec->sandbox_token[0] != '\0';
    s->r.intent = DRV_RUNSC_ADMITTING;
    s->r.status = DRV_ACTOR_RESUMING;
    s->r.version = 1;
    s->r.generation = 1;
    s->busy = true;
    if (resolve_rootfs(b, spec->image, &s->r.rootfs, err) < 0 ||
        drv_runsc_argv(b->cfg, spec, &s->r.argv, err) < 0 ||
        drv_runsc_env(b->cfg, spec, &s->r.env, err) < 0) {
        drv_runsc_record_clear(&s->r);
        free(s);
        return -1;
    }

    pthread_mutex_lock(&b->lock);
    if (find(b, spec->id) != NULL) {
        pthread_mutex_unlock(&b->lock);
        drv_runsc_record_clear(&s->r);
        free(s);
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_ALREADY_EXISTS,
                       "sandbox %s already exists: delete it first or pick another id", spec->id);
    }
    if (slot_alloc(b, 0, &s->r.slot, err) < 0) {
        pthread_mutex_unlock(&b->lock);
        drv_runsc_record_clear(&s->r);
        free(s);
        return -1;
    }
    struct rb_sbx **nv = realloc(b->v, (b->n + 1) * sizeof *nv);
    if (nv == NULL)
        abort();
    b->v = nv;
    b->v[b->n++] = s;
    pthread_mutex_unlock(&b->lock);

    /* the record (and the token, which only this call has) before answering */
    char dir[PATH_MAX];
    drv_runsc_sbx_path(b, s->r.id, "", dir, sizeof dir);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        oss_err_errno(err, "mkdir %s", dir);
        goto fail;
    }
    if (drv_runsc_save(b, &s->r, err) < 0)
        goto fail;
    pause_point(b, "create:after-record");
    if (s->r.has_token && drv_runsc_write_token(b, s->r.id, spec->sandbox_token, err) < 0)
        goto fail;
    /* the last write before the answer: from here a restart keeps the
     * sandbox (as a failed create), before it removes it */
    pthread_mutex_lock(&b->lock);
    s->r.intent = DRV_RUNSC_CREATING;
    pthread_mutex_unlock(&b->lock);
    if (drv_runsc_save(b, &s->r, err) < 0)
        goto fail;
    pthread_mutex_lock(&b->lock);
    int r = pthread_create(&s->creator, NULL, create_main, s);
    if (r == 0) {
        s->creating = true;
        fill_actor(b, s, ret);
    }
    pthread_mutex_unlock(&b->lock);
    if (r != 0) {
        errno = r;
        oss_err_errno(err, "starting the create");
        goto fail;
    }
    return 0;

fail:;
    oss_err_prefix(err, "creating sandbox %s", spec->id);
    oss_error e = {0};
    if (drv_runsc_remove_dir(b, s->r.id, &e) < 0)
        log_warn("rollback of %s: %s", s->r.id, e.msg);
    pthread_mutex_lock(&b->lock);
    drop(b, s);
    pthread_mutex_unlock(&b->lock);
    return -1;
}

/* Joins a finished (or cancelled) create's thread; b->lock held, dropped
 * meanwhile.  Returns with the lock held. */
static void creator_join_locked(struct rb *b, struct rb_sbx *s, bool cancel)
{
    if (!s->creating)
        return;
    if (cancel)
        s->cancel = true;
    pthread_t t = s->creator;
    s->creating = false;
    pthread_mutex_unlock(&b->lock);
    pthread_join(t, NULL);
    pthread_mutex_lock(&b->lock);
    /* the flag is also what a later start's readyz wait asks: clear it */
    s->cancel = false;
}

/* ---- stop (checkpoint) ---- */

/* Takes the sandbox for an operation: RUNNING/SUSPENDED checks, busy. */
static int claim(struct rb *b, const char *id, enum drv_actor_status need,
                 enum drv_runsc_intent intent, struct rb_sbx **ret, bool *ret_noop, oss_error *err)
{
    pthread_mutex_lock(&b->lock);
    struct rb_sbx *s = find(b, id);
    int r = 0;
    *ret_noop = false;
    if (s != NULL && s->creating && (!s->busy || intent == DRV_RUNSC_DELETING)) {
        /* a finished create's thread is joined; a Delete cancels one in
         * flight and takes the sandbox over (the create answered OK: the
         * gateway must get a normal answer, not ABORTED) */
        bool in_flight = s->busy;
        creator_join_locked(b, s, in_flight);
        s = find(b, id);
        if (s != NULL && in_flight)
            s->busy = false; /* the cancelled create left it to us */
    }
    if (s == NULL)
        r = not_found(id, err);
    else if (s->busy && (s->r.intent == DRV_RUNSC_CREATING || s->r.intent == DRV_RUNSC_ADMITTING))
        r = oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_FAILED_PRECONDITION,
                    "sandbox %s is still being created", id);
    else if (s->busy)
        r = busy_err(s, err);
    else if (intent == DRV_RUNSC_STOPPING && s->r.status == DRV_ACTOR_SUSPENDED)
        *ret_noop = true; /* already stopped: Stop is idempotent */
    else if (intent == DRV_RUNSC_STARTING && s->r.status == DRV_ACTOR_RUNNING)
        *ret_noop = true;
    else if (need != DRV_ACTOR_UNSPECIFIED && s->r.status != need)
        r = oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_FAILED_PRECONDITION,
                    "sandbox %s cannot be %s from its current state%s%s", id,
                    intent == DRV_RUNSC_STOPPING ? "stopped" : "started",
                    s->r.failure != NULL ? ": " : "", s->r.failure != NULL ? s->r.failure : "");
    else {
        s->busy = true;
        s->r.intent = intent;
        /* a stop shows nothing new until it has happened (fill_actor), so
         * it makes no new version: a refused stop then leaves the sandbox
         * exactly as a gateway last saw it, and the gateway's recovery of
         * the failed call puts its row back (docs/platform/gateway.md) */
        if (intent != DRV_RUNSC_STOPPING)
            s->r.version++;
    }
    pthread_mutex_unlock(&b->lock);
    if (r == 0 && !*ret_noop)
        *ret = s;
    return r;
}

static void settle(struct rb *b, struct rb_sbx *s, enum drv_actor_status st, const char *failure)
{
    pthread_mutex_lock(&b->lock);
    /* a refused stop changes nothing anyone saw: no new version */
    bool unchanged = s->r.intent == DRV_RUNSC_STOPPING && s->r.status == st && failure == NULL &&
                     s->r.failure == NULL;
    s->r.intent = DRV_RUNSC_NONE;
    s->r.status = st;
    if (!unchanged)
        s->r.version++;
    free(s->r.failure);
    s->r.failure = failure != NULL ? drv_strdup(failure) : NULL;
    pthread_mutex_unlock(&b->lock);
    oss_error e = {0};
    if (drv_runsc_save(b, &s->r, &e) < 0)
        log_error("%s", e.msg);
    pthread_mutex_lock(&b->lock);
    s->busy = false;
    pthread_mutex_unlock(&b->lock);
}

/* One look at the sandbox's own TCP table: `runsc exec <shim> netstat`. */
static int tcp_look(struct rb *b, const char *cid, struct drv_runsc_tcp_verdict *ret,
                    oss_error *err)
{
    const char *ex[] = {"exec", cid, b->cfg->shim_path, "netstat", NULL};
    _cleanup_buf_ oss_buf out = OSS_BUF_INIT;
    oss_error e = {0};
    if (drv_runsc_run(&b->cmd, ex, -1, 30000, &out, &e) < 0 ||
        drv_runsc_tcp_verdict(out.data != NULL ? out.data : "", out.len, ret) < 0)
        return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_FAILED_PRECONDITION,
                       "cannot list the sandbox's TCP connections before the checkpoint "
                       "(%s netstat inside: %s); the sandbox keeps running",
                       b->cfg->shim_path, e.msg[0] != '\0' ? e.msg : "unexpected output");
    return 0;
}

/* Before a checkpoint (Debian's runsc ends the sandbox when one fails on a
 * TCP endpoint: docs/platform/gvisor.md).  With the link up, so closing
 * connections can finish, the sandbox's TCP table until no endpoint would
 * fail the checkpoint; endpoints that end by themselves and the shim's own
 * readyz connections (closed with RST after at most 2 s) are waited out.
 * Then the host end of the veth goes down (nothing from outside can open a
 * connection any more) and one more look must agree; the link stays down
 * for the checkpoint.  A connection still open at the deadline is the
 * caller's answer, with the link up again. */
static int tcp_preflight(struct rb *b, const char *id, const struct drv_runsc_net_names *n,
                         oss_error *err)
{
    char cid[DRV_RUNSC_CID_MAX];
    drv_runsc_cid(&b->cmd, id, cid);
    int64_t deadline = oss_mono_ms() + PREFLIGHT_MS;
    for (;;) {
        struct drv_runsc_tcp_verdict v;
        if (tcp_look(b, cid, &v, err) < 0)
            return -1;
        if (v.blocking == 0) {
            if (drv_runsc_net_host_link(n, false, err) < 0)
                return -1;
            if (tcp_look(b, cid, &v, err) < 0)
                return -1;
            if (v.blocking == 0)
                return 0;
            /* one arrived in between: let it finish with the link up */
            if (drv_runsc_net_host_link(n, true, err) < 0)
                return -1;
        }
        log_debug("stop %s: %u TCP endpoint(s) would fail the checkpoint, first %s", id, v.blocking,
                  v.first);
        if (oss_mono_ms() > deadline)
            return oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_FAILED_PRECONDITION,
                           "an open TCP connection blocks the checkpoint: %s%s; the sandbox "
                           "keeps running: close the connection and stop again",
                           v.first, v.blocking > 1 ? " (and more)" : "");
        drv_sleep_ms(100);
    }
}

/* The rest of a golden-style create (runsc_golden_boot), as Substrate
 * does for a template and its actor (docs/platform/substrate.md, the
 * identity file): the sandbox booted with a UUID in /run/ate/actor-id is
 * checkpointed, and restored with the actor's own name there, at the same
 * address.  The record says "creating" throughout: a driver that dies
 * here has all of it undone at start-up. */
static int golden_resume(struct rb *b, struct rb_sbx *s, const struct drv_runsc_net_names *n,
                         int console, oss_error *err)
{
    const char *id = s->r.id;
    char tmp[PATH_MAX], img[PATH_MAX], bdir[PATH_MAX], cid[DRV_RUNSC_CID_MAX];
    drv_runsc_sbx_path(b, id, "image.tmp", tmp, sizeof tmp);
    drv_runsc_sbx_path(b, id, "image", img, sizeof img);
    drv_runsc_sbx_path(b, id, "bundle", bdir, sizeof bdir);
    drv_runsc_cid(&b->cmd, id, cid);
    if (tcp_preflight(b, id, n, err) < 0)
        return -1;
    const char *ck[] = {"checkpoint", "-image-path", tmp, cid, NULL};
    const char *rs[] = {"restore", "-detach", "-image-path", img, "-bundle", bdir, cid, NULL};
    if (drv_runsc_rm_rf(tmp, err) < 0 || oss_mkdir_p(tmp, 0700, err) < 0 ||
        drv_runsc_run(&b->cmd, ck, -1, RUN_TIMEOUT_MS, NULL, err) < 0)
        return -1;
    if (drv_runsc_rm_rf(img, err) < 0 || rename(tmp, img) < 0) {
        if (err->domain == OSS_ERR_NONE)
            oss_err_errno(err, "rename %s", tmp);
        return -1;
    }
    /* runsc took the namespace's addresses into netstack: the restore gets
     * the namespace made again (same slot, same address) */
    if (drv_runsc_destroy(&b->cmd, id, err) < 0 || drv_runsc_net_down(n, err) < 0 ||
        drv_runsc_net_up(n, err) < 0 || drv_runsc_write_identity(b, &s->r, NULL, err) < 0 ||
        drv_runsc_run(&b->cmd, rs, console, RUN_TIMEOUT_MS, NULL, err) < 0 ||
        await_ready(b, s, false, err) < 0)
        return -1;
    drv_runsc_rm_rf(img, &(oss_error){0});
    return 0;
}

static int rb_suspend(struct drv_backend *be, const char *id, oss_error *err)
{
    struct rb *b = be->impl;
    struct rb_sbx *s = NULL;
    bool noop;
    if (claim(b, id, DRV_ACTOR_RUNNING, DRV_RUNSC_STOPPING, &s, &noop, err) < 0)
        return -1;
    if (noop)
        return 0;
    int64_t t0 = oss_mono_ms();
    _cleanup_buf_ oss_buf out = OSS_BUF_INIT; /* runsc checkpoint's whole output */
    char tmp[PATH_MAX], img[PATH_MAX], opname[128], oppath[PATH_MAX + 128];
    drv_runsc_sbx_path(b, id, "image.tmp", tmp, sizeof tmp);
    drv_runsc_sbx_path(b, id, "image", img, sizeof img);
    snprintf(opname, sizeof opname, "%s.checkpoint", id);
    snprintf(oppath, sizeof oppath, "%s/%s", b->cmd.ops_dir, opname);
    struct drv_runsc_net_names n;
    drv_runsc_slot_names(b, s->r.slot, &n);
    if (drv_runsc_save(b, &s->r, err) < 0)
        goto fail_running;
    pause_point(b, "stop:after-record");
    if (tcp_preflight(b, id, &n, err) < 0)
        goto fail_running;
    if (drv_runsc_rm_rf(tmp, err) < 0 || oss_mkdir_p(tmp, 0700, err) < 0)
        goto fail_running;
    char cid[DRV_RUNSC_CID_MAX];
    drv_runsc_cid(&b->cmd, id, cid);
    const char *ck[] = {"checkpoint", "-image-path", tmp, cid, NULL};
    if (drv_runsc_run_op(&b->cmd, opname, ck, -1, RUN_TIMEOUT_MS, &out, err) < 0)
        goto fail_check;
    /* publish: "image" exists only when the checkpoint is whole */
    if (drv_runsc_rm_rf(img, err) < 0 || rename(tmp, img) < 0) {
        if (err->domain == OSS_ERR_NONE)
            oss_err_errno(err, "rename %s", tmp);
        goto fail_check;
    }
    /* from here the sandbox is stopped whatever happens: show it */
    pthread_mutex_lock(&b->lock);
    s->r.status = DRV_ACTOR_SUSPENDING;
    s->r.version++;
    pthread_mutex_unlock(&b->lock);
    pause_point(b, "stop:after-checkpoint");
    log_debug("stop %s: checkpoint written in %lld ms", id, (long long)(oss_mono_ms() - t0));
    oss_error e = {0};
    if (drv_runsc_net_down(&n, &e) < 0)
        log_warn("stop %s: %s", id, e.msg);
    pthread_mutex_lock(&b->lock);
    s->r.prev_slot = s->r.slot;
    s->r.slot = 0;
    s->r.pid = 0;
    s->r.image_bytes = drv_runsc_du(img);
    pthread_mutex_unlock(&b->lock);
    /* the memory is safe in the image: the spent container (stopped by
     * the checkpoint) goes away in the background */
    reaper_start(b, s);
    settle(b, s, DRV_ACTOR_SUSPENDED, NULL);
    unlink(oppath);
    log_info("sandbox %s checkpointed (%lld ms, image %lld bytes)", id,
             (long long)(oss_mono_ms() - t0), (long long)s->r.image_bytes);
    return 0;

fail_check:;
    /* checkpoint failed: the reason from runsc's whole output; is the
     * sandbox still running? */
    char why[OSS_ERR_MSG_MAX];
    bool conn =
        drv_runsc_checkpoint_reason(out.data != NULL ? out.data : err->msg,
                                    out.data != NULL ? out.len : strlen(err->msg), why, sizeof why);
    char st[32];
    int pid = 0;
    drv_runsc_rm_rf(tmp, &(oss_error){0});
    if (drv_runsc_state(&b->cmd, id, st, sizeof st, &pid, &(oss_error){0}) == 0 &&
        strcmp(st, "running") == 0) {
        drv_runsc_net_host_link(&n, true, &(oss_error){0});
        settle(b, s, DRV_ACTOR_RUNNING, NULL);
        oss_err(err, OSS_ERR_GRPC, GRPC_STATUS_FAILED_PRECONDITION, "%s; the sandbox keeps running",
                why);
    } else {
        char lost[OSS_ERR_MSG_MAX + 64];
        snprintf(lost, sizeof lost, "checkpoint failed and the sandbox is gone: %s", why);
        settle(b, s, DRV_ACTOR_CRASHED, lost);
        oss_err(err, OSS_ERR_GRPC, conn ? GRPC_STATUS_FAILED_PRECONDITION : GRPC_STATUS_INTERNAL,
                "%s", lost);
    }
    unlink(oppath);
    oss_err_prefix(err, "stopping sandbox %s", id);
    return -1;
fail_running:
    drv_runsc_net_host_link(&n, true, &(oss_error){0});
    settle(b, s, DRV_ACTOR_RUNNING, NULL);
    oss_err_prefix(err, "stopping sandbox %s", id);
    return -1;
}

/* ---- start (restore) ---- */

static int rb_resume(struct drv_backend *be, const char *id, oss_error *err)
{
    struct rb *b = be->impl;
    struct rb_sbx *s = NULL;
    bool noop;
    if (claim(b, id, DRV_ACTOR_SUSPENDED, DRV_RUNSC_STARTING, &s, &noop, err) < 0)
        return -1;
    if (noop)
        return 0;
    int64_t t0 = oss_mono_ms();
    reaper_join(s);
    pthread_mutex_lock(&b->lock);
    int r = slot_alloc(b, s->r.prev_slot, &s->r.slot, err);
    if (r == 0)
        s->r.generation++;
    pthread_mutex_unlock(&b->lock);
    if (r < 0) {
        settle(b, s, DRV_ACTOR_SUSPENDED, NULL);
        return -1;
    }
    char img[PATH_MAX], bdir[PATH_MAX];
    drv_runsc_sbx_path(b, id, "image", img, sizeof img);
    drv_runsc_sbx_path(b, id, "bundle", bdir, sizeof bdir);
    struct drv_runsc_net_names n;
    drv_runsc_slot_names(b, s->r.slot, &n);
    _cleanup_close_ int console = -1;
    if (drv_runsc_save(b, &s->r, err) < 0)
        goto fail;
    pause_point(b, "start:after-record");
    if (drv_runsc_net_up(&n, err) < 0)
        goto fail;
    /* as Substrate: the identity file is rewritten before the restore */
    if (drv_runsc_write_identity(b, &s->r, NULL, err) < 0 ||
        drv_runsc_write_bundle(b, &s->r, err) < 0)
        goto fail;
    console = drv_runsc_open_console(b, id, err);
    if (console < 0)
        goto fail;
    /* a container the reaper could not remove would block the id */
    if (drv_runsc_destroy(&b->cmd, id, err) < 0)
        goto fail;
    char cid[DRV_RUNSC_CID_MAX];
    drv_runsc_cid(&b->cmd, id, cid);
    const char *rs[] = {"restore", "-detach", "-image-path", img, "-bundle", bdir, cid, NULL};
    if (drv_runsc_run(&b->cmd, rs, console, RUN_TIMEOUT_MS, NULL, err) < 0)
        goto fail;
    pause_point(b, "start:after-restore");
    if (await_ready(b, s, false, err) < 0)
        goto fail;
    /* the image is spent: the running sandbox has moved on from it */
    drv_runsc_rm_rf(img, &(oss_error){0});
    settle(b, s, DRV_ACTOR_RUNNING, NULL);
    log_info("sandbox %s restored at %s (start to ready %lld ms)", id, n.address,
             (long long)(oss_mono_ms() - t0));
    return 0;

fail:;
    oss_error e = {0};
    if (drv_runsc_destroy(&b->cmd, id, &e) < 0)
        log_warn("start %s rollback: %s", id, e.msg);
    if (drv_runsc_net_down(&n, &e) < 0)
        log_warn("start %s rollback: %s", id, e.msg);
    pthread_mutex_lock(&b->lock);
    s->r.slot = 0;
    s->r.pid = 0;
    pthread_mutex_unlock(&b->lock);
    settle(b, s, DRV_ACTOR_SUSPENDED, NULL);
    oss_err_prefix(err, "starting sandbox %s", id);
    return -1;
}

/* ---- delete ---- */

static int rb_delete(struct drv_backend *be, const char *id, oss_error *err)
{
    struct rb *b = be->impl;
    struct rb_sbx *s = NULL;
    bool noop;
    if (claim(b, id, DRV_ACTOR_UNSPECIFIED, DRV_RUNSC_DELETING, &s, &noop, err) < 0)
        return -1;
    reaper_join(s);
    if (drv_runsc_save(b, &s->r, err) < 0)
        goto fail;
    pause_point(b, "delete:after-record");
    if (drv_runsc_destroy(&b->cmd, id, err) < 0)
        goto fail;
    pause_point(b, "delete:after-kill");
    if (s->r.slot != 0) {
        struct drv_runsc_net_names n;
        drv_runsc_slot_names(b, s->r.slot, &n);
        if (drv_runsc_net_down(&n, err) < 0)
            goto fail;
    }
    if (drv_runsc_remove_dir(b, id, err) < 0)
        goto fail;
    pthread_mutex_lock(&b->lock);
    drop(b, s);
    pthread_mutex_unlock(&b->lock);
    return 0;
fail:
    /* the record keeps intent "deleting": a retry (or a restart) finishes it */
    pthread_mutex_lock(&b->lock);
    s->busy = false;
    pthread_mutex_unlock(&b->lock);
    oss_err_prefix(err, "deleting sandbox %s", id);
    return -1;
}

/* ---- get / list ---- */

static void fill_actor(const struct rb *b, const struct rb_sbx *s, struct drv_actor *a)
{
    const struct drv_runsc_record *r = &s->r;
    memset(a, 0, sizeof *a);
    a->id = drv_strdup(r->id);
    a->name = drv_strdup(r->name);
    a->namespace_ = drv_strdup(r->namespace_);
    a->template_name = drv_strdup(r->image);
    a->version = r->version;
    enum drv_actor_status st = r->status;
    switch (r->intent) {
    case DRV_RUNSC_ADMITTING:
    case DRV_RUNSC_CREATING:
        a->create_step = DRV_CREATE_STARTING;
        st = DRV_ACTOR_RESUMING;
        break;
    case DRV_RUNSC_STARTING:
        st = DRV_ACTOR_RESUMING;
        break;
    case DRV_RUNSC_STOPPING:
        /* r->status: RUNNING until the checkpoint is whole (a stop can be
         * refused, an open connection, and the sandbox go on; a gateway that
         * saw Suspended=True keeps the row Stopped for good:
         * docs/platform/gateway.md, "Phase derivation"), then
         * SUSPENDING */
        break;
    case DRV_RUNSC_DELETING:
        st = DRV_ACTOR_SUSPENDING;
        break;
    default:
        break;
    }
    /* Ready only when free: an operation that already wrote its settled
     * status still owns the sandbox until it lets go, and a Stop sent on a
     * Ready seen in that window would get ABORTED */
    if (s->busy && st == DRV_ACTOR_RUNNING)
        st = DRV_ACTOR_RESUMING;
    else if (s->busy && st == DRV_ACTOR_SUSPENDED)
        st = DRV_ACTOR_SUSPENDING;
    if (r->failure != NULL)
        a->failure = drv_strdup(r->failure);
    if (r->create_failed)
        a->create_step = DRV_CREATE_FAILED;
    /* a sandbox whose process is gone is not running, whatever was last
     * written (nothing inside may exit, but a host OOM kill can) */
    if (st == DRV_ACTOR_RUNNING && !s->busy && r->pid > 0 && kill(r->pid, 0) < 0 &&
        errno == ESRCH) {
        st = DRV_ACTOR_CRASHED;
        free(a->failure);
        a->failure = drv_strdup("the sandbox's runsc process exited");
    }
    a->status = st;
    a->raw_status = (int)st;
    if (r->slot != 0 && (st == DRV_ACTOR_RUNNING || st == DRV_ACTOR_RESUMING)) {
        struct drv_runsc_net_names n;
        drv_runsc_slot_names(b, r->slot, &n);
        char addr[64];
        snprintf(addr, sizeof addr, "http://%s:%d", n.address, b->cfg->shim_readyz_port);
        a->address = drv_strdup(addr);
    }
}

static int rb_get(struct drv_backend *be, const char *id, struct drv_actor *ret, oss_error *err)
{
    struct rb *b = be->impl;
    pthread_mutex_lock(&b->lock);
    struct rb_sbx *s = find(b, id);
    if (s != NULL)
        fill_actor(b, s, ret);
    pthread_mutex_unlock(&b->lock);
    return s != NULL ? 0 : not_found(id, err);
}

static int rb_list(struct drv_backend *be, struct drv_actor **ret, size_t *ret_n, oss_error *err)
{
    (void)err;
    struct rb *b = be->impl;
    pthread_mutex_lock(&b->lock);
    struct drv_actor *l = calloc(b->n ? b->n : 1, sizeof *l);
    if (l == NULL)
        abort();
    for (size_t i = 0; i < b->n; i++)
        fill_actor(b, b->v[i], &l[i]);
    *ret_n = b->n;
    pthread_mutex_unlock(&b->lock);
    *ret = l;
    return 0;
}

void drv_runsc_backend_destroy(struct drv_backend *be)
{
    struct rb *b = be->impl;
    /* creates in flight stop without undoing anything: their records say
     * "creating" and the next start settles them */
    pthread_mutex_lock(&b->lock);
    for (size_t i = 0; i < b->n; i++)
        creator_join_locked(b, b->v[i], true);
    pthread_mutex_unlock(&b->lock);
    for (size_t i = 0; i < b->n; i++) {
        reaper_join(b->v[i]);
        drv_runsc_record_clear(&b->v[i]->r);
        free(b->v[i]);
    }
    free(b->v);
    free(b->dir);
    free(b->sbdir);
    free(b->root);
    free(b->procsys);
    free(b->ops);
    free(b->pause);
    pthread_mutex_destroy(&b->lock);
    free(b);
    free(be);
}

static const struct drv_backend_ops runsc_ops = {
    .name = "runsc",
    .validate = rb_validate,
    .create = rb_create,
    .resume = rb_resume,
    .suspend = rb_suspend,
    .delete_ = rb_delete,
    .get = rb_get,
    .list = rb_list,
    .destroy = drv_runsc_backend_destroy,
};

struct drv_backend *drv_runsc_backend_new(struct rb *b)
{
    struct drv_backend *be = calloc(1, sizeof *be);
    if (be == NULL)
        abort();
    drv_backend_init(be, &runsc_ops, b);
    return be;
}
