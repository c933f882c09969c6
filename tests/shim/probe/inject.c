#include "inject.h"

#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>

int test_errno_parse(const char *name)
{
    for (int e = 1; e < 4096; e++)
        if (strcmp(oss_errno_name(e), name) == 0)
            return e;
    char *end;
    long v = strtol(name, &end, 10);
    return *name && !*end && v > 0 && v < 4096 ? (int)v : -1;
}

int test_inject_install(const char *spec, oss_error *err)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx)
        return oss_err(err, OSS_ERR_SECCOMP, ENOMEM, "seccomp_init");
    char *copy = strdup(spec), *save = NULL;
    int ret = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *colon = strrchr(tok, ':');
        if (!colon) {
            ret = oss_err(err, OSS_ERR_INVALID, EINVAL, "inject: \"%s\" lacks :ERRNO", tok);
            break;
        }
        *colon = '\0';
        int e = test_errno_parse(colon + 1);
        int arg = -1;
        unsigned long long mask = 0;
        char *at = strchr(tok, '@');
        if (at) {
            *at = '\0';
            char *amp = strchr(at + 1, '&');
            if (at[1] != 'a' || !amp) {
                ret = oss_err(err, OSS_ERR_INVALID, EINVAL, "inject: bad condition in \"%s\"", tok);
                break;
            }
            arg = atoi(at + 2);
            mask = strtoull(amp + 1, NULL, 0);
        }
        int nr = seccomp_syscall_resolve_name(tok);
        if (e < 0 || nr == __NR_SCMP_ERROR || arg > 5) {
            ret = oss_err(err, OSS_ERR_INVALID, EINVAL, "inject: bad syscall or errno in \"%s\"",
                          tok);
            break;
        }
        int r = arg < 0 ? seccomp_rule_add(ctx, SCMP_ACT_ERRNO(e), nr, 0)
                        : seccomp_rule_add(ctx, SCMP_ACT_ERRNO(e), nr, 1,
                                           SCMP_CMP((unsigned)arg, SCMP_CMP_MASKED_EQ, mask, mask));
        if (r < 0) {
            ret = oss_err(err, OSS_ERR_SECCOMP, -r, "inject: rule for %s failed", tok);
            break;
        }
    }
    if (ret == 0) {
        int r = seccomp_load(ctx);
        if (r < 0)
            ret = oss_err(err, OSS_ERR_SECCOMP, -r, "inject: seccomp_load failed");
    }
    free(copy);
    seccomp_release(ctx);
    return ret;
}
