/* The deny lists compiled to BPF with libseccomp.  The build runs this
 * (gen/seccomp_bpfgen.c) and the shim carries the result as constant data
 * (fallback.h): compiling at start cost 2-5 ms under gVisor, where every
 * page the compiler touches is a fault the Sentry serves.  Tests compare
 * the carried programs with a fresh compile. */
#ifndef SHIM_SECCOMP_COMPILE_H
#define SHIM_SECCOMP_COMPILE_H

#include "error.h"
#include "seccomp_lists.h"

#include <linux/filter.h>
#include <seccomp.h>
#include <stdbool.h>

/* Adds rules to ctx; syscalls unknown to this architecture are skipped and
 * counted in *ret_skipped (may be NULL).  Returns the number added or < 0. */
int shim_deny_rules_add(scmp_filter_ctx ctx, const struct shim_deny_rule *rules, size_t n,
                        unsigned *ret_skipped, oss_error *err);

struct shim_seccomp_bpf {
    struct sock_filter *insns; /* malloc'd */
    size_t len;
    unsigned rules; /* syscall rules in it */
};
/* The prelude list, plus the workload list when `workload`, denying with
 * their errnos and allowing everything else, for the native architecture
 * and (on x86_64) the x86 and x32 ABIs. */
int shim_seccomp_compile(bool workload, struct shim_seccomp_bpf *ret, oss_error *err);
void shim_seccomp_bpf_free(struct shim_seccomp_bpf *p);

#endif
