#include "restore/restore.h"
#include "init/spawn.h"
#include "policy/envcontract.h"
#include "log.h"
#include "restore/detect.h"
#include "restore/event.h"
#include "init/children.h"
#include "cleanup.h"
#include "fs.h"
#include "netns.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct file_sig {
    bool present;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
};

struct shim_restore {
    struct shim_loop *loop;
    struct shim_restore_hooks hooks;
    char *identity_file;
    char *state_dir;
    char *on_restore_exec;
    int on_restore_signal;
    int64_t threshold_ms;
    int64_t hook_timeout_ms;

    struct shim_timer *tick; /* NULL when threshold_ms == 0 */
    int64_t due_ms;

    struct shim_identity identity;
    struct file_sig idsig;

    struct netns_snapshot net;
    bool net_ok;

    unsigned generation;
    bool busy;
    bool pending;
    enum shim_restore_reason pending_reason;

    /* the restore being handled */
    struct shim_restore_event ev;
    int64_t t0_ms;
    oss_buf net_delta, reprobe;
    char net_error[OSS_ERR_MSG_MAX];
    char actor_id_error[OSS_ERR_MSG_MAX];
    char signal_error[128];
    char hook_error[128];
    pid_t hook_pid;
    bool hook_killed;
    struct shim_timer *hook_timer;

    char *last_event; /* JSON of the last finished restore */
};

static void file_sig_of(const char *path, struct file_sig *ret)
{
    struct stat st;
    struct file_sig s = {0};
    if (stat(path, &st) == 0) {
        s.present = true;
        s.dev = st.st_dev;
        s.ino = st.st_ino;
        s.size = st.st_size;
        s.mtime = st.st_mtim;
        s.ctime = st.st_ctim;
    }
    *ret = s;
}

static bool file_sig_equal(const struct file_sig *a, const struct file_sig *b)
{
    return a->present == b->present && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
           a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* A missing file is the identity "" (recorded as absent); an unreadable or
 * oversized one is invalid, told apart from others by its hash. */
static void identity_read(const char *path, struct shim_identity *ret)
{
    _cleanup_buf_ oss_buf b = OSS_BUF_INIT;
    oss_error err = {0};
    if (oss_read_file(path, SHIM_RESTORE_IDENTITY_READ_MAX, &b, &err) < 0) {
        if (err.code == ENOENT || err.code == ENOTDIR) {
            shim_identity_from_bytes("", 0, false, ret);
            return;
        }
        /* E2BIG keeps what was read: its hash still tells contents apart. */
        shim_identity_from_bytes(b.data ? b.data : "", b.len, true, ret);
        ret->valid = false;
        ret->id[0] = '\0';
        return;
    }
    shim_identity_from_bytes(b.data ? b.data : "", b.len, true, ret);
}

static void take_net_baseline(struct shim_restore *r, char *errbuf, size_t errlen)
{
    struct netns_snapshot snap = {0};
    oss_error err = {0};
    if (netns_snapshot_take(-1, &snap, &err) < 0) {
        if (errbuf)
            snprintf(errbuf, errlen, "network snapshot: %.400s", err.msg);
        return;
    }
    if (r->net_ok)
        netns_snapshot_free(&r->net);
    r->net = snap;
    r->net_ok = true;
}

static void arm_tick(struct shim_restore *r)
{
    if (r->tick == NULL)
        return;
    /* One-shot, re-armed on every tick: the due time is then exactly known,
     * whatever timerfd does with overruns. */
    r->due_ms = oss_mono_ms() + SHIM_RESTORE_TICK_MS;
    (void)shim_timer_arm(r->tick, SHIM_RESTORE_TICK_MS, 0);
}

static void write_actor_id(struct shim_restore *r)
{
    oss_error err = {0};
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/actor-id", r->state_dir) >= sizeof path) {
        snprintf(r->actor_id_error, sizeof r->actor_id_error, "state dir path too long");
        return;
    }
    if (oss_mkdir_p(r->state_dir, 0700, &err) < 0) {
        snprintf(r->actor_id_error, sizeof r->actor_id_error, "%s", err.msg);
        return;
    }
    /* Only a validated id is written; an invalid one leaves an empty file so
     * nobody keeps acting on the previous actor's id. */
    _cleanup_buf_ oss_buf b = OSS_BUF_INIT;
    if (r->identity.valid && r->identity.id[0])
        oss_buf_printf(&b, "%s\n", r->identity.id);
    if (oss_write_file_replace(path, b.data ? b.data : "", b.len, 0644, &err) < 0)
        snprintf(r->actor_id_error, sizeof r->actor_id_error, "%s", err.msg);
}

