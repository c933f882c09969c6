/* One error type for the whole project (crun's shape).
 *
 * Fallible functions return an int < 0 on failure and take `oss_error *err`
 * as their last argument.  The error keeps where the code came from (errno,
 * libnl's NLE_*, libseccomp's -errno, a gRPC status, ...) and a message;
 * callers add context on the way up with oss_err_prefix().  Library code never
 * prints: only the top decides and logs once. */
#ifndef OSS_ERROR_H
#define OSS_ERROR_H

#include <stdarg.h>
#include <stddef.h>

enum oss_err_domain {
    OSS_ERR_NONE = 0,
    OSS_ERR_ERRNO,   /* code is an errno value */
    OSS_ERR_NL,      /* code is a positive libnl NLE_* value */
    OSS_ERR_SECCOMP, /* code is the errno libseccomp returned (positive) */
    OSS_ERR_GRPC,    /* code is a grpc_status_code */
    OSS_ERR_INVALID, /* bad input from a user; code is 0 or an errno hint */
    OSS_ERR_HTTP,    /* code is an HTTP status */
    OSS_ERR_CURL,    /* code is a CURLcode */
    OSS_ERR_TIMEOUT, /* a bounded operation ran out of time */
};

#define OSS_ERR_MSG_MAX 512

typedef struct oss_error {
    enum oss_err_domain domain;
    int code;
    char msg[OSS_ERR_MSG_MAX];
} oss_error;

/* Records an error and returns -1, so `return oss_err(...)` reads naturally. */
int oss_err(oss_error *err, enum oss_err_domain domain, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Same, with domain ERRNO and the current errno (captured before formatting). */
int oss_err_errno(oss_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prepends "context: " to the message; keeps domain and code. */
void oss_err_prefix(oss_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void oss_err_clear(oss_error *err);

/* "EPERM", "ENOSYS", ... or "E<n>" for values without a name. */
const char *oss_errno_name(int e);

/* Name of the domain, for reports ("errno", "libnl", ...). */
const char *oss_err_domain_name(enum oss_err_domain d);

#endif
