#include "supervise.h"
#include "buf.h"
#include "children.h"
#include "cleanup.h"
#include "exitstatus.h"
#include "json.h"
#include "log.h"
#include "signals.h"
#include "spawn.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

struct shim_super {
    const struct shim_config *cfg;
    struct shim_loop *loop;
    sigset_t orig_mask;
    int sigfd;
    struct shim_super_hooks hooks;

    enum shim_child_state state;
    pid_t child; /* also its process group id */
    int64_t child_started_ms;
    bool stopping;
    bool killed; /* the stop timeout sent SIGKILL; the drain deadline runs */
    bool done;
    bool have_status;
    int last_status; /* raw wait status of the last child exit */
    int exit_code;
    char gone_reason[160];

    struct shim_restart_state rs;
    struct shim_timer *backoff;
    struct shim_timer *stop;

    unsigned starts;
    unsigned long reaped_orphans;
};

/* A buffer that failed to grow (out of memory) is a lost event: the hook
 * gets NULL and counts it.  Nothing after the child started may abort. */
static void emit(struct shim_super *s, const char *kind, oss_buf *json)
{
    if (s->hooks.on_event)
        s->hooks.on_event(s->hooks.ctx, kind,
                          oss_buf_failed(json) ? NULL
                          : json->data         ? json->data
                                               : "{}");
}

static void event_status(struct shim_super *s, const char *kind, int wstatus, const char *extra_k,
                         long long extra_v)
{
    _cleanup_buf_ oss_buf b = OSS_BUF_INIT;
    oss_json j;
    char desc[96];
    shim_exit_describe(wstatus, desc, sizeof desc);
    oss_json_init(&j, &b);
    oss_json_obj_begin(&j);
    oss_json_kv_int(&j, "pid", s->child);
    oss_json_kv_str(&j, "status", desc);
    oss_json_kv_int(&j, "exit_code", shim_exit_code(s->cfg, wstatus));
    oss_json_kv_uint(&j, "restarts", s->rs.total);
    if (extra_k)
        oss_json_kv_int(&j, extra_k, extra_v);
    oss_json_obj_end(&j);
    emit(s, kind, &b);
}

static int start_child(struct shim_super *s, oss_error *err)
{
    struct shim_spawn sp = {
        .argv = s->cfg->child_argv,
        .envp = s->hooks.child_env,
        .mask = &s->orig_mask,
        .tty_foreground = true,
        .stdin_fd = s->hooks.child_stdin,
        .pre_exec = s->hooks.pre_exec,
        .pre_exec_ctx = s->hooks.ctx,
    };
    pid_t pid;
    int exec_errno;
    if (shim_spawn_child(&sp, &pid, &exec_errno, err) < 0)
        return -1;
    s->child = pid;
    s->state = SHIM_CHILD_RUNNING;
    s->child_started_ms = oss_mono_ms();
    s->starts++;
    if (exec_errno != 0)
        log_error("cannot execute %s: %s (%s)", s->cfg->child_argv[0], strerror(exec_errno),
                  oss_errno_name(exec_errno));
    else
        log_info("started %s as pid %d (start %u)", s->cfg->child_argv[0], (int)pid, s->starts);

    _cleanup_buf_ oss_buf b = OSS_BUF_INIT;
    oss_json j;
    oss_json_init(&j, &b);
    oss_json_obj_begin(&j);
    oss_json_kv_int(&j, "pid", pid);
    oss_json_kv_str(&j, "argv0", s->cfg->child_argv[0]);
    oss_json_kv_uint(&j, "start", s->starts);
    if (exec_errno)
        oss_json_kv_str(&j, "exec_error", oss_errno_name(exec_errno));
    oss_json_obj_end(&j);
    emit(s, "start", &b);
    return 0;
}

static void finish(struct shim_super *s, int code)
{
    s->exit_code = code;
    s->done = true;
}

/* True while any process of the child's group is alive (zombies included,
 * so drain first). */
static bool group_alive(pid_t pgid)
{
    return pgid > 0 && kill(-pgid, 0) == 0;
}

static void stop_complete(struct shim_super *s)
{
    shim_timer_disarm(s->stop);
    finish(s, s->have_status ? shim_exit_code(s->cfg, s->last_status) : s->exit_code);
}

