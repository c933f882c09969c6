/* The supervision state machine (shim/init/supervise.c) with its system
 * calls replaced (-Wl,--wrap: shim_spawn_child, waitpid, kill): children are
 * fake pids, exits are queued wait statuses, signals arrive as signalfd
 * records written into a pipe.  Each case drives the real event loop.
 * The stop drain's case is the regression check for a PID 1 wedged in a
 * blocking waitpid: every waitpid must be WNOHANG. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "config.h"
#include "error.h"
#include "init/supervise.h"
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the fake system ---------------------------------------------------- */

#define MAXQ 32
static struct {
    pid_t next_pid;
    unsigned spawns;
    struct {
        pid_t pid;
        int status;
    } exits[MAXQ];
    unsigned nexit, iexit;
    bool group_alive;   /* kill(-pgid, 0) answers 0 */
    bool blocking_wait; /* a waitpid without WNOHANG was seen */
    int kills[MAXQ][2]; /* (target, sig), sig 0 not recorded */
    unsigned nkill;
    char events[MAXQ][16];
    unsigned nevents;
} fk;

int __wrap_shim_spawn_child(const void *sp, pid_t *ret_pid, int *ret_exec_errno, oss_error *err);
int __wrap_shim_spawn_child(const void *sp, pid_t *ret_pid, int *ret_exec_errno, oss_error *err)
{
    fk.spawns++;
    *ret_pid = fk.next_pid++;
    *ret_exec_errno = 0;
    return 0;
}

pid_t __wrap_waitpid(pid_t pid, int *st, int options);
pid_t __wrap_waitpid(pid_t pid, int *st, int options)
{
    if (!(options & WNOHANG))
        fk.blocking_wait = true; /* would block PID 1: never allowed */
    if (fk.iexit < fk.nexit) {
        *st = fk.exits[fk.iexit].status;
        return fk.exits[fk.iexit++].pid;
    }
    if (!(options & WNOHANG)) {
        errno = ECHILD; /* a real one would hang here forever */
        return -1;
    }
    return 0;
}

int __wrap_kill(pid_t pid, int sig);
int __wrap_kill(pid_t pid, int sig)
{
    if (sig == 0) {
        if (pid < 0 && fk.group_alive)
            return 0;
        errno = ESRCH;
        return -1;
    }
    if (fk.nkill < MAXQ) {
        fk.kills[fk.nkill][0] = pid;
        fk.kills[fk.nkill][1] = sig;
        fk.nkill++;
    }
    return 0;
}

static void queue_exit(pid_t pid, int status)
{
    fk.exits[fk.nexit].pid = pid;
    fk.exits[fk.nexit].status = status;
    fk.nexit++;
}

static bool killed(pid_t target, int sig)
{
    for (unsigned i = 0; i < fk.nkill; i++)
        if (fk.kills[i][0] == target && fk.kills[i][1] == sig)
            return true;
    return false;
}

static void on_event(void *ctx, const char *kind, const char *json)
{
    if (fk.nevents < MAXQ)
        snprintf(fk.events[fk.nevents++], sizeof fk.events[0], "%s", kind);
}

static bool saw_event(const char *kind)
{
    for (unsigned i = 0; i < fk.nevents; i++)
        if (strcmp(fk.events[i], kind) == 0)
            return true;
    return false;
}

/* ---- a supervisor on a real loop ---------------------------------------- */

struct rig {
    struct shim_config cfg;
    struct shim_loop *loop;
    struct shim_super *sup;
    int sigw; /* write end: signalfd records */
    int sigr;
};

static char *child_argv[] = {"child", NULL};

static void rig_up(struct rig *r, void (*tune)(struct shim_config *))
{
    memset(&fk, 0, sizeof fk);
    fk.next_pid = 1000;
    memset(r, 0, sizeof *r);
    r->cfg.restart = SHIM_RESTART_NEVER;
    r->cfg.restart_max = 5;
    r->cfg.restart_window_ms = 60000;
    r->cfg.backoff_initial_ms = 10;
    r->cfg.backoff_max_ms = 20;
    r->cfg.stop_timeout_ms = 50;
    r->cfg.child_argc = 1;
    r->cfg.child_argv = child_argv;
    if (tune)
        tune(&r->cfg);
    int p[2];
    assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    r->sigr = p[0];
    r->sigw = p[1];
    oss_error err = {0};
    sigset_t none;
    sigemptyset(&none);
    struct shim_super_hooks h = {.on_event = on_event};
    assert_int_equal(shim_loop_new(&r->loop, &err), 0);
    assert_int_equal(shim_super_new(&r->cfg, r->loop, &none, r->sigr, &h, &r->sup, &err), 0);
    assert_int_equal(shim_super_start(r->sup, &err), 0);
    assert_int_equal(shim_super_state(r->sup), SHIM_CHILD_RUNNING);
    alarm(20); /* a wedged state machine fails the test instead of hanging it */
}

static void rig_down(struct rig *r)
{
    alarm(0);
    shim_super_free(r->sup);
    shim_loop_free(r->loop);
    close(r->sigr);
    close(r->sigw);
}

