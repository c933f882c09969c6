# Sourced by the runsc tests: writes an OCI config.json whose rootfs is the
# host's / read-only (so build-tree binaries run unchanged), with tmpfs on
# /tmp /run /dev, proc on /proc, and its own pid/mount/ipc/uts namespaces.
#
# oci_bundle_config FILE "CAP_A CAP_B ..." ARGV...
# Extra env for the process: OCI_ENV="A=b C=d" (no spaces inside values).

# Every capability this runsc (20221219) knows; newer ones make it refuse the spec.
OCI_ALL_CAPS="CAP_CHOWN CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_FOWNER CAP_FSETID CAP_KILL
CAP_SETGID CAP_SETUID CAP_SETPCAP CAP_LINUX_IMMUTABLE CAP_NET_BIND_SERVICE CAP_NET_BROADCAST
CAP_NET_ADMIN CAP_NET_RAW CAP_IPC_LOCK CAP_IPC_OWNER CAP_SYS_MODULE CAP_SYS_RAWIO CAP_SYS_CHROOT
CAP_SYS_PTRACE CAP_SYS_PACCT CAP_SYS_ADMIN CAP_SYS_BOOT CAP_SYS_NICE CAP_SYS_RESOURCE CAP_SYS_TIME
CAP_SYS_TTY_CONFIG CAP_MKNOD CAP_LEASE CAP_AUDIT_WRITE CAP_AUDIT_CONTROL CAP_SETFCAP
CAP_MAC_OVERRIDE CAP_MAC_ADMIN CAP_SYSLOG CAP_WAKE_ALARM CAP_BLOCK_SUSPEND CAP_AUDIT_READ"

oci_bundle_config() {
    local file=$1 caps=$2; shift 2
    /usr/bin/python3 - "$file" "$caps" "${OCI_ENV:-}" "${OSS_BUILD_DIR:-}:${OSS_SOURCE_DIR:-}" "$@" <<'PY'
import json, os, sys
path, caps, env, trees, argv = (sys.argv[1], sys.argv[2].split(), sys.argv[3].split(),
                                sys.argv[4].split(":"), sys.argv[5:])
spec = {
    "ociVersion": "1.0.2",
    "process": {
        "user": {"uid": 0, "gid": 0},
        "args": argv,
        "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"] + env,
        "cwd": "/",
        "capabilities": {k: caps for k in ("bounding", "effective", "permitted")},
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
    },
    "root": {"path": "/", "readonly": True},
    "hostname": "runsc",
    "mounts": [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"},
        {"destination": "/run", "type": "tmpfs", "source": "tmpfs"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs"},
    ],
    "linux": {"namespaces": [{"type": t} for t in ("pid", "mount", "ipc", "uts")]},
}
# The build and source trees stay visible even when they live under /tmp or
# /run, which the tmpfs mounts above would hide (a CI clone may be there).
for t in trees:
    if t and os.path.isdir(t):
        spec["mounts"].append({"destination": t, "type": "bind", "source": t,
                               "options": ["rbind", "ro"]})
with open(path, "w") as f:
    json.dump(spec, f, indent=1)
PY
}
