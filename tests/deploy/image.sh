#!/usr/bin/env bash
# Dockerfile.driver, built OFFLINE with Debian's podman and started.
# No registry is reachable, so (as tests/shim/restore/dockerfile.sh does):
#  - the runtime base is made here: the driver's shared libraries (its ldd
#    closure on this machine, Debian 12's) and nothing else, no shell,
#    imported as localhost/oss-driver-runtime (RUNTIME_DEPS=preinstalled);
#  - the driver binary of this build tree is the build context's prebuilt
#    one (DRIVER_SOURCE=prebuilt); BUILDER_IMAGE is local too.
# Then the image runs (podman run, no network) with the socket directory
# bind-mounted, and a client calls GetCapabilities over the socket.
# Checked: the image's user is 1000:1000 and the process runs as uid 1000;
# the socket is 0600 in a 0700 directory owned by 1000; GetCapabilities
# answers with the driver's name; the image holds no shell.
# Not covered offline: the apt-get stages (source build, runtime-apt).
# Control: the same rootfs without libgrpc cannot start the driver.
source "$OSS_SOURCE_DIR/tests/lib/common.sh"
oss_require_root
oss_require_cmd podman tar ldd
drv=$OSS_BUILD_DIR/driver/openshell-driver-substrate
[[ -x $drv ]] || oss_fail "$drv not built"
"$OSS_PYTHON" -c 'import grpc' 2>/dev/null || oss_skip "python3-grpcio missing"
if ldd "$drv" | grep -q asan; then oss_skip "a sanitizer build"; fi

P=(podman --root "$OSS_TMP/storage" --runroot "$OSS_TMP/runroot" --storage-driver vfs
    --cgroup-manager cgroupfs --events-backend file)
if ! "${P[@]}" info >"$OSS_TMP/info.out" 2>&1; then
    oss_skip "podman cannot run here with a private vfs store: $(tail -n 3 "$OSS_TMP/info.out" | tr '\n' ' ')"
fi
oss_on_exit "'${P[0]}' ${P[*]:1} system reset -f"

# --- the runtime base: the ldd closure ----------------------------------
base=$OSS_TMP/base
mkdir -p "$base"/{etc,tmp,run}
chmod 1777 "$base/tmp"
for lib in $(ldd "$drv" | awk '/=>/ {print $3} /ld-linux/ {print $1}'); do
    real=$(readlink -f "$lib")
    mkdir -p "$base$(dirname "$lib")"
    cp "$real" "$base$lib"
done
printf 'root:x:0:0:root:/:/nonexistent\nopenshell:x:1000:1000::/:/nonexistent\n' >"$base/etc/passwd"
printf 'root:x:0:\nopenshell:x:1000:\n' >"$base/etc/group"
tar -C "$base" -cf "$OSS_TMP/base.tar" .
"${P[@]}" import "$OSS_TMP/base.tar" localhost/oss-driver-runtime:test >/dev/null 2>"$OSS_TMP/import.err" ||
    oss_skip "podman import failed here: $(tail -n 2 "$OSS_TMP/import.err" | tr '\n' ' ')"
"${P[@]}" tag localhost/oss-driver-runtime:test localhost/oss-driver-builder:test

# --- build ------------------------------------------------------------------
ctx=$OSS_TMP/ctx
mkdir -p "$ctx/prebuilt"
cp "$OSS_SOURCE_DIR/Dockerfile.driver" "$ctx/"
cp "$drv" "$ctx/prebuilt/openshell-driver-substrate"
t0=$(oss_now_ms)
rc=0
"${P[@]}" build --pull=never --network=none -f "$ctx/Dockerfile.driver" \
    --build-arg BUILDER_IMAGE=localhost/oss-driver-builder:test \
    --build-arg RUNTIME_BASE=localhost/oss-driver-runtime:test \
    --build-arg DRIVER_SOURCE=prebuilt --build-arg RUNTIME_DEPS=preinstalled \
    -t localhost/oss-driver:test "$ctx" >"$OSS_TMP/build.out" 2>&1 || rc=$?
((rc == 0)) || oss_fail "podman build failed: $(tail -n 15 "$OSS_TMP/build.out")"
oss_log "podman build (offline, prebuilt driver) took $(($(oss_now_ms) - t0)) ms"
grep -qi 'apt-get' "$OSS_TMP/build.out" && oss_fail "an apt-get stage ran: $(grep -i apt-get "$OSS_TMP/build.out" | head -n 2)"
oss_assert_eq "1000:1000" "$("${P[@]}" image inspect --format '{{.Config.User}}' localhost/oss-driver:test)" "image USER"

# --- run it; GetCapabilities over the socket ------------------------------
# podman run first; where this machine's container sandbox refuses crun's
# setrlimit calls, the image's exported root filesystem is started with
# chroot as the image's user instead (same files, same uid, no podman).
sock=$OSS_TMP/sock
mkdir -p "$sock"
chown 1000:1000 "$sock"
name=oss-drv-$$-$RANDOM
oss_on_exit "'${P[0]}' ${P[*]:1} rm -f -t 0 $name"
args=(--backend substrate --api-endpoint 127.0.0.1:9 --api-plaintext --kube-api-url http://127.0.0.1:9
      --socket /run/openshell-driver/substrate/substrate.sock)
