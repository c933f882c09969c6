/* openshell-driver-substrate: argv/env -> config, then serve until SIGTERM.
 * Everything else lives in server/, watch.c and the backends. */
#include "backends.h"
#include "check_config.h"
#include "cleanup.h"
#include "config.h"
#include "log.h"
#include "render.h"
#include "server/accept.h"
#include "server/grpc_log.h"
#include "server/listen.h"
#include "server/server.h"
#include "watch.h"

#include <errno.h>
#include <grpc/grpc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

#define DRAIN_GRACE_MS 30000

int main(int argc, char **argv)
{
    /* subcommands: the first argument names them */
    if (argc > 1 && strcmp(argv[1], "check-config") == 0)
        return drv_check_config_main(argc - 1, argv + 1, environ, stdout);
    if (argc > 1 && strcmp(argv[1], "render") == 0)
        return drv_render_main(argc, argv, environ);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            drv_config_usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--version")) {
            printf("openshell-driver-substrate %s\n", OSS_VERSION);
            return 0;
        }
    }

    oss_log_setup("openshell-driver-substrate", OSS_LOG_INFO, OSS_LOG_TEXT);
    struct drv_config cfg;
    drv_config_defaults(&cfg);
    oss_error err = {0};
    if (drv_config_load(&cfg, argc, argv, environ, &err) < 0 ||
        drv_config_validate(&cfg, &err) < 0) {
        log_error("configuration: %s", err.msg);
        drv_config_free(&cfg);
        return 2;
    }
    enum oss_log_level lvl = OSS_LOG_INFO;
    oss_log_level_parse(cfg.log_level, &lvl);
    oss_log_setup("openshell-driver-substrate", lvl, OSS_LOG_TEXT);
    drv_grpc_log_setup(); /* before any gRPC call: its lines may carry credentials */

    /* Signals are read from a signalfd by the accept loop; block them
     * before any thread exists so no thread takes them instead. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    _cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) {
        log_error("signalfd: %s", strerror(errno));
        drv_config_free(&cfg);
        return 1;
    }

    struct drv_backend *backend = NULL;
    if (drv_backend_open(&cfg, &backend, &err) < 0) {
        log_error("backend: %s", err.msg);
        drv_config_free(&cfg);
        return 2;
    }

    int rc = 1;
    _cleanup_close_ int lfd = -1;
    struct drv_watch *watch = NULL;
    struct drv_server *srv = NULL;
    struct stat sock_st;
    if (drv_listen_open(cfg.socket, &lfd, &err) < 0) {
        log_error("socket: %s", err.msg);
        goto out;
    }
    if (stat(cfg.socket, &sock_st) < 0)
        memset(&sock_st, 0, sizeof sock_st);

    grpc_init();
    if (drv_watch_new(backend, cfg.watch_interval_ms, &watch, &err) < 0 ||
        drv_watch_start(watch, &err) < 0 || drv_server_new(&cfg, backend, watch, &srv, &err) < 0) {
        log_error("start: %s", err.msg);
        goto out_grpc;
    }
    log_info("serving openshell.compute.v1.ComputeDriver on %s (backend %s, version %s)",
             cfg.socket, backend->ops->name, OSS_VERSION);

    int sig = drv_accept_loop(srv, lfd, sfd);
    log_info("received %s: draining in-flight calls", strsignal(sig));

    /* No new connections from here on; remove our socket (only if it is
     * still ours) so the next driver does not need to probe it. */
    close(TAKE_FD(lfd));
    struct stat now;
    if (stat(cfg.socket, &now) == 0 && now.st_ino == sock_st.st_ino && now.st_dev == sock_st.st_dev)
        unlink(cfg.socket);
    drv_server_shutdown(srv, DRAIN_GRACE_MS);
    rc = 0;

out_grpc:
    drv_server_free(srv);
    drv_watch_free(watch);
    grpc_shutdown();
out:
    drv_backend_close(backend);
    drv_config_free(&cfg);
    if (rc == 0)
        log_info("stopped");
    return rc;
}
