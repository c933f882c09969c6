#!/usr/bin/env bash
# Benchmark (not a test): the REAL openshell-driver-substrate against the
# FAKE ate-api-server / Kubernetes API of tests/driver/substrate (TLS, test CA),
# through the gateway-like client; prints a markdown table.  From a build
# tree:   OSS_BUILD_DIR=$PWD/build OSS_SOURCE_DIR=$PWD tests/bench/driver.sh
# Optional: DRIVER_BENCH_ACTORS (default 10000), DRIVER_BENCH_FLIPS (20),
# DRIVER_BENCH_INTERVALS (watch_interval_ms values, default "1000 250"),
# DRIVER_BENCH_WATCH_N (sandboxes for the watch-at-scale rows, default
# "10000 50000"; --quick: 10000), DRIVER_BENCH_WATCH_RUNS (3; --quick: 1);
# --quick also: 1000 actors, 4 flips, 250 ms.
set -uo pipefail
source "$OSS_SOURCE_DIR/tests/driver/substrate/fakes_lib.sh"
drv=$OSS_BUILD_DIR/driver/openshell-driver-substrate
[[ -x $drv ]] || skip "$drv not built"
# --quick (bench.sh --quick, the smoke test): small counts, one interval
if [[ ${1:-} == --quick ]]; then
  : "${DRIVER_BENCH_ACTORS:=1000}" "${DRIVER_BENCH_FLIPS:=4}" "${DRIVER_BENCH_INTERVALS:=250}"
fi
ivs=()
for i in ${DRIVER_BENCH_INTERVALS:-1000 250}; do ivs+=(--interval-ms "$i"); done
$py "$OSS_SOURCE_DIR/tests/driver/e2e/e2e.py" --bench --driver-bin "$drv" \
  --reference "$($py "$OSS_SOURCE_DIR/tests/lib/protos.py" peer openshell)" --fake-logs "$tmp" \
  --actors "${DRIVER_BENCH_ACTORS:-10000}" --flips "${DRIVER_BENCH_FLIPS:-20}" "${ivs[@]}"
rc=$?
# The watch at scale, against the in-memory test double (no fakes needed):
# time from a new stream's open to its last initial event.
mem=$OSS_BUILD_DIR/tests/driver/openshell-driver-substrate-testmem
if [[ $rc == 0 && -x $mem ]]; then
  wn=${DRIVER_BENCH_WATCH_N:-10000 50000} wr=${DRIVER_BENCH_WATCH_RUNS:-3}
  [[ ${1:-} == --quick ]] && wn=${DRIVER_BENCH_WATCH_N:-10000} wr=${DRIVER_BENCH_WATCH_RUNS:-1}
  echo
  echo "| figure (in-memory test double) | value |"
  echo "|---|---|"
  for n in $wn; do
    $py "$OSS_SOURCE_DIR/tests/driver/watch_scale.py" --driver "$mem" --n "$n" --bench "$wr" \
      --reference "$($py "$OSS_SOURCE_DIR/tests/lib/protos.py" peer openshell)" | grep '^|' || rc=1
  done
fi
exit $rc
