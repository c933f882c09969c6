#!/usr/bin/env bash
# The top-level Dockerfile, built OFFLINE with Debian's podman (buildah inside)
# and booted under runsc.  No registry is reachable in CI, so:
#  - the supervisor base is supplied locally: a tiny root filesystem with no
#    libc at all, only the statically linked test helpers (oss-sigdump,
#    oss-counter), imported as localhost/oss-base (`podman import`);
#  - the builder stage cannot apt-get offline, so the build uses the
#    Dockerfile's SHIM_SOURCE=prebuilt path with the static shim of this
#    build tree in the build context; the `source` stage (apt-get + cmake) is
#    skipped as an unused stage.  BUILDER_IMAGE points at a local image too,
#    so nothing is pulled even if a tool resolved every FROM.
# What is covered: the Dockerfile parses and builds with podman; the ARGs
# (SUPERVISOR_BASE, BUILDER_IMAGE, SHIM_SOURCE, PREBUILT_SHIM) select what
# they say; the final image is the base plus /usr/local/bin/openshell-shim
# (mode 0755, bit-identical to the static shim, no ELF interpreter) with
# that ENTRYPOINT; its exported root filesystem boots under runsc in
# Substrate's shape with the shim as PID 1 supervising a child (ppid 1),
# writing its report, and stopping cleanly on SIGTERM.
# Not covered offline: the apt-get + cmake path of stage 1 (the same CMake
# commands are what CI and this build tree use) and pulling the real base.
# Control: the DYNAMIC shim in the same libc-less root filesystem cannot even
# start, so the image really needs the static build.
# Podman runs with a private storage root under $OSS_TMP (vfs driver), never
# touching the machine's image store.
source "$OSS_SOURCE_DIR/tests/lib/common.sh"
source "$OSS_SOURCE_DIR/tests/lib/runsc.sh"
oss_require_root
oss_require_cmd podman tar readelf sha256sum
static="$OSS_BUILD_DIR/shim/openshell-shim-static"
[[ -x "$static" ]] || oss_skip "no static shim in this build ($static; OSS_STATIC_SHIM=OFF or a sanitizer build)"
[[ -f "$OSS_SOURCE_DIR/Dockerfile" ]] || oss_fail "no Dockerfile at the top of the tree"
oss_runsc_require

P=(podman --root "$OSS_TMP/storage" --runroot "$OSS_TMP/runroot" --storage-driver vfs
    --cgroup-manager cgroupfs --events-backend file)
if ! "${P[@]}" info >"$OSS_TMP/info.out" 2>&1; then
    oss_skip "podman cannot run here with a private vfs store: $(tail -n 3 "$OSS_TMP/info.out" | tr '\n' ' ')"
fi
oss_on_exit "'${P[0]}' ${P[*]:1} system reset -f"

# --- local base images --------------------------------------------------
base="$OSS_TMP/base-rootfs"
mkdir -p "$base"/{usr/bin,etc,tmp,run,proc,dev,out}
cp "$(oss_helper oss-sigdump)" "$(oss_helper oss-counter)" "$base/usr/bin/"
printf 'root:x:0:0:root:/:/usr/bin/oss-sigdump\n' >"$base/etc/passwd"
if readelf -l "$base/usr/bin/oss-sigdump" | grep -q INTERP; then
    oss_skip "the test helpers are not statically linked in this build (sanitizer build?)"
fi
tar -C "$base" -cf "$OSS_TMP/base.tar" .
"${P[@]}" import "$OSS_TMP/base.tar" localhost/oss-base:test >/dev/null 2>"$OSS_TMP/import.err" ||
    oss_skip "podman import failed here: $(tail -n 2 "$OSS_TMP/import.err" | tr '\n' ' ')"
"${P[@]}" tag localhost/oss-base:test localhost/oss-builder:test

# --- build context: the tracked source plus the prebuilt static shim ------
ctx="$OSS_TMP/ctx"
mkdir -p "$ctx/prebuilt"
if git -C "$OSS_SOURCE_DIR" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$OSS_SOURCE_DIR" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) | tar -C "$ctx" -xf -
else
    tar -C "$OSS_SOURCE_DIR" --exclude='./build*' -cf - . | tar -C "$ctx" -xf -
fi
cp "$static" "$ctx/prebuilt/openshell-shim"
sum=$(sha256sum <"$static" | cut -d' ' -f1)

t0=$(oss_now_ms)
rc=0
"${P[@]}" build --pull=never --network=none -f "$ctx/Dockerfile" \
    --build-arg SUPERVISOR_BASE=localhost/oss-base:test \
    --build-arg BUILDER_IMAGE=localhost/oss-builder:test \
    --build-arg SHIM_SOURCE=prebuilt \
    --build-arg PREBUILT_SHIM=prebuilt/openshell-shim \
    -t localhost/oss-shim-image:test "$ctx" >"$OSS_TMP/build.out" 2>&1 || rc=$?