static void send_sig(struct rig *r, int sig)
{
    struct signalfd_siginfo si = {.ssi_signo = (uint32_t)sig};
    assert_int_equal(write(r->sigw, &si, sizeof si), (ssize_t)sizeof si);
}

static void rounds(struct rig *r, int n, int timeout_ms)
{
    oss_error err = {0};
    for (int i = 0; i < n; i++)
        assert_true(shim_loop_run_once(r->loop, timeout_ms, &err) >= 0);
}

/* ---- cases -------------------------------------------------------------- */

static void test_exit_ends_with_childs_code(void **state)
{
    struct rig r;
    rig_up(&r, NULL);
    queue_exit(1000, 3 << 8); /* exited 3 */
    send_sig(&r, SIGCHLD);
    assert_int_equal(shim_super_run(r.sup), 3);
    assert_true(saw_event("start") && saw_event("exit"));
    assert_false(fk.blocking_wait);
    rig_down(&r);
}

static void on_failure(struct shim_config *c)
{
    c->restart = SHIM_RESTART_ON_FAILURE;
}

static void test_restart_after_backoff(void **state)
{
    struct rig r;
    rig_up(&r, on_failure);
    queue_exit(1000, 1 << 8);
    send_sig(&r, SIGCHLD);
    rounds(&r, 1, 0);
    assert_int_equal(shim_super_state(r.sup), SHIM_CHILD_BACKOFF);
    assert_int_equal(fk.spawns, 1);
    for (int i = 0; i < 50 && shim_super_state(r.sup) != SHIM_CHILD_RUNNING; i++)
        rounds(&r, 1, 100); /* the backoff timer (10 ms) */
    assert_int_equal(shim_super_state(r.sup), SHIM_CHILD_RUNNING);
    assert_int_equal(fk.spawns, 2);
    assert_int_equal(shim_super_starts(r.sup), 2);
    assert_true(saw_event("restart"));
    /* a clean exit is not a failure: done with 0 */
    queue_exit(1001, 0);
    send_sig(&r, SIGCHLD);
    assert_int_equal(shim_super_run(r.sup), 0);
    rig_down(&r);
}

static void group(struct shim_config *c)
{
    c->kill_group = true;
}

static void test_forward_to_group(void **state)
{
    struct rig r;
    rig_up(&r, group);
    send_sig(&r, SIGUSR1);
    rounds(&r, 1, 0);
    assert_true(killed(-1000, SIGUSR1));
    assert_int_equal(shim_super_state(r.sup), SHIM_CHILD_RUNNING);
    rig_down(&r);
}

static void test_graceful_stop(void **state)
{
    struct rig r;
    rig_up(&r, NULL);
    send_sig(&r, SIGTERM);
    rounds(&r, 1, 0);
    assert_true(killed(1000, SIGTERM));
    assert_int_equal(shim_super_state(r.sup), SHIM_CHILD_STOPPING);
    queue_exit(1000, SIGTERM); /* died of SIGTERM */
    send_sig(&r, SIGCHLD);
    assert_int_equal(shim_super_run(r.sup), 128 + SIGTERM);
    assert_false(killed(-1000, SIGKILL)); /* it went in time */
    rig_down(&r);
}

/* The wedge: a zombie in the child's group whose parent lives outside it.
 * kill(-pgid, 0) keeps succeeding and no wait can reap it.  The shim must
 * SIGKILL the group at the stop timeout, never block in waitpid, and exit
 * with the child's status after the drain deadline. */
static void test_stop_drain_with_foreign_zombie(void **state)
{
    struct rig r;
    rig_up(&r, NULL);
    fk.group_alive = true;
    send_sig(&r, SIGTERM);
    queue_exit(1000, 0); /* the child itself exits 0 on SIGTERM */
    send_sig(&r, SIGCHLD);
    rounds(&r, 2, 0);
    assert_int_equal(shim_super_state(r.sup), SHIM_CHILD_STOPPING);
    assert_int_equal(shim_super_run(r.sup), 0); /* the child's status */
    assert_true(killed(-1000, SIGKILL));
    assert_false(fk.blocking_wait);
    assert_true(saw_event("stop"));
    rig_down(&r);
}

static void stay(struct shim_config *c)
{
    c->stay_alive = true;
}

static void test_stay_alive(void **state)
{
    struct rig r;
    rig_up(&r, stay);
    queue_exit(1000, 7 << 8);
    send_sig(&r, SIGCHLD);
    rounds(&r, 1, 0);
    assert_int_equal(shim_super_state(r.sup), SHIM_CHILD_GONE);
    assert_non_null(strstr(shim_super_gone_reason(r.sup), "exited"));
    queue_exit(4242, 0); /* an orphan is still reaped */
    send_sig(&r, SIGCHLD);
    rounds(&r, 1, 0);
    assert_int_equal(shim_super_reaped_orphans(r.sup), 1);
    send_sig(&r, SIGTERM);
    assert_int_equal(shim_super_run(r.sup), 7);
    rig_down(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_ends_with_childs_code),
        cmocka_unit_test(test_restart_after_backoff),
        cmocka_unit_test(test_forward_to_group),
        cmocka_unit_test(test_graceful_stop),
        cmocka_unit_test(test_stop_drain_with_foreign_zombie),
        cmocka_unit_test(test_stay_alive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
