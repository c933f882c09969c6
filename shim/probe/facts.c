/* Runtime facts: what the report needs about the process and the runtime,
 * read in place (nothing here changes state, so no child). */
#include "probe.h"

#include "buf.h"
#include "fs.h"
#include "util.h"

#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

void shim_runtime_facts_collect(struct shim_runtime_facts *ret)
{
    int64_t start = oss_mono_ns();
    struct shim_runtime_facts f;
    memset(&f, 0, sizeof f);
    f.no_new_privs = f.seccomp_mode = f.seccomp_filters = -1;

    _cleanup_buf_ oss_buf b = OSS_BUF_INIT;
    if (oss_read_file("/proc/version", 4096, &b, NULL) == 0 && b.data) {
        size_t n = strcspn(b.data, "\n");
        if (n >= sizeof f.kernel)
            n = sizeof f.kernel - 1;
        memcpy(f.kernel, b.data, n);
        f.kernel[n] = '\0';
        f.gvisor = shim_is_gvisor_version(b.data);
    }
    oss_buf_reset(&b);
    if (oss_read_file("/proc/self/status", 64 * 1024, &b, NULL) == 0 && b.data) {
        struct shim_proc_status s;
        shim_proc_status_parse(b.data, b.len, &s);
        f.no_new_privs = s.no_new_privs;
        f.seccomp_mode = s.seccomp;
        f.seccomp_filters = s.seccomp_filters;
        f.caps_known = s.have_cap_eff && s.have_cap_bnd;
        f.cap_effective = s.cap_eff;
        f.cap_bounding = s.cap_bnd;
    }
    /* gVisor's status file has no NoNewPrivs line (docs/testing.md), though
     * runsc always sets the bit: ask the kernel's own interface instead. */
    int nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
    if (nnp >= 0)
        f.no_new_privs = nnp;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        f.nofile_soft = rl.rlim_cur == RLIM_INFINITY ? ~0ULL : (unsigned long long)rl.rlim_cur;
        f.nofile_hard = rl.rlim_max == RLIM_INFINITY ? ~0ULL : (unsigned long long)rl.rlim_max;
    }
    f.uid = getuid();
    f.euid = geteuid();
    f.gid = getgid();
    f.pid1 = getpid() == 1;
    f.usec = (oss_mono_ns() - start) / 1000;
    *ret = f;
}