if ((rc != 0)); then
    if grep -qiE 'newuidmap|storage driver|overlay.*not supported|cannot set up namespace' "$OSS_TMP/build.out"; then
        oss_skip "podman build cannot run here: $(tail -n 3 "$OSS_TMP/build.out" | tr '\n' ' ')"
    fi
    oss_fail "podman build failed: $(tail -n 15 "$OSS_TMP/build.out")"
fi
oss_log "podman build (offline, prebuilt shim) took $(($(oss_now_ms) - t0)) ms"
if grep -qi 'apt-get' "$OSS_TMP/build.out"; then
    oss_fail "the source stage ran although SHIM_SOURCE=prebuilt: $(grep -i apt-get "$OSS_TMP/build.out" | head -n 3)"
fi

ep=$("${P[@]}" image inspect --format '{{json .Config.Entrypoint}}' localhost/oss-shim-image:test)
oss_assert_eq '["/usr/local/bin/openshell-shim"]' "$ep" "image ENTRYPOINT"

# --- the image's root filesystem ------------------------------------------
rootfs="$OSS_TMP/rootfs"
mkdir -p "$rootfs"
cid=$("${P[@]}" create localhost/oss-shim-image:test)
"${P[@]}" export "$cid" | tar -C "$rootfs" -xf -
"${P[@]}" rm "$cid" >/dev/null
shim="$rootfs/usr/local/bin/openshell-shim"
[[ -f "$shim" ]] || oss_fail "no /usr/local/bin/openshell-shim in the image"
oss_assert_eq 755 "$(stat -c %a "$shim")" "shim mode"
oss_assert_eq "$sum" "$(sha256sum <"$shim" | cut -d' ' -f1)" "shim in the image vs the static build"
if readelf -l "$shim" | grep -q INTERP; then oss_fail "the image's shim has an ELF interpreter (not static)"; fi
[[ -x "$rootfs/usr/bin/oss-sigdump" ]] || oss_fail "the base image's files are missing from the image"
[[ -e "$rootfs/lib/x86_64-linux-gnu/libc.so.6" || -e "$rootfs/usr/lib/x86_64-linux-gnu/libc.so.6" ]] &&
    oss_fail "the test base unexpectedly has a libc"

# --- boot it under runsc: the shim as PID 1 -------------------------------
mkdir -p "$OSS_TMP/out"
oss_bundle_make "$OSS_TMP/b" --rootfs "$rootfs" --bind "$OSS_TMP/out:/out" -- \
    /usr/local/bin/openshell-shim --degrade=all --report=/out/report.json --state-dir=/out/state -- \
    /usr/bin/oss-sigdump --out /out/sig --wait --exit-on SIGTERM:0
id=$(oss_unique_name e2edf)
oss_runsc_run "$id" "$OSS_TMP/b"
oss_wait_for "grep -q '^ready role=main' '$OSS_TMP/out/sig'" 20 ||
    oss_fail "the child never started: $(tail -n 5 "$(oss_runsc_err "$id")")"
oss_assert_eq 1 "$(oss_kv "$OSS_TMP/out/sig" ppid)" "the child's parent is PID 1 (the shim)"
oss_wait_for "[[ -s '$OSS_TMP/out/report.json' ]]" 10 || oss_fail "no report written"
oss_assert_eq "True True" "$("$OSS_PYTHON" -c 'import json,sys; r=json.load(open(sys.argv[1]))["bootstrap"]["runtime"]; print(r["pid1"], r["gvisor"])' "$OSS_TMP/out/report.json")" \
    "report: pid1 and gvisor"
oss_runsc_kill "$id" TERM
oss_wait_for "grep -q '^signal=SIGTERM' '$OSS_TMP/out/sig'" 10 || oss_fail "SIGTERM not forwarded to the child"
oss_runsc_wait_status "$id" stopped 15 || oss_fail "the shim did not stop after SIGTERM"
oss_runsc_delete "$id"

# --- control: the dynamic shim cannot start in this image -----------------
cp "$OSS_BUILD_DIR/shim/openshell-shim" "$OSS_TMP/dyn-shim"
oss_bundle_make "$OSS_TMP/bd" --rootfs "$rootfs" --bind "$OSS_TMP/out:/out" --bind "$OSS_TMP/dyn-shim:/usr/local/bin/dyn-shim:ro" -- \
    /usr/local/bin/dyn-shim --degrade=all --report=/out/report-dyn.json --state-dir=/out/state-dyn -- \
    /usr/bin/oss-sigdump --out /out/sig-dyn --wait --exit-on SIGTERM:0
rc=0
oss_runsc_run_fg "$(oss_unique_name e2edfd)" "$OSS_TMP/bd" 20 || rc=$?
((rc != 0)) || oss_fail "control: the dynamic shim ran in a root filesystem without libc"
[[ -e "$OSS_TMP/out/sig-dyn" ]] && oss_fail "control: the dynamic shim started its child"
echo "bench.image_build_ms=$(($(oss_now_ms) - t0))"
echo "bench.image_shim_bytes=$(stat -c %s "$shim")"
echo PASS
