/* The deny lists, as data.  Sources: the supervisor's prelude and workload
 * filters (docs/platform/supervisor.md, the two seccomp programs).  Kept here, apart from code, so
 * the report and the docs can quote them and a reviewer can diff them against upstream. */
#include "seccomp_lists.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>

#define DENY(n)                                                                                    \
    {                                                                                              \
        n, EPERM, -1, 0                                                                            \
    }
#define DENY_ARG(n, a, m)                                                                          \
    {                                                                                              \
        n, EPERM, a, m                                                                             \
    }

/* The supervisor installs exactly this on itself (NO_NEW_PRIVS + TSYNC). */
const struct shim_deny_rule shim_prelude_rules[] = {
    DENY("mount"),           DENY("fsopen"),       DENY("fsconfig"),        DENY("fsmount"),
    DENY("fspick"),          DENY("move_mount"),   DENY("open_tree"),       DENY("pivot_root"),
    DENY("umount2"),         DENY("bpf"),          DENY("perf_event_open"), DENY("userfaultfd"),
    DENY("init_module"),     DENY("finit_module"), DENY("delete_module"),   DENY("kexec_load"),
    DENY("kexec_file_load"),
};
const size_t shim_prelude_rules_len = sizeof shim_prelude_rules / sizeof shim_prelude_rules[0];

/* The part of the workload list the supervisor itself never calls, so it is
 * safe to impose on the supervisor too.  Left out on purpose: memfd_create,
 * pidfd_*, setns, io_uring_setup and socket families (the supervisor or its
 * proxy may use them), seccomp(SET_MODE_FILTER) (the supervisor loads its
 * own filters).  clone3 gets ENOSYS as upstream does: its flags sit behind a
 * pointer seccomp cannot read, and glibc falls back to clone(2), whose
 * CLONE_NEWUSER bit the filter can see. */
const struct shim_deny_rule shim_workload_rules[] = {
    DENY("ptrace"),
    DENY("process_vm_readv"),
    DENY("process_vm_writev"),
    DENY_ARG("unshare", 0, CLONE_NEWUSER),
    DENY_ARG("clone", 0, CLONE_NEWUSER),
    {"clone3", ENOSYS, -1, 0},
    DENY_ARG("execveat", 4, AT_EMPTY_PATH),
};
const size_t shim_workload_rules_len = sizeof shim_workload_rules / sizeof shim_workload_rules[0];
