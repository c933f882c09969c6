/* Integration harness: a small PID-1-shaped program around the real readyz
 * server, ready condition, restore handling and control socket, with the
 * shim's loop, a signalfd and a reaper, so scripts can drive them over real
 * sockets.  `readyz_harness notify WHAT --state-dir D` is the client side.
 *
 *   --port N           readyz port (0: any; written to --port-file)
 *   --ready-tcp H:P    --ready-file F      ready condition
 *   --identity-file F  --freeze-threshold MS  --state-dir D
 *   --on-restore-exec CMD  --on-restore-timeout MS  --on-restore-signal N
 *   --restore-signal N
 *   --supervisor CMD   a stand-in supervisor (sh -c CMD, own process group)
 *   --events F         every record_event() rewrites F (one JSON per line)
 *   --no-control       do not start the control socket */
#include "buf.h"
#include "cleanup.h"
#include "config.h"
#include "fs.h"
#include "init/children.h"
#include "json.h"
#include "log.h"
#include "loop.h"
#include "readyz/condition.h"
#include "readyz/server.h"
#include "restore/control.h"
#include "restore/restore.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

struct harness {
    struct shim_loop *loop;
    struct shim_readyz *readyz;
    struct shim_restore *restore;
    struct shim_control *control;
    struct shim_ready_cond *cond;
    pid_t supervisor;
    int restore_signal;
    bool stop;
    unsigned long orphans;
    const char *events_path;
    oss_buf events; /* one JSON object per line */
};

static const char *not_ready(void *ctx)
{
    struct harness *h = ctx;
    if (shim_restore_busy(h->restore))
        return "restoring";
    if (h->supervisor == 0)
        return "supervisor not running";
    return shim_ready_cond_check(h->cond, oss_mono_ms());
}

static void before_readyz(void *ctx)
{
    struct harness *h = ctx;
    shim_restore_check_now(h->restore);
}

static void status_json(void *ctx, oss_buf *out)
{
    struct harness *h = ctx;
    struct shim_readyz_stats st;
    shim_readyz_get_stats(h->readyz, &st);
    oss_json j;
    oss_json_init(&j, out);
    oss_json_obj_begin(&j);
    oss_json_key(&j, "readyz");
    oss_json_obj_begin(&j);
    oss_json_kv_uint(&j, "accepted", st.accepted);
    oss_json_kv_uint(&j, "rejected_over_cap", st.rejected_over_cap);
    oss_json_kv_uint(&j, "evicted", st.evicted);
    oss_json_kv_uint(&j, "timed_out", st.timed_out);
    oss_json_kv_uint(&j, "responses", st.responses);
    oss_json_kv_uint(&j, "active", st.active);
    oss_json_obj_end(&j);
    oss_json_key(&j, "restore");
    shim_restore_status_json(h->restore, &j);
    oss_json_kv_uint(&j, "orphans_reaped", h->orphans);
    oss_json_obj_end(&j);
}

static pid_t supervisor_pgid(void *ctx)
{
    struct harness *h = ctx;
    return h->supervisor > 0 ? h->supervisor : 0;
}

static int reprobe(void *ctx, oss_buf *out)
{
    oss_buf_puts(out, "{\"harness\":true}");
    return 0;
}

static void record_event(void *ctx, const char *kind, const char *json)
{
    struct harness *h = ctx;
    oss_buf_printf(&h->events, "{\"kind\":\"%s\",\"event\":%s}\n", kind, json);
    if (h->events_path) {
        oss_error err = {0};
        if (oss_write_file_atomic(h->events_path, h->events.data, h->events.len, 0600, &err) < 0)
            log_warn("%s", err.msg);
    }
}

static void on_signal(struct shim_loop *loop, int fd, uint32_t events, void *data)
{
    struct harness *h = data;
    struct signalfd_siginfo si;
    while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
        int sig = (int)si.ssi_signo;
        if (sig == SIGCHLD) {
            int st;
            pid_t pid;
            while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
                if (shim_children_dispatch(pid, st))
                    continue;
                if (pid == h->supervisor) {
                    log_info("supervisor %d exited", (int)pid);
                    h->supervisor = 0;
                    continue;
                }
                h->orphans++;
            }
        } else if (h->restore_signal && sig == h->restore_signal) {
            shim_restore_trigger(h->restore, "signal");
        } else if (sig == SIGTERM || sig == SIGINT) {
            h->stop = true;
        }
    }
}

static pid_t start_supervisor(const char *cmd)
{
    pid_t pid = fork();
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        setpgid(0, 0);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    if (pid > 0)
        setpgid(pid, pid);
    return pid;
}

