/* Private helpers shared by the netns/ files.  Not installed, not exported
 * beyond the static library (names carry the netns__ prefix). */
#ifndef OSS_NETNS_INTERNAL_H
#define OSS_NETNS_INTERNAL_H

#include "netns.h"
#include "nl_cleanup.h"

#include <stdbool.h>

struct rtnl_link;

/* Returns the errno injected for step s (and clears it), or 0. */
int netns__injected(enum netns_step s);

/* Call before each netlink request: forgets the errno of the last ack. */
void netns__nl_reset(void);

/* Records a libnl failure nlerr (negative or positive NLE_*) as an error.
 * The errno comes from the kernel's ack when there was one (libnl folds
 * several errnos into one NLE_* code), else from the inverse of libnl's
 * errno -> NLE_* table; domain NL only when neither gives an errno. */
int netns__nl_err(oss_error *err, int nlerr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

struct sockaddr_nl;
struct nlmsgerr;
/* The error callback every socket gets: remembers the ack's errno. */
int netns__ack_err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg);

/* errno libnl would have turned into nle, or 0 when there is none. */
int netns__nlerr_to_errno(int nle);

/* Looks ifname up through a link dump (gVisor answers dumps but not every
 * by-name RTM_GETLINK).  0 and *ret = NULL when absent. */
int netns__link_find(struct nl_sock *sk, const char *ifname, struct rtnl_link **ret,
                     oss_error *err);

/* Variants of the public ensures that say whether they created something. */
int netns__addr_ensure(struct nl_sock *sk, const char *ifname, const char *cidr, bool *ret_created,
                       oss_error *err);
int netns__addr_delete(struct nl_sock *sk, const char *ifname, const char *cidr, oss_error *err);
int netns__route_default_ensure(struct nl_sock *sk, const char *gateway, bool *ret_created,
                                oss_error *err);
int netns__route_default_delete(struct nl_sock *sk, const char *gateway, oss_error *err);

/* Enters namespace nsfd on this thread; *ret_saved gets a handle on the
 * previous one for netns__leave(). */
int netns__enter(int nsfd, int *ret_saved, oss_error *err);
int netns__leave(int saved, oss_error *err);

#endif