static void go_gone(struct shim_super *s, const char *why)
{
    s->state = SHIM_CHILD_GONE;
    snprintf(s->gone_reason, sizeof s->gone_reason, "%s", why);
    s->exit_code = s->have_status ? shim_exit_code(s->cfg, s->last_status) : s->exit_code;
    log_warn("child gone for good (%s); staying alive as --stay-alive asks", why);
    _cleanup_buf_ oss_buf b = OSS_BUF_INIT;
    oss_json j;
    oss_json_init(&j, &b);
    oss_json_obj_begin(&j);
    oss_json_kv_str(&j, "reason", why);
    oss_json_kv_int(&j, "exit_code", s->exit_code);
    oss_json_obj_end(&j);
    emit(s, "gone", &b);
}

static void child_exited(struct shim_super *s, int wstatus)
{
    char desc[96];
    shim_exit_describe(wstatus, desc, sizeof desc);
    int64_t now = oss_mono_ms();
    int64_t ran = now - s->child_started_ms;
    s->have_status = true;
    s->last_status = wstatus;
    pid_t pgid = s->child;
    log_info("child %d %s after %lldms", (int)s->child, desc, (long long)ran);
    event_status(s, "exit", wstatus, "ran_ms", ran);

    if (s->stopping) {
        s->state = SHIM_CHILD_STOPPING;
        if (!group_alive(pgid)) {
            stop_complete(s);
            return;
        }
        log_info("child exited; waiting for the rest of process group %d", (int)pgid);
        return; /* the stop timer (armed at SIGTERM) bounds this */
    }

    int64_t delay = 0;
    enum shim_after_exit next =
        shim_restart_decide(s->cfg, &s->rs, wstatus, false, now, ran, &delay);
    if (next == SHIM_AFTER_RESTART) {
        log_warn("child %s; restarting in %lldms (restart %u in this window, %u in all)", desc,
                 (long long)delay, s->rs.in_window, s->rs.total);
        event_status(s, "restart", wstatus, "delay_ms", delay);
        s->state = SHIM_CHILD_BACKOFF;
        s->child = 0;
        if (shim_timer_arm(s->backoff, delay, 0) < 0) {
            log_error("cannot arm backoff timer: %s; restarting now", strerror(errno));
            oss_error err = {0};
            if (start_child(s, &err) < 0)
                log_error("%s", err.msg);
        }
        return;
    }
    const char *why = next == SHIM_AFTER_GIVE_UP ? "restart limit reached" : "child exited";
    if (next == SHIM_AFTER_GIVE_UP) {
        log_error("child %s; %u restarts within %lldms: giving up", desc, s->cfg->restart_max,
                  (long long)s->cfg->restart_window_ms);
        event_status(s, "give-up", wstatus, NULL, 0);
    }
    s->child = 0;
    if (s->cfg->stay_alive) {
        char reason[160];
        snprintf(reason, sizeof reason, "%s: %s", why, desc);
        go_gone(s, reason);
        return;
    }
    finish(s, shim_exit_code(s->cfg, wstatus));
}

static void stop_finish(struct shim_super *s, pid_t pgid, bool group_left);

static void reap(struct shim_super *s)
{
    for (;;) {
        int st;
        pid_t pid = waitpid(-1, &st, WNOHANG);
        if (pid <= 0) {
            if (pid < 0 && errno == EINTR)
                continue;
            break; /* 0: none ready; ECHILD: no children at all */
        }
        if (s->child > 0 && pid == s->child) {
            child_exited(s, st);
            continue;
        }
        if (shim_children_dispatch(pid, st))
            continue;
        s->reaped_orphans++;
        if (s->cfg->warn_foreign)
            log_warn("reaped zombie %d that was not the shim's own child", (int)pid);
        else
            log_debug("reaped orphan %d", (int)pid);
    }
    /* A stop waits for the whole group; the last member's exit lands here. */
    if (s->state == SHIM_CHILD_STOPPING && !s->done && !group_alive(s->child)) {
        if (s->killed)
            stop_finish(s, s->child, false);
        else if (s->have_status)
            stop_complete(s);
    }
}

