/* The driver's accept loop. */
#ifndef DRV_ACCEPT_H
#define DRV_ACCEPT_H

#include "server.h"

/* Accepts connections on lfd, refuses peers of another uid (SO_PEERCRED),
 * hands the rest to gRPC, until the signalfd sfd reports a signal; returns
 * that signal number. */
int drv_accept_loop(struct drv_server *srv, int lfd, int sfd);

#endif
