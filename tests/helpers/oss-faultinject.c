/* oss-faultinject: run a command under a seccomp filter that makes chosen
 * syscalls fail with chosen errnos, to emulate on the host kernel, in
 * milliseconds, what gVisor refuses (docs/testing.md;
 * docs/platform/gvisor.md, "Emulating the refusals on the host").
 *
 *   oss-faultinject [--no-nnp] SPEC[,SPEC...] -- cmd args...
 *
 * SPEC is one of
 *   SYSCALL:ERRNO       every call of SYSCALL fails with ERRNO (unshare:EPERM)
 *   clone-ns:ERRNO      clone() and unshare() with any CLONE_NEW* bit fail with
 *                       ERRNO; clone3() fails with ENOSYS so glibc falls back to
 *                       clone(), whose flags a filter can see (clone3 passes
 *                       them in memory, out of seccomp's reach)
 *   seccomp-flags:ERRNO seccomp(SECCOMP_SET_MODE_FILTER) with any flag other
 *                       than TSYNC (LOG, NEW_LISTENER, SPEC_ALLOW, ...) fails
 *   seccomp-tsync:ERRNO seccomp(SECCOMP_SET_MODE_FILTER) with TSYNC fails; flags 0
 *                       pass (a runtime where only a plain filter loads)
 *   gvisor-substrate    what Debian's runsc refuses with Substrate's three
 *                       capabilities (docs/platform/gvisor.md, "Refusals during
 *                       the supervisor's bootstrap", last column, and
 *                       "Namespaces under Substrate's capabilities")
 *   gvisor              what it refuses with all capabilities (column 2)
 *
 * What cannot be emulated here: gVisor's netlink answers (EOPNOTSUPP for veth
 * creation and link changes) come from inside its netstack after socket() and
 * sendmsg() succeeded; a syscall filter sees neither the message nor the
 * reply.  Such tests need real runsc.
 *
 * Exit codes: 125 bad usage or filter setup failed, 126 cmd not executable,
 * 127 cmd not found, otherwise cmd's own (it is exec'd). */
#include "helper.h"

#include <linux/sched.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static void usage(FILE *f)
{
    fprintf(f, "usage: oss-faultinject [--no-nnp] SPEC[,SPEC...] -- cmd [args...]\n"
               "  SPEC: SYSCALL:ERRNO | clone-ns:ERRNO | seccomp-flags:ERRNO |\n"
               "        seccomp-tsync:ERRNO | gvisor-substrate | gvisor\n"
               "  --no-nnp  do not set NO_NEW_PRIVS (needs CAP_SYS_ADMIN)\n");
}

static void freectx(scmp_filter_ctx *ctx)
{
    if (*ctx)
        seccomp_release(*ctx);
}
#define _cleanup_seccomp_ __attribute__((cleanup(freectx)))

static int rule(scmp_filter_ctx ctx, int err, int nr, unsigned n, const struct scmp_arg_cmp *cmp)
{
    int r = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO((unsigned)err), nr, n, cmp);
    if (r < 0) {
        char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
        fprintf(stderr, "oss-faultinject: cannot add rule for %s: %s\n", name ? name : "?",
                strerror(-r));
        free(name);
    }
    return r;
}

static int nr_of(const char *name)
{
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR || nr < 0)
        return -1; /* unknown, or a pseudo number: not a syscall on this arch */
    return nr;
}

/* flags & bit set, and flags & unless clear: one masked comparison. */
static int rule_flag(scmp_filter_ctx ctx, int err, int nr, unsigned argno, uint64_t bit,
                     uint64_t unless)
{
    struct scmp_arg_cmp c = {argno, SCMP_CMP_MASKED_EQ, bit | unless, bit};
    return rule(ctx, err, nr, 1, &c);
}

/* clone(2)'s low byte is the exit signal, so CLONE_NEWTIME (0x80) is only a
 * namespace flag for unshare(2) and clone3(2). */
static const uint64_t ns_flags_clone[] = {CLONE_NEWNS,  CLONE_NEWCGROUP, CLONE_NEWUTS,
                                          CLONE_NEWIPC, CLONE_NEWUSER,   CLONE_NEWPID,
                                          CLONE_NEWNET};

static int add_ns_rules(scmp_filter_ctx ctx, int err, const uint64_t *bits, size_t n,
                        uint64_t unless)
{
    int nr_clone = nr_of("clone"), nr_unshare = nr_of("unshare"), nr_clone3 = nr_of("clone3");
    for (size_t i = 0; i < n; i++) {
        if (rule_flag(ctx, err, nr_clone, 0, bits[i], unless) < 0 ||
            rule_flag(ctx, err, nr_unshare, 0, bits[i], unless) < 0)
            return -1;
    }
    if (unless == 0 && rule_flag(ctx, err, nr_unshare, 0, CLONE_NEWTIME, 0) < 0)
        return -1;
    return nr_clone3 >= 0 ? rule(ctx, ENOSYS, nr_clone3, 0, NULL) : 0;
}

static int add_seccomp_flag_rules(scmp_filter_ctx ctx, int err)
{
    /* gVisor accepts only SECCOMP_FILTER_FLAG_TSYNC; every other flag bit
     * known to the kernel headers is EINVAL there. */
    int nr = nr_of("seccomp");
    for (uint64_t bit = 1u << 1; bit <= 1u << 5; bit <<= 1) {
        struct scmp_arg_cmp c[2] = {
            {0, SCMP_CMP_EQ, SECCOMP_SET_MODE_FILTER, 0},
            {1, SCMP_CMP_MASKED_EQ, bit, bit},
        };
        if (rule(ctx, err, nr, 2, c) < 0)
            return -1;
    }
    return 0;
}

