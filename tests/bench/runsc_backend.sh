#!/usr/bin/env bash
# Benchmark of the runsc backend (a benchmark, not a timed test): through the
# driver's gRPC socket, N times (default 5, OSS_BENCH_RUNS):
#   CreateSandbox -> readyz 200      (create-to-ready)
#   StopSandbox   -> checkpoint done (stop)       + checkpoint image size
#   StartSandbox  -> readyz 200      (start-to-ready, restore on a new address)
#   DeleteSandbox
# and prints the median of each as bench.* lines.  The times are the RPCs as
# the client sees them (drvctl.py's rpc_ms), without Python start-up.
#   bash tests/bench/runsc_backend.sh        (root, after a build)
set -euo pipefail
export OSS_SOURCE_DIR="${OSS_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
export OSS_BUILD_DIR="${OSS_BUILD_DIR:-$OSS_SOURCE_DIR/build}"
# shellcheck disable=SC2034 # read by common.sh
OSS_TEST_NAME=bench-runsc-backend
source "$OSS_SOURCE_DIR/tests/lib/common.sh"
source "$OSS_SOURCE_DIR/tests/lib/runsc.sh"
oss_runsc_require
REF=$("$OSS_PYTHON" "$OSS_SOURCE_DIR/tests/lib/protos.py" peer openshell)
N=${OSS_BENCH_RUNS:-5}
STATE="$OSS_TMP/state"
oss_on_exit "oss_runsc_driver_cleanup '$STATE'" # what a failed run left (runs last)
SOCK="$OSS_TMP/run/driver.sock"
IMAGE=openshell/demo:local
bash "$OSS_SOURCE_DIR/scripts/make-demo-rootfs.sh" "$OSS_TMP/rootfs" "$IMAGE" >/dev/null
"$OSS_BUILD_DIR/driver/openshell-driver-substrate" --socket "$SOCK" --backend runsc \
    --state-dir "$STATE" --rootfs-dir "$OSS_TMP/rootfs" --runsc-subnet 10.245.0.0/24 \
    --shim-path /usr/local/bin/openshell-shim --supervisor-path /usr/local/bin/openshell-sandbox \
    --shim-degrade all >"$OSS_TMP/driver.log" 2>&1 &
DPID=$!
oss_on_exit "kill -TERM $DPID 2>/dev/null; sleep 1; kill -KILL $DPID 2>/dev/null"
oss_wait_for "[[ -S $SOCK ]]" 15 || oss_fail "driver did not start: $(cat "$OSS_TMP/driver.log")"
ctl() { "$OSS_PYTHON" "$OSS_SOURCE_DIR/tests/driver/runsc/drvctl.py" --reference "$REF" \
    --socket "$SOCK" --stubs "$OSS_TMP/stubs" "$@"; }
ms() { "$OSS_PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])["rpc_ms"])' "$1"; }

declare -a C S R D I
for ((i = 0; i < N; i++)); do
    id="bench-$i"
    out=$(ctl create "$id" "$IMAGE" -- /usr/local/bin/oss-counter --file /tmp/count --port 9090 \
        --bind 0.0.0.0) || oss_fail "create: $out"
    C+=("$(ms "$out")")
    sleep 1 # let the workload run a little before the checkpoint
    out=$(ctl stop "$id") || oss_fail "stop: $out"
    S+=("$(ms "$out")")
    I+=("$("$OSS_PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["image_bytes"])' \
        "$STATE/runsc/sandboxes/$id/record.json")")
    # suspended for a while, as a stopped sandbox is (the spent container is
    # removed in the background meanwhile; a start right after a stop waits
    # for that removal; see docs/runsc-backend.md)
    sleep 2
    out=$(ctl start "$id") || oss_fail "start: $out"
    R+=("$(ms "$out")")
    out=$(ctl delete "$id") || oss_fail "delete: $out"
    D+=("$(ms "$out")")
    echo "run $((i + 1))/$N: create ${C[-1]} ms, stop ${S[-1]} ms (image ${I[-1]} B), start ${R[-1]} ms, delete ${D[-1]} ms" >&2
done
echo "bench.runs=$N"
echo "bench.create_to_ready_ms_median=$(oss_median "${C[@]}")"
echo "bench.stop_checkpoint_ms_median=$(oss_median "${S[@]}")"
echo "bench.start_restore_to_ready_ms_median=$(oss_median "${R[@]}")"
echo "bench.delete_ms_median=$(oss_median "${D[@]}")"
echo "bench.checkpoint_image_bytes_median=$(oss_median "${I[@]}")"
