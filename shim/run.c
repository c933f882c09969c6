/* The shim's run sequence: become init, run the bootstrap probes and apply
 * the degrade policy, start the supervisor, then hand over to the event loop
 * for good. */
#include "run.h"
#include "bootstrap.h"
#include "cleanup.h"
#include "init/children.h"
#include "init/signals.h"
#include "init/spawn.h"
#include "init/supervise.h"
#include "log.h"
#include "util.h"
#include "loop.h"
#include "policy/envcontract.h"
#include "readyz/condition.h"
#include "readyz/server.h"
#include "restore/control.h"
#include "restore/restore.h"
#include "json.h"

#include <errno.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct run_ctx {
    const struct shim_config *cfg;
    struct shim_bootstrap *boot;
    struct shim_report *report;
    struct shim_super *sup;
    struct shim_restore *restore;
    struct shim_ready_cond *ready;
    struct shim_readyz *readyz;
    struct shim_control *control;
    bool refused;
    char refusal[OSS_ERR_MSG_MAX];
    char not_ready[256]; /* the readyz body while the supervisor is gone */
    int log_fd;          /* in the loop while the log backlog waits for stderr, else -1 */
    /* The golden boot (--golden=hold): the supervisor waits until the
     * identity file names cfg->actor, i.e. until the restore into the real
     * actor (docs/platform/substrate.md, the golden boot). */
    bool holding;
};

/* Blocks every signal except the synchronous fault signals and returns a
 * signalfd for them, plus the mask the shim inherited (for the child). */
static int setup_signals(sigset_t *ret_orig, oss_error *err)
{
    sigset_t all;
    sigfillset(&all);
    for (int sig = 1; sig < NSIG; sig++)
        if (shim_signal_is_fault(sig))
            sigdelset(&all, sig);
    if (sigprocmask(SIG_SETMASK, &all, ret_orig) < 0)
        return oss_err_errno(err, "blocking signals");
    /* SIGCHLD=SIG_IGN inherited from a careless runtime makes the kernel
     * auto-reap, and waitpid() would never report the child. */
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigaction(SIGCHLD, &dfl, NULL);
    int fd = signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd < 0)
        return oss_err_errno(err, "signalfd");
    return fd;
}

static int become_init(const struct shim_config *cfg, oss_error *err)
{
    if (getpid() != 1 || cfg->subreaper) {
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
            return oss_err_errno(err, "becoming a child subreaper");
        log_debug("child subreaper enabled (pid %d)", (int)getpid());
    }
    if (cfg->pdeath_signal && prctl(PR_SET_PDEATHSIG, cfg->pdeath_signal) < 0)
        return oss_err_errno(err, "setting the parent-death signal");
    return 0;
}

static void write_report(struct run_ctx *r)
{
    oss_error err = {0};
    if (r->report && shim_report_write(r->report, &err) < 0)
        log_warn("bootstrap report: %s", err.msg);
}

static void on_event(void *data, const char *kind, const char *json)
{
    struct run_ctx *r = data;
    if (r->report == NULL)
        return;
    shim_report_add_event(r->report, kind, json);
    write_report(r);
}

/* ---- the log backlog --------------------------------------------------- */

static void on_log_writable(struct shim_loop *loop, int fd, uint32_t events, void *data)
{
    (void)oss_log_flush();
}

/* Watches stderr for POLLOUT only while lines wait (common/log.h), so an
 * idle shim with a drained log has no fd and no wake-up for it. */
static void log_prepare(struct shim_loop *loop, void *data)
{
    struct run_ctx *r = data;
    int fd = oss_log_pending_fd();
    if (fd == r->log_fd)
        return;
    if (r->log_fd >= 0)
        shim_loop_del(loop, r->log_fd);
    r->log_fd = -1;
    if (fd >= 0 && shim_loop_add(loop, fd, EPOLLOUT, on_log_writable, r, NULL) == 0)
        r->log_fd = fd;
}

