# shellcheck shell=bash
# runsc (gVisor) harness for script tests (docs/testing.md).
#
#   source "$OSS_SOURCE_DIR/tests/lib/common.sh"
#   source "$OSS_SOURCE_DIR/tests/lib/runsc.sh"
#   oss_runsc_require                 # skip 77 unless runsc works here
#   oss_bundle_make "$OSS_TMP/b" --bind "$OSS_TMP/out:/out" -- /bin/sh -c '...'
#   oss_runsc_run c1 "$OSS_TMP/b"      # detached; stdio in $OSS_RUNSC_LOGS/c1.{out,err}
#
# Every runsc call goes through oss_runsc, which uses a per-test state root
# ($OSS_RUNSC_ROOT) and --network=$OSS_RUNSC_NETWORK (default none).  With
# OSS_RUNSC_NETWORK=sandbox it runs runsc in the private mount namespace that
# Debian's runsc needs for netstack on this kernel (see oss_runsc_sandbox_net).
# At exit, oss_runsc_cleanup kills and deletes every container of that root.
#
# Environment:
#   OSS_RUNSC          runsc binary (default: runsc on PATH)
#   OSS_RUNSC_NETWORK  none (default) | sandbox | host
#   OSS_RUNSC_FLAGS    extra global flags (an array is not exportable: a string,
#                      split on spaces)
#   OSS_RUNSC_DEBUG=1  adds --debug --debug-log=$OSS_RUNSC_LOGS/runsc/ (kept
#                      when OSS_KEEP_TMP=1)

# shellcheck source=tests/lib/common.sh
[[ -n "${_OSS_COMMON_SH:-}" ]] || source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
if [[ -n "${_OSS_RUNSC_SH:-}" ]]; then
    return 0
fi
_OSS_RUNSC_SH=1

OSS_RUNSC="${OSS_RUNSC:-$(command -v runsc || true)}"
OSS_RUNSC_NETWORK="${OSS_RUNSC_NETWORK:-none}"
OSS_RUNSC_ROOT="$OSS_TMP/runsc-root"
OSS_RUNSC_LOGS="$OSS_TMP/runsc-logs"
OSS_RUNSC_TIMEOUT="${OSS_RUNSC_TIMEOUT:-60}"
mkdir -p "$OSS_RUNSC_ROOT" "$OSS_RUNSC_LOGS"
chmod 0700 "$OSS_RUNSC_ROOT"

_oss_runsc_global() {
    local -a g=(--root "$OSS_RUNSC_ROOT" --network="$OSS_RUNSC_NETWORK")
    if [[ "${OSS_RUNSC_DEBUG:-0}" == 1 ]]; then
        mkdir -p "$OSS_RUNSC_LOGS/runsc"
        g+=(--debug --debug-log="$OSS_RUNSC_LOGS/runsc/")
    fi
    # shellcheck disable=SC2206
    [[ -z "${OSS_RUNSC_FLAGS:-}" ]] || g+=($OSS_RUNSC_FLAGS)
    printf '%s\n' "${g[@]}"
}

# oss_runsc ARGS...: runsc with the per-test root and network mode.  Bounded by
# OSS_RUNSC_TIMEOUT seconds (default 60) so a hung runsc fails the test.
oss_runsc() {
    local -a g
    mapfile -t g < <(_oss_runsc_global)
    if [[ "$OSS_RUNSC_NETWORK" == sandbox ]]; then
        oss_runsc_sandbox_net "${g[@]}" "$@"
    else
        timeout -k 5 "$OSS_RUNSC_TIMEOUT" "$OSS_RUNSC" "${g[@]}" "$@"
    fi
}

