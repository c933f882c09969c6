#!/usr/bin/env bash
# make-demo-rootfs.sh ROOTFS_DIR [IMAGE]: a minimal root filesystem for the
# runsc backend, at the directory the image -> rootfs rule names
# (docs/runsc-backend.md): every byte of IMAGE outside [A-Za-z0-9._-]
# becomes '_', so the default image openshell/demo:local is
# ROOTFS_DIR/openshell_demo_local.
#
# Contents (from a build in $OSS_BUILD_DIR, default ./build):
#   /usr/local/bin/openshell-shim     the static shim
#   /usr/local/bin/openshell-sandbox  the stand-in supervisor (a TEST DOUBLE
#                                     of NVIDIA's openshell-sandbox, with the
#                                     shared libraries it links, copied from
#                                     the host as ldd lists them)
#   /usr/local/bin/oss-counter        a workload that keeps a count in memory
#   /etc/passwd, /etc/group           root and the "sandbox" user and group
#                                     (uid/gid 1000) every upstream supervisor
#                                     requires in a sandbox image
#   /etc/openshell/policy.{rego,yaml} a local policy (the stand-in reads it
#                                     as upstream's local-file mode does)
# plus the empty mount points runsc needs on a read-only root.  Replace the
# stand-in with the real supervisor for a real agent.
# OSS_ROOTFS_EXTRA="/usr/bin/dash:/bin/sh /usr/bin/cat ...": host binaries
# copied in as well (SRC or SRC:DEST), with their libraries (the tests'
# tools; the demo needs none).
set -euo pipefail
dir=${1:?usage: make-demo-rootfs.sh ROOTFS_DIR [IMAGE]}
image=${2:-openshell/demo:local}
src="$(cd "$(dirname "$0")/.." && pwd)"
build="${OSS_BUILD_DIR:-$src/build}"
name=$(printf '%s' "$image" | LC_ALL=C sed 's/[^A-Za-z0-9._-]/_/g')
[[ $name != .* ]] || { echo "image $image maps to a hidden name" >&2; exit 2; }
root="$dir/$name"

shim="$build/shim/openshell-shim-static"
[[ -x $shim ]] || shim="$build/shim/openshell-shim"
standin="$build/tests/standin/openshell-sandbox-standin"
counter="$build/tests/helpers/oss-counter"
for f in "$shim" "$standin" "$counter"; do
    [[ -x $f ]] || { echo "missing $f: build the project first" >&2; exit 1; }
done

tmp="$root.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"/{usr/local/bin,proc,dev,tmp,run,sys,etc/openshell,sandbox}
install -m 0755 "$shim" "$tmp/usr/local/bin/openshell-shim"
install -m 0755 "$standin" "$tmp/usr/local/bin/openshell-sandbox"
install -m 0755 "$counter" "$tmp/usr/local/bin/oss-counter"
extra_bins=()
for e in ${OSS_ROOTFS_EXTRA:-}; do
    src_bin=${e%%:*}
    dst_bin=${e#*:}
    install -D -m 0755 "$src_bin" "$tmp$dst_bin"
    extra_bins+=("$tmp$dst_bin")
done
# shared libraries of the dynamic binaries, at the paths the loader expects
for bin in "$tmp"/usr/local/bin/* "${extra_bins[@]}"; do
    libs=$(ldd "$bin" 2>/dev/null | grep -o '/[^ ]*' || true) # static: none
    for lib in $libs; do
        if [[ ! -e "$tmp$lib" ]]; then
            mkdir -p "$tmp$(dirname "$lib")"
            cp -L "$lib" "$tmp$lib"
        fi
    done
done
printf '%s\n' "root:x:0:0:root:/:/usr/local/bin/openshell-shim" \
    "sandbox:x:1000:1000:sandbox:/sandbox:/usr/local/bin/openshell-shim" >"$tmp/etc/passwd"
printf '%s\n' "root:x:0:" "sandbox:x:1000:" >"$tmp/etc/group"
install -m 0644 "$src/tests/standin/policy/sandbox.rego" "$tmp/etc/openshell/policy.rego"
install -m 0644 "$src/tests/standin/policy/policy.yaml" "$tmp/etc/openshell/policy.yaml"
rm -rf "$root"
mv "$tmp" "$root"
echo "$root"
