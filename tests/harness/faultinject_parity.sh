#!/usr/bin/env bash
# oss-faultinject's presets against the real thing: the same probe runs
# (1) under runsc with Substrate's three capabilities and, on the host kernel,
# under `oss-faultinject gvisor-substrate`, and (2) under runsc with all
# capabilities and on the host under `oss-faultinject gvisor`.  Each emulated
# answer must equal runsc's.  Control: the probe on the host without injection
# differs from runsc, so the comparison can fail.
# Known, documented difference, not compared: no-op identity changes
# (setresuid(0,0,0)) pass in runsc and are refused by the preset.
source "$OSS_SOURCE_DIR/tests/lib/common.sh"
source "$OSS_SOURCE_DIR/tests/lib/runsc.sh"
oss_runsc_require
fi_bin=$(oss_helper oss-faultinject)

# Each probe in a forked child, so namespace and identity changes do not leak
# into the next one.  Prints `name=OK|E...` lines.
probe='
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def one(name, fn):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        res = fn()
        os.write(w, ("OK" if res >= 0 else errno.errorcode.get(ctypes.get_errno(), "E?")).encode())
        os._exit(0)
    os.close(w)
    out = os.read(r, 64).decode()
    os.waitpid(pid, 0)
    print("%s=%s" % (name, out))
NS = {"net": 0x40000000, "uts": 0x04000000, "ipc": 0x08000000, "pid": 0x20000000, "user": 0x10000000}
for n, f in NS.items():
    one("unshare_" + n, lambda f=f: libc.unshare(f))
one("unshare_user_net", lambda: libc.unshare(NS["user"] | NS["net"]))
def clone_net():
    r = libc.syscall(56, NS["net"] | 17, 0, 0, 0, 0)
    if r == 0:
        os._exit(0)
    if r > 0:
        os.waitpid(r, 0)
    return r
one("clone_net", clone_net)
for bit in (0, 1, 2, 4, 8, 16, 32):
    one("seccomp_flag_%d" % bit, lambda bit=bit: libc.syscall(317, 1, bit, None))
one("landlock", lambda: libc.syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint32(1)))
one("setresuid_65534", lambda: libc.syscall(117, 65534, 65534, 65534))
one("setresgid_65534", lambda: libc.syscall(119, 65534, 65534, 65534))
'

run_in_runsc() { # run_in_runsc NAME [bundle options]
    local name=$1 id
    shift
    oss_bundle_make "$OSS_TMP/b-$name" "$@" -- "$OSS_PYTHON" -c "$probe"
    id=$(oss_unique_name "$name")
    oss_runsc_run_fg "$id" "$OSS_TMP/b-$name" || oss_fail "probe in runsc ($name): $(cat "$(oss_runsc_err "$id")")"
    sort "$(oss_runsc_out "$id")" >"$OSS_TMP/$name"
}

run_in_runsc runsc3
run_in_runsc runscall --all-caps
"$fi_bin" gvisor-substrate -- "$OSS_PYTHON" -c "$probe" | sort >"$OSS_TMP/emu3"
"$fi_bin" gvisor -- "$OSS_PYTHON" -c "$probe" | sort >"$OSS_TMP/emuall"
"$OSS_PYTHON" -c "$probe" | sort >"$OSS_TMP/host"
paste -d' ' "$OSS_TMP/runsc3" "$OSS_TMP/emu3" "$OSS_TMP/runscall" "$OSS_TMP/emuall" "$OSS_TMP/host" |
    awk 'BEGIN { printf "%-20s %-8s %-8s %-8s %-8s %-8s\n", "probe", "runsc3", "gv-sub", "runscall", "gvisor", "host" }
         { split($1, a, "="); n = a[1]; printf "%-20s", n
           for (i = 1; i <= NF; i++) { split($i, b, "="); printf " %-8s", b[2] } print "" }'

[[ $(wc -l <"$OSS_TMP/runsc3") -ge 15 ]] || oss_fail "probe output incomplete: $(cat "$OSS_TMP/runsc3")"
diff -u "$OSS_TMP/runsc3" "$OSS_TMP/emu3" || oss_fail "gvisor-substrate differs from runsc with Substrate's capabilities"
diff -u "$OSS_TMP/runscall" "$OSS_TMP/emuall" || oss_fail "gvisor differs from runsc with all capabilities"
if cmp -s "$OSS_TMP/runsc3" "$OSS_TMP/host"; then
    oss_fail "control: the host without injection answers like runsc; the comparison proves nothing"
fi
echo PASS