# oss_runsc_require: skips (77) with the reason when runsc is missing, we are
# not root, or a trivial container cannot run here.  Registers the cleanup.
oss_runsc_require() {
    oss_require_root
    [[ -n "$OSS_RUNSC" && -x "$OSS_RUNSC" ]] || oss_skip "runsc not installed (apt-get install runsc)"
    oss_on_exit oss_runsc_cleanup
    local b="$OSS_TMP/.runsc-probe" id out rc=0
    id=$(oss_unique_name probe)
    oss_bundle_make "$b" -- /bin/true
    out=$(OSS_RUNSC_NETWORK=none OSS_RUNSC_TIMEOUT=30 oss_runsc run -bundle "$b" "$id" 2>&1 </dev/null) || rc=$?
    oss_runsc delete -force "$id" >/dev/null 2>&1 || true
    rm -rf "$b"
    ((rc == 0)) || oss_skip "runsc cannot run a trivial container here (rc $rc): $(tail -n 3 <<<"$out" | tr '\n' ' ')"
}

# oss_bundle_make DIR [options] -- ARGV...: writes DIR/config.json, an OCI
# spec shaped like the container Agent Substrate runs (docs/platform/substrate.md,
# "The container process"): uid 0,
# caps AUDIT_WRITE+KILL+NET_BIND_SERVICE (bounding=effective=permitted), no
# ambient, noNewPrivileges false, RLIMIT_NOFILE 1024/1024, cwd /, no terminal,
# hostname runsc, env PATH, own pid/ipc/uts/mount/network namespaces, the
# host's / as a read-only rootfs, tmpfs on /tmp /run /dev, proc on /proc.
# Options:
#   --rootfs DIR          root filesystem (default /), read-only
#   --rootfs-rw           make the root filesystem writable
#   --env K=V             add an environment entry (repeatable)
#   --bind SRC:DST[:ro]   bind mount (repeatable; DST created in the sandbox)
#   --tmpfs DST           extra tmpfs (repeatable)
#   --netns PATH          network namespace path in the spec (networked mode)
#   --all-caps            every capability instead of Substrate's three
#   --caps A,B,...        exactly these capabilities (CAP_ names)
#   --no-new-privs        set noNewPrivileges true
#   --cwd DIR             working directory (default /)
#   --hostname NAME       (default runsc)
#   --nofile N            RLIMIT_NOFILE soft=hard=N (default 1024)
#   --user UID:GID        (default 0:0)
oss_bundle_make() {
    local dir=$1
    shift
    mkdir -p "$dir"
    "$OSS_PYTHON" "$(dirname "${BASH_SOURCE[0]}")/oci_bundle.py" "$dir" "$@"
}