static void finish(struct shim_restore *r);
static void start_restore(struct shim_restore *r, enum shim_restore_reason why, int64_t frozen_ms);

static void hook_exited(void *ctx, pid_t pid, int wstatus)
{
    struct shim_restore *r = ctx;
    if (pid != r->hook_pid)
        return;
    r->hook_pid = 0;
    shim_timer_disarm(r->hook_timer);
    if (WIFEXITED(wstatus))
        r->ev.hook_exit = WEXITSTATUS(wstatus);
    else if (WIFSIGNALED(wstatus))
        r->ev.hook_exit = 128 + WTERMSIG(wstatus);
    finish(r);
}

static void hook_timer_cb(struct shim_loop *loop, int fd, uint32_t events, void *data)
{
    struct shim_restore *r = data;
    if (shim_timer_consume(r->hook_timer) == 0 || r->hook_pid <= 0)
        return;
    if (!r->hook_killed) {
        /* The hook runs in its own session: kill everything it started. */
        (void)kill(-r->hook_pid, SIGKILL);
        (void)kill(r->hook_pid, SIGKILL);
        r->hook_killed = true;
        r->ev.hook_timed_out = true;
        (void)shim_timer_arm(r->hook_timer, SHIM_RESTORE_KILL_GRACE_MS, 0);
        return;
    }
    /* No exit delivered even after SIGKILL: do not stay busy forever. */
    shim_children_unwatch(r->hook_pid);
    r->hook_pid = 0;
    snprintf(r->hook_error, sizeof r->hook_error, "no exit status after SIGKILL");
    r->ev.hook_error = r->hook_error;
    finish(r);
}

static bool env_is_ours(const char *e)
{
    return strncmp(e, "OPENSHELL_RESTORE_", 18) == 0;
}

static int env_set(struct shim_env_contract *c, const char *name, const char *value)
{
    char *v = strdup(value ? value : "");
    if (v == NULL)
        return -1;
    c->e[c->n++] = (struct shim_env_entry){.name = name, .value = v, .action = SHIM_ENV_SET};
    return 0;
}

/* The hook's environment, through the shim's one environment builder
 * (policy/envcontract.h): the shim's own, without any OPENSHELL_RESTORE_*
 * it inherited, plus this restore's details. */
static char **hook_env(struct shim_restore *r)
{
    size_t ne = 0;
    while (environ && environ[ne])
        ne++;
    _cleanup_free_ char **base = calloc(ne + 1, sizeof *base);
    if (base == NULL)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < ne; i++)
        if (!env_is_ours(environ[i]))
            base[n++] = environ[i];
    char num[32], frozen[32];
    snprintf(num, sizeof num, "%u", r->ev.generation);
    if (r->ev.frozen_ms >= 0)
        snprintf(frozen, sizeof frozen, "%lld", (long long)r->ev.frozen_ms);
    else
        frozen[0] = '\0';
    struct shim_env_contract c = {0};
    int rc = 0;
    rc |= env_set(&c, "OPENSHELL_RESTORE_GENERATION", num);
    rc |= env_set(&c, "OPENSHELL_RESTORE_FROZEN_MS", frozen);
    rc |= env_set(&c, "OPENSHELL_RESTORE_ACTOR_ID_OLD", r->ev.before.id);
    rc |= env_set(&c, "OPENSHELL_RESTORE_ACTOR_ID_NEW", r->ev.after.id);
    rc |= env_set(&c, "OPENSHELL_RESTORE_REASON", shim_restore_reason_name(r->ev.reason));
    rc |= env_set(&c, "OPENSHELL_RESTORE_NET_DELTA", r->ev.net_delta ? r->ev.net_delta : "null");
    char **envp = rc == 0 ? shim_env_build(&c, base) : NULL;
    shim_env_contract_free(&c);
    if (envp == NULL)
        errno = ENOMEM;
    return envp;
}

