/* oss-exit: end with a chosen exit status, for exit-status tests.
 *
 *   oss-exit CODE      exit(CODE), CODE in 0..255
 *   oss-exit SIGNAL    die of SIGNAL (SIGTERM, TERM, SIGRTMIN+1); the
 *                      disposition is reset to SIG_DFL and the signal
 *                      unblocked first, so an inherited SIG_IGN or mask does
 *                      not change the outcome.  No core file is written.
 *
 * Exit 125: bad usage, or the signal did not kill: its default action is to
 * ignore (SIGCHLD, SIGWINCH, SIGURG, SIGCONT), or this is PID 1 of a PID
 * namespace on Linux (gVisor lets PID 1 die).  Stop signals are refused. */
#include "helper.h"

#include <sys/resource.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: oss-exit CODE|SIGNAL\n");
        return HELPER_EXIT_USAGE;
    }
    long code;
    if (helper_parse_long(argv[1], 0, 255, &code))
        return (int)code;

    int sig;
    /* A bare number means an exit code, so signals must be given by name. */
    if (isdigit((unsigned char)argv[1][0]) || !helper_parse_signal(argv[1], &sig)) {
        fprintf(stderr, "oss-exit: '%s' is neither an exit code 0..255 nor a signal name\n",
                argv[1]);
        return HELPER_EXIT_USAGE;
    }
    if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
        fprintf(stderr, "oss-exit: %s stops, it does not kill\n", argv[1]);
        return HELPER_EXIT_USAGE;
    }
    struct rlimit nocore = {0, 0};
    setrlimit(RLIMIT_CORE, &nocore); /* the status still says "core dumped" where it applies */

    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    /* kill(), not raise(): the status must carry the signal as if sent from
     * outside; raise() is the same for a single-threaded process. */
    kill(getpid(), sig);

    char name[32];
    /* Either the default action is to ignore, or we are PID 1 of a PID
     * namespace, which Linux protects from default-action signals sent from
     * inside (gVisor does not). */
    fprintf(stderr, "oss-exit: %s did not kill (%s)\n", helper_signal_name(sig, name, sizeof name),
            getpid() == 1 ? "PID 1 is protected from default-action signals"
                          : "its default action is to ignore");
    return HELPER_EXIT_USAGE;
}
