/* The deny lists of the fallback filter, as data (seccomp_lists.c). */
#ifndef SHIM_SECCOMP_LISTS_H
#define SHIM_SECCOMP_LISTS_H

#include <stddef.h>
#include <stdint.h>

/* An entry of a deny list: the syscall, and optionally "only when argument
 * arg has all bits of mask set" (CLONE_NEWUSER, AT_EMPTY_PATH). */
struct shim_deny_rule {
    const char *name;
    int err; /* errno returned */
    int arg; /* -1: unconditional */
    uint64_t mask;
};

extern const struct shim_deny_rule shim_prelude_rules[];
extern const size_t shim_prelude_rules_len;
extern const struct shim_deny_rule shim_workload_rules[]; /* added on top of the prelude */
extern const size_t shim_workload_rules_len;

#endif