/* Starts the hook; false when it did not start (the error is recorded). */
static bool hook_start(struct shim_restore *r)
{
    char **envp = hook_env(r);
    if (envp == NULL) {
        snprintf(r->hook_error, sizeof r->hook_error, "building environment: %s", strerror(errno));
        r->ev.hook_error = r->hook_error;
        return false;
    }
    /* The shim's one way to start a process (init/spawn.h), as a helper:
     * a session of its own, a clean signal slate, no stdin, stdout to
     * stderr. */
    char *argv[] = {(char *)"/bin/sh", (char *)"-c", r->on_restore_exec, NULL};
    sigset_t none;
    sigemptyset(&none);
    struct shim_spawn sp = {.argv = argv, .envp = envp, .mask = &none, .helper = true};
    pid_t pid;
    int exec_errno = 0;
    oss_error err = {0};
    int src = shim_spawn_child(&sp, &pid, &exec_errno, &err);
    shim_env_free(envp);
    if (src < 0) {
        snprintf(r->hook_error, sizeof r->hook_error, "%.120s", err.msg);
        r->ev.hook_error = r->hook_error;
        return false;
    }
    if (exec_errno != 0) { /* it exits 126/127; the reaper reports that exit */
        snprintf(r->hook_error, sizeof r->hook_error, "executing /bin/sh: %s",
                 strerror(exec_errno));
        r->ev.hook_error = r->hook_error;
    }
    r->ev.hook_ran = true;
    if (shim_children_watch(pid, hook_exited, r) < 0) {
        /* Without the exit we cannot wait: let the reaper have it. */
        snprintf(r->hook_error, sizeof r->hook_error, "cannot watch hook pid %d", (int)pid);
        r->ev.hook_error = r->hook_error;
        return false;
    }
    r->hook_pid = pid;
    r->hook_killed = false;
    (void)shim_timer_arm(r->hook_timer, r->hook_timeout_ms, 0);
    return true;
}

static void finish(struct shim_restore *r)
{
    struct shim_restore_event *ev = &r->ev;
    ev->duration_ms = oss_mono_ms() - r->t0_ms;

    _cleanup_buf_ oss_buf json = OSS_BUF_INIT;
    shim_restore_event_json(ev, &json);
    bool lost = oss_buf_failed(&json) || json.data == NULL; /* out of memory */
    free(r->last_event);
    r->last_event = lost ? NULL : strdup(json.data);
    /* Done before recording: the recorder writes the report, whose live
     * "restore" section must already show this restore as the last one. */
    r->busy = false;
    if (r->hooks.record_event)
        r->hooks.record_event(r->hooks.ctx, "restore", lost ? NULL : json.data);

    /* The OCSF line goes to stderr as one write, so it is not interleaved. */
    _cleanup_buf_ oss_buf line = OSS_BUF_INIT;
    shim_restore_event_ocsf(ev, OSS_VERSION, &line);
    oss_buf_putc(&line, '\n');
    if (!oss_buf_failed(&line) && line.data)
        oss_log_raw(line.data, line.len); /* never blocks (common/log.h) */

    oss_buf_reset(&r->net_delta);
    oss_buf_reset(&r->reprobe);
    arm_tick(r); /* handling time is not a freeze */

    if (r->pending) {
        r->pending = false;
        start_restore(r, r->pending_reason, -1);
    }
}

