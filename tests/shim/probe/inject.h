/* Test fault injector: a libseccomp filter, installed on the calling
 * process, that makes chosen syscalls fail with chosen errnos, emulating
 * gVisor's refusals on the host kernel (docs/platform/gvisor.md,
 * "Emulating the refusals on the host").
 * SPEC: comma list of NAME[@aN&MASK]:ERRNO, e.g.
 *   "unshare:EPERM,landlock_create_ruleset:ENOSYS,seccomp@a1&0x1:EINVAL"
 * (@a1&0x1: only when argument 1 has those bits set: TSYNC here). */
#ifndef TEST_INJECT_H
#define TEST_INJECT_H

#include "error.h"

int test_errno_parse(const char *name); /* "EPERM" -> 1, or -1 */
int test_inject_install(const char *spec, oss_error *err);

#endif