static void forward(struct shim_super *s, int sig)
{
    pid_t target = s->cfg->kill_group ? -s->child : s->child;
    if (kill(target, sig) < 0 && errno != ESRCH)
        log_warn("forwarding %s to %d: %s", shim_signal_name(sig), (int)target, strerror(errno));
    else
        log_debug("forwarded %s to %s %d", shim_signal_name(sig),
                  s->cfg->kill_group ? "group" : "pid", (int)s->child);
}

static void begin_stop(struct shim_super *s, int sig)
{
    bool first = !s->stopping;
    s->stopping = true;
    switch (s->state) {
    case SHIM_CHILD_RUNNING:
    case SHIM_CHILD_STOPPING:
        forward(s, sig);
        s->state = SHIM_CHILD_STOPPING;
        if (first) {
            log_info("%s: stopping, child has %lldms before SIGKILL", shim_signal_name(sig),
                     (long long)s->cfg->stop_timeout_ms);
            shim_timer_arm(s->stop, s->cfg->stop_timeout_ms, 0);
        }
        break;
    case SHIM_CHILD_BACKOFF:
        shim_timer_disarm(s->backoff);
        /* fallthrough */
    case SHIM_CHILD_NONE:
    case SHIM_CHILD_GONE:
        log_info("%s with no child running: exiting", shim_signal_name(sig));
        finish(s, s->have_status ? shim_exit_code(s->cfg, s->last_status) : s->exit_code);
        break;
    }
}

static void on_signal(struct shim_loop *loop, int fd, uint32_t events, void *data)
{
    struct shim_super *s = data;
    /* Bounded batch: a signal storm must not starve the other fds. */
    for (int n = 0; n < 64; n++) {
        struct signalfd_siginfo si;
        ssize_t r = read(fd, &si, sizeof si);
        if (r != (ssize_t)sizeof si)
            return;
        int sig = (int)si.ssi_signo;
        struct shim_sig_ctx ctx = {
            .child_running = s->state == SHIM_CHILD_RUNNING || s->state == SHIM_CHILD_STOPPING,
            .restore_signal = s->cfg->restore_signal,
        };
        switch (shim_signal_action(sig, &ctx)) {
        case SHIM_SIG_REAP:
            reap(s);
            break;
        case SHIM_SIG_STOP:
            begin_stop(s, sig);
            break;
        case SHIM_SIG_FORWARD:
            forward(s, sig);
            break;
        case SHIM_SIG_RESTORE:
            log_info("%s: restore signalled", shim_signal_name(sig));
            if (s->hooks.on_restore_signal)
                s->hooks.on_restore_signal(s->hooks.ctx);
            break;
        case SHIM_SIG_IGNORE:
            log_debug("%s with no child running: ignored", shim_signal_name(sig));
            break;
        }
    }
}

static void on_backoff(struct shim_loop *loop, int fd, uint32_t events, void *data)
{
    struct shim_super *s = data;
    if (shim_timer_consume(s->backoff) == 0 || s->state != SHIM_CHILD_BACKOFF)
        return;
    oss_error err = {0};
    if (start_child(s, &err) < 0) {
        /* fork failing is transient (EAGAIN, ENOMEM): try again later rather
         * than letting PID 1 die. */
        log_error("restart failed: %s; retrying in %lldms", err.msg,
                  (long long)s->cfg->backoff_max_ms);
        shim_timer_arm(s->backoff, s->cfg->backoff_max_ms, 0);
    }
}

/* Reaps what is ready without blocking; true when the group is gone. */
static bool drain_group(struct shim_super *s, pid_t pgid)
{
    for (;;) {
        int st;
        pid_t pid = waitpid(-1, &st, WNOHANG);
        if (pid < 0 && errno == EINTR)
            continue;
        if (pid <= 0)
            break;
        if (pid == s->child && !s->have_status) {
            s->have_status = true;
            s->last_status = st;
            event_status(s, "exit", st, NULL, 0);
        } else if (pid != s->child && !shim_children_dispatch(pid, st)) {
            s->reaped_orphans++;
        }
    }
    return !group_alive(pgid);
}

static void stop_finish(struct shim_super *s, pid_t pgid, bool group_left)
{
    _cleanup_buf_ oss_buf b = OSS_BUF_INIT;
    oss_buf_printf(&b, "{\"killed_group\":%d,\"group_left\":%s}", (int)pgid,
                   group_left ? "true" : "false");
    emit(s, "stop", &b);
    finish(s, s->have_status ? shim_exit_code(s->cfg, s->last_status) : 128 + SIGKILL);
}

