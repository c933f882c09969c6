#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* dst = "a: b", truncated to size (truncation is fine for a message). */
static void join(char *dst, size_t size, const char *a, const char *b)
{
    size_t la = strnlen(a, size - 1);
    memcpy(dst, a, la);
    size_t off = la;
    const char *sep = ": ";
    for (const char *s = sep; *s && off < size - 1; s++)
        dst[off++] = *s;
    size_t lb = strnlen(b, size - 1 - off);
    memcpy(dst + off, b, lb);
    dst[off + lb] = '\0';
}

int oss_err(oss_error *err, enum oss_err_domain domain, int code, const char *fmt, ...)
{
    if (err == NULL)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    err->domain = domain;
    err->code = code;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int oss_err_errno(oss_error *err, const char *fmt, ...)
{
    int saved = errno;
    if (err == NULL)
        return -1;
    char head[OSS_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    err->domain = OSS_ERR_ERRNO;
    err->code = saved;
    join(err->msg, sizeof err->msg, head, strerror(saved));
    errno = saved;
    return -1;
}

void oss_err_prefix(oss_error *err, const char *fmt, ...)
{
    if (err == NULL)
        return;
    char head[OSS_ERR_MSG_MAX];
    char old[OSS_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    join(err->msg, sizeof err->msg, head, old);
}

void oss_err_clear(oss_error *err)
{
    if (err == NULL)
        return;
    err->domain = OSS_ERR_NONE;
    err->code = 0;
    err->msg[0] = '\0';
}

const char *oss_errno_name(int e)
{
    /* strerrorname_np() is glibc 2.32+; spelled out here so the static shim
     * and the reports do not depend on it, and so the names are stable. */
    switch (e) {
    case 0:
        return "OK";
    case EPERM:
        return "EPERM";
    case ENOENT:
        return "ENOENT";
    case ESRCH:
        return "ESRCH";
    case EINTR:
        return "EINTR";
    case EIO:
        return "EIO";
    case E2BIG:
        return "E2BIG";
    case ENOEXEC:
        return "ENOEXEC";
    case EBADF:
        return "EBADF";
    case ECHILD:
        return "ECHILD";
    case EAGAIN:
        return "EAGAIN";
    case ENOMEM:
        return "ENOMEM";
    case EACCES:
        return "EACCES";
    case EFAULT:
        return "EFAULT";
    case EBUSY:
        return "EBUSY";
    case EEXIST:
        return "EEXIST";
    case ENODEV:
        return "ENODEV";
    case ENOTDIR:
        return "ENOTDIR";
    case EISDIR:
        return "EISDIR";
    case EINVAL:
        return "EINVAL";
    case ENFILE:
        return "ENFILE";
    case EMFILE:
        return "EMFILE";
    case ENOSPC:
        return "ENOSPC";
    case EROFS:
        return "EROFS";
    case ERANGE:
        return "ERANGE";
    case ENAMETOOLONG:
        return "ENAMETOOLONG";
    case ENOSYS:
        return "ENOSYS";
    case ENOTSUP:
        return "EOPNOTSUPP";
    case EPROTONOSUPPORT:
        return "EPROTONOSUPPORT";
    case EAFNOSUPPORT:
        return "EAFNOSUPPORT";
    case EADDRINUSE:
        return "EADDRINUSE";
    case EADDRNOTAVAIL:
        return "EADDRNOTAVAIL";
    case ENETUNREACH:
        return "ENETUNREACH";
    case ECONNREFUSED:
        return "ECONNREFUSED";
    case ECONNRESET:
        return "ECONNRESET";
    case ETIMEDOUT:
        return "ETIMEDOUT";
    case ENOTCONN:
        return "ENOTCONN";
    case ENOTSOCK:
        return "ENOTSOCK";
    default: {
        static __thread char buf[16];
        snprintf(buf, sizeof buf, "E%d", e);
        return buf;
    }
    }
}

const char *oss_err_domain_name(enum oss_err_domain d)
{
    switch (d) {
    case OSS_ERR_NONE:
        return "none";
    case OSS_ERR_ERRNO:
        return "errno";
    case OSS_ERR_NL:
        return "libnl";
    case OSS_ERR_SECCOMP:
        return "libseccomp";
    case OSS_ERR_GRPC:
        return "grpc";
    case OSS_ERR_INVALID:
        return "invalid";
    case OSS_ERR_HTTP:
        return "http";
    case OSS_ERR_CURL:
        return "curl";
    case OSS_ERR_TIMEOUT:
        return "timeout";
    }
    return "unknown";
}