/* A runtime that refuses the supervisor's TSYNC filter but loads a plain
 * one: what makes the shim's `--fallback-seccomp=auto` step in. */
static int add_seccomp_tsync_rule(scmp_filter_ctx ctx, int err)
{
    struct scmp_arg_cmp c[2] = {
        {0, SCMP_CMP_EQ, SECCOMP_SET_MODE_FILTER, 0},
        {1, SCMP_CMP_MASKED_EQ, SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_FILTER_FLAG_TSYNC},
    };
    return rule(ctx, err, nr_of("seccomp"), 2, c);
}

static int add_errno_rule(scmp_filter_ctx ctx, const char *name, int err)
{
    int nr = nr_of(name);
    if (nr < 0) {
        fprintf(stderr, "oss-faultinject: unknown syscall '%s'\n", name);
        return -1;
    }
    return rule(ctx, err, nr, 0, NULL);
}

static int add_landlock(scmp_filter_ctx ctx)
{
    const char *ll[] = {"landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self"};
    for (size_t i = 0; i < OSS_HELPER_ARRAY_SIZE(ll); i++)
        if (add_errno_rule(ctx, ll[i], ENOSYS) < 0)
            return -1;
    return 0;
}

static int add_preset_gvisor_substrate(scmp_filter_ctx ctx)
{
    /* Without CAP_SYS_ADMIN runsc refuses new net/uts/ipc/pid namespaces,
     * unless a new user namespace comes with them (then the caller owns it). */
    static const uint64_t refused[] = {CLONE_NEWNET, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWPID};
    if (add_ns_rules(ctx, EPERM, refused, OSS_HELPER_ARRAY_SIZE(refused), CLONE_NEWUSER) < 0)
        return -1;
    /* No CAP_SETUID/CAP_SETGID.  Stricter than gVisor for no-op identity
     * changes (setuid(0) while uid 0 works there): docs/testing.md. */
    const char *ids[] = {"setuid",    "setgid",    "setreuid", "setregid",
                         "setresuid", "setresgid", "setgroups"};
    for (size_t i = 0; i < OSS_HELPER_ARRAY_SIZE(ids); i++)
        if (add_errno_rule(ctx, ids[i], EPERM) < 0)
            return -1;
    if (add_seccomp_flag_rules(ctx, EINVAL) < 0)
        return -1;
    return add_landlock(ctx);
}

static int add_preset_gvisor(scmp_filter_ctx ctx)
{
    if (add_seccomp_flag_rules(ctx, EINVAL) < 0)
        return -1;
    return add_landlock(ctx);
}

static int add_spec(scmp_filter_ctx ctx, char *spec)
{
    if (strcmp(spec, "gvisor-substrate") == 0)
        return add_preset_gvisor_substrate(ctx);
    if (strcmp(spec, "gvisor") == 0)
        return add_preset_gvisor(ctx);

    char *colon = strrchr(spec, ':');
    if (!colon || colon == spec || colon[1] == '\0') {
        fprintf(stderr, "oss-faultinject: bad spec '%s' (want SYSCALL:ERRNO or a preset)\n", spec);
        return -1;
    }
    int err;
    if (!helper_parse_errno(colon + 1, &err)) {
        fprintf(stderr, "oss-faultinject: unknown errno '%s' in spec '%s'\n", colon + 1, spec);
        return -1;
    }
    *colon = '\0';
    if (strcmp(spec, "clone-ns") == 0)
        return add_ns_rules(ctx, err, ns_flags_clone, OSS_HELPER_ARRAY_SIZE(ns_flags_clone), 0);
    if (strcmp(spec, "seccomp-flags") == 0)
        return add_seccomp_flag_rules(ctx, err);
    if (strcmp(spec, "seccomp-tsync") == 0)
        return add_seccomp_tsync_rule(ctx, err);
    return add_errno_rule(ctx, spec, err);
}

int main(int argc, char **argv)
{
    bool nnp = true;
    int i = 1;
    if (i < argc && (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)) {
        usage(stdout);
        return 0;
    }
    if (i < argc && strcmp(argv[i], "--no-nnp") == 0) {
        nnp = false;
        i++;
    }
    if (argc - i < 3 || strcmp(argv[i + 1], "--") != 0) {
        usage(stderr);
        return HELPER_EXIT_USAGE;
    }
    char **cmd = &argv[i + 2];

    _cleanup_seccomp_ scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) {
        fprintf(stderr, "oss-faultinject: seccomp_init failed\n");
        return HELPER_EXIT_USAGE;
    }
    /* Without NNP the kernel wants CAP_SYS_ADMIN to load a filter.  Only the
     * native ABI is filtered; the others (x32, i386) pass untouched instead
     * of libseccomp's default of killing the process. */
    if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, nnp ? 1 : 0) < 0 ||
        seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW) < 0)
        return HELPER_EXIT_USAGE;

    char *specs = strdup(argv[i]);
    if (!specs)
        return HELPER_EXIT_USAGE;
    char *save = NULL;
    for (char *s = strtok_r(specs, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
        if (add_spec(ctx, s) < 0) {
            free(specs);
            return HELPER_EXIT_USAGE;
        }
    }
    free(specs);

    int r = seccomp_load(ctx);
    if (r < 0) {
        fprintf(stderr, "oss-faultinject: seccomp_load: %s\n", strerror(-r));
        return HELPER_EXIT_USAGE;
    }
    execvp(cmd[0], cmd);
    int e = errno;
    fprintf(stderr, "oss-faultinject: exec %s: %s\n", cmd[0], strerror(e));
    return e == ENOENT ? 127 : 126;
}