/* The stop timer fires twice at most.  First at --stop-timeout: SIGKILL the
 * group, then let SIGCHLD reap it through the loop (signals and readyz keep
 * being served).  Then SHIM_STOP_DRAIN_MS later: whatever still counts as a
 * member cannot be killed by the shim -- a zombie whose parent lives outside
 * the group and does not reap it (the shim may not wait for it: it is not
 * the shim's child) -- so the shim exits with the child's status anyway and
 * says so.  Nothing here blocks: a blocking waitpid(-1) would wait for the
 * foreign parent, forever. */
static void on_stop_timeout(struct shim_loop *loop, int fd, uint32_t events, void *data)
{
    struct shim_super *s = data;
    if (shim_timer_consume(s->stop) == 0 || s->done)
        return;
    pid_t pgid = s->child;
    if (!s->killed) {
        log_warn("stop timeout (%lldms) reached: sending SIGKILL to process group %d",
                 (long long)s->cfg->stop_timeout_ms, (int)pgid);
        s->killed = true;
        if (pgid > 0)
            kill(-pgid, SIGKILL);
        if (drain_group(s, pgid))
            return stop_finish(s, pgid, false);
        if (shim_timer_arm(s->stop, SHIM_STOP_DRAIN_MS, 0) == 0)
            return;
        /* no timer: fall through and decide now rather than hang */
    }
    if (drain_group(s, pgid))
        return stop_finish(s, pgid, false);
    log_warn("process group %d still has members %dms after SIGKILL (a zombie whose parent is "
             "outside the group cannot be reaped by the shim); exiting with the child's status",
             (int)pgid, SHIM_STOP_DRAIN_MS);
    stop_finish(s, pgid, true);
}

int shim_super_new(const struct shim_config *cfg, struct shim_loop *loop, const sigset_t *orig_mask,
                   int sigfd, const struct shim_super_hooks *hooks, struct shim_super **ret,
                   oss_error *err)
{
    struct shim_super *s = calloc(1, sizeof *s);
    if (s == NULL)
        return oss_err_errno(err, "allocating supervisor");
    s->cfg = cfg;
    s->loop = loop;
    s->orig_mask = *orig_mask;
    s->sigfd = sigfd;
    if (hooks)
        s->hooks = *hooks;
    if (shim_loop_add(loop, sigfd, EPOLLIN, on_signal, s, err) < 0 ||
        shim_timer_new(loop, on_backoff, s, &s->backoff, err) < 0 ||
        shim_timer_new(loop, on_stop_timeout, s, &s->stop, err) < 0) {
        shim_super_free(s);
        return -1;
    }
    *ret = s;
    return 0;
}

void shim_super_free(struct shim_super *s)
{
    if (s == NULL)
        return;
    shim_loop_del(s->loop, s->sigfd);
    shim_timer_free(s->loop, s->backoff);
    shim_timer_free(s->loop, s->stop);
    free(s);
}

int shim_super_start(struct shim_super *s, oss_error *err)
{
    return start_child(s, err);
}

void shim_super_hold(struct shim_super *s, int exit_code, const char *why)
{
    s->exit_code = exit_code;
    go_gone(s, why);
}

int shim_super_run(struct shim_super *s)
{
    /* After start-up nothing may end PID 1 by accident: epoll errors are
     * logged and retried; only the state machine sets done. */
    while (!s->done) {
        oss_error err = {0};
        if (shim_loop_run_once(s->loop, -1, &err) < 0) {
            log_error("event loop: %s", err.msg);
            usleep(10000);
        }
    }
    return s->exit_code;
}

enum shim_child_state shim_super_state(const struct shim_super *s)
{
    return s->state;
}

pid_t shim_super_child_pgid(const struct shim_super *s)
{
    return s->state == SHIM_CHILD_RUNNING || s->state == SHIM_CHILD_STOPPING ? s->child : 0;
}

const char *shim_super_gone_reason(const struct shim_super *s)
{
    return s->gone_reason;
}

unsigned long shim_super_reaped_orphans(const struct shim_super *s)
{
    return s->reaped_orphans;
}

unsigned shim_super_starts(const struct shim_super *s)
{
    return s->starts;
}