/* ---- readiness ---------------------------------------------------------- */

/* True when the identity the restore detection holds names our actor. */
static bool identity_is_ours(const struct run_ctx *r)
{
    return r->restore && shim_identity_is(shim_restore_identity(r->restore), r->cfg->actor);
}

static const char *not_ready_reason(void *data)
{
    struct run_ctx *r = data;
    if (r->restore && shim_restore_busy(r->restore))
        return "restoring";
    if (r->refused)
        return "bootstrap refused: a required protection is unavailable (see /status)";
    /* The golden boot is ready for its snapshot once the probes ran: 200
     * with no supervisor.  Once the actor is ours the supervisor decides. */
    if (r->holding)
        return identity_is_ours(r) ? "golden hold ending: starting the supervisor" : NULL;
    if (r->sup != NULL && shim_super_state(r->sup) == SHIM_CHILD_GONE) {
        /* For good (no restart left): a caller waiting for 200 can stop on
         * this prefix, as on "bootstrap refused" (docs/readyz.md). */
        snprintf(r->not_ready, sizeof r->not_ready, "supervisor gone: %s (see /status)",
                 shim_super_gone_reason(r->sup));
        return r->not_ready;
    }
    if (r->sup == NULL || shim_super_state(r->sup) != SHIM_CHILD_RUNNING)
        return "supervisor not running";
    return shim_ready_cond_check(r->ready, oss_mono_ms());
}

static void status_json(void *data, oss_buf *out)
{
    struct run_ctx *r = data;
    shim_report_json(r->report, out);
}

static void before_readyz(void *data)
{
    struct run_ctx *r = data;
    if (r->restore)
        shim_restore_check_now(r->restore);
}

static const char *state_name(enum shim_child_state s)
{
    switch (s) {
    case SHIM_CHILD_NONE:
        return "not-started"; /* also while the golden boot holds it */
    case SHIM_CHILD_RUNNING:
        return "running";
    case SHIM_CHILD_BACKOFF:
        return "backoff";
    case SHIM_CHILD_GONE:
        return "gone";
    case SHIM_CHILD_STOPPING:
        return "stopping";
    }
    return "?";
}

/* Live keys of the report: what the supervisor and restore handling are
 * doing now. */
static void live_json(void *data, oss_json *j)
{
    struct run_ctx *r = data;
    if (r->sup) {
        oss_json_key(j, "supervisor");
        oss_json_obj_begin(j);
        oss_json_kv_str(j, "state", state_name(shim_super_state(r->sup)));
        oss_json_kv_int(j, "pgid", shim_super_child_pgid(r->sup));
        oss_json_kv_uint(j, "starts", shim_super_starts(r->sup));
        oss_json_kv_uint(j, "reaped_orphans", shim_super_reaped_orphans(r->sup));
        if (shim_super_state(r->sup) == SHIM_CHILD_GONE)
            oss_json_kv_str(j, "gone_reason", shim_super_gone_reason(r->sup));
        oss_json_obj_end(j);
    }
    if (r->cfg->actor) {
        oss_json_key(j, "golden");
        oss_json_obj_begin(j);
        oss_json_kv_str(j, "actor", r->cfg->actor);
        oss_json_kv_str(j, "mode", r->cfg->golden == SHIM_GOLDEN_HOLD ? "hold" : "run");
        oss_json_kv_bool(j, "holding", r->holding);
        oss_json_obj_end(j);
    }
    if (r->readyz) {
        struct shim_readyz_stats zs;
        shim_readyz_get_stats(r->readyz, &zs);
        oss_json_key(j, "readyz");
        oss_json_obj_begin(j);
        oss_json_kv_uint(j, "active", zs.active);
        oss_json_kv_uint(j, "accepted", zs.accepted);
        oss_json_kv_uint(j, "evicted", zs.evicted);
        oss_json_kv_uint(j, "rejected_over_cap", zs.rejected_over_cap);
        oss_json_kv_uint(j, "timed_out", zs.timed_out);
        oss_json_kv_uint(j, "responses", zs.responses);
        oss_json_obj_end(j);
    }
    struct oss_log_stats ls;
    oss_log_get_stats(&ls);
    oss_json_key(j, "log");
    oss_json_obj_begin(j);
    oss_json_kv_str(j, "stderr", ls.mode);
    oss_json_kv_uint(j, "backlog_bytes", ls.backlog_bytes);
    oss_json_kv_uint(j, "dropped_lines", ls.dropped_lines);
    oss_json_obj_end(j);
    if (r->restore) {
        oss_json_key(j, "restore");
        shim_restore_status_json(r->restore, j);
    }
}

