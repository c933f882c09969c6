/* Step names, the test hook, and libnl error conversion. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/netlink.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>

const char *netns_step_name(enum netns_step s)
{
    switch (s) {
    case NETNS_STEP_NONE:
        return "none";
    case NETNS_STEP_NS_CREATE:
        return "ns_create";
    case NETNS_STEP_NL_SOCKET:
        return "nl_socket";
    case NETNS_STEP_VETH:
        return "veth";
    case NETNS_STEP_MOVE:
        return "move";
    case NETNS_STEP_ADDR:
        return "addr";
    case NETNS_STEP_LINK_UP:
        return "link_up";
    case NETNS_STEP_ROUTE:
        return "route";
    case NETNS_STEP_COUNT:
        break;
    }
    return "unknown";
}

static int injected[NETNS_STEP_COUNT];

void netns_inject_failure(enum netns_step s, int e)
{
    if (s > NETNS_STEP_NONE && s < NETNS_STEP_COUNT)
        injected[s] = e;
}

int netns__injected(enum netns_step s)
{
    if (s <= NETNS_STEP_NONE || s >= NETNS_STEP_COUNT)
        return 0;
    int e = injected[s];
    injected[s] = 0;
    return e;
}

/* libnl's nl_syserr2nlerr() maps several errnos to one code (EEXIST and
 * EADDRINUSE both become NLE_EXIST, ESRCH and ENOENT NLE_OBJ_NOTFOUND), so
 * the ack's own errno is kept here by an error callback on every socket. */
static _Thread_local int last_ack_errno;

void netns__nl_reset(void)
{
    last_ack_errno = 0;
}

int netns__nlerr_to_errno(int nle)
{
    if (nle < 0)
        nle = -nle;
    switch (nle) {
    case NLE_BAD_SOCK:
        return EBADF;
    case NLE_EXIST:
        return EEXIST;
    case NLE_NOADDR:
        return EADDRNOTAVAIL;
    case NLE_OBJ_NOTFOUND:
        return ENOENT;
    case NLE_INTR:
        return EINTR;
    case NLE_AGAIN:
        return EAGAIN;
    case NLE_NOACCESS:
        return EACCES;
    case NLE_INVAL:
        return EINVAL;
    case NLE_NOMEM:
        return ENOMEM;
    case NLE_AF_NOSUPPORT:
        return EAFNOSUPPORT;
    case NLE_PROTO_MISMATCH:
        return EPROTONOSUPPORT;
    case NLE_OPNOTSUPP:
        return EOPNOTSUPP;
    case NLE_PERM:
        return EPERM;
    case NLE_BUSY:
        return EBUSY;
    case NLE_RANGE:
        return ERANGE;
    case NLE_NODEV:
        return ENODEV;
    default:
        return 0;
    }
}

int netns__nl_err(oss_error *err, int nlerr, const char *fmt, ...)
{
    char head[OSS_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);

    int nle = nlerr < 0 ? -nlerr : nlerr;
    int e = last_ack_errno;
    last_ack_errno = 0;
    if (e == 0)
        e = netns__nlerr_to_errno(nle);
    if (e != 0)
        return oss_err(err, OSS_ERR_ERRNO, e, "%s: %s", head, strerror(e));
    return oss_err(err, OSS_ERR_NL, nle, "%s: %s", head, nl_geterror(nle));
}

/* Installed on every socket by netns_nl_open(). */
int netns__ack_err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
    last_ack_errno = e->error < 0 ? -e->error : e->error;
    return NL_STOP; /* libnl then returns its own NLE_* code, as without us */
}