mode=podman
if ! "${P[@]}" run -d --name "$name" --network=none -v "$sock:/run/openshell-driver" localhost/oss-driver:test \
    "${args[@]}" >"$OSS_TMP/run.out" 2>&1; then
    grep -q 'setrlimit' "$OSS_TMP/run.out" || oss_fail "podman run failed: $(tail -n 5 "$OSS_TMP/run.out")"
    oss_log "podman run refused here ($(tail -n 1 "$OSS_TMP/run.out")): chroot into the image's rootfs instead"
    mode=chroot
    rootfs=$OSS_TMP/rootfs
    mkdir -p "$rootfs"
    cid=$("${P[@]}" create localhost/oss-driver:test)
    "${P[@]}" export "$cid" | tar -C "$rootfs" -xf -
    "${P[@]}" rm "$cid" >/dev/null
    mkdir -p "$rootfs/run/openshell-driver"
    chown 1000:1000 "$rootfs/run/openshell-driver"
    sock=$rootfs/run/openshell-driver
    # a sanitized driver cannot stop cleanly here: LeakSanitizer at exit
    # needs /proc, which the chroot lacks ("Can't open /proc/PID/task");
    # the plain build runs this test whole
    [[ ${OSS_SANITIZE:-0} == 1 ]] &&
        oss_skip "the sanitized driver's LeakSanitizer needs /proc, which the chroot fallback lacks (the plain build runs this test)"
    chroot --userspec=1000:1000 "$rootfs" /usr/local/bin/openshell-driver-substrate "${args[@]}" \
        >"$OSS_TMP/drv.log" 2>&1 &
    dpid=$!
    oss_on_exit "kill $dpid"
fi
oss_wait_for "[[ -S '$sock/substrate/substrate.sock' ]]" 20 ||
    oss_fail "no socket: $("${P[@]}" logs "$name" 2>&1 | tail -n 5)"
oss_assert_eq "700 1000" "$(stat -c '%a %u' "$sock/substrate")" "socket directory mode and owner"
oss_assert_eq "600 1000" "$(stat -c '%a %u' "$sock/substrate/substrate.sock")" "socket mode and owner"
"$OSS_PYTHON" - "$sock/substrate/substrate.sock" <<'PY' || oss_fail "GetCapabilities failed"
import sys, grpc
ch = grpc.insecure_channel("unix://" + sys.argv[1])
call = ch.unary_unary("/openshell.compute.v1.ComputeDriver/GetCapabilities",
                      request_serializer=lambda b: b, response_deserializer=lambda b: b)
resp = call(b"", timeout=10)
# field 1 (driver_name), wire type 2: tag 0x0a, length, bytes
assert resp[0] == 0x0A, resp[:8]
name = resp[2:2 + resp[1]].decode()
print("PASS GetCapabilities over the socket: driver_name=%s (%d bytes)" % (name, len(resp)))
assert name, "empty driver_name"
PY
if [[ $mode == podman ]]; then
    uid=$("${P[@]}" top "$name" huser 2>/dev/null | tail -n 1 | tr -d ' ')
    [[ $uid == 1000 || -z $uid ]] || oss_fail "the driver runs as $uid, not 1000"
    "${P[@]}" exec "$name" /bin/sh -c true >/dev/null 2>&1 && oss_fail "the image has a shell"
    "${P[@]}" stop -t 40 "$name" >/dev/null
    oss_assert_eq 0 "$("${P[@]}" inspect --format '{{.State.ExitCode}}' "$name")" "exit status after SIGTERM"
else
    oss_assert_eq 1000 "$(stat -c %u /proc/$dpid)" "the driver's uid"
    [[ -e $rootfs/bin/sh || -e $rootfs/usr/bin/sh ]] && oss_fail "the image has a shell"
    kill -TERM "$dpid"
    rc=0; wait "$dpid" || rc=$?
    [[ $rc == 0 ]] || oss_fail "exit status after SIGTERM: expected 0, got $rc: $(tail -n 5 "$OSS_TMP/drv.log")"
fi
echo "PASS started ($mode) as uid 1000, no shell in the image, clean stop on SIGTERM"

# --- control: without libgrpc the driver cannot start ----------------------
rm -f "$base"/usr/lib/x86_64-linux-gnu/libgrpc.so.* "$base"/lib/x86_64-linux-gnu/libgrpc.so.*
tar -C "$base" -cf "$OSS_TMP/base2.tar" .
"${P[@]}" import "$OSS_TMP/base2.tar" localhost/oss-driver-nogrpc:test >/dev/null
"${P[@]}" build --pull=never --network=none -f "$ctx/Dockerfile.driver" \
    --build-arg BUILDER_IMAGE=localhost/oss-driver-builder:test \
    --build-arg RUNTIME_BASE=localhost/oss-driver-nogrpc:test \
    --build-arg DRIVER_SOURCE=prebuilt --build-arg RUNTIME_DEPS=preinstalled \
    -t localhost/oss-driver-nogrpc-img:test "$ctx" >/dev/null 2>&1 || oss_fail "control build failed"
rc=0
if [[ $mode == podman ]]; then
    "${P[@]}" run --rm --network=none localhost/oss-driver-nogrpc-img:test --version >"$OSS_TMP/ctl.out" 2>&1 || rc=$?
else
    r2=$OSS_TMP/rootfs2; mkdir -p "$r2"
    cid=$("${P[@]}" create localhost/oss-driver-nogrpc-img:test)
    "${P[@]}" export "$cid" | tar -C "$r2" -xf -
    "${P[@]}" rm "$cid" >/dev/null
    chroot --userspec=1000:1000 "$r2" /usr/local/bin/openshell-driver-substrate --version >"$OSS_TMP/ctl.out" 2>&1 || rc=$?
fi
((rc != 0)) || oss_fail "control: the driver started without libgrpc"
echo "PASS control: without libgrpc the image cannot start the driver ($(head -c 120 "$OSS_TMP/ctl.out"))"
echo "bench.driver_image_build_ms=$(($(oss_now_ms) - t0))"
echo PASS
