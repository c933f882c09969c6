/* The stand-in supervisor's seccomp programs (a TEST DOUBLE of the upstream
 * supervisor's, docs/platform/supervisor.md), built with libseccomp. */
#ifndef STANDIN_SECCOMP_H
#define STANDIN_SECCOMP_H

#include "error.h"

#include <stdbool.h>

/* NO_NEW_PRIVS + a TSYNC filter answering EPERM to the supervisor's
 * prelude list (mount API, bpf, perf, userfaultfd, modules, kexec). */
int standin_seccomp_prelude(oss_error *err);

/* The workload's two programs, flags 0: clone3 -> ENOSYS, then filter B
 * (memfd_create, ptrace, bpf, process_vm_*, pidfd_*, io_uring_setup, the
 * mount API, setns, umount2, pivot_root, userfaultfd, perf_event_open,
 * AF_PACKET/BLUETOOTH/VSOCK and AF_NETLINK sockets, execveat(AT_EMPTY_PATH),
 * unshare/clone(CLONE_NEWUSER), seccomp(SET_MODE_FILTER) -> EPERM).
 * netlink_all: every AF_NETLINK socket (pull request 1548), else all but
 * protocol 0. */
int standin_seccomp_workload(bool netlink_all, oss_error *err);

#endif
