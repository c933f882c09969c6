/* The accept loop: the driver's own listening socket, vetted peer by peer
 * (listen.h explains why gRPC does not own it). */
#include "accept.h"

#include "listen.h"
#include "log.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

int drv_accept_loop(struct drv_server *srv, int lfd, int sfd)
{
    uid_t self = geteuid();
    for (;;) {
        struct pollfd p[2] = {{.fd = lfd, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_error("poll: %s", strerror(errno));
            return SIGTERM;
        }
        if (p[1].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
                return (int)si.ssi_signo;
        }
        if (!(p[0].revents & POLLIN))
            continue;
        for (;;) {
            int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd < 0) {
                if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                    log_warn("accept: %s", strerror(errno));
                break;
            }
            uid_t uid;
            pid_t pid;
            oss_error err = {0};
            if (drv_peer_uid(fd, &uid, &pid, &err) < 0 || !drv_peer_uid_allowed(uid, self)) {
                /* the socket mode already keeps others out; this is the
                 * second lock, for a socket handed around or a lax umask */
                log_warn("refused connection from uid %u pid %d: only uid %u and root may "
                         "talk to the driver",
                         (unsigned)uid, (int)pid, (unsigned)self);
                close(fd);
                continue;
            }
            log_debug("connection from uid %u pid %d", (unsigned)uid, (int)pid);
            drv_server_add_fd(srv, fd);
        }
    }
}