static void start_restore(struct shim_restore *r, enum shim_restore_reason why, int64_t frozen_ms)
{
    if (r->busy) {
        if (!r->pending)
            r->pending_reason = why;
        r->pending = true;
        return;
    }
    r->busy = true;
    r->generation++;
    r->t0_ms = oss_mono_ms();
    r->net_error[0] = r->actor_id_error[0] = r->signal_error[0] = r->hook_error[0] = '\0';
    struct shim_restore_event *ev = &r->ev;
    *ev = (struct shim_restore_event){
        .generation = r->generation,
        .reason = why,
        .frozen_ms = frozen_ms,
        .time_ms = oss_real_ms(),
        .before = r->identity,
        .hook_exit = -1,
    };

    /* 1. identity, re-read unconditionally (a rewrite may keep size/mtime). */
    identity_read(r->identity_file, &r->identity);
    file_sig_of(r->identity_file, &r->idsig);
    ev->after = r->identity;
    write_actor_id(r);
    if (r->actor_id_error[0])
        ev->actor_id_error = r->actor_id_error;

    /* 2. network: diff against the snapshot from before the freeze. */
    struct netns_snapshot before = r->net;
    bool had = r->net_ok;
    r->net_ok = false;
    take_net_baseline(r, r->net_error, sizeof r->net_error);
    if (r->net_ok && had) {
        ev->net_changes = (unsigned)netns_snapshot_diff(&before, &r->net, &r->net_delta);
        ev->net_delta = r->net_delta.data;
    } else if (r->net_ok) {
        snprintf(r->net_error, sizeof r->net_error, "no snapshot from before the freeze");
    }
    if (had)
        netns_snapshot_free(&before);
    if (r->net_error[0])
        ev->net_error = r->net_error;

    /* 3. probes whose answer can change after a move. */
    if (r->hooks.reprobe && r->hooks.reprobe(r->hooks.ctx, &r->reprobe) == 0 && r->reprobe.len)
        ev->reprobe = r->reprobe.data;

    /* 4. tell the supervisor. */
    if (r->on_restore_signal > 0) {
        pid_t pgid = r->hooks.supervisor_pgid ? r->hooks.supervisor_pgid(r->hooks.ctx) : 0;
        ev->signal = r->on_restore_signal;
        if (pgid <= 0)
            snprintf(r->signal_error, sizeof r->signal_error, "supervisor not running");
        else if (kill(-pgid, r->on_restore_signal) < 0)
            snprintf(r->signal_error, sizeof r->signal_error, "kill(-%d): %s", (int)pgid,
                     strerror(errno));
        if (r->signal_error[0])
            ev->signal_error = r->signal_error;
    }

    /* 5. the hook; busy until it exits or is killed. */
    if (r->on_restore_exec && r->on_restore_exec[0] && hook_start(r))
        return;
    finish(r);
}

/* Cheap: stat first, read only when the file looks different.  True when
 * the identity changed, and also when the file was written anew with the
 * same content: Substrate (and the runsc backend) remove the directory and
 * write the file again before every restore and at no other time while the
 * container runs (docs/platform/substrate.md, "The actor identity file"),
 * so a rewrite is a restore even when the pause was too short for the
 * freeze threshold. */
static bool identity_changed_now(struct shim_restore *r)
{
    struct file_sig s;
    file_sig_of(r->identity_file, &s);
    if (file_sig_equal(&s, &r->idsig))
        return false;
    bool rewritten = s.present && r->idsig.present;
    r->idsig = s;
    struct shim_identity now;
    identity_read(r->identity_file, &now);
    bool changed = shim_identity_changed(&r->identity, &now);
    if (!changed && rewritten)
        log_debug("restore: %s was written again (same identity)", r->identity_file);
    return changed || rewritten;
}

static void tick_cb(struct shim_loop *loop, int fd, uint32_t events, void *data)
{
    struct shim_restore *r = data;
    if (shim_timer_consume(r->tick) == 0)
        return;
    int64_t frozen;
    bool freeze = shim_freeze_detect(r->due_ms, oss_mono_ms(), r->threshold_ms, &frozen);
    arm_tick(r);
    if (r->busy)
        return; /* a restore in progress re-reads everything anyway */
    if (freeze)
        start_restore(r, SHIM_RESTORE_TIMER, frozen);
    else if (identity_changed_now(r))
        start_restore(r, SHIM_RESTORE_IDENTITY, -1);
}

void shim_restore_check_now(struct shim_restore *r)
{
    if (r->busy)
        return;
    int64_t frozen = -1;
    if (r->tick && shim_freeze_detect(r->due_ms, oss_mono_ms(), r->threshold_ms, &frozen)) {
        arm_tick(r);
        start_restore(r, SHIM_RESTORE_READYZ, frozen);
    } else if (identity_changed_now(r)) {
        start_restore(r, SHIM_RESTORE_IDENTITY, -1);
    }
}

static enum shim_restore_reason reason_of(const char *why)
{
    static const enum shim_restore_reason all[] = {SHIM_RESTORE_TIMER, SHIM_RESTORE_IDENTITY,
                                                   SHIM_RESTORE_NOTIFY, SHIM_RESTORE_SIGNAL,
                                                   SHIM_RESTORE_READYZ};
    for (size_t i = 0; why && i < OSS_ARRAY_SIZE(all); i++)
        if (strcmp(why, shim_restore_reason_name(all[i])) == 0)
            return all[i];
    return SHIM_RESTORE_NOTIFY;
}

