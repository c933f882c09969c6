/* Fault injector for tests: makes chosen syscalls fail with chosen errnos
 * (emulating gVisor's refusals on the host kernel, docs/platform/gvisor.md), then execs.
 *
 *   inject SYSCALL:ERRNO[,SYSCALL:ERRNO...] -- PROGRAM ARGS...
 *
 * ERRNO is a name (EPERM, ENOSYS, EINVAL, EOPNOTSUPP, EACCES) or a number. */
#include "cleanup.h"

#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static int errno_of(const char *s)
{
    static const struct {
        const char *n;
        int e;
    } t[] = {{"EPERM", EPERM},
             {"ENOSYS", ENOSYS},
             {"EINVAL", EINVAL},
             {"EOPNOTSUPP", EOPNOTSUPP},
             {"EACCES", EACCES}};
    for (size_t i = 0; i < OSS_ARRAY_SIZE(t); i++)
        if (strcmp(s, t[i].n) == 0)
            return t[i].e;
    char *end;
    long v = strtol(s, &end, 10);
    return (*s && *end == '\0' && v > 0 && v < 4096) ? (int)v : -1;
}

int main(int argc, char **argv)
{
    if (argc < 4 || strcmp(argv[2], "--") != 0) {
        fprintf(stderr, "usage: %s SYSCALL:ERRNO[,...] -- PROGRAM ARGS...\n", argv[0]);
        return 2;
    }
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (ctx == NULL)
        return 2;
    _cleanup_free_ char *spec = strdup(argv[1]);
    char *save = NULL;
    for (char *item = strtok_r(spec, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(item, ':');
        if (colon == NULL) {
            fprintf(stderr, "inject: bad item %s\n", item);
            return 2;
        }
        *colon = '\0';
        int nr = seccomp_syscall_resolve_name(item);
        int e = errno_of(colon + 1);
        if (nr == __NR_SCMP_ERROR || e < 0) {
            fprintf(stderr, "inject: unknown syscall or errno in %s:%s\n", item, colon + 1);
            return 2;
        }
        int r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(e), nr, 0);
        if (r < 0) {
            fprintf(stderr, "inject: %s: %s\n", item, strerror(-r));
            return 2;
        }
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_load(ctx) < 0) {
        perror("inject: loading the filter");
        return 2;
    }
    seccomp_release(ctx);
    execvp(argv[3], argv + 3);
    fprintf(stderr, "inject: exec %s: %s\n", argv[3], strerror(errno));
    return 127;
}
