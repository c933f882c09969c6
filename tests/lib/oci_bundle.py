#!/usr/bin/python3
"""Writes DIR/config.json: an OCI runtime spec shaped like the container Agent
Substrate runs (docs/platform/substrate.md,
"The container process").  One generator for every test and demo that
boots something under runsc (tests/lib/runsc.sh's oss_bundle_make, the netns
and stand-in runsc checks); its options are documented there.

  oci_bundle.py DIR [options] -- ARGV...
"""
import json, os, sys

ALL_CAPS = """CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP
LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER
SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE
SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP
MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ""".split()

def die(msg):
    sys.stderr.write("oss_bundle_make: %s\n" % msg)
    sys.exit(2)

d, args = sys.argv[1], sys.argv[2:]
caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
rootfs, ro, binds, tmpfs, netns = "/", True, [], [], None
cwd, hostname, nofile, nnp, uid, gid = "/", "runsc", 1024, False, 0, 0
i = 0
while i < len(args):
    a = args[i]
    def val():
        if i + 1 >= len(args):
            die("%s needs a value" % a)
        return args[i + 1]
    if a == "--":
        i += 1
        break
    elif a == "--rootfs": rootfs = os.path.abspath(val()); i += 1
    elif a == "--rootfs-rw": ro = False
    elif a == "--env": env.append(val()); i += 1
    elif a == "--bind": binds.append(val()); i += 1
    elif a == "--tmpfs": tmpfs.append(val()); i += 1
    elif a == "--netns": netns = val(); i += 1
    elif a == "--all-caps": caps = ["CAP_" + c for c in ALL_CAPS]
    elif a == "--caps": caps = [c for c in val().split(",") if c]; i += 1
    elif a == "--no-new-privs": nnp = True
    elif a == "--cwd": cwd = val(); i += 1
    elif a == "--hostname": hostname = val(); i += 1
    elif a == "--nofile": nofile = int(val()); i += 1
    elif a == "--user":
        u, _, g = val().partition(":"); uid, gid = int(u), int(g or u); i += 1
    else:
        die("unknown option %r" % a)
    i += 1
argv = args[i:]
if not argv:
    die("missing -- ARGV")

mounts = [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
     "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev"]},
    {"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev"]},
]
for t in tmpfs:
    mounts.append({"destination": t, "type": "tmpfs", "source": "tmpfs",
                   "options": ["nosuid", "nodev"]})
for b in binds:
    parts = b.split(":")
    if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] not in ("ro", "rw")):
        die("bad --bind %r (want SRC:DST[:ro])" % b)
    src = os.path.abspath(parts[0])
    if not os.path.exists(src):
        die("--bind source %s does not exist" % src)
    opts = ["rbind", "ro" if len(parts) == 3 and parts[2] == "ro" else "rw"]
    mounts.append({"destination": parts[1], "type": "bind", "source": src, "options": opts})

# The build and source trees stay visible at their own paths even when they
# live under /tmp or /run, which the tmpfs mounts above hide (a CI clone may
# be there): tests name binaries by their host paths.
if rootfs == "/":
    bound = {m["destination"] for m in mounts}
    for var in ("OSS_BUILD_DIR", "OSS_SOURCE_DIR"):
        t = os.path.abspath(os.environ.get(var) or "")
        if t != "/" and os.path.isdir(t) and t not in bound and \
                any(t == h or t.startswith(h + "/") for h in ("/tmp", "/run", "/dev")):
            mounts.append({"destination": t, "type": "bind", "source": t,
                           "options": ["rbind", "ro"]})
            bound.add(t)

namespaces = [{"type": t} for t in ("pid", "ipc", "uts", "mount")]
net = {"type": "network"}
if netns:
    net["path"] = netns
namespaces.append(net)

spec = {
    "ociVersion": "1.0.2",
    "process": {
        "terminal": False,
        "user": {"uid": uid, "gid": gid},
        "args": argv,
        "env": env,
        "cwd": cwd,
        "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": nofile, "soft": nofile}],
        "noNewPrivileges": nnp,
    },
    "root": {"path": rootfs, "readonly": ro},
    "hostname": hostname,
    "mounts": mounts,
    "linux": {"namespaces": namespaces},
}
with open(os.path.join(d, "config.json.tmp"), "w") as f:
    json.dump(spec, f, indent=1)
os.rename(os.path.join(d, "config.json.tmp"), os.path.join(d, "config.json"))