unsigned shim_restore_trigger(struct shim_restore *r, const char *why)
{
    bool was_busy = r->busy;
    start_restore(r, reason_of(why), -1);
    return was_busy ? r->generation + 1 : r->generation;
}

bool shim_restore_busy(const struct shim_restore *r)
{
    return r->busy;
}

const struct shim_identity *shim_restore_identity(const struct shim_restore *r)
{
    return &r->identity;
}

unsigned shim_restore_generation(const struct shim_restore *r)
{
    return r->generation;
}

void shim_restore_status_json(const struct shim_restore *r, oss_json *j)
{
    oss_json_obj_begin(j);
    oss_json_kv_uint(j, "generation", r->generation);
    oss_json_kv_bool(j, "busy", r->busy);
    oss_json_kv_int(j, "freeze_threshold_ms", r->threshold_ms);
    oss_json_key(j, "identity");
    oss_json_obj_begin(j);
    oss_json_kv_str(j, "id", r->identity.valid ? r->identity.id : NULL);
    oss_json_kv_bool(j, "present", r->identity.present);
    oss_json_kv_bool(j, "valid", r->identity.valid);
    oss_json_obj_end(j);
    oss_json_kv_bool(j, "network_baseline", r->net_ok);
    oss_json_key(j, "last");
    if (r->last_event)
        oss_json_raw(j, r->last_event);
    else
        oss_json_null(j);
    oss_json_obj_end(j);
}

int shim_restore_start(struct shim_loop *loop, const struct shim_config *cfg,
                       const struct shim_restore_hooks *hooks, struct shim_restore **ret,
                       oss_error *err)
{
    struct shim_restore *r = calloc(1, sizeof *r);
    if (r == NULL)
        return oss_err_errno(err, "allocating restore state");
    r->loop = loop;
    r->hooks = *hooks;
    r->identity_file = strdup(cfg->identity_file ? cfg->identity_file : "/run/ate/actor-id");
    r->state_dir = strdup(cfg->state_dir ? cfg->state_dir : "/run/openshell");
    r->on_restore_exec = cfg->on_restore_exec ? strdup(cfg->on_restore_exec) : NULL;
    r->on_restore_signal = cfg->on_restore_signal;
    r->threshold_ms = cfg->freeze_threshold_ms > 0 ? cfg->freeze_threshold_ms : 0;
    r->hook_timeout_ms = cfg->on_restore_timeout_ms > 0 ? cfg->on_restore_timeout_ms
                                                        : SHIM_RESTORE_HOOK_TIMEOUT_DFLT;
    if (r->identity_file == NULL || r->state_dir == NULL ||
        (cfg->on_restore_exec && r->on_restore_exec == NULL)) {
        oss_err_errno(err, "allocating restore state");
        goto fail;
    }
    if (shim_timer_new(loop, hook_timer_cb, r, &r->hook_timer, err) < 0)
        goto fail;
    if (r->threshold_ms > 0 && shim_timer_new(loop, tick_cb, r, &r->tick, err) < 0)
        goto fail;

    /* The baseline everything after a freeze is compared with. */
    identity_read(r->identity_file, &r->identity);
    file_sig_of(r->identity_file, &r->idsig);
    write_actor_id(r); /* best effort: a failure shows again at the first restore */
    r->actor_id_error[0] = '\0';
    take_net_baseline(r, NULL, 0);
    arm_tick(r);
    *ret = r;
    return 0;
fail:
    oss_err_prefix(err, "restore detection");
    shim_restore_stop(r);
    return -1;
}

void shim_restore_stop(struct shim_restore *r)
{
    if (r == NULL)
        return;
    if (r->hook_pid > 0) {
        (void)kill(-r->hook_pid, SIGKILL);
        (void)kill(r->hook_pid, SIGKILL);
        shim_children_unwatch(r->hook_pid);
    }
    if (r->tick)
        shim_timer_free(r->loop, r->tick);
    if (r->hook_timer)
        shim_timer_free(r->loop, r->hook_timer);
    if (r->net_ok)
        netns_snapshot_free(&r->net);
    oss_buf_free(&r->net_delta);
    oss_buf_free(&r->reprobe);
    free(r->identity_file);
    free(r->state_dir);
    free(r->on_restore_exec);
    free(r->last_event);
    free(r);
}
