#include "standin_seccomp.h"

#include "cleanup.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>

/* The supervisor prelude's list (docs/platform/supervisor.md; upstream
 * P/sandbox/linux/seccomp.rs@2f7fb65 65-149, byte-identical at 5112fca71). */
static const char *const prelude_deny[] = {
    "mount",       "fsopen",       "fsconfig",      "fsmount",    "fspick",          "move_mount",
    "open_tree",   "pivot_root",   "umount2",       "bpf",        "perf_event_open", "userfaultfd",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
};

/* Filter B's unconditional list (docs/platform/supervisor.md; upstream
 * P/sandbox/linux/seccomp.rs@2f7fb65 162-296): not the prelude list. */
static const char *const workload_deny[] = {
    "memfd_create",
    "ptrace",
    "bpf",
    "process_vm_readv",
    "process_vm_writev",
    "pidfd_open",
    "pidfd_getfd",
    "pidfd_send_signal",
    "io_uring_setup",
    "mount",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "move_mount",
    "open_tree",
    "setns",
    "umount2",
    "pivot_root",
    "userfaultfd",
    "perf_event_open",
};

static void ctx_releasep(scmp_filter_ctx *c)
{
    if (*c)
        seccomp_release(*c);
}
#define _cleanup_seccomp_ __attribute__((cleanup(ctx_releasep)))

/* libseccomp returns -errno. */
static int sc_err(oss_error *err, int r, const char *what)
{
    return oss_err(err, OSS_ERR_SECCOMP, -r, "%s: %s", what, strerror(-r));
}

/* Names this libseccomp does not know on this arch are skipped: a filter
 * cannot block a call the kernel interface does not have. */
static int deny_all(scmp_filter_ctx ctx, const char *const *names, size_t n, oss_error *err)
{
    for (size_t i = 0; i < n; i++) {
        int nr = seccomp_syscall_resolve_name(names[i]);
        if (nr == __NR_SCMP_ERROR)
            continue;
        int r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
        if (r < 0)
            return sc_err(err, r, names[i]);
    }
    return 0;
}

/* Spelled out: libseccomp's SCMP_A0() macros leave datum_b implicit,
 * which clang's -Wmissing-field-initializers rejects. */
#define ARG_CMP(n, o, a, b)                                                                        \
    {                                                                                              \
        .arg = (n), .op = (o), .datum_a = (a), .datum_b = (b)                                      \
    }

static int new_ctx(scmp_filter_ctx *ret, oss_error *err)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (ctx == NULL)
        return oss_err(err, OSS_ERR_SECCOMP, ENOMEM, "seccomp_init");
    /* Report the kernel's errno from seccomp_load, not libseccomp's -ECANCELED. */
    (void)seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
    *ret = ctx;
    return 0;
}

static int load(scmp_filter_ctx ctx, const char *what, oss_error *err)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return oss_err_errno(err, "%s: PR_SET_NO_NEW_PRIVS", what);
    int r = seccomp_load(ctx);
    if (r < 0)
        return sc_err(err, r, what);
    return 0;
}

int standin_seccomp_prelude(oss_error *err)
{
    _cleanup_seccomp_ scmp_filter_ctx ctx = NULL;
    if (new_ctx(&ctx, err) < 0)
        return -1;
    int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    if (r < 0)
        return sc_err(err, r, "SECCOMP_FILTER_FLAG_TSYNC");
    if (deny_all(ctx, prelude_deny, OSS_ARRAY_SIZE(prelude_deny), err) < 0)
        return -1;
    return load(ctx, "loading the supervisor prelude filter", err);
}

/* Upstream installs two programs in the child, both with flags 0 (no
 * TSYNC): first clone3 -> ENOSYS (its flags sit behind a pointer), then
 * filter B (P/sandbox/linux/seccomp.rs@2f7fb65 72-81, 298-362). */
int standin_seccomp_workload(bool netlink_all, oss_error *err)
{
    _cleanup_seccomp_ scmp_filter_ctx a = NULL;
    if (new_ctx(&a, err) < 0)
        return -1;
    int nr = seccomp_syscall_resolve_name("clone3");
    if (nr != __NR_SCMP_ERROR) {
        int r = seccomp_rule_add(a, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
        if (r < 0)
            return sc_err(err, r, "clone3");
    }
    if (load(a, "loading the workload clone3 filter", err) < 0)
        return -1;

    _cleanup_seccomp_ scmp_filter_ctx ctx = NULL;
    if (new_ctx(&ctx, err) < 0)
        return -1;
    if (deny_all(ctx, workload_deny, OSS_ARRAY_SIZE(workload_deny), err) < 0)
        return -1;

    const struct {
        int nr;
        struct scmp_arg_cmp cmp[2];
        unsigned ncmp;
        const char *what;
    } rules[] = {
        {SCMP_SYS(socket), {ARG_CMP(0, SCMP_CMP_EQ, AF_PACKET, 0)}, 1, "AF_PACKET"},
        {SCMP_SYS(socket), {ARG_CMP(0, SCMP_CMP_EQ, AF_BLUETOOTH, 0)}, 1, "AF_BLUETOOTH"},
        {SCMP_SYS(socket), {ARG_CMP(0, SCMP_CMP_EQ, AF_VSOCK, 0)}, 1, "AF_VSOCK"},
        /* main and pull request 1549: AF_NETLINK except NETLINK_ROUTE (protocol
         * 0); pull request 1548: every AF_NETLINK socket (S/sandbox/linux/
         * seccomp.rs@835f1f92a 167-171). */
        {SCMP_SYS(socket),
         {ARG_CMP(0, SCMP_CMP_EQ, AF_NETLINK, 0), ARG_CMP(2, SCMP_CMP_NE, 0, 0)},
         netlink_all ? 1u : 2u,
         "AF_NETLINK"},
        {SCMP_SYS(execveat),
         {ARG_CMP(4, SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH)},
         1,
         "execveat(AT_EMPTY_PATH)"},
        {SCMP_SYS(unshare),
         {ARG_CMP(0, SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER)},
         1,
         "unshare(CLONE_NEWUSER)"},
        /* x86_64 and arm64 both pass clone's flags in the first argument. */
        {SCMP_SYS(clone),
         {ARG_CMP(0, SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER)},
         1,
         "clone(CLONE_NEWUSER)"},
        {SCMP_SYS(seccomp),
         {ARG_CMP(0, SCMP_CMP_EQ, SECCOMP_SET_MODE_FILTER, 0)},
         1,
         "seccomp(SET_MODE_FILTER)"},
    };
    for (size_t i = 0; i < OSS_ARRAY_SIZE(rules); i++) {
        int r = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EPERM), rules[i].nr, rules[i].ncmp,
                                       rules[i].cmp);
        if (r < 0)
            return sc_err(err, r, rules[i].what);
    }
    return load(ctx, "loading the workload filter", err);
}