/* ---- restore ------------------------------------------------------------ */

static pid_t supervisor_pgid(void *data)
{
    struct run_ctx *r = data;
    return r->sup ? shim_super_child_pgid(r->sup) : 0;
}

static int reprobe(void *data, oss_buf *json_out)
{
    struct run_ctx *r = data;
    oss_error err = {0};
    if (shim_bootstrap_reprobe(r->boot, json_out, &err) < 0) {
        log_warn("re-probing after restore: %s", err.msg);
        return -1;
    }
    return 0;
}

static void end_golden_hold(struct run_ctx *r, const char *why)
{
    r->holding = false;
    log_info("%s: starting %s", why, r->cfg->child_argv[0]);
    oss_error err = {0};
    if (shim_super_start(r->sup, &err) < 0) {
        log_error("starting %s: %s", r->cfg->child_argv[0], err.msg);
        shim_super_hold(r->sup, SHIM_EXIT_USAGE, "starting the supervisor failed");
    }
}

static void record_restore(void *data, const char *kind, const char *json)
{
    struct run_ctx *r = data;
    if (r->ready)
        shim_ready_cond_invalidate(r->ready); /* peers changed: probe afresh */
    shim_report_set_generation(r->report, shim_restore_generation(r->restore));
    on_event(r, kind, json);
    if (r->holding && identity_is_ours(r))
        end_golden_hold(r, "restored as our actor");
}

static void on_restore_signal(void *data)
{
    struct run_ctx *r = data;
    if (r->restore)
        shim_restore_trigger(r->restore, "signal");
}

/* Readiness, restore detection and the control socket.  None is needed to
 * run the supervisor, so a failure is logged and the shim goes on without
 * that part, except the readyz port an operator asked for: Substrate would
 * wait for it and then cut a golden snapshot that never was ready. */
static int start_services(struct run_ctx *r, struct shim_loop *loop, oss_error *err)
{
    const struct shim_config *cfg = r->cfg;
    struct shim_restore_hooks rh = {
        .ctx = r,
        .supervisor_pgid = supervisor_pgid,
        .reprobe = reprobe,
        .record_event = record_restore,
    };
    oss_error e = {0};
    if (shim_restore_start(loop, cfg, &rh, &r->restore, &e) < 0)
        log_warn("restore detection disabled: %s", e.msg);
    else if (shim_control_start(loop, cfg->state_dir, r->restore, status_json, r, &r->control, &e) <
             0)
        log_warn("control socket disabled (no 'notify restore'): %s", e.msg);

    if (cfg->readyz_port == 0)
        return 0;
    if (shim_ready_cond_new(cfg->ready_tcp, cfg->ready_file, &r->ready, err) < 0) {
        oss_err_prefix(err, "ready condition");
        return -1;
    }
    struct shim_readyz_hooks hz = {
        .ctx = r,
        .not_ready_reason = not_ready_reason,
        .status_json = status_json,
        .before_readyz = before_readyz,
    };
    if (shim_readyz_start(loop, cfg->readyz_port, &hz, &r->readyz, err) < 0) {
        oss_err_prefix(err, "readyz on port %d", cfg->readyz_port);
        return -1;
    }
    log_info("readyz serving on 0.0.0.0:%d", cfg->readyz_port);
    return 0;
}

