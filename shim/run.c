/* The shim's run sequence: become init, run the bootstrap probes and apply
 * the degrade policy, start the supervisor, then hand over to the event loop
 * for good. */
#include "run.h"
#include "bootstrap.h"
#include "cleanup.h"
#include "init/signals.h"
#include "init/supervise.h"
#include "log.h"
#include "loop.h"
#include "policy/envcontract.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

extern char **environ;

struct run_ctx {
    const struct shim_config *cfg;
    struct shim_bootstrap *boot;
    struct shim_report *report;
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

static int pre_exec(void *data)
{
    struct run_ctx *r = data;
    return shim_bootstrap_child_apply(r->boot);
}

int shim_run_main(const struct shim_config *cfg)
{
    oss_error err = {0};
    sigset_t orig;
    struct run_ctx rc = {.cfg = cfg};
    _cleanup_close_ int sigfd = setup_signals(&orig, &err);
    if (sigfd < 0 || become_init(cfg, &err) < 0) {
        log_error("setup: %s", err.msg);
        return SHIM_EXIT_USAGE;
    }

    if (shim_bootstrap_prepare(cfg, &rc.boot, &err) < 0) {
        log_error("bootstrap probes: %s", err.msg);
        return SHIM_EXIT_USAGE;
    }
    if (shim_report_new(cfg, rc.boot, &rc.report, &err) < 0) {
        log_error("bootstrap report: %s", err.msg);
        shim_bootstrap_free(rc.boot);
        return SHIM_EXIT_USAGE;
    }
    shim_bootstrap_emit_findings(rc.boot, STDERR_FILENO);
    write_report(&rc);

    oss_error refusal = {0};
    bool refused = shim_bootstrap_refused(rc.boot, &refusal);
    char **child_env = NULL;
    if (refused) {
        log_error("not starting %s: %s", cfg->child_argv[0], refusal.msg);
        if (!cfg->stay_alive) {
            shim_report_free(rc.report);
            shim_bootstrap_free(rc.boot);
            return SHIM_EXIT_POLICY;
        }
    } else {
        child_env = shim_bootstrap_child_env(rc.boot, environ);
        if (child_env == NULL) {
            log_error("building the supervisor's environment: out of memory");
            return SHIM_EXIT_USAGE;
        }
    }

    struct shim_loop *loop = NULL;
    struct shim_super *sup = NULL;
    struct shim_super_hooks hooks = {
        .ctx = &rc,
        .child_env = child_env,
        .pre_exec = pre_exec,
        .on_event = on_event,
    };
    if (shim_loop_new(&loop, &err) < 0 ||
        shim_super_new(cfg, loop, &orig, sigfd, &hooks, &sup, &err) < 0) {
        log_error("setup: %s", err.msg);
        shim_loop_free(loop);
        return SHIM_EXIT_USAGE;
    }
    if (refused) {
        shim_super_hold(sup, SHIM_EXIT_POLICY, refusal.msg);
    } else if (shim_super_start(sup, &err) < 0) {
        log_error("starting %s: %s", cfg->child_argv[0], err.msg);
        shim_super_free(sup);
        shim_loop_free(loop);
        return SHIM_EXIT_USAGE;
    }
    /* No bail-out after this point: from here the shim only ends through the
     * supervisor's state machine. */
    int code = shim_super_run(sup);
    shim_super_free(sup);
    shim_loop_free(loop);
    shim_report_free(rc.report);
    shim_bootstrap_free(rc.boot);
    shim_env_free(child_env);
    return code;
}