# oss_rootfs_make DIR [SRC[:DEST]]...: a minimal root filesystem for static
# binaries: the mount points the default bundle needs (/proc /dev /tmp /run
# /run/ate), /etc/passwd and /etc/group with root, and each SRC copied to DEST
# (default /bin/<name of SRC>).  The helpers are static, so they run there.
oss_rootfs_make() {
    local dir=$1 spec src dest
    shift
    mkdir -p "$dir"/{bin,etc,proc,dev,tmp,run/ate,sys}
    echo 'root:x:0:0:root:/:/bin/sh' >"$dir/etc/passwd"
    echo 'root:x:0:' >"$dir/etc/group"
    for spec in "$@"; do
        src=${spec%%:*}
        dest=${spec#*:}
        [[ "$spec" == *:* ]] || dest="/bin/$(basename "$src")"
        mkdir -p "$dir$(dirname "$dest")"
        cp "$src" "$dir$dest"
    done
}

# oss_runsc_run ID BUNDLE: `runsc run -detach`; the container's stdout and
# stderr (and runsc's own messages) go to $OSS_RUNSC_LOGS/ID.out and ID.err,
# never to the test's pipes (a detached sandbox would hold them open).
oss_runsc_run() {
    local id=$1 bundle=$2
    oss_runsc run -detach -bundle "$bundle" "$id" \
        >>"$OSS_RUNSC_LOGS/$id.out" 2>>"$OSS_RUNSC_LOGS/$id.err" </dev/null ||
        oss_fail "runsc run $id failed: $(tail -n 5 "$OSS_RUNSC_LOGS/$id.err" | tr '\n' ' ')"
}

# oss_runsc_run_fg ID BUNDLE [TIMEOUT_S]: runs to completion in the
# foreground; stdout to $OSS_RUNSC_LOGS/ID.out, stderr to ID.err; returns the
# container's exit status (runsc passes it through) and deletes the container.
oss_runsc_run_fg() {
    local id=$1 bundle=$2 rc=0
    OSS_RUNSC_TIMEOUT="${3:-$OSS_RUNSC_TIMEOUT}" oss_runsc run -bundle "$bundle" "$id" \
        >>"$OSS_RUNSC_LOGS/$id.out" 2>>"$OSS_RUNSC_LOGS/$id.err" </dev/null || rc=$?
    oss_runsc delete -force "$id" >/dev/null 2>&1 || true
    return "$rc"
}

# oss_runsc_out ID / oss_runsc_err ID: paths of the container's stdio files.
oss_runsc_out() { printf '%s\n' "$OSS_RUNSC_LOGS/$1.out"; }
oss_runsc_err() { printf '%s\n' "$OSS_RUNSC_LOGS/$1.err"; }

# oss_runsc_checkpoint ID IMAGE_DIR [--leave-running]: checkpoints into
# IMAGE_DIR (created).  Without --leave-running the container is gone after
# it (runsc stops it; this also deletes it so the id can be restored).
oss_runsc_checkpoint() {
    local id=$1 img=$2
    shift 2
    local -a extra=()
    [[ "${1:-}" == --leave-running ]] && extra=(-leave-running)
    mkdir -p "$img"
    oss_runsc checkpoint "${extra[@]}" -image-path "$img" "$id" \
        >>"$OSS_RUNSC_LOGS/$id.ckpt" 2>&1 </dev/null ||
        oss_fail "runsc checkpoint $id failed: $(tail -n 5 "$OSS_RUNSC_LOGS/$id.ckpt" | tr '\n' ' ')"
    if ((${#extra[@]} == 0)); then
        oss_runsc delete -force "$id" >/dev/null 2>&1 || true
    fi
}

# oss_runsc_restore ID BUNDLE IMAGE_DIR: `runsc restore -detach`, stdio
# appended to $OSS_RUNSC_LOGS/ID.out/.err like oss_runsc_run.  BUNDLE may
# differ from the original (e.g. another network namespace path).
oss_runsc_restore() {
    local id=$1 bundle=$2 img=$3
    oss_runsc restore -detach -image-path "$img" -bundle "$bundle" "$id" \
        >>"$OSS_RUNSC_LOGS/$id.out" 2>>"$OSS_RUNSC_LOGS/$id.err" </dev/null ||
        oss_fail "runsc restore $id failed: $(tail -n 5 "$OSS_RUNSC_LOGS/$id.err" | tr '\n' ' ')"
}

# oss_runsc_run_bg ID BUNDLE [MAX_S]: `runsc run` (not detached) in the
# background, so its exit status is the container's; returns once the
# container runs (or has already ended).  MAX_S (default 300) bounds the
# container's life.  Use it when the test needs the init's exit status:
# `runsc wait` on a detached container races with a quick exit (runsc forgets
# the status of a sandbox that ended before the wait connected).
oss_runsc_run_bg() {
    local id=$1 bundle=$2 max=${3:-300} x="$OSS_RUNSC_LOGS/$1.exit"
    rm -f "$x"
    (
        rc=0
        OSS_RUNSC_TIMEOUT=$max oss_runsc run -bundle "$bundle" "$id" \
            >>"$OSS_RUNSC_LOGS/$id.out" 2>>"$OSS_RUNSC_LOGS/$id.err" </dev/null || rc=$?
        echo "$rc" >"$x.tmp" && mv "$x.tmp" "$x"
    ) &
    oss_wait_for "[[ -e '$x' || \$(oss_runsc_status '$id') == running ]]" 30 0.05 ||
        oss_fail "runsc run $id did not start: $(tail -n 5 "$OSS_RUNSC_LOGS/$id.err" | tr '\n' ' ')"
}

# oss_runsc_exit_status ID TIMEOUT_S: after oss_runsc_run_bg, waits for the
# container's init to end and prints its exit status (shell style: the code,
# or 128+N for death by signal N, as runsc returns it).  Returns 1 on timeout.
oss_runsc_exit_status() {
    local x="$OSS_RUNSC_LOGS/$1.exit"
    if ! oss_wait_for "[[ -s '$x' ]]" "$2" 0.05; then
        oss_log "runsc run $1: no exit status within $2 s"
        return 1
    fi
    cat "$x"
}

# oss_runsc_exec ID ARGV...: runs a process in the container (stdio = ours).
oss_runsc_exec() {
    local id=$1
    shift
    oss_runsc exec "$id" "$@"
}

# oss_runsc_ps ID [HELPERS_DIR_IN_SANDBOX]: the container's processes as
# oss-ps lines (`pid= ppid= pgid= state= comm=`), seen from inside (gVisor's
# processes are not host processes).  The helpers must be bound into the
# sandbox (default /helpers: `--bind "$OSS_HELPERS_DIR:/helpers:ro"`).
oss_runsc_ps() {
    oss_runsc exec "$1" "${2:-/helpers}/oss-ps" </dev/null
}

# oss_runsc_zombies ID [HELPERS_DIR_IN_SANDBOX]: number of zombies inside.
oss_runsc_zombies() {
    oss_runsc exec "$1" "${2:-/helpers}/oss-ps" --zombies </dev/null
}

# oss_runsc_state ID: the `runsc state` JSON.
oss_runsc_state() {
    oss_runsc state "$1" 2>/dev/null
}

# oss_runsc_status ID: created|running|stopped|paused, or "absent".
oss_runsc_status() {
    local s
    s=$(oss_runsc_state "$1") || { echo absent; return 0; }
    "$OSS_PYTHON" -c 'import json,sys; print(json.load(sys.stdin).get("status","absent"))' <<<"$s"
}

# oss_runsc_pid ID: the host pid of the container's init (the sandbox-side
# gofer/sentry process runsc reports), empty when absent.
oss_runsc_pid() {
    local s
    s=$(oss_runsc_state "$1") || return 0
    "$OSS_PYTHON" -c 'import json,sys; print(json.load(sys.stdin).get("pid",""))' <<<"$s"
}

# oss_runsc_wait_status ID STATUS TIMEOUT_S: waits until the status is STATUS.
oss_runsc_wait_status() {
    oss_wait_for "[[ \$(oss_runsc_status '$1') == '$2' ]]" "$3" 0.1
}

# oss_runsc_kill ID [SIGNAL] [--all]: `runsc kill` (default SIGTERM).
oss_runsc_kill() {
    local id=$1 sig=${2:-TERM}
    local -a extra=()
    [[ "${3:-}" == --all ]] && extra=(-all)
    oss_runsc kill "${extra[@]}" "$id" "$sig"
}

# oss_runsc_delete ID: `runsc delete -force`.
oss_runsc_delete() {
    oss_runsc delete -force "$1" >/dev/null 2>&1 || true
}

# oss_runsc_cleanup: kills and deletes every container under $OSS_RUNSC_ROOT,
# then any runsc process still naming that root (a hung run or restore), by
# pid.  Registered by oss_runsc_require; safe to call more than once.
oss_runsc_cleanup() {
    local id pid
    [[ -d "$OSS_RUNSC_ROOT" ]] || return 0
    for id in $(OSS_RUNSC_TIMEOUT=20 oss_runsc list -quiet 2>/dev/null); do
        OSS_RUNSC_TIMEOUT=20 oss_runsc kill "$id" KILL >/dev/null 2>&1 || true
        OSS_RUNSC_TIMEOUT=20 oss_runsc delete -force "$id" >/dev/null 2>&1 || true
    done
    for pid in $(_oss_pids_naming "$OSS_RUNSC_ROOT"); do
        kill -KILL "$pid" 2>/dev/null || true
    done
}

# oss_runsc_driver_tag STATE_DIR: the 5-hex tag the driver's runsc backend
# puts in the names of its namespaces and links (drv_runsc_state_tag: FNV-1a
# of the state dir's path, low 20 bits).
oss_runsc_driver_tag() {
    "$OSS_PYTHON" -c 'import sys
h = 2166136261
for b in sys.argv[1].encode():
    h = ((h ^ b) * 16777619) & 0xffffffff
print("%05x" % (h & 0xfffff))' "$1"
}

# oss_runsc_driver_cleanup STATE_DIR: removes what a runsc-backend driver
# started with --state-dir STATE_DIR left behind after a failure (sandboxes
# outlive the driver by design): any process naming the state dir (the
# driver, its runsc monitors, hung runsc calls), every container under its
# runsc root, and its network namespaces and host links, which carry the
# state dir's tag (runsc's netstack owns the sandbox's addresses, so only
# the names tell whose they are).  Safe to call more than once.
oss_runsc_driver_cleanup() {
    local state=$1 root="$1/runsc/root" runsc_bin id n p tag
    runsc_bin=$(command -v runsc) || return 0
    for p in $(_oss_pids_naming "$state"); do kill -KILL "$p" 2>/dev/null || true; done
    if [[ -d $root ]]; then
        for id in $("$runsc_bin" --root="$root" list -quiet 2>/dev/null); do
            "$runsc_bin" --root="$root" kill "$id" KILL >/dev/null 2>&1 || true
            "$runsc_bin" --root="$root" delete -force "$id" >/dev/null 2>&1 || true
        done
    fi
    tag=$(oss_runsc_driver_tag "$state")
    for n in /run/netns/ossr-"$tag"-*; do
        [[ -e $n ]] && ip netns del "${n#/run/netns/}" 2>/dev/null
    done
    for n in /sys/class/net/orh"$tag"*; do
        [[ -e $n ]] && ip link del "${n##*/}" 2>/dev/null
    done
    return 0
}

# Pids whose command line contains STRING (a per-test unique path): only
# processes this test started can match it.
_oss_pids_naming() {
    local p
    for p in /proc/[0-9]*; do
        [[ "${p#/proc/}" == "$$" ]] && continue
        if tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "$1"; then
            printf '%s\n' "${p#/proc/}"
        fi
    done
}

# ---------------------------------------------------------------------------
# Networked mode (docs/platform/gvisor.md,
# "Networking under Debian's runsc").  Debian's runsc 20221219 refuses
# --network=sandbox ("cannot run with network enabled in root network
# namespace") in every namespace on kernels that show
# /proc/sys/net/core/rmem_default in all of them.  It runs when runsc sees a
# /proc/sys without that file: a private mount namespace with a copy of the
# readable /proc/sys minus that one file bound over /proc/sys.
# ---------------------------------------------------------------------------

OSS_PROCSYS_COPY="$OSS_TMP/procsys"

# oss_procsys_copy: builds $OSS_PROCSYS_COPY once (about 1-2 s).
oss_procsys_copy() {
    [[ -f "$OSS_PROCSYS_COPY/.complete" ]] && return 0
    rm -rf "$OSS_PROCSYS_COPY"
    "$OSS_PYTHON" - "$OSS_PROCSYS_COPY" <<'PY'
import os, sys
dst = sys.argv[1]
for root, dirs, files in os.walk("/proc/sys"):
    rel = os.path.relpath(root, "/proc/sys")
    os.makedirs(os.path.join(dst, rel), exist_ok=True)
    for f in files:
        if rel == "net/core" and f == "rmem_default":
            continue  # the file whose presence means "root netns" to this runsc
        try:
            with open(os.path.join(root, f), "rb") as src:
                data = src.read()
        except OSError:
            continue  # write-only or refused: runsc does not need it
        with open(os.path.join(dst, rel, f), "wb") as out:
            out.write(data)
open(os.path.join(dst, ".complete"), "w").close()
PY
}

# oss_runsc_sandbox_net ARGS...: runs `runsc ARGS...` in a private mount
# namespace whose /proc/sys is the copy.  oss_runsc does this by itself when
# OSS_RUNSC_NETWORK=sandbox; ARGS then already carry --network=sandbox.
oss_runsc_sandbox_net() {
    oss_procsys_copy
    # shellcheck disable=SC2016 # expanded by the inner sh
    timeout -k 5 "$OSS_RUNSC_TIMEOUT" unshare -m --propagation private -- /bin/sh -c \
        'mount --bind "$0" /proc/sys && exec "$@"' "$OSS_PROCSYS_COPY" "$OSS_RUNSC" "$@"
}

# oss_testnet_make NAME ADDR/CIDR GW: a network namespace /run/netns/NAME with
# a veth pair: eth0 inside (ADDR/CIDR, up), lo up, a default route via GW
# (runsc refuses a gateway-less default route); the host end (GW/CIDR, up)
# is named by oss_testnet_host_if NAME.  Deleted at exit.  Use
# `nsenter --net=/run/netns/NAME`, not `ip netns exec` (it remounts /sys and
# breaks runsc's cgroup setup).
oss_testnet_make() {
    local name=$1 addr=$2 gw=$3 cidr hif
    cidr=${addr#*/}
    hif=$(oss_testnet_host_if "$name")
    ip netns add "$name" || oss_fail "ip netns add $name"
    # Containers first (a sandbox may still use the namespace), then the links.
    oss_on_exit "oss_runsc_cleanup; ip link del '$hif'; ip netns del '$name'"
    ip link add "$hif" type veth peer name eth0 netns "$name" ||
        oss_fail "veth $hif <-> $name/eth0"
    ip addr add "$gw/$cidr" dev "$hif"
    ip link set "$hif" up
    nsenter --net="/run/netns/$name" ip link set lo up
    nsenter --net="/run/netns/$name" ip addr add "$addr" dev eth0
    nsenter --net="/run/netns/$name" ip link set eth0 up
    nsenter --net="/run/netns/$name" ip route add default via "$gw"
}

# oss_testnet_readdress NAME ADDR/CIDR GW: puts eth0's address and the
# default route back.  runsc --network=sandbox moves them into its netstack
# and removes them from the namespace (measured), so a namespace a sandbox
# has used needs this before another sandbox can use it.
oss_testnet_readdress() {
    local name=$1 addr=$2 gw=$3
    nsenter --net="/run/netns/$name" ip addr flush dev eth0
    nsenter --net="/run/netns/$name" ip addr add "$addr" dev eth0
    nsenter --net="/run/netns/$name" ip link set eth0 up
    nsenter --net="/run/netns/$name" ip route replace default via "$gw"
}

# oss_testnet_host_if NAME: the host-side veth name (<= 15 chars).
oss_testnet_host_if() {
    printf 'vo%s\n' "$(printf '%s' "$1" | md5sum | cut -c1-12)"
}

# oss_testnet_path NAME: /run/netns/NAME (for --netns in oss_bundle_make).
oss_testnet_path() {
    printf '/run/netns/%s\n' "$1"
}

# oss_testnet_exec NAME CMD...: CMD inside the namespace (nsenter --net).
oss_testnet_exec() {
    local name=$1
    shift
    nsenter --net="/run/netns/$name" "$@"
}

# oss_tcp_line HOST PORT [TIMEOUT_S] [eof]: connects, reads one line, closes
# first (client-side close: see oss-counter), prints the line.  With `eof` it
# reads until the server closes, so the server is the first to close.
oss_tcp_line() {
    "$OSS_PYTHON" - "$1" "$2" "${3:-2}" "${4:-}" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3]))
f = s.makefile("rb")
line = f.readline().decode().strip()
if sys.argv[4] == "eof":
    f.read()
s.close()
if not line:
    sys.exit(1)
print(line)
PY
}
