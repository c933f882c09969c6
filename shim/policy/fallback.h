/* The fallback seccomp filter (issue 3 item 4): when the supervisor's own
 * filter cannot load but a plain one can, the shim installs a deny list on
 * itself right before exec'ing the supervisor, inherited by the supervisor
 * and the workload.
 *
 * `prelude` denies exactly the supervisor's prelude list (FACTS.md §5) with
 * EPERM: the supervisor would install that list on itself, so it cannot
 * break it.  `workload` adds the part of the workload list the supervisor
 * itself never needs.  The filter is compiled in the parent (libseccomp
 * allocates) so the child only does prctl() + seccomp(2). */
#ifndef SHIM_FALLBACK_H
#define SHIM_FALLBACK_H

#include "config.h"
#include "error.h"
#include "probe/probe.h"

#include <linux/filter.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>

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

/* Adds rules to ctx; syscalls unknown to this architecture are skipped and
 * counted in *ret_skipped (may be NULL).  Returns the number added or < 0. */
int shim_deny_rules_add(scmp_filter_ctx ctx, const struct shim_deny_rule *rules, size_t n,
                        unsigned *ret_skipped, oss_error *err);

/* Pure: should a fallback filter be installed, with which list and flags?
 * `probed` is false when seccomp was not probed (then auto installs
 * nothing: the shim does not know the supervisor's filter would fail). */
struct shim_fallback_plan {
    enum shim_fallback_seccomp mode;
    bool active;
    bool workload; /* the workload list on top of the prelude list */
    unsigned long flags;
    const char *reason; /* static text for the report */
};
void shim_fallback_plan(enum shim_fallback_seccomp mode, bool probed,
                        const struct shim_probe_result *seccomp_probe,
                        struct shim_fallback_plan *ret);

const char *shim_fallback_mode_name(enum shim_fallback_seccomp m);

/* The compiled program. */
struct shim_fallback_prog {
    struct sock_filter *insns;
    size_t len;
    unsigned rules; /* syscall rules in it */
};
int shim_fallback_compile(bool workload, struct shim_fallback_prog *ret, oss_error *err);
void shim_fallback_prog_free(struct shim_fallback_prog *p);

/* Async-signal-safe: NO_NEW_PRIVS + seccomp(SET_MODE_FILTER, flags).
 * Returns 0 or -errno. */
int shim_fallback_install(const struct shim_fallback_prog *p, unsigned long flags);

#endif