static void stop_services(struct run_ctx *r)
{
    shim_readyz_stop(r->readyz);
    shim_control_stop(r->control);
    shim_restore_stop(r->restore);
    shim_ready_cond_free(r->ready);
}

/* The netns probe's teardown child, reaped by the PID-1 loop. */
static void on_teardown_reaped(void *data, pid_t pid, int wstatus)
{
    struct run_ctx *r = data;
    if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)
        log_warn("netns probe teardown (pid %d) failed; cleaning up after it", (int)pid);
    shim_bootstrap_teardown_reaped(r->boot, wstatus);
}

static int pre_exec(void *data)
{
    struct run_ctx *r = data;
    return shim_bootstrap_child_apply(r->boot);
}

int shim_run_main(const struct shim_config *cfg)
{
    oss_error err = {0};
    sigset_t orig;
    struct run_ctx rc = {.cfg = cfg, .log_fd = -1};
    /* PID 1 never waits for a stalled stderr reader (the child shares it). */
    if (oss_log_nonblocking() < 0)
        log_warn("stderr stays blocking (cannot reopen it: %s): a stalled log reader can stall "
                 "the shim",
                 strerror(errno));
    _cleanup_close_ int sigfd = setup_signals(&orig, &err);
    if (sigfd < 0 || become_init(cfg, &err) < 0) {
        log_error("setup: %s", err.msg);
        return SHIM_EXIT_USAGE;
    }

    if (shim_bootstrap_prepare(cfg, &rc.boot, &err) < 0) {
        log_error("bootstrap probes: %s", err.msg);
        return SHIM_EXIT_USAGE;
    }
    /* The netns probe answered before its teardown: the loop reaps that
     * child, and its exit must not count as an orphan.  When the shim
     * leaves before the loop, shim_bootstrap_free() waits for it. */
    pid_t teardown = shim_bootstrap_teardown_pid(rc.boot);
    if (teardown > 0 && shim_children_watch(teardown, on_teardown_reaped, &rc) < 0)
        log_warn("cannot watch the netns probe teardown (pid %d)", (int)teardown);
    if (shim_report_new(cfg, rc.boot, &rc.report, &err) < 0) {
        log_error("bootstrap report: %s", err.msg);
        shim_bootstrap_free(rc.boot);
        return SHIM_EXIT_USAGE;
    }
    write_report(&rc);

    oss_error refusal = {0};
    bool refused = shim_bootstrap_refused(rc.boot, &refusal);
    /* Findings describe protection the running supervisor lacks: none when
     * it will not run (the refusal line and the report say why instead). */
    if (!refused)
        shim_bootstrap_emit_findings(rc.boot, STDERR_FILENO);
    char **child_env = NULL;
    char **child_argv = NULL;
    struct shim_config run_cfg;
    rc.refused = refused;
    if (refused) {
        snprintf(rc.refusal, sizeof rc.refusal, "%s", refusal.msg);
        log_error("not starting %s: %s", cfg->child_argv[0], refusal.msg);
        if (!cfg->stay_alive) {
            shim_report_free(rc.report);
            shim_bootstrap_free(rc.boot);
            return SHIM_EXIT_POLICY;
        }
    } else {
        oss_error tls_err = {0};
        if (shim_bootstrap_tls_write(rc.boot, environ, &tls_err) < 0) {
            /* Fatal: with an https:// gateway and no TLS files the
             * supervisor can never connect (docs/substrate-backend.md, "Gateway
             * TLS"). */
            log_error("not starting %s: gateway TLS files: %s", cfg->child_argv[0], tls_err.msg);
            write_report(&rc);
            shim_report_free(rc.report);
            shim_bootstrap_free(rc.boot);
            return SHIM_EXIT_POLICY;
        }
        child_env = shim_bootstrap_child_env(rc.boot, environ);
        if (child_env == NULL) {
            log_error("building the supervisor's environment: out of memory");
            return SHIM_EXIT_USAGE;
        }
        child_argv = shim_bootstrap_child_argv(rc.boot, cfg->child_argv);
        if (child_argv != NULL) {
            /* The supervisor's command line with exec-env in front of the
             * workload (docs/probes.md): a copy of the config that lives as
             * long as the supervisor. */
            run_cfg = *cfg;
            run_cfg.child_argv = child_argv;
            for (run_cfg.child_argc = 0; child_argv[run_cfg.child_argc]; run_cfg.child_argc++)
                ;
            cfg = &run_cfg;
        }
    }

    /* --hold-stdin: the pipe lives as long as the shim; every start of the
     * child gets its read end, and the write end is never written. */
    _cleanup_close_ int stdin_rd = -1;
    _cleanup_close_ int stdin_wr = -1;
    if (cfg->hold_stdin) {
        if (shim_stdin_pipe(&stdin_rd, &stdin_wr, &err) < 0) {
            log_error("setup: %s", err.msg);
            return SHIM_EXIT_USAGE;
        }
        log_debug("the child's stdin is a pipe the shim holds open (--hold-stdin)");
    }

    struct shim_loop *loop = NULL;
    struct shim_super *sup = NULL;
    struct shim_super_hooks hooks = {
        .ctx = &rc,
        .child_env = child_env,
        .pre_exec = pre_exec,
        .child_stdin = stdin_rd < 0 ? 0 : stdin_rd,
        .on_event = on_event,
        .on_restore_signal = on_restore_signal,
    };
    if (shim_loop_new(&loop, &err) < 0 ||
        shim_super_new(cfg, loop, &orig, sigfd, &hooks, &sup, &err) < 0) {
        log_error("setup: %s", err.msg);
        shim_loop_free(loop);
        return SHIM_EXIT_USAGE;
    }
    rc.sup = sup;
    shim_loop_set_prepare(loop, log_prepare, &rc);
    shim_report_set_live(rc.report, live_json, &rc);
    if (start_services(&rc, loop, &err) < 0) {
        log_error("%s", err.msg);
        stop_services(&rc);
        shim_super_free(sup);
        shim_loop_free(loop);
        return SHIM_EXIT_USAGE;
    }
    if (!refused && cfg->golden == SHIM_GOLDEN_HOLD && !identity_is_ours(&rc)) {
        if (rc.restore == NULL) {
            log_warn("golden hold: no restore detection, so no way to see the restore; "
                     "starting %s now",
                     cfg->child_argv[0]);
        } else {
            rc.holding = true;
            log_info("golden boot: %s names '%s', not actor '%s': the supervisor waits for the "
                     "restore that names it",
                     cfg->identity_file, shim_identity_display(shim_restore_identity(rc.restore)),
                     cfg->actor);
        }
    }
    if (refused) {
        shim_super_hold(sup, SHIM_EXIT_POLICY, refusal.msg);
    } else if (rc.holding) {
        /* nothing to start yet: record_restore() starts it */
    } else if (shim_super_start(sup, &err) < 0) {
        log_error("starting %s: %s", cfg->child_argv[0], err.msg);
        shim_super_free(sup);
        shim_loop_free(loop);
        return SHIM_EXIT_USAGE;
    }
    /* No bail-out after this point: from here the shim only ends through the
     * supervisor's state machine. */
    int code = shim_super_run(sup);
    (void)oss_log_flush(); /* what stderr takes now; the shim does not wait for it */
    stop_services(&rc);
    shim_super_free(sup);
    shim_loop_free(loop);
    shim_report_free(rc.report);
    shim_bootstrap_free(rc.boot);
    shim_env_free(child_env);
    shim_env_free(child_argv);
    return code;
}
