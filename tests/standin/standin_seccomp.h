/* The stand-in supervisor's two seccomp filters (a TEST DOUBLE of the
 * upstream supervisor's, docs/platform/supervisor.md,
 * "Seccomp prelude", "Workload seccomp"), built with libseccomp. */
#ifndef STANDIN_SECCOMP_H
#define STANDIN_SECCOMP_H

#include "error.h"

/* NO_NEW_PRIVS + a TSYNC filter answering EPERM to the supervisor's
 * prelude list (mount API, bpf, perf, userfaultfd, modules, kexec). */
int standin_seccomp_prelude(oss_error *err);

/* The workload filter: the prelude list plus memfd_create, ptrace,
 * process_vm_*, pidfd_*, io_uring_setup, setns, AF_PACKET/BLUETOOTH/VSOCK
 * sockets, execveat(AT_EMPTY_PATH), unshare/clone(CLONE_NEWUSER),
 * seccomp(SET_MODE_FILTER) -> EPERM; clone3 -> ENOSYS (its flags live in
 * memory a filter cannot read, and ENOSYS makes glibc fall back to clone). */
int standin_seccomp_workload(oss_error *err);

#endif
