#!/usr/bin/env bash
# (d) oss-faultinject on the host kernel: unshare(CLONE_NEWNET) fails with
# EPERM under `unshare:EPERM`, `clone-ns:EPERM` and `gvisor-substrate`, and
# succeeds without injection (the control).  `gvisor-substrate` also makes
# landlock_create_ruleset ENOSYS (control: the host answers an ABI version),
# seccomp(SET_MODE_FILTER, LOG) EINVAL (control: the host checks flags, then
# faults on the NULL program: EFAULT), and a new user namespace still works
# with it (as in runsc).  Unknown names exit 125.
source "$OSS_SOURCE_DIR/tests/lib/common.sh"
oss_require_root
fi_bin=$(oss_helper oss-faultinject)

# probe WHAT: prints OK or the errno name of one raw syscall, via ctypes so
# that no libc wrapper or fallback hides the answer.
probe() {
    "$OSS_PYTHON" - "$1" <<'PY'
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
what = sys.argv[1]
if what == "unshare-net":
    r = libc.unshare(0x40000000)
elif what == "unshare-user-net":
    r = libc.unshare(0x10000000 | 0x40000000)
elif what == "clone-newnet":
    # Raw clone(CLONE_NEWNET|SIGCHLD): fork-like, the child leaves at once.
    r = libc.syscall(56, 0x40000000 | 17, 0, 0, 0, 0)
    if r == 0:
        os._exit(0)
    if r > 0:
        os.waitpid(r, 0)
elif what == "landlock":
    r = libc.syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint32(1))  # VERSION
elif what == "seccomp-log":
    r = libc.syscall(317, 1, 2, None)  # SET_MODE_FILTER, FLAG_LOG, NULL
elif what == "seccomp-tsync":
    r = libc.syscall(317, 1, 1, None)  # SET_MODE_FILTER, FLAG_TSYNC, NULL
print("OK" if r >= 0 else errno.errorcode[ctypes.get_errno()])
PY
}

under() { # under SPEC WHAT: the probe, run under oss-faultinject SPEC
    "$fi_bin" "$1" -- bash -c "OSS_PYTHON='$OSS_PYTHON'; $(declare -f probe); probe '$2'"
}

# Controls first: without injection the host allows all of it.
oss_assert_eq OK "$(probe unshare-net)" "control: unshare(CLONE_NEWNET) without injection"
ll=$(probe landlock)
if [[ "$ll" != OK ]]; then
    # ENOSYS under injection is then no proof; say so instead of skipping all.
    oss_log "host kernel answers landlock_create_ruleset with $ll: Landlock control not shown"
fi
oss_assert_eq EFAULT "$(probe seccomp-log)" "control: seccomp(FILTER, LOG, NULL) on the host"

for spec in unshare:EPERM clone-ns:EPERM gvisor-substrate; do
    oss_assert_eq EPERM "$(under "$spec" unshare-net)" "$spec: unshare(CLONE_NEWNET)"
done
oss_assert_eq ENOSYS "$(under unshare:ENOSYS unshare-net)" "unshare:ENOSYS"
oss_assert_eq OK "$(probe clone-newnet)" "control: clone(CLONE_NEWNET) without injection"
oss_assert_eq OK "$(under unshare:EPERM clone-newnet)" "unshare:EPERM leaves clone() alone"
oss_assert_eq EPERM "$(under clone-ns:EPERM clone-newnet)" "clone-ns:EPERM: clone(CLONE_NEWNET)"
oss_assert_eq EPERM "$(under gvisor-substrate clone-newnet)" "gvisor-substrate: clone(CLONE_NEWNET)"
oss_assert_eq OK "$(under gvisor-substrate unshare-user-net)" "gvisor-substrate: unshare(NEWUSER|NEWNET)"
oss_assert_eq ENOSYS "$(under gvisor-substrate landlock)" "gvisor-substrate: landlock_create_ruleset"
oss_assert_eq ENOSYS "$(under landlock_create_ruleset:ENOSYS landlock)" "landlock_create_ruleset:ENOSYS"
oss_assert_eq EINVAL "$(under gvisor-substrate seccomp-log)" "gvisor-substrate: seccomp LOG flag"
oss_assert_eq EFAULT "$(under gvisor-substrate seccomp-tsync)" "gvisor-substrate: seccomp TSYNC passes"
oss_assert_eq EINVAL "$(under gvisor seccomp-log)" "gvisor: seccomp LOG flag"
oss_assert_eq OK "$(under gvisor unshare-net)" "gvisor (all caps): unshare(CLONE_NEWNET) allowed"

# clone3 is ENOSYS under clone-ns, so glibc's fork/posix_spawn must fall
# back to clone() and still work when no namespace flag is asked for.
rc=0
"$fi_bin" clone-ns:EPERM -- /bin/sh -c 'true & wait $!' || rc=$?
oss_assert_eq 0 "$rc" "plain fork still works under clone-ns"
rc=0
"$fi_bin" gvisor-substrate -- setpriv --reuid 65534 true 2>/dev/null || rc=$?
oss_assert_ne 0 "$rc" "gvisor-substrate: setresuid(65534) refused"
rc=0
setpriv --reuid 65534 true || rc=$?
oss_assert_eq 0 "$rc" "control: setresuid(65534) as root on the host"

# NO_NEW_PRIVS is set (the kernel's rule for unprivileged filters), unless --no-nnp.
sd=$(oss_helper oss-sigdump)
oss_assert_eq 1 "$("$fi_bin" gvisor -- "$sd" | sed -n 's/^NoNewPrivs=//p')" "NoNewPrivs under injection"
oss_assert_eq 0 "$("$fi_bin" --no-nnp gvisor -- "$sd" | sed -n 's/^NoNewPrivs=//p')" "NoNewPrivs with --no-nnp"
oss_assert_eq 2 "$("$fi_bin" gvisor -- "$sd" | sed -n 's/^Seccomp=//p')" "Seccomp mode"

# Bad input: exit 125 and a message naming the problem.
for bad in nosuch_syscall:EPERM unshare:ENOTANERRNO bogus-preset "unshare:"; do
    rc=0
    msg=$("$fi_bin" "$bad" -- true 2>&1) || rc=$?
    oss_assert_eq 125 "$rc" "exit code for spec '$bad'"
    [[ -n "$msg" ]] || oss_fail "no message for bad spec '$bad'"
done
rc=0
"$fi_bin" unshare:EPERM -- /nonexistent/cmd 2>/dev/null || rc=$?
oss_assert_eq 127 "$rc" "exit code for a missing command"
echo PASS
