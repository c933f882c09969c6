/* The deny lists compiled with libseccomp (seccomp_compile.h). */
#include "seccomp_compile.h"

#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int shim_deny_rules_add(scmp_filter_ctx ctx, const struct shim_deny_rule *rules, size_t n,
                        unsigned *ret_skipped, oss_error *err)
{
    int added = 0;
    unsigned skipped = 0;
    for (size_t i = 0; i < n; i++) {
        int nr = seccomp_syscall_resolve_name(rules[i].name);
        if (nr == __NR_SCMP_ERROR) {
            skipped++; /* not a syscall on this architecture */
            continue;
        }
        int r;
        if (rules[i].arg < 0)
            r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(rules[i].err), nr, 0);
        else
            r = seccomp_rule_add(
                ctx, SCMP_ACT_ERRNO(rules[i].err), nr, 1,
                SCMP_CMP((unsigned)rules[i].arg, SCMP_CMP_MASKED_EQ, rules[i].mask, rules[i].mask));
        if (r == -EDOM || r == -EOPNOTSUPP) {
            skipped++; /* e.g. a pseudo syscall on a secondary arch */
            continue;
        }
        if (r < 0)
            return oss_err(err, OSS_ERR_SECCOMP, -r, "seccomp rule for %s: %s", rules[i].name,
                           strerror(-r));
        added++;
    }
    if (ret_skipped)
        *ret_skipped += skipped;
    return added;
}

static void seccomp_releasep(scmp_filter_ctx *ctx)
{
    if (*ctx)
        seccomp_release(*ctx);
}
#define _cleanup_seccomp_ __attribute__((cleanup(seccomp_releasep)))

int shim_seccomp_compile(bool workload, struct shim_seccomp_bpf *ret, oss_error *err)
{
    _cleanup_seccomp_ scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx)
        return oss_err(err, OSS_ERR_SECCOMP, ENOMEM, "seccomp_init failed");
    /* A 32-bit or x32 process must not walk around a deny list written for
     * x86_64 names: add the compatible ABIs so each gets its own rules. */
    if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
        seccomp_arch_add(ctx, SCMP_ARCH_X86);
        seccomp_arch_add(ctx, SCMP_ARCH_X32);
    }
    /* The installer sets NO_NEW_PRIVS itself, async-signal-safely. */
    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);

    int added = shim_deny_rules_add(ctx, shim_prelude_rules, shim_prelude_rules_len, NULL, err);
    if (added < 0)
        return -1;
    unsigned rules = (unsigned)added;
    if (workload) {
        added = shim_deny_rules_add(ctx, shim_workload_rules, shim_workload_rules_len, NULL, err);
        if (added < 0)
            return -1;
        rules += (unsigned)added;
    }

    /* libseccomp 2.5 exports only to an fd; a pipe keeps it in memory
     * (memfd_create may itself be filtered).  The program is a few hundred
     * instructions, far below the pipe's capacity, so the write cannot
     * block; O_NONBLOCK turns a surprise into an error rather than a hang. */
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
        return oss_err_errno(err, "seccomp export pipe");
    _cleanup_close_ int rfd = fds[0];
    _cleanup_close_ int wfd = fds[1];
    int r = seccomp_export_bpf(ctx, wfd);
    if (r < 0)
        return oss_err(err, OSS_ERR_SECCOMP, -r, "seccomp_export_bpf: %s", strerror(-r));
    close(TAKE_FD(wfd));

    size_t cap = 4096, len = 0;
    _cleanup_free_ char *data = malloc(cap);
    if (!data)
        return oss_err(err, OSS_ERR_ERRNO, ENOMEM, "out of memory");
    for (;;) {
        if (len == cap) {
            char *n = realloc(data, cap * 2);
            if (!n)
                return oss_err(err, OSS_ERR_ERRNO, ENOMEM, "out of memory");
            data = n;
            cap *= 2;
        }
        ssize_t k = read(rfd, data + len, cap - len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return oss_err_errno(err, "reading the exported filter");
        if (k == 0)
            break;
        len += (size_t)k;
    }
    if (len == 0 || len % sizeof(struct sock_filter) != 0 ||
        len / sizeof(struct sock_filter) > BPF_MAXINSNS)
        return oss_err(err, OSS_ERR_SECCOMP, EINVAL, "exported filter has a bad size (%zu bytes)",
                       len);
    ret->insns = (struct sock_filter *)TAKE_PTR(data);
    ret->len = len / sizeof(struct sock_filter);
    ret->rules = rules;
    return 0;
}

void shim_seccomp_bpf_free(struct shim_seccomp_bpf *p)
{
    free(p->insns);
    p->insns = NULL;
    p->len = 0;
}
