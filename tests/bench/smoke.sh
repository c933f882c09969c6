#!/usr/bin/env bash
# Keeps tests/bench/bench.sh working: a --quick run must print every section,
# measure every installed init, and show an idle shim with restore detection
# off making no context switch (docs/bench.md, the shim's targets), while
# the 1 s timer of detection on does (the control: the idle measurement can see wake-ups).
OSS_TEST_NAME=bench_smoke
source "$OSS_SOURCE_DIR/tests/lib/common.sh" || { echo "FAIL: cannot load tests/lib/common.sh" >&2; exit 1; }
oss_require_root
oss_require_cmd hyperfine
[[ "${OSS_SANITIZE:-0}" == 1 ]] && oss_skip "sanitizer build: benchmarks run on the plain build"
out="$OSS_TMP/bench.md"
OSS_BUILD_DIR=$OSS_BUILD_DIR bash "$OSS_SOURCE_DIR/tests/bench/bench.sh" --quick >"$out" 2>"$OSS_TMP/err" ||
    oss_fail "bench.sh failed: $(tail -n 5 "$OSS_TMP/err")"
for s in "Start cost" "Memory" "Binary sizes" "Signal forwarding" "Reaping a burst" "Idle wake-ups" "Driver"; do
    grep -q "^### $s" "$out" || oss_fail "section '$s' missing: $(cat "$out")"
done
! grep -q "failed" "$out" || oss_fail "a measurement failed: $(grep failed "$out")"
off=$(grep -F "restore detection off" "$out" | awk -F'|' '{gsub(/ /, "", $3); print $3}')
on=$(grep -F "restore detection on" "$out" | awk -F'|' '{gsub(/ /, "", $3); print $3}')
oss_assert_eq 0 "$off" "voluntary context switches of an idle shim, detection off"
((on > 0)) || oss_fail "control: detection on showed no wake-up ($on)"
echo "bench_smoke: pass"