int main(int argc, char **argv)
{
    oss_log_setup("readyz-harness", OSS_LOG_INFO, OSS_LOG_TEXT);
    struct shim_config cfg = {
        .identity_file = (char *)"/run/ate/actor-id",
        .state_dir = (char *)"/run/openshell",
        .freeze_threshold_ms = 2000,
        .on_restore_timeout_ms = 10000,
    };
    if (argc >= 2 && strcmp(argv[1], "notify") == 0) {
        cfg.notify_what = argc >= 3 ? argv[2] : (char *)"restore";
        for (int i = 3; i + 1 < argc; i++)
            if (strcmp(argv[i], "--state-dir") == 0)
                cfg.state_dir = argv[i + 1];
        return shim_notify_main(&cfg);
    }

    int port = 0;
    const char *port_file = NULL, *ready_tcp = NULL, *ready_file = NULL, *sup = NULL;
    bool control = true;
    struct harness h = {.events = OSS_BUF_INIT};
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},
        {"port-file", required_argument, NULL, 'P'},
        {"ready-tcp", required_argument, NULL, 't'},
        {"ready-file", required_argument, NULL, 'f'},
        {"identity-file", required_argument, NULL, 'i'},
        {"freeze-threshold", required_argument, NULL, 'z'},
        {"state-dir", required_argument, NULL, 'd'},
        {"on-restore-exec", required_argument, NULL, 'x'},
        {"on-restore-timeout", required_argument, NULL, 'T'},
        {"on-restore-signal", required_argument, NULL, 'S'},
        {"restore-signal", required_argument, NULL, 'R'},
        {"supervisor", required_argument, NULL, 's'},
        {"events", required_argument, NULL, 'e'},
        {"no-control", no_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            port = atoi(optarg);
            break;
        case 'P':
            port_file = optarg;
            break;
        case 't':
            ready_tcp = optarg;
            break;
        case 'f':
            ready_file = optarg;
            break;
        case 'i':
            cfg.identity_file = optarg;
            break;
        case 'z':
            cfg.freeze_threshold_ms = atoll(optarg);
            break;
        case 'd':
            cfg.state_dir = optarg;
            break;
        case 'x':
            cfg.on_restore_exec = optarg;
            break;
        case 'T':
            cfg.on_restore_timeout_ms = atoll(optarg);
            break;
        case 'S':
            cfg.on_restore_signal = atoi(optarg);
            break;
        case 'R':
            h.restore_signal = atoi(optarg);
            break;
        case 's':
            sup = optarg;
            break;
        case 'e':
            h.events_path = optarg;
            break;
        case 'n':
            control = false;
            break;
        default:
            return SHIM_EXIT_USAGE;
        }
    }

    /* The PID-1 shape: signals only through the signalfd. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    if (h.restore_signal)
        sigaddset(&mask, h.restore_signal);
    sigprocmask(SIG_BLOCK, &mask, NULL);

    oss_error err = {0};
    _cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0 || shim_loop_new(&h.loop, &err) < 0 ||
        shim_loop_add(h.loop, sfd, EPOLLIN, on_signal, &h, &err) < 0) {
        log_error("setup: %s", err.msg[0] ? err.msg : strerror(errno));
        return 1;
    }
    if (shim_ready_cond_new(ready_tcp, ready_file, &h.cond, &err) < 0) {
        log_error("%s", err.msg);
        return SHIM_EXIT_USAGE;
    }
    h.supervisor = sup ? start_supervisor(sup) : -1;
    struct shim_restore_hooks rh = {.ctx = &h,
                                    .supervisor_pgid = supervisor_pgid,
                                    .reprobe = reprobe,
                                    .record_event = record_event};
    if (shim_restore_start(h.loop, &cfg, &rh, &h.restore, &err) < 0) {
        log_error("%s", err.msg);
        return 1;
    }
    struct shim_readyz_hooks hooks = {.ctx = &h,
                                      .not_ready_reason = not_ready,
                                      .status_json = status_json,
                                      .before_readyz = before_readyz};
    if (shim_readyz_start(h.loop, port, &hooks, &h.readyz, &err) < 0) {
        log_error("%s", err.msg);
        return 1;
    }
    if (control && shim_control_start(h.loop, cfg.state_dir, h.restore, status_json, &h, &h.control,
                                      &err) < 0) {
        log_error("%s", err.msg);
        return 1;
    }
    if (port_file) {
        struct shim_readyz_stats st;
        shim_readyz_get_stats(h.readyz, &st);
        char b[16];
        int n = snprintf(b, sizeof b, "%d\n", st.port);
        if (oss_write_file_atomic(port_file, b, (size_t)n, 0644, &err) < 0) {
            log_error("%s", err.msg);
            return 1;
        }
    }
    log_info("serving");
    while (!h.stop) {
        if (shim_loop_run_once(h.loop, -1, &err) < 0) {
            log_error("%s", err.msg);
            break;
        }
    }
    if (h.supervisor > 0)
        kill(-h.supervisor, SIGKILL);
    shim_control_stop(h.control);
    shim_readyz_stop(h.readyz);
    shim_restore_stop(h.restore);
    shim_ready_cond_free(h.cond);
    shim_loop_free(h.loop);
    oss_buf_free(&h.events);
    return 0;
}
