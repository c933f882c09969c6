/* The shim's run sequence: become init, prepare the bootstrap, start the
 * supervisor, then hand over to the event loop for good. */
#include "run.h"
#include "cleanup.h"
#include "init/supervise.h"
#include "log.h"
#include "loop.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "init/signals.h"

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

int shim_run_main(const struct shim_config *cfg)
{
    oss_error err = {0};
    sigset_t orig;
    _cleanup_close_ int sigfd = setup_signals(&orig, &err);
    if (sigfd < 0 || become_init(cfg, &err) < 0) {
        log_error("setup: %s", err.msg);
        return SHIM_EXIT_USAGE;
    }

    struct shim_loop *loop = NULL;
    struct shim_super *sup = NULL;
    if (shim_loop_new(&loop, &err) < 0 ||
        shim_super_new(cfg, loop, &orig, sigfd, NULL, &sup, &err) < 0) {
        log_error("setup: %s", err.msg);
        shim_loop_free(loop);
        return SHIM_EXIT_USAGE;
    }
    if (shim_super_start(sup, &err) < 0) {
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
    return code;
}
